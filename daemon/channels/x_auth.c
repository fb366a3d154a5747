/*
 * The X channel's account: OAuth 1.0a keys (oauth1.c signs each request),
 * or an OAuth 2.0 user token refreshed at POST /2/oauth2/token. X rotates
 * refresh tokens (the one used dies at once), so the new pair is written
 * to crier.db in one transaction before it is used, and one refresh at a
 * time runs per account while deliveries wait for it.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "../channel.h"
#include "../http.h"
#include "../log.h"
#include "../when.h"
#include "../../common/util.h"
#include "x.h"

/* Frees S (LEN bytes, 0: its length) after wiping it. */
static void
wipe(char *s, size_t len)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, len ? len : strlen(s));
	free(s);
}

/* Reads the keys file's NAME = VALUE lines in BUF (cut up) into O1; -1 with ERR. */
static int
parse_keys(char *buf, struct oauth1_creds *o1, const char *src, char *err,
    size_t errlen)
{
	char		*line, *next, *eq, *k, *v, *e;
	const char	**slot;
	int		 n = 0;

	memset(o1, 0, sizeof(*o1));
	for (line = buf; line != NULL; line = next) {
		n++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		k = line + strspn(line, " \t");
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "%s: line %d: not NAME = VALUE", src,
			    n);
			return (-1);
		}
		for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		v = eq + 1 + strspn(eq + 1, " \t");
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');
		    e--)
			;
		*e = '\0';
		if (strcmp(k, "consumer_key") == 0)
			slot = &o1->consumer_key;
		else if (strcmp(k, "consumer_secret") == 0)
			slot = &o1->consumer_secret;
		else if (strcmp(k, "access_token") == 0)
			slot = &o1->token;
		else if (strcmp(k, "access_token_secret") == 0)
			slot = &o1->token_secret;
		else {
			snprintf(err, errlen, "%s: line %d: unknown name '%.40s' "
			    "(consumer_key, consumer_secret, access_token, "
			    "access_token_secret)", src, n, k);
			return (-1);
		}
		if (*v == '\0') {
			snprintf(err, errlen, "%s: line %d: %s is empty", src, n, k);
			return (-1);
		}
		*slot = v;
	}
	if (o1->consumer_key == NULL || o1->consumer_secret == NULL ||
	    o1->token == NULL || o1->token_secret == NULL) {
		snprintf(err, errlen, "%s: wants consumer_key, consumer_secret, "
		    "access_token and access_token_secret", src);
		return (-1);
	}
	return (0);
}

/* Checks the secret of channel CC: four keys, or one refresh token. */
int
x_auth_check(const struct cfg_channel *cc, char *err, size_t errlen)
{
	struct oauth1_creds	 o1;
	const char		*auth = conf_chan_get(cc, "auth", NULL);
	const char		*key, *src;
	char			*s = NULL, msg[400];
	size_t			 len = 0;
	int			 rc = -1;

	key = auth != NULL && strcmp(auth, "oauth2") == 0 ? "token_file" :
	    "keys_file";
	if ((src = conf_chan_get(cc, key, NULL)) == NULL)
		src = conf_chan_get(cc, "credential", NULL);
	msg[0] = '\0';
	if (chan_secret_read(cc, key, &s, &len, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "%s", msg[0] ? msg : "no secret");
		return (-1);
	}
	if (strcmp(key, "keys_file") == 0)
		rc = parse_keys(s, &o1, src, err, errlen);
	else if (strchr(s, '\n') != NULL || strchr(s, ' ') != NULL)
		snprintf(err, errlen, "%s: want the refresh token alone on one "
		    "line", src);
	else
		rc = 0;
	chan_secret_free(s, CHAN_SECRET_MAX + 1);
	return (rc);
}

/* Loads the OAuth 2.0 tokens the store keeps for A (the live pair), if they grew from token_file as it is. */
static void
load_tokens(struct x_acct *a)
{
	char	*seed = NULL, *rt = NULL, *at = NULL, *exp = NULL;

	if (chan_kv_get(a->name, "x_seed_sha256", &seed, NULL) != 0 ||
	    strcmp(seed, a->seed_sha256) != 0 ||
	    chan_kv_get(a->name, "x_refresh_token", &rt, NULL) != 0)
		goto out;	/* none, or token_file was authorized anew */
	wipe(a->refresh, 0);
	a->refresh = rt;
	rt = NULL;
	if (chan_kv_get(a->name, "x_access_token", &at, NULL) == 0 &&
	    chan_kv_get(a->name, "x_access_expires", &exp, NULL) == 0) {
		if (a->access == NULL || strcmp(a->access, at) != 0) {
			wipe(a->access, 0);
			a->access = at;
			at = NULL;
			a->access_gen++;
		}
		a->access_expires = strtoll(exp, NULL, 10);
	} else if (a->access != NULL) {
		/* The store has none: X refused it, so it is dead here too. */
		wipe(a->access, 0);
		a->access = NULL;
		a->access_gen++;
	}
out:
	free(seed);
	free(exp);
	wipe(rt, 0);
	wipe(at, 0);
}

