/* HTTP(S) requests with libcurl's multi interface driven by the libuv loop. */
#include <config.h>

#include <sys/queue.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <uv.h>

#include "http.h"
#include "redact.h"
#include "log.h"
#include "netguard.h"
#include "../common/util.h"
#include "../common/util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"0"
#endif

#define HTTP_USER_AGENT		"crier/" PACKAGE_VERSION
#define HTTP_CONNECT_TIMEOUT	10000L		/* ms */
#define HTTP_TIMEOUT		60000L		/* ms */
#define HTTP_MAX_HEADERS	256		/* headers kept per response */
#define HTTP_MAX_METHOD		16
#define HTTP_MAX_CONNECTS	32L		/* idle connections cached */

#define HTTP_TOO_BIG_BODY	1
#define HTTP_TOO_BIG_HEADERS	2

/* One request under way: the easy handle and everything it points into. */
struct http_xfer {
	TAILQ_ENTRY(http_xfer)	 entry;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*url;
	char			*method;
	http_done_fn		 done;
	void			*arg;
	char			*body;		/* received, NUL-terminated */
	size_t			 body_len;
	size_t			 body_cap;
	struct http_header	*headers;	/* of the latest response */
	size_t			 nheaders;
	int			 too_big;	/* HTTP_TOO_BIG_* */
	size_t			 max_body;
	char			*host;		/* public_only: the URL's host */
	char			 refused[300];	/* public_only: why a connect was refused */
	char			 errbuf[CURL_ERROR_SIZE];
};

/* One socket curl asked us to watch; freed only in its close callback. */
struct http_sock {
	TAILQ_ENTRY(http_sock)	 entry;
	uv_poll_t		 poll;
	curl_socket_t		 fd;
	int			 events;	/* UV_READABLE|UV_WRITABLE */
	int			 closing;
};

TAILQ_HEAD(http_xfers, http_xfer);
TAILQ_HEAD(http_socks, http_sock);

static uv_loop_t	*http_loop;
static struct curl_slist *http_resolve;	/* CRIER_RESOLVE, for tests */
static int	http_resolve_setup(void);
static CURLM		*http_multi;
static uv_timer_t	*http_timer;
static char		*http_ca_file;
static int		 http_stopping;	/* http_shutdown is running */
static int		 http_curl;	/* http_global() has set up libcurl */
static size_t		 http_nxfers;
static struct http_xfers http_xfers = TAILQ_HEAD_INITIALIZER(http_xfers);
static struct http_socks http_socks = TAILQ_HEAD_INITIALIZER(http_socks);

/* A pause on the loop that http_shutdown ends like a request (http_start_delay). */
struct http_delay {
	TAILQ_ENTRY(http_delay)	 entry;
	uv_timer_t		 timer;
	http_done_fn		 done;
	void			*arg;
};
TAILQ_HEAD(http_delays, http_delay);
static struct http_delays http_delays = TAILQ_HEAD_INITIALIZER(http_delays);

static void	http_delays_abort(void);

/* Frees the headers collected so far for X. */
static void
http_headers_clear(struct http_xfer *x)
{
	size_t	i;

	for (i = 0; i < x->nheaders; i++) {
		free(x->headers[i].name);
		free(x->headers[i].value);
	}
	free(x->headers);
	x->headers = NULL;
	x->nheaders = 0;
}

/* Frees X and everything it owns; X must not be in the multi handle. */
static void
http_xfer_free(struct http_xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	free(x->url);
	free(x->host);
	free(x->method);
	free(x->body);
	http_headers_clear(x);
	free(x);
}

