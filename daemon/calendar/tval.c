/* DATE and DATE-TIME values: read from libical, as instants, as text. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "calendar-int.h"
#include "rrule.h"

/* Writes V (0..99) as two digits at P. */
static void
two(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * Writes day Z as 2021-05-17 into BUF (LEN at least 11); years outside
 * 0..9999 through snprintf. Called for every occurrence: no printf.
 */
static void
fmt_day(int64_t z, char *buf, size_t len)
{
	int	 y, m, d;

	rrule_civil_date(z, &y, &m, &d);
	if (y < 0 || y > 9999 || len < 11) {
		snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
		return;
	}
	two(buf, y / 100);
	two(buf + 2, y % 100);
	buf[4] = '-';
	two(buf + 5, m);
	buf[7] = '-';
	two(buf + 8, d);
	buf[10] = '\0';
}

/* Formats instant T as 2021-05-17T08:00:00Z. */
void
tval_fmt_instant(int64_t t, char *buf, size_t len)
{
	int64_t	 s = t - tz_day(t) * TZ_DAY;

	fmt_day(tz_day(t), buf, len);
	if (len < 21 || strlen(buf) != 10) {
		snprintf(buf + strlen(buf), len - strlen(buf), "T%02d:%02d:%02dZ",
		    (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
		return;
	}
	buf[10] = 'T';
	two(buf + 11, (int)(s / 3600));
	buf[13] = ':';
	two(buf + 14, (int)(s / 60 % 60));
	buf[16] = ':';
	two(buf + 17, (int)(s % 60));
	buf[19] = 'Z';
	buf[20] = '\0';
}

/* Formats the date of wall-clock LOCAL as 2021-05-17. */
void
tval_fmt_date(int64_t local, char *buf, size_t len)
{
	fmt_day(tz_day(local), buf, len);
}

/*
 * Converts libical time T with TZID (may be NULL) into a value of C.
 * Returns 0, 1 when the TZID resolves to nothing (a problem for the
 * caller to report), 2 for a value that is not a date, -1 without memory.
 */
int
tval_make(struct cal_calendar *c, icalcomponent *root, struct icaltimetype t,
    const char *tzid, struct tval *out)
{
	bool	 oom = false;

	memset(out, 0, sizeof(*out));
	if (icaltime_is_null_time(t)) {
		snprintf(c->why, sizeof(c->why), "no date");
		return 2;
	}
	if (rrule_time_invalid(t, c->why, sizeof(c->why)) != NULL)
		return 2;
	out->is_date = t.is_date != 0;
	out->local = rrule_civil_days(t.year, t.month, t.day) * TZ_DAY;
	if (out->is_date) {
		out->zone = c->deflt;
		return 0;
	}
	out->local += t.hour * 3600 + t.minute * 60 + (t.second > 59 ? 59 : t.second);
	if (icaltime_is_utc(t)) {
		out->utc = true;
		out->zone = c->utc;
	} else if (tzid != NULL) {
		out->zone = tzid_get(c, root, tzid, &oom);
		if (oom)
			return -1;
		if (out->zone == NULL)
			return 1;
	} else {
		out->floating = true;
		out->zone = c->deflt;
	}
	/* RFC 5545 3.3.12: second 60 only where a leap second was inserted */
	if (t.second == 60 &&
	    !rrule_leap_second(tz_local_to_utc(out->zone, out->local))) {
		snprintf(c->why, sizeof(c->why), "no leap second was inserted "
		    "at that time");
		return 2;
	}
	return 0;
}

/* Instant of value V (an all-day date: its 00:00 in the default zone). */
int64_t
tval_instant(const struct cal_calendar *c, const struct tval *v)
{
	return tz_local_to_utc(v->is_date ? c->deflt : v->zone, v->local);
}

/* Writes V as README/SPEC show it: a date, or a UTC date-time with Z. */
void
tval_text(const struct cal_calendar *c, const struct tval *v, char *buf, size_t len)
{
	if (v->is_date)
		tval_fmt_date(v->local, buf, len);
	else
		tval_fmt_instant(tval_instant(c, v), buf, len);
}

/* Wall-clock seconds of libical time T (zone ignored). */
int64_t
tval_ical_local(struct icaltimetype t)
{
	return rrule_civil_days(t.year, t.month, t.day) * TZ_DAY +
	    (t.is_date ? 0 : t.hour * 3600 + t.minute * 60 + t.second);
}

/* Floating libical time for wall clock LOCAL. */
struct icaltimetype
tval_from_local(int64_t local, bool is_date)
{
	struct icaltimetype	 t = icaltime_null_time();
	int			 y, m, d;
	int64_t			 s = local - tz_day(local) * TZ_DAY;

	rrule_civil_date(tz_day(local), &y, &m, &d);
	t.year = y;
	t.month = m;
	t.day = d;
	t.is_date = is_date;
	if (!is_date) {
		t.hour = (int)(s / 3600);
		t.minute = (int)(s / 60 % 60);
		t.second = (int)(s % 60);
	}
	return t;
}
