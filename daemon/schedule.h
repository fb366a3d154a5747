/* The scheduler: fires due deliveries from a libuv timer and books outcomes. */
#ifndef CRIER_SCHEDULE_H
#define CRIER_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "delivery.h"

#define SCHED_MAX_ATTEMPTS	8
#define SCHED_MAX_BATCH		64
#define SCHED_RETRY_BASE	30000		/* ms, the first backoff */
#define SCHED_RETRY_CAP		3600000		/* ms, the longest backoff */
#define SCHED_MAX_AGE		(24 * 3600000)	/* ms after due: retries end */
#define SCHED_STORE_WAIT_MIN	1000		/* ms, first wait after a store failure */
#define SCHED_STORE_WAIT_MAX	60000		/* ms, the longest such wait */
#define SCHED_PAUSED		DELIVERY_HOLD_PAUSED
#define SCHED_PROBLEM		DELIVERY_HOLD_PROBLEM

struct tmpl_set;

/*
 * Sets up the timer on CTX's loop; the configuration and templates (may be
 * NULL; emails are rendered from them as they go) are read from CTX. For
 * tests only, $CRIER_TEST_BACKOFF_MS replaces SCHED_RETRY_BASE and
 * $CRIER_TEST_RETRY_MAX_AGE_MS replaces SCHED_MAX_AGE.
 */
struct crierd_ctx;
int	sched_init(const struct crierd_ctx *ctx);
/*
 * After a start: deliveries left in `sending` are re-sent if their channel is
 * idempotent, else marked `uncertain`; scheduled ones overdue by more than
 * catch_up become `missed`.
 */
int	sched_recover(void);
/* Re-arms the timer for the earliest waiting delivery (after any change). */
void	sched_kick(void);
/* Backoff before attempt ATTEMPTS + 1, in ms, with jitter. */
int64_t	sched_backoff(int attempts);
/* Called once the rows of a pause or resume are all moved: N of them, or -1 if crierd stopped first. */
typedef void	(*sched_moved_fn)(void *arg, int n);
/*
 * Pauses channel NAME (REASON shown in status): its scheduled and retrying
 * deliveries become held until sched_resume. The pause and the first
 * slice of them are committed before it returns; a larger channel's rest
 * goes on a slice a loop turn. DONE (if not NULL) hears how many were
 * held once they all are: before this returns when they fit in a slice.
 */
int	sched_pause(const char *name, const char *reason, int actor,
	    sched_moved_fn done, void *arg);
/* Un-pauses NAME: what its pause held is scheduled again, as sched_pause moves them. */
int	sched_resume(const char *name, int actor, sched_moved_fn done,
	    void *arg);
/* Channel NAME's state: paused and why, its latest error, requests under way. */
void	sched_channel_info(const char *name, bool *paused, const char **reason,
	    const char **last_error, int *in_flight);
/* The stop begins: a pause or resume under way answers its client now. */
void	sched_stopping(void);
void	sched_shutdown(void);

/* sched_pause.c, the scheduler's own: sets up its slicing on LOOP; -1 on error. */
int	sched_pause_init(uv_loop_t *loop);
/* Finishes what an interrupted pause or resume left (at the start). */
void	sched_pause_recover(void);
/* Answers the callers of the pauses and resumes under way: the rest at the next start. */
void	sched_pause_stopping(void);
/* Ends the slicing; what is left is moved at the next start. */
void	sched_pause_shutdown(void);

/*
 * sched_launch.c, the scheduler's own: committed starts (struct start,
 * schedule-int.h) that wait for their instant.
 */
struct start;
int	sched_launch_init(uv_loop_t *loop);
void	sched_launch_add(const struct start *s, size_t n, int64_t at);
size_t	sched_launch_waiting(void);
void	sched_launch_shutdown(void);

#endif
