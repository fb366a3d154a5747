/* Calendars from a URL: conditional GETs, a refresh timer, a cache on disk. */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <uv.h>

#include "calendar/calendar.h"
#include "fetch.h"
#include "http.h"
#include "log.h"
#include "when.h"

#define FETCH_DEFAULT_REFRESH	(15 * 60)	/* seconds */
#define FETCH_MAX_BACKOFF	60000		/* ms: first retry at most */
#define FETCH_MAX_NAME		200
#define FETCH_MAX_VALIDATOR	1024		/* longest ETag/Last-Modified kept */
#define FETCH_ERROR_MAX		512

/*
 * The link between a request under way and its fetcher.  The request
 * cannot be cancelled alone, so fetch_free only clears F and the done
 * callback frees this when the request ends.
 */
struct fetch_req {
	struct fetch	*f;
};

struct fetch {
	uv_loop_t		*loop;
	uv_timer_t		 timer;
	char			*name;
	char			*url;
	char			*safe_url;	/* no userinfo, query or fragment */
	char			 url_id[2 * EVP_MAX_MD_SIZE + 1];	/* SHA-256 hex */
	char			*cache_dir;
	char			*ics_path;
	char			*meta_path;
	int64_t			 refresh_ms;
	int64_t			 backoff_ms;	/* 0 after a success */
	fetch_done_fn		 done;
	void			*arg;
	char			*cache;		/* last good copy, NUL-terminated */
	size_t			 cache_len;
	char			*etag;		/* validators of CACHE, may be NULL */
	char			*last_modified;
	int64_t			 fetched_at;	/* ms, 0 if unknown */
	bool			 delivered;	/* CACHE was handed out */
	bool			 started;	/* refresh periodically */
	bool			 again;		/* fetch_now during a request */
	bool			 freeing;
	struct fetch_req	*req;		/* request under way, or NULL */
	char			*auth;		/* "Authorization: Basic ...", or NULL */
	/* A new body not yet known to parse: the cache keeps the last good one. */
	char			*pending;
	size_t			 pending_len;
	char			*pending_etag;
	char			*pending_lm;
};

static void	fetch_tick(uv_timer_t *);

/* Returns a malloc'd "A" "B" "C" concatenation, or NULL. */
static char *
fetch_concat(const char *a, const char *b, const char *c)
{
	size_t	 len;
	char	*s;

	len = strlen(a) + strlen(b) + strlen(c) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	snprintf(s, len, "%s%s%s", a, b, c);
	return s;
}

/* Returns a malloc'd "DIR/NAMEEXT", or NULL. */
static char *
fetch_path(const char *dir, const char *name, const char *ext)
{
	size_t	 len;
	char	*s;

	len = strlen(dir) + 1 + strlen(name) + strlen(ext) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	snprintf(s, len, "%s/%s%s", dir, name, ext);
	return s;
}

/* Returns a malloc'd copy of URL without userinfo, query or fragment. */
static char *
fetch_safe_url(const char *url)
{
	const char	*auth, *host, *at, *path;
	size_t		 alen, plen, len;
	char		*s;

	if ((auth = strstr(url, "://")) == NULL)
		auth = url;
	else
		auth += 3;
	alen = strcspn(auth, "/?#");
	host = auth;
	while ((at = memchr(host, '@', alen - (host - auth))) != NULL)
		host = at + 1;
	path = auth + alen;
	plen = strcspn(path, "?#");
	len = (auth - url) + (alen - (host - auth)) + plen + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	snprintf(s, len, "%.*s%.*s%.*s", (int)(auth - url), url,
	    (int)(alen - (host - auth)), host, (int)plen, path);
	return s;
}

/* Puts the hex SHA-256 of S in BUF (2 * EVP_MAX_MD_SIZE + 1 bytes). */
static int
fetch_hash(const char *s, char *buf)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen, i;

	if (EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	for (i = 0; i < mdlen; i++)
		snprintf(buf + 2 * i, 3, "%02x", md[i]);
	buf[2 * mdlen] = '\0';
	return 0;
}

