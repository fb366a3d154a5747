/*
 * The listmonk channel (listmonk >= 4, listmonk.app/docs/apis/campaigns):
 * a newsletter occurrence becomes one listmonk campaign for the channel's
 * lists, rendered once from the newsletter templates (listmonk sends it to
 * its own subscribers), created as a draft tagged crier-DELIVERYID and then
 * scheduled with send_at. The tag is looked up before anything is created,
 * so a retry after a crash finds the campaign it made instead of making a
 * second one. `show` gets the campaign's state from listmonk in the
 * background (listmonk_ops.remote_state).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "../channel.h"
#include "../conf.h"
#include "../http.h"
#include "../log.h"
#include "../when.h"
#include "../../common/util.h"

#define LM_TIMEOUT_MS	30000L
#define LM_LEAD_MS	60000	/* send_at at least this far ahead */
#define LM_LISTS_MAX	64
#define LM_TAG_PREFIX	"crier-"
#define LM_CACHE	64	/* campaign states show remembers */
#define LM_CACHE_TTL_MS	5000	/* then show asks listmonk again */
#define LM_STATE_MAX	160

struct listmonk {
	char	*url;		/* base URL, no trailing slash */
	char	*auth;		/* "token USER:TOKEN" */
	char	*ctype;		/* html, markdown, plain, richtext */
	char	*from;		/* NULL: listmonk's default */
	long	 template_id;	/* 0: listmonk's default */
	long	 lists[LM_LISTS_MAX];
	size_t	 nlists;
};

enum lstep { LS_LOOKUP, LS_CREATE, LS_SCHEDULE };

/* One delivery on its way. */
struct ljob {
	struct listmonk	*lm;		/* a copy: a reload may close the channel */
	chan_done_fn	 done;
	void		*arg;
	char		*id;
	char		*name;
	char		*subject;
	char		*body;
	char		*altbody;
	int64_t		 due;
	long		 campaign;
	enum lstep	 step;
};

/* A campaign state `show` asked for, as last fetched. */
struct lm_state {
	char	 channel[128];
	long	 campaign;
	char	 text[LM_STATE_MAX];
	int64_t	 at;		/* fetched, ms; 0: not yet */
	int64_t	 asked;		/* a fetch under way since, 0: none */
};

static struct lm_state	lm_cache[LM_CACHE];

