/*
 * The smtp channel: a newsletter. One delivery sends one personal message
 * to each recipient the post names (post.email: recipients_file as the
 * scheduler planned it, each message rendered by render.c on request), one
 * SMTP transaction per recipient over `sessions` connections, each held by
 * a mailer thread (mailer.c) and reused from message to message, spaced by
 * the channel's rate. Bookkeeping stays on the loop: recipients become
 * `sending` in the journal a batch at a time, in one durable commit, before
 * any of them is handed to a mailer, and each one's fate is journaled as
 * its transaction ends, so a restart resumes where it stopped (marked
 * recipients without a fate are uncertain, never sent twice); suppressed
 * addresses are never sent to.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "../channel.h"
#include "../http.h"
#include "../log.h"
#include "../mailer.h"
#include "../mime.h"
#include "../recipients.h"
#include "../when.h"
#include "../../common/util.h"

#define SMTP_BATCH	32	/* recipients marked `sending` per commit */
#define SMTP_MAX_SESSIONS 16	/* connections per delivery */

/* The channel's settings; shared with the sends under way (refs). */
struct smtp_conf {
	int		 refs;
	char		*name;
	char		*url;
	bool		 starttls;
	char		*username;	/* NULL: no AUTH */
	char		*password;
	size_t		 pwlen;
	char		*from_name;	/* may be NULL */
	char		*from_addr;
	char		*reply_to;
	char		*unsub_mailto;
	char		*list_id;
	int64_t		 interval;	/* ms between messages (rate), 0: none */
	char		*ca_file;	/* may be NULL */
	int64_t		 timeouts[MT_N];	/* ms */
	int64_t		 timeout_ms;	/* one whole message, 0: no bound */
	int		 sessions;	/* connections per delivery */
};

struct smtp_send;

/* One SMTP session of a delivery: a mailer connection and its message. */
struct smtp_session {
	struct smtp_send	*s;
	struct mailer		*mailer;	/* NULL: not opened yet */
	size_t			 cur;		/* its recipient, while busy */
	bool			 busy;		/* a message is out */
	bool			 suppressed;	/* unsubscribed just before DATA */
};

/* One delivery under way. */
struct smtp_send {
	struct smtp_conf	*c;
	char			*id;
	const struct post_email	*e;		/* the post's, valid until done */
	const struct chan_journal *j;
	chan_done_fn		 done;
	void			*arg;
	size_t			 next;
	size_t			 marked;	/* [next, marked) are `sending` */
	size_t			 batch;		/* the size of the latest mark */
	int			 nsent, nfailed, npending, nsuppressed, nuncertain;
	int			 ndone;		/* sent before this attempt */
	char			 last_error[300];
	enum chan_outcome	 fatal;		/* with fatal_set: ends the delivery */
	bool			 fatal_set;
	char			 fatal_error[400];
	bool			 aborted;	/* crierd stops: end when idle */
	bool			 delaying;	/* a rate (or start) timer runs */
	int64_t			 last_start;
	struct smtp_session	 sess[SMTP_MAX_SESSIONS];
	int			 nsess, nbusy;
};

static char	*message_id(const struct smtp_send *, size_t);

static const struct chan_key smtp_keys[] = {
	{ "url", CK_STRING, true, NULL },
	{ "starttls", CK_BOOL, false, NULL },
	{ "username", CK_STRING, false, NULL },
	{ "password_file", CK_SECRET, false, NULL },
	{ "credential", CK_CREDENTIAL, false, NULL },
	{ "from", CK_STRING, true, NULL },
	{ "recipients_file", CK_PATH, true, NULL },
	{ "reply_to", CK_STRING, false, NULL },
	{ "unsubscribe_url", CK_TEMPLATE, false, NULL },
	{ "unsubscribe_mailto", CK_STRING, false, NULL },
	{ "list_id", CK_STRING, false, NULL },
	{ "timeout", CK_DURATION, false, NULL },
	{ "connect_timeout", CK_DURATION, false, NULL },
	{ "greeting_timeout", CK_DURATION, false, NULL },
	{ "mail_timeout", CK_DURATION, false, NULL },
	{ "rcpt_timeout", CK_DURATION, false, NULL },
	{ "data_init_timeout", CK_DURATION, false, NULL },
	{ "data_block_timeout", CK_DURATION, false, NULL },
	{ "data_end_timeout", CK_DURATION, false, NULL },
	{ "quit_timeout", CK_DURATION, false, NULL },
	{ "sessions", CK_STRING, false, NULL },
	{ NULL, 0, false, NULL },
};

