/*
 * A calendar's occurrences in a window, streamed in time order: a binary
 * heap of per-event iterators, each yielding its event's occurrences in
 * order, so that nothing holds all of them (SPEC §4; cal_expand collects).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar-int.h"
#include "rrule.h"

#define SRC_SHIFT	40		/* an instance's ord: source, then sequence */
#define MARGIN		(2 * TZ_DAY)	/* an instant is at most this before its wall clock */

struct src {				/* one RRULE of a master, enumerated lazily */
	const struct rule	*ru;
	struct rrule_iter	*it;		/* NULL: sub-daily, enumerated here */
	int64_t			 t, step, n;	/* sub-daily: candidate, step, matches */
	bool			 done;
	bool			 have;		/* AHEAD holds its next instance */
	int64_t			 ahead;		/* wall clock of that instance */
	size_t			 seq;
};

struct rdkey {				/* an RDATE by the identity of its instance */
	int64_t			 key;
	size_t			 i;
};

struct evit {				/* one event's occurrences, in order */
	struct event		*e;
	size_t			 rank;		/* the order cal_expand emitted in */
	struct src		*src;
	size_t			 nsrc;
	struct rdkey		*rd;		/* its RDATEs by key, then place */
	size_t			 nrd, ird;
	struct inst		*pend;		/* min-heap by key, then ord */
	size_t			 npend, cappend;
	bool			 recurring;
	bool			 once;		/* an override: one occurrence, given */
	size_t			 uid;		/* rank of its UID among the stream's */
	const struct ovr	*ov, *bd;	/* its overrides, by identity, by date */
	size_t			 nov, nbd;
	size_t			 given;
	struct cal_occurrence	 occ;		/* the head: E's text, its own times */
};

struct slot {				/* a heap entry: what orders it, kept at hand */
	int64_t			 start;
	size_t			 uid;
	struct evit		*ev;
};

struct cal_stream {
	struct cal_calendar	*c;
	int64_t			 from, to, lo, hi;
	struct expand_plan	 plan;
	struct evit		*ev;
	size_t			 nev;
	struct slot		*heap;		/* by head, then rank */
	size_t			 nheap;
	bool			 popped;	/* heap[0]'s head was handed out */
};

/* Orders two heads by start, uid, recurrence-id, end, summary, then rank. */
static int
head_cmp(const struct evit *a, const struct evit *b)
{
	const struct cal_occurrence	*x = &a->occ, *y = &b->occ;
	int				 r;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	if ((r = strcmp(x->recurrence_id, y->recurrence_id)) != 0)
		return r;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->summary != y->summary && (r = strcmp(x->summary ? x->summary :
	    "", y->summary ? y->summary : "")) != 0)
		return r;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

/* Orders two heap slots: start and UID at hand, the rest from the heads. */
static int
slot_cmp(const struct slot *a, const struct slot *b)
{
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	return head_cmp(a->ev, b->ev);
}

/* Slot for EV at its head. */
static struct slot
slot_of(struct evit *ev)
{
	struct slot	 sl;

	sl.start = (int64_t)ev->occ.start;
	sl.uid = ev->uid;
	sl.ev = ev;
	return sl;
}

/* Restores the heap of S below slot I. */
static void
sift_down(struct cal_stream *s, size_t i)
{
	struct slot	 t = s->heap[i];
	size_t		 k;

	for (;;) {
		k = 2 * i + 1;
		if (k >= s->nheap)
			break;
		if (k + 1 < s->nheap && slot_cmp(&s->heap[k + 1], &s->heap[k]) < 0)
			k++;
		if (slot_cmp(&s->heap[k], &t) >= 0)
			break;
		s->heap[i] = s->heap[k];
		i = k;
	}
	s->heap[i] = t;
}

/* Orders pending instances of one event: key, then the order found. */
static bool
inst_less(const struct inst *a, const struct inst *b)
{
	return a->key != b->key ? a->key < b->key : a->ord < b->ord;
}

