/* Ad-hoc posts in the store: one transaction per turn, a savepoint per post. */
#include <config.h>

#include <stddef.h>

#include "store_post.h"
#include "store_sql.h"

/* Opens the turn's transaction (BEGIN IMMEDIATE: the writer lock now). */
int
store_post_begin(void)
{
	return (store_sql_batch_begin());
}

/*
 * Inserts one post's deliveries as a savepoint of the turn's transaction
 * (outside a turn: a transaction of its own).
 */
int
store_post_insert(const struct delivery *d, size_t n, int actor)
{
	size_t	i;
	int	own;

	if (n == 1)	/* store_insert is a savepoint of its own */
		return (store_insert(d, actor, "queued") == 0 ? 0 : -1);
	own = !store_sql_tx_open();
	if (own && store_sql_batch_begin() == -1)
		return (-1);
	if (store_sql_tx_begin() == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (store_insert(&d[i], actor, "queued") != 0)
			goto undo;
	if (store_sql_tx_commit() == -1)
		goto undo;
	if (own && store_sql_batch_commit() == -1)
		return (-1);
	return (0);
undo:
	store_sql_tx_rollback();
fail:
	if (own)
		store_sql_batch_rollback();
	return (-1);
}

/* True while the turn's transaction is open (SQLite ends it on a full disk). */
int
store_post_intact(void)
{
	return (store_sql_tx_open());
}

/* Commits the turn's transaction. */
int
store_post_commit(void)
{
	return (store_sql_batch_commit());
}

/* Abandons the turn's transaction. */
void
store_post_rollback(void)
{
	store_sql_batch_rollback();
}
