/*
 * Unit tests for the channel table (channel.c): every network type has what
 * the delivery contract needs, the render styles are the table's, template
 * variants follow the table, and channel sources stay adapters.
 */
#include <config.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <uv.h>

#include "daemon/channel.h"
#include "daemon/conf.h"
#include "daemon/length.h"
#include "daemon/render.h"
#include "daemon/template.h"
#include "tests/unit/unit.h"

static char	tmpdir[PATH_MAX];

/* Creates a fresh empty directory for one test. */
static void
setup(void)
{
	const char	*base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_channels.XXXXXX",
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
		unlink(p);
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
	fputs(s, f);
	fclose(f);
}

/* Every type has a name, a length rule with its limit, keys and one way to send. */
START_TEST(test_table_complete)
{
	const struct channel_ops	*o;
	struct len_result		 lr;
	size_t				 i, j, n = chan_type_count(), nemail = 0;

	ck_assert_uint_ge(n, 5);
	ck_assert_ptr_null(chan_type_at(n));
	for (i = 0; i < n; i++) {
		o = chan_type_at(i);
		ck_assert_ptr_nonnull(o);
		ck_assert_msg(o->type != NULL && o->type[0] != '\0', "row %zu", i);
		ck_assert_msg(strspn(o->type, "abcdefghijklmnopqrstuvwxyz0123456789")
		    == strlen(o->type), "%s: a variant name is lower-case "
		    "letters and digits", o->type);
		ck_assert_ptr_eq(chan_ops_find(o->type), o);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(chan_type_at(j)->type, o->type);
		/* A length rule, and the table's limit is the rule's default. */
		ck_assert_msg(o->len_rule == LEN_PLAIN ||
		    o->len_rule == LEN_MASTODON || o->len_rule == LEN_BLUESKY ||
		    o->len_rule == LEN_X || o->len_rule == LEN_THREADS ||
		    o->len_rule == LEN_LINKEDIN || o->len_rule == LEN_FACEBOOK,
		    "%s: no length rule", o->type);
		len_measure(o->len_rule, "a", 0, &lr);
		ck_assert_msg(lr.limit == o->default_limit, "%s: default limit "
		    "%zu, its rule says %zu", o->type, o->default_limit,
		    lr.limit);
		ck_assert_msg(o->keys != NULL, "%s: no keys", o->type);
		/* One way to send: start, or one request read by classify. */
		ck_assert_msg((o->start != NULL) != (o->build != NULL),
		    "%s: start or build, not both or neither", o->type);
		if (o->build != NULL)
			ck_assert_msg(o->classify != NULL, "%s: build without "
			    "classify", o->type);
		if (o->local)
			ck_assert_msg(o->start != NULL, "%s: local but no start",
			    o->type);
		if (o->email) {
			nemail++;
			ck_assert_msg(o->start != NULL && o->len_rule == LEN_PLAIN &&
			    o->media == NULL, "%s: an email channel sends "
			    "per recipient, unmeasured, without media", o->type);
		}
	}
	ck_assert_uint_eq(nemail, 2);	/* smtp, listmonk */
	ck_assert(chan_ops_find("smtp")->email);
	ck_assert(chan_ops_find("outbox")->local);
	ck_assert(chan_ops_find("x") != NULL && !chan_ops_find("x")->email);
	ck_assert_ptr_nonnull(chan_ops_find("linkedin"));
	ck_assert_ptr_nonnull(chan_ops_find("facebook"));
}
END_TEST

