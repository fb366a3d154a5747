/* Tests for daemon/fetch.c against tests/peers/httpmock.py on 127.0.0.1. */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/fetch.h"
#include "daemon/http.h"
#include "tests/unit/testpeer.h"
#include "tests/unit/unit.h"

#define WAIT_MS		10000	/* generous bound for anything to finish */
#define MAX_RESULTS	16

#define CAL1	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier//t//EN\r\n" \
		"BEGIN:VEVENT\r\nUID:one\r\nDTSTART:20300101T090000Z\r\n" \
		"SUMMARY:One\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
#define CAL2	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier//t//EN\r\n" \
		"BEGIN:VEVENT\r\nUID:two\r\nDTSTART:20300102T090000Z\r\n" \
		"SUMMARY:Two\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
#define LM1	"Wed, 21 Oct 2015 07:28:00 GMT"
#define LM2	"Thu, 22 Oct 2015 08:00:00 GMT"

/* What a done callback saw, copied out. */
struct result {
	bool		 has_data;
	char		*data;
	size_t		 len;
	bool		 changed;
	char		*error;		/* NULL on success */
	uint64_t	 at;		/* uv_now */
};

static char		 tmpdir[] = "/tmp/check_fetch.XXXXXX";
static char		 cdir[600];	/* this test's cache directory */
static struct tp_mock	 plain = { -1, 0 };
static int		 refused_port;

static uv_loop_t	 loop;
static struct result	 results[MAX_RESULTS];
static int		 nres;
static struct fetch	*fx;		/* freed by teardown if set */
static bool		 free_in_done;

/* Replaces the script of the mock on PORT with SPECS (a JSON list, stolen). */
static void
script_port(int port, json_t *specs)
{
	char	*s;

	ck_assert_ptr_nonnull(specs);
	s = json_dumps(specs, JSON_COMPACT);
	json_decref(specs);
	ck_assert_ptr_nonnull(s);
	tp_script(port, s);
	free(s);
}

/* Replaces the plain mock's script with SPECS (stolen). */
static void
script(json_t *specs)
{
	script_port(plain.port, specs);
}

/* Returns a response spec: STATUS, BODY (or NULL), and up to 2 headers. */
static json_t *
spec(int status, const char *body, const char *h1, const char *v1,
    const char *h2, const char *v2)
{
	json_t	*s, *h;

	s = json_pack("{s:i}", "status", status);
	ck_assert_ptr_nonnull(s);
	if (body != NULL)
		json_object_set_new(s, "body", json_string(body));
	h = json_object();
	if (h1 != NULL)
		json_object_set_new(h, h1, json_string(v1));
	if (h2 != NULL)
		json_object_set_new(h, h2, json_string(v2));
	json_object_set_new(h, "Content-Type", json_string("text/calendar"));
	json_object_set_new(s, "headers", h);
	return s;
}

/* Returns the plain mock's recorded requests. */
static json_t *
recorded(void)
{
	return tp_recorded(plain.port);
}

