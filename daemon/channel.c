/* Channel types (a table of vtables) and the configured channels at run time. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "channel.h"
#include "store.h"
#include "store_kv.h"
#include "http.h"
#include "log.h"
#include "retry.h"
#include "template.h"
#include "when.h"
#include "../common/digest.h"
#include "../common/util.h"

/*
 * Every channel type this build knows: the one place that names networks.
 * Adding one is its file in daemon/channels/ and a line here (HACKING.md).
 */
extern const struct channel_ops outbox_ops, mastodon_ops, bluesky_ops,
    webhook_ops, smtp_ops;
extern const struct channel_ops x_ops;
extern const struct channel_ops threads_ops;
extern const struct channel_ops listmonk_ops;
extern const struct channel_ops linkedin_ops, facebook_ops;

static const struct channel_ops *const chan_types[] = {
	&outbox_ops,
	&mastodon_ops,
	&bluesky_ops,
	&webhook_ops,
	&smtp_ops,
	&x_ops,
	&threads_ops,
	&listmonk_ops,
	&linkedin_ops,
	&facebook_ops,
};

#define NTYPES	(sizeof(chan_types) / sizeof(chan_types[0]))

/* An HTTP request of a one-request channel under way. */
struct chan_call {
	char			*channel;
	const struct channel_ops *ops;
	const struct post	*post;
	chan_done_fn		 done;
	void			*arg;
	struct chan_request	 rq;
};

static struct channel	*chans;
static size_t		 nchans;

/* The ops for channel type TYPE, or NULL. */
const struct channel_ops *
chan_ops_find(const char *type)
{
	size_t	i;

	for (i = 0; i < NTYPES; i++)
		if (strcmp(chan_types[i]->type, type) == 0)
			return (chan_types[i]);
	return (NULL);
}

/* Number of channel types. */
size_t
chan_type_count(void)
{
	return (NTYPES);
}

/* The I-th channel type, or NULL. */
const struct channel_ops *
chan_type_at(size_t i)
{
	return (i < NTYPES ? chan_types[i] : NULL);
}

/* Number of render styles: the channel types. */
size_t
chan_style_count(void)
{
	return (NTYPES);
}

/* The name of the I-th render style, or NULL. */
const char *
chan_style_at(size_t i)
{
	if (i < NTYPES)
		return (chan_types[i]->type);
	return (NULL);
}

/* The length rule and default limit of style NAME; -1 if there is none. */
int
chan_style_find(const char *name, enum len_rule *rule, size_t *limit)
{
	const struct channel_ops	*o;

	if (name == NULL)
		return (-1);
	if ((o = chan_ops_find(name)) != NULL) {
		*rule = o->len_rule;
		*limit = o->default_limit;
		return (0);
	}
	return (-1);
}

/* True if an outbox may be `like` NAME: a style with its own length rule. */
bool
chan_style_ok(const char *name)
{
	enum len_rule	rule;
	size_t		limit;

	return (chan_style_find(name, &rule, &limit) == 0 && rule != LEN_PLAIN);
}

/* The styles an outbox may be `like`, '|'-separated, into BUF. */
static void
style_list(char *buf, size_t len)
{
	const char	*n;
	size_t		 i, o = 0;

	buf[0] = '\0';
	for (i = 0; (n = chan_style_at(i)) != NULL; i++)
		if (chan_style_ok(n) && o < len)
			o += snprintf(buf + o, len - o, "%s%s", o ? "|" : "", n);
}

/* Keys every channel type takes, beside its own. */
static const struct chan_key chan_common_keys[] = {
	{ "utm", CK_TEMPLATE, false, NULL },	/* compose.c: tracked links */
	{ NULL, 0, false, NULL },
};

