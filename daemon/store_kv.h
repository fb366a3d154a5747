/*
 * What a channel keeps across restarts in crier.db (table chan_kv): X's
 * rotating OAuth 2.0 tokens, posts whose outcome is not known yet. The one
 * part of the store a channel may use: it reaches no delivery.
 */
#ifndef CRIER_STORE_KV_H
#define CRIER_STORE_KV_H

#include <stddef.h>
#include <stdint.h>

#define STORE_KV_MAX	(64 * 1024)	/* largest value kept */

/* One value of channel CHANNEL; VALUE NULL deletes it. */
struct store_kv {
	const char	*key;
	const char	*value;
};

/*
 * Loads CHANNEL's KEY into *VALUE (malloc'd; wipe secrets before freeing)
 * and its last change, ms, into *UPDATED (may be NULL); 1 if none, -1 on
 * a storage error.
 */
int	 store_kv_get(const char *channel, const char *key, char **value,
	    int64_t *updated);
/* Writes the N values KV of CHANNEL in one transaction, durable on return; -1 writes none. */
int	 store_kv_put(const char *channel, const struct store_kv *kv, size_t n);

#endif
