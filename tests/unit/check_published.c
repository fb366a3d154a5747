/* Unit tests for published.c: the calendar parsed back with libical, field by field, and its atomic write. */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libical/ical.h>
#include <utf8proc.h>

#include "daemon/published.h"
#include "tests/unit/unit.h"

#define DOMAIN	"crier.example.org"
#define CJK10	"\xe9\x96\x8b\xe6\x94\xbe\xe6\x94\xbf\xe5\xba\x9c\xe9\x80\xb1" \
		"\xe9\x96\x93\xe6\x9d\xb1\xe4\xba\xac\xe5\xa4\xa7\xe9\x98\xaa"
#define FAMILY	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d" \
		"\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6"

/* 2027-05-17T08:00:00.250Z, 2027-05-18T12:30:45Z, 2027-05-19T23:59:59Z */
#define T1	INT64_C(1810540800250)
#define T2	INT64_C(1810643445000)
#define T3	INT64_C(1810771199000)

static const struct published_post posts[] = {
	{ "a1b2c3d4e5f6", "mastodon-ogp", T1,
	    "Day one of #OpenGovWeek, with commas; semicolons\\backslashes\r\n"
	    "and lines.\n\n" CJK10 CJK10 CJK10 " " FAMILY FAMILY FAMILY FAMILY
	    " https://opengovweek.example/day-1?lang=en&x=1",
	    "https://mastodon.example/@ogp/112233",
	    "ogw", "ogw-day1@opengovweek.example", "Opening day; welcome, all" },
	{ "0f0e0d0c0b0a", "bluesky-ogp", T2,
	    "Invalid \xff byte, a bell\x07 and a tab\there,\rold Mac line end",
	    "https://bsky.app/profile/ogp.example/post/3k a\"b",
	    "ogw", "ogw-day2@opengovweek.example", NULL },
	{ "ad-hoc.1_x", "news, letter", T3,
	    "An ad hoc post whose first line is long enough that the summary "
	    "must be cut at eighty bytes\nsecond line", NULL, NULL, NULL, "" },
};
#define NPOSTS	(sizeof(posts) / sizeof(posts[0]))

/* What each post's DESCRIPTION reads as once parsed. */
static const char *const want_desc[] = {
	"Day one of #OpenGovWeek, with commas; semicolons\\backslashes\n"
	"and lines.\n\n" CJK10 CJK10 CJK10 " " FAMILY FAMILY FAMILY FAMILY
	" https://opengovweek.example/day-1?lang=en&x=1",
	"Invalid \xef\xbf\xbd byte, a bell and a tab\there,\nold Mac line end",
	"An ad hoc post whose first line is long enough that the summary "
	"must be cut at eighty bytes\nsecond line",
};
static const char *const want_summary[] = {
	"mastodon-ogp: Opening day; welcome, all",
	"bluesky-ogp: Invalid \xef\xbf\xbd byte, a bell and a tab\there,",
	"news, letter: An ad hoc post whose first line is long enough that the "
	"summary must be cut at\xe2\x80\xa6",
};
static const char *const want_url[] = {
	"https://mastodon.example/@ogp/112233",
	"https://bsky.app/profile/ogp.example/post/3k%20a%22b",
	NULL,
};

