/* Unit tests: durations as people write them (common/human.c). */
#include <config.h>

#include <check.h>
#include <stdlib.h>

#include "common/human.h"
#include "tests/unit/unit.h"

START_TEST(test_durations)
{
	char	b[32];

	ck_assert_str_eq(human_duration(0, b, sizeof(b)), "0s");
	ck_assert_str_eq(human_duration(45, b, sizeof(b)), "45s");
	ck_assert_str_eq(human_duration(90, b, sizeof(b)), "1m 30s");
	ck_assert_str_eq(human_duration(3 * 3600 + 5 * 60, b, sizeof(b)), "3h 5m");
	ck_assert_str_eq(human_duration(3 * 3600 + 5 * 60 + 9, b, sizeof(b)), "3h 5m");
	ck_assert_str_eq(human_duration(2 * 86400, b, sizeof(b)), "2d");
	ck_assert_str_eq(human_duration(2 * 86400 + 300, b, sizeof(b)), "2d");
	ck_assert_str_eq(human_duration(86400 + 4 * 3600, b, sizeof(b)), "1d 4h");
	ck_assert_str_eq(human_duration(-900, b, sizeof(b)), "15m");
	/* The 60207092 s. */
	ck_assert_str_eq(human_duration(60207092, b, sizeof(b)), "696d 20h");
	/* A short buffer is cut, never overrun. */
	ck_assert_str_eq(human_duration(86400 + 4 * 3600, b, 3), "1d");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("human");
	TCase	*tc = tcase_create("human");

	tcase_add_test(tc, test_durations);
	suite_add_tcase(s, tc);
	return (unit_run(s, 1));
}
