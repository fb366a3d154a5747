/*
 * Unit tests for streaming a calendar (daemon/calendar/stream.c) and for
 * the rules rrule.c enumerates itself: the order of the stream and its
 * ties, overrides moved across other events, EXDATE, RDATE, events cut by
 * the limits, and the simple rules rrule.c enumerates against RFC 5545 day by day.
 */
#include <config.h>

#include <libical/ical.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/calendar/calendar.h"
#include "daemon/calendar/rrule.h"
#include "tests/unit/unit.h"

#define HEAD	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier//tests//EN\r\n"
#define TAIL	"END:VCALENDAR\r\n"
#define W_FROM	1798761600	/* 2027-01-01 */
#define W_TO	1830297600	/* 2028-01-01 */

/* A small deterministic generator (the test must not depend on the run). */
static unsigned long	 seed = 12345;

static int
rnd(int n)
{
	seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	return (int)((seed >> 33) % (unsigned long)n);
}

/*
 * The reference: RFC 5545 3.3.10 by brute force, day by day from DTSTART:
 * a day is an instance when its day, week (from WKST) or month is an
 * INTERVAL-th one from DTSTART's, the rule's parts hold (rrule_matches),
 * and, without BYDAY (and BYMONTHDAY), it has DTSTART's weekday (day).
 * Instances at or after FROM (NULL: all), at most MAX.
 */
static int
reference(struct icalrecurrencetype r, struct icaltimetype dtstart,
    struct icaltimetype *from, struct icaltimetype *out, int max)
{
	struct icaltimetype	 t;
	int64_t			 d0, z, w0, per;
	int			 n = 0, given = 0, wkst, iv = r.interval > 0 ?
				    r.interval : 1;

	wkst = r.week_start == ICAL_NO_WEEKDAY ? 1 : (int)r.week_start - 1;
	d0 = rrule_civil_days(dtstart.year, dtstart.month, dtstart.day);
	/* 1970-01-01 was a Thursday (4) */
	w0 = d0 - ((((d0 % 7) + 7 + 4) % 7) - wkst + 7) % 7;
	for (z = d0; n < max && z < rrule_civil_days(2041, 1, 1); z++) {
		t = dtstart;
		rrule_civil_date(z, &t.year, &t.month, &t.day);
		if (r.freq == ICAL_DAILY_RECURRENCE)
			per = z - d0;
		else if (r.freq == ICAL_WEEKLY_RECURRENCE)
			per = (z - w0) / 7;
		else
			per = (t.year * 12 + t.month) - (dtstart.year * 12 +
			    dtstart.month);
		if (per % iv != 0 || !rrule_matches(&r, t))
			continue;
		if (r.freq == ICAL_WEEKLY_RECURRENCE && r.by_day[0] ==
		    ICAL_RECURRENCE_ARRAY_MAX && (z - d0) % 7 != 0)
			continue;
		if (r.freq == ICAL_MONTHLY_RECURRENCE && r.by_day[0] ==
		    ICAL_RECURRENCE_ARRAY_MAX && r.by_month_day[0] ==
		    ICAL_RECURRENCE_ARRAY_MAX && t.day != dtstart.day)
			continue;
		if (r.count > 0 && given++ >= r.count)
			break;
		if (from != NULL && icaltime_compare(t, *from) < 0)
			continue;
		out[n++] = t;
	}
	return n;
}