/* The key spec for KEY in OPS, or NULL. */
static const struct chan_key *
key_find(const struct channel_ops *ops, const char *key)
{
	const struct chan_key	*k;

	for (k = chan_common_keys; k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			return (k);

	for (k = ops->keys; k != NULL && k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			return (k);
	return (NULL);
}

/* True if VALUE is one of the '|'-separated VALUES. */
static int
enum_has(const char *values, const char *value)
{
	const char	*p = values;
	size_t		 n, vlen = strlen(value);

	while (*p != '\0') {
		n = strcspn(p, "|");
		if (n == vlen && strncmp(p, value, n) == 0)
			return (1);
		p += n;
		if (*p == '|')
			p++;
	}
	return (0);
}

/* Validates one key/value against its spec; ERR gets the reason. */
static int
check_value(const struct chan_key *k, const char *v, char *err, size_t errlen)
{
	char	msg[384];

	switch (k->kind) {
	case CK_STRING:
	case CK_PATH:
		if (*v == '\0') {
			snprintf(err, errlen, "empty value");
			return (-1);
		}
		return (0);
	case CK_SECRET:
		if (conf_check_secret(v, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s", msg);
			return (-1);
		}
		return (0);
	case CK_DURATION: {
		int64_t	secs;

		if (conf_parse_duration(v, &secs) == -1 || secs <= 0) {
			snprintf(err, errlen, "'%s' is not a duration (such as "
			    "30s, 2m)", v);
			return (-1);
		}
		return (0);
	}
	case CK_CREDENTIAL: {
		const char	*dir = getenv("CREDENTIALS_DIRECTORY");
		char		 path[4096];
		const char	*q;

		for (q = v; *q != '\0'; q++)
			if (!isalnum((unsigned char)*q) && strchr("._-", *q) == NULL)
				break;
		if (*v == '\0' || *q != '\0' || *v == '.') {
			snprintf(err, errlen, "'%s' is not a credential name", v);
			return (-1);
		}
		if (dir == NULL || *dir == '\0') {
			snprintf(err, errlen, "credential %s: $CREDENTIALS_DIRECTORY "
			    "is not set (LoadCredential= in the unit provides it)", v);
			return (-1);
		}
		snprintf(path, sizeof(path), "%s/%s", dir, v);
		if (access(path, R_OK) == -1) {
			snprintf(err, errlen, "credential %s: %s: %s", v, path,
			    strerror(errno));
			return (-1);
		}
		return (0);
	}
	case CK_URL:
		if (conf_check_url(v, "https", "http", msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s", msg);
			return (-1);
		}
		return (0);
	case CK_BOOL:
		if (strcasecmp(v, "yes") && strcasecmp(v, "no") &&
		    strcasecmp(v, "true") && strcasecmp(v, "false")) {
			snprintf(err, errlen, "'%s' is not yes or no", v);
			return (-1);
		}
		return (0);
	case CK_ENUM:
		if (!enum_has(k->values, v)) {
			snprintf(err, errlen, "'%s' is not one of %s", v, k->values);
			return (-1);
		}
		return (0);
	case CK_STYLE:
		if (!chan_style_ok(v)) {
			style_list(msg, sizeof(msg));
			snprintf(err, errlen, "'%s' is not one of %s", v, msg);
			return (-1);
		}
		return (0);
	case CK_TEMPLATE: {
		struct tmpl	*t;

		if ((t = tmpl_compile(v, strlen(v), msg, sizeof(msg))) == NULL) {
			snprintf(err, errlen, "%s", msg);
			return (-1);
		}
		tmpl_free(t);
		return (0);
	}
	}
	return (0);
}

/* Reads channel CC's secret from its file or its systemd credential. */
int
chan_secret_read(const struct cfg_channel *cc, const char *file_key,
    char **out, size_t *len, char *err, size_t errlen)
{
	const char	*file = conf_chan_get(cc, file_key, NULL);
	const char	*cred = conf_chan_get(cc, "credential", NULL);
	const char	*dir = getenv("CREDENTIALS_DIRECTORY");
	char		 path[4096], *buf = NULL;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd = -1;

	*out = NULL;
	*len = 0;
	if (file != NULL)
		snprintf(path, sizeof(path), "%s", file);
	else if (cred != NULL && dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, cred);
	else if (cred != NULL) {
		snprintf(err, errlen, "credential %s: $CREDENTIALS_DIRECTORY is "
		    "not set", cred);
		return (-1);
	} else
		return (1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	if ((buf = malloc(CHAN_SECRET_MAX + 1)) == NULL)
		abort();
	while (n <= CHAN_SECRET_MAX &&
	    (r = read(fd, buf + n, CHAN_SECRET_MAX + 1 - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		n += (size_t)r;
	}
	close(fd);
	fd = -1;
	if (n > CHAN_SECRET_MAX) {
		snprintf(err, errlen, "%s: over %d bytes", path, CHAN_SECRET_MAX);
		chan_secret_free(buf, CHAN_SECRET_MAX + 1);
		return (-1);
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		snprintf(err, errlen, "%s: empty", path);
		chan_secret_free(buf, CHAN_SECRET_MAX + 1);
		return (-1);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return (0);
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	chan_secret_free(buf, buf ? CHAN_SECRET_MAX + 1 : 0);
	return (-1);
}

/* The hex SHA-256 of S (malloc'd): how a channel tells that a secret file changed. */
char *
chan_sha256_hex(const char *s)
{
	unsigned char	md[DIGEST_LEN];
	size_t		i;
	char		*hex;

	digest_sha256(s, strlen(s), md);
	hex = xmalloc(DIGEST_LEN * 2 + 1);
	for (i = 0; i < DIGEST_LEN; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	return (hex);
}

/* Wipes and frees a secret. */
void
chan_secret_free(char *s, size_t len)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, len);
	free(s);
}

/* Validates channel CC: known keys, good values, required keys, secrets. */
int
chan_config_check(const struct cfg_channel *cc, const struct config *c,
    char *err, size_t errlen)
{
	const struct channel_ops	*ops = chan_ops_find(cc->type);
	const struct chan_key		*k;
	char				 msg[400];
	size_t				 i;

	if (ops == NULL) {
		snprintf(err, errlen, "%d: type: unknown channel type '%s'",
		    cc->line, cc->type);
		return (-1);
	}
	for (i = 0; i < cc->nkv; i++) {
		if ((k = key_find(ops, cc->kv[i].key)) == NULL) {
			snprintf(err, errlen, "%d: unknown key '%s' for a %s "
			    "channel [channel %s]", cc->kv[i].line, cc->kv[i].key,
			    cc->type, cc->name);
			return (-1);
		}
		if (check_value(k, cc->kv[i].value, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%d: %s: %s", cc->kv[i].line,
			    cc->kv[i].key, msg);
			return (-1);
		}
	}
	/* A secret comes from one place: its file or a systemd credential. */
	for (k = ops->keys; k != NULL && k->name != NULL; k++) {
		int line;

		if (k->kind == CK_SECRET && conf_chan_get(cc, k->name, &line) &&
		    conf_chan_get(cc, "credential", NULL)) {
			snprintf(err, errlen, "%d: [channel %s]: give %s or "
			    "credential, not both", line, cc->name, k->name);
			return (-1);
		}
	}
	for (k = ops->keys; k != NULL && k->name != NULL; k++)
		if (k->required && conf_chan_get(cc, k->name, NULL) == NULL) {
			snprintf(err, errlen, "%d: [channel %s]: missing key '%s'",
			    cc->line, cc->name, k->name);
			return (-1);
		}
	if (ops->check != NULL && ops->check(cc, c, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%d: [channel %s]: %s", cc->line, cc->name, msg);
		return (-1);
	}
	return (0);
}

/* Closes and frees the channel array CS of N entries. */
static void
close_all(struct channel *cs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (cs[i].ops->close != NULL && cs[i].priv != NULL)
			cs[i].ops->close(&cs[i]);
		free(cs[i].name);
	}
	free(cs);
}

/* Sets how CH's posts are rendered and measured: its type's way, or its `like`. */
static void
chan_style(struct channel *ch, size_t *like_limit)
{
	const char	*like = conf_chan_get(ch->cfg, "like", NULL);

	ch->style = ch->ops->type;
	ch->len_rule = ch->ops->len_rule;
	*like_limit = ch->ops->default_limit;
	if (like != NULL && chan_style_find(like, &ch->len_rule,
	    like_limit) == 0)
		ch->style = like;
}

/* Opens every channel of C; the current set is replaced only if all open. */
int
chan_init(const struct config *c, bool offline, char *err, size_t errlen)
{
	struct channel	*cs;
	size_t		 i, n = 0, lim, like_lim;

	if ((cs = calloc(c->nchans ? c->nchans : 1, sizeof(*cs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < c->nchans; i++) {
		struct channel *ch = &cs[i];

		ch->ops = chan_ops_find(c->chans[i].type);
		ch->cfg = &c->chans[i];
		if ((ch->name = strdup(c->chans[i].name)) == NULL)
			abort();
		chan_style(ch, &like_lim);
		ch->limit = c->chans[i].limit ? c->chans[i].limit : like_lim;
		if (c->chans[i].limit == 0 && ch->ops->cached_limit != NULL &&
		    (lim = ch->ops->cached_limit(&c->chans[i], c)) > 0)
			ch->limit = lim;
		n++;
		if (!offline && ch->ops->open != NULL &&
		    ch->ops->open(ch, c, err, errlen) == -1) {
			n--;
			free(ch->name);
			goto fail;
		}
	}
	close_all(chans, nchans);
	chans = cs;
	nchans = n;
	return (0);
fail:
	close_all(cs, n);
	return (-1);
}

/* Closes every channel. */
void
chan_shutdown(void)
{
	close_all(chans, nchans);
	chans = NULL;
	nchans = 0;
}

/* Tells each channel that the loop runs and HTTP is up (ops->ready). */
void
chan_ready(void)
{
	size_t	i;

	for (i = 0; i < nchans; i++)
		if (chans[i].ops->ready != NULL)
			chans[i].ops->ready(&chans[i]);
}

/* Shutdown: every channel type ends what it has under way (ops->stop). */
void
chan_stop(void)
{
	size_t	i;

	for (i = 0; i < NTYPES; i++)
		if (chan_types[i]->stop != NULL)
			chan_types[i]->stop();
}

/* The channel named NAME, or NULL. */
struct channel *
chan_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nchans; i++)
		if (strcmp(chans[i].name, name) == 0)
			return (&chans[i]);
	return (NULL);
}

/* Number of channels. */
size_t
chan_count(void)
{
	return (nchans);
}

/* The I-th channel. */
struct channel *
chan_at(size_t i)
{
	return (i < nchans ? &chans[i] : NULL);
}

/* Appends header "NAME: VALUE" to RQ. */
void
chan_request_header(struct chan_request *rq, const char *name,
    const char *value)
{
	char	**nh;

	if ((nh = reallocarray(rq->headers, rq->nheaders + 2,
	    sizeof(*nh))) == NULL)
		abort();
	rq->headers = nh;
	if (asprintf(&nh[rq->nheaders], "%s: %s", name, value) == -1)
		abort();
	nh[++rq->nheaders] = NULL;
}

/* Appends "Authorization: Bearer TOKEN" to RQ, leaving no other copy. */
void
chan_request_bearer(struct chan_request *rq, const char *token)
{
	char	*h;

	if (asprintf(&h, "Bearer %s", token) == -1)
		abort();
	chan_request_header(rq, "Authorization", h);
	OPENSSL_cleanse(h, strlen(h));
	free(h);
}

/* Frees what RQ owns. */
void
chan_request_clear(struct chan_request *rq)
{
	size_t	i;

	for (i = 0; i < rq->nheaders; i++) {
		/* Headers may carry a token (Authorization). */
		OPENSSL_cleanse(rq->headers[i], strlen(rq->headers[i]));
		free(rq->headers[i]);
	}
	free(rq->headers);
	free(rq->url);
	free(rq->body);
	memset(rq, 0, sizeof(*rq));
}

/* Copies at most one line of S (length N) into BUF, printable characters only. */
static void
clean_copy(char *buf, size_t len, const char *s, size_t n)
{
	size_t	i, o = 0;

	for (i = 0; i < n && o + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		if (c < 0x20 || c == 0x7f)
			continue;
		buf[o++] = (char)c;
	}
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
}

/* The API's error message in BODY: common JSON fields, else the text. */
static void
api_message(const struct http_response *resp, char *buf, size_t len)
{
	static const char *const fields[] = { "error_description", "message",
	    "error", "detail", "title", NULL };
	json_t		*j, *v;
	const char	*const *f;

	buf[0] = '\0';
	if (resp->body == NULL || resp->body_len == 0)
		return;
	if ((j = json_loadb(resp->body, resp->body_len, 0, NULL)) != NULL) {
		for (f = fields; *f != NULL && buf[0] == '\0'; f++) {
			v = json_object_get(j, *f);
			if (json_is_string(v))
				clean_copy(buf, len, json_string_value(v),
				    json_string_length(v));
			else if (json_is_object(v) &&
			    json_is_string(json_object_get(v, "message")))
				clean_copy(buf, len, json_string_value(
				    json_object_get(v, "message")),
				    strlen(json_string_value(
				    json_object_get(v, "message"))));
		}
		json_decref(j);
		if (buf[0] != '\0')
			return;
	}
	clean_copy(buf, len, resp->body, resp->body_len < 200 ?
	    resp->body_len : 200);
}

/* How long the answer asks us to wait, from Retry-After or reset headers. */
static int64_t
wait_hint(const struct http_response *resp, int64_t now)
{
	const char	*v;
	int64_t		 d;

	if ((v = http_header_get(resp, "Retry-After")) != NULL &&
	    retry_after_parse(v, now, &d) == 0)
		return (d);
	if ((v = http_header_get(resp, "X-RateLimit-Reset")) == NULL)
		v = http_header_get(resp, "RateLimit-Reset");
	if (v != NULL && retry_ratelimit_reset_parse(v, now, &d) == 0)
		return (d);
	return (0);
}

/* True if the answer says the rate limit is spent. */
static int
limit_spent(const struct http_response *resp)
{
	const char	*v;

	if ((v = http_header_get(resp, "X-RateLimit-Remaining")) == NULL)
		v = http_header_get(resp, "RateLimit-Remaining");
	return (v != NULL && strspn(v, " 0") == strlen(v) && strchr(v, '0'));
}

/* The usual reading of an HTTP answer. */
void
chan_http_classify(const struct http_response *resp, struct chan_result *r)
{
	int64_t	now = when_now();
	char	msg[400];
	long	st = resp->status;

	r->retry_after = 0;
	r->channel_wait = 0;
	if (resp->curl_code != CURLE_OK) {
		r->outcome = CHAN_TRANSIENT;
		snprintf(r->error, sizeof(r->error), "%s%s%s",
		    curl_easy_strerror((CURLcode)resp->curl_code),
		    resp->error[0] ? ": " : "", resp->error);
		return;
	}
	if (limit_spent(resp))
		r->channel_wait = wait_hint(resp, now);
	if (st >= 200 && st < 300) {
		r->outcome = CHAN_SENT;
		return;
	}
	api_message(resp, msg, sizeof(msg));
	snprintf(r->error, sizeof(r->error), "HTTP %ld%s%s", st,
	    msg[0] ? ": " : "", msg);
	if (st == 408 || st == 425 || st == 429 || st >= 500) {
		r->outcome = CHAN_TRANSIENT;
		r->retry_after = wait_hint(resp, now);
		if (st == 429 && r->retry_after > r->channel_wait)
			r->channel_wait = r->retry_after;
	} else if (st == 401 || st == 403)
		r->outcome = CHAN_AUTH;
	else
		r->outcome = CHAN_PERMANENT;
}

/* Fills R for RESP, an answer that is not the success the step needed. */
void
chan_http_failed(const struct http_response *resp, const char *what,
    struct chan_result *r)
{
	char	msg[sizeof(r->error)];

	memset(r, 0, sizeof(*r));
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		r->aborted = true;
		return;
	}
	chan_http_classify(resp, r);
	if (r->outcome == CHAN_SENT) {
		/* A 2xx we cannot use (no id): the server misbehaves. */
		r->outcome = CHAN_TRANSIENT;
		snprintf(r->error, sizeof(r->error), "HTTP %ld: unexpected "
		    "answer", resp->status);
	}
	if (what != NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", what, r->error);
		memcpy(r->error, msg, sizeof(r->error));
	}
}

/* Frees CALL. */
static void
call_free(struct chan_call *call)
{
	chan_request_clear(&call->rq);
	free(call->channel);
	free(call);
}

/* http.c's callback: the answer to a one-request channel's request. */
static void
call_done(void *arg, const struct http_response *resp)
{
	struct chan_call	*call = arg;
	struct chan_result	 r;
	chan_done_fn		 done = call->done;
	void			*darg = call->arg;

	memset(&r, 0, sizeof(r));
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK)
		r.aborted = true;	/* only http_shutdown aborts */
	else
		call->ops->classify(chan_find(call->channel), call->post, resp,
		    &r);
	call_free(call);
	done(darg, &r);
}

/* Builds P's one request on CH and hands it to http.c. */
static int
call_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	struct chan_call	*call;
	struct http_request	 hreq;
	struct chan_result	 r;

	if ((call = calloc(1, sizeof(*call))) == NULL ||
	    (call->channel = strdup(ch->name)) == NULL)
		abort();
	call->ops = ch->ops;
	call->post = p;
	call->done = done;
	call->arg = arg;
	err[0] = '\0';
	if (ch->ops->build(ch, p, &call->rq, err, errlen) == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot build the request");
		call_free(call);
		return (-1);
	}
	memset(&hreq, 0, sizeof(hreq));
	hreq.method = call->rq.method;
	hreq.url = call->rq.url;
	hreq.headers = (const char **)call->rq.headers;
	hreq.body = call->rq.body;
	hreq.body_len = call->rq.body_len;
	hreq.timeout_ms = call->rq.timeout_ms;
	if (http_start(&hreq, call_done, call) == -1) {
		call_free(call);
		memset(&r, 0, sizeof(r));
		r.outcome = CHAN_TRANSIENT;
		snprintf(r.error, sizeof(r.error), "cannot start the request");
		done(arg, &r);
	}
	return (0);
}

/* Starts delivering P on CH: its own start, or its one request. */
int
chan_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	if (ch->ops->start != NULL)
		return (ch->ops->start(ch, p, done, arg, err, errlen));
	return (call_start(ch, p, done, arg, err, errlen));
}

/* P (zeroed first) with delivery D's fields; D's strings are borrowed. */
void
chan_post_of(struct post *p, const struct delivery *d)
{
	memset(p, 0, sizeof(*p));
	p->id = d->id;
	p->channel = d->channel;
	p->due = d->due;
	p->calendar = d->calendar;
	p->uid = d->uid;
	p->recurrence_id = d->recurrence_id;
	p->summary = d->summary;
	p->text = d->text != NULL ? d->text : "";
	p->attempt = d->attempts + 1;
}

/* Frees what P holds and zeroes it. */
void
chan_email_parts_clear(struct email_parts *p)
{
	free(p->subject);
	free(p->text);
	free(p->html);
	free(p->unsub_url);
	memset(p, 0, sizeof(*p));
}

/* Whether TYPE names a channel type. */
static bool
chan_known(const char *type)
{
	return (chan_ops_find(type) != NULL);
}

/* conf_load's view of the channel types. */
const struct conf_chan_rules chan_config_rules = {
	chan_known, chan_config_check
};

/* Loads channel NAME's KEY (the store's chan_kv table). */
int
chan_kv_get(const char *name, const char *key, char **value, int64_t *updated)
{
	return (store_kv_get(name, key, value, updated));
}

/* Writes the N values KV of channel NAME in one transaction. */
int
chan_kv_put(const char *name, const struct chan_kv *kv, size_t n)
{
	struct store_kv	 skv[8];
	size_t		 i;

	if (n > sizeof(skv) / sizeof(skv[0]))
		return (-1);
	for (i = 0; i < n; i++) {
		skv[i].key = kv[i].key;
		skv[i].value = kv[i].value;
	}
	return (store_kv_put(name, skv, n));
}