/* Hands X's outcome CODE to its done callback, then frees X. */
static void
http_finish(struct http_xfer *x, CURLcode code)
{
	static char		 empty[1];
	struct http_response	 resp;
	char			 safe[1024];
	long			 status = 0;

	TAILQ_REMOVE(&http_xfers, x, entry);
	http_nxfers--;

	memset(&resp, 0, sizeof(resp));
	/* Kept on errors too: a cut-off response may still say something. */
	if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) ==
	    CURLE_OK)
		resp.status = status;
	resp.curl_code = (int)code;
	if (code != CURLE_OK) {
		resp.refused = x->refused[0] != '\0';
		if (resp.refused)
			snprintf(resp.error, sizeof(resp.error), "refused: %s",
			    x->refused);
		else if (x->too_big == HTTP_TOO_BIG_BODY ||
		    code == CURLE_FILESIZE_EXCEEDED)
			snprintf(resp.error, sizeof(resp.error),
			    "response body larger than %zu bytes",
			    x->max_body);
		else if (x->too_big == HTTP_TOO_BIG_HEADERS)
			snprintf(resp.error, sizeof(resp.error),
			    "response has more than %d headers",
			    HTTP_MAX_HEADERS);
		else if (code == CURLE_ABORTED_BY_CALLBACK && http_stopping)
			snprintf(resp.error, sizeof(resp.error),
			    "request aborted: http shutting down");
		else if (x->errbuf[0] != '\0')
			snprintf(resp.error, sizeof(resp.error), "%s",
			    x->errbuf);
		else
			snprintf(resp.error, sizeof(resp.error), "%s",
			    curl_easy_strerror(code));
	}
	if (x->body == NULL) {
		/* Always hand out a NUL-terminated body. */
		resp.body = empty;
		resp.body_len = 0;
	} else {
		resp.body = x->body;
		resp.body_len = x->body_len;
	}
	resp.headers = x->headers;
	resp.nheaders = x->nheaders;

	/* The userinfo and the query may hold credentials: never logged. */
	log_debug("http: %s %s: %ld curl %d%s%s", x->method,
	    redact_url(x->url, safe, sizeof(safe)), resp.status, resp.curl_code,
	    code != CURLE_OK ? " " : "", code != CURLE_OK ? resp.error : "");
	if (x->done != NULL)
		x->done(x->arg, &resp);
	http_xfer_free(x);
}

/* Stores received body bytes, failing the transfer past HTTP_MAX_BODY. */
static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_xfer	*x = userdata;
	size_t			 n = size * nmemb, cap;
	char			*p;

	if (n > x->max_body - x->body_len) {
		x->too_big = HTTP_TOO_BIG_BODY;
		return 0;	/* not n: CURLE_WRITE_ERROR */
	}
	if (x->body_len + n + 1 > x->body_cap) {
		cap = x->body_cap == 0 ? 4096 : x->body_cap;
		while (cap < x->body_len + n + 1)
			cap *= 2;
		if (cap > x->max_body + 1)
			cap = x->max_body + 1;
		if ((p = realloc(x->body, cap)) == NULL)
			return 0;
		x->body = p;
		x->body_cap = cap;
	}
	memcpy(x->body + x->body_len, ptr, n);
	x->body_len += n;
	x->body[x->body_len] = '\0';
	return n;
}

/* Returns a copy of the N bytes at S with surrounding blanks removed. */
static char *
http_strip(const char *s, size_t n)
{
	char	*r;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if ((r = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* Appends the folded continuation line at S (N bytes) to the last header. */
static int
http_header_fold(struct http_xfer *x, const char *s, size_t n)
{
	struct http_header	*h;
	char			*more, *v;
	size_t			 len;

	if (x->nheaders == 0)
		return 0;	/* nothing to continue; ignore */
	h = &x->headers[x->nheaders - 1];
	if ((more = http_strip(s, n)) == NULL)
		return -1;
	len = strlen(h->value) + 1 + strlen(more) + 1;
	if ((v = malloc(len)) == NULL) {
		free(more);
		return -1;
	}
	snprintf(v, len, "%s %s", h->value, more);
	free(more);
	free(h->value);
	h->value = v;
	return 0;
}

/*
 * Keeps response header lines.  curl passes every response it reads,
 * 1xx interim ones included, so a status line starts the list afresh:
 * the caller sees only the final response's headers.
 */
static size_t
http_header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct http_xfer	*x = userdata;
	struct http_header	*h;
	size_t			 n = size * nitems;
	const char		*colon;

	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		http_headers_clear(x);
		return n;
	}
	if (n == 0 || buf[0] == '\r' || buf[0] == '\n')
		return n;	/* end of this response's headers */
	if (buf[0] == ' ' || buf[0] == '\t')
		return http_header_fold(x, buf, n) == 0 ? n : 0;
	if ((colon = memchr(buf, ':', n)) == NULL || colon == buf)
		return n;	/* not a header line; curl judges validity */
	if (x->nheaders >= HTTP_MAX_HEADERS) {
		x->too_big = HTTP_TOO_BIG_HEADERS;
		return 0;
	}
	/* No overflow: nheaders is bounded by HTTP_MAX_HEADERS. */
	if ((h = realloc(x->headers, (x->nheaders + 1) * sizeof(*h))) == NULL)
		return 0;
	x->headers = h;
	h = &x->headers[x->nheaders];
	h->name = http_strip(buf, colon - buf);
	h->value = http_strip(colon + 1, n - (colon + 1 - buf));
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		return 0;
	}
	x->nheaders++;
	return n;
}

