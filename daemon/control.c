/*
 * The control socket: one JSON request per line, one reply per line. Verbs
 * come from the table in common/proto.h; each has a handler here.
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <jansson.h>
#include <libical/ical.h>
#include <openssl/rand.h>

#include "control.h"
#include "ctlconn.h"
#include "campaign.h"
#include "channel.h"
#include "context.h"
#include "log.h"
#include "mime.h"
#include "recipients.h"
#include "render.h"
#include "schedule.h"
#include "store.h"
#include "verbs.h"
#include "when.h"
#include "../common/human.h"
#include "../common/proto.h"
#include "../common/util.h"

#define BIT(s)		(1u << (s))
#define PENDING_MASK	(BIT(DS_SCHEDULED) | BIT(DS_RETRYING) | BIT(DS_HELD))
#define LIST_DEFAULT	100
#define LIST_MAX	10000
#define LOG_DEFAULT	50
#define POST_MAX_TEXT	(32 * 1024)
#define AGENDA_DEFAULT	7
#define AGENDA_MAX	400

typedef json_t	*(*ctl_handler)(struct client *, json_t *);

static uv_pipe_t		 ctl_server;
static const struct crierd_ctx *ctl_ctx;	/* configuration, templates, reload */
static int			 ctl_listening;
static char			*ctl_path;	/* NULL when inherited */
static gid_t			 ctl_gid = (gid_t)-1;
static uv_timer_t		 ctl_follow_timer;
static int			 ctl_follow_inited;
static size_t			 ctl_nfollowers;

#define FOLLOW_MAX_QUEUE	(4 * 1024 * 1024)	/* unread bytes before a
							   follower is dropped */

static char			 ctl_userns[512];	/* why peers may be unmappable */

/* An error reply with CODE and a formatted message. */
static json_t *
error_reply(const char *code, const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (json_pack("{s:b, s:s, s:s}", "ok", 0, "error", msg, "code", code));
}

/* A success reply to fill in. */
static json_t *
ok_reply(void)
{
	return (json_pack("{s:b}", "ok", 1));
}

/* A string or null. */
static json_t *
jstr(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
}

/* An instant as ISO 8601, or null when 0. */
static json_t *
jtime(int64_t ms)
{
	char	buf[40];

	if (ms == 0)
		return (json_null());
	return (json_string(when_format(ms, buf, sizeof(buf))));
}

static void	local_time(int64_t, struct icaltimetype *);

/* MS in the display zone, whole seconds: "2027-05-17 10:00:00". */
static json_t *
jlocal(int64_t ms)
{
	struct icaltimetype	t;
	char			buf[40];

	local_time(ms, &t);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", t.year,
	    t.month, t.day, t.hour, t.minute, t.second);
	return (json_string(buf));
}

/* The list fields of a delivery (SPEC §7), and its due time in the display zone. */
static json_t *
delivery_json(const struct delivery *d)
{
	json_t	*o = json_object();

	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "state", json_string(dstate_names[d->state]));
	json_object_set_new(o, "channel", jstr(d->channel));
	json_object_set_new(o, "due", jtime(d->due));
	json_object_set_new(o, "due_local", jlocal(d->due));
	json_object_set_new(o, "calendar", jstr(d->calendar));
	json_object_set_new(o, "uid", jstr(d->uid));
	json_object_set_new(o, "recurrence_id", jstr(d->recurrence_id));
	json_object_set_new(o, "summary", jstr(d->summary));
	json_object_set_new(o, "attempts", json_integer(d->attempts));
	json_object_set_new(o, "last_error", jstr(d->last_error));
	json_object_set_new(o, "remote_url", jstr(d->remote_url));
	return (o);
}

/* An event row as JSON. */
static json_t *
event_json(const struct store_event *e)
{
	json_t	*o = json_object();

	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "at", jtime(e->at));
	json_object_set_new(o, "delivery", jstr(e->delivery));
	json_object_set_new(o, "channel", jstr(e->channel));
	json_object_set_new(o, "event", json_string(e->event));
	json_object_set_new(o, "detail", jstr(e->detail));
	json_object_set_new(o, "actor", e->actor == STORE_ACTOR_DAEMON ?
	    json_string("crierd") : json_integer(e->actor));
	return (o);
}

/* The string field NAME of REQ, or NULL. */
static const char *
req_str(json_t *req, const char *name)
{
	return (json_string_value(json_object_get(req, name)));
}

/* Resolves the request's "id" into ID; an error reply on failure. */
static json_t *
resolve_id(json_t *req, char id[DELIVERY_ID_LEN + 1])
{
	const char	*p = req_str(req, "id");

	if (p == NULL)
		return (error_reply("bad_request", "missing delivery id"));
	switch (store_resolve(p, id)) {
	case 0:
		return (NULL);
	case 1:
		return (error_reply("not_found", "no delivery %s", p));
	case 2:
		return (error_reply("ambiguous", "%s matches several deliveries: "
		    "give more digits", p));
	default:
		return (error_reply("internal", "database error"));
	}
}

/* Parses an instant given to a verb, in the configured time zone. */
static int
parse_time(const char *s, int64_t *ms)
{
	return (when_parse(s, ctl_ctx->conf->timezone, ms));
}