/* The keys of the mailer's timeouts, by enum mailer_timeout. */
static const char *const smtp_timeout_keys[MT_N] = {
	[MT_CONNECT] = "connect_timeout",
	[MT_GREETING] = "greeting_timeout",
	[MT_MAIL] = "mail_timeout",
	[MT_RCPT] = "rcpt_timeout",
	[MT_DATA_INIT] = "data_init_timeout",
	[MT_DATA_BLOCK] = "data_block_timeout",
	[MT_DATA_END] = "data_end_timeout",
	[MT_QUIT] = "quit_timeout",
};

static void	smtp_step(struct smtp_send *);

/* True if boolean key VALUE says yes (default DEF when unset). */
static bool
yes(const char *value, bool def)
{
	if (value == NULL)
		return (def);
	return (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0);
}

/* The scheme of URL if it is smtp:// or smtps://, else NULL. */
static const char *
smtp_scheme(const char *url)
{
	if (strncasecmp(url, "smtps://", 8) == 0)
		return ("smtps");
	if (strncasecmp(url, "smtp://", 7) == 0)
		return ("smtp");
	return (NULL);
}

/* The number of SMTP sessions V names (1..SMTP_MAX_SESSIONS), or -1. */
static int
sessions_parse(const char *v)
{
	char	*end;
	long	 n;

	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < 1 || n > SMTP_MAX_SESSIONS)
		return (-1);
	return ((int)n);
}

/* A recipients file read and checked on the thread pool. */
struct rcheck {
	uv_work_t	 work;
	char		*channel;
	char		*path;
	int		 rc;
	struct rcpt_list rl;
	char		 err[512];
};

/* Logs what checking channel CHANNEL's recipients file found (RC -1: ERR; else RL's problems). */
static void
rcheck_log(const char *channel, int rc, const char *err,
    const struct rcpt_list *rl)
{
	size_t	i;

	if (rc == -1) {
		log_warnx("channel %s: %s", channel, err);
		return;
	}
	for (i = 0; i < rl->nproblems; i++)
		log_warnx("channel %s: recipients_file %s", channel,
		    rl->problems[i]);
}

/* Thread pool: reads and parses the file (CRIER_TEST_RCHECK_MS: slower, for tests). */
static void
rcheck_work(uv_work_t *w)
{
	struct rcheck	*r = w->data;
	const char	*t = getenv("CRIER_TEST_RCHECK_MS");

	if (t != NULL && atoi(t) > 0)
		uv_sleep((unsigned)atoi(t));
	r->rc = recipients_load(r->path, &r->rl, r->err, sizeof(r->err));
}

/* Loop: logs what the thread pool found and frees the job. */
static void
rcheck_done(uv_work_t *w, int status)
{
	struct rcheck	*r = w->data;

	if (status == 0)
		rcheck_log(r->channel, r->rc, r->err, &r->rl);
	if (r->rc == 0)
		recipients_list_free(&r->rl);
	free(r->channel);
	free(r->path);
	free(r);
}

/*
 * Checks channel CHANNEL's recipients file PATH; a bad line is reported,
 * not fatal. In the running daemon (a reload) the file, up to 64 MiB, is
 * read and parsed on the thread pool and its problems logged when done:
 * on the loop a list of 60 000 took a turn of 10 ms. With --check and at
 * the start, here.
 */
