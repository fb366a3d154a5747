/*
 * Committed `sending` marks that wait for their instant. The scheduler
 * marks and commits up to SCHED_EARLY ms ahead, so that the fsync stays off
 * the due instant; the requests wait here, and a timer wakes the loop
 * SCHED_SPIN ms before the instant, clock_nanosleep doing the rest. The
 * loop serves other requests meanwhile, so a pause, a reload that drops
 * the channel, or a stop can come in between: those put the delivery back
 * where it was, as it never left.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "schedule.h"
#include "schedule-int.h"
#include "channel.h"
#include "delivery.h"
#include "log.h"
#include "store.h"
#include "when.h"
#include "../common/util.h"

/* A committed start and the instant it leaves at. */
struct waiting {
	struct start	 s;
	int64_t		 at;
};

static uv_loop_t	*launch_loop;
static uv_timer_t	 launch_timer;
static int		 launch_inited;
static struct waiting	*waiting;
static size_t		 nwaiting, capwaiting;

static void	launch_arm(void);

/* Sets up the launch timer on LOOP; -1 on error. */
int
sched_launch_init(uv_loop_t *loop)
{
	launch_loop = loop;
	if (uv_timer_init(loop, &launch_timer) != 0)
		return (-1);
	launch_inited = 1;
	return (0);
}

/* How many committed starts wait for their instant. */
size_t
sched_launch_waiting(void)
{
	return (nwaiting);
}

/*
 * Puts waiting start W back where it was, for WHY: it never left. The move
 * table refuses sending -> scheduled to operators because a request may be
 * on the wire; none is here. -1 if the store failed (the next start
 * settles it then).
 */
static int
unwait(struct waiting *w, const char *why)
{
	struct store_update	u;
	int			rc;

	memset(&u, 0, sizeof(u));
	u.next_attempt = w->s.d.next_attempt;
	rc = store_transition(w->s.d.id, SCHED_BIT(DS_SENDING), w->s.d.state,
	    &u, STORE_ACTOR_DAEMON, "not started", why, NULL);
	if (rc == 0)
		log_info("delivery %s: not started (%s): %s again", w->s.d.id,
		    why, dstate_names[w->s.d.state]);
	w->s.rt->in_flight--;
	if (w->s.took)
		w->s.rt->bucket.tokens += 1.0;
	store_delivery_clear(&w->s.d);
	return (rc == -1 ? -1 : 0);
}

/* The soonest instant a start waits for (INT64_MAX if none). */
static int64_t
soonest(void)
{
	int64_t	first = INT64_MAX;
	size_t	i;

	for (i = 0; i < nwaiting; i++)
		if (waiting[i].at < first)
			first = waiting[i].at;
	return (first);
}

/*
 * Timer callback: launches the waiting starts whose instant came, on the
 * instant. One whose channel was paused or removed meanwhile goes back,
 * and the scheduler sees to it.
 */
static void
launch_due(uv_timer_t *t)
{
	struct channel	*ch;
	int64_t		 now;
	size_t		 i, k;
	int		 kick = 0;

	(void)t;
	sched_sleep_until(soonest());
	now = when_now();
	for (i = k = 0; i < nwaiting; i++) {
		if (waiting[i].at > now) {
			waiting[k++] = waiting[i];	/* queued order kept */
			continue;
		}
		ch = chan_find(waiting[i].s.d.channel);
		if (ch != NULL && !sched_chrt_get(ch->name)->sc.paused)
			sched_start_now(ch, &waiting[i].s.d);
		else {
			unwait(&waiting[i], ch == NULL ? "its channel is no "
			    "longer configured" : "its channel was paused");
			kick = 1;
		}
	}
	nwaiting = k;
	launch_arm();
	if (kick)
		sched_kick();
}

/* Arms the launch timer SCHED_SPIN ms before the soonest waiting start. */
static void
launch_arm(void)
{
	int64_t	delay;

	uv_timer_stop(&launch_timer);
	if (nwaiting == 0)
		return;
	uv_update_time(launch_loop);
	delay = soonest() - when_now() - SCHED_SPIN;
	uv_timer_start(&launch_timer, launch_due,
	    delay > 0 ? (uint64_t)delay : 0, 0);
}

/* The N committed starts S leave at AT (taken over), from the launch timer. */
void
sched_launch_add(const struct start *s, size_t n, int64_t at)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (nwaiting == capwaiting) {
			capwaiting = capwaiting ? capwaiting * 2 : 64;
			waiting = xreallocarray(waiting, capwaiting,
			    sizeof(*waiting));
		}
		waiting[nwaiting].s = s[i];
		waiting[nwaiting++].at = at;
	}
	launch_arm();
}

/*
 * Stopping: the waiting starts go back, in one batch (they never left, so
 * they are not `uncertain` at the next start); the timer is closed.
 */
void
sched_launch_shutdown(void)
{
	size_t	i;
	int	err;

	if (!launch_inited)
		return;
	if (nwaiting > 0) {
		err = store_begin() == -1;
		for (i = 0; i < nwaiting; i++)
			if (unwait(&waiting[i], "crierd stopped before its due "
			    "instant") == -1)
				err = 1;
		if (err)
			store_rollback();
		else if (store_commit() == -1)
			err = 1;
		if (err)
			log_warnx("scheduler: %zu deliveries marked sending did "
			    "not start; the next start settles them", nwaiting);
		nwaiting = 0;
	}
	free(waiting);
	waiting = NULL;
	capwaiting = 0;
	uv_timer_stop(&launch_timer);
	uv_close((uv_handle_t *)&launch_timer, NULL);
	launch_inited = 0;
}
