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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <openssl/evp.h>

#include "campaign.h"
#include "redact.h"
#include "calendar.h"
#include "channel.h"
#include "context.h"
#include "fetch.h"
#include "log.h"
#include "media.h"
#include "render.h"
#include "schedule.h"
#include "store.h"
#include "watch.h"
#include "when.h"
#include "../common/util.h"

#define BIT(s)		(1u << (s))
#define PENDING		(BIT(DS_SCHEDULED) | BIT(DS_RETRYING) | BIT(DS_HELD) | \
			    BIT(DS_MISSED))
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
	char			*data;		/* url calendars: the body to parse */
	size_t			 len;
	char			*tz;
	int64_t			 from, to;	/* ms */
	struct cal_calendar	*cal;
	struct cal_occurrence	*occ;
	ssize_t			 nocc;
	struct cal_limits	 lim;
	char			 err[1024];
	/* the UIDs of events left out of this load, sorted */
	char			**skip;
	size_t			 nskip;
};

static const struct crierd_ctx	*camp_ctx;	/* loop, configuration, templates */
static LIST_HEAD(, camp)	 camps = LIST_HEAD_INITIALIZER(camps);
static uv_timer_t		 retry_timer;	/* loads the store refused */
static int			 retry_inited;

#define CAMP_STORE_RETRY_MS	15000

static void	load(struct camp *);

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

	cp->err[0] = '\0';
	if (cp->path != NULL)
		cp->cal = cal_load_file(cp->path, cp->tz, cp->err, sizeof(cp->err));
	else
		cp->cal = cal_parse(cp->data, cp->len, cp->label, cp->tz, cp->err,
		    sizeof(cp->err));
	if (cp->cal == NULL)
		return;
	cal_set_limits(cp->cal, &cp->lim);
	cp->nocc = cal_expand(cp->cal, (time_t)(cp->from / 1000),
	    (time_t)((cp->to + 999) / 1000), &cp->occ);
	if (cp->nocc < 0)
		snprintf(cp->err, sizeof(cp->err), "%s", cal_error(cp->cal) ?
		    cal_error(cp->cal) : "expanding the calendar failed");
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

/* Whether the event UID is left out of this load of CP. */
static int
skipped(const struct camp *cp, const char *uid)
{
	return (uid != NULL && cp->nskip > 0 && bsearch(&uid, cp->skip,
	    cp->nskip, sizeof(*cp->skip), str_cmp) != NULL);
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
	free(cp->tz);
	free(cp);
}

/* The channels for OCC: its own, the calendar's, or the config's default. */
static const char *
occ_channels(const struct camp *cp, const struct cal_occurrence *o)
{
	if (o->channels != NULL)
		return (o->channels);
	if (cp->channels != NULL)
		return (cp->channels);
	return (camp_ctx->conf->channels);
}

