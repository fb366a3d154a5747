/*
 * The verbs that look back at a campaign: report (the calendar grid of
 * what was planned and what went out, rendered from the report template),
 * published (the published-posts calendar) and stats (engagement sums).
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libical/ical.h>

#include "ctl_verbs.h"
#include "channel.h"
#include "compose.h"
#include "conf.h"
#include "context.h"
#include "delivery.h"
#include "engage.h"
#include "length.h"
#include "pubcal.h"
#include "reply.h"
#include "store.h"
#include "store_engage.h"
#include "template.h"
#include "when.h"
#include "../common/util.h"

#ifndef CRIER_TEMPLATESDIR
#define CRIER_TEMPLATESDIR	"/usr/local/share/crier/templates"
#endif

#define REPORT_MAX_DAYS		366	/* --from to --to */
#define REPORT_MAX_DELIVERIES	5000	/* in range */
#define REPORT_MAX_TEXT		(16 * 1024 * 1024)	/* bytes of post text */
#define REPORT_DEFAULT_DAYS	14	/* this week and the next */
#define REPORT_TITLE		"Campaign report"
#define STATS_MAX_ROWS		10000
#define DAY_MS			INT64_C(86400000)

static const char *const wdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};
/* From worst to best: a post's state is its worst channel's. */
static const enum dstate worst_first[] = {
	DS_FAILED, DS_UNCERTAIN, DS_MISSED, DS_RETRYING, DS_SENDING, DS_HELD,
	DS_SCHEDULED, DS_SENT, DS_CANCELLED
};

/* The days since 1970-01-01 of the civil date Y-M-D (proleptic Gregorian). */
static int64_t
day_number(int y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* The civil date of day number N into T (a date), with its weekday (0 Sunday). */
static int
day_date(int64_t n, struct icaltimetype *t)
{
	int64_t	z = n + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*t = icaltime_null_date();
	t->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	t->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	t->year = (int)(yoe + era * 400 + (t->month <= 2));
	return ((int)(((n % 7) + 11) % 7));	/* 1970-01-01 was a Thursday */
}

/* The day number of instant MS in the display zone. */
static int64_t
local_day(int64_t ms)
{
	struct icaltimetype	t;

	reply_local_time(ms, &t);
	return (day_number(t.year, t.month, t.day));
}

/* The instant the display zone's day N begins; -1 if it cannot be read. */
static int
day_start(int64_t n, int64_t *ms)
{
	struct icaltimetype	t;
	char			buf[16];

	day_date(n, &t);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", t.year, t.month, t.day);
	return (reply_parse_time(buf, ms));
}

/* True if S is a date alone (2027-05-17), not an instant. */
static bool
date_only(const char *s)
{
	return (strlen(s) == 10 && s[4] == '-' && s[7] == '-');
}

/* Reads --from and --to into [*FROM, *TO); an error reply, or NULL. */
static json_t *
read_range(json_t *req, int64_t *from, int64_t *to)
{
	const char	*fs = reply_field(req, "from"), *ts = reply_field(req, "to");
	int64_t		 today = local_day(when_now()), monday;
	struct icaltimetype t;

	monday = today - (day_date(today, &t) + 6) % 7;
	if (fs == NULL ? day_start(monday, from) == -1 :
	    reply_parse_time(fs, from) == -1)
		return (reply_error("bad_request", "--from: '%s' is not a date "
		    "or time (2027-05-17 or 2027-05-17T09:00:00Z)", fs ? fs : ""));
	if (ts == NULL) {
		if (day_start(local_day(*from) + REPORT_DEFAULT_DAYS, to) == -1)
			return (reply_error("internal", "cannot compute the end "
			    "of the range"));
	} else if (reply_parse_time(ts, to) == -1 || (date_only(ts) &&
	    day_start(local_day(*to) + 1, to) == -1))
		return (reply_error("bad_request", "--to: '%s' is not a date "
		    "or time (2027-05-23 or 2027-05-23T18:00:00Z)", ts));
	if (*to <= *from)
		return (reply_error("bad_request", "--to must come after --from"));
	if ((*to - *from) / DAY_MS >= REPORT_MAX_DAYS)
		return (reply_error("bad_request", "the range is %lld days; a "
		    "report covers at most %d", (long long)((*to - *from +
		    DAY_MS - 1) / DAY_MS), REPORT_MAX_DAYS));
	return (NULL);
}

/* "2027-05-17" of date T into BUF. */
static const char *
iso_date(const struct icaltimetype *t, char *buf, size_t len)
{
	snprintf(buf, len, "%04d-%02d-%02d", t->year, t->month, t->day);
	return (buf);
}

/* The occurrence key of D: deliveries of one calendar event at one time share it. */
static char *
post_key(const struct delivery *d)
{
	char	*k;

	if (d->uid == NULL) {
		if (asprintf(&k, "id\n%s", d->id) == -1)
			abort();
	} else if (asprintf(&k, "ev\n%s\n%s\n%s\n%lld", d->calendar ?
	    d->calendar : "", d->uid, d->recurrence_id ? d->recurrence_id : "",
	    (long long)d->due) == -1)
		abort();
	return (k);
}

/* Appends MSG to the JSON array A unless it is there already. */
static void
add_problem(json_t *a, const char *msg)
{
	size_t	 i;
	json_t	*v;

	if (msg == NULL || *msg == '\0')
		return;
	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), msg) == 0)
			return;
	json_array_append_new(a, json_string(msg));
}

