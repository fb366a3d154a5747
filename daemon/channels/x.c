/*
 * The x channel: POST /2/tweets (docs.x.com/x-api/posts/create-post), after
 * uploading each image (POST /2/media/upload) and giving it its alt text
 * (POST /2/media/metadata). Signed with OAuth 1.0a or an OAuth 2.0 user
 * token (x_auth.c). X has no idempotency key: before the post goes out a
 * marker is kept in crier.db, cleared once X has answered; a delivery that
 * finds its marker (crierd died, or the answer was lost) first looks for
 * the post among the account's newest (GET /2/users/:id/tweets) and, if X
 * will not show them, relies on X refusing a duplicate of a recent post;
 * for split = thread, part by part (x_thread.c).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "../calendar/calendar.h"
#include "../channel.h"
#include "../http.h"
#include "../log.h"
#include "../media.h"
#include "../retry.h"
#include "../when.h"
#include "../../common/util.h"
#include "x.h"

#define X_MEDIA_NMAX	4			/* images per post */
#define X_IMAGE_MAX	(5 * 1024 * 1024)	/* bytes of a PNG, JPEG, WebP */
#define X_GIF_MAX	(15 * 1024 * 1024)	/* bytes of a GIF */
#define X_ALT_MAX	1000			/* characters of alt text */
#define X_LOOKUP_N	20			/* newest posts searched after a crash */
#define X_SKEW_MS	(10 * 60 * 1000)	/* clock skew allowed in that search */
#define X_DUPLICATE	"duplicate content"	/* in X's 403 for a repeated text */

struct ximg {
	char	*uri;
	char	*type;		/* by content; NULL: remote, not fetched yet */
	char	*alt;
	char	*data;
	size_t	 len;
	char	*id;		/* X's media id, once uploaded */
	bool	 alt_done;
};

enum xstep { XS_AUTH, XS_ME, XS_LOOKUP, XS_MEDIA, XS_TWEET };

/* One delivery under way. */
struct xjob {
	struct x_waiter		 w;
	struct x_acct		*a;
	chan_done_fn		 done;
	void			*arg;
	const struct post	*post;		/* valid until done */
	size_t			 part;		/* a thread's part being posted */
	char			 id[32];
	char			 marker[64];	/* its key in chan_kv */
	char			*text;
	struct ximg		*img;
	size_t			 nimg, cur;
	enum xstep		 step;		/* the one under way, or next after auth */
	unsigned		 gen;		/* of the access token sent */
	bool			 reauthed;	/* refreshed once after a 401 */
	bool			 resumed;	/* an earlier attempt's outcome is unknown */
	int64_t			 marker_at;	/* when that attempt began, ms */
};

