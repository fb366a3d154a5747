/* Durable state in SQLite: a versioned schema, deliveries and their event log. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "store.h"
#include "log.h"
#include "when.h"

static sqlite3	*db;
static int	 batch;		/* a store_begin() batch is open */
static void	(*event_hook)(void);
static char	 db_path[4096];

#define CAUSE_SLOTS	16
#define CAUSE_QUIET_MS	60000	/* one log line per cause per minute */

/* A kind of failure (SQLite's extended code and the OS errno) and its log rate. */
struct cause {
	int	 code;
	int	 os;
	int64_t	 logged;	/* when it was last logged, ms */
	long	 quiet;		/* failures not logged since */
};

static char		 problem[768];	/* the current storage problem, "" if none */
static uint64_t		 nfailures;
static struct cause	 causes[CAUSE_SLOTS];

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
};

#define NMIGRATIONS	(sizeof(migrations) / sizeof(migrations[0]))

#define DELIVERY_COLS	"id, channel, state, due, calendar, uid, recurrence_id, " \
			"summary, text, attempts, last_error, remote_id, " \
			"remote_url, next_attempt, sent_at, created, updated, cal_state, " \
			"hold_reason, cal_fp"

/* The OS reason behind SQLite's last error, or NULL when it is not about the OS. */
static const char *
os_reason(int *os)
{
	int	primary = sqlite3_extended_errcode(db) & 0xff;

	*os = 0;
	if (primary != SQLITE_FULL && primary != SQLITE_IOERR &&
	    primary != SQLITE_CANTOPEN && primary != SQLITE_READONLY &&
	    primary != SQLITE_PERM && primary != SQLITE_AUTH)
		return (NULL);
	if ((*os = sqlite3_system_errno(db)) == 0 && primary == SQLITE_FULL)
		*os = ENOSPC;	/* SQLite keeps no errno for a short write */
	if (*os == 0)
		return (NULL);
	return (strerror(*os));
}

/*
 * Records a failed database operation as the current storage problem and
 * logs it, at most once a minute per cause (the rest are counted).
 */
static void __attribute__((format(printf, 1, 2)))
failed(const char *fmt, ...)
{
	va_list		 ap;
	char		 what[512];
	const char	*why;
	struct cause	*c = NULL;
	int64_t		 now = when_now();
	int		 code = db ? sqlite3_extended_errcode(db) : 0, os = 0;
	size_t		 i, oldest = 0;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	why = db ? os_reason(&os) : NULL;
	snprintf(problem, sizeof(problem), "%s: %s%s%s%s", db_path, what,
	    why ? " (" : "", why ? why : "", why ? ")" : "");
	nfailures++;
	for (i = 0; i < CAUSE_SLOTS; i++) {
		if (causes[i].logged != 0 && causes[i].code == code &&
		    causes[i].os == os) {
			c = &causes[i];
			break;
		}
		if (causes[i].logged < causes[oldest].logged)
			oldest = i;
	}
	if (c != NULL && now - c->logged < CAUSE_QUIET_MS) {
		c->quiet++;
		return;
	}
	if (c == NULL) {
		c = &causes[oldest];
		memset(c, 0, sizeof(*c));
		c->code = code;
		c->os = os;
	}
	if (c->quiet > 0)
		log_errx("store: %s (and %ld more failures like it in the last "
		    "minute)", problem, c->quiet);
	else
		log_errx("store: %s", problem);
	c->logged = now;
	c->quiet = 0;
}

/* A write was committed: the storage works (again). */
static void
wrote(void)
{
	if (problem[0] == '\0' || batch || !sqlite3_get_autocommit(db))
		return;
	log_info("store: %s: writing works again", db_path);
	problem[0] = '\0';
	memset(causes, 0, sizeof(causes));
}

/* The current storage problem (path, what failed and the OS reason), or NULL. */
const char *
store_problem(void)
{
	return (problem[0] ? problem : NULL);
}

/* How many database operations have failed since the start. */
uint64_t
store_failures(void)
{
	return (nfailures);
}

/* Runs SQL with no result rows; logs and returns -1 on error. */
static int
exec(const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		failed("%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return (-1);
	}
	return (0);
}

/* Opens a unit of work: its own transaction, or a savepoint inside a batch. */
static int
tx_begin(void)
{
	return (exec(batch ? "SAVEPOINT unit" : "BEGIN IMMEDIATE"));
}

/* Commits the unit of work. */
static int
tx_commit(void)
{
	if (exec(batch ? "RELEASE unit" : "COMMIT") == -1)
		return (-1);
	wrote();
	return (0);
}

/* Abandons the unit of work (only it, inside a batch). */
static void
tx_rollback(void)
{
	if (sqlite3_get_autocommit(db))
		return;		/* SQLite rolled it back already (a full disk...) */
	if (batch) {
		exec("ROLLBACK TO unit");
		exec("RELEASE unit");
	} else
		exec("ROLLBACK");
}

