/* Time zones (TZif, Windows names, VTIMEZONEs): one engine for expansion and display. */
#ifndef CRIER_TZ_H
#define CRIER_TZ_H

#include <stddef.h>
#include <stdint.h>

#include <libical/ical.h>

#define TZ_DAY	86400

struct tz_zone;

/* Civil time in a zone: what a person reads on a clock there. */
struct tz_civil {
	int	 year, month, day;	/* month 1-12, day 1-31 */
	int	 hour, minute, second;
	int	 wday;			/* 0 = Sunday .. 6 = Saturday */
	int32_t	 offset;		/* seconds east of UTC */
};

/* A zone at a fixed offset of OFF seconds east of UTC; NULL without memory. */
struct tz_zone		*tz_new_fixed(int32_t off);
/* Loads IANA zone NAME from the system tz database (TZDIR), or NULL. */
struct tz_zone		*tz_load(const char *name);
/*
 * Loads the zone a calendar's TZID names: an IANA name, also behind a vendor
 * prefix ("/mozilla.org/20050126_1/Europe/London"), else a Windows name
 * ("W. Europe Standard Time"); NULL when none applies.
 */
struct tz_zone		*tz_load_tzid(const char *tzid);
/*
 * A zone built by libical from VTIMEZONE VTZ (copied; the caller keeps VTZ).
 * Returns 0 with *OUT set, 1 when libical cannot use VTZ, -1 without memory.
 */
int			 tz_new_vtimezone(icalcomponent *vtz, struct tz_zone **out);
void			 tz_free(struct tz_zone *z);
/* UTC offset of zone Z at instant T (seconds since 1970). */
int32_t			 tz_offset(const struct tz_zone *z, int64_t t);
/*
 * Instant of wall-clock time LOCAL (seconds since 1970 read as UTC) in Z, as
 * RFC 5545 3.3.5 reads times in a DST gap or overlap.
 */
int64_t			 tz_local_to_utc(const struct tz_zone *z, int64_t local);
/* Days since 1970-01-01 of instant or wall clock T (rounded down). */
int64_t			 tz_day(int64_t t);
/*
 * The display zone NAME: an IANA name, or "UTC", "Etc/UTC", NULL or "" for
 * UTC. Loaded once and kept for the life of the process; NULL if unknown.
 */
const struct tz_zone	*tz_find(const char *name);
/* Civil time of instant T in zone NAME (as tz_find); -1 if NAME is unknown. */
int			 tz_civil(const char *name, int64_t t, struct tz_civil *out);
/* Civil time of instant T in zone Z. */
void			 tz_civil_in(const struct tz_zone *z, int64_t t,
			    struct tz_civil *out);
/* IANA name for a Windows zone name such as "W. Europe Standard Time", or NULL. */
const char		*tz_windows_to_iana(const char *windows_name);
/* Calls FN(windows, iana, ARG) for each entry of that table; returns the count. */
size_t			 tz_windows_each(void (*fn)(const char *, const char *, void *),
			    void *arg);

#endif
