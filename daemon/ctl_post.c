/*
 * post: an ad-hoc post to one or more channels, rendered and measured
 * first. The posts of one loop turn, from every connection, are committed
 * in one transaction (a savepoint each) before any of their replies goes.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>

#include <jansson.h>

#include "ctl_verbs.h"
#include "ctl_post.h"
#include "channel.h"
#include "compose.h"
#include "conf.h"
#include "context.h"
#include "length.h"
#include "log.h"
#include "render.h"
#include "reply.h"
#include "schedule.h"
#include "store.h"
#include "store_post.h"
#include "thread.h"
#include "turn.h"
#include "when.h"

#define POST_MAX_TEXT	(32 * 1024)
#define POST_TURN_BYTES	(8 * 1024 * 1024)	/* texts waiting for one commit */
/*
 * Posts waiting for one commit: their inserts run at the turn's end, which
 * ctlconn's time budget of a turn does not see, and 200 of them pipelined
 * made turns of 20-45 ms. At this many, the turn is full (turn_set_full):
 * further requests wait for the next one.
 */
#define POST_TURN_MAX	64

/* A post checked, rendered and answered, waiting for the turn's commit. */
struct pending {
	STAILQ_ENTRY(pending)	 entry;
	json_t			*reply;	/* shared with ctlconn, which holds it */
	struct delivery		*d;	/* one per channel */
	size_t			 n;
	int			 actor;
	int			 hold;
	int			 failed;
	size_t			 bytes;
	char			 uid[96];
};

static STAILQ_HEAD(, pending)	 pendings = STAILQ_HEAD_INITIALIZER(pendings);
static size_t			 pending_bytes;
static size_t			 npending;

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
		while (*s != '\0') {
			n = strcspn(s, ", ");
			if (n > 0 && n < sizeof(buf)) {
				memcpy(buf, s, n);
				buf[n] = '\0';
				json_array_append_new(out, json_string(buf));
			}
			s += n;
			s += strspn(s, ", ");
		}
	} else if (json_is_array(jc)) {
		json_array_foreach(jc, i, v)
			if (json_is_string(v))
				json_array_append(out, v);
	}
	if (json_array_size(out) == 0) {
		*err = reply_error("bad_request", "post needs --channel C[,C]");
		goto fail;
	}
	json_array_foreach(out, i, v) {
		name = json_string_value(v);
		if (chan_find(name) == NULL) {
			*err = reply_error("not_found", "no channel named '%s'", name);
			goto fail;
		}
	}
	return (out);
fail:
	json_decref(out);
	return (NULL);
}

/*
 * Composes the post for channel CH: TEXT as given, or template TMPL with
 * VARS at DUE; *ERR is an error reply (render, too_long) when it cannot go.
 */
static enum compose_result
post_compose(struct channel *ch, const char *text, const char *tmpl,
    json_t *vars, int64_t due, struct render_output *out, json_t **err)
{
	struct render_input	 in;
	enum compose_result	 rc;
	char			 why[160];

	memset(&in, 0, sizeof(in));
	in.ch = ch;
	in.conf = reply_ctx()->conf;
	in.tmpls = reply_ctx()->tmpls;
	in.template = tmpl;
	in.vars = vars;
	in.start = due;
	in.strict = true;
	rc = compose_post(&in, tmpl != NULL ? NULL : text, out, why,
	    sizeof(why));
	if (rc == COMPOSE_ERROR)
		*err = reply_error("render", "%s: %s", ch->name, out->error);
	else if (rc == COMPOSE_TOO_LONG)
		*err = reply_error("too_long", "the post is %s for %s", why,
		    ch->name);
	return (rc);
}