/* status: the daemon, its channels and calendars, counts per state. */
static json_t *
h_status(struct client *cl, json_t *req)
{
	const struct config	*c = ctl_ctx->conf;
	int64_t			 counts[DS_NSTATES];
	json_t			*r, *jc, *chans, *cals, *d;
	size_t			 i;

	if (store_counts(counts) == -1)
		return (error_reply("internal", "database error"));
	r = ok_reply();
	d = json_object();
	json_object_set_new(d, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(d, "pid", json_integer(getpid()));
	json_object_set_new(d, "started", jtime(ctl_ctx->started));
	json_object_set_new(d, "config", jstr(c->file));
	json_object_set_new(d, "state_dir", jstr(c->state_dir));
	json_object_set_new(d, "timezone", jstr(c->timezone));
	json_object_set_new(r, "daemon", d);
	jc = json_object();
	for (i = 0; i < DS_NSTATES; i++)
		json_object_set_new(jc, dstate_names[i], json_integer(counts[i]));
	json_object_set_new(r, "counts", jc);
	json_object_set_new(r, "storage", jstr(store_problem()));
	json_object_set_new(d, "peers", jstr(ctl_userns[0] ? ctl_userns : NULL));
	chans = json_array();
	for (i = 0; i < chan_count(); i++) {
		struct channel	*ch = chan_at(i);
		const char	*reason, *last_error;
		bool		 paused;
		int		 in_flight;

		sched_channel_info(ch->name, &paused, &reason, &last_error,
		    &in_flight);
		json_array_append_new(chans, json_pack("{s:s, s:s, s:b, s:o, "
		    "s:o, s:i}", "name", ch->name, "type", ch->ops->type,
		    "paused", paused, "reason", jstr(reason),
		    "last_error", jstr(last_error), "in_flight", in_flight));
	}
	json_object_set_new(r, "channels", chans);
	cals = camp_status_json();
	json_object_set_new(r, "calendars", cals);
	return (r);
}

/* list: deliveries by due time, filtered. */
static json_t *
h_list(struct client *cl, json_t *req)
{
	struct store_filter	 f;
	struct delivery		*ds = NULL;
	size_t			 n = 0, i;
	const char		*s;
	json_t			*arr, *r, *lim;

	memset(&f, 0, sizeof(f));
	f.state = -1;
	if ((s = req_str(req, "state")) != NULL &&
	    (f.state = dstate_from_name(s)) < 0)
		return (error_reply("bad_request", "unknown state '%s'", s));
	f.channel = req_str(req, "channel");
	if ((s = req_str(req, "from")) != NULL && parse_time(s, &f.from) == -1)
		return (error_reply("bad_request", "--from: '%s' is not a date or "
		    "time (2027-05-17 or 2027-05-17T09:00:00Z)", s));
	if ((s = req_str(req, "to")) != NULL && parse_time(s, &f.to) == -1)
		return (error_reply("bad_request", "--to: '%s' is not a date or "
		    "time (2027-05-17 or 2027-05-17T09:00:00Z)", s));
	f.limit = LIST_DEFAULT;
	if ((lim = json_object_get(req, "limit")) != NULL) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
		    json_integer_value(lim) > LIST_MAX)
			return (error_reply("bad_request", "--limit: a number from "
			    "1 to %d", LIST_MAX));
		f.limit = (size_t)json_integer_value(lim);
	}
	if (store_list(&f, &ds, &n) == -1)
		return (error_reply("internal", "database error"));
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, delivery_json(&ds[i]));
	store_deliveries_free(ds, n);
	r = ok_reply();
	json_object_set_new(r, "timezone", json_string(ctl_ctx->conf->timezone));
	json_object_set_new(r, "deliveries", arr);
	return (r);
}

/* Adds a newsletter's recipients of delivery ID to JD, with counts per state. */
static void
recipients_json(const char *id, json_t *jd)
{
	struct store_rcpt	*rc = NULL;
	size_t			 n = 0, i;
	json_t			*arr, *counts, *c;

	if (store_rcpt_list(id, &rc, &n) == -1 || n == 0) {
		store_rcpts_free(rc, n);
		return;
	}
	arr = json_array();
	counts = json_object();
	for (i = 0; i < n; i++) {
		json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:o, s:o, "
		    "s:i, s:o}", "email", rc[i].email, "name", jstr(rc[i].name),
		    "state", rc[i].state, "error", jstr(rc[i].error),
		    "message_id", jstr(rc[i].message_id), "attempts",
		    rc[i].attempts, "sent_at", jtime(rc[i].sent_at)));
		c = json_object_get(counts, rc[i].state);
		json_object_set_new(counts, rc[i].state, json_integer(
		    c != NULL ? json_integer_value(c) + 1 : 1));
	}
	store_rcpts_free(rc, n);
	json_object_set_new(jd, "recipients", arr);
	json_object_set_new(jd, "recipient_counts", counts);
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
		    "time") == 0 ? jtime(o.due) : json_null(), "at", jtime(o.at),
		    "actor", o.actor));
		store_override_clear(&o);
	}
	return (arr);
}

/* show: one delivery with its text and history. */
static json_t *
h_show(struct client *cl, json_t *req)
{
	char			 id[DELIVERY_ID_LEN + 1];
	struct delivery		 d;
	struct store_event	*ev = NULL;
	size_t			 nev = 0, i;
	json_t			*r, *jd, *arr;

	if ((r = resolve_id(req, id)) != NULL)
		return (r);
	if (store_get(id, &d) != 0)
		return (error_reply("not_found", "no delivery %s", id));
	jd = delivery_json(&d);
	json_object_set_new(jd, "text", jstr(d.text));
	json_object_set_new(jd, "remote_id", jstr(d.remote_id));
	json_object_set_new(jd, "next_attempt", d.state == DS_RETRYING ?
	    jtime(d.next_attempt) : json_null());
	json_object_set_new(jd, "sent_at", jtime(d.sent_at));
	json_object_set_new(jd, "created", jtime(d.created));
	json_object_set_new(jd, "updated", jtime(d.updated));
	json_object_set_new(jd, "held_for", d.state != DS_HELD ? json_null() :
	    verb_problem(&d) != NULL ? json_string(verb_problem(&d)) :
	    json_string(d.hold_reason != NULL && strcmp(d.hold_reason,
	    SCHED_PAUSED) == 0 ? "channel paused" : "approval"));
	json_object_set_new(jd, "problem", jstr(verb_problem(&d)));
	json_object_set_new(jd, "overrides", overrides_json(id));
	store_delivery_clear(&d);
	recipients_json(id, jd);
	arr = json_array();
	if (store_events_for(id, &ev, &nev) == 0) {
		for (i = 0; i < nev; i++)
			json_array_append_new(arr, event_json(&ev[i]));
		store_events_free(ev, nev);
	}
	json_object_set_new(jd, "events", arr);
	r = ok_reply();
	json_object_set_new(r, "timezone", json_string(ctl_ctx->conf->timezone));
	json_object_set_new(r, "delivery", jd);
	return (r);
}

/* True if channel NAME is paused. */
static int
chan_paused(const char *name)
{
	const char	*reason, *err;
	bool		 paused;
	int		 inf;

	sched_channel_info(name, &paused, &reason, &err, &inf);
	return (paused);
}