/* Starts a batch: every change until store_commit() is one transaction. */
int
store_begin(void)
{
	if (batch || exec("BEGIN IMMEDIATE") == -1)
		return (-1);
	batch = 1;
	return (0);
}

/* Commits the batch. */
int
store_commit(void)
{
	if (!batch)
		return (-1);
	batch = 0;
	if (exec("COMMIT") == -1) {
		if (!sqlite3_get_autocommit(db))
			exec("ROLLBACK");
		return (-1);
	}
	wrote();
	return (0);
}

/* Abandons the whole batch. */
void
store_rollback(void)
{
	if (!batch)
		return;
	batch = 0;
	if (!sqlite3_get_autocommit(db))
		exec("ROLLBACK");
}

/* Prepares SQL, logging failures. */
static sqlite3_stmt *
prepare(const char *sql)
{
	sqlite3_stmt	*st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		failed("prepare: %s", sqlite3_errmsg(db));
		return (NULL);
	}
	return (st);
}

/* Binds S as text at I, or NULL. */
static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* A copy of column I as a string, or NULL. */
static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char	*s = sqlite3_column_text(st, i);
	char			*p;

	if (s == NULL)
		return (NULL);
	if ((p = strdup((const char *)s)) == NULL)
		abort();
	return (p);
}

/* Fills ERR with what went wrong opening PATH: SQLite's message and the OS reason. */
static void
open_error(const char *path, const char *what, char *err, size_t errlen)
{
	const char	*why = NULL;
	int		 os = 0;

	if (db != NULL)
		why = os_reason(&os);
	snprintf(err, errlen, "%s: %s%s%s%s%s", path, what ? what : "",
	    what ? ": " : "", db ? sqlite3_errmsg(db) : "cannot open",
	    why ? " (" : "", why ? why : "");
	if (why != NULL)
		strncat(err, ")", errlen - strlen(err) - 1);
}

/* Runs PRAGMA quick_check on the open database; -1 with ERR filled if it is damaged. */
static int
quick_check(const char *path, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	const char	*row;
	char		 first[256] = "";
	int		 rc, bad = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(20)", -1, &st, NULL)
	    != SQLITE_OK) {
		open_error(path, "integrity check", err, errlen);
		return (-1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row = (const char *)sqlite3_column_text(st, 0);
		if (row != NULL && strcmp(row, "ok") != 0 && bad++ == 0)
			snprintf(first, sizeof(first), "%s", row);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		open_error(path, "integrity check", err, errlen);
		return (-1);
	}
	if (bad == 0)
		return (0);
	snprintf(err, errlen, "%s: integrity check failed (%d problem%s; first: "
	    "%s)", path, bad, bad > 1 ? "s" : "", first);
	return (-1);
}

/* Opens the database under DIR and brings its schema up to date. */
int
store_open(const char *dir, char *err, size_t errlen)
{
	static const char hint[] = "; crierd will not run on a damaged "
	    "database. To recover: stop crierd, keep a copy of crier.db, "
	    "crier.db-wal and crier.db-shm together (the WAL holds the latest "
	    "commits), try `sqlite3 crier.db .recover`, or restore a backup";
	sqlite3_stmt	*st;
	char		*path = db_path;
	int		 version, rc;
	size_t		 v;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		return (-1);
	}
	snprintf(db_path, sizeof(db_path), "%s/crier.db", dir);
	problem[0] = '\0';
	/* NOFOLLOW: a symlink planted in the state dir is refused, not written through. */
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		open_error(path, NULL, err, errlen);
		goto fail;
	}
	if (sqlite3_db_readonly(db, "main") == 1) {
		/* SQLite falls back to read-only quietly: say why it had to. */
		struct stat	sb;
		int		e = access(path, W_OK) == -1 ? errno : EROFS;

		if (stat(path, &sb) == 0)
			snprintf(err, errlen, "%s: crierd (uid %d) cannot write it "
			    "(%s; owner uid %d, mode %04o)", path, (int)geteuid(),
			    strerror(e), (int)sb.st_uid,
			    (unsigned)(sb.st_mode & 07777));
		else
			snprintf(err, errlen, "%s: cannot write it: %s", path,
			    strerror(e));
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	/* WAL + synchronous=FULL: a commit is on disk before we answer OK. */
	if (exec("PRAGMA journal_mode=WAL") == -1 ||
	    exec("PRAGMA synchronous=FULL") == -1 ||
	    exec("PRAGMA foreign_keys=ON") == -1) {
		open_error(path, NULL, err, errlen);
		if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CORRUPT ||
		    (sqlite3_extended_errcode(db) & 0xff) == SQLITE_NOTADB)
			strncat(err, hint, errlen - strlen(err) - 1);
		goto fail;
	}
	if (quick_check(path, err, errlen) == -1) {
		strncat(err, hint, errlen - strlen(err) - 1);
		goto fail;
	}
	if ((st = prepare("PRAGMA user_version")) == NULL ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		open_error(path, NULL, err, errlen);
		goto fail;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > (int)NMIGRATIONS) {
		snprintf(err, errlen, "%s: schema version %d is newer than this "
		    "crierd knows (%zu)", path, version, NMIGRATIONS);
		goto fail;
	}
	for (v = (size_t)version; v < NMIGRATIONS; v++) {
		char	sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version=%zu", v + 1);
		if (exec("BEGIN IMMEDIATE") == -1 || exec(migrations[v]) == -1 ||
		    exec(sql) == -1 || exec("COMMIT") == -1) {
			open_error(path, "migration failed", err, errlen);
			exec("ROLLBACK");
			goto fail;
		}
		log_info("store: %s migrated to schema %zu", path, v + 1);
	}
	problem[0] = '\0';
	return (0);
