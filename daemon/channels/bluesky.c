/*
 * The bluesky channel: an atproto session (xrpc.c: createSession with an
 * app password, refreshSession before the access token expires and when
 * the server says ExpiredToken; tokens in memory only), @mentions resolved
 * with resolveHandle, images (the post's media) uploaded with uploadBlob,
 * else an optional link card from the page's OpenGraph tags
 * (opengraph.c), then the post written with putRecord at a record key
 * derived from the delivery id (atproto.c) and swapRecord null: a retry
 * finds the record it wrote (InvalidSwap), reads it back and reports it
 * sent, never a second post. A thread (split = thread) writes part N at
 * the key of "ID/N", replying to part 1 (root) and part N-1 (parent).
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <jansson.h>

#include "../calendar/calendar.h"
#include "../channel.h"
#include "../http.h"
#include "../log.h"
#include "../media.h"
#include "../thread.h"
#include "../when.h"
#include "bluesky_engage.h"
#include "atproto.h"
#include "opengraph.h"
#include "xrpc.h"

#define BSKY_SERVICE		"https://bsky.social"
#define BSKY_COLLECTION		"app.bsky.feed.post"
#define XRPC_TIMEOUT_MS		30000L
#define BSKY_CARD_TIMEOUT_MS	10000L
#define BSKY_CARD_MAX		(1024 * 1024)	/* page bytes scanned */
#define BSKY_CARD_TEXT_MAX	300		/* title/description bytes */
#define BSKY_CARD_REDIRECTS	3
#define BSKY_IMAGES_MAX		4		/* per post (the lexicon) */
#define BSKY_IMAGE_MAX		1000000		/* bytes per image (the lexicon) */

enum bstep {
	ST_SESSION,	/* a usable access token */
	ST_MENTIONS,	/* resolve @handles */
	ST_IMAGES,	/* fetch (https) and upload each image */
	ST_CARD,	/* fetch the link card's page */
	ST_PUT,		/* putRecord */
	ST_GET,		/* getRecord: the record was there already */
	ST_DONE,
};

/* An image of a post: its bytes, then the blob the PDS made of them. */
struct bimg {
	char		*uri;
	char		*mime;
	char		*alt;
	char		*data;		/* NULL: an https URL not fetched yet */
	size_t		 len;
	json_t		*blob;		/* NULL: not uploaded yet */
};

/* One delivery on its way. */
struct bjob {
	struct xrpc_acct	*a;
	chan_done_fn		 done;
	void			*arg;
	char			*id;
	char			*text;
	char			 rkey[ATPROTO_TID_LEN + 1];
	const struct post	*post;		/* valid until done */
	size_t			 part;		/* a thread's part being written */
	enum bstep		 step;
	enum bstep		 after_session;	/* where to go once logged in */
	int			 relogins;	/* token refreshes this job asked for */
	struct atproto_facet	*facets;
	size_t			 nfacets;
	size_t			 next;		/* mention being resolved */
	char			*card_url;	/* page being fetched, NULL: no card */
	int			 redirects;
	char			*card_title;
	char			*card_desc;
	struct bimg		 img[BSKY_IMAGES_MAX];
	size_t			 nimg;
	size_t			 cur;		/* image being fetched/uploaded */
	struct xrpc_waiter	 w;		/* for the account's session */
};