/* Frees a socket watcher once libuv is done with it. */
static void
http_sock_closed(uv_handle_t *handle)
{
	free(handle->data);
}

/* Stops watching S and closes its poll handle; S is freed later. */
static void
http_sock_close(struct http_sock *s)
{
	TAILQ_REMOVE(&http_socks, s, entry);
	s->closing = 1;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, http_sock_closed);
}

/* Reads every finished transfer from curl and reports it. */
static void
http_check_done(void)
{
	CURLMsg			*msg;
	CURL			*easy;
	CURLcode		 code;
	struct http_xfer	*x;
	char			*priv;
	int			 left;

	while (http_multi != NULL &&
	    (msg = curl_multi_info_read(http_multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* MSG is invalid once the handle is removed. */
		easy = msg->easy_handle;
		code = msg->data.result;
		priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct http_xfer *)priv;
		curl_multi_remove_handle(http_multi, easy);
		if (x != NULL)
			http_finish(x, code);
	}
}

/*
 * Tells curl about readiness of a watched socket.  On a poll error
 * (libuv reports POLLERR as UV_EBADF and stops the handle) curl gets
 * CURL_CSELECT_ERR together with the readiness it asked for: ERR alone
 * makes curl fail with "select/poll returned error" without looking at
 * the socket, so a reset kept-alive connection would not be retried on
 * a fresh one and the real error (ECONNRESET...) would be lost.
 */
static void
http_poll_cb(uv_poll_t *poll, int status, int events)
{
	struct http_sock	*s = poll->data;
	int			 flags = 0, running;

	if (status < 0) {
		flags = CURL_CSELECT_ERR;
		events = s->events;
	}
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(http_multi, s->fd, flags, &running);
	/*
	 * S may have been closed in there (its memory lives until the
	 * close callback, which runs later).  If curl still wants it,
	 * watch again what libuv stopped watching on the error.
	 */
	if (status < 0 && !s->closing && s->events != 0)
		uv_poll_start(&s->poll, s->events, http_poll_cb);
	http_check_done();
}

/* Tells curl its timeout expired. */
static void
http_timer_cb(uv_timer_t *timer)
{
	int	running;

	(void)timer;
	curl_multi_socket_action(http_multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done();
}

/* Curl's socket callback: starts, changes or ends watching FD. */
static int
http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct http_sock	*s = socketp;
	int			 events = 0;

	(void)easy;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		/*
		 * curl forgets FD now and may reuse the number for a new
		 * socket at once: that one arrives with socketp NULL and
		 * gets its own poll handle, as libuv has already dropped
		 * FD from its watchers on uv_close.
		 */
		if (s != NULL) {
			curl_multi_assign(http_multi, fd, NULL);
			http_sock_close(s);
		}
		return 0;
	}
	if (s == NULL) {
		if (http_stopping)
			return -1;
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			log_warnx("http: out of memory");
			return -1;
		}
		s->fd = fd;
		if (uv_poll_init_socket(http_loop, &s->poll, fd) != 0) {
			log_warnx("http: cannot watch socket %d", (int)fd);
			free(s);
			return -1;
		}
		s->poll.data = s;
		TAILQ_INSERT_TAIL(&http_socks, s, entry);
		curl_multi_assign(http_multi, fd, s);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	s->events = events;
	if (uv_poll_start(&s->poll, events, http_poll_cb) != 0) {
		log_warnx("http: cannot poll socket %d", (int)fd);
		return -1;
	}
	return 0;
}

