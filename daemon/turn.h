/*
 * Work left for the end of the current loop turn: what many callbacks of
 * one turn produce (outcomes to book, recipient fates) is written in one
 * transaction by a single flush, run before the loop next waits.
 */
#ifndef CRIER_TURN_H
#define CRIER_TURN_H

#include <stdbool.h>

#include <uv.h>

typedef void	(*turn_fn)(void);

/* Sets up the prepare and check handles on LOOP. */
int	 turn_init(uv_loop_t *loop);
/* Runs FN once, before the loop next waits for I/O (several FN: in order). */
void	 turn_request(turn_fn fn);
/* Runs what is requested now (at shutdown). */
void	 turn_flush(void);
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
