/* Instants: the clock, ISO 8601 parsing and formatting (UTC with Z). */
#ifndef CRIER_WHEN_H
#define CRIER_WHEN_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the epoch, wall clock. */
int64_t	when_now(void);
/* Microseconds on the monotonic clock (for durations). */
int64_t	when_mono_us(void);
/* Formats MS as "2021-05-17T08:00:00Z" (".123" before Z when not whole seconds). */
char	*when_format(int64_t ms, char *buf, size_t len);
/*
 * Parses "2021-05-17", "2021-05-17T09:00", "2021-05-17T09:00:00Z",
 * "...+02:00", with optional fractions. A time without zone, and a date,
 * are read in zone TZ (IANA name; NULL or "UTC" for UTC).
 */
int	when_parse(const char *s, const char *tz, int64_t *ms);

#endif
