/*
 * Tests for daemon/mailer.c against a small SMTP server on a thread of this
 * process (127.0.0.1): the `sending' mark before the message's first byte,
 * one connection for several messages, the loop free while the server holds
 * the end of DATA, the stage timeouts, and a stop during a stall.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/mailer.h"

#define MAX_DONE	8

/* The server's settings and what it saw (under srv_mu). */
static pthread_mutex_t	 srv_mu = PTHREAD_MUTEX_INITIALIZER;
static int		 srv_port;
static int		 srv_listen = -1;
static int		 srv_stall_end_ms;	/* hold the reply to "." */
static int		 srv_connections;
static int		 srv_messages;
static int		 srv_unmarked;		/* bodies begun before the mark */
static bool		 srv_stalling;
static bool		 srv_stop;
static int		 srv_active;		/* sessions under way */

/* What the test's loop side saw. */
static uv_loop_t		 loop;
static struct mailer		*mailer;
static struct mailer_result	 results[MAX_DONE];
static size_t			 tags[MAX_DONE];
static int			 ndone;
static int			 marked;		/* data callbacks run */
static int			 ticks;
static uint64_t			 last_tick, max_gap;
static uint64_t			 t_stop;

/* Reads one line from FD into BUF; -1 at the end. */
static int
read_line(int fd, char *buf, size_t len)
{
	size_t	n = 0;
	char	c;

	while (n + 1 < len) {
		if (read(fd, &c, 1) != 1)
			return (-1);
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return (0);
}

/* Writes S to FD. */
static void
say(int fd, const char *s)
{
	ssize_t	r = write(fd, s, strlen(s));

	(void)r;
}

/* One SMTP session on FD. */
static void
session(int fd)
{
	char	line[1024];
	bool	body;
	int	stall, i;

	say(fd, "220 check_mailer ESMTP\r\n");
	while (read_line(fd, line, sizeof(line)) == 0) {
		if (strncasecmp(line, "EHLO", 4) == 0)
			say(fd, "250-check_mailer\r\n250 8BITMIME\r\n");
		else if (strncasecmp(line, "MAIL", 4) == 0)
			say(fd, "250 OK\r\n");
		else if (strncasecmp(line, "RCPT", 4) == 0)
			say(fd, strstr(line, "bad@") != NULL ?
			    "550 5.1.1 no such user\r\n" : "250 OK\r\n");
		else if (strncasecmp(line, "DATA", 4) == 0) {
			say(fd, "354 go on\r\n");
			body = false;
			while (read_line(fd, line, sizeof(line)) == 0 &&
			    strcmp(line, ".\r\n") != 0) {
				if (body)
					continue;
				/* The first byte of the message is here. */
				body = true;
				pthread_mutex_lock(&srv_mu);
				if (marked <= srv_messages)
					srv_unmarked++;
				pthread_mutex_unlock(&srv_mu);
			}
			pthread_mutex_lock(&srv_mu);
			srv_messages++;
			stall = srv_stall_end_ms;
			srv_stalling = stall > 0;
			pthread_mutex_unlock(&srv_mu);
			for (i = 0; i < stall / 10; i++) {
				pthread_mutex_lock(&srv_mu);
				stall = srv_stop ? 0 : stall;
				pthread_mutex_unlock(&srv_mu);
				if (stall == 0)
					break;
				usleep(10000);
			}
			pthread_mutex_lock(&srv_mu);
			srv_stalling = false;
			pthread_mutex_unlock(&srv_mu);
			say(fd, "250 queued\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(fd, "221 bye\r\n");
			break;
		} else
			say(fd, "502 no\r\n");
	}
	close(fd);
}

/* The server thread: one session at a time. */
static void *
server(void *arg)
{
	int	fd;

	(void)arg;
	while ((fd = accept(srv_listen, NULL, NULL)) != -1) {
		pthread_mutex_lock(&srv_mu);
		srv_connections++;
		srv_active++;
		pthread_mutex_unlock(&srv_mu);
		session(fd);
		pthread_mutex_lock(&srv_mu);
		srv_active--;
		srv_stalling = false;
		pthread_mutex_unlock(&srv_mu);
	}
	return (NULL);
}

/* The data callback: the mark the server checks for. */
static int
on_data(void *arg, size_t tag)
{
	(void)arg;
	(void)tag;
	pthread_mutex_lock(&srv_mu);
	marked++;
	pthread_mutex_unlock(&srv_mu);
	return (0);
}

/* The done callback: keeps the result. */
static void
on_done(void *arg, size_t tag, const struct mailer_result *r)
{
	(void)arg;
	if (ndone < MAX_DONE) {
		results[ndone] = *r;
		tags[ndone] = tag;
	}
	ndone++;
	t_stop = uv_hrtime();
}

static const struct mailer_ops ops = { on_data, on_done };

/* A loop timer every 10 ms, to see the loop never waits. */
static void
on_tick(uv_timer_t *t)
{
	uint64_t	now = uv_hrtime();

	(void)t;
	if (last_tick != 0 && now - last_tick > max_gap)
		max_gap = now - last_tick;
	last_tick = now;
	ticks++;
}

/* Sets up a loop, the mailers and a mailer to the server with END_MS for data_end_timeout. */
static void
setup(int64_t end_ms)
{
	struct mailer_conf	c;
	char			url[64], err[256];

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(mailer_init(&loop), 0);
	memset(&c, 0, sizeof(c));
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", srv_port);
	c.url = url;
	c.from_addr = "news@example.org";
	c.timeouts[MT_DATA_END] = end_ms;
	mailer = mailer_open(&c, &ops, NULL, err, sizeof(err));
	ck_assert_msg(mailer != NULL, "mailer_open: %s", err);
	ndone = 0;
	marked = 0;
	ticks = 0;
	last_tick = max_gap = 0;
	pthread_mutex_lock(&srv_mu);
	srv_connections = srv_messages = srv_unmarked = 0;
	srv_stall_end_ms = 0;
	srv_stop = false;
	pthread_mutex_unlock(&srv_mu);
}

/* Runs the loop until WANT done callbacks (or SECS seconds). */
static void
run_until(int want, int secs)
{
	uint64_t	end = uv_hrtime() + (uint64_t)secs * 1000000000;

	while (ndone < want && uv_hrtime() < end)
		uv_run(&loop, UV_RUN_ONCE);
}

/* Ends the server's session (a stall too) before the next test. */
static void
server_idle(void)
{
	int	i, active = 1;

	pthread_mutex_lock(&srv_mu);
	srv_stop = true;
	pthread_mutex_unlock(&srv_mu);
	for (i = 0; i < 1000 && active; i++) {
		pthread_mutex_lock(&srv_mu);
		active = srv_active;
		pthread_mutex_unlock(&srv_mu);
		usleep(10000);
	}
	ck_assert_int_eq(active, 0);
}

/* Closes the mailer and the loop. */
static void
teardown(void)
{
	if (mailer != NULL)
		mailer_close(mailer);
	mailer = NULL;
	mailer_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	server_idle();
}

/* A copy of S. */
static char *
msg(const char *s)
{
	char	*m = strdup(s);

	ck_assert_ptr_nonnull(m);
	return (m);
}

#define MESSAGE	"From: news@example.org\r\nTo: r@example.org\r\n" \
	"Subject: hi\r\n\r\nHello.\r\n"

START_TEST(test_defaults)
{
	/* RFC 5321 4.5.3.2. */
	ck_assert_int_eq(mailer_default_timeout(MT_GREETING), 5 * 60 * 1000);
	ck_assert_int_eq(mailer_default_timeout(MT_MAIL), 5 * 60 * 1000);
	ck_assert_int_eq(mailer_default_timeout(MT_RCPT), 5 * 60 * 1000);
	ck_assert_int_eq(mailer_default_timeout(MT_DATA_INIT), 2 * 60 * 1000);
	ck_assert_int_eq(mailer_default_timeout(MT_DATA_BLOCK), 3 * 60 * 1000);
	ck_assert_int_eq(mailer_default_timeout(MT_DATA_END), 10 * 60 * 1000);
	ck_assert_str_eq(mailer_stage_name(MS_END), "end of DATA");
}
END_TEST

START_TEST(test_mark_first_one_connection)
{
	setup(0);
	ck_assert_int_eq(mailer_send(mailer, "a@example.org", msg(MESSAGE),
	    strlen(MESSAGE), 7), 0);
	/* One message at a time. */
	ck_assert_int_eq(mailer_send(mailer, "b@example.org", msg(MESSAGE),
	    strlen(MESSAGE), 8), -1);
	run_until(1, 20);
	ck_assert_int_eq(ndone, 1);
	ck_assert_int_eq(results[0].curl_code, 0);
	ck_assert(results[0].data);
	ck_assert_uint_eq(tags[0], 7);
	ck_assert_int_eq(mailer_send(mailer, "c@example.org", msg(MESSAGE),
	    strlen(MESSAGE), 9), 0);
	run_until(2, 20);
	ck_assert_int_eq(results[1].curl_code, 0);
	pthread_mutex_lock(&srv_mu);
	ck_assert_int_eq(srv_messages, 2);
	/* The mark was committed before the first byte of each body... */
	ck_assert_int_eq(srv_unmarked, 0);
	/* ...and both went over one connection. */
	ck_assert_int_eq(srv_connections, 1);
	pthread_mutex_unlock(&srv_mu);
	ck_assert_int_eq(marked, 2);
	ck_assert_int_eq(mailer_send(mailer, "bad@example.org", msg(MESSAGE),
	    strlen(MESSAGE), 8), 0);
	run_until(3, 20);
	ck_assert_int_eq(ndone, 3);
	ck_assert_int_ne(results[2].curl_code, 0);
	ck_assert_int_eq(results[2].reply_stage, MS_RCPT);
	ck_assert(!results[2].data);
	ck_assert_msg(strncmp(results[2].reply, "550", 3) == 0, "%s",
	    results[2].reply);
	teardown();
}
END_TEST

START_TEST(test_loop_free_during_stall)
{
	uv_timer_t	t;

	setup(0);
	srv_stall_end_ms = 1500;
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, on_tick, 10, 10);
	ck_assert_int_eq(mailer_send(mailer, "a@example.org", msg(MESSAGE),
	    strlen(MESSAGE), 1), 0);
	run_until(1, 20);
	uv_timer_stop(&t);
	uv_close((uv_handle_t *)&t, NULL);
	ck_assert_int_eq(results[0].curl_code, 0);
	/* 1.5 s held by the server; the 10 ms timer kept going. */
	ck_assert_int_ge(ticks, 50);
	ck_assert_msg(max_gap < 300 * 1000000ULL, "loop stalled %llu ms",
	    (unsigned long long)(max_gap / 1000000));
	teardown();
}
END_TEST

START_TEST(test_end_of_data_timeout)
{
	uint64_t	t0;

	setup(500);
	srv_stall_end_ms = 5000;
	t0 = uv_hrtime();
	ck_assert_int_eq(mailer_send(mailer, "a@example.org", msg(MESSAGE),
	    strlen(MESSAGE), 1), 0);
	run_until(1, 20);
	ck_assert_int_eq(ndone, 1);
	ck_assert(results[0].timed_out);
	ck_assert(results[0].data);
	ck_assert_int_eq(results[0].stage, MS_END);
	ck_assert_int_eq(results[0].curl_code, CURLE_OPERATION_TIMEDOUT);
	ck_assert_msg(strstr(results[0].error, "end of DATA") != NULL, "%s",
	    results[0].error);
	ck_assert_msg(t_stop - t0 < 3000 * 1000000ULL, "took %llu ms",
	    (unsigned long long)((t_stop - t0) / 1000000));
	teardown();
}
END_TEST

START_TEST(test_shutdown_during_stall)
{
	uint64_t	t0, end;
	bool		stalling = false;

	setup(0);
	srv_stall_end_ms = 20000;
	ck_assert_int_eq(mailer_send(mailer, "a@example.org", msg(MESSAGE),
	    strlen(MESSAGE), 1), 0);
	end = uv_hrtime() + 20 * 1000000000ULL;
	while (!stalling && uv_hrtime() < end) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(5000);
		pthread_mutex_lock(&srv_mu);
		stalling = srv_stalling;
		pthread_mutex_unlock(&srv_mu);
	}
	ck_assert(stalling);
	t0 = uv_hrtime();
	mailer_shutdown();
	ck_assert_int_eq(ndone, 1);
	ck_assert(results[0].aborted);
	ck_assert_msg(results[0].data, "not data: stage %d code %d err %s", results[0].stage, results[0].curl_code, results[0].error);	/* it may have arrived: uncertain */
	ck_assert_msg(t_stop - t0 < 2000 * 1000000ULL, "stop took %llu ms",
	    (unsigned long long)((t_stop - t0) / 1000000));
	mailer_close(mailer);
	mailer = NULL;
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	server_idle();
}
END_TEST

int
main(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	pthread_t		 th;
	Suite			*s = suite_create("mailer");
	TCase			*tc = tcase_create("mailer");
	SRunner			*sr;
	int			 failed, one = 1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	srv_listen = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv_listen, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(srv_listen, 16) == -1 ||
	    getsockname(srv_listen, (struct sockaddr *)&sin, &sl) == -1) {
		perror("check_mailer: listen");
		return (1);
	}
	srv_port = ntohs(sin.sin_port);
	pthread_create(&th, NULL, server, NULL);
	pthread_detach(th);

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_mark_first_one_connection);
	tcase_add_test(tc, test_loop_free_during_stall);
	tcase_add_test(tc, test_end_of_data_timeout);
	tcase_add_test(tc, test_shutdown_during_stall);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	/* One process: the server thread serves every test. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return (failed == 0 ? 0 : 1);
}
