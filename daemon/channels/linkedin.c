/*
 * The linkedin channel: LinkedIn's Posts API (POST /rest/posts) with a
 * pinned LinkedIn-Version and X-Restli-Protocol-Version 2.0.0, acting for
 * a person or organization URN. The commentary is "little text", escaped
 * by littletext.c so LinkedIn shows it whole. An image goes first through
 * the Images API (initializeUpload, then PUT of the bytes); the post names
 * its image URN with the alt text. The post's URN comes in x-restli-id.
 * LinkedIn has no idempotency key: a crash mid-post is `uncertain`.
 * Docs: learn.microsoft.com/linkedin/marketing/community-management/
 * shares/{posts-api,images-api,little-text-format}, marketing/versioning.
 */
#include <config.h>

#include <sys/stat.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "../calendar/calendar.h"
#include "../channel.h"
#include "../http.h"
#include "../littletext.h"
#include "../log.h"
#include "../media.h"
#include "../when.h"
#include "../../common/util.h"

#define LI_API			"https://api.linkedin.com"
#define LI_TIMEOUT		60			/* s, each request */
#define LI_FILE_MAX		(8 * 1024 * 1024)	/* largest image */
#define LI_ALT_MAX		4086			/* altText, characters */
#define LI_TOKEN_LIFE		(60LL * 86400 * 1000)	/* ms: 3-legged tokens */
#define LI_WARN_AHEAD		(14LL * 86400 * 1000)	/* ms: warn this early */
#define LI_AUTHOR_MAX		200

struct li {
	char	*api;		/* base URL, no trailing slash */
	char	*author;
	char	*version;
	char	*visibility;
	char	*token;
	size_t	 token_len;
	int	 hashtags;	/* LITTLETEXT_HASHTAGS or 0 */
	long	 timeout_ms;
	int64_t	 expires;	/* ms since the epoch, 0: unknown */
	bool	 expires_set;	/* from token_expires, not a guess */
};

enum lstep { LS_FETCH, LS_INIT, LS_PUT, LS_POST };

/* One delivery under way. */
struct ljob {
	chan_done_fn	 done;
	void		*arg;
	struct li	 cf;		/* copies of the channel's settings */
	char		*text;
	char		*uri;		/* the image: its URI, */
	char		*type;		/* content type, */
	char		*alt;		/* alt text, */
	char		*data;		/* bytes (NULL: to fetch), */
	size_t		 len;
	char		*upload_url;	/* where to PUT them, */
	char		*image;		/* and its URN once initialized */
	enum lstep	 step;
};

extern const struct channel_ops linkedin_ops;	/* below */

