/*
 * Unit tests for store_post.c: the posts of one turn in one transaction, a
 * savepoint each, so that a post the store refuses leaves the others.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/store.h"
#include "daemon/store_post.h"
#include "tests/unit/unit.h"

static char	tmpdir[] = "/tmp/crier-check-store-post-XXXXXX";
static char	dir[600];
static char	err[512];

/* Opens a fresh store in a new subdirectory. */
static void
setup(void)
{
	static int	n;

	snprintf(dir, sizeof(dir), "%s/db%d", tmpdir, n++);
	ck_assert_msg(store_open(dir, err, sizeof(err)) == 0, "%s", err);
}

/* Closes it. */
static void
teardown(void)
{
	store_close();
}

/* Fills D as the delivery of post UID to channel CH. */
static void
fill(struct delivery *d, const char *uid, const char *ch)
{
	memset(d, 0, sizeof(*d));
	store_delivery_id(NULL, uid, NULL, ch, d->id);
	d->channel = (char *)ch;
	d->state = DS_SCHEDULED;
	d->due = 1900000000000LL;
	d->uid = (char *)uid;
	d->summary = (char *)uid;
	d->text = (char *)uid;
}

/* 1 if delivery ID is stored. */
static int
stored(const char *id)
{
	struct delivery	d;
	int		rc;

	memset(&d, 0, sizeof(d));
	rc = store_get(id, &d);
	ck_assert_int_ge(rc, 0);
	store_delivery_clear(&d);
	return (rc == 0);
}

/* How many events delivery ID has. */
static size_t
events(const char *id)
{
	struct store_event	*ev = NULL;
	size_t			 n = 0;

	ck_assert_int_eq(store_events_for(id, &ev, &n), 0);
	store_events_free(ev, n);
	return (n);
}

/* A post refused in the middle (its second delivery's id is taken) leaves no trace; the others stay. */
START_TEST(test_savepoints)
{
	struct delivery	a, b[2], c;

	ck_assert_int_eq(store_post_begin(), 0);
	fill(&a, "post-a", "m");
	ck_assert_int_eq(store_post_insert(&a, 1, 1000), 0);
	fill(&b[0], "post-b", "m");
	fill(&b[1], "post-a", "m");	/* a's id: the insert is refused */
	ck_assert_int_eq(store_post_insert(b, 2, 1000), -1);
	ck_assert_int_eq(store_post_intact(), 1);
	fill(&c, "post-c", "n");
	ck_assert_int_eq(store_post_insert(&c, 1, 1000), 0);
	ck_assert_int_eq(store_post_commit(), 0);
	ck_assert_int_eq(store_post_intact(), 0);

	/* Durable: read back after the database is closed and opened again. */
	store_close();
	ck_assert_msg(store_open(dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(stored(a.id), 1);
	ck_assert_int_eq(stored(c.id), 1);
	ck_assert_int_eq(stored(b[0].id), 0);
	ck_assert_uint_eq(events(a.id), 1);
	ck_assert_uint_eq(events(c.id), 1);
	ck_assert_uint_eq(events(b[0].id), 0);
}
END_TEST

/* A single refused post inside the turn leaves the one before it. */
START_TEST(test_single_refused)
{
	struct delivery	a, again;

	ck_assert_int_eq(store_post_begin(), 0);
	fill(&a, "post-x", "m");
	ck_assert_int_eq(store_post_insert(&a, 1, 1000), 0);
	fill(&again, "post-x", "m");
	ck_assert_int_eq(store_post_insert(&again, 1, 1000), -1);
	ck_assert_int_eq(store_post_intact(), 1);
	ck_assert_int_eq(store_post_commit(), 0);
	ck_assert_int_eq(stored(a.id), 1);
	ck_assert_uint_eq(events(a.id), 1);
}
END_TEST

/* A turn abandoned leaves nothing. */
START_TEST(test_rollback)
{
	struct delivery	a[2];

	ck_assert_int_eq(store_post_begin(), 0);
	ck_assert_int_eq(store_post_begin(), -1);	/* one turn at a time */
	fill(&a[0], "post-r", "m");
	fill(&a[1], "post-r", "n");
	ck_assert_int_eq(store_post_insert(a, 2, 1000), 0);
	store_post_rollback();
	ck_assert_int_eq(stored(a[0].id), 0);
	ck_assert_int_eq(stored(a[1].id), 0);
	/* Outside a turn a post is its own transaction. */
	ck_assert_int_eq(store_post_insert(a, 2, 1000), 0);
	ck_assert_int_eq(stored(a[0].id), 1);
	ck_assert_int_eq(stored(a[1].id), 1);
}
END_TEST

/* The test suite. */
static Suite *
store_post_suite(void)
{
	Suite	*s = suite_create("store_post");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_savepoints);
	tcase_add_test(tc, test_single_refused);
	tcase_add_test(tc, test_rollback);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run_in(store_post_suite(), tmpdir));
}
