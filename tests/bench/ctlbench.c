/*
 * ctlbench: measures crierd's control socket from outside, speaking the
 * JSON-lines protocol of common/proto.h directly (no crierctl in the timing).
 * Used by tests/bench/peers.sh; every figure goes to stdout as one JSON object.
 *
 *   ctlbench lat SOCK N NAME REQUEST       N requests, a connection each
 *   ctlbench pipeline SOCK N REQUEST       N requests on one connection
 *   ctlbench reload SOCK NAME=REQUEST...   latencies while a reload runs
 *   ctlbench reloadwait SOCK               one reload, until it is done
 *   ctlbench burst SOCK REQUEST FILE L S   REQUEST, then until FILE has L
 *                                          more lines ("-": no file) and
 *                                          status counts S sent
 *   ctlbench ready SOCK TIMEOUT_MS         epoch ms once status answers
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/proto.h"

#define MAX_REPLY	(256 * 1024 * 1024)	/* bounds any one reply line */
#define MAX_SAMPLES	1000000
#define MAX_NAMED	16

struct samples {
	const char	*name;
	const char	*req;
	double		*v;
	size_t		 n;
};

/* Seconds on the monotonic clock. */
static double
mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Prints a message and exits 1. */
static void
die(const char *what)
{
	fprintf(stderr, "ctlbench: %s%s%s\n", what, errno ? ": " : "",
	    errno ? strerror(errno) : "");
	exit(1);
}

/* A connected socket to PATH, or -1 (errno set). */
static int
dial(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Writes all of BUF. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += w;
		len -= (size_t)w;
	}
	return (0);
}

/* Reads one reply line from a connection used for one request; the caller frees it. */
static char *
read_reply(int fd)
{
	char	*buf = NULL, *nb, *nl;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;

	for (;;) {
		if (cap - len < 65536) {
			if (cap > MAX_REPLY)
				goto fail;
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				goto fail;
			buf = nb;
		}
		if ((r = read(fd, buf + len, cap - len)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		len += (size_t)r;
		buf[len] = '\0';
		if ((nl = memchr(buf, '\n', len)) != NULL) {
			*nl = '\0';
			return (buf);
		}
	}
fail:
	free(buf);
	return (NULL);
}

/* Sends REQ on a new connection and returns the parsed reply, or NULL. */
static json_t *
request(const char *sock, const char *req, double *secs)
{
	json_error_t	 e;
	json_t		*r;
	char		*line, *msg;
	double		 t0 = mono();
	int		 fd;

	if (strlen(req) + 1 > CTL_MAX_REQUEST) {
		fprintf(stderr, "ctlbench: request over %d bytes\n", CTL_MAX_REQUEST);
		exit(2);
	}
	if ((fd = dial(sock)) == -1)
		return (NULL);
	if (asprintf(&msg, "%s\n", req) == -1)
		die("asprintf");
	if (write_all(fd, msg, strlen(msg)) == -1) {
		free(msg);
		close(fd);
		return (NULL);
	}
	free(msg);
	line = read_reply(fd);
	close(fd);
	if (secs != NULL)
		*secs = mono() - t0;
	if (line == NULL)
		return (NULL);
	r = json_loads(line, 0, &e);
	free(line);
	return (r);
}

/* Like request(), but an error reply or none at all ends the program. */
static json_t *
must(const char *sock, const char *req, double *secs)
{
	json_t	*r;

	errno = 0;
	if ((r = request(sock, req, secs)) == NULL)
		die("no reply");
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "ctlbench: %s: %s\n", req,
		    json_string_value(json_object_get(r, "error")));
		exit(1);
	}
	return (r);
}

/*
 * Like must(), but a connection the daemon closed without a reply is counted
 * in *LOST and NULL returned: seen from outside during long loop stalls.
 */
static json_t *
lossy(const char *sock, const char *req, double *secs, long *lost)
{
	json_t	*r;

	if ((r = request(sock, req, secs)) == NULL) {
		(*lost)++;
		return (NULL);
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "ctlbench: %s: %s\n", req,
		    json_string_value(json_object_get(r, "error")));
		exit(1);
	}
	return (r);
}

