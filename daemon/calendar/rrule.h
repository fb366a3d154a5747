/* Recurrence rules checked against RFC 5545 where libical 3.0 is wrong (BYWEEKNO, dates). */
#ifndef CRIER_RRULE_H
#define CRIER_RRULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libical/ical.h>

struct rrule_iter;

/*
 * Whether crier can expand rule R as RFC 5545 defines it; when not, WHY
 * says what is wrong (BYWEEKNO with another FREQ than YEARLY, an ordinal
 * BYDAY together with BYWEEKNO) and -1 is returned.
 */
int			 rrule_check(const struct icalrecurrencetype *r, char *why,
			    size_t len);
/*
 * Starts enumerating rule R from DTSTART (its UNTIL is left to the caller):
 * YEARLY rules with BYWEEKNO by crier's own week arithmetic, every other rule
 * by libical with each instance checked against the rule, COUNT applied to
 * the instances that hold.  NULL when libical refuses the rule or memory ran out.
 */
struct rrule_iter	*rrule_iter_new(const struct icalrecurrencetype *r,
			    struct icaltimetype dtstart);
/* Skips to the first instance at or after T (no COUNT, libical's rules only); -1 when it cannot. */
int			 rrule_iter_set_start(struct rrule_iter *it,
			    struct icaltimetype t);
/* The next instance (floating wall clock), or the null time at the end. */
struct icaltimetype	 rrule_iter_next(struct rrule_iter *it);
void			 rrule_iter_free(struct rrule_iter *it);
/* Whether instance T satisfies every BYxxx part of R (BYSETPOS aside) and its WKST. */
bool			 rrule_matches(const struct icalrecurrencetype *r,
			    struct icaltimetype t);
/*
 * Week number of Y-M-D for weeks starting on WKST (0 = Sunday .. 6 =
 * Saturday): week 1 is the first with at least four days in its year.  The
 * week-numbering year is stored in *WYEAR.
 */
int			 rrule_week_no(int y, int m, int d, int wkst, int *wyear);
/* Days since 1970-01-01 of proleptic Gregorian date Y-M-D (the calendar folder and when.c use these too). */
int64_t			 rrule_civil_days(int64_t y, int m, int d);
/* Proleptic Gregorian date of day number Z. */
void			 rrule_civil_date(int64_t z, int *y, int *m, int *d);
/* Number of weeks (52 or 53) of week-numbering year Y for weeks starting on WKST. */
int			 rrule_weeks_in_year(int y, int wkst);
/*
 * Why date or date-time T is not a real one (Feb 30, month 13, 25:00,
 * 09:60), written to WHY; NULL when it is.  A second of 60 passes: whether
 * it is a leap second depends on the zone, see rrule_leap_second().
 */
const char		*rrule_time_invalid(struct icaltimetype t, char *why,
			    size_t len);
/*
 * Splits DURATION D as RFC 5545 3.3.6 reads it: weeks and days are nominal
 * (*DAYS, added on the wall clock), hours, minutes and seconds exact (*SECS).
 */
void			 rrule_duration(struct icaldurationtype d, int64_t *days,
			    int64_t *secs);
/* Whether a leap second followed instant T (seconds since 1970, UTC): T is 23:59:59 on such a day. */
bool			 rrule_leap_second(int64_t t);
/*
 * Line (counting from 1) of the first property NAME at or after line FROM of
 * TEXT, before the END:VEVENT that follows, whose unfolded value contains
 * VALUE; FROM when there is none.
 */
int			 rrule_prop_line(const char *text, int from, const char *name,
			    const char *value);

#endif
