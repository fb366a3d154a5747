/*
 * The delivery state machine: the one table of moves between delivery
 * states. Who asks for a move (the scheduler, an operator's verb, a calendar
 * being reconciled) narrows it further with its own FROM_MASK; the table is
 * the outer bound that none of them can pass.
 */
#include <config.h>

#include <stddef.h>
#include <string.h>

#include "delivery.h"
#include "pubcal.h"

/*
 * moves[from][to]: NULL if allowed, else why not. Self-moves that are
 * allowed change only what comes with the state (a held post's reason, a
 * scheduled post's due time).
 */
#define OK	NULL
#define NOT_SENDING	"only a delivery being sent ends sent, retrying or uncertain"
#define NOT_READY	"only a scheduled or retrying delivery starts sending"
#define NOT_DUE		"only a scheduled delivery is missed"
#define IN_FLIGHT	"it is being sent: wait for the outcome"
#define IS_SENT		"a sent post is final"
#define NO_FAIL		"only a delivery that was tried, or due to be, fails"
#define MAYBE_SENT	"it may have gone out: retry or cancel it"
#define NOT_HELD_HERE	"a held post is approved, sent now, rescheduled or cancelled"

static const char *const moves[DS_NSTATES][DS_NSTATES] = {
	[DS_SCHEDULED] = {
		[DS_SCHEDULED] = OK, [DS_SENDING] = OK, [DS_SENT] = NOT_SENDING,
		[DS_RETRYING] = NOT_SENDING, [DS_FAILED] = OK, [DS_HELD] = OK,
		[DS_CANCELLED] = OK, [DS_MISSED] = OK,
		[DS_UNCERTAIN] = NOT_SENDING,
	},
	[DS_SENDING] = {
		[DS_SCHEDULED] = IN_FLIGHT, [DS_SENDING] = IN_FLIGHT,
		[DS_SENT] = OK, [DS_RETRYING] = OK, [DS_FAILED] = OK,
		[DS_HELD] = OK, [DS_CANCELLED] = IN_FLIGHT,
		[DS_MISSED] = IN_FLIGHT, [DS_UNCERTAIN] = OK,
	},
	[DS_SENT] = {
		[DS_SCHEDULED] = IS_SENT, [DS_SENDING] = IS_SENT,
		[DS_SENT] = IS_SENT, [DS_RETRYING] = IS_SENT,
		[DS_FAILED] = IS_SENT, [DS_HELD] = IS_SENT,
		[DS_CANCELLED] = IS_SENT, [DS_MISSED] = IS_SENT,
		[DS_UNCERTAIN] = IS_SENT,
	},
	[DS_RETRYING] = {
		[DS_SCHEDULED] = OK, [DS_SENDING] = OK, [DS_SENT] = NOT_SENDING,
		[DS_RETRYING] = NOT_SENDING, [DS_FAILED] = OK, [DS_HELD] = OK,
		[DS_CANCELLED] = OK, [DS_MISSED] = NOT_DUE,
		[DS_UNCERTAIN] = NOT_SENDING,
	},
	[DS_FAILED] = {
		[DS_SCHEDULED] = OK, [DS_SENDING] = NOT_READY,
		[DS_SENT] = NOT_SENDING, [DS_RETRYING] = NOT_SENDING,
		[DS_FAILED] = NO_FAIL, [DS_HELD] = OK, [DS_CANCELLED] = OK,
		[DS_MISSED] = NOT_DUE, [DS_UNCERTAIN] = NOT_SENDING,
	},
	[DS_HELD] = {
		[DS_SCHEDULED] = OK, [DS_SENDING] = NOT_READY,
		[DS_SENT] = NOT_SENDING, [DS_RETRYING] = NOT_SENDING,
		[DS_FAILED] = NOT_HELD_HERE, [DS_HELD] = OK,
		[DS_CANCELLED] = OK, [DS_MISSED] = NOT_DUE,
		[DS_UNCERTAIN] = NOT_SENDING,
	},
	[DS_CANCELLED] = {
		[DS_SCHEDULED] = OK, [DS_SENDING] = NOT_READY,
		[DS_SENT] = NOT_SENDING, [DS_RETRYING] = NOT_SENDING,
		[DS_FAILED] = NO_FAIL, [DS_HELD] = OK,
		[DS_CANCELLED] = "it is cancelled already", [DS_MISSED] = NOT_DUE,
		[DS_UNCERTAIN] = NOT_SENDING,
	},
	[DS_MISSED] = {
		[DS_SCHEDULED] = OK, [DS_SENDING] = NOT_READY,
		[DS_SENT] = NOT_SENDING, [DS_RETRYING] = NOT_SENDING,
		[DS_FAILED] = NO_FAIL, [DS_HELD] = OK, [DS_CANCELLED] = OK,
		[DS_MISSED] = NOT_DUE, [DS_UNCERTAIN] = NOT_SENDING,
	},
	[DS_UNCERTAIN] = {
		[DS_SCHEDULED] = OK, [DS_SENDING] = MAYBE_SENT,
		[DS_SENT] = MAYBE_SENT, [DS_RETRYING] = MAYBE_SENT,
		[DS_FAILED] = MAYBE_SENT, [DS_HELD] = MAYBE_SENT,
		[DS_CANCELLED] = OK, [DS_MISSED] = MAYBE_SENT,
		[DS_UNCERTAIN] = MAYBE_SENT,
	},
};