/* Renders the sample posts into *OUT. */
static size_t
render(char **out)
{
	char	 err[256];
	size_t	 len;

	ck_assert_msg(published_render(posts, NPOSTS, DOMAIN, "OGW: published",
	    out, &len, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(strlen(*out), len);
	return len;
}

/* Every physical line: CRLF-ended, at most 75 octets, whole UTF-8 characters, no escape cut in two. */
START_TEST(test_lines)
{
	char		*s, *p, *e;
	size_t		 len, n, i, bs, folded = 0;
	int32_t		 cp;
	ssize_t		 r;

	len = render(&s);
	ck_assert(strncmp(s, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 30) == 0);
	ck_assert(len > 15 && strcmp(s + len - 15, "END:VCALENDAR\r\n") == 0);
	for (p = s; p < s + len; p = e + 2) {
		e = strstr(p, "\r\n");
		ck_assert_ptr_nonnull(e);
		n = (size_t)(e - p);
		ck_assert_msg(n <= 75, "line of %zu octets: %.*s", n, (int)n, p);
		ck_assert_msg(memchr(p, '\n', n) == NULL &&
		    memchr(p, '\r', n) == NULL, "bare line end in %.*s", (int)n, p);
		for (i = 0; i < n; i += (size_t)r) {
			r = utf8proc_iterate((const uint8_t *)p + i,
			    (ssize_t)(n - i), &cp);
			ck_assert_msg(r > 0, "line cuts a UTF-8 character: %.*s",
			    (int)n, p);
			ck_assert_msg(cp >= 0x20 || cp == '\t', "control %d",
			    (int)cp);
		}
		for (bs = 0; bs < n && p[n - 1 - bs] == '\\'; bs++)
			;
		ck_assert_msg(bs % 2 == 0, "escape cut at a fold: %.*s", (int)n,
		    p);
		if (*p == ' ')
			folded++;
	}
	/* The CJK and emoji description needs several folds. */
	ck_assert_uint_ge(folded, 4);
	free(s);
}
END_TEST

/* The text value of property KIND of C, or NULL. */
static const char *
prop_str(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty	*p = icalcomponent_get_first_property(c, kind);

	return p != NULL ? icalproperty_get_value_as_string(p) : NULL;
}

/* The value of X property NAME of C, unescaped by libical, or NULL. */
static const char *
x_str(icalcomponent *c, const char *name)
{
	icalproperty	*p;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY);
	    p != NULL; p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
		if (strcmp(icalproperty_get_x_name(p), name) == 0)
			return icalproperty_get_x(p);
	return NULL;
}

/* libical reads back every field of every post. */
START_TEST(test_libical)
{
	icalcomponent		*cal, *ev;
	icalproperty		*p;
	struct icaltimetype	 t;
	struct icaldurationtype	 d;
	char			*s, uid[128];
	size_t			 i = 0;
	const char		*v;
	const int64_t		 when[] = { T1, T2, T3 };

	render(&s);
	cal = icalparser_parse_string(s);
	ck_assert_ptr_nonnull(cal);
	ck_assert_int_eq(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
	ck_assert_int_eq(icalcomponent_count_errors(cal), 0);
	ck_assert_str_eq(prop_str(cal, ICAL_VERSION_PROPERTY), "2.0");
	ck_assert(strncmp(prop_str(cal, ICAL_PRODID_PROPERTY), "-//crier//", 10) == 0);
	ck_assert_str_eq(x_str(cal, "X-WR-CALNAME"), "OGW: published");
	ck_assert_int_eq(icalcomponent_count_components(cal,
	    ICAL_VEVENT_COMPONENT), NPOSTS);
	for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    ev != NULL; ev = icalcomponent_get_next_component(cal,
	    ICAL_VEVENT_COMPONENT), i++) {
		snprintf(uid, sizeof(uid), "%s@" DOMAIN, posts[i].delivery_id);
		ck_assert_str_eq(icalcomponent_get_uid(ev), uid);
		t = icalcomponent_get_dtstart(ev);
		ck_assert(icaltime_is_utc(t));
		ck_assert_int_eq((int64_t)icaltime_as_timet(t), when[i] / 1000);
		t = icalcomponent_get_dtstamp(ev);
		ck_assert_int_eq((int64_t)icaltime_as_timet(t), when[i] / 1000);
		d = icalcomponent_get_duration(ev);
		ck_assert_int_eq(icaldurationtype_as_int(d), 15 * 60);
		ck_assert_str_eq(icalcomponent_get_summary(ev), want_summary[i]);
		ck_assert_str_eq(icalcomponent_get_description(ev), want_desc[i]);
		p = icalcomponent_get_first_property(ev, ICAL_URL_PROPERTY);
		if (want_url[i] == NULL)
			ck_assert_ptr_null(p);
		else
			ck_assert_str_eq(icalproperty_get_url(p), want_url[i]);
		p = icalcomponent_get_first_property(ev, ICAL_RELATEDTO_PROPERTY);
		if (posts[i].source_uid == NULL)
			ck_assert_ptr_null(p);
		else
			ck_assert_str_eq(icalproperty_get_relatedto(p),
			    posts[i].source_uid);
		p = icalcomponent_get_first_property(ev, ICAL_CATEGORIES_PROPERTY);
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(icalproperty_get_categories(p), posts[i].channel);
		ck_assert_ptr_null(icalcomponent_get_next_property(ev,
		    ICAL_CATEGORIES_PROPERTY));
		v = x_str(ev, "X-CRIER-CALENDAR");
		if (posts[i].calendar == NULL)
			ck_assert_ptr_null(v);
		else
			ck_assert_str_eq(v, posts[i].calendar);
		ck_assert_str_eq(x_str(ev, "X-CRIER-DELIVERY"),
		    posts[i].delivery_id);
		ck_assert_int_eq(icalcomponent_get_status(ev),
		    ICAL_STATUS_CONFIRMED);
	}
	ck_assert_uint_eq(i, NPOSTS);
	icalcomponent_free(cal);
	free(s);
}
END_TEST

/* The raw (unfolded) lines, to pin escaping: libical would forgive a missing backslash. */
START_TEST(test_escaping)
{
	char	*s, *p, *q;

	render(&s);
	for (p = q = s; *p != '\0'; p++) {
		if (strncmp(p, "\r\n ", 3) == 0) {
			p += 2;
			continue;
		}
		*q++ = *p;
	}
	*q = '\0';
	ck_assert_msg(strstr(s, "\r\nSUMMARY:mastodon-ogp: Opening day\\; "
	    "welcome\\, all\r\n") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "DESCRIPTION:Day one of #OpenGovWeek\\, with "
	    "commas\\; semicolons\\\\backslashes\\nand lines.\\n\\n") != NULL,
	    "%s", s);
	ck_assert_msg(strstr(s, "CATEGORIES:news\\, letter\r\n") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "DTSTART:20270517T080000Z\r\n") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "URL:https://mastodon.example/@ogp/112233\r\n") !=
	    NULL, "%s", s);
	free(s);
}
END_TEST

