/* What the files of daemon/calendar/ share: the parsed calendar, cross-file calls. */
#ifndef CRIER_CALENDAR_INT_H
#define CRIER_CALENDAR_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libical/ical.h>

#include "calendar.h"
#include "tz.h"

/*
 * How the folder works.  libical splits the text into components and
 * properties and enumerates RRULEs, always on wall-clock (floating) times
 * (ics.c, vevent.c, rrule.c).  Turning a wall-clock time into an instant is
 * done by tz.c: TZIDs that name an IANA zone (possibly behind a vendor
 * prefix) or a Windows zone are read from the system tz database (TZif
 * files), because embedded VTIMEZONEs are often truncated or stale; only
 * other TZIDs use the file's VTIMEZONE, through libical (tzid.c).  Both go
 * through one resolver that applies RFC 5545's rules for times in a DST gap
 * or overlap.  Nothing here keeps global state but tz.c's display zones:
 * every zone of a calendar is owned by the calendar that loaded it.
 */

#define ICAL_MAX_VALUES	500		/* libical keeps no more values of one property */

struct cal_zone {			/* what a TZID of the file resolved to */
	char		*tzid;		/* as written in the file (cache key) */
	struct tz_zone	*zone;		/* NULL: no zone applies */
	char		*why;		/* why its VTIMEZONE is not used, or NULL */
};

struct tval {				/* a DATE or DATE-TIME value as written */
	int64_t		 local;		/* wall clock, seconds since 1970 read as UTC */
	bool		 is_date;
	bool		 utc;		/* written with Z */
	bool		 floating;	/* no Z and no TZID: read in the default zone */
	const struct tz_zone	*zone;		/* date-times only */
};

struct rule {
	struct icalrecurrencetype r;	/* UNTIL removed: applied here, see rule_until() */
	bool		 has_until;
	struct tval	 until;
};

struct rdate {
	struct tval	 v;
	bool		 has_len;	/* PERIOD: its own length */
	int64_t		 len;
	int64_t		 len_days;	/* PERIOD with a DURATION: its nominal days */
};

struct event {
	int		 line;
	int		 dtstart_line, dtend_line;
	size_t		 nrdate_values;	/* as written, before libical */
	bool		 bad;		/* a problem was reported: left out */
	bool		 has_start;
	struct tval	 start;
	int64_t		 len;		/* date-time start: exact seconds */
	int64_t		 len_days;	/* date-time start: DURATION's nominal days */
	int64_t		 days;		/* date start: days */
	bool		 has_rid;
	bool		 rid_written;	/* RECURRENCE-ID present, valid or not */
	struct tval	 rid;
	int		 seq;
	struct rule	*rules;
	size_t		 nrules;
	struct rdate	*rdates;
	size_t		 nrdates;
	struct tval	*exdates;
	size_t		 nexdates;
	int64_t		*exkeys;	/* EXDATEs of DTSTART's type: their keys, sorted */
	size_t		 nexkeys;
	int64_t		*exdays;	/* those of the other type: their days, sorted */
	size_t		 nexdays;
	struct cal_occurrence proto;	/* everything but times, copied into each occurrence */
	size_t		 nocc;		/* occurrences in the window (expand_plan) */
};

struct cal_calendar {
	char		*name;
	struct tz_zone	*utc;
	const struct tz_zone *deflt;	/* floating times and all-day dates */
	struct tz_zone	*own_deflt;	/* deflt when it is not utc */
	struct cal_zone	*zones;
	size_t		 nzones;
	struct event	*events;
	size_t		 nevents;
	size_t		 events_cap;
	struct cal_problem *problems;
	size_t		 nproblems;
	struct cal_problem *warnings;
	size_t		 nwarnings;
	struct cal_limits limits;
	/* the expansion under way: its budget, and why it stopped */
	int64_t		 deadline;	/* CLOCK_MONOTONIC ms */
	unsigned	 ticks;
	size_t		 out_bytes;	/* memory the occurrences take */
	char		 error[256];
	const char	*text;		/* while parsing: the file, for lines of values */
	char		 why[128];	/* why tval_make() last refused a value */
};

struct vraw {				/* what the scan of the text found for one VEVENT */
	int		 line;		/* of its BEGIN */
	int		 dtstart_line, dtend_line;
	int		 bad_line;	/* first line that is not UTF-8, 0: none */
	char		 bad_prop[40];	/* its property name */
	int		*attach_lines;	/* of its ATTACH properties, in order */
	size_t		 nattach_lines;
	size_t		 nrdate_values;	/* values of all its RDATEs */
	int		 toomany_line;	/* an RDATE/EXDATE libical would cut short */
	char		 toomany_prop[8];
	char		*summary;	/* raw values, TEXT escapes undone */
	char		*description;
	char		*location;
};

