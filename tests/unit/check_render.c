/* Unit tests: rendering occurrences and ad-hoc posts for channels (SPEC §5). */
#include <config.h>

#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/calendar/calendar.h"
#include "daemon/channel.h"
#include "daemon/conf.h"
#include "daemon/length.h"
#include "daemon/render.h"
#include "daemon/template.h"
#include "tests/unit/unit.h"

static char		 tmpdir[] = "/tmp/crier-check-render-XXXXXX";
static char		 tdir[512];
static struct config	*conf;
static struct tmpl_set	*tmpls;

static const struct channel_ops	ops_mastodon = {
	.type = "mastodon", .len_rule = LEN_MASTODON, .default_limit = 500,
};
static const struct channel_ops	ops_bluesky = {
	.type = "bluesky", .len_rule = LEN_BLUESKY, .default_limit = 300,
};
static const struct channel_ops	ops_smtp = {
	.type = "smtp", .email = true, .len_rule = LEN_PLAIN,
};
static const struct channel_ops	ops_outbox = {
	.type = "outbox", .len_rule = LEN_PLAIN,
};

static struct channel	ch_mastodon = { .name = "mastodon-ogp", .ops = &ops_mastodon, .limit = 500 };
static struct channel	ch_bluesky = { .name = "bluesky-ogp", .ops = &ops_bluesky, .limit = 300 };
static struct channel	ch_smtp = { .name = "news", .ops = &ops_smtp };
static struct channel	ch_outbox = { .name = "box", .ops = &ops_outbox };

static char		*cats[] = { "Open Gov Week", "Break the Roles" };
static struct cal_var	 occvars[] = { { "theme", "Gender" }, { "extra", "occ" } };

/* Writes TEXT to DIR/NAME. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char	 p[1024];
	FILE	*fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Removes DIR/NAME. */
