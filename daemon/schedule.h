/* The scheduler: fires due deliveries from a libuv timer and books outcomes. */
#ifndef CRIER_SCHEDULE_H
#define CRIER_SCHEDULE_H

#include <stdint.h>
#include <uv.h>

#include "config.h"

#define SCHED_MAX_ATTEMPTS	8
#define SCHED_MAX_BATCH		64

/* Sets up the timer on LOOP; C is the configuration in force. */
int	sched_init(uv_loop_t *loop, const struct config *c);
/* Uses configuration C from now on (after a reload). */
void	sched_set_config(const struct config *c);
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
void	sched_shutdown(void);

#endif
