/*
 * Unit tests: every hot statement of the store (store_plan_hot) is planned
 * by SQLite on an index, never as a scan of the queue, and the statements
 * that replaced whole-queue scans (queue_counts, per-channel MINs) give the
 * same answers as the plain queries they replaced.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "daemon/store.h"
#include "daemon/store_view.h"
#include "daemon/log.h"
#include "tests/unit/unit.h"

static char	tmpdir[] = "/tmp/crier-check-queryplan-XXXXXX";
static char	dbdir[600];
static char	err[512];

/* Opens a fresh store in a new subdirectory. */
static void
setup(void)
{
	static int	n;

	snprintf(dbdir, sizeof(dbdir), "%s/db%d", tmpdir, n++);
	ck_assert_msg(store_open(dbdir, err, sizeof(err)) == 0, "%s", err);
}

/* Closes the store. */
static void
teardown(void)
{
	store_close();
}

/* Whether plan line LINE reads a table of the queue from end to end. */
static int
scans_queue(const char *line)
{
	static const char *const fine[] = {
		"SCAN q", "SCAN queue_counts", "SCAN json_each",
		"SCAN (subquery", "SCAN CONSTANT ROW",
	};
	size_t	i;

	if (strncmp(line, "SCAN ", 5) != 0)
		return (0);
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		if (strncmp(line, fine[i], strlen(fine[i])) == 0 &&
		    (line[strlen(fine[i])] == '\0' ||
		    line[strlen(fine[i])] == ' ' ||
		    line[strlen(fine[i])] == '-' || fine[i][5] == '('))
			return (0);
	return (1);
}

/* Checks the plan of every hot statement. */
static void
check_plans(void)
{
	const struct store_stmt	*hot;
	char			 plan[4096], *line, *save;
	size_t			 n, i;

	hot = store_plan_hot(&n);
	ck_assert_uint_ge(n, 20);
	for (i = 0; i < n; i++) {
		ck_assert_msg(store_plan_explain(hot[i].sql, plan,
		    sizeof(plan)) == 0, "%s: cannot be planned", hot[i].name);
		for (line = strtok_r(plan, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			/* Writes without a WHERE have no plan rows; reads have. */
			ck_assert_msg(!scans_queue(line), "%s: \"%s\" walks the "
			    "queue (no index)", hot[i].name, line);
			/* A page read in a loop must not sort all its rows each time. */
			ck_assert_msg(strstr(hot[i].name, "a page") == NULL ||
			    strstr(line, "TEMP B-TREE") == NULL, "%s: \"%s\" "
			    "sorts every row for each page", hot[i].name, line);
		}
	}
}

START_TEST(test_plans_empty)
{
	check_plans();
}
END_TEST

/* Inserts a delivery of channel CH due at DUE in STATE. */
static void
add(int i, const char *ch, int64_t due, enum dstate state)
{
	struct delivery	d;
	char		uid[32];

	memset(&d, 0, sizeof(d));
	snprintf(uid, sizeof(uid), "u%d", i);
	store_delivery_id("cal", uid, NULL, ch, d.id);
	d.channel = (char *)ch;
	d.calendar = (char *)"cal";
	d.uid = uid;
	d.due = due;
	d.state = state;
	d.summary = (char *)"summary";
	d.text = (char *)"hello";
	ck_assert_int_eq(store_insert(&d, 1000, "queued"), 0);
}

/* Runs the one-integer query SQL on the database file directly. */
static int64_t
direct(const char *sql, const char *arg)
{
	return (unit_db_int(dbdir, sql, arg, 0));
}

/*
 * agenda's next post from several instants of test_plans_and_answers_full's
 * rows (sent ones every 7th, some failed) agrees with the plain query, and
 * past the last pending one there is none.
 */
static void
check_next_pending(int64_t base)
{
	static const int64_t	 at[] = { 0, 1, 7000, 2993000, 2994000, 2999500,
	    3000001 };
	struct delivery		 d;
	char			 from[32];
	size_t			 i;
	int			 rc;
	int64_t			 want;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		snprintf(from, sizeof(from), "%lld", (long long)(base + at[i]));
		want = direct("SELECT COALESCE((SELECT rid FROM deliveries WHERE"
		    " due >= CAST(?1 AS INTEGER) AND state IN ('scheduled',"
		    " 'retrying', 'held') ORDER BY due, channel, id LIMIT 1), 0)",
		    from);
		rc = store_view_next_pending(base + at[i], &d);
		ck_assert_int_eq(rc, want == 0 ? 1 : 0);
		if (rc != 0)
			continue;
		ck_assert_int_eq(direct("SELECT rid FROM deliveries WHERE id = ?",
		    d.id), want);
		ck_assert_int_ge(d.due, base + at[i]);
		store_delivery_clear(&d);
	}
}

