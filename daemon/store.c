/* Durable state in SQLite: the versioned schema, the event log, channel state. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sql.h"
#include "store_hot.h"
#include "log.h"
#include "when.h"
#include "../common/util.h"

static void	(*event_hook)(void);

/* Schema migrations: entry N brings version N to N + 1. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE deliveries ("
	"  id TEXT PRIMARY KEY,"
	"  channel TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  due INTEGER NOT NULL,"
	"  calendar TEXT, uid TEXT, recurrence_id TEXT, summary TEXT,"
	"  text TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT, remote_id TEXT, remote_url TEXT,"
	"  next_attempt INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX deliveries_state_due ON deliveries(state, due);"
	"CREATE INDEX deliveries_due ON deliveries(due, id);"
	"CREATE TABLE events ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  at INTEGER NOT NULL, delivery TEXT, channel TEXT,"
	"  event TEXT NOT NULL, detail TEXT, actor INTEGER NOT NULL);"
	"CREATE TABLE channels ("
	"  name TEXT PRIMARY KEY, paused INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT, tokens REAL, tokens_at INTEGER);",
	/* 1 -> 2: what the calendar last said of a delivery (see campaign.c). */
	"ALTER TABLE deliveries ADD COLUMN cal_state TEXT;"
	"CREATE INDEX deliveries_calendar ON deliveries(calendar, state);",
	/* 2 -> 3: why a delivery is held; a channel's last error. */
	"ALTER TABLE deliveries ADD COLUMN hold_reason TEXT;"
	"ALTER TABLE channels ADD COLUMN last_error TEXT;"
	"CREATE INDEX deliveries_channel_state ON deliveries(channel, state, due);",
	/* 3 -> 4: a delivery's media (JSON [{uri, fmttype, alt}]), see campaign.c. */
	"ALTER TABLE deliveries ADD COLUMN media TEXT;",
	/* 4 -> 5: newsletters: recipients per delivery, suppressions, contexts. */
	"CREATE TABLE recipients ("
	"  delivery TEXT NOT NULL, email TEXT NOT NULL, name TEXT,"
	"  state TEXT NOT NULL, error TEXT, message_id TEXT,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL,"
	"  PRIMARY KEY (delivery, email));"
	"CREATE TABLE suppressions ("
	"  email TEXT PRIMARY KEY, at INTEGER NOT NULL, actor INTEGER NOT NULL);"
	"CREATE TABLE email_contexts ("
	"  delivery TEXT PRIMARY KEY, template TEXT, context TEXT NOT NULL,"
	"  updated INTEGER NOT NULL);",
	/* 5 -> 6: a calendar delivery's end, as --check --json writes it. */
	"ALTER TABLE deliveries ADD COLUMN ends TEXT;",
	/* 6 -> 7: operator decisions that outlive reloads (see campaign.c). */
	"ALTER TABLE deliveries ADD COLUMN cal_fp TEXT;"
	"CREATE TABLE overrides ("
	"  delivery TEXT NOT NULL, kind TEXT NOT NULL, verb TEXT NOT NULL,"
	"  due INTEGER NOT NULL DEFAULT 0, cal_fp TEXT,"
	"  at INTEGER NOT NULL, actor INTEGER NOT NULL,"
	"  PRIMARY KEY (delivery, kind));"
	"CREATE INDEX deliveries_occurrence ON deliveries(calendar, uid,"
	"  recurrence_id);",
	/*
	 * 7 -> 8: every hot statement uses an index (store_hot.h,
	 * check_queryplan); queue_counts keeps deliveries per channel and
	 * state, so status and the scheduler never count or scan the queue.
	 */
	"DROP INDEX deliveries_state_due;"
	"DROP INDEX deliveries_channel_state;"
	"CREATE INDEX deliveries_ready ON deliveries(state, due, id);"
	"CREATE INDEX deliveries_retry ON deliveries(state, next_attempt);"
	"CREATE INDEX deliveries_channel_ready ON deliveries(channel, state,"
	"  due, id);"
	"CREATE INDEX deliveries_channel_retry ON deliveries(channel, state,"
	"  next_attempt);"
	"CREATE INDEX deliveries_channel_due ON deliveries(channel, due);"
	"CREATE INDEX events_delivery ON events(delivery, seq);"
	"CREATE TABLE queue_counts ("
	"  channel TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL,"
	"  PRIMARY KEY (channel, state)) WITHOUT ROWID;"
	"INSERT INTO queue_counts SELECT channel, state, COUNT(*)"
	"  FROM deliveries GROUP BY channel, state;"
	"CREATE TRIGGER queue_counts_insert AFTER INSERT ON deliveries BEGIN"
	"  INSERT INTO queue_counts VALUES (new.channel, new.state, 1)"
	"  ON CONFLICT(channel, state) DO UPDATE SET n = n + 1; END;"
	"CREATE TRIGGER queue_counts_delete AFTER DELETE ON deliveries BEGIN"
	"  UPDATE queue_counts SET n = n - 1"
	"  WHERE channel = old.channel AND state = old.state; END;"
	"CREATE TRIGGER queue_counts_update AFTER UPDATE OF state, channel"
	"  ON deliveries WHEN old.state IS NOT new.state"
	"  OR old.channel IS NOT new.channel BEGIN"
	"  UPDATE queue_counts SET n = n - 1"
	"  WHERE channel = old.channel AND state = old.state;"
	"  INSERT INTO queue_counts VALUES (new.channel, new.state, 1)"
	"  ON CONFLICT(channel, state) DO UPDATE SET n = n + 1; END;",
	/* 8 -> 9: what a channel keeps across restarts (see store_kv.c). */
	"CREATE TABLE chan_kv ("
	"  channel TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	"  updated INTEGER NOT NULL, PRIMARY KEY (channel, key));",
	/* 9 -> 10: engagement figures of sent posts (see store_engage.c). */
	"CREATE TABLE engagement ("
	"  delivery TEXT PRIMARY KEY, stage INTEGER NOT NULL DEFAULT 0,"
	"  likes INTEGER, reposts INTEGER, replies INTEGER,"
	"  fetched INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX deliveries_sent ON deliveries(state, sent_at);",
	/* 10 -> 11: thread parts confirmed by the network (see store_parts.c). */
	"CREATE TABLE parts ("
	"  delivery TEXT NOT NULL, part INTEGER NOT NULL,"
	"  remote_id TEXT NOT NULL, remote_url TEXT, ref TEXT,"
	"  at INTEGER NOT NULL, PRIMARY KEY (delivery, part));",
	/*
	 * 11 -> 12: a move writes fewer b-tree pages (issue 16). Events lose
	 * AUTOINCREMENT (its sqlite_sequence row was rewritten by every
	 * insert); nothing deletes events, so a new seq is still above every
	 * old one. The retry and sent indexes hold only the rows their
	 * queries ask for, so `sending` and most outcomes leave them alone.
	 */
	"CREATE TABLE events_new ("
	"  seq INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL, delivery TEXT, channel TEXT,"
	"  event TEXT NOT NULL, detail TEXT, actor INTEGER NOT NULL);"
	"INSERT INTO events_new SELECT seq, at, delivery, channel, event,"
	"  detail, actor FROM events ORDER BY seq;"
	"DROP TABLE events;"
	"ALTER TABLE events_new RENAME TO events;"
	"CREATE INDEX events_delivery ON events(delivery, seq);"
	"DROP INDEX deliveries_retry;"
	"DROP INDEX deliveries_channel_retry;"
	"DROP INDEX deliveries_sent;"
	"CREATE INDEX deliveries_retry ON deliveries(state, next_attempt)"
	"  WHERE state = 'retrying';"
	"CREATE INDEX deliveries_channel_retry ON deliveries(channel, state,"
	"  next_attempt) WHERE state = 'retrying';"
	"CREATE INDEX deliveries_sent ON deliveries(state, sent_at)"
	"  WHERE state = 'sent';"
	/*
	 * A move's two queue_counts changes are made in C, summed per
	 * transaction (store_qcount.c): a batch of marks writes one row.
	 */
	"DROP TRIGGER queue_counts_update;"
	/*
	 * deliveries_occurrence (calendar, uid, recurrence_id) serves the
	 * lookups by calendar; this one only cost every move an entry.
	 */
	"DROP INDEX deliveries_calendar;",
	/*
	 * 12 -> 13: a burst writes fewer pages (issue 16). Ids are hashes, so
	 * deliveries taken in id order, and events indexed by delivery id,
	 * put each batch on pages all over the file. Now deliveries due at
	 * the same instant go in the order they were queued (rid), and events
	 * are indexed by their delivery's rid: a batch lands on neighbouring
	 * pages. rid is an INTEGER PRIMARY KEY so that a VACUUM keeps it.
	 */
	"CREATE TABLE deliveries_new ("
	"  rid INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  due INTEGER NOT NULL,"
	"  calendar TEXT, uid TEXT, recurrence_id TEXT, summary TEXT,"
	"  text TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT, remote_id TEXT, remote_url TEXT,"
	"  next_attempt INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  cal_state TEXT, hold_reason TEXT, media TEXT, ends TEXT, cal_fp TEXT);"
	"INSERT INTO deliveries_new (rid, id, channel, state, due, calendar,"
	"  uid, recurrence_id, summary, text, attempts, last_error, remote_id,"
	"  remote_url, next_attempt, sent_at, created, updated, cal_state,"
	"  hold_reason, media, ends, cal_fp)"
	"  SELECT rowid, id, channel, state, due, calendar, uid, recurrence_id,"
	"  summary, text, attempts, last_error, remote_id, remote_url,"
	"  next_attempt, sent_at, created, updated, cal_state, hold_reason,"
	"  media, ends, cal_fp FROM deliveries ORDER BY rowid;"
	"ALTER TABLE events ADD COLUMN delivery_rid INTEGER;"
	"UPDATE events SET delivery_rid = (SELECT rid FROM deliveries_new d"
	"  WHERE d.id = events.delivery) WHERE delivery IS NOT NULL;"
	"DROP INDEX events_delivery;"
	"CREATE INDEX events_delivery ON events(delivery_rid, seq);"
	"DROP TABLE deliveries;"
	"ALTER TABLE deliveries_new RENAME TO deliveries;"
	"CREATE UNIQUE INDEX deliveries_id ON deliveries(id);"
	"CREATE INDEX deliveries_due ON deliveries(due, id);"
	"CREATE INDEX deliveries_occurrence ON deliveries(calendar, uid,"
	"  recurrence_id);"
	"CREATE INDEX deliveries_ready ON deliveries(state, due);"
	"CREATE INDEX deliveries_channel_ready ON deliveries(channel, state,"
	"  due);"
	"CREATE INDEX deliveries_channel_due ON deliveries(channel, due);"
	"CREATE INDEX deliveries_retry ON deliveries(state, next_attempt)"
	"  WHERE state = 'retrying';"
	"CREATE INDEX deliveries_channel_retry ON deliveries(channel, state,"
	"  next_attempt) WHERE state = 'retrying';"
	"CREATE INDEX deliveries_sent ON deliveries(state, sent_at)"
	"  WHERE state = 'sent';"
	"CREATE TRIGGER queue_counts_insert AFTER INSERT ON deliveries BEGIN"
	"  INSERT INTO queue_counts VALUES (new.channel, new.state, 1)"
	"  ON CONFLICT(channel, state) DO UPDATE SET n = n + 1; END;"
	"CREATE TRIGGER queue_counts_delete AFTER DELETE ON deliveries BEGIN"
	"  UPDATE queue_counts SET n = n - 1"
	"  WHERE channel = old.channel AND state = old.state; END;",
};

