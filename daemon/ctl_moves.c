/*
 * The verbs that move deliveries: approve, hold, cancel, reschedule,
 * restore, edit, retry, send-now. An occurrence is one event instance
 * (calendar, uid, recurrence-id) on all its channels; a decision an
 * operator takes on a calendar delivery is also kept as an override (see
 * store.h), so that reloading the calendar does not undo it. Every move
 * goes through the state machine (delivery.c).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_verbs.h"
#include "channel.h"
#include "compose.h"
#include "conf.h"
#include "context.h"
#include "delivery.h"
#include "log.h"
#include "render.h"
#include "reply.h"
#include "schedule.h"
#include "when.h"

#define BIT(s)		(1u << (s))
#define EDIT_MAX_TEXT	(32 * 1024)

/* What one verb does to each delivery it acts on. */
struct occ_op {
	const char	*verb;
	unsigned	 from;		/* states it applies to */
	int		 keep_held;	/* held stays held (reschedule) */
	enum dstate	 to;
	const char	*kind;		/* override kind, NULL: none */
	int64_t		 due;		/* 0: keep */
	const char	*detail;
};

/* Resolves the request's "id" and loads it into D; an error reply on failure. */
static json_t *
load(json_t *req, struct delivery *d)
{
	const char	*p = json_string_value(json_object_get(req, "id"));
	char		 id[DELIVERY_ID_LEN + 1];

	if (p == NULL)
		return (reply_error("bad_request", "missing delivery id"));
	switch (store_resolve(p, id)) {
	case 0:
		break;
	case 1:
		return (reply_error("not_found", "no delivery '%s'", p));
	case 2:
		return (reply_error("ambiguous", "'%s' matches several deliveries: "
		    "give more digits", p));
	default:
		return (reply_error("internal", "database error"));
	}
	if (store_get(id, d) != 0)
		return (reply_error("not_found", "no delivery '%s'", p));
	return (NULL);
}

/* The deliveries of D's occurrence (all channels), or D alone (ONE). */
static int
siblings(const struct delivery *d, int one, struct delivery **out, size_t *n)
{
	if (!one)
		return (store_list_occurrence(d->calendar, d->uid,
		    d->recurrence_id, out, n));
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		abort();
	*n = 1;
	return (store_get(d->id, *out) == 0 ? 0 : -1);
}

/* A delivery's id, channel and state as a reply entry. */
static json_t *
entry(const struct delivery *d, enum dstate state, const char *reason)
{
	json_t	*o = json_pack("{s:s, s:s, s:s}", "id", d->id, "channel",
	    d->channel, "state", dstate_names[state]);

	if (reason != NULL)
		json_object_set_new(o, "reason", json_string(reason));
	return (o);
}

/* True if channel NAME is paused. */
static int
paused(const char *name)
{
	const char	*reason, *err;
	bool		 p = false;
	int		 inf;

	if (chan_find(name) != NULL)
		sched_channel_info(name, &p, &reason, &err, &inf);
	return (p);
}

/*
 * Applies OP to the delivery of REQ, or to every delivery of its occurrence
 * (WHOLE), in one transaction. Deliveries whose state does not allow it are
 * listed as skipped; if none is acted on, the reply is an error.
 */