/* A random DAILY, WEEKLY or MONTHLY rule of the kind rrule.c enumerates itself. */
static void
random_rule(struct icalrecurrencetype *r)
{
	static const icalrecurrencetype_frequency fq[] = { ICAL_DAILY_RECURRENCE,
	    ICAL_WEEKLY_RECURRENCE, ICAL_MONTHLY_RECURRENCE };
	int	 i, n, pos;

	icalrecurrencetype_clear(r);
	r->freq = fq[rnd(3)];
	r->interval = (short)(1 + rnd(4));
	if (rnd(3) == 0)
		r->week_start = (icalrecurrencetype_weekday)(1 + rnd(7));
	if (rnd(4) == 0)
		r->count = 1 + rnd(40);
	if (rnd(2) == 0) {
		n = 1 + rnd(3);
		for (i = 0; i < n; i++) {
			pos = r->freq == ICAL_MONTHLY_RECURRENCE && rnd(2) ?
			    (rnd(2) ? 1 + rnd(4) : -1 - rnd(2)) : 0;
			r->by_day[i] = (short)(pos < 0 ? -(8 * -pos + 1 + rnd(7)) :
			    8 * pos + 1 + rnd(7));
		}
		r->by_day[n] = ICAL_RECURRENCE_ARRAY_MAX;
	}
	if (r->freq != ICAL_WEEKLY_RECURRENCE && rnd(3) == 0) {
		n = 1 + rnd(3);
		for (i = 0; i < n; i++)
			r->by_month_day[i] = (short)(rnd(4) == 0 ? -1 - rnd(3) :
			    1 + rnd(31));
		r->by_month_day[n] = ICAL_RECURRENCE_ARRAY_MAX;
	}
	if (rnd(3) == 0) {
		n = 1 + rnd(4);
		for (i = 0; i < n; i++)
			r->by_month[i] = (short)(1 + rnd(12));
		r->by_month[n] = ICAL_RECURRENCE_ARRAY_MAX;
	}
}

START_TEST(fast_rules_as_libical)
{
	struct icalrecurrencetype r;
	struct icaltimetype	 dt, from, want[150], got;
	struct rrule_iter	*it;
	char			*s;
	int			 k, i, n, mode;

	for (k = 0; k < 3000; k++) {
		random_rule(&r);
		dt = icaltime_null_time();
		dt.year = 2024 + rnd(4);
		dt.month = 1 + rnd(12);
		dt.day = 1 + rnd(28);
		if ((dt.is_date = rnd(4) == 0) == 0) {
			dt.hour = rnd(24);
			dt.minute = 15 * rnd(4);
		}
		/* half of them from a later start, as expand.c skips ahead */
		mode = r.count == 0 && rnd(2);
		from = dt;
		from.year += 1;
		from.day = 1 + rnd(28);
		n = reference(r, dt, mode ? &from : NULL, want, 150);
		ck_assert_int_ge(n, 0);
		ck_assert_ptr_nonnull(it = rrule_iter_new(&r, dt));
		if (mode)
			ck_assert_int_eq(rrule_iter_set_start(it, from), 0);
		for (i = 0; i < n; i++) {
			got = rrule_iter_next(it);
			s = icalrecurrencetype_as_string(&r);
			ck_assert_msg(!icaltime_is_null_time(got) &&
			    icaltime_compare(got, want[i]) == 0, "%s from %s: "
			    "instance %d is %s, not %s (from %s)", s,
			    icaltime_as_ical_string(dt), i,
			    icaltime_as_ical_string(got),
			    icaltime_as_ical_string(want[i]),
			    mode ? icaltime_as_ical_string(from) : "dtstart");
		}
		if (n < 150) {
			got = rrule_iter_next(it);
			ck_assert_msg(icaltime_is_null_time(got) || got.year > 2040,
			    "%s: one more than RFC 5545: %s",
			    icalrecurrencetype_as_string(&r),
			    icaltime_as_ical_string(got));
		}
		rrule_iter_free(it);
	}
}
END_TEST