static const struct chan_key listmonk_keys[] = {
	{ "url", CK_URL, true, NULL },
	{ "username", CK_STRING, true, NULL },
	{ "token_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "lists", CK_STRING, true, NULL },
	{ "template_id", CK_STRING, false, NULL },
	{ "content_type", CK_ENUM, false, "html|markdown|plain|richtext" },
	{ "from_email", CK_STRING, false, NULL },
	{ NULL, 0, false, NULL },
};

/* Channel CC's KEY, or DEF if it is not set. */
static const char *
lm_key(const struct cfg_channel *cc, const char *key, const char *def)
{
	const char	*v = conf_chan_get(cc, key, NULL);

	return (v != NULL ? v : def);
}

/* Parses "1, 4" into LISTS; -1 with ERR. */
static int
parse_lists(const char *v, long *lists, size_t *n, char *err, size_t errlen)
{
	char	 item[32], *end;
	long	 id;

	*n = 0;
	while (util_list_next(&v, ", ", item, sizeof(item)) > 0) {
		id = strtol(item, &end, 10);
		if (*end != '\0' || id <= 0 || end == item) {
			snprintf(err, errlen, "lists: '%s' is not a list id "
			    "(a number, as listmonk's Lists page shows)", item);
			return (-1);
		}
		if (*n == LM_LISTS_MAX) {
			snprintf(err, errlen, "lists: more than %d lists",
			    LM_LISTS_MAX);
			return (-1);
		}
		lists[(*n)++] = id;
	}
	if (*n == 0) {
		snprintf(err, errlen, "lists: no list id");
		return (-1);
	}
	return (0);
}

/* Checks the keys together: one secret, list ids, a template id. */
static int
listmonk_check(const struct cfg_channel *cc, const struct config *c,
    char *err, size_t errlen)
{
	const char	*tf = conf_chan_get(cc, "token_file", NULL);
	const char	*cr = conf_chan_get(cc, "credential", NULL);
	const char	*t = conf_chan_get(cc, "template_id", NULL);
	const char	*u = lm_key(cc, "username", "");
	long		 lists[LM_LISTS_MAX];
	size_t		 n;

	(void)c;
	if ((tf == NULL) == (cr == NULL)) {
		snprintf(err, errlen, "needs exactly one of token_file and "
		    "credential (the API user's token)");
		return (-1);
	}
	if (*u == '\0' || strpbrk(u, ": \t") != NULL) {
		snprintf(err, errlen, "username: '%s' is not a listmonk API "
		    "user name", u);
		return (-1);
	}
	if (t != NULL && (*t == '\0' || strspn(t, "0123456789") != strlen(t) ||
	    strlen(t) > 9)) {
		snprintf(err, errlen, "template_id: '%s' is not a number", t);
		return (-1);
	}
	return (parse_lists(lm_key(cc, "lists", ""), lists, &n, err,
	    errlen));
}

/* Frees LM. */
static void
lm_free(struct listmonk *lm)
{
	if (lm == NULL)
		return;
	if (lm->auth != NULL) {
		OPENSSL_cleanse(lm->auth, strlen(lm->auth));
		free(lm->auth);
	}
	free(lm->url);
	free(lm->ctype);
	free(lm->from);
	free(lm);
}

/* A copy of LM. */
static struct listmonk *
lm_dup(const struct listmonk *lm)
{
	struct listmonk	*n = xmalloc(sizeof(*n));

	*n = *lm;
	n->url = xstrdup(lm->url);
	n->auth = xstrdup(lm->auth);
	n->ctype = xstrdup(lm->ctype);
	n->from = xstrdup(lm->from);
	return (n);
}

/* Reads the channel's keys and its token. */
static int
listmonk_open(struct channel *ch, const struct config *c, char *err,
    size_t errlen)
{
	struct listmonk	*lm = xcalloc(1, sizeof(*lm));
	const char	*v;
	char		*tok = NULL, msg[400];
	size_t		 toklen = 0, n;
	int		 rc;

	(void)c;
	lm->url = xstrdup(lm_key(ch->cfg, "url", ""));
	n = strlen(lm->url);
	while (n > 0 && lm->url[n - 1] == '/')
		lm->url[--n] = '\0';
	lm->ctype = xstrdup(lm_key(ch->cfg, "content_type", "html"));
	lm->from = xstrdup(conf_chan_get(ch->cfg, "from_email", NULL));
	if ((v = conf_chan_get(ch->cfg, "template_id", NULL)) != NULL)
		lm->template_id = strtol(v, NULL, 10);
	if (parse_lists(lm_key(ch->cfg, "lists", ""), lm->lists,
	    &lm->nlists, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "channel %s: %s", ch->name, msg);
		goto fail;
	}
	if ((rc = chan_secret_read(ch->cfg, "token_file", &tok, &toklen, msg,
	    sizeof(msg))) != 0) {
		snprintf(err, errlen, "channel %s: %s", ch->name, rc == 1 ?
		    "no token_file or credential" : msg);
		goto fail;
	}
	if (toklen == 0 || strpbrk(tok, "\r\n") != NULL) {
		snprintf(err, errlen, "channel %s: the token is empty or has a "
		    "newline", ch->name);
		chan_secret_free(tok, toklen);
		goto fail;
	}
	if (asprintf(&lm->auth, "token %s:%s", lm_key(ch->cfg,
	    "username", ""), tok) == -1)
		abort();
	chan_secret_free(tok, toklen);
	ch->priv = lm;
	return (0);
fail:
	lm_free(lm);
	return (-1);
}

/* Frees the channel's state. */
static void
listmonk_close(struct channel *ch)
{
	lm_free(ch->priv);
	ch->priv = NULL;
}

/* Starts METHOD PATH on LM with JSON BODY (may be NULL); CB(ARG) gets the answer. */
static int
lm_request(const struct listmonk *lm, const char *method, const char *path,
    const char *body, http_done_fn cb, void *arg)
{
	struct chan_request	 rq;
	struct http_request	 req;
	char			*url;
	int			 rc;

	memset(&rq, 0, sizeof(rq));
	if (asprintf(&url, "%s%s", lm->url, path) == -1)
		abort();
	chan_request_header(&rq, "Authorization", lm->auth);
	if (body != NULL)
		chan_request_header(&rq, "Content-Type", "application/json");
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = (const char **)rq.headers;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout_ms = LM_TIMEOUT_MS;
	rc = http_start(&req, cb, arg);
	OPENSSL_cleanse(rq.headers[0], strlen(rq.headers[0]));
	chan_request_clear(&rq);
	free(url);
	return (rc);
}

/*
 * S with listmonk's template actions defused: listmonk compiles the body
 * and subject as Go templates, so a literal "{{" is written {{"{{"}}; then
 * the recipient placeholders become listmonk's subscriber fields.
 */
static char *
lm_escape(const char *s)
{
	static const struct {
		const char	*from, *to;
	} subst[] = {
		{ "{{", "{{\"{{\"}}" },
		{ CHAN_LIST_EMAIL, "{{ .Subscriber.Email }}" },
		{ CHAN_LIST_NAME, "{{ .Subscriber.Name }}" },
	};
	char	*out, *o;
	size_t	 i, k, n = 0;

	for (i = 0; s[i] != '\0'; i++)
		n += s[i] == '{' ? 8 : s[i] == '@' ? 24 : 1;
	o = out = xmalloc(n + 1);
	for (i = 0; s[i] != '\0';) {
		for (k = 0; k < sizeof(subst) / sizeof(subst[0]); k++)
			if (strncmp(s + i, subst[k].from,
			    strlen(subst[k].from)) == 0)
				break;
		if (k < sizeof(subst) / sizeof(subst[0])) {
			memcpy(o, subst[k].to, strlen(subst[k].to));
			o += strlen(subst[k].to);
			i += strlen(subst[k].from);
		} else
			*o++ = s[i++];
	}
	*o = '\0';
	return (out);
}

/* Frees J. */
static void
job_free(struct ljob *j)
{
	lm_free(j->lm);
	free(j->id);
	free(j->name);
	free(j->subject);
	free(j->body);
	free(j->altbody);
	free(j);
}

/* Reports R for J and frees it. */
static void
job_finish(struct ljob *j, const struct chan_result *r)
{
	chan_done_fn	 done = j->done;
	void		*arg = j->arg;

	job_free(j);
	done(arg, r);
}

/* Ends J as sent: campaign J->campaign. */
static void
job_sent(struct ljob *j)
{
	struct chan_result	r;

	memset(&r, 0, sizeof(r));
	r.outcome = CHAN_SENT;
	snprintf(r.remote_id, sizeof(r.remote_id), "%ld", j->campaign);
	snprintf(r.remote_url, sizeof(r.remote_url), "%s/admin/campaigns/%ld",
	    j->lm->url, j->campaign);
	job_finish(j, &r);
}

/* Ends J with outcome O and message WHAT: MSG. */
static void
job_fail(struct ljob *j, enum chan_outcome o, const char *what,
    const char *msg)
{
	struct chan_result	r;

	memset(&r, 0, sizeof(r));
	r.outcome = o;
	snprintf(r.error, sizeof(r.error), "%s: %s", what, msg);
	job_finish(j, &r);
}

/* The "data" of a 2xx answer RESP, or NULL with J ended (the error kept). */
static json_t *
job_answer(struct ljob *j, const struct http_response *resp, const char *what)
{
	struct chan_result	 r;
	char			 msg[sizeof(r.error)];
	json_t			*b, *d;

	memset(&r, 0, sizeof(r));
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) {
		r.aborted = true;
		job_finish(j, &r);
		return (NULL);
	}
	chan_http_classify(resp, &r);
	if (r.outcome != CHAN_SENT) {
		snprintf(msg, sizeof(msg), "%s: %s", what, r.error);
		memcpy(r.error, msg, sizeof(r.error));
		job_finish(j, &r);
		return (NULL);
	}
	b = resp->body == NULL ? NULL :
	    json_loadb(resp->body, resp->body_len, 0, NULL);
	if ((d = json_object_get(b, "data")) == NULL) {
		json_decref(b);
		job_fail(j, CHAN_TRANSIENT, what, "listmonk's answer has no "
		    "data");
		return (NULL);
	}
	json_incref(d);
	json_decref(b);
	return (d);
}

