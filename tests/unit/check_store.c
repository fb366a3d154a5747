/* Unit tests: the SQLite store, its schema and its state transitions. */
#include <config.h>

#include <check.h>
#include <pthread.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "daemon/store.h"
#include "daemon/store_published.h"
#include "daemon/store_sql.h"
#include "daemon/log.h"
#include "tests/unit/unit.h"

#define BIT(s)	(1u << (s))

static char	tmpdir[] = "/tmp/crier-check-store-XXXXXX";
static char	err[512];
static char	curdir[600];	/* the store setup opened */

/* Opens a fresh store in a new subdirectory. */
static void
setup(void)
{
	static int	n;
	char		dir[600];

	snprintf(dir, sizeof(dir), "%s/db%d", tmpdir, n++);
	snprintf(curdir, sizeof(curdir), "%s", dir);
	ck_assert_msg(store_open(dir, err, sizeof(err)) == 0, "%s", err);
}

static void
teardown(void)
{
	store_close();
}

/* Inserts a delivery for channel CH due at DUE in STATE; its id into ID. */
static void
add(const char *uid, const char *ch, int64_t due, enum dstate state, char *id)
{
	struct delivery	d;

	memset(&d, 0, sizeof(d));
	store_delivery_id("cal", uid, NULL, ch, d.id);
	d.channel = (char *)ch;
	d.due = due;
	d.state = state;
	d.uid = (char *)uid;
	d.summary = (char *)"summary";
	d.text = (char *)"hello";
	ck_assert_int_eq(store_insert(&d, 1000, "queued"), 0);
	if (id != NULL)
		strcpy(id, d.id);
}

/* Marks ID sent at SENT_AT. */
static void
sent_at(const char *id, int64_t at)
{
	struct store_update	u;

	memset(&u, 0, sizeof(u));
	u.sent_at = at;
	ck_assert_int_eq(store_transition(id, BIT(DS_SCHEDULED), DS_SENDING,
	    NULL, STORE_ACTOR_DAEMON, "sending", NULL, NULL), 0);
	ck_assert_int_eq(store_transition(id, BIT(DS_SENDING), DS_SENT, &u,
	    STORE_ACTOR_DAEMON, "sent", NULL, NULL), 0);
}

/* What a worker thread read with store_published_read. */
struct pubread {
	const char		*db;
	struct store_sent	*rows;
	size_t			 n;
	int			 rc;
	char			 err[400];
};

/* Thread: reads the sent posts through a connection of its own. */
static void *
pub_thread(void *arg)
{
	struct pubread	*p = arg;

	p->rc = store_published_read(p->db, 10, &p->rows, &p->n, p->err,
	    sizeof(p->err));
	return (NULL);
}

/*
 * The published calendar's rows are read on a worker thread through a
 * connection of its own: newest first, at most MAX, only what is
 * committed, and not held up by the loop's open write transaction.
 */
