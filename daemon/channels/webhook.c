/*
 * The webhook channel: each delivery is POSTed as JSON to a URL, shaped for
 * Slack ({"text"}), Discord ({"content"}) or as the whole delivery ("json");
 * with a secret_file, the body is signed with HMAC-SHA256.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../channel.h"
#include "../http.h"
#include "../when.h"

#define WEBHOOK_TIMEOUT		30	/* s, default for the whole request */

enum wh_format { WH_JSON, WH_SLACK, WH_DISCORD };

struct webhook {
	char		*url;
	enum wh_format	 format;
	unsigned char	*secret;	/* NULL: unsigned */
	size_t		 secret_len;
	long		 timeout_ms;
};

static const struct chan_key webhook_keys[] = {
	{ "url", CK_URL, true, NULL },
	{ "format", CK_ENUM, false, "slack|discord|json" },
	{ "secret_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "timeout", CK_DURATION, false, NULL },
	{ NULL, 0, false, NULL },
};

/* Frees W. */
static void
webhook_free(struct webhook *w)
{
	if (w == NULL)
		return;
	chan_secret_free((char *)w->secret, w->secret_len);
	free(w->url);
	free(w);
}

/* Reads the channel's keys and its secret. */
static int
webhook_open(struct channel *ch, const struct config *c, char *err,
    size_t errlen)
{
	struct webhook	*w;
	const char	*fmt = conf_chan_get(ch->cfg, "format", NULL);
	const char	*to = conf_chan_get(ch->cfg, "timeout", NULL);
	int64_t		 secs = WEBHOOK_TIMEOUT;
	char		 msg[400];

	(void)c;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		abort();
	if ((w->url = strdup(conf_chan_get(ch->cfg, "url", NULL))) == NULL)
		abort();
	if (fmt == NULL || strcmp(fmt, "json") == 0)
		w->format = WH_JSON;
	else if (strcmp(fmt, "slack") == 0)
		w->format = WH_SLACK;
	else
		w->format = WH_DISCORD;
	if (to != NULL)
		conf_parse_duration(to, &secs);
	w->timeout_ms = (long)secs * 1000;
	if (chan_secret_read(ch->cfg, "secret_file", (char **)&w->secret,
	    &w->secret_len, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "channel %s: %s", ch->name, msg);
		webhook_free(w);
		return (-1);
	}
	ch->priv = w;
	return (0);
}

/* Frees the channel's state. */
static void
webhook_close(struct channel *ch)
{
	webhook_free(ch->priv);
	ch->priv = NULL;
}

/* The body for P in W's format. */
static char *
webhook_body(const struct webhook *w, const struct post *p)
{
	json_t	*j;
	char	*s, due[40];

	switch (w->format) {
	case WH_SLACK:
		j = json_pack("{s:s}", "text", p->text);
		break;
	case WH_DISCORD:
		j = json_pack("{s:s}", "content", p->text);
		break;
	case WH_JSON:
	default:
		j = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:i}",
		    "id", p->id, "channel", p->channel,
		    "due", when_format(p->due, due, sizeof(due)),
		    "calendar", p->calendar, "uid", p->uid,
		    "recurrence_id", p->recurrence_id, "summary", p->summary,
		    "text", p->text, "attempt", p->attempt);
		break;
	}
	if (j == NULL)
		return (NULL);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return (s);
}

/* Adds X-Crier-Timestamp and X-Crier-Signature (HMAC of "ts.body"). */
static int
webhook_sign(const struct webhook *w, struct chan_request *rq)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	char		 ts[32], hex[EVP_MAX_MD_SIZE * 2 + 8];
	char		*msg;
	size_t		 tlen;

	snprintf(ts, sizeof(ts), "%lld", (long long)(when_now() / 1000));
	tlen = strlen(ts);
	if ((msg = malloc(tlen + 1 + rq->body_len)) == NULL)
		abort();
	memcpy(msg, ts, tlen);
	msg[tlen] = '.';
	memcpy(msg + tlen + 1, rq->body, rq->body_len);
	if (HMAC(EVP_sha256(), w->secret, (int)w->secret_len,
	    (unsigned char *)msg, tlen + 1 + rq->body_len, md, &mdlen) == NULL) {
		free(msg);
		return (-1);
	}
	free(msg);
	memcpy(hex, "sha256=", 7);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 7 + i * 2, 3, "%02x", md[i]);
	chan_request_header(rq, "X-Crier-Timestamp", ts);
	chan_request_header(rq, "X-Crier-Signature", hex);
	return (0);
}

/* POST url, JSON body, signed when there is a secret. */
static int
webhook_build(struct channel *ch, const struct post *p, struct chan_request *rq,
    char *err, size_t errlen)
{
	const struct webhook	*w = ch->priv;

	rq->method = "POST";
	if ((rq->url = strdup(w->url)) == NULL)
		abort();
	if ((rq->body = webhook_body(w, p)) == NULL) {
		snprintf(err, errlen, "cannot encode the post as JSON (is the "
		    "text valid UTF-8?)");
		return (-1);
	}
	rq->body_len = strlen(rq->body);
	rq->timeout_ms = w->timeout_ms;
	chan_request_header(rq, "Content-Type", "application/json");
	chan_request_header(rq, "X-Crier-Delivery", p->id);
	if (w->secret != NULL && webhook_sign(w, rq) == -1) {
		snprintf(err, errlen, "cannot sign the request");
		return (-1);
	}
	return (0);
}

/* The usual reading; an "id" or "url" in a JSON answer is kept. */
static void
webhook_classify(struct channel *ch, const struct post *p,
    const struct http_response *resp, struct chan_result *r)
{
	json_t	*j, *v;

	(void)ch;
	(void)p;
	chan_http_classify(resp, r);
	if (r->outcome != CHAN_SENT || resp->body == NULL ||
	    (j = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL)
		return;
	v = json_object_get(j, "id");
	if (json_is_string(v))
		snprintf(r->remote_id, sizeof(r->remote_id), "%s",
		    json_string_value(v));
	else if (json_is_integer(v))
		snprintf(r->remote_id, sizeof(r->remote_id), "%lld",
		    (long long)json_integer_value(v));
	v = json_object_get(j, "url");
	if (json_is_string(v) && strncmp(json_string_value(v), "http", 4) == 0)
		snprintf(r->remote_url, sizeof(r->remote_url), "%s",
		    json_string_value(v));
	json_decref(j);
}

const struct channel_ops webhook_ops = {
	.type = "webhook",
	.idempotent = false,	/* a receiver may act on every request it gets */
	.len_rule = LEN_PLAIN,
	.default_limit = 0,
	.keys = webhook_keys,
	.open = webhook_open,
	.close = webhook_close,
	.build = webhook_build,
	.classify = webhook_classify,
};
