/*
 * The mastodon channel: POST /api/v1/statuses with an Idempotency-Key (the
 * delivery id; "ID/N" for part N of a thread, each part in_reply_to_id the
 * one before), after uploading each image with its alt text to
 * /api/v2/media and waiting until the server has processed it. The
 * instance's character limit is read from /api/v2/instance when the
 * channel opens and cached in state_dir/channels/NAME.json.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <uv.h>

#include "../calendar/calendar.h"
#include "../channel.h"
#include "../http.h"
#include "../log.h"
#include "mastodon_engage.h"
#include "../media.h"
#include "../thread.h"
#include "../../common/util.h"

#define MASTO_TIMEOUT		60		/* s, default for each request */
#define MASTO_FILE_MAX		(16 * 1024 * 1024)	/* largest local media file */
#define MASTO_MEDIA_NMAX	4		/* attachments per status */
#define MASTO_POLL_MS		500		/* between media processing polls */
#define MASTO_POLL_MAX		240		/* polls before giving up (transient) */
#define MASTO_LIMIT_MAX		1000000		/* a sane max_characters */

struct masto {
	char	*instance;	/* base URL, no trailing slash */
	char	*token;
	size_t	 token_len;
	char	*visibility;
	char	*language;	/* may be NULL */
	long	 timeout_ms;
};

/* Fetches the instance's limits once, after the loop has started. */
struct ifetch {
	uv_timer_t	 timer;
	char		*name;
	char		*instance;
	char		*cache;		/* NULL: not cached */
	int		 pending;	/* timer close and request outstanding */
};

struct mmedia {
	char	*uri;
	char	*fmttype;
	char	*alt;
	char	*name;		/* file name sent with the upload */
	char	*data;		/* NULL: not read or fetched yet */
	size_t	 len;
	char	*id;		/* the server's id, once uploaded */
};

enum mstep { MS_FETCH, MS_UPLOAD, MS_POLL, MS_STATUS };

/* One delivery under way. */
struct mjob {
	chan_done_fn	 done;
	void		*arg;
	char		 id[32];	/* the delivery's */
	char		 idem[40];	/* its Idempotency-Key */
	const struct post *post;	/* valid until done */
	size_t		 part;		/* a thread's part being posted */
	char		*instance;
	char		*token;
	size_t		 token_len;
	char		*visibility;
	char		*language;
	long		 timeout_ms;
	char		*text;
	struct mmedia	*media;
	size_t		 nmedia;
	size_t		 cur;		/* the attachment being worked on */
	enum mstep	 step;
	int		 polls;
	uv_timer_t	 timer;
	bool		 timer_inited;
};

extern const struct channel_ops mastodon_ops;	/* below */

