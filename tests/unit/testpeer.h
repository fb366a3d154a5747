/* Unit test support: the httpmock.py peer, loop deadlines, suite running. */
#ifndef CRIER_TESTPEER_H
#define CRIER_TESTPEER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <jansson.h>
#include <uv.h>

#define TP_PYTHON	"/usr/bin/python3"

/* A mock server process and its port; { -1, 0 } when not running. */
struct tp_mock {
	pid_t	pid;
	int	port;
};

/* Puts in BUF the path in $ENV, else REL under $top_srcdir, $srcdir or ".". */
void	 tp_src_path(char *buf, size_t len, const char *env, const char *rel);
/* 0 if python can run the mock (no proxies for loopback), else 77. */
int	 tp_mock_prepare(const char *prog);
/* Starts httpmock.py as M with EXTRA arguments; port file DIR/NAME.port. */
int	 tp_mock_start(struct tp_mock *m, const char *dir, const char *name,
	    const char *const *extra);
/* Stops mock M, if running, and reaps it. */
void	 tp_mock_stop(struct tp_mock *m);
/* Clears the recorded requests and script of the mock on PORT; asserts. */
void	 tp_reset(int port);
/* Replaces the script of the mock on PORT with the JSON list SPECS; asserts. */
void	 tp_script(int port, const char *specs);
/* The requests recorded by the mock on PORT (a JSON array, caller's). */
json_t	*tp_recorded(int port);
/* Header NAME of recorded request REQ (any case), or NULL. */
const char *tp_rec_header(json_t *req, const char *name);
/* The port of a loopback socket that was bound, then closed (0 on error). */
int	 tp_closed_port(void);
/* Runs LOOP until *COUNT reaches N or MS ms pass; returns *COUNT. */
int	 tp_run_until(uv_loop_t *loop, const int *count, int n, uint64_t ms);
/* Removes directory DIR and all below it, complaining as PROG on failure. */
void	 tp_rmtree(const char *dir, const char *prog);

#endif
