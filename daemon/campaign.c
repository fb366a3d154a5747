/*
 * Campaigns: each configured calendar is read and expanded on a worker thread
 * (so the control socket keeps answering), checked on the loop thread, and
 * reconciled into the store. The rule for what is broken: an event with a
 * problem is left out of this load, and its deliveries stay as the last good
 * version of the calendar made them, while the rest of the calendar loads; a
 * file that cannot be used at all (unreadable, not iCalendar, over its time
 * budget) leaves the whole calendar as its last good version made it. A
 * delivery that cannot go out right (does not fit, media refused) is held.
 */
#include <config.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <openssl/evp.h>

#include "campaign.h"
#include "background.h"
#include "reconcile.h"
#include "redact.h"
#include "calendar/calendar.h"
#include "channel.h"
#include "context.h"
#include "compose.h"
#include "delivery.h"
#include "fetch.h"
#include "log.h"
#include "media.h"
#include "render.h"
#include "schedule.h"
#include "store.h"
#include "watch.h"
#include "turn.h"
#include "when.h"
#include "../common/digest.h"
#include "../common/util.h"

#define MAX_PROBLEMS	20	/* logged per load; status shows the first */

struct camp {
	LIST_ENTRY(camp)	 entry;
	char			*name;
	char			*path;		/* exactly one of path and url */
	char			*url;
	char			*label;		/* the path, or the url redacted: shown */
	char			*channels;	/* calendar default, may be NULL */
	char			*template;	/* calendar default, may be NULL */
	struct watch		*watch;
	struct fetch		*fetch;
	int			 dead;		/* dropped by a reload; free when idle */
	int			 loading;	/* a job is on the worker thread */
	int			 again;		/* load again when this job ends */
	int			 store_retry;	/* the store failed: load again later */
	char			*error;		/* last problem, NULL when good */
	char			*fetch_error;	/* url: the last fetch failed (cache in use) */
	int64_t			 loaded_at;	/* last good load, ms */
	size_t			 events;
	/* The job: inputs and outputs, owned by the loop thread between jobs. */
	uv_work_t		 work;
	char			*data;		/* url calendars: the latest body */
	size_t			 len;
	/*
	 * The body the load under way parses (its own copy): a fetch may
	 * replace DATA meanwhile, and only what parsed may become the
	 * last good copy.
	 */
	char			*ldata;
	size_t			 llen;
	char			*tz;
	int64_t			 from, to;	/* ms */
	struct cal_calendar	*cal;
	struct cal_occurrence	*occ;
	ssize_t			 nocc;
	struct cal_limits	 lim;
	char			 (*fps)[65];	/* per occurrence: made by the worker */
	char			 err[1024];
	/* Applying the finished job in slices on the loop thread. */
	struct reconcile_job	*job;
	size_t			 nproblems;
	char			 problem[640];	/* the first of them */
	unsigned char		 job_ctx[DIGEST_LEN];	/* the job's context */
	/* the UIDs of events left out of this load, sorted */
	char			**skip;
	size_t			 nskip;
};

static const struct crierd_ctx	*camp_ctx;	/* loop, configuration, templates */
static LIST_HEAD(, camp)	 camps = LIST_HEAD_INITIALIZER(camps);
static uv_timer_t		 retry_timer;	/* loads the store refused */
static int			 retry_inited;
/*
 * Loads are applied in slices after each poll (a check handle), while an
 * idle handle keeps the poll from blocking: a control request read in one
 * poll is answered before the next slice, and waits for at most one.
 */
static uv_check_t		 slicer;
static uv_idle_t		 spinner;
static uv_timer_t		 ckpt_wait;	/* slices wait for the WAL's copy */
static int			 slicer_inited;

#define CAMP_CKPT_POLL	2	/* ms between looks while the WAL is being copied */
#define CAMP_SLICE_US	1000	/* the longest a slice holds the loop, about: a request waits for one */

#define CAMP_STORE_RETRY_MS	15000

