/*
 * Unit tests: split = thread as everything measures it (thread.c), the
 * parts confirmed in the store (store_parts.c), and utm = applied by
 * compose.c before the post is measured.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/channel.h"
#include "daemon/compose.h"
#include "daemon/conf.h"
#include "daemon/log.h"
#include "daemon/store.h"
#include "daemon/store_parts.h"
#include "daemon/thread.h"
#include "tests/unit/unit.h"

static char		 tmpdir[] = "/tmp/crier-check-thread-XXXXXX";
static char		 err[1024];
static struct config	*conf;

/* A long text: a URL, a mention, a hashtag and a ZWJ family among words. */
static const char long_text[] =
    "Open Gov Week starts on Monday with events in 78 countries. Join "
    "@ogp@mastodon.social for the opening. \xf0\x9f\x91\xa9\xe2\x80\x8d"
    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 Families welcome. Agenda: "
    "https://ogp.example/campaigns/open-gov-week/agenda?lang=en#day1 and "
    "#OpenGovWeek for news.";

/* Bluesky channels: th splits (limit 100), one does not, u tags links. */
static void
setup(void)
{
	char	 p[700], pw[700];
	FILE	*fp;

	snprintf(pw, sizeof(pw), "%s/pw", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(pw, "w"));
	fprintf(fp, "app-pass\n");
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(pw, 0600), 0);
	snprintf(p, sizeof(p), "%s/crier.conf", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fprintf(fp, "[crier]\nstate_dir = %s\ntimezone = UTC\n\n"
	    "[calendar c]\npath = %s/c.ics\nutm = campaign={{calendar}}\n\n"
	    "[channel th]\ntype = bluesky\nhandle = ogp.test\n"
	    "password_file = %s\nlimit = 100\nsplit = thread\n"
	    "[channel one]\ntype = bluesky\nhandle = ogp.test\n"
	    "password_file = %s\nlimit = 60\n"
	    "[channel u]\ntype = bluesky\nhandle = ogp.test\n"
	    "password_file = %s\nlimit = 60\n"
	    "utm = source={{channel}}&medium=social&campaign={{calendar}}\n",
	    tmpdir, tmpdir, pw, pw, pw);
	ck_assert_int_eq(fclose(fp), 0);
	conf = conf_load(p, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(conf != NULL, "%s", err);
	ck_assert_msg(chan_init(conf, true, err, sizeof(err)) == 0, "%s", err);
}

static void
teardown(void)
{
	chan_shutdown();
	conf_free(conf);
}

/* A text too long: parts on the splitting channel, none on the other. */
START_TEST(test_measure)
{
	struct split_result	r;
	struct len_result	lr;
	json_t			*j;
	char			suffix[16], word[200];
	size_t			i;

	ck_assert(thread_enabled(chan_find("th")));
	ck_assert(!thread_enabled(chan_find("one")));
	ck_assert_int_eq(thread_measure(chan_find("one"), long_text, &lr, &r,
	    err, sizeof(err)), 0);
	ck_assert(!lr.fits);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_ptr_null(thread_json(chan_find("one"), long_text));
	ck_assert_int_eq(thread_measure(chan_find("th"), long_text, &lr, &r,
	    err, sizeof(err)), 1);
	ck_assert(lr.fits);
	ck_assert_uint_ge(r.n, 3);
	for (i = 0; i < r.n; i++) {
		snprintf(suffix, sizeof(suffix), " (%zu/%zu)", i + 1, r.n);
		ck_assert_uint_le(r.v[i].length, 100);
		ck_assert_str_eq(r.v[i].text + strlen(r.v[i].text) -
		    strlen(suffix), suffix);
	}
	/* Whole: the URL, the mention, the tag and the family. */
	for (i = 0; i < r.n; i++)
		if (strstr(r.v[i].text, "https://") != NULL)
			ck_assert_ptr_nonnull(strstr(r.v[i].text, "https://"
			    "ogp.example/campaigns/open-gov-week/agenda?lang=en"
			    "#day1"));
	j = thread_json(chan_find("th"), long_text);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(json_array_size(j), r.n);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0),
	    "text")), r.v[0].text);
	json_decref(j);
	split_free(&r);
	/* Short text: one post, no parts. */
	ck_assert_int_eq(thread_measure(chan_find("th"), "short", &lr, &r, err,
	    sizeof(err)), 0);
	ck_assert(lr.fits);
	/* A word longer than a part cannot be split: said, not cut. */
	memset(word, 'a', 120);
	memcpy(word + 120, " end", 5);
	ck_assert_int_eq(thread_measure(chan_find("th"), word, &lr, NULL, err,
	    sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "split = thread: ", 16) == 0, "%s", err);
}
END_TEST

