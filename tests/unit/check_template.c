/* Unit tests for template.c: compile errors, rendering, template sets. */
#include <config.h>

#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "daemon/template.h"
#include "tests/unit/unit.h"

static char	tmpdir[PATH_MAX];

/* Creates a fresh empty directory for one test. */
static void
setup(void)
{
	const char	*base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_template.XXXXXX",
	    base != NULL ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Removes the test directory and everything in it. */
static void
teardown(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[PATH_MAX + 256];

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		if (unlink(p) == -1)
			rmdir(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* Writes S into file NAME of the test directory. */
static void
put(const char *name, const char *s)
{
	char	 p[PATH_MAX + 256];
	FILE	*f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(s, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* Parses JSON text S, failing the test if it is not valid. */
static json_t *
js(const char *s)
{
	json_t	*v = json_loads(s, JSON_DECODE_ANY, NULL);

	ck_assert_ptr_nonnull(v);
	return v;
}

/* Compiles SRC, expecting a syntax error that contains every NEEDLE. */
static void
compile_fails(const char *src, const char *n1, const char *n2)
{
	struct tmpl	*t;
	char		 err[256] = "";

	t = tmpl_compile(src, strlen(src), err, sizeof(err));
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err, n1) != NULL, "\"%s\" lacks \"%s\"", err, n1);
	if (n2 != NULL)
		ck_assert_msg(strstr(err, n2) != NULL, "\"%s\" lacks \"%s\"",
		    err, n2);
}

/* Renders SRC against JSON DATA with html escaping H and strictness S. */
static char *
render(const char *src, const char *data, bool h, bool s, char *err,
    size_t errlen)
{
	struct tmpl_opts	 o = { .html_escape = h, .strict = s };
	struct tmpl		*t;
	json_t			*ctx = js(data);
	char			*out = NULL;

	t = tmpl_compile(src, strlen(src), err, errlen);
	ck_assert_msg(t != NULL, "compile: %s", err);
	if (tmpl_render(t, ctx, &o, &out, err, errlen) == -1)
		out = NULL;
	tmpl_free(t);
	json_decref(ctx);
	return out;
}

/* Renders SRC and compares with WANT. */
static void
renders(const char *src, const char *data, bool h, const char *want)
{
	char	 err[256] = "";
	char	*out = render(src, data, h, false, err, sizeof(err));

	ck_assert_msg(out != NULL, "render: %s", err);
	ck_assert_str_eq(out, want);
	free(out);
}

START_TEST(test_unclosed_section)
{
	compile_fails("line one\n{{#items}}\n- {{name}}\n", "line 2",
	    "unclosed section \"items\"");
}
END_TEST

START_TEST(test_mismatched_close)
{
	compile_fails("{{#a}}\n{{#b}}\nx\n{{/a}}\n{{/b}}\n", "line 4",
	    "opened on line 2");
	compile_fails("a\nb\n{{/x}}", "line 3", "closes no section");
}
END_TEST

START_TEST(test_unclosed_tag)
{
	compile_fails("ok\nstill ok\nnot {{ok", "line 3", "unclosed tag");
	compile_fails("{{=<% %>=}}\n<% x }}", "line 2", "unclosed tag");
	compile_fails("x\n{{}}", "line 2", "without a name");
	compile_fails("{{a..b}}", "line 1", "bad name");
	compile_fails("{{= x =}}", "line 1", "delimiter");
}
END_TEST

START_TEST(test_strict_unknown)
{
	char	 err[256] = "";
	char	*out;

	out = render("Hello\n{{#vars}}\n{{vars.org}} {{org}} {{nope}}\n{{/vars}}",
	    "{\"vars\": {\"org\": \"OGP\"}}", false, true, err, sizeof(err));
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "\"nope\"") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "line 3") != NULL, "%s", err);

	out = render("{{a.b.c}}", "{\"a\": {\"b\": {}}}", false, true, err,
	    sizeof(err));
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "\"a.b.c\"") != NULL, "%s", err);

	/* Null is a value; a missing section is merely false. */
	out = render("[{{x}}]{{#y}}Y{{/y}}{{^y}}no y{{/y}}", "{\"x\": null}",
	    false, true, err, sizeof(err));
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_str_eq(out, "[]no y");
	free(out);

	/* Without strict a miss renders nothing. */
	renders("[{{nope}}]", "{}", false, "[]");
}
END_TEST