/* Curl's timer callback: (re)arms or stops the single loop timer. */
static int
http_timerfunc_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	(void)userp;
	if (http_timer == NULL)
		return 0;
	if (timeout_ms < 0) {
		uv_timer_stop(http_timer);
		return 0;
	}
	/*
	 * 0 means "now": a timer of 0 runs in the loop's next turn (not from
	 * in here, which curl forbids); rounding it up to 1 ms delayed every
	 * request that was just added by a millisecond or more.
	 */
	uv_timer_start(http_timer, http_timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

/* Frees the timer once libuv is done with it. */
static void
http_timer_closed(uv_handle_t *handle)
{
	free(handle);
}

/*
 * Sets up http on LOOP; libcurl itself (and with it OpenSSL) is set up by
 * the first request (http_global).  CA_FILE, when given, becomes CURLOPT_CAINFO:
 * it replaces curl's default CA bundle file, while curl's default CA
 * directory (CURLOPT_CAPATH, /etc/ssl/certs on Debian) stays in force,
 * so on such builds the system CAs are still trusted besides CA_FILE.
 */
int
http_init(uv_loop_t *loop, const char *ca_file)
{
	if (http_loop != NULL || loop == NULL)
		return -1;
	http_loop = loop;
	http_stopping = 0;
	if (http_resolve_setup() == -1)
		goto fail;
	if (ca_file != NULL && ca_file[0] != '\0' &&
	    (http_ca_file = strdup(ca_file)) == NULL)
		goto fail;
	if ((http_timer = calloc(1, sizeof(*http_timer))) == NULL)
		goto fail;
	if (uv_timer_init(loop, http_timer) != 0) {
		free(http_timer);
		http_timer = NULL;
		goto fail;
	}
	return 0;
fail:
	log_warnx("http: cannot initialise");
	if (http_timer != NULL) {
		uv_close((uv_handle_t *)http_timer, http_timer_closed);
		http_timer = NULL;
	}
	free(http_ca_file);
	http_ca_file = NULL;
	curl_slist_free_all(http_resolve);
	http_resolve = NULL;
	http_loop = NULL;
	return -1;
}

/*
 * Sets up libcurl, and with it OpenSSL's configuration and providers
 * (about 2 MiB), the first time a transfer needs it: a configuration
 * without network channels never pays for them.  Call on the loop thread
 * before any other thread uses curl (the SMTP threads); curl 7.84 and
 * later make curl_global_init thread-safe, crier does not rely on it.
 */
int
http_global(void)
{
	curl_version_info_data	*v;
	CURLcode		 rc;

	if (http_curl)
		return 0;
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		log_warnx("http: cannot set up libcurl: %s",
		    curl_easy_strerror(rc));
		return -1;
	}
	http_curl = 1;
	v = curl_version_info(CURLVERSION_NOW);
	log_info("http: libcurl %s with %s set up for the first transfer",
	    v->version, v->ssl_version != NULL ? v->ssl_version : "no TLS");
	return 0;
}

