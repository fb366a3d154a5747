/* Unit tests for littletext.c: LinkedIn commentary as the little-text doc says. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/littletext.h"
#include "tests/unit/unit.h"

/* Escapes IN with FLAGS and checks the result is WANT. */
static void
expect(const char *in, int flags, const char *want)
{
	char	 err[128] = "";
	char	*out;

	out = littletext_escape(in, strlen(in), flags, err, sizeof(err));
	ck_assert_msg(out != NULL, "%s: %s", in, err);
	ck_assert_str_eq(out, want);
	free(out);
}

/* Checks LinkedIn shows the little text LT as WANT. */
static void
expect_shown(const char *lt, const char *want)
{
	char	 err[128] = "";
	char	*out;

	out = littletext_shown(lt, strlen(lt), err, sizeof(err));
	ck_assert_msg(out != NULL, "%s: %s", lt, err);
	ck_assert_str_eq(out, want);
	free(out);
}

/* Checks LinkedIn would cut LT at byte AT. */
static void
expect_cut(const char *lt, size_t at)
{
	char	 err[128] = "", want[32];
	char	*out;

	out = littletext_shown(lt, strlen(lt), err, sizeof(err));
	ck_assert_ptr_null(out);
	snprintf(want, sizeof(want), "at byte %zu ", at);
	ck_assert_msg(strstr(err, want) != NULL, "%s: %s", lt, err);
}

/* Every reserved character of the doc's list gets exactly one backslash. */
START_TEST(test_reserved)
{
	expect("\\|{}@[]()<>#*_~", 0,
	    "\\\\\\|\\{\\}\\@\\[\\]\\(\\)\\<\\>\\#\\*\\_\\~");
	expect("Hello World", 0, "Hello World");
	expect("", 0, "");
	expect("Meet us (online) at 10:00 - ask @press_office #OpenGov", 0,
	    "Meet us \\(online\\) at 10:00 - ask \\@press\\_office \\#OpenGov");
	/* Characters little does not reserve pass through, UTF-8 intact. */
	expect("50% off! \"quoted\" 'x' $5 ^ ` = + ; é 日本 👍🏽", 0,
	    "50% off! \"quoted\" 'x' $5 ^ ` = + ; é 日本 👍🏽");
	expect("https://gov.example/a_b(c)?q=1#top", 0,
	    "https://gov.example/a\\_b\\(c\\)?q=1\\#top");
}
END_TEST

/* The doc's examples: its hashtag template and its mention, as shown. */
START_TEST(test_doc_examples)
{
	const char	*doc = "Excited to share my thoughts on the future of "
	    "{hashtag|#|Technology} and how it's shaping the world we live in.";

	expect("Excited to share my thoughts on the future of #Technology "
	    "and how it's shaping the world we live in.", LITTLETEXT_HASHTAGS,
	    doc);
	expect_shown(doc, "Excited to share my thoughts on the future of "
	    "#Technology and how it's shaping the world we live in.");
	expect_shown("Hello @[Acme Corp](urn:li:organization:1234)",
	    "Hello Acme Corp");
	expect_shown("@[Eddy](urn:li:person:1234)", "Eddy");
	/* The HashtagTemplate's other sign, U+FF03. */
	expect("＃mytag", LITTLETEXT_HASHTAGS, "{hashtag|＃|mytag}");
	expect_shown("{hashtag|＃|mytag}", "＃mytag");
	/* A HashtagElement written bare is shown as written. */
	expect_shown("#hashtag", "#hashtag");
}
END_TEST

/* Hashtags only where the user wrote a whole tag; the rest stays plain text. */
START_TEST(test_hashtags)
{
	int	 h = LITTLETEXT_HASHTAGS;

	expect("#OpenGov and #Démocratie2030!", h,
	    "{hashtag|#|OpenGov} and {hashtag|#|Démocratie2030}!");
	expect("(#OpenGov)", h, "\\({hashtag|#|OpenGov}\\)");
	expect("#日本語 #تجربة", h, "{hashtag|#|日本語} {hashtag|#|تجربة}");
	/* Digits alone, C#, &#38;, a bare sign, _ inside or a second sign. */
	expect("#2030", h, "\\#2030");
	expect("C# and F#", h, "C\\# and F\\#");
	expect("&#38;", h, "&\\#38;");
	expect("# alone", h, "\\# alone");
	expect("#open_gov", h, "\\#open\\_gov");
	expect("#a#b", h, "\\#a\\#b");
	expect("##tag", h, "\\#{hashtag|#|tag}");
	/* Without the flag nothing becomes a hashtag. */
	expect("#OpenGov", 0, "\\#OpenGov");
}
END_TEST

