/* Unit tests for utm.c (and the link finder in url.c it shares with length.c's rule). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/length.h"
#include "daemon/url.h"
#include "daemon/utm.h"
#include "tests/unit/unit.h"

#define P	"source=mastodon&medium=social&campaign=ogw"
#define Q	"utm_source=mastodon&utm_medium=social&utm_campaign=ogw"

struct acase {
	const char	*what;
	const char	*in;
	const char	*want;
};

static const struct acase acases[] = {
	{ "bare host gets a slash", "Read https://example.org now",
	    "Read https://example.org/?" Q " now" },
	{ "path", "https://example.org/a/b", "https://example.org/a/b?" Q },
	{ "existing query", "https://example.org/a?x=1&y=2",
	    "https://example.org/a?x=1&y=2&" Q },
	{ "empty query", "https://example.org/a?x=1&",
	    "https://example.org/a?x=1&" Q },
	{ "fragment", "https://example.org/a#part-2",
	    "https://example.org/a?" Q "#part-2" },
	{ "query and fragment", "https://example.org/a?x=1#top",
	    "https://example.org/a?x=1&" Q "#top" },
	{ "bare host and fragment", "https://example.org#top",
	    "https://example.org/?" Q "#top" },
	{ "? inside the fragment", "https://example.org/app#/route?id=3",
	    "https://example.org/app?" Q "#/route?id=3" },
	{ "port and user info", "http://u@example.org:8080/x",
	    "http://u@example.org:8080/x?" Q },
	{ "already tagged: skipped", "https://example.org/?utm_source=news&a=1",
	    "https://example.org/?utm_source=news&a=1" },
	{ "tagged with another utm_ name", "https://example.org/?a=1&UTM_TERM=x",
	    "https://example.org/?a=1&UTM_TERM=x" },
	{ "a name merely containing utm_", "https://example.org/?noutm_x=1",
	    "https://example.org/?noutm_x=1&" Q },
	{ "full stop after", "See https://example.org/a.",
	    "See https://example.org/a?" Q "." },
	{ "closing bracket after", "(see https://example.org/a)",
	    "(see https://example.org/a?" Q ")" },
	{ "balanced brackets kept", "https://en.wikipedia.org/wiki/Crier_(job))",
	    "https://en.wikipedia.org/wiki/Crier_(job)?" Q ")" },
	{ "question mark after", "Seen https://example.org/a?",
	    "Seen https://example.org/a?" Q "?" },
	{ "comma and colon after", "https://a.example/x, https://b.example/y:",
	    "https://a.example/x?" Q ", https://b.example/y?" Q ":" },
	{ "angle brackets", "<https://example.org/a>",
	    "<https://example.org/a?" Q ">" },
	{ "several links, one tagged",
	    "https://a.example https://b.example/?utm_medium=x https://c.example",
	    "https://a.example/?" Q " https://b.example/?utm_medium=x "
	    "https://c.example/?" Q },
	{ "upper-case scheme", "HTTPS://EXAMPLE.ORG/A", "HTTPS://EXAMPLE.ORG/A?" Q },
	{ "not links", "ftp://example.org mailto:a@b.example example.org "
	    "www.example.org #https @http", "ftp://example.org mailto:a@b.example "
	    "example.org www.example.org #https @http" },
	{ "glued to a word is not a link", "xhttps://example.org",
	    "xhttps://example.org" },
	{ "scheme alone is not a link", "https:// and http://.",
	    "https:// and http://." },
	{ "IDN host and path", "https://b\xc3\xbc" "cher.example/\xc3\xa9t\xc3\xa9",
	    "https://b\xc3\xbc" "cher.example/\xc3\xa9t\xc3\xa9?" Q },
	{ "after CJK punctuation", "\xe8\xa6\x8b\xe3\x81\xa6\xef\xbc\x9a"
	    "https://example.org/x \xe3\x80\x82", "\xe8\xa6\x8b\xe3\x81\xa6"
	    "\xef\xbc\x9ahttps://example.org/x?" Q " \xe3\x80\x82" },
	{ "no links", "Nothing to tag here.", "Nothing to tag here." },
	{ "empty", "", "" },
};

/* Each case tagged with P. */
START_TEST(test_apply)
{
	const struct acase	*c = &acases[_i];
	char			*out = NULL, err[256];

	ck_assert_msg(utm_apply(c->in, P, &out, err, sizeof(err)) == 0,
	    "%s: %s", c->what, err);
	ck_assert_msg(strcmp(out, c->want) == 0, "%s:\n got  %s\n want %s",
	    c->what, out, c->want);
	free(out);
}
END_TEST

