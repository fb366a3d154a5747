/*
 * Pausing and resuming channels: their deliveries held and released.
 *
 * The flag and the first slice of rows are one transaction, committed
 * before the caller hears of it; a channel with more rows than a slice
 * goes on a slice a loop turn (its own transaction each), so a pause of
 * 100 000 does not hold the loop for a second. A paused channel sends
 * nothing meanwhile (the scheduler holds a due post of a paused channel
 * itself), and one that is no longer paused sends what was released
 * first: the soonest. A crash in between is finished at the next start
 * (sched_pause_recover): a paused channel has nothing scheduled, and a
 * running one nothing held for the pause.
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <uv.h>

#include "schedule.h"
#include "schedule-int.h"
#include "channel.h"
#include "delivery.h"
#include "log.h"
#include "store.h"
#include "../common/util.h"

#define PAUSE_SLICE	256	/* rows a turn: about 3 ms */
#define PAUSE_RETRY_MS	1000	/* after the store refused a slice */

/* A pause or resume of one channel that has rows left to move. */
struct pjob {
	TAILQ_ENTRY(pjob)	 entry;
	char			*channel;
	int			 pause;		/* 1: holding; 0: releasing */
	int			 phase;		/* resume: 0 release, 1 what stays held */
	int			 actor;
	int			 loud;		/* logged even if nothing moved */
	char			 reason[640];	/* the pause's, for the log */
	char			 detail[640];	/* of each `held` event */
	int			 count;		/* moved so far */
	sched_moved_fn		 done;
	void			*arg;
};

static TAILQ_HEAD(, pjob)	 jobs = TAILQ_HEAD_INITIALIZER(jobs);
static uv_idle_t		 slice_idle;	/* a slice each turn while jobs wait */
static uv_timer_t		 retry_timer;
static int			 pause_inited;
static int			 slice = PAUSE_SLICE;

static void	on_slice(uv_idle_t *);

/* Sets up the slicing on LOOP; -1 on error. */
int
sched_pause_init(uv_loop_t *loop)
{
	slice = (int)sched_env_ms("CRIER_TEST_PAUSE_SLICE", PAUSE_SLICE);
	if (uv_idle_init(loop, &slice_idle) != 0 ||
	    uv_timer_init(loop, &retry_timer) != 0)
		return (-1);
	pause_inited = 1;
	return (0);
}

/* A new job for CHANNEL (not queued yet). */
static struct pjob *
job_new(const char *channel, int pause, int actor, const char *reason,
    sched_moved_fn done, void *arg)
{
	struct pjob	*j = xcalloc(1, sizeof(*j));

	j->channel = xstrdup(channel);
	j->pause = pause;
	j->actor = actor;
	j->done = done;
	j->arg = arg;
	snprintf(j->reason, sizeof(j->reason), "%s", reason ? reason : "");
	snprintf(j->detail, sizeof(j->detail), "channel paused%s%s",
	    reason ? ": " : "", reason ? reason : "");
	return (j);
}

/* Ends J (freed): logs what it moved, and tells its caller N (J's count, or -1: stopped). */
static void
job_end(struct pjob *j, int stopped)
{
	const char	*more = stopped ? " so far; the rest at the next start" :
			    "";

	if (j->pause && (j->loud || j->count > 0))
		log_warnx("channel %s paused: %s (%d deliveries held%s)",
		    j->channel, j->reason, j->count, more);
	else if (!j->pause && (j->loud || j->count > 0))
		log_info("channel %s resumed (%d deliveries released%s)",
		    j->channel, j->count, more);
	if (j->done != NULL)
		j->done(j->arg, stopped ? -1 : j->count);
	free(j->channel);
	free(j);
}

/* Ends the job of CHANNEL if it has one: a newer pause or resume takes over. */
static void
job_supersede(const char *channel)
{
	struct pjob	*j;

	TAILQ_FOREACH(j, &jobs, entry)
		if (strcmp(j->channel, channel) == 0) {
			TAILQ_REMOVE(&jobs, j, entry);
			job_end(j, 0);
			return;
		}
}

/* Queues J to go on a slice a turn. */
static void
job_queue(struct pjob *j)
{
	TAILQ_INSERT_TAIL(&jobs, j, entry);
	if (!uv_is_active((uv_handle_t *)&retry_timer))
		uv_idle_start(&slice_idle, on_slice);
}