/* Adds IN to EV's pending instances; -1 without memory. */
static int
pend_push(struct evit *ev, const struct inst *in)
{
	struct inst	*nv, t;
	size_t		 i, p, ncap;

	if (ev->npend == ev->cappend) {
		ncap = ev->cappend ? ev->cappend * 2 : 8;
		if ((nv = reallocarray(ev->pend, ncap, sizeof(*nv))) == NULL)
			return -1;
		ev->pend = nv;
		ev->cappend = ncap;
	}
	i = ev->npend++;
	ev->pend[i] = *in;
	while (i > 0) {
		p = (i - 1) / 2;
		if (!inst_less(&ev->pend[i], &ev->pend[p]))
			break;
		t = ev->pend[p];
		ev->pend[p] = ev->pend[i];
		ev->pend[i] = t;
		i = p;
	}
	return 0;
}

/* Removes EV's first pending instance into OUT. */
static void
pend_pop(struct evit *ev, struct inst *out)
{
	struct inst	 t;
	size_t		 i = 0, k;

	*out = ev->pend[0];
	ev->pend[0] = ev->pend[--ev->npend];
	for (;;) {
		k = 2 * i + 1;
		if (k >= ev->npend)
			break;
		if (k + 1 < ev->npend && inst_less(&ev->pend[k + 1], &ev->pend[k]))
			k++;
		if (!inst_less(&ev->pend[k], &ev->pend[i]))
			break;
		t = ev->pend[k];
		ev->pend[k] = ev->pend[i];
		ev->pend[i] = t;
		i = k;
	}
}

/* Ends source SR. */
static void
src_end(struct src *sr)
{
	sr->done = true;
	sr->have = false;
	rrule_iter_free(sr->it);
	sr->it = NULL;
}

/*
 * Starts enumerating rule RU of E as collect() does: sub-daily rules here,
 * the others through rrule.c from the day before LO when there is no COUNT.
 */
static void
src_start(const struct event *e, const struct rule *ru, int64_t lo,
    struct src *sr)
{
	const struct icalrecurrencetype *r = &ru->r;
	int64_t		 t0 = e->start.local, begin;
	bool		 keep = true;

	memset(sr, 0, sizeof(*sr));
	sr->ru = ru;
	switch (r->freq) {
	case ICAL_SECONDLY_RECURRENCE:
	case ICAL_MINUTELY_RECURRENCE:
	case ICAL_HOURLY_RECURRENCE:
		sr->step = r->freq == ICAL_SECONDLY_RECURRENCE ? 1 :
		    r->freq == ICAL_MINUTELY_RECURRENCE ? 60 : 3600;
		sr->step *= r->interval > 0 ? r->interval : 1;
		if (r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX)
			keep = !expand_by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, 2) &&
			    (expand_by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, 1) ||
			    expand_by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, -1));
		if (!keep) {
			sr->done = true;
			return;
		}
		begin = t0;
		if (r->count == 0 && lo > begin)
			begin = lo;
		sr->t = begin <= t0 ? t0 : t0 + (begin - t0 + sr->step - 1) /
		    sr->step * sr->step;
		return;
	default:
		break;
	}
	sr->it = rrule_iter_new(r, tval_from_local(e->start.local,
	    e->start.is_date));
	if (sr->it == NULL) {
		sr->done = true;
		return;
	}
	if (r->count == 0 && lo - TZ_DAY > e->start.local &&
	    rrule_iter_set_start(sr->it, tval_from_local(lo - TZ_DAY,
	    e->start.is_date)) == -1) {
		rrule_iter_free(sr->it);
		sr->it = rrule_iter_new(r, tval_from_local(e->start.local,
		    e->start.is_date));
		if (sr->it == NULL)
			sr->done = true;
	}
}

