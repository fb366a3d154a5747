/* Engagement figures of sent posts: the table `engagement` (schema 10). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_engage.h"
#include "store_sql.h"
#include "../common/util.h"

/* A growing array of rows, of SIZE bytes each. */
struct rows {
	void	*v;
	size_t	 n, cap, size;
};

/* Room for one more row of A, zeroed. */
static void *
rows_add(struct rows *a)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, a->cap, a->size);
	}
	memset((char *)a->v + a->n * a->size, 0, a->size);
	return ((char *)a->v + a->size * a->n++);
}

/* Fills the struct store_engage ARG from the row. */
static void
row_engage(sqlite3_stmt *st, void *arg)
{
	struct store_engage	*e = arg;

	e->stage = sqlite3_column_int(st, 0);
	e->likes = sqlite3_column_int64(st, 1);
	e->reposts = sqlite3_column_int64(st, 2);
	e->replies = sqlite3_column_int64(st, 3);
	e->fetched = sqlite3_column_int64(st, 4);
}

/* Loads ID's figures. */
int
store_engage_get(const char *id, struct store_engage *e)
{
	int	n;

	memset(e, 0, sizeof(*e));
	n = store_sql_read("engagement", "SELECT stage, likes, reposts, replies,"
	    " fetched FROM engagement WHERE delivery = ?1 AND fetched > 0",
	    row_engage, e, "s", id);
	if (n == -1)
		return (-1);
	return (n == 0 ? 1 : 0);
}

/* Appends a due post from the row. */
static void
row_due(sqlite3_stmt *st, void *arg)
{
	struct store_engage_due	*d = rows_add(arg);
	const char		*id = (const char *)sqlite3_column_text(st, 0);

	snprintf(d->id, sizeof(d->id), "%s", id != NULL ? id : "");
	d->channel = store_sql_text(st, 1);
	d->remote_id = store_sql_text(st, 2);
	d->remote_url = store_sql_text(st, 3);
	d->sent_at = sqlite3_column_int64(st, 4);
	d->stage = sqlite3_column_int(st, 5);
}

/* The sent posts whose next checkpoint has come. */
int
store_engage_due(const char *channels, int64_t now,
    const int64_t off[STORE_ENGAGE_STAGES], int64_t oldest, size_t max,
    struct store_engage_due **out, size_t *n)
{
	struct rows	a = { NULL, 0, 0, sizeof(struct store_engage_due) };

	*out = NULL;
	*n = 0;
	if (store_sql_read("engagement", "SELECT d.id, d.channel, d.remote_id,"
	    " d.remote_url, d.sent_at, COALESCE(e.stage, 0)"
	    " FROM deliveries d LEFT JOIN engagement e ON e.delivery = d.id"
	    " WHERE d.state = 'sent' AND d.sent_at >= ?2"
	    " AND d.remote_id IS NOT NULL"
	    " AND d.channel IN (SELECT value FROM json_each(?1))"
	    " AND COALESCE(e.stage, 0) < 3 AND COALESCE(e.next_try, 0) <= ?3"
	    " AND d.sent_at + CASE COALESCE(e.stage, 0) WHEN 0 THEN ?4"
	    " WHEN 1 THEN ?5 ELSE ?6 END <= ?3"
	    " ORDER BY d.sent_at, d.id LIMIT ?7", row_due, &a, "sIIIIII",
	    channels, oldest, now, off[0], off[1], off[2], (int64_t)max) == -1) {
		store_engage_due_free(a.v, a.n);
		return (-1);
	}
	*out = a.v;
	*n = a.n;
	return (0);
}

/* Frees N due posts D. */
void
store_engage_due_free(struct store_engage_due *d, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(d[i].channel);
		free(d[i].remote_id);
		free(d[i].remote_url);
	}
	free(d);
}

/* Records ID's figures at stage E->stage. */
int
store_engage_put(const char *id, const struct store_engage *e)
{
	return (store_sql_write("engagement", "INSERT INTO engagement (delivery,"
	    " stage, likes, reposts, replies, fetched, next_try)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)"
	    " ON CONFLICT (delivery) DO UPDATE SET stage = ?2, likes = ?3,"
	    " reposts = ?4, replies = ?5, fetched = ?6, next_try = 0",
	    "siIIII", id, e->stage, e->likes, e->reposts, e->replies,
	    e->fetched) == -1 ? -1 : 0);
}

/* Puts ID's next try off until NEXT_TRY. */
int
store_engage_retry(const char *id, int64_t next_try)
{
	return (store_sql_write("engagement", "INSERT INTO engagement (delivery,"
	    " next_try) VALUES (?1, ?2)"
	    " ON CONFLICT (delivery) DO UPDATE SET next_try = ?2",
	    "sI", id, next_try) == -1 ? -1 : 0);
}

/* Appends a sum from the row. */
static void
row_sum(sqlite3_stmt *st, void *arg)
{
	struct store_engage_sum	*s = rows_add(arg);

	s->calendar = store_sql_text(st, 0);
	s->channel = store_sql_text(st, 1);
	s->posts = sqlite3_column_int64(st, 2);
	s->measured = sqlite3_column_int64(st, 3);
	s->likes = sqlite3_column_int64(st, 4);
	s->reposts = sqlite3_column_int64(st, 5);
	s->replies = sqlite3_column_int64(st, 6);
}

/* Sums per calendar and channel. */
int
store_engage_stats(const char *calendar, size_t max,
    struct store_engage_sum **out, size_t *n)
{
	struct rows	a = { NULL, 0, 0, sizeof(struct store_engage_sum) };

	*out = NULL;
	*n = 0;
	if (store_sql_read("engagement", "SELECT d.calendar, d.channel,"
	    " COUNT(*), COUNT(e.fetched > 0 OR NULL),"
	    " COALESCE(SUM(e.likes), 0), COALESCE(SUM(e.reposts), 0),"
	    " COALESCE(SUM(e.replies), 0)"
	    " FROM deliveries d LEFT JOIN engagement e ON e.delivery = d.id"
	    " AND e.fetched > 0"
	    " WHERE d.state = 'sent' AND (?1 IS NULL OR"
	    " COALESCE(d.calendar, '') = ?1)"
	    " GROUP BY d.calendar, d.channel ORDER BY d.calendar, d.channel"
	    " LIMIT ?2", row_sum, &a, "sI", calendar, (int64_t)max) == -1) {
		store_engage_stats_free(a.v, a.n);
		return (-1);
	}
	*out = a.v;
	*n = a.n;
	return (0);
}

/* Frees N sums S. */
void
store_engage_stats_free(struct store_engage_sum *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(s[i].calendar);
		free(s[i].channel);
	}
	free(s);
}
