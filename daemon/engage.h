/*
 * Engagement of sent posts (issue 17 point 4): for channels whose type can
 * read it (channel_ops.engage), likes, reposts and replies are fetched 1 h,
 * 24 h and 7 d after a post went out and kept in the store.
 */
#ifndef CRIER_ENGAGE_H
#define CRIER_ENGAGE_H

#include <stdint.h>

#include <jansson.h>

#define ENGAGE_HOUR_MS		INT64_C(3600000)
#define ENGAGE_MAX_IN_FLIGHT	4	/* requests at once, all channels */
#define ENGAGE_BATCH		32	/* posts read from the store per tick */

struct crierd_ctx;

/*
 * Sets up the timer on CTX's loop. CRIER_TEST_ENGAGE_HOUR_MS (tests only)
 * makes an hour of the schedule that many ms.
 */
void	 engage_init(const struct crierd_ctx *ctx);
/* Stops asking; requests under way end when http_shutdown aborts them. */
void	 engage_shutdown(void);
/*
 * The figures of delivery ID as JSON {likes, reposts, replies, as_of,
 * fetched}, or null when none were fetched yet.
 */
json_t	*engage_json(const char *id);

#endif