/* What LinkedIn does with unescaped reserved characters: it cuts the text. */
START_TEST(test_cut)
{
	expect_cut("Budget (2026) vote", 7);
	expect_cut("a_b", 1);
	expect_cut("ask @press", 4);
	expect_cut("x ~ y", 2);
	expect_cut("trailing \\", 9);
	expect_cut("\\a", 0);
	expect_cut("{hashtag|#|}", 0);
	expect_cut("{hashtag|$|x}", 0);
	expect_cut("@[Acme](urn:li:share:1)", 0);
	expect_cut("# alone", 0);
	expect_shown("a \\(b\\) \\\\ c", "a (b) \\ c");
}
END_TEST

/* Bad input is refused with the byte it was found at; size is limited. */
START_TEST(test_bad_input)
{
	char	 err[128] = "";
	char	*big, *out;

	ck_assert_ptr_null(littletext_escape("ok\xff", 3, 0, err, sizeof(err)));
	ck_assert_str_eq(err, "invalid UTF-8 at byte 2");
	ck_assert_ptr_null(littletext_escape("a\xc3(", 3, 0, err, sizeof(err)));
	ck_assert_str_eq(err, "invalid UTF-8 at byte 1");
	ck_assert_ptr_null(littletext_escape("a\0b", 3, 0, err, sizeof(err)));
	ck_assert_str_eq(err, "NUL character at byte 1");
	big = malloc(LITTLETEXT_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, '(', LITTLETEXT_MAX + 1);
	ck_assert_ptr_null(littletext_escape(big, LITTLETEXT_MAX + 1, 0, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "more than"));
	/* At the limit, every character reserved: twice the size, all shown. */
	out = littletext_escape(big, LITTLETEXT_MAX, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), 2 * (size_t)LITTLETEXT_MAX);
	free(out);
	free(big);
}
END_TEST

/* Whatever the user writes, LinkedIn shows exactly that after escaping. */
START_TEST(test_round_trip)
{
	static const char	*atoms[] = { "a", "Z", "7", " ", "\n", "é", "日",
	    "👍🏽", "#", "＃", "tag", "_", "@", "(", ")", "[", "]", "{", "}", "<",
	    ">", "|", "*", "~", "\\", "&", "hashtag", "urn:li:person:1", "%",
	    "C#" };
	uint32_t	 seed = 12345;
	char		 in[256], err[128];
	char		*lt, *shown;
	size_t		 n, k, len;
	int		 round, flags;

	for (round = 0; round < 4000; round++) {
		len = 0;
		n = 1 + round % 24;
		for (k = 0; k < n; k++) {
			const char	*a;

			seed = seed * 1103515245u + 12345u;
			a = atoms[(seed >> 16) % (sizeof(atoms) / sizeof(*atoms))];
			memcpy(in + len, a, strlen(a));
			len += strlen(a);
		}
		in[len] = '\0';
		flags = round % 2 ? LITTLETEXT_HASHTAGS : 0;
		lt = littletext_escape(in, len, flags, err, sizeof(err));
		ck_assert_msg(lt != NULL, "%s: %s", in, err);
		shown = littletext_shown(lt, strlen(lt), err, sizeof(err));
		ck_assert_msg(shown != NULL, "%s -> %s: %s", in, lt, err);
		ck_assert_str_eq(shown, in);
		free(shown);
		free(lt);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("littletext");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_reserved);
	tcase_add_test(tc, test_doc_examples);
	tcase_add_test(tc, test_hashtags);
	tcase_add_test(tc, test_cut);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	return (unit_run(s, 0));
}
