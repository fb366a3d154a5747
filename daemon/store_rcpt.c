/* Newsletter state in the store: recipients per delivery, suppressions, email contexts. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sql.h"
#include "store_hot.h"
#include "when.h"
#include "../common/util.h"

/* A growing array of recipients. */
struct rcpts {
	struct store_rcpt	*v;
	size_t			 n, cap;
};

/* A growing array of suppressions. */
struct suppressions {
	struct store_suppression	*v;
	size_t				 n, cap;
};

/* Records recipient EMAIL (lower-cased) of delivery ID as R says. */
int
store_rcpt_put(const char *id, const struct store_rcpt *r)
{
	char	what[64];

	snprintf(what, sizeof(what), "recipient of %s", id);
	return (store_sql_write(what, HOT_RCPT_PUT, "ssssssiII", id,
	    r->email, r->name, r->state, r->error, r->message_id, r->attempts,
	    r->sent_at, when_now()) == -1 ? -1 : 0);
}

/* Appends a row of the recipients table to the struct rcpts ARG. */
static void
row_rcpt(sqlite3_stmt *st, void *arg)
{
	struct rcpts		*a = arg;
	struct store_rcpt	*r;

	if (a->n == a->cap) {
		/* Doubling: a 100k list costs 17 copies, not 100k. */
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	r = &a->v[a->n++];
	r->email = store_sql_text(st, 0);
	r->name = store_sql_text(st, 1);
	r->state = store_sql_text(st, 2);
	r->error = store_sql_text(st, 3);
	r->message_id = store_sql_text(st, 4);
	r->attempts = sqlite3_column_int(st, 5);
	r->sent_at = sqlite3_column_int64(st, 6);
	r->updated = sqlite3_column_int64(st, 7);
}

/* Every recipient recorded for delivery ID, by email. */
int
store_rcpt_list(const char *id, struct store_rcpt **out, size_t *n)
{
	struct rcpts	a = { NULL, 0, 0 };

	*out = NULL;
	*n = 0;
	if (store_sql_read(NULL, HOT_RCPT_LIST, row_rcpt, &a, "s", id) == -1) {
		store_rcpts_free(a.v, a.n);
		return (-1);
	}
	*out = a.v;
	*n = a.n;
	return (0);
}

/* 1 if delivery ID has recipients recorded, 0 if not, -1 on error. */
int
store_rcpt_any(const char *id)
{
	return (store_sql_read(NULL, HOT_RCPT_ANY, NULL, NULL, "s", id));
}

/* A cursor over delivery ID's recipients by email, on a snapshot of its own (NULL: ERR says why). */
struct store_cursor *
store_rcpt_cursor(const char *id, char *err, size_t errlen)
{
	return (store_sql_cursor(HOT_RCPT_LIST, err, errlen, "s", id));
}

/* C's next recipients, at most MAX, into *OUT (*N): 1 if more may follow, 0 at the end, -1 on error. */
int
store_rcpt_cursor_next(struct store_cursor *c, size_t max,
    struct store_rcpt **out, size_t *n)
{
	struct rcpts	a = { NULL, 0, 0 };
	int		rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_sql_cursor_next(c, max, row_rcpt, &a)) == -1) {
		store_rcpts_free(a.v, a.n);
		return (-1);
	}
	*out = a.v;
	*n = a.n;
	return (rc);
}

/* Frees N recipients at R. */
void
store_rcpts_free(struct store_rcpt *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(r[i].email);
		free(r[i].name);
		free(r[i].state);
		free(r[i].error);
		free(r[i].message_id);
	}
	free(r);
}

/* Adds (ON) or removes EMAIL (lower-cased) from the suppression list; 1 if no change. */
int
store_suppress(const char *email, bool on, int actor)
{
	int	n;

	if (on)
		n = store_sql_write("suppressions", "INSERT INTO suppressions"
		    " (email, at, actor) VALUES (?1, ?2, ?3)"
		    " ON CONFLICT(email) DO NOTHING", "sIi", email, when_now(),
		    actor);
	else
		n = store_sql_write("suppressions", "DELETE FROM suppressions"
		    " WHERE email = ?1", "s", email);
	return (n == -1 ? -1 : n > 0 ? 0 : 1);
}

/* 1 if EMAIL (lower-cased) is suppressed, 0 if not, -1 on error. */
int
store_suppressed(const char *email)
{
	int	n;

	n = store_sql_read(NULL, "SELECT 1 FROM suppressions WHERE email = ?",
	    NULL, NULL, "s", email);
	return (n == -1 ? -1 : n > 0 ? 1 : 0);
}

/* Appends a row of the suppressions table to the struct suppressions ARG. */
static void
row_suppression(sqlite3_stmt *st, void *arg)
{
	struct suppressions		*a = arg;
	struct store_suppression	*s;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	s = &a->v[a->n++];
	s->email = store_sql_text(st, 0);
	s->at = sqlite3_column_int64(st, 1);
	s->actor = sqlite3_column_int(st, 2);
}

/* The suppression list, by address; free with store_suppressions_free. */
int
store_suppressions(struct store_suppression **out, size_t *n)
{
	struct suppressions	a = { NULL, 0, 0 };

	if (store_sql_read(NULL, "SELECT email, at, actor FROM suppressions"
	    " ORDER BY email", row_suppression, &a, "") == -1) {
		store_suppressions_free(a.v, a.n);
		return (-1);
	}
	*out = a.v;
	*n = a.n;
	return (0);
}

/* Frees N suppressions. */
void
store_suppressions_free(struct store_suppression *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(s[i].email);
	free(s);
}

/* Keeps the template name and render context (JSON) of email delivery ID. */
int
store_email_ctx_put(const char *id, const char *template, const char *context)
{
	char	what[64];

	snprintf(what, sizeof(what), "email context of %s", id);
	return (store_sql_write(what, "INSERT INTO email_contexts (delivery,"
	    " template, context, updated) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT(delivery) DO UPDATE SET template = ?2, context = ?3,"
	    " updated = ?4", "sssI", id, template, context, when_now()) == -1 ?
	    -1 : 0);
}

/* The template and context of an email context row. */
struct ectx {
	char	**template;
	char	**context;
};

/* Fills the struct ectx ARG from a row. */
static void
row_ectx(sqlite3_stmt *st, void *arg)
{
	struct ectx	*e = arg;

	free(*e->template);
	free(*e->context);
	*e->template = store_sql_text(st, 0);
	*e->context = store_sql_text(st, 1);
}

/* Loads what store_email_ctx_put kept for ID (malloc'd); 1 if nothing. */
int
store_email_ctx_get(const char *id, char **template, char **context)
{
	struct ectx	e = { template, context };
	int		n;

	*template = *context = NULL;
	n = store_sql_read(NULL, "SELECT template, context FROM email_contexts"
	    " WHERE delivery = ?", row_ectx, &e, "s", id);
	if (n == -1) {
		free(*template);
		free(*context);
		*template = *context = NULL;
		return (-1);
	}
	return (n == 0 ? 1 : 0);
}