static const struct chan_key x_keys[] = {
	{ "auth", CK_ENUM, true, "oauth1|oauth2" },
	{ "keys_file", CK_SECRET, false, NULL },
	{ "token_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "client_id", CK_STRING, false, NULL },
	{ "client_secret_file", CK_PATH, false, NULL },	/* checked by x_check */
	{ "api", CK_URL, false, NULL },
	{ "alt_text", CK_ENUM, false, "required|warn" },
	{ "timeout", CK_DURATION, false, NULL },
	{ "split", CK_ENUM, false, "thread|none" },
	{ NULL, 0, false, NULL },
};

static const struct media_rules x_rules = {
	.max_items = X_MEDIA_NMAX,
	.items = "images",
	.max_bytes = X_GIF_MAX,
	.too_big = "larger than 15 MB (X's limit for a GIF; 5 MB for others)",
	.what = "image",
	.images_only = true,
};

static void	job_run(struct xjob *);

/* Checks which secrets go with which `auth`. */
static int
x_check(const struct cfg_channel *cc, const struct config *c, char *err,
    size_t errlen)
{
	const char	*auth = conf_chan_get(cc, "auth", NULL);
	const char	*cs = conf_chan_get(cc, "client_secret_file", NULL);
	bool		 o2 = auth != NULL && strcmp(auth, "oauth2") == 0;
	char		 msg[300];

	(void)c;
	if (!o2 && (conf_chan_get(cc, "token_file", NULL) != NULL ||
	    conf_chan_get(cc, "client_id", NULL) != NULL || cs != NULL)) {
		snprintf(err, errlen, "token_file, client_id and "
		    "client_secret_file go with auth = oauth2");
		return (-1);
	}
	if (o2 && conf_chan_get(cc, "keys_file", NULL) != NULL) {
		snprintf(err, errlen, "keys_file goes with auth = oauth1");
		return (-1);
	}
	if (conf_chan_get(cc, o2 ? "token_file" : "keys_file", NULL) == NULL &&
	    conf_chan_get(cc, "credential", NULL) == NULL) {
		snprintf(err, errlen, "missing key '%s' (or 'credential')",
		    o2 ? "token_file" : "keys_file");
		return (-1);
	}
	if (o2 && conf_chan_get(cc, "client_id", NULL) == NULL) {
		snprintf(err, errlen, "missing key 'client_id' (auth = oauth2)");
		return (-1);
	}
	if (cs != NULL && conf_check_secret(cs, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "client_secret_file: %s", msg);
		return (-1);
	}
	return (x_auth_check(cc, err, errlen));
}

/* Sets up the channel's account. */
static int
x_open(struct channel *ch, const struct config *c, char *err, size_t errlen)
{
	struct x_acct	*a;

	(void)c;
	if (x_auth_open(ch, &a, err, errlen) == -1)
		return (-1);
	ch->priv = a;
	return (0);
}

/* Drops the channel's account (deliveries under way keep theirs). */
static void
x_close(struct channel *ch)
{
	x_auth_unref(ch->priv);
	ch->priv = NULL;
}

/* Frees J. */
static void
job_free(struct xjob *j)
{
	size_t	i;

	for (i = 0; i < j->nimg; i++) {
		free(j->img[i].uri);
		free(j->img[i].type);
		free(j->img[i].alt);
		free(j->img[i].data);
		free(j->img[i].id);
	}
	free(j->img);
	free(j->text);
	x_auth_unref(j->a);
	free(j);
}

/* Reports R for J and frees J. */
static void
job_finish(struct xjob *j, const struct chan_result *r)
{
	j->done(j->arg, r);
	job_free(j);
}

/* J's post (or thread part) is R's: the next part goes, or J ends with R. */
static void
job_sent(struct xjob *j, struct chan_result *r)
{
	if (j->post->nparts == 0 || x_thread_part(j->post, &j->part, r) == -1) {
		job_finish(j, r);
		return;
	}
	free(j->text);
	j->text = xstrdup(x_thread_at(j->post, j->part, j->marker,
	    sizeof(j->marker)));
	j->resumed = false;
	j->step = XS_TWEET;	/* media went with the first part */
	job_run(j);
}

/* Finishes J with outcome O and the message FMT. */
static void
job_fail(struct xjob *j, enum chan_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
job_fail(struct xjob *j, enum chan_outcome o, const char *fmt, ...)
{
	struct chan_result	r;
	va_list			ap;

	memset(&r, 0, sizeof(r));
	r.outcome = o;
	va_start(ap, fmt);
	vsnprintf(r.error, sizeof(r.error), fmt, ap);
	va_end(ap);
	job_finish(j, &r);
}

/* Adds EVENT with DETAIL to the delivery's history. */
static void
job_event(struct xjob *j, const char *event, const char *detail)
{
	const struct chan_journal	*jl = j->post->journal;

	if (jl != NULL && jl->event != NULL)
		jl->event(jl->arg, event, detail);
}

/* Sets or (AT 0) clears J's marker; -1 if the store refused. */
static int
job_mark(struct xjob *j, int64_t at)
{
	struct chan_kv	kv;
	char		v[32];

	snprintf(v, sizeof(v), "%lld", (long long)at);
	kv.key = j->marker;
	kv.value = at ? v : NULL;
	return (chan_kv_put(j->a->name, &kv, 1));
}

/* X's words for a failed answer RESP: errors[].message, else detail, title. */
static void
x_message(const struct http_response *resp, char *buf, size_t len)
{
	json_t		*j, *e, *m;
	const char	*s;
	size_t		 i, o = 0;

	buf[0] = '\0';
	if ((j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL) {
		snprintf(buf, len, "%.*s", (int)(resp->body_len < 200 ?
		    resp->body_len : 200), resp->body ? resp->body : "");
		buf[strcspn(buf, "\r\n")] = '\0';
		return;
	}
	json_array_foreach(json_object_get(j, "errors"), i, e) {
		m = json_object_get(e, "message");
		if (!json_is_string(m))
			m = json_object_get(e, "detail");
		if (json_is_string(m) && o < len)
			o += snprintf(buf + o, len - o, "%s%s", o ? "; " : "",
			    json_string_value(m));
	}
	if (buf[0] == '\0') {
		if ((s = json_string_value(json_object_get(j, "detail"))) ==
		    NULL && (s = json_string_value(json_object_get(j,
		    "error_description"))) == NULL)
			s = json_string_value(json_object_get(j, "title"));
		snprintf(buf, len, "%s", s ? s : "");
	}
	for (o = 0; buf[o] != '\0'; o++)
		if ((unsigned char)buf[o] < 0x20)
			buf[o] = ' ';
	json_decref(j);
}

/*
 * The wait X's rate-limit headers in RESP ask for, ms; 0 if none. The
 * reset is a whole second, the window's true end up to a second later.
 */
static int64_t
x_reset(const struct http_response *resp)
{
	const char	*v = http_header_get(resp, "x-rate-limit-reset");
	int64_t		 d;

	if (v != NULL && retry_ratelimit_reset_parse(v, when_now(), &d) == 0)
		return (d + 1000);
	return (0);
}

/* Reads RESP into R: outcome, X's message prefixed by WHAT, rate-limit waits. */
static void
x_result(const struct http_response *resp, const char *what,
    struct chan_result *r)
{
	const char	*rem = http_header_get(resp, "x-rate-limit-remaining");
	char		 msg[400];

	memset(r, 0, sizeof(*r));
	chan_http_classify(resp, r);
	if (resp->curl_code == CURLE_OK) {
		if (rem != NULL && strtol(rem, NULL, 10) <= 0 &&
		    rem[strspn(rem, " 0")] == '\0')
			r->channel_wait = x_reset(resp);
		if (resp->status == 429) {
			r->retry_after = x_reset(resp);
			if (r->retry_after > r->channel_wait)
				r->channel_wait = r->retry_after;
		}
	}
	if (r->outcome == CHAN_SENT)
		return;
	if (resp->curl_code == CURLE_OK) {
		x_message(resp, msg, sizeof(msg));
		if (resp->status == 401)
			snprintf(msg, sizeof(msg), "X refused the credentials "
			    "(401 Unauthorized)");
		snprintf(r->error, sizeof(r->error), "%s: HTTP %ld%s%s", what,
		    resp->status, msg[0] ? ": " : "", msg);
	} else {
		snprintf(msg, sizeof(msg), "%s", r->error);
		snprintf(r->error, sizeof(r->error), "%s: %s", what, msg);
	}
}

/* The waiter's callback: the account can sign (R NULL), or not (R). */
static void
auth_ready(struct x_waiter *w, const struct chan_result *r)
{
	struct xjob	*j = (struct xjob *)w;

	if (r != NULL) {
		job_finish(j, r);
		return;
	}
	job_run(j);
}

/*
 * A failed answer RESP to J's step WHAT: a first 401 with OAuth 2.0
 * refreshes and does the step again; else J ends as X's answer says.
 */
static void
job_error(struct xjob *j, const struct http_response *resp, const char *what)
{
	struct chan_result	r;

	memset(&r, 0, sizeof(r));
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		r.aborted = true;
		job_finish(j, &r);
		return;
	}
	if (resp->curl_code == CURLE_OK && resp->status == 401 &&
	    !j->reauthed && x_auth_refused(j->a, j->gen)) {
		j->reauthed = true;
		job_event(j, "reauth", "X refused the access token (401): "
		    "refreshing it");
		switch (x_auth_wait(j->a, &j->w)) {
		case 1:
			job_run(j);
			return;
		case 0:
			return;
		default:
			job_fail(j, CHAN_TRANSIENT, "cannot start refreshing "
			    "the X access token");
			return;
		}
	}
	x_result(resp, what, &r);
	if (r.outcome == CHAN_SENT) {
		r.outcome = CHAN_TRANSIENT;
		snprintf(r.error, sizeof(r.error), "%s: HTTP %ld: unexpected "
		    "answer", what, resp->status);
	}
	job_finish(j, &r);
}

/* Starts METHOD PATH (under the API, or URL) for J, signed; CB gets the answer. */
static int
job_send(struct xjob *j, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, http_done_fn cb)
{
	struct chan_request	 rq;
	struct http_request	 req;
	char			 err[256];
	size_t			 i;
	int			 rc = -1;

	memset(&rq, 0, sizeof(rq));
	if (asprintf(&rq.url, "%s%s", j->a->api, path) == -1)
		abort();
	if (x_auth_sign(j->a, method, rq.url, NULL, &rq, &j->gen, err,
	    sizeof(err)) == -1) {
		log_warnx("channel %s: %s", j->a->name, err);
		goto out;
	}
	if (ctype != NULL)
		chan_request_header(&rq, "Content-Type", ctype);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = rq.url;
	req.headers = (const char **)rq.headers;
	req.body = body;
	req.body_len = len;
	req.timeout_ms = j->a->timeout_ms;
	rc = http_start(&req, cb, j);
out:
	for (i = 0; i < rq.nheaders; i++)
		OPENSSL_cleanse(rq.headers[i], strlen(rq.headers[i]));
	chan_request_clear(&rq);
	return (rc);
}

/* Starts J's JSON request J_BODY (consumed) to PATH. */
static int
job_json(struct xjob *j, const char *path, json_t *body, http_done_fn cb)
{
	char	*s = json_dumps(body, JSON_COMPACT);
	int	 rc;

	json_decref(body);
	if (s == NULL)
		abort();
	rc = job_send(j, "POST", path, "application/json", s, strlen(s), cb);
	free(s);
	return (rc);
}

/* Whether RESP carries a JSON object body, loaded into *OUT. */
static bool
answer_json(const struct http_response *resp, json_t **out)
{
	*out = NULL;
	if (resp->curl_code != CURLE_OK || resp->status < 200 ||
	    resp->status >= 300)
		return (false);
	*out = json_loadb(resp->body, resp->body_len, 0, NULL);
	return (json_is_object(*out));
}

/* The post URL of tweet ID for J's account. */
static void
tweet_url(const struct xjob *j, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "https://x.com/%s/status/%s", j->a->username ?
	    j->a->username : "i", id);
}

/* The answer of GET /2/users/me: who the account is. */
static void
me_done(void *arg, const struct http_response *resp)
{
	struct xjob	*j = arg;
	json_t		*b, *d;
	const char	*id, *un;
	char		 msg[300];

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK ||
	    (resp->curl_code == CURLE_OK && resp->status == 401)) {
		job_error(j, resp, "GET /2/users/me");
		return;
	}
	if (answer_json(resp, &b) && (d = json_object_get(b, "data")) != NULL &&
	    (id = json_string_value(json_object_get(d, "id"))) != NULL &&
	    (un = json_string_value(json_object_get(d, "username"))) != NULL &&
	    strlen(id) < 32 && strlen(un) < 64 && j->a->user_id == NULL) {
		j->a->user_id = xstrdup(id);
		j->a->username = xstrdup(un);
	} else if (j->a->user_id == NULL) {
		/* Not fatal: the URL then says /i/, a lost post is not looked up. */
		x_message(resp, msg, sizeof(msg));
		job_event(j, "x-account", msg[0] ? msg : "GET /2/users/me "
		    "did not say who posts");
	}
	json_decref(b);
	j->step = j->resumed ? XS_LOOKUP : XS_MEDIA;
	job_run(j);
}

