/* iCalendar campaigns: parse with libical, expand occurrences (SPEC §2, §4). */
#ifndef CRIER_CALENDAR_H
#define CRIER_CALENDAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#define CAL_MAX_SIZE	(16 * 1024 * 1024)	/* largest calendar accepted */

enum cal_status { CAL_SCHEDULED, CAL_HELD, CAL_CANCELLED };

struct cal_attach {
	char	*uri;		/* file:// URI, absolute path or https URL, as written */
	char	*fmttype;	/* may be NULL */
	char	*alt;		/* X-CRIER-ALT or front matter alt:, may be NULL */
	int	 line;		/* of the ATTACH (or the event), 0 if unknown */
};

/*
 * What expanding a calendar may cost (the calendar is untrusted input).
 * Zero fields: no such limit; the iteration cap and time budget always apply.
 */
struct cal_limits {
	int64_t	 min_interval;		/* s: instances of a rule closer are refused */
	size_t	 max_occurrences;	/* per event in the window; more is a problem */
	int64_t	 budget_ms;		/* 0: CAL_BUDGET_MS */
	size_t	 max_bytes;		/* 0: CAL_MAX_OUT */
};

#define CAL_BUDGET_MS	30000	/* wall-clock time one calendar may take to expand */
#define CAL_MAX_STEPS	2000000	/* recurrence steps one rule may take */
#define CAL_MAX_OUT	(512 << 20)	/* bytes the occurrences of one calendar may take */

struct cal_var {
	char	*name;		/* lower-cased: X-CRIER-VAR-THEME -> "theme" */
	char	*value;
};

struct cal_occurrence {
	char			*uid;		/* may be NULL (some files have none) */
	char			 recurrence_id[32];	/* "" for non-recurring, else as start */
	char			 start_str[32];	/* "2021-05-17T08:00:00Z" or "2021-05-17" */
	char			 end_str[32];
	time_t			 start;		/* UTC instant; all-day: 00:00 in display zone */
	time_t			 end;
	bool			 all_day;
	enum cal_status		 status;
	char			*summary;	/* may be NULL */
	char			*description;	/* body, front matter removed; may be NULL */
	char			*url;
	char			*location;
	char			**categories;
	size_t			 ncategories;
	char			*channels;	/* "a,b" from X-CRIER-CHANNELS / front matter; NULL */
	char			*template;	/* X-CRIER-TEMPLATE / front matter; NULL */
	struct cal_var		*vars;
	size_t			 nvars;
	struct cal_attach	*attach;
	size_t			 nattach;
	int			 line;		/* line of the VEVENT's BEGIN in the file, 0 if unknown */
	int			 sequence;	/* SEQUENCE, 0 if absent */
};

struct cal_problem {
	int	 line;		/* 0 if unknown */
	char	*uid;		/* may be NULL */
	char	*msg;
};

struct cal_calendar;
struct cal_stream;

/*
 * Parses DATA (LEN bytes) named NAME (a path, used in messages). Floating times
 * are read in zone DEFAULT_TZ (IANA name, NULL = UTC). Returns NULL with ERR
 * naming file and line when the file cannot be used at all; problems with single
 * events (bad RRULE, unknown TZID) are kept in the calendar, see cal_problems().
 */
struct cal_calendar	*cal_parse(const char *data, size_t len, const char *name,
			    const char *default_tz, char *err, size_t errlen);
/* Reads and parses the file PATH, as cal_parse. */
struct cal_calendar	*cal_load_file(const char *path, const char *default_tz,
			    char *err, size_t errlen);
/* Number of VEVENT components (masters and overrides). */
size_t			 cal_nevents(const struct cal_calendar *c);
/*
 * Problems found while parsing and expanding; the events they concern are
 * left out. Call after cal_expand to have the expansion's too.
 */
const struct cal_problem *cal_problems(const struct cal_calendar *c, size_t *n);
/* What was repaired rather than refused (control characters removed). */
const struct cal_problem *cal_warnings(const struct cal_calendar *c, size_t *n);
/* Sets what expanding C may cost (see struct cal_limits). */
void			 cal_set_limits(struct cal_calendar *c, const struct cal_limits *l);
/* Why the last cal_expand of C failed ("took longer than 30 s"), or NULL. */
const char		*cal_error(const struct cal_calendar *c);
/*
 * Makes every parse and expansion under way, on any thread, stop soon
 * with an error, and every later one fail at once (crierd is stopping).
 */
void			 cal_interrupt(void);
/*
 * Expands every occurrence whose start is in [FROM, TO) into a malloc'd array,
 * sorted by start then uid then recurrence_id. Returns the count, -1 on error.
 */
ssize_t			 cal_expand(struct cal_calendar *c, time_t from, time_t to,
			    struct cal_occurrence **out);
/*
 * The occurrences of C whose start is in [FROM, TO), one at a time, in
 * cal_expand's order, without holding them all: every event is first
 * checked against C's limits (problems as cal_expand), then a heap of
 * per-event iterators yields them. NULL with cal_error(C) on failure.
 * C must outlive the stream and not be expanded meanwhile.
 */
struct cal_stream	*cal_stream_new(struct cal_calendar *c, time_t from,
			    time_t to);
/*
 * The next occurrence in *OCC (valid until the next call; its texts are
 * the event's, shared) and the index of its VEVENT in the file among
 * cal_nevents() in *EVENT (may be NULL): 1, 0 at the end, -1 with
 * cal_error() (the time budget spent, crierd stopping).
 */
int			 cal_stream_next(struct cal_stream *s,
			    const struct cal_occurrence **occ, size_t *event);
void			 cal_stream_free(struct cal_stream *s);
void			 cal_occurrences_free(struct cal_occurrence *occ, size_t n);
void			 cal_free(struct cal_calendar *c);

#endif