fail:
	sqlite3_close(db);
	db = NULL;
	return (-1);
}

/* Closes the database (checkpointing the WAL). */
void
store_close(void)
{
	if (db == NULL)
		return;
	sqlite3_close(db);
	db = NULL;
}

/* Appends an event row; part of the caller's transaction if one is open. */
int
store_log(const char *delivery, const char *channel, int actor,
    const char *event, const char *detail)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = prepare("INSERT INTO events (at, delivery, channel, event, detail, "
	    "actor) VALUES (?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, when_now());
	bind_text(st, 2, delivery);
	bind_text(st, 3, channel);
	bind_text(st, 4, event);
	bind_text(st, 5, detail);
	sqlite3_bind_int(st, 6, actor);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("event: %s", sqlite3_errmsg(db));
		return (-1);
	}
	wrote();
	if (event_hook != NULL)
		event_hook();
	return (0);
}

/* Calls FN after each event row is written. */
void
store_set_event_hook(void (*fn)(void))
{
	event_hook = fn;
}

/* Inserts a new delivery and its first event in one transaction. */
int
store_insert(const struct delivery *d, int actor, const char *event)
{
	sqlite3_stmt	*st = NULL;
	int64_t		 now = when_now();
	int		 rc;

	if (tx_begin() == -1)
		return (-1);
	st = prepare("INSERT INTO deliveries (id, channel, state, due, calendar, "
	    "uid, recurrence_id, summary, text, created, updated, cal_state, "
	    "last_error, hold_reason, cal_fp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		goto fail;
	bind_text(st, 1, d->id);
	bind_text(st, 2, d->channel);
	bind_text(st, 3, dstate_names[d->state]);
	sqlite3_bind_int64(st, 4, d->due);
	bind_text(st, 5, d->calendar);
	bind_text(st, 6, d->uid);
	bind_text(st, 7, d->recurrence_id);
	bind_text(st, 8, d->summary);
	bind_text(st, 9, d->text ? d->text : "");
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, now);
	bind_text(st, 12, store_cal_state_name(d->cal_state));
	bind_text(st, 13, d->last_error);
	bind_text(st, 14, d->state == DS_HELD ? d->hold_reason : NULL);
	bind_text(st, 15, d->cal_fp);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_CONSTRAINT) {
		tx_rollback();
		return (1);
	}
	if (rc != SQLITE_DONE) {
		failed("insert %s: %s", d->id, sqlite3_errmsg(db));
		goto fail;
	}
	if (store_log(d->id, d->channel, actor, event, dstate_names[d->state]) == -1 ||
	    tx_commit() == -1)
		goto fail;
	return (0);
fail:
	tx_rollback();
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
	d->channel = col_text(st, 1);
	s = dstate_from_name((const char *)sqlite3_column_text(st, 2));
	d->state = s < 0 ? DS_FAILED : (enum dstate)s;
	d->due = sqlite3_column_int64(st, 3);
	d->calendar = col_text(st, 4);
	d->uid = col_text(st, 5);
	d->recurrence_id = col_text(st, 6);
	d->summary = col_text(st, 7);
	d->text = col_text(st, 8);
	d->attempts = sqlite3_column_int(st, 9);
	d->last_error = col_text(st, 10);
	d->remote_id = col_text(st, 11);
	d->remote_url = col_text(st, 12);
	d->next_attempt = sqlite3_column_int64(st, 13);
	d->sent_at = sqlite3_column_int64(st, 14);
	d->created = sqlite3_column_int64(st, 15);
	d->updated = sqlite3_column_int64(st, 16);
	d->cal_state = store_cal_state_parse(
	    (const char *)sqlite3_column_text(st, 17));
	d->hold_reason = col_text(st, 18);
	d->cal_fp = col_text(st, 19);
}

/* Loads delivery ID. */
int
store_get(const char *id, struct delivery *d)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("SELECT " DELIVERY_COLS " FROM deliveries WHERE id = ?"))
	    == NULL)
		return (-1);
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_delivery(st, d);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? 1 : -1);
}

