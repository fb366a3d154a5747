/*
 * The everyday verbs that act on an occurrence as a whole or change a queued
 * post: approve, hold, cancel, reschedule (with --event), restore, edit,
 * suppressions. control.c dispatches to them; each takes the asking uid and
 * the request and returns the reply object.
 */
#ifndef CRIER_VERBS_H
#define CRIER_VERBS_H

#include <stdint.h>

#include <jansson.h>

#include "store.h"

#define VERB_PAST_GRACE_MS	60000	/* a time this close behind now means now */

struct crierd_ctx;
/* Keeps CTX, where the verbs read the configuration and templates. */
void	 verb_init(const struct crierd_ctx *ctx);
json_t	*verb_approve(int uid, json_t *req);
json_t	*verb_hold(int uid, json_t *req);
json_t	*verb_cancel(int uid, json_t *req);
json_t	*verb_reschedule(int uid, json_t *req);
json_t	*verb_restore(int uid, json_t *req);
json_t	*verb_edit(int uid, json_t *req);
json_t	*verb_suppressions(int uid, json_t *req);
/* What keeps D from going out as it is (the problem it is held for), or NULL. */
const char *verb_problem(const struct delivery *d);
/*
 * Checks a requested due time *MS for VERB: up to VERB_PAST_GRACE_MS behind
 * now counts as now (*MS is set to now); further back is an error reply
 * naming how far, with the send-now hint (for delivery ID, NULL for a new
 * post). NULL when the time is fine.
 */
json_t	*verb_check_future(const char *verb, const char *given, const char *id,
	    int64_t *ms);
/* The reply's "error" object for CODE and a formatted message. */
json_t	*verb_error(const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