/* TEXT as compared after a crash: entities undone, URLs (t.co on X) as one mark. */
static char *
norm_text(const char *text, bool drop_last_url)
{
	char	*o = xmalloc(strlen(text) + 1), *last = NULL;
	size_t	 n = 0;

	while (*text != '\0') {
		if (strncmp(text, "&amp;", 5) == 0 || strncmp(text, "&lt;", 4)
		    == 0 || strncmp(text, "&gt;", 4) == 0) {
			o[n++] = text[1] == 'a' ? '&' : text[1] == 'l' ? '<' : '>';
			text += text[1] == 'a' ? 5 : 4;
		} else if (strncmp(text, "http://", 7) == 0 ||
		    strncmp(text, "https://", 8) == 0) {
			last = o + n;
			o[n++] = '\x01';
			text += strcspn(text, " \t\r\n");
		} else if (strchr(" \t\r\n", *text) != NULL) {
			if (n > 0 && o[n - 1] != ' ')
				o[n++] = ' ';
			text++;
		} else
			o[n++] = *text++;
	}
	while (n > 0 && o[n - 1] == ' ')
		n--;
	o[n] = '\0';
	/* X ends a post with images with a link to them. */
	if (drop_last_url && last != NULL && last == o + n - 1) {
		for (n = (size_t)(last - o); n > 0 && o[n - 1] == ' '; n--)
			;
		o[n] = '\0';
	}
	return (o);
}

