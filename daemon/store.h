/* Durable state in SQLite (WAL): deliveries, their events, channel state. */
#ifndef CRIER_STORE_H
#define CRIER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../common/proto.h"

#define DELIVERY_ID_LEN		12
#define STORE_SCHEMA_VERSION	13
#define STORE_ACTOR_DAEMON	(-1)	/* events the daemon caused itself */

/*
 * What the calendar says of a delivery (column cal_state, stored by name;
 * CS_NONE is NULL there: an ad-hoc post). "invalid": its post cannot go out
 * as it is.
 */
#define STORE_CAL_STATES(S)						\
	S(SCHEDULED, "scheduled") S(HELD, "held")			\
	S(CANCELLED, "cancelled") S(REMOVED, "removed")		\
	S(INVALID, "invalid")

enum cal_state {
	CS_NONE,
#define STORE_CAL_STATE_ENUM(id, s)	CS_##id,
	STORE_CAL_STATES(STORE_CAL_STATE_ENUM)
#undef STORE_CAL_STATE_ENUM
	CS_NSTATES
};

/* The stored name of calendar state CS (NULL for CS_NONE). */
static inline const char *
store_cal_state_name(enum cal_state cs)
{
	static const char *const names[CS_NSTATES] = {
		NULL,
#define STORE_CAL_STATE_NAME(id, s)	s,
		STORE_CAL_STATES(STORE_CAL_STATE_NAME)
#undef STORE_CAL_STATE_NAME
	};

	return ((unsigned)cs < CS_NSTATES ? names[cs] : NULL);
}

/* The calendar state stored as S (NULL or unknown: CS_NONE). */
static inline enum cal_state
store_cal_state_parse(const char *s)
{
	int	i;

	for (i = 1; s != NULL && i < CS_NSTATES; i++)
		if (strcmp(store_cal_state_name((enum cal_state)i), s) == 0)
			return ((enum cal_state)i);
	return (CS_NONE);
}

struct delivery {
	char		 id[DELIVERY_ID_LEN + 1];
	char		*channel;
	enum dstate	 state;
	int64_t		 due;		/* ms since the epoch */
	char		*calendar;	/* NULL: an ad-hoc post */
	char		*uid;
	char		*recurrence_id;
	char		*summary;
	char		*text;		/* the rendered post */
	int		 attempts;
	char		*last_error;
	char		*remote_id;
	char		*remote_url;
	int64_t		 next_attempt;	/* retrying: when, ms */
	int64_t		 sent_at;	/* 0 if not sent */
	int64_t		 created;
	int64_t		 updated;
	enum cal_state	 cal_state;	/* what the calendar says */
	char		*hold_reason;	/* held: NULL awaiting approval, "paused": its channel is,
					   "problem": it cannot go out as it is (last_error says why) */
	char		*cal_fp;	/* fingerprint of the calendar's version, NULL for ad-hoc */
};

/* An operator's decision on a calendar delivery (table `overrides`). */
struct store_override {
	char		*verb;		/* reschedule, send-now, retry, hold, cancel, approve */
	int64_t		 due;		/* time overrides: the operator's due */
	char		*cal_fp;	/* the calendar's version it was made on */
	int64_t		 at;
	int		 actor;
};

/* An address on the suppression list. */
struct store_suppression {
	char		*email;
	int64_t		 at;
	int		 actor;
};

/* What a transition changes besides the state; fields left at their zero keep. */
struct store_update {
	int64_t		 due;		/* 0: keep */
	bool		 attempt;	/* count one more attempt */
	const char	*last_error;	/* NULL: keep; "": clear */
	const char	*remote_id;
	const char	*remote_url;
	int64_t		 sent_at;
	int64_t		 next_attempt;
	const char	*hold_reason;	/* kept only when moving to held */
	bool		 reset_attempts; /* attempts start again from 0 */
};

/* A channel's durable state (the `channels` table). */
struct store_channel {
	bool		 paused;
	char		*reason;	/* why paused, may be NULL */
	char		*last_error;	/* of its latest attempt, NULL after a success */
	bool		 has_tokens;	/* tokens and tokens_at are known */
	double		 tokens;
	int64_t		 tokens_at;	/* ms */
};

struct store_filter {
	int		 state;		/* -1: any */
	const char	*channel;	/* NULL: any */
	int64_t		 from, to;	/* due in [from, to); 0: unbounded */
	size_t		 limit;
};

struct store_event {
	int64_t	 seq;
	int64_t	 at;
	char	*delivery;	/* may be NULL */
	char	*channel;	/* may be NULL */
	char	*event;
	char	*detail;	/* may be NULL */
	int	 actor;		/* uid, or STORE_ACTOR_DAEMON */
};

/* Opens (creating and migrating) DIR/crier.db. */
int	 store_open(const char *dir, char *err, size_t errlen);
void	 store_close(void);
/*
 * The current storage problem ("PATH: what failed (OS reason)"), set by any
 * failed database operation and cleared by the next committed write; NULL
 * when there is none. Failures are logged at most once a minute per cause.
 */
