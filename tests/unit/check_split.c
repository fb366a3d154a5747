/* Unit tests for split.c: threads of hostile texts, each part checked against its network's rule. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/length.h"
#include "daemon/split.h"
#include "daemon/url.h"
#include "tests/unit/unit.h"

/* UTF-8 spelled out with escapes so the file's encoding cannot matter. */
#define FAMILY	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d" \
		"\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6"
#define FLAG_GB	"\xf0\x9f\x87\xac\xf0\x9f\x87\xa7"
#define FLAG_FR	"\xf0\x9f\x87\xab\xf0\x9f\x87\xb7"
#define KAN	"\xe6\x94\xbf"		/* 政 */
#define KANA	"\xe3\x81\x82"		/* あ */
#define MARU	"\xe3\x80\x82"		/* 。 ideographic full stop */
#define TOUTEN	"\xe3\x80\x81"		/* 、 ideographic comma */
#define KAKKO	"\xe3\x80\x8c"		/* 「 */
#define TOKYO	"\xe6\x9d\xb1\xe4\xba\xac"	/* 東京 */

/* A growing string for building texts. */
struct text {
	char	*p;
	size_t	 len;
};

/* Appends S to T N times. */
static void
rep(struct text *t, const char *s, size_t n)
{
	size_t	 k = strlen(s), i;

	t->p = realloc(t->p, t->len + k * n + 1);
	ck_assert_ptr_nonnull(t->p);
	for (i = 0; i < n; i++) {
		memcpy(t->p + t->len, s, k);
		t->len += k;
	}
	t->p[t->len] = '\0';
}

/* True if S[A..B) is white space only (or empty): ASCII, or U+3000 ideographic space. */
static int
blank(const char *s, size_t a, size_t b)
{
	while (a < b) {
		if (s[a] != '\0' && strchr(" \t\r\n", s[a]) != NULL)
			a++;
		else if (b - a >= 3 && memcmp(s + a, "\xe3\x80\x80", 3) == 0)
			a += 3;
		else
			return 0;
	}
	return 1;
}

/*
 * The invariants every split must hold: numbering, each part fitting as
 * measured, parts covering the text in order with only white space
 * between them, no cut inside a grapheme cluster or URL, and every
 * token in TOKENS (NULL-ended) whole in one part.
 */
static void
check_parts(enum len_rule rule, size_t limit, const char *s,
    const struct split_result *r, const char *const *tokens)
{
	struct len_result	 lr;
	char			 num[32];
	size_t			 i, n = strlen(s), nl, us, ul, from, k, g;
	const char		*t;

	ck_assert_uint_ge(r->n, 2);
	g = len_graphemes(s, n);
	ck_assert_msg(blank(s, 0, r->v[0].from), "text before part 1");
	ck_assert_msg(blank(s, r->v[r->n - 1].to, n), "text after the last part");
	for (i = 0; i < r->n; i++) {
		t = r->v[i].text;
		snprintf(num, sizeof(num), " (%zu/%zu)", i + 1, r->n);
		nl = strlen(num);
		ck_assert_uint_gt(strlen(t), nl);
		ck_assert_msg(strcmp(t + strlen(t) - nl, num) == 0,
		    "part %zu \"%s\" does not end with \"%s\"", i + 1, t, num);
		len_measure(rule, t, limit, &lr);
		ck_assert_msg(lr.fits, "part %zu (%zu of %zu, %zu bytes) does "
		    "not fit", i + 1, lr.length, lr.limit, lr.bytes);
		ck_assert_uint_eq(lr.length, r->v[i].length);
		ck_assert_uint_lt(r->v[i].from, r->v[i].to);
		ck_assert_msg(strlen(t) - nl == r->v[i].to - r->v[i].from &&
		    memcmp(t, s + r->v[i].from, strlen(t) - nl) == 0,
		    "part %zu is not the source's bytes %zu..%zu", i + 1,
		    r->v[i].from, r->v[i].to);
		if (i > 0)
			ck_assert_msg(blank(s, r->v[i - 1].to, r->v[i].from),
			    "text lost between parts %zu and %zu", i, i + 1);
		/* Cutting at a cluster boundary keeps the cluster count. */
		ck_assert_msg(len_graphemes(s, r->v[i].to) +
		    len_graphemes(s + r->v[i].to, n - r->v[i].to) == g,
		    "part %zu ends inside a grapheme cluster", i + 1);
		ck_assert_msg(len_graphemes(s, r->v[i].from) +
		    len_graphemes(s + r->v[i].from, n - r->v[i].from) == g,
		    "part %zu starts inside a grapheme cluster", i + 1);
		for (from = 0; (ul = url_find(s, n, from, &us)) > 0;
		    from = us + ul)
			ck_assert_msg(!(r->v[i].to > us && r->v[i].to < us + ul) &&
			    !(r->v[i].from > us && r->v[i].from < us + ul),
			    "part %zu cuts the URL at byte %zu", i + 1, us);
	}
	for (k = 0; tokens != NULL && tokens[k] != NULL; k++) {
		size_t	 tl = strlen(tokens[k]), seen = 0;
		const char	*p;

		for (i = 0; i < r->n; i++)
			for (p = r->v[i].text; (p = strstr(p, tokens[k])) !=
			    NULL; p += tl)
				seen++;
		for (p = s, nl = 0; (p = strstr(p, tokens[k])) != NULL; p += tl)
			nl++;
		ck_assert_msg(seen == nl, "token \"%s\": %zu whole in the "
		    "parts, %zu in the text", tokens[k], seen, nl);
	}
}