static const struct chan_key bluesky_keys[] = {
	{ "service", CK_URL, false, NULL },
	{ "handle", CK_STRING, true, NULL },
	{ "password_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "language", CK_STRING, false, NULL },
	{ "link_cards", CK_BOOL, false, NULL },
	{ "split", CK_ENUM, false, "thread|none" },
	{ NULL, 0, false, NULL },
};

static const struct media_rules bsky_rules = {
	.max_items = BSKY_IMAGES_MAX,
	.items = "images (Bluesky's limit)",
	.max_bytes = BSKY_IMAGE_MAX,
	.too_big = "over 1000000 bytes, Bluesky's limit",
	.what = "image",
	.images_only = true,
};

static void	job_run(struct bjob *);

/* Checks the keys together: a handle, one secret, good languages. */
static int
bluesky_check(const struct cfg_channel *cc, const struct config *c, char *err,
    size_t errlen)
{
	const char	*pf = conf_chan_get(cc, "password_file", NULL);
	const char	*cr = conf_chan_get(cc, "credential", NULL);
	const char	*h = conf_chan_get(cc, "handle", NULL);
	json_t		*l;

	(void)c;
	if ((pf == NULL) == (cr == NULL)) {
		snprintf(err, errlen, "needs exactly one of password_file and "
		    "credential (an app password)");
		return (-1);
	}
	if (h != NULL && !atproto_handle_ok(*h == '@' ? h + 1 : h) &&
	    strncmp(h, "did:", 4) != 0) {
		snprintf(err, errlen, "handle: '%s' is not a handle (such as "
		    "example.bsky.social) or a DID", h);
		return (-1);
	}
	if ((l = atproto_langs(conf_chan_get(cc, "language", NULL), err,
	    errlen)) == NULL)
		return (-1);
	json_decref(l);
	return (0);
}

/* Reads the channel's keys and its app password. */
static int
bluesky_open(struct channel *ch, const struct config *c, char *err,
    size_t errlen)
{
	struct xrpc_acct	*a;
	const char		*sv = conf_chan_get(ch->cfg, "service", NULL);
	const char		*h = conf_chan_get(ch->cfg, "handle", NULL);
	const char		*lc = conf_chan_get(ch->cfg, "link_cards", NULL);
	char			 msg[400];
	size_t			 n;

	(void)c;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		abort();
	a->refs = 1;
	TAILQ_INIT(&a->waiters);
	if ((a->name = strdup(ch->name)) == NULL ||
	    (a->service = strdup(sv != NULL ? sv : BSKY_SERVICE)) == NULL ||
	    (a->handle = strdup(*h == '@' ? h + 1 : h)) == NULL)
		abort();
	n = strlen(a->service);
	while (n > 0 && a->service[n - 1] == '/')
		a->service[--n] = '\0';
	a->link_cards = lc != NULL && (strcasecmp(lc, "yes") == 0 ||
	    strcasecmp(lc, "true") == 0);
	if ((a->langs = atproto_langs(conf_chan_get(ch->cfg, "language", NULL),
	    msg, sizeof(msg))) == NULL ||
	    chan_secret_read(ch->cfg, "password_file", &a->password, &a->pwlen,
	    msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "channel %s: %s", ch->name, a->langs ?
		    msg : "no password_file or credential");
		xrpc_acct_unref(a);
		return (-1);
	}
	ch->priv = a;
	return (0);
}

/* Lets go of the channel's account; requests under way keep it alive. */
static void
bluesky_close(struct channel *ch)
{
	xrpc_acct_unref(ch->priv);
	ch->priv = NULL;
}

/* Frees J. */
static void
job_free(struct bjob *j)
{
	size_t	i;

	xrpc_acct_unref(j->a);
	atproto_facets_free(j->facets, j->nfacets);
	free(j->id);
	free(j->text);
	free(j->card_url);
	free(j->card_title);
	free(j->card_desc);
	for (i = 0; i < j->nimg; i++) {
		free(j->img[i].uri);
		free(j->img[i].mime);
		free(j->img[i].alt);
		free(j->img[i].data);
		json_decref(j->img[i].blob);
	}
	free(j);
}

/* Ends J with R (exactly once), then frees it. */
static void
job_finish(struct bjob *j, const struct chan_result *r)
{
	j->step = ST_DONE;
	j->done(j->arg, r);
	job_free(j);
}

/* Ends J with OUTCOME and a message. */
static void
job_fail(struct bjob *j, enum chan_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ends J with OUTCOME and the message FMT. */
static void
job_fail(struct bjob *j, enum chan_outcome outcome, const char *fmt, ...)
{
	struct chan_result	r;
	va_list			ap;

	memset(&r, 0, sizeof(r));
	r.outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(r.error, sizeof(r.error), fmt, ap);
	va_end(ap);
	job_finish(j, &r);
}

/* Ends J as crierd stops. */
static void
job_abort(struct bjob *j)
{
	struct chan_result	r;

	memset(&r, 0, sizeof(r));
	r.outcome = CHAN_TRANSIENT;
	r.aborted = true;
	snprintf(r.error, sizeof(r.error), "crierd stopped during the request");
	job_finish(j, &r);
}

/* J's account has its session (R NULL): on with J; or J ends with R. */
static void
session_ready(struct xrpc_waiter *w, const struct chan_result *r)
{
	struct bjob	*j = (struct bjob *)(void *)((char *)w -
			    offsetof(struct bjob, w));

	if (r == NULL) {
		j->step = j->after_session;
		job_run(j);
	} else if (r->aborted)
		job_abort(j);
	else
		job_finish(j, r);
}

/*
 * The token of J's account was refused: drop it (unless another job has
 * renewed it meanwhile) and go back to STEP once there is a new one; at
 * most twice per job, then R's refusal stands.
 */
static void
job_relogin(struct bjob *j, const char *used, enum bstep step,
    const struct http_response *resp, const char *what)
{
	struct chan_result	r;

	if (j->relogins++ >= 2) {
		xrpc_result(resp, what, &r);
		r.outcome = CHAN_AUTH;
		job_finish(j, &r);
		return;
	}
	if (j->a->access != NULL && used != NULL &&
	    strcmp(j->a->access, used) == 0) {
		chan_secret_free(j->a->access, strlen(j->a->access));
		j->a->access = NULL;
	}
	j->step = ST_SESSION;
	j->after_session = step;
	job_run(j);
}

/* The Authorization token a request of J sent (to compare after a refusal). */
static char *
token_copy(const struct bjob *j)
{
	char	*t;

	if (j->a->access == NULL)
		return (NULL);
	if ((t = strdup(j->a->access)) == NULL)
		abort();
	return (t);
}

static void	mention_done(void *, const struct http_response *);
static void	card_done(void *, const struct http_response *);
static void	put_done(void *, const struct http_response *);
static void	get_done(void *, const struct http_response *);

/* Starts resolving J's next unresolved mention; 1 if none is left. */
static int
mention_next(struct bjob *j)
{
	char	*q, *esc;
	int	 rc;

	while (j->next < j->nfacets && j->facets[j->next].kind != AF_MENTION)
		j->next++;
	if (j->next == j->nfacets)
		return (1);
	if ((esc = curl_easy_escape(NULL, j->facets[j->next].value, 0)) == NULL)
		abort();
	if (asprintf(&q, "handle=%s", esc) == -1)
		abort();
	curl_free(esc);
	rc = xrpc_call(j->a, "GET", "com.atproto.identity.resolveHandle", q, NULL,
	    NULL, NULL, 0, mention_done, j);
	free(q);
	return (rc);
}

/* resolveHandle answered: a DID for the mention, or plain text with a warning. */
static void
mention_done(void *arg, const struct http_response *resp)
{
	struct bjob		*j = arg;
	struct atproto_facet	*f = &j->facets[j->next];
	struct chan_result	 r;
	json_t			*js;
	const char		*did;

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		job_abort(j);
		return;
	}
	if (resp->curl_code == CURLE_OK && resp->status == 200 &&
	    resp->body != NULL &&
	    (js = json_loadb(resp->body, resp->body_len, 0, NULL)) != NULL) {
		did = json_string_value(json_object_get(js, "did"));
		if (did != NULL && strncmp(did, "did:", 4) == 0 &&
		    (f->did = strdup(did)) == NULL)
			abort();
		json_decref(js);
	}
	if (f->did == NULL) {
		xrpc_result(resp, "resolveHandle", &r);
		if (r.outcome == CHAN_TRANSIENT && resp->status != 400) {
			job_finish(j, &r);
			return;
		}
		log_warnx("delivery %s: @%s does not resolve (%s): left as "
		    "plain text", j->id, f->value, r.error);
	}
	j->next++;
	job_run(j);
}

/* Starts fetching the link card's page of J. */
static int
card_fetch(struct bjob *j)
{
	struct http_request	 rq;
	const char		*hdrs[] = { "Accept: text/html,application/xhtml+xml",
	    "User-Agent: crier/" PACKAGE_VERSION " (link card)", NULL };

	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = j->card_url;
	rq.headers = hdrs;
	rq.timeout_ms = BSKY_CARD_TIMEOUT_MS;
	rq.public_only = true;		/* the link is the calendar's */
	rq.max_body = BSKY_CARD_MAX;
	return (http_start(&rq, card_done, j));
}

/* The page answered: its OpenGraph title and description, or no card. */
static void
card_done(void *arg, const struct http_response *resp)
{
	struct bjob	*j = arg;
	const char	*loc, *ct;
	char		*next;

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		job_abort(j);
		return;
	}
	if (resp->curl_code == CURLE_OK && resp->status >= 300 &&
	    resp->status < 400 && j->redirects < BSKY_CARD_REDIRECTS &&
	    (loc = http_header_get(resp, "Location")) != NULL &&
	    (next = http_redirect_url(j->card_url, loc)) != NULL) {
		free(j->card_url);
		j->card_url = next;
		j->redirects++;
		if (card_fetch(j) == 0)
			return;
	} else if (resp->curl_code != CURLE_OK)
		log_warnx("delivery %s: link card: %s: %s; posting without "
		    "a card", j->id, j->card_url, resp->error[0] ? resp->error :
		    curl_easy_strerror((CURLcode)resp->curl_code));
	else if (resp->status != 200)
		log_warnx("delivery %s: link card: %s: HTTP %ld; posting without "
		    "a card", j->id, j->card_url, resp->status);
	else if ((ct = http_header_get(resp, "Content-Type")) != NULL &&
	    strncasecmp(ct, "text/html", 9) != 0 &&
	    strncasecmp(ct, "application/xhtml", 17) != 0)
		log_warnx("delivery %s: link card: %s is %s, not HTML; posting "
		    "without a card", j->id, j->card_url, ct);
	else
		opengraph_parse(resp->body, resp->body_len < BSKY_CARD_MAX ?
		    resp->body_len : BSKY_CARD_MAX, BSKY_CARD_TEXT_MAX,
		    &j->card_title, &j->card_desc);
	if (j->card_title == NULL && j->card_desc == NULL) {
		free(j->card_url);
		j->card_url = NULL;	/* no card after all */
	}
	j->step = ST_PUT;
	job_run(j);
}

