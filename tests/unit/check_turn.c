/* Unit tests for daemon/turn.c: what the loop's turns cost (turn_stats). */
#include <config.h>

#include <stdint.h>
#include <time.h>

#include <check.h>
#include <uv.h>

#include "daemon/turn.h"
#include "tests/unit/unit.h"

#define BUSY_MS	30	/* what the first timer's callback holds the loop */
#define IDLE_MS	300	/* what the loop then waits for the second timer */

static uint64_t	started_ns, ended_ns;

/* Sleeps MS milliseconds: the loop's thread is blocked, as in a long callback. */
static void
hold(int ms)
{
	struct timespec	ts = { 0, ms * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

/* Second timer: the end of the run, after IDLE_MS of waiting. */
static void
on_last(uv_timer_t *t)
{
	ended_ns = uv_hrtime();
	uv_close((uv_handle_t *)t, NULL);
}

/* First timer: a turn busy for BUSY_MS, then a wait of IDLE_MS. */
static void
on_busy(uv_timer_t *t)
{
	hold(BUSY_MS);
	uv_update_time(t->loop);	/* the wait counts from now */
	uv_timer_start(t, on_last, IDLE_MS, 0);
}

/*
 * A callback that holds the loop counts as one busy turn at least that
 * long; the time spent waiting in epoll for the next timer does not.
 */
START_TEST(test_busy_not_idle)
{
	uv_loop_t		loop;
	uv_timer_t		t;
	struct turn_stats	st;

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(turn_init(&loop), 0);
	turn_stats(&st);
	ck_assert_uint_eq(st.turns, 0);
	ck_assert_int_eq(st.longest_at, 0);
	ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
	started_ns = uv_hrtime();
	ck_assert_int_eq(uv_timer_start(&t, on_busy, 10, 0), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	turn_stats(&st);
	ck_assert_uint_ge(st.turns, 2);
	ck_assert_uint_ge(st.longest_us, BUSY_MS * 1000);
	ck_assert_int_gt(st.longest_at, 0);
	ck_assert_uint_ge(st.over[0], 1);	/* over 5 ms */
	ck_assert_uint_ge(st.over[1], 1);	/* over 10 ms */
	ck_assert_uint_ge(st.busy_us, BUSY_MS * 1000);
	/* The whole run took BUSY_MS + IDLE_MS at least; the wait is not busy. */
	ck_assert_uint_ge((ended_ns - started_ns) / 1000, (BUSY_MS + IDLE_MS) * 1000);
	ck_assert_uint_lt(st.busy_us, (ended_ns - started_ns) / 1000 - IDLE_MS * 1000 / 2);
	turn_close();
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* The test suite. */
static Suite *
turn_suite(void)
{
	Suite	*s = suite_create("turn");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_busy_not_idle);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(turn_suite(), 0));
}
