/*
 * The threads channel: Meta's two-step publishing (developers.facebook.com/
 * docs/threads/posts): a media container (POST /{user-id}/threads), its
 * status polled on the loop until FINISHED when it holds an image, then
 * POST /{user-id}/threads_publish with creation_id. Threads fetches an
 * image itself from image_url, so only https media from the calendar go
 * there; a local file is refused (crierd --check says so). The container
 * id is written to state_dir before publishing: after a crash the retry
 * asks that container's status, and PUBLISHED means the post is out, so a
 * container is never published twice and no second one is made.
 */
#include <config.h>

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

#include "../calendar/calendar.h"
#include "../channel.h"
#include "../conf.h"
#include "../http.h"
#include "../log.h"
#include "../media.h"
#include "../../common/util.h"
#include "threads_token.h"

#define TH_API		"https://graph.threads.net"
#define TH_VERSION	"v1.0"
#define TH_TIMEOUT_MS	30000L
#define TH_POLL_MS	2000		/* between container status polls */
#define TH_POLLS_MAX	30		/* then a later attempt polls again */
#define TH_IMAGE_MAX	(8 * 1024 * 1024)	/* Threads' image size limit */
#define TH_ID_MAX	64

enum tstep { TS_STATUS, TS_CREATE, TS_PUBLISH };

struct threads {
	char		*api;		/* base URL, no trailing slash */
	char		*user_id;
	struct th_token	*tok;		/* the channel's, refreshed; NULL in a job's copy */
	char		*token;		/* a job's copy of the token */
	size_t		 token_len;
	char		*statedir;	/* state_dir/channels/NAME.threads, NULL: none */
};

/* One delivery on its way. */
struct tjob {
	const struct threads	*t;	/* the channel's, valid while it runs */
	struct threads		*own;	/* a copy: a reload may close the channel */
	chan_done_fn		 done;
	void			*arg;
	char			*id;
	char			*text;
	char			*image_url;
	char			*alt;
	char			 container[TH_ID_MAX];
	enum tstep		 step;
	int			 polls;
};