/* The summary of an ad-hoc post: its first line, cut at a character boundary. */
static char *
post_summary(const char *text)
{
	size_t	n = strcspn(text, "\n");
	char	*s;

	if (n > 80) {
		n = 80;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	if ((s = strndup(text, n)) == NULL)
		abort();
	return (s);
}

/* Collects the channel names of a post request (array or comma string). */
static json_t *
post_channels(json_t *req, json_t **err)
{
	json_t		*jc = json_object_get(req, "channel"), *out, *v;
	const char	*s, *name;
	size_t		 i, n;
	char		 buf[128];

	out = json_array();
	if (json_is_string(jc)) {
		s = json_string_value(jc);
		while ((n = util_list_next(&s, ", ", buf, sizeof(buf))) > 0)
			if (n < sizeof(buf))
				json_array_append_new(out, json_string(buf));
	} else if (json_is_array(jc)) {
		json_array_foreach(jc, i, v)
			if (json_is_string(v))
				json_array_append(out, v);
	}
	if (json_array_size(out) == 0) {
		*err = error_reply("bad_request", "post needs --channel C[,C]");
		goto fail;
	}
	json_array_foreach(out, i, v) {
		name = json_string_value(v);
		if (chan_find(name) == NULL) {
			*err = error_reply("not_found", "no channel named '%s'", name);
			goto fail;
		}
	}
	return (out);
fail:
	json_decref(out);
	return (NULL);
}

/* Measures TEXT for channel CH; an error reply when it does not fit. */
static json_t *
check_length(struct channel *ch, const char *text)
{
	struct len_result	lr;

	len_measure(chan_len_rule(ch), text, ch->limit, &lr);
	if (lr.fits)
		return (NULL);
	if (lr.limit != 0 && lr.length > lr.limit)
		return (error_reply("too_long", "the post is %zu characters, %zu "
		    "over the limit of %zu for %s", lr.length,
		    lr.length - lr.limit, lr.limit, ch->name));
	return (error_reply("too_long", "the post is %zu bytes, %zu over the "
	    "limit of %zu bytes for %s", lr.bytes, lr.bytes - lr.byte_limit,
	    lr.byte_limit, ch->name));
}

/* Renders template TMPL for channel CH with the request's vars into *TEXT. */
static json_t *
post_render(struct channel *ch, const char *tmpl, json_t *vars, int64_t due,
    char **text)
{
	struct render_input	 in;
	struct render_output	 out;
	json_t			*err = NULL;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.ch = ch;
	in.conf = ctl_ctx->conf;
	in.tmpls = ctl_ctx->tmpls;
	in.template = tmpl;
	in.vars = vars;
	in.start = due;
	in.strict = true;
	if (render_post(&in, &out) == -1)
		err = error_reply("render", "%s: %s", ch->name, out.error);
	else if ((*text = strdup(out.text)) == NULL)
		abort();
	render_output_clear(&out);
	return (err);
}

/* post --dry-run: each channel's text, measured; nothing is queued. */
static json_t *
post_dry_run(json_t *chans, const char *text, const char *tmpl, json_t *vars,
    int64_t due)
{
	struct render_input	 in;
	struct render_output	 out;
	struct len_result	 lr;
	json_t			*arr = json_array(), *v, *o, *r;
	size_t			 i;
	int			 all = 1;

	json_array_foreach(chans, i, v) {
		struct channel *ch = chan_find(json_string_value(v));

		memset(&out, 0, sizeof(out));
		o = json_pack("{s:s, s:s}", "channel", ch->name, "type",
		    ch->ops->type);
		if (tmpl != NULL) {
			memset(&in, 0, sizeof(in));
			in.ch = ch;
			in.conf = ctl_ctx->conf;
			in.tmpls = ctl_ctx->tmpls;
			in.template = tmpl;
			in.vars = vars;
			in.start = due;
			in.strict = true;
			if (render_post(&in, &out) == -1) {
				json_object_set_new(o, "error", json_string(out.error));
				json_object_set_new(o, "fits", json_false());
				json_array_append_new(arr, o);
				render_output_clear(&out);
				all = 0;
				continue;
			}
			lr = out.len;
		} else
			len_measure(chan_len_rule(ch), text, ch->limit, &lr);
		json_object_set_new(o, "text", json_string(tmpl ? out.text : text));
		json_object_set_new(o, "length", json_integer((json_int_t)lr.length));
		json_object_set_new(o, "limit", lr.limit ?
		    json_integer((json_int_t)lr.limit) : json_null());
		json_object_set_new(o, "fits", json_boolean(lr.fits));
		if (!lr.fits)
			all = 0;
		json_array_append_new(arr, o);
		render_output_clear(&out);
	}
	r = ok_reply();
	json_object_set_new(r, "dry_run", json_true());
	json_object_set_new(r, "due", jtime(due));
	json_object_set_new(r, "fits", json_boolean(all));
	json_object_set_new(r, "previews", arr);
	return (r);
}

/* post: queue an ad-hoc post to one or more channels. */
static json_t *
h_post(struct client *cl, json_t *req)
{
	const char	*text = req_str(req, "text"), *tmpl = req_str(req, "template");
	const char	*at = req_str(req, "at"), *in = req_str(req, "in");
	json_t		*chans, *err = NULL, *ids, *v, *r, *vars;
	struct delivery	 d;
	int64_t		 due = when_now(), secs;
	unsigned char	 rnd[8];
	char		 uid[96], hex[17];
	char		**texts = NULL;
	size_t		 i, n;
	int		 hold = json_is_true(json_object_get(req, "hold"));
	int		 all_held = 1;

	vars = json_object_get(req, "vars");
	if ((text == NULL || *text == '\0') == (tmpl == NULL))
		return (error_reply("bad_request", "post needs --text T or "
		    "--template T"));
	if (vars != NULL && (tmpl == NULL || !json_is_object(vars)))
		return (error_reply("bad_request", "--var goes with --template"));
	if (text != NULL && strlen(text) > POST_MAX_TEXT)
		return (error_reply("too_long", "--text is over %d bytes",
		    POST_MAX_TEXT));
	if (at != NULL && in != NULL)
		return (error_reply("bad_request", "give --at or --in, not both"));
	if (at != NULL && parse_time(at, &due) == -1)
		return (error_reply("bad_request", "--at: '%s' is not a date or "
		    "time (2027-05-17T09:00:00Z, or local 2027-05-17T10:00)", at));
	if (at != NULL && (err = verb_check_future("post --at", at, NULL, &due)) != NULL)
		return (err);
	if (in != NULL) {
		if (conf_parse_duration(in, &secs) == -1)
			return (error_reply("bad_request", "--in: '%s' is not a "
			    "duration (30s, 10m, 2h, 1d)", in));
		due += secs * 1000;
	}
	if ((chans = post_channels(req, &err)) == NULL)
		return (err);
	if (json_is_true(json_object_get(req, "dry_run"))) {
		err = post_dry_run(chans, text, tmpl, vars, due);
		json_decref(chans);
		return (err);
	}
	n = json_array_size(chans);
	if ((texts = calloc(n, sizeof(*texts))) == NULL)
		abort();
	/* Every channel's text is rendered and measured before anything is queued. */
	json_array_foreach(chans, i, v) {
		struct channel *ch = chan_find(json_string_value(v));

		if (tmpl != NULL)
			err = post_render(ch, tmpl, vars, due, &texts[i]);
		else if ((texts[i] = strdup(text)) == NULL)
			abort();
		if (err == NULL)
			err = check_length(ch, texts[i]);
		if (err != NULL)
			goto out;
	}
	RAND_bytes(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + i * 2, 3, "%02x", rnd[i]);
	snprintf(uid, sizeof(uid), "post-%lld-%s@crier", (long long)when_now(), hex);
	ids = json_array();
	if (store_begin() == -1) {
		json_decref(ids);
		err = error_reply("internal", "database error");
		goto out;
	}
	json_array_foreach(chans, i, v) {
		memset(&d, 0, sizeof(d));
		d.channel = (char *)json_string_value(v);
		store_delivery_id(NULL, uid, NULL, d.channel, d.id);
		d.state = hold ? DS_HELD : DS_SCHEDULED;
		if (!hold && chan_paused(d.channel)) {
			/* It waits, visibly, for its channel to be resumed. */
			d.state = DS_HELD;
			d.hold_reason = SCHED_PAUSED;
		} else
			d.hold_reason = NULL;
		if (d.state == DS_SCHEDULED)
			all_held = 0;
		d.due = due;
		d.uid = uid;
		d.summary = post_summary(texts[i]);
		d.text = texts[i];
		if (store_insert(&d, (int)cl->uid, "queued") != 0) {
			free(d.summary);
			store_rollback();
			json_decref(ids);
			err = error_reply("internal", "database error");
			goto out;
		}
		free(d.summary);
		json_array_append_new(ids, json_string(d.id));
	}
	/* All channels or none: acknowledged only once committed. */
	if (store_commit() == -1) {
		json_decref(ids);
		err = error_reply("internal", "database error");
		goto out;
	}
	json_array_foreach(ids, i, v)
		log_info("ctl: uid %d: post %s to %s%s", (int)cl->uid,
		    json_string_value(v), json_string_value(json_array_get(chans, i)),
		    hold ? " (held)" : "");
	sched_kick();
	r = ok_reply();
	json_object_set_new(r, "ids", ids);
	json_object_set_new(r, "due", jtime(due));
	json_object_set_new(r, "due_local", jlocal(due));
	json_object_set_new(r, "timezone", json_string(ctl_ctx->conf->timezone));
	json_object_set_new(r, "state", json_string(all_held ? "held" :
	    "scheduled"));
	err = r;
out:
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	json_decref(chans);
	return (err);
}

/* The calendar date and time of MS in the display zone. */
static void
local_time(int64_t ms, struct icaltimetype *t)
{
	const char	*tz = ctl_ctx->conf->timezone;
	icaltimezone	*z = NULL;

	if (tz != NULL && strcmp(tz, "UTC") != 0)
		z = icaltimezone_get_builtin_timezone(tz);
	if (z == NULL)
		z = icaltimezone_get_utc_timezone();
	*t = icaltime_from_timet_with_zone((time_t)(ms / 1000), 0, z);
}

/*
 * Gives agenda item IT of delivery ID its occurrence's end: "end" as --check
 * --json writes it, "until" as a person reads it in the display zone.
 */
static void
agenda_end(json_t *it, const char *id, const struct icaltimetype *start)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	struct icaltimetype	 t;
	char			*end = NULL, buf[48];
	int64_t			 ms;

	if (store_get_end(id, &end) != 0 || end == NULL)
		goto done;
	json_object_set_new(it, "end", json_string(end));
	if (strlen(end) == 10 && when_parse(end, NULL, &ms) == 0) {
		/* all day: the end date is exclusive, the last day is the one before */
		t = icaltime_from_timet_with_zone((time_t)(ms / 1000 - 86400), 1,
		    icaltimezone_get_utc_timezone());
		snprintf(buf, sizeof(buf), "%s %04d-%02d-%02d, all day",
		    wd[icaltime_day_of_week(t) - 1], t.year, t.month, t.day);
	} else if (when_parse(end, NULL, &ms) == 0) {
		local_time(ms, &t);
		if (t.year == start->year && t.month == start->month &&
		    t.day == start->day)
			snprintf(buf, sizeof(buf), "%02d:%02d", t.hour, t.minute);
		else
			snprintf(buf, sizeof(buf), "%s %04d-%02d-%02d %02d:%02d",
			    wd[icaltime_day_of_week(t) - 1], t.year, t.month,
			    t.day, t.hour, t.minute);
	} else
		goto done;
	json_object_set_new(it, "until", json_string(buf));
done:
	free(end);
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
	struct store_filter	 f;
	struct delivery		*ds = NULL;
	struct icaltimetype	 t;
	size_t			 n = 0, i;
	json_t			*it = json_null();
	char			 hm[8], label[64];

	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.from = after;
	f.limit = LIST_MAX;
	if (store_list(&f, &ds, &n) == -1)
		return (it);
	for (i = 0; i < n; i++) {
		if ((PENDING_MASK & BIT(ds[i].state)) == 0)
			continue;
		local_time(ds[i].due, &t);
		snprintf(hm, sizeof(hm), "%02d:%02d", t.hour, t.minute);
		day_label(&t, label, sizeof(label));
		it = delivery_json(&ds[i]);
		json_object_set_new(it, "time", json_string(hm));
		json_object_set_new(it, "label", json_string(label));
		json_object_set_new(it, "days", json_integer((json_int_t)
		    ((ds[i].due - now) / 86400000 + 1)));
		break;
	}
	store_deliveries_free(ds, n);
	return (it);
}

