/* Expanding a calendar into occurrences in a window, under limits and a budget (SPEC §4). */
#include <config.h>

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar-int.h"
#include "rrule.h"

#define MAX_KEEP	100000		/* instances of one event kept per expansion */
#define TICK_EVERY	1024		/* steps between looks at the clock */

static atomic_int	 cal_stopping;	/* cal_interrupt() was called */

/* Identity of an instance: its date, or its instant. */
void
expand_key(const struct cal_calendar *c, const struct tval *v, bool *kdate,
    int64_t *key)
{
	*kdate = v->is_date;
	*key = v->is_date ? tz_day(v->local) : tval_instant(c, v);
}

/* Orders instances by identity, then by the order they were found. */
int
expand_inst_cmp(const void *a, const void *b)
{
	const struct inst	*x = a, *y = b;

	if (x->kdate != y->kdate)
		return x->kdate ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* Bytes occurrence O holds: itself and its strings. */
static size_t
occ_bytes(const struct cal_occurrence *o)
{
	const char	*f[] = { o->uid, o->summary, o->description, o->url,
			    o->location, o->channels, o->template };
	size_t		 n = sizeof(*o), i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		n += f[i] != NULL ? strlen(f[i]) + 1 : 0;
	for (i = 0; i < o->ncategories; i++)
		n += strlen(o->categories[i]) + 1 + sizeof(char *);
	for (i = 0; i < o->nvars; i++)
		n += strlen(o->vars[i].name) + strlen(o->vars[i].value) + 2 +
		    sizeof(o->vars[i]);
	for (i = 0; i < o->nattach; i++)
		n += strlen(o->attach[i].uri) + (o->attach[i].alt ?
		    strlen(o->attach[i].alt) : 0) + (o->attach[i].fmttype ?
		    strlen(o->attach[i].fmttype) : 0) + 3 + sizeof(o->attach[i]);
	return n;
}

/* Counts one more occurrence of E against C's byte limit; -2 past it. */
static int
count(struct cal_calendar *c, const struct event *e)
{
	/* Many events with long texts, each repeating: bounded all the same. */
	c->out_bytes += occ_bytes(&e->proto);
	if (c->out_bytes > (c->limits.max_bytes ? c->limits.max_bytes :
	    (size_t)CAL_MAX_OUT)) {
		snprintf(c->error, sizeof(c->error), "%s: its occurrences in the "
		    "window would take more than %zu MiB; this version is not used",
		    c->name, (c->limits.max_bytes ? c->limits.max_bytes :
		    (size_t)CAL_MAX_OUT) >> 20);
		return -2;
	}
	return 0;
}

/* Sets the times of occurrence O of event E starting at V (and its recurrence id RID). */
void
expand_times(const struct cal_calendar *c, const struct event *e,
    const struct tval *v, bool has_len, int64_t len, int64_t len_days,
    const char *rid, struct cal_occurrence *o)
{
	int64_t	 el;

	tval_text(c, v, o->start_str, sizeof(o->start_str));
	if (rid == NULL)
		o->recurrence_id[0] = '\0';
	else if (rid != o->start_str)
		snprintf(o->recurrence_id, sizeof(o->recurrence_id), "%s", rid);
	else
		memcpy(o->recurrence_id, o->start_str, sizeof(o->recurrence_id));
	o->start = (time_t)tval_instant(c, v);
	o->all_day = v->is_date;
	if (v->is_date) {
		el = v->local + e->days * TZ_DAY;
		tval_fmt_date(el, o->end_str, sizeof(o->end_str));
		o->end = (time_t)tz_local_to_utc(c->deflt, el);
	} else {
		/* RFC 5545 3.3.6: days and weeks keep the wall clock, the rest is exact */
		if (!has_len)
			len_days = e->len_days;
		o->end = (time_t)(len_days == 0 ? o->start :
		    tz_local_to_utc(v->zone, v->local + len_days * TZ_DAY)) +
		    (time_t)(has_len ? len : e->len);
		tval_fmt_instant((int64_t)o->end, o->end_str, sizeof(o->end_str));
	}
}

/* Whether the instance at wall clock LOCAL is past the UNTIL of rule R (RFC 5545, leniently). */
bool
expand_past_until(const struct cal_calendar *c, const struct event *e,
    const struct rule *r, int64_t local)
{
	struct tval	 v = e->start;

	if (!r->has_until)
		return false;
	if (r->until.utc && !e->start.is_date && !e->start.floating) {
		v.local = local;
		return tval_instant(c, &v) > r->until.local;
	}
	/* a DATE on one side: compare dates; else wall clock against wall clock */
	if (r->until.is_date || e->start.is_date)
		return tz_day(local) > tz_day(r->until.local);
	return local > r->until.local;
}

/* Orders keys, for qsort and bsearch. */
static int
key_cmp(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sorts E's EXDATEs for expand_excluded(): the keys of those of DTSTART's
 * value type, the days of the others. -1 without memory.
 */
static int
exdates_index(const struct cal_calendar *c, struct event *e)
{
	bool	 kd;
	int64_t	 k;
	size_t	 i;

	if (e->exkeys != NULL || e->exdays != NULL || e->nexdates == 0)
		return 0;
	for (i = 0; i < e->nexdates; i++) {
		if (e->exdates[i].is_date == e->start.is_date) {
			expand_key(c, &e->exdates[i], &kd, &k);
			if (ics_push(&e->exkeys, &e->nexkeys, &k, sizeof(k)) == -1)
				return -1;
		} else {
			k = tz_day(e->exdates[i].local);
			if (ics_push(&e->exdays, &e->nexdays, &k, sizeof(k)) == -1)
				return -1;
		}
	}
	if (e->nexkeys > 1)
		qsort(e->exkeys, e->nexkeys, sizeof(*e->exkeys), key_cmp);
	if (e->nexdays > 1)
		qsort(e->exdays, e->nexdays, sizeof(*e->exdays), key_cmp);
	return 0;
}

/*
 * Whether instance IN of E is removed by an EXDATE: one of its value type
 * with its identity, or one of the other type on its date (binary searches
 * in what exdates_index() sorted).
 */
bool
expand_excluded(const struct cal_calendar *c, const struct event *e, const struct inst *in)
{
	bool	 kd;
	int64_t	 k;
	size_t	 i;

	if (in->kdate != e->start.is_date) {
		/* not an instance of E's own type: as written, one by one */
		for (i = 0; i < e->nexdates; i++) {
			expand_key(c, &e->exdates[i], &kd, &k);
			if (kd == in->kdate && k == in->key)
				return true;
			if (e->exdates[i].is_date != e->start.is_date &&
			    tz_day(e->exdates[i].local) == tz_day(in->v.local))
				return true;
		}
		return false;
	}
	if (e->nexkeys > 0 && bsearch(&in->key, e->exkeys, e->nexkeys,
	    sizeof(*e->exkeys), key_cmp) != NULL)
		return true;
	/* a DATE against DATE-TIMEs (or the reverse) matches by date */
	k = tz_day(in->v.local);
	return e->nexdays > 0 && bsearch(&k, e->exdays, e->nexdays,
	    sizeof(*e->exdays), key_cmp) != NULL;
}

/* Milliseconds on the monotonic clock. */
static int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Counts one step of expanding C; every TICK_EVERY steps looks at the
 * clock and at cal_interrupt(). -1 with C's error when the calendar's
 * time budget is spent or crierd is stopping.
 */
int
expand_tick(struct cal_calendar *c)
{
	if (++c->ticks % TICK_EVERY != 0)
		return 0;
	if (atomic_load(&cal_stopping)) {
		snprintf(c->error, sizeof(c->error), "%s: interrupted (crierd is "
		    "stopping)", c->name);
		return -1;
	}
	if (mono_ms() > c->deadline) {
		snprintf(c->error, sizeof(c->error), "%s: expanding the calendar "
		    "took longer than its budget of %lld s; this version is not "
		    "used", c->name, (long long)((c->limits.budget_ms > 0 ?
		    c->limits.budget_ms : CAL_BUDGET_MS) / 1000));
		return -1;
	}
	return 0;
}

/* Writes SECS as a person reads a duration: "1s", "15m", "2h30m", "1d". */
static void
fmt_dur(int64_t secs, char *buf, size_t len)
{
	static const struct { int64_t n; char u; } units[] = {
		{ TZ_DAY, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t	 i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < 4 && o < len; i++)
		if (secs >= units[i].n || (o == 0 && i == 3)) {
			o += (size_t)snprintf(buf + o, len - o, "%lld%c",
			    (long long)(secs / units[i].n), units[i].u);
			secs %= units[i].n;
		}
}

/* How expanding one master goes: what it has found and counted so far. */
struct xmaster {
	struct cal_calendar	*c;
	struct event		*e;
	int64_t			 lo, hi;	/* wall clock collected */
	int64_t			 from, to;	/* instants counted */
	struct inst		*in;
	size_t			 n;
	size_t			 inwin;		/* instances in [from, to) */
	size_t			 steps;		/* of the rule being enumerated */
	bool			 have_prev;
	int64_t			 prev;		/* wall clock of the rule's last instance */
};

/* The event's name for messages: "event "UID"" or "event without UID". */
static void
ev_name(const struct event *e, char *buf, size_t len)
{
	if (e->proto.uid != NULL)
		snprintf(buf, len, "event \"%s\"", e->proto.uid);
	else
		snprintf(buf, len, "event without UID");
}

/* Refuses X's master with a problem; 1, or -1 without memory. */
static int
refuse(struct xmaster *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
refuse(struct xmaster *x, const char *fmt, ...)
{
	char	 name[300], msg[600];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev_name(x->e, name, sizeof(name));
	x->e->bad = true;
	if (ics_problem(x->c, x->e->line, x->e->proto.uid, "%s: %s; event left out",
	    name, msg) == -1)
		return -1;
	return 1;
}

/*
 * Takes the instance of rule R at wall clock LOCAL: checks its distance
 * from the rule's previous one against min_interval, keeps it when in
 * [lo, hi] and counts it against max_occurrences when in [from, to).
 * 0, 1 when the event is refused, -1 without memory, -2 out of budget.
 */
static int
take(struct xmaster *x, int64_t local)
{
	struct cal_calendar	*c = x->c;
	struct inst		 in;
	char			 d[40], m[40];

	if (expand_tick(c) == -1)
		return -2;
	if (x->have_prev && c->limits.min_interval > 0 && local != x->prev &&
	    llabs(local - x->prev) < c->limits.min_interval) {
		fmt_dur(llabs(local - x->prev), d, sizeof(d));
		fmt_dur(c->limits.min_interval, m, sizeof(m));
		return refuse(x, "its RRULE puts posts %s apart, closer than "
		    "min_interval (%s)", d, m);
	}
	x->have_prev = true;
	x->prev = local;
	if (local < x->lo || local > x->hi)
		return 0;
	memset(&in, 0, sizeof(in));
	in.v = x->e->start;
	in.v.local = local;
	in.ord = x->n;
	expand_key(c, &in.v, &in.kdate, &in.key);
	if (ics_push(&x->in, &x->n, &in, sizeof(in)) == -1)
		return -1;
	if (c->limits.max_occurrences > 0 && tval_instant(c, &in.v) >= x->from &&
	    tval_instant(c, &in.v) < x->to && !expand_excluded(c, x->e, &in) &&
	    ++x->inwin > c->limits.max_occurrences)
		return refuse(x, "more than max_occurrences (%zu) posts in the "
		    "window", c->limits.max_occurrences);
	if (x->n > MAX_KEEP)
		return refuse(x, "more than %d instances to consider", MAX_KEEP);
	return 0;
}

/* Whether V is in BY-list L (ended by ICAL_RECURRENCE_ARRAY_MAX), or L is empty. */
bool
expand_by_ok(const short *l, size_t size, int v)
{
	size_t	 i;

	if (l[0] == ICAL_RECURRENCE_ARRAY_MAX)
		return true;
	for (i = 0; i < size && l[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (l[i] == v)
			return true;
	return false;
}

/* Whether day TZ_DAY (days since 1970) passes the day-level parts of rule R. */
bool
expand_day_ok(const struct icalrecurrencetype *r, int64_t day)
{
	int	 y, m, d, mdays, ydays, yday, wd;
	size_t	 i;
	bool	 ok;

	rrule_civil_date(day, &y, &m, &d);
	mdays = (int)(rrule_civil_days(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
	    rrule_civil_days(y, m, 1));
	ydays = (int)(rrule_civil_days(y + 1, 1, 1) - rrule_civil_days(y, 1, 1));
	yday = (int)(day - rrule_civil_days(y, 1, 1)) + 1;
	wd = (int)(((day % 7) + 11) % 7) + 1;	/* 1 = Sunday, as libical */
	if (r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX) {
		for (ok = false, i = 0; i < ICAL_BY_MONTH_SIZE &&
		    r->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			ok |= icalrecurrencetype_month_month(r->by_month[i]) == m;
		if (!ok)
			return false;
	}
	if (r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
		for (ok = false, i = 0; i < ICAL_BY_MONTHDAY_SIZE &&
		    r->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			ok |= r->by_month_day[i] > 0 ? r->by_month_day[i] == d :
			    mdays + r->by_month_day[i] + 1 == d;
		if (!ok)
			return false;
	}
	if (r->by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
		for (ok = false, i = 0; i < ICAL_BY_YEARDAY_SIZE &&
		    r->by_year_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			ok |= r->by_year_day[i] > 0 ? r->by_year_day[i] == yday :
			    ydays + r->by_year_day[i] + 1 == yday;
		if (!ok)
			return false;
	}
	if (r->by_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
		for (ok = false, i = 0; i < ICAL_BY_DAY_SIZE &&
		    r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			ok |= (int)icalrecurrencetype_day_day_of_week(r->by_day[i]) ==
			    wd;
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Enumerates sub-daily rule RU (SECONDLY, MINUTELY, HOURLY) of X's master
 * here rather than with libical, whose iterator tries every second until
 * 2037 when such a rule never matches (minutes of CPU for one call). Days
 * and hours that cannot match are skipped whole, so the work follows the
 * matches, and every match goes through take(). Returns as take().
 */
static int
subdaily(struct xmaster *x, const struct rule *ru)
{
	const struct icalrecurrencetype *r = &ru->r;
	int64_t		 t0 = x->e->start.local, step, t, day, sod, begin;
	int64_t		 h, mi, se, count = 0;
	size_t		 i;
	int		 rc;
	bool		 keep = true;

	step = r->freq == ICAL_SECONDLY_RECURRENCE ? 1 :
	    r->freq == ICAL_MINUTELY_RECURRENCE ? 60 : 3600;
	step *= r->interval > 0 ? r->interval : 1;
	if (r->by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX)
		return refuse(x, "BYWEEKNO goes with FREQ=YEARLY only");
	for (i = 0; i < ICAL_BY_DAY_SIZE &&
	    r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (icalrecurrencetype_day_position(r->by_day[i]) != 0)
			return refuse(x, "a numbered BYDAY goes with FREQ=MONTHLY "
			    "or YEARLY only");
	/* Each interval holds one candidate: BYSETPOS keeps it or not. */
	if (r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX)
		keep = !expand_by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, 2) &&
		    (expand_by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, 1) ||
		    expand_by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, -1));
	if (!keep)
		return 0;
	/* COUNT counts matches from DTSTART on, as libical does */
	x->have_prev = true;
	x->prev = t0;
	begin = t0;
	if (r->count == 0 && x->lo > begin) {
		begin = x->lo;
		x->have_prev = false;
	}
#define ALIGN(v)	((v) <= t0 ? t0 : t0 + ((v) - t0 + step - 1) / step * step)
	for (t = ALIGN(begin); t <= x->hi; ) {
		if (++x->steps > CAL_MAX_STEPS)
			return refuse(x, "its RRULE takes more than %d steps",
			    CAL_MAX_STEPS);
		if (expand_tick(x->c) == -1)
			return -2;
		day = tz_day(t);
		sod = t - day * TZ_DAY;
		h = sod / 3600;
		mi = sod / 60 % 60;
		se = sod % 60;
		if (!expand_day_ok(r, day))
			t = ALIGN((day + 1) * TZ_DAY);
		else if (!expand_by_ok(r->by_hour, ICAL_BY_HOUR_SIZE, (int)h))
			t = ALIGN(day * TZ_DAY + (h + 1) * 3600);
		else if (!expand_by_ok(r->by_minute, ICAL_BY_MINUTE_SIZE, (int)mi))
			t = ALIGN(day * TZ_DAY + h * 3600 + (mi + 1) * 60);
		else if (!expand_by_ok(r->by_second, ICAL_BY_SECOND_SIZE, (int)se))
			t = ALIGN(t + 1);
		else {
			if (expand_past_until(x->c, x->e, ru, t) ||
			    (r->count > 0 && count >= r->count))
				break;
			count++;
			/* DTSTART itself is already taken by collect() */
			if (t > t0 && (rc = take(x, t)) != 0)
				return rc;
			t += step;
		}
	}
#undef ALIGN
	return 0;
}

/* Whether rule R can never match: no month it names has a day BYMONTHDAY names. */
static bool
rule_impossible(const struct icalrecurrencetype *r)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };
	size_t	 i, j;
	int	 m, d;
	bool	 named;

	if (r->by_month_day[0] == ICAL_RECURRENCE_ARRAY_MAX)
		return false;
	for (m = 1; m <= 12; m++) {
		named = r->by_month[0] == ICAL_RECURRENCE_ARRAY_MAX;
		for (j = 0; !named && j < ICAL_BY_MONTH_SIZE &&
		    r->by_month[j] != ICAL_RECURRENCE_ARRAY_MAX; j++)
			named = icalrecurrencetype_month_month(r->by_month[j]) == m;
		if (!named)
			continue;
		for (i = 0; i < ICAL_BY_MONTHDAY_SIZE &&
		    r->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
			d = r->by_month_day[i];
			if ((d > 0 ? d : -d) <= mdays[m - 1])
				return false;
		}
	}
	return true;
}

/*
 * Collects the instances of X's master whose wall clock lies in [lo, hi]
 * into X. Returns 0, 1 when the event is refused (a problem recorded), -1
 * without memory, -2 when the calendar's budget is spent.
 */
static int
collect(struct xmaster *x)
{
	struct cal_calendar	*c = x->c;
	struct event		*e = x->e;
	struct inst		 in;
	struct rrule_iter	*it;
	struct icaltimetype	 t;
	size_t			 i;
	int64_t			 local;
	int			 rc;

	memset(&in, 0, sizeof(in));
	in.v = e->start;
	expand_key(c, &in.v, &in.kdate, &in.key);
	if (ics_push(&x->in, &x->n, &in, sizeof(in)) == -1)
		return -1;
	if (c->limits.max_occurrences > 0 &&
	    (e->nrdates > c->limits.max_occurrences ||
	    e->nrdate_values > c->limits.max_occurrences))
		return refuse(x, "%zu RDATEs, more than max_occurrences (%zu)",
		    e->nrdates > e->nrdate_values ? e->nrdates : e->nrdate_values,
		    c->limits.max_occurrences);
	for (i = 0; i < e->nrules; i++) {
		x->steps = 0;
		x->have_prev = false;
		if (rule_impossible(&e->rules[i].r))
			return refuse(x, "its RRULE can never match (no month it "
			    "names has the days its BYMONTHDAY names)");
		switch (e->rules[i].r.freq) {
		case ICAL_SECONDLY_RECURRENCE:
		case ICAL_MINUTELY_RECURRENCE:
		case ICAL_HOURLY_RECURRENCE:
			if (e->start.is_date)
				return refuse(x, "an all-day event cannot repeat "
				    "more often than daily");
			if ((rc = subdaily(x, &e->rules[i])) != 0)
				return rc;
			continue;
		default:
			break;
		}
		it = rrule_iter_new(&e->rules[i].r,
		    tval_from_local(e->start.local, e->start.is_date));
		if (it == NULL)
			continue;
		/*
		 * Without COUNT nothing before the window matters: start there
		 * (a day early, for the spacing check) rather than walk years.
		 */
		if (e->rules[i].r.count == 0 && x->lo - TZ_DAY > e->start.local &&
		    rrule_iter_set_start(it, tval_from_local(x->lo - TZ_DAY,
		    e->start.is_date)) == -1) {
			rrule_iter_free(it);
			it = rrule_iter_new(&e->rules[i].r,
			    tval_from_local(e->start.local, e->start.is_date));
			if (it == NULL)
				continue;
		}
		for (rc = 0;;) {
			if (++x->steps > CAL_MAX_STEPS) {
				rc = refuse(x, "its RRULE takes more than %d steps",
				    CAL_MAX_STEPS);
				break;
			}
			t = rrule_iter_next(it);
			if (icaltime_is_null_time(t))
				break;
			local = tval_ical_local(t);
			if (local > x->hi || expand_past_until(c, e, &e->rules[i], local))
				break;
			if ((rc = take(x, local)) != 0)
				break;
		}
		rrule_iter_free(it);
		if (rc != 0)
			return rc;
	}
	for (i = 0; i < e->nrdates; i++) {
		memset(&in, 0, sizeof(in));
		in.v = e->rdates[i].v;
		if (e->start.is_date && !in.v.is_date) {
			/* a date-time RDATE in an all-day series: its date */
			in.v.local = tz_day(in.v.local) * TZ_DAY;
			in.v.is_date = true;
			in.v.zone = c->deflt;
		} else if (!e->start.is_date && in.v.is_date) {
			/* an all-day RDATE in a timed series: the series' time that day */
			local = in.v.local;
			in.v = e->start;
			in.v.local = local + (e->start.local -
			    tz_day(e->start.local) * TZ_DAY);
		} else if (!e->start.is_date) {
			in.has_len = e->rdates[i].has_len;
			in.len = e->rdates[i].len;
			in.len_days = e->rdates[i].len_days;
		}
		in.ord = x->n;
		expand_key(c, &in.v, &in.kdate, &in.key);
		if (ics_push(&x->in, &x->n, &in, sizeof(in)) == -1)
			return -1;
	}
	return 0;
}

/* Orders overrides by UID, identity, then SEQUENCE and place in the file. */
static int
ovr_cmp(const void *a, const void *b)
{
	const struct ovr	*x = a, *y = b;
	int			 r;

	if ((r = strcmp(x->ev->proto.uid ? x->ev->proto.uid : "",
	    y->ev->proto.uid ? y->ev->proto.uid : "")) != 0)
		return r;
	if (x->kdate != y->kdate)
		return x->kdate ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->ev->seq != y->ev->seq)
		return x->ev->seq < y->ev->seq ? -1 : 1;
	return x->ev < y->ev ? -1 : x->ev > y->ev;
}

/* Orders overrides by UID, value type and date, for matching across types. */
static int
ovr_day_cmp(const void *a, const void *b)
{
	const struct ovr	*x = a, *y = b;
	int64_t			 dx = tz_day(x->ev->rid.local);
	int64_t			 dy = tz_day(y->ev->rid.local);
	int			 r;

	if ((r = strcmp(x->ev->proto.uid ? x->ev->proto.uid : "",
	    y->ev->proto.uid ? y->ev->proto.uid : "")) != 0)
		return r;
	if (x->ev->rid.is_date != y->ev->rid.is_date)
		return x->ev->rid.is_date ? -1 : 1;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return 0;
}

/* Whether an override replaces instance IN of master E (binary searches). */
bool
expand_overridden(const struct event *e, const struct inst *in, const struct ovr *ov,
    size_t nov, const struct ovr *byday, size_t nbyday)
{
	struct event	 kev;
	struct ovr	 k;

	memset(&kev, 0, sizeof(kev));
	kev.proto.uid = e->proto.uid;
	kev.seq = INT_MIN;
	k.ev = &kev;
	k.kdate = in->kdate;
	k.key = in->key;
	/* ov holds one entry per identity: compare without SEQUENCE */
	{
		size_t lo = 0, hi = nov;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int r = strcmp(ov[mid].ev->proto.uid ? ov[mid].ev->proto.uid :
			    "", e->proto.uid ? e->proto.uid : "");

			if (r == 0 && ov[mid].kdate != k.kdate)
				r = ov[mid].kdate ? -1 : 1;
			if (r == 0 && ov[mid].key != k.key)
				r = ov[mid].key < k.key ? -1 : 1;
			if (r == 0)
				return true;
			if (r < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	/* a RECURRENCE-ID of the other value type (Outlook, Google): by date */
	kev.rid.is_date = !e->start.is_date;
	kev.rid.local = tz_day(in->v.local) * TZ_DAY;
	return nbyday > 0 && bsearch(&k, byday, nbyday, sizeof(*byday),
	    ovr_day_cmp) != NULL;
}

/*
 * Checks master E against the limits as if expanding it (collect()) and
 * counts the occurrences it will have, leaving out what overrides replace,
 * against the calendar's byte limit; holds only E's instances meanwhile.
 * 0 (also when E is refused: E->bad), -1 without memory, -2 out of budget.
 */
static int
validate_master(struct cal_calendar *c, struct event *e, int64_t from,
    int64_t to, const struct expand_plan *p)
{
	struct xmaster	 x;
	size_t		 i;
	bool		 recurring;
	int64_t		 t;
	int		 rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.e = e;
	x.lo = from - 2 * TZ_DAY;
	x.hi = to + 2 * TZ_DAY;
	x.from = from;
	x.to = to;
	e->nocc = 0;
	recurring = e->nrules > 0 || e->nrdates > 0;
	if ((rc = collect(&x)) != 0)
		goto out;
	qsort(x.in, x.n, sizeof(*x.in), expand_inst_cmp);
	for (i = 0; i < x.n; i++) {
		if (i > 0 && x.in[i].kdate == x.in[i - 1].kdate &&
		    x.in[i].key == x.in[i - 1].key)
			continue;
		if (expand_excluded(c, e, &x.in[i]))
			continue;
		t = tval_instant(c, &x.in[i].v);
		if (t < from || t >= to)
			continue;
		if (recurring && expand_overridden(e, &x.in[i], p->ovr, p->novr,
		    p->byday, p->nbyday))
			continue;
		if ((rc = count(c, e)) != 0)
			goto out;
		e->nocc++;
	}
out:
	free(x.in);
	return rc == 1 ? 0 : rc;
}

/* Whether UID is among the sorted UIDs of masters left out (BAD, N). */
static bool
master_bad(const char *const *bad, size_t n, const char *uid)
{
	size_t	 lo = 0, hi = n, mid;
	int	 r;

	while (uid != NULL && lo < hi) {
		mid = (lo + hi) / 2;
		if ((r = strcmp(bad[mid], uid)) == 0)
			return true;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Orders strings, for qsort. */
static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
cal_set_limits(struct cal_calendar *c, const struct cal_limits *l)
{
	c->limits = *l;
}

const char *
cal_error(const struct cal_calendar *c)
{
	return c->error[0] != '\0' ? c->error : NULL;
}

void
cal_interrupt(void)
{
	atomic_store(&cal_stopping, 1);
}

/*
 * Plans the expansion of C in [FROM, TO) into P: the overrides, and every
 * master checked against C's limits (refused ones become problems and are
 * left out) and counted against its byte limit, so that nothing streamed
 * later has to be taken back. 0, or -1 with C's error.
 */
int
expand_plan(struct cal_calendar *c, int64_t from, int64_t to,
    struct expand_plan *p)
{
	struct ovr		 o;
	struct event		*e;
	const char		**bad = NULL;
	size_t			 nbad = 0, i, k;
	int64_t			 t;
	int			 rc;

	memset(p, 0, sizeof(*p));
	c->error[0] = '\0';
	c->ticks = 0;
	c->out_bytes = 0;
	c->deadline = mono_ms() + (c->limits.budget_ms > 0 ?
	    c->limits.budget_ms : CAL_BUDGET_MS);
	if (atomic_load(&cal_stopping)) {
		snprintf(c->error, sizeof(c->error), "%s: interrupted (crierd is "
		    "stopping)", c->name);
		return -1;
	}
	/* one override per (uid, instance): the highest SEQUENCE, then the last */
	for (i = 0; i < c->nevents; i++) {
		e = &c->events[i];
		if (!e->has_rid || e->bad)
			continue;
		o.ev = e;
		expand_key(c, &e->rid, &o.kdate, &o.key);
		if (ics_push(&p->ovr, &p->novr, &o, sizeof(o)) == -1)
			goto fail;
	}
	if (p->novr > 1)
		qsort(p->ovr, p->novr, sizeof(*p->ovr), ovr_cmp);
	for (i = k = 0; i < p->novr; i++) {
		if (i + 1 < p->novr && ovr_cmp(&p->ovr[i], &p->ovr[i + 1]) != 0 &&
		    strcmp(p->ovr[i].ev->proto.uid ? p->ovr[i].ev->proto.uid : "",
		    p->ovr[i + 1].ev->proto.uid ? p->ovr[i + 1].ev->proto.uid :
		    "") == 0 && p->ovr[i].kdate == p->ovr[i + 1].kdate &&
		    p->ovr[i].key == p->ovr[i + 1].key)
			continue;	/* a later one of the same identity wins */
		p->ovr[k++] = p->ovr[i];
	}
	p->novr = k;
	if (p->novr > 0) {
		if ((p->byday = calloc(p->novr, sizeof(*p->byday))) == NULL)
			goto fail;
		memcpy(p->byday, p->ovr, p->novr * sizeof(*p->byday));
		p->nbyday = p->novr;
		qsort(p->byday, p->nbyday, sizeof(*p->byday), ovr_day_cmp);
	}
	for (i = 0; i < c->nevents; i++) {
		e = &c->events[i];
		if (e->has_rid || e->bad)
			continue;
		if (exdates_index(c, e) == -1)
			goto fail;
		rc = validate_master(c, e, from, to, p);
		if (rc == -2)
			goto failed;
		if (rc == -1)
			goto fail;
	}
	for (i = 0; i < c->nevents; i++)
		if (c->events[i].bad && !c->events[i].has_rid &&
		    c->events[i].proto.uid != NULL &&
		    ics_push(&bad, &nbad, &c->events[i].proto.uid, sizeof(*bad)) == -1)
			goto fail;
	if (nbad > 1)
		qsort(bad, nbad, sizeof(*bad), str_cmp);
	/* the overrides that will be occurrences, in the order they count */
	for (i = 0; i < p->novr; i++) {
		e = (struct event *)(uintptr_t)p->ovr[i].ev;
		if (master_bad(bad, nbad, e->proto.uid))
			continue;
		t = tval_instant(c, &e->start);
		if (t < from || t >= to)
			continue;
		if ((rc = count(c, e)) == -2)
			goto failed;
		if (ics_push(&p->emit, &p->nemit, &e, sizeof(e)) == -1)
			goto fail;
	}
	free(bad);
	return 0;
fail:
	snprintf(c->error, sizeof(c->error), "%s: out of memory", c->name);
failed:
	free(bad);
	expand_plan_free(p);
	return -1;
}

/* Frees what plan P holds. */
void
expand_plan_free(struct expand_plan *p)
{
	free(p->ovr);
	free(p->byday);
	free(p->emit);
	memset(p, 0, sizeof(*p));
}
