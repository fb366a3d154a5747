/*
 * An AT Protocol account over XRPC: calls to its service, their errors
 * read into channel results, and the session (createSession,
 * refreshSession) shared by every delivery of the channel. The tokens are
 * never written anywhere.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <jansson.h>

#include "../channel.h"
#include "../http.h"
#include "../log.h"
#include "../when.h"
#include "atproto.h"
#include "xrpc.h"

#define XRPC_REFRESH_MARGIN	300		/* s before exp, at most */

/* Forgets A's session, wiping the tokens. */
void
xrpc_session_clear(struct xrpc_acct *a)
{
	if (a->access != NULL)
		chan_secret_free(a->access, strlen(a->access));
	if (a->refresh != NULL)
		chan_secret_free(a->refresh, strlen(a->refresh));
	a->access = a->refresh = NULL;
	a->refresh_at = 0;
}

/* Drops a reference to A, freeing it with the last. */
void
xrpc_acct_unref(struct xrpc_acct *a)
{
	if (a == NULL || --a->refs > 0)
		return;
	xrpc_session_clear(a);
	chan_secret_free(a->password, a->pwlen);
	json_decref(a->langs);
	free(a->did);
	free(a->name);
	free(a->service);
	free(a->handle);
	free(a);
}

/* The XRPC error name and message of RESP's body, into NAME and MSG. */
void
xrpc_error(const struct http_response *resp, char *name, size_t nlen, char *msg,
    size_t mlen)
{
	json_t	*j, *v;

	name[0] = msg[0] = '\0';
	if (resp->body == NULL || (j = json_loadb(resp->body, resp->body_len,
	    0, NULL)) == NULL)
		return;
	if (json_is_string(v = json_object_get(j, "error")))
		snprintf(name, nlen, "%s", json_string_value(v));
	if (json_is_string(v = json_object_get(j, "message")))
		snprintf(msg, mlen, "%s", json_string_value(v));
	json_decref(j);
}

/* True if RESP says the token it was sent with is expired or unknown. */
bool
xrpc_token_refused(const struct http_response *resp)
{
	char	name[64], msg[8];

	if (resp->curl_code != CURLE_OK)
		return (false);
	if (resp->status == 401)
		return (true);
	if (resp->status != 400)
		return (false);
	xrpc_error(resp, name, sizeof(name), msg, sizeof(msg));
	return (strcmp(name, "ExpiredToken") == 0 ||
	    strcmp(name, "InvalidToken") == 0);
}

/*
 * Reads a failed XRPC answer into R: chan_http_classify's outcome and wait
 * (429 with RateLimit-Reset, 5xx...), and "WHAT: HTTP n Name: message".
 */
void
xrpc_result(const struct http_response *resp, const char *what,
    struct chan_result *r)
{
	char	name[64], msg[400];

	memset(r, 0, sizeof(*r));
	chan_http_classify(resp, r);
	if (resp->curl_code != CURLE_OK) {
		char	e[sizeof(r->error)];

		snprintf(e, sizeof(e), "%s", r->error);
		snprintf(r->error, sizeof(r->error), "%s: %s", what, e);
		return;
	}
	xrpc_error(resp, name, sizeof(name), msg, sizeof(msg));
	if (name[0] != '\0' || msg[0] != '\0')
		snprintf(r->error, sizeof(r->error), "%s: HTTP %ld %s%s%s", what,
		    resp->status, name, name[0] && msg[0] ? ": " : "", msg);
	else {
		char	e[sizeof(r->error)];

		snprintf(e, sizeof(e), "%s", r->error);
		snprintf(r->error, sizeof(r->error), "%s: %s", what, e);
	}
	/* An expired token that could not be renewed is a credential problem. */
	if (strcmp(name, "ExpiredToken") == 0 || strcmp(name, "InvalidToken") == 0)
		r->outcome = CHAN_AUTH;
}

/*
 * Starts an XRPC call of A: METHOD on NSID with QUERY (may be NULL), the
 * body BODY of type CTYPE (may be NULL), Bearer TOKEN (may be NULL).
 */