#define NMIGRATIONS	(sizeof(migrations) / sizeof(migrations[0]))

/* Reads column 0 of the row as an int into ARG. */
static void
row_int(sqlite3_stmt *st, void *arg)
{
	*(int *)arg = sqlite3_column_int(st, 0);
}

/* Opens the database under DIR and brings its schema up to date. */
int
store_open(const char *dir, char *err, size_t errlen)
{
	char	path[4096];
	int	version = 0;
	size_t	v;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		return (-1);
	}
	snprintf(path, sizeof(path), "%s/crier.db", dir);
	if (store_sql_open(path, err, errlen) == -1)
		return (-1);
	if (store_sql_read(NULL, "PRAGMA user_version", row_int, &version,
	    "") != 1) {
		store_sql_open_error(NULL, err, errlen);
		goto fail;
	}
	if (version > (int)NMIGRATIONS) {
		snprintf(err, errlen, "%s: schema version %d is newer than this "
		    "crierd knows (%zu)", path, version, NMIGRATIONS);
		goto fail;
	}
	for (v = (size_t)version; v < NMIGRATIONS; v++) {
		char	sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version=%zu", v + 1);
		if (store_sql_exec("BEGIN IMMEDIATE") == -1 ||
		    store_sql_exec(migrations[v]) == -1 ||
		    store_sql_exec(sql) == -1 || store_sql_exec("COMMIT") == -1) {
			store_sql_open_error("migration failed", err, errlen);
			store_sql_exec("ROLLBACK");
			goto fail;
		}
		log_info("store: %s migrated to schema %zu", path, v + 1);
	}
	return (0);