/* The answer of GET /2/users/:id/tweets: is J's post among them? */
static void
lookup_done(void *arg, const struct http_response *resp)
{
	struct xjob		*j = arg;
	struct chan_result	 r;
	json_t			*b, *t;
	const char		*id, *text, *at;
	char			*want, *got, msg[400];
	int64_t			 ms;
	size_t			 i;

	if (resp->curl_code != CURLE_OK || resp->status == 401 ||
	    resp->status == 429 || resp->status >= 500) {
		job_error(j, resp, "looking for the post after a crash");
		return;
	}
	if (!answer_json(resp, &b)) {
		x_message(resp, msg, sizeof(msg));
		job_event(j, "x-lookup", msg[0] ? msg : "unreadable answer");
		json_decref(b);
		j->step = XS_MEDIA;
		job_run(j);
		return;
	}
	want = norm_text(j->text, false);
	json_array_foreach(json_object_get(b, "data"), i, t) {
		id = json_string_value(json_object_get(t, "id"));
		text = json_string_value(json_object_get(t, "text"));
		at = json_string_value(json_object_get(t, "created_at"));
		if (id == NULL || text == NULL || strlen(id) >= 64)
			continue;
		if (at != NULL && when_parse(at, NULL, &ms) == 0 &&
		    ms < j->marker_at - X_SKEW_MS)
			continue;
		got = norm_text(text, j->nimg > 0);
		if (strcmp(got, want) == 0) {
			free(got);
			free(want);
			memset(&r, 0, sizeof(r));
			r.outcome = CHAN_SENT;
			snprintf(r.remote_id, sizeof(r.remote_id), "%s", id);
			tweet_url(j, id, r.remote_url, sizeof(r.remote_url));
			snprintf(msg, sizeof(msg), "the interrupted attempt "
			    "went out: post %s", id);
			job_event(j, "x-found", msg);
			json_decref(b);
			job_mark(j, 0);
			job_sent(j, &r);
			return;
		}
		free(got);
	}
	free(want);
	json_decref(b);
	job_event(j, "x-lookup", "not among the account's newest posts: "
	    "posting");
	j->step = XS_MEDIA;
	job_run(j);
}

