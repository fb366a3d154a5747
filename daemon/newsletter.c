/*
 * A newsletter delivery, the scheduler's side. The email channel sends;
 * this file remembers: it reads recipients_file, plans who is still to get
 * the post against the recipients the store recorded, renders each one's
 * message through render.c when the channel asks, and records each
 * recipient's fate for the channel (its chan_journal).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "channel.h"
#include "log.h"
#include "newsletter.h"
#include "compose.h"
#include "recipients.h"
#include "render.h"
#include "store.h"
#include "template.h"
#include "when.h"
#include "../common/util.h"

#define NEWSLETTER_MAX_LOGGED	20	/* recipients file problems per delivery */

struct newsletter {
	char			*id;
	char			*channel;
	char			*summary;
	char			*text;
	char			*tmpl;		/* template name, NULL: none */
	json_t			*ctx;		/* render context without recipient */
	struct tmpl_set		*tmpls;		/* a reference, may be NULL */
	struct tmpl		*unsub;		/* unsubscribe_url, may be NULL */
	char			*utm;		/* rendered utm parameters, NULL: none */
	struct render_email	 re;
	struct rcpt_list	 rl;
	struct email_rcpt	*er;
	int			*attempts;	/* per recipient, as stored */
	struct post_email	 email;
	struct chan_journal	 journal;
};

static const char *const fate_names[] = {
	[RCPT_PENDING] = "pending",
	[RCPT_SENDING] = "sending",
	[RCPT_SENT] = "sent",
	[RCPT_FAILED] = "failed",
	[RCPT_SUPPRESSED] = "suppressed",
	[RCPT_UNCERTAIN] = "uncertain",
};

/* Records recipient I's FATE in the store; -1 if it could not. */
static int
record(void *arg, size_t i, enum rcpt_fate fate, const char *error,
    const char *message_id, bool attempt)
{
	struct newsletter	*nl = arg;
	struct store_rcpt	 r;
	int			 rc;

	memset(&r, 0, sizeof(r));
	r.email = nl->rl.v[i].key;
	r.name = nl->rl.v[i].name;
	r.state = (char *)fate_names[fate];
	r.error = (char *)error;
	r.message_id = fate == RCPT_PENDING ? NULL : (char *)message_id;
	if (attempt)
		nl->attempts[i]++;
	r.attempts = nl->attempts[i];
	r.sent_at = fate == RCPT_SENT ? when_now() : 0;
	/*
	 * A crash keeps a relaxed commit (the OS has it), a power cut may
	 * lose it: the recipient is then `sending`, so uncertain, never sent
	 * twice. The next `sending` mark (a full commit) makes it durable:
	 * one fsync per message instead of two.
	 */
	if (fate == RCPT_SENT)
		store_relaxed(true);
	rc = store_rcpt_put(nl->id, &r);
	if (fate == RCPT_SENT)
		store_relaxed(false);
	if (rc == -1) {
		log_warnx("delivery %s: cannot record recipient %s as %s",
		    nl->id, nl->rl.v[i].email, fate_names[fate]);
		return (-1);
	}
	return (0);
}

/* Opens (OPEN) or commits a group of recipient records: one fsync for all. */
static int
batch(void *arg, bool open)
{
	(void)arg;
	if (open)
		return (store_begin());
	if (store_commit() == -1) {
		store_rollback();
		return (-1);
	}
	return (0);
}

/* 1 if recipient I unsubscribed meanwhile. */
static int
suppressed(void *arg, size_t i)
{
	struct newsletter	*nl = arg;

	return (store_suppressed(nl->rl.v[i].key) == 1);
}

/* Adds EVENT to the delivery's history. */
static void
event(void *arg, const char *ev, const char *detail)
{
	struct newsletter	*nl = arg;

	store_log(nl->id, nl->channel, STORE_ACTOR_DAEMON, ev, detail);
}

/* Renders recipient I's message with render.c. */
static int
render(const struct post_email *e, size_t i, struct email_parts *p,
    char *err, size_t errlen)
{
	struct newsletter	*nl = e->arg;

	if (nl->rl.n == 0)	/* a list service's one message */
		return (render_email_rcpt(&nl->re, CHAN_LIST_EMAIL,
		    CHAN_LIST_NAME, p, err, errlen));
	return (render_email_rcpt(&nl->re, nl->rl.v[i].email, nl->rl.v[i].name,
	    p, err, errlen));
}

