/* Unit tests for daemon/calendar/rrule.c: BYWEEKNO, rule checks, nominal durations, invalid dates. */
#include <config.h>

#include <libical/ical.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/calendar/calendar.h"
#include "daemon/calendar/rrule.h"
#include "tests/unit/unit.h"

#define HEAD	"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//crier//tests//EN\n"
#define TAIL	"END:VCALENDAR\n"

#define FIRST_YEAR	2019
#define LAST_YEAR	2035
#define MAXDAYS		6500	/* days from 2019-01-01 to 2035-12-31, and more */

/*
 * The independent computation: plain date arithmetic written for this test
 * (a day count from 2019-01-01, Zeller's congruence for the weekday, and a
 * week's owner year being the year of its fourth day), sharing nothing with
 * daemon/calendar/rrule.c and not using libical.
 */
struct day {
	int	 y, m, d;
	int	 wd;		/* 0 = Sunday */
	int	 weekno[7];	/* per week start: its week number */
	int	 nweeks[7];	/* per week start: weeks of the week's year */
};

static struct day	 days[MAXDAYS];
static int		 ndays;

/* Whether Y is a leap year. */
static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month M of year Y. */
static int
mdays(int y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 ? 28 + is_leap(y) : n[m - 1];
}

/* Zeller's congruence: weekday of Y-M-D, 0 = Sunday. */
static int
zeller(int y, int m, int d)
{
	int	 k, j, h;

	if (m < 3) {
		m += 12;
		y--;
	}
	k = y % 100;
	j = y / 100;
	h = (d + 13 * (m + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7;
	return (h + 6) % 7;	/* Zeller's 0 is Saturday */
}

/* Moves Y-M-D by one day forward (DIR 1) or back (-1). */
static void
step(int *y, int *m, int *d, int dir)
{
	if (dir > 0) {
		if (++*d > mdays(*y, *m)) {
			*d = 1;
			if (++*m > 12) {
				*m = 1;
				++*y;
			}
		}
	} else if (--*d < 1) {
		if (--*m < 1) {
			*m = 12;
			--*y;
		}
		*d = mdays(*y, *m);
	}
}

/* Day of year of Y-M-D. */
static int
yday(int y, int m, int d)
{
	int	 i, n = d;

	for (i = 1; i < m; i++)
		n += mdays(y, i);
	return n;
}

/*
 * Week number of Y-M-D for weeks starting on WKST and the year the week
 * belongs to (the year of its fourth day).
 */
static int
weekno(int y, int m, int d, int wkst, int *owner)
{
	int	 back = (zeller(y, m, d) - wkst + 7) % 7, i;

	/* to the week's first day, then to its fourth */
	for (i = 0; i < back; i++)
		step(&y, &m, &d, -1);
	for (i = 0; i < 3; i++)
		step(&y, &m, &d, 1);
	*owner = y;
	return (yday(y, m, d) - 1) / 7 + 1;
}

/* Fills days[] with 2019-01-01 .. 2035-12-31. */
static void
make_days(void)
{
	int	 y = FIRST_YEAR, m = 1, d = 1, w, owner, o2;

	if (ndays > 0)
		return;
	while (y <= LAST_YEAR) {
		days[ndays].y = y;
		days[ndays].m = m;
		days[ndays].d = d;
		days[ndays].wd = zeller(y, m, d);
		for (w = 0; w < 7; w++) {
			days[ndays].weekno[w] = weekno(y, m, d, w, &owner);
			/* 28 December is always in the last week of its year */
			days[ndays].nweeks[w] = weekno(owner, 12, 28, w, &o2);
		}
		ndays++;
		step(&y, &m, &d, 1);
	}
}

static const char *const wdname[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };

/*
 * Every YEARLY rule with one BYWEEKNO in ±1..±53, any set of BYDAY days (or
 * none: DTSTART's weekday) and any WKST, enumerated by crier from
 * 2019-01-01 through 2035, equals the independent computation.
 */
START_TEST(byweekno_table)
{
	char			 rs[256], got[64], want[64];
	struct icalrecurrencetype r;
	struct icaltimetype	 start = icaltime_null_time(), t;
	struct rrule_iter	*it;
	int			 wk, n, mask, i, k, cand[MAXDAYS], ncand, nw, rules = 0;
	long			 instances = 0;

	make_days();
	start.year = FIRST_YEAR;
	start.month = 1;
	start.day = 1;		/* a Tuesday */
	start.hour = 9;
	for (wk = 0; wk < 7; wk++)
	for (n = -53; n <= 53; n++) {
		if (n == 0)
			continue;
		ncand = 0;
		for (i = 0; i < ndays; i++)
			if (days[i].weekno[wk] == n || days[i].weekno[wk] -
			    days[i].nweeks[wk] - 1 == n)
				cand[ncand++] = i;
		for (mask = 0; mask < 128; mask++) {
			k = snprintf(rs, sizeof(rs), "FREQ=YEARLY;BYWEEKNO=%d;WKST=%s",
			    n, wdname[wk]);
			for (i = 0; i < 7; i++)
				if (mask & (1 << i))
					k += snprintf(rs + k, sizeof(rs) - (size_t)k,
					    "%s%s", strstr(rs, "BYDAY") ? "," :
					    ";BYDAY=", wdname[i]);
			/* plain ifs here: each ck_assert writes to Check's pipe */
			r = icalrecurrencetype_from_string(rs);
			if (r.freq != ICAL_YEARLY_RECURRENCE ||
			    (it = rrule_iter_new(&r, start)) == NULL)
				ck_abort_msg("%s: refused", rs);
			rules++;
			nw = 0;
			for (;;) {
				t = rrule_iter_next(it);
				if (icaltime_is_null_time(t) || t.year > LAST_YEAR)
					break;
				/* the next expected day */
				while (nw < ncand && !((mask == 0 &&
				    days[cand[nw]].wd == 2) || (mask &
				    (1 << days[cand[nw]].wd))))
					nw++;
				if (nw < ncand && t.year == days[cand[nw]].y &&
				    t.month == days[cand[nw]].m &&
				    t.day == days[cand[nw]].d && t.hour == 9 &&
				    t.minute == 0 && t.second == 0) {
					nw++;
					instances++;
					continue;
				}
				snprintf(got, sizeof(got), "%04d-%02d-%02dT%02d:%02d:%02d",
				    t.year, t.month, t.day, t.hour, t.minute, t.second);
				if (nw >= ncand)
					ck_abort_msg("%s: extra instance %s", rs, got);
				snprintf(want, sizeof(want), "%04d-%02d-%02dT09:00:00",
				    days[cand[nw]].y, days[cand[nw]].m, days[cand[nw]].d);
				ck_abort_msg("%s: got %s, expected %s", rs, got, want);
			}
			while (nw < ncand && !((mask == 0 && days[cand[nw]].wd == 2) ||
			    (mask & (1 << days[cand[nw]].wd))))
				nw++;
			if (nw != ncand)
				ck_abort_msg("%s: missing %04d-%02d-%02d", rs,
				    days[cand[nw]].y, days[cand[nw]].m,
				    days[cand[nw]].d);
			rrule_iter_free(it);
		}
	}
	ck_assert_int_eq(rules, 7 * 106 * 128);
	/* every week of 17 years, each day under 64 of the 128 BYDAY sets */
	ck_assert_int_gt(instances, 100000);
	printf("byweekno_table: %d rules, %ld instances, all as computed\n",
	    rules, instances);
}
END_TEST

/* Week numbers against known ISO weeks and other week starts. */
START_TEST(week_numbers)
{
	int	 wy, y;

	ck_assert_int_eq(rrule_week_no(2019, 12, 30, 1, &wy), 1);
	ck_assert_int_eq(wy, 2020);
	ck_assert_int_eq(rrule_week_no(2021, 1, 3, 1, &wy), 53);
	ck_assert_int_eq(wy, 2020);
	ck_assert_int_eq(rrule_weeks_in_year(2025, 1), 52);
	ck_assert_int_eq(rrule_weeks_in_year(2026, 1), 53);
	ck_assert_int_eq(rrule_weeks_in_year(2020, 1), 53);
	/* with weeks starting on Sunday, 2019-12-29 starts week 1 of 2020 */
	ck_assert_int_eq(rrule_week_no(2019, 12, 29, 0, &wy), 1);
	ck_assert_int_eq(wy, 2020);
	make_days();
	for (y = 0; y < ndays; y += 37)
		for (int w = 0; w < 7; w++)
			ck_assert_int_eq(rrule_week_no(days[y].y, days[y].m,
			    days[y].d, w, &wy), days[y].weekno[w]);
}
END_TEST

static struct cal_calendar	*cal;
static struct cal_occurrence	*occ;
static ssize_t			 nocc;

/* Parses TEXT (default zone TZ) and expands 2019..2036. */
static void
load(const char *text, const char *tz)
{
	char	 err[1024];

	cal = cal_parse(text, strlen(text), "rrule-test.ics", tz, err, sizeof(err));
	ck_assert_msg(cal != NULL, "parse failed: %s", err);
	nocc = cal_expand(cal, (time_t)1546300800, (time_t)2082758400, &occ);
	ck_assert_int_ge(nocc, 0);
}

/* Frees what load() made. */
static void
teardown(void)
{
	cal_occurrences_free(occ, nocc > 0 ? (size_t)nocc : 0);
	cal_free(cal);
	occ = NULL;
	nocc = 0;
	cal = NULL;
}

/* The starts of the occurrences, joined by spaces, in BUF. */
static const char *
starts(char *buf, size_t len)
{
	size_t	 k = 0;
	ssize_t	 i;

	buf[0] = '\0';
	for (i = 0; i < nocc && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? " " : "",
		    occ[i].start_str);
	return buf;
}

/* The three cases of the issue through the calendar expansion, where libical 3.0 is wrong. */
START_TEST(issue_cases)
{
	char	 buf[1024];

	load(HEAD "BEGIN:VEVENT\nUID:su\nDTSTART:20191229T090000Z\n"
	    "RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=SU;WKST=SU;COUNT=3\n"
	    "END:VEVENT\n" TAIL, NULL);
	/* week 1 (Sunday weeks) of 2020 starts 2019-12-29; no Monday 12-30 */
	ck_assert_str_eq(starts(buf, sizeof(buf)), "2019-12-29T09:00:00Z "
	    "2021-01-03T09:00:00Z 2022-01-02T09:00:00Z");
	teardown();
	load(HEAD "BEGIN:VEVENT\nUID:mo\nDTSTART:20190101T090000Z\n"
	    "RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;UNTIL=20230201T000000Z\n"
	    "END:VEVENT\n" TAIL, NULL);
	/* DTSTART (a Tuesday) first, then Mondays only: no Tuesday 2019-12-31 */
	ck_assert_str_eq(starts(buf, sizeof(buf)), "2019-01-01T09:00:00Z "
	    "2019-12-30T09:00:00Z 2021-01-04T09:00:00Z 2022-01-03T09:00:00Z "
	    "2023-01-02T09:00:00Z");
	teardown();
	load(HEAD "BEGIN:VEVENT\nUID:53\nDTSTART:20201228T090000Z\n"
	    "RRULE:FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO;UNTIL=20330101T000000Z\n"
	    "END:VEVENT\n" TAIL, NULL);
	/* 2025 has no week 53: no 2025-12-29; 2026 and 2032 have one */
	ck_assert_str_eq(starts(buf, sizeof(buf)), "2020-12-28T09:00:00Z "
	    "2026-12-28T09:00:00Z 2032-12-27T09:00:00Z");
	ck_assert_int_eq(nocc, 3);
}
END_TEST

/* Instances of libical are checked against the rule: what does not hold is dropped. */
START_TEST(matches)
{
	struct icalrecurrencetype r;
	struct icaltimetype	 t = icaltime_from_string("20260227T090000");

	r = icalrecurrencetype_from_string("FREQ=MONTHLY;BYDAY=-1FR");
	ck_assert(rrule_matches(&r, t));		/* last Friday of Feb 2026 */
	t.day = 20;
	ck_assert(!rrule_matches(&r, t));
	r = icalrecurrencetype_from_string("FREQ=YEARLY;BYMONTH=5;BYDAY=3MO");
	t = icaltime_from_string("20260518T090000");
	ck_assert(rrule_matches(&r, t));
	t.day = 11;
	ck_assert(!rrule_matches(&r, t));
	r = icalrecurrencetype_from_string("FREQ=YEARLY;BYDAY=20MO");
	t = icaltime_from_string("20260518T090000");	/* the 20th Monday of 2026 */
	ck_assert(rrule_matches(&r, t));
	r = icalrecurrencetype_from_string("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9,17");
	t = icaltime_from_string("20260228T170000");
	ck_assert(rrule_matches(&r, t));
	t.hour = 10;
	ck_assert(!rrule_matches(&r, t));
	t = icaltime_from_string("20260227T170000");
	ck_assert(!rrule_matches(&r, t));
	r = icalrecurrencetype_from_string("FREQ=YEARLY;BYYEARDAY=-1");
	ck_assert(rrule_matches(&r, icaltime_from_string("20281231T090000")));
	ck_assert(!rrule_matches(&r, icaltime_from_string("20281230T090000")));
}
END_TEST

/* Rules crier refuses, with the reason. */
START_TEST(refused_rules)
{
	struct icalrecurrencetype r;
	char			 why[128];

	r = icalrecurrencetype_from_string("FREQ=MONTHLY;BYWEEKNO=3");
	ck_assert_int_eq(rrule_check(&r, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "FREQ=YEARLY"));
	r = icalrecurrencetype_from_string("FREQ=YEARLY;BYWEEKNO=3;BYDAY=1MO");
	ck_assert_int_eq(rrule_check(&r, why, sizeof(why)), -1);
	r = icalrecurrencetype_from_string("FREQ=YEARLY;BYWEEKNO=3;BYDAY=MO");
	ck_assert_int_eq(rrule_check(&r, why, sizeof(why)), 0);
	load(HEAD "BEGIN:VEVENT\nUID:w\nDTSTART:20260101T090000Z\n"
	    "RRULE:FREQ=WEEKLY;BYWEEKNO=3\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 0);
}
END_TEST

/* End of the only occurrence, as --check --json writes it. */
static const char *
end_of(const char *event, const char *tz)
{
	static char	 buf[64];
	char		 text[2048];

	snprintf(text, sizeof(text), HEAD "BEGIN:VEVENT\nUID:d\n%sEND:VEVENT\n"
	    TAIL, event);
	load(text, tz);
	ck_assert_int_eq(nocc, 1);
	snprintf(buf, sizeof(buf), "%s", occ[0].end_str);
	teardown();
	return buf;
}

/* DURATION days and weeks keep the wall clock across DST; hours are exact. */
START_TEST(nominal_durations)
{
	/* London, spring forward 2026-03-29: 09:00 BST next day is 08:00Z */
	ck_assert_str_eq(end_of("DTSTART;TZID=Europe/London:20260328T090000\n"
	    "DURATION:P1D\n", NULL), "2026-03-29T08:00:00Z");
	ck_assert_str_eq(end_of("DTSTART;TZID=Europe/London:20260328T090000\n"
	    "DURATION:PT24H\n", NULL), "2026-03-29T09:00:00Z");
	ck_assert_str_eq(end_of("DTSTART;TZID=Europe/London:20260328T090000\n"
	    "DURATION:P1DT2H\n", NULL), "2026-03-29T10:00:00Z");
	ck_assert_str_eq(end_of("DTSTART;TZID=Europe/London:20260325T090000\n"
	    "DURATION:P1W\n", NULL), "2026-04-01T08:00:00Z");
	/* New York, fall back 2026-11-01: 09:00 EST is 14:00Z */
	ck_assert_str_eq(end_of("DTSTART;TZID=America/New_York:20261031T090000\n"
	    "DURATION:P1D\n", NULL), "2026-11-01T14:00:00Z");
	ck_assert_str_eq(end_of("DTSTART;TZID=America/New_York:20261031T090000\n"
	    "DURATION:PT24H\n", NULL), "2026-11-01T13:00:00Z");
	/* Sydney, DST starts 2026-10-04: 09:00 AEDT is 22:00Z the day before */
	ck_assert_str_eq(end_of("DTSTART;TZID=Australia/Sydney:20261003T090000\n"
	    "DURATION:P1D\n", NULL), "2026-10-03T22:00:00Z");
	ck_assert_str_eq(end_of("DTSTART;TZID=Australia/Sydney:20261003T090000\n"
	    "DURATION:PT24H\n", NULL), "2026-10-03T23:00:00Z");
	/* floating time read in the default zone: nominal there too */
	ck_assert_str_eq(end_of("DTSTART:20260328T090000\nDURATION:P1D\n",
	    "Europe/London"), "2026-03-29T08:00:00Z");
	/* UTC: no difference */
	ck_assert_str_eq(end_of("DTSTART:20260328T090000Z\nDURATION:P1D\n", NULL),
	    "2026-03-29T09:00:00Z");
}
END_TEST

/* Each instance of a series gets its own nominal end. */
START_TEST(nominal_series)
{
	load(HEAD "BEGIN:VEVENT\nUID:s\nDTSTART;TZID=Europe/London:20260327T090000\n"
	    "DURATION:P1D\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:p\nDTSTART;TZID=Europe/London:20260301T090000\n"
	    "RDATE;TZID=Europe/London;VALUE=PERIOD:20260328T120000/P1D\n"
	    "END:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 5);
	ck_assert_str_eq(occ[1].start_str, "2026-03-27T09:00:00Z");
	ck_assert_str_eq(occ[1].end_str, "2026-03-28T09:00:00Z");
	ck_assert_str_eq(occ[2].start_str, "2026-03-28T09:00:00Z");
	ck_assert_str_eq(occ[2].end_str, "2026-03-29T08:00:00Z");
	ck_assert_str_eq(occ[3].uid, "p");
	ck_assert_str_eq(occ[3].end_str, "2026-03-29T11:00:00Z");
	ck_assert_str_eq(occ[4].start_str, "2026-03-29T08:00:00Z");
	ck_assert_str_eq(occ[4].end_str, "2026-03-30T08:00:00Z");
}
END_TEST

/* Asserts the only problem names the file, LINE, PROP and VALUE, and nothing is listed. */
static void
expect_bad(const char *event, int line, const char *prop, const char *value)
{
	char			 text[2048], want[64];
	const struct cal_problem *p;
	size_t			 n;

	snprintf(text, sizeof(text), HEAD "BEGIN:VEVENT\nUID:bad\n%sEND:VEVENT\n"
	    TAIL, event);
	load(text, NULL);
	p = cal_problems(cal, &n);
	ck_assert_int_eq(n, 1);
	snprintf(want, sizeof(want), "rrule-test.ics:%d: ", line);
	ck_assert_msg(strncmp(p[0].msg, want, strlen(want)) == 0, "%s", p[0].msg);
	ck_assert_int_eq(p[0].line, line);
	ck_assert_msg(strstr(p[0].msg, prop) != NULL, "%s", p[0].msg);
	ck_assert_msg(strstr(p[0].msg, value) != NULL, "%s", p[0].msg);
	ck_assert_int_eq(nocc, 0);
	teardown();
}

/* Invalid dates and times are problems naming file, line, property and value. */
START_TEST(invalid_dates)
{
	/* lines: 1-3 head, 4 BEGIN:VEVENT, 5 UID, 6.. the event */
	expect_bad("DTSTART;TZID=Europe/London:20260230T090000\n", 6, "DTSTART",
	    "20260230T090000");
	expect_bad("SUMMARY:x\nDTSTART:20261201T250000Z\n", 7, "DTSTART",
	    "20261201T250000Z");
	expect_bad("DTSTART;VALUE=DATE:20261301\n", 6, "DTSTART", "20261301");
	expect_bad("DTSTART:20261231T235960Z\n", 6, "DTSTART", "20261231T235960Z");
	expect_bad("DTSTART:20260101T090000Z\nDTEND:20260101T096000Z\n", 7, "DTEND",
	    "20260101T096000Z");
	expect_bad("DTSTART:20260101T090000Z\nRECURRENCE-ID:20260431T090000Z\n", 7,
	    "RECURRENCE-ID", "20260431T090000Z");
	expect_bad("DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY;COUNT=3\n"
	    "RDATE:20260105T090000Z,\n 20260229T090000Z\n", 8, "RDATE",
	    "20260229T090000Z");
	expect_bad("DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY;COUNT=3\n"
	    "EXDATE:20260102T090000Z\nEXDATE:20261232T090000Z\n", 9, "EXDATE",
	    "20261232T090000Z");
	expect_bad("DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY;UNTIL=20270229T090000Z\n",
	    7, "RRULE", "UNTIL=20270229T090000Z");
	expect_bad("DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=DAILY;UNTIL=20270230\n",
	    7, "RRULE", "UNTIL=20270230");
	/* a real leap second is a real time */
	load(HEAD "BEGIN:VEVENT\nUID:ls\nDTSTART:20161231T235960Z\nEND:VEVENT\n"
	    TAIL, NULL);
	ck_assert_int_eq(nocc, 0);	/* before the window, but no problem */
	{
		size_t n;

		cal_problems(cal, &n);
		ck_assert_int_eq(n, 0);
	}
	ck_assert(rrule_leap_second(1483228799));	/* 2016-12-31T23:59:59Z */
	ck_assert(!rrule_leap_second(1483228798));
	ck_assert(!rrule_leap_second(1798761599));	/* 2026-12-31T23:59:59Z */
}
END_TEST

/* Rule checks, durations and dates suite. */
static Suite *
rrule_suite(void)
{
	Suite	*s = suite_create("rrule");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, byweekno_table);
	tcase_add_test(tc, week_numbers);
	tcase_add_test(tc, issue_cases);
	tcase_add_test(tc, matches);
	tcase_add_test(tc, refused_rules);
	tcase_add_test(tc, nominal_durations);
	tcase_add_test(tc, nominal_series);
	tcase_add_test(tc, invalid_dates);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	rc = unit_run(rrule_suite(), 0);

	icaltimezone_free_builtin_timezones();
	return (rc);
}