/* Returns whether DATA (LEN bytes) opens like an iCalendar stream. */
static bool
fetch_is_calendar(const char *data, size_t len)
{
	static const char	begin[] = "BEGIN:VCALENDAR";
	size_t			i = 0;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' ||
	    data[i] == '\r' || data[i] == '\n'))
		i++;
	if (len - i < sizeof(begin) - 1)
		return false;
	/* Property names are case-insensitive (RFC 5545, 2.1). */
	return strncasecmp(data + i, begin, sizeof(begin) - 1) == 0;
}

/* Returns whether V is a header value worth sending back. */
static bool
fetch_validator_ok(const char *v)
{
	size_t	i;

	if (v == NULL || v[0] == '\0' || strlen(v) > FETCH_MAX_VALIDATOR)
		return false;
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	return true;
}

/* Replaces *DST by a copy of V (NULL if V is not a usable validator). */
static void
fetch_set_validator(char **dst, const char *v)
{
	free(*dst);
	*dst = fetch_validator_ok(v) ? strdup(v) : NULL;
}

/*
 * Reads PATH whole (at most MAX bytes) into a malloc'd NUL-terminated
 * buffer; *LEN gets the length.  NULL with errno set on failure.
 */
static char *
fetch_read_file(const char *path, size_t max, size_t *len)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 have = 0;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (have < (size_t)st.st_size) {
		n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;	/* shrunk meanwhile: keep what is there */
		have += n;
	}
	buf[have] = '\0';
	close(fd);
	*len = have;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