static const struct chan_key threads_keys[] = {
	{ "user_id", CK_STRING, true, NULL },
	{ "token_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "api", CK_URL, false, NULL },
	{ "alt_text", CK_ENUM, false, "required|warn" },
	{ NULL, 0, false, NULL },
};

static const struct media_rules threads_rules = {
	.max_items = 1,
	.items = "images (crier posts one image to Threads)",
	.max_bytes = TH_IMAGE_MAX,
	.too_big = "over 8 MB, Threads' limit",
	.what = "image",
	.images_only = true,
};

static void	job_step(struct tjob *);
static void	on_status_delay_cb(void *, const struct http_response *);

/* Channel CC's KEY, or DEF if it is not set. */
static const char *
th_key(const struct cfg_channel *cc, const char *key, const char *def)
{
	const char	*v = conf_chan_get(cc, key, NULL);

	return (v != NULL ? v : def);
}

/* Checks the keys together: a numeric user id and one secret. */
static int
threads_check(const struct cfg_channel *cc, const struct config *c, char *err,
    size_t errlen)
{
	const char	*tf = conf_chan_get(cc, "token_file", NULL);
	const char	*cr = conf_chan_get(cc, "credential", NULL);
	const char	*u = conf_chan_get(cc, "user_id", NULL);

	(void)c;
	if ((tf == NULL) == (cr == NULL)) {
		snprintf(err, errlen, "needs exactly one of token_file and "
		    "credential (a Threads access token)");
		return (-1);
	}
	if (u == NULL || *u == '\0' || strspn(u, "0123456789") != strlen(u) ||
	    strlen(u) >= TH_ID_MAX) {
		snprintf(err, errlen, "user_id: '%s' is not a Threads user id "
		    "(digits, from GET /me?fields=id)", u ? u : "");
		return (-1);
	}
	return (0);
}

/* Frees T. */
static void
threads_free(struct threads *t)
{
	if (t == NULL)
		return;
	th_token_close(t->tok);
	if (t->token != NULL)
		OPENSSL_cleanse(t->token, t->token_len);
	free(t->token);
	free(t->api);
	free(t->user_id);
	free(t->statedir);
	free(t);
}

/* A copy of T for a job, with the token to use now. */
static struct threads *
threads_dup(const struct threads *t)
{
	struct threads	*n = xcalloc(1, sizeof(*n));

	n->api = xstrdup(t->api);
	n->user_id = xstrdup(t->user_id);
	n->statedir = xstrdup(t->statedir);
	n->token = xstrdup(th_token_get(t->tok));
	n->token_len = strlen(n->token);
	return (n);
}

/* Reads the channel's keys and its token. */
static int
threads_open(struct channel *ch, const struct config *c, char *err,
    size_t errlen)
{
	struct threads	*t = xcalloc(1, sizeof(*t));
	const char	*api = th_key(ch->cfg, "api", TH_API);
	char		 msg[400], *seed = NULL;
	size_t		 n, len = 0;
	int		 rc;

	t->api = xstrdup(api);
	n = strlen(t->api);
	while (n > 0 && t->api[n - 1] == '/')
		t->api[--n] = '\0';
	t->user_id = xstrdup(th_key(ch->cfg, "user_id", ""));
	if ((rc = chan_secret_read(ch->cfg, "token_file", &seed, &len, msg,
	    sizeof(msg))) != 0) {
		snprintf(err, errlen, "channel %s: %s", ch->name, rc == 1 ?
		    "no token_file or credential" : msg);
		goto fail;
	}
	if (len == 0 || len > TH_TOKEN_MAX || strpbrk(seed, "\r\n &") !=
	    NULL) {
		snprintf(err, errlen, "channel %s: the token is empty or has "
		    "a space, newline or '&'", ch->name);
		goto fail;
	}
	t->tok = th_token_open(ch->name, t->api, seed, len);
	chan_secret_free(seed, CHAN_SECRET_MAX + 1);
	seed = NULL;
	if (c->state_dir != NULL && asprintf(&t->statedir,
	    "%s/channels/%s.threads", c->state_dir, ch->name) == -1)
		abort();
	ch->priv = t;
	return (0);
fail:
	if (seed != NULL)
		chan_secret_free(seed, CHAN_SECRET_MAX + 1);
	threads_free(t);
	return (-1);
}

/* The loop runs: the token's first look (and its hourly timer). */
static void
threads_ready(struct channel *ch)
{
	th_token_tick(((struct threads *)ch->priv)->tok);
}

/* Frees the channel's state. */
static void
threads_close(struct channel *ch)
{
	threads_free(ch->priv);
	ch->priv = NULL;
}

/* The file keeping job J's container id (malloc'd), NULL if no state_dir. */
static char *
container_path(const struct tjob *j)
{
	char	*p;

	if (j->t->statedir == NULL)
		return (NULL);
	if (asprintf(&p, "%s/%s", j->t->statedir, j->id) == -1)
		abort();
	return (p);
}

/* Reads J's container id kept by an earlier attempt; 1 if there is one. */
static int
container_load(struct tjob *j)
{
	char	*path = container_path(j);
	ssize_t	 n;
	int	 fd, rc = 0;

	if (path == NULL)
		return (0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, j->container, sizeof(j->container) - 1);
		close(fd);
		if (n > 0) {
			j->container[n] = '\0';
			j->container[strcspn(j->container, "\n")] = '\0';
			rc = j->container[0] != '\0' && strspn(j->container,
			    "0123456789") == strlen(j->container);
		}
		if (!rc)
			j->container[0] = '\0';
	}
	free(path);
	return (rc);
}