START_TEST(test_published_read)
{
	struct pubread	 p;
	pthread_t	 th;
	char		 a[13], b[13], c[13], d[13];

	add("p1", "box", 1000, DS_SCHEDULED, a);
	add("p2", "box", 1000, DS_SCHEDULED, b);
	add("p3", "box", 1000, DS_SCHEDULED, c);
	add("p4", "box", 1000, DS_SCHEDULED, d);
	sent_at(a, 5000);
	sent_at(b, 7000);
	sent_at(c, 6000);
	/* The loop holds the write lock, with D sent but not committed. */
	ck_assert_int_eq(store_begin(), 0);
	sent_at(d, 9000);
	memset(&p, 0, sizeof(p));
	p.db = store_db_path();
	ck_assert_int_eq(pthread_create(&th, NULL, pub_thread, &p), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(p.rc == 0, "%s", p.err);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_str_eq(p.rows[0].id, b);
	ck_assert_str_eq(p.rows[1].id, c);
	ck_assert_str_eq(p.rows[2].id, a);
	ck_assert_int_eq(p.rows[0].sent_at, 7000);
	ck_assert_str_eq(p.rows[0].text, "hello");
	ck_assert_str_eq(p.rows[0].channel, "box");
	store_published_free(p.rows, p.n);
	ck_assert_int_eq(store_commit(), 0);
	/* Committed now: the next read has it first. */
	memset(&p, 0, sizeof(p));
	p.db = store_db_path();
	ck_assert_int_eq(pthread_create(&th, NULL, pub_thread, &p), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_eq(p.n, 4);
	ck_assert_str_eq(p.rows[0].id, d);
	store_published_free(p.rows, p.n);
	/* A database that is not there: an error naming it, no rows. */
	memset(&p, 0, sizeof(p));
	p.db = "/nonexistent/crier.db";
	pub_thread(&p);
	ck_assert_int_eq(p.rc, -1);
	ck_assert_ptr_nonnull(strstr(p.err, "/nonexistent/crier.db"));
	ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(test_ids)
{
	char	a[13], b[13], c[13], d[13];

	store_delivery_id("ogw", "u1", "2021-05-17T08:00:00Z", "m", a);
	store_delivery_id("ogw", "u1", "2021-05-17T08:00:00Z", "m", b);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(strlen(a), 12);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 12);
	store_delivery_id("ogw", "u1", "2021-05-17T08:00:00Z", "b", c);
	ck_assert_str_ne(a, c);
	/* Field boundaries matter: ("ab","c") is not ("a","bc"). */
	store_delivery_id("ab", "c", NULL, "m", c);
	store_delivery_id("a", "bc", NULL, "m", d);
	ck_assert_str_ne(c, d);
}
END_TEST

START_TEST(test_insert_get)
{
	struct delivery	d;
	char		id[13];

	add("u1", "box", 5000, DS_SCHEDULED, id);
	ck_assert_int_eq(store_get(id, &d), 0);
	ck_assert_str_eq(d.channel, "box");
	ck_assert_int_eq(d.state, DS_SCHEDULED);
	ck_assert_int_eq(d.due, 5000);
	ck_assert_str_eq(d.text, "hello");
	ck_assert_str_eq(d.calendar == NULL ? "" : "x", "");
	store_delivery_clear(&d);
	/* Same id twice: refused, not duplicated. */
	memset(&d, 0, sizeof(d));
	strcpy(d.id, id);
	d.channel = (char *)"box";
	d.text = (char *)"x";
	ck_assert_int_eq(store_insert(&d, 0, "queued"), 1);
	ck_assert_int_eq(store_get("000000000000", &d), 1);
}
END_TEST

START_TEST(test_resolve)
{
	char	id[13], out[13];
	char	ids[40][13];
	int	i, j, found = 0;

	add("u1", "box", 1, DS_SCHEDULED, id);
	ck_assert_int_eq(store_resolve(id, out), 0);
	ck_assert_str_eq(out, id);
	ck_assert_int_eq(store_resolve("", out), 1);
	ck_assert_int_eq(store_resolve("zz", out), 1);
	/* 40 ids: two of them share a first hex digit, so that prefix is ambiguous. */
	for (i = 0; i < 40; i++) {
		char uid[16];

		snprintf(uid, sizeof(uid), "m%d", i);
		add(uid, "box", 1, DS_SCHEDULED, ids[i]);
	}
	for (i = 0; i < 40 && !found; i++)
		for (j = i + 1; j < 40 && !found; j++)
			if (ids[i][0] == ids[j][0]) {
				char p[2] = { ids[i][0], '\0' };

				ck_assert_int_eq(store_resolve(p, out), 2);
				found = 1;
			}
	ck_assert(found);
	ck_assert_int_eq(store_resolve(ids[5], out), 0);
}
END_TEST

START_TEST(test_transitions)
{
	struct store_update	 u;
	struct delivery		 d;
	struct store_event	*ev;
	size_t			 n;
	enum dstate		 cur;
	char			 id[13];

	add("u1", "box", 1000, DS_SCHEDULED, id);
	/* Allowed. */
	ck_assert_int_eq(store_transition(id, BIT(DS_SCHEDULED), DS_SENDING, NULL,
	    STORE_ACTOR_DAEMON, "sending", NULL, NULL), 0);
	/* Not allowed from here: the current state is reported. */
	ck_assert_int_eq(store_transition(id, BIT(DS_SCHEDULED), DS_CANCELLED,
	    NULL, 1000, "cancel", NULL, &cur), 1);
	ck_assert_int_eq(cur, DS_SENDING);
	memset(&u, 0, sizeof(u));
	u.attempt = true;
	u.remote_url = "https://example.social/@ogp/1";
	u.sent_at = 4242;
	u.last_error = "";
	ck_assert_int_eq(store_transition(id, BIT(DS_SENDING), DS_SENT, &u,
	    STORE_ACTOR_DAEMON, "sent", NULL, NULL), 0);
	ck_assert_int_eq(store_get(id, &d), 0);
	ck_assert_int_eq(d.state, DS_SENT);
	ck_assert_int_eq(d.attempts, 1);
	ck_assert_int_eq(d.sent_at, 4242);
	ck_assert_str_eq(d.remote_url, "https://example.social/@ogp/1");
	ck_assert_ptr_null(d.last_error);
	store_delivery_clear(&d);
	/* Sent stays sent. */
	ck_assert_int_eq(store_transition(id, BIT(DS_SCHEDULED) | BIT(DS_HELD),
	    DS_CANCELLED, NULL, 1000, "cancel", NULL, &cur), 1);
	ck_assert_int_eq(cur, DS_SENT);
	ck_assert_int_eq(store_transition("ffffffffffff", BIT(DS_SCHEDULED),
	    DS_CANCELLED, NULL, 1000, "cancel", NULL, NULL), 2);
	/* Every change is in the log, with who asked. */
	ck_assert_int_eq(store_events_for(id, &ev, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ev[0].event, "queued");
	ck_assert_int_eq(ev[0].actor, 1000);
	ck_assert_str_eq(ev[2].event, "sent");
	ck_assert_int_eq(ev[2].actor, STORE_ACTOR_DAEMON);
	store_events_free(ev, n);
}
END_TEST

/* A batch of moves is one commit; a move keeps or sets the due time; the WAL checkpoint waits to be asked for. */
/* The threads of this process. */
static int
threads(void)
{
	DIR		*d = opendir("/proc/self/task");
	struct dirent	*e;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

START_TEST(test_batch_commits)
{
	struct store_update	 u;
	struct delivery		 d;
	char			 ids[20][13], uid[16], big[3000], dbp[700];
	uint64_t		 c0, f0, c1, f1;
	struct stat		 sb;
	off_t			 size0;
	int			 threads0;
	int			 i;

	for (i = 0; i < 20; i++) {
		snprintf(uid, sizeof(uid), "b%d", i);
		add(uid, "hook", 1000 + i, DS_SCHEDULED, ids[i]);
	}
	c0 = store_sql_commits(&f0);
	ck_assert_int_eq(store_begin(), 0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(store_transition(ids[i], BIT(DS_SCHEDULED),
		    DS_SENDING, NULL, STORE_ACTOR_DAEMON, "sending", NULL,
		    NULL), 0);
	ck_assert_int_eq(store_sql_commits(NULL), c0);	/* nothing yet */
	ck_assert_int_eq(store_commit(), 0);
	c1 = store_sql_commits(&f1);
	ck_assert_int_eq(c1, c0 + 1);
	ck_assert_uint_gt(f1, f0);
	/* The due time stays unless the move sets one. */
	ck_assert_int_eq(store_get(ids[3], &d), 0);
	ck_assert_int_eq(d.state, DS_SENDING);
	ck_assert_int_eq(d.due, 1003);
	store_delivery_clear(&d);
	memset(&u, 0, sizeof(u));
	u.due = 5000;
	u.next_attempt = 5000;
	ck_assert_int_eq(store_transition(ids[3], BIT(DS_SENDING), DS_RETRYING,
	    &u, STORE_ACTOR_DAEMON, "retrying", NULL, NULL), 0);
	ck_assert_int_eq(store_get(ids[3], &d), 0);
	ck_assert_int_eq(d.due, 5000);
	store_delivery_clear(&d);
	/* Past 1000 WAL pages a checkpoint is due; it runs when asked. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 5000 && !store_checkpoint_due(); i++) {
		memset(&d, 0, sizeof(d));
		snprintf(uid, sizeof(uid), "w%d", i);
		store_delivery_id("cal", uid, NULL, "hook", d.id);
		d.channel = (char *)"hook";
		d.due = 9000;
		d.state = DS_SCHEDULED;
		d.uid = uid;
		d.text = big;
		ck_assert_int_eq(store_insert(&d, 1000, "queued"), 0);
	}
	ck_assert_msg(store_checkpoint_due(), "no checkpoint due after %d inserts", i);
	/*
	 * It runs on its own thread: the database file grows to hold what
	 * the WAL had, while this thread goes on writing.
	 */
	snprintf(dbp, sizeof(dbp), "%s/crier.db", curdir);
	ck_assert_int_eq(stat(dbp, &sb), 0);
	size0 = sb.st_size;
	threads0 = threads();
	store_checkpoint();
	ck_assert(!store_checkpoint_due());
	add("after-ckpt", "hook", 9000, DS_SCHEDULED, NULL);
	for (i = 0; i < 500 && stat(dbp, &sb) == 0 && sb.st_size <= size0 +
	    256 * 1024; i++)
		usleep(10000);
	ck_assert_msg(sb.st_size > size0 + 256 * 1024, "crier.db stayed at "
	    "%lld bytes", (long long)sb.st_size);
	ck_assert_int_eq(threads(), threads0 + 1);	/* that thread */
	snprintf(ids[0], sizeof(ids[0]), "%s", d.id);
	ck_assert_int_eq(store_get(ids[0], &d), 0);
	ck_assert_str_eq(d.text, big);
	store_delivery_clear(&d);
	/* Closing the store ends the checkpoint thread. */
	store_close();
	ck_assert_int_eq(threads(), threads0);
	setup();
}
END_TEST

/* Counts rows into ARG. */
static void
count_row(sqlite3_stmt *st, void *arg)
{
	(void)st;
	(*(int *)arg)++;
}

/*
 * Every statement is prepared once however its text's address hashes:
 * 150 texts used in turn, three rounds (a slot per hash prepared the
 * ones that met there again on every use).
 */
START_TEST(test_stmt_cache)
{
	enum { NSQL = 150 };
	char		*sql[NSQL];
	uint64_t	 p0;
	int		 i, round, rows = 0;

	for (i = 0; i < NSQL; i++)
		ck_assert_int_ne(asprintf(&sql[i], "SELECT %d", i), -1);
	p0 = store_sql_prepared();
	for (round = 0; round < 3; round++)
		for (i = 0; i < NSQL; i++)
			ck_assert_int_eq(store_sql_read("test", sql[i],
			    count_row, &rows, ""), 1);
	ck_assert_int_eq(rows, 3 * NSQL);
	ck_assert_uint_eq(store_sql_prepared() - p0, NSQL);
	store_close();	/* finalizes them while the texts live */
	for (i = 0; i < NSQL; i++)
		free(sql[i]);
	setup();
}
END_TEST

/* The schema of version 12, as store_open left it (the migration to 13 starts here). */
static const char v12_schema[] =
	"CREATE TABLE deliveries ( id TEXT PRIMARY KEY, channel TEXT "
	"NOT NULL, state TEXT NOT NULL, due INTEGER NOT NULL, calendar "
	"TEXT, uid TEXT, recurrence_id TEXT, summary TEXT, text TEXT "
	"NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error "
	"TEXT, remote_id TEXT, remote_url TEXT, next_attempt INTEGER "
	"NOT NULL DEFAULT 0, sent_at INTEGER NOT NULL DEFAULT 0, "
	"created INTEGER NOT NULL, updated INTEGER NOT NULL, cal_state "
	"TEXT, hold_reason TEXT, media TEXT, ends TEXT, cal_fp TEXT);"
	"CREATE INDEX deliveries_due ON deliveries(due, id);"
	"CREATE TABLE channels ( name TEXT PRIMARY KEY, paused INTEGER "
	"NOT NULL DEFAULT 0, reason TEXT, tokens REAL, tokens_at "
	"INTEGER, last_error TEXT);"
	"CREATE TABLE recipients ( delivery TEXT NOT NULL, email TEXT "
	"NOT NULL, name TEXT, state TEXT NOT NULL, error TEXT, "
	"message_id TEXT, attempts INTEGER NOT NULL DEFAULT 0, sent_at "
	"INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL, PRIMARY "
	"KEY (delivery, email));"
	"CREATE TABLE suppressions ( email TEXT PRIMARY KEY, at INTEGER "
	"NOT NULL, actor INTEGER NOT NULL);"
	"CREATE TABLE email_contexts ( delivery TEXT PRIMARY KEY, "
	"template TEXT, context TEXT NOT NULL, updated INTEGER NOT "
	"NULL);"
	"CREATE TABLE overrides ( delivery TEXT NOT NULL, kind TEXT NOT "
	"NULL, verb TEXT NOT NULL, due INTEGER NOT NULL DEFAULT 0, "
	"cal_fp TEXT, at INTEGER NOT NULL, actor INTEGER NOT NULL, "
	"PRIMARY KEY (delivery, kind));"
	"CREATE INDEX deliveries_occurrence ON deliveries(calendar, "
	"uid, recurrence_id);"
	"CREATE INDEX deliveries_ready ON deliveries(state, due, id);"
	"CREATE INDEX deliveries_channel_ready ON deliveries(channel, "
	"state, due, id);"
	"CREATE INDEX deliveries_channel_due ON deliveries(channel, "
	"due);"
	"CREATE TABLE queue_counts ( channel TEXT NOT NULL, state TEXT "
	"NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (channel, state)) "
	"WITHOUT ROWID;"
	"CREATE TRIGGER queue_counts_insert AFTER INSERT ON deliveries "
	"BEGIN INSERT INTO queue_counts VALUES (new.channel, new.state, "
	"1) ON CONFLICT(channel, state) DO UPDATE SET n = n + 1; END;"
	"CREATE TRIGGER queue_counts_delete AFTER DELETE ON deliveries "
	"BEGIN UPDATE queue_counts SET n = n - 1 WHERE channel = "
	"old.channel AND state = old.state; END;"
	"CREATE TABLE chan_kv ( channel TEXT NOT NULL, key TEXT NOT "
	"NULL, value TEXT NOT NULL, updated INTEGER NOT NULL, PRIMARY "
	"KEY (channel, key));"
	"CREATE TABLE engagement ( delivery TEXT PRIMARY KEY, stage "
	"INTEGER NOT NULL DEFAULT 0, likes INTEGER, reposts INTEGER, "
	"replies INTEGER, fetched INTEGER NOT NULL DEFAULT 0, next_try "
	"INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE parts ( delivery TEXT NOT NULL, part INTEGER NOT "
	"NULL, remote_id TEXT NOT NULL, remote_url TEXT, ref TEXT, at "
	"INTEGER NOT NULL, PRIMARY KEY (delivery, part));"
	"CREATE TABLE IF NOT EXISTS \"events\" ( seq INTEGER PRIMARY KEY, "
	"at INTEGER NOT NULL, delivery TEXT, channel TEXT, event TEXT "
	"NOT NULL, detail TEXT, actor INTEGER NOT NULL);"
	"CREATE INDEX events_delivery ON events(delivery, seq);"
	"CREATE INDEX deliveries_retry ON deliveries(state, "
	"next_attempt) WHERE state = 'retrying';"
	"CREATE INDEX deliveries_channel_retry ON deliveries(channel, "
	"state, next_attempt) WHERE state = 'retrying';"
	"CREATE INDEX deliveries_sent ON deliveries(state, sent_at) "
	"WHERE state = 'sent';";

/*
 * A version-12 database migrates to 13 keeping every delivery's events
 * (now found by its rid), and what is due at one instant goes in the
 * order it was queued, not in id order.
 */
START_TEST(test_migrate_12)
{
	static const char *const ids[] = {
		"ffff00000001", "000000000002", "888800000003"
	};
	struct store_event	*ev;
	struct delivery		*ds;
	sqlite3			*db;
	struct delivery		 d;
	char			 dir[600], dbp[700], sql[512], who[20];
	size_t			 n, i;

	store_close();
	snprintf(dir, sizeof(dir), "%s/v12", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(dbp, sizeof(dbp), "%s/crier.db", dir);
	ck_assert_int_eq(sqlite3_open(dbp, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, v12_schema, NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 0; i < 3; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO deliveries (id, channel,"
		    " state, due, text, created, updated) VALUES ('%s', 'hook',"
		    " 'scheduled', 1000, 'hi', 1, 1)", ids[i]);
		ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	}
	/* Two events each, interleaved, and one of no delivery. */
	for (i = 0; i < 7; i++) {
		if (i == 3)
			snprintf(who, sizeof(who), "NULL");
		else
			snprintf(who, sizeof(who), "'%s'", ids[i % 3]);
		snprintf(sql, sizeof(sql), "INSERT INTO events (at, delivery,"
		    " channel, event, detail, actor) VALUES (%zu, %s, 'hook',"
		    " 'e%zu', NULL, -1)", i, who, i);
		ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	}
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 12", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	ck_assert_msg(store_open(dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(unit_db_int(dir, "PRAGMA user_version", NULL, 0), 13);
	ck_assert_int_eq(store_events_for(ids[0], &ev, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ev[0].event, "e0");
	ck_assert_str_eq(ev[1].event, "e6");
	store_events_free(ev, n);
	ck_assert_int_eq(store_events_for(ids[1], &ev, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ev[0].event, "e1");
	ck_assert_str_eq(ev[1].event, "e4");
	store_events_free(ev, n);
	/* Queued order at the same due instant: rid, not the id. */
	ck_assert_int_eq(store_due_for("hook", NULL, 2000, 10, &ds, &n), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < 3; i++)
		ck_assert_str_eq(ds[i].id, ids[i]);
	store_deliveries_free(ds, n);
	/* A move after the migration joins the delivery's history. */
	ck_assert_int_eq(store_transition(ids[2], BIT(DS_SCHEDULED),
	    DS_SENDING, NULL, STORE_ACTOR_DAEMON, "sending", NULL, NULL), 0);
	ck_assert_int_eq(store_events_for(ids[2], &ev, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ev[0].event, "e2");
	ck_assert_str_eq(ev[1].event, "e5");
	ck_assert_str_eq(ev[2].event, "sending");
	store_events_free(ev, n);
	/* The same id twice is still refused. */
	memset(&d, 0, sizeof(d));
	strcpy(d.id, ids[1]);
	d.channel = (char *)"hook";
	d.text = (char *)"again";
	ck_assert_int_eq(store_insert(&d, 1000, "queued"), 1);
	ck_assert_int_eq(unit_db_int(dir, "SELECT COUNT(*) FROM deliveries",
	    NULL, 0), 3);
	store_close();
	setup();
}
END_TEST

START_TEST(test_due_and_counts)
{
	struct delivery	*ds;
	size_t		 n;
	int64_t		 next, counts[DS_NSTATES];
	char		 a[13], b[13], c[13];
	struct store_update u = { .next_attempt = 1500 };

	ck_assert_int_eq(store_next_wakeup(&next), 1);
	add("a", "box", 3000, DS_SCHEDULED, a);
	add("b", "box", 1000, DS_SCHEDULED, b);
	add("c", "box", 500, DS_HELD, c);
	ck_assert_int_eq(store_next_wakeup(&next), 0);
	ck_assert_int_eq(next, 1000);
	ck_assert_int_eq(store_due(2000, 10, &ds, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ds[0].id, b);
	store_deliveries_free(ds, n);
	/* A retry waits for its own time, not its due time. */
	store_transition(b, BIT(DS_SCHEDULED), DS_SENDING, NULL, -1, "s", NULL, NULL);
	store_transition(b, BIT(DS_SENDING), DS_RETRYING, &u, -1, "r", NULL, NULL);
	ck_assert_int_eq(store_next_wakeup(&next), 0);
	ck_assert_int_eq(next, 1500);
	ck_assert_int_eq(store_due(1400, 10, &ds, &n), 0);
	ck_assert_uint_eq(n, 0);
	store_deliveries_free(ds, n);
	ck_assert_int_eq(store_due(1600, 10, &ds, &n), 0);
	ck_assert_uint_eq(n, 1);
	store_deliveries_free(ds, n);
	ck_assert_int_eq(store_counts(counts), 0);
	ck_assert_int_eq(counts[DS_SCHEDULED], 1);
	ck_assert_int_eq(counts[DS_RETRYING], 1);
	ck_assert_int_eq(counts[DS_HELD], 1);
	ck_assert_int_eq(counts[DS_SENT], 0);
}
END_TEST

/* queue_counts under DIR equals COUNT(*) per channel and state (NIDS rows). */
static void
check_counts(const char *dir, size_t nids)
{
	static const char *const chans[] = { "a", "b", "c" };
	char	sql[300];
	size_t	c, s;

	ck_assert_int_eq(unit_db_int(dir, "SELECT COUNT(*) FROM deliveries", NULL, 0),
	    (int64_t)nids);
	ck_assert_int_eq(unit_db_int(dir, "SELECT COALESCE(SUM(n), 0) FROM"
	    " queue_counts", NULL, 0), (int64_t)nids);
	for (c = 0; c < 3; c++)
		for (s = 0; s < DS_NSTATES; s++) {
			snprintf(sql, sizeof(sql), "SELECT (SELECT COUNT(*)"
			    " FROM deliveries WHERE channel = ?1 AND state ="
			    " '%s') - COALESCE((SELECT n FROM queue_counts"
			    " WHERE channel = ?1 AND state = '%s'), 0)",
			    dstate_names[s], dstate_names[s]);
			ck_assert_msg(unit_db_int(dir, sql, chans[c], 0) == 0,
			    "queue_counts of %s/%s is off", chans[c],
			    dstate_names[s]);
		}
}

/*
 * After a random sequence of inserts and moves (in batches and alone, with
 * and without a new due time), queue_counts equals COUNT(*) per channel and
 * state, the partial retry and sent indexes answer as the plain table does,
 * and event seqs keep increasing across a reopen (no AUTOINCREMENT).
 */
START_TEST(test_counts_and_seqs)
{
	static const char *const chans[] = { "a", "b", "c" };
	static const char *const names[] = { "scheduled", "sending", "sent",
	    "retrying", "failed", "held", "cancelled" };
	static const enum dstate states[] = { DS_SCHEDULED, DS_SENDING,
	    DS_SENT, DS_RETRYING, DS_FAILED, DS_HELD, DS_CANCELLED };
	struct store_update	 u;
	struct store_event	*ev;
	char			 ids[300][13], uid[16], dir[600];
	int64_t			 last = 0, counts[DS_NSTATES], sum;
	size_t			 n, i, s, nids = 0;
	int			 step, k, r;

	srandom(16);
	for (step = 0; step < 3000; step++) {
		r = (int)(random() % 10);
		if (r < 2 && nids < 300) {
			snprintf(uid, sizeof(uid), "r%zu", nids);
			add(uid, chans[random() % 3], 1000 + random() % 5000,
			    random() % 4 ? DS_SCHEDULED : DS_HELD, ids[nids]);
			nids++;
			continue;
		}
		if (nids == 0)
			continue;
		/* A batch of up to five moves in one transaction, or one alone. */
		k = r < 5 ? 1 + (int)(random() % 5) : 1;
		if (r < 5)
			ck_assert_int_eq(store_begin(), 0);
		while (k-- > 0) {
			memset(&u, 0, sizeof(u));
			s = (size_t)(random() % 7);
			if (random() % 2)
				u.due = 1000 + random() % 5000;
			if (states[s] == DS_RETRYING)
				u.next_attempt = 2000 + random() % 5000;
			if (states[s] == DS_SENT)
				u.sent_at = 3000 + random() % 5000;
			/* Some are refused: their unit is rolled back. */
			ck_assert_int_le(store_transition(ids[random() % nids],
			    random() % 3 ? ~0u : BIT(DS_SCHEDULED), states[s],
			    &u, STORE_ACTOR_DAEMON, names[s], NULL, NULL), 1);
		}
		/* Some batches are abandoned: none of their moves count. */
		if (r < 5 && random() % 8 == 0)
			store_rollback();
		else if (r < 5)
			ck_assert_int_eq(store_commit(), 0);
		if (step % 500 == 0)
			check_counts(curdir, nids);
	}
	snprintf(dir, sizeof(dir), "%s", curdir);
	ck_assert_int_eq(unit_db_int(dir, "SELECT COUNT(*) FROM deliveries", NULL, 0),
	    (int64_t)nids);
	check_counts(dir, nids);
	ck_assert_int_eq(store_counts(counts), 0);
	for (s = 0, sum = 0; s < DS_NSTATES; s++)
		sum += counts[s];
	ck_assert_int_eq(sum, (int64_t)nids);
	/* The partial indexes give what a scan of the table gives. */
	ck_assert_int_eq(unit_db_int(dir, "SELECT COUNT(*) FROM deliveries"
	    " INDEXED BY deliveries_retry WHERE state = 'retrying'"
	    " AND next_attempt <= ?2", NULL, 4000),
	    unit_db_int(dir, "SELECT COUNT(*) FROM deliveries NOT INDEXED"
	    " WHERE state = 'retrying' AND next_attempt <= ?2", NULL, 4000));
	ck_assert_int_eq(unit_db_int(dir, "SELECT COUNT(*) FROM deliveries"
	    " INDEXED BY deliveries_sent WHERE state = 'sent'"
	    " AND sent_at >= ?2", NULL, 5000),
	    unit_db_int(dir, "SELECT COUNT(*) FROM deliveries NOT INDEXED"
	    " WHERE state = 'sent' AND sent_at >= ?2", NULL, 5000));
	ck_assert_int_gt(unit_db_int(dir, "SELECT COUNT(*) FROM deliveries"
	    " WHERE state = 'retrying'", NULL, 0), 0);
	/* No sqlite_sequence row: events has no AUTOINCREMENT. */
	ck_assert_int_eq(unit_db_int(dir, "SELECT COUNT(*) FROM sqlite_master"
	    " WHERE name = 'sqlite_sequence'", NULL, 0) == 0 ||
	    unit_db_int(dir, "SELECT COUNT(*) FROM sqlite_sequence WHERE"
	    " name = 'events'", NULL, 0) == 0, 1);
	/* Seqs increase, and keep increasing after a reopen. */
	ck_assert_int_eq(store_events(0, 100000, &ev, &n), 0);
	ck_assert_uint_gt(n, 1000);
	for (i = 0; i < n; i++) {
		ck_assert_int_gt(ev[i].seq, last);
		last = ev[i].seq;
	}
	store_events_free(ev, n);
	store_close();
	ck_assert_int_eq(store_open(dir, err, sizeof(err)), 0);
	ck_assert_int_eq(store_log(ids[0], "a", 1000, "note", NULL), 0);
	ck_assert_int_eq(store_events(last, 10, &ev, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ev[0].seq, last + 1);
	store_events_free(ev, n);
}
END_TEST

/* store_release moves only what it may, logs one event each, keeps the counts. */
START_TEST(test_release)
{
	static const struct {
		const char	*uid, *ch, *reason;
		enum cal_state	 cs;
		enum dstate	 after;
	} rows[] = {
		{ "p1", "hook", "paused", CS_NONE, DS_SCHEDULED },
		{ "p2", "hook", "paused", CS_SCHEDULED, DS_SCHEDULED },
		{ "p3", "hook", "paused", CS_INVALID, DS_HELD },
		{ "p4", "hook", "paused", CS_HELD, DS_HELD },
		{ "p5", "hook", "problem", CS_NONE, DS_HELD },
		{ "p6", "other", "paused", CS_NONE, DS_HELD },
	};
	struct delivery		 d;
	struct store_event	*ev;
	int64_t			 counts[DS_NSTATES];
	char			 ids[6][13];
	size_t			 i, n;

	for (i = 0; i < 6; i++) {
		memset(&d, 0, sizeof(d));
		store_delivery_id("cal", rows[i].uid, NULL, rows[i].ch, d.id);
		d.channel = (char *)rows[i].ch;
		d.due = 1000 + (int64_t)i;
		d.state = DS_HELD;
		d.hold_reason = (char *)rows[i].reason;
		d.cal_state = rows[i].cs;
		d.uid = (char *)rows[i].uid;
		d.text = (char *)"hello";
		ck_assert_int_eq(store_insert(&d, 1000, "queued"), 0);
		strcpy(ids[i], d.id);
	}
	ck_assert_int_eq(store_release("hook", "paused", 1000, "resumed",
	    "channel resumed", -1), 2);
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(store_get(ids[i], &d), 0);
		ck_assert_msg(d.state == rows[i].after, "%s is %d", rows[i].uid,
		    d.state);
		if (d.state == DS_SCHEDULED)
			ck_assert_ptr_null(d.hold_reason);
		store_delivery_clear(&d);
		ck_assert_int_eq(store_events_for(ids[i], &ev, &n), 0);
		ck_assert_uint_eq(n, rows[i].after == DS_SCHEDULED ? 2 : 1);
		if (n == 2) {
			ck_assert_str_eq(ev[1].event, "resumed");
			ck_assert_str_eq(ev[1].detail, "channel resumed");
			ck_assert_int_eq(ev[1].actor, 1000);
		}
		store_events_free(ev, n);
	}
	ck_assert_int_eq(store_counts(counts), 0);
	ck_assert_int_eq(counts[DS_SCHEDULED], 2);
	ck_assert_int_eq(counts[DS_HELD], 4);
	/* Nothing left to release: none moves, nothing is logged. */
	ck_assert_int_eq(store_release("hook", "paused", 1000, "resumed",
	    "channel resumed", -1), 0);
	ck_assert_int_eq(store_events_for(ids[0], &ev, &n), 0);
	ck_assert_uint_eq(n, 2);
	store_events_free(ev, n);
}
END_TEST

/*
 * A release inside a batch whose savepoint journal is far larger than
 * what stays in memory: SQLite 3.40 refused such a spill ("database or
 * disk is full") when the in-memory part was over 128 KiB.
 */
START_TEST(test_release_large)
{
	static char	 text[600];
	struct delivery	 d;
	int64_t		 counts[DS_NSTATES];
	char		 uid[32];
	int		 i, n = 20000;

	memset(text, 'x', sizeof(text) - 1);
	ck_assert_int_eq(store_begin(), 0);
	for (i = 0; i < n; i++) {
		memset(&d, 0, sizeof(d));
		snprintf(uid, sizeof(uid), "big%d", i);
		store_delivery_id("cal", uid, NULL, "hook", d.id);
		d.channel = (char *)"hook";
		d.due = 1000 + i;
		d.state = DS_HELD;
		d.hold_reason = (char *)"paused";
		d.uid = uid;
		d.text = text;
		ck_assert_int_eq(store_insert(&d, 1000, "queued"), 0);
	}
	ck_assert_int_eq(store_commit(), 0);
	ck_assert_int_eq(store_begin(), 0);
	ck_assert_int_eq(store_release("hook", "paused", 1000, "resumed",
	    "channel resumed", -1), n);
	ck_assert_int_eq(store_commit(), 0);
	ck_assert_int_eq(store_counts(counts), 0);
	ck_assert_int_eq(counts[DS_SCHEDULED], n);
	ck_assert_int_eq(counts[DS_HELD], 0);
}
END_TEST

START_TEST(test_list_filter)
{
	struct store_filter	 f;
	struct delivery		*ds;
	size_t			 n;
	int			 i;

	for (i = 0; i < 10; i++) {
		char uid[8];

		snprintf(uid, sizeof(uid), "u%d", i);
		add(uid, i % 2 ? "odd" : "even", 1000 * (10 - i), DS_SCHEDULED, NULL);
	}
	memset(&f, 0, sizeof(f));
	f.state = -1;
	ck_assert_int_eq(store_list(&f, &ds, &n), 0);
	ck_assert_uint_eq(n, 10);
	for (i = 1; i < 10; i++)
		ck_assert_int_le(ds[i - 1].due, ds[i].due);
	store_deliveries_free(ds, n);
	f.channel = "odd";
	f.limit = 3;
	ck_assert_int_eq(store_list(&f, &ds, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ds[0].channel, "odd");
	store_deliveries_free(ds, n);
	f.channel = NULL;
	f.limit = 0;
	f.from = 3000;
	f.to = 6000;
	ck_assert_int_eq(store_list(&f, &ds, &n), 0);
	ck_assert_uint_eq(n, 3);
	store_deliveries_free(ds, n);
	f.from = f.to = 0;
	f.state = DS_SENT;
	ck_assert_int_eq(store_list(&f, &ds, &n), 0);
	ck_assert_uint_eq(n, 0);
	store_deliveries_free(ds, n);
}
END_TEST

START_TEST(test_persist_and_schema)
{
	char		 dir[600], dbp[700], id[13];
	struct delivery	 d;
	sqlite3		*db;
	sqlite3_stmt	*st;

	store_close();
	snprintf(dir, sizeof(dir), "%s/persist", tmpdir);
	ck_assert_int_eq(store_open(dir, err, sizeof(err)), 0);
	add("p", "box", 77, DS_HELD, id);
	store_close();
	ck_assert_int_eq(store_open(dir, err, sizeof(err)), 0);
	ck_assert_int_eq(store_get(id, &d), 0);
	ck_assert_int_eq(d.state, DS_HELD);
	store_delivery_clear(&d);
	store_close();
	/* WAL mode and the schema version, as another SQLite client sees them. */
	snprintf(dbp, sizeof(dbp), "%s/crier.db", dir);
	ck_assert_int_eq(sqlite3_open(dbp, &db), SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
	sqlite3_finalize(st);
	/* A database from a newer crierd is refused, not damaged. */
	sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(dir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "99"));
	/* The fixture's teardown closes again: give it a store to close. */
	setup();
}
END_TEST

/* Inserts a calendar delivery of occurrence (cal, UID) on CH, version FP. */
static void
add_cal(const char *uid, const char *ch, const char *fp, char *id)
{
	struct delivery	d;

	memset(&d, 0, sizeof(d));
	store_delivery_id("cal", uid, NULL, ch, d.id);
	d.channel = (char *)ch;
	d.due = 9000;
	d.state = DS_HELD;
	d.calendar = (char *)"cal";
	d.uid = (char *)uid;
	d.text = (char *)"hello";
	d.cal_fp = (char *)fp;
	ck_assert_int_eq(store_insert(&d, STORE_ACTOR_DAEMON, "calendar"), 0);
	strcpy(id, d.id);
}

START_TEST(test_overrides)
{
	struct store_override	 o;
	struct delivery		*ds = NULL;
	char			 a[13], b[13], c[13];
	size_t			 n = 0;

	add_cal("occ", "zeta", "fp1", a);
	add_cal("occ", "alpha", NULL, b);
	add_cal("other", "alpha", "fp1", c);
	/* An override keeps the calendar version it was made on. */
	ck_assert_int_eq(store_override_put(a, "time", "reschedule", 12345, 1000), 0);
	ck_assert_int_eq(store_override_get(a, "time", &o), 0);
	ck_assert_str_eq(o.verb, "reschedule");
	ck_assert_int_eq(o.due, 12345);
	ck_assert_str_eq(o.cal_fp, "fp1");
	ck_assert_int_eq(o.actor, 1000);
	store_override_clear(&o);
	ck_assert_int_eq(store_override_get(a, "state", &o), 1);
	/* A second decision of the same kind replaces the first. */
	ck_assert_int_eq(store_override_put(a, "time", "send-now", 7, 0), 0);
	ck_assert_int_eq(store_override_get(a, "time", &o), 0);
	ck_assert_str_eq(o.verb, "send-now");
	store_override_clear(&o);
	/* Made before any version was known, it adopts the next one. */
	ck_assert_int_eq(store_override_put(b, "state", "hold", 0, 1000), 0);
	ck_assert_int_eq(store_override_get(b, "state", &o), 0);
	ck_assert_ptr_null(o.cal_fp);
	store_override_clear(&o);
	ck_assert_int_eq(store_set_cal_fp(b, "fp2"), 0);
	ck_assert_int_eq(store_override_adopt(b), 0);
	ck_assert_int_eq(store_override_get(b, "state", &o), 0);
	ck_assert_str_eq(o.cal_fp, "fp2");
	store_override_clear(&o);
	ck_assert_int_eq(store_override_drop(b, NULL), 0);
	ck_assert_int_eq(store_override_get(b, "state", &o), 1);
	/* An occurrence's deliveries, in channel order. */
	ck_assert_int_eq(store_list_occurrence("cal", "occ", NULL, &ds, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ds[0].channel, "alpha");
	ck_assert_str_eq(ds[1].channel, "zeta");
	ck_assert_str_eq(ds[1].cal_fp, "fp1");
	store_deliveries_free(ds, n);
}
END_TEST

START_TEST(test_suppressions)
{
	struct store_suppression	*s = NULL;
	size_t				 n = 0;

	ck_assert_int_eq(store_suppress("zed@example.org", true, 1000), 0);
	ck_assert_int_eq(store_suppress("amy@example.org", true, 0), 0);
	ck_assert_int_eq(store_suppress("amy@example.org", true, 0), 1);
	ck_assert_int_eq(store_suppressions(&s, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(s[0].email, "amy@example.org");
	ck_assert_str_eq(s[1].email, "zed@example.org");
	ck_assert_int_eq(s[1].actor, 1000);
	store_suppressions_free(s, n);
}
END_TEST

/* The test suite. */
static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_insert_get);
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_transitions);
	tcase_add_test(tc, test_batch_commits);
	tcase_add_test(tc, test_stmt_cache);
	tcase_add_test(tc, test_migrate_12);
	tcase_add_test(tc, test_due_and_counts);
	tcase_add_test(tc, test_counts_and_seqs);
	tcase_add_test(tc, test_release);
	tcase_add_test(tc, test_release_large);
	tcase_add_test(tc, test_list_filter);
	tcase_add_test(tc, test_persist_and_schema);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_suppressions);
	tcase_add_test(tc, test_published_read);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run_in(store_suite(), tmpdir));
}