static void	load(struct camp *);
static void	finish(struct camp *, int);
static void	slice(uv_check_t *);

/* Replaces the calendar's error message (NULL clears it). */
static void
set_error(struct camp *cp, const char *msg)
{
	free(cp->error);
	cp->error = xstrdup(msg);
}

/* Worker thread: parse and expand. Touches nothing but the job's fields. */
static void
work(uv_work_t *w)
{
	struct camp	*cp = w->data;
	size_t		 i;

	cp->err[0] = '\0';
	if (cp->path != NULL)
		cp->cal = cal_load_file(cp->path, cp->tz, cp->err, sizeof(cp->err));
	else
		cp->cal = cal_parse(cp->ldata, cp->llen, cp->label, cp->tz,
		    cp->err, sizeof(cp->err));
	if (cp->cal == NULL)
		return;
	cal_set_limits(cp->cal, &cp->lim);
	cp->nocc = cal_expand(cp->cal, (time_t)(cp->from / 1000),
	    (time_t)((cp->to + 999) / 1000), &cp->occ);
	if (cp->nocc < 0) {
		snprintf(cp->err, sizeof(cp->err), "%s", cal_error(cp->cal) ?
		    cal_error(cp->cal) : "expanding the calendar failed");
		return;
	}
	/* Fingerprints here, so the loop thread only compares them. */
	if (cp->nocc > 0 && (cp->fps = calloc((size_t)cp->nocc,
	    sizeof(*cp->fps))) != NULL)
		for (i = 0; i < (size_t)cp->nocc; i++)
			reconcile_fingerprint(&cp->occ[i], cp->fps[i]);
}

/* Compares strings, for qsort and bsearch of the skip list. */
static int
str_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Adds UID (may be NULL) to the events CP leaves out of this load. */
static void
skip_add(struct camp *cp, const char *uid)
{
	if (uid == NULL)
		return;
	if ((cp->skip = reallocarray(cp->skip, cp->nskip + 1,
	    sizeof(*cp->skip))) == NULL)
		abort();
	cp->skip[cp->nskip++] = xstrdup(uid);
}

/*
 * The SHA-256 of what renders a calendar's posts besides the calendar: the
 * configuration file and the templates, as loaded now, into MD. A reload
 * that changed neither leaves every unchanged occurrence at a fingerprint
 * compare (issue 16); comparing the objects themselves rendered all of
 * them again on every `reload`.
 */
static void
context_digest(unsigned char md[DIGEST_LEN])
{
	struct digest	d;
	unsigned char	t[DIGEST_LEN];

	tmpl_set_digest(camp_ctx->tmpls, t);
	digest_start(&d);
	digest_add(&d, camp_ctx->conf->digest, sizeof(camp_ctx->conf->digest));
	digest_add(&d, t, sizeof(t));
	digest_end(&d, md);
}

/*
 * The context each calendar's last load was applied in, by calendar name:
 * a reload makes its calendars anew, and the rows stay as rendered.
 * Kept in memory: the first load after a start renders every post again.
 */
static struct applied {
	char		*name;
	unsigned char	 ctx[DIGEST_LEN];
	int		 known;		/* every row was rendered in CTX */
}			*applied;
static size_t		 napplied;

/* Whether calendar NAME's rows were all rendered in context CTX. */
static int
applied_is(const char *name, const unsigned char ctx[DIGEST_LEN])
{
	size_t	i;

	for (i = 0; i < napplied; i++)
		if (strcmp(applied[i].name, name) == 0)
			return (applied[i].known &&
			    memcmp(applied[i].ctx, ctx, DIGEST_LEN) == 0);
	return (0);
}