static json_t *
occ_apply(int uid, json_t *req, const struct occ_op *op, int whole,
    int (*eligible)(const struct delivery *, const struct delivery *,
    const char **))
{
	struct delivery		 d, *ds = NULL;
	struct store_update	 u;
	size_t			 n = 0, i;
	json_t			*r, *done, *skipped;
	const char		*why, *pr;
	enum dstate		 to;
	int			 rc;

	if ((r = load(req, &d)) != NULL)
		return (r);
	if ((pr = delivery_problem(&d)) != NULL && strcmp(op->verb, "approve") == 0) {
		r = reply_error("problem", "cannot approve %s: %s (fix the "
		    "calendar or template; it is released by itself once it "
		    "fits)", d.id, pr);
		store_delivery_clear(&d);
		return (r);
	}
	if (siblings(&d, !whole, &ds, &n) == -1) {
		store_delivery_clear(&d);
		return (reply_error("internal", "database error"));
	}
	done = json_array();
	skipped = json_array();
	if (store_begin() == -1)
		goto dberr;
	for (i = 0; i < n; i++) {
		struct delivery	*x = &ds[i];
		int		 self = strcmp(x->id, d.id) == 0;

		why = NULL;
		if ((op->from & BIT(x->state)) == 0 ||
		    (eligible != NULL && !eligible(x, &d, &why))) {
			if (why == NULL)
				why = dstate_names[x->state];
			json_array_append_new(skipped, entry(x, x->state, why));
			continue;
		}
		memset(&u, 0, sizeof(u));
		u.due = op->due;
		to = op->to;
		if (op->keep_held && x->state == DS_HELD) {
			to = DS_HELD;
			u.hold_reason = x->hold_reason;
		}
		if (strcmp(op->verb, "approve") == 0 && x->due < when_now())
			u.due = when_now();	/* approved late: it goes now */
		rc = delivery_move(x->id, BIT(x->state), to, &u, uid, op->verb,
		    op->detail != NULL ? op->detail : u.due != 0 &&
		    strcmp(op->verb, "approve") == 0 ? "due time had passed: "
		    "sending now" : NULL, NULL);
		if (rc == -1)
			goto dberr;
		if (rc != 0) {
			json_array_append_new(skipped, entry(x, x->state,
			    "changed meanwhile"));
			continue;
		}
		if (op->kind != NULL && store_override_put(x->id, op->kind,
		    op->verb, u.due, uid) == -1)
			goto dberr;
		if (strcmp(op->verb, "approve") == 0 && u.due != 0 &&
		    store_override_put(x->id, "time", op->verb, u.due, uid) == -1)
			goto dberr;
		if (strcmp(op->verb, "cancel") == 0 &&
		    store_override_drop(x->id, "time") == -1)
			goto dberr;
		log_info("ctl: uid %d: %s %s -> %s%s", uid, op->verb, x->id,
		    dstate_names[to], self ? "" : " (same occurrence)");
		json_array_append_new(done, entry(x, to, NULL));
	}
	if (json_array_size(done) == 0) {
		store_rollback();
		if (whole && n > 1)
			r = reply_error("conflict", "cannot %s %s: no delivery of "
			    "this occurrence allows it (%s is %s)", op->verb, d.id,
			    d.id, dstate_names[d.state]);
		else {
			why = json_string_value(json_object_get(json_array_get(
			    skipped, 0), "reason"));
			if (why != NULL && strcmp(why, dstate_names[d.state]) == 0)
				why = NULL;
			r = reply_error("conflict", "cannot %s %s: it is %s%s%s",
			    op->verb, d.id, dstate_names[d.state], why ? ": " :
			    "", why ? why : "");
		}
		goto out;
	}
	if (store_commit() == -1)
		goto dberr;
	sched_kick();
	r = json_pack("{s:b}", "ok", 1);
	/* "id" and "state" name the delivery asked for (or the first acted on). */
	json_object_set_new(r, "id", json_string(d.id));
	for (i = 0; i < json_array_size(done); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(done,
		    i), "id")), d.id) == 0)
			break;
	json_object_set(r, "state", json_object_get(json_array_get(done,
	    i < json_array_size(done) ? i : 0), "state"));
	json_object_set(r, "deliveries", done);
	json_object_set(r, "skipped", skipped);
	goto out;
dberr:
	store_rollback();
	r = reply_error("internal", "database error");
out:
	json_decref(done);
	json_decref(skipped);
	store_deliveries_free(ds, n);
	store_delivery_clear(&d);
	return (r);
}

/* approve: held for approval, or the very delivery named (held for any reason but a problem). */
static int
approvable(const struct delivery *x, const struct delivery *named,
    const char **why)
{
	const char	*pr = delivery_problem(x);

	if (pr != NULL) {
		*why = pr;
		return (0);
	}
	if (strcmp(x->id, named->id) == 0)
		return (1);
	if (x->hold_reason != NULL) {
		*why = strcmp(x->hold_reason, SCHED_PAUSED) == 0 ?
		    "channel paused" : x->hold_reason;
		return (0);
	}
	return (1);
}

