/* The verbs that only look: status, list, show, agenda, preview. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libical/ical.h>

#include "ctl_verbs.h"
#include "campaign.h"
#include "channel.h"
#include "compose.h"
#include "control.h"
#include "conf.h"
#include "context.h"
#include "ctl_sliced.h"
#include "delivery.h"
#include "engage.h"
#include "length.h"
#include "log.h"
#include "newsletter.h"
#include "reply.h"
#include "schedule.h"
#include "store.h"
#include "store_view.h"
#include "thread.h"
#include "turn.h"
#include "when.h"
#include "../common/util.h"

#define BIT(s)		(1u << (s))
#define PENDING_MASK	(BIT(DS_SCHEDULED) | BIT(DS_RETRYING) | BIT(DS_HELD))
/* Who a newsletter's preview is rendered for ({{recipient.*}}). */
#define PREVIEW_EMAIL	"reader@example.org"
#define PREVIEW_NAME	"A. Reader"
#define LIST_DEFAULT	100
#define LIST_MAX	10000
#define AGENDA_DEFAULT	7
#define AGENDA_MAX	400
#define LIST_SLICE	200	/* rows a slice of a bigger list (about 2 ms) */
#define AGENDA_SLICE	200	/* rows a slice of a longer agenda (about 2 ms) */
#define RCPT_SLICE	1000	/* a newsletter's recipients a slice of show (about 2 ms) */
#define AGENDA_ROWS	100	/* posts shown unless --limit says otherwise (as list) */

/* What the event loop's turns cost since the start (turn_stats), as JSON. */
static json_t *
loop_json(void)
{
	struct turn_stats	st;

	turn_stats(&st);
	return (json_pack("{s:I, s:f, s:f, s:o, s:I, s:I, s:I}",
	    "turns", (json_int_t)st.turns,
	    "busy_seconds", st.busy_us / 1e6,
	    "longest_turn_ms", st.longest_us / 1e3,
	    "longest_turn_at", reply_time(st.longest_at),
	    "turns_over_5ms", (json_int_t)st.over[0],
	    "turns_over_10ms", (json_int_t)st.over[1],
	    "turns_over_50ms", (json_int_t)st.over[2]));
}

/* status: the daemon, its channels and calendars, counts per state. */
json_t *
ctl_status(struct client *cl, json_t *req)
{
	const struct config	*c = reply_ctx()->conf;
	int64_t			 counts[DS_NSTATES];
	json_t			*r, *jc, *chans, *cals, *d;
	size_t			 i;

	if (store_counts(counts) == -1)
		return (reply_error("internal", "database error"));
	r = reply_ok();
	d = json_object();
	json_object_set_new(d, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(d, "pid", json_integer(getpid()));
	json_object_set_new(d, "started", reply_time(reply_ctx()->started));
	json_object_set_new(d, "config", reply_str(c->file));
	json_object_set_new(d, "state_dir", reply_str(c->state_dir));
	json_object_set_new(d, "timezone", reply_str(c->timezone));
	json_object_set_new(d, "loop", loop_json());
	json_object_set_new(r, "daemon", d);
	jc = json_object();
	for (i = 0; i < DS_NSTATES; i++)
		json_object_set_new(jc, dstate_names[i], json_integer(counts[i]));
	json_object_set_new(r, "counts", jc);
	json_object_set_new(r, "storage", reply_str(store_problem()));
	json_object_set_new(d, "peers", reply_str(ctl_peers_note()));
	chans = json_array();
	for (i = 0; i < chan_count(); i++) {
		struct channel	*ch = chan_at(i);
		const char	*reason, *last_error;
		bool		 paused;
		int		 in_flight;
		char		 warn[400];

		sched_channel_info(ch->name, &paused, &reason, &last_error,
		    &in_flight);
		warn[0] = '\0';
		if (ch->ops->warning != NULL)
			ch->ops->warning(ch, when_now(), warn, sizeof(warn));
		json_array_append_new(chans, json_pack("{s:s, s:s, s:b, s:o, "
		    "s:o, s:i, s:o}", "name", ch->name, "type", ch->ops->type,
		    "paused", paused, "reason", reply_str(reason),
		    "last_error", reply_str(last_error), "in_flight", in_flight,
		    "warning", warn[0] ? json_string(warn) : json_null()));
	}
	json_object_set_new(r, "channels", chans);
	cals = camp_status_json();
	json_object_set_new(r, "calendars", cals);
	return (r);
}

/* Appends list's N rows DS to ARR. */
static void
list_rows(const struct delivery *ds, size_t n, json_t *arr)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		json_t	*jd = reply_delivery(&ds[i]);

		if (ds[i].state == DS_SENT)
			json_object_set_new(jd, "engagement",
			    engage_json(ds[i].id));
		json_array_append_new(arr, jd);
	}
}