/* A copy of the LEN bytes at S, NUL-terminated (NULL stays NULL). */
static char *
dup_n(const char *s, size_t len)
{
	char	*r;

	if (s == NULL)
		return (NULL);
	if ((r = malloc(len + 1)) == NULL)
		abort();
	memcpy(r, s, len);
	r[len] = '\0';
	return (r);
}

/* Takes P's images (read and checked by media.c against bsky_rules) into J. */
static int
take_images(struct bjob *j, const struct post *p, char *err, size_t errlen)
{
	const struct media	*l = p->media;
	size_t			 i;

	if (p->nmedia > BSKY_IMAGES_MAX) {
		snprintf(err, errlen, "more than %d images", BSKY_IMAGES_MAX);
		return (-1);
	}
	for (i = 0; i < p->nmedia; i++) {
		struct bimg *im = &j->img[i];

		im->uri = dup_n(l[i].uri, strlen(l[i].uri));
		im->mime = l[i].type != NULL ? dup_n(l[i].type,
		    strlen(l[i].type)) : NULL;	/* remote: known once fetched */
		im->alt = l[i].alt != NULL ? dup_n(l[i].alt, strlen(l[i].alt)) :
		    dup_n("", 0);
		im->data = dup_n(l[i].data, l[i].len);
		im->len = l[i].len;
	}
	j->nimg = p->nmedia;
	return (0);
}