static void
remove_file(const char *dir, const char *name)
{
	char	 p[1024];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

/* The names of the test templates, to remove them afterwards. */
static const char *const test_templates[][2] = {
	{ "t.mustache", "generic {{summary}}\n" },
	{ "t.mastodon.mustache", "mastodon {{summary}}\n" },
	{ "vars.mustache", "{{vars.org}}|{{vars.theme}}|{{vars.extra}}" },
	{ "strict.mustache", "a {{summary}} {{nosuch}} b\n" },
	{ "trail.mustache", "\n  \n{{summary}}\n\nend  \n\n\n" },
	{ "long.mustache", "{{description}} {{url}}" },
	{ "empty.mustache", "{{! nothing }}\n" },
	{ "mail.subject.mustache", "{{vars.org}}:\n  {{summary}} & more\n" },
	{ "mail.txt.mustache", "Hello {{recipient.name}} <{{recipient.email}}>\n"
	    "{{summary}} & more\nUnsubscribe: {{recipient.unsubscribe_url}}\n" },
	{ "mail.html.mustache", "<p>Hello {{recipient.name}}</p>\n"
	    "<p>{{summary}} & more</p>\n<a href=\"{{recipient.unsubscribe_url}}\">u</a>\n" },
	{ "nohtml.subject.mustache", "{{summary}}" },
	{ "nohtml.txt.mustache", "Text {{summary}}" },
	{ "notxt.subject.mustache", "{{summary}}" },
	{ "badhtml.subject.mustache", "{{summary}}" },
	{ "badhtml.txt.mustache", "{{summary}}" },
	{ "badhtml.html.mustache", "{{nosuch}}" },
};

/* Creates the templates directory and crier.conf; loads both. */
static void
setup(void)
{
	char	 p[1024], err[1024], conftext[1024];
	size_t	 i;

	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(tdir, sizeof(tdir), "%s/templates", tmpdir);
	ck_assert_int_eq(mkdir(tdir, 0700), 0);
	for (i = 0; i < sizeof(test_templates) / sizeof(test_templates[0]); i++)
		write_file(tdir, test_templates[i][0], test_templates[i][1]);
	tmpls = tmpl_set_load(tdir, err, sizeof(err));
	ck_assert_msg(tmpls != NULL, "%s", err);

	snprintf(conftext, sizeof(conftext),
	    "[crier]\nstate_dir = %s\ntimezone = Europe/London\n"
	    "\n[vars]\norg = Open Government Partnership\ntheme = Default\n"
	    "extra = conf\nonly_conf = yes\n", tmpdir);
	write_file(tmpdir, "crier.conf", conftext);
	snprintf(p, sizeof(p), "%s/crier.conf", tmpdir);
	conf = conf_load(p, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(conf != NULL, "%s", err);
}

/* Frees what setup made and removes its files. */
static void
teardown(void)
{
	size_t	 i;

	tmpl_set_free(tmpls);
	conf_free(conf);
	for (i = 0; i < sizeof(test_templates) / sizeof(test_templates[0]); i++)
		remove_file(tdir, test_templates[i][0]);
	rmdir(tdir);
	remove_file(tmpdir, "crier.conf");
	rmdir(tmpdir);
}

/* Parses "2027-05-17T08:00:00Z" into seconds since the epoch. */
static time_t
utc(const char *iso)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	ck_assert_ptr_nonnull(strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return timegm(&tm);
}

/* A realistic occurrence starting at ISO. */
static struct cal_occurrence
occurrence(const char *iso)
{
	struct cal_occurrence	 o;

	memset(&o, 0, sizeof(o));
	o.uid = "ogw-1@example.org";
	snprintf(o.start_str, sizeof(o.start_str), "%s", iso);
	o.start = utc(iso);
	o.end = o.start + 3600;
	o.summary = "Open Gov Week: day one";
	o.description = "Join the opening session.";
	o.url = "https://www.opengovpartnership.org/events/ogw-2027/";
	o.location = "Online";
	o.categories = cats;
	o.ncategories = 2;
	o.vars = occvars;
	o.nvars = 2;
	return o;
}

/* An input for O on channel CH with template TEMPLATE. */
static struct render_input
input(const struct cal_occurrence *o, struct channel *ch, const char *template)
{
	struct render_input	 in;

	memset(&in, 0, sizeof(in));
	in.occ = o;
	in.calendar = o != NULL ? "ogw" : NULL;
	in.ch = ch;
	in.conf = conf;
	in.tmpls = tmpls;
	in.template = template;
	return in;
}

/* The string at dotted PATH of CTX ("start.date"), asserting it exists. */
static const char *
ctx_str(json_t *ctx, const char *path)
{
	char	 b[128], *p, *dot;
	json_t	*v = ctx;

	snprintf(b, sizeof(b), "%s", path);
	for (p = b; p != NULL; p = dot) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot++ = '\0';
		v = json_object_get(v, p);
		ck_assert_msg(v != NULL, "no %s in the context", path);
	}
	ck_assert_msg(json_is_string(v), "%s is not a string", path);
	return json_string_value(v);
}

START_TEST(test_start_fields)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_mastodon, NULL);
	json_t			*ctx;

	ctx = render_context(&in);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(ctx_str(ctx, "start.iso"), "2027-05-17T08:00:00Z");
	ck_assert_str_eq(ctx_str(ctx, "start.date"), "2027-05-17");
	ck_assert_str_eq(ctx_str(ctx, "start.time"), "09:00");
	ck_assert_str_eq(ctx_str(ctx, "start.weekday"), "Monday");
	ck_assert_str_eq(ctx_str(ctx, "start.day"), "17");
	ck_assert_str_eq(ctx_str(ctx, "start.month"), "May");
	ck_assert_str_eq(ctx_str(ctx, "start.year"), "2027");
	ck_assert_str_eq(ctx_str(ctx, "summary"), "Open Gov Week: day one");
	ck_assert_str_eq(ctx_str(ctx, "location"), "Online");
	ck_assert_str_eq(ctx_str(ctx, "calendar.name"), "ogw");
	ck_assert_str_eq(ctx_str(ctx, "channel.name"), "mastodon-ogp");
	ck_assert_str_eq(ctx_str(ctx, "channel.type"), "mastodon");
	ck_assert_int_eq(json_integer_value(json_object_get(
	    json_object_get(ctx, "channel"), "limit")), 500);
	ck_assert_int_eq(json_array_size(json_object_get(ctx, "categories")), 2);
	ck_assert_str_eq(json_string_value(json_array_get(
	    json_object_get(ctx, "categories"), 0)), "Open Gov Week");
	/* A caller may add the recipient afterwards. */
	ck_assert_int_eq(json_object_set_new(ctx, "recipient",
	    json_pack("{s:s}", "email", "a@example.org")), 0);
	json_decref(ctx);

	/* Winter: GMT, and a single-digit day. */
	o = occurrence("2027-01-05T08:00:00Z");
	ctx = render_context(&in);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(ctx_str(ctx, "start.time"), "08:00");
	ck_assert_str_eq(ctx_str(ctx, "start.day"), "5");
	ck_assert_str_eq(ctx_str(ctx, "start.month"), "January");
	ck_assert_str_eq(ctx_str(ctx, "start.weekday"), "Tuesday");
	json_decref(ctx);
}
END_TEST