/* True if S is an http(s) URL. */
static bool
web_url(const char *s)
{
	return (s != NULL && (strncmp(s, "https://", 8) == 0 ||
	    strncmp(s, "http://", 7) == 0));
}

/* When D went out, local: "09:00:03", with the day ("18 May 09:00:03") if not its due day; null if it did not. */
static json_t *
sent_time(const struct delivery *d)
{
	struct icaltimetype	 due, sent;
	char			 buf[32];

	if (d->state != DS_SENT || d->sent_at <= 0)
		return (json_null());
	reply_local_time(d->due, &due);
	reply_local_time(d->sent_at, &sent);
	if (due.year == sent.year && due.month == sent.month &&
	    due.day == sent.day)
		snprintf(buf, sizeof(buf), "%02d:%02d:%02d", sent.hour,
		    sent.minute, sent.second);
	else
		snprintf(buf, sizeof(buf), "%d %s %02d:%02d:%02d", sent.day,
		    months[(sent.month - 1) % 12], sent.hour, sent.minute,
		    sent.second);
	return (json_string(buf));
}

/* One delivery as a card's channel: text, length against the limit, problems, link, figures. */
static json_t *
channel_json(const struct delivery *d)
{
	struct channel		*ch = chan_find(d->channel);
	struct len_result	 lr;
	json_t			*o, *probs = json_array();
	char			 why[256];
	bool			 over = false;
	const char		*text = d->text != NULL ? d->text : "";

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", d->id, "name",
	    d->channel, "type", ch != NULL ? ch->ops->type : "removed",
	    "state", dstate_names[d->state], "state_label",
	    dstate_names[d->state], "text", text);
	memset(&lr, 0, sizeof(lr));
	if (ch != NULL && len_measure(chan_len_rule(ch), text, ch->limit,
	    &lr) == 0 && ch->limit > 0) {
		over = !lr.fits;
		json_object_set_new(o, "length", json_integer((json_int_t)lr.length));
		json_object_set_new(o, "limit", json_integer((json_int_t)ch->limit));
		json_object_set_new(o, "percent", json_integer(lr.length >=
		    ch->limit ? 100 : (json_int_t)(lr.length * 100 / ch->limit)));
	} else {
		json_object_set_new(o, "length", json_integer((json_int_t)
		    (ch != NULL ? lr.length : len_graphemes(text, strlen(text)))));
		json_object_set_new(o, "limit", json_null());
		json_object_set_new(o, "percent", json_null());
	}
	json_object_set_new(o, "over", json_boolean(over));
	add_problem(probs, delivery_problem(d));
	if (d->state == DS_FAILED || d->state == DS_RETRYING ||
	    d->state == DS_UNCERTAIN || d->state == DS_MISSED)
		add_problem(probs, d->last_error);
	if (over && d->state != DS_SENT)
		add_problem(probs, compose_does_not_fit(&lr, why, sizeof(why)));
	if (ch == NULL)
		add_problem(probs, "its channel is no longer configured");
	json_object_set_new(o, "problems", probs);
	json_object_set_new(o, "remote_url", web_url(d->remote_url) ?
	    json_string(d->remote_url) : json_null());
	json_object_set_new(o, "sent_time", sent_time(d));
	json_object_set_new(o, "engagement", d->state == DS_SENT ?
	    engage_json(d->id) : json_null());
	return (o);
}