struct inst {				/* one candidate instance of a master */
	bool		 kdate;
	int64_t		 key;		/* date: day number; date-time: instant */
	size_t		 ord;		/* first one written wins a duplicate */
	struct tval	 v;
	bool		 has_len;
	int64_t		 len;
	int64_t		 len_days;
};

struct ovr {				/* the override chosen for a (uid, instance) */
	const struct event *ev;
	bool		 kdate;
	int64_t		 key;
};

struct expand_plan {			/* what expand_plan() found out */
	struct ovr	*ovr;		/* by uid, identity */
	size_t		 novr;
	struct ovr	*byday;		/* by uid, value type, date */
	size_t		 nbyday;
	struct event	**emit;		/* overrides that are occurrences */
	size_t		 nemit;
};

/* expand.c: limits, overrides, what an occurrence's times are */
int		 expand_plan(struct cal_calendar *, int64_t, int64_t,
		    struct expand_plan *);
void		 expand_plan_free(struct expand_plan *);
void		 expand_key(const struct cal_calendar *, const struct tval *,
		    bool *, int64_t *);
int		 expand_inst_cmp(const void *, const void *);
bool		 expand_excluded(const struct cal_calendar *, const struct event *,
		    const struct inst *);
bool		 expand_overridden(const struct event *, const struct inst *,
		    const struct ovr *, size_t, const struct ovr *, size_t);
bool		 expand_past_until(const struct cal_calendar *,
		    const struct event *, const struct rule *, int64_t);
int		 expand_tick(struct cal_calendar *);
bool		 expand_by_ok(const short *, size_t, int);
bool		 expand_day_ok(const struct icalrecurrencetype *, int64_t);
void		 expand_times(const struct cal_calendar *, const struct event *,
		    const struct tval *, bool, int64_t, int64_t, const char *,
		    struct cal_occurrence *);

/* ics.c: reading a calendar */
int		 ics_problem(struct cal_calendar *, int, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
int		 ics_warning(struct cal_calendar *, int, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
int		 ics_push(void *, size_t *, const void *, size_t);

/* scan.c: the raw text, before libical */
int		 scan_lines(struct cal_calendar *, const char *, struct vraw **,
		    size_t *, char *, size_t);
void		 scan_free(struct vraw *, size_t);
int		 scan_strip_event(struct cal_calendar *, struct cal_occurrence *);

/* vevent.c: one VEVENT */
int		 vevent_read(struct cal_calendar *, icalcomponent *, icalcomponent *,
		    const struct vraw *, struct event *);

/* tzid.c: TZIDs of the file */
const struct tz_zone *tzid_get(struct cal_calendar *, icalcomponent *,
		    const char *, bool *);
const char	*tzid_why(const struct cal_calendar *, const char *);

/* tval.c: DATE and DATE-TIME values */
int		 tval_make(struct cal_calendar *, icalcomponent *,
		    struct icaltimetype, const char *, struct tval *);
int64_t		 tval_instant(const struct cal_calendar *, const struct tval *);
void		 tval_text(const struct cal_calendar *, const struct tval *,
		    char *, size_t);
void		 tval_fmt_instant(int64_t, char *, size_t);
void		 tval_fmt_date(int64_t, char *, size_t);
int64_t		 tval_ical_local(struct icaltimetype);
struct icaltimetype tval_from_local(int64_t, bool);

/* occurrence.c: the fields of an occurrence */
int		 occurrence_set_channels(struct cal_occurrence *, const char *);
int		 occurrence_set_var(struct cal_occurrence *, const char *, size_t,
		    const char *);
struct cal_attach *occurrence_add_attach(struct cal_occurrence *, const char *,
		    const char *, const char *);
int		 occurrence_add_categories(struct cal_occurrence *, const char *);
void		 occurrence_clear(struct cal_occurrence *);
int		 occurrence_copy(struct cal_occurrence *, const struct cal_occurrence *);

/* frontmatter.c: the front matter of a DESCRIPTION */
int		 frontmatter_read(struct cal_occurrence *);

/* text.c: text values */
int		 text_set(char **, const char *);
char		*text_unescape(const char *);
char		*text_param_decode(const char *);
char		*text_norm_list(const char *);

#endif