/* post --dry-run: each channel's text, measured; nothing is queued. */
static json_t *
post_dry_run(json_t *chans, const char *text, const char *tmpl, json_t *vars,
    int64_t due)
{
	struct render_output	 out;
	json_t			*arr = json_array(), *v, *o, *r, *err, *parts;
	size_t			 i;
	int			 all = 1;

	json_array_foreach(chans, i, v) {
		struct channel *ch = chan_find(json_string_value(v));

		err = NULL;
		o = json_pack("{s:s, s:s}", "channel", ch->name, "type",
		    ch->ops->type);
		if (post_compose(ch, text, tmpl, vars, due, &out, &err) ==
		    COMPOSE_ERROR) {
			json_object_set_new(o, "error", json_string(out.error));
			json_object_set_new(o, "fits", json_false());
			json_array_append_new(arr, o);
			render_output_clear(&out);
			json_decref(err);
			all = 0;
			continue;
		}
		json_decref(err);
		json_object_set_new(o, "text", json_string(out.text));
		compose_len_json(o, &out.len);
		if ((parts = thread_json(ch, out.text)) != NULL)
			json_object_set_new(o, "parts", parts);
		if (!out.len.fits)
			all = 0;
		json_array_append_new(arr, o);
		render_output_clear(&out);
	}
	r = reply_ok();
	json_object_set_new(r, "dry_run", json_true());
	json_object_set_new(r, "due", reply_time(due));
	json_object_set_new(r, "fits", json_boolean(all));
	json_object_set_new(r, "previews", arr);
	return (r);
}

/* Frees P. */
static void
pending_free(struct pending *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++) {
		free(p->d[i].channel);
		free(p->d[i].summary);
		free(p->d[i].text);
	}
	free(p->d);
	json_decref(p->reply);
	free(p);
}

/* Turns P's reply into ERR (consumed): P was not stored. */
static void
pending_fail(struct pending *p, json_t *err)
{
	json_object_clear(p->reply);
	json_object_update(p->reply, err);
	json_decref(err);
	p->failed = 1;
}

/* The error for a post the store refused since FAILURES: the storage problem if known. */
static json_t *
store_error(uint64_t failures)
{
	const char	*problem = store_problem();

	if (problem != NULL && store_failures() != failures)
		return (reply_error("storage", "storage: %s", problem));
	return (reply_error("internal", "database error"));
}

/* The turn's end: what ctl_post_flush does. */
static void
flush_turn(void)
{
	ctl_post_flush();
}

/*
 * Commits the waiting posts in one transaction, each in a savepoint (one
 * the store refuses leaves the others), then releases every reply.
 */
void
ctl_post_flush(void)
{
	struct pending	*p;
	uint64_t	 failures = store_failures();
	size_t		 i, stored = 0;
	int		 lost = 0;

	if (STAILQ_EMPTY(&pendings))
		return;
	if (store_post_begin() == -1)
		lost = 1;
	else {
		STAILQ_FOREACH(p, &pendings, entry) {
			if (store_post_insert(p->d, p->n, p->actor) == 0)
				continue;
			pending_fail(p, store_error(failures));
			/* A full disk ends the whole transaction, not just this post. */
			if (!store_post_intact()) {
				lost = 1;
				break;
			}
		}
		if (lost)
			store_post_rollback();
		else if (store_post_commit() == -1)
			lost = 1;
	}
	while ((p = STAILQ_FIRST(&pendings)) != NULL) {
		STAILQ_REMOVE_HEAD(&pendings, entry);
		if (lost && !p->failed)
			pending_fail(p, store_error(failures));
		else if (!p->failed) {
			stored++;
			for (i = 0; i < p->n; i++)
				log_info("ctl: uid %d: post %s to %s%s", p->actor,
				    p->d[i].id, p->d[i].channel, p->hold ?
				    " (held)" : "");
		}
		pending_free(p);
	}
	pending_bytes = 0;
	npending = 0;
	turn_set_full(false);
	if (stored > 0)
		sched_kick();
	ctlconn_release();
}