/* Resolves an id prefix (hex digits only) to one full id. */
int
store_resolve(const char *prefix, char id[DELIVERY_ID_LEN + 1])
{
	sqlite3_stmt	*st;
	char		 hi[DELIVERY_ID_LEN + 2];
	size_t		 len = strlen(prefix), i;
	int		 rc, found = 0;

	if (len == 0 || len > DELIVERY_ID_LEN)
		return (1);
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdef", prefix[i]) == NULL)
			return (1);
	/* A range scan on the primary key: [prefix, prefix + "g"). */
	snprintf(hi, sizeof(hi), "%sg", prefix);
	if ((st = prepare("SELECT id FROM deliveries WHERE id >= ? AND id < ? "
	    "LIMIT 2")) == NULL)
		return (-1);
	bind_text(st, 1, prefix);
	bind_text(st, 2, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (found++ == 0)
			snprintf(id, DELIVERY_ID_LEN + 1, "%s",
			    (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (-1);
	return (found == 0 ? 1 : found == 1 ? 0 : 2);
}

/* Moves ID from a state in FROM_MASK to TO with U applied, and logs it. */
int
store_transition(const char *id, unsigned from_mask, enum dstate to,
    const struct store_update *u, int actor, const char *event,
    const char *detail, enum dstate *cur)
{
	static const struct store_update none;
	sqlite3_stmt	*st = NULL;
	const char	*s;
	char		*channel = NULL;
	int		 rc, state;

	if (u == NULL)
		u = &none;
	if (tx_begin() == -1)
		return (-1);
	if ((st = prepare("SELECT state, channel FROM deliveries WHERE id = ?"))
	    == NULL)
		goto fail;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		tx_rollback();
		return (2);
	}
	if (rc != SQLITE_ROW)
		goto fail;
	s = (const char *)sqlite3_column_text(st, 0);
	state = dstate_from_name(s ? s : "");
	channel = col_text(st, 1);
	sqlite3_finalize(st);
	st = NULL;
	if (state < 0 || (from_mask & (1u << state)) == 0) {
		if (cur != NULL)
			*cur = state < 0 ? DS_FAILED : (enum dstate)state;
		free(channel);
		tx_rollback();
		return (1);
	}
	st = prepare("UPDATE deliveries SET state = ?, updated = ?,"
	    " due = CASE WHEN ?3 > 0 THEN ?3 ELSE due END,"
	    " attempts = CASE WHEN ?12 THEN 0 ELSE attempts END + ?4,"
	    " hold_reason = CASE WHEN ?1 = 'held' THEN ?11 ELSE NULL END,"
	    " last_error = CASE WHEN ?5 IS NULL THEN last_error"
	    "   WHEN ?5 = '' THEN NULL ELSE ?5 END,"
	    " remote_id = COALESCE(?6, remote_id),"
	    " remote_url = COALESCE(?7, remote_url),"
	    " sent_at = CASE WHEN ?8 > 0 THEN ?8 ELSE sent_at END,"
	    " next_attempt = ?9"
	    " WHERE id = ?10");
	if (st == NULL)
		goto fail;
	bind_text(st, 1, dstate_names[to]);
	sqlite3_bind_int64(st, 2, when_now());
	sqlite3_bind_int64(st, 3, u->due);
	sqlite3_bind_int(st, 4, u->attempt ? 1 : 0);
	bind_text(st, 5, u->last_error);
	bind_text(st, 6, u->remote_id);
	bind_text(st, 7, u->remote_url);
	sqlite3_bind_int64(st, 8, u->sent_at);
	sqlite3_bind_int64(st, 9, u->next_attempt);
	bind_text(st, 10, id);
	bind_text(st, 11, u->hold_reason);
	sqlite3_bind_int(st, 12, u->reset_attempts ? 1 : 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (store_log(id, channel, actor, event, detail) == -1 ||
	    tx_commit() == -1)
		goto fail;
	free(channel);
	return (0);
fail:
	failed("transition %s: %s", id, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	free(channel);
	tx_rollback();
	return (-1);
}

static int	collect(sqlite3_stmt *, struct delivery **, size_t *);

/* Rewrites what the calendar decides of a delivery that has not gone out. */
int
store_set_content(const char *id, int64_t due, const char *summary,
    const char *text, enum cal_state cal_state, const char *last_error)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = prepare("UPDATE deliveries SET due = ?, summary = ?, text = ?,"
	    " cal_state = ?, last_error = ?, updated = ? WHERE id = ?");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, due);
	bind_text(st, 2, summary);
	bind_text(st, 3, text ? text : "");
	bind_text(st, 4, store_cal_state_name(cal_state));
	bind_text(st, 5, last_error);
	sqlite3_bind_int64(st, 6, when_now());
	bind_text(st, 7, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("update %s: %s", id, sqlite3_errmsg(db));
		return (-1);
	}
	wrote();
	return (0);
}

/* Every delivery of calendar NAME, ordered by due. */
int
store_list_calendar(const char *name, struct delivery **out, size_t *n)
{
	sqlite3_stmt	*st;

	st = prepare("SELECT " DELIVERY_COLS " FROM deliveries WHERE calendar = ?"
	    " ORDER BY due, id");
	if (st == NULL)
		return (-1);
	bind_text(st, 1, name);
	return (collect(st, out, n));
}

/* Collects every row of ST into a malloc'd array. */
static int
collect(sqlite3_stmt *st, struct delivery **out, size_t *n)
{
	struct delivery	*arr = NULL, *na;
	size_t		 cap = 0, cnt = 0;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((na = reallocarray(arr, cap, sizeof(*arr))) == NULL)
				abort();
			arr = na;
		}
		row_to_delivery(st, &arr[cnt++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("query: %s", sqlite3_errmsg(db));
		store_deliveries_free(arr, cnt);
		return (-1);
	}
	*out = arr;
	*n = cnt;
	return (0);
}

/* Lists deliveries matching F, ordered by due then id. */
int
store_list(const struct store_filter *f, struct delivery **out, size_t *n)
{
	sqlite3_stmt	*st;

	st = prepare("SELECT " DELIVERY_COLS " FROM deliveries"
	    " WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR channel = ?2)"
	    " AND (?3 = 0 OR due >= ?3) AND (?4 = 0 OR due < ?4)"
	    " ORDER BY due, channel, id LIMIT ?5");
	if (st == NULL)
		return (-1);
	bind_text(st, 1, f->state >= 0 ? dstate_names[f->state] : NULL);
	bind_text(st, 2, f->channel);
	sqlite3_bind_int64(st, 3, f->from);
	sqlite3_bind_int64(st, 4, f->to);
	sqlite3_bind_int64(st, 5, f->limit ? (int64_t)f->limit : -1);
	return (collect(st, out, n));
}

/* Deliveries ready to go at NOW. */
int
store_due(int64_t now, size_t max, struct delivery **out, size_t *n)
{
	sqlite3_stmt	*st;

	st = prepare("SELECT " DELIVERY_COLS " FROM deliveries"
	    " WHERE (state = 'scheduled' AND due <= ?1)"
	    " OR (state = 'retrying' AND next_attempt <= ?1)"
	    " ORDER BY due, id LIMIT ?2");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	return (collect(st, out, n));
}

/* The earliest instant a delivery becomes ready. */
int
store_next_wakeup(int64_t *ms)
{
	sqlite3_stmt	*st;
	int		 rc, ret = 1;

	st = prepare("SELECT MIN(t) FROM ("
	    " SELECT MIN(due) AS t FROM deliveries WHERE state = 'scheduled'"
	    " UNION ALL"
	    " SELECT MIN(next_attempt) FROM deliveries WHERE state = 'retrying')");
	if (st == NULL)
		return (-1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*ms = sqlite3_column_int64(st, 0);
		ret = 0;
	} else if (rc != SQLITE_ROW)
		ret = -1;
	sqlite3_finalize(st);
	return (ret);
}

/* Ready deliveries of CHANNEL, or of no channel among NOT_IN. */
int
store_due_for(const char *channel, const char *not_in, int64_t now,
    size_t max, struct delivery **out, size_t *n)
{
	sqlite3_stmt	*st;

	st = prepare("SELECT " DELIVERY_COLS " FROM deliveries"
	    " WHERE ((state = 'scheduled' AND due <= ?1)"
	    " OR (state = 'retrying' AND next_attempt <= ?1))"
	    " AND (?3 IS NULL OR channel = ?3)"
	    " AND (?4 IS NULL OR channel NOT IN (SELECT value FROM json_each(?4)))"
	    " ORDER BY due, id LIMIT ?2");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	bind_text(st, 3, channel);
	bind_text(st, 4, channel == NULL ? (not_in ? not_in : "[]") : NULL);
	return (collect(st, out, n));
}

/* The earliest instant a delivery of CHANNEL (or of none in NOT_IN) is ready. */
int
store_next_wakeup_for(const char *channel, const char *not_in, int64_t *ms)
{
	sqlite3_stmt	*st;
	int		 rc, ret = 1;

	st = prepare("SELECT MIN(CASE state WHEN 'scheduled' THEN due"
	    " ELSE next_attempt END) FROM deliveries"
	    " WHERE state IN ('scheduled', 'retrying')"
	    " AND (?1 IS NULL OR channel = ?1)"
	    " AND (?2 IS NULL OR channel NOT IN (SELECT value FROM json_each(?2)))");
	if (st == NULL)
		return (-1);
	bind_text(st, 1, channel);
	bind_text(st, 2, channel == NULL ? (not_in ? not_in : "[]") : NULL);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*ms = sqlite3_column_int64(st, 0);
		ret = 0;
	} else if (rc != SQLITE_ROW)
		ret = -1;
	sqlite3_finalize(st);
	return (ret);
}

/* Loads channel NAME's durable state. */
int
store_channel_get(const char *name, struct store_channel *sc)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(sc, 0, sizeof(*sc));
	if ((st = prepare("SELECT paused, reason, last_error, tokens, tokens_at"
	    " FROM channels WHERE name = ?")) == NULL)
		return (-1);
	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sc->paused = sqlite3_column_int(st, 0) != 0;
		sc->reason = col_text(st, 1);
		sc->last_error = col_text(st, 2);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		    sqlite3_column_type(st, 4) != SQLITE_NULL) {
			sc->has_tokens = true;
			sc->tokens = sqlite3_column_double(st, 3);
			sc->tokens_at = sqlite3_column_int64(st, 4);
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? 1 : -1);
}