/* Writes all LEN bytes of DATA to FD; -1 on error. */
static int
fetch_write_all(int fd, const char *data, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/*
 * Replaces PATH (in DIR) by DATA atomically: a temporary file in DIR,
 * fsync'd, renamed over PATH, then DIR fsync'd so the rename lasts.
 */
static int
fetch_write_atomic(const struct fetch *f, const char *path, const char *data,
    size_t len)
{
	char	*tmp;
	size_t	 len_tmp;
	int	 fd = -1, dfd;

	/* Names never start with '.': a temporary file cannot collide. */
	len_tmp = strlen(f->cache_dir) + strlen(f->name) + sizeof("/..XXXXXX");
	if ((tmp = malloc(len_tmp)) == NULL)
		return -1;
	snprintf(tmp, len_tmp, "%s/.%s.XXXXXX", f->cache_dir, f->name);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		log_warn("fetch %s: %s", f->name, tmp);
		free(tmp);
		return -1;
	}
	if (fetch_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		log_warn("fetch %s: write %s", f->name, tmp);
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_warn("fetch %s: close %s", f->name, tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		log_warn("fetch %s: rename to %s", f->name, path);
		goto fail;
	}
	free(tmp);
	if ((dfd = open(f->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		if (fsync(dfd) == -1)
			log_warn("fetch %s: fsync %s", f->name, f->cache_dir);
		close(dfd);
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/* Makes the cache directory if it is missing. */
static int
fetch_mkdir(const struct fetch *f)
{
	if (mkdir(f->cache_dir, 0700) == -1 && errno != EEXIST) {
		log_warn("fetch %s: mkdir %s", f->name, f->cache_dir);
		return -1;
	}
	return 0;
}

/* Writes F's metadata (validators, URL hash, time) to its .meta file. */
static int
fetch_save_meta(const struct fetch *f)
{
	char	 when[40];
	json_t	*j;
	char	*s = NULL;
	int	 rc = -1;

	if ((j = json_object()) == NULL)
		return -1;
	if (json_object_set_new(j, "url_sha256", json_string(f->url_id)) ||
	    (f->etag != NULL &&
	    json_object_set_new(j, "etag", json_string(f->etag))) ||
	    (f->last_modified != NULL && json_object_set_new(j,
	    "last_modified", json_string(f->last_modified))) ||
	    json_object_set_new(j, "fetched_at",
	    json_string(when_format(f->fetched_at, when, sizeof(when)))))
		goto fail;
	if ((s = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL)
		goto fail;
	rc = fetch_write_atomic(f, f->meta_path, s, strlen(s));
fail:
	free(s);
	json_decref(j);
	return rc;
}

/* Reads the cached copy and its metadata, if any, into F. */
static void
fetch_load_cache(struct fetch *f)
{
	json_error_t	 err;
	json_t		*j;
	const char	*id, *at;
	char		*data;
	size_t		 len;

	if ((data = fetch_read_file(f->ics_path, CAL_MAX_SIZE, &len)) == NULL) {
		if (errno != ENOENT)
			log_warn("fetch %s: cached copy %s", f->name,
			    f->ics_path);
		return;
	}
	if (!fetch_is_calendar(data, len)) {
		log_warnx("fetch %s: cached copy %s is not a calendar; ignored",
		    f->name, f->ics_path);
		free(data);
		return;
	}
	f->cache = data;
	f->cache_len = len;
	if ((j = json_load_file(f->meta_path, 0, &err)) == NULL) {
		log_debug("fetch %s: no metadata in %s: %s", f->name,
		    f->meta_path, err.text);
		return;
	}
	id = json_string_value(json_object_get(j, "url_sha256"));
	at = json_string_value(json_object_get(j, "fetched_at"));
	if (at != NULL && when_parse(at, NULL, &f->fetched_at) == -1)
		f->fetched_at = 0;
	/* Validators of another URL would make its server answer 304. */
	if (id != NULL && strcmp(id, f->url_id) == 0) {
		fetch_set_validator(&f->etag,
		    json_string_value(json_object_get(j, "etag")));
		fetch_set_validator(&f->last_modified,
		    json_string_value(json_object_get(j, "last_modified")));
	} else
		log_info("fetch %s: calendar URL changed; refetching in full",
		    f->name);
	/* AT points into J. */
	log_debug("fetch %s: cached copy of %zu bytes from %s", f->name,
	    f->cache_len, at != NULL ? at : "an unknown time");
	json_decref(j);
}

/* Arms the timer for the next fetch after one ended. */
static void
fetch_schedule(struct fetch *f, int64_t delay_ms)
{
	if (f->again) {
		f->again = false;
		delay_ms = 0;
	} else if (!f->started)
		return;
	uv_timer_stop(&f->timer);
	uv_timer_start(&f->timer, fetch_tick, (uint64_t)delay_ms, 0);
}

/* Hands the last good copy to the callback after a success. */
static void
fetch_ok(struct fetch *f, bool changed)
{
	f->backoff_ms = 0;
	fetch_schedule(f, f->refresh_ms);
	if (!f->delivered)
		changed = true;
	f->delivered = true;
	/* Nothing after this: the callback may free F. */
	f->done(f->arg, f->cache, f->cache_len, changed, NULL);
}

/*
 * Reports a failed fetch (REASON is printf-like), schedules a sooner
 * retry and hands over the cached copy, if any, with the message.
 */
static void __attribute__((format(printf, 2, 3)))
fetch_fail(struct fetch *f, const char *reason, ...)
{
	char	msg[FETCH_ERROR_MAX], why[FETCH_ERROR_MAX];
	va_list	ap;
	bool	changed = false;

	va_start(ap, reason);
	vsnprintf(why, sizeof(why), reason, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "calendar %s: GET %s: %s", f->name,
	    f->safe_url, why);
	if (f->backoff_ms == 0)
		f->backoff_ms = f->refresh_ms < FETCH_MAX_BACKOFF ?
		    f->refresh_ms : FETCH_MAX_BACKOFF;
	else if (f->backoff_ms < f->refresh_ms / 2)
		f->backoff_ms *= 2;
	else
		f->backoff_ms = f->refresh_ms;
	if (f->started || f->again)
		log_warnx("%s; %s, retry in %lld s", msg, f->cache != NULL ?
		    "keeping the cached copy" : "no cached copy",
		    f->again ? 0LL : (long long)(f->backoff_ms / 1000));
	else
		log_warnx("%s; %s", msg, f->cache != NULL ?
		    "keeping the cached copy" : "no cached copy");
	fetch_schedule(f, f->backoff_ms);
	if (f->cache != NULL) {
		changed = !f->delivered;
		f->delivered = true;
	}
	/* Nothing after this: the callback may free F. */
	f->done(f->arg, f->cache, f->cache_len, changed, msg);
}

/* Forgets a fetched body that was not (or not yet) found to parse. */
static void
fetch_drop_pending(struct fetch *f)
{
	free(f->pending);
	free(f->pending_etag);
	free(f->pending_lm);
	f->pending = f->pending_etag = f->pending_lm = NULL;
	f->pending_len = 0;
}

/* Makes DATA, fetched and now parsed, the last good copy (in memory and on disk). */
void
fetch_keep(struct fetch *f, const char *data, size_t len)
{
	if (f == NULL || f->pending == NULL || f->pending_len != len ||
	    memcmp(f->pending, data, len) != 0)
		return;
	free(f->cache);
	f->cache = f->pending;
	f->cache_len = f->pending_len;
	free(f->etag);
	free(f->last_modified);
	f->etag = f->pending_etag;
	f->last_modified = f->pending_lm;
	f->pending = f->pending_etag = f->pending_lm = NULL;
	f->pending_len = 0;
	/*
	 * The body before its metadata: a crash in between leaves old
	 * validators next to a new body (a full refetch next time), never
	 * new validators next to an old body (a 304 keeping it for good).
	 */
	if (fetch_mkdir(f) == 0 &&
	    fetch_write_atomic(f, f->ics_path, f->cache, f->cache_len) == 0)
		fetch_save_meta(f);
}

/* Sets the HTTP Basic credentials sent with every request of F. */
int
fetch_set_auth(struct fetch *f, const char *user, const char *password)
{
	unsigned char	*plain = NULL;
	char		*b64 = NULL;
	size_t		 ulen = strlen(user), plen = strlen(password), n;
	int		 rc = -1;

	n = ulen + 1 + plen;
	if ((plain = malloc(n + 1)) == NULL ||
	    (b64 = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		goto done;
	memcpy(plain, user, ulen);
	plain[ulen] = ':';
	memcpy(plain + ulen + 1, password, plen);
	EVP_EncodeBlock((unsigned char *)b64, plain, (int)n);
	if (f->auth != NULL) {
		OPENSSL_cleanse(f->auth, strlen(f->auth));
		free(f->auth);
	}
	f->auth = fetch_concat("Authorization: Basic ", b64, "");
	rc = f->auth != NULL ? 0 : -1;
done:
	if (plain != NULL)
		OPENSSL_cleanse(plain, n);
	if (b64 != NULL)
		OPENSSL_cleanse(b64, strlen(b64));
	free(plain);
	free(b64);
	return rc;
}

/* Takes a 200 response: checks it, and caches it if it is new. */
static void
fetch_got_body(struct fetch *f, const struct http_response *resp)
{
	char	*copy;
	bool	 changed;

	if (resp->body_len > CAL_MAX_SIZE) {
		fetch_fail(f, "HTTP 200 but larger than %d bytes",
		    CAL_MAX_SIZE);
		return;
	}
	if (!fetch_is_calendar(resp->body, resp->body_len)) {
		fetch_fail(f, "HTTP 200 but not a calendar (no "
		    "BEGIN:VCALENDAR; %zu bytes)", resp->body_len);
		return;
	}
	changed = f->cache == NULL || f->cache_len != resp->body_len ||
	    memcmp(f->cache, resp->body, resp->body_len) != 0;
	if (changed) {
		/*
		 * Only once it parses (fetch_keep) does it replace the last
		 * good copy, on disk too, with its validators.
		 */
		if ((copy = malloc(resp->body_len + 1)) == NULL) {
			fetch_fail(f, "out of memory");
			return;
		}
		memcpy(copy, resp->body, resp->body_len);
		copy[resp->body_len] = '\0';
		fetch_drop_pending(f);
		f->pending = copy;
		f->pending_len = resp->body_len;
		fetch_set_validator(&f->pending_etag,
		    http_header_get(resp, "ETag"));
		fetch_set_validator(&f->pending_lm,
		    http_header_get(resp, "Last-Modified"));
		f->fetched_at = when_now();
		log_debug("fetch %s: %zu bytes, changed", f->name, copy ?
		    f->pending_len : 0);
		f->backoff_ms = 0;
		fetch_schedule(f, f->refresh_ms);
		f->delivered = true;
		/* Nothing after this: the callback may free F. */
		f->done(f->arg, f->pending, f->pending_len, true, NULL);
		return;
	}
	fetch_set_validator(&f->etag, http_header_get(resp, "ETag"));
	fetch_set_validator(&f->last_modified,
	    http_header_get(resp, "Last-Modified"));
	f->fetched_at = when_now();
	/*
	 * The body before its metadata: a crash in between leaves old
	 * validators next to a new body (a full refetch next time), never
	 * new validators next to an old body (a 304 keeping it for good).
	 */
	if (fetch_mkdir(f) == 0)
		fetch_save_meta(f);
	log_debug("fetch %s: %zu bytes, unchanged", f->name, f->cache_len);
	fetch_ok(f, false);
}

/* Takes a 304 response: the cached copy is still current. */
static void
fetch_not_modified(struct fetch *f, const struct http_response *resp)
{
	const char	*v;

	if (f->cache == NULL) {
		/* Stale validators without a body: start afresh. */
		fetch_set_validator(&f->etag, NULL);
		fetch_set_validator(&f->last_modified, NULL);
		fetch_fail(f, "HTTP 304 but no cached copy");
		return;
	}
	/* A 304 may carry updated validators (RFC 9110, 15.4.5). */
	if ((v = http_header_get(resp, "ETag")) != NULL)
		fetch_set_validator(&f->etag, v);
	if ((v = http_header_get(resp, "Last-Modified")) != NULL)
		fetch_set_validator(&f->last_modified, v);
	f->fetched_at = when_now();
	if (fetch_mkdir(f) == 0)
		fetch_save_meta(f);
	log_debug("fetch %s: not modified", f->name);
	fetch_ok(f, false);
}

/* Http's done callback: dispatches on the outcome of the request. */
static void
fetch_http_done(void *arg, const struct http_response *resp)
{
	struct fetch_req	*r = arg;
	struct fetch		*f = r->f;

	free(r);
	if (f == NULL)
		return;		/* fetch_free'd meanwhile */
	f->req = NULL;
	if (resp->curl_code != 0)
		fetch_fail(f, "%s", resp->error);
	else if (resp->status == 200)
		fetch_got_body(f, resp);
	else if (resp->status == 304)
		fetch_not_modified(f, resp);
	else
		fetch_fail(f, "HTTP %ld", resp->status);
}

/* Timer callback: starts a conditional GET of F's URL. */
static void
fetch_tick(uv_timer_t *timer)
{
	struct fetch		*f = timer->data;
	struct http_request	 req;
	const char		*headers[5];
	char			*inm = NULL, *ims = NULL;
	int			 n = 0;

	if (f->req != NULL || f->freeing)
		return;
	headers[n++] = "Accept: text/calendar, */*;q=0.5";
	if (f->auth != NULL)
		headers[n++] = f->auth;
	/* Validators without the body they describe are useless. */
	if (f->cache != NULL && f->etag != NULL) {
		if ((inm = fetch_concat("If-None-Match: ", f->etag, "")) ==
		    NULL)
			goto fail;
		headers[n++] = inm;
	}
	if (f->cache != NULL && f->last_modified != NULL) {
		if ((ims = fetch_concat("If-Modified-Since: ",
		    f->last_modified, "")) == NULL)
			goto fail;
		headers[n++] = ims;
	}
	headers[n] = NULL;
	if ((f->req = calloc(1, sizeof(*f->req))) == NULL)
		goto fail;
	f->req->f = f;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = f->url;
	req.headers = headers;
	if (http_start(&req, fetch_http_done, f->req) == -1) {
		free(f->req);
		f->req = NULL;
		goto fail;
	}
	log_debug("fetch %s: GET %s%s%s", f->name, f->safe_url,
	    inm != NULL ? " If-None-Match" : "",
	    ims != NULL ? " If-Modified-Since" : "");
	free(inm);
	free(ims);
	return;
fail:
	free(inm);
	free(ims);
	fetch_fail(f, "cannot start the request");
}

/* Frees F once its timer has closed. */
static void
fetch_closed(uv_handle_t *handle)
{
	struct fetch	*f = handle->data;

	free(f->name);
	free(f->url);
	free(f->safe_url);
	free(f->cache_dir);
	free(f->ics_path);
	free(f->meta_path);
	free(f->cache);
	free(f->etag);
	free(f->last_modified);
	fetch_drop_pending(f);
	if (f->auth != NULL) {
		OPENSSL_cleanse(f->auth, strlen(f->auth));
		free(f->auth);
	}
	free(f);
}

/* Returns whether NAME can name files in the cache directory. */
static bool
fetch_name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	    strchr(name, '/') == NULL && strlen(name) <= FETCH_MAX_NAME;
}

/* Makes a fetcher for calendar NAME at URL, cached in CACHE_DIR. */
struct fetch *
fetch_new(uv_loop_t *loop, const char *name, const char *url,
    const char *cache_dir, int64_t refresh_secs, fetch_done_fn done, void *arg)
{
	struct fetch	*f;

	if (loop == NULL || url == NULL || url[0] == '\0' ||
	    cache_dir == NULL || cache_dir[0] == '\0' || done == NULL)
		return NULL;
	if (!fetch_name_ok(name)) {
		log_warnx("fetch: bad calendar name for a cache file");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->loop = loop;
	f->done = done;
	f->arg = arg;
	if (refresh_secs <= 0)
		refresh_secs = FETCH_DEFAULT_REFRESH;
	if (refresh_secs > INT64_MAX / 1000)
		refresh_secs = INT64_MAX / 1000;
	f->refresh_ms = refresh_secs * 1000;
	if ((f->name = strdup(name)) == NULL ||
	    (f->url = strdup(url)) == NULL ||
	    (f->safe_url = fetch_safe_url(url)) == NULL ||
	    (f->cache_dir = strdup(cache_dir)) == NULL ||
	    (f->ics_path = fetch_path(cache_dir, name, ".ics")) == NULL ||
	    (f->meta_path = fetch_path(cache_dir, name, ".meta")) == NULL)
		goto fail;
	if (fetch_hash(url, f->url_id) == -1)
		goto fail;
	if (uv_timer_init(loop, &f->timer) != 0)
		goto fail;
	f->timer.data = f;
	fetch_load_cache(f);
	return f;
fail:
	/* The timer is initialised last: nothing to close here. */
	f->timer.data = f;
	fetch_closed((uv_handle_t *)&f->timer);
	return NULL;
}

/* Returns the last good copy (and its length in *LEN), or NULL. */
const char *
fetch_cached(struct fetch *f, size_t *len)
{
	if (f == NULL || f->cache == NULL) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	f->delivered = true;
	if (len != NULL)
		*len = f->cache_len;
	return f->cache;
}

/* Fetches now, then every refresh interval. */
void
fetch_start(struct fetch *f)
{
	if (f == NULL || f->freeing)
		return;
	f->started = true;
	fetch_now(f);
}

/* Fetches now, or right after the request under way. */
void
fetch_now(struct fetch *f)
{
	if (f == NULL || f->freeing)
		return;
	if (f->req != NULL) {
		f->again = true;
		return;
	}
	/* From the loop: DONE must not run inside the caller's call. */
	uv_timer_stop(&f->timer);
	uv_timer_start(&f->timer, fetch_tick, 0, 0);
}

/* Stops F, detaches its request and frees it once its timer is closed. */
void
fetch_free(struct fetch *f)
{
	if (f == NULL || f->freeing)
		return;
	f->freeing = true;
	if (f->req != NULL) {
		f->req->f = NULL;
		f->req = NULL;
	}
	uv_timer_stop(&f->timer);
	uv_close((uv_handle_t *)&f->timer, fetch_closed);
}