int
xrpc_call(struct xrpc_acct *a, const char *method, const char *nsid,
    const char *query, const char *token, const char *ctype, const char *body,
    size_t blen, http_done_fn fn, void *arg)
{
	struct http_request	 rq;
	const char		*hdrs[4];
	char			*url, *auth = NULL, *ct = NULL;
	size_t			 nh = 0;
	int			 rc;

	if (asprintf(&url, "%s/xrpc/%s%s%s", a->service, nsid, query ? "?" : "",
	    query ? query : "") == -1)
		abort();
	hdrs[nh++] = "Accept: application/json";
	if (token != NULL) {
		if (asprintf(&auth, "Authorization: Bearer %s", token) == -1)
			abort();
		hdrs[nh++] = auth;
	}
	if (ctype != NULL) {
		if (asprintf(&ct, "Content-Type: %s", ctype) == -1)
			abort();
		hdrs[nh++] = ct;
	}
	hdrs[nh] = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	rq.headers = hdrs;
	rq.body = body;
	rq.body_len = blen;
	rq.timeout_ms = XRPC_TIMEOUT_MS;
	rc = http_start(&rq, fn, arg);
	if (auth != NULL)
		chan_secret_free(auth, strlen(auth));
	free(ct);
	free(url);
	return (rc);
}