/* Orders doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

/* The nearest-rank percentile P of sorted V, in milliseconds. */
static double
pct(const double *v, size_t n, double p)
{
	size_t	k;

	if (n == 0)
		return (0);
	k = (size_t)(p * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (v[k - 1] * 1000);
}

/* Adds S's summary to object O under its name. */
static void
summarise(json_t *o, struct samples *s)
{
	qsort(s->v, s->n, sizeof(double), cmp_double);
	json_object_set_new(o, s->name, json_pack("{s:I, s:f, s:f, s:f}",
	    "n", (json_int_t)s->n, "p50_ms", pct(s->v, s->n, 0.5),
	    "p99_ms", pct(s->v, s->n, 0.99),
	    "max_ms", s->n ? s->v[s->n - 1] * 1000 : 0.0));
}

/* Prints O as one line and frees it. */
static void
emit(json_t *o)
{
	char	*s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));

	puts(s);
	free(s);
	json_decref(o);
}

/* lat: N requests, each on its own connection, as crierctl does. */
static int
cmd_lat(const char *sock, long n, const char *name, const char *req)
{
	struct samples	 s = { name, req, NULL, 0 };
	json_t		*o = json_object();
	long		 i;

	if ((s.v = calloc((size_t)n, sizeof(double))) == NULL)
		die("calloc");
	for (i = 0; i < n; i++)
		json_decref(must(sock, req, &s.v[s.n++]));
	summarise(o, &s);
	emit(o);
	free(s.v);
	return (0);
}

/* Counts the reply line at *P (before END) and its "ok": 0 if no whole line. */
static int
nl_scan(char **p, char *end, long *got, long *ok)
{
	char	*nl;

	if ((nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL)
		return (0);
	(*got)++;
	if (memmem(*p, (size_t)(nl - *p), "\"ok\":true", 9) != NULL ||
	    memmem(*p, (size_t)(nl - *p), "\"ok\": true", 10) != NULL)
		(*ok)++;
	*p = nl + 1;
	return (1);
}

/*
 * pipeline: N copies of REQ written on one connection while replies are
 * read; each write gives the socket as many requests as it takes (up to
 * 64 KiB), as a client streaming its requests does.
 */
static int
cmd_pipeline(const char *sock, long n, const char *req)
{
	struct pollfd	 pfd;
	char		*msg, *rbuf, *p, *wbuf;
	size_t		 mlen, rlen = 0, rcap = 1 << 20, k, i, total, done = 0;
	size_t		 at, len;
	long		 got = 0, ok = 0;
	double		 t0, t1;
	ssize_t		 r;
	int		 fd;

	if (asprintf(&msg, "%s\n", req) == -1 || (rbuf = malloc(rcap)) == NULL)
		die("alloc");
	mlen = strlen(msg);
	k = 65536 / mlen > 0 ? 65536 / mlen : 1;
	if ((wbuf = malloc(k * mlen)) == NULL)
		die("alloc");
	for (i = 0; i < k; i++)
		memcpy(wbuf + i * mlen, msg, mlen);
	total = (size_t)n * mlen;
	errno = 0;
	if ((fd = dial(sock)) == -1)
		die("connect");
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	t0 = mono();
	while (got < n) {
		pfd.fd = fd;
		pfd.events = POLLIN | (done < total ? POLLOUT : 0);
		if (poll(&pfd, 1, 60000) <= 0)
			die("pipeline: no progress for 60 s");
		if ((pfd.revents & POLLOUT) && done < total) {
			/* The buffer repeats REQ: any offset modulo its length fits. */
			at = done % mlen;
			len = k * mlen - at;
			if (len > total - done)
				len = total - done;
			r = write(fd, wbuf + at, len);
			if (r > 0)
				done += (size_t)r;
			else if (r == -1 && errno != EAGAIN && errno != EINTR)
				die("pipeline: write");
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			if (rcap - rlen < 65536 && (rbuf = realloc(rbuf,
			    rcap *= 2)) == NULL)
				die("realloc");
			r = read(fd, rbuf + rlen, rcap - rlen);
			if (r == 0)
				break;
			if (r == -1) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				die("pipeline: read");
			}
			rlen += (size_t)r;
			p = rbuf;
			while ((nl_scan(&p, rbuf + rlen, &got, &ok)))
				;
			rlen -= (size_t)(p - rbuf);
			memmove(rbuf, p, rlen);
		}
	}
	t1 = mono();
	close(fd);
	emit(json_pack("{s:I, s:I, s:I, s:f}", "n", (json_int_t)n,
	    "replies", (json_int_t)got, "ok", (json_int_t)ok, "seconds", t1 - t0));
	free(msg);
	free(wbuf);
	free(rbuf);
	return (got == n && ok == n ? 0 : 1);
}

