/*
 * Reconciling one calendar's freshly loaded occurrences with the store: new
 * occurrences become deliveries, moved or changed ones are re-rendered, ones
 * gone from the calendar are cancelled. What went out, or may have, is never
 * touched again; an operator's standing decision (an override) holds until
 * the calendar changes the occurrence. A delivery that cannot go out right
 * (does not fit, media refused) is held. Every move goes through the state
 * machine (delivery.c).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "reconcile.h"
#include "store_view.h"
#include "channel.h"
#include "compose.h"
#include "delivery.h"
#include "log.h"
#include "media.h"
#include "render.h"
#include "schedule.h"
#include "store.h"
#include "when.h"
#include "../common/digest.h"

#define BIT(s)		(1u << (s))
#define PENDING		(BIT(DS_SCHEDULED) | BIT(DS_RETRYING) | BIT(DS_HELD) | \
			    BIT(DS_MISSED))

/* What is to be done: an occurrence on one of its channels, or a row the calendar lost. */
struct item {
	int64_t		 due;		/* the sooner of the stored and the new time */
	uint32_t	 idx;		/* occurrence, or (REMOVE) have[] row */
	unsigned char	 kind;
	unsigned char	 chan;		/* the occurrence's channel, by position */
};

#define ITEM_REMOVE	0	/* sorted first at the same due */
#define ITEM_OCC	1

enum phase { P_READ, P_CLASSIFY, P_SORT, P_APPLY, P_DONE };

/*
 * Rows read a page at a time, in id order: each is a lookup of its own in
 * the table, from the OS once a reload has pushed SQLite's cache out, and
 * 256 of them took 3-4 ms, the longest a reload held the loop.
 */
#define REC_PAGE	64

struct rec {
	struct reconcile_in		 inc;		/* a copy: what it points to is borrowed */
	const struct reconcile_in	*in;		/* &inc */
	const struct cal_occurrence	*o;
	enum phase			 phase;
	struct store_vrow		*have;		/* the calendar's rows, by id */
	size_t				 nhave, caphave;
	char				 after[DELIVERY_ID_LEN + 1];
	char				*seen;		/* per have[] entry */
	char				(*fps)[65];	/* per occurrence, when not given */
	struct item			*items;
	size_t				 nitems, capitems, next, ci;
	int				 added, moved, changed, cancelled, removed;
	size_t				 closer;	/* occurrence items: looked at closer */
	size_t				 pairs;		/* occurrence-channel pairs classified */
	int				 failed;
	uint64_t			 failures;
	int64_t				 now;
	char				 held[640];	/* the first post held for a problem */
	const char			*fp;		/* of r->o */
	unsigned			 chan, want;	/* classify: channel position; apply: the one sought */
	uint32_t			 cur;		/* classify: the occurrence */
};

/* Compares strings, for bsearch of the skip list. */
static int
str_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Whether the event UID is left out of this load. */
static int
skipped(const struct reconcile_in *in, const char *uid)
{
	return (uid != NULL && in->nskip > 0 && bsearch(&uid, in->skip,
	    in->nskip, sizeof(*in->skip), str_cmp) != NULL);
}

/* The channels for OCC: its own, the calendar's, or the config's default. */
const char *
reconcile_channels(const struct reconcile_in *in,
    const struct cal_occurrence *o)
{
	if (o->channels != NULL)
		return (o->channels);
	if (in->channels != NULL)
		return (in->channels);
	return (in->conf->channels);
}

/* Calls FN for each channel name of the comma-separated LIST. */
int
reconcile_each_channel(const char *list, int (*fn)(void *, const char *), void *arg)
{
	char	 buf[128];
	size_t	 n;
	int	 rc;

	while (list != NULL && *list != '\0') {
		list += strspn(list, ", ");
		n = strcspn(list, ", ");
		if (n == 0)
			break;
		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, list, n);
		buf[n] = '\0';
		if ((rc = fn(arg, buf)) != 0)
			return (rc);
		list += n;
	}
	return (0);
}

/* Compares view rows by id, for bsearch. */
static int
by_id(const void *a, const void *b)
{
	return (strcmp(((const struct store_vrow *)a)->id,
	    ((const struct store_vrow *)b)->id));
}

