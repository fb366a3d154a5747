/* Unit tests for channels/atproto.c (TIDs, facets, JWTs) and channels/opengraph.c. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/channels/atproto.h"
#include "daemon/channels/opengraph.h"
#include "tests/unit/unit.h"

/* The TID of an id is fixed, valid, and differs between ids. */
START_TEST(test_tid)
{
	char	a[ATPROTO_TID_LEN + 1], b[ATPROTO_TID_LEN + 1];

	atproto_tid("000000000000", a);
	ck_assert_str_eq(a, "3khuwc44c2222");	/* 2024-01-01, clock 0 */
	atproto_tid("29aec091077e", a);
	ck_assert_str_eq(a, "3khw7xx4l43vy");
	atproto_tid("ffffffffffff", a);
	ck_assert_str_eq(a, "3ki4wc44bzzzz");
	ck_assert(atproto_is_tid(a));
	atproto_tid("29aec091077e", b);
	ck_assert_str_eq(b, "3khw7xx4l43vy");	/* the same every time */
	atproto_tid("29aec091077f", b);
	ck_assert_str_ne(b, "3khw7xx4l43vy");
	ck_assert(atproto_is_tid(b));
	atproto_tid("not-hex-id", b);				/* hashed */
	ck_assert(atproto_is_tid(b));
	ck_assert(!atproto_is_tid("3khw7xx4l43v"));
	ck_assert(!atproto_is_tid("kkhw7xx4l43vy"));
	ck_assert(!atproto_is_tid("3khw7xx4l43v1"));
}
END_TEST

struct fexp {
	enum atproto_facet_kind	 kind;
	const char		*slice;		/* exact text of the span */
	const char		*value;
};

/* Checks that TEXT has exactly the facets WANT (N), at their byte offsets. */
static void
check_facets(const char *text, const struct fexp *want, size_t n)
{
	struct atproto_facet	*f;
	size_t			 nf, i;
	const char		*at, *from = text;

	ck_assert_int_eq(atproto_facets(text, &f, &nf), 0);
	ck_assert_uint_eq(nf, n);
	for (i = 0; i < n; i++) {
		at = strstr(from, want[i].slice);
		ck_assert_ptr_nonnull(at);
		ck_assert_int_eq(f[i].kind, want[i].kind);
		ck_assert_uint_eq(f[i].start, (size_t)(at - text));
		ck_assert_uint_eq(f[i].end, (size_t)(at - text) +
		    strlen(want[i].slice));
		ck_assert_str_eq(f[i].value, want[i].value);
		from = at + strlen(want[i].slice);
	}
	atproto_facets_free(f, nf);
}

/* Offsets are UTF-8 bytes: emoji (4 bytes + skin tone), Cyrillic, CJK before. */
START_TEST(test_facets_offsets)
{
	/* "👋🏽 世界 " is 16 bytes, then the link up to byte 30. */
	const char *t = "\xf0\x9f\x91\x8b\xf0\x9f\x8f\xbd \xe4\xb8\x96\xe7\x95\x8c "
	    "https://x.org #tag";
	struct atproto_facet	*f;
	size_t			 nf;

	ck_assert_int_eq(atproto_facets(t, &f, &nf), 0);
	ck_assert_uint_eq(nf, 2);
	ck_assert_uint_eq(f[0].start, 16);
	ck_assert_uint_eq(f[0].end, 29);
	ck_assert_uint_eq(f[1].start, 30);
	ck_assert_uint_eq(f[1].end, 34);
	ck_assert_str_eq(f[1].value, "tag");
	atproto_facets_free(f, nf);
}
END_TEST

