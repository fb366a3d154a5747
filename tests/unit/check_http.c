/* Tests for daemon/http.c against tests/peers/httpmock.py on 127.0.0.1. */
#include <config.h>

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/http.h"
#include "tests/unit/testpeer.h"
#include "tests/unit/unit.h"

#define WAIT_MS		30000	/* generous bound for anything to finish */
#define MAX_RESULTS	64

/* What a done callback saw, copied out of the response. */
struct result {
	int	 done;
	int	 curl_code;
	long	 status;
	char	 error[256];
	char	*body;
	size_t	 body_len;
	char	*x_test;	/* X-Test header, looked up as "x-TEST" */
	char	*x_early;	/* X-Early header */
	char	*ctype;		/* Content-Type header */
	size_t	 nheaders;
};

static char		 tmpdir[] = "/tmp/check_http.XXXXXX";
static struct tp_mock	 plain = { -1, 0 };
static struct tp_mock	 tls = { -1, 0 };
static char		 ca_path[700];
static int		 have_tls;

static uv_loop_t	 loop;
static struct result	 results[MAX_RESULTS];
static int		 ndone;
static int		 refused_port;
static int		 silent_port;

/* Replaces the plain mock's script with the JSON list SPECS. */
static void
script(const char *specs)
{
	tp_script(plain.port, specs);
}

/* Returns the plain mock's recorded requests (a JSON array). */
static json_t *
recorded(void)
{
	return tp_recorded(plain.port);
}