/* post: queue an ad-hoc post to one or more channels. */
json_t *
ctl_post(struct client *cl, json_t *req)
{
	const char	*text = reply_field(req, "text"), *tmpl = reply_field(req, "template");
	const char	*at = reply_field(req, "at"), *in = reply_field(req, "in");
	json_t		*chans, *err = NULL, *ids, *v, *r, *vars;
	struct pending	*p = NULL;
	struct delivery	*d;
	int64_t		 due = when_now(), secs;
	unsigned char	 rnd[8];
	char		 hex[17];
	size_t		 i, n;
	int		 all_held = 1;

	vars = json_object_get(req, "vars");
	if ((text == NULL || *text == '\0') == (tmpl == NULL))
		return (reply_error("bad_request", "post needs --text T or "
		    "--template T"));
	if (vars != NULL && (tmpl == NULL || !json_is_object(vars)))
		return (reply_error("bad_request", "--var goes with --template"));
	if (text != NULL && strlen(text) > POST_MAX_TEXT)
		return (reply_error("too_long", "--text is over %d bytes",
		    POST_MAX_TEXT));
	if (at != NULL && in != NULL)
		return (reply_error("bad_request", "give --at or --in, not both"));
	if (at != NULL && reply_parse_time(at, &due) == -1)
		return (reply_error("bad_request", "--at: '%s' is not a date or "
		    "time (2027-05-17T09:00:00Z, or local 2027-05-17T10:00)", at));
	if (at != NULL && (err = reply_check_future("post --at", at, NULL, &due)) != NULL)
		return (err);
	if (in != NULL) {
		if (conf_parse_duration(in, &secs) == -1)
			return (reply_error("bad_request", "--in: '%s' is not a "
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
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->d = calloc(n, sizeof(*p->d))) == NULL)
		abort();
	p->n = n;
	p->actor = (int)cl->uid;
	p->hold = json_is_true(json_object_get(req, "hold"));
	/* Every channel's text is rendered and measured before anything is queued. */
	json_array_foreach(chans, i, v) {
		struct channel		*ch = chan_find(json_string_value(v));
		struct render_output	 out;

		if (post_compose(ch, text, tmpl, vars, due, &out, &err) !=
		    COMPOSE_FITS) {
			render_output_clear(&out);
			goto fail;
		}
		p->d[i].text = out.text;	/* kept; the rest goes */
		out.text = NULL;
		render_output_clear(&out);
		p->bytes += strlen(p->d[i].text) + sizeof(p->d[i]);
	}
	/* The kernel's generator: OpenSSL's sets up its providers (2 MiB). */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		err = reply_error("internal", "cannot get random bytes for "
		    "the post's uid");
		goto fail;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + i * 2, 3, "%02x", rnd[i]);
	snprintf(p->uid, sizeof(p->uid), "post-%lld-%s@crier",
	    (long long)when_now(), hex);
	ids = json_array();
	json_array_foreach(chans, i, v) {
		d = &p->d[i];
		if ((d->channel = strdup(json_string_value(v))) == NULL)
			abort();
		store_delivery_id(NULL, p->uid, NULL, d->channel, d->id);
		d->state = p->hold ? DS_HELD : DS_SCHEDULED;
		if (!p->hold && chan_paused(d->channel)) {
			/* It waits, visibly, for its channel to be resumed. */
			d->state = DS_HELD;
			d->hold_reason = SCHED_PAUSED;
		}
		if (d->state == DS_SCHEDULED)
			all_held = 0;
		d->due = due;
		d->uid = p->uid;
		d->summary = post_summary(d->text);
		json_array_append_new(ids, json_string(d->id));
	}
	r = reply_ok();
	json_object_set_new(r, "ids", ids);
	json_object_set_new(r, "due", reply_time(due));
	json_object_set_new(r, "due_local", reply_local(due));
	json_object_set_new(r, "timezone", json_string(reply_ctx()->conf->timezone));
	json_object_set_new(r, "state", json_string(all_held ? "held" :
	    "scheduled"));
	json_decref(chans);
	/* All channels or none, acknowledged once committed: at the turn's end. */
	if (pending_bytes + p->bytes > POST_TURN_BYTES || npending >= POST_TURN_MAX)
		ctl_post_flush();
	p->reply = json_incref(r);
	STAILQ_INSERT_TAIL(&pendings, p, entry);
	pending_bytes += p->bytes;
	if (++npending >= POST_TURN_MAX)
		turn_set_full(true);
	turn_request(flush_turn);
	if (!STAILQ_EMPTY(&pendings))
		ctlconn_hold(cl);	/* else committed already (no loop) */
	return (r);
fail:
	json_decref(chans);
	pending_free(p);
	return (err);
}