/* The first part not confirmed, and the thread's head as the result. */
START_TEST(test_next_sent)
{
	struct post_part	parts[3];
	struct post		p;
	struct chan_result	r;

	memset(parts, 0, sizeof(parts));
	memset(&p, 0, sizeof(p));
	p.parts = parts;
	p.nparts = 3;
	ck_assert_uint_eq(thread_next(&p), 0);
	parts[0].remote_id = "111";
	parts[0].remote_url = "https://m.example/@ogp/111";
	ck_assert_uint_eq(thread_next(&p), 1);
	parts[1].remote_id = "112";
	parts[2].remote_id = "113";
	ck_assert_uint_eq(thread_next(&p), 3);
	thread_sent(&p, &r);
	ck_assert_int_eq(r.outcome, CHAN_SENT);
	ck_assert_str_eq(r.remote_id, "111");
	ck_assert_str_eq(r.remote_url, "https://m.example/@ogp/111");
}
END_TEST

/* Parts confirmed are kept, in order, and a part recorded again is updated. */
START_TEST(test_store_parts)
{
	struct store_part	*v;
	size_t			 n;

	ck_assert_msg(store_open(tmpdir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(store_parts_list("aaaaaaaaaaaa", &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_parts_put("aaaaaaaaaaaa", 1, "at://d/p/2",
	    NULL, "cid2"), 0);
	ck_assert_int_eq(store_parts_put("aaaaaaaaaaaa", 0, "at://d/p/1",
	    "https://bsky.app/x/1", "cid1"), 0);
	ck_assert_int_eq(store_parts_put("bbbbbbbbbbbb", 0, "9", NULL, NULL), 0);
	ck_assert_int_eq(store_parts_put("aaaaaaaaaaaa", 1, "at://d/p/2b",
	    "https://bsky.app/x/2", "cid2b"), 0);
	ck_assert_int_eq(store_parts_list("aaaaaaaaaaaa", &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(v[0].part, 0);
	ck_assert_str_eq(v[0].remote_id, "at://d/p/1");
	ck_assert_str_eq(v[0].ref, "cid1");
	ck_assert_uint_eq(v[1].part, 1);
	ck_assert_str_eq(v[1].remote_id, "at://d/p/2b");
	ck_assert_str_eq(v[1].remote_url, "https://bsky.app/x/2");
	ck_assert_int_gt(v[1].at, 0);
	store_parts_free(v, n);
	store_close();
	/* Durable: there after reopening. */
	ck_assert_msg(store_open(tmpdir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(store_parts_list("bbbbbbbbbbbb", &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(v[0].remote_url);
	store_parts_free(v, n);
	store_close();
}
END_TEST

/* utm = tags links before measuring; a calendar's utm wins over its channel's. */
START_TEST(test_utm_compose)
{
	struct render_input	in;
	struct render_output	out;
	char			why[400];
	/* 47 characters: fits 60 untagged, not tagged. */
	const char		*text = "Read https://ogp.example/r?a=1#x today, please";

	memset(&in, 0, sizeof(in));
	in.conf = conf;
	in.ch = chan_find("one");
	ck_assert_int_eq(compose_post(&in, text, &out, why, sizeof(why)),
	    COMPOSE_FITS);
	ck_assert_str_eq(out.text, text);
	render_output_clear(&out);
	in.ch = chan_find("u");
	ck_assert_int_eq(compose_post(&in, text, &out, why, sizeof(why)),
	    COMPOSE_TOO_LONG);
	ck_assert_str_eq(out.text, "Read https://ogp.example/r?a=1&utm_source=u&"
	    "utm_medium=social#x today, please");
	ck_assert_uint_eq(out.len.length, strlen(out.text));
	render_output_clear(&out);
	in.calendar = "c";
	ck_assert_int_eq(compose_post(&in, "https://ogp.example", &out, why,
	    sizeof(why)), COMPOSE_FITS);
	ck_assert_str_eq(out.text, "https://ogp.example/?utm_campaign=c");
	render_output_clear(&out);
	/* Too long and split: fits as a thread. */
	in.calendar = NULL;
	in.ch = chan_find("th");
	ck_assert_int_eq(compose_post(&in, long_text, &out, why, sizeof(why)),
	    COMPOSE_FITS);
	ck_assert(out.len.fits);
	render_output_clear(&out);
}
END_TEST

/* The test suite. */
static Suite *
thread_suite(void)
{
	Suite	*s = suite_create("thread");
	TCase	*tc = tcase_create("thread");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_measure);
	tcase_add_test(tc, test_next_sent);
	tcase_add_test(tc, test_store_parts);
	tcase_add_test(tc, test_utm_compose);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run_in(thread_suite(), tmpdir));
}