START_TEST(test_start_midnight)
{
	struct cal_occurrence	 o = occurrence("2027-05-16T23:30:00Z");
	struct render_input	 in = input(&o, &ch_outbox, NULL);
	json_t			*ctx;

	ctx = render_context(&in);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(ctx_str(ctx, "start.iso"), "2027-05-16T23:30:00Z");
	ck_assert_str_eq(ctx_str(ctx, "start.date"), "2027-05-17");
	ck_assert_str_eq(ctx_str(ctx, "start.time"), "00:30");
	ck_assert_str_eq(ctx_str(ctx, "start.weekday"), "Monday");
	ck_assert_str_eq(ctx_str(ctx, "start.day"), "17");
	/* No limit for the channel: no channel.limit. */
	ck_assert_ptr_null(json_object_get(json_object_get(ctx, "channel"),
	    "limit"));
	json_decref(ctx);
}
END_TEST

START_TEST(test_start_all_day)
{
	struct cal_occurrence	 o = occurrence("2027-05-16T23:00:00Z");
	struct render_input	 in = input(&o, &ch_outbox, NULL);
	json_t			*ctx;

	/* All-day: 00:00 in the display zone, the date as written. */
	o.all_day = true;
	snprintf(o.start_str, sizeof(o.start_str), "2027-05-17");
	ctx = render_context(&in);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(ctx_str(ctx, "start.iso"), "2027-05-17");
	ck_assert_str_eq(ctx_str(ctx, "start.date"), "2027-05-17");
	ck_assert_str_eq(ctx_str(ctx, "start.time"), "");
	ck_assert_str_eq(ctx_str(ctx, "start.weekday"), "Monday");
	json_decref(ctx);
}
END_TEST

START_TEST(test_hashtags)
{
	char			*c[] = { "Open Gov Week", "break-the roles!", "  ",
	    "Género y Inclusión", "#Already", "!!!", "", "OGP2027", "iPhone",
	    "été indien" };
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_mastodon, NULL);
	json_t			*ctx;

	ctx = render_context(&in);
	ck_assert_str_eq(ctx_str(ctx, "hashtags"), "#OpenGovWeek #BreakTheRoles");
	json_decref(ctx);

	o.categories = c;
	o.ncategories = sizeof(c) / sizeof(c[0]);
	ctx = render_context(&in);
	ck_assert_str_eq(ctx_str(ctx, "hashtags"), "#OpenGovWeek #BreakTheRoles "
	    "#GéneroYInclusión #Already #OGP2027 #iPhone #ÉtéIndien");
	json_decref(ctx);

	o.ncategories = 0;
	ctx = render_context(&in);
	ck_assert_str_eq(ctx_str(ctx, "hashtags"), "");
	ck_assert_int_eq(json_array_size(json_object_get(ctx, "categories")), 0);
	json_decref(ctx);
}
END_TEST