static const struct chan_key mastodon_keys[] = {
	{ "instance", CK_URL, true, NULL },
	{ "token_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "visibility", CK_ENUM, false, "public|unlisted|private|direct" },
	{ "language", CK_STRING, false, NULL },
	{ "alt_text", CK_ENUM, false, "required|warn" },
	{ "timeout", CK_DURATION, false, NULL },
	{ "split", CK_ENUM, false, "thread|none" },
	{ NULL, 0, false, NULL },
};

static const struct media_rules masto_rules = {
	.max_items = MASTO_MEDIA_NMAX,
	.items = "attachments",
	.max_bytes = MASTO_FILE_MAX,
	.too_big = "larger than 16 MiB",
	.what = "media",
};

static void	job_next(struct mjob *);

/* The instance URL of CC without trailing slashes (malloc'd). */
static char *
instance_base(const struct cfg_channel *cc)
{
	char	*s = xstrdup(conf_chan_get(cc, "instance", NULL));
	size_t	 n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return (s);
}

/* The cache file of channel NAME under C's state_dir (malloc'd), or NULL. */
static char *
cache_path(const struct config *c, const char *name)
{
	char	*p;

	if (c->state_dir == NULL || strchr(name, '/') != NULL || name[0] == '.')
		return (NULL);
	if (asprintf(&p, "%s/channels/%s.json", c->state_dir, name) == -1)
		abort();
	return (p);
}

/* Checks token_file/credential and language. */
static int
mastodon_check(const struct cfg_channel *cc, const struct config *c,
    char *err, size_t errlen)
{
	const char	*tf = conf_chan_get(cc, "token_file", NULL);
	const char	*cr = conf_chan_get(cc, "credential", NULL);
	const char	*lang = conf_chan_get(cc, "language", NULL);

	(void)c;
	if (tf == NULL && cr == NULL) {
		snprintf(err, errlen, "missing key 'token_file' (or "
		    "'credential')");
		return (-1);
	}
	if (tf != NULL && cr != NULL) {
		snprintf(err, errlen, "token_file and credential: set only one");
		return (-1);
	}
	if (lang != NULL && (strlen(lang) != 2 ||
	    !islower((unsigned char)lang[0]) ||
	    !islower((unsigned char)lang[1]))) {
		snprintf(err, errlen, "language: '%s' is not an ISO 639-1 code "
		    "(such as en, fr)", lang);
		return (-1);
	}
	return (0);
}

/* The limit cached for CC's instance, 0 if none. */
static size_t
mastodon_cached_limit(const struct cfg_channel *cc, const struct config *c)
{
	char		*path = cache_path(c, cc->name), *base;
	json_t		*j, *v;
	const char	*inst;
	size_t		 lim = 0;

	if (path == NULL)
		return (0);
	j = json_load_file(path, 0, NULL);
	free(path);
	if (j == NULL)
		return (0);
	base = instance_base(cc);
	inst = json_string_value(json_object_get(j, "instance"));
	v = json_object_get(j, "max_characters");
	if (inst != NULL && strcmp(inst, base) == 0 && json_is_integer(v) &&
	    json_integer_value(v) > 0 && json_integer_value(v) <= MASTO_LIMIT_MAX)
		lim = (size_t)json_integer_value(v);
	free(base);
	json_decref(j);
	return (lim);
}

/* Writes J to a new file TMP: never through a link, never into a file someone else made. */
static int
dump_new(json_t *j, const char *tmp)
{
	int	fd, rc;

	if (unlink(tmp) == -1 && errno != ENOENT)
		return (-1);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0640)) == -1)
		return (-1);
	rc = json_dumpfd(j, fd, JSON_COMPACT);
	if (rc == 0)
		rc = fsync(fd);
	if (close(fd) == -1)
		rc = -1;
	return (rc);
}