/* agenda: the coming days, grouped by day in the display zone. */
static json_t *
h_agenda(struct client *cl, json_t *req)
{
	struct store_filter	 f;
	struct delivery		*ds = NULL;
	struct icaltimetype	 t;
	json_t			*days, *day = NULL, *items = NULL, *r, *jd, *it;
	char			 date[16], last[16] = "", hm[8], label[64];
	size_t			 n = 0, i;
	json_int_t		 ndays = AGENDA_DEFAULT;

	if ((jd = json_object_get(req, "days")) != NULL) {
		if (!json_is_integer(jd) || json_integer_value(jd) < 1 ||
		    json_integer_value(jd) > AGENDA_MAX)
			return (error_reply("bad_request", "--days: a number from "
			    "1 to %d", AGENDA_MAX));
		ndays = json_integer_value(jd);
	}
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.from = when_now();
	f.to = f.from + (int64_t)ndays * 86400 * 1000;
	f.limit = LIST_MAX;
	if (store_list(&f, &ds, &n) == -1)
		return (error_reply("internal", "database error"));
	days = json_array();
	for (i = 0; i < n; i++) {
		local_time(ds[i].due, &t);
		snprintf(date, sizeof(date), "%04d-%02d-%02d", t.year, t.month, t.day);
		if (strcmp(date, last) != 0) {
			day_label(&t, label, sizeof(label));
			items = json_array();
			day = json_pack("{s:s, s:s, s:o}", "date", date, "label",
			    label, "items", items);
			json_array_append_new(days, day);
			snprintf(last, sizeof(last), "%s", date);
		}
		snprintf(hm, sizeof(hm), "%02d:%02d", t.hour, t.minute);
		it = delivery_json(&ds[i]);
		json_object_set_new(it, "time", json_string(hm));
		if (ds[i].calendar != NULL)
			agenda_end(it, ds[i].id, &t);
		json_array_append_new(items, it);
	}
	store_deliveries_free(ds, n);
	r = ok_reply();
	json_object_set_new(r, "timezone", json_string(ctl_ctx->conf->timezone));
	json_object_set_new(r, "days", days);
	json_object_set_new(r, "window_days", json_integer(ndays));
	if (json_array_size(days) == 0)
		json_object_set_new(r, "next", agenda_next(f.to, f.from));
	return (r);
}

