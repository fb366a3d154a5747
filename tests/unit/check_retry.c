/* Unit tests for retry.c: token buckets, Retry-After and reset headers, backoff. */
#include <config.h>

#include <stdlib.h>

#include <check.h>

#include "daemon/retry.h"
#include "tests/unit/unit.h"

#define T0	((int64_t)1800000000000)	/* 2027-01-15T08:00:00Z, in ms */

/* A fresh bucket is full: N tokens go at once, the next waits period/N. */
START_TEST(test_bucket_burst)
{
	struct cfg_rate	rate = { 3, 60 };
	struct retry_bucket	b = { 0, 0 };
	int64_t		w;

	ck_assert_int_eq(retry_bucket_take(&b, &rate, T0), 0);
	ck_assert_int_eq(retry_bucket_take(&b, &rate, T0), 0);
	ck_assert_int_eq(retry_bucket_take(&b, &rate, T0), 0);
	w = retry_bucket_take(&b, &rate, T0);
	/* One token every 20 s. */
	ck_assert_int_ge(w, 19990);
	ck_assert_int_le(w, 20010);
	/* Not yet... */
	ck_assert_int_gt(retry_bucket_take(&b, &rate, T0 + 10000), 0);
	/* ...and then exactly one. */
	ck_assert_int_eq(retry_bucket_take(&b, &rate, T0 + 20001), 0);
	ck_assert_int_gt(retry_bucket_take(&b, &rate, T0 + 20001), 0);
}
END_TEST

/* Refill never goes past the bucket's size, however long it sat idle. */
START_TEST(test_bucket_cap)
{
	struct cfg_rate	rate = { 2, 10 };
	struct retry_bucket	b = { 0, 0 };
	int		i, ok = 0;

	ck_assert_int_eq(retry_bucket_take(&b, &rate, T0), 0);
	ck_assert_int_eq(retry_bucket_take(&b, &rate, T0), 0);
	for (i = 0; i < 10; i++)
		if (retry_bucket_take(&b, &rate, T0 + 86400000) == 0)
			ok++;
	ck_assert_int_eq(ok, 2);
}
END_TEST

/* A lowered rate (after a reload) caps what a saved bucket holds. */
START_TEST(test_bucket_lowered)
{
	struct cfg_rate	rate = { 1, 60 };
	struct retry_bucket	b = { 30.0, T0 };

	ck_assert_int_eq(retry_bucket_take(&b, &rate, T0), 0);
	ck_assert_int_gt(retry_bucket_take(&b, &rate, T0), 0);
}
END_TEST

/* A saved bucket (tokens, at) goes on where it was: the restart case. */
START_TEST(test_bucket_saved)
{
	struct cfg_rate	rate = { 2, 10 };
	struct retry_bucket	b = { 0.5, T0 };

	/* 0.5 tokens at T0; 0.2 per second: a whole one at T0 + 2.5 s. */
	ck_assert_int_gt(retry_bucket_take(&b, &rate, T0 + 2000), 0);
	ck_assert_int_eq(retry_bucket_take(&b, &rate, T0 + 2600), 0);
}
END_TEST

/* No rate, no limit. */
START_TEST(test_bucket_none)
{
	struct cfg_rate	rate = { 0, 0 };
	struct retry_bucket	b = { 0, 0 };
	int		i;

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(retry_bucket_take(&b, &rate, T0), 0);
}
END_TEST

/* Retry-After in seconds, and as each HTTP-date form. */
START_TEST(test_retry_after)
{
	int64_t	d;

	ck_assert_int_eq(retry_after_parse("120", T0, &d), 0);
	ck_assert_int_eq(d, 120000);
	ck_assert_int_eq(retry_after_parse(" 0 ", T0, &d), 0);
	ck_assert_int_eq(d, 0);
	/* T0 is Fri, 15 Jan 2027 08:00:00 GMT. */
	ck_assert_int_eq(retry_after_parse("Fri, 15 Jan 2027 08:00:30 GMT", T0,
	    &d), 0);
	ck_assert_int_eq(d, 30000);
	ck_assert_int_eq(retry_after_parse("Friday, 15-Jan-27 08:01:00 GMT", T0,
	    &d), 0);
	ck_assert_int_eq(d, 60000);
	ck_assert_int_eq(retry_after_parse("Fri Jan 15 08:00:05 2027", T0, &d), 0);
	ck_assert_int_eq(d, 5000);
	/* A date in the past means now. */
	ck_assert_int_eq(retry_after_parse("Thu, 14 Jan 2027 08:00:00 GMT", T0,
	    &d), 0);
	ck_assert_int_eq(d, 0);
	ck_assert_int_eq(retry_after_parse("soon", T0, &d), -1);
	ck_assert_int_eq(retry_after_parse("-5", T0, &d), -1);
	ck_assert_int_eq(retry_after_parse("1.5", T0, &d), -1);
	ck_assert_int_eq(retry_after_parse("", T0, &d), -1);
	ck_assert_int_eq(retry_after_parse(NULL, T0, &d), -1);
}
END_TEST

/* Rate-limit reset: delta seconds, Unix time, ISO 8601, HTTP-date. */
START_TEST(test_reset)
{
	int64_t	d;

	ck_assert_int_eq(retry_ratelimit_reset_parse("42", T0, &d), 0);
	ck_assert_int_eq(d, 42000);
	ck_assert_int_eq(retry_ratelimit_reset_parse("1800000060", T0, &d), 0);
	ck_assert_int_eq(d, 60000);
	ck_assert_int_eq(retry_ratelimit_reset_parse("2027-01-15T08:05:00.000Z", T0,
	    &d), 0);
	ck_assert_int_eq(d, 300000);
	ck_assert_int_eq(retry_ratelimit_reset_parse("Fri, 15 Jan 2027 08:00:10 GMT",
	    T0, &d), 0);
	ck_assert_int_eq(d, 10000);
	ck_assert_int_eq(retry_ratelimit_reset_parse("later", T0, &d), -1);
}
END_TEST

/* Backoff doubles, is capped, and jitters within +-20%. */
START_TEST(test_backoff)
{
	int64_t		d;
	uint32_t	r;
	int		a;

	for (a = 1; a <= 12; a++)
		for (r = 0; r < 5000; r += 37) {
			int64_t want = 30000LL << (a - 1);

			if (want > 3600000)
				want = 3600000;
			d = retry_backoff(a, 30000, 3600000, r * 2654435761u);
			ck_assert_int_ge(d, want * 8 / 10);
			ck_assert_int_le(d, want * 12 / 10);
		}
	ck_assert_int_eq(retry_backoff(3, 1000, 3600000, 0), 3200);
}
END_TEST

static Suite *
retry_suite(void)
{
	Suite	*s = suite_create("retry");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_bucket_burst);
	tcase_add_test(tc, test_bucket_cap);
	tcase_add_test(tc, test_bucket_lowered);
	tcase_add_test(tc, test_bucket_saved);
	tcase_add_test(tc, test_bucket_none);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(retry_suite(), 0));
}