/* Makes the multi handle on first use; -1 (logged) if curl cannot be set up. */
static int
http_multi_up(void)
{
	if (http_multi != NULL)
		return 0;
	if (http_global() == -1)
		return -1;
	if ((http_multi = curl_multi_init()) == NULL) {
		log_warnx("http: cannot set up libcurl's multi handle");
		return -1;
	}
	curl_multi_setopt(http_multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(http_multi, CURLMOPT_TIMERFUNCTION,
	    http_timerfunc_cb);
	/* Curl's default cache size follows the number of handles added. */
	curl_multi_setopt(http_multi, CURLMOPT_MAXCONNECTS, HTTP_MAX_CONNECTS);
	return 0;
}

/* Sets libcurl and its multi handle up now, ahead of a queued network delivery. */
int
http_warm(void)
{
	return (http_loop == NULL ? 0 : http_multi_up());
}

/* Builds the CURLOPT_RESOLVE list from CRIER_RESOLVE (tests pin names to loopback). */
static int
http_resolve_setup(void)
{
	const char		*p = netguard_resolve_override();
	struct curl_slist	*l;
	char			 ent[300];
	size_t			 n;

	while ((n = util_list_next(&p, ", ", ent, sizeof(ent))) > 0) {
		if (n >= sizeof(ent))
			continue;
		if ((l = curl_slist_append(http_resolve, ent)) == NULL)
			return -1;
		http_resolve = l;
	}
	return 0;
}

/* Returns whether M is a plausible method token (upper-case letters). */
static int
http_method_ok(const char *m)
{
	size_t	i;

	for (i = 0; m[i] != '\0'; i++)
		if (!isupper((unsigned char)m[i]) && m[i] != '-' &&
		    m[i] != '_')
			return 0;
	return i > 0 && i <= HTTP_MAX_METHOD;
}

/* Builds X's request header list from HEADERS, refusing line breaks. */
static int
http_build_headers(struct http_xfer *x, const char **headers, int has_body)
{
	struct curl_slist	*l;
	int			 have_expect = 0;
	size_t			 i;

	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if (strpbrk(headers[i], "\r\n") != NULL) {
			log_warnx("http: line break in request header");
			return -1;
		}
		if (strncasecmp(headers[i], "Expect:", 7) == 0)
			have_expect = 1;
		if ((l = curl_slist_append(x->hdrs, headers[i])) == NULL)
			return -1;
		x->hdrs = l;
	}
	/* curl would wait for "100 Continue" on large bodies; APIs don't. */
	if (has_body && !have_expect) {
		if ((l = curl_slist_append(x->hdrs, "Expect:")) == NULL)
			return -1;
		x->hdrs = l;
	}
	return 0;
}

/*
 * Opens the socket of a public_only request only towards an address
 * netguard allows: the check is on the address curl is about to connect
 * to, after every DNS answer, so rebinding cannot get past it.
 */
static curl_socket_t
http_opensocket_cb(void *clientp, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	struct http_xfer	*x = clientp;

	if (purpose != CURLSOCKTYPE_IPCXN ||
	    !netguard_allowed(x->host, &addr->addr, x->refused,
	    sizeof(x->refused)))
		return CURL_SOCKET_BAD;
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC,
	    addr->protocol);
}

/* Sets the options shared by every request on X's easy handle. */
static int
http_setup_easy(struct http_xfer *x, const struct http_request *req)
{
	CURL	*e = x->easy;
	long	 cto, to;
	int	 rc = 0;

	cto = req->connect_timeout_ms > 0 ? req->connect_timeout_ms :
	    HTTP_CONNECT_TIMEOUT;
	to = req->timeout_ms > 0 ? req->timeout_ms : HTTP_TIMEOUT;

	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	rc |= curl_easy_setopt(e, CURLOPT_URL, x->url);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (http_ca_file != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, http_ca_file);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cto);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, to);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	if (http_resolve != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_RESOLVE, http_resolve);
	if (req->public_only) {
		rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
		    http_opensocket_cb);
		rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
		rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	}
	return rc == 0 ? 0 : -1;
}

/* Sets X's method and request body; the body is copied by curl. */
static int
http_setup_method(struct http_xfer *x, const struct http_request *req)
{
	CURL	*e = x->easy;
	int	 rc = 0;

	if (req->body != NULL || strcmp(x->method, "POST") == 0) {
		/* The size first, so COPYPOSTFIELDS copies binary bodies. */
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(req->body != NULL ? req->body_len : 0));
		rc |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
		    req->body != NULL ? req->body : "");
		if (strcmp(x->method, "POST") != 0)
			rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
			    x->method);
	} else if (strcmp(x->method, "GET") == 0)
		rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(x->method, "HEAD") == 0)
		rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
	/*
	 * Refuse a too long body by its Content-Length before reading it;
	 * not for HEAD, whose Content-Length describes a body not sent.
	 */
	if (strcmp(x->method, "HEAD") != 0)
		rc |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)x->max_body);
	if (x->hdrs != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	return rc == 0 ? 0 : -1;
}

