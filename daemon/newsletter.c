/*
 * A newsletter delivery, the scheduler's side. The email channel sends;
 * this file remembers: it reads recipients_file, plans who is still to get
 * the post against the recipients the store recorded, renders each one's
 * message through render.c when the channel asks, and records each
 * recipient's fate for the channel (its chan_journal).
 */
#include <config.h>

#include <sys/queue.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "channel.h"
#include "log.h"
#include "newsletter.h"
#include "compose.h"
#include "recipients.h"
#include "render.h"
#include "store.h"
#include "template.h"
#include "turn.h"
#include "when.h"
#include "../common/util.h"

#define NEWSLETTER_MAX_LOGGED	20	/* recipients file problems per delivery */
#define PLAN_SLICE_US		2000	/* planning a turn, about (50 000 took 86 ms at once) */
#define PLAN_READ_ROWS		2000	/* stored recipients read a slice */
#define PLAN_CHECK_EVERY	256	/* recipients planned between looks at the clock */
#define LOAD_INLINE_BYTES	(64 * 1024)	/* a recipients file read on the loop (about 1 ms) */

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
	/* Copies: a reload during the send frees the configuration. */
	char			*style;		/* the channel's rendering style */
	char			*source;	/* its recipients_file */
	struct render_email	 re;
	struct rcpt_list	 rl;
	struct email_rcpt	*er;
	int			*attempts;	/* per recipient, as stored */
	struct post_email	 email;
	struct chan_journal	 journal;
	/* Planning, a slice a turn when the list is long (plan_step). */
	TAILQ_ENTRY(newsletter)	 plan_entry;
	bool			 planning;	/* on the plans list */
	struct store_cursor	*have_cur;	/* stored recipients still being read */
	struct store_rcpt	*have;		/* those read, by email */
	size_t			 nhave;
	size_t			 planned;	/* recipients of rl planned */
	size_t			 left;		/* of those, still to get it */
	newsletter_ready_fn	 ready;
	void			*ready_arg;
	/* A long recipients file is read on a worker thread (load_work). */
	uv_work_t		 work;
	bool			 loading;	/* the worker has it */
	bool			 orphan;	/* closed meanwhile: load_done frees it */
	int			 load_rc;
	char			 load_err[400];
};

static int	loaded(struct newsletter *, char *, size_t);
static void	load_work(uv_work_t *);
static void	load_done(uv_work_t *, int);

/* Newsletters being planned, a slice each a turn. */
static TAILQ_HEAD(, newsletter)	plans = TAILQ_HEAD_INITIALIZER(plans);
static uv_idle_t		plan_idle;
static int			plan_idle_inited;
static size_t			test_plan_slice;	/* CRIER_TEST_PLAN_SLICE */
static unsigned			test_plan_sleep;	/* CRIER_TEST_PLAN_SLEEP_MS */

/* Reads the tests' settings once: CRIER_TEST_PLAN_SLICE, CRIER_TEST_PLAN_SLEEP_MS. */
static void
plan_test_env(void)
{
	static int	 read;
	const char	*v;

	if (read)
		return;
	read = 1;
	if ((v = getenv("CRIER_TEST_PLAN_SLICE")) != NULL && atoi(v) > 0) {
		test_plan_slice = (size_t)atoi(v);
		log_warnx("CRIER_TEST_PLAN_SLICE=%zu: for tests only",
		    test_plan_slice);
	}
	if ((v = getenv("CRIER_TEST_PLAN_SLEEP_MS")) != NULL && atoi(v) > 0) {
		test_plan_sleep = (unsigned)atoi(v);
		log_warnx("CRIER_TEST_PLAN_SLEEP_MS=%u: for tests only",
		    test_plan_sleep);
	}
}

/* The recipients a slice plans at most: CRIER_TEST_PLAN_SLICE (tests only), else no bound but the time. */
static size_t
plan_slice_max(void)
{
	plan_test_env();
	return (test_plan_slice > 0 ? test_plan_slice : SIZE_MAX);
}

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
 * Reads the next stored recipients of NL's delivery (by email) into
 * nl->have: 1 if more may follow, 0 when all are read, -1 on error.
 */