/* Starts the search for J's post among the account's newest. */
static int
lookup_start(struct xjob *j)
{
	char	path[128];

	snprintf(path, sizeof(path), "/2/users/%s/tweets?max_results=%d&"
	    "tweet.fields=created_at", j->a->user_id, X_LOOKUP_N);
	return (job_send(j, "GET", path, NULL, NULL, 0, lookup_done));
}

/* The answer of an https image fetch: its bytes, typed by their content. */
static void
fetch_done(void *arg, const struct http_response *resp)
{
	struct xjob	*j = arg;
	struct ximg	*im = &j->img[j->cur];
	const char	*type;
	char		 what[300], why[300];

	if (resp->refused) {
		job_fail(j, CHAN_PERMANENT, "image %s: %s", im->uri, resp->error);
		return;
	}
	if (resp->curl_code != CURLE_OK || resp->status != 200) {
		snprintf(what, sizeof(what), "image %s", im->uri);
		job_error(j, resp, what);
		return;
	}
	if (media_content_type(resp->body, resp->body_len, NULL, &x_rules,
	    &type, why, sizeof(why)) == -1) {
		job_fail(j, CHAN_PERMANENT, "image %s: %s", im->uri, why);
		return;
	}
	im->data = xmalloc(resp->body_len + 1);
	memcpy(im->data, resp->body, resp->body_len);
	im->len = resp->body_len;
	im->type = xstrdup(type);
	job_run(j);
}