/* Parses TEXT as a calendar, failing the test if it cannot. */
static struct cal_calendar *
parse(const char *text, size_t max_occ)
{
	struct cal_calendar	*c;
	struct cal_limits	 lim;
	char			 err[512];

	c = cal_parse(text, strlen(text), "t.ics", "Europe/London", err,
	    sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	memset(&lim, 0, sizeof(lim));
	lim.max_occurrences = max_occ;
	cal_set_limits(c, &lim);
	return c;
}

/* The stream of C as "uid start rid" lines, checked against cal_expand's array. */
static char *
stream_text(struct cal_calendar *c, time_t from, time_t to)
{
	struct cal_stream		*s;
	const struct cal_occurrence	*o;
	struct cal_occurrence		*occ = NULL;
	ssize_t				 n;
	size_t				 i = 0, ev, len = 0;
	char				*out = NULL, line[200];
	FILE				*f;

	n = cal_expand(c, from, to, &occ);
	ck_assert_int_ge(n, 0);
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_ptr_nonnull(s = cal_stream_new(c, from, to));
	while (cal_stream_next(s, &o, &ev) == 1) {
		ck_assert_uint_lt(ev, cal_nevents(c));
		ck_assert_int_lt((ssize_t)i, n);
		/* the same, in the same order, as the array */
		ck_assert_int_eq(o->start, occ[i].start);
		ck_assert_str_eq(o->uid ? o->uid : "", occ[i].uid ? occ[i].uid : "");
		ck_assert_str_eq(o->recurrence_id, occ[i].recurrence_id);
		ck_assert_str_eq(o->summary ? o->summary : "",
		    occ[i].summary ? occ[i].summary : "");
		snprintf(line, sizeof(line), "%s %s %s%s\n", o->uid ? o->uid :
		    "-", o->start_str, o->recurrence_id[0] ? o->recurrence_id :
		    "-", o->summary && strstr(o->summary, "moved") ? " moved" : "");
		fputs(line, f);
		i++;
	}
	ck_assert_int_eq((ssize_t)i, n);
	cal_stream_free(s);
	cal_occurrences_free(occ, (size_t)n);
	fclose(f);
	return out;
}

/* Events with the same start come by uid, then recurrence id. */
START_TEST(ties_by_uid_then_rid)
{
	const char *text = HEAD
	    "BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20270105T090000Z\r\n"
	    "RRULE:FREQ=DAILY;COUNT=2\r\nSUMMARY:c\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20270105T090000Z\r\n"
	    "SUMMARY:a\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20270105T090000Z\r\n"
	    "RRULE:FREQ=DAILY;COUNT=2\r\nSUMMARY:b\r\nEND:VEVENT\r\n"
	    /* b's second instance moved onto c's first: same start, by rid */
	    "BEGIN:VEVENT\r\nUID:b\r\nRECURRENCE-ID:20270106T090000Z\r\n"
	    "DTSTART:20270105T090000Z\r\nSUMMARY:b moved\r\nEND:VEVENT\r\n"
	    TAIL;
	struct cal_calendar	*c = parse(text, 0);
	char			*s = stream_text(c, W_FROM, W_TO);

	ck_assert_str_eq(s,
	    "a 2027-01-05T09:00:00Z -\n"
	    "b 2027-01-05T09:00:00Z 2027-01-05T09:00:00Z\n"
	    "b 2027-01-05T09:00:00Z 2027-01-06T09:00:00Z moved\n"
	    "c 2027-01-05T09:00:00Z 2027-01-05T09:00:00Z\n"
	    "c 2027-01-06T09:00:00Z 2027-01-06T09:00:00Z\n");
	free(s);
	cal_free(c);
}
END_TEST

/* Overrides move an instance earlier or later, past other events' occurrences. */
START_TEST(overrides_move_across)
{
	const char *text = HEAD
	    "BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Europe/London:20270104T100000\r\n"
	    "RRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:w\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20270110T120000Z\r\n"
	    "RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:d\r\nEND:VEVENT\r\n"
	    /* the 2nd of w (11 Jan) moved back before d's first (10 Jan) */
	    "BEGIN:VEVENT\r\nUID:w\r\nRECURRENCE-ID;TZID=Europe/London:20270111T100000\r\n"
	    "DTSTART:20270109T080000Z\r\nSUMMARY:w moved\r\nEND:VEVENT\r\n"
	    /* the 3rd (18 Jan) moved on past d's last (24 Jan) and w's 4th */
	    "BEGIN:VEVENT\r\nUID:w\r\nRECURRENCE-ID;TZID=Europe/London:20270118T100000\r\n"
	    "DTSTART:20270130T080000Z\r\nSUMMARY:w moved\r\nEND:VEVENT\r\n"
	    TAIL;
	struct cal_calendar	*c = parse(text, 0);
	char			*s = stream_text(c, W_FROM, W_TO);

	ck_assert_str_eq(s,
	    "w 2027-01-04T10:00:00Z 2027-01-04T10:00:00Z\n"
	    "w 2027-01-09T08:00:00Z 2027-01-11T10:00:00Z moved\n"
	    "d 2027-01-10T12:00:00Z 2027-01-10T12:00:00Z\n"
	    "d 2027-01-17T12:00:00Z 2027-01-17T12:00:00Z\n"
	    "d 2027-01-24T12:00:00Z 2027-01-24T12:00:00Z\n"
	    "w 2027-01-25T10:00:00Z 2027-01-25T10:00:00Z\n"
	    "w 2027-01-30T08:00:00Z 2027-01-18T10:00:00Z moved\n");
	free(s);
	cal_free(c);
}
END_TEST

/* EXDATEs leave instances out; RDATEs add some, in order, duplicates once. */
START_TEST(exdate_rdate)
{
	const char *text = HEAD
	    "BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270301T090000Z\r\n"
	    "RRULE:FREQ=DAILY;COUNT=5\r\n"
	    "EXDATE:20270302T090000Z,20270304T090000Z\r\n"
	    /* one before the series, one inside it (a duplicate), one after */
	    "RDATE:20270228T070000Z,20270303T090000Z,20270310T090000Z\r\n"
	    "SUMMARY:x\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:y\r\nDTSTART:20270303T080000Z\r\n"
	    "SUMMARY:y\r\nEND:VEVENT\r\n"
	    TAIL;
	struct cal_calendar	*c = parse(text, 0);
	char			*s = stream_text(c, W_FROM, W_TO);

	ck_assert_str_eq(s,
	    "x 2027-02-28T07:00:00Z 2027-02-28T07:00:00Z\n"
	    "x 2027-03-01T09:00:00Z 2027-03-01T09:00:00Z\n"
	    "y 2027-03-03T08:00:00Z -\n"
	    "x 2027-03-03T09:00:00Z 2027-03-03T09:00:00Z\n"
	    "x 2027-03-05T09:00:00Z 2027-03-05T09:00:00Z\n"
	    "x 2027-03-10T09:00:00Z 2027-03-10T09:00:00Z\n");
	free(s);
	cal_free(c);
}
END_TEST

/* EXDATEs in any order, and a DATE one on a timed series (by its date). */
START_TEST(exdates_unsorted_and_by_date)
{
	const char *text = HEAD
	    "BEGIN:VEVENT\r\nUID:z\r\nDTSTART:20270301T090000Z\r\n"
	    "RRULE:FREQ=DAILY;COUNT=10\r\n"
	    "EXDATE:20270307T090000Z,20270305T090000Z\r\n"
	    "EXDATE;VALUE=DATE:20270303\r\n"
	    "EXDATE:20270308T100000Z\r\n"	/* not an instance: nothing */
	    "SUMMARY:z\r\nEND:VEVENT\r\n"
	    TAIL;
	struct cal_calendar	*c = parse(text, 0);
	char			*s = stream_text(c, W_FROM, W_TO);

	ck_assert_str_eq(s,
	    "z 2027-03-01T09:00:00Z 2027-03-01T09:00:00Z\n"
	    "z 2027-03-02T09:00:00Z 2027-03-02T09:00:00Z\n"
	    "z 2027-03-04T09:00:00Z 2027-03-04T09:00:00Z\n"
	    "z 2027-03-06T09:00:00Z 2027-03-06T09:00:00Z\n"
	    "z 2027-03-08T09:00:00Z 2027-03-08T09:00:00Z\n"
	    "z 2027-03-09T09:00:00Z 2027-03-09T09:00:00Z\n"
	    "z 2027-03-10T09:00:00Z 2027-03-10T09:00:00Z\n");
	free(s);
	cal_free(c);
}
END_TEST

/* An event over max_occurrences is left out whole, with a problem; the others stream. */
START_TEST(cut_by_limits)
{
	const char *text = HEAD
	    "BEGIN:VEVENT\r\nUID:many\r\nDTSTART:20270101T090000Z\r\n"
	    "RRULE:FREQ=DAILY\r\nSUMMARY:many\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:many\r\nRECURRENCE-ID:20270103T090000Z\r\n"
	    "DTSTART:20270103T100000Z\r\nSUMMARY:many moved\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:few\r\nDTSTART:20270102T090000Z\r\n"
	    "RRULE:FREQ=MONTHLY;BYDAY=1SA\r\nSUMMARY:few\r\nEND:VEVENT\r\n"
	    TAIL;
	struct cal_calendar		*c = parse(text, 20);
	const struct cal_problem	*p;
	size_t				 np;
	char				*s = stream_text(c, W_FROM, W_TO);

	ck_assert_str_eq(s,
	    "few 2027-01-02T09:00:00Z 2027-01-02T09:00:00Z\n"
	    "few 2027-02-06T09:00:00Z 2027-02-06T09:00:00Z\n"
	    "few 2027-03-06T09:00:00Z 2027-03-06T09:00:00Z\n"
	    "few 2027-04-03T09:00:00Z 2027-04-03T09:00:00Z\n"
	    "few 2027-05-01T09:00:00Z 2027-05-01T09:00:00Z\n"
	    "few 2027-06-05T09:00:00Z 2027-06-05T09:00:00Z\n"
	    "few 2027-07-03T09:00:00Z 2027-07-03T09:00:00Z\n"
	    "few 2027-08-07T09:00:00Z 2027-08-07T09:00:00Z\n"
	    "few 2027-09-04T09:00:00Z 2027-09-04T09:00:00Z\n"
	    "few 2027-10-02T09:00:00Z 2027-10-02T09:00:00Z\n"
	    "few 2027-11-06T09:00:00Z 2027-11-06T09:00:00Z\n"
	    "few 2027-12-04T09:00:00Z 2027-12-04T09:00:00Z\n");
	p = cal_problems(c, &np);
	ck_assert_uint_ge(np, 1);
	ck_assert_ptr_nonnull(strstr(p[np - 1].msg, "max_occurrences"));
	free(s);
	cal_free(c);
}
END_TEST

/* A large generated calendar streams as cal_expand sorts it, DST changes included. */
START_TEST(many_events_in_order)
{
	char			*text, *s;
	size_t			 len = 0, i;
	FILE			*f;
	struct cal_calendar	*c;
	static const char *const rules[] = { "FREQ=WEEKLY;BYDAY=TU",
	    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20270924T235959Z",
	    "FREQ=MONTHLY;BYDAY=1TH", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
	    "FREQ=HOURLY;INTERVAL=7;COUNT=400", "FREQ=MONTHLY;BYMONTHDAY=-1",
	    "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU" };

	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	fputs(HEAD, f);
	for (i = 0; i < 300; i++) {
		fprintf(f, "BEGIN:VEVENT\r\nUID:e%zu\r\nDTSTART;TZID=Europe/London:"
		    "202701%02zuT%02zu%02zu00\r\nRRULE:%s\r\nSUMMARY:e\r\n"
		    "END:VEVENT\r\n", i, 1 + i % 28, i % 24, (i * 15) % 60,
		    rules[i % 7]);
		if (i % 5 == 0)
			fprintf(f, "BEGIN:VEVENT\r\nUID:e%zu\r\nRECURRENCE-ID;"
			    "TZID=Europe/London:202701%02zuT%02zu%02zu00\r\n"
			    "DTSTART:20270601T120000Z\r\nSUMMARY:e moved\r\n"
			    "END:VEVENT\r\n", i, 1 + i % 28, i % 24,
			    (i * 15) % 60);
	}
	fputs(TAIL, f);
	fclose(f);
	c = parse(text, 0);
	s = stream_text(c, W_FROM, W_TO);
	ck_assert_uint_gt(strlen(s), 1000);
	free(s);
	cal_free(c);
	free(text);
}
END_TEST

static Suite *
stream_suite(void)
{
	Suite	*s = suite_create("stream");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fast_rules_as_libical);
	tcase_add_test(tc, ties_by_uid_then_rid);
	tcase_add_test(tc, overrides_move_across);
	tcase_add_test(tc, exdate_rdate);
	tcase_add_test(tc, exdates_unsorted_and_by_date);
	tcase_add_test(tc, cut_by_limits);
	tcase_add_test(tc, many_events_in_order);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(stream_suite(), 0));
}
