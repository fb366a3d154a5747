/* Unit tests for daemon/calendar/tz.c: display and expansion read one zone database, also across DST changes. */
#include <config.h>

#include <libical/ical.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/calendar/calendar.h"
#include "daemon/calendar/tz.h"
#include "daemon/conf.h"
#include "daemon/render.h"
#include "daemon/when.h"
#include "tests/unit/unit.h"

/* A weekly 09:00 event in ZONE from FIRST (20270301) until UNTIL (a UTC date-time). */
struct weekly {
	const char	*zone;
	const char	*first;
	const char	*until;
	const char	*from, *to;	/* window, ISO 8601 UTC */
	size_t		 count;		/* occurrences in the window */
	int32_t		 off_a, off_b;	/* the two UTC offsets the series spans */
};

static const struct weekly	both_changes[] = {
	/* March change on 28 March, October change on 31 October 2027 */
	{ "Europe/London", "20270301T090000", "20271130T000000Z",
	    "2027-02-01T00:00:00Z", "2028-01-01T00:00:00Z", 40, 0, 3600 },
	/* March change on 14 March, November change on 7 November 2027 */
	{ "America/New_York", "20270301T090000", "20271130T000000Z",
	    "2027-02-01T00:00:00Z", "2028-01-01T00:00:00Z", 40, -18000, -14400 },
};

/*
 * Zones whose libical built-in rules give other offsets than the tz
 * database for these dates: Israel's 2013 rules, and Newfoundland past 2037,
 * where libical's tables stop.
 */
static const struct weekly	libical_differs[] = {
	{ "Asia/Jerusalem", "20130304T090000", "20131126T000000Z",
	    "2013-03-01T00:00:00Z", "2013-12-01T00:00:00Z", 39, 7200, 10800 },
	{ "America/St_Johns", "20380201T090000", "20381130T000000Z",
	    "2038-01-15T00:00:00Z", "2039-01-01T00:00:00Z", 44, -12600, -9000 },
};