/* Calls xrpc with a JSON body J (consumed). */
int
xrpc_json(struct xrpc_acct *a, const char *nsid, const char *token, json_t *j,
    http_done_fn fn, void *arg)
{
	char	*body;
	int	 rc;

	if ((body = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return (-1);
	}
	json_decref(j);
	rc = xrpc_call(a, "POST", nsid, NULL, token, "application/json", body,
	    strlen(body), fn, arg);
	chan_secret_free(body, strlen(body));
	return (rc);
}

/* Takes the session in a createSession/refreshSession answer into A; -1 if malformed. */
static int
session_take(struct xrpc_acct *a, const struct http_response *resp)
{
	json_t		*j;
	const char	*acc, *ref, *did;
	int64_t		 exp, iat, margin, now = when_now();

	if (resp->body == NULL ||
	    (j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL)
		return (-1);
	acc = json_string_value(json_object_get(j, "accessJwt"));
	ref = json_string_value(json_object_get(j, "refreshJwt"));
	did = json_string_value(json_object_get(j, "did"));
	if (acc == NULL || ref == NULL || did == NULL ||
	    strncmp(did, "did:", 4) != 0) {
		json_decref(j);
		return (-1);
	}
	xrpc_session_clear(a);
	free(a->did);
	if ((a->access = strdup(acc)) == NULL ||
	    (a->refresh = strdup(ref)) == NULL || (a->did = strdup(did)) == NULL)
		abort();
	json_decref(j);
	/* Refresh a little before exp: 5 minutes, or a tenth of short lifetimes. */
	if (atproto_jwt_times(a->access, &exp, &iat) == 0) {
		margin = XRPC_REFRESH_MARGIN;
		if (iat > 0 && exp > iat && (exp - iat) / 10 < margin)
			margin = (exp - iat) / 10;
		a->refresh_at = (exp - margin) * 1000;
		if (a->refresh_at < now)
			a->refresh_at = now;
	} else
		a->refresh_at = INT64_MAX;	/* on ExpiredToken only */
	return (0);
}

/* Ends the wait of everyone waiting for A's session: on with it (R NULL), or R. */
static void
session_release(struct xrpc_acct *a, const struct chan_result *r)
{
	struct xrpc_waiter	*w;

	a->busy = false;
	while ((w = TAILQ_FIRST(&a->waiters)) != NULL) {
		TAILQ_REMOVE(&a->waiters, w, entry);
		w->ready(w, r);
	}
}

static void	login_done(void *, const struct http_response *);

/* Starts createSession for A. */
static int
login_start(struct xrpc_acct *a)
{
	json_t	*j;

	j = json_pack("{s:s, s:s%}", "identifier", a->handle, "password",
	    a->password, a->pwlen);
	if (j == NULL)
		return (-1);
	log_debug("channel %s: createSession as %s", a->name, a->handle);
	return (xrpc_json(a, "com.atproto.server.createSession", NULL, j,
	    login_done, a));
}

/* Ends A's session work with the failure R for every waiter, logging it. */
static void
session_fail(struct xrpc_acct *a, const struct chan_result *r)
{
	log_warnx("channel %s: %s", a->name, r->error);
	session_release(a, r);
}

/* createSession answered: a session, or a refusal that pauses the channel. */
static void
login_done(void *arg, const struct http_response *resp)
{
	struct xrpc_acct	*a = arg;
	struct chan_result	 r;

	memset(&r, 0, sizeof(r));
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		r.aborted = true;
		session_release(a, &r);
	} else if (resp->curl_code == CURLE_OK && resp->status == 200) {
		if (session_take(a, resp) == -1) {
			r.outcome = CHAN_TRANSIENT;
			snprintf(r.error, sizeof(r.error), "createSession: "
			    "malformed answer");
			session_fail(a, &r);
		} else {
			log_info("channel %s: logged in as %s (%s)", a->name,
			    a->handle, a->did);
			session_release(a, NULL);
		}
	} else {
		xrpc_result(resp, "createSession", &r);
		/* Any other refusal of the login is about the account. */
		if (r.outcome == CHAN_PERMANENT)
			r.outcome = CHAN_AUTH;
		session_fail(a, &r);
	}
	xrpc_acct_unref(a);
}

/* refreshSession answered: a new pair, else log in again. */
static void
refresh_done(void *arg, const struct http_response *resp)
{
	struct xrpc_acct	*a = arg;
	struct chan_result	 r;

	memset(&r, 0, sizeof(r));
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		r.aborted = true;
		session_release(a, &r);
	} else if (resp->curl_code == CURLE_OK && resp->status == 200 &&
	    session_take(a, resp) == 0) {
		log_debug("channel %s: session refreshed", a->name);
		session_release(a, NULL);
	} else if (xrpc_token_refused(resp) || (resp->curl_code == CURLE_OK &&
	    resp->status == 200)) {
		/* The refresh token is spent: a new session. */
		log_info("channel %s: refreshSession refused, logging in again",
		    a->name);
		xrpc_session_clear(a);
		a->refs++;
		if (login_start(a) == -1) {
			xrpc_acct_unref(a);
			r.outcome = CHAN_TRANSIENT;
			snprintf(r.error, sizeof(r.error), "cannot start "
			    "createSession");
			session_fail(a, &r);
		}
	} else {
		xrpc_result(resp, "refreshSession", &r);
		session_fail(a, &r);
	}
	xrpc_acct_unref(a);
}

/* Queues W for A's session, starting a login or a refresh if none runs. */
int
xrpc_session_wait(struct xrpc_acct *a, struct xrpc_waiter *w)
{
	struct chan_result	 r;
	int			 rc;

	TAILQ_INSERT_TAIL(&a->waiters, w, entry);
	if (a->busy)
		return (0);
	a->busy = true;
	a->refs++;
	if (a->refresh != NULL) {
		log_debug("channel %s: refreshSession", a->name);
		rc = xrpc_call(a, "POST", "com.atproto.server.refreshSession", NULL,
		    a->refresh, NULL, NULL, 0, refresh_done, a);
	} else
		rc = login_start(a);
	if (rc == -1) {
		/* Not from within start: J is in the list, so fail it later. */
		xrpc_acct_unref(a);
		memset(&r, 0, sizeof(r));
		r.outcome = CHAN_TRANSIENT;
		snprintf(r.error, sizeof(r.error), "cannot start the session "
		    "request");
		TAILQ_REMOVE(&a->waiters, w, entry);
		a->busy = false;
		log_warnx("channel %s: %s", a->name, r.error);
		return (-1);
	}
	return (0);
}