/* Records that NAME's rows are all rendered in CTX (NULL: not all in one). */
static void
applied_set(const char *name, const unsigned char *ctx)
{
	size_t	i;

	for (i = 0; i < napplied; i++)
		if (strcmp(applied[i].name, name) == 0)
			break;
	if (i == napplied) {
		applied = xreallocarray(applied, napplied + 1, sizeof(*applied));
		applied[napplied].name = xstrdup(name);
		napplied++;
	}
	applied[i].known = ctx != NULL;
	if (ctx != NULL)
		memcpy(applied[i].ctx, ctx, DIGEST_LEN);
}

/* What reconcile needs of CP's finished load. */
static void
rec_input(const struct camp *cp, struct reconcile_in *in)
{
	memset(in, 0, sizeof(*in));
	in->name = cp->name;
	in->label = cp->label;
	in->channels = cp->channels;
	in->template = cp->template;
	in->conf = camp_ctx->conf;
	in->tmpls = camp_ctx->tmpls;
	in->occ = cp->occ;
	in->nocc = cp->nocc > 0 ? (size_t)cp->nocc : 0;
	in->from = cp->from;
	in->to = cp->to;
	in->skip = cp->skip;
	in->nskip = cp->nskip;
	in->fps = (const char (*)[65])cp->fps;
	in->same_context = applied_is(cp->name, cp->job_ctx);
}

/* Forgets the skip list of the last load. */
static void
skip_clear(struct camp *cp)
{
	while (cp->nskip > 0)
		free(cp->skip[--cp->nskip]);
	free(cp->skip);
	cp->skip = NULL;
}

/* Frees a calendar's state once nothing uses it. */
static void
camp_free(struct camp *cp)
{
	if (cp->watch != NULL)
		watch_free(cp->watch);
	if (cp->fetch != NULL)
		fetch_free(cp->fetch);
	free(cp->name);
	free(cp->path);
	free(cp->url);
	free(cp->label);
	free(cp->channels);
	free(cp->template);
	free(cp->error);
	free(cp->fetch_error);
	free(cp->data);
	free(cp->ldata);
	free(cp->tz);
	free(cp);
}

struct vctx {
	struct camp			*cp;
	const struct cal_occurrence	*o;
	char				 msg[512];
	int				 nchan;
};

/* Checks one channel name of an occurrence. */
static int
check_channel(void *arg, const char *name)
{
	struct vctx	*v = arg;

	v->nchan++;
	if (chan_find(name) == NULL) {
		snprintf(v->msg, sizeof(v->msg), "no channel named \"%s\"", name);
		return (1);
	}
	/* A missing template is the post's problem: it is held, not the calendar. */
	return (0);
}

/* Calendar problem PR as one sentence: it already names file, line and event. */
const char *
camp_problem_text(const struct cal_problem *pr, char *buf, size_t len)
{
	static const char	 tail[] = "; event left out";
	size_t			 n;

	snprintf(buf, len, "%s", pr->msg);
	/* What happens to the calendar is said once, by CAMP_RULE. */
	n = strlen(buf);
	if (n >= sizeof(tail) - 1 && strcmp(buf + n - (sizeof(tail) - 1), tail) == 0)
		buf[n - (sizeof(tail) - 1)] = '\0';
	return (buf);
}