/* A text that fits is one part, unchanged and unnumbered, even exactly at the limit. */
START_TEST(test_fits)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];

	rep(&t, "a", 500);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.v[0].text, t.p);
	ck_assert_uint_eq(r.v[0].length, 500);
	split_free(&r);
	/* 300 Bluesky graphemes, each a flag of two code points: at the limit, one part. */
	free(t.p);
	t.p = NULL;
	t.len = 0;
	rep(&t, FLAG_GB, 300);
	ck_assert_int_eq(split_thread(LEN_BLUESKY, 0, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.v[0].length, 300);
	split_free(&r);
	ck_assert_int_eq(split_thread(LEN_PLAIN, 0, "", &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.v[0].text, "");
	split_free(&r);
	free(t.p);
}
END_TEST

/* One grapheme over the limit: two parts, numbered at the end, the split between words. */
START_TEST(test_one_over)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];

	rep(&t, "word ", 100);	/* 500 with a trailing space, then one more */
	rep(&t, "x", 1);
	ck_assert_uint_eq(len_graphemes(t.p, t.len), 501);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 2);
	check_parts(LEN_MASTODON, 0, t.p, &r, NULL);
	/* Greedy: part 1 holds as many words as fit with " (1/2)". */
	ck_assert_uint_eq(r.v[0].length, 4 + 98 * 5 + 6);
	ck_assert_str_eq(r.v[1].text, "word x (2/2)");
	split_free(&r);
	free(t.p);
}
END_TEST

/* The exact parts of a small text, under a configured limit. */
START_TEST(test_exact)
{
	struct split_result	 r;
	char			 err[256];

	ck_assert_int_eq(split_thread(LEN_PLAIN, 22,
	    "One two three four five six seven eight nine", &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.v[0].text, "One two three (1/3)");
	ck_assert_str_eq(r.v[1].text, "four five six (2/3)");
	ck_assert_str_eq(r.v[2].text, "seven eight nine (3/3)");
	split_free(&r);
}
END_TEST

/* Paragraphs win over sentences and sentences over words, unless the part would be stubby. */
START_TEST(test_preference)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];

	/* Two paragraphs of 250: the blank line, though words fit further. */
	rep(&t, "para ", 49);
	rep(&t, "one.\n\n", 1);
	rep(&t, "para ", 49);
	rep(&t, "two ", 40);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 2);
	check_parts(LEN_MASTODON, 0, t.p, &r, NULL);
	ck_assert_uint_eq(r.v[0].to, 49 * 5 + 4);
	split_free(&r);
	free(t.p);
	t.p = NULL;
	t.len = 0;
	/* A sentence end at 300 of 500 beats the word at 494. */
	rep(&t, "word ", 59);
	rep(&t, "end. ", 1);
	rep(&t, "more ", 60);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 2);
	check_parts(LEN_MASTODON, 0, t.p, &r, NULL);
	ck_assert_uint_eq(r.v[0].to, 59 * 5 + 4);
	ck_assert_msg(strncmp(r.v[1].text, "more", 4) == 0, "%s", r.v[1].text);
	split_free(&r);
	free(t.p);
	t.p = NULL;
	t.len = 0;
	/* A paragraph at 20 of 500 is too stubby: the words fill part 1. */
	rep(&t, "Short start.\n\n", 1);
	rep(&t, "word ", 120);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 2);
	check_parts(LEN_MASTODON, 0, t.p, &r, NULL);
	ck_assert_uint_gt(r.v[0].length, 480);
	split_free(&r);
	free(t.p);
}
END_TEST

