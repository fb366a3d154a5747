/* Instants: the clock, ISO 8601 parsing and formatting (zones by calendar/tz.c). */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "when.h"
#include "calendar/rrule.h"
#include "calendar/tz.h"

/* Milliseconds since the epoch. */
int64_t
when_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Microseconds on the monotonic clock (for durations). */
int64_t
when_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Formats MS in UTC as ISO 8601 with Z. */
char *
when_format(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int		frac = (int)(ms - (int64_t)t * 1000);
	struct tm	tm;
	size_t		n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac != 0)
		snprintf(buf + n, len - n, ".%03dZ", frac);
	else
		snprintf(buf + n, len - n, "Z");
	return (buf);
}

/* Reads exactly N digits at *P into *V. */
static int
digits(const char **p, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return (-1);
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return (0);
}

/* Parses an ISO 8601 date or date-time into milliseconds since the epoch. */
int
when_parse(const char *s, const char *tz, int64_t *ms)
{
	const struct tz_zone	*zone;
	const char		*p = s;
	int			 y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	int			 off = 0, has_off = 0, oh, om, sign, n;
	int64_t			 secs;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return (-1);
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return (-1);
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return (-1);
			if (*p == '.') {
				p++;
				for (n = 0; isdigit((unsigned char)*p); n++, p++)
					if (n < 3)
						frac = frac * 10 + (*p - '0');
				if (n == 0)
					return (-1);
				for (; n < 3; n++)
					frac *= 10;
			}
		}
		if (*p == 'Z') {
			has_off = 1;
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = (*p++ == '-') ? -1 : 1;
			if (digits(&p, 2, &oh))
				return (-1);
			if (*p == ':')
				p++;
			if (digits(&p, 2, &om))
				return (-1);
			off = sign * (oh * 3600 + om * 60);
			has_off = 1;
		}
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 ||
	    d > icaltime_days_in_month(mo, y) || h > 23 || mi > 59 || sec > 60)
		return (-1);
	secs = rrule_civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (has_off)
		secs -= off;
	else {
		if ((zone = tz_find(tz)) == NULL)
			return (-1);
		secs = tz_local_to_utc(zone, secs);
	}
	*ms = secs * 1000 + frac;
	return (0);
}