static void	job_step(struct ljob *);

/* The tag lookup answered: reuse a campaign an earlier attempt made. */
static void
on_lookup(void *arg, const struct http_response *resp)
{
	struct ljob	*j = arg;
	json_t		*d, *c;
	const char	*st;
	char		 msg[200];

	if ((d = job_answer(j, resp, "campaign lookup")) == NULL)
		return;
	c = json_array_get(json_object_get(d, "results"), 0);
	if (c == NULL) {
		json_decref(d);
		j->step = LS_CREATE;
		job_step(j);
		return;
	}
	j->campaign = (long)json_integer_value(json_object_get(c, "id"));
	st = json_string_value(json_object_get(c, "status"));
	log_info("delivery %s: listmonk campaign %ld (%s) made by an earlier "
	    "attempt", j->id, j->campaign, st ? st : "?");
	if (st != NULL && strcmp(st, "draft") == 0) {
		json_decref(d);
		j->step = LS_SCHEDULE;
		job_step(j);
		return;
	}
	if (st != NULL && strcmp(st, "cancelled") == 0) {
		snprintf(msg, sizeof(msg), "campaign %ld was cancelled in "
		    "listmonk", j->campaign);
		json_decref(d);
		job_fail(j, CHAN_PERMANENT, "listmonk", msg);
		return;
	}
	json_decref(d);
	job_sent(j);
}

