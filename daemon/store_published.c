/* Posts that went out, read for the published-posts calendar. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_published.h"
#include "store_sql.h"
#include "../common/util.h"

/* A growing array of sent posts. */
struct sent_rows {
	struct store_sent	*v;
	size_t			 n, cap;
};

/* Appends the row to the struct sent_rows ARG. */
static void
row_sent(sqlite3_stmt *st, void *arg)
{
	struct sent_rows	*a = arg;
	struct store_sent	*s;
	const char		*id = (const char *)sqlite3_column_text(st, 0);

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	s = &a->v[a->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id != NULL ? id : "");
	s->channel = store_sql_text(st, 1);
	s->sent_at = sqlite3_column_int64(st, 2);
	s->text = store_sql_text(st, 3);
	s->remote_url = store_sql_text(st, 4);
	s->calendar = store_sql_text(st, 5);
	s->uid = store_sql_text(st, 6);
	s->summary = store_sql_text(st, 7);
}

#define SENT_SQL	"SELECT id, channel, sent_at, text, remote_url," \
	" calendar, uid, summary FROM deliveries WHERE state = 'sent'" \
	" ORDER BY sent_at DESC, id LIMIT ?1"

/* The MAX newest sent posts. */
int
store_published_list(size_t max, struct store_sent **out, size_t *n)
{
	struct sent_rows	a = { NULL, 0, 0 };

	*out = NULL;
	*n = 0;
	if (store_sql_read("published", SENT_SQL, row_sent, &a, "I",
	    (int64_t)max) == -1) {
		store_published_free(a.v, a.n);
		return (-1);
	}
	*out = a.v;
	*n = a.n;
	return (0);
}

/*
 * The same from the database file DB, through a read-only connection of
 * the caller's own: for a worker thread, so that the loop never reads
 * them (10 000 rows took 22-26 ms in SQLite alone, after every burst of
 * posts). It sees what was committed when it starts. -1 with ERR.
 */
int
store_published_read(const char *db, size_t max, struct store_sent **out,
    size_t *n, char *err, size_t errlen)
{
	struct sent_rows	 a = { NULL, 0, 0 };
	sqlite3			*c = NULL;
	sqlite3_stmt		*st = NULL;
	int			 rc;

	*out = NULL;
	*n = 0;
	rc = sqlite3_open_v2(db, &c, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(c, 5000);
		rc = sqlite3_prepare_v2(c, SENT_SQL, -1, &st, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_sent(st, &a);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", db, c != NULL ?
		    sqlite3_errmsg(c) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_finalize(st);
	sqlite3_close(c);
	*out = a.v;
	*n = a.n;
	return (0);
fail:
	sqlite3_finalize(st);
	sqlite3_close(c);
	store_published_free(a.v, a.n);
	return (-1);
}

/* Frees N sent posts S. */
void
store_published_free(struct store_sent *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(s[i].channel);
		free(s[i].text);
		free(s[i].remote_url);
		free(s[i].calendar);
		free(s[i].uid);
		free(s[i].summary);
	}
	free(s);
}