static int
plan_read(struct newsletter *nl, size_t max)
{
	struct store_rcpt	*rc = NULL;
	size_t			 n = 0;
	int			 more;

	if ((more = store_rcpt_cursor_next(nl->have_cur, max, &rc, &n)) == -1)
		return (-1);
	if (n > 0) {
		nl->have = xreallocarray(nl->have, nl->nhave + n,
		    sizeof(*nl->have));
		memcpy(nl->have + nl->nhave, rc, n * sizeof(*rc));
		nl->nhave += n;
	}
	free(rc);	/* its strings are nl->have's now */
	if (more == 0) {
		store_cursor_close(nl->have_cur);
		nl->have_cur = NULL;
	}
	return (more);
}

/*
 * Sorts out recipients of NL from nl->planned on, until the clock passes
 * END (0: all of them), in one transaction: recorded recipients sent,
 * failed, suppressed or uncertain are done; `sending` ones (DATA had begun
 * when crierd died) become uncertain, never sent twice; the others are
 * recorded pending. 1 if more are left, 0 when all are planned, -1 on error.
 */
static int
plan_some(struct newsletter *nl, int64_t end)
{
	struct store_rcpt	 key, *h;
	size_t			 i, max = end != 0 ? plan_slice_max() : SIZE_MAX;

	if (store_begin() == -1)
		return (-1);
	for (i = nl->planned; i < nl->rl.n; i++) {
		if (end != 0 && i > nl->planned && (i - nl->planned >= max ||
		    ((i - nl->planned) % PLAN_CHECK_EVERY == 0 &&
		    when_mono_us() >= end)))
			break;
		memset(&key, 0, sizeof(key));
		key.email = nl->rl.v[i].key;
		h = nl->nhave ? bsearch(&key, nl->have, nl->nhave,
		    sizeof(*nl->have), by_email) : NULL;
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
		nl->left++;
	}
	if (store_commit() == -1)
		return (-1);
	nl->planned = i;
	if (i < nl->rl.n)
		return (1);
	store_rcpts_free(nl->have, nl->nhave);
	nl->have = NULL;
	nl->nhave = 0;
	log_info("delivery %s: newsletter to %zu recipients, %zu to go",
	    nl->id, nl->rl.n, nl->left);
	return (0);
}

/*
 * Plans NL until the clock passes END (0: to the end): the stored
 * recipients are read first, then the list is sorted out against them.
 * 1 if more is left, 0 when NL is planned, -1 on error.
 */
static int
plan_step(struct newsletter *nl, int64_t end)
{
	int	 rc;

	while (nl->have_cur != NULL) {
		if ((rc = plan_read(nl, end == 0 ? SIZE_MAX :
		    plan_slice_max() < PLAN_READ_ROWS ? plan_slice_max() :
		    PLAN_READ_ROWS)) == -1)
			return (-1);
		if (rc == 1 && end != 0 && (when_mono_us() >= end ||
		    plan_slice_max() != SIZE_MAX))
			return (1);
	}
	return (plan_some(nl, end));
}

/* Idle callback: a slice of each newsletter being planned, then hands on those done. */
static void
on_plan(uv_idle_t *h)
{
	struct newsletter	*nl, *next;
	newsletter_ready_fn	 ready;
	int			 rc;

	if (turn_yield())
		return;		/* a control request goes first */
	plan_test_env();
	if (test_plan_sleep > 0)
		uv_sleep(test_plan_sleep);	/* tests: a test acts mid-planning */
	for (nl = TAILQ_FIRST(&plans); nl != NULL; nl = next) {
		next = TAILQ_NEXT(nl, plan_entry);
		if ((rc = plan_step(nl, when_mono_us() + PLAN_SLICE_US)) == 1)
			continue;
		TAILQ_REMOVE(&plans, nl, plan_entry);
		nl->planning = false;
		ready = nl->ready;
		nl->ready = NULL;
		/* READY may close NL (the channel refused to start). */
		ready(nl->ready_arg, rc == -1 ? "cannot record the recipients" :
		    NULL, false);
	}
	if (TAILQ_EMPTY(&plans))
		uv_idle_stop(h);
}

