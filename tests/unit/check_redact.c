/* Unit tests for redact.c: calendar URLs as crier shows them. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/redact.h"
#include "tests/unit/unit.h"

/* Redacts URL and checks the result is WANT. */
static void
expect(const char *url, const char *want)
{
	char	out[512];

	ck_assert_str_eq(redact_url(url, out, sizeof(out)), want);
}

/* The password and every query value are masked; the rest stays readable. */
START_TEST(test_secrets_masked)
{
	expect("https://alice:S3cret@host/cal.ics?token=T",
	    "https://alice:***@host/cal.ics?token=***");
	expect("https://host:8443/a/b.ics?token=T&format=ics#frag",
	    "https://host:8443/a/b.ics?token=***&format=***");
	expect("https://alice@host/c.ics", "https://alice@host/c.ics");
	expect("https://a:b@c:d@host/x", "https://a:***@host/x");
	expect("https://host/x?opaque", "https://host/x?***");
	expect("https://host/x?a=1&&b=", "https://host/x?a=***&***&b=***");
	expect("http://[::1]:8080/cal.ics", "http://[::1]:8080/cal.ics");
	expect("https://host/p@th?k=v", "https://host/p@th?k=***");
	expect("https://u:p@host", "https://u:***@host");
	expect("not a url", "not a url");
	expect("", "");
}
END_TEST

/* A small buffer truncates, never overflows, and never ends inside a secret. */
START_TEST(test_truncation)
{
	char	out[16];
	size_t	i;

	memset(out, 'x', sizeof(out));
	redact_url("https://alice:S3cret@host/cal.ics?token=T", out, sizeof(out));
	ck_assert_int_eq(strlen(out), sizeof(out) - 1);
	ck_assert_ptr_null(strstr(out, "S3"));
	for (i = 1; i < 60; i++) {
		char	*buf = malloc(i);

		ck_assert_ptr_nonnull(buf);
		redact_url("https://alice:S3cret@host/cal.ics?token=T0k", buf, i);
		ck_assert_int_lt(strlen(buf), i);
		ck_assert_ptr_null(strstr(buf, "S3c"));
		ck_assert_ptr_null(strstr(buf, "T0k"));
		free(buf);
	}
}
END_TEST

/* The test suite. */
static Suite *
redact_suite(void)
{
	Suite	*s = suite_create("redact");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_secrets_masked);
	tcase_add_test(tc, test_truncation);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(redact_suite(), 0));
}
