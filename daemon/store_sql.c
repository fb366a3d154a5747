/* The SQLite handle under the store: statements, transactions, failures. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_sql.h"
#include "store_ckpt.h"
#include "log.h"
#include "when.h"
#include "../common/util.h"

#define CAUSE_SLOTS	16
#define CAUSE_QUIET_MS	60000	/* one log line per cause per minute */
#define STMT_SLOTS	512	/* prepared statements kept, by SQL text */
#define STMT_PROBE	16	/* slots looked at for one */
#define WAL_CKPT_PAGES	1000	/* SQLite's default auto-checkpoint */
#define WAL_CKPT_MAX_PAGES 4000 /* at once, in the commit: the WAL stays bounded */
#define STMT_SPILL	(128 * 1024)	/* savepoint journal in memory */

/* A kind of failure (SQLite's extended code and the OS errno) and its log rate. */
struct cause {
	int	 code;
	int	 os;
	int64_t	 logged;	/* when it was last logged, ms */
	long	 quiet;		/* failures not logged since */
};

static sqlite3		*db;
static int		 batch;		/* a store_begin() batch is open */
static char		 db_path[4096];
static char		 problem[768];	/* the current storage problem, "" if none */
static uint64_t		 nfailures;
static struct cause	 causes[CAUSE_SLOTS];
static uint64_t		 ncommits;	/* write transactions committed */
static uint64_t		 nframes;	/* WAL frames they wrote */
static uint64_t		 nprepared;	/* statements prepared */
static int		 wal_last;	/* frames in the WAL after the last commit */
static int		 ckpt_due;	/* the WAL should be checkpointed */

/* A prepared statement kept for its SQL text (the text is the caller's literal). */
struct stmt_slot {
	const char	*sql;
	sqlite3_stmt	*st;
};
static struct stmt_slot	 stmts[STMT_SLOTS];

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
void
store_sql_failed(const char *fmt, ...)
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
void
store_sql_wrote(void)
{
	if (problem[0] == '\0' || batch || !sqlite3_get_autocommit(db))
		return;
	log_info("store: %s: writing works again", db_path);
	problem[0] = '\0';
	memset(causes, 0, sizeof(causes));
}

/* The current storage problem (path, what failed and the OS reason), or NULL. */
const char *
store_sql_problem(void)
{
	return (problem[0] ? problem : NULL);
}

/* How many database operations have failed since the start. */
uint64_t
store_sql_failures(void)
{
	return (nfailures);
}

/* Runs SQL with no result rows; logs and returns -1 on error. */
int
store_sql_exec(const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_sql_failed("%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return (-1);
	}
	return (0);
}

static sqlite3_stmt	*stmt_get(const char *);
static void		 ckpt_here(void);
static void		 stmt_put(const char *, sqlite3_stmt *);

/*
 * Runs the transaction statement SQL (a literal) kept prepared: a batch
 * opens and releases a savepoint per unit, thousands a second, and
 * parsing them each time showed in profiles.
 */
static int
tx_exec(const char *sql)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = stmt_get(sql)) == NULL)
		return (-1);
	rc = sqlite3_step(st);
	stmt_put(sql, st);
	if (rc != SQLITE_DONE) {
		store_sql_failed("%s", sqlite3_errmsg(db));
		return (-1);
	}
	return (0);
}

/* Opens a unit of work: its own transaction, or a savepoint inside a batch. */
int
store_sql_tx_begin(void)
{
	return (tx_exec(batch ? "SAVEPOINT unit" : "BEGIN IMMEDIATE"));
}

/* Commits the unit of work. */
int
store_sql_tx_commit(void)
{
	if (batch) {
		if (tx_exec("RELEASE unit") == -1)
			return (-1);
		store_qcount_unit_keep();
		store_sql_wrote();
		return (0);
	}
	if (store_qcount_unit_write() == -1 || tx_exec("COMMIT") == -1)
		return (-1);
	store_sql_wrote();
	return (0);
}