/* Collects every problem of the finished job into MSGS; returns how many. */
static size_t
problems(struct camp *cp, char msgs[][640], size_t max)
{
	const struct cal_problem	*pr;
	struct vctx			 v;
	const char			*src = cp->label, *good = NULL;
	struct reconcile_in		 rin;
	size_t				 n = 0, np, i;

	if (cp->cal == NULL || cp->nocc < 0) {
		snprintf(msgs[n++], 640, "%s", cp->err);
		return (n);
	}
	rec_input(cp, &rin);
	pr = cal_problems(cp->cal, &np);
	for (i = 0; i < np; i++) {
		skip_add(cp, pr[i].uid);
		if (n < max)
			camp_problem_text(&pr[i], msgs[n++], 640);
	}
	pr = cal_warnings(cp->cal, &np);
	for (i = 0; i < np; i++)
		log_warnx("calendar %s: %s", cp->name, pr[i].msg);
	for (i = 0; i < (size_t)cp->nocc; i++) {
		const char	*list = reconcile_channels(&rin, &cp->occ[i]);

		/* Most occurrences share their list with the one before: checked once. */
		if (good != NULL && (list == good || (list != NULL &&
		    strcmp(list, good) == 0)))
			continue;
		memset(&v, 0, sizeof(v));
		v.cp = cp;
		v.o = &cp->occ[i];
		good = NULL;
		if (reconcile_each_channel(list, check_channel, &v) == 0 &&
		    v.nchan > 0)
			good = list;
		else {
			if (v.nchan == 0)
				snprintf(v.msg, sizeof(v.msg), "no channel (set "
				    "X-CRIER-CHANNELS, or channels = in the config)");
			skip_add(cp, v.o->uid);
			if (n < max)
				snprintf(msgs[n++], 640, "%s:%d: event \"%s\": %s",
				    src, v.o->line, v.o->uid ? v.o->uid : "(no UID)",
				    v.msg);
			/* One report per event is enough; skip its other instances. */
			while (i + 1 < (size_t)cp->nocc && cp->occ[i + 1].uid &&
			    v.o->uid && strcmp(cp->occ[i + 1].uid, v.o->uid) == 0)
				i++;
		}
	}
	return (n);
}

/* The retry timer: loads again each calendar whose scheduling the store refused. */
static void
retry_loads(uv_timer_t *t)
{
	struct camp	*cp;

	(void)t;
	LIST_FOREACH(cp, &camps, entry)
		if (cp->store_retry && !cp->dead) {
			cp->store_retry = 0;
			load(cp);
		}
}

/* What a finished load held, freed on the worker pool: 100k occurrences take a while. */
struct spent {
	uv_work_t		 work;
	struct cal_calendar	*cal;
	struct cal_occurrence	*occ;
	size_t			 nocc;
	char			 (*fps)[65];
};

/* Worker thread: frees a load, then gives the emptied heap back to the system. */
static void
spent_work(uv_work_t *w)
{
	struct spent	*sp = w->data;

	background_thread();
	if (sp->occ != NULL)
		cal_occurrences_free(sp->occ, sp->nocc);
	cal_free(sp->cal);
	free(sp->fps);
	sp->occ = NULL;
	sp->cal = NULL;
	sp->fps = NULL;
	/* Also the worker's own arena, which glibc would otherwise keep. */
	malloc_trim(0);
}

/* Loop thread: the load is freed. */
static void
spent_done(uv_work_t *w, int status)
{
	(void)status;
	free(w->data);
}

/* Hands CP's finished load to the worker pool to be freed. */
static void
drop_load(struct camp *cp)
{
	struct spent	*sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		abort();
	sp->cal = cp->cal;
	sp->occ = cp->occ;
	sp->nocc = cp->nocc > 0 ? (size_t)cp->nocc : 0;
	sp->fps = cp->fps;
	sp->work.data = sp;
	cp->cal = NULL;
	cp->occ = NULL;
	cp->fps = NULL;
	cp->nocc = 0;
	if (uv_queue_work(camp_ctx->loop, &sp->work, spent_work,
	    spent_done) != 0) {
		spent_work(&sp->work);
		free(sp);
	}
}

/* Idle: nothing; its being active keeps the loop's poll from blocking. */
static void
spin(uv_idle_t *h)
{
	(void)h;
}

/* Timer callback: the slices go on (the checkpoint they waited for may be over). */
static void
slices_again(uv_timer_t *t)
{
	(void)t;
	uv_check_start(&slicer, slice);
	uv_idle_start(&spinner, spin);
}

