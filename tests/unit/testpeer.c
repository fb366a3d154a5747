/* Unit test support: the httpmock.py peer, loop deadlines, suite running. */
#include <config.h>

#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "tests/unit/testpeer.h"

/*
 * Puts in BUF the path in $ENV, else REL under $top_srcdir, $srcdir
 * (automake's test driver sets it) or ".".
 */
void
tp_src_path(char *buf, size_t len, const char *env, const char *rel)
{
	const char	*v, *srcdir;

	if ((v = getenv(env)) != NULL && v[0] != '\0') {
		snprintf(buf, len, "%s", v);
		return;
	}
	if ((srcdir = getenv("top_srcdir")) == NULL || srcdir[0] == '\0')
		srcdir = getenv("srcdir");
	if (srcdir == NULL || srcdir[0] == '\0')
		srcdir = ".";
	snprintf(buf, len, "%s/%s", srcdir, rel);
}

/* Returns 0 if python can run the mock, else says so as PROG and returns 77. */
int
tp_mock_prepare(const char *prog)
{
	if (access(TP_PYTHON, X_OK) != 0) {
		fprintf(stderr, "%s: %s missing, skipped\n", prog, TP_PYTHON);
		return 77;
	}
	/* Proxies from the environment would take our loopback traffic. */
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	return 0;
}

/* Starts httpmock.py with EXTRA arguments as M and waits for its port file. */
int
tp_mock_start(struct tp_mock *m, const char *dir, const char *name,
    const char *const *extra)
{
	char		 script[1024], portfile[600];
	const char	*argv[16];
	struct timespec	 pause = { 0, 50 * 1000 * 1000 };
	FILE		*f;
	int		 i, n = 0, status;

	tp_src_path(script, sizeof(script), "HTTPMOCK",
	    "tests/peers/httpmock.py");
	snprintf(portfile, sizeof(portfile), "%s/%s.port", dir, name);
	unlink(portfile);
	argv[n++] = TP_PYTHON;
	argv[n++] = script;
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--lifetime";
	argv[n++] = "300";
	for (i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	if ((m->pid = fork()) == -1)
		return -1;
	if (m->pid == 0) {
#ifdef __linux__
		/* Do not outlive a test runner that dies early. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		execv(TP_PYTHON, (char *const *)argv);
		_exit(127);
	}
	/* Up to 20 s: python may be slow to start on a loaded machine. */
	for (i = 0; i < 400; i++) {
		if ((f = fopen(portfile, "r")) != NULL) {
			if (fscanf(f, "%d", &m->port) != 1)
				m->port = 0;
			fclose(f);
			if (m->port > 0)
				return 0;
		}
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			m->pid = -1;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	return -1;
}

/* Stops mock M and reaps it. */
void
tp_mock_stop(struct tp_mock *m)
{
	int	status;

	if (m->pid <= 0)
		return;
	kill(m->pid, SIGTERM);
	waitpid(m->pid, &status, 0);
	m->pid = -1;
}

/*
 * Sends one request to the mock on PORT with a blocking socket, apart
 * from http.c, and returns the response body (malloc'd) or NULL.
 */
static char *
ctl(int port, const char *method, const char *path, const char *body)
{
	struct sockaddr_in	 sin;
	char			 head[512], *buf = NULL, *p, *r;
	size_t			 len = 0, cap = 0;
	ssize_t			 n;
	int			 s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return NULL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	if (body == NULL)
		body = "";
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n", method, path,
	    strlen(body));
	if (write(s, head, strlen(head)) != (ssize_t)strlen(head) ||
	    write(s, body, strlen(body)) != (ssize_t)strlen(body))
		goto fail;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap == 0 ? 131072 : cap * 2;
			if ((p = realloc(buf, cap)) == NULL)
				goto fail;
			buf = p;
		}
		if ((n = read(s, buf + len, cap - len - 1)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(s);
	if (buf == NULL)
		return NULL;
	buf[len] = '\0';
	if ((p = strstr(buf, "\r\n\r\n")) == NULL) {
		free(buf);
		return NULL;
	}
	r = strdup(p + 4);
	free(buf);
	return r;
fail:
	close(s);
	free(buf);
	return NULL;
}

/* Clears the recorded requests and the script of the mock on PORT. */
void
tp_reset(int port)
{
	char	*r;

	r = ctl(port, "POST", "/_control/reset", NULL);
	ck_assert_msg(r != NULL, "mock server not answering");
	free(r);
}

/* Replaces the script of the mock on PORT with the JSON list SPECS. */
void
tp_script(int port, const char *specs)
{
	char	*r;

	r = ctl(port, "POST", "/_control/script", specs);
	ck_assert_msg(r != NULL && strstr(r, "\"ok\": true") != NULL,
	    "script not accepted: %s", r != NULL ? r : "(no answer)");
	free(r);
}

/* Returns the requests recorded by the mock on PORT (a JSON array). */
json_t *
tp_recorded(int port)
{
	json_error_t	 err;
	json_t		*j;
	char		*r;

	r = ctl(port, "GET", "/_control/requests", NULL);
	ck_assert_msg(r != NULL, "no answer from /_control/requests");
	j = json_loads(r, JSON_ALLOW_NUL, &err);
	free(r);
	ck_assert_msg(j != NULL && json_is_array(j), "bad requests JSON");
	return j;
}

/* Returns header NAME of recorded request REQ, or NULL. */
const char *
tp_rec_header(json_t *req, const char *name)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(json_object_get(req, "headers"), k, v)
		if (strcasecmp(k, name) == 0)
			return json_string_value(v);
	return NULL;
}

/* Returns a local port that refuses connections (bound, then closed). */
int
tp_closed_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s, port = 0;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(s);
	return port;
}

/* Marks the wait as over. */
static void
on_guard(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs LOOP until *COUNT reaches N or MS ms pass; returns *COUNT. */
int
tp_run_until(uv_loop_t *loop, const int *count, int n, uint64_t ms)
{
	uv_timer_t	guard;
	bool		expired = false;

	uv_timer_init(loop, &guard);
	guard.data = &expired;
	uv_timer_start(&guard, on_guard, ms, 0);
	while (*count < n && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *count;
}

/* Removes DIR and everything below it; says so as PROG if it cannot. */
void
tp_rmtree(const char *dir, const char *prog)
{
	char	cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: cannot remove %s\n", prog, dir);
}