/* Long URLs count 23 on Mastodon and are never cut; on Bluesky a giant one is an error. */
START_TEST(test_long_url)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 }, url = { NULL, 0 };
	const char		*tokens[2];
	char			 err[512];
	size_t			 i;

	rep(&url, "https://example.org/", 1);
	rep(&url, "very-long-path/", 60);	/* 920 bytes */
	rep(&url, "?q=1&r=(2)#frag", 1);
	for (i = 0; i < 30; i++) {
		rep(&t, "See ", 1);
		rep(&t, url.p, 1);
		rep(&t, " now, and ", 1);
	}
	tokens[0] = url.p;
	tokens[1] = NULL;
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_ge(r.n, 2);
	check_parts(LEN_MASTODON, 0, t.p, &r, tokens);
	split_free(&r);
	/* Bluesky counts a URL in full: 920 graphemes cannot fit 300. */
	ck_assert_int_eq(split_thread(LEN_BLUESKY, 0, t.p, &r, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "the word at byte 4 (\"https://example.org/") !=
	    NULL && strstr(err, "limit 300") != NULL, "%s", err);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_ptr_null(r.v);
	/* A URL after ideographs: no break inside it, though CJK may break anywhere. */
	free(t.p);
	t.p = NULL;
	t.len = 0;
	rep(&t, KAN, 200);
	rep(&t, " https://example.org/" TOKYO "/" KAN KAN KAN " ", 1);
	rep(&t, KAN, 200);
	rep(&t, " https://example.org/" TOKYO "/" KAN KAN KAN, 1);
	tokens[0] = "https://example.org/" TOKYO "/" KAN KAN KAN;
	ck_assert_int_eq(split_thread(LEN_MASTODON, 300, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_MASTODON, 300, t.p, &r, tokens);
	split_free(&r);
	free(t.p);
	free(url.p);
}
END_TEST

/* ZWJ families and flags: whole clusters in every part. */
START_TEST(test_emoji)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];
	size_t			 i;

	for (i = 0; i < 200; i++)
		rep(&t, FAMILY FLAG_GB FLAG_FR " ", 1);
	ck_assert_int_eq(split_thread(LEN_BLUESKY, 0, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_BLUESKY, 0, t.p, &r, NULL);
	/* 42 bytes a word: 3000 bytes with " (i/n)" hold 71 words of 200. */
	ck_assert_uint_eq(r.n, 3);
	for (i = 0; i < r.n; i++)
		ck_assert_uint_le(r.v[i].length, 300);
	split_free(&r);
	/* The same for X, where each emoji weighs 2. */
	ck_assert_int_eq(split_thread(LEN_X, 0, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_X, 0, t.p, &r, NULL);
	split_free(&r);
	/* Families with no space between them form one word: an error, not a cut. */
	free(t.p);
	t.p = NULL;
	t.len = 0;
	rep(&t, FAMILY, 301);
	ck_assert_int_eq(split_thread(LEN_BLUESKY, 0, t.p, &r, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cannot split: the word at byte 0") != NULL,
	    "%s", err);
	free(t.p);
}
END_TEST

/* CJK without spaces breaks between ideographs, never before 。 or 、 nor after 「. */
START_TEST(test_cjk)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];
	size_t			 i;
	const char		*p;

	for (i = 0; i < 60; i++) {
		rep(&t, KAKKO, 1);
		rep(&t, KAN KANA, 4);
		rep(&t, TOUTEN, 1);
		rep(&t, KAN, 3);
		rep(&t, MARU, 1);
	}
	ck_assert_uint_eq(len_graphemes(t.p, t.len), 60 * 14);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_MASTODON, 0, t.p, &r, NULL);
	ck_assert_uint_eq(r.n, 2);
	for (i = 0; i < r.n; i++) {
		p = r.v[i].text;
		ck_assert_msg(strncmp(p, MARU, 3) != 0 &&
		    strncmp(p, TOUTEN, 3) != 0, "part %zu starts with "
		    "closing punctuation", i + 1);
		/* Sentence ends are preferred: part 1 ends with 。 */
		if (i == 0)
			ck_assert_msg(strncmp(p + strlen(p) - 6 - 3, MARU, 3) == 0,
			    "part 1 \"%s\" does not end a sentence", p);
		ck_assert_msg(strstr(p, KAKKO " (") == NULL,
		    "part %zu ends after 「", i + 1);
	}
	split_free(&r);
	/* No punctuation at all: the break falls between ideographs, parts as full as fits. */
	free(t.p);
	t.p = NULL;
	t.len = 0;
	rep(&t, KAN, 700);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_MASTODON, 0, t.p, &r, NULL);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.v[0].length, 500);
	ck_assert_uint_eq(r.v[0].to, 494 * 3);
	split_free(&r);
	free(t.p);
}
END_TEST