/* Writes the instance's limits to PATH atomically (temp file, rename). */
static void
cache_write(const char *path, const char *instance, json_int_t max,
    json_int_t url)
{
	json_t	*j;
	char	*dir, *tmp, *slash;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		log_warnx("%s: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	free(dir);
	if (asprintf(&tmp, "%s.tmp", path) == -1)
		abort();
	j = json_pack("{s:s, s:I, s:I}", "instance", instance,
	    "max_characters", max, "characters_reserved_per_url", url);
	if (j == NULL || dump_new(j, tmp) == -1 || rename(tmp, path) == -1) {
		log_warnx("%s: cannot write the instance cache", path);
		unlink(tmp);
	}
	json_decref(j);
	free(tmp);
}

/* Frees F once its timer is closed and its request has ended. */
static void
ifetch_unref(struct ifetch *f)
{
	if (--f->pending > 0)
		return;
	free(f->name);
	free(f->instance);
	free(f->cache);
	free(f);
}

/* The timer's close callback. */
static void
ifetch_closed(uv_handle_t *h)
{
	ifetch_unref(h->data);
}

/* The answer of GET /api/v2/instance: the limit for the channel, cached. */
static void
ifetch_done(void *arg, const struct http_response *resp)
{
	struct ifetch	*f = arg;
	struct channel	*ch;
	struct masto	*m;
	json_t		*j = NULL, *st;
	json_int_t	 max = 0, url = 23;

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK)
		goto out;
	if (resp->curl_code != CURLE_OK || resp->status != 200 ||
	    (j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL) {
		log_warnx("channel %s: cannot read %s/api/v2/instance (%s): "
		    "keeping the cached or default limit", f->name, f->instance,
		    resp->curl_code != CURLE_OK ? resp->error :
		    resp->status != 200 ? "unexpected status" : "not JSON");
		goto out;
	}
	st = json_object_get(json_object_get(j, "configuration"), "statuses");
	if (json_is_integer(json_object_get(st, "max_characters")))
		max = json_integer_value(json_object_get(st, "max_characters"));
	if (json_is_integer(json_object_get(st, "characters_reserved_per_url")))
		url = json_integer_value(json_object_get(st,
		    "characters_reserved_per_url"));
	if (max <= 0 || max > MASTO_LIMIT_MAX) {
		log_warnx("channel %s: %s/api/v2/instance has no usable "
		    "max_characters", f->name, f->instance);
		goto out;
	}
	if (url != 23)
		log_warnx("channel %s: the instance reserves %lld characters "
		    "per URL; crier counts 23", f->name, (long long)url);
	if (f->cache != NULL)
		cache_write(f->cache, f->instance, max, url);
	/* The channel may have been replaced by a reload meanwhile. */
	ch = chan_find(f->name);
	if (ch != NULL && ch->ops == &mastodon_ops && ch->cfg->limit == 0 &&
	    (m = ch->priv) != NULL && strcmp(m->instance, f->instance) == 0 &&
	    ch->limit != (size_t)max) {
		log_info("channel %s: the instance allows %lld characters",
		    f->name, (long long)max);
		ch->limit = (size_t)max;
	}
out:
	json_decref(j);
	ifetch_unref(f);
}

/* Timer callback: starts the instance request (http is set up by now). */
static void
ifetch_go(uv_timer_t *t)
{
	struct ifetch		*f = t->data;
	struct http_request	 req;
	char			*url;

	if (asprintf(&url, "%s/api/v2/instance", f->instance) == -1)
		abort();
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.timeout_ms = 30 * 1000;
	if (http_start(&req, ifetch_done, f) == 0)
		f->pending++;
	else
		log_warnx("channel %s: cannot start the instance request",
		    f->name);
	free(url);
	uv_close((uv_handle_t *)t, ifetch_closed);
}

/* Frees M. */
static void
masto_free(struct masto *m)
{
	if (m == NULL)
		return;
	chan_secret_free(m->token, m->token_len);
	free(m->instance);
	free(m->visibility);
	free(m->language);
	free(m);
}

/* Reads the channel's keys and token; starts learning the instance's limit. */
static int
mastodon_open(struct channel *ch, const struct config *c, char *err,
    size_t errlen)
{
	struct masto	*m;
	struct ifetch	*f;
	const char	*v;
	int64_t		 secs = MASTO_TIMEOUT;
	char		 msg[400];

	if ((m = calloc(1, sizeof(*m))) == NULL)
		abort();
	m->instance = instance_base(ch->cfg);
	v = conf_chan_get(ch->cfg, "visibility", NULL);
	m->visibility = xstrdup(v ? v : "public");
	m->language = xstrdup(conf_chan_get(ch->cfg, "language", NULL));
	if ((v = conf_chan_get(ch->cfg, "timeout", NULL)) != NULL)
		conf_parse_duration(v, &secs);
	m->timeout_ms = (long)secs * 1000;
	msg[0] = '\0';
	if (chan_secret_read(ch->cfg, "token_file", &m->token, &m->token_len,
	    msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "channel %s: %s", ch->name, msg[0] ? msg :
		    "no token_file or credential");
		masto_free(m);
		return (-1);
	}
	ch->priv = m;
	if (ch->cfg->limit != 0)
		return (0);	/* `limit =` overrides the instance's */
	if ((f = calloc(1, sizeof(*f))) == NULL)
		abort();
	f->name = xstrdup(ch->name);
	f->instance = xstrdup(m->instance);
	f->cache = cache_path(c, ch->name);
	f->pending = 1;
	uv_timer_init(uv_default_loop(), &f->timer);
	f->timer.data = f;
	uv_timer_start(&f->timer, ifetch_go, 0, 0);
	return (0);
}

/* Frees the channel's state. */
static void
mastodon_close(struct channel *ch)
{
	masto_free(ch->priv);
	ch->priv = NULL;
}

/* Frees J (after its timer, if any, has closed). */
static void
job_free(struct mjob *j)
{
	size_t	i;

	for (i = 0; i < j->nmedia; i++) {
		free(j->media[i].uri);
		free(j->media[i].fmttype);
		free(j->media[i].alt);
		free(j->media[i].name);
		free(j->media[i].data);
		free(j->media[i].id);
	}
	free(j->media);
	chan_secret_free(j->token, j->token_len);
	free(j->instance);
	free(j->visibility);
	free(j->language);
	free(j->text);
	free(j);
}

/* The job's timer closed: free the job. */
static void
job_closed(uv_handle_t *h)
{
	job_free(h->data);
}

/* Reports R for J and frees J. */
static void
job_finish(struct mjob *j, struct chan_result *r)
{
	j->done(j->arg, r);
	if (j->timer_inited)
		uv_close((uv_handle_t *)&j->timer, job_closed);
	else
		job_free(j);
}

/* Finishes J with outcome O and error ERR. */
static void
job_fail(struct mjob *j, enum chan_outcome o, const char *err)
{
	struct chan_result	r;

	memset(&r, 0, sizeof(r));
	r.outcome = o;
	snprintf(r.error, sizeof(r.error), "%s", err);
	job_finish(j, &r);
}

/* Ends J with the classified RESP (not a success), prefixed by WHAT. */
static void
job_error(struct mjob *j, const struct http_response *resp, const char *what)
{
	struct chan_result	r;

	chan_http_failed(resp, what, &r);
	job_finish(j, &r);
}

/* Starts METHOD URL for J (auth, CTYPE, Idempotency-Key if IDEM); CB gets the answer. */
static int
job_request(struct mjob *j, const char *method, const char *url,
    const char *ctype, const char *body, size_t body_len, bool idem,
    http_done_fn cb)
{
	struct chan_request	 rq;
	struct http_request	 req;
	int			 rc;

	memset(&rq, 0, sizeof(rq));
	chan_request_bearer(&rq, j->token);
	if (ctype != NULL)
		chan_request_header(&rq, "Content-Type", ctype);
	if (idem)
		chan_request_header(&rq, "Idempotency-Key", j->idem);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = (const char **)rq.headers;
	req.body = body;
	req.body_len = body_len;
	req.timeout_ms = j->timeout_ms;
	rc = http_start(&req, cb, j);
	OPENSSL_cleanse(rq.headers[0], strlen(rq.headers[0]));
	chan_request_clear(&rq);
	return (rc);
}

/* The string or integer "id" of JSON J as a malloc'd string, or NULL. */
static char *
json_id(json_t *j)
{
	json_t	*v = json_object_get(j, "id");
	char	*s;

	if (json_is_string(v))
		return (xstrdup(json_string_value(v)));
	if (json_is_integer(v)) {
		if (asprintf(&s, "%lld", (long long)json_integer_value(v)) == -1)
			abort();
		return (s);
	}
	return (NULL);
}

/* The poll timer fired: ask again whether the media is processed. */
static void
poll_fire(uv_timer_t *t)
{
	job_next(t->data);
}

/* Waits before the next poll of J's current media. */
static void
poll_later(struct mjob *j)
{
	if (!j->timer_inited) {
		uv_timer_init(uv_default_loop(), &j->timer);
		j->timer.data = j;
		j->timer_inited = true;
	}
	uv_timer_start(&j->timer, poll_fire, MASTO_POLL_MS, 0);
}

/* The answer of an https media fetch: its bytes, typed by their content. */
static void
on_fetch(void *arg, const struct http_response *resp)
{
	struct mjob	*j = arg;
	struct mmedia	*md = &j->media[j->cur];
	const char	*type;
	char		 what[300], why[300];

	if (resp->refused) {
		snprintf(what, sizeof(what), "media %s: %s", md->uri, resp->error);
		job_fail(j, CHAN_PERMANENT, what);
		return;
	}
	if (resp->curl_code != CURLE_OK || resp->status != 200) {
		snprintf(what, sizeof(what), "media %s", md->uri);
		job_error(j, resp, what);
		return;
	}
	if (media_content_type(resp->body, resp->body_len, md->fmttype,
	    &masto_rules, &type, why, sizeof(why)) == -1) {
		snprintf(what, sizeof(what), "media %s: %s", md->uri, why);
		job_fail(j, CHAN_PERMANENT, what);
		return;
	}
	if ((md->data = malloc(resp->body_len + 1)) == NULL)
		abort();
	memcpy(md->data, resp->body, resp->body_len);
	md->len = resp->body_len;
	free(md->fmttype);
	md->fmttype = xstrdup(type);
	job_next(j);
}

/* The answer of POST /api/v2/media or of a GET /api/v1/media/ID poll. */
static void
on_media(void *arg, const struct http_response *resp)
{
	struct mjob	*j = arg;
	struct mmedia	*md = &j->media[j->cur];
	json_t		*b;

	if (resp->curl_code == CURLE_OK && j->step == MS_POLL &&
	    resp->status == 206) {
		if (++j->polls > MASTO_POLL_MAX) {
			job_fail(j, CHAN_TRANSIENT, "media upload: the server is "
			    "still processing the image");
			return;
		}
		poll_later(j);
		return;
	}
	if (resp->curl_code != CURLE_OK || (resp->status != 200 &&
	    resp->status != 202)) {
		job_error(j, resp, "media upload");
		return;
	}
	if (md->id == NULL) {
		b = json_loadb(resp->body, resp->body_len, 0, NULL);
		md->id = json_id(b);
		json_decref(b);
		if (md->id == NULL) {
			job_error(j, resp, "media upload");
			return;
		}
	}
	free(md->data);
	md->data = NULL;
	if (resp->status == 202) {
		/* Processing: poll until 200. */
		j->step = MS_POLL;
		j->polls = 0;
		poll_later(j);
		return;
	}
	j->cur++;
	j->step = MS_FETCH;
	job_next(j);
}

/* Thread part J->part is R's status: recorded, then the next goes (0), or -1: finish with R. */
static int
part_done(struct mjob *j, struct chan_result *r)
{
	const struct chan_journal	*jl = j->post->journal;

	if (jl->part(jl->arg, j->part, r->remote_id, r->remote_url[0] ?
	    r->remote_url : NULL, NULL) == -1) {
		r->outcome = CHAN_TRANSIENT;
		snprintf(r->error, sizeof(r->error), "part %zu was posted but "
		    "cannot be recorded", j->part + 1);
		return (-1);
	}
	if ((j->part = thread_next(j->post)) >= j->post->nparts) {
		thread_sent(j->post, r);
		return (-1);
	}
	snprintf(j->idem, sizeof(j->idem), "%s/%zu", j->id, j->part + 1);
	job_next(j);
	return (0);
}

/* The answer of POST /api/v1/statuses. */
static void
on_status(void *arg, const struct http_response *resp)
{
	struct mjob		*j = arg;
	struct chan_result	 r;
	json_t			*b, *v;
	char			*id;

	if (resp->curl_code != CURLE_OK || resp->status < 200 ||
	    resp->status >= 300) {
		job_error(j, resp, NULL);
		return;
	}
	memset(&r, 0, sizeof(r));
	chan_http_classify(resp, &r);
	if ((b = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL ||
	    (id = json_id(b)) == NULL) {
		json_decref(b);
		job_error(j, resp, NULL);
		return;
	}
	snprintf(r.remote_id, sizeof(r.remote_id), "%s", id);
	free(id);
	v = json_object_get(b, "url");
	if (!json_is_string(v))
		v = json_object_get(b, "uri");
	if (json_is_string(v) && strncmp(json_string_value(v), "http", 4) == 0)
		snprintf(r.remote_url, sizeof(r.remote_url), "%s",
		    json_string_value(v));
	json_decref(b);
	if (j->post->nparts > 0 && part_done(j, &r) == 0)
		return;
	job_finish(j, &r);
}

/* Appends S, form-urlencoded, to the growing buffer B. */
static void
form_add(char **b, size_t *len, const char *name, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = strlen(name) + strlen(s) * 3 + 3, o = *len;
	char			*p;

	if ((p = realloc(*b, *len + n + 1)) == NULL)
		abort();
	*b = p;
	if (o > 0)
		p[o++] = '&';
	memcpy(p + o, name, strlen(name));
	o += strlen(name);
	p[o++] = '=';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c) != NULL)
			p[o++] = (char)c;
		else {
			p[o++] = '%';
			p[o++] = hex[c >> 4];
			p[o++] = hex[c & 15];
		}
	}
	p[o] = '\0';
	*len = o;
}