/* Returns a malloc'd copy of the N bytes at S. */
static char *
dup_n(const char *s, size_t n)
{
	char	*r;

	r = malloc(n + 1);
	ck_assert_ptr_nonnull(r);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

static int	reject_bodies;	/* the callback finds no body parses */

/* Done callback: copies what it was given into the next result. */
static void
on_done(void *arg, const char *data, size_t len, bool changed,
    const char *error)
{
	struct result	*r;

	ck_assert_ptr_eq(arg, &nres);
	ck_assert_int_lt(nres, MAX_RESULTS);
	r = &results[nres++];
	r->has_data = data != NULL;
	r->data = data != NULL ? dup_n(data, len) : NULL;
	r->len = len;
	r->changed = changed;
	r->error = error != NULL ? dup_n(error, strlen(error)) : NULL;
	r->at = uv_now(&loop);
	/* As crierd does once the body parsed: it becomes the last good copy. */
	if (data != NULL && error == NULL && !reject_bodies)
		fetch_keep(fx, data, len);
	if (free_in_done) {
		fetch_free(fx);
		fx = NULL;
	}
}

/* Runs the loop until N results or MS ms; returns the number of results. */
static int
run_until(int n, uint64_t ms)
{
	return tp_run_until(&loop, &nres, n, ms);
}

/* Formats the plain mock's URL for PATH into BUF. */
static const char *
url(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", plain.port, path);
	return buf;
}

/* Returns the content of cache file NAME (malloc'd), or NULL. */
static char *
slurp(const char *name)
{
	char	 path[800], *buf;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", cdir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, n, f), n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Returns the cache's metadata JSON for NAME. */
static json_t *
meta(const char *name)
{
	char		 path[800];
	json_error_t	 err;
	json_t		*j;

	snprintf(path, sizeof(path), "%s/%s.meta", cdir, name);
	j = json_load_file(path, 0, &err);
	ck_assert_msg(j != NULL, "%s: %s", path, err.text);
	return j;
}

/* Returns the number of entries in the cache directory. */
static int
count_files(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	d = opendir(cdir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Makes a fetcher for calendar "ogw" at plain mock PATH, as FX. */
static struct fetch *
new_fetch(const char *path, int64_t refresh)
{
	char	u[256];

	fx = fetch_new(&loop, "ogw", url(u, sizeof(u), path), cdir, refresh,
	    on_done, &nres);
	ck_assert_ptr_nonnull(fx);
	return fx;
}

/* Frees FX and lets its handle close. */
static void
drop_fetch(void)
{
	fetch_free(fx);
	fx = NULL;
	uv_run(&loop, UV_RUN_NOWAIT);
}

/* Fetches CAL1 with ETag "v1" into a fresh cache, as FX. */
static struct fetch *
prime(void)
{
	size_t	len;

	script(json_pack("[o]", spec(200, CAL1, "ETag", "\"v1\"", NULL, NULL)));
	new_fetch("/cal.ics", 900);
	ck_assert_ptr_null(fetch_cached(fx, &len));
	ck_assert_int_eq(len, 0);
	fetch_now(fx);
	ck_assert_int_eq(nres, 0);	/* never from within fetch_now */
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_msg(results[0].error == NULL, "%s", results[0].error);
	ck_assert_str_eq(results[0].data, CAL1);
	ck_assert_int_eq(results[0].changed, true);
	return fx;
}

/* Fresh loop, http, mock state and cache directory for each test. */
static void
setup(void)
{
	static int	n;

	memset(results, 0, sizeof(results));
	nres = 0;
	fx = NULL;
	free_in_done = false;
	reject_bodies = 0;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(http_init(&loop, NULL), 0);
	tp_reset(plain.port);
	/* Check forks each test (or not: CK_FORK=no): pid and count. */
	snprintf(cdir, sizeof(cdir), "%s/cache%ld.%d", tmpdir, (long)getpid(),
	    n++);
}

/* Frees everything and checks that no handle is left open. */
static void
teardown(void)
{
	int	i;

	fetch_free(fx);
	fx = NULL;
	http_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	for (i = 0; i < MAX_RESULTS; i++) {
		free(results[i].data);
		free(results[i].error);
	}
}

START_TEST(test_200_then_304)
{
	json_t		*m, *reqs;
	char		*s;

	prime();
	/* The cache: the body, its metadata, no temporary file. */
	s = slurp("ogw.ics");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, CAL1);
	free(s);
	m = meta("ogw");
	ck_assert_str_eq(json_string_value(json_object_get(m, "etag")),
	    "\"v1\"");
	ck_assert_ptr_null(json_object_get(m, "last_modified"));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(m,
	    "fetched_at")));
	ck_assert_int_eq(strlen(json_string_value(json_object_get(m,
	    "url_sha256"))), 64);
	json_decref(m);
	ck_assert_int_eq(count_files(), 2);

	script(json_pack("[o]", spec(304, NULL, "ETag", "\"v1\"", NULL, NULL)));
	fetch_now(fx);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_msg(results[1].error == NULL, "%s", results[1].error);
	ck_assert_int_eq(results[1].changed, false);
	ck_assert_str_eq(results[1].data, CAL1);

	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_array_get(reqs, 0), "path")), "/cal.ics");
	ck_assert_ptr_null(tp_rec_header(json_array_get(reqs, 0),
	    "If-None-Match"));
	ck_assert_ptr_null(tp_rec_header(json_array_get(reqs, 0),
	    "If-Modified-Since"));
	ck_assert_ptr_nonnull(tp_rec_header(json_array_get(reqs, 1),
	    "If-None-Match"));
	ck_assert_str_eq(tp_rec_header(json_array_get(reqs, 1),
	    "If-None-Match"), "\"v1\"");
	ck_assert_ptr_null(tp_rec_header(json_array_get(reqs, 1),
	    "If-Modified-Since"));
	json_decref(reqs);
	ck_assert_int_eq(count_files(), 2);
}
END_TEST