/* Abandons the unit of work (only it, inside a batch). */
void
store_sql_tx_rollback(void)
{
	store_qcount_unit_drop();
	if (sqlite3_get_autocommit(db))
		return;		/* SQLite rolled it back already (a full disk...) */
	if (batch) {
		tx_exec("ROLLBACK TO unit");
		tx_exec("RELEASE unit");
	} else
		tx_exec("ROLLBACK");
}

/* True while a transaction is open (SQLite may have rolled it back itself). */
int
store_sql_tx_open(void)
{
	return (db != NULL && !sqlite3_get_autocommit(db));
}

/* Starts a batch: every change until store_sql_batch_commit() is one transaction. */
int
store_sql_batch_begin(void)
{
	if (batch || tx_exec("BEGIN IMMEDIATE") == -1)
		return (-1);
	batch = 1;
	return (0);
}

/* Commits the batch. */
int
store_sql_batch_commit(void)
{
	if (!batch)
		return (-1);
	batch = 0;
	if (store_qcount_batch_write() == -1 || tx_exec("COMMIT") == -1) {
		store_qcount_batch_drop();
		if (!sqlite3_get_autocommit(db))
			tx_exec("ROLLBACK");
		return (-1);
	}
	store_sql_wrote();
	return (0);
}

/* Abandons the whole batch. */
void
store_sql_batch_rollback(void)
{
	if (!batch)
		return;
	batch = 0;
	store_qcount_batch_drop();
	if (!sqlite3_get_autocommit(db))
		tx_exec("ROLLBACK");
}

/*
 * The cache slot of SQL (by the address of its text): its own, else a
 * free one near its hash, else the one at its hash (evicted). Probing
 * matters: with a slot per hash, two hot statements that met there
 * (as ASLR decides) were prepared again on every use, 10% of a burst.
 */
static struct stmt_slot *
stmt_slot(const char *sql)
{
	uint64_t	h = (uint64_t)(uintptr_t)sql;
	size_t		i, home, free_at = STMT_SLOTS;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	home = (size_t)(h % STMT_SLOTS);
	for (i = 0; i < STMT_PROBE; i++) {
		struct stmt_slot *sl = &stmts[(home + i) % STMT_SLOTS];

		if (sl->sql == sql)
			return (sl);
		if (sl->sql == NULL && free_at == STMT_SLOTS)
			free_at = (home + i) % STMT_SLOTS;
	}
	return (&stmts[free_at != STMT_SLOTS ? free_at : home]);
}

/*
 * A statement for SQL, prepared once and kept: preparing costs more than
 * running most of ours. One already running (a row callback that queries
 * again) gets a fresh statement, finalized after use.
 */
