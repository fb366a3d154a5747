/*
 * The facebook channel: a Facebook Page's feed through the Graph API at a
 * pinned version: POST /vNN.N/{page-id}/feed (message, link) for text, or
 * POST /vNN.N/{page-id}/photos (the image as `source`, or `url` for a
 * remote one, with message and alt_text_custom) for a post with an image.
 * Graph errors are read by their code: 190 (token) and 10/200 (permission)
 * pause the channel; 4, 17, 32 and 613 (rate limits) retry after the
 * estimated_time_to_regain_access in the usage headers; others fail with
 * the message. The Graph API has no idempotency key: a crash mid-post is
 * `uncertain`. Docs: developers.facebook.com/docs/pages-api/posts,
 * graph-api/reference/page/photos, graph-api/guides/error-handling,
 * graph-api/overview/rate-limiting, graph-api/guides/versioning.
 */
#include <config.h>

#include <ctype.h>
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
#include "../../common/util.h"

#define FB_API		"https://graph.facebook.com"
#define FB_TIMEOUT	60			/* s, each request */
#define FB_FILE_MAX	(4 * 1024 * 1024)	/* Graph's photo size limit */
#define FB_WAIT_MAX	(24LL * 3600 * 1000)	/* ms: the longest wait believed */
#define FB_APP_WAIT	(60LL * 60 * 1000)	/* ms: X-App-Usage at 100% */

struct fb {
	char	*api;		/* base URL, no trailing slash */
	char	*page;
	char	*version;
	char	*token;
	size_t	 token_len;
	bool	 link;		/* the text's first URL as `link` */
	long	 timeout_ms;
};

extern const struct channel_ops facebook_ops;	/* below */

static const struct chan_key facebook_keys[] = {
	{ "page_id", CK_STRING, true, NULL },
	{ "graph_version", CK_STRING, true, NULL },
	{ "token_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "link_preview", CK_BOOL, false, NULL },
	{ "alt_text", CK_ENUM, false, "required|warn" },
	{ "api", CK_URL, false, NULL },
	{ "timeout", CK_DURATION, false, NULL },
	{ NULL, 0, false, NULL },
};

static const struct media_rules fb_rules = {
	.max_items = 1,
	.items = "images",
	.max_bytes = FB_FILE_MAX,
	.too_big = "larger than 4 MiB (the Graph API's photo limit)",
	.what = "image",
	.images_only = true,
};

/* True if S is a pinned Graph API version: vMAJOR.MINOR. */
static bool
version_ok(const char *s)
{
	const char	*p = s;

	if (*p++ != 'v' || !isdigit((unsigned char)*p))
		return (false);
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != '.' || !isdigit((unsigned char)*p))
		return (false);
	while (isdigit((unsigned char)*p))
		p++;
	return (*p == '\0' && p - s <= 10);
}

/* Checks page_id, graph_version and the token's source. */
static int
facebook_check(const struct cfg_channel *cc, const struct config *c,
    char *err, size_t errlen)
{
	const char	*page = conf_chan_get(cc, "page_id", NULL);
	const char	*ver = conf_chan_get(cc, "graph_version", NULL);

	(void)c;
	if (conf_chan_get(cc, "token_file", NULL) == NULL &&
	    conf_chan_get(cc, "credential", NULL) == NULL) {
		snprintf(err, errlen, "missing key 'token_file' (or "
		    "'credential')");
		return (-1);
	}
	if (strspn(page, "0123456789") != strlen(page) || strlen(page) > 30) {
		snprintf(err, errlen, "page_id: '%.40s' is not a Page id (the "
		    "digits of the Page's id)", page);
		return (-1);
	}
	if (!version_ok(ver)) {
		snprintf(err, errlen, "graph_version: '%.40s' is not a pinned "
		    "Graph API version (such as v24.0): an unversioned call "
		    "uses whatever the app defaults to", ver);
		return (-1);
	}
	return (0);
}

/* Frees F. */
static void
fb_free(struct fb *f)
{
	if (f == NULL)
		return;
	chan_secret_free(f->token, f->token_len);
	free(f->api);
	free(f->page);
	free(f->version);
	free(f);
}