/* Calls FN for each channel name of the comma-separated LIST. */
static int
each_channel(const char *list, int (*fn)(void *, const char *), void *arg)
{
	char	 buf[128];
	int	 rc;

	while (util_list_next(&list, ", ", buf, sizeof(buf)) > 0)
		if ((rc = fn(arg, buf)) != 0)
			return (rc);
	return (0);
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
	const char			*src = cp->label;
	size_t				 n = 0, np, i;

	if (cp->cal == NULL || cp->nocc < 0) {
		snprintf(msgs[n++], 640, "%s", cp->err);
		return (n);
	}
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
		memset(&v, 0, sizeof(v));
		v.cp = cp;
		v.o = &cp->occ[i];
		if (each_channel(occ_channels(cp, v.o), check_channel, &v) != 0 ||
		    v.nchan == 0) {
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

struct rec {
	struct camp			*cp;
	const struct cal_occurrence	*o;
	struct delivery			*have;		/* the calendar's deliveries, by id */
	size_t				 nhave;
	char				*seen;		/* per have[] entry */
	int				 added, moved, changed, cancelled;
	int64_t				 now;
	char				 held[640];	/* the first post held for a problem */
	char				 fp[65];	/* of r->o */
};

/* Compares deliveries by id, for bsearch. */
static int
by_id(const void *a, const void *b)
{
	return (strcmp(((const struct delivery *)a)->id,
	    ((const struct delivery *)b)->id));
}

/* What the calendar says of occurrence O. */
static const char *
cal_state_of(const struct cal_occurrence *o)
{
	switch (o->status) {
	case CAL_CANCELLED:
		return ("cancelled");
	case CAL_HELD:
		return ("held");
	default:
		return ("scheduled");
	}
}

/* The attachments of O as JSON [{uri, fmttype, alt}] (malloc'd), or NULL if none. */
static char *
media_json(const struct cal_occurrence *o)
{
	json_t	*a;
	char	*s;
	size_t	 i;

	if (o->nattach == 0)
		return (NULL);
	a = json_array();
	for (i = 0; i < o->nattach; i++)
		json_array_append_new(a, json_pack("{s:s?, s:s?, s:s?}",
		    "uri", o->attach[i].uri, "fmttype", o->attach[i].fmttype,
		    "alt", o->attach[i].alt));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return (s);
}

/* Keeps IN's render context for email delivery ID: its recipients get their own. */
static void
keep_email_context(const struct render_input *in, const char *id)
{
	json_t	*ctx;
	char	*js;

	if ((ctx = render_context(in)) == NULL)
		return;
	if ((js = json_dumps(ctx, JSON_COMPACT)) != NULL)
		store_email_ctx_put(id, in->template, js);
	free(js);
	json_decref(ctx);
}

/* A fingerprint of what the calendar says of O: overrides are measured against it. */
static void
occ_fingerprint(const struct cal_occurrence *o, char fp[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	json_t		*j, *cats, *vars, *att;
	char		*s;
	size_t		 k;

	cats = json_array();
	for (k = 0; k < o->ncategories; k++)
		json_array_append_new(cats, json_string(o->categories[k]));
	vars = json_object();
	for (k = 0; k < o->nvars; k++)
		json_object_set_new(vars, o->vars[k].name, json_string(o->vars[k].value));
	att = json_array();
	for (k = 0; k < o->nattach; k++)
		json_array_append_new(att, json_pack("[s?, s?, s?]",
		    o->attach[k].uri, o->attach[k].fmttype, o->attach[k].alt));
	j = json_pack("{s:s, s:i, s:i, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, "
	    "s:o, s:o, s:o}", "start", o->start_str, "status", (int)o->status,
	    "sequence", o->sequence, "summary", o->summary, "description",
	    o->description, "url", o->url, "location", o->location, "channels",
	    o->channels, "template", o->template, "categories", cats, "vars",
	    vars, "attach", att);
	s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (s == NULL)
		abort();
	EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32 && i < mdlen; i++)
		snprintf(fp + i * 2, 3, "%02x", md[i]);
	fp[64] = '\0';
	free(s);
	json_decref(j);
}

/* True if A and B are both NULL or equal strings. */
static int
same(const char *a, const char *b)
{
	return (a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0);
}

/*
 * Loads the override of KIND on E; one the calendar has overtaken (it
 * changed the occurrence after the operator decided) is ended, saying so
 * in the log and the delivery's history. 1 if an override stands.
 */
static int
override_stands(struct rec *r, const struct delivery *e, const char *kind,
    struct store_override *ov, int *ended)
{
	const char	*base;
	char		 msg[512], at[40], to[40];

	if (store_override_get(e->id, kind, ov) != 0)
		return (0);
	/* Made before the version was known: measured from the last one seen. */
	base = ov->cal_fp != NULL ? ov->cal_fp : e->cal_fp;
	if (base == NULL || strcmp(base, r->fp) == 0)
		return (1);
	if (strcmp(kind, "time") == 0)
		snprintf(to, sizeof(to), " to %s", when_format(ov->due, at,
		    sizeof(at)));
	else
		to[0] = '\0';
	snprintf(msg, sizeof(msg), "the calendar changed this occurrence after "
	    "uid %d's %s%s: the calendar's version applies", ov->actor,
	    ov->verb, to);
	store_override_drop(e->id, kind);
	store_log(e->id, e->channel, STORE_ACTOR_DAEMON, "override ended", msg);
	log_info("calendar %s: %s: %s", r->cp->name, e->id, msg);
	store_override_clear(ov);
	*ended = 1;
	return (0);
}

/*
 * The state occurrence E should be in, and why it is held (*REASON), given
 * what the calendar says (CS), the operator's standing decision OV (NULL:
 * none) and whether the calendar's word is to be taken afresh (FORCE).
 */
static enum dstate
decide(const struct rec *r, const struct delivery *e, const char *cs,
    const struct store_override *ov, int force, int64_t due,
    const char **reason, char *why, size_t whylen)
{
	const char	*prev = e->cal_state;
	enum dstate	 want = e->state;
	int		 prob = e->state == DS_HELD && same(e->hold_reason, SCHED_PROBLEM);
	int		 calgone = prev != NULL && (strcmp(prev, "cancelled") == 0 ||
			    strcmp(prev, "removed") == 0);

	*reason = e->state == DS_HELD ? e->hold_reason : NULL;
	why[0] = '\0';
	if (ov != NULL) {
		if (strcmp(ov->verb, "cancel") == 0)
			want = DS_CANCELLED;
		else if (strcmp(ov->verb, "hold") == 0) {
			want = DS_HELD;
			if (!same(*reason, SCHED_PAUSED))
				*reason = NULL;
		} else if (prob)
			want = DS_SCHEDULED;
		snprintf(why, whylen, "uid %d's %s stands", ov->actor, ov->verb);
	} else if (force || prob || !same(prev, cs)) {
		if (strcmp(cs, "cancelled") == 0) {
			want = DS_CANCELLED;
			snprintf(why, whylen, "cancelled in the calendar");
		} else if (strcmp(cs, "held") == 0) {
			if (e->state == DS_SCHEDULED || e->state == DS_RETRYING ||
			    prob || (e->state == DS_CANCELLED && (calgone || force)) ||
			    (force && e->state == DS_HELD)) {
				want = DS_HELD;
				*reason = NULL;
			}
			snprintf(why, whylen, "tentative in the calendar: held "
			    "for approval");
		} else if (strcmp(cs, "scheduled") == 0) {
			if ((e->state == DS_HELD && (prob || force ||
			    (*reason == NULL && prev != NULL &&
			    (strcmp(prev, "held") == 0 ||
			    strcmp(prev, "invalid") == 0)))) ||
			    (e->state == DS_CANCELLED && (calgone || force)))
				want = DS_SCHEDULED;
			snprintf(why, whylen, prob ? "the problem is fixed: "
			    "re-rendered, it fits" : "confirmed in the calendar");
		}
	}
	if (e->state == DS_MISSED && want == DS_MISSED && due > r->now) {
		want = DS_SCHEDULED;	/* moved to a time still to come */
		snprintf(why, whylen, "moved to a time still to come");
	}
	/* A post that cannot go out as it is never does. */
	if (strcmp(cs, "invalid") == 0 && (want == DS_SCHEDULED ||
	    want == DS_RETRYING || want == DS_HELD)) {
		want = DS_HELD;
		*reason = SCHED_PROBLEM;
		snprintf(why, whylen, "held: %s", e->last_error ?
		    e->last_error : "it cannot go out as it is");
	}
	if (want == DS_SCHEDULED && e->state != DS_SCHEDULED) {
		const char	*pr, *le;
		bool		 paused = false;
		int		 inf;

		if (chan_find(e->channel) != NULL)
			sched_channel_info(e->channel, &paused, &pr, &le, &inf);
		if (paused) {
			want = DS_HELD;
			*reason = SCHED_PAUSED;
		}
	}
	return (want);
}

/* Reconciles occurrence R->o on channel NAME with the store. */
static int
rec_channel(void *arg, const char *name)
{
	struct rec		*r = arg;
	const struct cal_occurrence *o = r->o;
	struct render_input	 in;
	struct render_output	 out;
	struct delivery		 key, d, *e;
	struct store_override	 ot, os;
	struct store_update	 u;
	struct channel		*ch = chan_find(name);
	const char		*cs = cal_state_of(o);
	const char		*err = NULL, *reason;
	char			 prob[600], msg[900], why[700], when[40], was[40];
	char			*media = NULL;
	int64_t			 due = (int64_t)o->start * 1000, final;
	int			 has_t, has_s, ended = 0, mline;
	enum dstate		 want;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.occ = o;
	in.calendar = r->cp->name;
	in.ch = ch;
	in.conf = camp_ctx->conf;
	in.tmpls = camp_ctx->tmpls;
	in.template = o->template ? o->template : r->cp->template;
	in.start = due;
	if (render_post(&in, &out) == -1) {
		snprintf(prob, sizeof(prob), "cannot render: %s", out.error);
		err = prob;
	} else if (ch != NULL && ch->ops->check_post != NULL &&
	    ch->ops->check_post(ch, o, prob, sizeof(prob)) == CHAN_CHECK_PROBLEM) {
		err = prob;
	} else if (!out.len.fits) {
		snprintf(prob, sizeof(prob), "does not fit: %zu of %zu%s",
		    out.len.limit && out.len.length > out.len.limit ?
		    out.len.length : out.len.bytes,
		    out.len.limit && out.len.length > out.len.limit ?
		    out.len.limit : out.len.byte_limit,
		    out.len.limit && out.len.length > out.len.limit ?
		    " characters" : " bytes");
		err = prob;
	} else if (o->nattach > 0 && ch != NULL &&
	    media_check_attachments(o->attach, o->nattach, ch->ops->media,
	    &mline, prob, sizeof(prob)) == -1) {
		err = prob;
		if (r->held[0] == '\0' && o->status != CAL_CANCELLED)
			snprintf(r->held, sizeof(r->held), "%s:%d: event \"%s\" on "
			    "%s: %s; the post is held", r->cp->label, mline,
			    o->uid ? o->uid : "(no UID)", name, prob);
	}
	/* A post that cannot go out right waits for a person, visibly. */
	if (err != NULL && strcmp(cs, "cancelled") != 0)
		cs = "invalid";
	memset(&key, 0, sizeof(key));
	store_delivery_id(r->cp->name, o->uid, o->recurrence_id[0] ?
	    o->recurrence_id : NULL, name, key.id);
	e = r->nhave ? bsearch(&key, r->have, r->nhave, sizeof(*e), by_id) : NULL;
	if (ch != NULL && err == NULL && strcmp(ch->ops->type, "smtp") == 0 &&
	    (e == NULL || (e->state != DS_SENT && e->state != DS_SENDING &&
	    e->state != DS_UNCERTAIN)))
		keep_email_context(&in, key.id);
	if (e == NULL) {
		memset(&d, 0, sizeof(d));
		memcpy(d.id, key.id, sizeof(d.id));
		d.channel = (char *)name;
		d.due = due;
		d.calendar = r->cp->name;
		d.uid = o->uid;
		d.recurrence_id = o->recurrence_id[0] ? (char *)o->recurrence_id : NULL;
		d.summary = o->summary;
		d.text = out.text;
		d.cal_state = (char *)cs;
		d.cal_fp = r->fp;
		d.last_error = (char *)err;
		d.state = strcmp(cs, "cancelled") == 0 ? DS_CANCELLED :
		    strcmp(cs, "scheduled") == 0 ? DS_SCHEDULED : DS_HELD;
		d.hold_reason = strcmp(cs, "invalid") == 0 ? SCHED_PROBLEM : NULL;
		if (store_insert(&d, STORE_ACTOR_DAEMON, "calendar") == 0) {
			r->added++;
			if (o->nattach > 0 && (media = media_json(o)) != NULL)
				store_set_media(d.id, media);
			store_set_end(d.id, o->end_str);
		}
		goto done;
	}
	r->seen[e - r->have] = 1;
	/* What went out, or may have, is never touched again. */
	if (e->state == DS_SENT || e->state == DS_SENDING || e->state == DS_UNCERTAIN)
		goto done;
	/* The operator's decisions stand until the calendar changes the occurrence. */
	has_t = override_stands(r, e, "time", &ot, &ended);
	has_s = override_stands(r, e, "state", &os, &ended);
	final = has_t ? ot.due : due;
	if (e->due != final) {
		if (ended)
			snprintf(msg, sizeof(msg), "the calendar's time applies "
			    "again: from %s to %s", when_format(e->due, was,
			    sizeof(was)), when_format(final, when, sizeof(when)));
		else
			snprintf(msg, sizeof(msg), "moved in the calendar from "
			    "%s to %s", when_format(e->due, was, sizeof(was)),
			    when_format(final, when, sizeof(when)));
		store_log(e->id, e->channel, STORE_ACTOR_DAEMON, "moved", msg);
		log_info("calendar %s: %s %s", r->cp->name, e->id, msg);
		r->moved++;
	} else if ((e->text == NULL) != (out.text == NULL) ||
	    (e->text && out.text && strcmp(e->text, out.text) != 0))
		r->changed++;
	/* The problem text is the last error while it lasts, and goes with it. */
	store_set_content(e->id, final, o->summary, out.text, cs, err ? err :
	    (e->cal_state && strcmp(e->cal_state, "invalid") == 0) ||
	    same(e->hold_reason, SCHED_PROBLEM) ? NULL : e->last_error);
	store_set_cal_fp(e->id, r->fp);
	store_override_adopt(e->id);
	media = media_json(o);
	store_set_media(e->id, media);
	store_set_end(e->id, o->end_str);
	if (err != NULL) {
		free(e->last_error);
		if ((e->last_error = strdup(err)) == NULL)
			abort();
	}
	want = decide(r, e, cs, has_s ? &os : NULL, ended, final, &reason, why,
	    sizeof(why));
	if (want != e->state || (want == DS_HELD && !same(reason, e->hold_reason))) {
		memset(&u, 0, sizeof(u));
		u.hold_reason = reason;
		if (store_transition(e->id, BIT(e->state), want, &u,
		    STORE_ACTOR_DAEMON, dstate_names[want], why, NULL) == 0) {
			log_info("calendar %s: %s %s -> %s (%s)", r->cp->name, e->id,
			    dstate_names[e->state], dstate_names[want], why);
			if (want == DS_CANCELLED)
				r->cancelled++;
		}
	}
	if (has_t)
		store_override_clear(&ot);
	if (has_s)
		store_override_clear(&os);
done:
	if (err != NULL)
		log_warnx("calendar %s: uid %s on %s: %s", r->cp->name,
		    o->uid ? o->uid : "(none)", name, err);
	render_output_clear(&out);
	free(media);
	return (0);
}

/* Brings the store in line with the freshly loaded occurrences of CP. */
static int
reconcile(struct camp *cp)
{
	struct rec	 r;
	size_t		 i;
	int		 removed = 0;
	uint64_t	 failures = store_failures();

	memset(&r, 0, sizeof(r));
	r.cp = cp;
	r.now = when_now();
	if (store_list_calendar(cp->name, &r.have, &r.nhave) == -1)
		return (-1);
	if (r.nhave > 1)
		qsort(r.have, r.nhave, sizeof(*r.have), by_id);
	if ((r.seen = calloc(r.nhave + 1, 1)) == NULL)
		abort();
	if (store_begin() == -1)
		goto fail;
	for (i = 0; i < (size_t)cp->nocc; i++) {
		r.o = &cp->occ[i];
		if (skipped(cp, r.o->uid))
			continue;
		occ_fingerprint(r.o, r.fp);
		each_channel(occ_channels(cp, r.o), rec_channel, &r);
	}
	/* Pending deliveries in the window that the calendar no longer has. */
	for (i = 0; i < r.nhave; i++) {
		struct delivery *e = &r.have[i];

		if (r.seen[i] || (PENDING & BIT(e->state)) == 0 ||
		    e->due < cp->from || e->due >= cp->to ||
		    skipped(cp, e->uid))
			continue;
		store_set_content(e->id, e->due, e->summary, e->text, "removed",
		    e->last_error);
		if (store_transition(e->id, BIT(e->state), DS_CANCELLED, NULL,
		    STORE_ACTOR_DAEMON, "cancelled", "removed from the calendar",
		    NULL) == 0) {
			log_info("calendar %s: %s cancelled: removed from the "
			    "calendar", cp->name, e->id);
			removed++;
		}
	}
	/* Any write that failed on the way (a full disk...) undoes the whole load. */
	if (store_failures() != failures || store_commit() == -1)
		goto fail;
	if (r.added || r.moved || r.changed || r.cancelled || removed)
		log_info("calendar %s: %d new, %d moved, %d changed, %d cancelled, "
		    "%d removed", cp->name, r.added, r.moved, r.changed,
		    r.cancelled, removed);
	store_deliveries_free(r.have, r.nhave);
	free(r.seen);
	set_error(cp, r.held[0] ? r.held : NULL);
	sched_kick();
	return (0);
fail:
	store_rollback();
	store_deliveries_free(r.have, r.nhave);
	free(r.seen);
	return (-1);
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

/* Loop thread, after the worker: check, then reconcile what can be used. */
static void
after_work(uv_work_t *w, int status)
{
	struct camp	*cp = w->data;
	char		 msgs[MAX_PROBLEMS][640], err[1100];
	size_t		 n, i;

	(void)status;
	cp->loading = 0;
	if (cp->dead) {
		LIST_REMOVE(cp, entry);
		goto out;
	}
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
	if (reconcile(cp) == -1) {
		char	msg[1024];

		/* Nothing was applied; try again once the store may work. */
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
	if (n > 0) {
		snprintf(err, sizeof(err), "%s (%zu problem%s%s): %s", msgs[0], n,
		    n > 1 ? "s" : "", n > 1 ? ", see the log" : "",
		    CAMP_RULE_EVENT);
		set_error(cp, err);
		log_errx("calendar %s: %zu problem%s: %s", cp->name, n, n > 1 ?
		    "s" : "", CAMP_RULE_EVENT);
	}
	/* It parsed and is scheduled: now it is the last good copy, kept on disk. */
	if (cp->fetch != NULL)
		fetch_keep(cp->fetch, cp->data, cp->len);
	cp->loaded_at = when_now();
	cp->events = cal_nevents(cp->cal);
	log_info("calendar %s: loaded %zu events, %zd occurrences in the window",
	    cp->name, cp->events, cp->nocc);
out:
	skip_clear(cp);
	if (cp->occ != NULL)
		cal_occurrences_free(cp->occ, (size_t)(cp->nocc > 0 ? cp->nocc : 0));
	cal_free(cp->cal);
	cp->occ = NULL;
	cp->cal = NULL;
	cp->nocc = 0;
	if (cp->dead) {
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
	drop_all();
	if (retry_inited) {
		uv_timer_stop(&retry_timer);
		uv_close((uv_handle_t *)&retry_timer, NULL);
		retry_inited = 0;
	}
}