/* Saves channel NAME's durable state. */
int
store_channel_put(const char *name, const struct store_channel *sc)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("INSERT INTO channels (name, paused, reason, last_error,"
	    " tokens, tokens_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT(name) DO UPDATE SET paused = ?2, reason = ?3,"
	    " last_error = ?4, tokens = ?5, tokens_at = ?6")) == NULL)
		return (-1);
	bind_text(st, 1, name);
	sqlite3_bind_int(st, 2, sc->paused ? 1 : 0);
	bind_text(st, 3, sc->reason);
	bind_text(st, 4, sc->last_error);
	if (sc->has_tokens) {
		sqlite3_bind_double(st, 5, sc->tokens);
		sqlite3_bind_int64(st, 6, sc->tokens_at);
	} else {
		sqlite3_bind_null(st, 5);
		sqlite3_bind_null(st, 6);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("channel %s: %s", name, sqlite3_errmsg(db));
		return (-1);
	}
	wrote();
	return (0);
}

/* Frees what SC owns. */
void
store_channel_clear(struct store_channel *sc)
{
	free(sc->reason);
	free(sc->last_error);
	memset(sc, 0, sizeof(*sc));
}

/* Counts deliveries per state. */
int
store_counts(int64_t counts[DS_NSTATES])
{
	sqlite3_stmt	*st;
	int		 rc, s;

	memset(counts, 0, sizeof(int64_t) * DS_NSTATES);
	if ((st = prepare("SELECT state, COUNT(*) FROM deliveries GROUP BY state"))
	    == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = dstate_from_name((const char *)sqlite3_column_text(st, 0));
		if (s >= 0)
			counts[s] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Collects the event rows of ST into a malloc'd array. */
static int
collect_events(sqlite3_stmt *st, struct store_event **out, size_t *n)
{
	struct store_event	*arr = NULL, *na;
	size_t			 cap = 0, cnt = 0;
	int			 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			if ((na = reallocarray(arr, cap, sizeof(*arr))) == NULL)
				abort();
			arr = na;
		}
		arr[cnt].seq = sqlite3_column_int64(st, 0);
		arr[cnt].at = sqlite3_column_int64(st, 1);
		arr[cnt].delivery = col_text(st, 2);
		arr[cnt].channel = col_text(st, 3);
		arr[cnt].event = col_text(st, 4);
		arr[cnt].detail = col_text(st, 5);
		arr[cnt].actor = sqlite3_column_int(st, 6);
		cnt++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("events: %s", sqlite3_errmsg(db));
		store_events_free(arr, cnt);
		return (-1);
	}
	*out = arr;
	*n = cnt;
	return (0);
}

