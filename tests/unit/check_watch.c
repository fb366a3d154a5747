/* Tests for daemon/watch.c: file changes, renames over, debouncing. */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/watch.h"
#include "tests/unit/testpeer.h"
#include "tests/unit/unit.h"

#define DEBOUNCE	100	/* ms */
#define MAX_CALLS	16

/* One action to run on the loop after a delay. */
struct action {
	uv_timer_t	 timer;
	void		(*fn)(const char *);
	char		 arg[600];
};

static uv_loop_t	 loop;
static char		 base[] = "/tmp/check_watch.XXXXXX";
static char		 dir[600];
static char		 file[700];
static struct watch	*w;
static int		 ncalls;
static uint64_t		 call_at[MAX_CALLS];	/* uv_now of each call */
static char		 seen[MAX_CALLS][32];	/* file content at each call */
static bool		 free_in_call;

/* Writes S to PATH, replacing it in place (truncate and write). */
static void
put(const char *path, const char *s)
{
	FILE	*f;

	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert_int_eq(fputs(s, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* Action: rewrites the watched file in place with ARG. */
static void
do_write(const char *arg)
{
	put(file, arg);
}

/* Action: writes ARG to a temporary file and renames it over the file. */
static void
do_rename_over(const char *arg)
{
	char	tmp[800];

	snprintf(tmp, sizeof(tmp), "%s/.cal.ics.tmp", dir);
	put(tmp, arg);
	ck_assert_int_eq(rename(tmp, file), 0);
}

/* Action: writes another file in the same directory, then renames it. */
static void
do_other(const char *arg)
{
	char	a[800], b[800];

	snprintf(a, sizeof(a), "%s/other.ics", dir);
	snprintf(b, sizeof(b), "%s/other.ics~", dir);
	put(a, arg);
	put(b, arg);
	ck_assert_int_eq(rename(b, a), 0);
}

/* Action: removes the watched file. */
static void
do_unlink(const char *arg)
{
	(void)arg;
	ck_assert_int_eq(unlink(file), 0);
}

/* Action: removes the file and its directory. */
static void
do_rmdir(const char *arg)
{
	(void)arg;
	unlink(file);
	ck_assert_int_eq(rmdir(dir), 0);
}

/* Action: makes the directory, then writes ARG to the file. */
static void
do_mkdir_write(const char *arg)
{
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	put(file, arg);
}

/* Frees an action once its timer is closed. */
static void
action_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Runs an action and disposes of it. */
static void
action_cb(uv_timer_t *t)
{
	struct action	*a = t->data;

	a->fn(a->arg);
	uv_close((uv_handle_t *)t, action_closed);
}

/* Schedules FN(ARG) MS from now on the loop. */
static void
at(uint64_t ms, void (*fn)(const char *), const char *arg)
{
	struct action	*a;

	a = calloc(1, sizeof(*a));
	ck_assert_ptr_nonnull(a);
	a->fn = fn;
	snprintf(a->arg, sizeof(a->arg), "%s", arg != NULL ? arg : "");
	ck_assert_int_eq(uv_timer_init(&loop, &a->timer), 0);
	a->timer.data = a;
	ck_assert_int_eq(uv_timer_start(&a->timer, action_cb, ms, 0), 0);
}

/* The watch callback: counts and notes when and what it saw. */
static void
on_change(void *arg)
{
	FILE	*f;
	size_t	 n = 0;

	ck_assert_ptr_eq(arg, &ncalls);
	if (ncalls < MAX_CALLS) {
		call_at[ncalls] = uv_now(&loop);
		seen[ncalls][0] = '\0';
		if ((f = fopen(file, "r")) != NULL) {
			n = fread(seen[ncalls], 1, sizeof(seen[0]) - 1, f);
			seen[ncalls][n] = '\0';
			fclose(f);
		} else
			snprintf(seen[ncalls], sizeof(seen[0]), "(none)");
	}
	ncalls++;
	if (free_in_call) {
		watch_free(w);
		w = NULL;
	}
}

/* Runs the loop until N calls or MS ms, whichever first; returns ncalls. */
static int
run_until(int n, uint64_t ms)
{
	return tp_run_until(&loop, &ncalls, n, ms);
}

/* Runs the loop for MS ms whatever happens; returns ncalls. */
static int
settle(uint64_t ms)
{
	return run_until(MAX_CALLS + 1, ms);
}

/* Runs the loop until a call saw content S, or MS ms; returns whether. */
static bool
run_until_seen(const char *s, uint64_t ms)
{
	uint64_t	end = uv_now(&loop) + ms;

	for (;;) {
		if (ncalls > 0 && ncalls <= MAX_CALLS &&
		    strcmp(seen[ncalls - 1], s) == 0)
			return true;
		if (uv_now(&loop) >= end)
			return false;
		run_until(ncalls + 1, end - uv_now(&loop));
	}
}

/* A fresh loop, directory and file for each test. */
static void
setup(void)
{
	static int	n;

	ncalls = 0;
	free_in_call = false;
	memset(call_at, 0, sizeof(call_at));
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	/* Check forks each test (or not: CK_FORK=no): pid and count. */
	snprintf(dir, sizeof(dir), "%s/d%ld.%d", base, (long)getpid(), n++);
	snprintf(file, sizeof(file), "%s/cal.ics", dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	put(file, "v0");
	w = NULL;
}

/* Frees the watch and checks that no handle is left behind. */
static void
teardown(void)
{
	watch_free(w);
	w = NULL;
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* Starts watching the test file. */
static void
watch_file(void)
{
	w = watch_new(&loop, file, DEBOUNCE, on_change, &ncalls);
	ck_assert_ptr_nonnull(w);
}

START_TEST(test_write_debounced)
{
	uint64_t	t0;

	watch_file();
	t0 = uv_now(&loop);
	at(0, do_write, "v1");
	at(30, do_write, "v2");
	at(60, do_write, "v3");
	at(90, do_write, "v4");
	ck_assert_int_eq(run_until(1, 2000), 1);
	/* One call, DEBOUNCE after the last write (uv_now is coarse). */
	ck_assert_uint_ge(call_at[0] - t0, 90 + DEBOUNCE - 5);
	ck_assert_str_eq(seen[0], "v4");
	ck_assert_int_eq(settle(3 * DEBOUNCE), 1);
}
END_TEST

START_TEST(test_nothing_no_call)
{
	watch_file();
	ck_assert_int_eq(settle(3 * DEBOUNCE), 0);
}
END_TEST

START_TEST(test_rename_over)
{
	watch_file();
	at(0, do_rename_over, "r1");
	ck_assert_int_eq(run_until(1, 2000), 1);
	ck_assert_str_eq(seen[0], "r1");
	ck_assert_int_eq(settle(2 * DEBOUNCE), 1);
}
END_TEST

START_TEST(test_rename_twice)
{
	watch_file();
	at(0, do_rename_over, "r1");
	ck_assert_int_eq(run_until(1, 2000), 1);
	ck_assert_str_eq(seen[0], "r1");
	/* A watch on the first file's inode would miss this one. */
	at(0, do_rename_over, "r2");
	ck_assert_int_eq(run_until(2, 2000), 2);
	ck_assert_str_eq(seen[1], "r2");
	at(0, do_write, "w3");
	ck_assert_int_eq(run_until(3, 2000), 3);
	ck_assert_str_eq(seen[2], "w3");
	ck_assert_int_eq(settle(2 * DEBOUNCE), 3);
}
END_TEST

START_TEST(test_other_file)
{
	watch_file();
	at(0, do_other, "x");
	at(30, do_other, "y");
	ck_assert_int_eq(settle(4 * DEBOUNCE), 0);
	/* Still watching ours. */
	at(0, do_write, "v1");
	ck_assert_int_eq(run_until(1, 2000), 1);
}
END_TEST

START_TEST(test_remove_recreate)
{
	watch_file();
	/* Quickly: one call, seeing the new file. */
	at(0, do_unlink, NULL);
	at(20, do_write, "again");
	ck_assert_int_eq(run_until(1, 2000), 1);
	ck_assert_str_eq(seen[0], "again");
	ck_assert_int_eq(settle(2 * DEBOUNCE), 1);
	/* Slowly: a call for the removal, another for the new file. */
	at(0, do_unlink, NULL);
	ck_assert_int_eq(run_until(2, 2000), 2);
	ck_assert_str_eq(seen[1], "(none)");
	at(0, do_write, "back");
	ck_assert_int_eq(run_until(3, 2000), 3);
	ck_assert_str_eq(seen[2], "back");
	ck_assert_int_eq(settle(2 * DEBOUNCE), 3);
}
END_TEST

START_TEST(test_free_pending)
{
	/* A long debounce: the call is surely still pending when freed, even on a loaded machine. */
	w = watch_new(&loop, file, 10 * DEBOUNCE, on_change, &ncalls);
	ck_assert_ptr_nonnull(w);
	at(0, do_write, "v1");
	ck_assert_int_eq(settle(DEBOUNCE / 2), 0);
	watch_free(w);
	w = NULL;
	at(0, do_write, "v2");
	ck_assert_int_eq(settle(15 * DEBOUNCE), 0);
}
END_TEST

START_TEST(test_free_in_callback)
{
	watch_file();
	free_in_call = true;
	at(0, do_write, "v1");
	ck_assert_int_eq(run_until(1, 2000), 1);
	ck_assert_ptr_null(w);
	at(0, do_write, "v2");
	ck_assert_int_eq(settle(2 * DEBOUNCE), 1);
}
END_TEST

START_TEST(test_dir_replaced)
{
	watch_file();
	at(0, do_rmdir, NULL);
	at(50, do_mkdir_write, "new");
	/* The removal may be seen first; the new file must be seen last. */
	ck_assert_msg(run_until_seen("new", 3000), "new file not seen");
	ck_assert_int_eq(settle(2 * DEBOUNCE) <= 3, 1);
	/* The watch set up again notices later changes. */
	ncalls = 0;
	at(0, do_rename_over, "newer");
	ck_assert_int_eq(run_until(1, 2000), 1);
	ck_assert_str_eq(seen[0], "newer");
}
END_TEST

START_TEST(test_dir_missing_at_start)
{
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	watch_file();
	at(50, do_mkdir_write, "late");
	ck_assert_int_eq(run_until(1, 3000), 1);
	ck_assert_str_eq(seen[0], "late");
	at(0, do_write, "later");
	ck_assert_int_eq(run_until(2, 2000), 2);
	ck_assert_str_eq(seen[1], "later");
}
END_TEST

START_TEST(test_bad_args)
{
	char	p[800];

	snprintf(p, sizeof(p), "%s/", dir);
	ck_assert_ptr_null(watch_new(&loop, p, DEBOUNCE, on_change, NULL));
	ck_assert_ptr_null(watch_new(&loop, file, DEBOUNCE, NULL, NULL));
	ck_assert_ptr_null(watch_new(&loop, NULL, DEBOUNCE, on_change, NULL));
	watch_free(NULL);
}
END_TEST

static Suite *
watch_suite(void)
{
	Suite	*s = suite_create("watch");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_write_debounced);
	tcase_add_test(tc, test_nothing_no_call);
	tcase_add_test(tc, test_rename_over);
	tcase_add_test(tc, test_rename_twice);
	tcase_add_test(tc, test_other_file);
	tcase_add_test(tc, test_remove_recreate);
	tcase_add_test(tc, test_free_pending);
	tcase_add_test(tc, test_free_in_callback);
	tcase_add_test(tc, test_dir_replaced);
	tcase_add_test(tc, test_dir_missing_at_start);
	tcase_add_test(tc, test_bad_args);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	rc;

	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	rc = unit_run(watch_suite(), 0);
	tp_rmtree(base, "check_watch");
	return rc;
}