static void	image_done(void *, const struct http_response *);
static void	upload_done(void *, const struct http_response *);

/* Starts J's next image step (fetch or upload); 1 if all are uploaded. */
static int
image_next(struct bjob *j)
{
	struct http_request	 rq;
	struct bimg		*im;

	while (j->cur < j->nimg && j->img[j->cur].blob != NULL)
		j->cur++;
	if (j->cur == j->nimg)
		return (1);
	im = &j->img[j->cur];
	if (im->data == NULL) {
		memset(&rq, 0, sizeof(rq));
		rq.method = "GET";
		rq.url = im->uri;
		rq.timeout_ms = XRPC_TIMEOUT_MS;
		rq.public_only = true;	/* the URL is the calendar's */
		rq.max_body = BSKY_IMAGE_MAX;
		return (http_start(&rq, image_done, j));
	}
	return (xrpc_call(j->a, "POST", "com.atproto.repo.uploadBlob", NULL,
	    j->a->access, im->mime, im->data, im->len, upload_done, j));
}

/* An https image answered: keep its bytes for the upload. */
static void
image_done(void *arg, const struct http_response *resp)
{
	struct bjob		*j = arg;
	struct bimg		*im = &j->img[j->cur];
	struct chan_result	 r;
	const char		*type;
	char			 what[600];

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		job_abort(j);
		return;
	}
	if (resp->refused) {
		job_fail(j, CHAN_PERMANENT, "image %s: %s", im->uri, resp->error);
		return;
	}
	if (resp->curl_code != CURLE_OK || resp->status != 200) {
		snprintf(what, sizeof(what), "image %s", im->uri);
		xrpc_result(resp, what, &r);
		if (r.outcome == CHAN_AUTH)
			r.outcome = CHAN_PERMANENT;	/* not our account */
		job_finish(j, &r);
		return;
	}
	if (resp->body_len == 0 || resp->body_len > BSKY_IMAGE_MAX) {
		job_fail(j, CHAN_PERMANENT, "image %s: %s", im->uri,
		    resp->body_len ? "over 1000000 bytes, Bluesky's limit" :
		    "empty");
		return;
	}
	if (media_content_type(resp->body, resp->body_len, im->mime, &bsky_rules,
	    &type, what, sizeof(what)) == -1) {
		job_fail(j, CHAN_PERMANENT, "image %s: %s", im->uri, what);
		return;
	}
	free(im->mime);
	if ((im->mime = strdup(type)) == NULL ||
	    (im->data = malloc(resp->body_len)) == NULL)
		abort();
	memcpy(im->data, resp->body, resp->body_len);
	im->len = resp->body_len;
	job_run(j);
}