/* Styles: the table's types; rules and limits from the table. */
START_TEST(test_styles)
{
	enum len_rule	 rule;
	size_t		 i, j, lim, n = chan_style_count();
	const char	*s;

	ck_assert_uint_eq(n, chan_type_count());
	for (i = 0; i < chan_type_count(); i++)
		ck_assert_str_eq(chan_style_at(i), chan_type_at(i)->type);
	ck_assert_ptr_null(chan_style_at(n));
	for (i = 0; i < n; i++) {
		s = chan_style_at(i);
		ck_assert_int_eq(chan_style_find(s, &rule, &lim), 0);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(chan_style_at(j), s);
	}
	/* What len_rule_for answered by name, now from the table. */
	ck_assert_int_eq(chan_style_find("mastodon", &rule, &lim), 0);
	ck_assert_int_eq(rule, LEN_MASTODON);
	ck_assert_uint_eq(lim, 500);
	ck_assert_int_eq(chan_style_find("bluesky", &rule, &lim), 0);
	ck_assert_int_eq(rule, LEN_BLUESKY);
	ck_assert_uint_eq(lim, 300);
	ck_assert_int_eq(chan_style_find("x", &rule, &lim), 0);
	ck_assert_int_eq(rule, LEN_X);
	ck_assert_uint_eq(lim, 280);
	ck_assert_int_eq(chan_style_find("smtp", &rule, &lim), 0);
	ck_assert_int_eq(rule, LEN_PLAIN);
	ck_assert_int_eq(chan_style_find("webhook", &rule, &lim), 0);
	ck_assert_int_eq(rule, LEN_PLAIN);
	ck_assert_int_eq(chan_style_find("", &rule, &lim), -1);
	ck_assert_int_eq(chan_style_find(NULL, &rule, &lim), -1);
	ck_assert_int_eq(chan_style_find("linkedin", &rule, &lim), 0);
	ck_assert_int_eq(rule, LEN_LINKEDIN);
	ck_assert_uint_eq(lim, 3000);
	ck_assert_int_eq(chan_style_find("facebook", &rule, &lim), 0);
	ck_assert_int_eq(rule, LEN_FACEBOOK);
	ck_assert_uint_eq(lim, 63206);
	/* An outbox may be `like` a network with its own rule only. */
	ck_assert(chan_style_ok("mastodon"));
	ck_assert(chan_style_ok("bluesky"));
	ck_assert(chan_style_ok("x"));
	ck_assert(!chan_style_ok("webhook"));
	ck_assert(!chan_style_ok("smtp"));
	ck_assert(chan_style_ok("linkedin"));
	ck_assert(!chan_style_ok("tiktok"));
}
END_TEST

/* NAME.<style>.mustache is a variant for exactly the table's styles. */
START_TEST(test_variants_follow_table)
{
	struct tmpl_set	*set;
	json_t		*ctx = json_object();
	char		 file[256], err[512], *out;
	size_t		 i;
	const char	*s;

	put("t.mustache", "generic");
	put("t.tiktok.mustache", "tiktok");	/* no such style */
	for (i = 0; (s = chan_style_at(i)) != NULL; i++) {
		snprintf(file, sizeof(file), "t.%s.mustache", s);
		put(file, s);
	}
	set = tmpl_set_load(tmpdir, err, sizeof(err));
	ck_assert_msg(set != NULL, "%s", err);
	for (i = 0; (s = chan_style_at(i)) != NULL; i++) {
		ck_assert_int_eq(tmpl_set_render(set, "t", s, NULL, ctx, false,
		    &out, err, sizeof(err)), 0);
		ck_assert_msg(strcmp(out, s) == 0, "%s got %s", s, out);
		ck_assert(tmpl_set_has(set, "t", s));
		free(out);
	}
	/* Every channel renders its own variant through render.c too. */
	for (i = 0; i < chan_type_count(); i++) {
		struct channel		 ch;
		struct render_input	 in;
		struct render_output	 ro;

		if (chan_type_at(i)->email)
			continue;
		memset(&ch, 0, sizeof(ch));
		ch.name = "c";
		ch.ops = chan_type_at(i);
		memset(&in, 0, sizeof(in));
		in.ch = &ch;
		in.tmpls = set;
		in.template = "t";
		in.start = 1800000000000LL;
		ck_assert_int_eq(render_post(&in, &ro), 0);
		ck_assert_str_eq(ro.text, ch.ops->type);
		render_output_clear(&ro);
	}
	tmpl_set_free(set);
	json_decref(ctx);
}
END_TEST

