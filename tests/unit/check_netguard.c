/* Unit tests for netguard.c: which addresses a calendar may make crierd reach. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/netguard.h"
#include "tests/unit/unit.h"

/* Whether address text A (v4 or v6) may be reached for host HOST. */
static bool
ok(const char *host, const char *a, char *why, size_t len)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, a, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return netguard_allowed(host, (struct sockaddr *)&s4, why, len);
	}
	ck_assert_int_eq(inet_pton(AF_INET6, a, &s6.sin6_addr), 1);
	s6.sin6_family = AF_INET6;
	return netguard_allowed(host, (struct sockaddr *)&s6, why, len);
}

/* Every non-public range is refused with its name; public addresses pass. */
START_TEST(test_ranges)
{
	static const struct { const char *a, *what; } no[] = {
		{ "127.0.0.1", "loopback" }, { "127.255.1.2", "loopback" },
		{ "10.0.0.1", "private" }, { "172.16.5.4", "private" },
		{ "172.31.255.255", "private" }, { "192.168.1.1", "private" },
		{ "169.254.169.254", "link-local" }, { "100.64.0.1", "carrier-grade" },
		{ "0.0.0.0", "unspecified" }, { "224.0.0.251", "multicast" },
		{ "255.255.255.255", "reserved" }, { "198.18.0.1", "benchmarking" },
		{ "::1", "loopback" }, { "::", "unspecified" },
		{ "fe80::1", "link-local" }, { "fd12:3456::1", "unique local" },
		{ "fc00::1", "unique local" }, { "ff02::1", "multicast" },
		{ "::ffff:127.0.0.1", "loopback" }, { "::ffff:10.1.1.1", "private" },
		{ "64:ff9b::a9fe:a9fe", "link-local" }, { "64:ff9b::7f00:1", "loopback" },
		{ "64:ff9b:1::1", "local-use NAT64" }, { "2002:7f00:1::", "loopback" },
		{ "::127.0.0.1", "loopback" }, { "2001:db8::1", "documentation" },
	};
	static const char *const yes[] = {
		"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1",
		"2a00:1450:4009::200e", "2606:4700::1111", "::ffff:8.8.8.8",
		"64:ff9b::808:808", "2002:808:808::",
	};
	char	 why[300];
	size_t	 i;

	ck_assert_int_eq(netguard_set_allow(NULL, why, sizeof(why)), 0);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		ck_assert_msg(!ok("example.org", no[i].a, why, sizeof(why)),
		    "%s allowed", no[i].a);
		ck_assert_msg(strstr(why, no[i].what) != NULL, "%s: %s", no[i].a,
		    why);
	}
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(ok("example.org", yes[i], why, sizeof(why)),
		    "%s refused: %s", yes[i], why);
}
END_TEST

/* fetch_allow: CIDRs hold addresses, names trust their own fetches only. */
START_TEST(test_allow)
{
	char	 why[300];

	ck_assert_int_eq(netguard_set_allow("intranet.example.org, 10.20.0.0/16,"
	    " fd00::/8 .corp.example", why, sizeof(why)), 0);
	ck_assert(ok("x", "10.20.3.4", why, sizeof(why)));
	ck_assert(!ok("x", "10.21.3.4", why, sizeof(why)));
	ck_assert(ok("x", "fd00::7", why, sizeof(why)));
	ck_assert(ok("intranet.example.org", "127.0.0.1", why, sizeof(why)));
	ck_assert(ok("INTRANET.example.org", "192.168.1.1", why, sizeof(why)));
	ck_assert(ok("wiki.corp.example", "10.9.9.9", why, sizeof(why)));
	ck_assert(!ok("corp.example.evil", "10.9.9.9", why, sizeof(why)));
	/* a redirect to a literal is judged by its own host */
	ck_assert(!ok("127.0.0.1", "127.0.0.1", why, sizeof(why)));
	ck_assert_int_eq(netguard_parse("10.0.0.0/33", why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "prefix length"));
	ck_assert_int_eq(netguard_parse("http://x", why, sizeof(why)), -1);
	ck_assert_int_eq(netguard_parse("1.2.3.4/8, ::1, host-1.example", why,
	    sizeof(why)), 0);
	netguard_shutdown();
}
END_TEST

/* URLs as --check sees them: literals judged, names only when pinned. */
START_TEST(test_urls)
{
	char	 why[300];

	ck_assert_int_eq(netguard_set_allow(NULL, why, sizeof(why)), 0);
	ck_assert_int_eq(netguard_check_url("https://[::ffff:127.0.0.1]/a", why,
	    sizeof(why)), -1);
	ck_assert_int_eq(netguard_check_url("http://0x7f.1/a", why,
	    sizeof(why)), -1);
	ck_assert_int_eq(netguard_check_url("https://2130706433/", why,
	    sizeof(why)), -1);
	ck_assert_int_eq(netguard_check_url("ftp://example.org/a", why,
	    sizeof(why)), -1);
	ck_assert_int_eq(netguard_check_url("https://www.example.org/a.png",
	    why, sizeof(why)), 0);
	setenv("CRIER_RESOLVE", "pinned.test:443:127.0.0.1,v6.test:80:[::1]", 1);
	ck_assert_int_eq(netguard_check_url("https://pinned.test/x", why,
	    sizeof(why)), -1);
	ck_assert_int_eq(netguard_check_url("http://v6.test/x", why,
	    sizeof(why)), -1);
	ck_assert_int_eq(netguard_check_url("http://pinned.test:8080/x", why,
	    sizeof(why)), 0);
	unsetenv("CRIER_RESOLVE");
	netguard_shutdown();
}
END_TEST

/* The suite. */
static Suite *
netguard_suite(void)
{
	Suite	*s = suite_create("netguard");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_allow);
	tcase_add_test(tc, test_urls);
	suite_add_tcase(s, tc);
	return (s);
}

/* Runs the suite. */
int
main(void)
{
	return (unit_run(netguard_suite(), 0));
}