/* uploadBlob answered: the blob goes into the post's images embed. */
static void
upload_done(void *arg, const struct http_response *resp)
{
	struct bjob		*j = arg;
	struct bimg		*im = &j->img[j->cur];
	struct chan_result	 r;
	json_t			*js, *b;

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		job_abort(j);
		return;
	}
	if (resp->curl_code == CURLE_OK && resp->status == 200 &&
	    resp->body != NULL &&
	    (js = json_loadb(resp->body, resp->body_len, 0, NULL)) != NULL) {
		b = json_object_get(js, "blob");
		if (json_is_object(b))
			im->blob = json_incref(b);
		json_decref(js);
		if (im->blob == NULL) {
			job_fail(j, CHAN_TRANSIENT, "uploadBlob: an answer "
			    "without a blob");
			return;
		}
		j->cur++;
		job_run(j);
		return;
	}
	if (xrpc_token_refused(resp)) {
		char *used = token_copy(j);

		job_relogin(j, used, ST_IMAGES, resp, "uploadBlob");
		free(used);
		return;
	}
	xrpc_result(resp, "uploadBlob", &r);
	job_finish(j, &r);
}

/* The uri of J's card: the link as written in the post (not a redirect's). */
static const char *
card_uri(const struct bjob *j)
{
	size_t	i;

	for (i = 0; i < j->nfacets; i++)
		if (j->facets[i].kind == AF_LINK)
			return (j->facets[i].value);
	return (NULL);
}