/* The answer of POST /2/media/upload: the image's id. */
static void
upload_done(void *arg, const struct http_response *resp)
{
	struct xjob	*j = arg;
	struct ximg	*im = &j->img[j->cur];
	json_t		*b;
	const char	*id;

	if (!answer_json(resp, &b) || (id = json_string_value(json_object_get(
	    json_object_get(b, "data"), "id"))) == NULL || strlen(id) > 64) {
		json_decref(b);
		job_error(j, resp, "uploading an image");
		return;
	}
	im->id = xstrdup(id);
	json_decref(b);
	free(im->data);
	im->data = NULL;
	job_run(j);
}

/* The answer of POST /2/media/metadata: the image has its alt text. */
static void
alt_done(void *arg, const struct http_response *resp)
{
	struct xjob	*j = arg;

	if (resp->curl_code != CURLE_OK || resp->status != 200) {
		job_error(j, resp, "setting an image's alt text");
		return;
	}
	j->img[j->cur].alt_done = true;
	j->cur++;
	job_run(j);
}

/* Appends N bytes of S to the buffer *B of length *LEN. */
static void
buf_add(char **b, size_t *len, const char *s, size_t n)
{
	*b = xreallocarray(*b, *len + n + 1, 1);
	memcpy(*b + *len, s, n);
	*len += n;
	(*b)[*len] = '\0';
}

/* Appends form field NAME with VALUE (N bytes, of TYPE if a file) to *B. */
static void
part_add(char **b, size_t *len, const char *bnd, const char *name,
    const char *type, const char *value, size_t n)
{
	char	*h;

	if (asprintf(&h, "--%s\r\nContent-Disposition: form-data; name=\"%s\""
	    "%s%s%s\r\n\r\n", bnd, name, type ? "; filename=\"image\"\r\n"
	    "Content-Type: " : "", type ? type : "", "") == -1)
		abort();
	buf_add(b, len, h, strlen(h));
	free(h);
	buf_add(b, len, value, n);
	buf_add(b, len, "\r\n", 2);
}

/* Starts POST /2/media/upload (multipart: media, media_category, media_type) for IM. */
static int
upload_start(struct xjob *j, struct ximg *im)
{
	unsigned char	 rnd[12];
	char		 bnd[64], ctype[128], *body = NULL;
	const char	*cat;
	size_t		 len = 0, i;
	int		 rc;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return (-1);
	snprintf(bnd, sizeof(bnd), "crier-x-");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(bnd + 8 + i * 2, 3, "%02x", rnd[i]);
	snprintf(ctype, sizeof(ctype), "multipart/form-data; boundary=%s", bnd);
	cat = strcmp(im->type, "image/gif") == 0 ? "tweet_gif" : "tweet_image";
	part_add(&body, &len, bnd, "media_category", NULL, cat, strlen(cat));
	part_add(&body, &len, bnd, "media_type", NULL, im->type,
	    strlen(im->type));
	part_add(&body, &len, bnd, "media", im->type, im->data, im->len);
	buf_add(&body, &len, "--", 2);
	buf_add(&body, &len, bnd, strlen(bnd));
	buf_add(&body, &len, "--\r\n", 4);
	rc = job_send(j, "POST", "/2/media/upload", ctype, body, len,
	    upload_done);
	free(body);
	return (rc);
}

/* Starts J's next image request: fetch, upload or alt text; 1 if all are done. */
static int
media_step(struct xjob *j)
{
	struct ximg		*im;
	struct http_request	 req;

	while (j->cur < j->nimg) {
		im = &j->img[j->cur];
		if (im->id == NULL && im->data == NULL) {
			memset(&req, 0, sizeof(req));
			req.method = "GET";
			req.url = im->uri;
			req.timeout_ms = j->a->timeout_ms;
			req.public_only = true;	/* the URL is the calendar's */
			req.max_body = X_GIF_MAX;
			return (http_start(&req, fetch_done, j));
		}
		if (im->id == NULL) {
			if (strcmp(im->type, "image/gif") != 0 &&
			    im->len > X_IMAGE_MAX) {
				job_fail(j, CHAN_PERMANENT, "image %s: %zu bytes, "
				    "X takes at most 5 MB (15 MB for a GIF)",
				    im->uri, im->len);
				return (2);
			}
			return (upload_start(j, im));
		}
		if (im->alt != NULL && im->alt[0] != '\0' && !im->alt_done)
			return (job_json(j, "/2/media/metadata", json_pack(
			    "{s:s, s:{s:{s:s}}}", "id", im->id, "metadata",
			    "alt_text", "text", im->alt), alt_done));
		j->cur++;
	}
	return (1);
}

