/*
 * A Threads channel's long-lived access token. Threads' tokens live 60
 * days and can be refreshed once they are 24 hours old (GET
 * /refresh_access_token?grant_type=th_refresh_token, developers.facebook.
 * com/docs/threads/get-started/long-lived-tokens); the refreshed one lives
 * 60 days from then. crier refreshes a token once it is a day old, from
 * the loop (a delivery starting, or an hourly timer), in the background:
 * the token in use stays valid meanwhile, so no delivery waits. The new
 * token is written to crier.db (chan_kv) before it is used; token_file only
 * seeds it, and is taken again when its content changes (a new
 * authorization), as x_auth.c does for X.
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "../channel.h"
#include "../http.h"
#include "../log.h"
#include "../when.h"
#include "../../common/util.h"
#include "threads_token.h"

#define TH_CHECK_MS	(3600ULL * 1000)	/* the timer's period */
#define TH_LIFETIME	(60LL * 86400 * 1000)	/* when Threads does not say */
#define TH_REFRESH_TIMEOUT_MS 30000L

struct th_token {
	int	 refs;		/* the channel's, a timer's, a refresh's */
	bool	 closed;	/* the channel closed: no new refresh */
	bool	 busy;		/* a refresh is under way */
	bool	 timer;		/* the hourly timer is armed */
	char	*name;
	char	*api;
	char	*token;		/* wiped when freed */
	char	*seed_sha256;	/* of token_file's token */
	int64_t	 since;		/* ms: issued or first seen; 0 not written down yet */
	int64_t	 expires;	/* ms; 0 unknown */
	int64_t	 retry_at;	/* ms: no refresh before */
};

/* Wipes and frees the string S (NULL is fine). */
static void
wipe(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Drops a reference to T. */
static void
unref(struct th_token *t)
{
	if (--t->refs > 0)
		return;
	wipe(t->token);
	free(t->seed_sha256);
	free(t->api);
	free(t->name);
	free(t);
}

/* Adopts the token crier.db keeps for T if it grew from T's seed and is newer than T's. */
static void
load_stored(struct th_token *t)
{
	char	*sha = NULL, *tok = NULL, *since = NULL, *exp = NULL;
	int64_t	 s;

	if (chan_kv_get(t->name, "th_seed_sha256", &sha, NULL) != 0 ||
	    strcmp(sha, t->seed_sha256) != 0 ||
	    chan_kv_get(t->name, "th_token", &tok, NULL) != 0 ||
	    chan_kv_get(t->name, "th_since", &since, NULL) != 0)
		goto out;
	s = strtoll(since, NULL, 10);
	if (s <= t->since || *tok == '\0' || strlen(tok) > TH_TOKEN_MAX)
		goto out;
	wipe(t->token);
	t->token = tok;
	tok = NULL;
	t->since = s;
	t->expires = 0;
	if (chan_kv_get(t->name, "th_expires", &exp, NULL) == 0)
		t->expires = strtoll(exp, NULL, 10);
out:
	free(sha);
	free(since);
	free(exp);
	wipe(tok);
}

/* Writes TOKEN (issued at SINCE, ending at EXPIRES) for T in one transaction; -1 if the store refused. */
static int
save(const struct th_token *t, const char *token, int64_t since,
    int64_t expires)
{
	struct chan_kv	kv[4];
	char		s[32], e[32];

	snprintf(s, sizeof(s), "%lld", (long long)since);
	snprintf(e, sizeof(e), "%lld", (long long)expires);
	kv[0].key = "th_token";
	kv[0].value = token;
	kv[1].key = "th_since";
	kv[1].value = s;
	kv[2].key = "th_expires";
	kv[2].value = e;
	kv[3].key = "th_seed_sha256";
	kv[3].value = t->seed_sha256;
	return (chan_kv_put(t->name, kv, 4));
}

/* The token of channel NAME: crier.db's if it grew from SEED, else SEED. */
struct th_token *
th_token_open(const char *name, const char *api, const char *seed, size_t len)
{
	struct th_token	*t = xcalloc(1, sizeof(*t));

	t->refs = 1;
	t->name = xstrdup(name);
	t->api = xstrdup(api);
	t->token = xmalloc(len + 1);
	memcpy(t->token, seed, len);
	t->token[len] = '\0';
	t->seed_sha256 = chan_sha256_hex(t->token);
	load_stored(t);
	return (t);
}

/* The channel closes T: no more refreshes start; drops its reference. */
void
th_token_close(struct th_token *t)
{
	if (t == NULL)
		return;
	t->closed = true;
	unref(t);
}

/* The token to use now. */
const char *
th_token_get(const struct th_token *t)
{
	return (t->token);
}

/* Why Threads refused RESP, into BUF: its error message, or the HTTP status. */
static const char *
refusal(const struct http_response *resp, char *buf, size_t len)
{
	json_t		*j, *e;
	const char	*m = NULL;

	if (resp->curl_code != CURLE_OK) {
		snprintf(buf, len, "%s", resp->error[0] ? resp->error :
		    curl_easy_strerror(resp->curl_code));
		return (buf);
	}
	j = resp->body != NULL ? json_loadb(resp->body, resp->body_len, 0,
	    NULL) : NULL;
	e = json_object_get(j, "error");
	m = json_string_value(json_object_get(e, "message"));
	snprintf(buf, len, "HTTP %ld%s%.300s%s", resp->status, m ? ": " : "",
	    m ? m : "", json_integer_value(json_object_get(e, "code")) == 190 ?
	    "; authorize again, put the new long-lived token in token_file "
	    "and reload" : "");
	json_decref(j);
	return (buf);
}

/* The answer of GET /refresh_access_token: the new token, saved before it is used. */
static void
refresh_done(void *arg, const struct http_response *resp)
{
	struct th_token	*t = arg;
	json_t		*j = NULL, *at, *ex;
	const char	*tok;
	char		 why[400], until[40];
	int64_t		 now = when_now(), exp;

	t->busy = false;
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK)
		goto out;
	if (resp->curl_code == CURLE_OK && resp->status == 200 &&
	    resp->body != NULL)
		j = json_loadb(resp->body, resp->body_len, 0, NULL);
	at = json_object_get(j, "access_token");
	ex = json_object_get(j, "expires_in");
	tok = json_string_value(at);
	if (tok == NULL || *tok == '\0' || strlen(tok) > TH_TOKEN_MAX ||
	    strpbrk(tok, "\r\n &") != NULL) {
		t->retry_at = now + TH_REFRESH_RETRY;
		log_warnx("channel %s: Threads did not refresh the access token "
		    "(%s); the current one stays in use, trying again in an hour",
		    t->name, j != NULL ? "no token in the answer" :
		    refusal(resp, why, sizeof(why)));
		goto out;
	}
	exp = now + (json_integer_value(ex) > 0 ? json_integer_value(ex) *
	    1000 : TH_LIFETIME);
	if (save(t, tok, now, exp) == -1) {
		t->retry_at = now + TH_REFRESH_RETRY;
		log_warnx("channel %s: cannot keep the refreshed Threads token "
		    "in the store (crierctl status says why); the current one "
		    "stays in use, trying again in an hour", t->name);
		goto out;
	}
	/* Saved: an object opened by a reload in between adopts it too. */
	wipe(t->token);
	t->token = xstrdup(tok);
	t->since = now;
	t->expires = exp;
	log_info("channel %s: Threads access token refreshed, valid until %s",
	    t->name, when_format(exp, until, sizeof(until)));
out:
	if (j != NULL) {
		if (json_is_string(at))
			OPENSSL_cleanse((char *)json_string_value(at),
			    json_string_length(at));
		json_decref(j);
	}
	unref(t);
}