/* The LIMIT newest events after AFTER, oldest first. */
int
store_events(int64_t after, size_t limit, struct store_event **out, size_t *n)
{
	sqlite3_stmt	*st;

	st = prepare("SELECT seq, at, delivery, channel, event, detail, actor FROM"
	    " (SELECT * FROM events WHERE seq > ? ORDER BY seq DESC LIMIT ?)"
	    " ORDER BY seq");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
	return (collect_events(st, out, n));
}

/* Every event of delivery ID, oldest first. */
int
store_events_for(const char *id, struct store_event **out, size_t *n)
{
	sqlite3_stmt	*st;

	st = prepare("SELECT seq, at, delivery, channel, event, detail, actor"
	    " FROM events WHERE delivery = ? ORDER BY seq");
	if (st == NULL)
		return (-1);
	bind_text(st, 1, id);
	return (collect_events(st, out, n));
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

/* First 12 hex digits of SHA-256 over the NUL-separated identifying fields. */
void
store_delivery_id(const char *calendar, const char *uid,
    const char *recurrence_id, const char *channel, char id[DELIVERY_ID_LEN + 1])
{
	const char	*parts[4] = { calendar, uid, recurrence_id, channel };
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	EVP_MD_CTX	*ctx;
	int		 i;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (i = 0; i < 4; i++) {
		const char *s = parts[i] ? parts[i] : "";

		/* NUL separators: ("ab","c") and ("a","bc") must differ. */
		EVP_DigestUpdate(ctx, s, strlen(s) + 1);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < DELIVERY_ID_LEN / 2; i++)
		snprintf(id + i * 2, 3, "%02x", md[i]);
	id[DELIVERY_ID_LEN] = '\0';
}

/* Sets the media (JSON text, NULL: none) of delivery ID; no write if unchanged. */
int
store_set_media(const char *id, const char *media)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("UPDATE deliveries SET media = ?1 WHERE id = ?2 AND "
	    "media IS NOT ?1")) == NULL)
		return (-1);
	bind_text(st, 1, media);
	bind_text(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("media %s: %s", id, sqlite3_errmsg(db));
		return (-1);
	}
	wrote();
	return (0);
}