/* ctl_sliced's slicer for list: the cursor ARG's next MAX rows into ITEMS. */
static int
list_slice(void *arg, size_t max, json_t *items)
{
	struct delivery	*ds = NULL;
	size_t		 n = 0;
	int		 rc;

	if ((rc = store_view_cursor_next(arg, max, &ds, &n, NULL)) == -1) {
		log_warnx("list: reading the deliveries failed");
		return (-1);
	}
	list_rows(ds, n, items);
	store_deliveries_free(ds, n);
	return (rc);
}

/* list: deliveries by due time, filtered. */
json_t *
ctl_list(struct client *cl, json_t *req)
{
	struct store_filter	 f;
	struct store_cursor	*cur;
	struct delivery		*ds = NULL;
	size_t			 n = 0;
	const char		*s;
	json_t			*arr, *r, *lim;
	char			 err[512];

	memset(&f, 0, sizeof(f));
	f.state = -1;
	if ((s = reply_field(req, "state")) != NULL &&
	    (f.state = dstate_from_name(s)) < 0)
		return (reply_error("bad_request", "unknown state '%s'", s));
	f.channel = reply_field(req, "channel");
	if ((s = reply_field(req, "from")) != NULL && reply_parse_time(s, &f.from) == -1)
		return (reply_error("bad_request", "--from: '%s' is not a date or "
		    "time (2027-05-17 or 2027-05-17T09:00:00Z)", s));
	if ((s = reply_field(req, "to")) != NULL && reply_parse_time(s, &f.to) == -1)
		return (reply_error("bad_request", "--to: '%s' is not a date or "
		    "time (2027-05-17 or 2027-05-17T09:00:00Z)", s));
	f.limit = LIST_DEFAULT;
	if ((lim = json_object_get(req, "limit")) != NULL) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
		    json_integer_value(lim) > LIST_MAX)
			return (reply_error("bad_request", "--limit: a number from "
			    "1 to %d", LIST_MAX));
		f.limit = (size_t)json_integer_value(lim);
	}
	r = reply_ok();
	json_object_set_new(r, "timezone", json_string(reply_ctx()->conf->timezone));
	if (f.limit > ctl_sliced_rows(LIST_SLICE)) {
		/* More than a turn's worth: read on a cursor, a slice a turn. */
		if ((cur = store_view_cursor(&f, 0, err, sizeof(err))) != NULL)
			return (ctl_sliced(cl, r, &(struct ctl_slicer){ NULL,
			    "deliveries", ctl_sliced_rows(LIST_SLICE),
			    list_slice, NULL, ctl_sliced_cursor_free }, cur));
		log_warnx("list: %s; read in one turn", err);
	}
	if (store_view_list(&f, &ds, &n, NULL) == -1) {
		json_decref(r);
		return (reply_error("internal", "database error"));
	}
	arr = json_array();
	list_rows(ds, n, arr);
	store_deliveries_free(ds, n);
	json_object_set_new(r, "deliveries", arr);
	return (r);
}