/* Parses and expands W; returns the occurrences, their count in *N. */
static struct cal_occurrence *
expand(const struct weekly *w, size_t *n)
{
	struct cal_calendar	*c;
	struct cal_occurrence	*occ = NULL;
	char			 text[1024], err[256];
	int64_t			 from, to;
	ssize_t			 r;
	size_t			 np;

	snprintf(text, sizeof(text),
	    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier//tz test//EN\r\n"
	    "BEGIN:VEVENT\r\nUID:weekly@tz\r\nDTSTAMP:20260101T000000Z\r\n"
	    "DTSTART;TZID=%s:%s\r\nDURATION:PT1H\r\n"
	    "RRULE:FREQ=WEEKLY;UNTIL=%s\r\nSUMMARY:Weekly\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR\r\n", w->zone, w->first, w->until);
	c = cal_parse(text, strlen(text), "weekly.ics", w->zone, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s: %s", w->zone, err);
	cal_problems(c, &np);
	ck_assert_uint_eq(np, 0);
	ck_assert_int_eq(when_parse(w->from, NULL, &from), 0);
	ck_assert_int_eq(when_parse(w->to, NULL, &to), 0);
	r = cal_expand(c, (time_t)(from / 1000), (time_t)(to / 1000), &occ);
	ck_assert_msg(r >= 0, "%s: %s", w->zone, cal_error(c));
	cal_free(c);
	*n = (size_t)r;
	return occ;
}

/* The string at "start.KEY" of context CTX. */
static const char *
start_str(json_t *ctx, const char *key)
{
	json_t	*v = json_object_get(json_object_get(ctx, "start"), key);

	ck_assert_msg(json_is_string(v), "no start.%s", key);
	return json_string_value(v);
}

/*
 * Checks that every occurrence of W, rendered by the display path in its
 * zone, reads 09:00 on a Monday, that parsing that wall clock as crierctl's
 * times are parsed gives the instant back, and that the series spans both
 * offsets. Returns how many instants libical's built-in zone reads otherwise.
 */
static size_t
agree(const struct weekly *w)
{
	struct cal_occurrence	*occ;
	struct config		 conf;
	struct render_input	 in;
	struct tz_civil		 lc;
	struct icaltimetype	 lt;
	icaltimezone		*builtin;
	json_t			*ctx;
	char			 zone[64], local[32];
	int64_t			 ms;
	size_t			 n, i, na = 0, nb = 0, differ = 0;
	int32_t			 off;

	occ = expand(w, &n);
	ck_assert_msg(n == w->count, "%s: %zu occurrences, not %zu", w->zone,
	    n, w->count);
	snprintf(zone, sizeof(zone), "%s", w->zone);
	memset(&conf, 0, sizeof(conf));
	conf.timezone = zone;
	builtin = icaltimezone_get_builtin_timezone(w->zone);
	for (i = 0; i < n; i++) {
		memset(&in, 0, sizeof(in));
		in.occ = &occ[i];
		in.conf = &conf;
		ctx = render_context(&in);
		ck_assert_ptr_nonnull(ctx);
		ck_assert_msg(strcmp(start_str(ctx, "time"), "09:00") == 0,
		    "%s: %s displays as %s %s", w->zone, occ[i].start_str,
		    start_str(ctx, "date"), start_str(ctx, "time"));
		ck_assert_str_eq(start_str(ctx, "weekday"), "Monday");
		snprintf(local, sizeof(local), "%sT09:00", start_str(ctx, "date"));
		ck_assert_int_eq(when_parse(local, w->zone, &ms), 0);
		ck_assert_msg(ms == (int64_t)occ[i].start * 1000,
		    "%s: %s parses to %lld, expansion has %lld", w->zone, local,
		    (long long)(ms / 1000), (long long)occ[i].start);
		json_decref(ctx);
		ck_assert_int_eq(tz_civil(w->zone, occ[i].start, &lc), 0);
		off = lc.offset;
		ck_assert_msg(off == w->off_a || off == w->off_b,
		    "%s: offset %d at %s", w->zone, off, occ[i].start_str);
		if (off == w->off_a)
			na++;
		else
			nb++;
		if (builtin != NULL) {
			lt = icaltime_from_timet_with_zone(occ[i].start, 0, builtin);
			if (lt.hour != 9 || lt.minute != 0)
				differ++;
		}
	}
	ck_assert_msg(na > 0 && nb > 0, "%s: %zu at %d s, %zu at %d s: no "
	    "change in the window", w->zone, na, w->off_a, nb, w->off_b);
	cal_occurrences_free(occ, n);
	fprintf(stderr, "%s: %zu occurrences (%zu at %+d s, %zu at %+d s), "
	    "libical built-in reads %zu of them otherwise\n", w->zone, n, na,
	    w->off_a, nb, w->off_b, differ);
	return differ;
}

START_TEST(display_agrees_across_dst)
{
	agree(&both_changes[_i]);
}
END_TEST

START_TEST(display_agrees_where_libical_differs)
{
	ck_assert_msg(agree(&libical_differs[_i]) > 0,
	    "%s: libical's built-in zone agrees; the case proves nothing",
	    libical_differs[_i].zone);
}
END_TEST

START_TEST(civil_and_gaps)
{
	struct tz_civil		 lc;
	const struct tz_zone	*z;
	struct tz_zone		*w;
	int64_t			 ms;

	/* 2027-03-28 00:59:59Z is GMT, a second later BST */
	ck_assert_int_eq(tz_civil("Europe/London", 1806195599, &lc), 0);
	ck_assert_int_eq(lc.hour, 0);
	ck_assert_int_eq(lc.offset, 0);
	ck_assert_int_eq(tz_civil("Europe/London", 1806195600, &lc), 0);
	ck_assert_int_eq(lc.year, 2027);
	ck_assert_int_eq(lc.month, 3);
	ck_assert_int_eq(lc.day, 28);
	ck_assert_int_eq(lc.hour, 2);
	ck_assert_int_eq(lc.wday, 0);
	ck_assert_int_eq(lc.offset, 3600);
	/* 01:30 does not exist that day: read with the offset before (RFC 5545) */
	ck_assert_int_eq(when_parse("2027-03-28T01:30", "Europe/London", &ms), 0);
	ck_assert_int_eq(ms / 1000, 1806197400);
	/* 01:30 on 31 October happens twice: the first */
	ck_assert_int_eq(when_parse("2027-10-31T01:30", "Europe/London", &ms), 0);
	ck_assert_int_eq(ms / 1000, 1824942600);
	/* before 1970 and the weekday of a Thursday */
	ck_assert_int_eq(tz_civil("UTC", -86400, &lc), 0);
	ck_assert_int_eq(lc.year, 1969);
	ck_assert_int_eq(lc.day, 31);
	ck_assert_int_eq(lc.wday, 3);
	ck_assert_int_eq(tz_civil(NULL, 0, &lc), 0);
	ck_assert_int_eq(lc.wday, 4);
	/* one zone object per display name */
	z = tz_find("America/New_York");
	ck_assert_ptr_nonnull(z);
	ck_assert_ptr_eq(tz_find("America/New_York"), z);
	ck_assert_ptr_null(tz_find("Atlantis/Capital"));
	ck_assert_ptr_null(tz_find("../../etc/passwd"));
	ck_assert_int_eq(tz_civil("Atlantis/Capital", 0, &lc), -1);
	/* a Windows name, as Outlook writes it, is the same zone */
	w = tz_load_tzid("Eastern Standard Time");
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(tz_offset(w, 1806195600), tz_offset(z, 1806195600));
	ck_assert_int_eq(tz_offset(w, 1806195600), -14400);
	tz_free(w);
}
END_TEST

static Suite *
tz_suite(void)
{
	Suite	*s = suite_create("tz");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, display_agrees_across_dst, 0,
	    sizeof(both_changes) / sizeof(both_changes[0]));
	tcase_add_loop_test(tc, display_agrees_where_libical_differs, 0,
	    sizeof(libical_differs) / sizeof(libical_differs[0]));
	tcase_add_test(tc, civil_and_gaps);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	rc = unit_run(tz_suite(), 0);

	icaltimezone_free_builtin_timezones();
	return (rc);
}