/* After each poll: one slice of the first load being applied, then the loop turns again. */
static void
slice(uv_check_t *h)
{
	struct camp	*cp;
	int		 rc;

	/* A calendar dropped by a reload first: its load is not applied. */
	LIST_FOREACH(cp, &camps, entry)
		if (cp->job != NULL && cp->dead) {
			finish(cp, 1);
			return;
		}
	LIST_FOREACH(cp, &camps, entry)
		if (cp->job != NULL)
			break;
	if (cp == NULL) {
		uv_check_stop(h);
		uv_idle_stop(&spinner);
		return;
	}
	if (turn_yield())
		return;		/* a control request first (the spinner turns the loop again) */
	if (reconcile_applying(cp->job) && store_checkpoint_pending()) {
		/* The WAL is copied before it grows on: wait, not spinning. */
		if (store_checkpoint_due())
			store_checkpoint();
		if (store_checkpoint_pending()) {
			uv_check_stop(h);
			uv_idle_stop(&spinner);
			uv_timer_start(&ckpt_wait, slices_again, CAMP_CKPT_POLL, 0);
			return;
		}
	}
	rc = reconcile_step(cp->job, CAMP_SLICE_US);
	if (rc != 1) {
		finish(cp, rc);
		return;
	}
	/* A slice may have moved what is due next. */
	if (reconcile_applying(cp->job))
		sched_kick();
}

/* Loop thread, after the worker: check, then reconcile what can be used in slices. */
static void
after_work(uv_work_t *w, int status)
{
	struct camp	*cp = w->data;
	char		 msgs[MAX_PROBLEMS][640], err[1100];
	struct reconcile_in rin;
	size_t		 n, i;

	(void)status;
	if (cp->dead)
		goto out;
	skip_clear(cp);
	n = problems(cp, msgs, MAX_PROBLEMS);
	if (cp->nskip > 1)
		qsort(cp->skip, cp->nskip, sizeof(*cp->skip), str_cmp);
	for (i = 0; i < n; i++)
		log_errx("calendar %s: %s", cp->name, msgs[i]);
	if (cp->cal == NULL || cp->nocc < 0) {
		snprintf(err, sizeof(err), "%s: %s%s", msgs[0], CAMP_RULE_FILE,
		    cp->loaded_at ? "" : " (there is none yet: nothing from it "
		    "is scheduled)");
		set_error(cp, err);
		log_errx("calendar %s: %s%s", cp->name, CAMP_RULE_FILE,
		    cp->loaded_at ? "" : " (there is none yet: nothing from it "
		    "is scheduled)");
		goto out;
	}
	cp->nproblems = n;
	snprintf(cp->problem, sizeof(cp->problem), "%s", n > 0 ? msgs[0] : "");
	context_digest(cp->job_ctx);
	rec_input(cp, &rin);
	/* Rows it renders from now on are of this context, until it is done. */
	if (!rin.same_context)
		applied_set(cp->name, NULL);
	cp->job = reconcile_start(&rin);
	if (!slicer_inited)
		finish(cp, reconcile_step(cp->job, 0));
	else if (uv_is_active((uv_handle_t *)&slicer) == 0) {
		uv_check_start(&slicer, slice);
		uv_idle_start(&spinner, spin);
	}
	return;
out:
	finish(cp, 1);
}

/*
 * Loop thread, once CP's job is applied (RC 0), failed (-1) or was never
 * started (1): says how the load went and frees what it held.
 */
