/*
 * Engagement on Mastodon: the status entity's favourites_count,
 * reblogs_count and replies_count (docs.joinmastodon.org/entities/Status),
 * read with the channel's token so unlisted and private posts count too.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "mastodon_engage.h"
#include "../conf.h"
#include "../http.h"
#include "../../common/util.h"

#define MENGAGE_TIMEOUT_MS	30000L
#define MENGAGE_ID_MAX		64

/* One request under way. */
struct mengage {
	chan_engage_fn	 done;
	void		*arg;
};

/* An integer field K of O, or -1. */
static int64_t
count_of(json_t *o, const char *k)
{
	json_t	*v = json_object_get(o, k);

	return (json_is_integer(v) && json_integer_value(v) >= 0 ?
	    (int64_t)json_integer_value(v) : -1);
}

/* The status answered (or not): hands its counts to the caller. */
static void
on_status(void *arg, const struct http_response *resp)
{
	struct mengage		*m = arg;
	struct chan_engagement	 e;
	struct chan_result	 r;
	json_t			*j = NULL;

	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	chan_http_classify(resp, &r);
	e.wait_ms = r.channel_wait > r.retry_after ? r.channel_wait :
	    r.retry_after;
	e.aborted = resp->curl_code == CURLE_ABORTED_BY_CALLBACK;
	if (r.outcome != CHAN_SENT)
		snprintf(e.error, sizeof(e.error), "%s", r.error);
	else if ((j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL ||
	    (e.likes = count_of(j, "favourites_count")) < 0 ||
	    (e.reposts = count_of(j, "reblogs_count")) < 0 ||
	    (e.replies = count_of(j, "replies_count")) < 0)
		snprintf(e.error, sizeof(e.error), "the status has no "
		    "favourites_count, reblogs_count and replies_count");
	else
		e.ok = true;
	json_decref(j);
	m->done(m->arg, &e);
	free(m);
}

/* Starts GET /api/v1/statuses/:id. */
int
mastodon_engage(struct channel *ch, const char *remote_id,
    chan_engage_fn done, void *arg)
{
	struct http_request	 req;
	struct mengage		*m;
	const char		*inst = conf_chan_get(ch->cfg, "instance", NULL);
	const char		*hdrs[2] = { NULL, NULL };
	char			*token = NULL, *auth = NULL, *url = NULL;
	char			*esc = NULL, msg[256];
	size_t			 toklen = 0, n;
	int			 rc = -1;

	if (inst == NULL || remote_id == NULL || *remote_id == '\0' ||
	    strlen(remote_id) > MENGAGE_ID_MAX)
		return (-1);
	if (chan_secret_read(ch->cfg, "token_file", &token, &toklen, msg,
	    sizeof(msg)) != 0)
		return (-1);
	n = strlen(inst);
	while (n > 0 && inst[n - 1] == '/')
		n--;
	if ((esc = curl_easy_escape(NULL, remote_id, 0)) == NULL)
		goto fail;
	if (asprintf(&url, "%.*s/api/v1/statuses/%s", (int)n, inst, esc) == -1 ||
	    asprintf(&auth, "Authorization: Bearer %s", token) == -1)
		abort();
	m = xcalloc(1, sizeof(*m));
	m->done = done;
	m->arg = arg;
	hdrs[0] = auth;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = hdrs;
	req.timeout_ms = MENGAGE_TIMEOUT_MS;
	req.max_body = 1024 * 1024;
	if ((rc = http_start(&req, on_status, m)) == -1)
		free(m);
fail:
	if (auth != NULL) {
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
	curl_free(esc);
	free(url);
	chan_secret_free(token, toklen);
	return (rc);
}
