/* Unit tests: crier.conf parsing and validation, durations, rates, URLs. */
#include <config.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "daemon/channel.h"
#include "daemon/conf.h"

static char	tmpdir[] = "/tmp/crier-check-config-XXXXXX";
static char	path[512];
static char	err[1024];

/* Writes TEXT as the test config file. */
static void
write_conf(const char *text)
{
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/crier.conf", tmpdir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Loads TEXT and expects an error containing every string of the NULL-ended list. */
static void
expect_error(const char *text, ...)
{
	struct config	*c;
	va_list		 ap;
	const char	*want;

	write_conf(text);
	err[0] = '\0';
	c = conf_load(path, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(c == NULL, "config loaded but should fail:\n%s", text);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(err, want) != NULL,
		    "error '%s' lacks '%s'", err, want);
	va_end(ap);
}

START_TEST(test_good)
{
	struct config			*c;
	const struct cfg_channel	*ch;

	write_conf(
	    "; comment\n"
	    "[crier]\n"
	    "state_dir = /tmp/x\n"
	    "socket = /tmp/x/s.sock\n"
	    "socket_mode = 0600\n"
	    "timezone = Europe/London          ; inline comment\n"
	    "horizon = 30d\n"
	    "catch_up = 1h30m\n"
	    "max_in_flight = 4\n"
	    "channels = box\n"
	    "\n[vars]\norg = Open Government Partnership\n"
	    "\n[calendar ogw]\npath = /etc/crier/ogw.ics\nchannels = box\n"
	    "template = ogw-daily\n"
	    "\n[calendar remote]\nurl = https://example.org/basic.ics\n"
	    "refresh = 30m\n"
	    "\n[channel box]\ntype = outbox\ndir = /tmp/x/box\nrate = 30/5m\n"
	    "limit = 280\n");
	c = conf_load(path, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->state_dir, "/tmp/x");
	ck_assert_str_eq(c->socket, "/tmp/x/s.sock");
	ck_assert_int_eq(c->socket_mode, 0600);
	ck_assert_str_eq(c->timezone, "Europe/London");
	ck_assert_int_eq(c->horizon, 30 * 86400);
	ck_assert_int_eq(c->catch_up, 5400);
	ck_assert_int_eq(c->max_in_flight, 4);
	ck_assert_uint_eq(c->nvars, 1);
	ck_assert_str_eq(c->vars[0].value, "Open Government Partnership");
	ck_assert_uint_eq(c->ncalendars, 2);
	ck_assert_str_eq(c->calendars[0].template, "ogw-daily");
	ck_assert_int_eq(c->calendars[1].refresh, 1800);
	ch = conf_channel(c, "box");
	ck_assert_ptr_nonnull(ch);
	ck_assert_str_eq(ch->type, "outbox");
	ck_assert_uint_eq(ch->rate.count, 30);
	ck_assert_int_eq(ch->rate.period, 300);
	ck_assert_uint_eq(ch->limit, 280);
	ck_assert_str_eq(conf_chan_get(ch, "dir", NULL), "/tmp/x/box");
	conf_free(c);
}
END_TEST

START_TEST(test_defaults)
{
	struct config	*c;

	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	c = conf_load(path, false, &chan_config_rules, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->state_dir, "./crier-state");
	ck_assert_str_eq(c->socket, "./crier-state/crierd.sock");
	ck_assert_str_eq(c->timezone, "UTC");
	ck_assert_int_eq(c->catch_up, 900);
	ck_assert_int_eq(c->horizon, 90 * 86400);
	/* The embedded default channel needs no account. */
	ck_assert_ptr_nonnull(conf_channel(c, "outbox"));
	conf_free(c);
	/* Named explicitly, a missing file is an error naming it. */
	ck_assert_ptr_null(conf_load(path, true, &chan_config_rules, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "absent.conf"));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

START_TEST(test_unknown_key)
{
	expect_error("[crier]\nstate_dir = /tmp\nstat_dir = /tmp\n",
	    "crier.conf:3:", "stat_dir", NULL);
	expect_error("[channel a]\ntype = outbox\ntoken = x\n",
	    "crier.conf:3:", "token", "outbox", NULL);
	expect_error("[calendar c]\npath = /x.ics\nfile = y\n",
	    "crier.conf:3:", "file", NULL);
	expect_error("state_dir = /tmp\n", "crier.conf:1:", "outside", NULL);
	expect_error("[crier]\n[sender]\nx = 1\n", "crier.conf:2:", "sender", NULL);
}
END_TEST

START_TEST(test_bad_values)
{
	expect_error("[crier]\nhorizon = soon\n", "crier.conf:2:", "horizon", NULL);
	expect_error("[crier]\n\ncatch_up = 15\n", "crier.conf:3:", "catch_up", NULL);
	expect_error("[crier]\nsocket_mode = 0999\n", "crier.conf:2:",
	    "socket_mode", NULL);
	expect_error("[crier]\nmax_in_flight = 0\n", "crier.conf:2:",
	    "max_in_flight", NULL);
	expect_error("[crier]\ntimezone = Mars/Olympus\n", "crier.conf:2:",
	    "timezone", "Mars/Olympus", NULL);
	expect_error("[channel a]\ntype = carrier-pigeon\n", "crier.conf:2:",
	    "type", "carrier-pigeon", NULL);
	expect_error("[channel a]\ntype = outbox\nrate = many\n", "crier.conf:3:",
	    "rate", NULL);
	expect_error("[channel a]\ntype = outbox\nlimit = -3\n", "crier.conf:3:",
	    "limit", NULL);
	expect_error("[crier]\nthis line is wrong\n", "crier.conf:2:", NULL);
}
END_TEST

START_TEST(test_structure)
{
	expect_error("[channel a]\ndir = /tmp\n", "crier.conf:1:", "type", NULL);
	expect_error("[channel a]\ntype = outbox\n[channel a]\ntype = outbox\n",
	    "crier.conf:3:", "twice", NULL);
	expect_error("[channel a]\ntype = outbox\n\n[calendar c]\nchannels = a\n",
	    "crier.conf:4:", "path", "url", NULL);
	expect_error("[channel a]\ntype = outbox\n\n[calendar c]\npath = /x\n"
	    "channels = a, nope\n", "crier.conf:4:", "nope", NULL);
	expect_error("[crier]\nchannels = ghost\n", "ghost", NULL);
	expect_error("[calendar c]\nurl = http://calendars.example.org/x.ics\n",
	    "crier.conf:2:", "url", "loopback", NULL);
	expect_error("[calendar c]\nurl = ftp://example.org/x.ics\n",
	    "crier.conf:2:", "ftp", NULL);
	expect_error("[channel bad/name]\ntype = outbox\n", "crier.conf:1:", NULL);
}
END_TEST

START_TEST(test_loopback_http)
{
	struct config	*c;

	write_conf("[calendar c]\nurl = http://127.0.0.1:8080/x.ics\n"
	    "[calendar d]\nurl = http://localhost/x.ics\n"
	    "[calendar e]\nurl = http://[::1]:99/x.ics\n");
	c = conf_load(path, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	conf_free(c);
}
END_TEST

START_TEST(test_secret)
{
	char	sp[600];
	FILE	*fp;

	snprintf(sp, sizeof(sp), "%s/token", tmpdir);
	fp = fopen(sp, "w");
	fputs("s3cret\n", fp);
	fclose(fp);
	chmod(sp, 0644);
	ck_assert_int_eq(conf_check_secret(sp, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, sp));
	ck_assert_ptr_nonnull(strstr(err, "0644"));
	chmod(sp, 0640);
	ck_assert_int_eq(conf_check_secret(sp, err, sizeof(err)), -1);
	chmod(sp, 0600);
	ck_assert_int_eq(conf_check_secret(sp, err, sizeof(err)), 0);
	ck_assert_int_eq(conf_check_secret("/nonexistent/x", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x"));
	/* The secret's content never appears in a message. */
	ck_assert_ptr_null(strstr(err, "s3cret"));
}
END_TEST

START_TEST(test_secret_in_config)
{
	char		 sp[600], conf[1400], cdir[600], *sec;
	size_t		 len;
	struct config	*c;
	FILE		*fp;

	snprintf(sp, sizeof(sp), "%s/hook-secret", tmpdir);
	fp = fopen(sp, "w");
	fputs("hook-s3cret\n", fp);
	fclose(fp);
	chmod(sp, 0640);
	snprintf(conf, sizeof(conf), "[channel hook]\ntype = webhook\n"
	    "url = http://127.0.0.1:9/x\nsecret_file = %s\n", sp);
	/* Readable by its group: an error naming file, line and key. */
	expect_error(conf, "crier.conf:4:", "secret_file", sp, "chmod 600", NULL);
	ck_assert_ptr_null(strstr(err, "hook-s3cret"));
	chmod(sp, 0600);
	write_conf(conf);
	c = conf_load(path, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(chan_secret_read(&c->chans[0], "secret_file", &sec, &len,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(sec, "hook-s3cret");
	ck_assert_uint_eq(len, 11);
	chan_secret_free(sec, len);
	conf_free(c);

	/* A systemd credential instead. */
	snprintf(cdir, sizeof(cdir), "%s/creds", tmpdir);
	mkdir(cdir, 0700);
	snprintf(sp, sizeof(sp), "%s/hook", cdir);
	fp = fopen(sp, "w");
	fputs("cred-s3cret", fp);
	fclose(fp);
	chmod(sp, 0400);
	unsetenv("CREDENTIALS_DIRECTORY");
	expect_error("[channel hook]\ntype = webhook\nurl = https://x.org/h\n"
	    "credential = hook\n", "crier.conf:4:", "CREDENTIALS_DIRECTORY", NULL);
	setenv("CREDENTIALS_DIRECTORY", cdir, 1);
	expect_error("[channel hook]\ntype = webhook\nurl = https://x.org/h\n"
	    "credential = other\n", "crier.conf:4:", "credential", "other", NULL);
	expect_error("[channel hook]\ntype = webhook\nurl = https://x.org/h\n"
	    "credential = ../hook\n", "crier.conf:4:", "credential", NULL);
	snprintf(conf, sizeof(conf), "[channel hook]\ntype = webhook\n"
	    "url = https://x.org/h\nsecret_file = %s/hook-secret\n"
	    "credential = hook\n", tmpdir);
	expect_error(conf, "crier.conf:4:", "not both", NULL);
	write_conf("[channel hook]\ntype = webhook\nurl = https://x.org/h\n"
	    "credential = hook\n");
	c = conf_load(path, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(chan_secret_read(&c->chans[0], "secret_file", &sec, &len,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(sec, "cred-s3cret");
	chan_secret_free(sec, len);
	conf_free(c);
	unsetenv("CREDENTIALS_DIRECTORY");
}
END_TEST

START_TEST(test_durations)
{
	static const struct { const char *s; int64_t secs; } good[] = {
		{ "30s", 30 }, { "15m", 900 }, { "2h", 7200 }, { "90d", 7776000 },
		{ "1w", 604800 }, { "1h30m", 5400 }, { "0s", 0 },
	};
	static const char *const bad[] = {
		"", "15", "m", "-5m", "5x", "1.5h", "15 m", "999999999d", "h1",
	};
	int64_t	secs;
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(conf_parse_duration(good[i].s, &secs) == 0,
		    "'%s' refused", good[i].s);
		ck_assert_int_eq(secs, good[i].secs);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(conf_parse_duration(bad[i], &secs) == -1,
		    "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_rates_urls)
{
	struct cfg_rate	r;

	ck_assert_int_eq(conf_parse_rate("30/5m", &r), 0);
	ck_assert_uint_eq(r.count, 30);
	ck_assert_int_eq(r.period, 300);
	ck_assert_int_eq(conf_parse_rate("30", &r), -1);
	ck_assert_int_eq(conf_parse_rate("0/5m", &r), -1);
	ck_assert_int_eq(conf_parse_rate("3/0s", &r), -1);
	ck_assert(conf_host_is_loopback("127.0.0.1"));
	ck_assert(conf_host_is_loopback("127.8.9.10"));
	ck_assert(conf_host_is_loopback("[::1]"));
	ck_assert(conf_host_is_loopback("LocalHost"));
	ck_assert(!conf_host_is_loopback("128.0.0.1"));
	ck_assert(!conf_host_is_loopback("localhost.example.org"));
	ck_assert_int_eq(conf_check_url("https://x.org/a", "https", "http",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(conf_check_url("http://user@127.0.0.1/a", "https",
	    "http", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_check_url("http://127.0.0.1.evil.org/a", "https",
	    "http", err, sizeof(err)), -1);
	ck_assert_int_eq(conf_check_url("smtp://mail.example.org", "smtps smtp",
	    NULL, err, sizeof(err)), 0);
}
END_TEST

/* The test suite. */
static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_loopback_http);
	tcase_add_test(tc, test_secret);
	tcase_add_test(tc, test_secret_in_config);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_rates_urls);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;
	char	 cmd[600];

	if (mkdtemp(tmpdir) == NULL)
		return (99);
	sr = srunner_create(config_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return (99);
	return (failed ? 1 : 0);
}