/* Sets post P's state: its worst channel's; counts it in COUNTS. */
static void
post_state(json_t *p, int64_t counts[DS_NSTATES])
{
	json_t		*c;
	size_t		 i, k;
	unsigned	 seen = 0;
	enum dstate	 s = DS_SENT;

	json_array_foreach(json_object_get(p, "channels"), i, c)
		seen |= 1u << dstate_from_name(json_string_value(
		    json_object_get(c, "state")));
	for (k = 0; k < sizeof(worst_first) / sizeof(worst_first[0]); k++)
		if (seen & (1u << worst_first[k])) {
			s = worst_first[k];
			break;
		}
	counts[s]++;
	json_object_set_new(p, "state", json_string(dstate_names[s]));
	json_object_set_new(p, "state_label", json_string(dstate_names[s]));
}

/* Adds delivery D to the day object DAY: to its occurrence's card, or a new one. */
static void
day_add(json_t *day, const struct delivery *d)
{
	json_t			*posts = json_object_get(day, "posts"), *p;
	json_t			*keys = json_object_get(day, "_keys");
	struct icaltimetype	 t;
	char			*k = post_key(d), hm[8], anchor[DELIVERY_ID_LEN + 8];
	json_t			*idx;

	if ((idx = json_object_get(keys, k)) != NULL) {
		p = json_array_get(posts, (size_t)json_integer_value(idx));
		json_array_append_new(json_object_get(p, "channels"),
		    channel_json(d));
		free(k);
		return;
	}
	json_object_set_new(keys, k, json_integer((json_int_t)
	    json_array_size(posts)));
	free(k);
	reply_local_time(d->due, &t);
	snprintf(hm, sizeof(hm), "%02d:%02d", t.hour, t.minute);
	snprintf(anchor, sizeof(anchor), "p-%s", d->id);
	p = json_pack("{s:s, s:s, s:s, s:s, s:o, s:[], s:[o]}", "anchor", anchor,
	    "date", json_string_value(json_object_get(day, "date")), "time", hm,
	    "summary", d->summary != NULL ? d->summary : "(no summary)",
	    "calendar", reply_str(d->calendar), "problems", "channels",
	    channel_json(d));
	json_array_append_new(posts, p);
}

/* The week heading "17 to 23 May 2027" for the week of days A..B. */
static void
week_label(const struct icaltimetype *a, const struct icaltimetype *b,
    char *buf, size_t len)
{
	if (a->year != b->year)
		snprintf(buf, len, "%d %s %d to %d %s %d", a->day,
		    months[a->month - 1], a->year, b->day, months[b->month - 1],
		    b->year);
	else if (a->month != b->month)
		snprintf(buf, len, "%d %s to %d %s %d", a->day,
		    months[a->month - 1], b->day, months[b->month - 1], b->year);
	else
		snprintf(buf, len, "%d to %d %s %d", a->day, b->day,
		    months[b->month - 1], b->year);
}

/*
 * The report's context (documented at the top of
 * templates/report.html.mustache) of deliveries DS[0..N) due in
 * [FROM, TO); *NPOSTS gets the number of cards.
 */