/* Reads the channel's keys and its Page access token. */
static int
facebook_open(struct channel *ch, const struct config *c, char *err,
    size_t errlen)
{
	struct fb	*f;
	const char	*v;
	int64_t		 secs = FB_TIMEOUT;
	char		 msg[400];
	size_t		 n;

	(void)c;
	f = xcalloc(1, sizeof(*f));
	v = conf_chan_get(ch->cfg, "api", NULL);
	f->api = xstrdup(v != NULL ? v : FB_API);
	n = strlen(f->api);
	while (n > 0 && f->api[n - 1] == '/')
		f->api[--n] = '\0';
	f->page = xstrdup(conf_chan_get(ch->cfg, "page_id", NULL));
	f->version = xstrdup(conf_chan_get(ch->cfg, "graph_version", NULL));
	v = conf_chan_get(ch->cfg, "link_preview", NULL);
	f->link = v == NULL || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0;
	if ((v = conf_chan_get(ch->cfg, "timeout", NULL)) != NULL)
		conf_parse_duration(v, &secs);
	f->timeout_ms = (long)secs * 1000;
	msg[0] = '\0';
	if (chan_secret_read(ch->cfg, "token_file", &f->token, &f->token_len,
	    msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "channel %s: %s", ch->name, msg[0] ? msg :
		    "no token_file or credential");
		fb_free(f);
		return (-1);
	}
	ch->priv = f;
	return (0);
}

/* Frees the channel's state. */
static void
facebook_close(struct channel *ch)
{
	fb_free(ch->priv);
	ch->priv = NULL;
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

/* Appends NAME=S, form-urlencoded, to *B. */
static void
form_add(char **b, size_t *len, const char *name, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 e[3];

	if (*len > 0)
		buf_add(b, len, "&", 1);
	buf_add(b, len, name, strlen(name));
	buf_add(b, len, "=", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c) != NULL)
			buf_add(b, len, (const char *)&c, 1);
		else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			buf_add(b, len, e, 3);
		}
	}
}

/* Appends a multipart part NAME with VALUE (N bytes; FILE: a file part of TYPE). */
static void
part_add(char **b, size_t *len, const char *bnd, const char *name,
    const char *value, size_t n, const char *type)
{
	char	*head;

	if (type != NULL) {
		if (asprintf(&head, "--%s\r\nContent-Disposition: form-data; "
		    "name=\"%s\"; filename=\"image\"\r\nContent-Type: %s\r\n\r\n",
		    bnd, name, type) == -1)
			abort();
	} else if (asprintf(&head, "--%s\r\nContent-Disposition: form-data; "
	    "name=\"%s\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
	    bnd, name) == -1)
		abort();
	buf_add(b, len, head, strlen(head));
	free(head);
	buf_add(b, len, value, n);
	buf_add(b, len, "\r\n", 2);
}

/* The first http(s) URL in TEXT (malloc'd), or NULL. */
static char *
first_url(const char *text)
{
	const char	*p = text, *q;
	size_t		 n;

	while ((p = strstr(p, "http")) != NULL) {
		if ((p == text || isspace((unsigned char)p[-1]) ||
		    strchr("(<\"'", p[-1]) != NULL) &&
		    (strncmp(p, "https://", 8) == 0 ||
		    strncmp(p, "http://", 7) == 0)) {
			for (q = p; *q != '\0' && !isspace((unsigned char)*q) &&
			    strchr("<>\"", *q) == NULL; q++)
				;
			n = (size_t)(q - p);
			while (n > 0 && strchr(".,;:!?')", p[n - 1]) != NULL)
				n--;
			return (xstrndup(p, n));
		}
		p += 4;
	}
	return (NULL);
}

/* Builds P's request: /feed for text, /photos with one image. */
static int
facebook_build(struct channel *ch, const struct post *p,
    struct chan_request *rq, char *err, size_t errlen)
{
	const struct fb		*f = ch->priv;
	const struct media	*m;
	unsigned char		 rnd[16];
	char			 bnd[64], ctype[128], *link;
	size_t			 i;

