/*
 * One post for one channel: rendered or given, measured, and the one
 * wording of "too long" (post, edit, --check and calendar reconcile).
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "channel.h"

/* Whether LR is over its character limit (else over its byte limit). */
static bool
over_characters(const struct len_result *lr)
{
	return (lr->limit != 0 && lr->length > lr->limit);
}

/* Says by how much LR is too long. */
const char *
compose_too_long(const struct len_result *lr, char *buf, size_t len)
{
	if (over_characters(lr))
		snprintf(buf, len, "%zu characters, %zu over the limit of %zu",
		    lr->length, lr->length - lr->limit, lr->limit);
	else
		snprintf(buf, len, "%zu bytes, %zu over the limit of %zu bytes",
		    lr->bytes, lr->bytes - lr->byte_limit, lr->byte_limit);
	return (buf);
}

/* Says briefly how long LR is against its limit. */
const char *
compose_does_not_fit(const struct len_result *lr, char *buf, size_t len)
{
	if (over_characters(lr))
		snprintf(buf, len, "does not fit: %zu of %zu characters",
		    lr->length, lr->limit);
	else
		snprintf(buf, len, "does not fit: %zu of %zu bytes", lr->bytes,
		    lr->byte_limit);
	return (buf);
}

/* Renders (or takes) and measures one post for IN->ch. */
enum compose_result
compose_post(const struct render_input *in, const char *text,
    struct render_output *out, char *why, size_t whylen)
{
	if (text != NULL) {
		memset(out, 0, sizeof(*out));
		if ((out->text = strdup(text)) == NULL)
			abort();
		len_measure(chan_len_rule(in->ch), text, in->ch->limit,
		    &out->len);
	} else if (render_post(in, out) == -1)
		return (COMPOSE_ERROR);
	if (out->len.fits)
		return (COMPOSE_FITS);
	compose_too_long(&out->len, why, whylen);
	return (COMPOSE_TOO_LONG);
}