/* The next instance of sub-daily source SR of E up to HI, as subdaily(); as src_pull. */
static int
subdaily_pull(struct cal_calendar *c, const struct event *e, struct src *sr,
    int64_t lo, int64_t hi)
{
	const struct icalrecurrencetype *r = &sr->ru->r;
	int64_t		 t0 = e->start.local, day, sod, h, mi, se, cur;

#define ALIGN(v)	((v) <= t0 ? t0 : t0 + ((v) - t0 + sr->step - 1) / \
			    sr->step * sr->step)
	while (sr->t <= hi) {
		if (expand_tick(c) == -1)
			return -2;
		day = tz_day(sr->t);
		sod = sr->t - day * TZ_DAY;
		h = sod / 3600;
		mi = sod / 60 % 60;
		se = sod % 60;
		if (!expand_day_ok(r, day))
			sr->t = ALIGN((day + 1) * TZ_DAY);
		else if (!expand_by_ok(r->by_hour, ICAL_BY_HOUR_SIZE, (int)h))
			sr->t = ALIGN(day * TZ_DAY + (h + 1) * 3600);
		else if (!expand_by_ok(r->by_minute, ICAL_BY_MINUTE_SIZE, (int)mi))
			sr->t = ALIGN(day * TZ_DAY + h * 3600 + (mi + 1) * 60);
		else if (!expand_by_ok(r->by_second, ICAL_BY_SECOND_SIZE, (int)se))
			sr->t = ALIGN(sr->t + 1);
		else {
			if (expand_past_until(c, e, sr->ru, sr->t) ||
			    (r->count > 0 && sr->n >= r->count))
				break;
			sr->n++;
			cur = sr->t;
			sr->t += sr->step;
			/* DTSTART itself is the event's own first instance */
			if (cur > t0 && cur >= lo) {
				sr->ahead = cur;
				sr->have = true;
				return 0;
			}
		}
	}
#undef ALIGN
	src_end(sr);
	return 0;
}

/*
 * Reads the next instance of SR whose wall clock is in [LO, HI] into its
 * AHEAD, or ends it. 0, -2 when the calendar's budget is spent.
 */
static int
src_pull(struct cal_calendar *c, const struct event *e, struct src *sr,
    int64_t lo, int64_t hi)
{
	struct icaltimetype	 t;
	int64_t			 local;

	sr->have = false;
	if (sr->done)
		return 0;
	if (sr->it == NULL)
		return subdaily_pull(c, e, sr, lo, hi);
	for (;;) {
		if (expand_tick(c) == -1)
			return -2;
		t = rrule_iter_next(sr->it);
		if (icaltime_is_null_time(t))
			break;
		local = tval_ical_local(t);
		if (local > hi || expand_past_until(c, e, sr->ru, local))
			break;
		if (local < lo)
			continue;
		sr->ahead = local;
		sr->have = true;
		return 0;
	}
	src_end(sr);
	return 0;
}

/* Instance I of E's RDATEs, as collect() makes it (ORD not set). */
static void
rdate_inst(const struct cal_calendar *c, const struct event *e, size_t i,
    struct inst *in)
{
	int64_t	 local;

	memset(in, 0, sizeof(*in));
	in->v = e->rdates[i].v;
	if (e->start.is_date && !in->v.is_date) {
		/* a date-time RDATE in an all-day series: its date */
		in->v.local = tz_day(in->v.local) * TZ_DAY;
		in->v.is_date = true;
		in->v.zone = c->deflt;
	} else if (!e->start.is_date && in->v.is_date) {
		/* an all-day RDATE in a timed series: the series' time that day */
		local = in->v.local;
		in->v = e->start;
		in->v.local = local + (e->start.local -
		    tz_day(e->start.local) * TZ_DAY);
	} else if (!e->start.is_date) {
		in->has_len = e->rdates[i].has_len;
		in->len = e->rdates[i].len;
		in->len_days = e->rdates[i].len_days;
	}
	expand_key(c, &in->v, &in->kdate, &in->key);
}