const char *store_problem(void);
/* How many database operations have failed since the start. */
uint64_t store_failures(void);
/* The database file's path, for a thread's connection of its own. */
const char *store_db_path(void);
/* Whether the WAL is due to be copied into the database; the copy (not in a batch). */
int	 store_checkpoint_due(void);
void	 store_checkpoint(void);
/*
 * Whether the WAL should stop growing for now: due to be copied, or being
 * copied. A bulk writer (a reload) that waits meanwhile lets the copy
 * catch up, so the WAL starts over small instead of growing until a
 * commit must copy it on the loop (10-26 ms each, 49 in a first load of
 * 100k occurrences).
 */
int	 store_checkpoint_pending(void);
/* Groups the changes until store_commit() into one transaction. */
int	 store_begin(void);
int	 store_commit(void);
void	 store_rollback(void);
/* Inserts D (state, due, text...) and logs EVENT; 1 if the id exists. */
int	 store_insert(const struct delivery *d, int actor, const char *event);
/* Loads delivery ID into D (to be freed with store_delivery_clear); 1 if none. */
int	 store_get(const char *id, struct delivery *d);
/* Resolves an id or unique prefix into ID; 1 none, 2 ambiguous. */
int	 store_resolve(const char *prefix, char id[DELIVERY_ID_LEN + 1]);
/*
 * Moves ID to state TO if its state is in FROM_MASK (1 << state), applying U,
 * and logs EVENT with DETAIL, atomically. 1 (with *CUR set) if the state
 * did not allow it, 2 if there is no such delivery.
 */
int	 store_transition(const char *id, unsigned from_mask, enum dstate to,
	    const struct store_update *u, int actor, const char *event,
	    const char *detail, enum dstate *cur);
/* Sets due, summary, text, calendar state and last error of ID (no state change). */
int	 store_set_content(const char *id, int64_t due, const char *summary,
	    const char *text, enum cal_state cal_state, const char *last_error);
/* Every delivery of calendar NAME. */
int	 store_list_calendar(const char *name, struct delivery **out, size_t *n);
/* Lists deliveries matching F ordered by due, id. */
int	 store_list(const struct store_filter *f, struct delivery **out, size_t *n);
/* The MAX soonest (-1: all) of CHANNEL's deliveries held for HOLD_REASON, ordered by due. */
int	 store_list_held_for(const char *channel, const char *hold_reason,
	    int max, struct delivery **out, size_t *n);
/* Deliveries ready at NOW: scheduled and due, or retrying and their time come. */
int	 store_due(int64_t now, size_t max, struct delivery **out, size_t *n);
/* The next instant something becomes ready; 1 if nothing is waiting. */
int	 store_next_wakeup(int64_t *ms);
/*
 * store_due and store_next_wakeup for channel CHANNEL only, or (CHANNEL NULL)
 * for deliveries whose channel is none of the JSON array of names NOT_IN.
 */
int	 store_due_for(const char *channel, const char *not_in, int64_t now,
	    size_t max, struct delivery **out, size_t *n);
int	 store_next_wakeup_for(const char *channel, const char *not_in,
	    int64_t *ms);
/* Loads channel NAME's state into SC (freed with store_channel_clear); 1 if none. */
int	 store_channel_get(const char *name, struct store_channel *sc);
/* Saves channel NAME's state. */
int	 store_channel_put(const char *name, const struct store_channel *sc);
void	 store_channel_clear(struct store_channel *sc);
/* Calls FN after each event row is written (committed or not yet). */
void	 store_set_event_hook(void (*fn)(void));
/* Number of deliveries in each state. */
int	 store_counts(int64_t counts[DS_NSTATES]);
/*
 * Releases the MAX soonest (-1: all) of CHANNEL's deliveries held for
 * HOLD_REASON that their calendar lets go, logging each; how many.
 */
int	 store_release(const char *channel, const char *hold_reason,
	    int actor, const char *event, const char *detail, int max);
/*
 * Holds for HOLD_REASON the MAX soonest (-1: all) of CHANNEL's deliveries
 * in state FROM, logging EVENT (DETAIL) by ACTOR for each; how many.
 */
int	 store_hold_all(const char *channel, enum dstate from,
	    const char *hold_reason, int actor, const char *event,
	    const char *detail, int max);
/* Appends an event not tied to a transition. */
int	 store_log(const char *delivery, const char *channel, int actor,
	    const char *event, const char *detail);
/* The LIMIT newest events after sequence AFTER, oldest first. */
int	 store_events(int64_t after, size_t limit, struct store_event **out, size_t *n);
/*
 * The same LIMIT newest (AFTER 0) read a slice at a time over several
 * loop turns, on a cursor of its own (one snapshot until closed with
 * store_cursor_close): NULL with ERR if it cannot be opened; _next reads
 * at most MAX, 1 if more may follow, 0 at the end, -1 on error.
 */
