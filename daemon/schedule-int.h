/*
 * What the scheduler's files share (schedule.c, sched_pause.c,
 * sched_launch.c): a channel's run-time state and the helpers that keep
 * it, and a start. Only schedule.c defines what this declares (the other
 * files' functions are in schedule.h), so that they depend on it and not
 * it on them.
 */
#ifndef CRIER_SCHEDULE_INT_H
#define CRIER_SCHEDULE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "retry.h"
#include "store.h"

struct channel;

#define SCHED_BIT(s)	(1u << (s))
/* A committed start waits on a timer until this many ms before its instant. */
#define SCHED_SPIN	3	/* ms */

/* A channel's run-time state, by name (channels are replaced on reload). */
struct chrt {
	char			*name;
	int			 in_flight;
	struct store_channel	 sc;		/* durable: pause, last error */
	struct retry_bucket		 bucket;	/* `rate`, saved in sc's tokens */
	int64_t			 not_before;	/* rate-limit headers: wait */
};

/* The run-time state of channel NAME, loaded from the store the first time. */
struct chrt	*sched_chrt_get(const char *name);
/* Saves RT's durable part. */
int		 sched_chrt_save(struct chrt *rt);
/* Replaces string *DST with a copy of SRC (may be NULL); 1 if it changed. */
int		 sched_set_str(char **dst, const char *src);
/* Moves ID (in `sending`, or ready when FROM says) to held: its channel is paused. */
void		 sched_hold_paused(const char *id, unsigned from,
		    const char *reason, const struct store_update *base);

/* A delivery marked `sending` in the open batch: it starts once that is committed. */
struct start {
	struct channel	*ch;
	struct chrt	*rt;
	struct delivery	 d;
	int		 took;	/* a token of the channel's rate was taken */
};

/* Hands D over to CH's sending now (its mark is committed); D is taken over. */
void		 sched_start_now(struct channel *ch, struct delivery *d);
/* Sleeps until wall-clock instant MS if it is still ahead (at most SCHED_EARLY ms). */
void		 sched_sleep_until(int64_t ms);
/* Arms the checkpoint timer if the WAL is due to be copied (off the send path). */
void		 sched_ckpt_arm(void);
/* A positive number (of ms) from environment variable NAME (tests), or DEF. */
int64_t		 sched_env_ms(const char *name, int64_t def);


#endif