/* One delivery's rendered text measured for its channel. */
static json_t *
preview_json(const struct delivery *d)
{
	struct channel		*ch = chan_find(d->channel);
	struct len_result	 lr;
	json_t			*o = delivery_json(d);

	json_object_set_new(o, "text", jstr(d->text));
	if (ch == NULL) {
		json_object_set_new(o, "error", json_string("channel is not "
		    "configured"));
		return (o);
	}
	len_measure(chan_len_rule(ch), d->text ? d->text : "", ch->limit, &lr);
	json_object_set_new(o, "type", json_string(ch->ops->type));
	if (strcmp(chan_style_of(ch), ch->ops->type) != 0)
		json_object_set_new(o, "like", json_string(chan_style_of(ch)));
	json_object_set_new(o, "length", json_integer((json_int_t)lr.length));
	json_object_set_new(o, "limit", lr.limit ?
	    json_integer((json_int_t)lr.limit) : json_null());
	json_object_set_new(o, "fits", json_boolean(lr.fits));
	return (o);
}

/* preview: the text of a delivery, or of a calendar event's next instance, per channel. */
static json_t *
h_preview(struct client *cl, json_t *req)
{
	const char	*cal = req_str(req, "calendar"), *uid = req_str(req, "uid");
	char		 id[DELIVERY_ID_LEN + 1];
	struct delivery	 d, *ds = NULL;
	json_t		*r, *arr;
	const char	*rid = NULL;
	size_t		 n = 0, i;
	int64_t		 due = 0;
	int		 best = 0;

	arr = json_array();
	if (req_str(req, "id") != NULL) {
		if ((r = resolve_id(req, id)) != NULL) {
			json_decref(arr);
			return (r);
		}
		if (store_get(id, &d) != 0) {
			json_decref(arr);
			return (error_reply("not_found", "no delivery %s", id));
		}
		json_array_append_new(arr, preview_json(&d));
		store_delivery_clear(&d);
	} else if (cal != NULL && uid != NULL) {
		if (store_list_calendar(cal, &ds, &n) == -1) {
			json_decref(arr);
			return (error_reply("internal", "database error"));
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
			return (error_reply("not_found", "no event %s in calendar %s",
			    uid, cal));
		}
	} else {
		json_decref(arr);
		return (error_reply("bad_request", "preview needs an ID, or "
		    "--calendar C --uid U"));
	}
	r = ok_reply();
	json_object_set_new(r, "previews", arr);
	return (r);
}

/* Moves the request's delivery from a state in FROM to TO. */
static json_t *
move(struct client *cl, json_t *req, unsigned from, enum dstate to,
    const char *verb, const struct store_update *u, const char *detail)
{
	char		id[DELIVERY_ID_LEN + 1];
	enum dstate	cur = DS_SCHEDULED;
	json_t		*r;

	if ((r = resolve_id(req, id)) != NULL)
		return (r);
	switch (store_transition(id, from, to, u, (int)cl->uid, verb, detail, &cur)) {
	case 0:
		break;
	case 1:
		return (error_reply("conflict", "cannot %s %s: it is %s", verb, id,
		    dstate_names[cur]));
	case 2:
		return (error_reply("not_found", "no delivery %s", id));
	default:
		return (error_reply("internal", "database error"));
	}
	log_info("ctl: uid %d: %s %s -> %s", (int)cl->uid, verb, id,
	    dstate_names[to]);
	sched_kick();
	r = ok_reply();
	json_object_set_new(r, "id", json_string(id));
	json_object_set_new(r, "state", json_string(dstate_names[to]));
	return (r);
}

/* cancel ID [--event]: it will not go out (verbs.c). */
static json_t *
h_cancel(struct client *cl, json_t *req)
{
	return (verb_cancel((int)cl->uid, req));
}

/* hold ID [--event]: keep it until approved. */
static json_t *
h_hold(struct client *cl, json_t *req)
{
	return (verb_hold((int)cl->uid, req));
}

/* approve ID [--only]: the held deliveries of the occurrence go out when due. */
static json_t *
h_approve(struct client *cl, json_t *req)
{
	return (verb_approve((int)cl->uid, req));
}

/* reschedule ID T [--event]: a new due time for what has not gone out. */
static json_t *
h_reschedule(struct client *cl, json_t *req)
{
	return (verb_reschedule((int)cl->uid, req));
}