/* Loads the render context of NL (kept by campaign.c) or makes one of its text. */
static int
load_context(struct newsletter *nl, char *err, size_t errlen)
{
	json_error_t	 je;
	char		*ctx = NULL;
	int		 rc;

	if ((rc = store_email_ctx_get(nl->id, &nl->tmpl, &ctx)) == -1) {
		snprintf(err, errlen, "cannot read the render context");
		return (-1);
	}
	if (rc == 1) {
		/* An ad-hoc post: its text as it is, for everyone. */
		nl->tmpl = NULL;
		nl->ctx = json_pack("{s:s?, s:s}", "summary", nl->summary,
		    "text", nl->text);
		return (nl->ctx == NULL ? -1 : 0);
	}
	nl->ctx = json_loads(ctx, 0, &je);
	free(ctx);
	if (!json_is_object(nl->ctx)) {
		snprintf(err, errlen, "the render context is not valid JSON");
		return (-1);
	}
	if (nl->tmpl != NULL && nl->tmpls == NULL) {
		snprintf(err, errlen, "template %s: no templates directory is "
		    "configured", nl->tmpl);
		return (-1);
	}
	return (0);
}

/*
 * Renders NL's utm parameters: the key queued with it (the calendar's or
 * the channel's, see reconcile.c), else the channel's, with the context,
 * {{channel}} and {{calendar}}; none if there is no key.
 */
static int
load_utm(struct newsletter *nl, const struct channel *ch, const struct post *p,
    char *err, size_t errlen)
{
	const char	*key = json_string_value(json_object_get(nl->ctx,
			    "_utm_key"));
	json_t		*ctx;
	int		 rc;

	if (key == NULL)
		key = conf_chan_get(ch->cfg, "utm", NULL);
	if (key == NULL)
		return (0);
	if ((ctx = json_deep_copy(nl->ctx)) == NULL)
		abort();
	rc = compose_utm_params(key, ctx, ch->name, p->calendar, false,
	    &nl->utm, err, errlen);
	json_decref(ctx);
	return (rc);
}

/* Orders stored recipients by email, for bsearch. */
static int
by_email(const void *a, const void *b)
{
	return (strcmp(((const struct store_rcpt *)a)->email,
	    ((const struct store_rcpt *)b)->email));
}

/*
 * Sorts out who is still to get NL: recorded recipients sent, failed,
 * suppressed or uncertain are done; `sending` ones (DATA had begun when
 * crierd died) become uncertain, never sent twice.
 */
static int
plan(struct newsletter *nl)
{
	struct store_rcpt	*have = NULL, key, *h;
	size_t			 nhave = 0, i, left = 0;
	int			 bad = 0;

	if (store_rcpt_list(nl->id, &have, &nhave) == -1)
		return (-1);
	if (store_begin() == -1) {
		store_rcpts_free(have, nhave);
		return (-1);
	}
	for (i = 0; i < nl->rl.n; i++) {
		memset(&key, 0, sizeof(key));
		key.email = nl->rl.v[i].key;
		h = nhave ? bsearch(&key, have, nhave, sizeof(*have),
		    by_email) : NULL;
		if (h != NULL) {
			nl->attempts[i] = h->attempts;
			if (strcmp(h->state, "sending") == 0) {
				record(nl, i, RCPT_UNCERTAIN, "crierd stopped "
				    "during the SMTP transaction: it may or may "
				    "not have gone out", h->message_id, false);
				nl->email.nuncertain++;
				continue;
			}
			if (strcmp(h->state, "pending") != 0) {
				if (strcmp(h->state, "sent") == 0)
					nl->email.nsent++;
				continue;
			}
		} else
			record(nl, i, RCPT_PENDING, NULL, NULL, false);
		nl->er[i].todo = true;
		left++;
	}
	if (store_commit() == -1)
		bad = -1;
	store_rcpts_free(have, nhave);
	log_info("delivery %s: newsletter to %zu recipients, %zu to go",
	    nl->id, nl->rl.n, left);
	return (bad);
}

