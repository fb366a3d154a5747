/* queue_counts kept in C: the moves of a transaction, written once at its commit. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"
#include "log.h"

/* The net change of one (channel, state) pair. */
struct qdelta {
	char		*channel;
	const char	*state;		/* a literal (dstate_names) */
	int64_t		 n;
};

/* A growing set of changes (a few channels times a few states). */
struct qdeltas {
	struct qdelta	*v;
	size_t		 n, cap;
};

/*
 * The open unit of work's changes, and those of the batch's released
 * units: a unit rolled back inside a batch must not touch the batch's.
 */
static struct qdeltas	unit, pending;

/* Writes the changes of D to queue_counts; -1 on failure. */
static int
write_deltas(const struct qdeltas *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		if (d->v[i].n == 0)
			continue;
		if (store_sql_write(NULL, "INSERT INTO queue_counts"
		    " VALUES (?1, ?2, ?3) ON CONFLICT(channel, state)"
		    " DO UPDATE SET n = n + ?3", "ssI", d->v[i].channel,
		    d->v[i].state, d->v[i].n) == -1) {
			store_sql_failed("queue_counts: %s", store_sql_errmsg());
			return (-1);
		}
	}
	return (0);
}

/* Forgets the changes of D. */
static void
clear(struct qdeltas *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].channel);
	d->n = 0;
}

/* Adds N to (CHANNEL, STATE) in D. */
static void
add(struct qdeltas *d, const char *channel, const char *state, int64_t n)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].state, state) == 0 &&
		    strcmp(d->v[i].channel, channel) == 0) {
			d->v[i].n += n;
			return;
		}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		if ((d->v = reallocarray(d->v, d->cap, sizeof(*d->v))) == NULL)
			fatal("reallocarray");
	}
	if ((d->v[d->n].channel = strdup(channel)) == NULL)
		fatal("strdup");
	d->v[d->n].state = state;
	d->v[d->n].n = n;
	d->n++;
}

/* Counts N more deliveries of CHANNEL in STATE (a literal) in the open unit. */
void
store_qcount_add(const char *channel, const char *state, int64_t n)
{
	add(&unit, channel, state, n);
}

/* The unit commits on its own: its changes go in before the COMMIT. */
int
store_qcount_unit_write(void)
{
	int	rc = write_deltas(&unit);

	clear(&unit);
	return (rc);
}

/* The unit was released inside a batch: its changes join the batch's. */
void
store_qcount_unit_keep(void)
{
	size_t	i;

	for (i = 0; i < unit.n; i++)
		add(&pending, unit.v[i].channel, unit.v[i].state, unit.v[i].n);
	clear(&unit);
}

/* The unit was rolled back: its changes are forgotten. */
void
store_qcount_unit_drop(void)
{
	clear(&unit);
}

/* The batch commits: its changes go in before the COMMIT. */
int
store_qcount_batch_write(void)
{
	int	rc = write_deltas(&pending);

	clear(&pending);
	return (rc);
}

/* The batch was rolled back: its changes are forgotten. */
void
store_qcount_batch_drop(void)
{
	clear(&pending);
	clear(&unit);
}
