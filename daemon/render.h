/* Rendering: an occurrence or an ad-hoc post into the text a channel sends (SPEC §5). */
#ifndef CRIER_RENDER_H
#define CRIER_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "calendar/calendar.h"
#include "channel.h"
#include "conf.h"
#include "length.h"
#include "template.h"

struct render_input {
	const struct cal_occurrence	*occ;		/* NULL for an ad-hoc post */
	const char			*calendar;	/* calendar name; NULL for ad-hoc */
	const struct channel		*ch;
	const struct config		*conf;		/* vars, timezone */
	const struct tmpl_set		*tmpls;		/* may be NULL: no templates dir */
	const char			*template;	/* NULL: description + url */
	json_t				*vars;		/* extra vars (post --var k=v), may be NULL */
	int64_t				 start;		/* ms; used when occ is NULL */
	bool				 strict;	/* unknown variables are errors (--check) */
};

struct render_output {
	char			*text;		/* the post; for email: the text/plain part */
	char			*subject;	/* email only */
	char			*html;		/* email only, may be NULL if no html template */
	struct len_result	 len;		/* measured with the channel's rule and limit */
	char			 error[512];	/* set when render_post returns -1 */
};

/*
 * The Mustache context for IN (a new reference), or NULL when out of memory
 * or the display zone is unknown. Callers may add keys such as "recipient".
 */
json_t	*render_context(const struct render_input *in);
/*
 * Renders IN into OUT (zeroed first; release with render_output_clear).
 * Returns 0 even when the text is too long (see out->len.fits), -1 with
 * out->error naming the template and what failed. For an smtp channel the
 * recipient is a blank placeholder, so that previews work.
 */
int	 render_post(const struct render_input *in, struct render_output *out);
/* As render_post for an email, with RECIPIENT {email, name, unsubscribe_url}. */
int	 render_email_for(const struct render_input *in, json_t *recipient,
	    struct render_output *out);
/*
 * A queued email delivery: what each recipient's message is rendered from
 * when it goes out (the template and context campaign.c kept for it).
 */
struct render_email {
	const struct tmpl_set	*tmpls;		/* may be NULL: no templates dir */
	const char		*style;		/* the channel's, for variants */
	const char		*template;	/* NULL: SUMMARY as subject, TEXT as body */
	json_t			*ctx;		/* the context, without recipient */
	const struct tmpl	*unsub;		/* unsubscribe_url, may be NULL */
	const char		*summary;
	const char		*text;
	const char		*utm;		/* rendered utm parameters, NULL: none */
};

/*
 * Renders E's message for recipient EMAIL, NAME ({{recipient.*}}) into OUT
 * (free with chan_email_parts_clear): subject on one line, text trimmed,
 * HTML from the html template or made from the text; -1 with ERR.
 */
int	 render_email_rcpt(const struct render_email *e, const char *email,
	    const char *name, struct email_parts *out, char *err, size_t errlen);
/* Frees what OUT holds and zeroes it. */
void	 render_output_clear(struct render_output *out);

#endif