fail:
	store_sql_close();
	return (-1);
}

/* Closes the database (checkpointing the WAL). */
void
store_close(void)
{
	store_sql_close();
}

/* The current storage problem (path, what failed and the OS reason), or NULL. */
const char *
store_problem(void)
{
	return (store_sql_problem());
}

/* How many database operations have failed since the start. */
uint64_t
store_failures(void)
{
	return (store_sql_failures());
}

/* Whether the WAL is due to be copied into the database. */
int
store_checkpoint_due(void)
{
	return (store_sql_checkpoint_due());
}

/* The database file's path. */
const char *
store_db_path(void)
{
	return (store_sql_path());
}

/* Whether the WAL is due to be copied or being copied. */
int
store_checkpoint_pending(void)
{
	return (store_sql_checkpoint_due() || store_sql_checkpoint_busy());
}

/* Copies the WAL into the database (the scheduler calls it off the send path). */
void
store_checkpoint(void)
{
	store_sql_checkpoint();
}

/* Starts a batch: every change until store_commit() is one transaction. */
int
store_begin(void)
{
	return (store_sql_batch_begin());
}

/* Commits the batch. */
int
store_commit(void)
{
	return (store_sql_batch_commit());
}

/* Abandons the whole batch. */
void
store_rollback(void)
{
	store_sql_batch_rollback();
}