START_TEST(test_last_modified)
{
	json_t	*reqs, *m;
	char	*s;

	script(json_pack("[o,o,o]",
	    spec(200, CAL1, "Last-Modified", LM1, NULL, NULL),
	    spec(200, CAL1, "Last-Modified", LM2, NULL, NULL),
	    spec(200, CAL2, NULL, NULL, NULL, NULL)));
	new_fetch("/lm.ics", 900);
	fetch_now(fx);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_ptr_null(results[0].error);
	ck_assert_int_eq(results[0].changed, true);
	m = meta("ogw");
	ck_assert_str_eq(json_string_value(json_object_get(m,
	    "last_modified")), LM1);
	ck_assert_ptr_null(json_object_get(m, "etag"));
	json_decref(m);

	/* The same body again: not a change. */
	fetch_now(fx);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_null(results[1].error);
	ck_assert_int_eq(results[1].changed, false);
	ck_assert_str_eq(results[1].data, CAL1);

	/* A new body: a change, cached. */
	fetch_now(fx);
	ck_assert_int_eq(run_until(3, WAIT_MS), 3);
	ck_assert_ptr_null(results[2].error);
	ck_assert_int_eq(results[2].changed, true);
	ck_assert_str_eq(results[2].data, CAL2);
	s = slurp("ogw.ics");
	ck_assert_str_eq(s, CAL2);
	free(s);
	m = meta("ogw");
	ck_assert_ptr_null(json_object_get(m, "last_modified"));
	json_decref(m);

	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 3);
	ck_assert_ptr_null(tp_rec_header(json_array_get(reqs, 0),
	    "If-Modified-Since"));
	ck_assert_str_eq(tp_rec_header(json_array_get(reqs, 1),
	    "If-Modified-Since"), LM1);
	ck_assert_ptr_null(tp_rec_header(json_array_get(reqs, 1),
	    "If-None-Match"));
	ck_assert_str_eq(tp_rec_header(json_array_get(reqs, 2),
	    "If-Modified-Since"), LM2);
	json_decref(reqs);
}
END_TEST