/* The record of J: text, createdAt, langs, facets, reply, embed. */
static json_t *
job_record(const struct bjob *j)
{
	const struct post_part	*pp = j->post->parts;
	json_t			*rec, *facets;
	char			 now[40];
	int64_t			 ms = when_now();
	time_t			 t = (time_t)(ms / 1000);
	struct tm		 tm;
	size_t			 i;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(now + strlen(now), sizeof(now) - strlen(now), ".%03dZ",
	    (int)(ms % 1000));
	rec = json_pack("{s:s, s:s, s:s}", "$type", BSKY_COLLECTION,
	    "text", j->text, "createdAt", now);
	if (rec == NULL)
		return (NULL);
	if (json_array_size(j->a->langs) > 0)
		json_object_set(rec, "langs", j->a->langs);
	facets = atproto_facets_json(j->facets, j->nfacets);
	if (json_array_size(facets) > 0)
		json_object_set(rec, "facets", facets);
	json_decref(facets);
	if (j->part > 0 && json_object_set_new(rec, "reply", json_pack(
	    "{s:{s:s, s:s}, s:{s:s, s:s}}", "root", "uri", pp[0].remote_id,
	    "cid", pp[0].ref, "parent", "uri", pp[j->part - 1].remote_id,
	    "cid", pp[j->part - 1].ref)) == -1) {
		json_decref(rec);
		return (NULL);
	}
	if (j->nimg > 0 && j->part == 0) {
		json_t *imgs = json_array();

		for (i = 0; i < j->nimg; i++)
			json_array_append_new(imgs, json_pack("{s:s, s:O}",
			    "alt", j->img[i].alt, "image", j->img[i].blob));
		json_object_set_new(rec, "embed", json_pack("{s:s, s:o}",
		    "$type", "app.bsky.embed.images", "images", imgs));
	} else if (j->card_url != NULL && card_uri(j) != NULL)
		json_object_set_new(rec, "embed", json_pack("{s:s, s:{s:s, s:s, "
		    "s:s}}", "$type", "app.bsky.embed.external", "external",
		    "uri", card_uri(j), "title", j->card_title ? j->card_title :
		    "", "description", j->card_desc ? j->card_desc : ""));
	return (rec);
}

/* Starts putRecord of J's post at its record key, which must not exist yet. */
static int
put_start(struct bjob *j)
{
	json_t	*rec, *body;

	if ((rec = job_record(j)) == NULL)
		return (-1);
	body = json_pack("{s:s, s:s, s:s, s:o, s:n}", "repo", j->a->did,
	    "collection", BSKY_COLLECTION, "rkey", j->rkey, "record", rec,
	    "swapRecord");
	if (body == NULL)
		return (-1);
	return (xrpc_json(j->a, "com.atproto.repo.putRecord", j->a->access, body,
	    put_done, j));
}

/* Fills R as sent, with the record's at:// URI and its bsky.app address. */
static void
sent_result(const struct bjob *j, const char *uri, struct chan_result *r)
{
	memset(r, 0, sizeof(*r));
	r->outcome = CHAN_SENT;
	snprintf(r->remote_id, sizeof(r->remote_id), "%s", uri);
	snprintf(r->remote_url, sizeof(r->remote_url),
	    "https://bsky.app/profile/%s/post/%s", j->a->did, j->rkey);
}

