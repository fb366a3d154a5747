/* Unit tests for ctlconn.c: telling whether peers' uids can be seen. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/ctlconn.h"

/* The initial namespace maps every uid as itself. */
START_TEST(test_identity_map)
{
	char	msg[512] = "";

	ck_assert_int_eq(ctlconn_userns_check("         0          0 4294967295\n",
	    msg, sizeof(msg)), 0);
	ck_assert_int_eq(ctlconn_userns_check("0 0 4294967295", msg,
	    sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
}
END_TEST

/* PrivateUsers= and unshare maps: peers outside show as the overflow uid. */
START_TEST(test_private_users)
{
	char	msg[512];

	/* systemd's PrivateUsers=yes: root and the service user only. */
	ck_assert_int_eq(ctlconn_userns_check("         0          0          1\n"
	    "       998        998          1\n", msg, sizeof(msg)), 1);
	ck_assert_ptr_nonnull(strstr(msg, "0 0 1"));
	ck_assert_ptr_nonnull(strstr(msg, ", ..."));
	ck_assert_ptr_nonnull(strstr(msg, "PrivateUsers"));
	/* unshare --map-root-user as uid 1000. */
	ck_assert_int_eq(ctlconn_userns_check("0 1000 1\n", msg, sizeof(msg)), 1);
	ck_assert_ptr_nonnull(strstr(msg, "0 1000 1\""));
	/* A container with a large shifted range. */
	ck_assert_int_eq(ctlconn_userns_check("0 100000 65536\n", msg,
	    sizeof(msg)), 1);
	ck_assert_int_eq(ctlconn_userns_check("", msg, sizeof(msg)), -1);
	ck_assert_int_eq(ctlconn_userns_check("garbage", msg, sizeof(msg)), -1);
	ck_assert_int_gt(ctlconn_overflow_uid(), 0);
}
END_TEST

/* The test suite. */
static Suite *
ctlconn_suite(void)
{
	Suite	*s = suite_create("ctlconn");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_identity_map);
	tcase_add_test(tc, test_private_users);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(ctlconn_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