/* restore ID: a cancelled delivery comes back. */
static json_t *
h_restore(struct client *cl, json_t *req)
{
	return (verb_restore((int)cl->uid, req));
}

/* edit ID: a queued ad-hoc post gets a new text. */
static json_t *
h_edit(struct client *cl, json_t *req)
{
	return (verb_edit((int)cl->uid, req));
}

/* suppressions: the newsletter suppression list. */
static json_t *
h_suppressions(struct client *cl, json_t *req)
{
	return (verb_suppressions((int)cl->uid, req));
}

/* An error reply if the request's delivery has a problem that VERB cannot override. */
static json_t *
refuse_problem(json_t *req, const char *verb)
{
	char		 id[DELIVERY_ID_LEN + 1];
	struct delivery	 d;
	const char	*pr;
	json_t		*r = NULL;

	if (resolve_id(req, id) != NULL || store_get(id, &d) != 0)
		return (NULL);	/* move() reports it */
	if ((pr = verb_problem(&d)) != NULL)
		r = error_reply("problem", "cannot %s %s: %s (fix the calendar "
		    "or template; it is released by itself once it fits)", verb,
		    id, pr);
	store_delivery_clear(&d);
	return (r);
}

/* Keeps a time override (and a state one, STATE_VERB) of the reply's delivery. */
static void
keep_override(json_t *r, const char *verb, int64_t due, const char *state_verb,
    int uid)
{
	const char	*id = json_string_value(json_object_get(r, "id"));

	if (id == NULL || !json_is_true(json_object_get(r, "ok")))
		return;
	if (store_override_put(id, "time", verb, due, uid) == -1 ||
	    (state_verb != NULL && store_override_put(id, "state", state_verb,
	    0, uid) == -1))
		log_warnx("ctl: %s %s: the override was not recorded", verb, id);
}

/* reload: as SIGHUP. */
static json_t *
h_reload(struct client *cl, json_t *req)
{
	char	err[1024];

	if (ctl_ctx->reload((int)cl->uid, err, sizeof(err)) == -1)
		return (error_reply("reload_failed", "%s (the previous configuration "
		    "stays in force)", err));
	return (ok_reply());
}

/* retry: a failed, uncertain or missed delivery (or one waiting to retry) goes now. */
static json_t *
h_retry(struct client *cl, json_t *req)
{
	struct store_update	u;

	json_t			*r;

	if ((r = refuse_problem(req, "retry")) != NULL)
		return (r);
	memset(&u, 0, sizeof(u));
	u.due = when_now();
	u.reset_attempts = true;
	r = move(cl, req, BIT(DS_FAILED) | BIT(DS_UNCERTAIN) | BIT(DS_MISSED) |
	    BIT(DS_RETRYING), DS_SCHEDULED, "retry", &u, "sending again now");
	keep_override(r, "retry", u.due, NULL, (int)cl->uid);
	return (r);
}

/* send-now: what waits (scheduled, held, retrying, missed) goes now. */
static json_t *
h_send_now(struct client *cl, json_t *req)
{
	char			 id[DELIVERY_ID_LEN + 1];
	struct store_update	 u;
	struct delivery		 d;
	const char		*reason, *err;
	bool			 paused = false;
	int			 inf;
	json_t			*r;

	if ((r = resolve_id(req, id)) != NULL)
		return (r);
	if ((r = refuse_problem(req, "send-now")) != NULL)
		return (r);
	if (store_get(id, &d) != 0)
		return (error_reply("not_found", "no delivery %s", id));
	if (chan_find(d.channel) != NULL)
		sched_channel_info(d.channel, &paused, &reason, &err, &inf);
	if (paused) {
		r = error_reply("conflict", "cannot send-now %s: channel %s is "
		    "paused (resume it first)", id, d.channel);
		store_delivery_clear(&d);
		return (r);
	}
	store_delivery_clear(&d);
	memset(&u, 0, sizeof(u));
	u.due = when_now();
	r = move(cl, req, BIT(DS_SCHEDULED) | BIT(DS_HELD) | BIT(DS_RETRYING) |
	    BIT(DS_MISSED), DS_SCHEDULED, "send-now", &u, "sending now");
	keep_override(r, "send-now", u.due, "send-now", (int)cl->uid);
	return (r);
}

/* pause and resume: one channel, or --all. */
static json_t *
pause_resume(struct client *cl, json_t *req, int pause)
{
	const char	*name = req_str(req, "channel");
	int		 all = json_is_true(json_object_get(req, "all"));
	int		 n, total = 0, rc;
	char		 reason[128];
	size_t		 i;
	json_t		*arr, *r;

	if ((name != NULL) == all)
		return (error_reply("bad_request", "%s needs a channel or --all",
		    pause ? "pause" : "resume"));
	if (name != NULL && chan_find(name) == NULL)
		return (error_reply("not_found", "no channel named '%s'", name));
	snprintf(reason, sizeof(reason), "paused by uid %d", (int)cl->uid);
	arr = json_array();
	for (i = 0; i < chan_count(); i++) {
		struct channel *ch = chan_at(i);

		if (name != NULL && strcmp(ch->name, name) != 0)
			continue;
		n = 0;
		rc = pause ? sched_pause(ch->name, reason, (int)cl->uid, &n) :
		    sched_resume(ch->name, (int)cl->uid, &n);
		if (rc == -1) {
			json_decref(arr);
			return (error_reply("internal", "database error"));
		}
		log_info("ctl: uid %d: %s %s", (int)cl->uid, pause ? "pause" :
		    "resume", ch->name);
		total += n;
		json_array_append_new(arr, json_string(ch->name));
	}
	r = ok_reply();
	json_object_set_new(r, "channels", arr);
	json_object_set_new(r, "paused", json_boolean(pause));
	json_object_set_new(r, pause ? "held" : "released", json_integer(total));
	return (r);
}

/* pause: nothing goes out on the channel until resume. */
static json_t *
h_pause(struct client *cl, json_t *req)
{
	return (pause_resume(cl, req, 1));
}

/* resume: the channel sends again, and what its pause held is scheduled. */
static json_t *
h_resume(struct client *cl, json_t *req)
{
	return (pause_resume(cl, req, 0));
}