START_TEST(test_vars_precedence)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_outbox, "vars");
	struct render_output	 out;
	json_t			*ctx;

	/* config < occurrence */
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "Open Government Partnership|Gender|occ");
	render_output_clear(&out);

	/* occurrence < post vars */
	in.vars = json_pack("{s:s, s:s}", "extra", "post", "org", "OGP");
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "OGP|Gender|post");
	render_output_clear(&out);
	ctx = render_context(&in);
	ck_assert_str_eq(ctx_str(ctx, "vars.only_conf"), "yes");
	json_decref(ctx);

	/* Ad hoc: config < post vars. */
	in.occ = NULL;
	in.calendar = NULL;
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "OGP|Default|post");
	render_output_clear(&out);
	json_decref(in.vars);
}
END_TEST

START_TEST(test_adhoc_context)
{
	struct render_input	 in = input(NULL, &ch_outbox, NULL);
	json_t			*ctx;

	in.start = (int64_t)utc("2027-05-17T08:00:00Z") * 1000 + 250;
	ctx = render_context(&in);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_str_eq(ctx_str(ctx, "summary"), "");
	ck_assert_str_eq(ctx_str(ctx, "description"), "");
	ck_assert_str_eq(ctx_str(ctx, "start.iso"), "2027-05-17T08:00:00Z");
	ck_assert_str_eq(ctx_str(ctx, "start.time"), "09:00");
	ck_assert_ptr_null(json_object_get(ctx, "calendar"));
	ck_assert_str_eq(ctx_str(ctx, "vars.org"), "Open Government Partnership");
	json_decref(ctx);
}
END_TEST

START_TEST(test_variant)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_mastodon, "t");
	struct render_output	 out;

	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "mastodon Open Gov Week: day one");
	render_output_clear(&out);

	in.ch = &ch_outbox;
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "generic Open Gov Week: day one");
	render_output_clear(&out);

	in.ch = &ch_bluesky;
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "generic Open Gov Week: day one");
	ck_assert(out.len.fits);
	render_output_clear(&out);

	in.template = "nosuch";
	ck_assert_int_eq(render_post(&in, &out), -1);
	ck_assert_ptr_null(out.text);
	ck_assert_msg(strstr(out.error, "nosuch") != NULL, "%s", out.error);
	render_output_clear(&out);
}
END_TEST

START_TEST(test_no_template)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_mastodon, NULL);
	struct render_output	 out;

	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "Join the opening session.\n\n"
	    "https://www.opengovpartnership.org/events/ogw-2027/");
	ck_assert(out.len.fits);
	ck_assert_int_eq(out.len.length, 25 + 2 + 23);
	render_output_clear(&out);

	o.url = NULL;
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "Join the opening session.");
	render_output_clear(&out);

	o.url = "https://example.org/";
	o.description = "";
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "https://example.org/");
	render_output_clear(&out);

	o.url = NULL;
	o.description = NULL;
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "Open Gov Week: day one");
	render_output_clear(&out);

	/* Nothing at all is an error, not an empty post. */
	o.summary = NULL;
	ck_assert_int_eq(render_post(&in, &out), -1);
	ck_assert_ptr_null(out.text);
	ck_assert(out.error[0] != '\0');
	render_output_clear(&out);

	/* A description with a trailing newline loses it. */
	o.description = "Body\n\n";
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "Body");
	render_output_clear(&out);
}
END_TEST

START_TEST(test_no_templates_dir)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_mastodon, "ogw-daily");
	struct render_output	 out;

	in.tmpls = NULL;
	ck_assert_int_eq(render_post(&in, &out), -1);
	ck_assert_str_eq(out.error, "template ogw-daily: no templates directory "
	    "is configured");
	render_output_clear(&out);
}
END_TEST

START_TEST(test_strict)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_outbox, "strict");
	struct render_output	 out;

	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "a Open Gov Week: day one  b");
	render_output_clear(&out);

	in.strict = true;
	ck_assert_int_eq(render_post(&in, &out), -1);
	ck_assert_ptr_null(out.text);
	ck_assert_msg(strstr(out.error, "template strict") != NULL &&
	    strstr(out.error, "nosuch") != NULL, "%s", out.error);
	render_output_clear(&out);
}
END_TEST

