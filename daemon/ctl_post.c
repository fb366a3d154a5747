/* post: an ad-hoc post to one or more channels, rendered and measured first. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "ctl_verbs.h"
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
#include "thread.h"
#include "when.h"

#define POST_MAX_TEXT	(32 * 1024)

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
		json_object_set_new(o, "length", json_integer((json_int_t)out.len.length));
		json_object_set_new(o, "limit", out.len.limit ?
		    json_integer((json_int_t)out.len.limit) : json_null());
		json_object_set_new(o, "fits", json_boolean(out.len.fits));
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

/* post: queue an ad-hoc post to one or more channels. */
json_t *
ctl_post(struct client *cl, json_t *req)
{
	const char	*text = reply_field(req, "text"), *tmpl = reply_field(req, "template");
	const char	*at = reply_field(req, "at"), *in = reply_field(req, "in");
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
	if ((texts = calloc(n, sizeof(*texts))) == NULL)
		abort();
	/* Every channel's text is rendered and measured before anything is queued. */
	json_array_foreach(chans, i, v) {
		struct channel		*ch = chan_find(json_string_value(v));
		struct render_output	 out;

		if (post_compose(ch, text, tmpl, vars, due, &out, &err) !=
		    COMPOSE_FITS) {
			render_output_clear(&out);
			goto out;
		}
		texts[i] = out.text;	/* kept; the rest goes */
		out.text = NULL;
		render_output_clear(&out);
	}
	RAND_bytes(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + i * 2, 3, "%02x", rnd[i]);
	snprintf(uid, sizeof(uid), "post-%lld-%s@crier", (long long)when_now(), hex);
	ids = json_array();
	if (store_begin() == -1) {
		json_decref(ids);
		err = reply_error("internal", "database error");
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
			err = reply_error("internal", "database error");
			goto out;
		}
		free(d.summary);
		json_array_append_new(ids, json_string(d.id));
	}
	/* All channels or none: acknowledged only once committed. */
	if (store_commit() == -1) {
		json_decref(ids);
		err = reply_error("internal", "database error");
		goto out;
	}
	json_array_foreach(ids, i, v)
		log_info("ctl: uid %d: post %s to %s%s", (int)cl->uid,
		    json_string_value(v), json_string_value(json_array_get(chans, i)),
		    hold ? " (held)" : "");
	sched_kick();
	r = reply_ok();
	json_object_set_new(r, "ids", ids);
	json_object_set_new(r, "due", reply_time(due));
	json_object_set_new(r, "due_local", reply_local(due));
	json_object_set_new(r, "timezone", json_string(reply_ctx()->conf->timezone));
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