static sqlite3_stmt *
stmt_get(const char *sql)
{
	struct stmt_slot	*sl = stmt_slot(sql);
	sqlite3_stmt		*st = NULL;
	int			 same;

	same = sl->st != NULL && sl->sql == sql &&
	    strcmp(sqlite3_sql(sl->st), sql) == 0;
	if (same && !sqlite3_stmt_busy(sl->st))
		return (sl->st);
	nprepared++;
	if (sqlite3_prepare_v3(db, sql, -1, same ? 0 :
	    SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		store_sql_failed("prepare: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return (NULL);
	}
	if (same || (sl->st != NULL && sqlite3_stmt_busy(sl->st)))
		return (st);	/* the kept one is running: this one is fresh */
	sqlite3_finalize(sl->st);
	sl->sql = sql;
	sl->st = st;
	return (st);
}

/* Done with ST run for SQL: a kept statement is reset for its next use, another finalized. */
static void
stmt_put(const char *sql, sqlite3_stmt *st)
{
	struct stmt_slot	*sl = stmt_slot(sql);

	if (sl->st == st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else
		sqlite3_finalize(st);
}

/* Finalizes every kept statement. */
static void
stmt_forget(void)
{
	size_t	i;

	for (i = 0; i < STMT_SLOTS; i++) {
		sqlite3_finalize(stmts[i].st);
		stmts[i].st = NULL;
		stmts[i].sql = NULL;
	}
}

/* Binds to ST (of SQL) the arguments FMT lists from AP. */
static void
bind_args(sqlite3_stmt *st, const char *sql, const char *fmt, va_list ap)
{
	const char	*s;
	int		 i;

	for (i = 1; *fmt != '\0'; fmt++, i++) {
		switch (*fmt) {
		case 's':
			if ((s = va_arg(ap, const char *)) == NULL)
				sqlite3_bind_null(st, i);
			else
				sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
			break;
		case 'i':
			sqlite3_bind_int(st, i, va_arg(ap, int));
			break;
		case 'I':
			sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'd':
			sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		case 'n':
			sqlite3_bind_null(st, i);
			break;
		default:
			fatalx("store: bad argument letter '%c' for %s", *fmt, sql);
		}
	}
}

/* Prepares SQL and binds the arguments FMT lists from AP; NULL (recorded) on error. */
static sqlite3_stmt *
prepare(const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt	*st;

	if ((st = stmt_get(sql)) == NULL)
		return (NULL);
	bind_args(st, sql, fmt, ap);
	return (st);
}

/* A query read some rows at a time (store_sql_cursor). */
struct store_cursor {
	sqlite3		*db;
	sqlite3_stmt	*st;
};

/* Opens a cursor over SQL's rows with FMT's arguments, on a read-only connection of its own. */
struct store_cursor *
store_sql_cursor(const char *sql, char *err, size_t errlen, const char *fmt,
    ...)
{
	struct store_cursor	*c = xcalloc(1, sizeof(*c));
	va_list			 ap;

	if (sqlite3_open_v2(db_path, &c->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA cache_size=-256", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, sql, -1, &c->st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: a read-only connection: %s", db_path,
		    c->db != NULL ? sqlite3_errmsg(c->db) : "cannot open");
		store_sql_cursor_close(c);
		return (NULL);
	}
	va_start(ap, fmt);
	bind_args(c->st, sql, fmt, ap);
	va_end(ap);
	return (c);
}

/* Hands C's next rows, at most MAX, to ROW: 1 if more may follow, 0 at the end, -1 on error. */
int
store_sql_cursor_next(struct store_cursor *c, size_t max, store_sql_row_fn row,
    void *arg)
{
	size_t	n = 0;
	int	rc = SQLITE_ROW;

	while (n < max && (rc = sqlite3_step(c->st)) == SQLITE_ROW) {
		row(c->st, arg);
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("store: %s: %s", db_path, sqlite3_errmsg(c->db));
		return (-1);
	}
	return (rc == SQLITE_ROW);
}

/* Closes cursor C (NULL: nothing), ending its snapshot. */
void
store_sql_cursor_close(struct store_cursor *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->st);
	sqlite3_close(c->db);
	free(c);
}

/* Runs a statement that returns no rows. */
int
store_sql_write(const char *what, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	st = prepare(sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return (-1);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		if (what != NULL)
			store_sql_failed("%s: %s", what, sqlite3_errmsg(db));
		stmt_put(sql, st);
		return (-1);
	}
	stmt_put(sql, st);
	if (what != NULL)
		store_sql_wrote();
	return (sqlite3_changes(db));
}

/* Runs a query, handing each row to ROW. */
int
store_sql_read(const char *what, const char *sql, store_sql_row_fn row,
    void *arg, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc, n = 0;

	va_start(ap, fmt);
	st = prepare(sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row != NULL)
			row(st, arg);
		n++;
	}
	if (rc != SQLITE_DONE && what != NULL)
		store_sql_failed("%s: %s", what, sqlite3_errmsg(db));
	stmt_put(sql, st);
	return (rc == SQLITE_DONE ? n : -1);
}

/* A copy of column I as a string, or NULL. */
char *
store_sql_text(sqlite3_stmt *st, int i)
{
	return (xstrdup((const char *)sqlite3_column_text(st, i)));
}

/* SQLite's message for the last error. */
const char *
store_sql_errmsg(void)
{
	return (sqlite3_errmsg(db));
}

/* SQLite's primary result code for the last error. */
int
store_sql_errcode(void)
{
	return (sqlite3_errcode(db) & 0xff);
}

/* Fills ERR with what went wrong opening the database: SQLite's message and the OS reason. */
void
store_sql_open_error(const char *what, char *err, size_t errlen)
{
	const char	*why = NULL;
	int		 os = 0;

	if (db != NULL)
		why = os_reason(&os);
	snprintf(err, errlen, "%s: %s%s%s%s%s", db_path, what ? what : "",
	    what ? ": " : "", db ? sqlite3_errmsg(db) : "cannot open",
	    why ? " (" : "", why ? why : "");
	if (why != NULL)
		strncat(err, ")", errlen - strlen(err) - 1);
}

/* Runs PRAGMA quick_check on the open database; -1 with ERR filled if it is damaged. */
static int
quick_check(char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	const char	*row;
	char		 first[256] = "";
	int		 rc, bad = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(20)", -1, &st, NULL)
	    != SQLITE_OK) {
		store_sql_open_error("integrity check", err, errlen);
		return (-1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row = (const char *)sqlite3_column_text(st, 0);
		if (row != NULL && strcmp(row, "ok") != 0 && bad++ == 0)
			snprintf(first, sizeof(first), "%s", row);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_sql_open_error("integrity check", err, errlen);
		return (-1);
	}
	if (bad == 0)
		return (0);
	snprintf(err, errlen, "%s: integrity check failed (%d problem%s; first: "
	    "%s)", db_path, bad, bad > 1 ? "s" : "", first);
	return (-1);
}

/* SQLite's WAL hook: counts each commit and the frames it appended. */
static int
wal_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
	(void)arg;
	(void)h;
	(void)name;
	ncommits++;
	nframes += pages > wal_last ? (uint64_t)(pages - wal_last) :
	    (uint64_t)pages;
	log_debug("store: commit %llu: %d frames in the WAL",
	    (unsigned long long)ncommits, pages);
	wal_last = pages;
	/*
	 * sqlite3_wal_autocheckpoint's own hook (which this replaces) copies
	 * the WAL into the database inside the commit, between a `sending`
	 * mark and its request; the scheduler runs it a little later
	 * (store_sql_checkpoint), unless the WAL grows far beyond that.
	 */
	if (pages >= WAL_CKPT_PAGES)
		ckpt_due = 1;
	if (pages >= WAL_CKPT_MAX_PAGES)
		ckpt_here();	/* the thread lags: the WAL stays bounded */
	return (SQLITE_OK);
}