/* The calendar replaces its file whole, mode 0644, leaving no temporary file. */
START_TEST(test_write)
{
	char		 dir[] = "/tmp/check_published.XXXXXX", path[256], err[512];
	char		*want, *got;
	struct stat	 st;
	FILE		*f;
	DIR		*d;
	struct dirent	*de;
	size_t		 len, files = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/published.ics", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("old contents\n", f);
	fclose(f);
	ck_assert_msg(published_write(path, posts, NPOSTS, DOMAIN,
	    "OGW: published", err, sizeof(err)) == 0, "%s", err);
	len = render(&want);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq((size_t)st.st_size, len);
	got = malloc(len + 1);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(got, 1, len + 1, f), len);
	fclose(f);
	ck_assert(memcmp(got, want, len) == 0);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
			files++;
	closedir(d);
	ck_assert_uint_eq(files, 1);
	/* No posts: a valid, empty calendar. */
	ck_assert_int_eq(published_write(path, NULL, 0, NULL, NULL, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_lt((long long)st.st_size, 300);
	/* A bad post leaves the file as it was. */
	{
		struct published_post	 bad = posts[0];

		bad.delivery_id = "bad id";
		ck_assert_int_eq(published_write(path, &bad, 1, DOMAIN, NULL,
		    err, sizeof(err)), -1);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_lt((long long)st.st_size, 300);
	}
	/* A directory that does not exist: the error names the path. */
	snprintf(path, sizeof(path), "%s/missing/published.ics", dir);
	ck_assert_int_eq(published_write(path, posts, NPOSTS, DOMAIN, NULL, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "missing/.published.ics.") != NULL &&
	    strstr(err, strerror(ENOENT)) != NULL, "%s", err);
	snprintf(path, sizeof(path), "%s/published.ics", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	free(want);
	free(got);
}
END_TEST

/* Bad input: an error naming the post and the field, and nothing rendered. */
START_TEST(test_errors)
{
	struct published_post	 p = posts[0];
	char			*out = NULL, err[256], *big;
	size_t			 len;

	p.delivery_id = "a/b";
	ck_assert_int_eq(published_render(&p, 1, NULL, NULL, &out, &len, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "post 0: delivery_id") != NULL, "%s", err);
	p.delivery_id = "";
	ck_assert_int_eq(published_render(&p, 1, NULL, NULL, &out, &len, err,
	    sizeof(err)), -1);
	p = posts[1];
	p.channel = NULL;
	ck_assert_int_eq(published_render(&p, 1, NULL, NULL, &out, &len, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "post 0 (delivery 0f0e0d0c0b0a): channel") !=
	    NULL, "%s", err);
	p = posts[1];
	p.sent_at = -1;
	ck_assert_int_eq(published_render(&p, 1, NULL, NULL, &out, &len, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "sent_at -1") != NULL, "%s", err);
	p = posts[1];
	big = malloc(PUBLISHED_MAX_FIELD + 2);
	memset(big, 'x', PUBLISHED_MAX_FIELD + 1);
	big[PUBLISHED_MAX_FIELD + 1] = '\0';
	p.text = big;
	ck_assert_int_eq(published_render(&p, 1, NULL, NULL, &out, &len, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "text is 65537 bytes") != NULL, "%s", err);
	p.text = posts[1].text;
	ck_assert_int_eq(published_render(&p, 1, "bad domain", NULL, &out, &len,
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "domain \"bad domain\"") != NULL, "%s", err);
	ck_assert_int_eq(published_render(&p, 1, NULL, NULL, &out, &len, err,
	    sizeof(err)), 0);
	ck_assert_msg(strstr(out, "UID:0f0e0d0c0b0a@crier\r\n") != NULL, "%s",
	    out);
	free(out);
	free(big);
}
END_TEST

static Suite *
published_suite(void)
{
	Suite	*s = suite_create("published");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_libical);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_write);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(published_suite(), 0));
}