START_TEST(test_server_down)
{
	struct tp_mock	 down = { -1, 0 };
	char		 u[256], want[256];
	const char	*data;
	size_t		 len;

	ck_assert_int_eq(tp_mock_start(&down, tmpdir, "down", NULL), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/down.ics", down.port);
	snprintf(want, sizeof(want), "GET %s: ", u);
	script_port(down.port, json_pack("[o]",
	    spec(200, CAL1, "ETag", "\"d1\"", NULL, NULL)));
	fx = fetch_new(&loop, "down", u, cdir, 900, on_done, &nres);
	ck_assert_ptr_nonnull(fx);
	fetch_now(fx);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_ptr_null(results[0].error);
	tp_mock_stop(&down);

	/* No server: an error naming the URL, the cached copy still. */
	fetch_now(fx);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_nonnull(results[1].error);
	ck_assert_msg(strstr(results[1].error, want) != NULL, "%s",
	    results[1].error);
	ck_assert_int_eq(results[1].has_data, true);
	ck_assert_str_eq(results[1].data, CAL1);
	ck_assert_int_eq(results[1].changed, false);
	drop_fetch();

	/* A restart without network: the last good copy is there. */
	fx = fetch_new(&loop, "down", u, cdir, 900, on_done, &nres);
	ck_assert_ptr_nonnull(fx);
	data = fetch_cached(fx, &len);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(len, strlen(CAL1));
	ck_assert_int_eq(memcmp(data, CAL1, len), 0);
	fetch_now(fx);
	ck_assert_int_eq(run_until(3, WAIT_MS), 3);
	ck_assert_ptr_nonnull(results[2].error);
	ck_assert_str_eq(results[2].data, CAL1);
	/* Already handed out by fetch_cached. */
	ck_assert_int_eq(results[2].changed, false);
	drop_fetch();

	/* Without fetch_cached, the first delivery is a change. */
	fx = fetch_new(&loop, "down", u, cdir, 900, on_done, &nres);
	ck_assert_ptr_nonnull(fx);
	fetch_now(fx);
	ck_assert_int_eq(run_until(4, WAIT_MS), 4);
	ck_assert_ptr_nonnull(results[3].error);
	ck_assert_str_eq(results[3].data, CAL1);
	ck_assert_int_eq(results[3].changed, true);
}
END_TEST

START_TEST(test_http_errors)
{
	char	*ics, *m, *s, u[256];
	int	 i;

	prime();
	ics = slurp("ogw.ics");
	m = slurp("ogw.meta");
	script(json_pack("[o,o]", spec(404, "no such calendar", NULL, NULL,
	    NULL, NULL), spec(503, "busy", NULL, NULL, NULL, NULL)));
	for (i = 1; i <= 2; i++) {
		fetch_now(fx);
		ck_assert_int_eq(run_until(i + 1, WAIT_MS), i + 1);
		ck_assert_ptr_nonnull(results[i].error);
		ck_assert_msg(strstr(results[i].error,
		    url(u, sizeof(u), "/cal.ics")) != NULL, "%s",
		    results[i].error);
		ck_assert_msg(strstr(results[i].error,
		    i == 1 ? "HTTP 404" : "HTTP 503") != NULL, "%s",
		    results[i].error);
		ck_assert_str_eq(results[i].data, CAL1);
		ck_assert_int_eq(results[i].changed, false);
		s = slurp("ogw.ics");
		ck_assert_str_eq(s, ics);
		free(s);
		s = slurp("ogw.meta");
		ck_assert_str_eq(s, m);
		free(s);
	}
	free(ics);
	free(m);
}
END_TEST

START_TEST(test_not_calendar)
{
	json_t	*reqs;
	char	*ics, *m, *s;

	prime();
	ics = slurp("ogw.ics");
	m = slurp("ogw.meta");
	script(json_pack("[o,o]",
	    spec(200, "<html><body>Log in</body></html>", "ETag", "\"v2\"",
	    NULL, NULL),
	    spec(304, NULL, NULL, NULL, NULL, NULL)));
	fetch_now(fx);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_nonnull(results[1].error);
	ck_assert_msg(strstr(results[1].error, "not a calendar") != NULL,
	    "%s", results[1].error);
	ck_assert_str_eq(results[1].data, CAL1);
	ck_assert_int_eq(results[1].changed, false);
	s = slurp("ogw.ics");
	ck_assert_str_eq(s, ics);
	free(s);
	s = slurp("ogw.meta");
	ck_assert_str_eq(s, m);
	free(s);
	free(ics);
	free(m);

	/* The bad answer's ETag was not taken either. */
	fetch_now(fx);
	ck_assert_int_eq(run_until(3, WAIT_MS), 3);
	ck_assert_ptr_null(results[2].error);
	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 3);
	ck_assert_str_eq(tp_rec_header(json_array_get(reqs, 2),
	    "If-None-Match"), "\"v1\"");
	json_decref(reqs);
}
END_TEST

START_TEST(test_bom_and_case)
{
	const char	*body = "\xef\xbb\xbf \r\n\tbegin:vcalendar\r\n"
			    "VERSION:2.0\r\nEND:VCALENDAR\r\n";

	script(json_pack("[o,o]", spec(200, body, NULL, NULL, NULL, NULL),
	    spec(200, "\xef\xbb\xbf", NULL, NULL, NULL, NULL)));
	new_fetch("/bom.ics", 900);
	fetch_now(fx);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_msg(results[0].error == NULL, "%s", results[0].error);
	ck_assert_str_eq(results[0].data, body);
	/* A BOM alone is not a calendar. */
	fetch_now(fx);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_nonnull(results[1].error);
	ck_assert_str_eq(results[1].data, body);
}
END_TEST

START_TEST(test_secret_url)
{
	char	u[256], want[256];

	snprintf(u, sizeof(u), "http://user:pw0rd@127.0.0.1:%d/cal.ics"
	    "?token=s3cret#frag", refused_port);
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%d/cal.ics: ",
	    refused_port);
	fx = fetch_new(&loop, "ogw", u, cdir, 900, on_done, &nres);
	ck_assert_ptr_nonnull(fx);
	fetch_now(fx);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_ptr_nonnull(results[0].error);
	ck_assert_msg(strstr(results[0].error, want) != NULL, "%s",
	    results[0].error);
	ck_assert_ptr_null(strstr(results[0].error, "pw0rd"));
	ck_assert_ptr_null(strstr(results[0].error, "user"));
	ck_assert_ptr_null(strstr(results[0].error, "s3cret"));
	ck_assert_int_eq(results[0].has_data, false);
	ck_assert_int_eq(results[0].changed, false);
}
END_TEST