static void
finish(struct camp *cp, int rc)
{
	char		 err[1100];
	size_t		 n = cp->nproblems;

	if (rc == 1 || cp->dead)
		goto out;
	if (rc == -1) {
		char	msg[1024];

		/* That slice was undone; a new load converges once the store works. */
		snprintf(msg, sizeof(msg), "not scheduled: %s%s; trying again "
		    "in %d s", store_problem() ? "storage: " : "database error",
		    store_problem() ? store_problem() : "",
		    CAMP_STORE_RETRY_MS / 1000);
		if (cp->error == NULL || strcmp(cp->error, msg) != 0)
			log_errx("calendar %s: %s", cp->name, msg);
		set_error(cp, msg);
		cp->store_retry = 1;
		if (retry_inited)
			uv_timer_start(&retry_timer, retry_loads,
			    CAMP_STORE_RETRY_MS, 0);
		goto out;
	}
	set_error(cp, reconcile_held(cp->job)[0] != '\0' ?
	    reconcile_held(cp->job) : NULL);
	applied_set(cp->name, cp->job_ctx);
	sched_kick();
	if (n > 0) {
		snprintf(err, sizeof(err), "%s (%zu problem%s%s): %s", cp->problem, n,
		    n > 1 ? "s" : "", n > 1 ? ", see the log" : "",
		    CAMP_RULE_EVENT);
		set_error(cp, err);
		log_errx("calendar %s: %zu problem%s: %s", cp->name, n, n > 1 ?
		    "s" : "", CAMP_RULE_EVENT);
	}
	/* It parsed and is scheduled: now it is the last good copy, kept on disk. */
	if (cp->fetch != NULL)
		fetch_keep(cp->fetch, cp->ldata, cp->llen);
	cp->loaded_at = when_now();
	cp->events = cal_nevents(cp->cal);
	log_info("calendar %s: loaded %zu events, %zd occurrences in the window",
	    cp->name, cp->events, cp->nocc);
out:
	free(cp->ldata);
	cp->ldata = NULL;
	cp->llen = 0;
	skip_clear(cp);
	reconcile_free(cp->job);
	cp->job = NULL;
	drop_load(cp);
	cp->loading = 0;
	/* A load's big frees leave the heap (and the worker's arena) mostly empty. */
	if (cp->dead) {
		LIST_REMOVE(cp, entry);
		camp_free(cp);
		return;
	}
	if (cp->again) {
		cp->again = 0;
		load(cp);
	}
}

/* Queues a load of CP on the worker pool (or marks one to follow). */
static void
load(struct camp *cp)
{
	int64_t	now = when_now();

	if (cp->loading) {
		cp->again = 1;
		return;
	}
	if (cp->url != NULL && cp->data == NULL)
		return;		/* nothing fetched or cached yet */
	free(cp->tz);
	cp->tz = xstrdup(camp_ctx->conf->timezone);
	cp->from = now - camp_ctx->conf->catch_up * 1000;
	cp->to = now + camp_ctx->conf->horizon * 1000;
	memset(&cp->lim, 0, sizeof(cp->lim));
	cp->lim.min_interval = camp_ctx->conf->min_interval;
	cp->lim.max_occurrences = camp_ctx->conf->max_occurrences;
	free(cp->ldata);
	cp->ldata = NULL;
	cp->llen = 0;
	if (cp->data != NULL) {
		cp->ldata = xmalloc(cp->len + 1);
		memcpy(cp->ldata, cp->data, cp->len + 1);
		cp->llen = cp->len;
	}
	cp->work.data = cp;
	cp->loading = 1;
	if (uv_queue_work(camp_ctx->loop, &cp->work, work, after_work) != 0) {
		cp->loading = 0;
		set_error(cp, "cannot queue the calendar load");
	}
}

/* The calendar file changed on disk. */
static void
on_change(void *arg)
{
	struct camp	*cp = arg;

	log_info("calendar %s: %s changed, reloading", cp->name, cp->path);
	load(cp);
}

/* A fetch of a url calendar ended. */
static void
on_fetch(void *arg, const char *data, size_t len, bool changed, const char *error)
{
	struct camp	*cp = arg;

	free(cp->fetch_error);
	cp->fetch_error = NULL;
	if (error != NULL) {
		char	msg[1024];

		/* fetch.c has logged it; status shows it until a fetch works. */
		snprintf(msg, sizeof(msg), "%s%s", error, data ?
		    " (using the last good copy)" : "");
		cp->fetch_error = xstrdup(msg);
	}
	if (data == NULL || (!changed && cp->data != NULL && cp->loaded_at))
		return;
	free(cp->data);
	if ((cp->data = malloc(len + 1)) == NULL)
		abort();
	memcpy(cp->data, data, len);
	cp->data[len] = '\0';
	cp->len = len;
	load(cp);
}