/* approve ID [--only]: every held delivery of the occurrence goes out when due. */
json_t *
ctl_approve(struct client *cl, json_t *req)
{
	int		 uid = (int)cl->uid;
	struct occ_op	op = { "approve", BIT(DS_HELD), 0, DS_SCHEDULED,
			    "state", 0, NULL };

	return (occ_apply(uid, req, &op,
	    !json_is_true(json_object_get(req, "only")), approvable));
}

/* hold ID [--event]: kept until approved. */
json_t *
ctl_hold(struct client *cl, json_t *req)
{
	int		 uid = (int)cl->uid;
	struct occ_op	op = { "hold", BIT(DS_SCHEDULED) | BIT(DS_RETRYING), 0,
			    DS_HELD, "state", 0, NULL };

	return (occ_apply(uid, req, &op, json_is_true(json_object_get(req,
	    "event")), NULL));
}

/* cancel ID [--event]: it will not go out. */
json_t *
ctl_cancel(struct client *cl, json_t *req)
{
	int		 uid = (int)cl->uid;
	struct occ_op	op = { "cancel", BIT(DS_SCHEDULED) | BIT(DS_RETRYING) |
			    BIT(DS_HELD) | BIT(DS_UNCERTAIN) | BIT(DS_MISSED) |
			    BIT(DS_FAILED), 0, DS_CANCELLED, "state", 0, NULL };

	return (occ_apply(uid, req, &op, json_is_true(json_object_get(req,
	    "event")), NULL));
}

/* reschedule ID T [--event]: a new due time for what has not gone out. */
json_t *
ctl_reschedule(struct client *cl, json_t *req)
{
	int		 uid = (int)cl->uid;
	const char	*t = json_string_value(json_object_get(req, "time"));
	struct occ_op	 op = { "reschedule", BIT(DS_SCHEDULED) | BIT(DS_HELD) |
			    BIT(DS_RETRYING) | BIT(DS_MISSED) | BIT(DS_FAILED), 1,
			    DS_SCHEDULED, "time", 0, NULL };
	char		 buf[40];
	json_t		*err;

	if (t == NULL || when_parse(t, reply_ctx()->conf->timezone, &op.due) == -1)
		return (reply_error("bad_request", "reschedule: '%s' is not a "
		    "time (2027-05-17T09:00:00Z, or local 2027-05-17T10:00)",
		    t != NULL ? t : ""));
	if ((err = reply_check_future("reschedule", t, json_string_value(
	    json_object_get(req, "id")), &op.due)) != NULL)
		return (err);
	op.detail = when_format(op.due, buf, sizeof(buf));
	return (occ_apply(uid, req, &op, json_is_true(json_object_get(req,
	    "event")), NULL));
}

/* restore ID: a cancelled delivery comes back (held if its time has passed). */
json_t *
ctl_restore(struct client *cl, json_t *req)
{
	int			 uid = (int)cl->uid;
	struct delivery		 d;
	struct store_update	 u;
	const char		*detail = "restored";
	enum dstate		 to = DS_SCHEDULED;
	json_t			*r;
	int			 rc;

	if ((r = load(req, &d)) != NULL)
		return (r);
	if (d.state != DS_CANCELLED) {
		r = reply_error("conflict", "cannot restore %s: it is %s (only a "
		    "cancelled delivery can be restored)", d.id,
		    dstate_names[d.state]);
		goto out;
	}
	if (d.cal_state == CS_CANCELLED || d.cal_state == CS_REMOVED) {
		r = reply_error("conflict", "cannot restore %s: the calendar %s "
		    "%s it; restore the event in the calendar", d.id,
		    d.calendar ? d.calendar : "", d.cal_state == CS_REMOVED ?
		    "no longer has" : "cancels");
		goto out;
	}
	memset(&u, 0, sizeof(u));
	if (delivery_problem(&d) != NULL) {
		to = DS_HELD;
		u.hold_reason = SCHED_PROBLEM;
		detail = "restored; held: it cannot go out as it is";
	} else if (d.due < when_now()) {
		to = DS_HELD;
		detail = "restored; held because its time has passed "
		    "(approve or send-now sends it)";
	} else if (d.cal_state == CS_HELD) {
		to = DS_HELD;
		detail = "restored; the calendar holds it for approval";
	} else if (paused(d.channel)) {
		to = DS_HELD;
		u.hold_reason = SCHED_PAUSED;
		detail = "restored; held while its channel is paused";
	}
	if (store_begin() == -1)
		goto dberr;
	rc = delivery_move(d.id, BIT(DS_CANCELLED), to, &u, uid, "restore",
	    detail, NULL);
	if (rc != 0 || store_override_drop(d.id, "state") == -1 ||
	    store_commit() == -1) {
		store_rollback();
		r = rc == 1 ? reply_error("conflict", "cannot restore %s: it "
		    "changed meanwhile", d.id) : reply_error("internal",
		    "database error");
		goto out;
	}
	log_info("ctl: uid %d: restore %s -> %s", uid, d.id, dstate_names[to]);
	sched_kick();
	r = json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "id", d.id, "state",
	    dstate_names[to], "detail", detail);
	goto out;