/* Loads the media of delivery ID into *MEDIA (malloc'd, NULL: none); 1 if no such delivery. */
int
store_get_media(const char *id, char **media)
{
	sqlite3_stmt	*st;
	int		 rc;

	*media = NULL;
	if ((st = prepare("SELECT media FROM deliveries WHERE id = ?")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*media = col_text(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? 1 : -1);
}

/* Sets the end (its occurrence's, as --check --json writes it) of delivery ID; no write if unchanged. */
int
store_set_end(const char *id, const char *end)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("UPDATE deliveries SET ends = ?1 WHERE id = ?2 AND "
	    "ends IS NOT ?1")) == NULL)
		return (-1);
	bind_text(st, 1, end);
	bind_text(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("store: end %s: %s", id, sqlite3_errmsg(db));
		return (-1);
	}
	return (0);
}

/* Loads the end of delivery ID into *END (malloc'd, NULL: none); 1 if no such delivery. */
int
store_get_end(const char *id, char **end)
{
	sqlite3_stmt	*st;
	int		 rc;

	*end = NULL;
	if ((st = prepare("SELECT ends FROM deliveries WHERE id = ?")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*end = col_text(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? 1 : -1);
}

/* Records recipient EMAIL (lower-cased) of delivery ID as R says. */
int
store_rcpt_put(const char *id, const struct store_rcpt *r)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("INSERT INTO recipients (delivery, email, name, state,"
	    " error, message_id, attempts, sent_at, updated)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	    " ON CONFLICT(delivery, email) DO UPDATE SET name = ?3, state = ?4,"
	    " error = ?5, message_id = coalesce(?6, message_id),"
	    " attempts = ?7, sent_at = ?8, updated = ?9")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	bind_text(st, 2, r->email);
	bind_text(st, 3, r->name);
	bind_text(st, 4, r->state);
	bind_text(st, 5, r->error);
	bind_text(st, 6, r->message_id);
	sqlite3_bind_int(st, 7, r->attempts);
	sqlite3_bind_int64(st, 8, r->sent_at);
	sqlite3_bind_int64(st, 9, when_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("recipient of %s: %s", id, sqlite3_errmsg(db));
		return (-1);
	}
	wrote();
	return (0);
}

/* Every recipient recorded for delivery ID, by email. */
int
store_rcpt_list(const char *id, struct store_rcpt **out, size_t *n)
{
	sqlite3_stmt		*st;
	struct store_rcpt	*v = NULL, *nv, *r;
	size_t			 cnt = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	if ((st = prepare("SELECT email, name, state, error, message_id,"
	    " attempts, sent_at, updated FROM recipients WHERE delivery = ?"
	    " ORDER BY email")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((nv = reallocarray(v, cnt + 1, sizeof(*v))) == NULL)
			abort();
		v = nv;
		r = &v[cnt++];
		r->email = col_text(st, 0);
		r->name = col_text(st, 1);
		r->state = col_text(st, 2);
		r->error = col_text(st, 3);
		r->message_id = col_text(st, 4);
		r->attempts = sqlite3_column_int(st, 5);
		r->sent_at = sqlite3_column_int64(st, 6);
		r->updated = sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_rcpts_free(v, cnt);
		return (-1);
	}
	*out = v;
	*n = cnt;
	return (0);
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
	sqlite3_stmt	*st;
	int		 rc;

	if (on)
		st = prepare("INSERT INTO suppressions (email, at, actor)"
		    " VALUES (?1, ?2, ?3) ON CONFLICT(email) DO NOTHING");
	else
		st = prepare("DELETE FROM suppressions WHERE email = ?1");
	if (st == NULL)
		return (-1);
	bind_text(st, 1, email);
	if (on) {
		sqlite3_bind_int64(st, 2, when_now());
		sqlite3_bind_int(st, 3, actor);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("suppressions: %s", sqlite3_errmsg(db));
		return (-1);
	}
	wrote();
	return (sqlite3_changes(db) > 0 ? 0 : 1);
}

/* 1 if EMAIL (lower-cased) is suppressed, 0 if not, -1 on error. */
int
store_suppressed(const char *email)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("SELECT 1 FROM suppressions WHERE email = ?")) == NULL)
		return (-1);
	bind_text(st, 1, email);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return (1);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Keeps the template name and render context (JSON) of email delivery ID. */
int
store_email_ctx_put(const char *id, const char *template, const char *context)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("INSERT INTO email_contexts (delivery, template,"
	    " context, updated) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT(delivery) DO UPDATE SET template = ?2, context = ?3,"
	    " updated = ?4")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	bind_text(st, 2, template);
	bind_text(st, 3, context);
	sqlite3_bind_int64(st, 4, when_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		failed("email context of %s: %s", id,
		    sqlite3_errmsg(db));
		return (-1);
	}
	wrote();
	return (0);
}

