/*
 * One post for one channel, composed as everything that queues or checks a
 * post does it: rendered from a template (or taken as given), measured with
 * the channel's rule and limit, and, if it does not fit, said so in the one
 * wording the daemon uses for "too long".
 */
#ifndef CRIER_COMPOSE_H
#define CRIER_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "length.h"
#include "render.h"

enum compose_result {
	COMPOSE_FITS,
	COMPOSE_TOO_LONG,	/* WHY says by how much */
	COMPOSE_ERROR		/* it cannot be rendered: OUT->error says why */
};

/*
 * Renders IN for IN->ch into OUT (release with render_output_clear), or,
 * TEXT not NULL, takes TEXT as the post; measures it; for a post that does
 * not fit, writes compose_too_long's words into WHY.
 */
enum compose_result compose_post(const struct render_input *in,
	    const char *text, struct render_output *out, char *why,
	    size_t whylen);
/* "46 characters, 16 over the limit of 30" (or bytes) for LR, into BUF. */
const char *compose_too_long(const struct len_result *lr, char *buf,
	    size_t len);
/* The same, short, as a held post's problem: "does not fit: 46 of 30 characters". */
const char *compose_does_not_fit(const struct len_result *lr, char *buf,
	    size_t len);
/* The utm key for IN: its calendar's, else its channel's; NULL if none. */
const char *compose_utm_key(const struct render_input *in);
/*
 * Renders utm value KEY with CTX, to which {{channel}} CHANNEL and
 * {{calendar}} CALENDAR are added, into *PARAMS (malloc'd), checked as
 * utm_query reads it; -1 with ERR naming the key.
 */
int	 compose_utm_params(const char *key, json_t *ctx, const char *channel,
	    const char *calendar, bool strict, char **params, char *err,
	    size_t errlen);
/* Sets O's "length", "limit" and "fits" from LR, and "links" and "link_limit" where the network limits links. */
void	 compose_len_json(json_t *o, const struct len_result *lr);

#endif
