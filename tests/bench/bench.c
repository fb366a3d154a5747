/*
 * make bench: throughput of crier's hot paths, measured, never asserted
 * (CI must not depend on timing). Prints one line per benchmark.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/calendar/calendar.h"
#include "daemon/length.h"
#include "daemon/log.h"
#include "daemon/store.h"
#include "daemon/template.h"

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Prints a result line. */
static void
report(const char *name, long n, double secs, const char *unit)
{
	printf("%-34s %9ld %-12s %8.3f s  %10.0f/s  %8.2f us each\n", name, n,
	    unit, secs, n / secs, secs * 1e6 / n);
}

/* Compiles a post template once and renders it many times. */
static void
bench_render(void)
{
	const char	*src = "{{summary}}{{#vars.theme}} ({{vars.theme}}){{/vars.theme}}\n\n"
	    "{{start.weekday}} {{start.date}}, {{start.time}}\n\n{{description}}"
	    "{{#url}}\n\n{{url}}{{/url}}{{#categories}} #{{.}}{{/categories}}";
	struct tmpl_opts o = { 0 };
	struct tmpl	*t;
	json_t		*ctx;
	char		 err[256], *out;
	long		 i, n = 200000;
	double		 t0;

	ctx = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:[s,s]}",
	    "summary", "Open Gov Week: Break the Roles",
	    "description", "Women leading open government reforms, live at 13:00.",
	    "url", "https://www.opengovpartnership.org/open-gov-week/",
	    "start", "weekday", "Wednesday", "date", "2027-05-19", "time", "12:30",
	    "vars", "theme", "Gender", "categories", "OpenGovWeek", "BreakTheRoles");
	t0 = now();
	for (i = 0; i < 20000; i++)
		tmpl_free(tmpl_compile(src, strlen(src), err, sizeof(err)));
	report("template compile", 20000, now() - t0, "templates");
	t = tmpl_compile(src, strlen(src), err, sizeof(err));
	t0 = now();
	for (i = 0; i < n; i++) {
		tmpl_render(t, ctx, &o, &out, err, sizeof(err));
		free(out);
	}
	report("template render", n, now() - t0, "posts");
	tmpl_free(t);
	json_decref(ctx);
}

/* Measures posts with each network's rule. */
static void
bench_length(void)
{
	const char	*text = "Open Gov Week 🌍 starts today! 👩🏽‍💻 Governments and "
	    "civil society show how they open up. Join @ogp@mastodon.example "
	    "https://www.opengovpartnership.org/open-gov-week/ #OpenGovWeek "
	    "開かれた政府 الحكومة المفتوحة";
	struct len_result r;
	long		 i, n = 200000;
	double		 t0;

	t0 = now();
	for (i = 0; i < n; i++)
		len_measure(LEN_MASTODON, text, 0, &r);
	report("length (mastodon)", n, now() - t0, "posts");
	t0 = now();
	for (i = 0; i < n; i++)
		len_measure(LEN_BLUESKY, text, 0, &r);
	report("length (bluesky)", n, now() - t0, "posts");
}

/* Parses and expands a year of daily and weekly recurring posts. */
static void
bench_calendar(void)
{
	char			*buf;
	size_t			 len = 0, cap = 1 << 20;
	struct cal_calendar	*c;
	struct cal_occurrence	*occ;
	ssize_t			 n = 0;
	char			 err[512];
	int			 i;
	double			 t0;

	buf = malloc(cap);
	len += snprintf(buf + len, cap - len, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//bench//EN\r\n");
	for (i = 0; i < 200; i++)
		len += snprintf(buf + len, cap - len, "BEGIN:VEVENT\r\nUID:e%d@bench\r\n"
		    "DTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Europe/London:"
		    "20270101T%02d0000\r\nRRULE:FREQ=%s\r\nSUMMARY:Post %d\r\n"
		    "DESCRIPTION:Body of post %d\r\nEND:VEVENT\r\n", i, i % 24,
		    i % 2 ? "DAILY" : "WEEKLY;BYDAY=MO,TH", i, i);
	len += snprintf(buf + len, cap - len, "END:VCALENDAR\r\n");
	t0 = now();
	for (i = 0; i < 20; i++)
		cal_free(cal_parse(buf, len, "bench.ics", "UTC", err, sizeof(err)));
	report("calendar parse (200 events)", 20, now() - t0, "calendars");
	c = cal_parse(buf, len, "bench.ics", "UTC", err, sizeof(err));
	t0 = now();
	for (i = 0; i < 5; i++) {
		n = cal_expand(c, 1798761600, 1830297600, &occ);	/* 2027 */
		cal_occurrences_free(occ, (size_t)n);
	}
	report("calendar expand (a year)", 5L * n, now() - t0, "occurrences");
	cal_free(c);
	free(buf);
}

/* Inserts deliveries in one batch, then lists them. */
static void
bench_store(void)
{
	char		 dir[] = "/tmp/crier-bench-XXXXXX", err[256], uid[32], cmd[64];
	struct delivery	 d, *ds;
	struct store_filter f;
	size_t		 n;
	long		 i, count = 20000;
	double		 t0;

	if (mkdtemp(dir) == NULL || store_open(dir, err, sizeof(err)) == -1)
		return;
	t0 = now();
	store_begin();
	for (i = 0; i < count; i++) {
		memset(&d, 0, sizeof(d));
		snprintf(uid, sizeof(uid), "u%ld", i);
		store_delivery_id("bench", uid, NULL, "outbox", d.id);
		d.channel = (char *)"outbox";
		d.state = DS_SCHEDULED;
		d.due = 1800000000000LL + i * 60000;
		d.uid = uid;
		d.text = (char *)"A post of ordinary length for the benchmark.";
		store_insert(&d, STORE_ACTOR_DAEMON, "queued");
	}
	store_commit();
	report("store insert (one batch)", count, now() - t0, "deliveries");
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.limit = 100;
	t0 = now();
	for (i = 0; i < 2000; i++) {
		store_list(&f, &ds, &n);
		store_deliveries_free(ds, n);
	}
	report("store list (100 rows)", 2000, now() - t0, "lists");
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
}

int
main(void)
{
	log_init(0);
	bench_render();
	bench_length();
	bench_calendar();
	bench_store();
	return (0);
}