/* A newsletter's recipients being read for show, with their counts per state. */
struct rcpt_slicer {
	struct store_cursor	*cur;
	json_t			*counts;
};

/* Appends the N recipients RC to ITEMS and counts them in RS; frees RC. */
static void
rcpt_items(struct rcpt_slicer *rs, struct store_rcpt *rc, size_t n,
    json_t *items)
{
	size_t	 i;
	json_t	*c;

	for (i = 0; i < n; i++) {
		json_array_append_new(items, json_pack("{s:s, s:o, s:s, s:o, s:o, "
		    "s:i, s:o}", "email", rc[i].email, "name", reply_str(rc[i].name),
		    "state", rc[i].state, "error", reply_str(rc[i].error),
		    "message_id", reply_str(rc[i].message_id), "attempts",
		    rc[i].attempts, "sent_at", reply_time(rc[i].sent_at)));
		c = json_object_get(rs->counts, rc[i].state);
		json_object_set_new(rs->counts, rc[i].state, json_integer(
		    c != NULL ? json_integer_value(c) + 1 : 1));
	}
	store_rcpts_free(rc, n);
}

/* ctl_sliced's slicer for show: the next MAX recipients into ITEMS, counted. */
static int
rcpt_slice(void *arg, size_t max, json_t *items)
{
	struct rcpt_slicer	*rs = arg;
	struct store_rcpt	*rc = NULL;
	size_t			 n = 0;
	int			 more;

	if ((more = store_rcpt_cursor_next(rs->cur, max, &rc, &n)) == -1)
		return (-1);
	rcpt_items(rs, rc, n, items);
	return (more);
}

/* ctl_sliced's end for show: the counts of the recipients listed. */
static void
rcpt_end(void *arg, json_t *delivery)
{
	struct rcpt_slicer	*rs = arg;

	json_object_set(delivery, "recipient_counts", rs->counts);
}

/* Frees show's recipient slicer ARG. */
static void
rcpt_free(void *arg)
{
	struct rcpt_slicer	*rs = arg;

	store_cursor_close(rs->cur);
	json_decref(rs->counts);
	free(rs);
}

/* The operator's standing decisions on delivery ID. */
static json_t *
overrides_json(const char *id)
{
	static const char *const kinds[] = { "time", "state" };
	struct store_override	 o;
	json_t			*arr = json_array();
	size_t			 i;

	for (i = 0; i < 2; i++) {
		if (store_override_get(id, kinds[i], &o) != 0)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o, s:i}",
		    "kind", kinds[i], "verb", o.verb, "due", strcmp(kinds[i],
		    "time") == 0 ? reply_time(o.due) : json_null(), "at", reply_time(o.at),
		    "actor", o.actor));
		store_override_clear(&o);
	}
	return (arr);
}