/* Starts refreshing T's token; the token travels in a header, never in the URL. */
static void
refresh_start(struct th_token *t)
{
	struct chan_request	 rq;
	struct http_request	 req;
	char			*url;

	memset(&rq, 0, sizeof(rq));
	if (asprintf(&url, "%s/refresh_access_token?grant_type="
	    "th_refresh_token", t->api) == -1)
		abort();
	chan_request_bearer(&rq, t->token);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = (const char **)rq.headers;
	req.timeout_ms = TH_REFRESH_TIMEOUT_MS;
	t->refs++;
	t->busy = true;
	if (http_start(&req, refresh_done, t) == -1) {
		t->busy = false;
		t->refs--;
		t->retry_at = when_now() + TH_REFRESH_RETRY;
		log_warnx("channel %s: cannot start refreshing the Threads "
		    "access token; trying again in an hour", t->name);
	} else
		log_info("channel %s: refreshing the Threads access token (a "
		    "day old or more)", t->name);
	OPENSSL_cleanse(rq.headers[0], strlen(rq.headers[0]));
	chan_request_clear(&rq);
	free(url);
}

/* The hourly timer: a look at T. */
static void
on_timer(void *arg, const struct http_response *resp)
{
	struct th_token	*t = arg;

	t->timer = false;
	if (resp->curl_code != CURLE_ABORTED_BY_CALLBACK)
		th_token_tick(t);
	unref(t);
}

/* A look at T: the first sight of a token is written down; one a day old is refreshed. */
void
th_token_tick(struct th_token *t)
{
	int64_t	now = when_now();

	if (t == NULL || t->closed)
		return;
	if (!t->timer && http_start_delay(TH_CHECK_MS, on_timer, t) == 0) {
		t->timer = true;
		t->refs++;
	}
	if (t->busy)
		return;
	load_stored(t);
	if (t->since == 0) {
		/* A token crier has not seen before: its age counts from now. */
		if (save(t, t->token, now, 0) == 0)
			t->since = now;
		return;
	}
	if (now - t->since >= TH_REFRESH_AFTER && now >= t->retry_at)
		refresh_start(t);
}