/* The host of URL, malloc'd, or NULL. */
static char *
http_url_host(const char *url)
{
	CURLU	*u;
	char	*h = NULL, *copy = NULL;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
		copy = strdup(h);
	curl_free(h);
	curl_url_cleanup(u);
	return copy;
}

/* Starts REQ (copied); DONE(ARG, response) is called once when it ends. */
int
http_start(const struct http_request *req, http_done_fn done, void *arg)
{
	struct http_xfer	*x;
	const char		*method;
	char			 safe[1024];
	int			 has_body;

	if (http_loop == NULL || http_stopping || req == NULL ||
	    req->url == NULL || http_multi_up() == -1)
		return -1;
	method = req->method != NULL ? req->method : "GET";
	if (!http_method_ok(method)) {
		log_warnx("http: bad method");
		return -1;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	x->done = done;
	x->arg = arg;
	x->max_body = req->max_body > 0 && req->max_body < HTTP_MAX_BODY ?
	    req->max_body : HTTP_MAX_BODY;
	if (req->public_only && (x->host = http_url_host(req->url)) == NULL) {
		log_warnx("http: no host in the URL of a calendar-caused fetch");
		goto fail;
	}
	if ((x->url = strdup(req->url)) == NULL ||
	    (x->method = strdup(method)) == NULL)
		goto fail;
	has_body = req->body != NULL || strcmp(method, "POST") == 0;
	if (http_build_headers(x, req->headers, has_body) == -1)
		goto fail;
	if ((x->easy = curl_easy_init()) == NULL)
		goto fail;
	if (http_setup_easy(x, req) == -1 || http_setup_method(x, req) == -1) {
		log_warnx("http: cannot set up request for %s",
		    redact_url(x->url, safe, sizeof(safe)));
		goto fail;
	}
	if (curl_multi_add_handle(http_multi, x->easy) != CURLM_OK)
		goto fail;
	TAILQ_INSERT_TAIL(&http_xfers, x, entry);
	http_nxfers++;
	return 0;
fail:
	http_xfer_free(x);
	return -1;
}

/* Returns the number of requests under way. */
size_t
http_in_flight(void)
{
	return http_nxfers;
}

/*
 * Aborts every request, calling each done callback with
 * CURLE_ABORTED_BY_CALLBACK, frees curl state and uv_close()s every
 * handle http owns.  The caller must then run the loop (uv_run) so the
 * close callbacks fire before uv_loop_close().  http_init may follow.
 */
void
http_shutdown(void)
{
	struct http_xfer	*x;
	struct http_sock	*s;

	if (http_loop == NULL || http_stopping)
		return;
	http_stopping = 1;
	while (http_multi != NULL && (x = TAILQ_FIRST(&http_xfers)) != NULL) {
		curl_multi_remove_handle(http_multi, x->easy);
		http_finish(x, CURLE_ABORTED_BY_CALLBACK);
	}
	http_delays_abort();
	/* Cleanup closes cached connections, maybe via http_socket_cb. */
	if (http_multi != NULL)
		curl_multi_cleanup(http_multi);
	http_multi = NULL;
	while ((s = TAILQ_FIRST(&http_socks)) != NULL)
		http_sock_close(s);
	if (http_timer != NULL) {
		uv_timer_stop(http_timer);
		uv_close((uv_handle_t *)http_timer, http_timer_closed);
		http_timer = NULL;
	}
	free(http_ca_file);
	http_ca_file = NULL;
	curl_slist_free_all(http_resolve);
	http_resolve = NULL;
	http_loop = NULL;
	http_stopping = 0;
	if (http_curl)
		curl_global_cleanup();
	http_curl = 0;
}

/* Returns the value of header NAME in RESP (case-insensitive), or NULL. */
const char *
http_header_get(const struct http_response *resp, const char *name)
{
	size_t	i;

	if (resp == NULL || name == NULL)
		return NULL;
	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

/*
 * Starts EASY, a transfer set up by the caller (any protocol it allows:
 * SMTP for newsletters), on the same multi handle; http owns EASY from
 * now on, even when this fails. http sets its private pointer, error
 * buffer, NOSIGNAL, TLS verification and ca_file; DONE gets curl's
 * result, the last response code (SMTP's too) and curl's message.
 * LABEL names the transfer in debug logs.
 */
int
http_start_easy(CURL *easy, const char *label, http_done_fn done, void *arg)
{
	struct http_xfer	*x;
	int			 rc = 0;

	if (easy == NULL)
		return -1;
	if (http_loop == NULL || http_stopping || http_multi_up() == -1 ||
	    (x = calloc(1, sizeof(*x))) == NULL) {
		curl_easy_cleanup(easy);
		return -1;
	}
	x->easy = easy;
	x->done = done;
	x->arg = arg;
	x->max_body = HTTP_MAX_BODY;
	if ((x->url = strdup(label != NULL ? label : "-")) == NULL ||
	    (x->method = strdup("EASY")) == NULL)
		goto fail;
	rc |= curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	rc |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (http_ca_file != NULL)
		rc |= curl_easy_setopt(easy, CURLOPT_CAINFO, http_ca_file);
	rc |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_write_cb);
	rc |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
	if (rc != 0 || curl_multi_add_handle(http_multi, easy) != CURLM_OK)
		goto fail;
	TAILQ_INSERT_TAIL(&http_xfers, x, entry);
	http_nxfers++;
	return 0;
fail:
	http_xfer_free(x);
	return -1;
}

/* Frees a delay once libuv is done with its timer. */
static void
http_delay_closed(uv_handle_t *handle)
{
	free(handle->data);
}

/* Ends delay D with CODE: its done callback, then its timer closes. */
static void
http_delay_end(struct http_delay *d, CURLcode code)
{
	static char		empty[1];
	struct http_response	resp;

	TAILQ_REMOVE(&http_delays, d, entry);
	uv_timer_stop(&d->timer);
	memset(&resp, 0, sizeof(resp));
	resp.curl_code = (int)code;
	if (code != CURLE_OK)
		snprintf(resp.error, sizeof(resp.error),
		    "request aborted: http shutting down");
	resp.body = empty;
	uv_close((uv_handle_t *)&d->timer, http_delay_closed);
	if (d->done != NULL)
		d->done(d->arg, &resp);
}

/* A delay's time has come. */
static void
http_delay_cb(uv_timer_t *timer)
{
	http_delay_end(timer->data, CURLE_OK);
}

/* Ends every delay as aborted (http_shutdown). */
static void
http_delays_abort(void)
{
	struct http_delay	*d;

	while ((d = TAILQ_FIRST(&http_delays)) != NULL)
		http_delay_end(d, CURLE_ABORTED_BY_CALLBACK);
}

/*
 * Calls DONE(ARG, resp) after MS milliseconds on the loop (never from
 * within this call), with curl_code 0; http_shutdown ends it early with
 * CURLE_ABORTED_BY_CALLBACK, as it does requests. For channels that
 * space their requests.
 */
int
http_start_delay(uint64_t ms, http_done_fn done, void *arg)
{
	struct http_delay	*d;

	if (http_loop == NULL || http_stopping ||
	    (d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	d->done = done;
	d->arg = arg;
	if (uv_timer_init(http_loop, &d->timer) != 0) {
		free(d);
		return -1;
	}
	d->timer.data = d;
	TAILQ_INSERT_TAIL(&http_delays, d, entry);
	uv_timer_start(&d->timer, http_delay_cb, ms, 0);
	return 0;
}

/* The absolute URL of redirect LOCATION from BASE; NULL if not http(s). */
char *
http_redirect_url(const char *base, const char *location)
{
	CURLU	*u;
	char	*s = NULL, *out = NULL, *scheme = NULL;

	if ((u = curl_url()) == NULL)
		return (NULL);
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0) &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
		if ((out = strdup(s)) == NULL)
			abort();
	}
	curl_free(s);
	curl_free(scheme);
	curl_url_cleanup(u);
	return (out);
}