START_TEST(test_values)
{
	renders("{{i}} {{r}} {{t}} {{f}} {{n}}",
	    "{\"i\": 42, \"r\": 0.1, \"t\": true, \"f\": false, \"n\": null}",
	    false, "42 0.1 true false ");
	renders("{{categories}}", "{\"categories\": [\"Open Gov\", \"Data\"]}",
	    false, "Open Gov, Data");
	renders("{{#location}}at {{location}}{{/location}}{{^location}}online"
	    "{{/location}}", "{\"location\": \"\"}", false, "online");
	renders("{{#start}}{{weekday}} {{day}}{{/start}}",
	    "{\"start\": {\"weekday\": \"Monday\", \"day\": 17}}", false,
	    "Monday 17");
	renders("{{x}}|{{{x}}}|{{&x}}", "{\"x\": \"<a href=\\\"/\\\">&</a>\"}",
	    false, "<a href=\"/\">&</a>|<a href=\"/\">&</a>|<a href=\"/\">&</a>");
	renders("{{x}}|{{{x}}}", "{\"x\": \"<b>&\\\"\"}", true,
	    "&lt;b&gt;&amp;&quot;|<b>&\"");
}
END_TEST

START_TEST(test_render_many)
{
	struct tmpl_opts	 o = { 0 };
	struct tmpl		*t;
	json_t			*ctx;
	char			*out, err[128];
	int			 i;

	t = tmpl_compile("{{#l}}{{.}},{{/l}}", 18, err, sizeof(err));
	ck_assert_ptr_nonnull(t);
	for (i = 0; i < 100; i++) {
		ctx = json_pack("{s:[i,i]}", "l", i, i + 1);
		ck_assert_int_eq(tmpl_render(t, ctx, &o, &out, err,
		    sizeof(err)), 0);
		ck_assert_int_eq(atoi(out), i);
		free(out);
		json_decref(ctx);
	}
	tmpl_free(t);
}
END_TEST

/* A partial callback whose partial "self" always includes itself. */
static char *
self_partial(void *arg, const char *name, size_t *len)
{
	(void)arg;
	if (strcmp(name, "self") != 0)
		return NULL;
	*len = strlen("{{#a}}x{{> self}}{{/a}}");
	return strdup("{{#a}}x{{> self}}{{/a}}");
}

START_TEST(test_depth_callback)
{
	struct tmpl_opts	 o = { .partial = self_partial };
	struct tmpl		*t;
	json_t			*ctx = js("{\"a\": true}");
	char			*out = NULL, err[256] = "";

	t = tmpl_compile("{{> self}}", 10, err, sizeof(err));
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(tmpl_render(t, ctx, &o, &out, err, sizeof(err)), -1);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "deeper than 16") != NULL, "%s", err);
	tmpl_free(t);
	json_decref(ctx);
}
END_TEST

/* Loads the test directory, expecting success. */
static struct tmpl_set *
load(void)
{
	struct tmpl_set	*s;
	char		 err[512] = "";

	s = tmpl_set_load(tmpdir, err, sizeof(err));
	ck_assert_msg(s != NULL, "load: %s", err);
	return s;
}

/* Loads the test directory, expecting an error containing N1 and N2. */
static void
load_fails(const char *n1, const char *n2)
{
	struct tmpl_set	*s;
	char		 err[512] = "";

	s = tmpl_set_load(tmpdir, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, n1) != NULL, "\"%s\" lacks \"%s\"", err, n1);
	if (n2 != NULL)
		ck_assert_msg(strstr(err, n2) != NULL, "\"%s\" lacks \"%s\"",
		    err, n2);
}

