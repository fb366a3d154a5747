/* Recurrence rules checked against RFC 5545 where libical 3.0 is wrong (BYWEEKNO, dates). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rrule.h"

/*
 * libical 3.0.x enumerates YEARLY rules with BYWEEKNO wrongly (libical
 * issues #794 and #1143: days of the wrong weekday next to week 1, a week
 * 53 in years that have none), and nothing in it checks what it yields.
 * So every instance libical gives is checked here against the rule's BYxxx
 * parts, and YEARLY BYWEEKNO rules are enumerated here outright, from the
 * week-numbering year that WKST defines (RFC 5545 3.3.10: week 1 is the
 * first week with at least four days of the year).
 */

#define DAY		86400
#define MAX_SET		100000	/* instances of one year, at most (min_interval bounds it anyway) */
#define LAST_YEAR	9999
#define MAX_REJECT	100000	/* libical instances failing the rule in a row, at most */

struct rrule_iter {
	struct icalrecurrencetype r;
	struct icaltimetype	 dtstart;
	icalrecur_iterator	*lic;		/* NULL: enumerated here */
	bool			 fast;		/* a simple rule: fast_next() */
	int64_t			 day0, week0;	/* DTSTART's day, its week's first */
	int64_t			 month0;	/* DTSTART's month, counted from year 0 */
	int64_t			 period;	/* the next period to expand */
	int64_t			 cand[31];	/* its candidate days, in order */
	size_t			 ncand, icand;
	bool			 has_min;
	struct icaltimetype	 min;		/* rrule_iter_set_start's */
	int			 count;		/* COUNT, 0: none */
	int			 given;		/* instances handed out */
	int			 year;		/* next week-numbering year to expand */
	struct icaltimetype	*set;		/* instances of the year expanded last */
	size_t			 nset, iset;
	bool			 done;
};

