/* Deliveries in the store: rows, their state transitions, queries, media and overrides. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sql.h"
#include "store_hot.h"
#include "log.h"
#include "when.h"
#include "../common/util.h"
#include "../common/digest.h"


/* A growing array of deliveries. */
struct deliveries {
	struct delivery	*v;
	size_t		 n, cap;
};

/* Inserts a new delivery and its first event in one transaction. */
int
store_insert(const struct delivery *d, int actor, const char *event)
{
	int64_t	now = when_now();

	if (store_sql_tx_begin() == -1)
		return (-1);
	if (store_sql_write(NULL, HOT_INSERT, "sssIsssssIIssss", d->id,
	    d->channel, dstate_names[d->state], d->due, d->calendar, d->uid,
	    d->recurrence_id, d->summary, d->text ? d->text : "", now, now,
	    store_cal_state_name(d->cal_state), d->last_error,
	    d->state == DS_HELD ? d->hold_reason : NULL, d->cal_fp) == -1) {
		if (store_sql_errcode() == SQLITE_CONSTRAINT) {
			store_sql_tx_rollback();
			return (1);
		}
		store_sql_failed("insert %s: %s", d->id, store_sql_errmsg());
		goto fail;
	}
	if (store_log(d->id, d->channel, actor, event, dstate_names[d->state]) == -1 ||
	    store_sql_tx_commit() == -1)
		goto fail;
	return (0);
fail:
	store_sql_tx_rollback();
	return (-1);
}

/* Fills D from the current row of ST (columns DELIVERY_COLS). */
static void
row_to_delivery(sqlite3_stmt *st, struct delivery *d)
{
	const unsigned char	*id = sqlite3_column_text(st, 0);
	int			 s;

	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", id ? (const char *)id : "");
	d->channel = store_sql_text(st, 1);
	s = dstate_from_name((const char *)sqlite3_column_text(st, 2));
	d->state = s < 0 ? DS_FAILED : (enum dstate)s;
	d->due = sqlite3_column_int64(st, 3);
	d->calendar = store_sql_text(st, 4);
	d->uid = store_sql_text(st, 5);
	d->recurrence_id = store_sql_text(st, 6);
	d->summary = store_sql_text(st, 7);
	d->text = store_sql_text(st, 8);
	d->attempts = sqlite3_column_int(st, 9);
	d->last_error = store_sql_text(st, 10);
	d->remote_id = store_sql_text(st, 11);
	d->remote_url = store_sql_text(st, 12);
	d->next_attempt = sqlite3_column_int64(st, 13);
	d->sent_at = sqlite3_column_int64(st, 14);
	d->created = sqlite3_column_int64(st, 15);
	d->updated = sqlite3_column_int64(st, 16);
	d->cal_state = store_cal_state_parse(
	    (const char *)sqlite3_column_text(st, 17));
	d->hold_reason = store_sql_text(st, 18);
	d->cal_fp = store_sql_text(st, 19);
}

/* Fills the struct delivery ARG from a row (there is one: the id is unique). */
static void
row_one(sqlite3_stmt *st, void *arg)
{
	store_delivery_clear(arg);
	row_to_delivery(st, arg);
}

/* Appends a row to the struct deliveries ARG. */
static void
row_append(sqlite3_stmt *st, void *arg)
{
	struct deliveries	*a = arg;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	row_to_delivery(st, &a->v[a->n++]);
}

/* Hands the deliveries A gathered (N rows, -1: failed) to *OUT and *CNT. */
static int
deliveries_out(struct deliveries *a, int n, struct delivery **out,
    size_t *cnt)
{
	if (n == -1) {
		store_deliveries_free(a->v, a->n);
		return (-1);
	}
	*out = a->v;
	*cnt = a->n;
	return (0);
}

