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

/* pause and resume: one channel, or --all. */
static json_t *
pause_resume(struct client *cl, json_t *req, int pause)
{
	const char	*name = reply_field(req, "channel");
	int		 all = json_is_true(json_object_get(req, "all"));
	int		 n, total = 0, rc;
	char		 reason[128];
	size_t		 i;
	json_t		*arr, *r;

	if ((name != NULL) == all)
		return (reply_error("bad_request", "%s needs a channel or --all",
		    pause ? "pause" : "resume"));
	if (name != NULL && chan_find(name) == NULL)
		return (reply_error("not_found", "no channel named '%s'", name));
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
			return (reply_error("internal", "database error"));
		}
		log_info("ctl: uid %d: %s %s", (int)cl->uid, pause ? "pause" :
		    "resume", ch->name);
		total += n;
		json_array_append_new(arr, json_string(ch->name));
	}
	r = reply_ok();
	json_object_set_new(r, "channels", arr);
	json_object_set_new(r, "paused", json_boolean(pause));
	json_object_set_new(r, pause ? "held" : "released", json_integer(total));
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
