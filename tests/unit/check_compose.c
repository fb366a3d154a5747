/* Unit tests: one post composed for one channel, and the one "too long" wording. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/channel.h"
#include "daemon/compose.h"
#include "daemon/conf.h"
#include "daemon/log.h"
#include "tests/unit/unit.h"

static char		 tmpdir[] = "/tmp/crier-check-compose-XXXXXX";
static char		 err[1024];
static struct config	*conf;

/* A configuration with outbox channel t limited to 20 characters. */
static void
setup(void)
{
	char	 p[700];
	FILE	*fp;

	snprintf(p, sizeof(p), "%s/crier.conf", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fprintf(fp, "[crier]\nstate_dir = %s\ntimezone = UTC\n\n[channel t]\n"
	    "type = outbox\nlimit = 20\n", tmpdir);
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

/* Over characters, or over bytes: the long and the short form. */
START_TEST(test_wording)
{
	struct len_result	lr;
	char			buf[160];

	memset(&lr, 0, sizeof(lr));
	lr.length = 46;
	lr.limit = 30;
	lr.bytes = 46;
	ck_assert_str_eq(compose_too_long(&lr, buf, sizeof(buf)),
	    "46 characters, 16 over the limit of 30");
	ck_assert_str_eq(compose_does_not_fit(&lr, buf, sizeof(buf)),
	    "does not fit: 46 of 30 characters");
	memset(&lr, 0, sizeof(lr));
	lr.length = 250;
	lr.limit = 300;
	lr.bytes = 3025;
	lr.byte_limit = 3000;
	ck_assert_str_eq(compose_too_long(&lr, buf, sizeof(buf)),
	    "3025 bytes, 25 over the limit of 3000 bytes");
	ck_assert_str_eq(compose_does_not_fit(&lr, buf, sizeof(buf)),
	    "does not fit: 3025 of 3000 bytes");
}
END_TEST

/* Given text is measured with the channel's rule and limit; rendering needs a post. */
START_TEST(test_compose_post)
{
	struct render_input	in;
	struct render_output	out;
	char			why[160];

	memset(&in, 0, sizeof(in));
	in.ch = chan_find("t");
	ck_assert_ptr_nonnull(in.ch);
	in.conf = conf;
	ck_assert_int_eq(compose_post(&in, "short", &out, why, sizeof(why)),
	    COMPOSE_FITS);
	ck_assert_str_eq(out.text, "short");
	ck_assert_uint_eq(out.len.length, 5);
	ck_assert_uint_eq(out.len.limit, 20);
	render_output_clear(&out);
	ck_assert_int_eq(compose_post(&in, "far too long for twenty characters",
	    &out, why, sizeof(why)), COMPOSE_TOO_LONG);
	ck_assert_str_eq(why, "34 characters, 14 over the limit of 20");
	ck_assert(!out.len.fits);
	render_output_clear(&out);
	/* Nothing to render from (no template, no event): an error that says so. */
	ck_assert_int_eq(compose_post(&in, NULL, &out, why, sizeof(why)),
	    COMPOSE_ERROR);
	ck_assert_str_ne(out.error, "");
	render_output_clear(&out);
}
END_TEST

/* The test suite. */
static Suite *
compose_suite(void)
{
	Suite	*s = suite_create("compose");
	TCase	*tc = tcase_create("compose");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wording);
	tcase_add_test(tc, test_compose_post);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run_in(compose_suite(), tmpdir));
}