/* Whether the WAL has grown enough to be copied into the database. */
int
store_sql_checkpoint_due(void)
{
	return (ckpt_due);
}

/* Whether the checkpoint thread has one asked for or under way. */
int
store_sql_checkpoint_busy(void)
{
	return (store_ckpt_busy());
}

/* Logs what the last background checkpoint did, if not logged yet. */
static void
ckpt_log(void)
{
	struct store_ckpt_result	r;

	if (!store_ckpt_last(&r))
		return;
	if (r.rc != SQLITE_OK)
		log_debug("store: checkpoint: %s", r.err);
	else
		log_debug("store: checkpoint: %d of %d WAL frames in %lld us",
		    r.done, r.frames, (long long)r.us);
}

/* Copies what it can of the WAL into the database, here and now (never inside a transaction). */
static void
ckpt_here(void)
{
	if (db == NULL || !sqlite3_get_autocommit(db))
		return;
	if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL) != SQLITE_OK)
		log_debug("store: checkpoint: %s", sqlite3_errmsg(db));
}

/*
 * Copies what it can of the WAL into the database, on the checkpoint
 * thread (store_ckpt.c); here if that thread cannot start.
 */
void
store_sql_checkpoint(void)
{
	if (db == NULL)
		return;
	ckpt_due = 0;
	ckpt_log();
	if (store_ckpt_request(db_path) == -1)
		ckpt_here();
}

