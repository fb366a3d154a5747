/* Unit tests for length.c: graphemes and each network's counting rule. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <utf8proc.h>

#include "daemon/length.h"
#include "tests/unit/unit.h"

struct gcase {
	const char	*what;
	const char	*text;
	size_t		 graphemes;
};

/* UTF-8 spelled out with escapes so the file's encoding cannot matter. */
static const struct gcase gcases[] = {
	{ "empty", "", 0 },
	{ "ascii", "Open Gov Week", 13 },
	{ "ZWJ family", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
	    "\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6", 1 },
	{ "flag GB", "\xf0\x9f\x87\xac\xf0\x9f\x87\xa7", 1 },
	{ "two flags", "\xf0\x9f\x87\xac\xf0\x9f\x87\xa7\xf0\x9f\x87\xab"
	    "\xf0\x9f\x87\xb7", 2 },
	{ "skin tone", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 1 },
	{ "keycap", "1\xef\xb8\x8f\xe2\x83\xa3", 1 },
	{ "combining acute", "e\xcc\x81", 1 },
	{ "precomposed", "caf\xc3\xa9", 4 },
	{ "CJK", "\xe9\x96\x8b\xe6\x94\xbe\xe6\x94\xbf\xe5\xba\x9c", 4 },
	{ "Arabic", "\xd8\xad\xd9\x83\xd9\x88\xd9\x85\xd8\xa9", 5 },
	{ "Hebrew with points", "\xd7\xa9\xd6\xb8\xd7\x9c\xd7\x95\xd6\xb9"
	    "\xd7\x9d", 4 },
	{ "Hangul jamo", "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", 1 },
	{ "CRLF", "a\r\nb", 3 },
	{ "invalid bytes", "a\xff\xfe" "b", 4 },
	{ "truncated sequence", "\xe2\x82", 2 },
};

/* Each case's grapheme count. */
START_TEST(test_graphemes)
{
	const struct gcase	*c = &gcases[_i];

	ck_assert_msg(len_graphemes(c->text, strlen(c->text)) == c->graphemes,
	    "%s: %zu graphemes, want %zu", c->what,
	    len_graphemes(c->text, strlen(c->text)), c->graphemes);
}
END_TEST

/*
 * Devanagari "namaste": the virama joins the consonant before it; from
 * Unicode 15.1 (utf8proc 2.9) it also joins the conjunct after it (GB9c).
 */
START_TEST(test_devanagari)
{
	const char	*s = "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d"
	    "\xe0\xa4\xa4\xe0\xa5\x87";
	size_t		 want;

	want = strcmp(utf8proc_unicode_version(), "15.1") >= 0 ? 3 : 4;
	ck_assert_uint_eq(len_graphemes(s, strlen(s)), want);
}
END_TEST

struct mcase {
	const char	*what;
	enum len_rule	 rule;
	const char	*text;
	size_t		 limit;
	size_t		 length;
	size_t		 want_limit;
	int		 fits;
};