/* The loaded_at of every calendar in a status reply, as one string. */
static char *
loaded_key(json_t *st, int *loading)
{
	json_t	*cals = json_object_get(st, "calendars"), *c;
	size_t	 i;
	char	*key = strdup(""), *nk;

	*loading = 0;
	json_array_foreach(cals, i, c) {
		const char *la = json_string_value(json_object_get(c, "loaded_at"));

		if (json_is_true(json_object_get(c, "loading")))
			*loading = 1;
		if (asprintf(&nk, "%s|%s", key, la ? la : "-") == -1)
			die("asprintf");
		free(key);
		key = nk;
	}
	return (key);
}

/* True once the calendars' loaded_at moved from BEFORE and none is loading (at once without calendars). */
static int
reload_done(json_t *st, const char *before)
{
	int	 loading, done;
	char	*now = loaded_key(st, &loading);

	done = !loading && (strcmp(now, before) != 0 || now[0] == '\0');
	free(now);
	return (done);
}

/* reload: asks for a reload, then times requests round-robin until it is done. */
static int
cmd_reload(const char *sock, int nreq, char **reqs)
{
	struct samples	 s[MAX_NAMED], st = { "status_poll", NULL, NULL, 0 };
	json_t		*o, *r;
	char		*before, *eq;
	double		 t0, secs, end, dur;
	long		 lost = 0;
	int		 i, loading, done = 0;

	if (nreq > MAX_NAMED)
		die("too many requests");
	for (i = 0; i < nreq; i++) {
		if ((eq = strchr(reqs[i], '=')) == NULL)
			die("reload: NAME=REQUEST expected");
		*eq = '\0';
		s[i].name = reqs[i];
		s[i].req = eq + 1;
		s[i].n = 0;
		if ((s[i].v = calloc(MAX_SAMPLES, sizeof(double))) == NULL)
			die("calloc");
	}
	if ((st.v = calloc(MAX_SAMPLES, sizeof(double))) == NULL)
		die("calloc");
	r = must(sock, "{\"v\":1,\"cmd\":\"status\"}", NULL);
	before = loaded_key(r, &loading);
	json_decref(r);
	t0 = mono();
	json_decref(must(sock, "{\"v\":1,\"cmd\":\"reload\"}", NULL));
	end = t0 + 600;
	while (!done && mono() < end) {
		for (i = 0; i < nreq; i++)
			if (s[i].n < MAX_SAMPLES)
				json_decref(lossy(sock, s[i].req,
				    &s[i].v[s[i].n++], &lost));
		if ((r = lossy(sock, "{\"v\":1,\"cmd\":\"status\"}", &secs,
		    &lost)) == NULL)
			continue;
		if (st.n < MAX_SAMPLES)
			st.v[st.n++] = secs;
		done = reload_done(r, before);
		json_decref(r);
	}
	dur = mono() - t0;
	o = json_object();
	for (i = 0; i < nreq; i++) {
		summarise(o, &s[i]);
		free(s[i].v);
	}
	summarise(o, &st);
	free(st.v);
	json_object_set_new(o, "reload_seconds", json_real(dur));
	json_object_set_new(o, "completed", json_boolean(done));
	json_object_set_new(o, "lost", json_integer(lost));
	emit(o);
	free(before);
	return (done ? 0 : 1);
}