/* Loads delivery ID. */
int
store_get(const char *id, struct delivery *d)
{
	int	n;

	memset(d, 0, sizeof(*d));
	n = store_sql_read(NULL, HOT_GET, row_one, d, "s", id);
	if (n == -1)
		store_delivery_clear(d);
	return (n == -1 ? -1 : n == 0 ? 1 : 0);
}

/* Copies the id of the first row into the char[DELIVERY_ID_LEN + 1] ARG. */
static void
row_id(sqlite3_stmt *st, void *arg)
{
	char	*id = arg;

	if (id[0] == '\0')
		snprintf(id, DELIVERY_ID_LEN + 1, "%s",
		    (const char *)sqlite3_column_text(st, 0));
}

/* Resolves an id prefix (hex digits only) to one full id. */
int
store_resolve(const char *prefix, char id[DELIVERY_ID_LEN + 1])
{
	char	hi[DELIVERY_ID_LEN + 2], found[DELIVERY_ID_LEN + 1] = "";
	size_t	len = strlen(prefix), i;
	int	n;

	if (len == 0 || len > DELIVERY_ID_LEN)
		return (1);
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdef", prefix[i]) == NULL)
			return (1);
	/* A range scan on the primary key: [prefix, prefix + "g"). */
	snprintf(hi, sizeof(hi), "%sg", prefix);
	n = store_sql_read(NULL, "SELECT id FROM deliveries WHERE id >= ? AND"
	    " id < ? LIMIT 2", row_id, found, "ss", prefix, hi);
	if (n == -1)
		return (-1);
	if (n > 0)
		memcpy(id, found, sizeof(found));
	return (n == 0 ? 1 : n == 1 ? 0 : 2);
}

/* The state and channel of a delivery row. */
struct cur {
	int	 state;		/* -1: unknown name */
	char	*channel;
};

/* Fills the struct cur ARG from a row of (state, channel). */
static void
row_cur(sqlite3_stmt *st, void *arg)
{
	struct cur	*c = arg;
	const char	*s = (const char *)sqlite3_column_text(st, 0);

	c->state = dstate_from_name(s ? s : "");
	free(c->channel);
	c->channel = store_sql_text(st, 1);
}

/* Moves ID from a state in FROM_MASK to TO with U applied, and logs it. */
int
store_transition(const char *id, unsigned from_mask, enum dstate to,
    const struct store_update *u, int actor, const char *event,
    const char *detail, enum dstate *cur)
{
	static const struct store_update none;
	struct cur	c = { -1, NULL };
	int		n;

	if (u == NULL)
		u = &none;
	if (store_sql_tx_begin() == -1)
		return (-1);
	if ((n = store_sql_read(NULL, HOT_CUR, row_cur, &c, "s", id)) == -1)
		goto fail;
	if (n == 0) {
		store_sql_tx_rollback();
		return (2);
	}
	if (c.state < 0 || (from_mask & (1u << c.state)) == 0) {
		if (cur != NULL)
			*cur = c.state < 0 ? DS_FAILED : (enum dstate)c.state;
		free(c.channel);
		store_sql_tx_rollback();
		return (1);
	}
	if (store_sql_write(NULL, u->due > 0 ? HOT_TRANSITION :
	    HOT_TRANSITION_SAME_DUE, "sIIisssIIssi", dstate_names[to], when_now(),
	    u->due, u->attempt ? 1 : 0, u->last_error, u->remote_id,
	    u->remote_url, u->sent_at, u->next_attempt, id, u->hold_reason,
	    u->reset_attempts ? 1 : 0) == -1)
		goto fail;
	if (c.state != (int)to) {
		store_qcount_add(c.channel, dstate_names[c.state], -1);
		store_qcount_add(c.channel, dstate_names[to], 1);
	}
	if (store_log(id, c.channel, actor, event, detail) == -1 ||
	    store_sql_tx_commit() == -1)
		goto fail;
	free(c.channel);
	return (0);
fail:
	store_sql_failed("transition %s: %s", id, store_sql_errmsg());
	free(c.channel);
	store_sql_tx_rollback();
	return (-1);
}

