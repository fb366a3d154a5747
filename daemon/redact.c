/*
 * URLs as crier shows them (status, log, errors, --check): a calendar URL
 * may carry a password or a token, which must never be shown or logged.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "redact.h"

/* Appends LEN bytes of S to OUT at *POS, truncating at OUTLEN. */
static void
put(char *out, size_t outlen, size_t *pos, const char *s, size_t len)
{
	size_t	room = outlen - 1 - *pos;

	if (len > room)
		len = room;
	memcpy(out + *pos, s, len);
	*pos += len;
	out[*pos] = '\0';
}

/* Writes URL with its password and query values masked into OUT. */
char *
redact_url(const char *url, char *out, size_t outlen)
{
	const char	*auth, *end, *at, *colon, *q, *p, *amp, *eq;
	size_t		 pos = 0;

	if (outlen == 0)
		return (out);
	out[0] = '\0';
	if ((auth = strstr(url, "://")) != NULL)
		auth += 3;
	else
		auth = url;
	put(out, outlen, &pos, url, (size_t)(auth - url));
	end = auth + strcspn(auth, "/?#");
	/* The last '@' of the authority ends the userinfo. */
	at = NULL;
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon != NULL) {
			put(out, outlen, &pos, auth, (size_t)(colon - auth) + 1);
			put(out, outlen, &pos, REDACT_MASK, strlen(REDACT_MASK));
		} else
			put(out, outlen, &pos, auth, (size_t)(at - auth));
		auth = at;
	}
	/* Host, port and path as they are. */
	q = auth + strcspn(auth, "?#");
	put(out, outlen, &pos, auth, (size_t)(q - auth));
	if (*q != '?')
		return (out);
	put(out, outlen, &pos, "?", 1);
	p = q + 1;
	end = p + strcspn(p, "#");
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL) {
			put(out, outlen, &pos, p, (size_t)(eq - p) + 1);
			put(out, outlen, &pos, REDACT_MASK, strlen(REDACT_MASK));
		} else
			put(out, outlen, &pos, REDACT_MASK, strlen(REDACT_MASK));
		if (amp < end)
			put(out, outlen, &pos, "&", 1);
		p = amp + 1;
	}
	return (out);
}
