/*
 * The delivery state machine (SPEC §6): one table says which moves between
 * states are allowed and, for every other, why not. Every change of a
 * delivery's state goes through delivery_move.
 */
#ifndef CRIER_DELIVERY_H
#define CRIER_DELIVERY_H

#include <stdbool.h>

#include "store.h"
#include "../common/proto.h"

/* Why a held delivery is held (column hold_reason; NULL: awaiting approval). */
#define DELIVERY_HOLD_PAUSED	"paused"	/* its channel is paused */
#define DELIVERY_HOLD_PROBLEM	"problem"	/* it cannot go out as it is;
						   last_error says why */
#define DELIVERY_BIT(s)	(1u << (s))	/* state S in a FROM_MASK */

/*
 * Moves ID to TO if its state is in FROM_MASK (1 << state) and the table
 * allows the move, applying U and logging EVENT with DETAIL, atomically.
 * 0 moved, 1 refused (with *CUR set, when CUR is not NULL), 2 no such
 * delivery, -1 store failure.
 */
int	 delivery_move(const char *id, unsigned from_mask, enum dstate to,
	    const struct store_update *u, int actor, const char *event,
	    const char *detail, enum dstate *cur);
/* Whether the table allows a delivery in FROM to move to TO. */
bool	 delivery_allowed(enum dstate from, enum dstate to);
/* Why the table refuses FROM -> TO, or NULL if it allows it. */
const char *delivery_why_not(enum dstate from, enum dstate to);
/* Whether nothing moves a delivery out of state S any more. */
bool	 delivery_final(enum dstate s);
/* What keeps D from going out as it is (the problem it is held for), or NULL. */
const char *delivery_problem(const struct delivery *d);

#endif