/* Sets up channel CH's account. */
int
x_auth_open(const struct channel *ch, struct x_acct **out, char *err,
    size_t errlen)
{
	const struct cfg_channel	*cc = ch->cfg;
	struct x_acct			*a;
	const char			*v, *src;
	char				*s = NULL, msg[400];
	size_t				 len = 0, n;
	int64_t				 secs = X_TIMEOUT_MS / 1000;

	a = xcalloc(1, sizeof(*a));
	a->refs = 1;
	TAILQ_INIT(&a->waiters);
	a->name = xstrdup(ch->name);
	v = conf_chan_get(cc, "api", NULL);
	a->api = xstrdup(v != NULL ? v : "https://api.x.com");
	for (n = strlen(a->api); n > 0 && a->api[n - 1] == '/'; n--)
		a->api[n - 1] = '\0';
	if ((v = conf_chan_get(cc, "timeout", NULL)) != NULL)
		conf_parse_duration(v, &secs);
	a->timeout_ms = (long)secs * 1000;
	v = conf_chan_get(cc, "auth", NULL);
	a->mode = v != NULL && strcmp(v, "oauth2") == 0 ? X_OAUTH2 : X_OAUTH1;
	src = conf_chan_get(cc, a->mode == X_OAUTH1 ? "keys_file" : "token_file",
	    NULL);
	if (src == NULL)
		src = conf_chan_get(cc, "credential", NULL);
	msg[0] = '\0';
	if (chan_secret_read(cc, a->mode == X_OAUTH1 ? "keys_file" :
	    "token_file", &s, &len, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "channel %s: %s", ch->name, msg[0] ? msg :
		    "no keys_file, token_file or credential");
		goto fail;
	}
	if (a->mode == X_OAUTH1) {
		a->keys = s;
		a->keys_len = CHAN_SECRET_MAX + 1;
		s = NULL;
		if (parse_keys(a->keys, &a->o1, src, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "channel %s: %s", ch->name, msg);
			goto fail;
		}
		*out = a;
		return (0);
	}
	if (strchr(s, '\n') != NULL || strchr(s, ' ') != NULL) {
		snprintf(err, errlen, "channel %s: %s: want the refresh token "
		    "alone on one line", ch->name, src);
		goto fail;
	}
	a->client_id = xstrdup(conf_chan_get(cc, "client_id", NULL));
	a->refresh = xstrdup(s);
	a->seed_sha256 = chan_sha256_hex(s);
	chan_secret_free(s, CHAN_SECRET_MAX + 1);
	s = NULL;
	if (conf_chan_get(cc, "client_secret_file", NULL) != NULL &&
	    chan_secret_read(cc, "client_secret_file", &a->client_secret,
	    &a->cs_len, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "channel %s: %s", ch->name, msg);
		goto fail;
	}
	load_tokens(a);
	*out = a;
	return (0);
fail:
	chan_secret_free(s, s ? CHAN_SECRET_MAX + 1 : 0);
	x_auth_unref(a);
	return (-1);
}

/* Drops a reference to A. */
void
x_auth_unref(struct x_acct *a)
{
	if (a == NULL || --a->refs > 0)
		return;
	chan_secret_free(a->keys, a->keys_len);
	chan_secret_free(a->client_secret, CHAN_SECRET_MAX + 1);
	wipe(a->refresh, 0);
	wipe(a->access, 0);
	free(a->seed_sha256);
	free(a->client_id);
	free(a->user_id);
	free(a->username);
	free(a->api);
	free(a->name);
	free(a);
}

/* Wakes every waiter of A with R (NULL: ready). */
static void
wake(struct x_acct *a, const struct chan_result *r)
{
	struct x_waiter	*w;

	while ((w = TAILQ_FIRST(&a->waiters)) != NULL) {
		TAILQ_REMOVE(&a->waiters, w, entry);
		w->ready(w, r);
	}
}