/* Streams the events newer than what each follower has seen. */
static void
follow_flush(uv_timer_t *t)
{
	struct client		*cl;
	struct store_event	*ev;
	size_t			 n, i;
	json_t			*r;

	(void)t;
	for (cl = ctlconn_first(); cl != NULL; cl = ctlconn_next(cl)) {
		if (!cl->follow || cl->closing)
			continue;
		if (ctlconn_queued(cl) > FOLLOW_MAX_QUEUE) {
			log_warnx("ctl: uid %d: log --follow not reading; "
			    "dropped", (int)cl->uid);
			ctlconn_close(cl);
			continue;
		}
		ev = NULL;
		n = 0;
		if (store_events(cl->last_seq, 0, &ev, &n) == -1)
			continue;
		for (i = 0; i < n && !cl->closing; i++) {
			r = json_object();
			json_object_set_new(r, "event", event_json(&ev[i]));
			ctlconn_send(cl, r);
			cl->last_seq = ev[i].seq;
		}
		store_events_free(ev, n);
	}
}

/* store's hook: an event was written; followers get it once it is committed. */
static void
follow_hook(void)
{
	if (ctl_follow_inited && ctl_nfollowers > 0)
		uv_timer_start(&ctl_follow_timer, follow_flush, 0, 0);
}

/* log: the newest delivery events, oldest first. */
static json_t *
h_log(struct client *cl, json_t *req)
{
	struct store_event	*ev = NULL;
	size_t			 n = 0, i, limit = LOG_DEFAULT;
	json_t			*arr, *r, *lim;

	if ((lim = json_object_get(req, "limit")) != NULL) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
		    json_integer_value(lim) > LIST_MAX)
			return (error_reply("bad_request", "--limit: a number from "
			    "1 to %d", LIST_MAX));
		limit = (size_t)json_integer_value(lim);
	}
	if (store_events(0, limit, &ev, &n) == -1)
		return (error_reply("internal", "database error"));
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, event_json(&ev[i]));
	r = ok_reply();
	json_object_set_new(r, "events", arr);
	if (json_is_true(json_object_get(req, "follow")) && !cl->follow) {
		/* From now on each new event goes out as one line. */
		cl->follow = 1;
		ctl_nfollowers++;
		cl->last_seq = n > 0 ? ev[n - 1].seq : 0;
		if (n == 0) {
			store_events_free(ev, n);
			ev = NULL;
			if (store_events(0, 1, &ev, &n) == 0 && n > 0)
				cl->last_seq = ev[n - 1].seq;
		}
		json_object_set_new(r, "following", json_true());
	}
	store_events_free(ev, n);
	return (r);
}

/* unsubscribe (ON), subscribe: the newsletter suppression list. */
static json_t *
suppress(struct client *cl, json_t *req, bool on)
{
	const char	*email = json_string_value(json_object_get(req, "email"));
	char		*key;
	json_t		*r;
	int		 rc;

	if (email == NULL || !mime_addr_ok(email))
		return (error_reply("bad_request", "'%s' is not an email address",
		    email != NULL ? email : ""));
	key = rcpt_key(email);
	if ((rc = store_suppress(key, on, (int)cl->uid)) == -1) {
		free(key);
		return (error_reply("internal", "cannot update the suppression "
		    "list"));
	}
	if (rc == 0) {
		store_log(NULL, NULL, (int)cl->uid, on ? "unsubscribed" :
		    "subscribed", key);
		log_info("ctl: uid %d: %s %s", (int)cl->uid, on ? "unsubscribe" :
		    "subscribe", key);
	}
	r = ok_reply();
	json_object_set_new(r, "email", json_string(key));
	json_object_set_new(r, "suppressed", json_boolean(on));
	json_object_set_new(r, "changed", json_boolean(rc == 0));
	free(key);
	return (r);
}

/* unsubscribe: EMAIL gets no newsletter any more. */
static json_t *
h_unsubscribe(struct client *cl, json_t *req)
{
	return (suppress(cl, req, true));
}

/* subscribe: EMAIL leaves the suppression list. */
static json_t *
h_subscribe(struct client *cl, json_t *req)
{
	return (suppress(cl, req, false));
}

/* The handler of each verb of the table in common/proto.h. */
static const ctl_handler handlers[CTL_NVERBS] = {
	[CTL_STATUS] = h_status,
	[CTL_LIST] = h_list,
	[CTL_SHOW] = h_show,
	[CTL_AGENDA] = h_agenda,
	[CTL_PREVIEW] = h_preview,
	[CTL_POST] = h_post,
	[CTL_CANCEL] = h_cancel,
	[CTL_HOLD] = h_hold,
	[CTL_APPROVE] = h_approve,
	[CTL_RESCHEDULE] = h_reschedule,
	[CTL_RESTORE] = h_restore,
	[CTL_EDIT] = h_edit,
	[CTL_RELOAD] = h_reload,
	[CTL_RETRY] = h_retry,
	[CTL_SEND_NOW] = h_send_now,
	[CTL_PAUSE] = h_pause,
	[CTL_RESUME] = h_resume,
	[CTL_LOG] = h_log,
	[CTL_UNSUBSCRIBE] = h_unsubscribe,
	[CTL_SUBSCRIBE] = h_subscribe,
	[CTL_SUPPRESSIONS] = h_suppressions,
};

/* True if the peer may use changing verbs: root, our own user, or the socket's group. */
static int
authorized(struct client *cl)
{
	struct passwd	*pw;
	gid_t		 groups[256];
	int		 ng = 256, i;

	if (!cl->cred_ok)
		return (0);
	if (cl->uid == 0 || cl->uid == geteuid())
		return (1);
	if (ctl_gid == (gid_t)-1)
		return (0);
	if (cl->gid == ctl_gid)
		return (1);
	for (i = 0; i < cl->ngroups; i++)
		if (cl->groups[i] == ctl_gid)
			return (1);
	if ((pw = getpwuid(cl->uid)) == NULL)
		return (0);
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) == -1)
		return (0);
	for (i = 0; i < ng; i++)
		if (groups[i] == ctl_gid)
			return (1);
	return (0);
}

/*
 * A handler's "internal" error that came from the store (it failed since
 * FAILURES) becomes the storage problem itself (such as "No space left on
 * device"), with code "storage".
 */
static json_t *
storage_reply(json_t *r, uint64_t failures)
{
	const char	*code = json_string_value(json_object_get(r, "code"));
	const char	*problem = store_problem();

	if (problem == NULL || code == NULL || strcmp(code, "internal") != 0 ||
	    store_failures() == failures)
		return (r);
	json_decref(r);
	return (error_reply("storage", "storage: %s", problem));
}