/* A reference keeps a template set alive after its loader lets go (a reload). */
START_TEST(test_set_reference)
{
	struct tmpl_set	*set, *ref;
	json_t		*ctx = json_object();
	char		 err[512], *out;

	put("t.mustache", "kept");
	set = tmpl_set_load(tmpdir, err, sizeof(err));
	ck_assert_ptr_nonnull(set);
	ref = tmpl_set_ref(set);
	ck_assert_ptr_eq(ref, set);
	tmpl_set_free(set);
	ck_assert_int_eq(tmpl_set_render(ref, "t", "smtp", NULL, ctx, false,
	    &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out, "kept");
	free(out);
	tmpl_set_free(ref);
	ck_assert_ptr_null(tmpl_set_ref(NULL));
	json_decref(ctx);
}
END_TEST

/* Reads FILE (at most 256 KiB) into a NUL-terminated buffer. */
static char *
slurp(const char *file)
{
	FILE	*f = fopen(file, "r");
	char	*b;
	size_t	 n;

	ck_assert_msg(f != NULL, "%s", file);
	b = calloc(1, 256 * 1024 + 1);
	ck_assert_ptr_nonnull(b);
	n = fread(b, 1, 256 * 1024, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

/*
 * Channel sources are adapters: they include neither the store nor the
 * templates (nor render.c, media loading is the scheduler's), and every
 * channel type defined there is a row of the table.
 */
START_TEST(test_sources_are_adapters)
{
	static const char *const banned[] = { "store.h", "store_kv.h", "template.h",
	    "render.h", "schedule.h", "newsletter.h", "campaign.h", NULL };
	const char	*top = getenv("top_srcdir"), *const *b, *p, *q;
	char		 dir[PATH_MAX], file[PATH_MAX + 256], inc[64], type[64];
	char		*src;
	struct dirent	*e;
	DIR		*d;
	size_t		 nfiles = 0, ntypes = 0, len;

	snprintf(dir, sizeof(dir), "%s/daemon/channels", top ? top : ".");
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
		src = slurp(file);
		nfiles++;
		for (b = banned; *b != NULL; b++) {
			snprintf(inc, sizeof(inc), "#include \"../%s\"", *b);
			ck_assert_msg(strstr(src, inc) == NULL, "%s includes %s",
			    e->d_name, *b);
		}
		ck_assert_msg(strstr(src, "media_load(") == NULL,
		    "%s loads media itself", e->d_name);
		if ((p = strstr(src, "const struct channel_ops ")) != NULL &&
		    (p = strstr(p, ".type = \"")) != NULL) {
			p += strlen(".type = \"");
			q = strchr(p, '"');
			snprintf(type, sizeof(type), "%.*s", (int)(q - p), p);
			ck_assert_msg(chan_ops_find(type) != NULL, "%s: type %s "
			    "is not in the table", e->d_name, type);
			ntypes++;
		}
		free(src);
	}
	closedir(d);
	ck_assert_uint_gt(nfiles, 0);
	ck_assert_uint_eq(ntypes, chan_type_count());
}
END_TEST

/* What an outbox start's DONE was called with, and how often. */
struct done_rec {
	int			calls;
	struct chan_result	r;
};

/* chan_done_fn: counts the call into ARG (a done_rec). */
static void
on_done(void *arg, const struct chan_result *r)
{
	struct done_rec	*d = arg;

	d->calls++;
	d->r = *r;
}

/* Opens the channels of a config with one outbox `box` writing to DIR; *C to free. */
static struct channel *
open_box(const char *dir, struct config **c)
{
	struct channel	*ch;
	char		 buf[2 * PATH_MAX], err[512];

	snprintf(buf, sizeof(buf), "[crier]\nstate_dir = %s\n[channel box]\n"
	    "type = outbox\ndir = %s\n", tmpdir, dir);
	put("crier.conf", buf);
	snprintf(buf, sizeof(buf), "%s/crier.conf", tmpdir);
	*c = conf_load(buf, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(*c != NULL, "%s", err);
	ck_assert_msg(chan_init(*c, false, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(ch = chan_find("box"));
	return (ch);
}

/* A post P of id ID to the box, due 2027-01-01T00:00:00Z. */
static void
box_post(struct post *p, const char *id)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->channel = "box";
	p->due = 1798761600000LL;
	p->text = "hello";
	p->attempt = 1;
}

/*
 * The outbox writes on the thread pool: DONE is called once, on the loop,
 * after the files are there; at shutdown (chan_stop) a write under way
 * ends as interrupted at once and DONE is not called again when it ends.
 */
START_TEST(test_outbox_async)
{
	struct config	*c;
	struct channel	*ch;
	struct post	 p;
	struct done_rec	 a, b;
	char		 buf[2 * PATH_MAX], err[512], *text;

	ch = open_box(tmpdir, &c);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	box_post(&p, "0123456789ab");
	ck_assert_int_eq(chan_start(ch, &p, on_done, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(a.calls, 0);	/* not before the loop runs */
	ck_assert_int_eq(uv_run(uv_default_loop(), UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.r.outcome, CHAN_SENT);
	ck_assert_str_eq(a.r.remote_id, "20270101T000000Z-0123456789ab.txt");
	snprintf(buf, sizeof(buf), "%s/20270101T000000Z-0123456789ab.txt", tmpdir);
	text = slurp(buf);
	ck_assert_str_eq(text, "hello\n");
	free(text);
	snprintf(buf, sizeof(buf), "%s/20270101T000000Z-0123456789ab.json", tmpdir);
	text = slurp(buf);
	ck_assert_ptr_nonnull(strstr(text, "\"text\": \"hello\""));
	free(text);

	p.id = "abcdef012345";
	ck_assert_int_eq(chan_start(ch, &p, on_done, &b, err, sizeof(err)), 0);
	chan_stop();
	ck_assert_int_eq(b.calls, 1);
	ck_assert(b.r.aborted);
	ck_assert_int_eq(uv_run(uv_default_loop(), UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(b.calls, 1);	/* not again when the write ended */
	ck_assert_int_eq(a.calls, 1);
	chan_shutdown();
	conf_free(c);
}
END_TEST

/* A write that fails (the directory is gone) is a transient outcome naming the file. */
START_TEST(test_outbox_write_fails)
{
	struct config	*c;
	struct channel	*ch;
	struct post	 p;
	struct done_rec	 a;
	char		 dir[PATH_MAX + 16], err[512];

	snprintf(dir, sizeof(dir), "%s/box", tmpdir);
	ch = open_box(dir, &c);
	ck_assert_int_eq(rmdir(dir), 0);
	memset(&a, 0, sizeof(a));
	box_post(&p, "0123456789ab");
	ck_assert_int_eq(chan_start(ch, &p, on_done, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(uv_run(uv_default_loop(), UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.r.outcome, CHAN_TRANSIENT);
	ck_assert_msg(strstr(a.r.error, "20270101T000000Z-0123456789ab.json") != NULL &&
	    strstr(a.r.error, "No such file or directory") != NULL, "%s", a.r.error);
	chan_shutdown();
	conf_free(c);
}
END_TEST

static Suite *
channels_suite(void)
{
	Suite	*s = suite_create("channels");
	TCase	*tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_table_complete);
	tcase_add_test(tc, test_styles);
	tcase_add_test(tc, test_variants_follow_table);
	tcase_add_test(tc, test_set_reference);
	tcase_add_test(tc, test_sources_are_adapters);
	tcase_add_test(tc, test_outbox_async);
	tcase_add_test(tc, test_outbox_write_fails);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(channels_suite(), 0));
}