/* show: one delivery with its text and history. */
json_t *
ctl_show(struct client *cl, json_t *req)
{
	char			 id[DELIVERY_ID_LEN + 1];
	struct delivery		 d;
	struct store_event	*ev = NULL;
	size_t			 nev = 0, i;
	json_t			*r, *jd, *arr;
	struct channel		*ch;
	struct rcpt_slicer	*rs;
	struct store_rcpt	*rc = NULL;
	size_t			 n = 0;
	char			 remote[256], err[512];

	if ((r = reply_resolve_id(req, id)) != NULL)
		return (r);
	if (store_get(id, &d) != 0)
		return (reply_error("not_found", "no delivery %s", id));
	jd = reply_delivery(&d);
	json_object_set_new(jd, "text", reply_str(d.text));
	json_object_set_new(jd, "remote_id", reply_str(d.remote_id));
	if (d.remote_id != NULL && (ch = chan_find(d.channel)) != NULL &&
	    ch->ops->remote_state != NULL)
		json_object_set_new(jd, "remote_state", reply_str(
		    ch->ops->remote_state(ch, d.remote_id, remote,
		    sizeof(remote))));
	json_object_set_new(jd, "next_attempt", d.state == DS_RETRYING ?
	    reply_time(d.next_attempt) : json_null());
	json_object_set_new(jd, "sent_at", reply_time(d.sent_at));
	json_object_set_new(jd, "created", reply_time(d.created));
	json_object_set_new(jd, "updated", reply_time(d.updated));
	json_object_set_new(jd, "held_for", d.state != DS_HELD ? json_null() :
	    delivery_problem(&d) != NULL ? json_string(delivery_problem(&d)) :
	    json_string(d.hold_reason != NULL && strcmp(d.hold_reason,
	    SCHED_PAUSED) == 0 ? "channel paused" : "approval"));
	json_object_set_new(jd, "problem", reply_str(delivery_problem(&d)));
	json_object_set_new(jd, "overrides", overrides_json(id));
	json_object_set_new(jd, "engagement", engage_json(id));
	store_delivery_clear(&d);
	arr = json_array();
	if (store_events_for(id, &ev, &nev) == 0) {
		for (i = 0; i < nev; i++)
			json_array_append_new(arr, reply_event(&ev[i]));
		store_events_free(ev, nev);
	}
	json_object_set_new(jd, "events", arr);
	r = reply_ok();
	json_object_set_new(r, "timezone", json_string(reply_ctx()->conf->timezone));
	json_object_set_new(r, "delivery", jd);
	if (store_rcpt_any(id) != 1)
		return (r);
	/*
	 * A newsletter's recipients, a slice a turn: 10 000 of them took
	 * 21 ms in one turn. They are read on a snapshot of their own, so
	 * the counts always add up to the list.
	 */
	rs = xcalloc(1, sizeof(*rs));
	rs->counts = json_object();
	if ((rs->cur = store_rcpt_cursor(id, err, sizeof(err))) == NULL) {
		log_warnx("show %s: %s; recipients read in one turn", id, err);
		if (store_rcpt_list(id, &rc, &n) == -1) {
			rcpt_free(rs);
			json_decref(r);
			return (reply_error("internal", "database error"));
		}
		arr = json_array();
		rcpt_items(rs, rc, n, arr);
		json_object_set_new(jd, "recipients", arr);
		rcpt_end(rs, jd);
		rcpt_free(rs);
		return (r);
	}
	return (ctl_sliced(cl, r, &(struct ctl_slicer){ "delivery",
	    "recipients", ctl_sliced_rows(RCPT_SLICE), rcpt_slice, rcpt_end,
	    rcpt_free }, rs));
}

/*
 * Gives agenda item IT its occurrence's END: "end" as --check
 * --json writes it, "until" as a person reads it in the display zone.
 */
static void
agenda_end(json_t *it, const char *end, const struct icaltimetype *start)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	struct icaltimetype	 t;
	char			 buf[48];
	int64_t			 ms;

	if (end == NULL)
		return;
	json_object_set_new(it, "end", json_string(end));
	if (strlen(end) == 10 && when_parse(end, NULL, &ms) == 0) {
		/* all day: the end date is exclusive, the last day is the one before */
		t = icaltime_from_timet_with_zone((time_t)(ms / 1000 - 86400), 1,
		    icaltimezone_get_utc_timezone());
		snprintf(buf, sizeof(buf), "%s %04d-%02d-%02d, all day",
		    wd[icaltime_day_of_week(t) - 1], t.year, t.month, t.day);
	} else if (when_parse(end, NULL, &ms) == 0) {
		reply_local_time(ms, &t);
		if (t.year == start->year && t.month == start->month &&
		    t.day == start->day)
			snprintf(buf, sizeof(buf), "%02d:%02d", t.hour, t.minute);
		else
			snprintf(buf, sizeof(buf), "%s %04d-%02d-%02d %02d:%02d",
			    wd[icaltime_day_of_week(t) - 1], t.year, t.month,
			    t.day, t.hour, t.minute);
	} else
		return;
	json_object_set_new(it, "until", json_string(buf));
}