/* Rewrites what the calendar decides of a delivery that has not gone out. */
int
store_set_content(const char *id, int64_t due, const char *summary,
    const char *text, enum cal_state cal_state, const char *last_error)
{
	char	what[64];

	snprintf(what, sizeof(what), "update %s", id);
	return (store_sql_write(what, HOT_SET_CONTENT, "IssssIs", due, summary, text ? text : "",
	    store_cal_state_name(cal_state), last_error, when_now(), id) == -1 ? -1 : 0);
}

/* Every delivery of calendar NAME, ordered by due. */
int
store_list_calendar(const char *name, struct delivery **out, size_t *n)
{
	struct deliveries	a = { NULL, 0, 0 };

	return (deliveries_out(&a, store_sql_read("query", HOT_LIST_CALENDAR,
	    row_append, &a, "s", name), out, n));
}

/* Lists deliveries matching F, ordered by due then id. */
int
store_list(const struct store_filter *f, struct delivery **out, size_t *n)
{
	struct deliveries	 a = { NULL, 0, 0 };
	const char		*sql;

	if (f->state >= 0 && f->channel != NULL)
		sql = HOT_LIST_BOTH;
	else if (f->state >= 0)
		sql = HOT_LIST_STATE;
	else if (f->channel != NULL)
		sql = HOT_LIST_CHANNEL;
	else
		sql = HOT_LIST;
	return (deliveries_out(&a, store_sql_read("query", sql, row_append, &a,
	    "ssIII", f->state >= 0 ? dstate_names[f->state] : NULL, f->channel,
	    f->from != 0 ? f->from : INT64_MIN, f->to != 0 ? f->to : INT64_MAX,
	    f->limit ? (int64_t)f->limit : (int64_t)-1), out, n));
}

/* The MAX soonest (-1: all) of CHANNEL's deliveries held for HOLD_REASON, ordered by due. */
int
store_list_held_for(const char *channel, const char *hold_reason, int max,
    struct delivery **out, size_t *n)
{
	struct deliveries	a = { NULL, 0, 0 };

	return (deliveries_out(&a, store_sql_read("query", HOT_HELD_FOR,
	    row_append, &a, "ssi", channel, hold_reason, max), out, n));
}

/* Deliveries ready to go at NOW. */
int
store_due(int64_t now, size_t max, struct delivery **out, size_t *n)
{
	struct deliveries	a = { NULL, 0, 0 };

	return (deliveries_out(&a, store_sql_read("query", HOT_DUE, row_append,
	    &a, "II", now, (int64_t)max), out, n));
}

/* The result of a MIN() query. */
struct min {
	int64_t	 v;
	int	 set;		/* 0: MIN() was NULL */
};

/* Fills the struct min ARG from column 0. */
static void
row_min(sqlite3_stmt *st, void *arg)
{
	struct min	*m = arg;

	if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
		m->v = sqlite3_column_int64(st, 0);
		m->set = 1;
	}
}

/* Runs the MIN() query SQL (up to two text arguments): 0 with *MS, 1 if NULL. */
static int
read_min(const char *sql, int64_t *ms, const char *fmt, const char *a,
    const char *b)
{
	struct min	m = { 0, 0 };

	if (store_sql_read(NULL, sql, row_min, &m, fmt, a, b) == -1)
		return (-1);
	if (!m.set)
		return (1);
	*ms = m.v;
	return (0);
}

/* The earliest instant a delivery becomes ready. */
int
store_next_wakeup(int64_t *ms)
{
	return (read_min(HOT_NEXT_WAKEUP, ms, "", NULL, NULL));
}