START_TEST(test_unparsed_not_cached)
{
	json_t		*m, *reqs;
	const char	*data;
	char		*s;
	size_t		 len;

	prime();
	/* A new body that does not parse: handed over, never cached. */
	reject_bodies = 1;
	script(json_pack("[o,o]", spec(200, CAL2, "ETag", "\"v2\"", NULL, NULL),
	    spec(200, CAL2, "ETag", "\"v2\"", NULL, NULL)));
	fetch_now(fx);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_null(results[1].error);
	ck_assert_str_eq(results[1].data, CAL2);
	ck_assert_int_eq(results[1].changed, true);
	s = slurp("ogw.ics");
	ck_assert_str_eq(s, CAL1);
	free(s);
	m = meta("ogw");
	ck_assert_str_eq(json_string_value(json_object_get(m, "etag")),
	    "\"v1\"");
	json_decref(m);
	data = fetch_cached(fx, &len);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(len, strlen(CAL1));
	/* The next request still asks with the good copy's validator. */
	fetch_now(fx);
	ck_assert_int_eq(run_until(3, WAIT_MS), 3);
	ck_assert_str_eq(results[2].data, CAL2);
	ck_assert_int_eq(results[2].changed, true);
	reqs = recorded();
	ck_assert_str_eq(tp_rec_header(json_array_get(reqs, 2),
	    "If-None-Match"), "\"v1\"");
	json_decref(reqs);
	/* A restart finds the last good copy. */
	drop_fetch();
	new_fetch("/cal.ics", 900);
	data = fetch_cached(fx, &len);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(len, strlen(CAL1));
	ck_assert_int_eq(memcmp(data, CAL1, len), 0);
	reject_bodies = 0;
}
END_TEST

START_TEST(test_url_changed)
{
	json_t		*reqs;
	const char	*data;
	size_t		 len;

	prime();
	drop_fetch();
	/* Another URL for the same calendar: the copy, not its ETag. */
	script(json_pack("[o]", spec(200, CAL1, "ETag", "\"w1\"", NULL, NULL)));
	new_fetch("/moved.ics", 900);
	data = fetch_cached(fx, &len);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(len, strlen(CAL1));
	fetch_now(fx);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_null(results[1].error);
	ck_assert_int_eq(results[1].changed, false);
	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
	    json_array_get(reqs, 1), "path")), "/moved.ics");
	ck_assert_ptr_null(tp_rec_header(json_array_get(reqs, 1),
	    "If-None-Match"));
	json_decref(reqs);
}
END_TEST

START_TEST(test_refresh_and_retry)
{
	json_t	*reqs;

	/* refresh 1 s: the retry after an error is min(1 s, 60 s). */
	script(json_pack("[o,o,o]", spec(500, "oops", NULL, NULL, NULL, NULL),
	    spec(200, CAL1, "ETag", "\"r1\"", NULL, NULL),
	    spec(304, NULL, NULL, NULL, NULL, NULL)));
	new_fetch("/r.ics", 1);
	fetch_start(fx);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_ptr_nonnull(results[0].error);
	ck_assert_int_eq(results[0].has_data, false);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_null(results[1].error);
	ck_assert_int_eq(results[1].changed, true);
	ck_assert_uint_ge(results[1].at - results[0].at, 990);
	ck_assert_uint_le(results[1].at - results[0].at, 1900);
	/* Then every refresh interval. */
	ck_assert_int_eq(run_until(3, WAIT_MS), 3);
	ck_assert_ptr_null(results[2].error);
	ck_assert_int_eq(results[2].changed, false);
	ck_assert_uint_ge(results[2].at - results[1].at, 990);
	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 3);
	ck_assert_str_eq(tp_rec_header(json_array_get(reqs, 2),
	    "If-None-Match"), "\"r1\"");
	json_decref(reqs);
}
END_TEST

START_TEST(test_now_during_request)
{
	json_t	*s1, *reqs;

	s1 = spec(200, CAL1, "ETag", "\"n1\"", NULL, NULL);
	json_object_set_new(s1, "delay", json_real(0.3));
	script(json_pack("[o,o]", s1, spec(304, NULL, NULL, NULL, NULL, NULL)));
	new_fetch("/n.ics", 900);
	fetch_now(fx);
	run_until(1, 100);
	ck_assert_int_eq(nres, 0);
	ck_assert_uint_eq(http_in_flight(), 1);
	/* Not a second request at once: another right after. */
	fetch_now(fx);
	ck_assert_uint_eq(http_in_flight(), 1);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_null(results[0].error);
	ck_assert_ptr_null(results[1].error);
	ck_assert_int_eq(results[1].changed, false);
	/* And nothing more: fetch_now does not start the refresh timer. */
	run_until(3, 300);
	ck_assert_int_eq(nres, 2);
	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 2);
	json_decref(reqs);
}
END_TEST