/* Writes A's tokens to the store in one transaction; -1 if it refused. */
static int
save_tokens(struct x_acct *a)
{
	char			 exp[32];
	struct chan_kv		 kv[4];

	snprintf(exp, sizeof(exp), "%lld", (long long)a->access_expires);
	kv[0].key = "x_refresh_token";
	kv[0].value = a->refresh;
	kv[1].key = "x_access_token";
	kv[1].value = a->access;
	kv[2].key = "x_access_expires";
	kv[2].value = exp;
	kv[3].key = "x_seed_sha256";
	kv[3].value = a->seed_sha256;
	if (chan_kv_put(a->name, kv, 4) == -1)
		return (-1);
	a->unsaved = false;
	return (0);
}

/* Ends a refresh of A: waiters learn R (NULL: ready). */
static void
refresh_end(struct x_acct *a, const struct chan_result *r)
{
	a->busy = false;
	a->refs++;
	wake(a, r);
	x_auth_unref(a);
}

/* A failed refresh: transient, or X refused the token (pause with its words). */
static void
refresh_failed(struct x_acct *a, const struct http_response *resp)
{
	struct chan_result	 r;
	json_t			*j;
	const char		*e = NULL, *d = NULL;

	memset(&r, 0, sizeof(r));
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK)
		r.aborted = true;
	else if (resp->status == 400 || resp->status == 401) {
		r.outcome = CHAN_AUTH;
		j = json_loadb(resp->body, resp->body_len, 0, NULL);
		e = json_string_value(json_object_get(j, "error"));
		d = json_string_value(json_object_get(j, "error_description"));
		snprintf(r.error, sizeof(r.error), "X refused the refresh token "
		    "(HTTP %ld %.60s: %.200s): authorize again, put the new "
		    "refresh token in token_file, then reload and resume",
		    resp->status, e ? e : "", d ? d : "");
		json_decref(j);
		log_warnx("channel %s: %s", a->name, r.error);
	} else {
		chan_http_classify(resp, &r);
		r.outcome = CHAN_TRANSIENT;
		snprintf(r.error + strlen(r.error), sizeof(r.error) -
		    strlen(r.error), " (refreshing the X access token)");
	}
	refresh_end(a, &r);
}

/* The answer of POST /2/oauth2/token: new tokens, saved before they are used. */
static void
refresh_done(void *arg, const struct http_response *resp)
{
	struct x_acct		*a = arg;
	struct chan_result	 r;
	json_t			*j = NULL, *at, *rt, *ex;

	if (resp->curl_code != CURLE_OK || resp->status != 200 ||
	    (j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL) {
		refresh_failed(a, resp);
		x_auth_unref(a);
		return;
	}
	at = json_object_get(j, "access_token");
	rt = json_object_get(j, "refresh_token");
	ex = json_object_get(j, "expires_in");
	if (!json_is_string(at) || json_string_length(at) == 0 ||
	    json_string_length(at) > 4096 || (rt != NULL &&
	    (!json_is_string(rt) || json_string_length(rt) > 4096))) {
		memset(&r, 0, sizeof(r));
		r.outcome = CHAN_TRANSIENT;
		snprintf(r.error, sizeof(r.error), "X's token endpoint answered "
		    "without an access token");
		json_decref(j);
		refresh_end(a, &r);
		x_auth_unref(a);
		return;
	}
	wipe(a->access, 0);
	a->access = xstrdup(json_string_value(at));
	a->access_gen++;
	a->access_expires = when_now() + (json_is_integer(ex) &&
	    json_integer_value(ex) > 0 ? json_integer_value(ex) : 7200) * 1000;
	if (json_is_string(rt)) {
		wipe(a->refresh, 0);
		a->refresh = xstrdup(json_string_value(rt));
	}
	json_decref(j);
	a->unsaved = true;
	if (save_tokens(a) == -1) {
		memset(&r, 0, sizeof(r));
		r.outcome = CHAN_TRANSIENT;
		snprintf(r.error, sizeof(r.error), "cannot save X's new refresh "
		    "token in the store (crierctl status says why): not using "
		    "it until it is saved");
		log_warnx("channel %s: %s", a->name, r.error);
		refresh_end(a, &r);
	} else {
		log_info("channel %s: X access token refreshed (the new refresh "
		    "token is saved)", a->name);
		refresh_end(a, NULL);
	}
	x_auth_unref(a);
}

/* Appends NAME=VALUE, percent-encoded, to the form in *B. */
static void
form_add(char **b, const char *name, const char *value)
{
	char	*e = oauth1_encode(value, strlen(value)), *n;

	if (e == NULL)
		abort();
	if (asprintf(&n, "%s%s%s=%s", *b ? *b : "", *b ? "&" : "", name, e) == -1)
		abort();
	wipe(e, 0);
	wipe(*b, 0);
	*b = n;
}

/* Starts POST /2/oauth2/token for A; -1 if it cannot start. */
static int
refresh_start(struct x_acct *a)
{
	struct chan_request	 rq;
	struct http_request	 req;
	char			*form = NULL, *basic = NULL, *b64 = NULL;
	size_t			 n;
	int			 rc = -1;

	memset(&rq, 0, sizeof(rq));
	form_add(&form, "grant_type", "refresh_token");
	form_add(&form, "refresh_token", a->refresh);
	chan_request_header(&rq, "Content-Type",
	    "application/x-www-form-urlencoded");
	if (a->client_secret != NULL) {
		if (asprintf(&basic, "%s:%s", a->client_id, a->client_secret) == -1)
			abort();
		n = strlen(basic);
		b64 = xmalloc(4 * ((n + 2) / 3) + 8);
		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)basic,
		    (int)n);
		wipe(basic, 0);
		if (asprintf(&basic, "Basic %s", b64) == -1)
			abort();
		chan_request_header(&rq, "Authorization", basic);
		wipe(basic, 0);
		wipe(b64, 0);
	} else
		form_add(&form, "client_id", a->client_id);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	if (asprintf(&rq.url, "%s/2/oauth2/token", a->api) == -1)
		abort();
	req.url = rq.url;
	req.headers = (const char **)rq.headers;
	req.body = form;
	req.body_len = strlen(form);
	req.timeout_ms = a->timeout_ms;
	a->refs++;
	if (http_start(&req, refresh_done, a) == 0)
		rc = 0;
	else
		a->refs--;
	for (n = 0; n < rq.nheaders; n++)
		OPENSSL_cleanse(rq.headers[n], strlen(rq.headers[n]));
	chan_request_clear(&rq);
	wipe(form, 0);
	return (rc);
}