/* Starts POST /api/v1/statuses for J. */
static int
start_status(struct mjob *j)
{
	char	*body = NULL, *url;
	size_t	 len = 0, i;
	int	 rc;

	form_add(&body, &len, "status", j->post->nparts > 0 ?
	    j->post->parts[j->part].text : j->text);
	if (j->post->nparts > 0 && j->part > 0)
		form_add(&body, &len, "in_reply_to_id",
		    j->post->parts[j->part - 1].remote_id);
	form_add(&body, &len, "visibility", j->visibility);
	if (j->language != NULL)
		form_add(&body, &len, "language", j->language);
	for (i = 0; i < j->nmedia; i++)
		form_add(&body, &len, "media_ids%5B%5D", j->media[i].id);
	if (asprintf(&url, "%s/api/v1/statuses", j->instance) == -1)
		abort();
	j->step = MS_STATUS;
	rc = job_request(j, "POST", url, "application/x-www-form-urlencoded",
	    body, len, true, on_status);
	free(url);
	free(body);
	return (rc);
}

/* Appends N bytes of S to the buffer B of length *LEN. */
static void
buf_add(char **b, size_t *len, const char *s, size_t n)
{
	char	*p;

	if ((p = realloc(*b, *len + n + 1)) == NULL)
		abort();
	memcpy(p + *len, s, n);
	*len += n;
	p[*len] = '\0';
	*b = p;
}