START_TEST(test_free_in_flight)
{
	json_t	*s1;

	s1 = spec(200, CAL1, NULL, NULL, NULL, NULL);
	json_object_set_new(s1, "delay", json_real(0.3));
	script(json_pack("[o]", s1));
	new_fetch("/f.ics", 900);
	fetch_start(fx);
	run_until(1, 100);
	ck_assert_uint_eq(http_in_flight(), 1);
	drop_fetch();
	/* The request ends with nobody to tell. */
	run_until(1, 1000);
	ck_assert_uint_eq(http_in_flight(), 0);
	ck_assert_int_eq(nres, 0);
}
END_TEST

START_TEST(test_free_in_done)
{
	prime();
	free_in_done = true;
	script(json_pack("[o]", spec(304, NULL, NULL, NULL, NULL, NULL)));
	fetch_start(fx);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_ptr_null(fx);
	run_until(3, 200);
	ck_assert_int_eq(nres, 2);
}
END_TEST

START_TEST(test_shutdown_in_flight)
{
	json_t	*s1;

	prime();
	s1 = spec(200, CAL2, NULL, NULL, NULL, NULL);
	json_object_set_new(s1, "delay", json_real(1));
	script(json_pack("[o]", s1));
	fetch_now(fx);
	run_until(2, 100);
	ck_assert_uint_eq(http_in_flight(), 1);
	http_shutdown();
	ck_assert_int_eq(nres, 2);
	ck_assert_ptr_nonnull(results[1].error);
	ck_assert_str_eq(results[1].data, CAL1);
}
END_TEST

START_TEST(test_304_without_cache)
{
	script(json_pack("[o]", spec(304, NULL, NULL, NULL, NULL, NULL)));
	new_fetch("/c.ics", 900);
	fetch_now(fx);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_ptr_nonnull(results[0].error);
	ck_assert_msg(strstr(results[0].error, "304") != NULL, "%s",
	    results[0].error);
	ck_assert_int_eq(results[0].has_data, false);
}
END_TEST

START_TEST(test_bad_args)
{
	static const char *const bad[] = { "", ".hidden", "a/b", "..", NULL };
	char	u[256];
	int	i;

	url(u, sizeof(u), "/x.ics");
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_ptr_null(fetch_new(&loop, bad[i], u, cdir, 900,
		    on_done, NULL));
	ck_assert_ptr_null(fetch_new(&loop, NULL, u, cdir, 900, on_done,
	    NULL));
	ck_assert_ptr_null(fetch_new(&loop, "ok", NULL, cdir, 900, on_done,
	    NULL));
	ck_assert_ptr_null(fetch_new(&loop, "ok", u, NULL, 900, on_done,
	    NULL));
	ck_assert_ptr_null(fetch_new(&loop, "ok", u, cdir, 900, NULL, NULL));
	fetch_free(NULL);
	fetch_now(NULL);
	fetch_start(NULL);
	ck_assert_ptr_null(fetch_cached(NULL, NULL));
}
END_TEST

static Suite *
fetch_suite(void)
{
	Suite	*s = suite_create("fetch");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_200_then_304);
	tcase_add_test(tc, test_last_modified);
	tcase_add_test(tc, test_server_down);
	tcase_add_test(tc, test_http_errors);
	tcase_add_test(tc, test_not_calendar);
	tcase_add_test(tc, test_bom_and_case);
	tcase_add_test(tc, test_secret_url);
	tcase_add_test(tc, test_url_changed);
	tcase_add_test(tc, test_refresh_and_retry);
	tcase_add_test(tc, test_now_during_request);
	tcase_add_test(tc, test_free_in_flight);
	tcase_add_test(tc, test_free_in_done);
	tcase_add_test(tc, test_shutdown_in_flight);
	tcase_add_test(tc, test_304_without_cache);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_unparsed_not_cached);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	rc;

	if ((rc = tp_mock_prepare("check_fetch")) != 0)
		return rc;
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	if (tp_mock_start(&plain, tmpdir, "plain", NULL) == -1) {
		fprintf(stderr, "check_fetch: cannot start httpmock.py, "
		    "skipped\n");
		rc = 77;
		goto done;
	}
	refused_port = tp_closed_port();
	rc = unit_run(fetch_suite(), 0);
done:
	tp_mock_stop(&plain);
	tp_rmtree(tmpdir, "check_fetch");
	return rc;
}