/* Whether the table allows FROM -> TO. */
bool
delivery_allowed(enum dstate from, enum dstate to)
{
	return ((unsigned)from < DS_NSTATES && (unsigned)to < DS_NSTATES &&
	    moves[from][to] == OK);
}

/* Why the table refuses FROM -> TO, or NULL if it allows it. */
const char *
delivery_why_not(enum dstate from, enum dstate to)
{
	if ((unsigned)from >= DS_NSTATES || (unsigned)to >= DS_NSTATES)
		return ("no such state");
	return (moves[from][to]);
}

/* Whether no move leads out of S. */
bool
delivery_final(enum dstate s)
{
	int	to;

	for (to = 0; to < DS_NSTATES; to++)
		if (delivery_allowed(s, (enum dstate)to))
			return (false);
	return (true);
}

/* Moves ID to TO from a state in FROM_MASK that the table lets reach TO. */
int
delivery_move(const char *id, unsigned from_mask, enum dstate to,
    const struct store_update *u, int actor, const char *event,
    const char *detail, enum dstate *cur)
{
	unsigned	allowed = 0;
	int		from, rc;

	if ((unsigned)to >= DS_NSTATES)
		return (1);
	for (from = 0; from < DS_NSTATES; from++)
		if ((from_mask & DELIVERY_BIT(from)) != 0 &&
		    delivery_allowed((enum dstate)from, to))
			allowed |= DELIVERY_BIT(from);
	/* An empty mask still reads the state (for *CUR) atomically. */
	rc = store_transition(id, allowed, to, u, actor, event, detail, cur);
	if (rc == 0 && to == DS_SENT)
		pubcal_touch();		/* the published calendar shows it */
	return (rc);
}

/* What keeps D from going out as it is, or NULL. */
const char *
delivery_problem(const struct delivery *d)
{
	int	held = d->state == DS_HELD && d->hold_reason != NULL &&
		    strcmp(d->hold_reason, DELIVERY_HOLD_PROBLEM) == 0;
	int	invalid = d->cal_state == CS_INVALID && d->state != DS_SENT &&
		    d->state != DS_SENDING && d->state != DS_UNCERTAIN;

	if (!held && !invalid)
		return (NULL);
	return (d->last_error != NULL && *d->last_error != '\0' ?
	    d->last_error : "it cannot go out as it is");
}
