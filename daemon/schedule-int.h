/*
 * What the scheduler's files share (schedule.c, sched_pause.c): a
 * channel's run-time state and the helpers that keep it.
 */
#ifndef CRIER_SCHEDULE_INT_H
#define CRIER_SCHEDULE_INT_H

#include "retry.h"
#include "store.h"

#define SCHED_BIT(s)	(1u << (s))

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

#endif
