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
#include "template.h"
#include "thread.h"
#include "utm.h"

/* Whether LR is over its character limit (else over its byte limit). */
static bool
over_characters(const struct len_result *lr)
{
	return (lr->limit != 0 && lr->length > lr->limit);
}

/* Whether LR has more distinct links than its network takes. */
static bool
over_links(const struct len_result *lr)
{
	return (lr->link_limit != 0 && lr->links > lr->link_limit);
}

/* Says by how much LR is too long. */
const char *
compose_too_long(const struct len_result *lr, char *buf, size_t len)
{
	if (over_characters(lr))
		snprintf(buf, len, "%zu characters, %zu over the limit of %zu",
		    lr->length, lr->length - lr->limit, lr->limit);
	else if (over_links(lr))
		snprintf(buf, len, "%zu distinct links, %zu over the limit of "
		    "%zu", lr->links, lr->links - lr->link_limit,
		    lr->link_limit);
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
	else if (over_links(lr))
		snprintf(buf, len, "does not fit: %zu of %zu distinct links",
		    lr->links, lr->link_limit);
	else
		snprintf(buf, len, "does not fit: %zu of %zu bytes", lr->bytes,
		    lr->byte_limit);
	return (buf);
}

/* Sets O's "length", "limit" and "fits" from LR, and "links" and "link_limit" where the network limits links. */
void
compose_len_json(json_t *o, const struct len_result *lr)
{
	json_object_set_new(o, "length", json_integer((json_int_t)lr->length));
	json_object_set_new(o, "limit", lr->limit ?
	    json_integer((json_int_t)lr->limit) : json_null());
	if (lr->link_limit != 0) {
		json_object_set_new(o, "links",
		    json_integer((json_int_t)lr->links));
		json_object_set_new(o, "link_limit",
		    json_integer((json_int_t)lr->link_limit));
	}
	json_object_set_new(o, "fits", json_boolean(lr->fits));
}

/* The utm key for IN: its calendar's, else its channel's; NULL if none. */
const char *
compose_utm_key(const struct render_input *in)
{
	size_t	i;

	if (in->calendar != NULL && in->conf != NULL)
		for (i = 0; i < in->conf->ncalendars; i++)
			if (strcmp(in->conf->calendars[i].name,
			    in->calendar) == 0 && in->conf->calendars[i].utm)
				return (in->conf->calendars[i].utm);
	if (in->ch->cfg == NULL)
		return (NULL);
	return (conf_chan_get(in->ch->cfg, "utm", NULL));
}

/* Renders utm value KEY with CTX, CHANNEL and CALENDAR added to it, into *PARAMS, checked; -1 with ERR naming the key. */
int
compose_utm_params(const char *key, json_t *ctx, const char *channel,
    const char *calendar, bool strict, char **params, char *err,
    size_t errlen)
{
	struct tmpl_opts	 o;
	struct tmpl		*t = NULL;
	char			*q = NULL, msg[400];

	*params = NULL;
	if ((t = tmpl_compile(key, strlen(key), msg, sizeof(msg))) == NULL)
		goto fail;
	json_object_set_new(ctx, "channel", json_string(channel));
	json_object_set_new(ctx, "calendar", json_string(calendar ? calendar :
	    ""));
	memset(&o, 0, sizeof(o));
	o.strict = strict;
	if (tmpl_render(t, ctx, &o, params, msg, sizeof(msg)) == -1)
		goto fail;
	if (strlen(*params) > UTM_MAX_PARAMS) {
		snprintf(msg, sizeof(msg), "rendered to %zu bytes, over %d",
		    strlen(*params), UTM_MAX_PARAMS);
		goto fail;
	}
	if (utm_query(*params, &q, msg, sizeof(msg)) == -1)
		goto fail;
	free(q);
	tmpl_free(t);
	return (0);
fail:
	/* utm.c's own messages name the key already. */
	snprintf(err, errlen, "%s%s", strncmp(msg, "utm", 3) == 0 ? "" :
	    "utm: ", msg);
	free(*params);
	*params = NULL;
	tmpl_free(t);
	return (-1);
}

/*
 * Tags the links of OUT->text with IN's utm parameters, rendered with
 * {{channel}} and {{calendar}} as names beside the event's fields; -1 with
 * OUT->error naming the key. An email's are only checked here: they are
 * applied to each recipient's message (render_email_rcpt).
 */
static int
compose_utm(const struct render_input *in, struct render_output *out)
{
	const char	*key = compose_utm_key(in);
	json_t		*ctx = NULL;
	char		*params = NULL, *tagged = NULL;
	int		 rc = -1;

	if (key == NULL || out->text == NULL)
		return (0);
	if ((ctx = render_context(in)) == NULL) {
		snprintf(out->error, sizeof(out->error), "utm: cannot build the "
		    "context");
		return (-1);
	}
	if (compose_utm_params(key, ctx, in->ch->name, in->calendar,
	    in->strict, &params, out->error, sizeof(out->error)) == -1)
		goto done;
	if (!in->ch->ops->email) {
		if (utm_apply(out->text, params, &tagged, out->error,
		    sizeof(out->error)) == -1)
			goto done;
		free(out->text);
		out->text = tagged;
	}
	rc = 0;
done:
	free(params);
	json_decref(ctx);
	return (rc);
}

/*
 * Renders (or takes) and measures one post for IN->ch: links tagged
 * first, so the length is the tagged one; a post too long for a channel
 * with split = thread fits as a thread.
 */
enum compose_result
compose_post(const struct render_input *in, const char *text,
    struct render_output *out, char *why, size_t whylen)
{
	char	err[300];

	if (text != NULL) {
		memset(out, 0, sizeof(*out));
		if ((out->text = strdup(text)) == NULL)
			abort();
	} else if (render_post(in, out) == -1)
		return (COMPOSE_ERROR);
	if (compose_utm(in, out) == -1)
		return (COMPOSE_ERROR);
	if (thread_measure(in->ch, out->text, &out->len, NULL, err,
	    sizeof(err)) == -1) {
		compose_too_long(&out->len, why, whylen);
		snprintf(why + strlen(why), whylen - strlen(why), "; %s", err);
		return (COMPOSE_TOO_LONG);
	}
	if (out->len.fits)
		return (COMPOSE_FITS);
	compose_too_long(&out->len, why, whylen);
	return (COMPOSE_TOO_LONG);
}