START_TEST(test_trim)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_outbox, "trail");
	struct render_output	 out;

	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "Open Gov Week: day one\n\nend");
	render_output_clear(&out);

	in.template = "t";
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "generic Open Gov Week: day one");
	render_output_clear(&out);

	in.template = "empty";
	ck_assert_int_eq(render_post(&in, &out), -1);
	ck_assert_msg(strstr(out.error, "template empty") != NULL, "%s",
	    out.error);
	render_output_clear(&out);
}
END_TEST

START_TEST(test_email)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_smtp, "mail");
	struct render_output	 out;
	json_t			*r;

	o.summary = "Rights <&> \"roles\"";
	r = json_pack("{s:s, s:s, s:s}", "email", "ann@example.org", "name",
	    "Ann <&>", "unsubscribe_url", "https://example.org/u?a=1&b=2");
	ck_assert_int_eq(render_email_for(&in, r, &out), 0);
	ck_assert_str_eq(out.subject, "Open Government Partnership: "
	    "Rights <&> \"roles\" & more");
	ck_assert_str_eq(out.text, "Hello Ann <&> <ann@example.org>\n"
	    "Rights <&> \"roles\" & more\n"
	    "Unsubscribe: https://example.org/u?a=1&b=2");
	ck_assert_ptr_nonnull(out.html);
	ck_assert_str_eq(out.html, "<p>Hello Ann &lt;&amp;&gt;</p>\n"
	    "<p>Rights &lt;&amp;&gt; &quot;roles&quot; & more</p>\n"
	    "<a href=\"https://example.org/u?a=1&amp;b=2\">u</a>");
	ck_assert(out.len.fits);
	render_output_clear(&out);
	json_decref(r);

	/* The preview has a blank recipient, even in strict mode. */
	in.strict = true;
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.text, "Hello  <>\nRights <&> \"roles\" & more\n"
	    "Unsubscribe:");
	ck_assert_ptr_nonnull(out.html);
	render_output_clear(&out);

	/* No html part is fine; a missing txt part is not. */
	in.template = "nohtml";
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.subject, "Rights <&> \"roles\"");
	ck_assert_str_eq(out.text, "Text Rights <&> \"roles\"");
	ck_assert_ptr_null(out.html);
	render_output_clear(&out);

	in.template = "notxt";
	ck_assert_int_eq(render_post(&in, &out), -1);
	ck_assert_msg(strstr(out.error, "notxt") != NULL &&
	    strstr(out.error, "txt") != NULL, "%s", out.error);
	ck_assert_ptr_null(out.subject);
	render_output_clear(&out);

	/* An html part that fails is an error, not a missing part. */
	in.template = "badhtml";
	ck_assert_int_eq(render_post(&in, &out), -1);
	ck_assert_msg(strstr(out.error, "badhtml") != NULL &&
	    strstr(out.error, "nosuch") != NULL, "%s", out.error);
	render_output_clear(&out);

	/* A subject template that does not exist. */
	in.template = "t";
	ck_assert_int_eq(render_post(&in, &out), -1);
	ck_assert_msg(strstr(out.error, "subject") != NULL, "%s", out.error);
	render_output_clear(&out);

	/* Without a template: the subject is the summary. */
	in.template = NULL;
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert_str_eq(out.subject, "Rights <&> \"roles\"");
	ck_assert_str_eq(out.text, "Join the opening session.\n\n"
	    "https://www.opengovpartnership.org/events/ogw-2027/");
	ck_assert_ptr_null(out.html);
	render_output_clear(&out);
}
END_TEST