static json_t *
report_context(const struct delivery *ds, size_t n, int64_t from, int64_t to,
    size_t *nposts)
{
	struct icaltimetype	 t, a;
	json_t			*ctx, *weeks, *week = NULL, *days = NULL, *day;
	json_t			*legend, *p;
	int64_t			 first = local_day(from), last = local_day(to - 1);
	int64_t			 g0, g1, dn, today = local_day(when_now());
	int64_t			 counts[DS_NSTATES];
	json_t			**grid;
	char			 buf[64], fb[16], tb[16];
	size_t			 i, j, ngrid;
	int			 s;

	memset(counts, 0, sizeof(counts));
	g0 = first - (day_date(first, &t) + 6) % 7;
	g1 = last + (7 - day_date(last, &t)) % 7;
	ngrid = (size_t)(g1 - g0 + 1);
	grid = xcalloc(ngrid, sizeof(*grid));
	weeks = json_array();
	for (dn = g0; dn <= g1; dn++) {
		int	wd = day_date(dn, &t);

		if (wd == 1) {
			day_date(dn + 6, &a);
			week_label(&t, &a, buf, sizeof(buf));
			days = json_array();
			week = json_pack("{s:s, s:o}", "week", buf, "days", days);
			json_array_append_new(weeks, week);
		}
		snprintf(buf, sizeof(buf), "%d %s", t.day, months[t.month - 1]);
		day = json_pack("{s:s, s:s, s:s, s:b, s:b, s:[], s:{}}", "date",
		    iso_date(&t, fb, sizeof(fb)), "weekday", wdays[wd],
		    "day_label", buf, "outside", dn < first || dn > last,
		    "today", dn == today, "posts", "_keys");
		json_array_append_new(days, day);
		grid[dn - g0] = day;
	}
	for (i = 0; i < n; i++) {
		dn = local_day(ds[i].due);
		if (dn >= g0 && dn <= g1)
			day_add(grid[dn - g0], &ds[i]);
	}
	*nposts = 0;
	for (j = 0; j < ngrid; j++) {
		json_object_del(grid[j], "_keys");
		json_array_foreach(json_object_get(grid[j], "posts"), i, p)
			post_state(p, counts);
		*nposts += json_array_size(json_object_get(grid[j], "posts"));
		json_object_set_new(grid[j], "empty", json_boolean(
		    json_array_size(json_object_get(grid[j], "posts")) == 0));
	}
	free(grid);
	legend = json_array();
	for (s = 0; s < DS_NSTATES; s++)
		if (counts[s] > 0)
			json_array_append_new(legend, json_pack("{s:s, s:s, s:I}",
			    "state", dstate_names[s], "state_label", dstate_names[s],
			    "count", (json_int_t)counts[s]));
	reply_local_time(when_now(), &t);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d", t.year, t.month,
	    t.day, t.hour, t.minute);
	day_date(first, &t);
	day_date(last, &a);
	ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "title",
	    REPORT_TITLE, "from", iso_date(&t, fb, sizeof(fb)), "to",
	    iso_date(&a, tb, sizeof(tb)), "zone", reply_ctx()->conf->timezone ?
	    reply_ctx()->conf->timezone : "UTC", "generated", buf,
	    "posts_total", (json_int_t)*nposts, "legend", legend, "weeks", weeks);
	return (ctx);
}

/* The configured templates if they have a report, else the installed ones. */
static struct tmpl_set *
report_templates(char *err, size_t errlen)
{
	const struct tmpl_set	*cur = reply_ctx()->tmpls;

	if (cur != NULL && tmpl_set_has(cur, "report", NULL))
		return (tmpl_set_ref(cur));
	return (tmpl_set_load(CRIER_TEMPLATESDIR, err, errlen));
}

