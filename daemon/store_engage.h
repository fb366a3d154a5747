/*
 * Engagement figures of sent posts in the store (table `engagement`): what
 * engage.c fetched at each checkpoint, what is due next, sums for stats.
 */
#ifndef CRIER_STORE_ENGAGE_H
#define CRIER_STORE_ENGAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STORE_ENGAGE_STAGES	3	/* checkpoints: 1 h, 24 h, 7 d */

/* The latest figures of one post. */
struct store_engage {
	int		 stage;		/* checkpoints passed: 1..STORE_ENGAGE_STAGES */
	int64_t		 likes, reposts, replies;
	int64_t		 fetched;	/* ms */
};

/* A sent post whose next checkpoint has come. */
struct store_engage_due {
	char		 id[DELIVERY_ID_LEN + 1];
	char		*channel;
	char		*remote_id;
	char		*remote_url;
	int64_t		 sent_at;
	int		 stage;		/* checkpoints already passed */
};

/* The sums of one calendar's posts on one channel. */
struct store_engage_sum {
	char		*calendar;	/* NULL: ad-hoc posts */
	char		*channel;
	int64_t		 posts;		/* sent */
	int64_t		 measured;	/* with figures */
	int64_t		 likes, reposts, replies;
};

/* Loads the figures of delivery ID into E; 1 if none were fetched. */
int	 store_engage_get(const char *id, struct store_engage *e);
/*
 * At most MAX sent posts on the channels of the JSON array CHANNELS, sent
 * at OLDEST or later, whose next checkpoint (OFF[stage] ms after sending)
 * has come at NOW and whose last failure asked to wait no longer; oldest
 * first. Free with store_engage_due_free.
 */
int	 store_engage_due(const char *channels, int64_t now,
	    const int64_t off[STORE_ENGAGE_STAGES], int64_t oldest, size_t max,
	    struct store_engage_due **out, size_t *n);
void	 store_engage_due_free(struct store_engage_due *d, size_t n);
/* Records the figures E of delivery ID (its stage passed). */
int	 store_engage_put(const char *id, const struct store_engage *e);
/* A fetch for ID failed: the same checkpoint again at NEXT_TRY (ms). */
int	 store_engage_retry(const char *id, int64_t next_try);
/*
 * Per calendar (CALENDAR NULL: all, "" ad-hoc posts only) and channel, the
 * sent posts and their summed figures, at most MAX rows.
 */
int	 store_engage_stats(const char *calendar, size_t max,
	    struct store_engage_sum **out, size_t *n);
void	 store_engage_stats_free(struct store_engage_sum *s, size_t n);

#endif
