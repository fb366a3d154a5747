/*
 * Engagement on Bluesky: likeCount, repostCount and replyCount of the
 * post view app.bsky.feed.getPosts returns, asked with the channel's
 * session (logging in once more if its token is refused).
 */
#include <config.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bluesky_engage.h"
#include "xrpc.h"
#include "../http.h"
#include "../../common/util.h"

#define BENGAGE_URI_MAX		512

/* One request under way; holds a reference to the account. */
struct bengage {
	struct xrpc_waiter	 w;
	struct xrpc_acct	*a;
	char			*uri;
	char			*used;		/* the token the request sent */
	bool			 relogged;
	chan_engage_fn		 done;
	void			*arg;
};

static int	get_posts(struct bengage *);

/* Ends B with E and frees it. */
static void
finish(struct bengage *b, const struct chan_engagement *e)
{
	b->done(b->arg, e);
	xrpc_acct_unref(b->a);
	free(b->uri);
	if (b->used != NULL)
		chan_secret_free(b->used, strlen(b->used));
	free(b);
}

/* Ends B with an error MSG (and, R not NULL, its wait and abort). */
static void
fail_with(struct bengage *b, const char *msg, const struct chan_result *r)
{
	struct chan_engagement	e;

	memset(&e, 0, sizeof(e));
	snprintf(e.error, sizeof(e.error), "%s", msg);
	if (r != NULL) {
		e.aborted = r->aborted;
		e.wait_ms = r->channel_wait > r->retry_after ? r->channel_wait :
		    r->retry_after;
	}
	finish(b, &e);
}

/* An integer field K of O, or -1. */
static int64_t
count_of(json_t *o, const char *k)
{
	json_t	*v = json_object_get(o, k);

	return (json_is_integer(v) && json_integer_value(v) >= 0 ?
	    (int64_t)json_integer_value(v) : -1);
}

/* getPosts answered. */
static void
posts_done(void *arg, const struct http_response *resp)
{
	struct bengage		*b = arg;
	struct chan_engagement	 e;
	struct chan_result	 r;
	json_t			*j = NULL, *p;

	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		memset(&r, 0, sizeof(r));
		r.aborted = true;
		fail_with(b, "crierd stopped during the request", &r);
		return;
	}
	if (xrpc_token_refused(resp) && !b->relogged) {
		b->relogged = true;
		if (b->a->access != NULL && b->used != NULL &&
		    strcmp(b->a->access, b->used) == 0) {
			chan_secret_free(b->a->access, strlen(b->a->access));
			b->a->access = NULL;
		}
		if (xrpc_session_wait(b->a, &b->w) == -1)
			fail_with(b, "cannot start a session", NULL);
		return;
	}
	memset(&e, 0, sizeof(e));
	if (resp->curl_code != CURLE_OK || resp->status != 200) {
		xrpc_result(resp, "getPosts", &r);
		fail_with(b, r.error, &r);
		return;
	}
	if ((j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL ||
	    (p = json_array_get(json_object_get(j, "posts"), 0)) == NULL)
		snprintf(e.error, sizeof(e.error), "getPosts: the post is not "
		    "there (deleted?)");
	else if ((e.likes = count_of(p, "likeCount")) < 0 ||
	    (e.reposts = count_of(p, "repostCount")) < 0 ||
	    (e.replies = count_of(p, "replyCount")) < 0)
		snprintf(e.error, sizeof(e.error), "getPosts: the post view has "
		    "no likeCount, repostCount and replyCount");
	else
		e.ok = true;
	json_decref(j);
	finish(b, &e);
}

/* The account has its session (R NULL), or getting it failed with R. */
static void
session_ready(struct xrpc_waiter *w, const struct chan_result *r)
{
	struct bengage	*b = (struct bengage *)(void *)((char *)w -
			    offsetof(struct bengage, w));

	if (r != NULL)
		fail_with(b, r->error, r);
	else if (get_posts(b) == -1)
		fail_with(b, "getPosts: cannot start the request", NULL);
}

/* Starts getPosts of B's URI with the account's token. */
static int
get_posts(struct bengage *b)
{
	char	*esc, *q;
	int	 rc;

	if (b->used != NULL)
		chan_secret_free(b->used, strlen(b->used));
	b->used = xstrdup(b->a->access);
	if ((esc = curl_easy_escape(NULL, b->uri, 0)) == NULL)
		return (-1);
	if (asprintf(&q, "uris=%s", esc) == -1)
		abort();
	curl_free(esc);
	rc = xrpc_call(b->a, "GET", "app.bsky.feed.getPosts", q, b->a->access,
	    NULL, NULL, 0, posts_done, b);
	free(q);
	return (rc);
}

/* Starts fetching the figures of REMOTE_ID, logging in first if need be. */
int
bluesky_engage(struct channel *ch, const char *remote_id,
    chan_engage_fn done, void *arg)
{
	struct bengage	*b;
	int		 rc;

	if (ch->priv == NULL || remote_id == NULL ||
	    strncmp(remote_id, "at://", 5) != 0 ||
	    strlen(remote_id) > BENGAGE_URI_MAX)
		return (-1);
	b = xcalloc(1, sizeof(*b));
	b->a = ch->priv;
	b->a->refs++;
	b->uri = xstrdup(remote_id);
	b->done = done;
	b->arg = arg;
	b->w.ready = session_ready;
	if (b->a->access == NULL)
		rc = xrpc_session_wait(b->a, &b->w);
	else
		rc = get_posts(b);
	if (rc == -1) {
		xrpc_acct_unref(b->a);
		free(b->uri);
		if (b->used != NULL)
			chan_secret_free(b->used, strlen(b->used));
		free(b);
	}
	return (rc);
}