/*
 * Sorts out who is still to get NL, a slice of about PLAN_SLICE_US first;
 * 1 if more is left for later turns (newsletter_planning), -1 on error.
 */
static int
plan(struct newsletter *nl)
{
	char	 err[512];

	if ((nl->have_cur = store_rcpt_cursor(nl->id, err, sizeof(err))) ==
	    NULL) {
		/* No cursor (no read connection): all of it now. */
		log_warnx("delivery %s: %s; planned in one turn", nl->id, err);
		if (store_rcpt_list(nl->id, &nl->have, &nl->nhave) == -1)
			return (-1);
		return (plan_step(nl, 0));
	}
	return (plan_step(nl, when_mono_us() + PLAN_SLICE_US));
}

/* Points NL's render_email at what it holds (its messages are rendered from it). */
static void
set_render(struct newsletter *nl)
{
	nl->re.tmpls = nl->tmpls;
	nl->re.style = nl->style;
	nl->re.template = nl->tmpl;
	nl->re.ctx = nl->ctx;
	nl->re.unsub = nl->unsub;
	nl->re.summary = nl->summary;
	nl->re.text = nl->text;
	nl->re.utm = nl->utm;
}

/*
 * What every message of email post P on CH is rendered from: the template
 * and context kept for P, its utm parameters, CH's unsubscribe_url; NULL
 * with ERR.
 */
static struct newsletter *
prepare(const struct channel *ch, const struct post *p,
    const struct tmpl_set *tmpls, char *err, size_t errlen)
{
	struct newsletter	*nl;
	const char		*v;
	char			 msg[400];

	if ((nl = calloc(1, sizeof(*nl))) == NULL)
		abort();
	nl->id = xstrdup(p->id);
	nl->channel = xstrdup(p->channel);
	nl->summary = xstrdup(p->summary);
	nl->text = xstrdup(p->text);
	nl->tmpls = tmpl_set_ref(tmpls);
	nl->style = xstrdup(chan_style_of(ch));
	if ((v = conf_chan_get(ch->cfg, "unsubscribe_url", NULL)) != NULL &&
	    (nl->unsub = tmpl_compile(v, strlen(v), msg, sizeof(msg))) == NULL) {
		snprintf(err, errlen, "unsubscribe_url: %s", msg);
		goto fail;
	}
	if (load_context(nl, err, errlen) == -1 ||
	    load_utm(nl, ch, p, err, errlen) == -1)
		goto fail;
	set_render(nl);
	return (nl);
fail:
	newsletter_close(nl);
	return (NULL);
}

/*
 * Renders the message email post P on CH sends, as it goes out (utm tags
 * and all), for recipient EMAIL, NAME into OUT (free with
 * chan_email_parts_clear): what `preview` shows; -1 with ERR.
 */
int
newsletter_preview(const struct channel *ch, const struct post *p,
    const struct tmpl_set *tmpls, const char *email, const char *name,
    struct email_parts *out, char *err, size_t errlen)
{
	struct newsletter	*nl;
	int			 rc;

	memset(out, 0, sizeof(*out));
	if ((nl = prepare(ch, p, tmpls, err, errlen)) == NULL)
		return (-1);
	rc = render_email_rcpt(&nl->re, email, name, out, err, errlen);
	newsletter_close(nl);
	return (rc);
}