static void
rcheck(const char *channel, const char *path)
{
	struct rcheck	*r;
	struct rcpt_list rl;
	uv_loop_t	*loop = mailer_loop();
	char		 msg[512];
	int		 rc;

	if (loop != NULL) {
		r = xcalloc(1, sizeof(*r));
		r->channel = xstrdup(channel);
		r->path = xstrdup(path);
		r->work.data = r;
		if (uv_queue_work(loop, &r->work, rcheck_work, rcheck_done) == 0)
			return;
		free(r->channel);
		free(r->path);
		free(r);
	}
	rc = recipients_load(path, &rl, msg, sizeof(msg));
	rcheck_log(channel, rc, msg, &rl);
	if (rc == 0)
		recipients_list_free(&rl);
}

/* Checks url/starttls, the addresses, AUTH keys and the unsubscribe template. */
static int
smtp_check(const struct cfg_channel *cc, const struct config *c, char *err,
    size_t errlen)
{
	const char	*url = conf_chan_get(cc, "url", NULL);
	const char	*st = conf_chan_get(cc, "starttls", NULL);
	const char	*v, *scheme;
	char		 msg[400], *n, *a;

	(void)c;
	if ((scheme = smtp_scheme(url)) == NULL) {
		snprintf(err, errlen, "url: '%s' is not smtp:// or smtps://", url);
		return (-1);
	}
	if (conf_check_url(url, "smtps smtp", NULL, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "url: %s", msg);
		return (-1);
	}
	if (st != NULL && !yes(st, true)) {
		if (strcmp(scheme, "smtp") != 0) {
			snprintf(err, errlen, "starttls = no only goes with smtp://");
			return (-1);
		}
		if (conf_check_url(url, "", "smtp", msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "starttls = no is only allowed for "
			    "loopback hosts (127.0.0.1, ::1, localhost)");
			return (-1);
		}
	}
	if (mime_mailbox_parse(conf_chan_get(cc, "from", NULL), &n, &a) == -1) {
		snprintf(err, errlen, "from: not an address (news@example.org or "
		    "Name <news@example.org>)");
		return (-1);
	}
	free(n);
	free(a);
	if ((v = conf_chan_get(cc, "reply_to", NULL)) != NULL) {
		if (mime_mailbox_parse(v, &n, &a) == -1) {
			snprintf(err, errlen, "reply_to: '%s' is not an address", v);
			return (-1);
		}
		free(n);
		free(a);
	}
	if ((v = conf_chan_get(cc, "unsubscribe_mailto", NULL)) != NULL &&
	    !mime_addr_ok(v)) {
		snprintf(err, errlen, "unsubscribe_mailto: '%s' is not an address",
		    v);
		return (-1);
	}
	if ((v = conf_chan_get(cc, "list_id", NULL)) != NULL &&
	    (strpbrk(v, "\r\n") != NULL || strchr(v, ' ') != NULL) &&
	    strchr(v, '<') == NULL) {
		snprintf(err, errlen, "list_id: '%s' is not a list id (such as "
		    "news.example.org)", v);
		return (-1);
	}
	if ((conf_chan_get(cc, "username", NULL) != NULL) !=
	    (conf_chan_get(cc, "password_file", NULL) != NULL ||
	    conf_chan_get(cc, "credential", NULL) != NULL)) {
		snprintf(err, errlen, "username needs password_file or "
		    "credential, and they need username");
		return (-1);
	}
	if (conf_chan_get(cc, "password_file", NULL) != NULL &&
	    conf_chan_get(cc, "credential", NULL) != NULL) {
		snprintf(err, errlen, "password_file and credential: use one");
		return (-1);
	}
	if ((v = conf_chan_get(cc, "sessions", NULL)) != NULL &&
	    sessions_parse(v) == -1) {
		snprintf(err, errlen, "sessions: '%s' is not a number from 1 to "
		    "%d", v, SMTP_MAX_SESSIONS);
		return (-1);
	}
	rcheck(cc->name, conf_chan_get(cc, "recipients_file", NULL));
	return (0);
}