/*
 * Holds the next slice of J's channel in the open transaction; *MOVED:
 * how many. 1 if there may be more, 0 if none is left, -1 on failure.
 */
static int
hold_slice(struct pjob *j, int *moved)
{
	int	k, n, left = slice;

	*moved = 0;
	for (k = 0; k < 2; k++) {
		if ((n = store_hold_all(j->channel, k == 0 ? DS_SCHEDULED :
		    DS_RETRYING, SCHED_PAUSED, STORE_ACTOR_DAEMON, "held",
		    j->detail, left)) == -1)
			return (-1);
		*moved += n;
		if ((left -= n) == 0)
			return (1);
	}
	return (0);
}

/*
 * What is held for the pause but stays held after it, up to a slice: a
 * post its calendar holds for approval, or one that cannot go out as it
 * is. *MOVED counts the ones scheduled again. 1 if there may be more, 0
 * if none is left, -1 on failure.
 */
static int
stays_held(struct pjob *j, int *moved)
{
	struct delivery		*ds = NULL;
	size_t			 n = 0, i;
	int			 rc = 0;

	if (store_list_held_for(j->channel, SCHED_PAUSED, slice, &ds, &n) == -1)
		return (-1);
	for (i = 0; i < n && rc == 0; i++) {
		struct store_update	u;
		enum cal_state		 cs = ds[i].cal_state;

		memset(&u, 0, sizeof(u));
		if (cs == CS_INVALID) {
			/* It cannot go out as it is: it waits for a fix. */
			u.hold_reason = SCHED_PROBLEM;
			rc = delivery_move(ds[i].id, SCHED_BIT(DS_HELD), DS_HELD,
			    &u, j->actor, "held", ds[i].last_error, NULL);
		} else if (cs == CS_HELD) {
			/* The calendar wants it approved first. */
			rc = delivery_move(ds[i].id, SCHED_BIT(DS_HELD), DS_HELD,
			    &u, j->actor, "held", "channel resumed; the calendar "
			    "holds it for approval", NULL);
		} else if ((rc = delivery_move(ds[i].id, SCHED_BIT(DS_HELD),
		    DS_SCHEDULED, &u, j->actor, "resumed", "channel resumed",
		    NULL)) == 0)
			(*moved)++;
	}
	store_deliveries_free(ds, n);
	/* Each one listed left the list, or this slice failed. */
	if (rc != 0)
		return (-1);
	return (n == (size_t)slice ? 1 : 0);
}

/*
 * Releases the next slice of J's channel in the open transaction: first
 * what the calendar lets go (two statements), then what stays held.
 * *MOVED: how many were scheduled again; *PHASE: J's phase after it. 1 if
 * there may be more, 0 if none is left, -1 on failure.
 */
static int
release_slice(struct pjob *j, int *moved, int *phase)
{
	int	n;

	*moved = 0;
	*phase = j->phase;
	if (*phase == 0) {
		if ((n = store_release(j->channel, SCHED_PAUSED, j->actor,
		    "resumed", "channel resumed", slice)) == -1)
			return (-1);
		*moved = n;
		if (n == slice)
			return (1);
		*phase = 1;
	}
	if ((n = stays_held(j, moved)) == -1)
		return (-1);
	return (n);
}

/* The next slice of J in the open transaction (see hold_slice, release_slice). */
static int
job_slice(struct pjob *j, int *moved, int *phase)
{
	if (!j->pause)
		return (release_slice(j, moved, phase));
	*phase = j->phase;
	return (hold_slice(j, moved));
}

/* Retry timer: the store may work again. */
static void
on_retry(uv_timer_t *t)
{
	(void)t;
	if (!TAILQ_EMPTY(&jobs))
		uv_idle_start(&slice_idle, on_slice);
}