/* Orders RDATEs by key, then place. */
static int
rdkey_cmp(const void *a, const void *b)
{
	const struct rdkey	*x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The lowest key source SR's next instance can have. */
static int64_t
src_bound(const struct event *e, const struct src *sr)
{
	return e->start.is_date ? tz_day(sr->ahead) : sr->ahead - MARGIN;
}

/*
 * The next instance of EV's master in key order, duplicates left out (the
 * first one found wins, as in collect()). 1, 0 at the end, -1 without
 * memory, -2 out of budget.
 */
static int
ev_instance(struct cal_stream *s, struct evit *ev, struct inst *out)
{
	struct cal_calendar	*c = s->c;
	struct event		*e = ev->e;
	struct inst		 in, dup;
	struct src		*best;
	int64_t			 lb, b;
	bool			 have_lb, rdate;
	size_t			 i;
	int			 rc;

	for (i = 0; i < ev->nsrc; i++)
		if (!ev->src[i].have && !ev->src[i].done &&
		    (rc = src_pull(c, e, &ev->src[i], s->lo, s->hi)) != 0)
			return rc;
	for (;;) {
		have_lb = rdate = false;
		lb = 0;
		best = NULL;
		for (i = 0; i < ev->nsrc; i++) {
			if (!ev->src[i].have)
				continue;
			b = src_bound(e, &ev->src[i]);
			if (!have_lb || b < lb) {
				lb = b;
				best = &ev->src[i];
				have_lb = true;
			}
		}
		if (ev->ird < ev->nrd && (!have_lb || ev->rd[ev->ird].key < lb)) {
			lb = ev->rd[ev->ird].key;
			have_lb = rdate = true;
		}
		if (ev->npend > 0 && (!have_lb || ev->pend[0].key < lb)) {
			pend_pop(ev, out);
			while (ev->npend > 0 && ev->pend[0].key == out->key)
				pend_pop(ev, &dup);
			return 1;
		}
		if (!have_lb)
			return 0;
		if (rdate) {
			rdate_inst(c, e, ev->rd[ev->ird].i, &in);
			in.ord = (ev->nsrc + 1) << SRC_SHIFT | ev->rd[ev->ird].i;
			ev->ird++;
		} else {
			memset(&in, 0, sizeof(in));
			in.v = e->start;
			in.v.local = best->ahead;
			in.ord = (size_t)(best - ev->src + 1) << SRC_SHIFT |
			    best->seq++;
			expand_key(c, &in.v, &in.kdate, &in.key);
			if ((rc = src_pull(c, e, best, s->lo, s->hi)) != 0)
				return rc;
		}
		if (pend_push(ev, &in) == -1)
			return -1;
	}
}

/* Orders iterators by UID (none: ""), for ranking. */
static int
uid_cmp(const void *a, const void *b)
{
	const struct evit	*x = *(struct evit *const *)a;
	const struct evit	*y = *(struct evit *const *)b;

	return strcmp(x->e->proto.uid ? x->e->proto.uid : "",
	    y->e->proto.uid ? y->e->proto.uid : "");
}

/* Ranks the UIDs of S's events, so that the heap compares numbers. */
static int
rank_uids(struct cal_stream *s)
{
	struct evit	**v;
	size_t		 i, r = 0;

	if (s->nev == 0)
		return 0;
	if ((v = calloc(s->nev, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < s->nev; i++)
		v[i] = &s->ev[i];
	qsort(v, s->nev, sizeof(*v), uid_cmp);
	for (i = 0; i < s->nev; i++) {
		if (i > 0 && uid_cmp(&v[i - 1], &v[i]) != 0)
			r++;
		v[i]->uid = r;
	}
	free(v);
	return 0;
}

/* The entries of sorted overrides OV (N) whose UID is UID: *FIRST, count returned. */
static size_t
uid_slice(const struct ovr *ov, size_t n, const char *uid,
    const struct ovr **first)
{
	size_t	 lo = 0, hi = n, mid, b;

	if (uid == NULL)
		uid = "";
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (strcmp(ov[mid].ev->proto.uid ? ov[mid].ev->proto.uid : "",
		    uid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	b = lo;
	hi = n;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (strcmp(ov[mid].ev->proto.uid ? ov[mid].ev->proto.uid : "",
		    uid) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = ov + b;
	return lo - b;
}

/*
 * Whether an override replaces instance IN of EV's master, as
 * expand_overridden() says, searching only the master's own overrides:
 * by identity, or by date for a RECURRENCE-ID of the other value type.
 */
static bool
ev_overridden(const struct evit *ev, const struct inst *in)
{
	size_t	 lo, hi, mid;
	int64_t	 day, d;
	bool	 isd = !ev->e->start.is_date;

	for (lo = 0, hi = ev->nov; lo < hi; ) {
		mid = (lo + hi) / 2;
		if (ev->ov[mid].kdate == in->kdate && ev->ov[mid].key == in->key)
			return true;
		if (ev->ov[mid].kdate != in->kdate ? ev->ov[mid].kdate :
		    ev->ov[mid].key < in->key)
			lo = mid + 1;
		else
			hi = mid;
	}
	day = tz_day(in->v.local);
	for (lo = 0, hi = ev->nbd; lo < hi; ) {
		mid = (lo + hi) / 2;
		d = tz_day(ev->bd[mid].ev->rid.local);
		if (ev->bd[mid].ev->rid.is_date == isd && d == day)
			return true;
		if (ev->bd[mid].ev->rid.is_date != isd ?
		    ev->bd[mid].ev->rid.is_date : d < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Moves EV to its next occurrence (its head). 1, 0 when it has no more,
 * -1 with the calendar's error.
 */
static int
ev_advance(struct cal_stream *s, struct evit *ev)
{
	struct cal_calendar	*c = s->c;
	struct inst		 in;
	int64_t			 t;
	int			 rc;

	if (ev->once)
		return 0;
	if (ev->e->has_rid) {
		/* an override: its one occurrence, planned by expand_plan() */
		char	 rid[32];

		tval_text(c, &ev->e->rid, rid, sizeof(rid));
		expand_times(c, ev->e, &ev->e->start, false, 0, 0, rid, &ev->occ);
		ev->once = true;
		return 1;
	}
	for (;;) {
		if ((rc = ev_instance(s, ev, &in)) == 0)
			break;
		if (rc == -1) {
			snprintf(c->error, sizeof(c->error), "%s: out of memory",
			    c->name);
			return -1;
		}
		if (rc == -2)
			return -1;
		if (expand_excluded(c, ev->e, &in))
			continue;
		t = tval_instant(c, &in.v);
		if (t < s->from || t >= s->to)
			continue;
		if (ev->recurring && ev_overridden(ev, &in))
			continue;
		expand_times(c, ev->e, &in.v, in.has_len, in.len, in.len_days,
		    ev->recurring ? ev->occ.start_str : NULL, &ev->occ);
		ev->given++;
		return 1;
	}
	if (ev->given != ev->e->nocc) {
		/* the plan counted these against the limits: they must agree */
		snprintf(c->error, sizeof(c->error), "%s: internal error: event "
		    "at line %d gave %zu occurrences, %zu planned", c->name,
		    ev->e->line, ev->given, ev->e->nocc);
		return -1;
	}
	return 0;
}

/* Sets up EV for master E; -1 without memory. */
static int
ev_start(struct cal_stream *s, struct evit *ev, struct event *e)
{
	struct cal_calendar	*c = s->c;
	struct inst		 in;
	size_t			 i;

	ev->e = e;
	ev->occ = e->proto;
	ev->recurring = e->nrules > 0 || e->nrdates > 0;
	ev->nov = uid_slice(s->plan.ovr, s->plan.novr, e->proto.uid, &ev->ov);
	ev->nbd = uid_slice(s->plan.byday, s->plan.nbyday, e->proto.uid,
	    &ev->bd);
	if (e->nrules > 0 &&
	    (ev->src = calloc(e->nrules, sizeof(*ev->src))) == NULL)
		return -1;
	ev->nsrc = e->nrules;
	if (e->nrdates > 0 &&
	    (ev->rd = calloc(e->nrdates, sizeof(*ev->rd))) == NULL)
		return -1;
	for (i = 0; i < e->nrdates; i++) {
		rdate_inst(c, e, i, &in);
		ev->rd[i].key = in.key;
		ev->rd[i].i = i;
	}
	ev->nrd = e->nrdates;
	if (ev->nrd > 1)
		qsort(ev->rd, ev->nrd, sizeof(*ev->rd), rdkey_cmp);
	/* DTSTART is the first instance, whatever the rules say */
	memset(&in, 0, sizeof(in));
	in.v = e->start;
	expand_key(c, &in.v, &in.kdate, &in.key);
	if (pend_push(ev, &in) == -1)
		return -1;
	for (i = 0; i < ev->nsrc; i++)
		src_start(e, &e->rules[i], s->lo, &ev->src[i]);
	return 0;
}

/* Frees what EV holds. */
static void
ev_free(struct evit *ev)
{
	size_t	 i;

	for (i = 0; i < ev->nsrc; i++)
		rrule_iter_free(ev->src[i].it);
	free(ev->src);
	free(ev->rd);
	free(ev->pend);
}

/* Frees what EV holds once it has nothing more to give. */
static void
ev_done(struct evit *ev)
{
	ev_free(ev);
	ev->src = NULL;
	ev->nsrc = 0;
	ev->rd = NULL;
	ev->pend = NULL;
	ev->npend = ev->cappend = 0;
}

struct cal_stream *
cal_stream_new(struct cal_calendar *c, time_t from, time_t to)
{
	struct cal_stream	*s;
	struct evit		*ev;
	size_t			 i, n = 0;
	int			 rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(c->error, sizeof(c->error), "%s: out of memory", c->name);
		return NULL;
	}
	s->c = c;
	s->from = from;
	s->to = to;
	s->lo = (int64_t)from - 2 * TZ_DAY;
	s->hi = (int64_t)to + 2 * TZ_DAY;
	if (expand_plan(c, from, to, &s->plan) == -1) {
		free(s);
		return NULL;
	}
	for (i = 0; i < c->nevents; i++)
		if (!c->events[i].has_rid && !c->events[i].bad)
			n++;
	n += s->plan.nemit;
	if (n > 0 && ((s->ev = calloc(n, sizeof(*s->ev))) == NULL ||
	    (s->heap = calloc(n, sizeof(*s->heap))) == NULL))
		goto nomem;
	/* masters in the order of the file, then overrides: as emitted before */
	for (i = 0; i < c->nevents; i++) {
		if (c->events[i].has_rid || c->events[i].bad)
			continue;
		ev = &s->ev[s->nev];
		ev->rank = s->nev++;
		if (ev_start(s, ev, &c->events[i]) == -1)
			goto nomem;
	}
	for (i = 0; i < s->plan.nemit; i++) {
		ev = &s->ev[s->nev];
		ev->rank = s->nev++;
		ev->e = s->plan.emit[i];
		ev->occ = ev->e->proto;
	}
	if (rank_uids(s) == -1)
		goto nomem;
	for (i = 0; i < s->nev; i++) {
		if ((rc = ev_advance(s, &s->ev[i])) == -1)
			goto fail;
		if (rc == 1)
			s->heap[s->nheap++] = slot_of(&s->ev[i]);
		else
			ev_done(&s->ev[i]);
	}
	for (i = s->nheap / 2; i-- > 0; )
		sift_down(s, i);
	return s;
nomem:
	snprintf(c->error, sizeof(c->error), "%s: out of memory", c->name);
fail:
	cal_stream_free(s);
	return NULL;
}

int
cal_stream_next(struct cal_stream *s, const struct cal_occurrence **occ,
    size_t *event)
{
	struct evit	*ev;
	int		 rc;

	if (s->popped && s->nheap > 0) {
		ev = s->heap[0].ev;
		if ((rc = ev_advance(s, ev)) == -1)
			return -1;
		if (rc == 0) {
			ev_done(ev);
			s->heap[0] = s->heap[--s->nheap];
		} else
			s->heap[0] = slot_of(ev);
		if (s->nheap > 0)
			sift_down(s, 0);
	}
	s->popped = false;
	if (s->nheap == 0)
		return 0;
	ev = s->heap[0].ev;
	s->popped = true;
	*occ = &ev->occ;
	if (event != NULL)
		*event = (size_t)(ev->e - s->c->events);
	return 1;
}

void
cal_stream_free(struct cal_stream *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nev; i++)
		ev_free(&s->ev[i]);
	free(s->ev);
	free(s->heap);
	expand_plan_free(&s->plan);
	free(s);
}

/*
 * Not safe to call on one calendar from two threads at once: zones read
 * from a VTIMEZONE fill libical's cache of changes lazily. Events refused
 * while expanding (too dense, too many) become problems of C and are left
 * out; a spent time budget fails the whole expansion (cal_error says so).
 */
ssize_t
cal_expand(struct cal_calendar *c, time_t from, time_t to,
    struct cal_occurrence **out)
{
	struct cal_stream		*s;
	const struct cal_occurrence	*o;
	struct cal_occurrence		*v = NULL, *nv;
	size_t				 n = 0, cap = 0;
	int				 rc;

	*out = NULL;
	if ((s = cal_stream_new(c, from, to)) == NULL)
		return -1;
	while ((rc = cal_stream_next(s, &o, NULL)) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*nv))) == NULL)
				goto nomem;
			v = nv;
		}
		if (occurrence_copy(&v[n], o) == -1)
			goto nomem;
		n++;
	}
	cal_stream_free(s);
	if (rc == -1) {
		cal_occurrences_free(v, n);
		return -1;
	}
	*out = v;
	return (ssize_t)n;
nomem:
	snprintf(c->error, sizeof(c->error), "%s: out of memory", c->name);
	cal_stream_free(s);
	cal_occurrences_free(v, n);
	return -1;
}