/* Drops a reference to C, freeing it with the last. */
static void
conf_release(struct smtp_conf *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	if (c->password != NULL)
		chan_secret_free(c->password, c->pwlen);
	free(c->name);
	free(c->url);
	free(c->username);
	free(c->from_name);
	free(c->from_addr);
	free(c->reply_to);
	free(c->unsub_mailto);
	free(c->list_id);
	free(c->ca_file);
	free(c);
}

/* Reads the channel's keys and its password. */
static int
smtp_open(struct channel *ch, const struct config *c, char *err, size_t errlen)
{
	const struct cfg_channel	*cc = ch->cfg;
	struct smtp_conf		*sc;
	const char			*v;
	char				 msg[400];
	int64_t				 secs;
	int				 i;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		abort();
	sc->refs = 1;
	sc->name = xstrdup(ch->name);
	sc->url = xstrdup(conf_chan_get(cc, "url", NULL));
	sc->starttls = yes(conf_chan_get(cc, "starttls", NULL), true);
	sc->username = xstrdup(conf_chan_get(cc, "username", NULL));
	if (mime_mailbox_parse(conf_chan_get(cc, "from", NULL), &sc->from_name,
	    &sc->from_addr) == -1) {
		snprintf(err, errlen, "channel %s: from: not an address", ch->name);
		goto fail;
	}
	sc->reply_to = xstrdup(conf_chan_get(cc, "reply_to", NULL));
	sc->unsub_mailto = xstrdup(conf_chan_get(cc, "unsubscribe_mailto",
	    NULL));
	sc->list_id = xstrdup(conf_chan_get(cc, "list_id", NULL));
	sc->ca_file = xstrdup(c->ca_file);
	if ((v = conf_chan_get(cc, "timeout", NULL)) != NULL &&
	    conf_parse_duration(v, &secs) == 0)
		sc->timeout_ms = secs * 1000;
	for (i = 0; i < MT_N; i++) {
		sc->timeouts[i] = mailer_default_timeout(i);
		if ((v = conf_chan_get(cc, smtp_timeout_keys[i], NULL)) !=
		    NULL && conf_parse_duration(v, &secs) == 0 && secs > 0)
			sc->timeouts[i] = secs * 1000;
	}
	sc->sessions = 1;
	if ((v = conf_chan_get(cc, "sessions", NULL)) != NULL &&
	    (i = sessions_parse(v)) != -1)
		sc->sessions = i;
	if (cc->rate.count > 0)
		sc->interval = cc->rate.period * 1000 / cc->rate.count;
	if (sc->username != NULL && chan_secret_read(cc, "password_file",
	    &sc->password, &sc->pwlen, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "channel %s: password: %s", ch->name, msg);
		goto fail;
	}
	ch->priv = sc;
	return (0);
fail:
	conf_release(sc);
	return (-1);
}

/* Lets go of the channel's settings (sends under way keep their reference). */
static void
smtp_close(struct channel *ch)
{
	conf_release(ch->priv);
	ch->priv = NULL;
}

/* Frees S. */
static void
send_free(struct smtp_send *s)
{
	int	k;

	/* Each thread says QUIT and ends by itself. */
	for (k = 0; k < s->nsess; k++)
		mailer_close(s->sess[k].mailer);
	conf_release(s->c);
	free(s->id);
	free(s);
}

/* Journals recipient I of S as FATE with ERROR (may be NULL); -1 if that failed. */
static int
rcpt_record(struct smtp_send *s, size_t i, enum rcpt_fate fate,
    const char *error, bool attempt)
{
	char	*id = message_id(s, i);
	int	 rc;

	rc = s->j->recipient(s->j->arg, i, fate, error, id, attempt);
	free(id);
	return (rc);
}

/*
 * Marks the next recipients of S still to get the post (up to SMTP_BATCH)
 * `sending` in one durable transaction, before any is handed over: one
 * fsync for the batch instead of one per message. -1 if it could not.
 */