/* How many write transactions were committed since the start (and *FRAMES, their WAL frames). */
uint64_t
store_sql_commits(uint64_t *frames)
{
	if (frames != NULL)
		*frames = nframes;
	return (ncommits);
}

/* How many statements were prepared since the start (the cache's misses). */
uint64_t
store_sql_prepared(void)
{
	return (nprepared);
}

/* Opens the database file PATH for writing and checks it. */
int
store_sql_open(const char *path, char *err, size_t errlen)
{
	static const char hint[] = "; crierd will not run on a damaged "
	    "database. To recover: stop crierd, keep a copy of crier.db, "
	    "crier.db-wal and crier.db-shm together (the WAL holds the latest "
	    "commits), try `sqlite3 crier.db .recover`, or restore a backup";
	int	rc;

	snprintf(db_path, sizeof(db_path), "%s", path);
	problem[0] = '\0';
	/*
	 * Statement journals (what a unit inside a batch needs to roll back
	 * alone: a post's are about 16 pages) stay in memory up to
	 * STMT_SPILL: spilled to a temporary file under /var/tmp, every unit
	 * of a batch cost a pwrite per page it touched. SQLite allocates the
	 * in-memory journal in chunks of STMT_SPILL bytes, so it stays small:
	 * with 4 MiB every unit paid an mmap, page faults and a munmap, and
	 * SQLite 3.40 fails the spill of a chunk over 128 KiB with
	 * SQLITE_FULL (a `resume` of 20 000 posts failed; check_store's
	 * test_release_large). Only possible before SQLite initialises (the
	 * first open); MISUSE later is harmless.
	 */
	(void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_SPILL);
	/*
	 * No lock around each call: this connection is the loop thread's
	 * alone (the checkpoint thread, cursors and the worker threads' reads
	 * open their own), and without memory statistics SQLite's
	 * allocations take no global lock either. The locks were 5% of the
	 * daemon's CPU in a burst of webhooks.
	 */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* NOFOLLOW: a symlink planted in the state dir is refused, not written through. */
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		store_sql_open_error(NULL, err, errlen);
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
	if (store_sql_exec("PRAGMA journal_mode=WAL") == -1 ||
	    store_sql_exec("PRAGMA synchronous=FULL") == -1 ||
	    store_sql_exec("PRAGMA foreign_keys=ON") == -1) {
		store_sql_open_error(NULL, err, errlen);
		if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CORRUPT ||
		    (sqlite3_extended_errcode(db) & 0xff) == SQLITE_NOTADB)
			strncat(err, hint, errlen - strlen(err) - 1);
		goto fail;
	}
	if (quick_check(err, errlen) == -1) {
		strncat(err, hint, errlen - strlen(err) - 1);
		goto fail;
	}
	sqlite3_wal_hook(db, wal_hook, NULL);
	return (0);
fail:
	store_sql_close();
	return (-1);
}

/* Closes the database (checkpointing the WAL). */
void
store_sql_close(void)
{
	if (db == NULL)
		return;
	store_ckpt_stop();
	ckpt_log();
	stmt_forget();
	sqlite3_close(db);
	db = NULL;
}

/* The database file's path (as opened). */
const char *
store_sql_path(void)
{
	return (db_path);
}

/* Whether a database is open. */
int
store_sql_is_open(void)
{
	return (db != NULL);
}