START_TEST(test_plans_and_answers_full)
{
	static const char *const chans[] = { "a", "b", "gone" };
	int64_t		 counts[DS_NSTATES], t, base = 1800000000000LL;
	struct store_update u;
	struct delivery	*ds;
	size_t		 n;
	int		 i, s;
	char		 id[DELIVERY_ID_LEN + 1], uid[32];

	ck_assert_int_eq(store_begin(), 0);
	for (i = 0; i < 3000; i++)
		add(i, chans[i % 3], base + (int64_t)(3000 - i) * 1000,
		    i % 7 == 0 ? DS_SENT : DS_SCHEDULED);
	ck_assert_int_eq(store_commit(), 0);
	/* Some go `retrying` (next attempt earlier than any due), some fail. */
	for (i = 1; i < 3000; i += 10) {
		if (i % 7 == 0)
			continue;
		snprintf(uid, sizeof(uid), "u%d", i);
		store_delivery_id("cal", uid, NULL, chans[i % 3], id);
		memset(&u, 0, sizeof(u));
		u.next_attempt = base - 5000 + i;
		ck_assert_int_eq(store_transition(id, 1u << DS_SCHEDULED,
		    DS_RETRYING, &u, -1, "retrying", NULL, NULL), 0);
		if (i % 3 == 1) {
			ck_assert_int_eq(store_transition(id, 1u << DS_RETRYING,
			    DS_FAILED, NULL, -1, "failed", NULL, NULL), 0);
		}
	}
	check_plans();

	/* queue_counts agrees with counting the table. */
	ck_assert_int_eq(store_counts(counts), 0);
	for (s = 0; s < DS_NSTATES; s++) {
		char	sql[128];

		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM deliveries"
		    " WHERE state = '%s'", dstate_names[s]);
		ck_assert_int_eq(counts[s], direct(sql, NULL));
	}
	/* The indexed MINs agree with the plain ones. */
	ck_assert_int_eq(store_next_wakeup(&t), 0);
	ck_assert_int_eq(t, direct("SELECT MIN(CASE state WHEN 'scheduled'"
	    " THEN due ELSE next_attempt END) FROM deliveries WHERE state IN"
	    " ('scheduled', 'retrying')", NULL));
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(store_next_wakeup_for(chans[i], NULL, &t), 0);
		ck_assert_int_eq(t, direct("SELECT MIN(CASE state WHEN"
		    " 'scheduled' THEN due ELSE next_attempt END) FROM deliveries"
		    " WHERE state IN ('scheduled', 'retrying') AND channel = ?",
		    chans[i]));
	}
	ck_assert_int_eq(store_next_wakeup_for(NULL, "[\"a\",\"b\"]", &t), 0);
	ck_assert_int_eq(t, direct("SELECT MIN(CASE state WHEN 'scheduled'"
	    " THEN due ELSE next_attempt END) FROM deliveries WHERE state IN"
	    " ('scheduled', 'retrying') AND channel = ?", "gone"));
	ck_assert_int_eq(store_next_wakeup_for(NULL, "[\"a\",\"b\",\"gone\"]",
	    &t), 1);
	/* Due of the other channels: only "gone", by due, then as queued. */
	ck_assert_int_eq(store_due_for(NULL, "[\"a\",\"b\"]", base + 3000000,
	    100000, &ds, &n), 0);
	ck_assert_int_eq((int64_t)n, direct("SELECT COUNT(*) FROM deliveries"
	    " WHERE channel = ? AND state IN ('scheduled', 'retrying')", "gone"));
	for (i = 1; i < (int)n; i++) {
		ck_assert_str_eq(ds[i].channel, "gone");
		ck_assert(ds[i - 1].due < ds[i].due || (ds[i - 1].due ==
		    ds[i].due && direct("SELECT rid FROM deliveries WHERE id = ?",
		    ds[i - 1].id) < direct("SELECT rid FROM deliveries WHERE"
		    " id = ?", ds[i].id)));
	}
	store_deliveries_free(ds, n);
	/* Due of one channel at a time: retrying ones whose attempt came. */
	ck_assert_int_eq(store_due_for("a", NULL, base, 100000, &ds, &n), 0);
	ck_assert_int_eq((int64_t)n, direct("SELECT COUNT(*) FROM deliveries"
	    " WHERE channel = ? AND state = 'retrying'", "a"));
	store_deliveries_free(ds, n);
	check_next_pending(base);
}
END_TEST

START_TEST(test_list_filters)
{
	struct store_filter	 f;
	struct delivery		*ds;
	size_t			 n;
	int			 i;
	int64_t			 base = 1800000000000LL;

	for (i = 0; i < 40; i++)
		add(i, i % 2 ? "a" : "b", base + i * 1000,
		    i % 4 == 0 ? DS_HELD : DS_SCHEDULED);
	memset(&f, 0, sizeof(f));
	f.state = DS_HELD;
	f.channel = "b";
	f.from = base + 10000;
	f.to = base + 30000;
	ck_assert_int_eq(store_list(&f, &ds, &n), 0);
	ck_assert_uint_eq(n, 5);	/* 12, 16, 20, 24, 28 */
	ck_assert_int_eq(ds[0].due, base + 12000);
	store_deliveries_free(ds, n);
	f.channel = NULL;
	ck_assert_int_eq(store_list(&f, &ds, &n), 0);
	ck_assert_uint_eq(n, 5);
	store_deliveries_free(ds, n);
	f.state = -1;
	f.channel = "a";
	f.limit = 3;
	ck_assert_int_eq(store_list(&f, &ds, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ds[0].due, base + 11000);
	store_deliveries_free(ds, n);
	f.channel = NULL;
	f.limit = 0;
	f.from = 0;
	ck_assert_int_eq(store_list(&f, &ds, &n), 0);
	ck_assert_uint_eq(n, 30);
	store_deliveries_free(ds, n);
}
END_TEST

/* The suite. */
static Suite *
queryplan_suite(void)
{
	Suite	*s = suite_create("queryplan");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plans_empty);
	tcase_add_test(tc, test_plans_and_answers_full);
	tcase_add_test(tc, test_list_filters);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run_in(queryplan_suite(), tmpdir));
}