dberr:
	r = reply_error("internal", "database error");
out:
	store_delivery_clear(&d);
	return (r);
}

/* The first line of TEXT, at most 80 bytes cut at a character boundary. */
static char *
first_line(const char *text)
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

/* edit ID (--text T | --template T [--var k=v]...): a queued ad-hoc post changes. */
json_t *
ctl_edit(struct client *cl, json_t *req)
{
	int			 uid = (int)cl->uid;
	const char		*text = json_string_value(json_object_get(req, "text"));
	const char		*tmpl = json_string_value(json_object_get(req, "template"));
	json_t			*vars = json_object_get(req, "vars"), *r;
	struct delivery		 d;
	struct channel		*ch;
	struct render_input	 in;
	struct render_output	 out;
	struct store_update	 u;
	char			*summary = NULL, detail[128], why[160];
	const char		*newtext;
	int			 release;

	memset(&out, 0, sizeof(out));
	if ((text == NULL || *text == '\0') == (tmpl == NULL))
		return (reply_error("bad_request", "edit needs --text T or "
		    "--template T"));
	if (vars != NULL && (tmpl == NULL || !json_is_object(vars)))
		return (reply_error("bad_request", "--var goes with --template"));
	if (text != NULL && strlen(text) > EDIT_MAX_TEXT)
		return (reply_error("too_long", "--text is over %d bytes",
		    EDIT_MAX_TEXT));
	if ((r = load(req, &d)) != NULL)
		return (r);
	if (d.calendar != NULL) {
		r = reply_error("conflict", "cannot edit %s: it comes from calendar "
		    "%s (uid %s); edit the event in the calendar and crierd "
		    "re-renders it", d.id, d.calendar, d.uid ? d.uid : "none");
		goto out;
	}
	if (d.state == DS_SENT || d.state == DS_SENDING || d.state == DS_UNCERTAIN) {
		r = reply_error("conflict", "cannot edit %s: it is %s", d.id,
		    dstate_names[d.state]);
		goto out;
	}
	if ((ch = chan_find(d.channel)) == NULL) {
		r = reply_error("conflict", "cannot edit %s: channel '%s' is not "
		    "configured any more", d.id, d.channel);
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.ch = ch;
	in.conf = reply_ctx()->conf;
	in.tmpls = reply_ctx()->tmpls;
	in.template = tmpl;
	in.vars = vars;
	in.start = d.due;
	in.strict = true;
	switch (compose_post(&in, tmpl != NULL ? NULL : text, &out, why,
	    sizeof(why))) {
	case COMPOSE_ERROR:
		r = reply_error("render", "%s: %s", ch->name, out.error);
		goto out;
	case COMPOSE_TOO_LONG:
		r = reply_error("too_long", "the post is %s for %s; nothing "
		    "changed", why, ch->name);
		goto out;
	case COMPOSE_FITS:
		break;
	}
	newtext = out.text;
	summary = first_line(newtext);
	release = delivery_problem(&d) != NULL;
	if (out.len.limit)
		snprintf(detail, sizeof(detail), "new text, %zu of %zu characters",
		    out.len.length, out.len.limit);
	else
		snprintf(detail, sizeof(detail), "new text, %zu characters",
		    out.len.length);
	memset(&u, 0, sizeof(u));
	if (store_begin() == -1 ||
	    store_set_content(d.id, d.due, summary, newtext, d.cal_state,
	    release ? NULL : d.last_error) == -1 ||
	    store_log(d.id, d.channel, uid, "edited", detail) == -1)
		goto dberr;
	/* It was held only because it did not fit: now it does. */
	if (release) {
		if (paused(d.channel))
			u.hold_reason = SCHED_PAUSED;
		if (delivery_move(d.id, BIT(DS_HELD), u.hold_reason ?
		    DS_HELD : DS_SCHEDULED, &u, uid, "released",
		    "the edited post fits", NULL) == -1)
			goto dberr;
	}
	if (store_commit() == -1)
		goto dberr;
	log_info("ctl: uid %d: edit %s (%s)", uid, d.id, detail);
	sched_kick();
	r = json_pack("{s:b, s:s, s:s, s:s, s:I}", "ok", 1, "id", d.id, "state",
	    release ? (u.hold_reason ? "held" : "scheduled") :
	    dstate_names[d.state], "text", newtext, "length",
	    (json_int_t)out.len.length);
	json_object_set_new(r, "limit", out.len.limit ?
	    json_integer((json_int_t)out.len.limit) : json_null());
	goto out;
dberr:
	store_rollback();
	r = reply_error("internal", "database error");
out:
	free(summary);
	render_output_clear(&out);
	store_delivery_clear(&d);
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

	if ((r = reply_resolve_id(req, id)) != NULL)
		return (r);
	switch (delivery_move(id, from, to, u, (int)cl->uid, verb, detail, &cur)) {
	case 0:
		break;
	case 1:
		return (reply_error("conflict", "cannot %s %s: it is %s", verb, id,
		    dstate_names[cur]));
	case 2:
		return (reply_error("not_found", "no delivery %s", id));
	default:
		return (reply_error("internal", "database error"));
	}
	log_info("ctl: uid %d: %s %s -> %s", (int)cl->uid, verb, id,
	    dstate_names[to]);
	sched_kick();
	r = reply_ok();
	json_object_set_new(r, "id", json_string(id));
	json_object_set_new(r, "state", json_string(dstate_names[to]));
	return (r);
}

/* An error reply if the request's delivery has a problem that VERB cannot override. */
static json_t *
refuse_problem(json_t *req, const char *verb)
{
	char		 id[DELIVERY_ID_LEN + 1];
	struct delivery	 d;
	const char	*pr;
	json_t		*r = NULL;

	if (reply_resolve_id(req, id) != NULL || store_get(id, &d) != 0)
		return (NULL);	/* move() reports it */
	if ((pr = delivery_problem(&d)) != NULL)
		r = reply_error("problem", "cannot %s %s: %s (fix the calendar "
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

/* retry: a failed, uncertain or missed delivery (or one waiting to retry) goes now. */
json_t *
ctl_retry(struct client *cl, json_t *req)
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
json_t *
ctl_send_now(struct client *cl, json_t *req)
{
	char			 id[DELIVERY_ID_LEN + 1];
	struct store_update	 u;
	struct delivery		 d;
	const char		*reason, *err;
	bool			 paused = false;
	int			 inf;
	json_t			*r;

	if ((r = reply_resolve_id(req, id)) != NULL)
		return (r);
	if ((r = refuse_problem(req, "send-now")) != NULL)
		return (r);
	if (store_get(id, &d) != 0)
		return (reply_error("not_found", "no delivery %s", id));
	if (chan_find(d.channel) != NULL)
		sched_channel_info(d.channel, &paused, &reason, &err, &inf);
	if (paused) {
		r = reply_error("conflict", "cannot send-now %s: channel %s is "
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