/* The answer of POST /2/tweets. */
static void
tweet_done(void *arg, const struct http_response *resp)
{
	struct xjob		*j = arg;
	struct chan_result	 r;
	json_t			*b;
	const char		*id;

	if (resp->curl_code != CURLE_OK || resp->status >= 500) {
		/* The post may have been made: the marker stays. */
		job_error(j, resp, "POST /2/tweets");
		return;
	}
	job_mark(j, 0);		/* X answered: it knows */
	if (answer_json(resp, &b) && (id = json_string_value(json_object_get(
	    json_object_get(b, "data"), "id"))) != NULL && strlen(id) < 64) {
		x_result(resp, "POST /2/tweets", &r);
		r.outcome = CHAN_SENT;
		snprintf(r.remote_id, sizeof(r.remote_id), "%s", id);
		tweet_url(j, id, r.remote_url, sizeof(r.remote_url));
		json_decref(b);
		job_sent(j, &r);
		return;
	}
	json_decref(b);
	if (resp->status == 403) {
		x_result(resp, "POST /2/tweets", &r);
		if (strstr(r.error, X_DUPLICATE) != NULL) {
			if (j->resumed && x_thread_unknown(j->post, j->part,
			    &r))
				job_mark(j, j->marker_at);	/* look again */
			else if (j->resumed) {
				/* X has the interrupted attempt's post. */
				job_event(j, "x-duplicate", "X refused the post as "
				    "a duplicate of the interrupted attempt's: "
				    "counted as sent");
				r.outcome = CHAN_SENT;
				r.error[0] = '\0';
			} else
				r.outcome = CHAN_PERMANENT;
			job_finish(j, &r);
			return;
		}
	}
	job_error(j, resp, "POST /2/tweets");
}

/* Starts POST /2/tweets for J, its marker written first. */
static int
tweet_start(struct xjob *j)
{
	json_t	*b = json_object(), *ids;
	size_t	 i;

	if (j->text[0] != '\0')
		json_object_set_new(b, "text", json_string(j->text));
	x_thread_reply(j->post, j->part, b);
	if (j->nimg > 0 && j->part == 0) {
		ids = json_array();
		for (i = 0; i < j->nimg; i++)
			json_array_append_new(ids, json_string(j->img[i].id));
		json_object_set_new(b, "media", json_pack("{s:o}", "media_ids",
		    ids));
	}
	if (job_mark(j, when_now()) == -1) {
		json_decref(b);
		job_fail(j, CHAN_TRANSIENT, "cannot note the post in the store "
		    "before sending it");
		return (2);
	}
	return (job_json(j, "/2/tweets", b, tweet_done));
}

/* Moves J on: the account, who it is, a lost post, the images, the post. */
static void
job_run(struct xjob *j)
{
	int	rc = -1;

	switch (j->step) {
	case XS_AUTH:
		if ((rc = x_auth_wait(j->a, &j->w)) == 0)
			return;
		if (rc == -1) {
			job_fail(j, CHAN_TRANSIENT, "cannot get an X access "
			    "token: the refresh cannot start");
			return;
		}
		j->step = XS_ME;
		/* FALLTHROUGH */
	case XS_ME:
		if (j->a->user_id == NULL) {
			rc = job_send(j, "GET", "/2/users/me", NULL, NULL, 0,
			    me_done);
			break;
		}
		j->step = j->resumed ? XS_LOOKUP : XS_MEDIA;
		/* FALLTHROUGH */
	case XS_LOOKUP:
		if (j->step == XS_LOOKUP && j->a->user_id != NULL &&
		    j->text[0] != '\0') {
			rc = lookup_start(j);
			break;
		}
		j->step = XS_MEDIA;
		/* FALLTHROUGH */
	case XS_MEDIA:
		if ((rc = media_step(j)) != 1)
			break;
		j->step = XS_TWEET;
		/* FALLTHROUGH */
	case XS_TWEET:
		rc = tweet_start(j);
		break;
	}
	if (rc == -1)
		job_fail(j, CHAN_TRANSIENT, "cannot start the request");
}