/* Ready deliveries of CHANNEL, or of no channel among NOT_IN. */
int
store_due_for(const char *channel, const char *not_in, int64_t now,
    size_t max, struct delivery **out, size_t *n)
{
	struct deliveries	a = { NULL, 0, 0 };

	return (deliveries_out(&a, store_sql_read("query", channel != NULL ?
	    HOT_DUE_CHANNEL : HOT_DUE_OTHERS, row_append, &a, "IIs", now,
	    (int64_t)max, channel != NULL ? channel : not_in ? not_in : "[]"),
	    out, n));
}

/* The earliest instant a delivery of CHANNEL (or of none in NOT_IN) is ready. */
int
store_next_wakeup_for(const char *channel, const char *not_in, int64_t *ms)
{
	if (channel != NULL)
		return (read_min(HOT_NEXT_WAKEUP_CHANNEL, ms, "s", channel, NULL));
	return (read_min(HOT_NEXT_WAKEUP_OTHERS, ms, "s",
	    not_in ? not_in : "[]", NULL));
}

/* Every delivery of the occurrence (CALENDAR, UID, RECURRENCE_ID), by channel. */
int
store_list_occurrence(const char *calendar, const char *uid,
    const char *recurrence_id, struct delivery **out, size_t *n)
{
	struct deliveries	a = { NULL, 0, 0 };

	return (deliveries_out(&a, store_sql_read("query",
	    HOT_LIST_OCCURRENCE, row_append, &a, "sss", calendar, uid,
	    recurrence_id), out, n));
}

/* Frees what D owns. */
void
store_delivery_clear(struct delivery *d)
{
	free(d->channel);
	free(d->calendar);
	free(d->uid);
	free(d->recurrence_id);
	free(d->summary);
	free(d->text);
	free(d->last_error);
	free(d->remote_id);
	free(d->remote_url);
	free(d->hold_reason);
	free(d->cal_fp);
	memset(d, 0, sizeof(*d));
}

/* Frees an array of N deliveries. */
void
store_deliveries_free(struct delivery *d, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_delivery_clear(&d[i]);
	free(d);
}

/* First 12 hex digits of SHA-256 over the NUL-separated identifying fields. */
void
store_delivery_id(const char *calendar, const char *uid,
    const char *recurrence_id, const char *channel, char id[DELIVERY_ID_LEN + 1])
{
	const char	*parts[4] = { calendar, uid, recurrence_id, channel };
	unsigned char	 md[DIGEST_LEN];
	struct digest	 ctx;
	int		 i;

	digest_start(&ctx);
	for (i = 0; i < 4; i++) {
		const char *s = parts[i] ? parts[i] : "";

		/* NUL separators: ("ab","c") and ("a","bc") must differ. */
		digest_add(&ctx, s, strlen(s) + 1);
	}
	digest_end(&ctx, md);
	for (i = 0; i < DELIVERY_ID_LEN / 2; i++)
		snprintf(id + i * 2, 3, "%02x", md[i]);
	id[DELIVERY_ID_LEN] = '\0';
}

/* Reads column 0 as a malloc'd string into the char * ARG. */
static void
row_text(sqlite3_stmt *st, void *arg)
{
	char	**s = arg;

	free(*s);
	*s = store_sql_text(st, 0);
}

/* Loads text column COL ("media", "ends") of delivery ID into *OUT; 1 if no such delivery. */
static int
get_text(const char *sql, const char *id, char **out)
{
	int	n;

	*out = NULL;
	if ((n = store_sql_read(NULL, sql, row_text, out, "s", id)) == -1) {
		free(*out);
		*out = NULL;
		return (-1);
	}
	return (n == 0 ? 1 : 0);
}

/* Sets the media (JSON text, NULL: none) of delivery ID; no write if unchanged. */
int
store_set_media(const char *id, const char *media)
{
	char	what[64];

	snprintf(what, sizeof(what), "media %s", id);
	return (store_sql_write(what, "UPDATE deliveries SET media = ?1"
	    " WHERE id = ?2 AND media IS NOT ?1", "ss", media, id) == -1 ?
	    -1 : 0);
}