	chan_request_bearer(rq, f->token);
	rq->method = "POST";
	rq->timeout_ms = f->timeout_ms;
	if (p->nmedia == 0) {
		if (asprintf(&rq->url, "%s/%s/%s/feed", f->api, f->version,
		    f->page) == -1)
			abort();
		chan_request_header(rq, "Content-Type",
		    "application/x-www-form-urlencoded");
		form_add(&rq->body, &rq->body_len, "message", p->text);
		if (f->link && (link = first_url(p->text)) != NULL) {
			form_add(&rq->body, &rq->body_len, "link", link);
			free(link);
		}
		return (0);
	}
	m = &p->media[0];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		snprintf(err, errlen, "no random bytes for a boundary");
		return (-1);
	}
	memcpy(bnd, "crier-", 6);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(bnd + 6 + i * 2, 3, "%02x", rnd[i]);
	snprintf(ctype, sizeof(ctype), "multipart/form-data; boundary=%s", bnd);
	chan_request_header(rq, "Content-Type", ctype);
	if (asprintf(&rq->url, "%s/%s/%s/photos", f->api, f->version,
	    f->page) == -1)
		abort();
	if (p->text[0] != '\0')
		part_add(&rq->body, &rq->body_len, bnd, "message", p->text,
		    strlen(p->text), NULL);
	if (m->alt != NULL && m->alt[0] != '\0')
		part_add(&rq->body, &rq->body_len, bnd, "alt_text_custom",
		    m->alt, strlen(m->alt), NULL);
	if (m->data != NULL)
		part_add(&rq->body, &rq->body_len, bnd, "source", m->data,
		    m->len, m->type != NULL ? m->type :
		    "application/octet-stream");
	else	/* remote: Facebook fetches it */
		part_add(&rq->body, &rq->body_len, bnd, "url", m->uri,
		    strlen(m->uri), NULL);
	buf_add(&rq->body, &rq->body_len, "--", 2);
	buf_add(&rq->body, &rq->body_len, bnd, strlen(bnd));
	buf_add(&rq->body, &rq->body_len, "--\r\n", 4);
	return (0);
}

/* The largest estimated_time_to_regain_access (minutes) in usage header V, in ms. */
static int64_t
regain_ms(const char *v)
{
	json_t		*j, *e, *x;
	const char	*k;
	size_t		 i;
	int64_t		 ms = 0, t;

	if (v == NULL || (j = json_loads(v, 0, NULL)) == NULL)
		return (0);
	x = json_object_get(j, "estimated_time_to_regain_access");
	if (json_is_integer(x))
		ms = json_integer_value(x) * 60 * 1000;
	/* X-Business-Use-Case-Usage: {"PAGE": [{..., "estimated_..."}]} */
	json_object_foreach(j, k, e) {
		if (!json_is_array(e))
			continue;
		json_array_foreach(e, i, x) {
			x = json_object_get(x, "estimated_time_to_regain_access");
			if (json_is_integer(x) && (t = json_integer_value(x) *
			    60 * 1000) > ms)
				ms = t;
		}
	}
	json_decref(j);
	return (ms);
}

/* True if X-App-Usage says a quota is spent (100 percent). */
static bool
app_spent(const char *v)
{
	json_t		*j, *x;
	const char	*k;
	bool		 spent = false;

	if (v == NULL || (j = json_loads(v, 0, NULL)) == NULL)
		return (false);
	json_object_foreach(j, k, x)
		if (json_is_number(x) && json_number_value(x) >= 100)
			spent = true;
	json_decref(j);
	return (spent);
}

/* When a rate-limited call may go again, from RESP's usage headers (ms from now). */
static int64_t
rate_wait(const struct http_response *resp)
{
	int64_t	ms, t;

	ms = regain_ms(http_header_get(resp, "X-Page-Usage"));
	if ((t = regain_ms(http_header_get(resp, "X-Business-Use-Case-Usage")))
	    > ms)
		ms = t;
	if ((t = regain_ms(http_header_get(resp, "X-Ad-Account-Usage"))) > ms)
		ms = t;
	if (ms == 0 && app_spent(http_header_get(resp, "X-App-Usage")))
		ms = FB_APP_WAIT;	/* percentages only: the next hour */
	return (ms > FB_WAIT_MAX ? FB_WAIT_MAX : ms);
}

/* Copies S into BUF as one printable line. */
static void
one_line(char *buf, size_t len, const char *s)
{
	size_t	o = 0;

	for (; *s != '\0' && o + 1 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c < 0x20 || c == 0x7f)
			continue;
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
}

