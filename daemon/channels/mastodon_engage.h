/* A Mastodon status's favourites, boosts and replies (channel_ops.engage). */
#ifndef CRIER_MASTODON_ENGAGE_H
#define CRIER_MASTODON_ENGAGE_H

#include "../channel.h"

/* GET /api/v1/statuses/REMOTE_ID on CH's instance; DONE gets its counts. */
int	 mastodon_engage(struct channel *ch, const char *remote_id,
	    chan_engage_fn done, void *arg);

#endif