/* reloadwait: one reload, waited for; prints how long it took. */
static int
cmd_reloadwait(const char *sock)
{
	json_t	*r;
	char	*before;
	double	 t0;
	long	 lost = 0;
	int	 loading, done = 0;

	r = must(sock, "{\"v\":1,\"cmd\":\"status\"}", NULL);
	before = loaded_key(r, &loading);
	json_decref(r);
	t0 = mono();
	json_decref(must(sock, "{\"v\":1,\"cmd\":\"reload\"}", NULL));
	while (!done && mono() < t0 + 600) {
		usleep(20000);
		if ((r = lossy(sock, "{\"v\":1,\"cmd\":\"status\"}", NULL,
		    &lost)) == NULL)
			continue;
		done = reload_done(r, before);
		json_decref(r);
	}
	emit(json_pack("{s:f, s:b, s:I}", "reload_seconds", mono() - t0,
	    "completed", done, "lost", (json_int_t)lost));
	free(before);
	return (done ? 0 : 1);
}

/* Lines in FILE (0 if it cannot be read yet). */
static long
count_lines(const char *file)
{
	char	 buf[65536];
	ssize_t	 r, i;
	long	 n = 0;
	int	 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
	close(fd);
	return (n);
}

/* burst: sends REQ, then times the arrival of NLINES in FILE and of NSENT sent. */
static int
cmd_burst(const char *sock, const char *req, const char *file, long nlines,
    long nsent)
{
	json_t	*r;
	double	 t0, replied, arrived = -1, sent = -1;
	long	 base = 0, n;
	int	 nofile = strcmp(file, "-") == 0;

	if (!nofile)
		base = count_lines(file);
	t0 = mono();
	json_decref(must(sock, req, NULL));
	replied = mono() - t0;
	while (!nofile && mono() < t0 + 1200) {
		if (count_lines(file) - base >= nlines) {
			arrived = mono() - t0;
			break;
		}
		usleep(2000);
	}
	while ((nofile || arrived >= 0) && mono() < t0 + 1200) {
		r = must(sock, "{\"v\":1,\"cmd\":\"status\"}", NULL);
		n = (long)json_integer_value(json_object_get(
		    json_object_get(r, "counts"), "sent"));
		json_decref(r);
		if (n >= nsent) {
			sent = mono() - t0;
			break;
		}
		usleep(nofile ? 5000 : 20000);
	}
	emit(json_pack("{s:I, s:f, s:f, s:f}", "lines", (json_int_t)nlines,
	    "replied_seconds", replied, "arrived_seconds", arrived,
	    "sent_seconds", sent));
	return ((nofile || arrived >= 0) && sent >= 0 ? 0 : 1);
}

/* ready: polls until status answers; prints the wall-clock time of it. */
static int
cmd_ready(const char *sock, long timeout_ms)
{
	struct timespec	 ts;
	json_t		*r;
	double		 end = mono() + timeout_ms / 1000.0;

	while (mono() < end) {
		if ((r = request(sock, "{\"v\":1,\"cmd\":\"status\"}", NULL))
		    != NULL && json_is_true(json_object_get(r, "ok"))) {
			json_decref(r);
			clock_gettime(CLOCK_REALTIME, &ts);
			printf("%lld\n", (long long)ts.tv_sec * 1000 +
			    ts.tv_nsec / 1000000);
			return (0);
		}
		json_decref(r);
		usleep(500);
	}
	return (1);
}

/* Runs the measurement the first argument names. */
int
main(int argc, char *argv[])
{
	if (argc >= 6 && strcmp(argv[1], "lat") == 0)
		return (cmd_lat(argv[2], atol(argv[3]), argv[4], argv[5]));
	if (argc >= 5 && strcmp(argv[1], "pipeline") == 0)
		return (cmd_pipeline(argv[2], atol(argv[3]), argv[4]));
	if (argc >= 3 && strcmp(argv[1], "reload") == 0)
		return (cmd_reload(argv[2], argc - 3, argv + 3));
	if (argc >= 3 && strcmp(argv[1], "reloadwait") == 0)
		return (cmd_reloadwait(argv[2]));
	if (argc >= 7 && strcmp(argv[1], "burst") == 0)
		return (cmd_burst(argv[2], argv[3], argv[4], atol(argv[5]),
		    atol(argv[6])));
	if (argc >= 4 && strcmp(argv[1], "ready") == 0)
		return (cmd_ready(argv[2], atol(argv[3])));
	fprintf(stderr, "usage: ctlbench lat|pipeline|reload|reloadwait|burst|"
	    "ready SOCK ...\n");
	return (2);
}