/* Reads a Graph error object ERR of the answer RESP into R. */
static void
graph_error(const struct http_response *resp, json_t *e, struct chan_result *r)
{
	const char	*msg = json_string_value(json_object_get(e, "message"));
	const char	*trace = json_string_value(json_object_get(e,
			    "fbtrace_id"));
	json_int_t	 code = json_integer_value(json_object_get(e, "code"));
	json_int_t	 sub = json_integer_value(json_object_get(e,
			    "error_subcode"));
	char		 line[300];

	one_line(line, sizeof(line), msg != NULL ? msg : "no message");
	snprintf(r->error, sizeof(r->error), "HTTP %ld: Graph error %lld%s%.0lld:"
	    " %s%s%.40s%s", resp->status, (long long)code, sub ? "/" : "",
	    (long long)sub, line, trace ? " (fbtrace_id " : "", trace ? trace :
	    "", trace ? ")" : "");
	switch (code) {
	case 190:	/* token invalid or expired */
	case 102:	/* session */
	case 10:	/* permission */
	case 200:	/* permission (pages_manage_posts) */
		r->outcome = CHAN_AUTH;
		break;
	case 4:		/* application request limit */
	case 17:	/* user request limit */
	case 32:	/* page request limit */
	case 613:	/* rate limit */
		r->outcome = CHAN_TRANSIENT;
		r->retry_after = rate_wait(resp);
		r->channel_wait = r->retry_after;
		break;
	case 1:		/* unknown: "try again later" */
	case 2:		/* service temporarily unavailable */
		r->outcome = CHAN_TRANSIENT;
		break;
	default:
		r->outcome = resp->status >= 500 ? CHAN_TRANSIENT :
		    CHAN_PERMANENT;
		break;
	}
}

/* Classifies the Graph API's answer to P's request. */
static void
facebook_classify(struct channel *ch, const struct post *p,
    const struct http_response *resp, struct chan_result *r)
{
	json_t		*b = NULL, *e;
	const char	*id;

	(void)ch;
	(void)p;
	chan_http_classify(resp, r);
	if (resp->curl_code != CURLE_OK)
		return;
	b = json_loadb(resp->body, resp->body_len, 0, NULL);
	if (r->outcome == CHAN_SENT) {
		/* /photos answers post_id (the feed post) besides the photo's id. */
		id = json_string_value(json_object_get(b, "post_id"));
		if (id == NULL)
			id = json_string_value(json_object_get(b, "id"));
		if (id != NULL && strspn(id, "0123456789_") == strlen(id)) {
			snprintf(r->remote_id, sizeof(r->remote_id), "%s", id);
			snprintf(r->remote_url, sizeof(r->remote_url),
			    "https://www.facebook.com/%s", id);
		}
		json_decref(b);
		return;
	}
	if ((e = json_object_get(b, "error")) != NULL && json_is_object(e))
		graph_error(resp, e, r);
	json_decref(b);
}

/* --check: more than one image, or one without alt text. */
static int
facebook_check_post(const struct channel *ch, const struct cal_occurrence *o,
    char *msg, size_t len)
{
	const char	*mode = conf_chan_get(ch->cfg, "alt_text", NULL);

	if (o->nattach > 1) {
		snprintf(msg, len, "%zu attachments, crier posts one image to a "
		    "Facebook Page", o->nattach);
		return (CHAN_CHECK_PROBLEM);
	}
	if (o->nattach == 1 && (o->attach[0].alt == NULL ||
	    o->attach[0].alt[0] == '\0')) {
		snprintf(msg, len, "image %s has no alt text (add X-CRIER-ALT "
		    "to the ATTACH, or alt: to the front matter)",
		    o->attach[0].uri);
		return (mode != NULL && strcmp(mode, "warn") == 0 ?
		    CHAN_CHECK_WARNING : CHAN_CHECK_PROBLEM);
	}
	return (CHAN_CHECK_OK);
}

const struct channel_ops facebook_ops = {
	.type = "facebook",
	.media = &fb_rules,
	.idempotent = false,	/* no idempotency key: a crash is uncertain */
	.len_rule = LEN_FACEBOOK,
	.default_limit = 63206,
	.keys = facebook_keys,
	.check = facebook_check,
	.open = facebook_open,
	.close = facebook_close,
	.build = facebook_build,
	.classify = facebook_classify,
	.check_post = facebook_check_post,
};