/* The "uri" of a 200 answer (its "cid" in *CID if any), or NULL. */
static char *
answer_uri(const struct http_response *resp, char **cid)
{
	json_t		*js;
	const char	*u;
	char		*out = NULL;

	if (resp->body == NULL ||
	    (js = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL)
		return (NULL);
	if ((u = json_string_value(json_object_get(js, "uri"))) != NULL &&
	    strncmp(u, "at://", 5) == 0 && (out = strdup(u)) == NULL)
		abort();
	if (out != NULL && (u = json_string_value(json_object_get(js, "cid")))
	    != NULL && (*cid = strdup(u)) == NULL)
		abort();
	json_decref(js);
	return (out);
}

/*
 * Sets J up for thread part J->part (or the post, not a thread): its
 * text, facets and record key; the card and images go with part 1 only.
 */
static int
part_begin(struct bjob *j)
{
	char	key[64];

	if (j->post->nparts == 0) {
		atproto_tid(j->id, j->rkey);
		return (0);
	}
	snprintf(key, sizeof(key), "%s/%zu", j->id, j->part + 1);
	atproto_tid(key, j->rkey);
	free(j->text);
	atproto_facets_free(j->facets, j->nfacets);
	j->facets = NULL;
	j->nfacets = 0;
	j->next = 0;
	if ((j->text = strdup(j->post->parts[j->part].text)) == NULL)
		abort();
	if (j->part > 0) {
		free(j->card_url);
		j->card_url = NULL;
	}
	return (atproto_facets(j->text, &j->facets, &j->nfacets));
}

/*
 * J's record (part) is at URI with CID: a thread's part is recorded and
 * the next one goes; else (or after the last part) J ends as sent.
 */
static void
record_done(struct bjob *j, const char *uri, const char *cid)
{
	const struct chan_journal	*jl = j->post->journal;
	struct chan_result		 r;

	sent_result(j, uri, &r);
	if (j->post->nparts == 0) {
		job_finish(j, &r);
		return;
	}
	if (jl->part(jl->arg, j->part, uri, r.remote_url, cid) == -1) {
		job_fail(j, CHAN_TRANSIENT, "part %zu was posted but cannot "
		    "be recorded", j->part + 1);
		return;
	}
	if ((j->part = thread_next(j->post)) >= j->post->nparts) {
		thread_sent(j->post, &r);
		job_finish(j, &r);
		return;
	}
	if (part_begin(j) == -1) {
		job_fail(j, CHAN_PERMANENT, "part %zu is not valid UTF-8",
		    j->part + 1);
		return;
	}
	j->step = ST_MENTIONS;
	job_run(j);
}

/* putRecord answered: sent; already there (a retry): read it back; or an error. */
static void
put_done(void *arg, const struct http_response *resp)
{
	struct bjob		*j = arg;
	struct chan_result	 r;
	char			 name[64], msg[8], *uri, *cid = NULL;

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		job_abort(j);
		return;
	}
	if (resp->curl_code == CURLE_OK && resp->status == 200) {
		if ((uri = answer_uri(resp, &cid)) == NULL) {
			job_fail(j, CHAN_TRANSIENT, "putRecord: an answer "
			    "without the record's uri");
			return;
		}
		record_done(j, uri, cid);
		free(uri);
		free(cid);
		return;
	}
	if (xrpc_token_refused(resp)) {
		char *used = token_copy(j);

		log_info("delivery %s: access token refused, renewing the "
		    "session", j->id);
		job_relogin(j, used, ST_PUT, resp, "putRecord");
		free(used);
		return;
	}
	xrpc_error(resp, name, sizeof(name), msg, sizeof(msg));
	if (resp->curl_code == CURLE_OK && resp->status == 400 &&
	    strcmp(name, "InvalidSwap") == 0) {
		/* Our record key is taken: an earlier attempt wrote it. */
		log_info("delivery %s: record %s exists already (an earlier "
		    "attempt): not posting again", j->id, j->rkey);
		j->step = ST_GET;
		job_run(j);
		return;
	}
	xrpc_result(resp, "putRecord", &r);
	job_finish(j, &r);
}

/* Starts getRecord of J's record key. */
static int
get_start(struct bjob *j)
{
	char	*q, *repo;
	int	 rc;

	if ((repo = curl_easy_escape(NULL, j->a->did, 0)) == NULL)
		abort();
	if (asprintf(&q, "repo=%s&collection=%s&rkey=%s", repo, BSKY_COLLECTION,
	    j->rkey) == -1)
		abort();
	curl_free(repo);
	rc = xrpc_call(j->a, "GET", "com.atproto.repo.getRecord", q, j->a->access,
	    NULL, NULL, 0, get_done, j);
	free(q);
	return (rc);
}

/* getRecord answered: the existing record is this delivery, sent. */
static void
get_done(void *arg, const struct http_response *resp)
{
	struct bjob		*j = arg;
	struct chan_result	 r;
	char			*uri, *cid = NULL;

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		job_abort(j);
		return;
	}
	if (resp->curl_code == CURLE_OK && resp->status == 200 &&
	    (uri = answer_uri(resp, &cid)) != NULL) {
		record_done(j, uri, cid);
		free(uri);
		free(cid);
		return;
	}
	if (xrpc_token_refused(resp)) {
		char *used = token_copy(j);

		job_relogin(j, used, ST_GET, resp, "getRecord");
		free(used);
		return;
	}
	xrpc_result(resp, "getRecord", &r);
	if (r.outcome == CHAN_PERMANENT)	/* gone again: write it next time */
		r.outcome = CHAN_TRANSIENT;
	job_finish(j, &r);
}