/* Opens email post P on CH (newsletter.h). */
struct newsletter *
newsletter_open(const struct channel *ch, const struct post *p,
    const struct tmpl_set *tmpls, char *err, size_t errlen)
{
	struct newsletter	*nl;
	const char		*file;
	char			 msg[400];
	struct stat		 sb;

	if ((nl = prepare(ch, p, tmpls, err, errlen)) == NULL)
		return (NULL);
	nl->journal.arg = nl;
	nl->journal.recipient = record;
	nl->journal.suppressed = suppressed;
	nl->journal.event = event;
	nl->journal.batch = batch;
	nl->email.render = render;
	nl->email.arg = nl;
	if ((file = conf_chan_get(ch->cfg, "recipients_file", NULL)) == NULL)
		return (nl);	/* a list service (listmonk): its own subscribers */
	nl->source = xstrdup(file);
	nl->work.data = nl;
	if (stat(file, &sb) == 0 && sb.st_size > LOAD_INLINE_BYTES &&
	    uv_queue_work(uv_default_loop(), &nl->work, load_work,
	    load_done) == 0) {
		/* newsletter_planning says when it is read and planned. */
		nl->loading = true;
		return (nl);
	}
	if (recipients_load(file, &nl->rl, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%s", msg);
		goto fail;
	}
	if (loaded(nl, err, errlen) == -1)
		goto fail;
	return (nl);
fail:
	newsletter_close(nl);
	return (NULL);
}

/*
 * NL's recipients file is read: its problems go to the history, and the
 * list is planned, a first slice now. 0 if it is planned, 1 if the rest
 * comes a slice a turn (NL on the plans list), -1 with ERR.
 */
static int
loaded(struct newsletter *nl, char *err, size_t errlen)
{
	char	 msg[400];
	size_t	 i;
	int	 rc;

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
	nl->email.source = nl->source;
	if ((rc = plan(nl)) == -1) {
		snprintf(err, errlen, "cannot record the recipients");
		return (-1);
	}
	if (rc == 1) {
		/* The rest a slice a turn: newsletter_planning says when. */
		nl->planning = true;
		TAILQ_INSERT_TAIL(&plans, nl, plan_entry);
		if (!plan_idle_inited) {
			if (uv_idle_init(uv_default_loop(), &plan_idle) != 0)
				fatalx("newsletter: cannot set up planning");
			plan_idle_inited = 1;
		}
		uv_idle_start(&plan_idle, on_plan);
	}
	return (rc);
}

/* Worker thread: reads the recipients file of the newsletter in REQ. */
static void
load_work(uv_work_t *req)
{
	struct newsletter	*nl = req->data;

	nl->load_rc = recipients_load(nl->source, &nl->rl, nl->load_err,
	    sizeof(nl->load_err));
}

/* The recipients file of the newsletter in REQ is read: plans it, or says why not. */
static void
load_done(uv_work_t *req, int status)
{
	struct newsletter	*nl = req->data;
	newsletter_ready_fn	 ready;
	char			 err[512];
	int			 rc;

	nl->loading = false;
	if (nl->orphan) {
		newsletter_close(nl);
		return;
	}
	if (status != 0 || nl->load_rc == -1) {
		snprintf(err, sizeof(err), "%s", status != 0 ? "the recipients "
		    "file was not read: crierd is stopping" : nl->load_err);
		rc = -2;
	} else if ((rc = loaded(nl, err, sizeof(err))) == 1)
		return;		/* on the plans list now */
	ready = nl->ready;
	nl->ready = NULL;
	/* READY may close NL. */
	ready(nl->ready_arg, rc == 0 ? NULL : err, rc == -2);
}

/* 1 if NL is still being read or planned: READY(ARG, ...) comes once it is; else 0. */
int
newsletter_planning(struct newsletter *nl, newsletter_ready_fn ready,
    void *arg)
{
	if (!nl->loading && !nl->planning)
		return (0);
	nl->ready = ready;
	nl->ready_arg = arg;
	return (1);
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
	if (nl->loading) {
		/* The worker still writes into NL: load_done frees it. */
		uv_cancel((uv_req_t *)&nl->work);
		nl->orphan = true;
		return;
	}
	if (nl->planning) {
		TAILQ_REMOVE(&plans, nl, plan_entry);
		if (TAILQ_EMPTY(&plans))
			uv_idle_stop(&plan_idle);
	}
	store_cursor_close(nl->have_cur);
	store_rcpts_free(nl->have, nl->nhave);
	free(nl->id);
	free(nl->channel);
	free(nl->summary);
	free(nl->text);
	free(nl->tmpl);
	free(nl->utm);
	free(nl->style);
	free(nl->source);
	json_decref(nl->ctx);
	tmpl_set_free(nl->tmpls);
	if (nl->unsub != NULL)
		tmpl_free(nl->unsub);
	recipients_list_free(&nl->rl);
	free(nl->er);
	free(nl->attempts);
	free(nl);
}
