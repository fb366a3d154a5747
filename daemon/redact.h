/* URLs as crier shows them: credentials and query values hidden. */
#ifndef CRIER_REDACT_H
#define CRIER_REDACT_H

#include <stddef.h>

#define REDACT_MASK	"***"

/*
 * Writes URL to OUT (OUTLEN bytes, always NUL-terminated) with the password
 * of its userinfo and the value of every query parameter replaced by
 * REDACT_MASK, and any fragment dropped:
 * https://alice:S3cret@host/cal.ics?token=T becomes
 * https://alice:***@host/cal.ics?token=***. Returns OUT.
 */
char	*redact_url(const char *url, char *out, size_t outlen);

#endif