/* Division rounding towards minus infinity. */
static int64_t
fdiv(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t
rrule_civil_days(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = fdiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Proleptic Gregorian date of day number Z. */
void
rrule_civil_date(int64_t z, int *y, int *m, int *d)
{
	int64_t	 era, doe, yoe, doy, mp;

	z += 719468;
	era = fdiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Weekday of day number Z: 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday). */
static int
weekday(int64_t z)
{
	return (int)((z % 7 + 7 + 4) % 7);
}

/* Whether Y is a leap year. */
static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month M of year Y. */
static int
month_len(int y, int m)
{
	static const int len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : len[m - 1];
}

/* The week start of R: 0 = Sunday .. 6 = Saturday (Monday when not given). */
static int
rule_wkst(const struct icalrecurrencetype *r)
{
	return r->week_start == ICAL_NO_WEEKDAY ? 1 : (int)r->week_start - 1;
}

/* Day number on which week 1 of week-numbering year Y starts, weeks starting on WKST. */
static int64_t
week1(int y, int wkst)
{
	int64_t	 jan1 = rrule_civil_days(y, 1, 1), s;

	s = jan1 - (weekday(jan1) - wkst + 7) % 7;
	/* the week starting at S has 7 - (JAN1 - S) days in Y: four or more? */
	return jan1 - s <= 3 ? s : s + 7;
}

int
rrule_weeks_in_year(int y, int wkst)
{
	return (int)((week1(y + 1, wkst) - week1(y, wkst)) / 7);
}

int
rrule_week_no(int y, int m, int d, int wkst, int *wyear)
{
	int64_t	 z = rrule_civil_days(y, m, d);
	int	 wy = y;

	if (z < week1(wy, wkst))
		wy--;
	else if (z >= week1(wy + 1, wkst))
		wy++;
	*wyear = wy;
	return (int)((z - week1(wy, wkst)) / 7) + 1;
}

/* Whether list L (ended by ICAL_RECURRENCE_ARRAY_MAX, at most N long) has items. */
static bool
has(const short *l)
{
	return l[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

/* Whether V is in list L of N slots, or -V counted from the end of LEN (NEG: allowed). */
static bool
in_list(const short *l, size_t n, int v, int len)
{
	size_t	 i;

	for (i = 0; i < n && l[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (l[i] == v || (len > 0 && l[i] < 0 && l[i] == v - len - 1))
			return true;
	return false;
}

/*
 * Whether day Y-M-D matches BYDAY of R: the weekday, and an ordinal counted
 * in the month (MONTHLY, or YEARLY with BYMONTH) or in the year (YEARLY).
 */
static bool
byday_ok(const struct icalrecurrencetype *r, int y, int m, int d)
{
	int64_t	 z = rrule_civil_days(y, m, d);
	int	 wd = weekday(z), pos, idx, len;
	size_t	 i;
	bool	 in_month;

	in_month = r->freq == ICAL_MONTHLY_RECURRENCE ||
	    (r->freq == ICAL_YEARLY_RECURRENCE && has(r->by_month));
	if (in_month) {
		idx = d;
		len = month_len(y, m);
	} else {
		idx = (int)(z - rrule_civil_days(y, 1, 1)) + 1;
		len = leap(y) ? 366 : 365;
	}
	for (i = 0; i < ICAL_BY_DAY_SIZE &&
	    r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		if ((int)icalrecurrencetype_day_day_of_week(r->by_day[i]) - 1 != wd)
			continue;
		pos = icalrecurrencetype_day_position(r->by_day[i]);
		if (pos == 0 || (r->freq != ICAL_MONTHLY_RECURRENCE &&
		    r->freq != ICAL_YEARLY_RECURRENCE))
			return true;
		if (pos > 0 && (idx - 1) / 7 + 1 == pos)
			return true;
		if (pos < 0 && (len - idx) / 7 + 1 == -pos)
			return true;
	}
	return false;
}

bool
rrule_matches(const struct icalrecurrencetype *r, struct icaltimetype t)
{
	int	 wk, wy, doy;
	size_t	 i;
	bool	 ok;

	if (has(r->by_month)) {
		ok = false;
		for (i = 0; i < ICAL_BY_MONTH_SIZE &&
		    r->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			if (icalrecurrencetype_month_month(r->by_month[i]) == t.month)
				ok = true;
		if (!ok)
			return false;
	}
	if (has(r->by_week_no)) {
		wk = rrule_week_no(t.year, t.month, t.day, rule_wkst(r), &wy);
		if (!in_list(r->by_week_no, ICAL_BY_WEEKNO_SIZE, wk,
		    rrule_weeks_in_year(wy, rule_wkst(r))))
			return false;
	}
	if (has(r->by_year_day)) {
		doy = (int)(rrule_civil_days(t.year, t.month, t.day) -
		    rrule_civil_days(t.year, 1, 1)) + 1;
		if (!in_list(r->by_year_day, ICAL_BY_YEARDAY_SIZE, doy,
		    leap(t.year) ? 366 : 365))
			return false;
	}
	if (has(r->by_month_day) && !in_list(r->by_month_day,
	    ICAL_BY_MONTHDAY_SIZE, t.day, month_len(t.year, t.month)))
		return false;
	if (has(r->by_day) && !byday_ok(r, t.year, t.month, t.day))
		return false;
	if (t.is_date)
		return true;
	if (has(r->by_hour) && !in_list(r->by_hour, ICAL_BY_HOUR_SIZE, t.hour, 0))
		return false;
	if (has(r->by_minute) && !in_list(r->by_minute, ICAL_BY_MINUTE_SIZE,
	    t.minute, 0))
		return false;
	if (has(r->by_second) && !in_list(r->by_second, ICAL_BY_SECOND_SIZE,
	    t.second, 0))
		return false;
	return true;
}

int
rrule_check(const struct icalrecurrencetype *r, char *why, size_t len)
{
	size_t	 i;

	if (!has(r->by_week_no))
		return 0;
	if (r->freq != ICAL_YEARLY_RECURRENCE) {
		snprintf(why, len, "BYWEEKNO is only allowed with FREQ=YEARLY "
		    "(RFC 5545 3.3.10)");
		return -1;
	}
	for (i = 0; i < ICAL_BY_WEEKNO_SIZE &&
	    r->by_week_no[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (r->by_week_no[i] == 0 || r->by_week_no[i] > 53 ||
		    r->by_week_no[i] < -53) {
			snprintf(why, len, "BYWEEKNO=%d is not a week number "
			    "(1 to 53 or -53 to -1)", r->by_week_no[i]);
			return -1;
		}
	for (i = 0; i < ICAL_BY_DAY_SIZE &&
	    r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (icalrecurrencetype_day_position(r->by_day[i]) != 0) {
			snprintf(why, len, "BYDAY with a number is not allowed "
			    "together with BYWEEKNO (RFC 5545 3.3.10)");
			return -1;
		}
	return 0;
}

/* Sorted, distinct values of list L (N slots) in [LO, HI], or just DFLT when L is empty. */
static size_t
values(const short *l, size_t n, int dflt, int lo, int hi, int *out)
{
	bool	 seen[64] = { false };
	size_t	 i, k = 0;
	int	 v;

	if (!has(l)) {
		out[0] = dflt;
		return 1;
	}
	for (i = 0; i < n && l[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (l[i] >= lo && l[i] <= hi)
			seen[l[i]] = true;
	for (v = lo; v <= hi; v++)
		if (seen[v])
			out[k++] = v;
	return k;
}

/* Whether day Z of a YEARLY BYWEEKNO rule passes its other day parts. */
static bool
weekno_day_ok(const struct rrule_iter *it, int64_t z)
{
	const struct icalrecurrencetype *r = &it->r;
	struct icaltimetype	 t = icaltime_null_time();

	rrule_civil_date(z, &t.year, &t.month, &t.day);
	t.is_date = 1;
	if (!has(r->by_day) && !has(r->by_month_day) && !has(r->by_year_day) &&
	    weekday(z) != weekday(rrule_civil_days(it->dtstart.year,
	    it->dtstart.month, it->dtstart.day)))
		return false;	/* the weekday comes from DTSTART */
	return rrule_matches(r, t);
}

/*
 * Expands week-numbering year Y of a YEARLY BYWEEKNO rule into IT's set, in
 * order, BYSETPOS applied.  -1 without memory, or when one year would
 * hold more than MAX_SET instances.
 */
static int
weekno_year(struct rrule_iter *it, int y)
{
	const struct icalrecurrencetype *r = &it->r;
	int		 wkst = rule_wkst(r), nweeks, k, n, hours[24], mins[60];
	int		 secs[61], p, y2, m2, d2;
	size_t		 nh = 1, nm = 1, ns = 1, i, a, b, c, nall = 0, ndays = 0;
	bool		 week[54] = { false }, *keep;
	int64_t		 w1 = week1(y, wkst), z, days[7 * 54];
	struct icaltimetype *all, t;

	nweeks = rrule_weeks_in_year(y, wkst);
	for (i = 0; i < ICAL_BY_WEEKNO_SIZE &&
	    r->by_week_no[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		n = r->by_week_no[i];
		k = n > 0 ? n : nweeks + 1 + n;
		if (k >= 1 && k <= nweeks)
			week[k] = true;
	}
	for (k = 1; k <= nweeks; k++)
		for (z = w1 + (k - 1) * 7; week[k] && z < w1 + k * 7; z++)
			if (weekno_day_ok(it, z))
				days[ndays++] = z;
	if (!it->dtstart.is_date) {
		nh = values(r->by_hour, ICAL_BY_HOUR_SIZE, it->dtstart.hour, 0, 23,
		    hours);
		nm = values(r->by_minute, ICAL_BY_MINUTE_SIZE, it->dtstart.minute,
		    0, 59, mins);
		ns = values(r->by_second, ICAL_BY_SECOND_SIZE, it->dtstart.second,
		    0, 59, secs);
	}
	if (ndays * nh * nm * ns > MAX_SET)
		return -1;
	if ((all = calloc(ndays * nh * nm * ns + 1, sizeof(*all))) == NULL)
		return -1;
	for (i = 0; i < ndays; i++) {
		rrule_civil_date(days[i], &y2, &m2, &d2);
		for (a = 0; a < nh; a++)
			for (b = 0; b < nm; b++)
				for (c = 0; c < ns; c++) {
					t = it->dtstart;
					t.year = y2;
					t.month = m2;
					t.day = d2;
					if (!t.is_date) {
						t.hour = hours[a];
						t.minute = mins[b];
						t.second = secs[c];
					}
					all[nall++] = t;
				}
	}
	if (has(r->by_set_pos)) {
		if ((keep = calloc(nall + 1, sizeof(*keep))) == NULL) {
			free(all);
			return -1;
		}
		for (i = 0; i < ICAL_BY_SETPOS_SIZE &&
		    r->by_set_pos[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
			p = r->by_set_pos[i];
			if (p > 0 && (size_t)p <= nall)
				keep[p - 1] = true;
			else if (p < 0 && (size_t)-p <= nall)
				keep[nall - (size_t)-p] = true;
		}
		for (i = 0, k = 0; i < nall; i++)
			if (keep[i])
				all[k++] = all[i];
		nall = (size_t)k;
		free(keep);
	}
	free(it->set);
	it->set = all;
	it->nset = nall;
	it->iset = 0;
	return 0;
}

/* Whether wall clock A is before B (fields only: both floating, same kind). */
static bool
before(struct icaltimetype a, struct icaltimetype b)
{
	int	 x[6] = { a.year, a.month, a.day, a.hour, a.minute, a.second };
	int	 y[6] = { b.year, b.month, b.day, b.hour, b.minute, b.second };
	int	 i;

	for (i = 0; i < 6; i++)
		if (x[i] != y[i])
			return x[i] < y[i];
	return false;
}

/* The next instance of a YEARLY BYWEEKNO rule. */
static struct icaltimetype
weekno_next(struct rrule_iter *it)
{
	struct icaltimetype	 t;

	for (;;) {
		while (it->iset < it->nset) {
			t = it->set[it->iset++];
			if (!before(t, it->dtstart))
				return t;
		}
		if (it->year > LAST_YEAR || weekno_year(it, it->year) == -1)
			return icaltime_null_time();
		it->year += it->r.interval > 0 ? it->r.interval : 1;
	}
}

/*
 * Whether rule R is enumerated by fast_next() rather than by libical,
 * whose iterator costs microseconds per instance (it goes through ICU's
 * calendars): DAILY, WEEKLY or MONTHLY with no other parts than BYDAY
 * (numbered only in MONTHLY), BYMONTHDAY (not in WEEKLY) and BYMONTH.
 */
static bool
fast_ok(const struct icalrecurrencetype *r)
{
	size_t	 i;

	if (r->freq != ICAL_DAILY_RECURRENCE && r->freq != ICAL_WEEKLY_RECURRENCE &&
	    r->freq != ICAL_MONTHLY_RECURRENCE)
		return false;
	if (has(r->by_second) || has(r->by_minute) || has(r->by_hour) ||
	    has(r->by_year_day) || has(r->by_week_no) || has(r->by_set_pos) ||
	    r->rscale != NULL)
		return false;
	if (r->freq == ICAL_WEEKLY_RECURRENCE && has(r->by_month_day))
		return false;
	for (i = 0; r->freq != ICAL_MONTHLY_RECURRENCE && i < ICAL_BY_DAY_SIZE &&
	    r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (icalrecurrencetype_day_position(r->by_day[i]) != 0)
			return false;
	return true;
}

/*
 * Fills IT's candidates with the days of its next period (RFC 5545 3.3.10:
 * every INTERVAL-th day, week from WKST, or month from DTSTART's): the one
 * day, DTSTART's weekday or every day of the week with BYDAY, DTSTART's
 * day or every day of the month with BYDAY or BYMONTHDAY. rrule_iter_next
 * keeps those that match the rule.
 */
static void
fast_period(struct rrule_iter *it)
{
	const struct icalrecurrencetype *r = &it->r;
	int64_t		 iv = r->interval > 0 ? r->interval : 1;
	int64_t		 k = it->period++, first, mo;
	int		 y, m, n, d;

	it->ncand = it->icand = 0;
	switch (r->freq) {
	case ICAL_DAILY_RECURRENCE:
		it->cand[it->ncand++] = it->day0 + k * iv;
		break;
	case ICAL_WEEKLY_RECURRENCE:
		first = it->week0 + 7 * k * iv;
		if (!has(r->by_day)) {
			it->cand[it->ncand++] = first + (it->day0 - it->week0);
			break;
		}
		for (d = 0; d < 7; d++)
			it->cand[it->ncand++] = first + d;
		break;
	default:
		mo = it->month0 + k * iv;
		y = (int)(mo / 12);
		m = (int)(mo % 12) + 1;
		first = rrule_civil_days(y, m, 1);
		n = month_len(y, m);
		if (!has(r->by_day) && !has(r->by_month_day)) {
			if (it->dtstart.day <= n)
				it->cand[it->ncand++] = first + it->dtstart.day - 1;
			break;
		}
		for (d = 0; d < n; d++)
			it->cand[it->ncand++] = first + d;
		break;
	}
}

/* The next candidate of a simple rule at or after DTSTART (and the set start), or the null time. */
static struct icaltimetype
fast_next(struct rrule_iter *it)
{
	struct icaltimetype	 t;

	for (;;) {
		while (it->icand < it->ncand) {
			t = it->dtstart;
			rrule_civil_date(it->cand[it->icand++], &t.year, &t.month,
			    &t.day);
			if (t.year > LAST_YEAR)
				return icaltime_null_time();
			if (before(t, it->dtstart) ||
			    (it->has_min && before(t, it->min)))
				continue;
			return t;
		}
		fast_period(it);
	}
}

struct rrule_iter *
rrule_iter_new(const struct icalrecurrencetype *r, struct icaltimetype dtstart)
{
	struct rrule_iter	*it;
	char			 why[128];

	if (rrule_check(r, why, sizeof(why)) == -1)
		return NULL;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	it->r = *r;
	it->count = r->count > 0 ? r->count : 0;
	it->r.count = 0;
	it->dtstart = dtstart;
	if (has(r->by_week_no)) {
		rrule_week_no(dtstart.year, dtstart.month, dtstart.day,
		    rule_wkst(r), &it->year);
		return it;
	}
	if (fast_ok(r)) {
		it->fast = true;
		it->day0 = rrule_civil_days(dtstart.year, dtstart.month,
		    dtstart.day);
		it->week0 = it->day0 - (weekday(it->day0) - rule_wkst(r) + 7) % 7;
		it->month0 = (int64_t)dtstart.year * 12 + dtstart.month - 1;
		return it;
	}
	if ((it->lic = icalrecur_iterator_new(it->r, dtstart)) == NULL) {
		free(it);
		return NULL;
	}
	return it;
}

/*
 * Moves IT on to the first instance at or after T: only for rules without
 * COUNT that libical enumerates; -1 when it cannot, IT untouched or spent.
 */
int
rrule_iter_set_start(struct rrule_iter *it, struct icaltimetype t)
{
	int64_t	 iv = it->r.interval > 0 ? it->r.interval : 1, k;

	if (it->fast && it->count == 0) {
		/* straight to the period holding T */
		switch (it->r.freq) {
		case ICAL_DAILY_RECURRENCE:
			k = (rrule_civil_days(t.year, t.month, t.day) - it->day0) / iv;
			break;
		case ICAL_WEEKLY_RECURRENCE:
			k = (rrule_civil_days(t.year, t.month, t.day) - it->week0) /
			    (7 * iv);
			break;
		default:
			k = ((int64_t)t.year * 12 + t.month - 1 - it->month0) / iv;
			break;
		}
		it->period = k > 0 ? k : 0;
		it->ncand = it->icand = 0;
		it->min = t;
		it->has_min = true;
		return 0;
	}
	if (it->lic == NULL || it->count > 0)
		return -1;
	return icalrecur_iterator_set_start(it->lic, t) ? 0 : -1;
}

struct icaltimetype
rrule_iter_next(struct rrule_iter *it)
{
	struct icaltimetype	 t;
	char			 why[64];
	int			 rejected = 0;

	if (it->done || (it->count > 0 && it->given >= it->count))
		return icaltime_null_time();
	for (;;) {
		t = it->fast ? fast_next(it) : it->lic != NULL ?
		    icalrecur_iterator_next(it->lic) : weekno_next(it);
		/* a rule that only yields wrong instances ends: it would spin */
		if (icaltime_is_null_time(t) || rejected++ == MAX_REJECT) {
			it->done = true;
			return icaltime_null_time();
		}
		/* a day libical did not normalise (31 February) is no instance */
		if (rrule_time_invalid(t, why, sizeof(why)) == NULL &&
		    rrule_matches(&it->r, t))
			break;
	}
	it->given++;
	return t;
}

void
rrule_iter_free(struct rrule_iter *it)
{
	if (it == NULL)
		return;
	if (it->lic != NULL)
		icalrecur_iterator_free(it->lic);
	free(it->set);
	free(it);
}

const char *
rrule_time_invalid(struct icaltimetype t, char *why, size_t len)
{
	static const char *const mon[] = { "January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December" };

	if (t.year < 1 || t.year > 9999)
		snprintf(why, len, "year %d is out of range", t.year);
	else if (t.month < 1 || t.month > 12)
		snprintf(why, len, "there is no month %d", t.month);
	else if (t.day < 1 || t.day > month_len(t.year, t.month))
		snprintf(why, len, "%s %d has %d days", mon[t.month - 1], t.year,
		    month_len(t.year, t.month));
	else if (t.is_date)
		return NULL;
	else if (t.hour < 0 || t.hour > 23)
		snprintf(why, len, "there is no hour %d", t.hour);
	else if (t.minute < 0 || t.minute > 59)
		snprintf(why, len, "there is no minute %d", t.minute);
	else if (t.second < 0 || t.second > 60)
		snprintf(why, len, "there is no second %d", t.second);
	else
		return NULL;
	return why;
}

void
rrule_duration(struct icaldurationtype d, int64_t *days, int64_t *secs)
{
	int	 sign = d.is_neg ? -1 : 1;

	*days = sign * ((int64_t)d.weeks * 7 + d.days);
	*secs = sign * ((int64_t)d.hours * 3600 + (int64_t)d.minutes * 60 +
	    d.seconds);
}

bool
rrule_leap_second(int64_t t)
{
	/* days ending with an inserted second (IERS Bulletin C), 1972-2016 */
	static const int days[][3] = {
		{ 1972, 6, 30 }, { 1972, 12, 31 }, { 1973, 12, 31 },
		{ 1974, 12, 31 }, { 1975, 12, 31 }, { 1976, 12, 31 },
		{ 1977, 12, 31 }, { 1978, 12, 31 }, { 1979, 12, 31 },
		{ 1981, 6, 30 }, { 1982, 6, 30 }, { 1983, 6, 30 },
		{ 1985, 6, 30 }, { 1987, 12, 31 }, { 1989, 12, 31 },
		{ 1990, 12, 31 }, { 1992, 6, 30 }, { 1993, 6, 30 },
		{ 1994, 6, 30 }, { 1995, 12, 31 }, { 1997, 6, 30 },
		{ 1998, 12, 31 }, { 2005, 12, 31 }, { 2008, 12, 31 },
		{ 2012, 6, 30 }, { 2015, 6, 30 }, { 2016, 12, 31 },
	};
	size_t	 i;

	if (t - fdiv(t, DAY) * DAY != DAY - 1)
		return false;
	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		if (fdiv(t, DAY) == rrule_civil_days(days[i][0], days[i][1], days[i][2]))
			return true;
	return false;
}

/* Whether logical line L (LEN bytes) is property NAME; sets *VAL to its value. */
static bool
line_is(const char *l, size_t len, const char *name, const char **val)
{
	size_t	 n = strlen(name), i;
	bool	 q = false;

	if (len <= n || strncasecmp(l, name, n) != 0 || (l[n] != ';' && l[n] != ':'))
		return false;
	for (i = n; i < len && (q || l[i] != ':'); i++)
		if (l[i] == '"')
			q = !q;
	*val = i < len ? l + i + 1 : l + len;
	return true;
}

int
rrule_prop_line(const char *text, int from, const char *name, const char *value)
{
	const char	*p = text, *e, *val;
	char		 buf[1024];
	size_t		 n = 0, plen;
	int		 line = 0, start = 0;
	bool		 more = true;

	if (text == NULL || from < 1 || value == NULL)
		return from;
	while (more) {
		e = strchr(p, '\n');
		plen = e != NULL ? (size_t)(e - p) : strlen(p);
		more = e != NULL;
		line++;
		if (plen > 0 && p[plen - 1] == '\r')
			plen--;
		if (line > from && (*p == ' ' || *p == '\t') && plen > 0) {
			/* a folded continuation: part of the line before */
			if (n + plen - 1 < sizeof(buf)) {
				memcpy(buf + n, p + 1, plen - 1);
				n += plen - 1;
			}
		} else {
			if (start >= from && n > 0) {
				buf[n] = '\0';
				if (strncasecmp(buf, "END:VEVENT", 10) == 0)
					return from;
				if (line_is(buf, n, name, &val) &&
				    strstr(val, value) != NULL)
					return start;
			}
			n = plen < sizeof(buf) - 1 ? plen : sizeof(buf) - 1;
			memcpy(buf, p, n);
			start = line;
		}
		p = e != NULL ? e + 1 : p + plen;
	}
	if (start >= from && n > 0) {
		buf[n] = '\0';
		if (line_is(buf, n, name, &val) && strstr(val, value) != NULL)
			return start;
	}
	return from;
}