static const struct mcase mcases[] = {
	{ "plain ascii", LEN_PLAIN, "hello", 0, 5, 0, 1 },
	{ "plain, no limit", LEN_PLAIN, "hello world", 0, 11, 0, 1 },
	{ "plain, over limit", LEN_PLAIN, "hello world", 5, 11, 5, 0 },
	{ "plain, at limit", LEN_PLAIN, "hello", 5, 5, 5, 1 },
	{ "mastodon ascii", LEN_MASTODON, "Open Gov Week", 0, 13, 500, 1 },
	{ "mastodon url", LEN_MASTODON,
	    "See https://www.opengovweek.org/events/2021/long/path?x=1", 0,
	    4 + 23, 500, 1 },
	{ "mastodon short url", LEN_MASTODON, "http://a.io", 0, 23, 500, 1 },
	{ "mastodon two urls", LEN_MASTODON,
	    "https://a.example/x and http://b.example/y/z", 0,
	    23 + 5 + 23, 500, 1 },
	{ "mastodon url, trailing dot", LEN_MASTODON,
	    "Read https://ogp.example/r.", 0, 5 + 23 + 1, 500, 1 },
	{ "mastodon url in parens", LEN_MASTODON,
	    "(https://ogp.example/r)", 0, 1 + 23 + 1, 500, 1 },
	{ "mastodon url with balanced parens", LEN_MASTODON,
	    "https://en.wikipedia.org/wiki/Open_(x)", 0, 23, 500, 1 },
	{ "mastodon no scheme", LEN_MASTODON, "www.example.org", 0, 15, 500, 1 },
	{ "mastodon bare scheme", LEN_MASTODON, "https:// x", 0, 10, 500, 1 },
	{ "mastodon remote mention", LEN_MASTODON, "@alice@example.social", 0,
	    6, 500, 1 },
	{ "mastodon mention in text", LEN_MASTODON,
	    "hi @alice@example.social!", 0, 3 + 6 + 1, 500, 1 },
	{ "mastodon local mention", LEN_MASTODON, "@alice hi", 0, 9, 500, 1 },
	{ "mastodon e-mail address", LEN_MASTODON, "bob@example.org", 0, 15,
	    500, 1 },
	{ "mastodon emoji", LEN_MASTODON,
	    "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xf0\x9f\x87\xac\xf0\x9f\x87\xa7",
	    0, 3, 500, 1 },
	{ "mastodon at limit", LEN_MASTODON, "abcdefghij", 10, 10, 10, 1 },
	{ "mastodon over limit", LEN_MASTODON, "abcdefghijk", 10, 11, 10, 0 },
	{ "mastodon url under limit", LEN_MASTODON, "https://x.example/abc", 23,
	    23, 23, 1 },
	{ "bluesky url counted raw", LEN_BLUESKY, "https://a.example/xyz", 0,
	    21, 300, 1 },
	{ "bluesky mention counted raw", LEN_BLUESKY, "@alice@example.social",
	    0, 21, 300, 1 },
	{ "bluesky limit override", LEN_BLUESKY, "abcdef", 5, 6, 5, 0 },
	{ "x ascii", LEN_X, "hello", 0, 5, 280, 1 },
	{ "x url", LEN_X, "go https://a.example.org/long/path", 0, 3 + 23, 280,
	    1 },
	/* X's links (twitter-text 3.1.0's extractor: parseTweet agrees). */
	{ "x link needs a known TLD", LEN_X, "go https://a.example/long/path",
	    0, 30, 280, 1 },
	{ "x link without a scheme", LEN_X,
	    "Join us: opengovweek.org/events, Glasgow", 0, 9 + 23 + 9, 280, 1 },
	{ "x domain alone", LEN_X, "see www.glasgow.gov.uk.", 0, 4 + 23 + 1,
	    280, 1 },
	{ "x file names with a TLD", LEN_X, "readme.md node.js", 0, 23 + 8, 280,
	    1 },
	{ "x no link after a slash or @", LEN_X, "a/opengovweek.org @ogp.org",
	    0, 26, 280, 1 },
	{ "x port without a path is text", LEN_X, "example.com:8080", 0,
	    23 + 5, 280, 1 },
	{ "x query without a path is text", LEN_X, "example.com?q=1", 0,
	    23 + 4, 280, 1 },
	{ "x path ends at its last ending character", LEN_X,
	    "(x.com/a!) \xc2\xbbhttps://x.com/wiki/Foo_(bar)\xc2\xab", 0,
	    1 + 23 + 2 + 1 + 1 + 23 + 1, 280, 1 },
	{ "x non-ASCII domain without a scheme is text", LEN_X,
	    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
	    0, 9, 280, 1 },
	{ "x long t.co slug is text", LEN_X, "https://t.co/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 13 + 41, 280, 1 },
	{ "mastodon counts a domain without a scheme as its characters",
	    LEN_MASTODON, "opengovweek.org", 0, 15, 500, 1 },
	{ "x CJK weighs 2", LEN_X, "\xe9\x96\x8b\xe6\x94\xbe", 0, 4, 280, 1 },
	{ "x emoji weighs 2", LEN_X, "\xf0\x9f\x91\xa8\xe2\x80\x8d"
	    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7", 0, 2, 280, 1 },
	{ "x NFC", LEN_X, "e\xcc\x81", 0, 1, 280, 1 },
	/* From twitter-text's conformance/validate.yml. */
	{ "x directional marks end a URL", LEN_X, "\xe2\x81\xa6\xe2\x80\xaa"
	    "http://foobar.\xd9\xbe\xd8\xa7\xda\xa9\xd8\xb3\xd8\xaa\xd8\xa7"
	    "\xd9\x86/\xe2\x80\xac\xe2\x81\xa9", 0, 31, 280, 1 },
	{ "x refuses U+FFFF", LEN_X, "ABC\xe2\x80\xaa\xef\xbf\xbf" "ABC"
	    "\xef\xbf\xbe", 0, 12, 280, 0 },
	{ "x URL with a 64-character label is text", LEN_X, "http://"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	    0, 7 + 64 + 4, 280, 1 },
};

/* Each case's length, limit and verdict. */
START_TEST(test_measure)
{
	const struct mcase	*c = &mcases[_i];
	struct len_result	 r;

	ck_assert_int_eq(len_measure(c->rule, c->text, c->limit, &r), 0);
	ck_assert_msg(r.length == c->length, "%s: length %zu, want %zu",
	    c->what, r.length, c->length);
	ck_assert_msg(r.limit == c->want_limit, "%s: limit %zu, want %zu",
	    c->what, r.limit, c->want_limit);
	ck_assert_msg(r.fits == (c->fits != 0), "%s: fits %d, want %d",
	    c->what, r.fits, c->fits);
	ck_assert_uint_eq(r.bytes, strlen(c->text));
}
END_TEST

/* Fills a string with N copies of the UTF-8 sequence U. */
static char *
repeat(const char *u, size_t n)
{
	size_t	 l = strlen(u), i;
	char	*s;

	s = malloc(l * n + 1);
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * l, u, l);
	s[l * n] = '\0';
	return s;
}

/* Bluesky: 300 graphemes fit, 301 do not. */
START_TEST(test_bluesky_graphemes)
{
	struct len_result	 r;
	char			*s;

	s = repeat("a", 300);
	len_measure(LEN_BLUESKY, s, 0, &r);
	ck_assert_uint_eq(r.length, 300);
	ck_assert_uint_eq(r.byte_limit, 3000);
	ck_assert(r.fits);
	free(s);
	s = repeat("a", 301);
	len_measure(LEN_BLUESKY, s, 0, &r);
	ck_assert_uint_eq(r.length, 301);
	ck_assert(!r.fits);
	free(s);
}
END_TEST

/* Bluesky: under 300 graphemes but over 3000 bytes does not fit. */
START_TEST(test_bluesky_bytes)
{
	struct len_result	 r;
	char			*s;

	/* A 25-byte ZWJ family is one grapheme: 121 of them are 3025 bytes. */
	s = repeat("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
	    "\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6", 121);
	len_measure(LEN_BLUESKY, s, 0, &r);
	ck_assert_uint_eq(r.length, 121);
	ck_assert_uint_eq(r.bytes, 3025);
	ck_assert(!r.fits);
	free(s);
	/* 120 families: 3000 bytes exactly, 120 graphemes: fits. */
	s = repeat("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
	    "\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6", 120);
	len_measure(LEN_BLUESKY, s, 0, &r);
	ck_assert_uint_eq(r.bytes, 3000);
	ck_assert(r.fits);
	free(s);
}
END_TEST

/* Mastodon: 500 by default, exactly at the limit fits. */
/* LinkedIn counts UTF-16 units: an emoji outside the BMP is two; 3000 by default. */
START_TEST(test_linkedin_utf16)
{
	struct len_result	 r;
	char			*s;

	s = repeat("\xf0\x9f\x98\x80", 1500);	/* U+1F600: 2 units each */
	len_measure(LEN_LINKEDIN, s, 0, &r);
	ck_assert_uint_eq(r.length, 3000);
	ck_assert_uint_eq(r.limit, 3000);
	ck_assert(r.fits);
	free(s);
	s = repeat("\xf0\x9f\x98\x80", 1501);
	len_measure(LEN_LINKEDIN, s, 0, &r);
	ck_assert_uint_eq(r.length, 3002);
	ck_assert(!r.fits);
	ck_assert_uint_eq(len_graphemes(s, strlen(s)), 1501);
	free(s);
	len_measure(LEN_LINKEDIN, "caf\xc3\xa9 (pilot) @ogp #open", 0, &r);
	ck_assert_uint_eq(r.length, 23);
}
END_TEST

/* Facebook counts characters shown (graphemes) against 63206. */
START_TEST(test_facebook_default)
{
	struct len_result	 r;
	char			*s;

	s = repeat("e\xcc\x81", 63206);	/* e + combining acute: one each */
	len_measure(LEN_FACEBOOK, s, 0, &r);
	ck_assert_uint_eq(r.length, 63206);
	ck_assert_uint_eq(r.limit, 63206);
	ck_assert(r.fits);
	free(s);
	s = repeat("a", 63207);
	len_measure(LEN_FACEBOOK, s, 0, &r);
	ck_assert(!r.fits);
	free(s);
}
END_TEST

START_TEST(test_mastodon_default)
{
	struct len_result	 r;
	char			*s;

	s = repeat("\xc3\xa9", 500);
	len_measure(LEN_MASTODON, s, 0, &r);
	ck_assert_uint_eq(r.length, 500);
	ck_assert_uint_eq(r.limit, 500);
	ck_assert(r.fits);
	free(s);
	s = repeat("x", 501);
	len_measure(LEN_MASTODON, s, 0, &r);
	ck_assert(!r.fits);
	free(s);
}
END_TEST

/* Threads: 500 graphemes, an emoji one counting its UTF-8 bytes (the posts page). */
START_TEST(test_threads)
{
	struct len_result	 r;
	char			*s;

	s = repeat("a", 500);
	len_measure(LEN_THREADS, s, 0, &r);
	ck_assert_uint_eq(r.length, 500);
	ck_assert_uint_eq(r.limit, 500);
	ck_assert(r.fits);
	free(s);
	/* A thumbs-up is 4, a flag 8, the ZWJ family 25, e + U+0301 one. */
	len_measure(LEN_THREADS, "\xf0\x9f\x91\x8d", 0, &r);
	ck_assert_uint_eq(r.length, 4);
	len_measure(LEN_THREADS, "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", 0, &r);
	ck_assert_uint_eq(r.length, 8);
	len_measure(LEN_THREADS, "a\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91"
	    "\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6" "b",
	    0, &r);
	ck_assert_uint_eq(r.length, 27);
	len_measure(LEN_THREADS, "cafe\xcc\x81 " "\xe6\x97\xa5", 0, &r);
	ck_assert_uint_eq(r.length, 6);
	/* 497 letters and a thumbs-up: 501, over. */
	s = repeat("a", 497);
	s = realloc(s, 502);
	strcat(s, "\xf0\x9f\x91\x8d");
	len_measure(LEN_THREADS, s, 0, &r);
	ck_assert_uint_eq(r.length, 501);
	ck_assert(!r.fits);
	free(s);
}
END_TEST

/*
 * Threads: at most 5 distinct links (the text-attachments page: "All
 * unique URLs found in the text field are counted"; more fail with
 * THREADS_API__LINK_LIMIT_EXCEEDED); http(s) URLs and "www." names.
 */
START_TEST(test_threads_links)
{
	static const struct {
		const char	*text;
		size_t		 links;
		bool		 fits;
	} cases[] = {
		{ "no links at all", 0, true },
		{ "https://a.example/1 https://a.example/2 https://a.example/3 "
		  "https://a.example/4 https://a.example/5", 5, true },
		{ "https://a.example/1 https://a.example/2 https://a.example/3 "
		  "https://a.example/4 https://a.example/5 http://b.example/", 6,
		  false },
		/* The same link twice counts once (trailing punctuation is the sentence's). */
		{ "https://a.example/1 https://a.example/2 https://a.example/3 "
		  "https://a.example/4 https://a.example/5. Again: "
		  "https://a.example/1, https://a.example/5!", 5, true },
		/* www. names count; inside a URL they are part of it. */
		{ "www.one.example www.two.example (www.three.example) "
		  "https://www.four.example/x https://a.example/5 "
		  "www.six.example.", 6, false },
		{ "awww.not.example and www.", 0, true },
		{ "https://a.example/\xc3\xa9 https://a.example/\xc3\xa8", 2,
		  true },
	};
	struct len_result	 r;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len_measure(LEN_THREADS, cases[i].text, 0, &r);
		ck_assert_msg(r.links == cases[i].links, "case %zu: %zu links",
		    i, r.links);
		ck_assert_uint_eq(r.link_limit, 5);
		ck_assert_msg(r.fits == cases[i].fits, "case %zu", i);
	}
	/* Other networks do not limit links here. */
	len_measure(LEN_MASTODON, cases[2].text, 0, &r);
	ck_assert_uint_eq(r.link_limit, 0);
	ck_assert(r.fits);
}
END_TEST

static Suite *
length_suite(void)
{
	Suite	*s = suite_create("length");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_graphemes, 0,
	    sizeof(gcases) / sizeof(gcases[0]));
	tcase_add_test(tc, test_devanagari);
	tcase_add_loop_test(tc, test_measure, 0,
	    sizeof(mcases) / sizeof(mcases[0]));
	tcase_add_test(tc, test_bluesky_graphemes);
	tcase_add_test(tc, test_bluesky_bytes);
	tcase_add_test(tc, test_mastodon_default);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_threads_links);
	tcase_add_test(tc, test_linkedin_utf16);
	tcase_add_test(tc, test_facebook_default);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(length_suite(), 0));
}