/* report: the campaign as a calendar grid, in HTML (--html) or as text. */
json_t *
ctl_report(struct client *cl, json_t *req)
{
	struct store_filter	 f;
	struct delivery		*ds = NULL;
	struct tmpl_set		*set = NULL;
	size_t			 n = 0, nposts = 0, i, text = 0;
	json_t			*r = NULL, *ctx = NULL;
	const char		*part;
	char			 err[1024], *out = NULL;

	(void)cl;
	memset(&f, 0, sizeof(f));
	f.state = -1;
	if ((r = read_range(req, &f.from, &f.to)) != NULL)
		return (r);
	part = json_is_string(json_object_get(req, "html")) ? "html" : "txt";
	f.limit = REPORT_MAX_DELIVERIES + 1;
	if (store_list(&f, &ds, &n) == -1)
		return (reply_error("internal", "database error"));
	for (i = 0; i < n; i++)
		text += ds[i].text != NULL ? strlen(ds[i].text) : 0;
	if (n > REPORT_MAX_DELIVERIES || text > REPORT_MAX_TEXT) {
		r = reply_error("too_large", "more than %d posts or %d MiB of "
		    "text in range: give a shorter --from/--to",
		    REPORT_MAX_DELIVERIES, REPORT_MAX_TEXT / (1024 * 1024));
		goto fail;
	}
	if ((set = report_templates(err, sizeof(err))) == NULL) {
		r = reply_error("internal", "no report template (templates "
		    "directory %s): %s", CRIER_TEMPLATESDIR, err);
		goto fail;
	}
	ctx = report_context(ds, n, f.from, f.to, &nposts);
	if (tmpl_set_render(set, "report", NULL, part, ctx, true, &out, err,
	    sizeof(err)) == -1) {
		r = reply_error("internal", "report template: %s", err);
		goto fail;
	}
	r = reply_ok();
	json_object_set_new(r, "format", json_string(part));
	json_object_set_new(r, "from", json_object_get(ctx, "from") ?
	    json_incref(json_object_get(ctx, "from")) : json_null());
	json_object_set_new(r, "to", json_incref(json_object_get(ctx, "to")));
	json_object_set_new(r, "posts", json_integer((json_int_t)nposts));
	json_object_set_new(r, "deliveries", json_integer((json_int_t)n));
	json_object_set_new(r, "report", json_string(out));
fail:
	free(out);
	json_decref(ctx);
	tmpl_set_free(set);
	store_deliveries_free(ds, n);
	return (r);
}

/* published: the published-posts calendar (RFC 5545), as crierd writes it. */
json_t *
ctl_published(struct client *cl, json_t *req)
{
	char	*ics = NULL, *p, *e, err[512];
	size_t	 len = 0;
	json_t	*r, *lines;

	(void)cl;
	(void)req;
	if (pubcal_render(&ics, &len, err, sizeof(err)) == -1)
		return (reply_error("internal", "published calendar: %s", err));
	/* Content lines without their CRLF: crierctl ends each with one. */
	lines = json_array();
	for (p = ics; p < ics + len; p = e + 2) {
		if ((e = memmem(p, (size_t)(ics + len - p), "\r\n", 2)) == NULL)
			e = ics + len;
		json_array_append_new(lines, json_stringn(p, (size_t)(e - p)));
	}
	free(ics);
	r = reply_ok();
	json_object_set_new(r, "file", json_pack("s++", reply_ctx()->conf->
	    state_dir, "/", PUBCAL_FILE));
	json_object_set_new(r, "lines", lines);
	return (r);
}

/* stats: engagement summed per calendar and channel. */
json_t *
ctl_stats(struct client *cl, json_t *req)
{
	struct store_engage_sum	*s = NULL;
	size_t			 n = 0, i;
	json_t			*arr, *r;
	int64_t			 tot[5] = { 0, 0, 0, 0, 0 };

	(void)cl;
	if (store_engage_stats(reply_field(req, "calendar"), STATS_MAX_ROWS,
	    &s, &n) == -1)
		return (reply_error("internal", "database error"));
	arr = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(arr, json_pack("{s:o, s:s, s:I, s:I, s:I, "
		    "s:I, s:I}", "calendar", reply_str(s[i].calendar), "channel",
		    s[i].channel ? s[i].channel : "", "posts",
		    (json_int_t)s[i].posts, "measured", (json_int_t)s[i].measured,
		    "likes", (json_int_t)s[i].likes, "reposts",
		    (json_int_t)s[i].reposts, "replies", (json_int_t)s[i].replies));
		tot[0] += s[i].posts;
		tot[1] += s[i].measured;
		tot[2] += s[i].likes;
		tot[3] += s[i].reposts;
		tot[4] += s[i].replies;
	}
	store_engage_stats_free(s, n);
	r = reply_ok();
	json_object_set_new(r, "calendar", reply_str(reply_field(req,
	    "calendar")));
	json_object_set_new(r, "stats", arr);
	json_object_set_new(r, "total", json_pack("{s:I, s:I, s:I, s:I, s:I}",
	    "posts", (json_int_t)tot[0], "measured", (json_int_t)tot[1],
	    "likes", (json_int_t)tot[2], "reposts", (json_int_t)tot[3],
	    "replies", (json_int_t)tot[4]));
	return (r);
}