/* Takes P's images into J (remote ones are fetched later). */
static void
take_images(struct xjob *j, const struct post *p)
{
	size_t	i;

	j->img = xcalloc(p->nmedia + 1, sizeof(*j->img));
	for (i = 0; i < p->nmedia; i++) {
		struct ximg *im = &j->img[i];

		im->uri = xstrdup(p->media[i].uri);
		im->alt = p->media[i].alt ? xstrdup(p->media[i].alt) : NULL;
		if (p->media[i].data != NULL) {
			im->data = xmalloc(p->media[i].len + 1);
			memcpy(im->data, p->media[i].data, p->media[i].len);
			im->len = p->media[i].len;
			im->type = xstrdup(p->media[i].type);
		}
	}
	j->nimg = p->nmedia;
}

/* Starts delivering P; what a crash left of an earlier attempt is looked at first. */
static int
x_start(struct channel *ch, const struct post *p, chan_done_fn done, void *arg,
    char *err, size_t errlen)
{
	struct xjob		*j;
	struct chan_result	 r;
	char			*v = NULL;
	int			 rc;

	j = xcalloc(1, sizeof(*j));
	j->a = ch->priv;
	j->a->refs++;
	j->w.ready = auth_ready;
	j->done = done;
	j->arg = arg;
	j->post = p;
	snprintf(j->id, sizeof(j->id), "%s", p->id);
	if (x_thread_start(p, &j->part, &r) == -1) {
		job_finish(j, &r);
		return (0);
	}
	j->text = xstrdup(x_thread_at(p, j->part, j->marker,
	    sizeof(j->marker)));
	if (j->part == 0)	/* media go with the first part */
		take_images(j, p);
	(void)err;
	(void)errlen;
	if ((rc = chan_kv_get(j->a->name, j->marker, &v, NULL)) == -1) {
		job_fail(j, CHAN_TRANSIENT, "cannot read the store (is an "
		    "earlier attempt of this post under way?)");
		return (0);
	}
	if (rc == 0) {
		j->resumed = true;
		j->marker_at = strtoll(v, NULL, 10);
		free(v);
		if (j->text[0] == '\0') {
			/* Nothing to look for: a person decides. */
			job_mark(j, 0);
			job_fail(j, CHAN_PERMANENT, "an earlier attempt was cut "
			    "off and a post without text cannot be looked "
			    "for: check the account, then retry or cancel");
			return (0);
		}
		job_event(j, "x-resume", "an earlier attempt was cut off: "
		    "looking for its post before posting");
	}
	j->step = XS_AUTH;
	job_run(j);
	return (0);
}

/* --check: too many images, alt text missing or too long. */
static int
x_check_post(const struct channel *ch, const struct cal_occurrence *o,
    char *msg, size_t len)
{
	const char	*mode = conf_chan_get(ch->cfg, "alt_text", NULL);
	const char	*s;
	size_t		 i, n;

	if (o->nattach > X_MEDIA_NMAX) {
		snprintf(msg, len, "%zu images, X takes at most %d",
		    o->nattach, X_MEDIA_NMAX);
		return (CHAN_CHECK_PROBLEM);
	}
	for (i = 0; i < o->nattach; i++) {
		if (o->attach[i].alt == NULL || o->attach[i].alt[0] == '\0') {
			snprintf(msg, len, "image %s has no alt text (add "
			    "X-CRIER-ALT to the ATTACH, or alt: to the front "
			    "matter)", o->attach[i].uri);
			return (mode != NULL && strcmp(mode, "warn") == 0 ?
			    CHAN_CHECK_WARNING : CHAN_CHECK_PROBLEM);
		}
		for (n = 0, s = o->attach[i].alt; *s != '\0'; s++)
			if (((unsigned char)*s & 0xc0) != 0x80)
				n++;
		if (n > X_ALT_MAX) {
			snprintf(msg, len, "image %s: alt text of %zu "
			    "characters, X takes at most %d", o->attach[i].uri,
			    n, X_ALT_MAX);
			return (CHAN_CHECK_PROBLEM);
		}
	}
	return (CHAN_CHECK_OK);
}

const struct channel_ops x_ops = {
	.type = "x",
	.media = &x_rules,
	/* No idempotency key: a marker, a search and X's duplicate check. */
	.idempotent = true,
	.len_rule = LEN_X,
	.default_limit = 280,
	.keys = x_keys,
	.check = x_check,
	.open = x_open,
	.close = x_close,
	.start = x_start,
	.check_post = x_check_post,
};