/* Starts POST /api/v2/media (multipart: file, description) for MD. */
static int
start_upload(struct mjob *j, struct mmedia *md)
{
	unsigned char	 rnd[16];
	char		 bnd[64], ctype[128], *body = NULL, *head, *url, *fname;
	const char	*type;
	size_t		 len = 0, i;
	int		 rc;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return (-1);
	memcpy(bnd, "crier-", 6);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(bnd + 6 + i * 2, 3, "%02x", rnd[i]);
	snprintf(ctype, sizeof(ctype), "multipart/form-data; boundary=%s", bnd);
	if (md->alt != NULL && md->alt[0] != '\0') {
		if (asprintf(&head, "--%s\r\nContent-Disposition: form-data; "
		    "name=\"description\"\r\nContent-Type: text/plain; "
		    "charset=utf-8\r\n\r\n", bnd) == -1)
			abort();
		buf_add(&body, &len, head, strlen(head));
		buf_add(&body, &len, md->alt, strlen(md->alt));
		buf_add(&body, &len, "\r\n", 2);
		free(head);
	}
	fname = xstrdup(md->name);
	for (i = 0; fname[i] != '\0'; i++)
		if (fname[i] == '"' || fname[i] == '\\' ||
		    (unsigned char)fname[i] < 0x20)
			fname[i] = '_';
	type = md->fmttype ? md->fmttype : media_guess_type(md->uri);
	if (asprintf(&head, "--%s\r\nContent-Disposition: form-data; "
	    "name=\"file\"; filename=\"%s\"\r\nContent-Type: %s\r\n\r\n", bnd,
	    fname[0] ? fname : "media", type ? type :
	    "application/octet-stream") == -1)
		abort();
	free(fname);
	buf_add(&body, &len, head, strlen(head));
	free(head);
	buf_add(&body, &len, md->data, md->len);
	if (asprintf(&head, "\r\n--%s--\r\n", bnd) == -1)
		abort();
	buf_add(&body, &len, head, strlen(head));
	free(head);
	if (asprintf(&url, "%s/api/v2/media", j->instance) == -1)
		abort();
	j->step = MS_UPLOAD;
	rc = job_request(j, "POST", url, ctype, body, len, false, on_media);
	free(url);
	free(body);
	return (rc);
}