/* Appends an event row; part of the caller's transaction if one is open. */
int
store_log(const char *delivery, const char *channel, int actor,
    const char *event, const char *detail)
{
	if (store_sql_write("event", HOT_EVENT, "Issssi",
	    when_now(), delivery, channel, event, detail, actor) == -1)
		return (-1);
	if (event_hook != NULL)
		event_hook();
	return (0);
}

/*
 * The end of a move of many deliveries of CHANNEL from FROM to TO in the
 * open transaction: NE events were written for N moved (-1 if a statement
 * failed); they must agree. Commits; how many moved, or -1 (rolled back).
 */
static int
move_all_end(const char *what, const char *channel, enum dstate from,
    enum dstate to, int ne, int n)
{
	if (ne == -1 || n == -1) {
		store_sql_failed("%s %s: %s", what, channel, store_sql_errmsg());
		goto fail;
	}
	if (n != ne) {
		store_sql_failed("%s %s: %d events for %d deliveries", what,
		    channel, ne, n);
		goto fail;
	}
	store_qcount_add(channel, dstate_names[from], -n);
	store_qcount_add(channel, dstate_names[to], n);
	if (store_sql_tx_commit() == -1) {
		store_sql_failed("%s %s: %s", what, channel, store_sql_errmsg());
		goto fail;
	}
	if (n > 0 && event_hook != NULL)
		event_hook();
	return (n);
fail:
	store_sql_tx_rollback();
	return (-1);
}

/*
 * Moves the MAX soonest (-1: every) deliveries of CHANNEL held for
 * HOLD_REASON that their calendar lets go back to scheduled, logging EVENT
 * (DETAIL) by ACTOR for each, in two statements whatever their number; how
 * many moved, or -1.
 */
int
store_release(const char *channel, const char *hold_reason, int actor,
    const char *event, const char *detail, int max)
{
	int64_t	now = when_now();
	int	ne, n = -1;

	if (store_sql_tx_begin() == -1)
		return (-1);
	if ((ne = store_sql_write(NULL, HOT_RELEASE_EVENTS, "ssIissi", channel,
	    hold_reason, now, actor, event, detail, max)) != -1)
		n = store_sql_write(NULL, HOT_RELEASE, "ssIissi", channel,
		    hold_reason, now, actor, event, detail, max);
	return (move_all_end("release", channel, DS_HELD, DS_SCHEDULED, ne, n));
}