/* Handles one request line and returns the reply object. */
static json_t *
dispatch(struct client *cl, const char *line, size_t len)
{
	json_error_t	 jerr;
	json_t		*req, *r, *jv;
	const char	*cmd;
	uint64_t	 failures;
	int		 v;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return (error_reply("bad_request", "malformed JSON at column %d: %s",
		    jerr.column, jerr.text));
	if (!json_is_object(req)) {
		json_decref(req);
		return (error_reply("bad_request", "a request is a JSON object"));
	}
	jv = json_object_get(req, "v");
	if (!json_is_integer(jv) || json_integer_value(jv) != CRIER_PROTO_VERSION) {
		r = error_reply("version", "protocol version mismatch: the client "
		    "speaks %lld, crierd speaks %d", json_is_integer(jv) ?
		    (long long)json_integer_value(jv) : 0LL, CRIER_PROTO_VERSION);
		json_decref(req);
		return (r);
	}
	if ((cmd = req_str(req, "cmd")) == NULL) {
		json_decref(req);
		return (error_reply("bad_request", "missing \"cmd\""));
	}
	v = ctl_verb_find(cmd);
	if (v < 0) {
		r = error_reply("unknown_verb", v == -2 ? "'%s' is ambiguous" :
		    "unknown verb '%s'", cmd);
		json_decref(req);
		return (r);
	}
	if (ctl_verbs[v].changing && !authorized(cl)) {
		log_warnx("ctl: uid %d pid %d refused: %s", (int)cl->uid,
		    (int)cl->pid, ctl_verbs[v].name);
		json_decref(req);
		if (cl->uid == ctlconn_overflow_uid() && ctl_userns[0] != '\0')
			return (error_reply("forbidden", "uid %d may not %s: %s",
			    (int)cl->uid, ctl_verbs[v].name, ctl_userns));
		return (error_reply("forbidden", "uid %d may not %s (root, the "
		    "crierd user or the socket's group only)", (int)cl->uid,
		    ctl_verbs[v].name));
	}
	failures = store_failures();
	r = handlers[v](cl, req);
	json_decref(req);
	return (storage_reply(r, failures));
}

/* A client went away. */
static void
client_gone(struct client *cl)
{
	if (cl->follow)
		ctl_nfollowers--;
}

/* Removes a stale socket file, refusing if a daemon still answers there. */
static int
clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, rc;

	if (lstat(path, &st) == -1)
		return (errno == ENOENT ? 0 : -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "socket %s exists and is not a socket", path);
		return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "socket %s: another crierd is running", path);
		return (-1);
	}
	unlink(path);
	return (0);
}

/* Says at start when peers' uids cannot all be seen (a user namespace). */
static void
peers_check(void)
{
	char	map[4096];
	size_t	n;
	FILE	*fp;

	ctl_userns[0] = '\0';
	if ((fp = fopen("/proc/self/uid_map", "re")) == NULL)
		return;
	n = fread(map, 1, sizeof(map) - 1, fp);
	fclose(fp);
	map[n] = '\0';
	if (ctlconn_userns_check(map, ctl_userns, sizeof(ctl_userns)) == 1)
		log_warnx("ctl: %s", ctl_userns);
	else
		ctl_userns[0] = '\0';
}

/* Listens on the configured socket, or on the inherited FD. */
int
ctl_init(const struct crierd_ctx *ctx, int fd, char *err, size_t errlen)
{
	const struct config	*c = ctx->conf;
	uv_loop_t		*loop = ctx->loop;
	struct group	*gr;
	int		 rc;

	ctl_ctx = ctx;
	verb_init(ctx);
	if (c->socket_group != NULL) {
		if ((gr = getgrnam(c->socket_group)) == NULL) {
			snprintf(err, errlen, "socket_group: no group '%s'",
			    c->socket_group);
			return (-1);
		}
		ctl_gid = gr->gr_gid;
	}
	ctlconn_init(dispatch, client_gone, c->max_clients_per_uid);
	peers_check();
	uv_pipe_init(loop, &ctl_server, 0);
	ctl_listening = 1;
	if (!ctl_follow_inited && uv_timer_init(loop, &ctl_follow_timer) == 0) {
		ctl_follow_inited = 1;
		store_set_event_hook(follow_hook);
	}
	if (fd >= 0) {
		if ((rc = uv_pipe_open(&ctl_server, fd)) != 0) {
			snprintf(err, errlen, "inherited socket: %s", uv_strerror(rc));
			return (-1);
		}
	} else {
		if (strlen(c->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "socket %s: path too long", c->socket);
			return (-1);
		}
		if (clear_stale(c->socket, err, errlen) == -1) {
			if (*err == '\0')
				snprintf(err, errlen, "socket %s: %s", c->socket,
				    strerror(errno));
			return (-1);
		}
		if ((rc = uv_pipe_bind(&ctl_server, c->socket)) != 0) {
			snprintf(err, errlen, "socket %s: %s", c->socket,
			    uv_strerror(rc));
			return (-1);
		}
		if ((ctl_path = strdup(c->socket)) == NULL)
			abort();
		if (chmod(c->socket, c->socket_mode) == -1 ||
		    (ctl_gid != (gid_t)-1 && chown(c->socket, (uid_t)-1, ctl_gid) == -1)) {
			snprintf(err, errlen, "socket %s: %s", c->socket,
			    strerror(errno));
			return (-1);
		}
	}
	if ((rc = uv_listen((uv_stream_t *)&ctl_server, SOMAXCONN,
	    ctlconn_accept)) != 0) {
		snprintf(err, errlen, "socket %s: listen: %s", c->socket,
		    uv_strerror(rc));
		return (-1);
	}
	return (0);
}

/* Closes the server and every client. */
void
ctl_shutdown(void)
{
	ctlconn_close_all();
	if (ctl_follow_inited) {
		store_set_event_hook(NULL);
		uv_timer_stop(&ctl_follow_timer);
		uv_close((uv_handle_t *)&ctl_follow_timer, NULL);
		ctl_follow_inited = 0;
	}
	if (ctl_listening) {
		uv_close((uv_handle_t *)&ctl_server, NULL);
		ctl_listening = 0;
	}
	if (ctl_path != NULL) {
		unlink(ctl_path);
		free(ctl_path);
		ctl_path = NULL;
	}
}