/* Starts J's next request: fetch, upload or poll a media, or the status. */
static int
job_step(struct mjob *j)
{
	struct mmedia		*md;
	struct http_request	 req;
	char			*url;
	int			 rc;

	if (j->cur >= j->nmedia)
		return (start_status(j));
	md = &j->media[j->cur];
	if (j->step == MS_POLL && md->id != NULL) {
		if (asprintf(&url, "%s/api/v1/media/%s", j->instance, md->id)
		    == -1)
			abort();
		rc = job_request(j, "GET", url, NULL, NULL, 0, false, on_media);
		free(url);
		return (rc);
	}
	if (md->data == NULL) {
		j->step = MS_FETCH;
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.url = md->uri;
		req.timeout_ms = j->timeout_ms;
		req.public_only = true;	/* the URL is the calendar's */
		req.max_body = MASTO_FILE_MAX;
		return (http_start(&req, on_fetch, j));
	}
	return (start_upload(j, md));
}

/* Moves J on, from a callback; a request that cannot start is transient. */
static void
job_next(struct mjob *j)
{
	if (job_step(j) == -1)
		job_fail(j, CHAN_TRANSIENT, "cannot start the request");
}

/* A copy of the LEN bytes at DATA (NULL stays NULL). */
static char *
dup_bytes(const char *data, size_t len)
{
	char	*r;

	if (data == NULL)
		return (NULL);
	if ((r = malloc(len + 1)) == NULL)
		abort();
	memcpy(r, data, len);
	r[len] = '\0';
	return (r);
}

