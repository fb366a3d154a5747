/*
 * Unit tests for ctlconn.c: telling whether peers' uids can be seen, and
 * replies held for a commit, on a real socket and event loop.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <uv.h>

#include "daemon/ctlconn.h"
#include "daemon/turn.h"
#include "tests/unit/unit.h"

/* The initial namespace maps every uid as itself. */
START_TEST(test_identity_map)
{
	char	msg[512] = "";

	ck_assert_int_eq(ctlconn_userns_check("         0          0 4294967295\n",
	    msg, sizeof(msg)), 0);
	ck_assert_int_eq(ctlconn_userns_check("0 0 4294967295", msg,
	    sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
}
END_TEST

/* PrivateUsers= and unshare maps: peers outside show as the overflow uid. */
START_TEST(test_private_users)
{
	char	msg[512];

	/* systemd's PrivateUsers=yes: root and the service user only. */
	ck_assert_int_eq(ctlconn_userns_check("         0          0          1\n"
	    "       998        998          1\n", msg, sizeof(msg)), 1);
	ck_assert_ptr_nonnull(strstr(msg, "0 0 1"));
	ck_assert_ptr_nonnull(strstr(msg, ", ..."));
	ck_assert_ptr_nonnull(strstr(msg, "PrivateUsers"));
	/* unshare --map-root-user as uid 1000. */
	ck_assert_int_eq(ctlconn_userns_check("0 1000 1\n", msg, sizeof(msg)), 1);
	ck_assert_ptr_nonnull(strstr(msg, "0 1000 1\""));
	/* A container with a large shifted range. */
	ck_assert_int_eq(ctlconn_userns_check("0 100000 65536\n", msg,
	    sizeof(msg)), 1);
	ck_assert_int_eq(ctlconn_userns_check("", msg, sizeof(msg)), -1);
	ck_assert_int_eq(ctlconn_userns_check("garbage", msg, sizeof(msg)), -1);
	ck_assert_int_gt(ctlconn_overflow_uid(), 0);
}
END_TEST

#define BIG_REPLY	300000	/* bytes: four of them pass CTLCONN_MAX_QUEUE */

#define SLOW_MAX	64	/* "slow" requests one test sends */

static uv_loop_t	 loop;
static uint64_t		 slow_turn[SLOW_MAX];	/* the turn each was answered in */
static int		 nslow;
static uv_pipe_t	 server;
static char		 dir[64], sockpath[128];
static int		 ndispatched, ngone;
static struct ctlconn_later *later;	/* the last "later" request's */

/*
 * The dispatcher under test: echoes each line; "hold..." lines hold their
 * reply, "holdbig" lines answer with BIG_REPLY bytes too.
 */
static json_t *
dispatch(struct client *cl, const char *line, size_t len)
{
	json_t	*r = json_pack("{s:s%}", "echo", line, len);
	char	*big;

	ndispatched++;
	if (len >= 4 && memcmp(line, "slow", 4) == 0 && nslow < SLOW_MAX) {
		struct timespec	ts = { 0, 1000000 };	/* 1 ms of work */

		slow_turn[nslow++] = turn_number();
		while (nanosleep(&ts, &ts) == -1)
			;
	}
	if (len >= 5 && memcmp(line, "later", 5) == 0) {
		later = ctlconn_later(cl);
		json_decref(r);
		return (NULL);
	}
	if (len >= 4 && memcmp(line, "hold", 4) == 0)
		ctlconn_hold(cl);
	if (len >= 7 && memcmp(line, "holdbig", 7) == 0) {
		ck_assert_ptr_nonnull(big = malloc(BIG_REPLY + 1));
		memset(big, 'x', BIG_REPLY);
		big[BIG_REPLY] = '\0';
		json_object_set_new(r, "big", json_string(big));
		free(big);
	}
	return (r);
}

/* Counts the connections that went away. */
static void
gone(struct client *cl)
{
	(void)cl;
	ngone++;
}

/* A listening control socket on a fresh loop, served by ctlconn. */
static void
serve(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_ctlconn.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sockpath, sizeof(sockpath), "%s/ctl.sock", dir);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(uv_pipe_init(&loop, &server, 0), 0);
	ck_assert_int_eq(uv_pipe_bind(&server, sockpath), 0);
	ck_assert_int_eq(uv_listen((uv_stream_t *)&server, 8, ctlconn_accept), 0);
	ctlconn_init(dispatch, gone, 16);
}

/* Closes everything and checks the loop has nothing left. */
static void
unserve(void)
{
	ctlconn_close_all();
	uv_close((uv_handle_t *)&server, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	unlink(sockpath);
	rmdir(dir);
}

/* A non-blocking client connected to the socket. */
static int
dial(void)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockpath);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_ne(fcntl(fd, F_SETFL, O_NONBLOCK), -1);
	return (fd);
}