/* Mentions and hashtags, Latin and CJK, stay whole; "@user@domain" counts as "@user". */
START_TEST(test_mentions_hashtags)
{
	static const char *const tokens[] = {
		"@alice@example.social", "@bob.bsky.social",
		"#OpenGovWeek", "#" TOKYO KAN KAN, NULL,
	};
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];
	size_t			 i;

	for (i = 0; i < 40; i++) {
		rep(&t, "Thanks @alice@example.social and @bob.bsky.social for "
		    "#OpenGovWeek ", 1);
		rep(&t, KAN KAN " #" TOKYO KAN KAN " ", 1);
	}
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_MASTODON, 0, t.p, &r, tokens);
	split_free(&r);
	ck_assert_int_eq(split_thread(LEN_BLUESKY, 0, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_BLUESKY, 0, t.p, &r, tokens);
	split_free(&r);
	/* A CJK hashtag longer than a part is an error naming it. */
	free(t.p);
	t.p = NULL;
	t.len = 0;
	rep(&t, "Start #", 1);
	rep(&t, KAN, 600);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "the word at byte 6 (\"#") != NULL, "%s", err);
	free(t.p);
}
END_TEST

/* 27 one-letter words fill 9 parts; a 28th needs a 10th, whose wider numbers make 14. */
START_TEST(test_digits)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256], want[32];
	size_t			 i;

	rep(&t, "a ", 26);
	rep(&t, "a", 1);
	ck_assert_int_eq(split_thread(LEN_PLAIN, 11, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 9);
	for (i = 0; i < 9; i++) {
		snprintf(want, sizeof(want), "a a a (%zu/9)", i + 1);
		ck_assert_str_eq(r.v[i].text, want);
	}
	split_free(&r);
	/* " (1/10)" leaves room for "a a" only: 28 words make 14 parts. */
	rep(&t, " a", 1);
	ck_assert_int_eq(split_thread(LEN_PLAIN, 11, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 14);
	check_parts(LEN_PLAIN, 11, t.p, &r, NULL);
	for (i = 0; i < 14; i++) {
		snprintf(want, sizeof(want), "a a (%zu/14)", i + 1);
		ck_assert_str_eq(r.v[i].text, want);
	}
	split_free(&r);
	/* At limit 12 "a a a (1/10)" fits: 10 parts, the last holding one word. */
	ck_assert_int_eq(split_thread(LEN_PLAIN, 12, t.p, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 10);
	check_parts(LEN_PLAIN, 12, t.p, &r, NULL);
	ck_assert_str_eq(r.v[8].text, "a a a (9/10)");
	ck_assert_str_eq(r.v[9].text, "a (10/10)");
	split_free(&r);
	free(t.p);
}
END_TEST

/* Every text size from 1 to 12 parts under limit 12 and 13 keeps every invariant. */
START_TEST(test_sweep)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];
	size_t			 words, limit, prev;

	for (limit = 12; limit <= 13; limit++) {
		free(t.p);
		t.p = NULL;
		t.len = 0;
		rep(&t, "ab", 1);
		prev = 1;
		for (words = 2; words < 60; words++) {
			rep(&t, " ab", 1);
			ck_assert_int_eq(split_thread(LEN_PLAIN, limit, t.p,
			    &r, err, sizeof(err)), 0);
			if (r.n > 1)
				check_parts(LEN_PLAIN, limit, t.p, &r, NULL);
			ck_assert_uint_ge(r.n, prev);
			prev = r.n;
			split_free(&r);
		}
		ck_assert_uint_ge(prev, 11);
	}
	free(t.p);
}
END_TEST