struct qcase {
	const char	*params;
	const char	*want;	/* NULL: an error */
	const char	*errpart;
};

static const struct qcase qcases[] = {
	{ P, Q, NULL },
	{ "utm_source=a&utm_medium=b", "utm_source=a&utm_medium=b", NULL },
	{ "campaign=Open Gov Week 2027", "utm_campaign=Open%20Gov%20Week%202027",
	    NULL },
	{ "campaign=a%20b", "utm_campaign=a%20b", NULL },
	{ "campaign=100%", "utm_campaign=100%25", NULL },
	{ "campaign=a+b/c?d#e", "utm_campaign=a%2Bb%2Fc%3Fd%23e", NULL },
	{ "content=caf\xc3\xa9", "utm_content=caf%C3%A9", NULL },
	{ "term=x-y_z.~", "utm_term=x-y_z.~", NULL },
	{ "id=7&source_platform=crier&creative_format=text&marketing_tactic=t",
	    "utm_id=7&utm_source_platform=crier&utm_creative_format=text&"
	    "utm_marketing_tactic=t", NULL },
	{ "source=mastodon&campaign=", "utm_source=mastodon", NULL },
	{ "&source=a&&medium=b&", "utm_source=a&utm_medium=b", NULL },
	{ "campaign=", "", NULL },
	{ "", "", NULL },
	{ "SOURCE=a", "utm_source=a", NULL },
	{ "sorce=a", NULL, "unknown parameter \"sorce\"" },
	{ "utm_=a", NULL, "unknown parameter \"utm_\"" },
	{ "source", NULL, "\"source\" is not name=value" },
	{ "source=a&utm_source=b", NULL, "\"source\" given twice" },
};