/* Renders NAME/TYPE/PART from S against DATA and compares with WANT. */
static void
set_renders(const struct tmpl_set *s, const char *name, const char *type,
    const char *part, const char *data, const char *want)
{
	json_t	*ctx = js(data);
	char	*out = NULL, err[512] = "";

	ck_assert_msg(tmpl_set_render(s, name, type, part, ctx, true, &out, err,
	    sizeof(err)) == 0, "render %s/%s: %s", name, type, err);
	ck_assert_str_eq(out, want);
	free(out);
	json_decref(ctx);
}

/* Renders NAME/TYPE/PART from S, expecting an error containing N. */
static void
set_fails(const struct tmpl_set *s, const char *name, const char *type,
    const char *part, const char *data, const char *n)
{
	json_t	*ctx = js(data);
	char	*out = NULL, err[512] = "";

	ck_assert_int_eq(tmpl_set_render(s, name, type, part, ctx, true, &out,
	    err, sizeof(err)), -1);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, n) != NULL, "\"%s\" lacks \"%s\"", err, n);
	json_decref(ctx);
}

START_TEST(test_set_variants)
{
	struct tmpl_set	*s;
	char		 p[PATH_MAX + 32];

	put("ogw.mustache", "generic {{x}}\n");
	put("ogw.mastodon.mustache", "mastodon {{x}}\n");
	put("ogw.2021.mustache", "dotted name {{x}}\n");
	put("notes.txt", "not a template {{");
	put(".hidden.mustache", "{{#broken");
	snprintf(p, sizeof(p), "%s/dir.mustache", tmpdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	s = load();
	set_renders(s, "ogw", "mastodon", NULL, "{\"x\": \"<&>\"}",
	    "mastodon <&>\n");
	set_renders(s, "ogw", "bluesky", NULL, "{\"x\": \"<&>\"}",
	    "generic <&>\n");
	set_renders(s, "ogw.2021", "bluesky", NULL, "{\"x\": 1}",
	    "dotted name 1\n");
	set_fails(s, "nope", "mastodon", NULL, "{}", "no template nope for "
	    "mastodon");
	set_fails(s, "ogw", "smtp", "subject", "{}", "no template ogw.subject "
	    "for smtp");
	set_fails(s, "ogw", "bluesky", NULL, "{}", "unknown variable \"x\"");
	set_fails(s, "ogw", "bluesky", NULL, "{}", "ogw.mustache:1");
	ck_assert(tmpl_set_has(s, "ogw", "mastodon"));
	ck_assert(tmpl_set_has(s, "ogw", "webhook"));
	ck_assert(!tmpl_set_has(s, "nope", "mastodon"));
	ck_assert(!tmpl_set_has(s, "dir", "mastodon"));
	tmpl_set_free(s);
}
END_TEST

START_TEST(test_set_email)
{
	struct tmpl_set	*s;
	const char	*data = "{\"summary\": \"Q&A <live>\", "
	    "\"recipient\": {\"name\": \"Ana\"}}";

	put("news.subject.mustache", "{{summary}}");
	put("news.txt.mustache", "Hi {{recipient.name}}, {{summary}}\n");
	put("news.html.mustache", "<p>Hi {{recipient.name}}, {{summary}} "
	    "{{{summary}}}</p>\n");
	s = load();
	set_renders(s, "news", "smtp", "subject", data, "Q&A <live>");
	set_renders(s, "news", "smtp", "txt", data, "Hi Ana, Q&A <live>\n");
	set_renders(s, "news", "smtp", "html", data,
	    "<p>Hi Ana, Q&amp;A &lt;live&gt; Q&A <live></p>\n");
	set_fails(s, "news", "mastodon", NULL, data, "no template news for "
	    "mastodon");
	set_fails(s, "news", "smtp", "pdf", data, "pdf");
	ck_assert(tmpl_set_has(s, "news", "smtp"));
	tmpl_set_free(s);
}
END_TEST

START_TEST(test_set_partials)
{
	struct tmpl_set	*s;

	put("post.mustache", "{{summary}}\n  {{> footer}}\nend\n");
	put("footer.mustache", "--\n{{vars.org}}\n");
	put("footer.mastodon.mustache", "not used by the partial tag\n");
	s = load();
	set_renders(s, "post", "mastodon", NULL,
	    "{\"summary\": \"S\", \"vars\": {\"org\": \"OGP\"}}",
	    "S\n  --\n  OGP\nend\n");
	tmpl_set_free(s);
}
END_TEST

START_TEST(test_set_partial_escape)
{
	put("post.mustache", "x {{> ../secret}}\n");
	load_fails("post.mustache:1", "refused");
}
END_TEST

START_TEST(test_set_partial_hidden)
{
	put("post.mustache", "x\n{{> .hidden}}\n");
	load_fails("post.mustache:2", "refused");
}
END_TEST

START_TEST(test_set_partial_missing)
{
	put("post.mustache", "x\n\n{{> fotter}}\n");
	load_fails("post.mustache:3", "no partial \"fotter\"");
}
END_TEST

START_TEST(test_set_syntax_error)
{
	put("a.mustache", "fine\n");
	put("b.mastodon.mustache", "line 1\nline 2 {{#open}}\n");
	load_fails("b.mastodon.mustache:2", "unclosed section \"open\"");
}
END_TEST

START_TEST(test_set_too_large)
{
	char	*big;

	big = malloc(TMPL_MAX_SIZE + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', TMPL_MAX_SIZE + 1);
	big[TMPL_MAX_SIZE + 1] = '\0';
	put("big.mustache", big);
	free(big);
	load_fails("big.mustache", "larger than");
}
END_TEST

START_TEST(test_set_depth)
{
	struct tmpl_set	*s;

	put("loop.mustache", "{{#a}}\n{{> loop}}\n{{/a}}\n");
	put("tree.mustache", "{{name}}{{#kids}}({{> tree}}){{/kids}}");
	s = load();
	set_fails(s, "loop", "mastodon", NULL, "{\"a\": true}",
	    "deeper than 16");
	/* Recursion that the data ends is fine. */
	set_renders(s, "tree", "x", NULL, "{\"name\": \"r\", \"kids\": "
	    "[{\"name\": \"a\", \"kids\": []}, {\"name\": \"b\", \"kids\": []}]}",
	    "r(a)(b)");
	tmpl_set_free(s);
}
END_TEST

START_TEST(test_set_empty_and_missing_dir)
{
	struct tmpl_set	*s;
	char		 err[512] = "", p[PATH_MAX + 32];

	s = load();
	ck_assert(!tmpl_set_has(s, "x", "mastodon"));
	tmpl_set_free(s);
	snprintf(p, sizeof(p), "%s/none", tmpdir);
	ck_assert_ptr_null(tmpl_set_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, p) != NULL, "%s", err);
}
END_TEST

static Suite *
template_suite(void)
{
	Suite	*s = suite_create("template");
	TCase	*tc;

	tc = tcase_create("compile and render");
	tcase_add_test(tc, test_unclosed_section);
	tcase_add_test(tc, test_mismatched_close);
	tcase_add_test(tc, test_unclosed_tag);
	tcase_add_test(tc, test_strict_unknown);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_render_many);
	tcase_add_test(tc, test_depth_callback);
	suite_add_tcase(s, tc);

	tc = tcase_create("sets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_set_variants);
	tcase_add_test(tc, test_set_email);
	tcase_add_test(tc, test_set_partials);
	tcase_add_test(tc, test_set_partial_escape);
	tcase_add_test(tc, test_set_partial_hidden);
	tcase_add_test(tc, test_set_partial_missing);
	tcase_add_test(tc, test_set_syntax_error);
	tcase_add_test(tc, test_set_too_large);
	tcase_add_test(tc, test_set_depth);
	tcase_add_test(tc, test_set_empty_and_missing_dir);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(template_suite(), 0));
}