/* Idle callback: a slice of the first job, which then goes to the back. */
static void
on_slice(uv_idle_t *h)
{
	struct pjob	*j;
	int		 rc, moved, phase;

	if ((j = TAILQ_FIRST(&jobs)) == NULL) {
		uv_idle_stop(h);
		return;
	}
	if (store_begin() == -1)
		goto fail;
	if ((rc = job_slice(j, &moved, &phase)) == -1) {
		store_rollback();
		goto fail;
	}
	if (store_commit() == -1)
		goto fail;
	j->count += moved;
	j->phase = phase;
	sched_ckpt_arm();	/* or the WAL grows until a commit copies it */
	TAILQ_REMOVE(&jobs, j, entry);
	if (rc == 1)
		TAILQ_INSERT_TAIL(&jobs, j, entry);
	if (!j->pause && moved > 0)
		sched_kick();	/* released ones may be due */
	if (rc == 0)
		job_end(j, 0);
	if (TAILQ_EMPTY(&jobs))
		uv_idle_stop(h);
	return;
fail:
	/* Nothing of the slice was stored: again once the store works. */
	log_warnx("channel %s: %s stopped for now: the store failed; trying "
	    "again in %d s", j->channel, j->pause ? "holding" : "releasing",
	    PAUSE_RETRY_MS / 1000);
	uv_idle_stop(h);
	uv_timer_start(&retry_timer, on_retry, PAUSE_RETRY_MS, 0);
}

/* Nothing was stored: RT goes back to PAUSED WAS and reason OLD (taken), in memory too. */
static void
undo(struct chrt *rt, int was, char *old)
{
	store_rollback();
	rt->sc.paused = was;
	sched_set_str(&rt->sc.reason, old);
	free(old);
}

/*
 * Sets channel NAME's pause to PAUSE (REASON) by ACTOR with the first slice
 * of its rows, in one transaction; the rest a slice a turn. DONE gets the
 * count once all are moved (now, if they fit in the first slice).
 */
static int
pause_set(const char *name, int pause, const char *reason, int actor,
    sched_moved_fn done, void *arg)
{
	struct chrt	*rt = sched_chrt_get(name);
	struct pjob	*j;
	int		 rc, moved, phase, was = rt->sc.paused;
	char		*old = rt->sc.reason ? xstrdup(rt->sc.reason) : NULL;

	if (store_begin() == -1) {
		free(old);
		return (-1);
	}
	job_supersede(name);
	rt->sc.paused = pause;
	sched_set_str(&rt->sc.reason, pause ? reason : NULL);
	if (!pause)
		rt->not_before = 0;
	j = job_new(name, pause, actor, reason, done, arg);
	if (sched_chrt_save(rt) == -1 ||
	    store_log(NULL, name, actor, pause ? "paused" : "resumed",
	    pause ? reason : NULL) == -1 ||
	    (rc = job_slice(j, &moved, &phase)) == -1 ||
	    store_commit() == -1) {
		j->done = NULL;
		job_end(j, 0);
		undo(rt, was, old);
		/* What a job it took over left goes on, once the store works. */
		job_queue(job_new(name, rt->sc.paused, STORE_ACTOR_DAEMON,
		    rt->sc.reason, NULL, NULL));
		return (-1);
	}
	free(old);
	j->count = moved;
	j->phase = phase;
	j->loud = pause || was;
	if (rc == 0)
		job_end(j, 0);
	else
		job_queue(j);
	sched_kick();
	return (0);
}

/* Pauses channel NAME. */
int
sched_pause(const char *name, const char *reason, int actor,
    sched_moved_fn done, void *arg)
{
	return (pause_set(name, 1, reason, actor, done, arg));
}

/* Un-pauses channel NAME. */
int
sched_resume(const char *name, int actor, sched_moved_fn done, void *arg)
{
	return (pause_set(name, 0, NULL, actor, done, arg));
}

/*
 * At the start: finishes what a pause or resume interrupted by a crash or a
 * stop left, for every configured channel.
 */
void
sched_pause_recover(void)
{
	struct chrt	*rt;
	size_t		 i;

	for (i = 0; i < chan_count(); i++) {
		rt = sched_chrt_get(chan_at(i)->name);
		job_queue(job_new(rt->name, rt->sc.paused, STORE_ACTOR_DAEMON,
		    rt->sc.reason, NULL, NULL));
	}
}

/* Stopping: what is left is moved at the next start; callers hear -1. */
void
sched_pause_stopping(void)
{
	struct pjob	*j;

	if (!pause_inited)
		return;
	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		TAILQ_REMOVE(&jobs, j, entry);
		job_end(j, 1);
	}
}

/* Tears down the slicing (after sched_pause_stopping, if not called before). */
void
sched_pause_shutdown(void)
{
	if (!pause_inited)
		return;
	sched_pause_stopping();
	uv_idle_stop(&slice_idle);
	uv_close((uv_handle_t *)&slice_idle, NULL);
	uv_timer_stop(&retry_timer);
	uv_close((uv_handle_t *)&retry_timer, NULL);
	pause_inited = 0;
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
