/* Pausing and resuming channels: their deliveries held and released. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "schedule-int.h"
#include "delivery.h"
#include "log.h"
#include "store.h"

/* Nothing was stored: RT goes back to PAUSED WAS and reason OLD (taken), in memory too. */
static void
undo(struct chrt *rt, int was, char *old)
{
	store_rollback();
	rt->sc.paused = was;
	sched_set_str(&rt->sc.reason, old);
	free(old);
}

/* Pauses channel NAME. */
int
sched_pause(const char *name, const char *reason, int actor, int *held)
{
	struct chrt	*rt = sched_chrt_get(name);
	int		 n, k, cnt = 0, was = rt->sc.paused;
	char		*old = rt->sc.reason ? strdup(rt->sc.reason) : NULL;
	char		 detail[640];

	if (store_begin() == -1) {
		free(old);
		return (-1);
	}
	rt->sc.paused = true;
	sched_set_str(&rt->sc.reason, reason);
	if (sched_chrt_save(rt) == -1 ||
	    store_log(NULL, name, actor, "paused", reason) == -1)
		goto fail;
	/* As sched_hold_paused would, each, but in two statements a state. */
	snprintf(detail, sizeof(detail), "channel paused%s%s",
	    reason ? ": " : "", reason ? reason : "");
	for (k = 0; k < 2; k++) {
		if ((n = store_hold_all(name, k == 0 ? DS_SCHEDULED :
		    DS_RETRYING, SCHED_PAUSED, STORE_ACTOR_DAEMON, "held",
		    detail)) == -1)
			goto fail;
		cnt += n;
	}
	if (store_commit() == -1)
		goto fail;
	free(old);
	log_warnx("channel %s paused: %s (%d deliveries held)", name,
	    reason ? reason : "", cnt);
	if (held != NULL)
		*held = cnt;
	sched_kick();
	return (0);
fail:
	undo(rt, was, old);
	return (-1);
}

/* Un-pauses channel NAME. */
int
sched_resume(const char *name, int actor, int *released)
{
	struct chrt		*rt = sched_chrt_get(name);
	struct delivery		*ds = NULL;
	size_t			 n = 0, i;
	int			 cnt = 0, was = rt->sc.paused;
	char			*old = rt->sc.reason ? strdup(rt->sc.reason) : NULL;

	if (store_begin() == -1) {
		free(old);
		return (-1);
	}
	rt->sc.paused = false;
	sched_set_str(&rt->sc.reason, NULL);
	rt->not_before = 0;
	if (sched_chrt_save(rt) == -1 ||
	    store_log(NULL, name, actor, "resumed", NULL) == -1)
		goto fail;
	/* Those the calendar lets go move in one statement, not one by one. */
	if ((cnt = store_release(name, SCHED_PAUSED, actor, "resumed",
	    "channel resumed")) == -1)
		goto fail;
	/* What is left held for the pause: not every held row of the channel. */
	if (store_list_held_for(name, SCHED_PAUSED, &ds, &n) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		struct store_update	u;
		enum cal_state		 cs = ds[i].cal_state;

		if (ds[i].hold_reason == NULL ||
		    strcmp(ds[i].hold_reason, SCHED_PAUSED) != 0)
			continue;
		memset(&u, 0, sizeof(u));
		if (cs == CS_INVALID) {
			/* It cannot go out as it is: it waits for a fix. */
			u.hold_reason = SCHED_PROBLEM;
			delivery_move(ds[i].id, SCHED_BIT(DS_HELD), DS_HELD, &u,
			    actor, "held", ds[i].last_error, NULL);
			continue;
		}
		if (cs == CS_HELD) {
			/* The calendar wants it approved first. */
			delivery_move(ds[i].id, SCHED_BIT(DS_HELD), DS_HELD, &u,
			    actor, "held", "channel resumed; the calendar "
			    "holds it for approval", NULL);
			continue;
		}
		if (delivery_move(ds[i].id, SCHED_BIT(DS_HELD), DS_SCHEDULED, &u,
		    actor, "resumed", "channel resumed", NULL) == 0)
			cnt++;
	}
	store_deliveries_free(ds, n);
	if (store_commit() == -1)
		goto fail;
	free(old);
	if (was || cnt)
		log_info("channel %s resumed (%d deliveries released)", name, cnt);
	if (released != NULL)
		*released = cnt;
	sched_kick();
	return (0);
fail:
	undo(rt, was, old);
	return (-1);
}

/* Channel NAME's state for status. */
void
sched_channel_info(const char *name, bool *paused, const char **reason,
    const char **last_error, int *in_flight)
{
	struct chrt	*rt = sched_chrt_get(name);

	*paused = rt->sc.paused;
	*reason = rt->sc.reason;
	*last_error = rt->sc.last_error;
	*in_flight = rt->in_flight;
}
