/* Tracked links (issue 17): UTM parameters appended to the links of a post. */
#ifndef CRIER_UTM_H
#define CRIER_UTM_H

#include <stddef.h>

#define UTM_MAX_PARAMS	1024		/* longest rendered utm value, in bytes */
#define UTM_MAX_TEXT	(64 * 1024)	/* longest post tagged, in bytes */

/*
 * Turns PARAMS, a rendered "source=mastodon&medium=social&campaign=ogw",
 * into the query "utm_source=mastodon&utm_medium=social&utm_campaign=ogw"
 * in *QUERY (malloc'd; "" when every value is empty). Names are id,
 * source, medium, campaign, term, content, source_platform,
 * creative_format and marketing_tactic, with or without "utm_"; a value is
 * taken literally (a valid %XX is decoded first) and percent-encoded; an
 * empty value drops its parameter. An unknown, repeated or malformed name
 * is an error: -1 with ERR naming it.
 */
int	 utm_query(const char *params, char **query, char *err, size_t errlen);
/*
 * Appends the UTM parameters PARAMS (as utm_query reads them) to every
 * http(s) link in TEXT that carries no utm_* query parameter yet: after the
 * existing query, before the fragment, with "/" added to a bare host.
 * Text that is not a link, and punctuation after a link, stay as they are.
 * The tagged text goes to *OUT (malloc'd); -1 with ERR on bad PARAMS or a
 * text over UTM_MAX_TEXT bytes.
 */
int	 utm_apply(const char *text, const char *params, char **out,
	    char *err, size_t errlen);

/*
 * The same for an email: the links of *TEXT, and the href="http(s)..."
 * (or '...') values of *HTML (the added "&" written "&amp;"), either may
 * be NULL, are tagged in place, but SKIP (the unsubscribe URL, NULL: none)
 * stays as it is. -1 with ERR on bad PARAMS; nothing changes then.
 */
int	 utm_apply_email(char **text, char **html, const char *params,
	    const char *skip, char *err, size_t errlen);

#endif