/* The campaign is made (a draft): schedule it. */
static void
on_create(void *arg, const struct http_response *resp)
{
	struct ljob	*j = arg;
	json_t		*d;

	if ((d = job_answer(j, resp, "create campaign")) == NULL)
		return;
	j->campaign = (long)json_integer_value(json_object_get(d, "id"));
	json_decref(d);
	if (j->campaign <= 0) {
		job_fail(j, CHAN_TRANSIENT, "create campaign", "no campaign id "
		    "in listmonk's answer");
		return;
	}
	j->step = LS_SCHEDULE;
	job_step(j);
}

/* The campaign is scheduled: the delivery is done. */
static void
on_schedule(void *arg, const struct http_response *resp)
{
	struct ljob	*j = arg;
	json_t		*d;

	if ((d = job_answer(j, resp, "schedule campaign")) == NULL)
		return;
	json_decref(d);
	job_sent(j);
}

/* The create request's JSON body for J. */
static char *
create_body(const struct ljob *j)
{
	json_t	*o, *lists;
	char	 at[40], tag[80], *s;
	int64_t	 send = j->due, now = when_now();
	size_t	 i;

	/* listmonk refuses a send_at in the past: a due one goes shortly. */
	if (send < now + LM_LEAD_MS)
		send = now + LM_LEAD_MS;
	snprintf(tag, sizeof(tag), LM_TAG_PREFIX "%s", j->id);
	lists = json_array();
	for (i = 0; i < j->lm->nlists; i++)
		json_array_append_new(lists, json_integer(j->lm->lists[i]));
	o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:[s]}",
	    "name", j->name, "subject", j->subject, "lists", lists,
	    "type", "regular", "content_type", j->lm->ctype, "body", j->body,
	    "send_at", when_format(send - send % 1000, at, sizeof(at)),
	    "tags", tag);
	if (o == NULL)
		return (NULL);
	if (j->altbody != NULL)
		json_object_set_new(o, "altbody", json_string(j->altbody));
	if (j->lm->template_id > 0)
		json_object_set_new(o, "template_id",
		    json_integer(j->lm->template_id));
	if (j->lm->from != NULL)
		json_object_set_new(o, "from_email", json_string(j->lm->from));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return (s);
}

/* Sends J's next request. */
static void
job_step(struct ljob *j)
{
	char	*path = NULL, *body = NULL;
	int	 rc;

	switch (j->step) {
	case LS_LOOKUP:
		if (asprintf(&path, "/api/campaigns?tag=" LM_TAG_PREFIX
		    "%s&per_page=all", j->id) == -1)
			abort();
		rc = lm_request(j->lm, "GET", path, NULL, on_lookup, j);
		break;
	case LS_CREATE:
		if ((body = create_body(j)) == NULL) {
			job_fail(j, CHAN_PERMANENT, "create campaign", "cannot "
			    "encode the campaign as JSON (is it valid UTF-8?)");
			return;
		}
		rc = lm_request(j->lm, "POST", "/api/campaigns", body,
		    on_create, j);
		break;
	case LS_SCHEDULE:
	default:
		if (asprintf(&path, "/api/campaigns/%ld/status",
		    j->campaign) == -1)
			abort();
		rc = lm_request(j->lm, "PUT", path, "{\"status\":\"scheduled\"}",
		    on_schedule, j);
		break;
	}
	free(path);
	free(body);
	if (rc == -1)
		job_fail(j, CHAN_TRANSIENT, "listmonk", "cannot start the "
		    "request");
}