/*
 * Holds for HOLD_REASON the MAX soonest (-1: every) deliveries of CHANNEL
 * in state FROM, logging EVENT (DETAIL) by ACTOR for each, in two
 * statements whatever their number (a `pause` of 100 000 did them one by
 * one: 2.9 s on the loop, and every row read into memory first); how
 * many, or -1.
 */
int
store_hold_all(const char *channel, enum dstate from, const char *hold_reason,
    int actor, const char *event, const char *detail, int max)
{
	int64_t	now = when_now();
	int	ne, n = -1;

	if (store_sql_tx_begin() == -1)
		return (-1);
	if ((ne = store_sql_write(NULL, HOT_HOLD_EVENTS, "ssIisssi", channel,
	    dstate_names[from], now, actor, event, detail, hold_reason,
	    max)) != -1)
		n = store_sql_write(NULL, HOT_HOLD, "ssIisssi", channel,
		    dstate_names[from], now, actor, event, detail, hold_reason,
		    max);
	return (move_all_end("hold", channel, from, DS_HELD, ne, n));
}

/* Calls FN after each event row is written. */
void
store_set_event_hook(void (*fn)(void))
{
	event_hook = fn;
}

/* Fills the store_channel ARG from a row of the channels table. */
static void
row_channel(sqlite3_stmt *st, void *arg)
{
	struct store_channel	*sc = arg;

	sc->paused = sqlite3_column_int(st, 0) != 0;
	sc->reason = store_sql_text(st, 1);
	sc->last_error = store_sql_text(st, 2);
	if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
	    sqlite3_column_type(st, 4) != SQLITE_NULL) {
		sc->has_tokens = true;
		sc->tokens = sqlite3_column_double(st, 3);
		sc->tokens_at = sqlite3_column_int64(st, 4);
	}
}

/* Loads channel NAME's durable state. */
int
store_channel_get(const char *name, struct store_channel *sc)
{
	int	n;

	memset(sc, 0, sizeof(*sc));
	n = store_sql_read(NULL, "SELECT paused, reason, last_error, tokens,"
	    " tokens_at FROM channels WHERE name = ?", row_channel, sc, "s",
	    name);
	return (n == -1 ? -1 : n == 0 ? 1 : 0);
}

/* Saves channel NAME's durable state. */
int
store_channel_put(const char *name, const struct store_channel *sc)
{
	char	what[300];
	int	rc;

	snprintf(what, sizeof(what), "channel %s", name);
	if (sc->has_tokens)
		rc = store_sql_write(what, "INSERT INTO channels (name, paused,"
		    " reason, last_error, tokens, tokens_at)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		    " ON CONFLICT(name) DO UPDATE SET paused = ?2, reason = ?3,"
		    " last_error = ?4, tokens = ?5, tokens_at = ?6", "sissdI",
		    name, sc->paused ? 1 : 0, sc->reason, sc->last_error,
		    sc->tokens, sc->tokens_at);
	else
		rc = store_sql_write(what, "INSERT INTO channels (name, paused,"
		    " reason, last_error, tokens, tokens_at)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		    " ON CONFLICT(name) DO UPDATE SET paused = ?2, reason = ?3,"
		    " last_error = ?4, tokens = ?5, tokens_at = ?6", "sissnn",
		    name, sc->paused ? 1 : 0, sc->reason, sc->last_error);
	return (rc == -1 ? -1 : 0);
}

/* Frees what SC owns. */
void
store_channel_clear(struct store_channel *sc)
{
	free(sc->reason);
	free(sc->last_error);
	memset(sc, 0, sizeof(*sc));
}

/* Adds a row's count to its state in the int64_t[DS_NSTATES] ARG. */
static void
row_count(sqlite3_stmt *st, void *arg)
{
	int64_t	*counts = arg;
	int	 s;

	s = dstate_from_name((const char *)sqlite3_column_text(st, 0));
	if (s >= 0)
		counts[s] = sqlite3_column_int64(st, 1);
}