static int
mark_batch(struct smtp_send *s)
{
	size_t	 i, n = 0, max;
	int	 rc = 0;

	/*
	 * The batch starts at one and doubles (a crash of a short list
	 * leaves few recipients uncertain); under a rate it holds no more
	 * than go out in 100 ms, where the fsync is no bottleneck anyway.
	 */
	s->batch = s->batch == 0 ? 1 : s->batch * 2;
	if (s->batch > SMTP_BATCH)
		s->batch = SMTP_BATCH;
	max = s->batch;
	if (s->c->interval > 0 && (size_t)(100 / s->c->interval) < max)
		max = 100 / s->c->interval > 0 ? (size_t)(100 / s->c->interval) :
		    1;
	if (s->j->batch(s->j->arg, true) == -1)
		return (-1);
	for (i = s->next; i < s->e->nrcpts && n < max; i++) {
		if (!s->e->rcpts[i].todo)
			continue;
		if (rcpt_record(s, i, RCPT_SENDING, NULL, false) == -1)
			rc = -1;
		n++;
	}
	if (s->j->batch(s->j->arg, false) == -1)
		return (-1);
	s->marked = i;
	return (rc);
}

/*
 * Puts the recipients of S marked `sending` but never handed over back
 * to `pending`, so a later attempt sends them (a crash leaves them
 * uncertain instead: nothing tells whether they went).
 */
static void
unmark_rest(struct smtp_send *s)
{
	size_t	i;

	if (s->marked <= s->next)
		return;
	if (s->j->batch(s->j->arg, true) == -1)
		return;
	for (i = s->next; i < s->marked; i++)
		if (s->e->rcpts[i].todo)
			rcpt_record(s, i, RCPT_PENDING, NULL, false);
	s->j->batch(s->j->arg, false);
	s->marked = s->next;
}

/* Reports the end of S to the engine (R) and frees S. */
static void
send_end(struct smtp_send *s, struct chan_result *r)
{
	chan_done_fn	 done = s->done;
	void		*arg = s->arg;
	char		 sum[300];

	unmark_rest(s);
	if (!r->aborted) {
		snprintf(sum, sizeof(sum), "%d sent, %d failed, %d pending, "
		    "%d suppressed, %d uncertain (of %zu; %d sent before)",
		    s->nsent, s->nfailed, s->npending, s->nsuppressed,
		    s->nuncertain, s->e->nrcpts, s->ndone);
		s->j->event(s->j->arg, "recipients", sum);
		log_info("delivery %s: newsletter: %s", s->id, sum);
	}
	send_free(s);
	done(arg, r);
}

/* Ends S as crierd stops, once no session and no timer is busy. */
static void
send_abort(struct smtp_send *s)
{
	struct chan_result	r;

	s->aborted = true;
	if (s->nbusy > 0 || s->delaying)
		return;
	memset(&r, 0, sizeof(r));
	r.aborted = true;
	send_end(s, &r);
}

/* Ends S by what its recipients came to (or its fatal error). */
static void
send_finish(struct smtp_send *s)
{
	struct chan_result	r;

	memset(&r, 0, sizeof(r));
	if (s->fatal_set) {
		r.outcome = s->fatal;
		snprintf(r.error, sizeof(r.error), "%s", s->fatal_error);
	} else if (s->npending > 0) {
		r.outcome = CHAN_TRANSIENT;
		snprintf(r.error, sizeof(r.error), "%d recipient%s not sent yet: "
		    "%s", s->npending, s->npending == 1 ? "" : "s", s->last_error);
	} else if (s->e->nrcpts == 0) {
		r.outcome = CHAN_PERMANENT;
		snprintf(r.error, sizeof(r.error), "no recipients in %s",
		    s->e->source);
	} else {
		r.outcome = CHAN_SENT;
		if (s->nfailed > 0)
			snprintf(r.error, sizeof(r.error), "%d recipient%s "
			    "refused: %s", s->nfailed, s->nfailed == 1 ? "" : "s",
			    s->last_error);
	}
	send_end(s, &r);
}

