/* Unit tests for daemon/calendar.c: time zones, recurrence, crier's conventions. */
#include <config.h>

#include <libical/ical.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/calendar/calendar.h"
#include "daemon/calendar/tz.h"
#include "tests/unit/unit.h"

#define W_FROM	((time_t)946684800)	/* 2000-01-01 */
#define W_TO	((time_t)4102444800)	/* 2100-01-01 */

#define HEAD	"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//crier//tests//EN\n"
#define TAIL	"END:VCALENDAR\n"

static struct cal_calendar	*cal;
static struct cal_occurrence	*occ;
static ssize_t			 nocc;
static char			 err[1024];

/* Parses TEXT with default zone TZ and expands it over the whole window. */
static void
load(const char *text, const char *tz)
{
	cal = cal_parse(text, strlen(text), "test.ics", tz, err, sizeof(err));
	ck_assert_msg(cal != NULL, "parse failed: %s", err);
	nocc = cal_expand(cal, W_FROM, W_TO, &occ);
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

/* Number of problems of the loaded calendar. */
static size_t
nproblems(void)
{
	size_t	 n;

	cal_problems(cal, &n);
	return n;
}

/* Asserts occurrence I starts and ends as given. */
static void
expect(ssize_t i, const char *start, const char *end)
{
	ck_assert_int_lt(i, nocc);
	ck_assert_str_eq(occ[i].start_str, start);
	ck_assert_str_eq(occ[i].end_str, end);
}

/* The value of variable NAME of occurrence O, or NULL. */
static const char *
var(const struct cal_occurrence *o, const char *name)
{
	size_t	 i;

	for (i = 0; i < o->nvars; i++)
		if (strcmp(o->vars[i].name, name) == 0)
			return o->vars[i].value;
	return NULL;
}

START_TEST(dst_gap)
{
	/* 01:30 does not exist in London on 2024-03-31: read with GMT, kept */
	load(HEAD "BEGIN:VEVENT\nUID:gap\nDTSTART;TZID=Europe/London:20240330T013000\n"
	    "DURATION:PT10M\nRRULE:FREQ=DAILY;COUNT=3\nSUMMARY:gap\nEND:VEVENT\n" TAIL,
	    NULL);
	ck_assert_int_eq(nocc, 3);
	expect(0, "2024-03-30T01:30:00Z", "2024-03-30T01:40:00Z");
	expect(1, "2024-03-31T01:30:00Z", "2024-03-31T01:40:00Z");
	expect(2, "2024-04-01T00:30:00Z", "2024-04-01T00:40:00Z");
	ck_assert_str_eq(occ[1].recurrence_id, "2024-03-31T01:30:00Z");
}
END_TEST

START_TEST(dst_overlap)
{
	/* 01:30 happens twice in London on 2024-10-27: the first (BST) one */
	load(HEAD "BEGIN:VEVENT\nUID:ov\nDTSTART;TZID=Europe/London:20241027T013000\n"
	    "DTEND;TZID=Europe/London:20241027T020000\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 1);
	/* 02:00 is not ambiguous: GMT, so the event lasts 1h30 */
	expect(0, "2024-10-27T00:30:00Z", "2024-10-27T02:00:00Z");
	ck_assert_str_eq(occ[0].recurrence_id, "");
}
END_TEST

START_TEST(exdate_tzid)
{
	load(HEAD "BEGIN:VEVENT\nUID:ex\nDTSTART;TZID=Europe/London:20210517T090000\n"
	    "RRULE:FREQ=DAILY;COUNT=5\nEXDATE;TZID=Europe/London:20210518T090000\n"
	    "EXDATE:20210520T080000Z\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 3);
	expect(0, "2021-05-17T08:00:00Z", "2021-05-17T08:00:00Z");
	expect(1, "2021-05-19T08:00:00Z", "2021-05-19T08:00:00Z");
	expect(2, "2021-05-21T08:00:00Z", "2021-05-21T08:00:00Z");
}
END_TEST

START_TEST(overrides)
{
	load(HEAD
	    "BEGIN:VEVENT\nUID:d\nDTSTART;TZID=Europe/London:20210517T090000\n"
	    "DTEND;TZID=Europe/London:20210517T093000\nRRULE:FREQ=DAILY;COUNT=3\n"
	    "SUMMARY:daily\nX-CRIER-CHANNELS:mastodon-ogp\nX-CRIER-TEMPLATE:ogw-daily\n"
	    "END:VEVENT\n"
	    "BEGIN:VEVENT\nUID:d\nRECURRENCE-ID;TZID=Europe/London:20210518T090000\n"
	    "DTSTART;TZID=Europe/London:20210518T123000\n"
	    "DTEND;TZID=Europe/London:20210518T130000\nSUMMARY:moved\nSEQUENCE:1\n"
	    "END:VEVENT\n"
	    "BEGIN:VEVENT\nUID:d\nRECURRENCE-ID;TZID=Europe/London:20210519T090000\n"
	    "DTSTART;TZID=Europe/London:20210519T090000\n"
	    "DTEND;TZID=Europe/London:20210519T093000\nSUMMARY:daily\n"
	    "STATUS:CANCELLED\nX-CRIER-CHANNELS:bluesky-ogp\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_uint_eq(cal_nevents(cal), 3);
	ck_assert_int_eq(nocc, 3);
	expect(0, "2021-05-17T08:00:00Z", "2021-05-17T08:30:00Z");
	ck_assert_int_eq(occ[0].status, CAL_SCHEDULED);
	expect(1, "2021-05-18T11:30:00Z", "2021-05-18T12:00:00Z");
	ck_assert_str_eq(occ[1].recurrence_id, "2021-05-18T08:00:00Z");
	ck_assert_str_eq(occ[1].summary, "moved");
	/* routing absent from an override comes from the master */
	ck_assert_str_eq(occ[1].channels, "mastodon-ogp");
	ck_assert_str_eq(occ[1].template, "ogw-daily");
	expect(2, "2021-05-19T08:00:00Z", "2021-05-19T08:30:00Z");
	ck_assert_int_eq(occ[2].status, CAL_CANCELLED);
	ck_assert_str_eq(occ[2].channels, "bluesky-ogp");
}
END_TEST

START_TEST(rdate_period)
{
	load(HEAD "BEGIN:VEVENT\nUID:p\nDTSTART:20240510T090000Z\nDURATION:PT30M\n"
	    "RDATE;VALUE=PERIOD:20240511T100000Z/20240511T120000Z,20240512T100000Z/PT15M\n"
	    "RDATE:20240513T090000Z\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 4);
	expect(0, "2024-05-10T09:00:00Z", "2024-05-10T09:30:00Z");
	expect(1, "2024-05-11T10:00:00Z", "2024-05-11T12:00:00Z");
	expect(2, "2024-05-12T10:00:00Z", "2024-05-12T10:15:00Z");
	expect(3, "2024-05-13T09:00:00Z", "2024-05-13T09:30:00Z");
	ck_assert_str_eq(occ[2].recurrence_id, "2024-05-12T10:00:00Z");
}
END_TEST

START_TEST(all_day)
{
	load(HEAD "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20240517\n"
	    "DTEND;VALUE=DATE:20240522\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20240601\nEND:VEVENT\n" TAIL,
	    "Europe/London");
	ck_assert_int_eq(nocc, 2);
	expect(0, "2024-05-17", "2024-05-22");
	ck_assert(occ[0].all_day);
	/* 00:00 on that day in the display zone (BST) */
	ck_assert_int_eq(occ[0].start, 1715900400);
	expect(1, "2024-06-01", "2024-06-02");
}
END_TEST

START_TEST(floating)
{
	load(HEAD "BEGIN:VEVENT\nUID:f\nDTSTART:20240701T090000\n"
	    "DTEND:20240701T091500\nEND:VEVENT\n" TAIL, "Europe/London");
	ck_assert_int_eq(nocc, 1);
	expect(0, "2024-07-01T08:00:00Z", "2024-07-01T08:15:00Z");
}
END_TEST

START_TEST(mozilla_prefix)
{
	load(HEAD "BEGIN:VTIMEZONE\nTZID:/mozilla.org/20050126_1/Europe/London\n"
	    "X-LIC-LOCATION:Europe/London\nBEGIN:STANDARD\nTZOFFSETFROM:+0000\n"
	    "TZOFFSETTO:+0000\nTZNAME:GMT\nDTSTART:19700101T000000\nEND:STANDARD\n"
	    "END:VTIMEZONE\n"
	    "BEGIN:VEVENT\nUID:m\n"
	    "DTSTART;TZID=/mozilla.org/20050126_1/Europe/London:20240701T090000\n"
	    "END:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 1);
	/* the system's London (BST), not the stale VTIMEZONE (GMT all year) */
	expect(0, "2024-07-01T08:00:00Z", "2024-07-01T08:00:00Z");
}
END_TEST

START_TEST(windows_names)
{
	load(HEAD "BEGIN:VEVENT\nUID:w1\n"
	    "DTSTART;TZID=W. Europe Standard Time:20240701T090000\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:w2\nDTSTART;TZID=GMT Standard Time:20240105T090000\n"
	    "END:VEVENT\n"
	    "BEGIN:VEVENT\nUID:w3\nDTSTART;TZID=\"GMT Standard Time\":20240705T090000\n"
	    "END:VEVENT\n" TAIL, NULL);
	ck_assert_uint_eq(nproblems(), 0);
	ck_assert_int_eq(nocc, 3);
	expect(0, "2024-01-05T09:00:00Z", "2024-01-05T09:00:00Z");
	expect(1, "2024-07-01T07:00:00Z", "2024-07-01T07:00:00Z");
	expect(2, "2024-07-05T08:00:00Z", "2024-07-05T08:00:00Z");
	ck_assert_str_eq(tz_windows_to_iana("Pacific Standard Time"),
	    "America/Los_Angeles");
	ck_assert_ptr_null(tz_windows_to_iana("Atlantis Standard Time"));
}
END_TEST

/* Counts table entries whose IANA zone is missing from the tz database. */
static void
count_missing(const char *win, const char *iana, void *arg)
{
	char		 text[512];
	struct cal_calendar *c;
	size_t		 n;

	snprintf(text, sizeof(text), HEAD "BEGIN:VEVENT\nUID:x\n"
	    "DTSTART;TZID=%s:20240701T090000\nEND:VEVENT\n" TAIL, iana);
	c = cal_parse(text, strlen(text), "t.ics", NULL, err, sizeof(err));
	cal_problems(c, &n);
	if (n > 0) {
		fprintf(stderr, "missing zone %s for %s\n", iana, win);
		(*(int *)arg)++;
	}
	cal_free(c);
}

START_TEST(windows_table)
{
	int	 missing = 0;

	ck_assert_uint_ge(tz_windows_each(count_missing, &missing), 130);
	ck_assert_int_eq(missing, 0);
}
END_TEST

START_TEST(truncated_vtimezone)
{
	/* VTIMEZONE with only the 2018 changes: read literally it stays CET */
	load(HEAD "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:STANDARD\n"
	    "DTSTART:20181028T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n"
	    "TZNAME:CET\nEND:STANDARD\nEND:VTIMEZONE\n"
	    "BEGIN:VEVENT\nUID:t\nDTSTART;TZID=Europe/Berlin:20240701T090000\n"
	    "END:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 1);
	expect(0, "2024-07-01T07:00:00Z", "2024-07-01T07:00:00Z");
}
END_TEST

START_TEST(custom_vtimezone)
{
	load(HEAD "BEGIN:VTIMEZONE\nTZID:Head Office\nBEGIN:STANDARD\n"
	    "DTSTART:19700101T000000\nTZOFFSETFROM:+0530\nTZOFFSETTO:+0530\n"
	    "TZNAME:IST\nEND:STANDARD\nEND:VTIMEZONE\n"
	    "BEGIN:VEVENT\nUID:c\nDTSTART;TZID=Head Office:20240701T090000\n"
	    "DTEND;TZID=Head Office:20240701T100000\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_uint_eq(nproblems(), 0);
	ck_assert_int_eq(nocc, 1);
	expect(0, "2024-07-01T03:30:00Z", "2024-07-01T04:30:00Z");
}
END_TEST

START_TEST(unknown_tzid)
{
	const struct cal_problem	*p;
	size_t				 n;

	load(HEAD "BEGIN:VEVENT\nUID:ok\nDTSTART:20240701T090000Z\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:bad\nSUMMARY:a long summary that is folded over\n"
	    "  two lines\nDTSTART;TZID=Mars/Olympus_Mons:20240701T090000\n"
	    "END:VEVENT\n" TAIL, NULL);
	p = cal_problems(cal, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(p[0].line, 8);
	ck_assert_str_eq(p[0].uid, "bad");
	ck_assert_ptr_nonnull(strstr(p[0].msg, "Mars/Olympus_Mons"));
	ck_assert_ptr_nonnull(strstr(p[0].msg, "test.ics:8:"));
	ck_assert_int_eq(nocc, 1);
	ck_assert_str_eq(occ[0].uid, "ok");
	ck_assert_int_eq(occ[0].line, 4);
}
END_TEST

START_TEST(bad_rrule)
{
	const struct cal_problem	*p;
	size_t				 n;

	load(HEAD "BEGIN:VEVENT\nUID:r\nDTSTART;TZID=Europe/London:20190801T140000\n"
	    "RRULE:FREQ=WEEKLY;UNTL=20191023;BYDAY=TH\nEND:VEVENT\n" TAIL, NULL);
	p = cal_problems(cal, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(p[0].msg, "UNTL"));
	ck_assert_ptr_nonnull(strstr(p[0].msg, "test.ics:4:"));
	ck_assert_int_eq(nocc, 0);
}
END_TEST

START_TEST(front_matter)
{
	load(HEAD "BEGIN:VEVENT\nUID:fm\nDTSTART:20240701T090000Z\n"
	    "X-CRIER-CHANNELS:newsletter\nX-CRIER-VAR-THEME:Climate\n"
	    "DESCRIPTION:channels: mastodon-ogp\\, bluesky-ogp\\ntemplate: ogw-daily\\n"
	    "theme: Gender\\nmedia: /srv/crier/media/poster.png\\nalt: A poster\\n"
	    "Hashtag: BreakTheRoles\\n---\\nThe body: with a colon.\\nSecond line.\n"
	    "END:VEVENT\n"
	    "BEGIN:VEVENT\nUID:nofm\nDTSTART:20240702T090000Z\n"
	    "DESCRIPTION:Note: this is not front matter\\nbecause this line has none\\n"
	    "---\\nrest\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 2);
	ck_assert_str_eq(occ[0].channels, "mastodon-ogp,bluesky-ogp");
	ck_assert_str_eq(occ[0].template, "ogw-daily");
	ck_assert_str_eq(var(&occ[0], "theme"), "Gender");
	ck_assert_str_eq(var(&occ[0], "hashtag"), "BreakTheRoles");
	ck_assert_uint_eq(occ[0].nattach, 1);
	ck_assert_str_eq(occ[0].attach[0].uri, "/srv/crier/media/poster.png");
	ck_assert_str_eq(occ[0].attach[0].alt, "A poster");
	ck_assert_str_eq(occ[0].description, "The body: with a colon.\nSecond line.");
	ck_assert_str_eq(occ[1].description,
	    "Note: this is not front matter\nbecause this line has none\n---\nrest");
	ck_assert_ptr_null(occ[1].channels);
}
END_TEST

START_TEST(x_crier)
{
	load(HEAD "BEGIN:VEVENT\nUID:x\nDTSTART:20240701T090000Z\n"
	    "X-CRIER-CHANNELS: mastodon-ogp , bluesky-ogp\n"
	    "X-CRIER-TEMPLATE:ogw-daily\nX-CRIER-VAR-THEME:Open\\, fair data\n"
	    "X-CRIER-VAR-Country-Code:GB\nX-OUTREACH-CHANNELS:ignored\n"
	    "URL:https://www.opengovpartnership.org/open-gov-week/\nLOCATION:Online\n"
	    "END:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 1);
	ck_assert_str_eq(occ[0].channels, "mastodon-ogp,bluesky-ogp");
	ck_assert_str_eq(occ[0].template, "ogw-daily");
	ck_assert_str_eq(var(&occ[0], "theme"), "Open, fair data");
	ck_assert_str_eq(var(&occ[0], "country-code"), "GB");
	ck_assert_uint_eq(occ[0].nvars, 2);
	ck_assert_str_eq(occ[0].url, "https://www.opengovpartnership.org/open-gov-week/");
	ck_assert_str_eq(occ[0].location, "Online");
}
END_TEST

START_TEST(attach_alt)
{
	load(HEAD "BEGIN:VEVENT\nUID:at\nDTSTART:20240701T090000Z\n"
	    "ATTACH;FMTTYPE=image/png;X-CRIER-ALT=\"Logo: Open Gov Week\":https://ex\n"
	    " ample.org/ogw.png\nATTACH;FMTTYPE=image/jpeg:file:///srv/media/a.jpg\n"
	    "ATTACH:/srv/media/b.png\n"
	    "ATTACH;X-CRIER-ALT=\"A sign: ^'Open^' \\o/\":https://example.org/c.png\n"
	    "END:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 1);
	ck_assert_uint_eq(occ[0].nattach, 4);
	ck_assert_str_eq(occ[0].attach[3].alt, "A sign: \"Open\" \\o/");
	ck_assert_str_eq(occ[0].attach[0].uri, "https://example.org/ogw.png");
	ck_assert_str_eq(occ[0].attach[0].fmttype, "image/png");
	ck_assert_str_eq(occ[0].attach[0].alt, "Logo: Open Gov Week");
	ck_assert_str_eq(occ[0].attach[1].uri, "file:///srv/media/a.jpg");
	ck_assert_ptr_null(occ[0].attach[1].alt);
	ck_assert_str_eq(occ[0].attach[2].uri, "/srv/media/b.png");
	ck_assert_ptr_null(occ[0].attach[2].fmttype);
}
END_TEST

START_TEST(categories)
{
	load(HEAD "BEGIN:VEVENT\nUID:cat\nDTSTART:20240701T090000Z\n"
	    "CATEGORIES:OpenGovWeek,BreakTheRoles\nCATEGORIES:Gender\n"
	    "END:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 1);
	ck_assert_uint_eq(occ[0].ncategories, 3);
	ck_assert_str_eq(occ[0].categories[0], "OpenGovWeek");
	ck_assert_str_eq(occ[0].categories[1], "BreakTheRoles");
	ck_assert_str_eq(occ[0].categories[2], "Gender");
}
END_TEST

START_TEST(test_crlf)
{
	const char	*lf = HEAD "BEGIN:VEVENT\nUID:c\nDTSTART;TZID=Europe/London:"
	    "20240701T090000\nRRULE:FREQ=WEEKLY;COUNT=3\nSUMMARY:trailing space \n"
	    "END:VEVENT\n" TAIL;
	char		 crlf[1024], *o = crlf;
	const char	*s;

	for (s = lf; *s != '\0'; s++) {
		if (*s == '\n')
			*o++ = '\r';
		*o++ = *s;
	}
	*o = '\0';
	load(crlf, NULL);
	ck_assert_int_eq(nocc, 3);
	expect(2, "2024-07-15T08:00:00Z", "2024-07-15T08:00:00Z");
	ck_assert_str_eq(occ[0].summary, "trailing space ");
	ck_assert_int_eq(occ[0].line, 4);
}
END_TEST

START_TEST(far_future)
{
	/* after the last transition in the TZif file: its POSIX rule */
	load(HEAD "BEGIN:VEVENT\nUID:ff\nDTSTART;TZID=Europe/London:20450701T120000\n"
	    "END:VEVENT\nBEGIN:VEVENT\nUID:fg\n"
	    "DTSTART;TZID=Australia/Sydney:20450701T120000\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 2);
	expect(0, "2045-07-01T02:00:00Z", "2045-07-01T02:00:00Z");
	expect(1, "2045-07-01T11:00:00Z", "2045-07-01T11:00:00Z");
}
END_TEST

START_TEST(size_limit)
{
	size_t	 len = (size_t)CAL_MAX_SIZE + 1;
	char	*big = malloc(len);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	memcpy(big, HEAD, strlen(HEAD));
	cal = cal_parse(big, len, "big.ics", NULL, err, sizeof(err));
	free(big);
	ck_assert_ptr_null(cal);
	ck_assert_ptr_nonnull(strstr(err, "big.ics"));
	ck_assert_ptr_nonnull(strstr(err, "bytes"));
}
END_TEST

START_TEST(not_a_calendar)
{
	const char	*cut = HEAD "BEGIN:VEVENT\nUID:x\nDTSTART:20240701T090000Z\n";

	cal = cal_parse("hello\n", 6, "x.ics", NULL, err, sizeof(err));
	ck_assert_ptr_null(cal);
	ck_assert_ptr_nonnull(strstr(err, "x.ics"));
	cal = cal_parse(cut, strlen(cut), "cut.ics", NULL, err, sizeof(err));
	ck_assert_ptr_null(cal);
	ck_assert_ptr_nonnull(strstr(err, "cut.ics:1:"));
	cal = cal_parse(HEAD "BEGIN:VEVENT\nEND:VTODO\n" TAIL, strlen(HEAD
	    "BEGIN:VEVENT\nEND:VTODO\n" TAIL), "m.ics", NULL, err, sizeof(err));
	ck_assert_ptr_null(cal);
	ck_assert_ptr_nonnull(strstr(err, "m.ics:5: END:VTODO"));
	cal = cal_parse(HEAD TAIL, strlen(HEAD TAIL), "t.ics", "Mars/Base", err,
	    sizeof(err));
	ck_assert_ptr_null(cal);
	ck_assert_ptr_nonnull(strstr(err, "Mars/Base"));
}
END_TEST

START_TEST(window_and_sort)
{
	struct cal_occurrence	*o;
	ssize_t			 n;

	load(HEAD "BEGIN:VEVENT\nUID:b\nDTSTART:20240701T090000Z\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:a\nDTSTART:20240701T090000Z\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:c\nDTSTART:20240701T100000Z\nEND:VEVENT\n" TAIL, NULL);
	ck_assert_int_eq(nocc, 3);
	ck_assert_str_eq(occ[0].uid, "a");
	ck_assert_str_eq(occ[1].uid, "b");
	/* [from, to): an occurrence at `to` is not in */
	n = cal_expand(cal, 1719824400, 1719828000, &o);
	ck_assert_int_eq(n, 2);
	cal_occurrences_free(o, (size_t)n);
}
END_TEST

/*
 * Sub-daily rules are enumerated by crier, not libical: for rules libical
 * handles quickly, both must give the same instants (UTC and zoned, with
 * COUNT, UNTIL, INTERVAL and BY parts).
 */
START_TEST(subdaily_agrees)
{
	static const char *const rules[] = {
		"FREQ=HOURLY;COUNT=30",
		"FREQ=HOURLY;INTERVAL=3;BYDAY=MO,WE;COUNT=25",
		"FREQ=MINUTELY;INTERVAL=30;COUNT=12",
		"FREQ=HOURLY;BYHOUR=9,13,17;BYDAY=TU,TH;COUNT=20",
		"FREQ=MINUTELY;INTERVAL=20;BYHOUR=10,11;COUNT=18",
		"FREQ=HOURLY;INTERVAL=6;BYMONTHDAY=1,15;COUNT=16",
		"FREQ=MINUTELY;INTERVAL=45;BYHOUR=9,10;UNTIL=20270324T120000Z",
		"FREQ=HOURLY;BYMONTH=3;BYHOUR=8;COUNT=10",
		"FREQ=SECONDLY;INTERVAL=1800;COUNT=9",
		"FREQ=HOURLY;INTERVAL=5;BYYEARDAY=80,81;COUNT=8",
		"FREQ=HOURLY;BYSETPOS=1;COUNT=5",
	};
	static const char *const starts[] = {
		"DTSTART:20270318T090000Z",
		/* no DST change near: libical converts times in a gap otherwise */
		"DTSTART;TZID=America/New_York:20270610T230000",
	};
	struct cal_limits	 lim;
	char			 text[1024];
	size_t			 r, z, k, got;

	for (r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
		for (z = 0; z < 2; z++) {
			icalrecur_iterator	*it;
			struct icaltimetype	 t, dt;
			time_t			 want[65];

			snprintf(text, sizeof(text), HEAD "BEGIN:VEVENT\nUID:s\n%s\n"
			    "RRULE:%s\nSUMMARY:x\nEND:VEVENT\n" TAIL, starts[z],
			    rules[r]);
			/* libical's own answer, converted as crier does */
			dt = icaltime_from_string(strchr(starts[z], ':') + 1);
			if (z == 1)
				dt = icaltime_set_timezone(&dt,
				    icaltimezone_get_builtin_timezone("America/New_York"));
			it = icalrecur_iterator_new(icalrecurrencetype_from_string(
			    rules[r]), dt);
			ck_assert_ptr_nonnull(it);
			for (k = 0; k < 64; k++) {
				t = icalrecur_iterator_next(it);
				if (icaltime_is_null_time(t))
					break;
				want[k] = icaltime_as_timet_with_zone(t, z == 1 ?
				    icaltimezone_get_builtin_timezone("America/New_York") :
				    icaltimezone_get_utc_timezone());
			}
			icalrecur_iterator_free(it);
			/* DTSTART is always the first instance (RFC 5545 3.8.5.3) */
			if (k == 0 || want[0] != icaltime_as_timet_with_zone(dt,
			    z == 1 ? icaltimezone_get_builtin_timezone(
			    "America/New_York") : icaltimezone_get_utc_timezone())) {
				memmove(want + 1, want, k * sizeof(*want));
				want[0] = icaltime_as_timet_with_zone(dt, z == 1 ?
				    icaltimezone_get_builtin_timezone("America/New_York") :
				    icaltimezone_get_utc_timezone());
				k++;
			}
			cal = cal_parse(text, strlen(text), "t.ics", NULL, err,
			    sizeof(err));
			ck_assert_ptr_nonnull(cal);
			memset(&lim, 0, sizeof(lim));
			cal_set_limits(cal, &lim);
			nocc = cal_expand(cal, W_FROM, W_TO, &occ);
			got = nocc > 0 ? (size_t)nocc : 0;
			ck_assert_msg(got == k, "%s %s: %zu instances, libical %zu",
			    rules[r], starts[z], got, k);
			for (k = 0; k < got; k++)
				ck_assert_msg(occ[k].start == want[k], "%s %s: "
				    "instance %zu at %lld, libical %lld", rules[r],
				    starts[z], k, (long long)occ[k].start,
				    (long long)want[k]);
			teardown();
		}
}
END_TEST

/* Negative BYMONTHDAY in a sub-daily rule counts from the month's end (libical 3.0 misses it; dateutil agrees). */
START_TEST(subdaily_last_day)
{
	const char	*text = HEAD "BEGIN:VEVENT\nUID:s\nDTSTART:20270318T090000Z\n"
	    "RRULE:FREQ=HOURLY;INTERVAL=6;BYMONTHDAY=1,-1;COUNT=16\nSUMMARY:x\n"
	    "END:VEVENT\n" TAIL;

	load(text, NULL);
	ck_assert_int_eq(nocc, 17);	/* DTSTART and 16 */
	expect(1, "2027-03-31T03:00:00Z", "2027-03-31T03:00:00Z");
	expect(4, "2027-03-31T21:00:00Z", "2027-03-31T21:00:00Z");
	expect(5, "2027-04-01T03:00:00Z", "2027-04-01T03:00:00Z");
	expect(16, "2027-05-01T21:00:00Z", "2027-05-01T21:00:00Z");
}
END_TEST

/* The budget: dense rules, too many posts, rules that never match, bad zones. */
START_TEST(expansion_limits)
{
	struct cal_limits	 lim = { 900, 1000, 0, 0 };
	const struct cal_problem *pr;
	size_t			 n;
	static const struct { const char *rule, *want; } cases[] = {
		{ "FREQ=SECONDLY", "1s apart, closer than min_interval (15m)" },
		{ "FREQ=MINUTELY;INTERVAL=10", "10m apart" },
		{ "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,5", "5m apart" },
		{ "FREQ=HOURLY", "more than max_occurrences (1000)" },
		{ "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30", "can never match" },
		{ "FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31", "can never match" },
		{ "FREQ=MINUTELY;INTERVAL=30;COUNT=4", NULL },
		{ "FREQ=SECONDLY;BYHOUR=9;BYMINUTE=0;BYSECOND=0", NULL },
	};
	char	 text[1024];
	size_t	 i;
	time_t	 t0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), HEAD "BEGIN:VEVENT\nUID:x\n"
		    "DTSTART:20270101T090000Z\nRRULE:%s\nSUMMARY:x\nEND:VEVENT\n"
		    "BEGIN:VEVENT\nUID:fine\nDTSTART:20270102T090000Z\nSUMMARY:y\n"
		    "END:VEVENT\n" TAIL, cases[i].rule);
		cal = cal_parse(text, strlen(text), "t.ics", NULL, err, sizeof(err));
		ck_assert_ptr_nonnull(cal);
		cal_set_limits(cal, &lim);
		t0 = time(NULL);
		nocc = cal_expand(cal, 1798761600, 1806537600, &occ);	/* 2027 Q1 */
		ck_assert_int_le(time(NULL) - t0, 5);
		ck_assert_int_ge(nocc, 1);
		pr = cal_problems(cal, &n);
		if (cases[i].want == NULL)
			ck_assert_msg(n == 0, "%s: %s", cases[i].rule, pr[0].msg);
		else {
			ck_assert_msg(n == 1, "%s: %zu problems", cases[i].rule, n);
			ck_assert_msg(strstr(pr[0].msg, cases[i].want) != NULL,
			    "%s: %s", cases[i].rule, pr[0].msg);
			ck_assert_str_eq(pr[0].uid, "x");
			/* the refused event is left out, the other one stays */
			ck_assert_int_eq(nocc, 1);
			ck_assert_str_eq(occ[0].uid, "fine");
		}
		teardown();
	}
}
END_TEST

/* Long texts repeated by many events are bounded in memory too. */
START_TEST(memory_bound)
{
	struct cal_limits	 lim = { 0, 0, 0, 8 << 20 };
	char			*text, *p;
	size_t			 i;

	/* 40 daily events with 8 KiB descriptions: 40 * 365 * 8 KiB > 8 MiB */
	text = malloc(40 * 9000 + 256);
	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, HEAD);
	for (i = 0; i < 40; i++) {
		p += sprintf(p, "BEGIN:VEVENT\nUID:e%zu\nDTSTART:20270101T090000Z\n"
		    "RRULE:FREQ=DAILY\nDESCRIPTION:", i);
		memset(p, 'x', 8192);
		p += 8192;
		p += sprintf(p, "\nEND:VEVENT\n");
	}
	strcpy(p, TAIL);
	cal = cal_parse(text, strlen(text), "big.ics", NULL, err, sizeof(err));
	free(text);
	ck_assert_ptr_nonnull(cal);
	cal_set_limits(cal, &lim);
	nocc = cal_expand(cal, 1798761600, 1830297600, &occ);
	ck_assert_int_eq(nocc, -1);
	ck_assert_ptr_nonnull(strstr(cal_error(cal), "more than 8 MiB"));
	teardown();
}
END_TEST

/* An interrupted expansion stops with its reason, at once. */
START_TEST(interrupted)
{
	const char	*text = HEAD "BEGIN:VEVENT\nUID:x\nDTSTART:20270101T090000Z\n"
	    "RRULE:FREQ=DAILY\nSUMMARY:x\nEND:VEVENT\n" TAIL;

	cal = cal_parse(text, strlen(text), "t.ics", NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(cal);
	cal_interrupt();
	nocc = cal_expand(cal, W_FROM, W_TO, &occ);
	ck_assert_int_eq(nocc, -1);
	ck_assert_ptr_nonnull(strstr(cal_error(cal), "interrupted"));
	teardown();
}
END_TEST

/* Builds the suite. */
static Suite *
calendar_suite(void)
{
	Suite	*s = suite_create("calendar");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, dst_gap);
	tcase_add_test(tc, dst_overlap);
	tcase_add_test(tc, exdate_tzid);
	tcase_add_test(tc, overrides);
	tcase_add_test(tc, rdate_period);
	tcase_add_test(tc, all_day);
	tcase_add_test(tc, floating);
	tcase_add_test(tc, mozilla_prefix);
	tcase_add_test(tc, windows_names);
	tcase_add_test(tc, windows_table);
	tcase_add_test(tc, truncated_vtimezone);
	tcase_add_test(tc, custom_vtimezone);
	tcase_add_test(tc, unknown_tzid);
	tcase_add_test(tc, bad_rrule);
	tcase_add_test(tc, front_matter);
	tcase_add_test(tc, x_crier);
	tcase_add_test(tc, attach_alt);
	tcase_add_test(tc, categories);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, far_future);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, not_a_calendar);
	tcase_add_test(tc, window_and_sort);
	tcase_add_test(tc, subdaily_agrees);
	tcase_add_test(tc, subdaily_last_day);
	tcase_add_test(tc, expansion_limits);
	tcase_add_test(tc, memory_bound);
	tcase_add_test(tc, interrupted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	rc = unit_run(calendar_suite(), 0);

	icaltimezone_free_builtin_timezones();
	return (rc);
}