/* Gives CP's fetcher the credentials of CC (username, password_file or credential). */
static int
fetch_auth(struct camp *cp, const struct cfg_calendar *cc)
{
	struct cfg_channel	 fake;
	struct cfg_kv		 kv;
	char			*pw = NULL, err[1024];
	size_t			 len = 0;
	int			 rc;

	/* The channels' reader: the same checks, the same messages. */
	memset(&fake, 0, sizeof(fake));
	memset(&kv, 0, sizeof(kv));
	fake.name = cp->name;
	fake.kv = &kv;
	fake.nkv = 1;
	kv.key = cc->password_file != NULL ? "password_file" : "credential";
	kv.value = cc->password_file != NULL ? cc->password_file :
	    cc->credential;
	if (kv.value == NULL)
		fake.nkv = 0;
	rc = chan_secret_read(&fake, "password_file", &pw, &len, err,
	    sizeof(err));
	if (rc == -1) {
		char	msg[1200];

		snprintf(msg, sizeof(msg), "password: %s", err);
		set_error(cp, msg);
		log_errx("calendar %s: %s", cp->name, msg);
		return (-1);
	}
	rc = fetch_set_auth(cp->fetch, cc->username, pw != NULL ? pw : "");
	if (pw != NULL)
		chan_secret_free(pw, len);
	if (rc == -1)
		set_error(cp, "out of memory");
	return (rc);
}

