/* HTTP(S) requests with libcurl's multi interface on the libuv loop. */
#ifndef CRIER_HTTP_H
#define CRIER_HTTP_H

#include <stddef.h>
#include <stdbool.h>
#include <uv.h>
#include <curl/curl.h>

#define HTTP_MAX_BODY	(8 * 1024 * 1024)	/* largest response body kept */

struct http_header {
	char	*name;
	char	*value;
};

struct http_request {
	const char	*method;	/* "GET", "POST", "PUT", ... */
	const char	*url;
	const char	**headers;	/* "Name: value" strings, NULL-terminated; may be NULL */
	const char	*body;		/* may be NULL */
	size_t		 body_len;
	long		 connect_timeout_ms;	/* 0: 10 s */
	long		 timeout_ms;		/* 0: 60 s */
	/*
	 * A fetch a calendar caused (link card, media URL): connects only to
	 * addresses netguard allows, judged on the address connected to, and
	 * never through a proxy.
	 */
	bool		 public_only;
	size_t		 max_body;		/* 0: HTTP_MAX_BODY */
};

struct http_response {
	int			 curl_code;	/* CURLcode; 0 = transfer completed */
	char			 error[256];	/* curl's message when curl_code != 0 */
	long			 status;	/* HTTP status, 0 if none */
	bool			 refused;	/* public_only: netguard refused the address */
	char			*body;		/* NUL-terminated, may contain NULs */
	size_t			 body_len;
	struct http_header	*headers;	/* last response's headers */
	size_t			 nheaders;
};

/* Called once per request on the loop thread; RESP is freed after it returns. */
typedef void (*http_done_fn)(void *arg, const struct http_response *resp);

/*
 * Sets up http on LOOP (libcurl waits for the first transfer); CA_FILE
 * (may be NULL) is an extra CA bundle, set as CURLOPT_CAINFO (curl's
 * default CA directory stays in use).
 */
int		 http_init(uv_loop_t *loop, const char *ca_file);
/*
 * Sets up libcurl (curl_global_init, and so OpenSSL) once, logging it;
 * on the loop thread before any thread uses curl.  -1 (logged) on failure.
 */
int		 http_global(void);
/*
 * Sets libcurl and its multi handle up now, as a network delivery is
 * queued: the start-up (OpenSSL's, some ms) is then not paid at a due
 * instant. 0, or -1 (logged) if it cannot.
 */
int		 http_warm(void);
/* Starts REQ (copied); DONE is called when it ends. Returns 0, -1 on setup error. */
int		 http_start(const struct http_request *req, http_done_fn done, void *arg);
/* Number of requests under way. */
size_t		 http_in_flight(void);
/*
 * Aborts every request (their DONE gets curl_code CURLE_ABORTED_BY_CALLBACK),
 * frees all and uv_close()s http's handles: run the loop afterwards so they
 * close before uv_loop_close().  http_init may then be called again.
 */
void		 http_shutdown(void);
/* Case-insensitive header lookup in RESP; NULL if absent. */
const char	*http_header_get(const struct http_response *resp, const char *name);
/*
 * Starts EASY, a curl transfer the caller set up (e.g. SMTP), on the same
 * multi; http owns EASY from then on (also on failure) and sets its private
 * pointer, error buffer, NOSIGNAL, TLS verification and ca_file. DONE gets
 * curl's result, the last response code in status and curl's message.
 */
int		 http_start_easy(CURL *easy, const char *label, http_done_fn done,
		    void *arg);
/*
 * Calls DONE(ARG, resp) with curl_code 0 after MS ms on the loop, never
 * from within the call; http_shutdown ends it early with
 * CURLE_ABORTED_BY_CALLBACK, like a request.
 */
int		 http_start_delay(uint64_t ms, http_done_fn done, void *arg);

/* The absolute URL of redirect LOCATION from BASE (malloc'd); NULL if not http(s). */
char	*http_redirect_url(const char *base, const char *location);

#endif
