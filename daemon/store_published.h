/* Posts that went out, newest first, for the published-posts calendar. */
#ifndef CRIER_STORE_PUBLISHED_H
#define CRIER_STORE_PUBLISHED_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One sent post as the published calendar shows it. */
struct store_sent {
	char		 id[DELIVERY_ID_LEN + 1];
	char		*channel;
	int64_t		 sent_at;	/* ms */
	char		*text;
	char		*remote_url;
	char		*calendar;
	char		*uid;
	char		*summary;
};

/* The MAX most recently sent posts, newest first; free with store_published_free. */
int	 store_published_list(size_t max, struct store_sent **out, size_t *n);
/*
 * The same read from database file DB through a connection of the
 * caller's own (a worker thread's); -1 with ERR.
 */
int	 store_published_read(const char *db, size_t max,
	    struct store_sent **out, size_t *n, char *err, size_t errlen);
void	 store_published_free(struct store_sent *s, size_t n);

#endif