/* Runs the loop a few rounds without waiting. */
static void
pump(void)
{
	int	i;

	for (i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

/* What the client can read now (appended to BUF of CAP bytes at *LEN). */
static void
drain(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t	n;

	while (*len < cap - 1 && (n = read(fd, buf + *len, cap - 1 - *len)) > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
}

/* Lines in BUF. */
static size_t
lines(const char *buf)
{
	size_t	n = 0;

	for (; *buf != '\0'; buf++)
		n += *buf == '\n';
	return (n);
}

/* A held reply waits for the release, and the replies after it wait behind it. */
START_TEST(test_held_order)
{
	char	buf[4096];
	size_t	len = 0;
	int	fd;

	serve();
	fd = dial();
	ck_assert_int_eq(write(fd, "now 1\nhold 2\nnow 3\n", 19), 19);
	pump();
	ck_assert_int_eq(ndispatched, 3);
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_str_eq(buf, "{\"echo\":\"now 1\",\"v\":1}\n");
	/* More time changes nothing: only the release does. */
	pump();
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_uint_eq(lines(buf), 1);
	ctlconn_release();
	pump();
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_str_eq(buf, "{\"echo\":\"now 1\",\"v\":1}\n"
	    "{\"echo\":\"hold 2\",\"v\":1}\n{\"echo\":\"now 3\",\"v\":1}\n");
	/* Nothing held: a reply goes at once. */
	ck_assert_int_eq(write(fd, "now 4\n", 6), 6);
	pump();
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_uint_eq(lines(buf), 4);
	close(fd);
	unserve();
}
END_TEST

/* Held replies count against the connection's budget: it is not read further. */
START_TEST(test_held_budget)
{
	static char	 buf[9 * (BIG_REPLY + 64)];
	size_t		 len = 0;
	int		 fd, rounds;

	serve();
	fd = dial();
	ck_assert_int_eq(write(fd, "holdbig\nholdbig\nholdbig\nholdbig\n"
	    "holdbig\nholdbig\nholdbig\nholdbig\n", 64), 64);
	pump();
	/* 0, 0.3, 0.6 and 0.9 MB held let one more in; 1.2 MB does not. */
	ck_assert_int_eq(ndispatched, 4);
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_uint_eq(len, 0);
	for (rounds = 0; lines(buf) < 8 && rounds < 1000; rounds++) {
		ctlconn_release();
		pump();
		drain(fd, buf, sizeof(buf), &len);
		ck_assert_int_le(ndispatched - (int)lines(buf), 4);
	}
	ck_assert_uint_eq(lines(buf), 8);
	ck_assert_int_eq(ndispatched, 8);
	close(fd);
	unserve();
}
END_TEST

/* A client that half-closes still gets its held replies, then the end. */
START_TEST(test_held_half_close)
{
	char	buf[4096];
	size_t	len = 0;
	ssize_t	n;
	int	fd;

	serve();
	fd = dial();
	ck_assert_int_eq(write(fd, "hold 1\nnow 2", 12), 12);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	pump();
	ck_assert_int_eq(ndispatched, 2);
	ck_assert_int_eq(ngone, 0);
	ctlconn_release();
	pump();
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_str_eq(buf, "{\"echo\":\"hold 1\",\"v\":1}\n"
	    "{\"echo\":\"now 2\",\"v\":1}\n");
	n = read(fd, buf, sizeof(buf));
	ck_assert_int_eq(n, 0);		/* closed once all is written */
	ck_assert_int_eq(ngone, 1);
	close(fd);
	unserve();
}
END_TEST

/* A connection closed with replies held frees them (the leak checker watches). */
START_TEST(test_held_close)
{
	int	fd;

	serve();
	fd = dial();
	ck_assert_int_eq(write(fd, "holdbig\nhold 2\n", 15), 15);
	pump();
	ck_assert_int_eq(ndispatched, 2);
	ck_assert_uint_gt(ctlconn_queued(ctlconn_first()), BIG_REPLY);
	ctlconn_close(ctlconn_first());
	pump();
	ck_assert_int_eq(ngone, 1);
	ck_assert_ptr_null(ctlconn_first());
	ctlconn_release();	/* nothing left to release */
	close(fd);
	unserve();
}
END_TEST

/*
 * A reply promised for later: the connection's next requests are not even
 * dispatched until it is sent, then they are answered after it, in order;
 * other connections are answered meanwhile.
 */
START_TEST(test_later_order)
{
	char	buf[4096], obuf[256];
	size_t	len = 0, olen = 0;
	int	fd, other;

	serve();
	fd = dial();
	other = dial();
	ck_assert_int_eq(write(fd, "now 1\nlater 2\nnow 3\nnow 4\n", 26), 26);
	pump();
	ck_assert_int_eq(ndispatched, 2);
	ck_assert_ptr_nonnull(later);
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_str_eq(buf, "{\"echo\":\"now 1\",\"v\":1}\n");
	ck_assert_int_eq(write(other, "now 5\n", 6), 6);
	pump();
	drain(other, obuf, sizeof(obuf), &olen);
	ck_assert_str_eq(obuf, "{\"echo\":\"now 5\",\"v\":1}\n");
	ck_assert_int_eq(ndispatched, 3);
	ctlconn_later_answer(later, json_pack("{s:s}", "done", "later 2"));
	later = NULL;
	pump();
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_str_eq(buf, "{\"echo\":\"now 1\",\"v\":1}\n"
	    "{\"done\":\"later 2\",\"v\":1}\n{\"echo\":\"now 3\",\"v\":1}\n"
	    "{\"echo\":\"now 4\",\"v\":1}\n");
	ck_assert_int_eq(ndispatched, 5);
	close(fd);
	close(other);
	unserve();
}
END_TEST

/*
 * A client that half-closes (or closes) gets its promised reply before the
 * end; one that crierd closes leaves the promise to be answered into
 * nothing (the leak checker watches).
 */
START_TEST(test_later_close)
{
	char	buf[4096];
	size_t	len = 0;
	int	fd;

	signal(SIGPIPE, SIG_IGN);	/* as crierd: a write to a closed client fails */
	serve();
	fd = dial();
	ck_assert_int_eq(write(fd, "later 1", 7), 7);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	pump();
	ck_assert_ptr_nonnull(later);
	ck_assert_int_eq(ngone, 0);	/* not closed before its reply */
	ctlconn_later_answer(later, json_pack("{s:i}", "n", 1));
	pump();
	drain(fd, buf, sizeof(buf), &len);
	ck_assert_str_eq(buf, "{\"n\":1,\"v\":1}\n");
	ck_assert_int_eq(ngone, 1);
	close(fd);

	later = NULL;
	fd = dial();
	ck_assert_int_eq(write(fd, "later 2\n", 8), 8);
	pump();
	ck_assert_ptr_nonnull(later);
	close(fd);
	pump();
	ck_assert_int_eq(ngone, 1);	/* its end reads as a half-close */
	ctlconn_later_answer(later, json_pack("{s:i}", "n", 2));
	later = NULL;
	pump();
	ck_assert_int_eq(ngone, 2);	/* the reply could not be written */

	/* Closed by crierd (at a stop) before the promise is kept. */
	fd = dial();
	ck_assert_int_eq(write(fd, "later 3\n", 8), 8);
	pump();
	ck_assert_ptr_nonnull(later);
	ctlconn_close(ctlconn_first());
	pump();
	ck_assert_int_eq(ngone, 3);
	ctlconn_later_answer(later, json_pack("{s:i}", "n", 3));
	later = NULL;
	close(fd);
	unserve();
}
END_TEST

/*
 * The time for requests in a loop turn (CTLCONN_TURN_US, 2 ms) is shared
 * by every connection, each still getting one request a turn: four
 * connections pipelining requests of 1 ms get at most 3 + 3 answered in a
 * turn (with a budget each, up to 12 were).
 */
START_TEST(test_turn_budget_shared)
{
	char	buf[4][4096], req[16 * 12 + 1];
	size_t	len[4] = { 0, 0, 0, 0 };
	int	fd[4], i, j, rounds, most = 0, n;

	serve();
	ck_assert_int_eq(turn_init(&loop), 0);
	for (i = 0, req[0] = '\0'; i < 12; i++)
		strcat(req, "slow\n");
	for (i = 0; i < 4; i++)
		fd[i] = dial();
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(write(fd[i], req, strlen(req)), (ssize_t)strlen(req));
	for (rounds = 0; nslow < 48 && rounds < 10000; rounds++)
		uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(nslow, 48);
	for (i = 0; i < nslow; i++) {
		for (j = 0, n = 0; j < nslow; j++)
			n += slow_turn[j] == slow_turn[i];
		if (n > most)
			most = n;
	}
	ck_assert_msg(most <= 6, "%d requests of 1 ms answered in one turn", most);
	for (i = 0; i < 4; i++) {
		buf[i][0] = '\0';
		for (rounds = 0; lines(buf[i]) < 12 && rounds < 1000; rounds++) {
			pump();
			drain(fd[i], buf[i], sizeof(buf[i]), &len[i]);
		}
		ck_assert_uint_eq(lines(buf[i]), 12);
		close(fd[i]);
	}
	turn_close();
	unserve();
}
END_TEST

/* The test suite. */
static Suite *
ctlconn_suite(void)
{
	Suite	*s = suite_create("ctlconn");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_identity_map);
	tcase_add_test(tc, test_private_users);
	tcase_add_test(tc, test_held_order);
	tcase_add_test(tc, test_held_budget);
	tcase_add_test(tc, test_held_half_close);
	tcase_add_test(tc, test_held_close);
	tcase_add_test(tc, test_later_order);
	tcase_add_test(tc, test_later_close);
	tcase_add_test(tc, test_turn_budget_shared);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(ctlconn_suite(), 0));
}
