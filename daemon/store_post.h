/*
 * Ad-hoc posts written by the control socket's group commit: the posts of
 * one loop turn share one durable transaction, each post (one delivery per
 * channel) a savepoint inside it, so that one that fails leaves the others.
 */
#ifndef CRIER_STORE_POST_H
#define CRIER_STORE_POST_H

#include <stddef.h>

#include "store.h"

/* Opens the turn's transaction; -1 if the store refuses. */
int	 store_post_begin(void);
/*
 * Inserts the N deliveries D of one post, each with its "queued" event by
 * ACTOR, all or none: -1 leaves nothing of this post (and the others of
 * the turn as they were, unless store_post_intact() says otherwise).
 * Outside a turn the post is a transaction of its own.
 */
int	 store_post_insert(const struct delivery *d, size_t n, int actor);
/* Whether the turn's transaction still holds the posts inserted before. */
int	 store_post_intact(void);
/* Commits the turn's transaction durably (synchronous=FULL); -1: none of it is. */
int	 store_post_commit(void);
/* Abandons the turn's transaction. */
void	 store_post_rollback(void);

#endif