/* Bounds: text size, part count, white space only, a limit too small for any number. */
START_TEST(test_limits)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];

	rep(&t, "word ", SPLIT_MAX_TEXT / 5 + 1);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "over the limit of 65536") != NULL, "%s", err);
	free(t.p);
	t.p = NULL;
	t.len = 0;
	rep(&t, "word ", 2000);	/* 10000 graphemes: 100 parts of 100 */
	ck_assert_int_eq(split_thread(LEN_PLAIN, 100, t.p, &r, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "more than 99 parts") != NULL, "%s", err);
	ck_assert_int_eq(split_thread(LEN_PLAIN, 1000, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_PLAIN, 1000, t.p, &r, NULL);
	ck_assert_uint_eq(r.n, 11);
	split_free(&r);
	free(t.p);
	t.p = NULL;
	t.len = 0;
	rep(&t, " ", 600);
	ck_assert_int_eq(split_thread(LEN_MASTODON, 0, t.p, &r, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "only white space") != NULL, "%s", err);
	ck_assert_int_eq(split_thread(LEN_PLAIN, 5, "a b c d e f", &r, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "the word at byte 0 (\"a\")") != NULL, "%s",
	    err);
	free(t.p);
}
END_TEST

/* Invalid UTF-8 and a space carrying a combining mark are not break points that lose bytes. */
START_TEST(test_odd_bytes)
{
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	char			 err[256];

	rep(&t, "ab\xff cd \xcc\x81" "ef ", 40);
	ck_assert_int_eq(split_thread(LEN_PLAIN, 50, t.p, &r, err,
	    sizeof(err)), 0);
	check_parts(LEN_PLAIN, 50, t.p, &r, NULL);
	split_free(&r);
	free(t.p);
}
END_TEST

/* xorshift64: the same hostile texts on every run. */
static unsigned
rnd(unsigned long long *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return (unsigned)(*st >> 11);
}

/* Random texts of hostile tokens under every rule: each split holds every invariant, or names the word too long. */
START_TEST(test_random)
{
	static const char *const tok[] = {
		"a", "word", "longerword", " ", " ", " ", "\n", "\n\n", ". ",
		"! ", KAN, MARU, TOUTEN, KAKKO, KANA,
		"https://example.org/path?q=1", "@alice@example.social", "#tag",
		"#" TOKYO, FAMILY, FLAG_GB, "e\xcc\x81", "(", ")", "\xff",
		"\xe3\x80\x80",
	};
	static const enum len_rule	 rules[] = { LEN_PLAIN, LEN_MASTODON,
	    LEN_BLUESKY, LEN_X };
	struct split_result	 r;
	struct text		 t = { NULL, 0 };
	unsigned long long	 st = 88172645463325252ULL;
	char			 err[512];
	size_t			 it, k, nt, limit, split = 0;
	enum len_rule		 rule;

	for (it = 0; it < 3000; it++) {
		free(t.p);
		t.p = NULL;
		t.len = 0;
		rep(&t, "", 1);
		nt = 1 + rnd(&st) % 120;
		for (k = 0; k < nt; k++)
			rep(&t, tok[rnd(&st) % (sizeof(tok) / sizeof(tok[0]))], 1);
		rule = rules[rnd(&st) % 4];
		limit = rule == LEN_PLAIN ? 12 + rnd(&st) % 60 :
		    rnd(&st) % 2 ? 0 : 30 + rnd(&st) % 100;
		if (split_thread(rule, limit, t.p, &r, err, sizeof(err)) == -1) {
			ck_assert_msg(strstr(err, "cannot split: the word at byte") !=
			    NULL || strstr(err, "only white space") != NULL,
			    "%s: %s", t.p, err);
			ck_assert_ptr_null(r.v);
			continue;
		}
		if (r.n > 1) {
			check_parts(rule, limit, t.p, &r, NULL);
			split++;
		} else
			ck_assert_str_eq(r.v[0].text, t.p);
		split_free(&r);
	}
	/* The generator must exercise splitting, not just errors. */
	ck_assert_uint_gt(split, 500);
	free(t.p);
}
END_TEST

static Suite *
split_suite(void)
{
	Suite	*s = suite_create("split");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fits);
	tcase_add_test(tc, test_one_over);
	tcase_add_test(tc, test_exact);
	tcase_add_test(tc, test_preference);
	tcase_add_test(tc, test_long_url);
	tcase_add_test(tc, test_emoji);
	tcase_add_test(tc, test_cjk);
	tcase_add_test(tc, test_mentions_hashtags);
	tcase_add_test(tc, test_digits);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_odd_bytes);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(split_suite(), 0));
}
