/* Checks calendar expansion against the iCalendar corpus in shared/testdata/ical. */
#include <config.h>

#include <sys/stat.h>

#include <libical/ical.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/calendar/calendar.h"

#define SHOW	4	/* differing records shown per calendar and side */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long
days_from_civil(long long y, int m, int d)
{
	long long	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Parses "2019-01-01" or "2019-01-01T00:00:00Z" as an instant; -1 if bad. */
static int
parse_bound(const char *s, time_t *out)
{
	int	 y, mo, d, h = 0, mi = 0, se = 0, n = 0;

	if (strlen(s) == 10) {
		if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
			return -1;
	} else if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi,
	    &se, &n) != 6 || n != 20)
		return -1;
	*out = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se);
	return 0;
}

/* Sort key of a start: a date counts as its 00:00:00Z. */
static void
start_key(const char *s, char *buf, size_t len)
{
	if (strlen(s) == 10)
		snprintf(buf, len, "%sT00:00:00Z", s);
	else
		snprintf(buf, len, "%s", s);
}

/* One record as a line: "startkey|start|uid|rid|end|summary|status". */
static char *
record_line(const char *start, const char *uid, const char *rid, const char *end,
    const char *summary, const char *status)
{
	char	 key[40], *out;
	size_t	 len;

	start_key(start, key, sizeof(key));
	len = strlen(key) + strlen(start) + strlen(uid) + strlen(rid) +
	    strlen(end) + strlen(summary) + strlen(status) + 8;
	if ((out = malloc(len)) == NULL)
		abort();
	snprintf(out, len, "%s|%s|%s|%s|%s|%s|%s", key, start, uid, rid, end,
	    summary, status);
	return out;
}

/* strcmp for qsort over an array of strings. */
static int
line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The status SPEC.md shows for a STATUS value as the oracle writes it. */
static const char *
map_status(const char *s)
{
	if (s != NULL && strcmp(s, "CANCELLED") == 0)
		return "cancelled";
	if (s != NULL && strcmp(s, "TENTATIVE") == 0)
		return "held";
	return "scheduled";
}

/* The status string of an occurrence. */
static const char *
occ_status(enum cal_status st)
{
	return st == CAL_CANCELLED ? "cancelled" : st == CAL_HELD ? "held" :
	    "scheduled";
}

/* A JSON string member, or "null" spelled out (distinct from any real value). */
static const char *
jstr(json_t *o, const char *k)
{
	json_t	*v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "\x01null";
}