/* "Monday 17 May 2027" for the date of T. */
static void
day_label(struct icaltimetype *t, char *buf, size_t len)
{
	static const char *const wd[] = { "Sunday", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday" };
	static const char *const mo[] = { "January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December" };

	snprintf(buf, len, "%s %d %s %d", wd[icaltime_day_of_week(*t) - 1],
	    t->day, mo[t->month - 1], t->year);
}

/* The first post still to go out from AFTER on, with the --days that shows it; or null. */
static json_t *
agenda_next(int64_t after, int64_t now)
{
	struct delivery		 d;
	struct icaltimetype	 t;
	json_t			*it;
	char			 hm[8], label[64];

	if (store_view_next_pending(after, &d) != 0)
		return (json_null());
	reply_local_time(d.due, &t);
	snprintf(hm, sizeof(hm), "%02d:%02d", t.hour, t.minute);
	day_label(&t, label, sizeof(label));
	it = reply_delivery(&d);
	json_object_set_new(it, "time", json_string(hm));
	json_object_set_new(it, "label", json_string(label));
	json_object_set_new(it, "days", json_integer((json_int_t)
	    ((d.due - now) / 86400000 + 1)));
	store_delivery_clear(&d);
	return (it);
}

/* An agenda being made: its rows grouped into days as they are read. */
struct agenda {
	json_t			*r;		/* the reply (not owned) */
	struct store_cursor	*cur;		/* when read a slice a turn */
	json_t			*day;		/* the day being filled */
	char			 last[16];	/* its date */
	size_t			 limit, rows;	/* shown, at most */
	int			 more;		/* a row past the limit came */
	int			 ndays;
	int64_t			 from, to;	/* the window */
};

/* Adds the N rows DS (with their ENDS) to A; each day that is complete goes to DAYS. */
static void
agenda_rows(struct agenda *a, const struct delivery *ds, char **ends,
    size_t n, json_t *days)
{
	struct icaltimetype	 t;
	json_t			*it;
	char			 date[16], hm[8], label[64];
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (a->rows == a->limit) {
			a->more = 1;	/* the one more than the limit asked */
			continue;
		}
		a->rows++;
		reply_local_time(ds[i].due, &t);
		snprintf(date, sizeof(date), "%04d-%02d-%02d", t.year, t.month, t.day);
		if (a->day == NULL || strcmp(date, a->last) != 0) {
			if (a->day != NULL)
				json_array_append_new(days, a->day);
			day_label(&t, label, sizeof(label));
			a->day = json_pack("{s:s, s:s, s:[]}", "date", date,
			    "label", label, "items");
			a->ndays++;
			snprintf(a->last, sizeof(a->last), "%s", date);
		}
		snprintf(hm, sizeof(hm), "%02d:%02d", t.hour, t.minute);
		it = reply_delivery(&ds[i]);
		json_object_set_new(it, "time", json_string(hm));
		if (ds[i].calendar != NULL)
			agenda_end(it, ends[i], &t);
		json_array_append_new(json_object_get(a->day, "items"), it);
	}
}

/* All of A's rows are read: its last day goes to DAYS, and the reply says what is left out. */
static void
agenda_done(struct agenda *a, json_t *days)
{
	if (a->day != NULL)
		json_array_append_new(days, a->day);
	a->day = NULL;
	/* Never cut silently: the reply says when posts of the window are left out. */
	json_object_set_new(a->r, "more", json_boolean(a->more));
	if (a->ndays == 0)
		json_object_set_new(a->r, "next", agenda_next(a->to, a->from));
}

