/* A Bluesky post's likes, reposts and replies (channel_ops.engage). */
#ifndef CRIER_BLUESKY_ENGAGE_H
#define CRIER_BLUESKY_ENGAGE_H

#include "../channel.h"

/* app.bsky.feed.getPosts of the at:// URI REMOTE_ID; DONE gets its counts. */
int	 bluesky_engage(struct channel *ch, const char *remote_id,
	    chan_engage_fn done, void *arg);

#endif