/* Sets S's fatal OUTCOME and ERR: no more messages start, S ends when idle. */
static void
send_fatal(struct smtp_send *s, enum chan_outcome outcome, const char *err)
{
	if (s->fatal_set)
		return;
	s->fatal_set = true;
	s->fatal = outcome;
	snprintf(s->fatal_error, sizeof(s->fatal_error), "%s", err);
}

/* The Message-ID of S's message to recipient I: stable per (delivery, recipient). */
static char *
message_id(const struct smtp_send *s, size_t i)
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	char		*in, *id, hex[33];
	int		 k;

	if (asprintf(&in, "%s\n%s", s->id, s->e->rcpts[i].key) == -1)
		abort();
	SHA256((unsigned char *)in, strlen(in), md);
	free(in);
	for (k = 0; k < 16; k++)
		snprintf(hex + k * 2, 3, "%02x", md[k]);
	if (asprintf(&id, "crier.%s.%s@%s", s->id, hex,
	    strchr(s->c->from_addr, '@') + 1) == -1)
		abort();
	return (id);
}

/* Builds S's message to recipient I into *MSG (*LEN): its parts rendered for it; -1 with ERR. */
static int
build_message(struct smtp_send *s, size_t i, char **msg, size_t *len,
    char *err, size_t errlen)
{
	const struct email_rcpt	*rc = &s->e->rcpts[i];
	struct email_parts	 parts;
	struct mime_msg		 m;
	char			*msgid;

	if (s->e->render(s->e, i, &parts, err, errlen) == -1)
		return (-1);
	msgid = message_id(s, i);
	memset(&m, 0, sizeof(m));
	m.from_name = s->c->from_name;
	m.from_addr = s->c->from_addr;
	m.to_name = rc->name;
	m.to_addr = rc->email;
	m.reply_to = s->c->reply_to;
	m.subject = parts.subject;
	m.text = parts.text;
	m.html = parts.html;
	m.message_id = msgid;
	m.date = when_now();
	m.list_id = s->c->list_id;
	m.unsub_url = parts.unsub_url;
	m.unsub_mailto = s->c->unsub_mailto;
	*msg = mime_build(&m, len);
	chan_email_parts_clear(&parts);
	free(msgid);
	return (0);
}

/* The time to wait before S's next message, for the rate. */
static uint64_t
wait_ms(const struct smtp_send *s)
{
	int64_t	d = s->last_start + s->c->interval - when_now();

	return (s->c->interval > 0 && s->last_start > 0 && d > 0 ? (uint64_t)d :
	    0);
}

/* Goes on with S's next recipients after the rate's wait. */
static void
delay_done(void *arg, const struct http_response *resp)
{
	struct smtp_send	*s = arg;

	s->delaying = false;
	if (resp->curl_code != CURLE_OK) {
		send_abort(s);
		return;
	}
	smtp_step(s);
}

/* Goes on with S after MS ms (a timer: never from within start). */
static void
send_later(struct smtp_send *s, uint64_t ms)
{
	if (s->delaying)
		return;
	s->delaying = true;
	if (http_start_delay(ms, delay_done, s) == -1) {
		/* Only when http is stopping. */
		s->delaying = false;
		send_abort(s);
	}
}

/* Schedules S's next step. */
static void
send_next(struct smtp_send *s)
{
	uint64_t	ms = wait_ms(s);

	/* No rate to keep: at once (we are in a mailer callback, not in start). */
	if (ms == 0 && !mailer_stopping()) {
		smtp_step(s);
		return;
	}
	send_later(s, ms);
}

/* The server accepted DATA for the recipient of session ARG. */
static int
on_data(void *arg, size_t tag)
{
	struct smtp_session	*ss = arg;
	struct smtp_send	*s = ss->s;

	/* An unsubscribe while the list goes out is honoured up to here. */
	if (s->j->suppressed(s->j->arg, tag) == 1) {
		rcpt_record(s, tag, RCPT_SUPPRESSED, NULL, false);
		s->nsuppressed++;
		ss->suppressed = true;
		return (-1);
	}
	/* Its `sending` mark was committed with its batch (mark_batch). */
	return (0);
}

