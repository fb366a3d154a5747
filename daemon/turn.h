/*
 * Work left for the end of the current loop turn: what many callbacks of
 * one turn produce (outcomes to book, recipient fates) is written in one
 * transaction by a single flush, run before the loop next waits.
 */
#ifndef CRIER_TURN_H
#define CRIER_TURN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

typedef void	(*turn_fn)(void);

#define TURN_NOVER	3	/* thresholds of turn_stats.over: 5, 10, 50 ms */

/*
 * What the loop's turns cost: a turn's busy time is what it did not
 * spend waiting for I/O (timers, I/O callbacks, this module's work).
 */
struct turn_stats {
	uint64_t	turns;		/* turns measured */
	uint64_t	busy_us;	/* their busy time, in all */
	uint64_t	longest_us;	/* the longest busy turn */
	int64_t		longest_at;	/* when it ended (ms since the epoch), or 0 */
	uint64_t	over[TURN_NOVER];	/* turns busy over 5, 10, 50 ms */
};

/* Sets up the prepare and check handles on LOOP. */
int	 turn_init(uv_loop_t *loop);
/* Runs FN once, before the loop next waits for I/O (several FN: in order). */
void	 turn_request(turn_fn fn);
/* Runs what is requested now (at shutdown). */
void	 turn_flush(void);
/*
 * Work deferred to the end of this turn (the posts to commit) is at its
 * bound, or (FULL false) was done: control requests wait for the next
 * turn while turn_full().
 */
void	 turn_set_full(bool full);
bool	 turn_full(void);
/* How many turns of the loop have ended; 0 before the first (or with no loop). */
uint64_t turn_number(void);
/* What the loop's turns cost since the start, into ST. */
void	 turn_stats(struct turn_stats *st);
/* Closes the handles (the loop frees them). */
void	 turn_close(void);
/* A control request came in (accepted or read) during this loop turn. */
void	 turn_note_request(void);
/*
 * Whether background work (a reload's slice) should let this turn go by:
 * a control request came in since the last call, and fewer than
 * TURN_YIELD_MAX turns in a row were let go already.
 */
bool	 turn_yield(void);

#endif