/* Returns a malloc'd copy of S, or NULL for NULL. */
static char *
dup_or_null(const char *s)
{
	char	*r;

	if (s == NULL)
		return NULL;
	r = strdup(s);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* Done callback: copies the response into the result ARG. */
static void
on_done(void *arg, const struct http_response *resp)
{
	struct result	*res = arg;

	res->done++;
	ndone++;
	res->curl_code = resp->curl_code;
	res->status = resp->status;
	snprintf(res->error, sizeof(res->error), "%s", resp->error);
	ck_assert_ptr_nonnull(resp->body);
	ck_assert_int_eq(resp->body[resp->body_len], '\0');
	res->body = malloc(resp->body_len + 1);
	ck_assert_ptr_nonnull(res->body);
	memcpy(res->body, resp->body, resp->body_len + 1);
	res->body_len = resp->body_len;
	res->x_test = dup_or_null(http_header_get(resp, "x-TEST"));
	res->x_early = dup_or_null(http_header_get(resp, "X-Early"));
	res->ctype = dup_or_null(http_header_get(resp, "content-type"));
	res->nheaders = resp->nheaders;
}

/* Runs the loop until N done callbacks in all or MS ms; returns ndone. */
static int
run_until(int n, uint64_t ms)
{
	return tp_run_until(&loop, &ndone, n, ms);
}

/* Starts a request with the given pieces into results[I]. */
static void
start(int i, const char *method, const char *url, const char **headers,
    const char *body, size_t body_len, long timeout_ms)
{
	struct http_request	req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = body_len;
	req.timeout_ms = timeout_ms;
	ck_assert_int_eq(http_start(&req, on_done, &results[i]), 0);
}

/* Formats the plain mock's URL for PATH into BUF. */
static const char *
url(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", plain.port, path);
	return buf;
}

/* Frees and clears every result. */
static void
clear_results(void)
{
	int	i;

	for (i = 0; i < MAX_RESULTS; i++) {
		free(results[i].body);
		free(results[i].x_test);
		free(results[i].x_early);
		free(results[i].ctype);
	}
	memset(results, 0, sizeof(results));
	ndone = 0;
}

/* Fresh loop and mock state for each test; http_init is the test's. */
static void
setup(void)
{
	memset(results, 0, sizeof(results));
	ndone = 0;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	tp_reset(plain.port);
}

/* Shuts http down and checks that no handle is left open. */
static void
teardown(void)
{
	http_shutdown();
	ck_assert_int_eq(http_in_flight(), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	clear_results();
}

START_TEST(test_get)
{
	char	u[128];

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	ck_assert_int_eq(http_init(&loop, NULL), -1);	/* once only */
	script("[{\"status\":200,\"headers\":{\"X-Test\":\"hello  world\"},"
	    "\"body\":{\"id\":\"1\"}}]");
	start(0, "GET", url(u, sizeof(u), "/api/thing?x=1"), NULL, NULL, 0, 0);
	ck_assert_int_eq(http_in_flight(), 1);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_int_eq(http_in_flight(), 0);
	ck_assert_int_eq(results[0].curl_code, 0);
	ck_assert_str_eq(results[0].error, "");
	ck_assert_int_eq(results[0].status, 200);
	ck_assert_str_eq(results[0].body, "{\"id\": \"1\"}");
	ck_assert_int_eq(results[0].body_len, strlen("{\"id\": \"1\"}"));
	ck_assert_ptr_nonnull(results[0].x_test);
	ck_assert_str_eq(results[0].x_test, "hello  world");
	ck_assert_ptr_nonnull(results[0].ctype);
	ck_assert_str_eq(results[0].ctype, "application/json");
	ck_assert_ptr_null(results[0].x_early);

	/* The default answer once the script is used up. */
	start(1, "GET", url(u, sizeof(u), "/again"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_int_eq(results[1].status, 200);
	ck_assert_str_eq(results[1].body, "{\"ok\": true}");
}
END_TEST

START_TEST(test_interim_headers)
{
	char	u[128];

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	script("[{\"status\":201,\"interim\":[{\"status\":103,\"headers\":"
	    "{\"X-Early\":\"yes\",\"X-Test\":\"early\"}}],"
	    "\"headers\":{\"X-Test\":\"final\"},\"body\":\"made\"}]");
	start(0, "GET", url(u, sizeof(u), "/interim"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_int_eq(results[0].curl_code, 0);
	ck_assert_int_eq(results[0].status, 201);
	ck_assert_str_eq(results[0].body, "made");
	ck_assert_ptr_null(results[0].x_early);
	ck_assert_str_eq(results[0].x_test, "final");
}
END_TEST

START_TEST(test_post)
{
	const char	*hdrs[] = { "Content-Type: application/json",
			    "Authorization: Bearer abc123",
			    "Idempotency-Key: k-1", NULL };
	const char	*json = "{\"status\":\"Open Gov Week \xc3\xa9\"}";
	char		 u[128], *body, *big;
	size_t		 biglen = 1536 * 1024, i;
	json_t		*reqs, *r;
	const char	*ua;

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	/* Three requests race: the spec matches only the POST. */
	script("[{\"method\":\"POST\",\"status\":201,"
	    "\"body\":{\"id\":\"42\"}}]");
	/* The caller may free the body once http_start returns. */
	body = strdup(json);
	ck_assert_ptr_nonnull(body);
	start(0, "POST", url(u, sizeof(u), "/api/v1/statuses"), hdrs, body,
	    strlen(body), 0);
	memset(body, 'Z', strlen(body));
	free(body);

	/* A large binary body: no "Expect: 100-continue" wait either. */
	big = malloc(biglen);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < biglen; i++)
		big[i] = (char)(i % 7 == 0 ? 0 : 'a' + i % 26);
	start(1, "PUT", url(u, sizeof(u), "/upload"), NULL, big, biglen, 0);
	free(big);
	start(2, "DELETE", url(u, sizeof(u), "/api/v1/statuses/42"), NULL,
	    NULL, 0, 0);
	ck_assert_int_eq(run_until(3, WAIT_MS), 3);
	for (i = 0; i < 3; i++)
		ck_assert_msg(results[i].curl_code == 0, "request %zu: %s", i,
		    results[i].error);

	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 3);
	for (i = 0; i < 3; i++) {
		r = json_array_get(reqs, i);
		ua = tp_rec_header(r, "User-Agent");
		ck_assert_ptr_nonnull(ua);
		ck_assert_msg(strncmp(ua, "crier/", 6) == 0, "UA %s", ua);
		ck_assert_ptr_null(tp_rec_header(r, "Expect"));
		if (strcmp(json_string_value(json_object_get(r, "method")),
		    "POST") == 0) {
			ck_assert_str_eq(json_string_value(json_object_get(r,
			    "path")), "/api/v1/statuses");
			ck_assert_str_eq(json_string_value(json_object_get(r,
			    "body")), json);
			ck_assert_str_eq(tp_rec_header(r, "Authorization"),
			    "Bearer abc123");
			ck_assert_str_eq(tp_rec_header(r, "Content-Type"),
			    "application/json");
			ck_assert_str_eq(tp_rec_header(r, "Idempotency-Key"),
			    "k-1");
			ck_assert_int_eq(results[0].status, 201);
		} else if (strcmp(json_string_value(json_object_get(r,
		    "method")), "PUT") == 0) {
			ck_assert_int_eq(json_integer_value(json_object_get(r,
			    "body_len")), biglen);
			ck_assert_str_eq(json_string_value(json_object_get(r,
			    "path")), "/upload");
		} else {
			ck_assert_str_eq(json_string_value(json_object_get(r,
			    "method")), "DELETE");
			ck_assert_int_eq(json_integer_value(json_object_get(r,
			    "body_len")), 0);
		}
	}
	json_decref(reqs);
}
END_TEST

START_TEST(test_bad_input)
{
	const char		*bad[] = { "X-A: b\r\nX-Injected: 1", NULL };
	struct http_request	 req;
	char			 u[128];

	memset(&req, 0, sizeof(req));
	req.url = url(u, sizeof(u), "/x");
	ck_assert_int_eq(http_start(&req, on_done, &results[0]), -1);
	ck_assert_int_eq(http_init(&loop, NULL), 0);
	req.headers = bad;
	ck_assert_int_eq(http_start(&req, on_done, &results[0]), -1);
	req.headers = NULL;
	req.method = "GET /x HTTP/1.1\r\n";
	ck_assert_int_eq(http_start(&req, on_done, &results[0]), -1);
	req.method = NULL;
	req.url = NULL;
	ck_assert_int_eq(http_start(&req, on_done, &results[0]), -1);
	ck_assert_int_eq(http_in_flight(), 0);
	ck_assert_int_eq(ndone, 0);
}
END_TEST

START_TEST(test_no_redirect_no_file)
{
	char	u[128];
	json_t	*reqs;

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	script("[{\"status\":302,\"headers\":{\"Location\":\"/elsewhere\"}}]");
	start(0, "GET", url(u, sizeof(u), "/moved"), NULL, NULL, 0, 0);
	start(1, "GET", "file:///etc/passwd", NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_int_eq(results[0].curl_code, 0);
	ck_assert_int_eq(results[0].status, 302);
	ck_assert_int_eq(results[1].curl_code, CURLE_UNSUPPORTED_PROTOCOL);
	ck_assert_int_eq(results[1].body_len, 0);
	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 1);
	json_decref(reqs);
}
END_TEST

/* Counts distinct client ports among the recorded requests. */
static size_t
distinct_ports(json_t *reqs)
{
	json_int_t	seen[256];
	size_t		i, j, n = 0;
	json_int_t	p;

	for (i = 0; i < json_array_size(reqs) && n < 256; i++) {
		p = json_integer_value(json_object_get(json_array_get(reqs, i),
		    "client_port"));
		for (j = 0; j < n && seen[j] != p; j++)
			;
		if (j == n)
			seen[n++] = p;
	}
	return n;
}

START_TEST(test_concurrent_reuse)
{
	char	u[128];
	json_t	*reqs;
	size_t	ports;
	int	i;

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	for (i = 0; i < 20; i++) {
		snprintf(u, sizeof(u), "http://127.0.0.1:%d/c/%d", plain.port,
		    i);
		start(i, "GET", u, NULL, NULL, 0, 0);
	}
	ck_assert_int_eq(http_in_flight(), 20);
	ck_assert_int_eq(run_until(20, WAIT_MS), 20);
	ck_assert_int_eq(http_in_flight(), 0);
	/* A second wave finds the first one's connections in the cache. */
	for (i = 20; i < 40; i++) {
		snprintf(u, sizeof(u), "http://127.0.0.1:%d/c/%d", plain.port,
		    i);
		start(i, "GET", u, NULL, NULL, 0, 0);
	}
	ck_assert_int_eq(run_until(40, WAIT_MS), 40);
	for (i = 0; i < 40; i++) {
		ck_assert_int_eq(results[i].done, 1);
		ck_assert_int_eq(results[i].curl_code, 0);
		ck_assert_int_eq(results[i].status, 200);
	}
	reqs = recorded();
	ck_assert_int_eq(json_array_size(reqs), 40);
	ports = distinct_ports(reqs);
	json_decref(reqs);
	ck_assert_msg(ports <= 20, "%zu connections for 40 requests", ports);
}
END_TEST

/* Starts the next of a chain of requests when one ends. */
static void
on_chain(void *arg, const struct http_response *resp)
{
	struct result		*res = arg;
	struct http_request	 req;
	char			 u[128];
	int			 i = res - results;

	on_done(arg, resp);
	if (i + 1 >= 30)
		return;
	memset(&req, 0, sizeof(req));
	req.url = url(u, sizeof(u), "/chain");
	ck_assert_int_eq(http_start(&req, on_chain, &results[i + 1]), 0);
}

START_TEST(test_fd_reuse)
{
	struct http_request	 req;
	char			 u[128];
	int			 i;

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	/*
	 * The server resets the kept-alive connection; curl retries on a
	 * fresh socket within the same call, likely with the same fd.
	 */
	script("[{\"status\":200},{\"reset\":true}]");
	start(0, "GET", url(u, sizeof(u), "/one"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	start(1, "GET", url(u, sizeof(u), "/two"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_int_eq(results[0].status, 200);
	ck_assert_msg(results[1].curl_code == 0, "retry failed: %s",
	    results[1].error);
	ck_assert_int_eq(results[1].status, 200);

	/* Closing connections, each next request started from a callback. */
	clear_results();
	script("[{\"close\":true},{\"close\":true},{\"close\":true},"
	    "{\"close\":true},{\"close\":true},{\"close\":true},"
	    "{\"close\":true},{\"close\":true},{\"close\":true},"
	    "{\"close\":true},{\"close\":true},{\"close\":true}]");
	memset(&req, 0, sizeof(req));
	req.url = url(u, sizeof(u), "/chain");
	ck_assert_int_eq(http_start(&req, on_chain, &results[0]), 0);
	ck_assert_int_eq(run_until(30, WAIT_MS), 30);
	for (i = 0; i < 30; i++) {
		ck_assert_msg(results[i].curl_code == 0, "request %d: %s", i,
		    results[i].error);
		ck_assert_int_eq(results[i].status, 200);
	}
}
END_TEST

START_TEST(test_timeout)
{
	char	u[128];
	time_t	t0;

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	script("[{\"hang\":60}]");
	t0 = time(NULL);
	start(0, "GET", url(u, sizeof(u), "/slow"), NULL, NULL, 0, 1000);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_int_eq(results[0].curl_code, CURLE_OPERATION_TIMEDOUT);
	ck_assert_str_ne(results[0].error, "");
	ck_assert_int_eq(results[0].status, 0);
	ck_assert_int_lt(time(NULL) - t0, 20);
}
END_TEST

START_TEST(test_reset)
{
	char	u[128];

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	script("[{\"reset\":true}]");
	start(0, "GET", url(u, sizeof(u), "/rst"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_msg(results[0].curl_code == CURLE_RECV_ERROR ||
	    results[0].curl_code == CURLE_GOT_NOTHING ||
	    results[0].curl_code == CURLE_SEND_ERROR,
	    "curl code %d: %s", results[0].curl_code, results[0].error);
	ck_assert_str_ne(results[0].error, "");
	ck_assert_int_eq(results[0].status, 0);
}
END_TEST

START_TEST(test_garbage)
{
	char	u[128];

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	script("[{\"garbage\":true},"
	    "{\"garbage\":"
	    "\"HTTP/1.1 200 OK\\r\\nno colon here\\r\\n\\r\\n\"}]");
	start(0, "GET", url(u, sizeof(u), "/junk"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	/* No status line at all: curl calls it HTTP/0.9 and refuses it. */
	ck_assert_msg(results[0].curl_code == CURLE_UNSUPPORTED_PROTOCOL ||
	    results[0].curl_code == CURLE_WEIRD_SERVER_REPLY,
	    "curl code %d: %s", results[0].curl_code, results[0].error);
	start(1, "GET", url(u, sizeof(u), "/junk2"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_msg(results[1].curl_code == CURLE_WEIRD_SERVER_REPLY,
	    "curl code %d: %s", results[1].curl_code, results[1].error);
}
END_TEST

START_TEST(test_refused)
{
	char	u[128];

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", refused_port);
	start(0, "GET", u, NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_msg(results[0].curl_code == CURLE_COULDNT_CONNECT,
	    "curl code %d: %s", results[0].curl_code, results[0].error);
	ck_assert_int_eq(results[0].status, 0);
}
END_TEST

START_TEST(test_body_cap)
{
	char	u[128], spec[512];

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	snprintf(spec, sizeof(spec), "[{\"body_size\":%d},"
	    "{\"body_size\":%d},{\"body_size\":%d,\"chunked\":true}]",
	    HTTP_MAX_BODY, HTTP_MAX_BODY + 1, HTTP_MAX_BODY + 1);
	script(spec);
	/* One at a time: the script is consumed in arrival order. */
	start(0, "GET", url(u, sizeof(u), "/exact"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	start(1, "GET", url(u, sizeof(u), "/length"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	start(2, "GET", url(u, sizeof(u), "/chunked"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(3, WAIT_MS), 3);

	ck_assert_msg(results[0].curl_code == 0, "%s", results[0].error);
	ck_assert_int_eq(results[0].body_len, HTTP_MAX_BODY);
	ck_assert_int_eq(results[0].body[HTTP_MAX_BODY - 1], 'x');
	/* Known length: curl refuses before reading the body. */
	ck_assert_msg(results[1].curl_code == CURLE_FILESIZE_EXCEEDED,
	    "curl code %d: %s", results[1].curl_code, results[1].error);
	/* Unknown length: the write callback stops it at the cap. */
	ck_assert_msg(results[2].curl_code == CURLE_WRITE_ERROR,
	    "curl code %d: %s", results[2].curl_code, results[2].error);
	ck_assert_msg(strstr(results[2].error, "larger than") != NULL,
	    "error %s", results[2].error);
	ck_assert_int_le(results[2].body_len, HTTP_MAX_BODY);

	/* HEAD: a large Content-Length announces a body that never comes. */
	snprintf(spec, sizeof(spec), "[{\"body_size\":%d}]",
	    HTTP_MAX_BODY + 1);
	script(spec);
	start(3, "HEAD", url(u, sizeof(u), "/head"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(4, WAIT_MS), 4);
	ck_assert_msg(results[3].curl_code == 0, "%s", results[3].error);
	ck_assert_int_eq(results[3].status, 200);
	ck_assert_int_eq(results[3].body_len, 0);
}
END_TEST

START_TEST(test_header_cap)
{
	char	u[128], *spec;
	size_t	len = 0, cap = 32768;
	int	i;

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	spec = malloc(cap);
	ck_assert_ptr_nonnull(spec);
	len += snprintf(spec + len, cap - len, "[{\"headers\":{");
	for (i = 0; i < 1000; i++)
		len += snprintf(spec + len, cap - len, "%s\"X-H%d\":\"%d\"",
		    i > 0 ? "," : "", i, i);
	snprintf(spec + len, cap - len, "}}]");
	ck_assert_int_lt(len, cap - 8);
	script(spec);
	free(spec);
	start(0, "GET", url(u, sizeof(u), "/many"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_int_ne(results[0].curl_code, 0);
	ck_assert_msg(strstr(results[0].error, "headers") != NULL, "error %s",
	    results[0].error);
}
END_TEST

START_TEST(test_tls_untrusted)
{
	char	u[128];

	if (!have_tls)
		ck_abort_msg("TLS mock not running (mkcerts.sh failed?)");
	ck_assert_int_eq(http_init(&loop, NULL), 0);
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/secure", tls.port);
	start(0, "GET", u, NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(1, WAIT_MS), 1);
	ck_assert_msg(results[0].curl_code == CURLE_PEER_FAILED_VERIFICATION,
	    "curl code %d: %s", results[0].curl_code, results[0].error);
	ck_assert_int_eq(results[0].status, 0);
}
END_TEST

START_TEST(test_tls_trusted)
{
	char	u[128];

	if (!have_tls)
		ck_abort_msg("TLS mock not running (mkcerts.sh failed?)");
	ck_assert_int_eq(http_init(&loop, ca_path), 0);
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/secure", tls.port);
	start(0, "GET", u, NULL, NULL, 0, 0);
	snprintf(u, sizeof(u), "https://localhost:%d/secure", tls.port);
	start(1, "POST", u, NULL, "a=b", 3, 0);
	ck_assert_int_eq(run_until(2, WAIT_MS), 2);
	ck_assert_msg(results[0].curl_code == 0, "curl code %d: %s",
	    results[0].curl_code, results[0].error);
	ck_assert_int_eq(results[0].status, 200);
	ck_assert_str_eq(results[0].body, "{\"ok\": true}");
	ck_assert_msg(results[1].curl_code == 0, "curl code %d: %s",
	    results[1].curl_code, results[1].error);
	ck_assert_int_eq(results[1].status, 200);
}
END_TEST

/* Done callback that tries to start more during shutdown. */
static void
on_done_restart(void *arg, const struct http_response *resp)
{
	struct http_request	req;

	on_done(arg, resp);
	memset(&req, 0, sizeof(req));
	req.url = "http://127.0.0.1:1/";
	ck_assert_int_eq(http_start(&req, on_done, &results[MAX_RESULTS - 1]),
	    -1);
}

START_TEST(test_shutdown_in_flight)
{
	struct http_request	 req;
	char			 u[128];
	json_t			*reqs;
	size_t			 seen = 0;
	int			 i, tries;

	ck_assert_int_eq(http_init(&loop, NULL), 0);
	script("[{\"hang\":60},{\"hang\":60},{\"hang\":60},{\"hang\":60},"
	    "{\"hang\":60}]");
	for (i = 0; i < 5; i++) {
		snprintf(u, sizeof(u), "http://127.0.0.1:%d/hang/%d",
		    plain.port, i);
		memset(&req, 0, sizeof(req));
		req.url = u;
		ck_assert_int_eq(http_start(&req, on_done_restart,
		    &results[i]), 0);
	}
	/* One more to a listener that never accepts nor answers. */
	ck_assert_int_ne(silent_port, 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/silent", silent_port);
	start(5, "GET", u, NULL, NULL, 0, 0);
	/* Let the five reach the server, so sockets are really in use. */
	for (tries = 0; tries < 100 && seen < 5; tries++) {
		run_until(1, 100);
		reqs = recorded();
		seen = json_array_size(reqs);
		json_decref(reqs);
	}
	ck_assert_int_eq(seen, 5);
	ck_assert_int_eq(ndone, 0);
	ck_assert_int_eq(http_in_flight(), 6);

	http_shutdown();
	ck_assert_int_eq(ndone, 6);
	ck_assert_int_eq(http_in_flight(), 0);
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(results[i].done, 1);
		ck_assert_int_eq(results[i].curl_code,
		    CURLE_ABORTED_BY_CALLBACK);
		ck_assert_str_ne(results[i].error, "");
	}
	ck_assert_int_eq(results[MAX_RESULTS - 1].done, 0);
	/* Everything is closed: the loop ends and can be closed. */
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	/* http can start over on a new loop. */
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(http_init(&loop, NULL), 0);
	start(6, "GET", url(u, sizeof(u), "/after"), NULL, NULL, 0, 0);
	ck_assert_int_eq(run_until(7, WAIT_MS), 7);
	ck_assert_int_eq(results[6].status, 200);
}
END_TEST

/* Returns the port of a loopback listener that is never accepted from. */
static int
silent_listener(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 16) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		close(s);
		return 0;
	}
	return ntohs(sin.sin_port);	/* kept open until exit */
}

/* Makes the test certificates and starts the HTTPS mock. */
static void
start_tls_mock(void)
{
	char		 mk[1024], cmd[2200], certdir[600];
	char		 cert[700], key[700];
	const char	*extra[4];

	tp_src_path(mk, sizeof(mk), "MKCERTS", "tests/peers/mkcerts.sh");
	snprintf(certdir, sizeof(certdir), "%s/certs", tmpdir);
	snprintf(cmd, sizeof(cmd), "/bin/sh '%s' '%s'", mk, certdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "check_http: %s failed\n", cmd);
		return;
	}
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", certdir);
	snprintf(cert, sizeof(cert), "%s/server.pem", certdir);
	snprintf(key, sizeof(key), "%s/server.key", certdir);
	extra[0] = "--tls";
	extra[1] = cert;
	extra[2] = key;
	extra[3] = NULL;
	if (tp_mock_start(&tls, tmpdir, "tls", extra) == 0)
		have_tls = 1;
	else
		fprintf(stderr, "check_http: cannot start TLS mock\n");
}

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_interim_headers);
	tcase_add_test(tc, test_post);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_no_redirect_no_file);
	tcase_add_test(tc, test_concurrent_reuse);
	tcase_add_test(tc, test_fd_reuse);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_body_cap);
	tcase_add_test(tc, test_header_cap);
	tcase_add_test(tc, test_tls_untrusted);
	tcase_add_test(tc, test_tls_trusted);
	tcase_add_test(tc, test_shutdown_in_flight);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	rc;

	if ((rc = tp_mock_prepare("check_http")) != 0)
		return rc;
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	if (tp_mock_start(&plain, tmpdir, "plain", NULL) == -1) {
		fprintf(stderr, "check_http: cannot start httpmock.py\n");
		rc = 99;
		goto done;
	}
	start_tls_mock();
	refused_port = tp_closed_port();
	silent_port = silent_listener();
	rc = unit_run(http_suite(), 0);
done:
	tp_mock_stop(&plain);
	tp_mock_stop(&tls);
	tp_rmtree(tmpdir, "check_http");
	return rc;
}