START_TEST(test_too_long)
{
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in = input(&o, &ch_mastodon, "long");
	struct render_output	 out;
	char			 desc[481];

	memset(desc, 'a', 480);
	desc[480] = '\0';
	o.description = desc;
	/* 480 + 1 + 23 for the URL, whatever its real length. */
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert(!out.len.fits);
	ck_assert_int_eq(out.len.length, 504);
	ck_assert_int_eq(out.len.limit, 500);
	ck_assert_int_eq(out.len.bytes, 480 + 1 + strlen(o.url));
	render_output_clear(&out);

	desc[470] = '\0';
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert(out.len.fits);
	ck_assert_int_eq(out.len.length, 494);
	render_output_clear(&out);

	/* Bluesky counts the URL in full. */
	in.ch = &ch_bluesky;
	desc[250] = '\0';
	ck_assert_int_eq(render_post(&in, &out), 0);
	ck_assert(!out.len.fits);
	ck_assert_int_eq(out.len.length, 250 + 1 + strlen(o.url));
	render_output_clear(&out);
}
END_TEST

/* Adds to NAMES (NUL-separated, at most SIZE) the partials {{> x}} that TEXT uses. */
static void
partials_of(const char *text, char *names, size_t size)
{
	const char	*p = text, *e;
	size_t		 n, used;

	while ((p = strstr(p, "{{>")) != NULL) {
		p += 3;
		while (*p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ' ' && *e != '}'; e++)
			;
		n = (size_t)(e - p);
		used = strlen(names);
		if (used + n + 2 < size) {
			memcpy(names + used, p, n);
			names[used + n] = ' ';
			names[used + n + 1] = '\0';
		}
		p = e;
	}
}

/* True if NAME is in the space-separated LIST. */
static bool
in_list(const char *list, const char *name)
{
	char	 b[256];

	snprintf(b, sizeof(b), "%s ", name);
	return strncmp(list, b, strlen(b)) == 0 || (snprintf(b, sizeof(b),
	    " %s ", name), strstr(list, b) != NULL);
}