/* The end of one SMTP transaction: books its recipient, goes on. */
static void
on_done(void *arg, size_t tag, const struct mailer_result *mr)
{
	struct smtp_session	*ss = arg;
	struct smtp_send	*s = ss->s;
	size_t			 i = tag;
	long			 code = 0;
	bool			 per_rcpt;
	char			 err[400];

	ss->busy = false;
	s->nbusy--;
	if (ss->suppressed) {
		/* Dropped at DATA, already booked. */
		send_next(s);
		return;
	}
	if (mr->aborted) {
		/* crierd stops: as a crash leaves it, but said at once. */
		if (mr->data) {
			rcpt_record(s, i, RCPT_UNCERTAIN, "crierd stopped during "
			    "the SMTP transaction: it may or may not have gone "
			    "out", true);
			log_warnx("delivery %s: %s: uncertain: crierd stopped "
			    "during the SMTP transaction", s->id,
			    s->e->rcpts[i].email);
		} else
			rcpt_record(s, i, RCPT_PENDING, NULL, false);
		send_abort(s);
		return;
	}
	if (mr->curl_code == CURLE_OK) {
		/* The journal commits it relaxed: see newsletter.c. */
		rcpt_record(s, i, RCPT_SENT, NULL, true);
		s->nsent++;
		send_next(s);
		return;
	}
	/* The code of the refusal, not of what curl said after it (QUIT). */
	if (mr->reply[0] != '\0') {
		code = strtol(mr->reply, NULL, 10);
		snprintf(err, sizeof(err), "%s", mr->reply);
	} else
		snprintf(err, sizeof(err), "%s", mr->error);
	per_rcpt = mr->data || (mr->reply[0] != '\0' &&
	    mr->reply_stage == MS_RCPT);
	if (per_rcpt && code >= 500 && code < 600) {
		rcpt_record(s, i, RCPT_FAILED, err, true);
		s->nfailed++;
		snprintf(s->last_error, sizeof(s->last_error), "%s: %s",
		    s->e->rcpts[i].email, err);
		log_warnx("delivery %s: %s refused: %s", s->id,
		    s->e->rcpts[i].email, err);
	} else if (per_rcpt && code >= 400 && code < 500) {
		rcpt_record(s, i, RCPT_PENDING, err, true);
		s->npending++;
		snprintf(s->last_error, sizeof(s->last_error), "%s: %s",
		    s->e->rcpts[i].email, err);
	} else if (mr->data) {
		/* Cut off during DATA: the server may have taken it. */
		rcpt_record(s, i, RCPT_UNCERTAIN, err, true);
		s->nuncertain++;
		log_warnx("delivery %s: %s: uncertain: %s", s->id,
		    s->e->rcpts[i].email, err);
	} else {
		/* The server or the session failed: so would everyone else. */
		rcpt_record(s, i, RCPT_PENDING, err, false);
		s->npending++;
		send_fatal(s, mr->curl_code == CURLE_LOGIN_DENIED ||
		    code == 535 ? CHAN_AUTH : code >= 500 && code < 600 ?
		    CHAN_PERMANENT : CHAN_TRANSIENT, err);
	}
	send_next(s);
}

static const struct mailer_ops smtp_mailer_ops = {
	.data = on_data,
	.done = on_done,
};

/* Starts the connection thread of session SS. */
static int
open_mailer(struct smtp_session *ss, char *err, size_t errlen)
{
	struct smtp_send	*s = ss->s;
	struct mailer_conf	 mc;

	memset(&mc, 0, sizeof(mc));
	mc.url = s->c->url;
	mc.starttls = s->c->starttls;
	mc.username = s->c->username;
	mc.password = s->c->password;
	mc.ca_file = s->c->ca_file;
	mc.from_addr = s->c->from_addr;
	memcpy(mc.timeouts, s->c->timeouts, sizeof(mc.timeouts));
	mc.message_timeout = s->c->timeout_ms;
	ss->mailer = mailer_open(&mc, &smtp_mailer_ops, ss, err, errlen);
	return (ss->mailer == NULL ? -1 : 0);
}

