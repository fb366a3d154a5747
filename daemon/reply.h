/*
 * What the control verbs share: reading a request's fields and ids, and
 * building replies (errors, times, deliveries, events).
 */
#ifndef CRIER_REPLY_H
#define CRIER_REPLY_H

#include <stdint.h>

#include <jansson.h>
#include <libical/ical.h>

#include "store.h"

#define REPLY_PAST_GRACE_MS	60000	/* a time this close behind now means now */

struct crierd_ctx;

/* Keeps CTX, where the verbs read the configuration, templates and reload. */
void	 reply_init(const struct crierd_ctx *ctx);
/* The daemon's context given to reply_init. */
const struct crierd_ctx *reply_ctx(void);
/* An error reply {ok: false, error, code} with CODE and a formatted message. */
json_t	*reply_error(const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A success reply to fill in. */
json_t	*reply_ok(void);
/* A string or null. */
json_t	*reply_str(const char *s);
/* An instant (ms) as ISO 8601 UTC, or null when 0. */
json_t	*reply_time(int64_t ms);
/* The calendar date and time of MS in the display zone. */
void	 reply_local_time(int64_t ms, struct icaltimetype *t);
/* MS in the display zone, whole seconds: "2027-05-17 10:00:00". */
json_t	*reply_local(int64_t ms);
/* The list fields of delivery D (SPEC §7), with its due time in the display zone. */
json_t	*reply_delivery(const struct delivery *d);
/* An event row as JSON. */
json_t	*reply_event(const struct store_event *e);
/* The string field NAME of request REQ, or NULL. */
const char *reply_field(json_t *req, const char *name);
/* Resolves the request's "id" (or unique prefix) into ID; an error reply on failure. */
json_t	*reply_resolve_id(json_t *req, char id[DELIVERY_ID_LEN + 1]);
/* Parses an instant given to a verb, in the configured time zone. */
int	 reply_parse_time(const char *s, int64_t *ms);
/*
 * Checks a requested due time *MS for VERB: up to REPLY_PAST_GRACE_MS behind
 * now counts as now (*MS is set to now); further back is an error reply
 * naming how far, with the send-now hint (for delivery ID, NULL for a new
 * post). NULL when the time is fine.
 */
json_t	*reply_check_future(const char *verb, const char *given, const char *id,
	    int64_t *ms);

#endif