START_TEST(test_sample_templates)
{
	static const char *const types[] = { "outbox", "mastodon", "bluesky",
	    "webhook", "x", "linkedin", "facebook", "listmonk" };
	char			 dir[1024], err[1024], partials[1024] = "";
	char			 names[64][128], base[256], *dot, *text;
	const char		*top;
	struct tmpl_set		*set;
	struct cal_occurrence	 o = occurrence("2027-05-17T08:00:00Z");
	struct render_input	 in;
	struct render_output	 out;
	struct channel		 ch;
	struct channel_ops	 ops;
	struct dirent		*d;
	DIR			*dp;
	FILE			*fp;
	size_t			 nnames = 0, i, j, rendered = 0, len;
	bool			 email, seen;

	if ((top = getenv("top_srcdir")) == NULL)
		top = ".";
	snprintf(dir, sizeof(dir), "%s/templates", top);
	set = tmpl_set_load(dir, err, sizeof(err));
	ck_assert_msg(set != NULL, "%s", err);

	/* Every template name, and the partials the templates use. */
	dp = opendir(dir);
	ck_assert_ptr_nonnull(dp);
	while ((d = readdir(dp)) != NULL) {
		len = strlen(d->d_name);
		if (len <= 9 || strcmp(d->d_name + len - 9, ".mustache") != 0)
			continue;
		snprintf(base, sizeof(base), "%s/%s", dir, d->d_name);
		fp = fopen(base, "r");
		ck_assert_ptr_nonnull(fp);
		text = calloc(1, TMPL_MAX_SIZE + 1);
		ck_assert_ptr_nonnull(text);
		fread(text, 1, TMPL_MAX_SIZE, fp);
		fclose(fp);
		partials_of(text, partials, sizeof(partials));
		free(text);
		snprintf(base, sizeof(base), "%.*s", (int)(len - 9), d->d_name);
		if ((dot = strchr(base, '.')) != NULL)
			*dot = '\0';
		for (seen = false, i = 0; i < nnames; i++)
			seen = seen || strcmp(names[i], base) == 0;
		if (!seen && nnames < 64)
			snprintf(names[nnames++], sizeof(names[0]), "%s", base);
	}
	closedir(dp);
	ck_assert_msg(nnames > 0, "no templates in %s", dir);

	o.summary = "Break the Roles: women in open government";
	o.description = "A day on gender and inclusion in open government.";
	o.url = "https://www.opengovpartnership.org/campaigns/break-the-roles/";
	o.location = "Online";
	for (i = 0; i < nnames; i++) {
		/* The campaign report is no post: report-chromium.sh renders it. */
		if (in_list(partials, names[i]) || strcmp(names[i], "report") == 0)
			continue;
		for (j = 0; j < sizeof(types) / sizeof(types[0]) + 1; j++) {
			email = j == sizeof(types) / sizeof(types[0]);
			memset(&ops, 0, sizeof(ops));
			ops.type = email ? "smtp" : types[j];
			ops.email = email;
			if (chan_style_find(ops.type, &ops.len_rule, &len) == -1)
				ops.len_rule = LEN_PLAIN;	/* no such network yet */
			/* Post templates for posts, email ones for email. */
			snprintf(base, sizeof(base), "%s/%s.txt.mustache", dir,
			    names[i]);
			if (email != (access(base, F_OK) == 0))
				continue;
			memset(&ch, 0, sizeof(ch));
			ch.name = "sample";
			ch.ops = &ops;
			ch.limit = strcmp(ops.type, "mastodon") == 0 ? 500 :
			    strcmp(ops.type, "bluesky") == 0 ? 300 :
			    strcmp(ops.type, "x") == 0 ? 280 : 0;
			in = input(&o, &ch, names[i]);
			in.tmpls = set;
			in.strict = true;
			ck_assert_msg(render_post(&in, &out) == 0,
			    "%s for %s: %s", names[i], ops.type, out.error);
			/*
			 * A template written for a network must fit it; a
			 * generic one may not, and the check reports that.
			 */
			snprintf(base, sizeof(base), "%s/%s.%s.mustache", dir,
			    names[i], ops.type);
			if (access(base, F_OK) == 0)
				ck_assert_msg(out.len.fits, "%s for %s: %zu > %zu",
				    names[i], ops.type, out.len.length,
				    out.len.limit);
			ck_assert(strstr(out.text, o.summary) != NULL);
			ck_assert(out.text[strlen(out.text) - 1] != '\n');
			if (email) {
				ck_assert(strstr(out.subject, o.summary) != NULL);
				ck_assert(strchr(out.subject, '\n') == NULL);
			}
			render_output_clear(&out);
			if (email) {
				json_t *r = json_pack("{s:s, s:s, s:s}", "email",
				    "ann@example.org", "name", "Ann", "unsubscribe_url",
				    "https://example.org/u?id=1&t=2");
				ck_assert_msg(render_email_for(&in, r, &out) == 0,
				    "%s: %s", names[i], out.error);
				ck_assert(strstr(out.text,
				    "https://example.org/u?id=1&t=2") != NULL);
				if (out.html != NULL)
					ck_assert(strstr(out.html,
					    "https://example.org/u?id=1&amp;t=2") != NULL);
				render_output_clear(&out);
				json_decref(r);
			}
			rendered++;
		}
	}
	ck_assert_uint_gt(rendered, 0);
	tmpl_set_free(set);
}
END_TEST

/* The suite. */
static Suite *
render_suite(void)
{
	Suite	*s = suite_create("render");
	TCase	*tc = tcase_create("render");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_start_fields);
	tcase_add_test(tc, test_start_midnight);
	tcase_add_test(tc, test_start_all_day);
	tcase_add_test(tc, test_hashtags);
	tcase_add_test(tc, test_vars_precedence);
	tcase_add_test(tc, test_adhoc_context);
	tcase_add_test(tc, test_variant);
	tcase_add_test(tc, test_no_template);
	tcase_add_test(tc, test_no_templates_dir);
	tcase_add_test(tc, test_strict);
	tcase_add_test(tc, test_trim);
	tcase_add_test(tc, test_email);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_sample_templates);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs the suite; fails if any test does. */
int
main(void)
{
	return (unit_run(render_suite(), 1));
}