/* Counts deliveries per state. */
int
store_counts(int64_t counts[DS_NSTATES])
{
	memset(counts, 0, sizeof(int64_t) * DS_NSTATES);
	return (store_sql_read(NULL, HOT_COUNTS, row_count, counts, "") == -1 ? -1 : 0);
}

/* A growing array of events. */
struct events {
	struct store_event	*v;
	size_t			 n, cap;
};

/* Appends a row of the events table to the struct events ARG. */
static void
row_event(sqlite3_stmt *st, void *arg)
{
	struct events		*a = arg;
	struct store_event	*e;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	e = &a->v[a->n++];
	e->seq = sqlite3_column_int64(st, 0);
	e->at = sqlite3_column_int64(st, 1);
	e->delivery = store_sql_text(st, 2);
	e->channel = store_sql_text(st, 3);
	e->event = store_sql_text(st, 4);
	e->detail = store_sql_text(st, 5);
	e->actor = sqlite3_column_int(st, 6);
}

/* Hands the events A gathered (N of them, -1: failed) to *OUT and *N. */
static int
events_out(struct events *a, int n, struct store_event **out, size_t *cnt)
{
	if (n == -1) {
		store_events_free(a->v, a->n);
		return (-1);
	}
	*out = a->v;
	*cnt = a->n;
	return (0);
}

/* The LIMIT newest events after AFTER, oldest first. */
int
store_events(int64_t after, size_t limit, struct store_event **out, size_t *n)
{
	struct events	a = { NULL, 0, 0 };

	return (events_out(&a, store_sql_read("events", "SELECT seq, at,"
	    " delivery, channel, event, detail, actor FROM"
	    " (SELECT * FROM events WHERE seq > ? ORDER BY seq DESC LIMIT ?)"
	    " ORDER BY seq", row_event, &a, "II", after,
	    limit ? (int64_t)limit : (int64_t)-1), out, n));
}

/* log's LIMIT newest events, oldest first, on a cursor: one snapshot, read a slice at a time. */
struct store_cursor *
store_events_cursor(size_t limit, char *err, size_t errlen)
{
	return (store_sql_cursor("SELECT seq, at, delivery, channel, event,"
	    " detail, actor FROM events WHERE seq >= COALESCE((SELECT seq FROM"
	    " events ORDER BY seq DESC LIMIT 1 OFFSET ?1 - 1), 0) ORDER BY seq",
	    err, errlen, "I", (int64_t)limit));
}

/* The next events of cursor C, at most MAX, into *OUT (*N): 1 if more may follow, 0 at the end, -1 on error. */
int
store_events_cursor_next(struct store_cursor *c, size_t max,
    struct store_event **out, size_t *n)
{
	struct events	a = { NULL, 0, 0 };
	int		rc;

	if ((rc = store_sql_cursor_next(c, max, row_event, &a)) == -1) {
		store_events_free(a.v, a.n);
		return (-1);
	}
	*out = a.v;
	*n = a.n;
	return (rc);
}

/* Closes cursor C (NULL: nothing). */
void
store_cursor_close(struct store_cursor *c)
{
	store_sql_cursor_close(c);
}

/* Every event of delivery ID, oldest first. */
int
store_events_for(const char *id, struct store_event **out, size_t *n)
{
	struct events	a = { NULL, 0, 0 };

	return (events_out(&a, store_sql_read("events", HOT_EVENTS_FOR,
	    row_event, &a, "s", id), out, n));
}

/* Frees an array of N events. */
void
store_events_free(struct store_event *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(e[i].delivery);
		free(e[i].channel);
		free(e[i].event);
		free(e[i].detail);
	}
	free(e);
}

/*
 * Makes commits wait for the OS only (synchronous=NORMAL) or for the disk
 * (FULL, the default). In WAL mode NORMAL still syncs around checkpoints,
 * so a power cut can lose only the latest relaxed commits, never what a
 * FULL commit wrote; the WAL is written in order, so a later FULL commit
 * makes the relaxed ones before it durable as well.
 */
int
store_relaxed(bool relaxed)
{
	if (!store_sql_is_open())
		return (-1);
	return (store_sql_exec(relaxed ? "PRAGMA synchronous=NORMAL" :
	    "PRAGMA synchronous=FULL"));
}