struct store_cursor;
struct store_cursor *store_events_cursor(size_t limit, char *err, size_t errlen);
int	 store_events_cursor_next(struct store_cursor *c, size_t max,
	    struct store_event **out, size_t *n);
void	 store_cursor_close(struct store_cursor *c);
/* Every event of delivery ID, oldest first. */
int	 store_events_for(const char *id, struct store_event **out, size_t *n);
void	 store_delivery_clear(struct delivery *d);
void	 store_deliveries_free(struct delivery *d, size_t n);
void	 store_events_free(struct store_event *e, size_t n);
/* Computes the stable delivery id from calendar, uid, recurrence id and channel. */
void	 store_delivery_id(const char *calendar, const char *uid,
	    const char *recurrence_id, const char *channel,
	    char id[DELIVERY_ID_LEN + 1]);
/* Sets the media (JSON [{uri, fmttype, alt}], NULL: none) of delivery ID. */
int	 store_set_media(const char *id, const char *media);
/* Loads the media of delivery ID into *MEDIA (malloc'd, NULL: none); 1 if no such delivery. */
int	 store_get_media(const char *id, char **media);
/* Sets the end (as --check --json writes it) of delivery ID; no write if unchanged. */
int	 store_set_end(const char *id, const char *end);

/* A newsletter recipient of a delivery (the `recipients` table). */
struct store_rcpt {
	char		*email;		/* lower-cased */
	char		*name;
	char		*state;		/* pending, sending, sent, failed, suppressed, uncertain */
	char		*error;
	char		*message_id;
	int		 attempts;
	int64_t		 sent_at;
	int64_t		 updated;
};

/* Records recipient R->email of delivery ID (insert or update), committed at once. */
int	 store_rcpt_put(const char *id, const struct store_rcpt *r);
/* Every recipient recorded for delivery ID, by email; free with store_rcpts_free. */
int	 store_rcpt_list(const char *id, struct store_rcpt **out, size_t *n);
/* 1 if delivery ID has recipients recorded, 0 if not, -1 on error. */
int	 store_rcpt_any(const char *id);
/* A cursor over delivery ID's recipients by email (NULL: ERR says why); store_cursor_close. */
struct store_cursor *store_rcpt_cursor(const char *id, char *err, size_t errlen);
/* C's next recipients, at most MAX: 1 if more may follow, 0 at the end, -1 on error. */
int	 store_rcpt_cursor_next(struct store_cursor *c, size_t max,
	    struct store_rcpt **out, size_t *n);
void	 store_rcpts_free(struct store_rcpt *r, size_t n);
/* Adds (ON) or removes lower-cased EMAIL from the suppression list; 1 if no change. */
int	 store_suppress(const char *email, bool on, int actor);
/* 1 if lower-cased EMAIL is suppressed, 0 if not, -1 on error. */
int	 store_suppressed(const char *email);
/* Keeps the template and render context (JSON) of email delivery ID. */
int	 store_email_ctx_put(const char *id, const char *template,
	    const char *context);
/* Loads them (malloc'd, TEMPLATE may be NULL); 1 if none were kept. */
int	 store_email_ctx_get(const char *id, char **template, char **context);
/* Sets the calendar fingerprint of delivery ID. */
int	 store_set_cal_fp(const char *id, const char *fp);
/*
 * Overrides: KIND "time" (reschedule, send-now, retry) or "state" (hold,
 * cancel, approve) of calendar delivery ID, made on its current cal_fp.
 */
int	 store_override_put(const char *id, const char *kind, const char *verb,
	    int64_t due, int actor);
/* Loads one override; 1 if none. */
int	 store_override_get(const char *id, const char *kind,
	    struct store_override *o);
/* Gives ID's overrides made before any calendar version was known its current one. */
int	 store_override_adopt(const char *id);
/* Forgets the override of KIND (NULL: all) of ID. */
int	 store_override_drop(const char *id, const char *kind);
void	 store_override_clear(struct store_override *o);
/* Every delivery of one occurrence (calendar and recurrence id may be NULL). */
int	 store_list_occurrence(const char *calendar, const char *uid,
	    const char *recurrence_id, struct delivery **out, size_t *n);
/* The suppression list by address. */
int	 store_suppressions(struct store_suppression **out, size_t *n);
void	 store_suppressions_free(struct store_suppression *s, size_t n);
/*
 * Commits from now on wait only for the OS, not the disk (synchronous=
 * NORMAL), until store_relaxed(false): they survive a crash of crierd but
 * not a power cut, and the next ordinary commit makes them durable too.
 * Only for what may be lost safely at a power cut.
 */
int	 store_relaxed(bool relaxed);

/* A statement on a hot path, by name (see store_plan.c). */
struct store_stmt {
	const char	*name;
	const char	*sql;
};

/* The hot statements (scheduler, post, status, list, agenda, show...). */
const struct store_stmt *store_plan_hot(size_t *n);
/* SQLite's plan for SQL, one step a line, into BUF; -1 if it cannot be planned. */
int	 store_plan_explain(const char *sql, char *buf, size_t len);

#endif