/* Runs J's current step; ends J if a request cannot even start. */
static void
job_run(struct bjob *j)
{
	struct xrpc_acct	*a = j->a;
	int			 rc = 0;

	for (;;) {
		switch (j->step) {
		case ST_SESSION:
			if (a->access == NULL || a->did == NULL ||
			    when_now() >= a->refresh_at) {
				if (xrpc_session_wait(a, &j->w) == -1)
					job_fail(j, CHAN_TRANSIENT, "cannot "
					    "start the session request");
				return;
			}
			j->step = j->after_session;
			continue;
		case ST_MENTIONS:
			if ((rc = mention_next(j)) == 1) {
				j->step = ST_IMAGES;
				continue;
			}
			break;
		case ST_IMAGES:
			if (j->cur < j->nimg && (a->access == NULL ||
			    when_now() >= a->refresh_at)) {
				j->step = ST_SESSION;
				j->after_session = ST_IMAGES;
				continue;
			}
			if ((rc = image_next(j)) == 1) {
				j->step = ST_CARD;
				continue;
			}
			break;
		case ST_CARD:
			if (j->card_url == NULL || j->card_title != NULL ||
			    j->card_desc != NULL) {
				j->step = ST_PUT;
				continue;
			}
			rc = card_fetch(j);
			break;
		case ST_PUT:
			if (a->access == NULL || when_now() >= a->refresh_at) {
				j->step = ST_SESSION;
				j->after_session = ST_PUT;
				continue;
			}
			rc = put_start(j);
			break;
		case ST_GET:
			if (a->access == NULL) {
				j->step = ST_SESSION;
				j->after_session = ST_GET;
				continue;
			}
			rc = get_start(j);
			break;
		case ST_DONE:
			return;
		}
		if (rc == -1)
			job_fail(j, CHAN_TRANSIENT, "cannot start the request");
		return;
	}
}

/*
 * Starts delivering P: facets now, then session, mentions, images or card,
 * record; for a thread, from its first part not confirmed yet.
 */
static int
bluesky_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	struct xrpc_acct	*a = ch->priv;
	struct chan_result	 r;
	struct bjob		*j;
	size_t			 i;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		abort();
	j->w.ready = session_ready;
	if ((j->id = strdup(p->id)) == NULL || (j->text = strdup(p->text)) == NULL)
		abort();
	j->post = p;
	j->a = a;
	a->refs++;
	j->done = done;
	j->arg = arg;
	if (p->nparts > 0 && (j->part = thread_next(p)) >= p->nparts) {
		thread_sent(p, &r);	/* every part went before a crash */
		job_finish(j, &r);
		return (0);
	}
	if ((p->nparts == 0 && atproto_facets(j->text, &j->facets,
	    &j->nfacets) == -1) || part_begin(j) == -1) {
		snprintf(err, errlen, "the text is not valid UTF-8");
		job_free(j);
		return (-1);
	}
	if (j->part == 0 && take_images(j, p, err, errlen) == -1) {
		job_free(j);
		return (-1);
	}
	/* A post with images has no link card. */
	if (a->link_cards && j->nimg == 0 && j->part == 0)
		for (i = 0; i < j->nfacets; i++)
			if (j->facets[i].kind == AF_LINK) {
				if ((j->card_url = strdup(j->facets[i].value)) ==
				    NULL)
					abort();
				break;
			}
	/* The session first: mentions could do without, the rest cannot. */
	j->step = ST_SESSION;
	j->after_session = ST_MENTIONS;
	job_run(j);
	return (0);
}

const struct channel_ops bluesky_ops = {
	.type = "bluesky",
	.media = &bsky_rules,
	.idempotent = true,	/* a record key per delivery, swapRecord null */
	.len_rule = LEN_BLUESKY,
	.default_limit = 300,
	.keys = bluesky_keys,
	.check = bluesky_check,
	.open = bluesky_open,
	.close = bluesky_close,
	.start = bluesky_start,
	.engage = bluesky_engage,
};