/* Starts delivering P: rendered once, then lookup, create, schedule. */
static int
listmonk_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	struct email_parts	 parts;
	struct ljob		*j;
	bool			 html;

	if (p->email == NULL || p->email->render == NULL) {
		snprintf(err, errlen, "no newsletter to render");
		return (-1);
	}
	memset(&parts, 0, sizeof(parts));
	if (p->email->render(p->email, 0, &parts, err, errlen) == -1)
		return (-1);
	j = xcalloc(1, sizeof(*j));
	j->lm = lm_dup(ch->priv);
	html = strcmp(j->lm->ctype, "html") == 0 ||
	    strcmp(j->lm->ctype, "richtext") == 0;
	j->done = done;
	j->arg = arg;
	j->id = xstrdup(p->id);
	j->due = p->due;
	j->subject = lm_escape(parts.subject ? parts.subject : "");
	j->name = xstrdup(p->summary && *p->summary ? p->summary :
	    parts.subject ? parts.subject : p->id);
	if (strlen(j->name) > 200)
		j->name[200] = '\0';
	j->body = lm_escape(html ? (parts.html ? parts.html : "") :
	    (parts.text ? parts.text : ""));
	if (html && parts.text != NULL)
		j->altbody = lm_escape(parts.text);
	chan_email_parts_clear(&parts);
	j->step = LS_LOOKUP;
	job_step(j);
	return (0);
}

/* A fetched campaign ARG (its cache slot) answered: its state, for show. */
static void
on_state(void *arg, const struct http_response *resp)
{
	struct lm_state	*s = arg;
	json_t		*b = NULL, *d;
	const char	*st;
	char		 at[40];

	s->asked = 0;
	s->at = when_now();
	if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK)
		return;
	if (resp->status != 200 || resp->body == NULL ||
	    (b = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL ||
	    (st = json_string_value(json_object_get(d = json_object_get(b,
	    "data"), "status"))) == NULL) {
		snprintf(s->text, sizeof(s->text), "listmonk answered HTTP %ld%s"
		    "%.100s", resp->status, resp->curl_code ? ": " : "",
		    resp->curl_code ? resp->error : "");
		json_decref(b);
		return;
	}
	snprintf(s->text, sizeof(s->text), "%s, %lld of %lld sent (as of %s)",
	    st, (long long)json_integer_value(json_object_get(d, "sent")),
	    (long long)json_integer_value(json_object_get(d, "to_send")),
	    when_format(s->at - s->at % 1000, at, sizeof(at)));
	json_decref(b);
}

/*
 * show: campaign REMOTE_ID's state as last fetched into BUF, and a fetch
 * started in the background when that is older than LM_CACHE_TTL_MS.
 */
static const char *
listmonk_remote_state(struct channel *ch, const char *remote_id, char *buf,
    size_t len)
{
	struct lm_state	*s = NULL, *old = &lm_cache[0];
	int64_t		 now = when_now();
	long		 id;
	char		*end, path[64];
	size_t		 i;

	id = strtol(remote_id, &end, 10);
	if (ch->priv == NULL || *end != '\0' || id <= 0)
		return (NULL);
	for (i = 0; i < LM_CACHE; i++) {
		if (lm_cache[i].campaign == id &&
		    strcmp(lm_cache[i].channel, ch->name) == 0) {
			s = &lm_cache[i];
			break;
		}
		if (lm_cache[i].asked == 0 && lm_cache[i].at < old->at)
			old = &lm_cache[i];
	}
	if (s == NULL && old->asked == 0) {
		s = old;
		memset(s, 0, sizeof(*s));
		snprintf(s->channel, sizeof(s->channel), "%s", ch->name);
		s->campaign = id;
	}
	if (s == NULL)
		return (NULL);
	if (s->asked == 0 && now - s->at > LM_CACHE_TTL_MS) {
		snprintf(path, sizeof(path), "/api/campaigns/%ld", id);
		if (lm_request(ch->priv, "GET", path, NULL, on_state, s) == 0)
			s->asked = now;
	}
	snprintf(buf, len, "%s", s->at == 0 ? "being asked of listmonk: show "
	    "it again in a moment" : s->text);
	return (buf);
}

const struct channel_ops listmonk_ops = {
	.type = "listmonk",
	.email = true,
	/* The campaign's tag is looked up before one is made. */
	.idempotent = true,
	.len_rule = LEN_PLAIN,
	.default_limit = 0,
	.keys = listmonk_keys,
	.check = listmonk_check,
	.open = listmonk_open,
	.close = listmonk_close,
	.start = listmonk_start,
	.remote_state = listmonk_remote_state,
};