/* Each utm value's query, or its error. */
START_TEST(test_query)
{
	const struct qcase	*c = &qcases[_i];
	char			*q = NULL, err[256] = "";
	int			 rc;

	rc = utm_query(c->params, &q, err, sizeof(err));
	if (c->want == NULL) {
		ck_assert_msg(rc == -1, "%s: accepted as %s", c->params, q);
		ck_assert_ptr_null(q);
		ck_assert_msg(strstr(err, c->errpart) != NULL, "%s: %s",
		    c->params, err);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", c->params, err);
	ck_assert_str_eq(q, c->want);
	free(q);
}
END_TEST

/* A bad value leaves the text untagged and says why; empty values tag nothing. */
START_TEST(test_errors)
{
	char	*out = NULL, err[256], *big;

	ck_assert_int_eq(utm_apply("https://example.org", "medum=social", &out,
	    err, sizeof(err)), -1);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "unknown parameter \"medum\"") != NULL, "%s",
	    err);
	ck_assert_int_eq(utm_apply("https://example.org/a", "campaign=", &out,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(out, "https://example.org/a");
	free(out);
	big = malloc(UTM_MAX_TEXT + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', UTM_MAX_TEXT + 1);
	big[UTM_MAX_TEXT + 1] = '\0';
	ck_assert_int_eq(utm_apply(big, P, &out, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "over the limit") != NULL, "%s", err);
	memset(big, 'a', UTM_MAX_PARAMS + 1);
	memcpy(big, "campaign=", 9);
	big[UTM_MAX_PARAMS + 1] = '\0';
	ck_assert_int_eq(utm_apply("x", big, &out, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "over the limit of 1024") != NULL, "%s", err);
	free(big);
}
END_TEST

/* Tagging twice is tagging once: the second pass finds utm_ everywhere. */
START_TEST(test_idempotent)
{
	char	*a = NULL, *b = NULL, err[256];

	ck_assert_int_eq(utm_apply("x https://a.example/p?q=1#f y "
	    "https://b.example.", P, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(utm_apply(a, "source=other", &b, err, sizeof(err)), 0);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

/* url_find sees exactly the links Mastodon's rule counts as 23 each. */
START_TEST(test_same_links_as_length)
{
	static const char *const texts[] = {
		"a https://example.org/x. b", "(https://example.org/x)",
		"https://en.wikipedia.org/wiki/A_(b)) c", "xhttps://example.org",
		"https://-bad.example", "https://a.example,https://b.example",
		"#https://example.org", "@https://example.org",
		"\xe8\xa6\x8bhttps://example.org/\xe6\x9d\xb1",
		"https://" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		".example", "https://\xc3\xa9.example/x?", "http:// x",
		"text https://example.org/path?q=1#f 'https://b.example/'",
	};
	struct len_result	 lr;
	size_t			 i, n, from, start, len, links, bytes;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		n = strlen(texts[i]);
		links = bytes = 0;
		for (from = 0; (len = url_find(texts[i], n, from, &start)) > 0;
		    from = start + len) {
			links++;
			bytes += len_graphemes(texts[i] + start, len);
		}
		len_measure(LEN_MASTODON, texts[i], 0, &lr);
		ck_assert_msg(lr.length == len_graphemes(texts[i], n) - bytes +
		    23 * links, "%s: length %zu, url_find saw %zu links",
		    texts[i], lr.length, links);
	}
}
END_TEST

/* An email: text links and HTML hrefs tagged, the unsubscribe URL left alone. */
START_TEST(test_email)
{
	const char	*unsub = "https://ogp.example/u?e=ana%40example.org&sig=ab";
	char		*text, *html, err[256];

	text = strdup("Read https://ogp.example/news and "
	    "https://ogp.example/?utm_source=x.\nUnsubscribe: "
	    "https://ogp.example/u?e=ana%40example.org&sig=ab");
	html = strdup("<p><a class=\"l\" href=\"https://ogp.example/news?a=1&amp;b=2\">news</a> "
	    "<a HREF='http://ogp.example'>home</a> <a href=\"mailto:x@example.org\">mail</a> "
	    "<a href=\"https://ogp.example/u?e=ana%40example.org&amp;sig=ab\">unsubscribe</a> "
	    "<img src=\"https://ogp.example/i.png\"> href=\"https://ogp.example/raw\"</p>");
	ck_assert_int_eq(utm_apply_email(&text, &html,
	    "source=newsletter&campaign=ogw", unsub, err, sizeof(err)), 0);
	ck_assert_str_eq(text, "Read https://ogp.example/news?utm_source="
	    "newsletter&utm_campaign=ogw and https://ogp.example/?utm_source=x."
	    "\nUnsubscribe: https://ogp.example/u?e=ana%40example.org&sig=ab");
	ck_assert_str_eq(html, "<p><a class=\"l\" href=\"https://ogp.example/news?"
	    "a=1&amp;b=2&amp;utm_source=newsletter&amp;utm_campaign=ogw\">news</a> "
	    "<a HREF='http://ogp.example/?utm_source=newsletter&amp;"
	    "utm_campaign=ogw'>home</a> <a href=\"mailto:x@example.org\">mail</a> "
	    "<a href=\"https://ogp.example/u?e=ana%40example.org&amp;sig=ab\">"
	    "unsubscribe</a> <img src=\"https://ogp.example/i.png\"> "
	    "href=\"https://ogp.example/raw?utm_source=newsletter&amp;"
	    "utm_campaign=ogw\"</p>");
	free(text);
	free(html);
	/* No HTML part; empty values: nothing changes; a bad name: an error, nothing changes. */
	text = strdup("https://ogp.example/a");
	html = NULL;
	ck_assert_int_eq(utm_apply_email(&text, &html, "source=", NULL, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(text, "https://ogp.example/a");
	ck_assert_ptr_null(html);
	ck_assert_int_eq(utm_apply_email(&text, &html, "sauce=x", NULL, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(text, "https://ogp.example/a");
	free(text);
}
END_TEST

static Suite *
utm_suite(void)
{
	Suite	*s = suite_create("utm");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_apply, 0,
	    sizeof(acases) / sizeof(acases[0]));
	tcase_add_loop_test(tc, test_query, 0,
	    sizeof(qcases) / sizeof(qcases[0]));
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_same_links_as_length);
	tcase_add_test(tc, test_email);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(utm_suite(), 0));
}