/* Creates the state of configured calendar CC and starts its first load. */
static void
camp_add(const struct cfg_calendar *cc)
{
	struct camp	*cp;
	const char	*cached;
	char		 dir[4096];
	size_t		 len;

	if ((cp = calloc(1, sizeof(*cp))) == NULL)
		abort();
	cp->name = xstrdup(cc->name);
	cp->path = xstrdup(cc->path);
	cp->url = xstrdup(cc->url);
	if (cc->url != NULL) {
		char	safe[2048];

		cp->label = xstrdup(redact_url(cc->url, safe, sizeof(safe)));
	} else
		cp->label = xstrdup(cc->path);
	cp->channels = xstrdup(cc->channels);
	cp->template = xstrdup(cc->template);
	LIST_INSERT_HEAD(&camps, cp, entry);
	if (cp->path != NULL) {
		cp->watch = watch_new(camp_ctx->loop, cp->path, CAMP_DEBOUNCE_MS,
		    on_change, cp);
		if (cp->watch == NULL)
			log_warnx("calendar %s: cannot watch %s; edits are read on "
			    "reload only", cp->name, cp->path);
		load(cp);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/calendars", camp_ctx->conf->state_dir);
	cp->fetch = fetch_new(camp_ctx->loop, cp->name, cp->url, dir,
	    cc->refresh, on_fetch, cp);
	if (cp->fetch == NULL) {
		set_error(cp, "cannot set up fetching");
		return;
	}
	if (cc->username != NULL && fetch_auth(cp, cc) == -1)
		return;
	/* A restart without network still has the last good copy. */
	if ((cached = fetch_cached(cp->fetch, &len)) != NULL)
		on_fetch(cp, cached, len, true, NULL);
	fetch_start(cp->fetch);
}

/* Drops every calendar (freed now if idle, else when its job ends). */
static void
drop_all(void)
{
	struct camp	*cp, *next;

	for (cp = LIST_FIRST(&camps); cp != NULL; cp = next) {
		next = LIST_NEXT(cp, entry);
		if (cp->dead)
			continue;
		cp->dead = 1;
		if (cp->watch != NULL) {
			watch_free(cp->watch);
			cp->watch = NULL;
		}
		if (cp->fetch != NULL) {
			fetch_free(cp->fetch);
			cp->fetch = NULL;
		}
		if (!cp->loading) {
			LIST_REMOVE(cp, entry);
			camp_free(cp);
		}
	}
}

/* Starts every calendar of C. */
int
camp_init(const struct crierd_ctx *ctx)
{
	const struct config	*c = ctx->conf;
	size_t			 i;

	camp_ctx = ctx;
	if (!retry_inited && uv_timer_init(ctx->loop, &retry_timer) == 0)
		retry_inited = 1;
	if (!slicer_inited && uv_check_init(ctx->loop, &slicer) == 0 &&
	    uv_idle_init(ctx->loop, &spinner) == 0 &&
	    uv_timer_init(ctx->loop, &ckpt_wait) == 0)
		slicer_inited = 1;
	for (i = 0; i < c->ncalendars; i++)
		camp_add(&c->calendars[i]);
	return (0);
}

/* The context has a new configuration: calendars are set up afresh. */
void
camp_reconfigure(void)
{
	const struct config	*c = camp_ctx->conf;
	size_t			 i;

	drop_all();
	for (i = 0; i < c->ncalendars; i++)
		camp_add(&c->calendars[i]);
}

/* Re-reads every calendar. */
void
camp_reload_all(void)
{
	struct camp	*cp;

	LIST_FOREACH(cp, &camps, entry) {
		if (cp->dead)
			continue;
		if (cp->fetch != NULL)
			fetch_now(cp->fetch);
		else
			load(cp);
	}
}

/* The calendars as `status` shows them. */
json_t *
camp_status_json(void)
{
	json_t		*arr = json_array(), *o;
	struct camp	*cp;
	char		 buf[40];
	size_t		 i;

	/* In configuration order: the list was built by inserting at the head. */
	for (i = 0; camp_ctx != NULL && i < camp_ctx->conf->ncalendars; i++)
		LIST_FOREACH(cp, &camps, entry) {
			if (cp->dead || strcmp(cp->name, camp_ctx->conf->calendars[i].name))
				continue;
			o = json_object();
			json_object_set_new(o, "name", json_string(cp->name));
			json_object_set_new(o, "source", json_string(cp->label));
			json_object_set_new(o, "events", json_integer((json_int_t)cp->events));
			json_object_set_new(o, "loaded_at", cp->loaded_at ?
			    json_string(when_format(cp->loaded_at, buf, sizeof(buf))) :
			    json_null());
			json_object_set_new(o, "error", cp->error ?
			    json_string(cp->error) : cp->fetch_error ?
			    json_string(cp->fetch_error) : json_null());
			json_object_set_new(o, "loading", json_boolean(cp->loading));
			json_object_set_new(o, "applying", json_boolean(cp->job != NULL));
			json_array_append_new(arr, o);
		}
	return (arr);
}

/* True while any calendar is being loaded. */
int
camp_busy(void)
{
	struct camp	*cp;

	LIST_FOREACH(cp, &camps, entry)
		if (cp->loading)
			return (1);
	return (0);
}

/* Drops every calendar; the caller runs the loop so jobs and handles finish. */
void
camp_shutdown(void)
{
	struct camp	*cp, *next;
	size_t		 i;

	drop_all();
	/* Loads being applied stop here; the next start loads them again. */
	for (cp = LIST_FIRST(&camps); cp != NULL; cp = next) {
		next = LIST_NEXT(cp, entry);
		if (cp->job != NULL)
			finish(cp, 1);
	}
	if (slicer_inited) {
		uv_check_stop(&slicer);
		uv_idle_stop(&spinner);
		uv_timer_stop(&ckpt_wait);
		uv_close((uv_handle_t *)&slicer, NULL);
		uv_close((uv_handle_t *)&spinner, NULL);
		uv_close((uv_handle_t *)&ckpt_wait, NULL);
		slicer_inited = 0;
	}
	for (i = 0; i < napplied; i++)
		free(applied[i].name);
	free(applied);
	applied = NULL;
	napplied = 0;
	if (retry_inited) {
		uv_timer_stop(&retry_timer);
		uv_close((uv_handle_t *)&retry_timer, NULL);
		retry_inited = 0;
	}
}
