/*
 * What the control verbs share: reading a request's fields and ids, and
 * building replies (errors, times, deliveries, events).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libical/ical.h>

#include "reply.h"
#include "conf.h"
#include "context.h"
#include "when.h"
#include "calendar/tz.h"
#include "../common/human.h"


static const struct crierd_ctx	*reply_context;	/* set by ctl_init */

/* Keeps CTX, where the verbs read the configuration, templates and reload. */
void
reply_init(const struct crierd_ctx *ctx)
{
	reply_context = ctx;
}

/* The daemon's context given to reply_init. */
const struct crierd_ctx *
reply_ctx(void)
{
	return (reply_context);
}

/* An error reply with CODE and a formatted message. */
json_t *
reply_error(const char *code, const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (json_pack("{s:b, s:s, s:s}", "ok", 0, "error", msg, "code", code));
}

/* A success reply to fill in. */
json_t *
reply_ok(void)
{
	return (json_pack("{s:b}", "ok", 1));
}

/* A string or null. */
json_t *
reply_str(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
}

/* An instant as ISO 8601, or null when 0. */
json_t *
reply_time(int64_t ms)
{
	char	buf[40];

	if (ms == 0)
		return (json_null());
	return (json_string(when_format(ms, buf, sizeof(buf))));
}

/* The calendar date and time of MS in the display zone (UTC if unknown). */
void
reply_local_time(int64_t ms, struct icaltimetype *t)
{
	struct tz_civil	 lc;

	if (tz_civil(reply_ctx()->conf->timezone, ms / 1000, &lc) == -1)
		tz_civil(NULL, ms / 1000, &lc);
	*t = icaltime_null_time();
	t->year = lc.year;
	t->month = lc.month;
	t->day = lc.day;
	t->hour = lc.hour;
	t->minute = lc.minute;
	t->second = lc.second;
}

/* MS in the display zone, whole seconds: "2027-05-17 10:00:00". */
json_t *
reply_local(int64_t ms)
{
	struct icaltimetype	t;
	char			buf[40];

	reply_local_time(ms, &t);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", t.year,
	    t.month, t.day, t.hour, t.minute, t.second);
	return (json_string(buf));
}

/* The list fields of a delivery (SPEC §7), and its due time in the display zone. */
json_t *
reply_delivery(const struct delivery *d)
{
	json_t	*o = json_object();

	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "state", json_string(dstate_names[d->state]));
	json_object_set_new(o, "channel", reply_str(d->channel));
	json_object_set_new(o, "due", reply_time(d->due));
	json_object_set_new(o, "due_local", reply_local(d->due));
	json_object_set_new(o, "calendar", reply_str(d->calendar));
	json_object_set_new(o, "uid", reply_str(d->uid));
	json_object_set_new(o, "recurrence_id", reply_str(d->recurrence_id));
	json_object_set_new(o, "summary", reply_str(d->summary));
	json_object_set_new(o, "attempts", json_integer(d->attempts));
	json_object_set_new(o, "last_error", reply_str(d->last_error));
	json_object_set_new(o, "remote_url", reply_str(d->remote_url));
	return (o);
}

/* An event row as JSON. */
json_t *
reply_event(const struct store_event *e)
{
	json_t	*o = json_object();

	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "at", reply_time(e->at));
	json_object_set_new(o, "delivery", reply_str(e->delivery));
	json_object_set_new(o, "channel", reply_str(e->channel));
	json_object_set_new(o, "event", json_string(e->event));
	json_object_set_new(o, "detail", reply_str(e->detail));
	json_object_set_new(o, "actor", e->actor == STORE_ACTOR_DAEMON ?
	    json_string("crierd") : json_integer(e->actor));
	return (o);
}

/* The string field NAME of REQ, or NULL. */
const char *
reply_field(json_t *req, const char *name)
{
	return (json_string_value(json_object_get(req, name)));
}

/* Resolves the request's "id" into ID; an error reply on failure. */
json_t *
reply_resolve_id(json_t *req, char id[DELIVERY_ID_LEN + 1])
{
	const char	*p = reply_field(req, "id");

	if (p == NULL)
		return (reply_error("bad_request", "missing delivery id"));
	switch (store_resolve(p, id)) {
	case 0:
		return (NULL);
	case 1:
		return (reply_error("not_found", "no delivery %s", p));
	case 2:
		return (reply_error("ambiguous", "%s matches several deliveries: "
		    "give more digits", p));
	default:
		return (reply_error("internal", "database error"));
	}
}

/* Parses an instant given to a verb, in the configured time zone. */
int
reply_parse_time(const char *s, int64_t *ms)
{
	return (when_parse(s, reply_ctx()->conf->timezone, ms));
}

/* Refuses a due time more than the grace behind now. */
json_t *
reply_check_future(const char *verb, const char *given, const char *id,
    int64_t *ms)
{
	int64_t	now = when_now();
	char	ago[32];

	if (*ms >= now)
		return (NULL);
	if (now - *ms <= REPLY_PAST_GRACE_MS) {
		*ms = now;
		return (NULL);
	}
	if (id == NULL)
		return (reply_error("bad_request", "%s: '%s' is %s in the past; "
		    "to post now, leave out --at (send-now ID sends a queued "
		    "post now)", verb, given, human_duration((now - *ms) / 1000,
		    ago, sizeof(ago))));
	return (reply_error("bad_request", "%s: '%s' is %s in the past; to send "
	    "it now, use send-now %s", verb, given, human_duration((now - *ms) /
	    1000, ago, sizeof(ago)), id));
}