/* ctl_sliced's slicer for agenda: the next MAX rows of the agenda ARG, its complete days into DAYS. */
static int
agenda_slice(void *arg, size_t max, json_t *days)
{
	struct agenda	*a = arg;
	struct delivery	*ds = NULL;
	char		**ends = NULL;
	size_t		 n = 0;
	int		 rc;

	if ((rc = store_view_cursor_next(a->cur, max, &ds, &n, &ends)) == -1) {
		log_warnx("agenda: reading the deliveries failed");
		return (-1);
	}
	agenda_rows(a, ds, ends, n, days);
	store_deliveries_free(ds, n);
	store_view_ends_free(ends, n);
	if (rc == 0)
		agenda_done(a, days);
	return (rc);
}

/* Frees the agenda ARG (its cursor and a day not handed over). */
static void
agenda_free(void *arg)
{
	struct agenda	*a = arg;

	store_cursor_close(a->cur);
	json_decref(a->day);
	free(a);
}

/* agenda: the coming days, grouped by day in the display zone. */
json_t *
ctl_agenda(struct client *cl, json_t *req)
{
	struct store_filter	 f;
	struct delivery		*ds = NULL;
	struct agenda		*a;
	char			**ends = NULL, err[512];
	json_t			*days, *r, *jd;
	size_t			 n = 0, limit = AGENDA_ROWS;
	json_int_t		 ndays = AGENDA_DEFAULT;

	if ((jd = json_object_get(req, "days")) != NULL) {
		if (!json_is_integer(jd) || json_integer_value(jd) < 1 ||
		    json_integer_value(jd) > AGENDA_MAX)
			return (reply_error("bad_request", "--days: a number from "
			    "1 to %d", AGENDA_MAX));
		ndays = json_integer_value(jd);
	}
	if ((jd = json_object_get(req, "limit")) != NULL) {
		if (!json_is_integer(jd) || json_integer_value(jd) < 1 ||
		    json_integer_value(jd) > LIST_MAX)
			return (reply_error("bad_request", "--limit: a number from "
			    "1 to %d", LIST_MAX));
		limit = (size_t)json_integer_value(jd);
	}
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.from = when_now();
	f.to = f.from + (int64_t)ndays * 86400 * 1000;
	f.limit = limit + 1;	/* one more says whether any are left out */
	r = reply_ok();
	json_object_set_new(r, "timezone", json_string(reply_ctx()->conf->timezone));
	json_object_set_new(r, "window_days", json_integer(ndays));
	json_object_set_new(r, "limit", json_integer((json_int_t)limit));
	a = xcalloc(1, sizeof(*a));
	a->r = r;
	a->limit = limit;
	a->from = f.from;
	a->to = f.to;
	if (limit > ctl_sliced_rows(AGENDA_SLICE)) {
		/* More than a turn's worth: a slice a turn, as list. */
		if ((a->cur = store_view_cursor(&f, 1, err, sizeof(err))) != NULL)
			return (ctl_sliced(cl, r, &(struct ctl_slicer){ NULL,
			    "days", ctl_sliced_rows(AGENDA_SLICE),
			    agenda_slice, NULL, agenda_free }, a));
		log_warnx("agenda: %s; read in one turn", err);
	}
	if (store_view_list(&f, &ds, &n, &ends) == -1) {
		agenda_free(a);
		json_decref(r);
		return (reply_error("internal", "database error"));
	}
	days = json_array();
	agenda_rows(a, ds, ends, n, days);
	agenda_done(a, days);
	store_deliveries_free(ds, n);
	store_view_ends_free(ends, n);
	agenda_free(a);
	json_object_set_new(r, "days", days);
	return (r);
}

/*
 * The message email delivery D sends on CH, rendered as it goes out (the
 * template and context kept for it, utm tags, unsubscribe_url) for a
 * placeholder recipient: {subject, text, html, unsubscribe_url}, or
 * {error}.
 */