/* What the calendar says of occurrence O. */
static enum cal_state
cal_state_of(const struct cal_occurrence *o)
{
	switch (o->status) {
	case CAL_CANCELLED:
		return (CS_CANCELLED);
	case CAL_HELD:
		return (CS_HELD);
	default:
		return (CS_SCHEDULED);
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
	/* The calendar's utm, or the channel's: newsletter.c renders it. */
	if (compose_utm_key(in) != NULL)
		json_object_set_new(ctx, "_utm_key",
		    json_string(compose_utm_key(in)));
	if ((js = json_dumps(ctx, JSON_COMPACT)) != NULL)
		store_email_ctx_put(id, in->template, js);
	free(js);
	json_decref(ctx);
}

/* A fingerprint of what the calendar says of O: overrides are measured against it. */
void
reconcile_fingerprint(const struct cal_occurrence *o, char fp[65])
{
	unsigned char	 md[DIGEST_LEN];
	unsigned int	 i;
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
	digest_sha256(s, strlen(s), md);
	for (i = 0; i < DIGEST_LEN; i++)
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
	log_info("calendar %s: %s: %s", r->in->name, e->id, msg);
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
decide(const struct rec *r, const struct delivery *e, enum cal_state cs,
    const struct store_override *ov, int force, int64_t due,
    const char **reason, char *why, size_t whylen)
{
	enum cal_state	 prev = e->cal_state;
	enum dstate	 want = e->state;
	int		 prob = e->state == DS_HELD && same(e->hold_reason, SCHED_PROBLEM);
	int		 calgone = prev == CS_CANCELLED || prev == CS_REMOVED;

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
	} else if (force || prob || prev != cs) {
		if (cs == CS_CANCELLED) {
			want = DS_CANCELLED;
			snprintf(why, whylen, "cancelled in the calendar");
		} else if (cs == CS_HELD) {
			if (e->state == DS_SCHEDULED || e->state == DS_RETRYING ||
			    prob || (e->state == DS_CANCELLED && (calgone || force)) ||
			    (force && e->state == DS_HELD)) {
				want = DS_HELD;
				*reason = NULL;
			}
			snprintf(why, whylen, "tentative in the calendar: held "
			    "for approval");
		} else if (cs == CS_SCHEDULED) {
			if ((e->state == DS_HELD && (prob || force ||
			    (*reason == NULL && (prev == CS_HELD ||
			    prev == CS_INVALID)))) ||
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
	if (cs == CS_INVALID && (want == DS_SCHEDULED ||
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
	struct delivery		 key, d, cur, *e = NULL;
	struct store_override	 ot, os;
	struct store_update	 u;
	struct channel		*ch = chan_find(name);
	enum cal_state		 cs = cal_state_of(o);
	const char		*err = NULL, *reason, *le;
	char			 prob[600], msg[900], why[700], when[40], was[40];
	char			*media = NULL;
	int64_t			 due = (int64_t)o->start * 1000, final;
	int			 has_t, has_s, ended = 0, mline;
	enum compose_result	 fit;
	enum dstate		 want;

	if (r->want != UINT32_MAX && r->chan++ != r->want)
		return (0);
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	memset(&cur, 0, sizeof(cur));
	in.occ = o;
	in.calendar = r->in->name;
	in.ch = ch;
	in.conf = r->in->conf;
	in.tmpls = r->in->tmpls;
	in.template = o->template ? o->template : r->in->template;
	in.start = due;
	if ((fit = compose_post(&in, NULL, &out, prob, sizeof(prob))) ==
	    COMPOSE_ERROR) {
		snprintf(prob, sizeof(prob), "cannot render: %s", out.error);
		err = prob;
	} else if (ch != NULL && ch->ops->check_post != NULL &&
	    ch->ops->check_post(ch, o, prob, sizeof(prob)) == CHAN_CHECK_PROBLEM) {
		err = prob;
	} else if (fit == COMPOSE_TOO_LONG) {
		err = compose_does_not_fit(&out.len, prob, sizeof(prob));
	} else if (o->nattach > 0 && ch != NULL &&
	    media_check_attachments(o->attach, o->nattach, ch->ops->media,
	    &mline, prob, sizeof(prob)) == -1) {
		err = prob;
		if (r->held[0] == '\0' && o->status != CAL_CANCELLED)
			snprintf(r->held, sizeof(r->held), "%s:%d: event \"%s\" on "
			    "%s: %s; the post is held", r->in->label, mline,
			    o->uid ? o->uid : "(no UID)", name, prob);
	}
	/* A post that cannot go out right waits for a person, visibly. */
	if (err != NULL && cs != CS_CANCELLED)
		cs = CS_INVALID;
	memset(&key, 0, sizeof(key));
	store_delivery_id(r->in->name, o->uid, o->recurrence_id[0] ?
	    o->recurrence_id : NULL, name, key.id);
	/* The row as it is now: the view it was picked from may be stale. */
	if (store_get(key.id, &cur) == 0)
		e = &cur;
	if (ch != NULL && err == NULL && ch->ops->email &&
	    (e == NULL || (e->state != DS_SENT && e->state != DS_SENDING &&
	    e->state != DS_UNCERTAIN)))
		keep_email_context(&in, key.id);
	if (e == NULL) {
		memset(&d, 0, sizeof(d));
		memcpy(d.id, key.id, sizeof(d.id));
		d.channel = (char *)name;
		d.due = due;
		d.calendar = (char *)r->in->name;
		d.uid = o->uid;
		d.recurrence_id = o->recurrence_id[0] ? (char *)o->recurrence_id : NULL;
		d.summary = o->summary;
		d.text = out.text;
		d.cal_state = cs;
		d.cal_fp = (char *)r->fp;
		d.last_error = (char *)err;
		d.state = cs == CS_CANCELLED ? DS_CANCELLED :
		    cs == CS_SCHEDULED ? DS_SCHEDULED : DS_HELD;
		d.hold_reason = cs == CS_INVALID ? SCHED_PROBLEM : NULL;
		if (store_insert(&d, STORE_ACTOR_DAEMON, "calendar") == 0) {
			r->added++;
			if (o->nattach > 0 && (media = media_json(o)) != NULL)
				store_set_media(d.id, media);
			store_set_end(d.id, o->end_str);
		}
		goto done;
	}
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
		log_info("calendar %s: %s %s", r->in->name, e->id, msg);
		r->moved++;
	} else if ((e->text == NULL) != (out.text == NULL) ||
	    (e->text && out.text && strcmp(e->text, out.text) != 0))
		r->changed++;
	/* The problem text is the last error while it lasts, and goes with it. */
	le = err ? err : e->cal_state == CS_INVALID ||
	    same(e->hold_reason, SCHED_PROBLEM) ? NULL : e->last_error;
	/* An unchanged occurrence costs these compares, not a write. */
	if (e->due != final || !same(e->summary, o->summary) ||
	    !same(e->text ? e->text : "", out.text ? out.text : "") ||
	    e->cal_state != cs || !same(e->last_error, le))
		store_set_content(e->id, final, o->summary, out.text, cs, le);
	if (!same(e->cal_fp, r->fp))
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
		if (delivery_move(e->id, BIT(e->state), want, &u,
		    STORE_ACTOR_DAEMON, dstate_names[want], why, NULL) == 0) {
			log_info("calendar %s: %s %s -> %s (%s)", r->in->name, e->id,
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
		log_warnx("calendar %s: uid %s on %s: %s", r->in->name,
		    o->uid ? o->uid : "(none)", name, err);
	render_output_clear(&out);
	store_delivery_clear(&cur);
	free(media);
	return (0);
}

/* Adds an item of KIND for IDX (and channel position CHAN) due at DUE. */
static void
item_add(struct rec *r, int64_t due, size_t idx, int kind, unsigned chan)
{
	struct item	*it;

	if (r->nitems == r->capitems) {
		r->capitems = r->capitems ? r->capitems * 2 : 1024;
		if ((r->items = reallocarray(r->items, r->capitems,
		    sizeof(*r->items))) == NULL)
			abort();
	}
	it = &r->items[r->nitems++];
	if (kind == ITEM_OCC)
		r->closer++;
	it->due = due;
	it->idx = (uint32_t)idx;
	it->kind = (unsigned char)kind;
	it->chan = (unsigned char)chan;
}

/* Orders items by due, then removals first, then by position. */
static int
item_cmp(const void *a, const void *b)
{
	const struct item	*x = a, *y = b;

	if (x->due != y->due)
		return (x->due < y->due ? -1 : 1);
	if (x->kind != y->kind)
		return (x->kind < y->kind ? -1 : 1);
	if (x->idx != y->idx)
		return (x->idx < y->idx ? -1 : 1);
	return (x->chan < y->chan ? -1 : x->chan > y->chan);
}

/*
 * Whether view row V of occurrence R->o needs no closer look: what went out
 * (or may have) is never touched, and an occurrence the calendar did not
 * change, with the templates and configuration of the last load, costs
 * this compare and nothing else.
 */
static int
unchanged(const struct rec *r, const struct store_vrow *v)
{
	char	hex[65];
	int	i;

	if (v->state == DS_SENT || v->state == DS_SENDING ||
	    v->state == DS_UNCERTAIN)
		return (1);
	/* A row the calendar had removed (or found invalid) is looked at again. */
	if (!r->in->same_context || !v->has_fp || v->problem ||
	    v->cal_state != cal_state_of(r->o) || (v->state != DS_SCHEDULED &&
	    v->state != DS_RETRYING && v->state != DS_CANCELLED &&
	    v->state != DS_HELD))
		return (0);
	for (i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", v->fp[i]);
	return (strcmp(hex, r->fp) == 0);
}

/* Classifies occurrence R->o on channel NAME: marks its row seen, and queues it unless unchanged. */
static int
classify_channel(void *arg, const char *name)
{
	struct rec		*r = arg;
	const struct cal_occurrence *o = r->o;
	struct store_vrow	 key, *v;
	unsigned		 chan = r->chan++;
	int64_t			 due = (int64_t)o->start * 1000;

	if (chan > UCHAR_MAX)
		return (0);	/* no list of channels is this long */
	r->pairs++;
	store_delivery_id(r->in->name, o->uid, o->recurrence_id[0] ?
	    o->recurrence_id : NULL, name, key.id);
	v = r->nhave ? bsearch(&key, r->have, r->nhave, sizeof(*v), by_id) :
	    NULL;
	if (v != NULL) {
		r->seen[v - r->have] = 1;
		if (unchanged(r, v))
			return (0);
		if (v->due < due)
			due = v->due;
	}
	item_add(r, due, r->cur, ITEM_OCC, chan);
	return (0);
}

/* Cancels the pending row V that the calendar no longer has, as it is now. */
static void
remove_row(struct rec *r, const struct store_vrow *v)
{
	const struct reconcile_in	*in = r->in;
	struct delivery			 e;

	if (store_get(v->id, &e) != 0)
		return;
	if ((PENDING & BIT(e.state)) == 0 || e.due < in->from ||
	    e.due >= in->to || skipped(in, e.uid))
		goto done;
	store_set_content(e.id, e.due, e.summary, e.text, CS_REMOVED,
	    e.last_error);
	if (delivery_move(e.id, BIT(e.state), DS_CANCELLED, NULL,
	    STORE_ACTOR_DAEMON, "cancelled", "removed from the calendar",
	    NULL) == 0) {
		log_info("calendar %s: %s cancelled: removed from the calendar",
		    in->name, e.id);
		r->removed++;
	}
done:
	store_delivery_clear(&e);
}

/* Applies item IT. */
static void
apply(struct rec *r, const struct item *it)
{
	const struct reconcile_in	*in = r->in;

	if (it->kind == ITEM_REMOVE) {
		remove_row(r, &r->have[it->idx]);
		return;
	}
	r->o = &in->occ[it->idx];
	r->fp = in->fps != NULL ? in->fps[it->idx] : r->fps[it->idx];
	r->chan = 0;
	r->want = it->chan;
	reconcile_each_channel(reconcile_channels(in, r->o), rec_channel, r);
}

/* One unit of the phases before any write: a page read, an occurrence classified, the sort. */
static int
prepare(struct rec *r)
{
	const struct reconcile_in	*in = r->in;
	size_t				 i;
	int				 n;

	switch (r->phase) {
	case P_READ:
		n = store_view_calendar_page(in->name, r->after, REC_PAGE, &r->have,
		    &r->nhave, &r->caphave);
		if (n == -1)
			return (-1);
		if (n > 0) {
			memcpy(r->after, r->have[r->nhave - 1].id,
			    sizeof(r->after));
			break;
		}
		if ((r->seen = calloc(r->nhave + 1, 1)) == NULL)
			abort();
		r->phase = P_CLASSIFY;
		break;
	case P_CLASSIFY:
		if (r->ci < in->nocc) {
			r->cur = (uint32_t)r->ci;
			r->o = &in->occ[r->ci++];
			if (skipped(in, r->o->uid))
				break;
			if (in->fps != NULL)
				r->fp = in->fps[r->cur];
			else {
				reconcile_fingerprint(r->o, r->fps[r->cur]);
				r->fp = r->fps[r->cur];
			}
			r->chan = 0;
			reconcile_each_channel(reconcile_channels(in, r->o),
			    classify_channel, r);
			break;
		}
		/* Pending rows in the window that the calendar no longer has. */
		for (i = 0; i < r->nhave; i++)
			if (!r->seen[i] && (PENDING & BIT(r->have[i].state)) &&
			    r->have[i].due >= in->from && r->have[i].due < in->to)
				item_add(r, r->have[i].due, i, ITEM_REMOVE, 0);
		free(r->seen);
		r->seen = NULL;
		r->phase = P_SORT;
		break;
	case P_SORT:
		/* Soonest first: a removed or changed post must not go out stale. */
		for (i = 1; i < r->nitems; i++)
			if (item_cmp(&r->items[i - 1], &r->items[i]) > 0)
				break;
		if (i < r->nitems)
			qsort(r->items, r->nitems, sizeof(*r->items), item_cmp);
		r->phase = r->nitems > 0 ? P_APPLY : P_DONE;
		break;
	default:
		break;
	}
	return (0);
}

/* Starts reconciling IN with the store; IN's contents are borrowed until reconcile_free. */
struct reconcile_job *
reconcile_start(const struct reconcile_in *in)
{
	struct rec	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		abort();
	r->inc = *in;
	r->in = &r->inc;
	r->now = when_now();
	r->want = UINT32_MAX;
	if (in->fps == NULL && in->nocc > 0 &&
	    (r->fps = calloc(in->nocc, sizeof(*r->fps))) == NULL)
		abort();
	return ((struct reconcile_job *)r);
}

/* Logs how many of J's occurrences an unchanged fingerprint settled. */
static void
done_log(const struct rec *r)
{
	log_debug("calendar %s: %zu of %zu occurrence-channel pairs looked "
	    "at closer, the rest unchanged%s", r->in->name, r->closer,
	    r->pairs, r->in->same_context ? "" : " (a first load, or the "
	    "configuration or templates changed)");
}

/* Works on J for about BUDGET_US microseconds; each slice of writes is one transaction. */
int
reconcile_step(struct reconcile_job *j, int64_t budget_us)
{
	struct rec	*r = (struct rec *)j;
	int64_t		 end = when_mono_us() + budget_us;

	if (budget_us <= 0 || budget_us > INT64_MAX / 2)
		end = INT64_MAX;
	if (r->failed)
		return (-1);
	while (r->phase < P_APPLY) {
		if (prepare(r) == -1) {
			r->failed = 1;
			return (-1);
		}
		if (r->phase == P_DONE) {
			done_log(r);
			return (0);
		}
		if (when_mono_us() >= end)
			return (1);
	}
	if (r->phase != P_APPLY)
		return (0);
	r->failures = store_failures();
	/*
	 * Relaxed: a slice waits for the OS, not the disk, so the loop is not
	 * held by an fsync. A crash keeps it; a power cut may lose the last
	 * slices, which the next load (the calendar still says so) redoes;
	 * the next `sending` mark, a full commit, makes them durable first.
	 */
	store_relaxed(true);
	if (store_begin() == -1)
		goto fail;
	do {
		apply(r, &r->items[r->next++]);
	} while (r->next < r->nitems && when_mono_us() < end);
	/* A write that failed (a full disk...) undoes the slice; the load is tried again. */
	if (store_failures() != r->failures || store_commit() == -1)
		goto fail;
	store_relaxed(false);
	if (r->next < r->nitems)
		return (1);
	r->phase = P_DONE;
	done_log(r);
	if (r->added || r->moved || r->changed || r->cancelled || r->removed)
		log_info("calendar %s: %d new, %d moved, %d changed, %d cancelled, "
		    "%d removed", r->in->name, r->added, r->moved, r->changed,
		    r->cancelled, r->removed);
	return (0);
fail:
	store_rollback();
	store_relaxed(false);
	r->failed = 1;
	return (-1);
}

/* Whether J has applied writes yet (a slice committed). */
int
reconcile_applying(const struct reconcile_job *j)
{
	return (((const struct rec *)j)->phase >= P_APPLY);
}

/* The first post J held for a problem ("" if none). */
const char *
reconcile_held(const struct reconcile_job *j)
{
	return (((const struct rec *)j)->held);
}

/* Frees J. */
void
reconcile_free(struct reconcile_job *j)
{
	struct rec	*r = (struct rec *)j;

	if (r == NULL)
		return;
	free(r->have);
	free(r->seen);
	free(r->fps);
	free(r->items);
	free(r);
}

/* Brings the store in line with the freshly loaded occurrences of IN, in one transaction. */
int
reconcile_run(const struct reconcile_in *in, char *held, size_t heldlen)
{
	struct reconcile_job	*j = reconcile_start(in);
	int			 rc;

	rc = reconcile_step(j, 0);
	if (rc == 0)
		snprintf(held, heldlen, "%s", reconcile_held(j));
	reconcile_free(j);
	return (rc == 0 ? 0 : -1);
}