/* Links, tags and mentions, with the punctuation around them left out. */
START_TEST(test_facets_kinds)
{
	static const struct fexp w1[] = {
		{ AF_LINK, "https://example.org/a_(b)?q=1#frag", "https://example.org/a_(b)?q=1#frag" },
		{ AF_TAG, "#OpenGovWeek", "OpenGovWeek" },
		{ AF_MENTION, "@alice.test", "alice.test" },
		{ AF_TAG, "#\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
		    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	};
	static const struct fexp w2[] = {
		{ AF_LINK, "http://a.example/x", "http://a.example/x" },
		{ AF_MENTION, "@Bob.Example.COM", "Bob.Example.COM" },
	};

	check_facets("(see https://example.org/a_(b)?q=1#frag). #OpenGovWeek, "
	    "@alice.test! #\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\xe3\x80\x82",
	    w1, 4);
	/* not: mail@bob.test, #123, a#b, @nodot, x://, bare https:// */
	check_facets("mail@bob.test #123 a#b @nodot ftp://x.org https:// "
	    "\"http://a.example/x\" (@Bob.Example.COM)", w2, 2);
	check_facets("", NULL, 0);
}
END_TEST

/* Text that is not UTF-8 is refused. */
START_TEST(test_facets_invalid)
{
	struct atproto_facet	*f;
	size_t			 nf;

	ck_assert_int_eq(atproto_facets("a\xff https://x.org", &f, &nf), -1);
}
END_TEST

/* Handles are domain names. */
START_TEST(test_handles)
{
	ck_assert(atproto_handle_ok("alice.bsky.social"));
	ck_assert(atproto_handle_ok("a.test"));
	ck_assert(!atproto_handle_ok("alice"));
	ck_assert(!atproto_handle_ok("alice."));
	ck_assert(!atproto_handle_ok("-a.test"));
	ck_assert(!atproto_handle_ok("a.123"));
	ck_assert(!atproto_handle_ok("a..test"));
}
END_TEST

/* og: tags win over <title>; entities decode; attributes in any order. */
START_TEST(test_og)
{
	const char	*p1 = "<html><head><title>T &amp; x</title>"
	    "<!-- <meta property=\"og:title\" content=\"no\"> -->"
	    "<script>var s = '<meta property=\"og:title\" content=\"no\">';</script>"
	    "<META content='Og &#8212; title' PROPERTY='og:title'/>"
	    "<meta name=description content=plain>"
	    "<meta property=\"og:description\"\n content=\"  two\n lines &#x263A; \">"
	    "</head><body><meta property=\"og:title\" content=\"late\"></body>";
	const char	*p2 = "<title>\n Only a title </title>";
	char		*t, *d;

	opengraph_parse(p1, strlen(p1), 300, &t, &d);
	ck_assert_str_eq(t, "Og \xe2\x80\x94 title");
	ck_assert_str_eq(d, "two lines \xe2\x98\xba");
	free(t);
	free(d);
	opengraph_parse(p2, strlen(p2), 300, &t, &d);
	ck_assert_str_eq(t, "Only a title");
	ck_assert_ptr_null(d);
	free(t);
	/* cut on a character boundary; Latin-1 bytes are dropped */
	p2 = "<title>\xd0\xbf\xd1\x80\xd0\xb8</title><meta name=description "
	    "content=\"caf\xe9\">";
	opengraph_parse(p2, strlen(p2), 3, &t, &d);
	ck_assert_str_eq(t, "\xd0\xbf");
	ck_assert_ptr_null(d);
	free(t);
	opengraph_parse("", 0, 300, &t, &d);
	ck_assert_ptr_null(t);
	ck_assert_ptr_null(d);
}
END_TEST

/* exp and iat come from the payload, unverified. */
START_TEST(test_jwt)
{
	int64_t	exp, iat;

	/* {"sub":"did:plc:x","iat":1700000000,"exp":1700007200} */
	ck_assert_int_eq(atproto_jwt_times("eyJhbGciOiJIUzI1NiJ9."
	    "eyJzdWIiOiJkaWQ6cGxjOngiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwNzIwMH0"
	    ".sig", &exp, &iat), 0);
	ck_assert_int_eq(exp, 1700007200);
	ck_assert_int_eq(iat, 1700000000);
	ck_assert_int_eq(atproto_jwt_times("opaque-token", &exp, &iat), -1);
	ck_assert_int_eq(atproto_jwt_times("a.e30.b", &exp, &iat), -1);
}
END_TEST

/* The suite. */
static Suite *
bluesky_suite(void)
{
	Suite	*s = suite_create("bluesky");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_tid);
	tcase_add_test(tc, test_facets_offsets);
	tcase_add_test(tc, test_facets_kinds);
	tcase_add_test(tc, test_facets_invalid);
	tcase_add_test(tc, test_handles);
	tcase_add_test(tc, test_og);
	tcase_add_test(tc, test_jwt);
	suite_add_tcase(s, tc);
	return (s);
}

/* Runs the suite. */
int
main(void)
{
	return (unit_run(bluesky_suite(), 0));
}