/* Frees N strings and the array. */
static void
free_lines(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Compares the expected and computed record lines; prints differences. */
static int
compare(const char *name, char **exp, size_t nexp, char **got, size_t ngot)
{
	size_t	 i = 0, j = 0, onlye = 0, onlyg = 0;
	int	 r;

	qsort(exp, nexp, sizeof(*exp), line_cmp);
	qsort(got, ngot, sizeof(*got), line_cmp);
	while (i < nexp || j < ngot) {
		r = i == nexp ? 1 : j == ngot ? -1 : strcmp(exp[i], got[j]);
		if (r == 0) {
			i++;
			j++;
			continue;
		}
		if (onlye + onlyg == 0)
			printf("FAIL %s: expected %zu occurrences, got %zu\n", name,
			    nexp, ngot);
		if (r < 0) {
			if (onlye++ < SHOW)
				printf("   expected only: %s\n", strchr(exp[i], '|') + 1);
			i++;
		} else {
			if (onlyg++ < SHOW)
				printf("   got only:      %s\n", strchr(got[j], '|') + 1);
			j++;
		}
	}
	return onlye + onlyg == 0 ? 0 : -1;
}

/*
 * Whether the problems PR (NP of them) of FILE are exactly those WANT lists
 * ({line, property, value} each: the message names "FILE:LINE: ", the
 * property and the value in quotes); prints what differs.
 */
static int
check_problems(const char *file, const struct cal_problem *pr, size_t np,
    json_t *want)
{
	char		 at[512], val[256];
	json_t		*w;
	size_t		 i, j;
	int		 rc = 0;

	if (json_array_size(want) != np) {
		printf("FAIL %s: %zu problems, expected %zu\n", file, np,
		    json_array_size(want));
		rc = -1;
	}
	json_array_foreach(want, i, w) {
		snprintf(at, sizeof(at), "%s:%lld: ", file, (long long)
		    json_integer_value(json_object_get(w, "line")));
		snprintf(val, sizeof(val), "\"%s\"", jstr(w, "value"));
		for (j = 0; j < np; j++)
			if (strstr(pr[j].msg, at) != NULL &&
			    strstr(pr[j].msg, jstr(w, "property")) != NULL &&
			    strstr(pr[j].msg, val) != NULL)
				break;
		if (j == np) {
			printf("FAIL %s: no problem naming %s%s %s\n", file, at,
			    jstr(w, "property"), val);
			rc = -1;
		}
	}
	return rc;
}

/*
 * Checks one calendar whose expectations are in NAME.expected.json; the
 * problems it must report are WANT (NULL: none).
 */
static int
check_expected(const char *dir, const char *file, time_t from, time_t to,
    json_t *want)
{
	char			 path[4096], err[1024];
	struct cal_calendar	*c;
	struct cal_occurrence	*occ = NULL;
	const struct cal_problem *pr;
	json_t			*exp, *r;
	json_error_t		 jerr;
	char			**el = NULL, **gl = NULL;
	size_t			 ne = 0, ng = 0, np, i;
	ssize_t			 n;
	int			 rc = -1;

	snprintf(path, sizeof(path), "%s/%.*s.expected.json", dir,
	    (int)(strlen(file) - 4), file);
	if ((exp = json_load_file(path, 0, &jerr)) == NULL || !json_is_array(exp)) {
		printf("FAIL %s: cannot read %s: %s\n", file, path, jerr.text);
		json_decref(exp);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((c = cal_load_file(path, NULL, err, sizeof(err))) == NULL) {
		printf("FAIL %s: %s\n", file, err);
		json_decref(exp);
		return -1;
	}
	pr = cal_problems(c, &np);
	for (i = 0; want == NULL && i < np; i++)
		printf("FAIL %s: unexpected problem: %s\n", file, pr[i].msg);
	if ((n = cal_expand(c, from, to, &occ)) < 0) {
		printf("FAIL %s: expansion failed\n", file);
		goto done;
	}
	ne = json_array_size(exp);
	if ((el = calloc(ne + 1, sizeof(*el))) == NULL ||
	    (gl = calloc((size_t)n + 1, sizeof(*gl))) == NULL)
		abort();
	json_array_foreach(exp, i, r)
		el[i] = record_line(jstr(r, "start"), jstr(r, "uid"),
		    jstr(r, "recurrence_id"), jstr(r, "end"), jstr(r, "summary"),
		    map_status(json_string_value(json_object_get(r, "status"))));
	for (ng = 0; ng < (size_t)n; ng++)
		gl[ng] = record_line(occ[ng].start_str, occ[ng].uid ? occ[ng].uid :
		    "\x01null", occ[ng].recurrence_id[0] ? occ[ng].recurrence_id :
		    "\x01null", occ[ng].end_str, occ[ng].summary ? occ[ng].summary :
		    "\x01null", occ_status(occ[ng].status));
	rc = compare(file, el, ne, gl, ng);
	if (want != NULL ? check_problems(file, pr, np, want) == -1 : np > 0)
		rc = -1;
done:
	free_lines(el, ne);
	free_lines(gl, ng);
	cal_occurrences_free(occ, n > 0 ? (size_t)n : 0);
	cal_free(c);
	json_decref(exp);
	return rc;
}

/*
 * Checks a calendar that must be rejected: either it cannot be loaded, or it
 * reports a problem naming the file and nothing is listed for the events the
 * problems are about.
 */
static int
check_reject(const char *dir, const char *file, time_t from, time_t to)
{
	char			 path[4096], err[1024];
	struct cal_calendar	*c;
	struct cal_occurrence	*occ = NULL;
	const struct cal_problem *pr;
	size_t			 np, i, j;
	ssize_t			 n;
	int			 rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((c = cal_load_file(path, NULL, err, sizeof(err))) == NULL) {
		if (strstr(err, file) == NULL) {
			printf("FAIL %s: error does not name the file: %s\n", file, err);
			return -1;
		}
		return 0;
	}
	pr = cal_problems(c, &np);
	if (np == 0) {
		printf("FAIL %s: accepted without a problem\n", file);
		rc = -1;
	}
	for (i = 0; i < np; i++)
		if (strstr(pr[i].msg, file) == NULL) {
			printf("FAIL %s: problem does not name the file: %s\n", file,
			    pr[i].msg);
			rc = -1;
		}
	if ((n = cal_expand(c, from, to, &occ)) < 0) {
		printf("FAIL %s: expansion failed\n", file);
		rc = -1;
	}
	for (i = 0; n > 0 && i < (size_t)n; i++)
		for (j = 0; j < np; j++)
			if (pr[j].uid != NULL && occ[i].uid != NULL &&
			    strcmp(pr[j].uid, occ[i].uid) == 0) {
				printf("FAIL %s: occurrence %s of broken event %s\n",
				    file, occ[i].start_str, occ[i].uid);
				rc = -1;
			}
	cal_occurrences_free(occ, n > 0 ? (size_t)n : 0);
	cal_free(c);
	return rc;
}

int
main(int argc, char *argv[])
{
	const char	*dir = argc > 1 ? argv[1] : "../shared/testdata/ical";
	char		 path[4096];
	struct stat	 st;
	json_t		*m, *cals, *e, *ex, *w;
	json_error_t	 jerr;
	const char	*file, *f, *t;
	time_t		 dfrom, dto, from, to;
	size_t		 i;
	int		 passed = 0, failed = 0, r;

	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		printf("SKIP: no iCalendar corpus at %s\n", dir);
		return 77;
	}
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if ((m = json_load_file(path, 0, &jerr)) == NULL) {
		printf("FAIL manifest: %s: %s\n", path, jerr.text);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	w = json_object_get(m, "window_default");
	if (parse_bound(json_string_value(json_object_get(w, "from")) ?
	    json_string_value(json_object_get(w, "from")) : "2019-01-01", &dfrom) == -1 ||
	    parse_bound(json_string_value(json_object_get(w, "to")) ?
	    json_string_value(json_object_get(w, "to")) : "2027-01-01", &dto) == -1) {
		dfrom = 1546300800;	/* 2019-01-01 */
		dto = 1798761600;	/* 2027-01-01 */
	}
	cals = json_object_get(m, "calendars");
	json_array_foreach(cals, i, e) {
		file = json_string_value(json_object_get(e, "file"));
		if (file == NULL || strlen(file) < 5)
			continue;
		f = json_string_value(json_object_get(e, "from"));
		t = json_string_value(json_object_get(e, "to"));
		from = dfrom;
		to = dto;
		if ((f != NULL && parse_bound(f, &from) == -1) ||
		    (t != NULL && parse_bound(t, &to) == -1)) {
			printf("FAIL %s: bad window in manifest\n", file);
			failed++;
			continue;
		}
		ex = json_object_get(e, "expect");
		if (json_is_string(ex) && strcmp(json_string_value(ex), "reject") == 0)
			r = check_reject(dir, file, from, to);
		else if (json_is_string(ex) && strcmp(json_string_value(ex),
		    "problems") == 0)
			r = check_expected(dir, file, from, to,
			    json_object_get(e, "problems"));
		else
			r = check_expected(dir, file, from, to, NULL);
		if (r == 0)
			passed++;
		else
			failed++;
	}
	json_decref(m);
	icaltimezone_free_builtin_timezones();
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0 ? 1 : 0;
}