/* The next recipient of S still to get the post (suppressed ones booked). */
static void
skip_done(struct smtp_send *s)
{
	for (; s->next < s->e->nrcpts; s->next++) {
		if (!s->e->rcpts[s->next].todo)
			continue;
		/* An unsubscribe while the list goes out is honoured. */
		if (s->j->suppressed(s->j->arg, s->next) == 1) {
			rcpt_record(s, s->next, RCPT_SUPPRESSED, NULL, false);
			s->nsuppressed++;
			continue;
		}
		break;
	}
}

/* Hands S's next messages to its idle sessions, or ends S when all is done. */
static void
smtp_step(struct smtp_send *s)
{
	struct smtp_session	*ss;
	char			 err[512], *msg;
	size_t			 len;
	uint64_t		 ms;
	int			 k;

	if (s->aborted) {
		send_abort(s);
		return;
	}
	while (!s->fatal_set) {
		for (k = 0; k < s->nsess && s->sess[k].busy; k++)
			;
		if (k == s->nsess)
			return;		/* all busy: on_done comes back */
		skip_done(s);
		if (s->next >= s->e->nrcpts)
			break;
		if ((ms = wait_ms(s)) > 0) {
			send_later(s, ms);
			return;
		}
		if (s->next >= s->marked && mark_batch(s) == -1) {
			send_fatal(s, CHAN_TRANSIENT, "the store cannot record "
			    "the recipients; nothing was sent to them");
			break;
		}
		ss = &s->sess[k];
		if (build_message(s, s->next, &msg, &len, err,
		    sizeof(err)) == -1) {
			send_fatal(s, CHAN_PERMANENT, err);
			break;
		}
		if (ss->mailer == NULL && open_mailer(ss, err,
		    sizeof(err)) == -1) {
			free(msg);
			send_fatal(s, CHAN_TRANSIENT, err);
			break;
		}
		s->last_start = when_now();
		/* The message is the mailer's now, whatever it returns. */
		if (mailer_send(ss->mailer, s->e->rcpts[s->next].email, msg, len,
		    s->next) == -1) {
			send_fatal(s, CHAN_TRANSIENT, "cannot start the SMTP "
			    "transfer");
			break;
		}
		ss->cur = s->next++;
		ss->suppressed = false;
		ss->busy = true;
		s->nbusy++;
	}
	if (s->nbusy == 0 && !s->delaying)
		send_finish(s);
}

/* Starts sending P to every recipient still to get it. */
static int
smtp_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	struct smtp_send	*s;
	int			 k;

	if (p->email == NULL || p->journal == NULL) {
		snprintf(err, errlen, "no recipients to send to");
		return (-1);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		abort();
	s->c = ch->priv;
	s->c->refs++;
	s->id = xstrdup(p->id);
	s->e = p->email;
	s->j = p->journal;
	s->ndone = (int)p->email->nsent;
	s->nuncertain = (int)p->email->nuncertain;
	s->done = done;
	s->arg = arg;
	s->nsess = s->c->sessions;
	for (k = 0; k < s->nsess; k++)
		s->sess[k].s = s;
	s->delaying = true;
	if (http_start_delay(0, delay_done, s) == -1) {
		snprintf(err, errlen, "cannot start sending");
		send_free(s);
		return (-1);
	}
	return (0);
}

const struct channel_ops smtp_ops = {
	.type = "smtp",
	.email = true,
	/* Recipients sent to are recorded: a re-run skips them. */
	.idempotent = true,
	.len_rule = LEN_PLAIN,
	.default_limit = 0,
	.keys = smtp_keys,
	.check = smtp_check,
	.open = smtp_open,
	.close = smtp_close,
	.start = smtp_start,
};