static const struct chan_key linkedin_keys[] = {
	{ "author", CK_STRING, true, NULL },
	{ "version", CK_STRING, true, NULL },
	{ "token_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "token_expires", CK_STRING, false, NULL },
	{ "visibility", CK_ENUM, false, "PUBLIC|CONNECTIONS|LOGGED_IN" },
	{ "hashtags", CK_BOOL, false, NULL },
	{ "alt_text", CK_ENUM, false, "required|warn" },
	{ "api", CK_URL, false, NULL },
	{ "timeout", CK_DURATION, false, NULL },
	{ NULL, 0, false, NULL },
};

static const struct media_rules li_rules = {
	.max_items = 1,
	.items = "images",
	.max_bytes = LI_FILE_MAX,
	.too_big = "larger than 8 MiB",
	.what = "image",
	.images_only = true,
};

static int	job_step(struct ljob *);

/* True if S is urn:li:person:ID or urn:li:organization:DIGITS. */
static bool
author_ok(const char *s)
{
	const char	*p;

	if (strlen(s) > LI_AUTHOR_MAX)
		return (false);
	if (strncmp(s, "urn:li:person:", 14) == 0) {
		for (p = s + 14; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
				return (false);
		return (p > s + 14);
	}
	if (strncmp(s, "urn:li:organization:", 20) == 0) {
		for (p = s + 20; *p != '\0'; p++)
			if (!isdigit((unsigned char)*p))
				return (false);
		return (p > s + 20);
	}
	return (false);
}

/* True if S is a LinkedIn-Version: YYYYMM, or YYYYMM.RR. */
static bool
version_ok(const char *s)
{
	size_t	i, n = strlen(s);
	int	month;

	if (n != 6 && n != 9)
		return (false);
	for (i = 0; i < n; i++)
		if (i == 6 ? s[i] != '.' : !isdigit((unsigned char)s[i]))
			return (false);
	month = (s[4] - '0') * 10 + (s[5] - '0');
	return (month >= 1 && month <= 12 && strncmp(s, "2020", 4) >= 0);
}

/* Checks author, version, token_expires and the token's source. */
static int
linkedin_check(const struct cfg_channel *cc, const struct config *c,
    char *err, size_t errlen)
{
	const char	*author = conf_chan_get(cc, "author", NULL);
	const char	*version = conf_chan_get(cc, "version", NULL);
	const char	*exp = conf_chan_get(cc, "token_expires", NULL);
	int64_t		 ms;

	(void)c;
	if (conf_chan_get(cc, "token_file", NULL) == NULL &&
	    conf_chan_get(cc, "credential", NULL) == NULL) {
		snprintf(err, errlen, "missing key 'token_file' (or "
		    "'credential')");
		return (-1);
	}
	if (!author_ok(author)) {
		snprintf(err, errlen, "author: '%.*s' is not a person or "
		    "organization URN (urn:li:person:ID or "
		    "urn:li:organization:NUMBER)", LI_AUTHOR_MAX, author);
		return (-1);
	}
	if (!version_ok(version)) {
		snprintf(err, errlen, "version: '%.40s' is not a LinkedIn-Version "
		    "(YYYYMM, such as 202510)", version);
		return (-1);
	}
	if (exp != NULL && when_parse(exp, "UTC", &ms) == -1) {
		snprintf(err, errlen, "token_expires: '%.60s' is not a date "
		    "(2027-01-31 or 2027-01-31T09:00:00Z)", exp);
		return (-1);
	}
	return (0);
}

/* Frees what L holds. */
static void
li_clear(struct li *l)
{
	chan_secret_free(l->token, l->token_len);
	free(l->api);
	free(l->author);
	free(l->version);
	free(l->visibility);
	memset(l, 0, sizeof(*l));
}

/* When the token of CC expires: token_expires, else its file's mtime + 60 days. */
static void
token_expiry(const struct cfg_channel *cc, struct li *l)
{
	const char	*exp = conf_chan_get(cc, "token_expires", NULL);
	const char	*file = conf_chan_get(cc, "token_file", NULL);
	const char	*cred = conf_chan_get(cc, "credential", NULL);
	const char	*dir = getenv("CREDENTIALS_DIRECTORY");
	char		 path[4096];
	struct stat	 st;

	l->expires = 0;
	if (exp != NULL && when_parse(exp, "UTC", &l->expires) == 0) {
		l->expires_set = true;
		return;
	}
	if (file != NULL)
		snprintf(path, sizeof(path), "%s", file);
	else if (cred != NULL && dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, cred);
	else
		return;
	if (stat(path, &st) == 0)
		l->expires = (int64_t)st.st_mtime * 1000 + LI_TOKEN_LIFE;
}

/* Reads the channel's keys and token. */
static int
linkedin_open(struct channel *ch, const struct config *c, char *err,
    size_t errlen)
{
	struct li	*l;
	const char	*v;
	int64_t		 secs = LI_TIMEOUT;
	char		 msg[400];
	size_t		 n;

	(void)c;
	l = xcalloc(1, sizeof(*l));
	v = conf_chan_get(ch->cfg, "api", NULL);
	l->api = xstrdup(v != NULL ? v : LI_API);
	n = strlen(l->api);
	while (n > 0 && l->api[n - 1] == '/')
		l->api[--n] = '\0';
	l->author = xstrdup(conf_chan_get(ch->cfg, "author", NULL));
	l->version = xstrdup(conf_chan_get(ch->cfg, "version", NULL));
	v = conf_chan_get(ch->cfg, "visibility", NULL);
	l->visibility = xstrdup(v != NULL ? v : "PUBLIC");
	v = conf_chan_get(ch->cfg, "hashtags", NULL);
	l->hashtags = (v != NULL && (strcasecmp(v, "yes") == 0 ||
	    strcasecmp(v, "true") == 0)) ? LITTLETEXT_HASHTAGS : 0;
	if ((v = conf_chan_get(ch->cfg, "timeout", NULL)) != NULL)
		conf_parse_duration(v, &secs);
	l->timeout_ms = (long)secs * 1000;
	token_expiry(ch->cfg, l);
	msg[0] = '\0';
	if (chan_secret_read(ch->cfg, "token_file", &l->token, &l->token_len,
	    msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "channel %s: %s", ch->name, msg[0] ? msg :
		    "no token_file or credential");
		li_clear(l);
		free(l);
		return (-1);
	}
	ch->priv = l;
	return (0);
}

/* Frees the channel's state. */
static void
linkedin_close(struct channel *ch)
{
	if (ch->priv != NULL) {
		li_clear(ch->priv);
		free(ch->priv);
	}
	ch->priv = NULL;
}

/* `status`: the access token expires within two weeks, or has. */
static int
linkedin_warning(const struct channel *ch, int64_t now, char *buf,
    size_t len)
{
	const struct li	*l = ch->priv;
	char		 when[40];
	int64_t		 left;

	if (l == NULL || l->expires == 0 || l->expires - now > LI_WARN_AHEAD)
		return (0);
	when_format(l->expires - l->expires % 1000, when, sizeof(when));
	left = l->expires - now;
	if (left <= 0)
		snprintf(buf, len, "the access token expired at %s%s: "
		    "authorise again and replace it", when, l->expires_set ? "" :
		    " (token file written 60 days before)");
	else
		snprintf(buf, len, "the access token expires at %s (in %lld "
		    "days%s): authorise again and replace it", when,
		    (long long)((left + 86399999) / 86400000), l->expires_set ?
		    "" : ", 60 days after the token file was written");
	return (1);
}

/* Frees J. */
static void
job_free(struct ljob *j)
{
	li_clear(&j->cf);
	free(j->text);
	free(j->uri);
	free(j->type);
	free(j->alt);
	free(j->data);
	free(j->upload_url);
	free(j->image);
	free(j);
}

/* Reports R for J and frees J. */
static void
job_finish(struct ljob *j, struct chan_result *r)
{
	chan_done_fn	 done = j->done;
	void		*arg = j->arg;

	job_free(j);
	done(arg, r);
}

/* Finishes J with outcome O and error ERR. */
static void
job_fail(struct ljob *j, enum chan_outcome o, const char *err)
{
	struct chan_result	r;

	memset(&r, 0, sizeof(r));
	r.outcome = o;
	snprintf(r.error, sizeof(r.error), "%s", err);
	job_finish(j, &r);
}

/* Ends J with the classified RESP (not a usable success), prefixed by WHAT. */
static void
job_error(struct ljob *j, const struct http_response *resp, const char *what)
{
	struct chan_result	r;
	size_t			n;

	chan_http_failed(resp, what, &r);
	if (!r.aborted && resp->curl_code == CURLE_OK && resp->status == 426) {
		/* The pinned version is retired: nothing goes until it changes. */
		r.outcome = CHAN_AUTH;
		n = strlen(r.error);
		snprintf(r.error + n, sizeof(r.error) - n, " (set `version` "
		    "to an active LinkedIn-Version)");
	}
	job_finish(j, &r);
}

/* Starts METHOD URL for J with LinkedIn's headers (REST: the versioned API); CB gets the answer. */
static int
job_request(struct ljob *j, const char *method, const char *url,
    const char *ctype, const char *body, size_t body_len, bool rest,
    http_done_fn cb)
{
	struct chan_request	 rq;
	struct http_request	 req;
	int			 rc;

	memset(&rq, 0, sizeof(rq));
	chan_request_bearer(&rq, j->cf.token);
	if (rest) {
		chan_request_header(&rq, "LinkedIn-Version", j->cf.version);
		chan_request_header(&rq, "X-Restli-Protocol-Version", "2.0.0");
	}
	if (ctype != NULL)
		chan_request_header(&rq, "Content-Type", ctype);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = (const char **)rq.headers;
	req.body = body;
	req.body_len = body_len;
	req.timeout_ms = j->cf.timeout_ms;
	rc = http_start(&req, cb, j);
	OPENSSL_cleanse(rq.headers[0], strlen(rq.headers[0]));
	chan_request_clear(&rq);
	return (rc);
}

/* Moves J on from a callback; a request that cannot start is transient. */
static void
job_next(struct ljob *j)
{
	if (job_step(j) == -1)
		job_fail(j, CHAN_TRANSIENT, "cannot start the request");
}

/* The answer of an https image fetch: its bytes, typed by their content. */
static void
on_fetch(void *arg, const struct http_response *resp)
{
	struct ljob	*j = arg;
	const char	*type;
	char		 what[300], why[300];

	if (resp->refused) {
		snprintf(what, sizeof(what), "image %s: %s", j->uri, resp->error);
		job_fail(j, CHAN_PERMANENT, what);
		return;
	}
	if (resp->curl_code != CURLE_OK || resp->status != 200) {
		snprintf(what, sizeof(what), "image %s", j->uri);
		job_error(j, resp, what);
		return;
	}
	if (media_content_type(resp->body, resp->body_len, j->type, &li_rules,
	    &type, why, sizeof(why)) == -1) {
		snprintf(what, sizeof(what), "image %s: %s", j->uri, why);
		job_fail(j, CHAN_PERMANENT, what);
		return;
	}
	j->data = xmalloc(resp->body_len + 1);
	memcpy(j->data, resp->body, resp->body_len);
	j->len = resp->body_len;
	free(j->type);
	j->type = xstrdup(type);
	job_next(j);
}

/* The answer of initializeUpload: the upload URL and the image's URN. */
static void
on_init(void *arg, const struct http_response *resp)
{
	struct ljob	*j = arg;
	json_t		*b = NULL, *v;
	const char	*url, *urn;

	if (resp->curl_code != CURLE_OK || resp->status != 200 ||
	    (b = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL) {
		json_decref(b);
		job_error(j, resp, "image initializeUpload");
		return;
	}
	v = json_object_get(b, "value");
	url = json_string_value(json_object_get(v, "uploadUrl"));
	urn = json_string_value(json_object_get(v, "image"));
	if (url == NULL || urn == NULL || (strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0) ||
	    strncmp(urn, "urn:li:image:", 13) != 0) {
		json_decref(b);
		job_fail(j, CHAN_TRANSIENT, "image initializeUpload: no "
		    "uploadUrl and image URN in the answer");
		return;
	}
	j->upload_url = xstrdup(url);
	j->image = xstrdup(urn);
	json_decref(b);
	j->step = LS_PUT;
	job_next(j);
}

/* The answer of the image PUT. */
static void
on_put(void *arg, const struct http_response *resp)
{
	struct ljob	*j = arg;

	if (resp->curl_code != CURLE_OK || resp->status < 200 ||
	    resp->status >= 300) {
		job_error(j, resp, "image upload");
		return;
	}
	free(j->data);
	j->data = NULL;
	j->step = LS_POST;
	job_next(j);
}

/* The answer of POST /rest/posts: 201 with the post's URN in x-restli-id. */
static void
on_post(void *arg, const struct http_response *resp)
{
	struct ljob		*j = arg;
	struct chan_result	 r;
	const char		*id;

	if (resp->curl_code != CURLE_OK || resp->status < 200 ||
	    resp->status >= 300) {
		job_error(j, resp, NULL);
		return;
	}
	if ((id = http_header_get(resp, "x-restli-id")) == NULL)
		id = http_header_get(resp, "x-linkedin-id");
	if (id == NULL || strncmp(id, "urn:li:", 7) != 0) {
		/* Created, but we cannot tell which post it is. */
		job_fail(j, CHAN_SENT, "");
		return;
	}
	memset(&r, 0, sizeof(r));
	chan_http_classify(resp, &r);
	snprintf(r.remote_id, sizeof(r.remote_id), "%s", id);
	snprintf(r.remote_url, sizeof(r.remote_url),
	    "https://www.linkedin.com/feed/update/%s/", id);
	job_finish(j, &r);
}

/* Starts POST /rest/images?action=initializeUpload for J's image. */
static int
start_init(struct ljob *j)
{
	json_t	*b;
	char	*body, *url;
	int	 rc;

	b = json_pack("{s:{s:s}}", "initializeUploadRequest", "owner",
	    j->cf.author);
	body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	if (body == NULL)
		abort();
	if (asprintf(&url, "%s/rest/images?action=initializeUpload",
	    j->cf.api) == -1)
		abort();
	j->step = LS_INIT;
	rc = job_request(j, "POST", url, "application/json", body,
	    strlen(body), true, on_init);
	free(url);
	free(body);
	return (rc);
}

/* Starts POST /rest/posts for J: the escaped commentary and the image, if any. */
static int
start_post(struct ljob *j)
{
	json_t	*b, *m;
	char	*body, *url, *lt, err[200];
	int	 rc;

	if ((lt = littletext_escape(j->text, strlen(j->text), j->cf.hashtags,
	    err, sizeof(err))) == NULL) {
		log_warnx("linkedin: commentary: %s", err);
		return (-1);
	}
	b = json_pack("{s:s, s:s, s:s, s:{s:s, s:[], s:[]}, s:s, s:b}",
	    "author", j->cf.author, "commentary", lt, "visibility",
	    j->cf.visibility, "distribution", "feedDistribution", "MAIN_FEED",
	    "targetEntities", "thirdPartyDistributionChannels",
	    "lifecycleState", "PUBLISHED", "isReshareDisabledByAuthor", 0);
	free(lt);
	if (b == NULL)
		abort();
	if (j->image != NULL) {
		m = json_pack("{s:s}", "id", j->image);
		if (j->alt != NULL && j->alt[0] != '\0')
			json_object_set_new(m, "altText", json_string(j->alt));
		json_object_set_new(b, "content", json_pack("{s:o}", "media", m));
	}
	body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	if (body == NULL)
		abort();
	if (asprintf(&url, "%s/rest/posts", j->cf.api) == -1)
		abort();
	j->step = LS_POST;
	rc = job_request(j, "POST", url, "application/json", body,
	    strlen(body), true, on_post);
	free(url);
	free(body);
	return (rc);
}

/* Starts J's next request: fetch, initialize or upload the image, or the post. */
static int
job_step(struct ljob *j)
{
	struct http_request	req;

	if (j->uri == NULL || j->step == LS_POST)
		return (start_post(j));
	if (j->data == NULL && j->image == NULL) {
		j->step = LS_FETCH;
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.url = j->uri;
		req.timeout_ms = j->cf.timeout_ms;
		req.public_only = true;	/* the URL is the calendar's */
		req.max_body = LI_FILE_MAX;
		return (http_start(&req, on_fetch, j));
	}
	if (j->image == NULL)
		return (start_init(j));
	return (job_request(j, "PUT", j->upload_url, j->type ? j->type :
	    "application/octet-stream", j->data, j->len, false, on_put));
}

/* Starts delivering P: the image (if any), then the post. */
static int
linkedin_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	const struct li	*l = ch->priv;
	struct ljob	*j;
	char		*lt;

	/* Text that cannot be escaped can never be sent: say so now. */
	if ((lt = littletext_escape(p->text, strlen(p->text), l->hashtags,
	    err, errlen)) == NULL)
		return (-1);
	free(lt);
	j = xcalloc(1, sizeof(*j));
	j->done = done;
	j->arg = arg;
	j->cf.api = xstrdup(l->api);
	j->cf.author = xstrdup(l->author);
	j->cf.version = xstrdup(l->version);
	j->cf.visibility = xstrdup(l->visibility);
	j->cf.token = xmalloc(l->token_len + 1);
	memcpy(j->cf.token, l->token, l->token_len + 1);
	j->cf.token_len = l->token_len;
	j->cf.hashtags = l->hashtags;
	j->cf.timeout_ms = l->timeout_ms;
	j->text = xstrdup(p->text);
	if (p->nmedia > 0) {
		j->uri = xstrdup(p->media[0].uri);
		j->type = xstrdup(p->media[0].type);
		j->alt = xstrdup(p->media[0].alt);
		if (p->media[0].data != NULL) {
			j->data = xmalloc(p->media[0].len + 1);
			memcpy(j->data, p->media[0].data, p->media[0].len);
			j->len = p->media[0].len;
		}
	}
	if (job_step(j) == -1) {
		snprintf(err, errlen, "cannot start the request");
		job_free(j);
		return (-1);
	}
	return (0);
}

/* --check: more than one image, alt text missing or too long. */
static int
linkedin_check_post(const struct channel *ch, const struct cal_occurrence *o,
    char *msg, size_t len)
{
	const char	*mode = conf_chan_get(ch->cfg, "alt_text", NULL);

	if (o->nattach > 1) {
		snprintf(msg, len, "%zu attachments, crier posts one image to "
		    "LinkedIn", o->nattach);
		return (CHAN_CHECK_PROBLEM);
	}
	if (o->nattach == 0)
		return (CHAN_CHECK_OK);
	if (o->attach[0].alt != NULL &&
	    len_graphemes(o->attach[0].alt, strlen(o->attach[0].alt)) >
	    LI_ALT_MAX) {
		snprintf(msg, len, "the alt text of image %s is over %d "
		    "characters (LinkedIn's limit)", o->attach[0].uri, LI_ALT_MAX);
		return (CHAN_CHECK_PROBLEM);
	}
	if (o->attach[0].alt == NULL || o->attach[0].alt[0] == '\0') {
		snprintf(msg, len, "image %s has no alt text (add X-CRIER-ALT "
		    "to the ATTACH, or alt: to the front matter)",
		    o->attach[0].uri);
		return (mode != NULL && strcmp(mode, "warn") == 0 ?
		    CHAN_CHECK_WARNING : CHAN_CHECK_PROBLEM);
	}
	return (CHAN_CHECK_OK);
}

const struct channel_ops linkedin_ops = {
	.type = "linkedin",
	.media = &li_rules,
	.idempotent = false,	/* no idempotency key: a crash is uncertain */
	.len_rule = LEN_LINKEDIN,
	.default_limit = 3000,
	.keys = linkedin_keys,
	.check = linkedin_check,
	.open = linkedin_open,
	.close = linkedin_close,
	.start = linkedin_start,
	.check_post = linkedin_check_post,
	.warning = linkedin_warning,
};