/* 1 if A can sign now; else queues W behind a refresh. */
int
x_auth_wait(struct x_acct *a, struct x_waiter *w)
{
	if (a->mode == X_OAUTH1)
		return (1);
	if (!a->busy && a->unsaved && save_tokens(a) == -1)
		return (-1);
	if (!a->busy && a->access != NULL &&
	    a->access_expires > when_now() + X_ACCESS_MARGIN)
		return (1);
	if (!a->busy && !a->unsaved) {
		/*
		 * Another account of the channel (one a reload replaced, its
		 * refresh still under way then) may have rotated the pair:
		 * crier.db has the live one; the one in memory may be dead.
		 */
		load_tokens(a);
		if (a->access != NULL &&
		    a->access_expires > when_now() + X_ACCESS_MARGIN)
			return (1);
	}
	if (!a->busy) {
		if (refresh_start(a) == -1)
			return (-1);
		a->busy = true;
	}
	TAILQ_INSERT_TAIL(&a->waiters, w, entry);
	return (0);
}

/* Adds A's Authorization header for the request to RQ. */
int
x_auth_sign(struct x_acct *a, const char *method, const char *url,
    const char *form, struct chan_request *rq, unsigned *gen, char *err,
    size_t errlen)
{
	struct oauth1_req	 r;
	char			*h;

	*gen = a->access_gen;
	if (a->mode == X_OAUTH2) {
		if (a->access == NULL) {
			snprintf(err, errlen, "no X access token");
			return (-1);
		}
		if (asprintf(&h, "Bearer %s", a->access) == -1)
			abort();
	} else {
		memset(&r, 0, sizeof(r));
		r.method = method;
		r.url = url;
		r.form = form;
		if ((h = oauth1_header(&a->o1, &r, err, errlen)) == NULL)
			return (-1);
	}
	chan_request_header(rq, "Authorization", h);
	wipe(h, 0);
	return (0);
}

/* X refused access token generation GEN: forget it so the next wait refreshes. */
bool
x_auth_refused(struct x_acct *a, unsigned gen)
{
	if (a->mode != X_OAUTH2)
		return (false);
	if (gen == a->access_gen && a->access != NULL) {
		struct chan_kv	kv = { "x_access_token", NULL };

		wipe(a->access, 0);
		a->access = NULL;
		/* Dead for every account object of the channel. */
		if (!a->unsaved)
			chan_kv_put(a->name, &kv, 1);
	}
	return (true);
}