/* Loads the media of delivery ID into *MEDIA (malloc'd, NULL: none); 1 if no such delivery. */
int
store_get_media(const char *id, char **media)
{
	return (get_text("SELECT media FROM deliveries WHERE id = ?", id, media));
}

/* Sets the end (its occurrence's, as --check --json writes it) of delivery ID; no write if unchanged. */
int
store_set_end(const char *id, const char *end)
{
	if (store_sql_write(NULL, "UPDATE deliveries SET ends = ?1 WHERE id = ?2"
	    " AND ends IS NOT ?1", "ss", end, id) == -1) {
		log_warnx("store: end %s: %s", id, store_sql_errmsg());
		return (-1);
	}
	return (0);
}

/* Records where the calendar's version of delivery ID stands (see campaign.c). */
int
store_set_cal_fp(const char *id, const char *fp)
{
	return (store_sql_write(NULL, "UPDATE deliveries SET cal_fp = ?"
	    " WHERE id = ?", "ss", fp, id) == -1 ? -1 : 0);
}

/* Records the operator's decision VERB (of KIND) on delivery ID, with the calendar's version it was made on. */
int
store_override_put(const char *id, const char *kind, const char *verb,
    int64_t due, int actor)
{
	if (store_sql_write(NULL, "INSERT INTO overrides (delivery, kind, verb,"
	    " due, cal_fp, at, actor) SELECT id, ?2, ?3, ?4, cal_fp, ?5, ?6"
	    " FROM deliveries WHERE id = ?1 AND calendar IS NOT NULL"
	    " ON CONFLICT(delivery, kind) DO UPDATE SET verb = ?3, due = ?4,"
	    " cal_fp = excluded.cal_fp, at = ?5, actor = ?6", "sssIIi", id, kind,
	    verb, due, when_now(), actor) == -1) {
		log_warnx("store: override of %s: %s", id, store_sql_errmsg());
		return (-1);
	}
	return (0);
}

/* Fills the struct store_override ARG from a row. */
static void
row_override(sqlite3_stmt *st, void *arg)
{
	struct store_override	*o = arg;

	store_override_clear(o);
	o->verb = store_sql_text(st, 0);
	o->due = sqlite3_column_int64(st, 1);
	o->cal_fp = store_sql_text(st, 2);
	o->at = sqlite3_column_int64(st, 3);
	o->actor = sqlite3_column_int(st, 4);
}

/* Loads the override of KIND on delivery ID into O (free with store_override_clear); 1 if none. */
int
store_override_get(const char *id, const char *kind, struct store_override *o)
{
	int	n;

	memset(o, 0, sizeof(*o));
	n = store_sql_read(NULL, "SELECT verb, due, cal_fp, at, actor FROM"
	    " overrides WHERE delivery = ? AND kind = ?", row_override, o, "ss",
	    id, kind);
	return (n == -1 ? -1 : n == 0 ? 1 : 0);
}

/* Overrides of ID without a calendar version take the delivery's current one. */
int
store_override_adopt(const char *id)
{
	return (store_sql_write(NULL, "UPDATE overrides SET cal_fp = (SELECT"
	    " cal_fp FROM deliveries WHERE id = ?1) WHERE delivery = ?1 AND"
	    " cal_fp IS NULL", "s", id) == -1 ? -1 : 0);
}

/* Forgets the override of KIND (NULL: every kind) on delivery ID. */
int
store_override_drop(const char *id, const char *kind)
{
	return (store_sql_write(NULL, "DELETE FROM overrides WHERE delivery = ?1"
	    " AND (?2 IS NULL OR kind = ?2)", "ss", id, kind) == -1 ? -1 : 0);
}

/* Frees what O owns. */
void
store_override_clear(struct store_override *o)
{
	free(o->verb);
	free(o->cal_fp);
	memset(o, 0, sizeof(*o));
}
