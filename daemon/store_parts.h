/* Thread parts in the store: what the network confirmed of each part (issue 17). */
#ifndef CRIER_STORE_PARTS_H
#define CRIER_STORE_PARTS_H

#include <stddef.h>
#include <stdint.h>

/* One confirmed part of a delivery's thread. */
struct store_part {
	size_t	 part;		/* 0 for the first */
	char	*remote_id;
	char	*remote_url;	/* may be NULL */
	char	*ref;		/* may be NULL */
	int64_t	 at;		/* ms since the epoch */
};

/* Records part PART of delivery ID as confirmed; -1 if the store failed. */
int	 store_parts_put(const char *id, size_t part, const char *remote_id,
	    const char *remote_url, const char *ref);
/* Every confirmed part of delivery ID, in order, into *OUT; -1 on failure. */
int	 store_parts_list(const char *id, struct store_part **out, size_t *n);
/* Frees N parts from store_parts_list. */
void	 store_parts_free(struct store_part *v, size_t n);

#endif
