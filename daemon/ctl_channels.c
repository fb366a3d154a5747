/* pause, resume (one channel or all) and reload. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_verbs.h"
#include "channel.h"
#include "conf.h"
#include "context.h"
#include "log.h"
#include "reply.h"
#include "schedule.h"
#include "../common/util.h"

/*
 * A pause or resume request waiting for its channels' rows: answered once
 * the last of them is moved (at once when they fit in a slice each).
 */
struct pr_wait {
	struct ctlconn_later	*later;		/* NULL while being answered now */
	json_t			*r;		/* the reply, filled as they end */
	int			 pause;
	int			 pending;	/* channels still moving rows */
	int			 total;
	int			 stopped;	/* crierd stopped before the end */
	int			 failed;	/* answered with an error already */
};

/* The reply W's request gets (W's reply taken). */
static json_t *
pr_reply(struct pr_wait *w)
{
	json_t	*r = w->r;

	w->r = NULL;
	if (w->stopped) {
		json_decref(r);
		return (reply_error("stopping", "crierd is stopping: the %s is "
		    "stored, and the rest of its deliveries are %s when it starts "
		    "again", w->pause ? "pause" : "resume", w->pause ? "held" :
		    "released"));
	}
	json_object_set_new(r, w->pause ? "held" : "released",
	    json_integer(w->total));
	return (r);
}

/* A channel of W's request has moved all its rows (N, or -1: crierd stopped). */
static void
pr_done(void *arg, int n)
{
	struct pr_wait	*w = arg;

	if (n < 0)
		w->stopped = 1;
	else
		w->total += n;
	/* pause_resume's own count is dropped when it returns. */
	if (--w->pending > 0)
		return;
	if (w->failed)
		json_decref(w->r);
	else
		ctlconn_later_answer(w->later, pr_reply(w));
	free(w);
}

/* pause and resume: one channel, or --all. */
static json_t *
pause_resume(struct client *cl, json_t *req, int pause)
{
	const char	*name = reply_field(req, "channel");
	int		 all = json_is_true(json_object_get(req, "all"));
	int		 rc;
	char		 reason[128];
	size_t		 i;
	json_t		*arr, *r;
	struct pr_wait	*w;

	if ((name != NULL) == all)
		return (reply_error("bad_request", "%s needs a channel or --all",
		    pause ? "pause" : "resume"));
	if (name != NULL && chan_find(name) == NULL)
		return (reply_error("not_found", "no channel named '%s'", name));
	snprintf(reason, sizeof(reason), "paused by uid %d", (int)cl->uid);
	w = xcalloc(1, sizeof(*w));
	w->pause = pause;
	w->r = reply_ok();
	arr = json_array();
	json_object_set_new(w->r, "channels", arr);
	json_object_set_new(w->r, "paused", json_boolean(pause));
	w->pending = 1;		/* this function's own, dropped at the end */
	for (i = 0; i < chan_count(); i++) {
		struct channel *ch = chan_at(i);

		if (name != NULL && strcmp(ch->name, name) != 0)
			continue;
		w->pending++;
		rc = pause ? sched_pause(ch->name, reason, (int)cl->uid,
		    pr_done, w) : sched_resume(ch->name, (int)cl->uid, pr_done, w);
		if (rc == -1) {
			w->pending--;
			w->failed = 1;
			break;
		}
		log_info("ctl: uid %d: %s %s", (int)cl->uid, pause ? "pause" :
		    "resume", ch->name);
		json_array_append_new(arr, json_string(ch->name));
	}
	if (--w->pending > 0) {
		/* Channels still move rows: their ends answer, or drop it. */
		if (w->failed)
			return (reply_error("internal", "database error"));
		w->later = ctlconn_later(cl);
		return (NULL);
	}
	if (w->failed) {
		json_decref(w->r);
		r = reply_error("internal", "database error");
	} else
		r = pr_reply(w);
	free(w);
	return (r);
}

/* pause: nothing goes out on the channel until resume. */
json_t *
ctl_pause(struct client *cl, json_t *req)
{
	return (pause_resume(cl, req, 1));
}

/* resume: the channel sends again, and what its pause held is scheduled. */
json_t *
ctl_resume(struct client *cl, json_t *req)
{
	return (pause_resume(cl, req, 0));
}

/* reload: as SIGHUP. */
json_t *
ctl_reload(struct client *cl, json_t *req)
{
	char	err[1024];

	if (reply_ctx()->reload((int)cl->uid, err, sizeof(err)) == -1)
		return (reply_error("reload_failed", "%s (the previous configuration "
		    "stays in force)", err));
	return (reply_ok());
}