/* Loads what store_email_ctx_put kept for ID (malloc'd); 1 if nothing. */
int
store_email_ctx_get(const char *id, char **template, char **context)
{
	sqlite3_stmt	*st;
	int		 rc;

	*template = *context = NULL;
	if ((st = prepare("SELECT template, context FROM email_contexts"
	    " WHERE delivery = ?")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*template = col_text(st, 0);
		*context = col_text(st, 1);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? 1 : -1);
}

/* Records where the calendar's version of delivery ID stands (see campaign.c). */
int
store_set_cal_fp(const char *id, const char *fp)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("UPDATE deliveries SET cal_fp = ? WHERE id = ?")) == NULL)
		return (-1);
	bind_text(st, 1, fp);
	bind_text(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Records the operator's decision VERB (of KIND) on delivery ID, with the calendar's version it was made on. */
int
store_override_put(const char *id, const char *kind, const char *verb,
    int64_t due, int actor)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("INSERT INTO overrides (delivery, kind, verb, due,"
	    " cal_fp, at, actor) SELECT id, ?2, ?3, ?4, cal_fp, ?5, ?6"
	    " FROM deliveries WHERE id = ?1 AND calendar IS NOT NULL"
	    " ON CONFLICT(delivery, kind) DO UPDATE SET verb = ?3, due = ?4,"
	    " cal_fp = excluded.cal_fp, at = ?5, actor = ?6")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	bind_text(st, 2, kind);
	bind_text(st, 3, verb);
	sqlite3_bind_int64(st, 4, due);
	sqlite3_bind_int64(st, 5, when_now());
	sqlite3_bind_int(st, 6, actor);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("store: override of %s: %s", id, sqlite3_errmsg(db));
		return (-1);
	}
	return (0);
}

/* Loads the override of KIND on delivery ID into O (free with store_override_clear); 1 if none. */
int
store_override_get(const char *id, const char *kind, struct store_override *o)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(o, 0, sizeof(*o));
	if ((st = prepare("SELECT verb, due, cal_fp, at, actor FROM overrides"
	    " WHERE delivery = ? AND kind = ?")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	bind_text(st, 2, kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		o->verb = col_text(st, 0);
		o->due = sqlite3_column_int64(st, 1);
		o->cal_fp = col_text(st, 2);
		o->at = sqlite3_column_int64(st, 3);
		o->actor = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? 1 : -1);
}

/* Overrides of ID without a calendar version take the delivery's current one. */
int
store_override_adopt(const char *id)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("UPDATE overrides SET cal_fp = (SELECT cal_fp FROM"
	    " deliveries WHERE id = ?1) WHERE delivery = ?1 AND cal_fp IS NULL"))
	    == NULL)
		return (-1);
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Forgets the override of KIND (NULL: every kind) on delivery ID. */
int
store_override_drop(const char *id, const char *kind)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = prepare("DELETE FROM overrides WHERE delivery = ?1 AND"
	    " (?2 IS NULL OR kind = ?2)")) == NULL)
		return (-1);
	bind_text(st, 1, id);
	bind_text(st, 2, kind);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Frees what O owns. */
void
store_override_clear(struct store_override *o)
{
	free(o->verb);
	free(o->cal_fp);
	memset(o, 0, sizeof(*o));
}

/* Every delivery of the occurrence (CALENDAR, UID, RECURRENCE_ID), by channel. */
int
store_list_occurrence(const char *calendar, const char *uid,
    const char *recurrence_id, struct delivery **out, size_t *n)
{
	sqlite3_stmt	*st;

	st = prepare("SELECT " DELIVERY_COLS " FROM deliveries"
	    " WHERE calendar IS ?1 AND uid IS ?2 AND recurrence_id IS ?3"
	    " ORDER BY channel, id");
	if (st == NULL)
		return (-1);
	bind_text(st, 1, calendar);
	bind_text(st, 2, uid);
	bind_text(st, 3, recurrence_id);
	return (collect(st, out, n));
}

/* The suppression list, by address; free with store_suppressions_free. */
int
store_suppressions(struct store_suppression **out, size_t *n)
{
	struct store_suppression	*arr = NULL, *na;
	sqlite3_stmt			*st;
	size_t				 cap = 0, cnt = 0;
	int				 rc;

	if ((st = prepare("SELECT email, at, actor FROM suppressions"
	    " ORDER BY email")) == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((na = reallocarray(arr, cap, sizeof(*arr))) == NULL)
				abort();
			arr = na;
		}
		arr[cnt].email = col_text(st, 0);
		arr[cnt].at = sqlite3_column_int64(st, 1);
		arr[cnt].actor = sqlite3_column_int(st, 2);
		cnt++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_suppressions_free(arr, cnt);
		return (-1);
	}
	*out = arr;
	*n = cnt;
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
	if (db == NULL)
		return (-1);
	return (exec(relaxed ? "PRAGMA synchronous=NORMAL" :
	    "PRAGMA synchronous=FULL"));
}