/* Writes J's container id durably (file, then directory synced); -1 with errno. */
static int
container_save(struct tjob *j)
{
	char	*path = container_path(j), *tmp = NULL;
	size_t	 len = strlen(j->container);
	int	 fd = -1, dfd = -1, rc = -1;

	if (path == NULL)
		return (0);
	if (asprintf(&tmp, "%s", j->t->statedir) == -1)
		abort();
	/* state_dir/channels, then the channel's own directory. */
	*strrchr(tmp, '/') = '\0';
	if ((mkdir(tmp, 0700) == -1 && errno != EEXIST) ||
	    (mkdir(j->t->statedir, 0700) == -1 && errno != EEXIST))
		goto fail;
	free(tmp);
	if (asprintf(&tmp, "%s.tmp", path) == -1)
		abort();
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || write(fd, j->container, len) != (ssize_t)len ||
	    fsync(fd) == -1 || close(fd) == -1) {
		if (fd != -1)
			close(fd);
		goto fail;
	}
	if (rename(tmp, path) == -1)
		goto fail;
	if ((dfd = open(j->t->statedir, O_RDONLY | O_DIRECTORY)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
fail:
	free(tmp);
	free(path);
	return (rc);
}

/* Forgets J's container id. */
static void
container_forget(struct tjob *j)
{
	char	*path = container_path(j);

	if (path != NULL && unlink(path) == -1 && errno != ENOENT)
		log_warn("delivery %s: unlink %s", j->id, path);
	free(path);
	j->container[0] = '\0';
}

/* Frees J. */
static void
job_free(struct tjob *j)
{
	threads_free(j->own);
	free(j->id);
	free(j->text);
	free(j->image_url);
	free(j->alt);
	free(j);
}

/* Reports R for J and frees it. */
static void
job_finish(struct tjob *j, const struct chan_result *r)
{
	chan_done_fn	 done = j->done;
	void		*arg = j->arg;

	job_free(j);
	done(arg, r);
}

/* Ends J with outcome O and message MSG. */
static void
job_fail(struct tjob *j, enum chan_outcome o, const char *what,
    const char *msg)
{
	struct chan_result	r;

	memset(&r, 0, sizeof(r));
	r.outcome = o;
	snprintf(r.error, sizeof(r.error), "%s: %s", what, msg);
	job_finish(j, &r);
}

/* Minutes until access returns, from X-Business-Use-Case-Usage; 0 if not said. */
static int64_t
regain_ms(const struct http_response *resp)
{
	const char	*h = http_header_get(resp, "X-Business-Use-Case-Usage");
	const char	*k = "estimated_time_to_regain_access";
	const char	*p;
	long		 m, best = 0;

	for (p = h; p != NULL && (p = strstr(p, k)) != NULL; p += strlen(k)) {
		m = strtol(p + strlen(k) + 2, NULL, 10);
		if (m > best && m < 24 * 60)
			best = m;
	}
	return ((int64_t)best * 60 * 1000);
}

/*
 * Reads a Graph error answer RESP into R (Threads answers 400 for most):
 * code 190 (token), 10 and 200 (permission) pause; 4, 17, 32, 613 (call
 * rate) and 9 (the 250-posts-a-day quota) retry later; 5xx, 429 and curl
 * errors retry; others fail with the API's message. *CODE and *SUB get
 * the error's code and subcode (0 if none).
 */
static void
meta_classify(const struct http_response *resp, struct chan_result *r,
    long *code, long *sub)
{
	json_t		*j = NULL, *e;
	const char	*m = NULL;

	*code = *sub = 0;
	chan_http_classify(resp, r);
	if (resp->curl_code != CURLE_OK || resp->body == NULL ||
	    (j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL)
		return;
	if (json_is_object(e = json_object_get(j, "error"))) {
		*code = (long)json_integer_value(json_object_get(e, "code"));
		*sub = (long)json_integer_value(json_object_get(e,
		    "error_subcode"));
		m = json_string_value(json_object_get(e, "message"));
		if (m != NULL)
			snprintf(r->error, sizeof(r->error), "HTTP %ld: %s "
			    "(code %ld%s%.0ld)", resp->status, m, *code,
			    *sub ? ", subcode " : "", *sub);
		if (*code == 190 || *code == 10 || *code == 200) {
			r->outcome = CHAN_AUTH;
		} else if (*code == 4 || *code == 17 || *code == 32 ||
		    *code == 613 || *code == 9) {
			r->outcome = CHAN_TRANSIENT;
			r->retry_after = regain_ms(resp);
			r->channel_wait = r->retry_after;
		}
	}
	json_decref(j);
}

/* Starts METHOD PATH (under the API version) for J with FORM, CB gets the answer. */
static int
job_request(struct tjob *j, const char *method, const char *path,
    const char *form, http_done_fn cb)
{
	struct chan_request	 rq;
	struct http_request	 req;
	char			*url;
	int			 rc;

	memset(&rq, 0, sizeof(rq));
	if (asprintf(&url, "%s/%s/%s", j->t->api, TH_VERSION, path) == -1)
		abort();
	chan_request_bearer(&rq, j->t->token);
	if (form != NULL)
		chan_request_header(&rq, "Content-Type",
		    "application/x-www-form-urlencoded");
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = (const char **)rq.headers;
	req.body = form;
	req.body_len = form ? strlen(form) : 0;
	req.timeout_ms = TH_TIMEOUT_MS;
	rc = http_start(&req, cb, j);
	OPENSSL_cleanse(rq.headers[0], strlen(rq.headers[0]));
	chan_request_clear(&rq);
	free(url);
	return (rc);
}

/* The string "id" of answer RESP, copied into BUF; -1 if it has none. */
static int
answer_id(const struct http_response *resp, char *buf, size_t len)
{
	json_t		*j, *v;
	int		 rc = -1;

	if (resp->body == NULL ||
	    (j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL)
		return (-1);
	v = json_object_get(j, "id");
	if (json_is_string(v) && strlen(json_string_value(v)) < len &&
	    strspn(json_string_value(v), "0123456789") ==
	    strlen(json_string_value(v)) && *json_string_value(v) != '\0') {
		snprintf(buf, len, "%s", json_string_value(v));
		rc = 0;
	}
	json_decref(j);
	return (rc);
}

/* Common start of an answer: 1 if J ended (aborted or failed), else 0 with CODE, SUB. */
static int
job_answer(struct tjob *j, const struct http_response *resp, const char *what,
    long *code, long *sub)
{
	struct chan_result	r;
	char			msg[sizeof(r.error)];

	memset(&r, 0, sizeof(r));
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		r.aborted = true;
		job_finish(j, &r);
		return (1);
	}
	meta_classify(resp, &r, code, sub);
	if (r.outcome == CHAN_SENT)
		return (0);
	/* Not ready yet: the caller polls the container. */
	if (*code == 24 && *sub == 4279009)
		return (0);
	snprintf(msg, sizeof(msg), "%s: %s", what, r.error);
	memcpy(r.error, msg, sizeof(r.error));
	job_finish(j, &r);
	return (1);
}

/* The container J made is FINISHED or PUBLISHED, or it needs polling again. */
static void
on_status(void *arg, const struct http_response *resp)
{
	struct tjob	*j = arg;
	json_t		*b;
	const char	*st, *em;
	char		 msg[300], status[32];
	long		 code, sub;

	if (resp->status == 400 && resp->body != NULL &&
	    strstr(resp->body, "does not exist") != NULL) {
		/* An earlier attempt's container is gone: make another. */
		container_forget(j);
		j->step = TS_CREATE;
		job_step(j);
		return;
	}
	if (job_answer(j, resp, "container status", &code, &sub))
		return;
	if ((b = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL ||
	    (st = json_string_value(json_object_get(b, "status"))) == NULL) {
		json_decref(b);
		job_fail(j, CHAN_TRANSIENT, "container status",
		    "no status in the answer");
		return;
	}
	em = json_string_value(json_object_get(b, "error_message"));
	snprintf(msg, sizeof(msg), "container %s is %s%s%.200s", j->container,
	    st, em ? ": " : "", em ? em : "");
	snprintf(status, sizeof(status), "%s", st);
	json_decref(b);
	st = status;
	if (strcmp(st, "PUBLISHED") == 0) {
		struct chan_result	r;

		/* Published by an attempt cut short: the post is out. */
		memset(&r, 0, sizeof(r));
		r.outcome = CHAN_SENT;
		snprintf(r.remote_id, sizeof(r.remote_id), "%s", j->container);
		container_forget(j);
		job_finish(j, &r);
		return;
	}
	if (strcmp(st, "FINISHED") == 0) {
		j->step = TS_PUBLISH;
		job_step(j);
	} else if (strcmp(st, "IN_PROGRESS") == 0) {
		if (++j->polls > TH_POLLS_MAX) {
			job_fail(j, CHAN_TRANSIENT, "Threads", msg);
			return;
		}
		if (http_start_delay(TH_POLL_MS, on_status_delay_cb, j) == -1)
			job_fail(j, CHAN_TRANSIENT, "Threads", "cannot wait");
	} else if (strcmp(st, "EXPIRED") == 0) {
		container_forget(j);
		j->step = TS_CREATE;
		job_step(j);
	} else {
		/* ERROR (FAILED_DOWNLOADING_MEDIA...): this post cannot go. */
		container_forget(j);
		job_fail(j, CHAN_PERMANENT, "Threads", msg);
	}
}

/* The wait between polls is over: ask the container's status again. */
static void
on_status_delay_cb(void *arg, const struct http_response *resp)
{
	struct tjob		*j = arg;
	struct chan_result	 r;

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		memset(&r, 0, sizeof(r));
		r.aborted = true;
		job_finish(j, &r);
		return;
	}
	j->step = TS_STATUS;
	job_step(j);
}

/* The container is made: kept on disk, then published or polled. */
static void
on_create(void *arg, const struct http_response *resp)
{
	struct tjob	*j = arg;
	long		 code, sub;

	if (job_answer(j, resp, "create container", &code, &sub))
		return;
	if (answer_id(resp, j->container, sizeof(j->container)) == -1) {
		job_fail(j, CHAN_TRANSIENT, "create container",
		    "no container id in the answer");
		return;
	}
	if (container_save(j) == -1) {
		log_warn("delivery %s: cannot keep container %s", j->id,
		    j->container);
		job_fail(j, CHAN_TRANSIENT, "create container",
		    "cannot keep the container id in state_dir");
		return;
	}
	/* An image is fetched and processed by Threads: wait for FINISHED. */
	j->step = j->image_url != NULL ? TS_STATUS : TS_PUBLISH;
	job_step(j);
}

/* The container is published (or not ready yet: poll it). */
static void
on_publish(void *arg, const struct http_response *resp)
{
	struct tjob		*j = arg;
	struct chan_result	 r;
	long			 code, sub;

	if (job_answer(j, resp, "publish", &code, &sub))
		return;
	if (code == 24) {
		j->polls++;
		if (http_start_delay(TH_POLL_MS, on_status_delay_cb, j) == -1)
			job_fail(j, CHAN_TRANSIENT, "publish", "cannot wait");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.outcome = CHAN_SENT;
	if (answer_id(resp, r.remote_id, sizeof(r.remote_id)) == -1)
		snprintf(r.remote_id, sizeof(r.remote_id), "%s", j->container);
	container_forget(j);
	job_finish(j, &r);
}

/* Appends "&NAME=VALUE" (VALUE form-encoded) to *S. */
static void
form_add(char **s, const char *name, const char *value)
{
	char	*e, *n;

	if ((e = curl_easy_escape(NULL, value, 0)) == NULL)
		abort();
	if (asprintf(&n, "%s%s%s=%s", *s ? *s : "", *s ? "&" : "", name,
	    e) == -1)
		abort();
	curl_free(e);
	free(*s);
	*s = n;
}

/* Sends J's next request. */
static void
job_step(struct tjob *j)
{
	char	*form = NULL, *path = NULL;
	int	 rc;

	switch (j->step) {
	case TS_STATUS:
		if (asprintf(&path, "%s?fields=status,error_message",
		    j->container) == -1)
			abort();
		rc = job_request(j, "GET", path, NULL, on_status);
		break;
	case TS_CREATE:
		form_add(&form, "media_type", j->image_url ? "IMAGE" : "TEXT");
		form_add(&form, "text", j->text);
		if (j->image_url != NULL) {
			form_add(&form, "image_url", j->image_url);
			if (j->alt != NULL)
				form_add(&form, "alt_text", j->alt);
		}
		if (asprintf(&path, "%s/threads", j->t->user_id) == -1)
			abort();
		rc = job_request(j, "POST", path, form, on_create);
		break;
	case TS_PUBLISH:
	default:
		form_add(&form, "creation_id", j->container);
		if (asprintf(&path, "%s/threads_publish", j->t->user_id) == -1)
			abort();
		rc = job_request(j, "POST", path, form, on_publish);
		break;
	}
	free(form);
	free(path);
	if (rc == -1)
		job_fail(j, CHAN_TRANSIENT, "Threads", "cannot start the request");
}

/* Refuses a local image (Threads fetches image_url itself); -1 with ERR. */
static int
image_url_ok(const char *uri, char *err, size_t errlen)
{
	char	msg[300];

	if (conf_check_url(uri, "https", "http", msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "image %s: Threads fetches images from "
		    "a public https URL, so attach an https image, not a local "
		    "file (%s)", uri, msg);
		return (-1);
	}
	return (0);
}

/* Starts delivering P: a kept container is asked first, else one is made. */
static int
threads_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	struct tjob	*j;

	if (p->text == NULL || *p->text == '\0') {
		snprintf(err, errlen, "Threads needs text");
		return (-1);
	}
	if (p->nmedia > 0 && p->media[0].path != NULL) {
		snprintf(err, errlen, "image %s: Threads fetches images from a "
		    "public https URL, so attach an https image, not a local "
		    "file", p->media[0].uri);
		return (-1);
	}
	if (p->nmedia > 0 && image_url_ok(p->media[0].uri, err, errlen) == -1)
		return (-1);
	/* The token a day old or more is refreshed meanwhile; this one is still good. */
	th_token_tick(((struct threads *)ch->priv)->tok);
	j = xcalloc(1, sizeof(*j));
	j->own = threads_dup(ch->priv);
	j->t = j->own;
	j->done = done;
	j->arg = arg;
	j->id = xstrdup(p->id);
	j->text = xstrdup(p->text);
	if (p->nmedia > 0) {
		j->image_url = xstrdup(p->media[0].uri);
		j->alt = xstrdup(p->media[0].alt);
	}
	j->step = container_load(j) ? TS_STATUS : TS_CREATE;
	if (j->step == TS_STATUS)
		log_info("delivery %s: asking Threads about container %s made "
		    "by an earlier attempt", j->id, j->container);
	job_step(j);
	return (0);
}

/* --check: one https image with alt text; local files cannot reach Threads. */
static int
threads_check_post(const struct channel *ch, const struct cal_occurrence *o,
    char *msg, size_t len)
{
	const char	*mode = conf_chan_get(ch->cfg, "alt_text", NULL);

	if (o->nattach > 1) {
		snprintf(msg, len, "%zu attachments, crier posts one image to "
		    "Threads", o->nattach);
		return (CHAN_CHECK_PROBLEM);
	}
	if (o->nattach == 0)
		return (CHAN_CHECK_OK);
	if (image_url_ok(o->attach[0].uri, msg, len) == -1)
		return (CHAN_CHECK_PROBLEM);
	if (o->attach[0].alt == NULL || o->attach[0].alt[0] == '\0') {
		snprintf(msg, len, "image %s has no alt text (add X-CRIER-ALT "
		    "to the ATTACH, or alt: to the front matter)",
		    o->attach[0].uri);
		return (mode != NULL && strcmp(mode, "warn") == 0 ?
		    CHAN_CHECK_WARNING : CHAN_CHECK_PROBLEM);
	}
	return (CHAN_CHECK_OK);
}

const struct channel_ops threads_ops = {
	.type = "threads",
	.media = &threads_rules,
	/* The container id is kept: a retry asks it before publishing. */
	.idempotent = true,
	.len_rule = LEN_THREADS,
	.default_limit = 500,
	.keys = threads_keys,
	.check = threads_check,
	.open = threads_open,
	.close = threads_close,
	.ready = threads_ready,
	.start = threads_start,
	.check_post = threads_check_post,
};