/* Prepares email post P on CH: recipients planned, render inputs kept. */
struct newsletter *
newsletter_open(const struct channel *ch, const struct post *p,
    const struct tmpl_set *tmpls, char *err, size_t errlen)
{
	struct newsletter	*nl;
	const char		*file, *v;
	char			 msg[400];
	size_t			 i;

	if ((nl = calloc(1, sizeof(*nl))) == NULL)
		abort();
	nl->id = xstrdup(p->id);
	nl->channel = xstrdup(p->channel);
	nl->summary = xstrdup(p->summary);
	nl->text = xstrdup(p->text);
	nl->tmpls = tmpl_set_ref(tmpls);
	nl->journal.arg = nl;
	nl->journal.recipient = record;
	nl->journal.suppressed = suppressed;
	nl->journal.event = event;
	nl->journal.batch = batch;
	if ((v = conf_chan_get(ch->cfg, "unsubscribe_url", NULL)) != NULL &&
	    (nl->unsub = tmpl_compile(v, strlen(v), msg, sizeof(msg))) == NULL) {
		snprintf(err, errlen, "unsubscribe_url: %s", msg);
		goto fail;
	}
	if (load_context(nl, err, errlen) == -1 ||
	    load_utm(nl, ch, p, err, errlen) == -1)
		goto fail;
	file = conf_chan_get(ch->cfg, "recipients_file", NULL);
	if (file == NULL) {
		/* A list service (listmonk) has its own subscribers. */
		nl->email.render = render;
		nl->email.arg = nl;
		nl->re.tmpls = nl->tmpls;
		nl->re.style = chan_style_of(ch);
		nl->re.template = nl->tmpl;
		nl->re.ctx = nl->ctx;
		nl->re.summary = nl->summary;
		nl->re.text = nl->text;
		nl->re.utm = nl->utm;
		return (nl);
	}
	if (recipients_load(file, &nl->rl, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%s", msg);
		goto fail;
	}
	for (i = 0; i < nl->rl.nproblems && i < NEWSLETTER_MAX_LOGGED; i++)
		event(nl, "recipients_file", nl->rl.problems[i]);
	if (nl->rl.nproblems > NEWSLETTER_MAX_LOGGED) {
		snprintf(msg, sizeof(msg), "and %zu more problems",
		    nl->rl.nproblems - NEWSLETTER_MAX_LOGGED);
		event(nl, "recipients_file", msg);
	}
	if ((nl->er = calloc(nl->rl.n + 1, sizeof(*nl->er))) == NULL ||
	    (nl->attempts = calloc(nl->rl.n + 1, sizeof(int))) == NULL)
		abort();
	for (i = 0; i < nl->rl.n; i++) {
		nl->er[i].email = nl->rl.v[i].email;
		nl->er[i].key = nl->rl.v[i].key;
		nl->er[i].name = nl->rl.v[i].name;
	}
	nl->email.rcpts = nl->er;
	nl->email.nrcpts = nl->rl.n;
	nl->email.source = file;
	nl->email.render = render;
	nl->email.arg = nl;
	nl->re.tmpls = nl->tmpls;
	nl->re.style = chan_style_of(ch);
	nl->re.template = nl->tmpl;
	nl->re.ctx = nl->ctx;
	nl->re.unsub = nl->unsub;
	nl->re.summary = nl->summary;
	nl->re.text = nl->text;
	nl->re.utm = nl->utm;
	if (plan(nl) == -1) {
		snprintf(err, errlen, "cannot record the recipients");
		goto fail;
	}
	return (nl);
fail:
	newsletter_close(nl);
	return (NULL);
}

/* The recipients and their rendering. */
const struct post_email *
newsletter_email(const struct newsletter *nl)
{
	return (&nl->email);
}

/* The journal of NL's recipients. */
const struct chan_journal *
newsletter_journal(const struct newsletter *nl)
{
	return (&nl->journal);
}

/* Frees NL. */
void
newsletter_close(struct newsletter *nl)
{
	if (nl == NULL)
		return;
	free(nl->id);
	free(nl->channel);
	free(nl->summary);
	free(nl->text);
	free(nl->tmpl);
	free(nl->utm);
	json_decref(nl->ctx);
	tmpl_set_free(nl->tmpls);
	if (nl->unsub != NULL)
		tmpl_free(nl->unsub);
	recipients_list_free(&nl->rl);
	free(nl->er);
	free(nl->attempts);
	free(nl);
}