/* Takes P's media (read and checked by media.c) into J. */
static void
take_media(struct mjob *j, const struct post *p)
{
	const struct media	*l = p->media;
	size_t			 i;

	if ((j->media = calloc(p->nmedia + 1, sizeof(*j->media))) == NULL)
		abort();
	for (i = 0; i < p->nmedia; i++) {
		struct mmedia *md = &j->media[i];

		md->uri = xstrdup(l[i].uri);
		md->fmttype = l[i].type != NULL ? xstrdup(l[i].type) : NULL;
		md->alt = l[i].alt != NULL ? xstrdup(l[i].alt) : NULL;
		md->data = dup_bytes(l[i].data, l[i].len);
		md->len = l[i].len;
		md->name = media_file_name(l[i].path ? l[i].path : l[i].uri);
	}
	j->nmedia = p->nmedia;
}

/* Starts delivering P: media first (if any), then the status. */
static int
mastodon_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	const struct masto	*m = ch->priv;
	struct mjob		*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		abort();
	j->done = done;
	j->arg = arg;
	snprintf(j->id, sizeof(j->id), "%s", p->id);
	snprintf(j->idem, sizeof(j->idem), "%s", p->id);
	if (p->nparts > 0 && (j->part = thread_next(p)) < p->nparts)
		snprintf(j->idem, sizeof(j->idem), "%s/%zu", p->id, j->part + 1);
	j->post = p;
	j->instance = xstrdup(m->instance);
	if ((j->token = malloc(m->token_len + 1)) == NULL)
		abort();
	memcpy(j->token, m->token, m->token_len + 1);
	j->token_len = m->token_len;
	j->visibility = xstrdup(m->visibility);
	j->language = xstrdup(m->language);
	j->timeout_ms = m->timeout_ms;
	j->text = xstrdup(p->text);
	if (p->nparts > 0 && j->part >= p->nparts) {
		/* Every part went before a crash: the thread is sent. */
		struct chan_result r;

		thread_sent(p, &r);
		job_finish(j, &r);
		return (0);
	}
	if (j->part == 0)	/* media go with the first part */
		take_media(j, p);
	if (job_step(j) == -1) {
		snprintf(err, errlen, "cannot start the request");
		job_free(j);
		return (-1);
	}
	return (0);
}

/* --check: media that cannot be read, too many, or without alt text. */
static int
mastodon_check_post(const struct channel *ch, const struct cal_occurrence *o,
    char *msg, size_t len)
{
	const char	*mode = conf_chan_get(ch->cfg, "alt_text", NULL);
	size_t		 i;

	if (o->nattach > MASTO_MEDIA_NMAX) {
		snprintf(msg, len, "%zu attachments, Mastodon takes at most %d",
		    o->nattach, MASTO_MEDIA_NMAX);
		return (CHAN_CHECK_PROBLEM);
	}
	for (i = 0; i < o->nattach; i++)
		if (o->attach[i].alt == NULL || o->attach[i].alt[0] == '\0') {
			snprintf(msg, len, "image %s has no alt text (add "
			    "X-CRIER-ALT to the ATTACH, or alt: to the front "
			    "matter)", o->attach[i].uri);
			return (mode != NULL && strcmp(mode, "warn") == 0 ?
			    CHAN_CHECK_WARNING : CHAN_CHECK_PROBLEM);
		}
	return (CHAN_CHECK_OK);
}

const struct channel_ops mastodon_ops = {
	.type = "mastodon",
	.media = &masto_rules,
	.idempotent = true,	/* Idempotency-Key: the delivery id */
	.len_rule = LEN_MASTODON,
	.default_limit = 500,
	.keys = mastodon_keys,
	.check = mastodon_check,
	.open = mastodon_open,
	.close = mastodon_close,
	.start = mastodon_start,
	.cached_limit = mastodon_cached_limit,
	.check_post = mastodon_check_post,
	.engage = mastodon_engage,
};