static json_t *
preview_email(const struct channel *ch, const struct delivery *d)
{
	struct email_parts	 ep;
	struct post		 p;
	json_t			*o;
	char			 err[512];

	chan_post_of(&p, d);
	if (newsletter_preview(ch, &p, reply_ctx()->tmpls, PREVIEW_EMAIL,
	    PREVIEW_NAME, &ep, err, sizeof(err)) == -1)
		return (json_pack("{s:s}", "error", err));
	o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "recipient",
	    PREVIEW_EMAIL, "subject", ep.subject ? ep.subject : "", "text",
	    ep.text, "html", ep.html, "unsubscribe_url", ep.unsub_url);
	chan_email_parts_clear(&ep);
	return (o != NULL ? o : json_pack("{s:s}", "error", "not UTF-8 text"));
}

/* One delivery's rendered text measured for its channel. */
static json_t *
preview_json(const struct delivery *d)
{
	struct channel		*ch = chan_find(d->channel);
	struct len_result	 lr;
	json_t			*o = reply_delivery(d), *parts;
	char			 err[256];

	json_object_set_new(o, "text", reply_str(d->text));
	if (ch == NULL) {
		json_object_set_new(o, "error", json_string("channel is not "
		    "configured"));
		return (o);
	}
	thread_measure(ch, d->text, &lr, NULL, err, sizeof(err));
	json_object_set_new(o, "type", json_string(ch->ops->type));
	if (strcmp(chan_style_of(ch), ch->ops->type) != 0)
		json_object_set_new(o, "like", json_string(chan_style_of(ch)));
	compose_len_json(o, &lr);
	if ((parts = thread_json(ch, d->text)) != NULL)
		json_object_set_new(o, "parts", parts);
	if (ch->ops->email)
		json_object_set_new(o, "email", preview_email(ch, d));
	return (o);
}

/* preview: the text of a delivery, or of a calendar event's next instance, per channel. */
json_t *
ctl_preview(struct client *cl, json_t *req)
{
	const char	*cal = reply_field(req, "calendar"), *uid = reply_field(req, "uid");
	char		 id[DELIVERY_ID_LEN + 1];
	struct delivery	 d, *ds = NULL;
	json_t		*r, *arr;
	const char	*rid = NULL;
	size_t		 n = 0, i;
	int64_t		 due = 0;
	int		 best = 0;

	arr = json_array();
	if (reply_field(req, "id") != NULL) {
		if ((r = reply_resolve_id(req, id)) != NULL) {
			json_decref(arr);
			return (r);
		}
		if (store_get(id, &d) != 0) {
			json_decref(arr);
			return (reply_error("not_found", "no delivery %s", id));
		}
		json_array_append_new(arr, preview_json(&d));
		store_delivery_clear(&d);
	} else if (cal != NULL && uid != NULL) {
		if (store_list_calendar(cal, &ds, &n) == -1) {
			json_decref(arr);
			return (reply_error("internal", "database error"));
		}
		/* The next instance still to go out, else the last one. */
		for (i = 0; i < n; i++) {
			int pending = (PENDING_MASK & BIT(ds[i].state)) != 0;

			if (ds[i].uid == NULL || strcmp(ds[i].uid, uid) != 0)
				continue;
			if ((pending && (!best || ds[i].due < due)) ||
			    (!pending && !best && ds[i].due > due)) {
				due = ds[i].due;
				rid = ds[i].recurrence_id;
				best = pending;
			}
		}
		for (i = 0; i < n; i++)
			if (ds[i].uid != NULL && strcmp(ds[i].uid, uid) == 0 &&
			    ds[i].due == due && ((rid == NULL) ==
			    (ds[i].recurrence_id == NULL)) && (rid == NULL ||
			    strcmp(rid, ds[i].recurrence_id) == 0))
				json_array_append_new(arr, preview_json(&ds[i]));
		store_deliveries_free(ds, n);
		if (json_array_size(arr) == 0) {
			json_decref(arr);
			return (reply_error("not_found", "no event %s in calendar %s",
			    uid, cal));
		}
	} else {
		json_decref(arr);
		return (reply_error("bad_request", "preview needs an ID, or "
		    "--calendar C --uid U"));
	}
	r = reply_ok();
	json_object_set_new(r, "previews", arr);
	return (r);
}
