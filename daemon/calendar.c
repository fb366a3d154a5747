/* iCalendar campaigns: parse with libical, expand occurrences (SPEC §2, §4). */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libical/ical.h>

#include "calendar.h"
#include "rrule.h"

/*
 * How this file works.  libical splits the text into components and
 * properties and enumerates RRULEs, always on wall-clock (floating) times.
 * Turning a wall-clock time into an instant is done here: TZIDs that name an
 * IANA zone (possibly behind a vendor prefix) or a Windows zone are read from
 * the system tz database (TZif files), because embedded VTIMEZONEs are often
 * truncated or stale; only other TZIDs use the file's VTIMEZONE, through
 * libical.  Both go through one resolver that applies RFC 5545's rules for
 * times in a DST gap or overlap.  Nothing here keeps global state: every zone
 * is owned by the calendar that loaded it.
 */

#define DAY		86400
#define TZDIR_DEFAULT	"/usr/share/zoneinfo"
#define TZIF_MAX	(512 * 1024)	/* larger files are not tz data */
#define MAX_KEEP	100000		/* instances of one event kept per expansion */
#define MAX_VTZ_RDATES	1000		/* RDATEs of one VTIMEZONE at most */
#define ICAL_MAX_VALUES	500		/* libical keeps no more values of one property */
#define TICK_EVERY	1024		/* steps between looks at the clock */
#define MAX_FRONT	64		/* front matter lines at most */

enum zone_kind { ZONE_FIXED, ZONE_TZIF, ZONE_VTZ, ZONE_NONE };

struct prule {			/* one POSIX TZ transition rule: Mm.w.d, Jn or n */
	char		 kind;
	int		 m, w, d;
	int32_t		 secs;	/* local time of day of the change */
};

struct tzone {
	char		*tzid;		/* as written in the file (cache key) */
	enum zone_kind	 kind;
	int32_t		 fixed;		/* ZONE_FIXED: UTC offset */
	int64_t		*trans;		/* ZONE_TZIF: transition instants */
	unsigned char	*tidx;		/* type of each transition */
	size_t		 ntrans;
	int32_t		*utoff;		/* UTC offset of each type */
	size_t		 ntypes;
	bool		 has_rule;	/* TZif footer, for times after the last transition */
	int32_t		 std_off, dst_off;
	bool		 has_dst;
	struct prule	 rstart, rend;
	icaltimezone	*vtz;		/* ZONE_VTZ: built from the file's VTIMEZONE */
	char		*why;		/* ZONE_NONE: why the VTIMEZONE is not used */
};

struct tval {				/* a DATE or DATE-TIME value as written */
	int64_t		 local;		/* wall clock, seconds since 1970 read as UTC */
	bool		 is_date;
	bool		 utc;		/* written with Z */
	bool		 floating;	/* no Z and no TZID: read in the default zone */
	struct tzone	*zone;		/* date-times only */
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
	struct cal_occurrence proto;	/* everything but times, copied into each occurrence */
};

struct cal_calendar {
	char		*name;
	struct tzone	*utc;
	struct tzone	*deflt;		/* floating times and all-day dates */
	struct tzone	**zones;
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

static atomic_int	 cal_stopping;	/* cal_interrupt() was called */

static int	problem(struct cal_calendar *, int, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	warning(struct cal_calendar *, int, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	strip_event_controls(struct cal_calendar *, struct cal_occurrence *);


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

struct occvec {
	struct cal_occurrence *v;
	size_t		 n, cap;
};

/* Division rounding towards minus infinity. */
static int64_t
fdiv(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Formats instant T as 2021-05-17T08:00:00Z. */
static void
fmt_instant(int64_t t, char *buf, size_t len)
{
	int	 y, m, d;
	int64_t	 s = t - fdiv(t, DAY) * DAY;

	rrule_civil_date(fdiv(t, DAY), &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
	    (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

/* Formats the date of wall-clock LOCAL as 2021-05-17. */
static void
fmt_date(int64_t local, char *buf, size_t len)
{
	int	 y, m, d;

	rrule_civil_date(fdiv(local, DAY), &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

/* Reads a big-endian 32-bit integer. */
static int64_t
be32(const unsigned char *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* Reads a big-endian 64-bit integer. */
static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)(uint32_t)be32(p) << 32 | (uint32_t)be32(p + 4));
}

/* Parses [+-]hh[:mm[:ss]] of a POSIX TZ string; returns the rest or NULL. */
static const char *
posix_hms(const char *s, int32_t *out)
{
	int	 sign = 1, h = 0, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (*s < '0' || *s > '9')
		return NULL;
	while (*s >= '0' && *s <= '9' && h < 1000)
		h = h * 10 + (*s++ - '0');
	if (*s == ':') {
		s++;
		while (*s >= '0' && *s <= '9' && m < 100)
			m = m * 10 + (*s++ - '0');
		if (*s == ':') {
			s++;
			while (*s >= '0' && *s <= '9' && sec < 100)
				sec = sec * 10 + (*s++ - '0');
		}
	}
	if (h > 167)
		return NULL;
	*out = sign * (h * 3600 + m * 60 + sec);
	return s;
}

/* Skips a zone abbreviation (EST or <+03>); returns the rest or NULL. */
static const char *
posix_name(const char *s)
{
	const char	*p = s;

	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		return *p == '>' ? p + 1 : NULL;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* Parses one ",rule[/time]" of a POSIX TZ string; returns the rest or NULL. */
static const char *
posix_rule(const char *s, struct prule *r)
{
	char	*end;
	long	 a, b, c;

	if (*s++ != ',')
		return NULL;
	r->secs = 7200;
	if (*s == 'M') {
		a = strtol(s + 1, &end, 10);
		if (*end != '.')
			return NULL;
		b = strtol(end + 1, &end, 10);
		if (*end != '.')
			return NULL;
		c = strtol(end + 1, &end, 10);
		if (a < 1 || a > 12 || b < 1 || b > 5 || c < 0 || c > 6)
			return NULL;
		r->kind = 'M';
		r->m = (int)a;
		r->w = (int)b;
		r->d = (int)c;
	} else {
		r->kind = *s == 'J' ? 'J' : 'N';
		if (*s == 'J')
			s++;
		if (*s < '0' || *s > '9')
			return NULL;
		a = strtol(s, &end, 10);
		if (a < 0 || a > 365)
			return NULL;
		r->d = (int)a;
	}
	s = end;
	if (*s == '/' && (s = posix_hms(s + 1, &r->secs)) == NULL)
		return NULL;
	return s;
}

/* Parses the POSIX TZ string of a TZif footer into Z; returns -1 if unusable. */
static int
posix_parse(struct tzone *z, const char *s)
{
	int32_t	 off;

	if ((s = posix_name(s)) == NULL || (s = posix_hms(s, &off)) == NULL)
		return -1;
	z->std_off = -off;
	z->has_dst = false;
	if (*s == '\0')
		goto done;
	if ((s = posix_name(s)) == NULL)
		return -1;
	z->has_dst = true;
	z->dst_off = z->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = posix_hms(s, &off)) == NULL)
			return -1;
		z->dst_off = -off;
	}
	if (*s == '\0') {
		/* POSIX's default rules (the US ones before 2007) */
		z->rstart = (struct prule){ 'M', 4, 1, 0, 7200 };
		z->rend = (struct prule){ 'M', 10, 5, 0, 7200 };
		goto done;
	}
	if ((s = posix_rule(s, &z->rstart)) == NULL ||
	    (s = posix_rule(s, &z->rend)) == NULL || *s != '\0')
		return -1;
done:
	z->has_rule = true;
	return 0;
}

/* Day number on which rule R falls in year Y. */
static int64_t
prule_day(const struct prule *r, int64_t y)
{
	int64_t	 jan1 = rrule_civil_days(y, 1, 1), first, day, next;
	bool	 leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (r->kind == 'J')
		return jan1 + r->d - 1 + (leap && r->d >= 60);
	if (r->kind == 'N')
		return jan1 + r->d;
	first = rrule_civil_days(y, r->m, 1);
	next = r->m == 12 ? rrule_civil_days(y + 1, 1, 1) :
	    rrule_civil_days(y, r->m + 1, 1);
	/* 1970-01-01 was a Thursday (4) */
	day = first + ((r->d - ((first % 7 + 7 + 4) % 7)) + 7) % 7;
	day += (int64_t)(r->w - 1) * 7;
	while (day >= next)
		day -= 7;
	return day;
}

/* UTC offset at instant T from the POSIX rule of Z. */
static int32_t
posix_offset(const struct tzone *z, int64_t t)
{
	int	 y, m, d;
	int64_t	 s, e;

	if (!z->has_dst)
		return z->std_off;
	rrule_civil_date(fdiv(t + z->std_off, DAY), &y, &m, &d);
	s = prule_day(&z->rstart, y) * DAY + z->rstart.secs - z->std_off;
	e = prule_day(&z->rend, y) * DAY + z->rend.secs - z->dst_off;
	if (s < e)
		return t >= s && t < e ? z->dst_off : z->std_off;
	return t >= e && t < s ? z->std_off : z->dst_off;
}

/* Parses TZif data (RFC 8536) into Z; returns -1 if it is not valid. */
static int
tzif_parse(struct tzone *z, const unsigned char *b, size_t n)
{
	size_t		 isut, isstd, leap, timecnt, typecnt, charcnt, tsz, need, i;
	const unsigned char *p = b;
	char		 footer[256];
	const unsigned char *nl;

	if (n < 44 || memcmp(b, "TZif", 4) != 0)
		return -1;
	tsz = 4;
	for (;;) {
		isut = (size_t)be32(p + 20);
		isstd = (size_t)be32(p + 24);
		leap = (size_t)be32(p + 28);
		timecnt = (size_t)be32(p + 32);
		typecnt = (size_t)be32(p + 36);
		charcnt = (size_t)be32(p + 40);
		if (timecnt > 100000 || typecnt > 256 || typecnt == 0 ||
		    charcnt > 100000 || leap > 100000 || isut > 256 || isstd > 256)
			return -1;
		need = timecnt * tsz + timecnt + typecnt * 6 + charcnt +
		    leap * (tsz + 4) + isstd + isut;
		if ((size_t)(p - b) + 44 + need > n)
			return -1;
		if (tsz == 8 || b[4] < '2')
			break;
		/* skip the 32-bit block: version 2+ repeats it with 64-bit times */
		p += 44 + need;
		if ((size_t)(p - b) + 44 > n || memcmp(p, "TZif", 4) != 0)
			return -1;
		tsz = 8;
	}
	p += 44;
	z->trans = calloc(timecnt ? timecnt : 1, sizeof(*z->trans));
	z->tidx = calloc(timecnt ? timecnt : 1, 1);
	z->utoff = calloc(typecnt, sizeof(*z->utoff));
	if (z->trans == NULL || z->tidx == NULL || z->utoff == NULL)
		return -1;
	for (i = 0; i < timecnt; i++)
		z->trans[i] = tsz == 8 ? be64(p + i * 8) : be32(p + i * 4);
	p += timecnt * tsz;
	for (i = 0; i < timecnt; i++) {
		if (p[i] >= typecnt)
			return -1;
		z->tidx[i] = p[i];
	}
	p += timecnt;
	for (i = 0; i < typecnt; i++)
		z->utoff[i] = (int32_t)be32(p + i * 6);
	z->ntrans = timecnt;
	z->ntypes = typecnt;
	z->kind = ZONE_TZIF;
	p += need - timecnt * tsz - timecnt;
	if (tsz == 8 && (size_t)(p - b) < n && *p == '\n') {
		nl = memchr(p + 1, '\n', n - (size_t)(p - b) - 1);
		if (nl != NULL && (size_t)(nl - p - 1) < sizeof(footer) && nl > p + 1) {
			memcpy(footer, p + 1, (size_t)(nl - p - 1));
			footer[nl - p - 1] = '\0';
			if (posix_parse(z, footer) == -1)
				z->has_rule = false;
		}
	}
	return 0;
}

/* UTC offset of zone Z at instant T. */
static int32_t
zone_offset(const struct tzone *z, int64_t t)
{
	size_t			 lo, hi, mid;
	struct icaltimetype	 tt = icaltime_null_time();
	int			 y, m, d;
	int64_t			 s;

	switch (z->kind) {
	case ZONE_TZIF:
		if (z->ntrans == 0 || t < z->trans[0])
			return z->ntrans == 0 && z->has_rule ? posix_offset(z, t) :
			    z->utoff[0];
		if (t >= z->trans[z->ntrans - 1] && z->has_rule)
			return posix_offset(z, t);
		lo = 0;
		hi = z->ntrans;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (z->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		return z->utoff[z->tidx[lo]];
	case ZONE_VTZ:
		rrule_civil_date(fdiv(t, DAY), &y, &m, &d);
		s = t - fdiv(t, DAY) * DAY;
		tt.year = y;
		tt.month = m;
		tt.day = d;
		tt.hour = (int)(s / 3600);
		tt.minute = (int)(s / 60 % 60);
		tt.second = (int)(s % 60);
		return icaltimezone_get_utc_offset_of_utc_time(z->vtz, &tt, NULL);
	default:
		return z->fixed;
	}
}

/*
 * Instant of wall-clock time LOCAL in zone Z.  RFC 5545 3.3.5: a time that
 * occurs twice is the first of the two; a time skipped by a change is read
 * with the offset in force before the change.  Changes are assumed to be more
 * than two days apart, which holds for every zone in use.
 */
static int64_t
zone_local_to_utc(const struct tzone *z, int64_t local)
{
	int32_t	 before, after;
	int64_t	 t1, t2;
	bool	 ok1, ok2;

	if (z->kind == ZONE_FIXED)
		return local - z->fixed;
	before = zone_offset(z, local - DAY);
	after = zone_offset(z, local + DAY);
	t1 = local - before;
	t2 = local - after;
	ok1 = zone_offset(z, t1) == before;
	ok2 = zone_offset(z, t2) == after;
	if (ok1 && ok2)
		return t1 < t2 ? t1 : t2;
	if (ok2)
		return t2;
	return t1;
}

/* Frees zone Z. */
static void
zone_free(struct tzone *z)
{
	if (z == NULL)
		return;
	if (z->vtz != NULL)
		icaltimezone_free(z->vtz, 1);
	free(z->tzid);
	free(z->why);
	free(z->trans);
	free(z->tidx);
	free(z->utoff);
	free(z);
}

/* Whether NAME can only name a file inside the tz directory. */
static bool
tzname_safe(const char *name)
{
	const char	*p;

	if (*name == '\0' || *name == '/' || *name == '.' || strlen(name) > 128)
		return false;
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '+' || *p == '/' || *p == '.'))
			return false;
		if (*p == '/' && p[1] == '.')
			return false;
	}
	return true;
}

/* Loads IANA zone NAME from the tz database into a new zone, or NULL. */
static struct tzone *
zone_load_iana(const char *name)
{
	const char	*dir = getenv("TZDIR");
	char		 path[PATH_MAX];
	unsigned char	*buf = NULL;
	struct tzone	*z = NULL;
	struct stat	 st;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd = -1;

	if (!tzname_safe(name))
		return NULL;
	if (dir == NULL || *dir == '\0')
		dir = TZDIR_DEFAULT;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 44 ||
	    st.st_size > TZIF_MAX)
		goto fail;
	if ((buf = malloc((size_t)st.st_size)) == NULL)
		goto fail;
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		got += (size_t)r;
	}
	if ((z = calloc(1, sizeof(*z))) == NULL)
		goto fail;
	if (tzif_parse(z, buf, got) == -1)
		goto fail;
	close(fd);
	free(buf);
	return z;
fail:
	zone_free(z);
	free(buf);
	if (fd != -1)
		close(fd);
	return NULL;
}

/*
 * Loads the IANA zone a TZID names, directly or behind a vendor prefix such
 * as "/mozilla.org/20050126_1/Europe/London" (the longest suffix that names a
 * zone wins; a one-part suffix only after a leading '/', so that "Custom/GB"
 * is not taken for "GB").
 */
static struct tzone *
zone_from_iana_tzid(const char *tzid)
{
	struct tzone	*z;
	const char	*p;

	if ((z = zone_load_iana(tzid)) != NULL)
		return z;
	for (p = strchr(tzid, '/'); p != NULL; p = strchr(p + 1, '/')) {
		if (strchr(p + 1, '/') == NULL && tzid[0] != '/')
			break;
		if ((z = zone_load_iana(p + 1)) != NULL)
			return z;
	}
	return NULL;
}

/* Finds the VTIMEZONE with TZID among the VCALENDARs under ROOT, or NULL. */
static icalcomponent *
find_vtimezone(icalcomponent *root, const char *tzid)
{
	icalcompiter	 it;
	icalcomponent	*tz;
	icalproperty	*p;
	const char	*id;

	/*
	 * External iterators only: the caller is walking the VEVENTs of this
	 * component with libical's internal one.
	 */
	if (root == NULL)
		return NULL;
	if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
		for (it = icalcomponent_begin_component(root,
		    ICAL_VTIMEZONE_COMPONENT); (tz = icalcompiter_deref(&it)) != NULL;
		    icalcompiter_next(&it)) {
			p = icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY);
			if (p != NULL && (id = icalproperty_get_tzid(p)) != NULL &&
			    strcmp(id, tzid) == 0)
				return tz;
		}
		return NULL;
	}
	for (it = icalcomponent_begin_component(root, ICAL_VCALENDAR_COMPONENT);
	    (tz = icalcompiter_deref(&it)) != NULL; icalcompiter_next(&it))
		if ((tz = find_vtimezone(tz, tzid)) != NULL)
			return tz;
	return NULL;
}

/*
 * Whether VTIMEZONE VTZ is safe to hand to libical, which expands its
 * rules into a table: only yearly rules (any other is no time zone, and a
 * SECONDLY one would grow that table without bound) and a bounded number
 * of RDATEs. Else false with WHY.
 */
static bool
vtz_sane(icalcomponent *vtz, char *why, size_t len)
{
	icalcompiter		 it;
	icalcomponent		*sub;
	icalproperty		*p;
	struct icalrecurrencetype r;
	size_t			 nrdate = 0;

	for (it = icalcomponent_begin_component(vtz, ICAL_ANY_COMPONENT);
	    (sub = icalcompiter_deref(&it)) != NULL; icalcompiter_next(&it)) {
		for (p = icalcomponent_get_first_property(sub, ICAL_RRULE_PROPERTY);
		    p != NULL; p = icalcomponent_get_next_property(sub,
		    ICAL_RRULE_PROPERTY)) {
			r = icalproperty_get_rrule(p);
			if (r.freq != ICAL_YEARLY_RECURRENCE) {
				snprintf(why, len, "a %s rule (FREQ=%s); time "
				    "zone rules must be yearly",
				    icalcomponent_kind_to_string(
				    icalcomponent_isa(sub)),
				    icalrecur_freq_to_string(r.freq));
				return false;
			}
		}
		for (p = icalcomponent_get_first_property(sub, ICAL_RDATE_PROPERTY);
		    p != NULL; p = icalcomponent_get_next_property(sub,
		    ICAL_RDATE_PROPERTY))
			if (++nrdate > MAX_VTZ_RDATES) {
				snprintf(why, len, "more than %d RDATEs",
				    MAX_VTZ_RDATES);
				return false;
			}
	}
	return true;
}

/* Why the VTIMEZONE of TZID was refused, or NULL. */
static const char *
zone_why(const struct cal_calendar *c, const char *tzid)
{
	size_t	 i;

	for (i = 0; i < c->nzones; i++)
		if (c->zones[i]->tzid != NULL && strcmp(c->zones[i]->tzid, tzid) == 0)
			return c->zones[i]->why;
	return NULL;
}

/* Adds Z to the zones C owns; returns Z, or NULL (and frees Z) without memory. */
static struct tzone *
zone_keep(struct cal_calendar *c, struct tzone *z)
{
	struct tzone	**nz;

	nz = reallocarray(c->zones, c->nzones + 1, sizeof(*nz));
	if (nz == NULL) {
		zone_free(z);
		return NULL;
	}
	c->zones = nz;
	c->zones[c->nzones++] = z;
	return z;
}

/*
 * Resolves TZID as calendar apps do: IANA name (also behind a prefix), then
 * Windows name, then the file's VTIMEZONE.  Returns NULL when none applies
 * (*OOM set when memory ran out).
 */
static struct tzone *
zone_get(struct cal_calendar *c, icalcomponent *root, const char *tzid, bool *oom)
{
	struct tzone	*z = NULL;
	icalcomponent	*vtz = NULL, *clone = NULL;
	const char	*iana;
	char		 why[200];
	size_t		 i;

	for (i = 0; i < c->nzones; i++)
		if (c->zones[i]->tzid != NULL && strcmp(c->zones[i]->tzid, tzid) == 0)
			return c->zones[i]->kind == ZONE_NONE ? NULL : c->zones[i];
	if ((z = zone_from_iana_tzid(tzid)) == NULL &&
	    (iana = cal_tz_windows_to_iana(tzid)) != NULL)
		z = zone_load_iana(iana);
	if (z == NULL && (vtz = find_vtimezone(root, tzid)) != NULL &&
	    !vtz_sane(vtz, why, sizeof(why))) {
		if ((z = calloc(1, sizeof(*z))) == NULL ||
		    (z->why = strdup(why)) == NULL)
			goto oom;
		z->kind = ZONE_NONE;
	} else if (z == NULL && vtz != NULL) {
		if ((z = calloc(1, sizeof(*z))) == NULL)
			goto oom;
		z->kind = ZONE_VTZ;
		if ((clone = icalcomponent_new_clone(vtz)) == NULL ||
		    (z->vtz = icaltimezone_new()) == NULL)
			goto oom;
		if (icaltimezone_set_component(z->vtz, clone) == 0) {
			/* not a usable VTIMEZONE: as if there were none */
			icalcomponent_free(clone);
			clone = NULL;
			icaltimezone_free(z->vtz, 1);
			z->vtz = NULL;
			z->kind = ZONE_NONE;
		}
		clone = NULL;
	}
	if (z == NULL) {
		if ((z = calloc(1, sizeof(*z))) == NULL)
			goto oom;
		z->kind = ZONE_NONE;
	}
	if ((z->tzid = strdup(tzid)) == NULL)
		goto oom;
	if (zone_keep(c, z) == NULL) {
		z = NULL;
		goto oom;
	}
	return z->kind == ZONE_NONE ? NULL : z;
oom:
	if (clone != NULL)
		icalcomponent_free(clone);
	zone_free(z);
	*oom = true;
	return NULL;
}

/* Appends "NAME:LINE: message" to the list *V (*N items) of C; -1 without memory. */
static int
record(struct cal_calendar *c, struct cal_problem **v, size_t *n, int line,
    const char *uid, const char *fmt, va_list ap)
{
	struct cal_problem	*np, *p;
	char			 msg[768], full[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		snprintf(full, sizeof(full), "%s:%d: %s", c->name, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", c->name, msg);
	np = reallocarray(*v, *n + 1, sizeof(*np));
	if (np == NULL)
		return -1;
	*v = np;
	p = &np[*n];
	p->line = line;
	p->uid = NULL;
	if ((p->msg = strdup(full)) == NULL)
		return -1;
	if (uid != NULL && (p->uid = strdup(uid)) == NULL) {
		free(p->msg);
		return -1;
	}
	(*n)++;
	return 0;
}

/* Records a problem "NAME:LINE: message" in C; returns -1 without memory. */
static int
problem(struct cal_calendar *c, int line, const char *uid, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = record(c, &c->problems, &c->nproblems, line, uid, fmt, ap);
	va_end(ap);
	return rc;
}

/* Records a warning (something repaired, not refused) in C; -1 without memory. */
static int
warning(struct cal_calendar *c, int line, const char *uid, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = record(c, &c->warnings, &c->nwarnings, line, uid, fmt, ap);
	va_end(ap);
	return rc;
}

/* Replaces *DST with a copy of SRC (NULL allowed); returns -1 without memory. */
static int
set_str(char **dst, const char *src)
{
	char	*s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

/* Copies SRC with RFC 5545 TEXT escapes (\n \, \; \\) undone. */
static char *
unescape(const char *src)
{
	char	*out, *o;

	if ((out = malloc(strlen(src) + 1)) == NULL)
		return NULL;
	for (o = out; *src != '\0'; src++) {
		if (*src == '\\' && src[1] != '\0') {
			src++;
			*o++ = (*src == 'n' || *src == 'N') ? '\n' : *src;
		} else
			*o++ = *src;
	}
	*o = '\0';
	return out;
}

/* Copies parameter value SRC with RFC 6868 escapes (^n ^' ^^) undone. */
static char *
param_decode(const char *src)
{
	char	*out, *o;

	if ((out = malloc(strlen(src) + 1)) == NULL)
		return NULL;
	for (o = out; *src != '\0'; src++) {
		if (*src == '^' && (src[1] == 'n' || src[1] == 'N')) {
			*o++ = '\n';
			src++;
		} else if (*src == '^' && src[1] == '\'') {
			*o++ = '"';
			src++;
		} else if (*src == '^' && src[1] == '^') {
			*o++ = '^';
			src++;
		} else
			*o++ = *src;
	}
	*o = '\0';
	return out;
}

/* Copies the list "a, b,,c" as "a,b,c"; NULL without memory. */
static char *
norm_list(const char *s)
{
	char		*out, *o;
	const char	*b, *e;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	o = out;
	while (*s != '\0') {
		b = s;
		while (*s != '\0' && *s != ',')
			s++;
		e = s;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > b) {
			if (o != out)
				*o++ = ',';
			memcpy(o, b, (size_t)(e - b));
			o += e - b;
		}
		if (*s == ',')
			s++;
	}
	*o = '\0';
	return out;
}

/* Sets channels of O from list S (normalised); -1 without memory. */
static int
set_channels(struct cal_occurrence *o, const char *s)
{
	char	*n = NULL;

	if (strspn(s, " \t,") != strlen(s) && (n = norm_list(s)) == NULL)
		return -1;
	free(o->channels);
	o->channels = n;
	return 0;
}

/* Sets variable NAME (lower-cased) of O to VALUE, replacing an earlier one. */
static int
set_var(struct cal_occurrence *o, const char *name, size_t namelen,
    const char *value)
{
	struct cal_var	*nv;
	char		*n, *v;
	size_t		 i;

	if ((n = strndup(name, namelen)) == NULL)
		return -1;
	for (i = 0; n[i] != '\0'; i++)
		if (n[i] >= 'A' && n[i] <= 'Z')
			n[i] = (char)(n[i] - 'A' + 'a');
	if ((v = strdup(value)) == NULL) {
		free(n);
		return -1;
	}
	for (i = 0; i < o->nvars; i++)
		if (strcmp(o->vars[i].name, n) == 0) {
			free(n);
			free(o->vars[i].value);
			o->vars[i].value = v;
			return 0;
		}
	if ((nv = reallocarray(o->vars, o->nvars + 1, sizeof(*nv))) == NULL) {
		free(n);
		free(v);
		return -1;
	}
	o->vars = nv;
	o->vars[o->nvars].name = n;
	o->vars[o->nvars++].value = v;
	return 0;
}

/* Appends an attachment to O; returns it, or NULL without memory. */
static struct cal_attach *
add_attach(struct cal_occurrence *o, const char *uri, const char *fmttype,
    const char *alt)
{
	struct cal_attach	*na, *a;

	if ((na = reallocarray(o->attach, o->nattach + 1, sizeof(*na))) == NULL)
		return NULL;
	o->attach = na;
	a = &na[o->nattach];
	memset(a, 0, sizeof(*a));
	a->line = o->line;
	if ((a->uri = strdup(uri)) == NULL ||
	    (fmttype != NULL && (a->fmttype = strdup(fmttype)) == NULL) ||
	    (alt != NULL && (a->alt = strdup(alt)) == NULL)) {
		free(a->uri);
		free(a->fmttype);
		return NULL;
	}
	o->nattach++;
	return a;
}

/* Adds each item of comma list S to the categories of O. */
static int
add_categories(struct cal_occurrence *o, const char *s)
{
	char		**nc, *item;
	const char	*b, *e;

	while (*s != '\0') {
		b = s;
		while (*s != '\0' && *s != ',')
			s++;
		e = s;
		if (*s == ',')
			s++;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == b)
			continue;
		if ((item = strndup(b, (size_t)(e - b))) == NULL)
			return -1;
		nc = reallocarray(o->categories, o->ncategories + 1, sizeof(*nc));
		if (nc == NULL) {
			free(item);
			return -1;
		}
		o->categories = nc;
		o->categories[o->ncategories++] = item;
	}
	return 0;
}

/* Trims blanks at both ends of [*B, *E). */
static void
trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/*
 * Takes front matter (SPEC §4) off the description of O: "key: value" lines
 * ended by a line "---" (an opening "---" is allowed too).  Anything else on
 * those lines means there is no front matter and the text stays as written.
 * Front matter wins over X-CRIER-* properties: it is what a person last
 * edited in a calendar app.  "alt:" gives alt text to the media before it,
 * or to the next one.
 */
static int
front_matter(struct cal_occurrence *o)
{
	struct {
		const char	*k, *v;
		size_t		 klen, vlen;
	}			 kv[MAX_FRONT];
	const char		*s = o->description, *b, *e, *c, *body = NULL;
	char			*val = NULL, *pending_alt = NULL, *nb;
	struct cal_attach	*last = NULL;
	size_t			 n = 0, i;
	bool			 first = true;

	if (s == NULL)
		return 0;
	while (*s != '\0') {
		b = s;
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		s = *e == '\n' ? e + 1 : e;
		trim(&b, &e);
		if (e - b == 3 && memcmp(b, "---", 3) == 0) {
			if (first && n == 0) {
				first = false;
				continue;
			}
			body = s;
			break;
		}
		first = false;
		c = b;
		if (c < e && ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
			while (c < e && ((*c >= 'A' && *c <= 'Z') ||
			    (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			    *c == '_' || *c == '-'))
				c++;
		if (c == b || c >= e || *c != ':' || n == MAX_FRONT)
			return 0;
		kv[n].k = b;
		kv[n].klen = (size_t)(c - b);
		c++;
		trim(&c, &e);
		kv[n].v = c;
		kv[n].vlen = (size_t)(e - c);
		n++;
	}
	if (body == NULL || n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if ((val = strndup(kv[i].v, kv[i].vlen)) == NULL)
			goto fail;
		if (kv[i].klen == 8 && strncasecmp(kv[i].k, "channels", 8) == 0) {
			if (set_channels(o, val) == -1)
				goto fail;
		} else if (kv[i].klen == 8 && strncasecmp(kv[i].k, "template", 8) == 0) {
			if (set_str(&o->template, *val ? val : NULL) == -1)
				goto fail;
		} else if (kv[i].klen == 5 && strncasecmp(kv[i].k, "media", 5) == 0) {
			if (*val != '\0') {
				if ((last = add_attach(o, val, NULL, pending_alt)) == NULL)
					goto fail;
				free(pending_alt);
				pending_alt = NULL;
			}
		} else if (kv[i].klen == 3 && strncasecmp(kv[i].k, "alt", 3) == 0) {
			if (last != NULL && last->alt == NULL)
				last->alt = val, val = NULL;
			else {
				free(pending_alt);
				pending_alt = val;
				val = NULL;
			}
		} else if (set_var(o, kv[i].k, kv[i].klen, val) == -1)
			goto fail;
		free(val);
		val = NULL;
	}
	/* an alt with no media after it describes the last ATTACH without one */
	if (pending_alt != NULL)
		for (i = o->nattach; i > 0; i--)
			if (o->attach[i - 1].alt == NULL) {
				o->attach[i - 1].alt = pending_alt;
				pending_alt = NULL;
				break;
			}
	free(pending_alt);
	while (*body == '\n' || *body == '\r')
		body++;
	nb = NULL;
	if (*body != '\0' && (nb = strdup(body)) == NULL)
		return -1;
	free(o->description);
	o->description = nb;
	return 0;
fail:
	free(val);
	free(pending_alt);
	return -1;
}

/* Frees what occurrence O owns (not O itself). */
static void
occ_clear(struct cal_occurrence *o)
{
	size_t	 i;

	free(o->uid);
	free(o->summary);
	free(o->description);
	free(o->url);
	free(o->location);
	for (i = 0; i < o->ncategories; i++)
		free(o->categories[i]);
	free(o->categories);
	free(o->channels);
	free(o->template);
	for (i = 0; i < o->nvars; i++) {
		free(o->vars[i].name);
		free(o->vars[i].value);
	}
	free(o->vars);
	for (i = 0; i < o->nattach; i++) {
		free(o->attach[i].uri);
		free(o->attach[i].fmttype);
		free(o->attach[i].alt);
	}
	free(o->attach);
	memset(o, 0, sizeof(*o));
}

/* Deep-copies SRC into DST; on failure DST owns nothing and -1 is returned. */
static int
occ_copy(struct cal_occurrence *dst, const struct cal_occurrence *src)
{
	size_t	 i;

	*dst = *src;
	dst->uid = dst->summary = dst->description = dst->url = NULL;
	dst->location = dst->channels = dst->template = NULL;
	dst->categories = NULL;
	dst->vars = NULL;
	dst->attach = NULL;
	dst->ncategories = dst->nvars = dst->nattach = 0;
	if (set_str(&dst->uid, src->uid) == -1 ||
	    set_str(&dst->summary, src->summary) == -1 ||
	    set_str(&dst->description, src->description) == -1 ||
	    set_str(&dst->url, src->url) == -1 ||
	    set_str(&dst->location, src->location) == -1 ||
	    set_str(&dst->channels, src->channels) == -1 ||
	    set_str(&dst->template, src->template) == -1)
		goto fail;
	if (src->ncategories > 0 && (dst->categories = calloc(src->ncategories,
	    sizeof(*dst->categories))) == NULL)
		goto fail;
	for (i = 0; i < src->ncategories; i++, dst->ncategories++)
		if ((dst->categories[i] = strdup(src->categories[i])) == NULL)
			goto fail;
	if (src->nvars > 0 && (dst->vars = calloc(src->nvars,
	    sizeof(*dst->vars))) == NULL)
		goto fail;
	for (i = 0; i < src->nvars; i++, dst->nvars++)
		if ((dst->vars[i].name = strdup(src->vars[i].name)) == NULL ||
		    (dst->vars[i].value = strdup(src->vars[i].value)) == NULL) {
			dst->nvars++;
			goto fail;
		}
	if (src->nattach > 0 && (dst->attach = calloc(src->nattach,
	    sizeof(*dst->attach))) == NULL)
		goto fail;
	for (i = 0; i < src->nattach; i++, dst->nattach++)
		if (set_str(&dst->attach[i].uri, src->attach[i].uri) == -1 ||
		    set_str(&dst->attach[i].fmttype, src->attach[i].fmttype) == -1 ||
		    set_str(&dst->attach[i].alt, src->attach[i].alt) == -1) {
			dst->nattach++;
			goto fail;
		} else
			dst->attach[i].line = src->attach[i].line;
	return 0;
fail:
	occ_clear(dst);
	return -1;
}

/* Frees what event E owns. */
static void
event_clear(struct event *e)
{
	free(e->rules);
	free(e->rdates);
	free(e->exdates);
	occ_clear(&e->proto);
}

/*
 * Converts libical time T with TZID (may be NULL) into a value of C.
 * Returns 0, 1 when the TZID resolves to nothing (a problem for the
 * caller to report), 2 for a value that is not a date, -1 without memory.
 */
static int
tval_make(struct cal_calendar *c, icalcomponent *root, struct icaltimetype t,
    const char *tzid, struct tval *out)
{
	bool	 oom = false;

	memset(out, 0, sizeof(*out));
	if (icaltime_is_null_time(t)) {
		snprintf(c->why, sizeof(c->why), "no date");
		return 2;
	}
	if (rrule_time_invalid(t, c->why, sizeof(c->why)) != NULL)
		return 2;
	out->is_date = t.is_date != 0;
	out->local = rrule_civil_days(t.year, t.month, t.day) * DAY;
	if (out->is_date) {
		out->zone = c->deflt;
		return 0;
	}
	out->local += t.hour * 3600 + t.minute * 60 + (t.second > 59 ? 59 : t.second);
	if (icaltime_is_utc(t)) {
		out->utc = true;
		out->zone = c->utc;
	} else if (tzid != NULL) {
		out->zone = zone_get(c, root, tzid, &oom);
		if (oom)
			return -1;
		if (out->zone == NULL)
			return 1;
	} else {
		out->floating = true;
		out->zone = c->deflt;
	}
	/* RFC 5545 3.3.12: second 60 only where a leap second was inserted */
	if (t.second == 60 &&
	    !rrule_leap_second(zone_local_to_utc(out->zone, out->local))) {
		snprintf(c->why, sizeof(c->why), "no leap second was inserted "
		    "at that time");
		return 2;
	}
	return 0;
}

/* Instant of value V (an all-day date: its 00:00 in the default zone). */
static int64_t
tval_instant(const struct cal_calendar *c, const struct tval *v)
{
	return zone_local_to_utc(v->is_date ? c->deflt : v->zone, v->local);
}

/* Writes V as README/SPEC show it: a date, or a UTC date-time with Z. */
static void
tval_text(const struct cal_calendar *c, const struct tval *v, char *buf, size_t len)
{
	if (v->is_date)
		fmt_date(v->local, buf, len);
	else
		fmt_instant(tval_instant(c, v), buf, len);
}

/* The TZID parameter of P, or NULL. */
static const char *
prop_tzid(icalproperty *p)
{
	icalparameter	*par;

	par = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	return par == NULL ? NULL : icalparameter_get_tzid(par);
}

/* The value of X parameter NAME of P with quotes removed, or NULL; caller frees. */
static char *
prop_xparam(icalproperty *p, const char *name)
{
	icalparameter	*par;
	const char	*n, *v;
	size_t		 len;

	for (par = icalproperty_get_first_parameter(p, ICAL_X_PARAMETER);
	    par != NULL; par = icalproperty_get_next_parameter(p, ICAL_X_PARAMETER)) {
		n = icalparameter_get_xname(par);
		v = icalparameter_get_xvalue(par);
		if (n == NULL || v == NULL || strcasecmp(n, name) != 0)
			continue;
		len = strlen(v);
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
			return strndup(v + 1, len - 2);
		return strdup(v);
	}
	return NULL;
}

/* Text of P (TEXT escapes undone by libical), or NULL. */
static const char *
prop_text(icalproperty *p)
{
	icalvalue	*v = icalproperty_get_value(p);

	if (v == NULL)
		return NULL;
	switch (icalvalue_isa(v)) {
	case ICAL_TEXT_VALUE:
		return icalvalue_get_text(v);
	case ICAL_URI_VALUE:
		return icalvalue_get_uri(v);
	default:
		return icalproperty_get_value_as_string(p);
	}
}

/*
 * Names the property an X-LIC-ERROR from libical is about when that property
 * decides when the event happens, or NULL.  Empty values ("RRULE:") are
 * common and harmless: they read as absent.
 */
static const char *
licerror_fatal(const char *msg)
{
	static const char *const names[] = { "RRULE", "RDATE", "EXDATE",
	    "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID" };
	char	 pat[64];
	size_t	 i;

	if (msg == NULL || strncmp(msg, "No value for", 12) == 0)
		return NULL;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(pat, sizeof(pat), " value in %s property", names[i]);
		if (strstr(msg, pat) != NULL)
			return names[i];
	}
	return NULL;
}

/*
 * Appends item IT of size SZ to array *V of *N items, made only by push():
 * its room doubles whenever N reaches a power of two.  -1 without memory.
 */
static int
push(void *vp, size_t *n, const void *it, size_t sz)
{
	void	**v = vp;
	char	 *nv;

	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		if ((nv = reallocarray(*v, *n == 0 ? 4 : *n * 2, sz)) == NULL)
			return -1;
		*v = nv;
	}
	memcpy((char *)*v + *n * sz, it, sz);
	(*n)++;
	return 0;
}

/* Takes RAW for *DST when libical only dropped whitespace at its end. */
static int
keep_raw(char **dst, const char *raw)
{
	size_t	 n;

	if (*dst == NULL || raw == NULL)
		return 0;
	n = strlen(*dst);
	if (strncmp(*dst, raw, n) != 0 || raw[n] == '\0' ||
	    strspn(raw + n, " \t") != strlen(raw + n))
		return 0;
	return set_str(dst, raw);
}

/* Wall-clock seconds of libical time T (zone ignored). */
static int64_t
ical_local(struct icaltimetype t)
{
	return rrule_civil_days(t.year, t.month, t.day) * DAY +
	    (t.is_date ? 0 : t.hour * 3600 + t.minute * 60 + t.second);
}

/* Floating libical time for wall clock LOCAL. */
static struct icaltimetype
ical_from_local(int64_t local, bool is_date)
{
	struct icaltimetype	 t = icaltime_null_time();
	int			 y, m, d;
	int64_t			 s = local - fdiv(local, DAY) * DAY;

	rrule_civil_date(fdiv(local, DAY), &y, &m, &d);
	t.year = y;
	t.month = m;
	t.day = d;
	t.is_date = is_date;
	if (!is_date) {
		t.hour = (int)(s / 3600);
		t.minute = (int)(s / 60 % 60);
		t.second = (int)(s % 60);
	}
	return t;
}

/*
 * Writes the value of P as written (for an RRULE, its UNTIL part) to BUF and
 * the line of P, searched from the VEVENT's LINE, to *PLINE.
 */
static void
bad_value(struct cal_calendar *c, icalproperty *p, int line, char *buf,
    size_t len, int *pline)
{
	const char	*v = icalproperty_get_value_as_string(p), *u;

	if (v == NULL)
		v = "";
	if (icalproperty_isa(p) == ICAL_RRULE_PROPERTY &&
	    (u = strstr(v, "UNTIL=")) != NULL)
		snprintf(buf, len, "%.*s", (int)strcspn(u, ";"), u);
	else
		snprintf(buf, len, "%s", v);
	*pline = line > 0 ? rrule_prop_line(c->text, line,
	    icalproperty_get_property_name(p), buf) : 0;
}

/*
 * Reads one VEVENT COMP of C (BEGIN at LINE) into E.  Problems that make the
 * event unusable are recorded and mark it bad.  Returns -1 without memory.
 */
static int
event_read(struct cal_calendar *c, icalcomponent *root, icalcomponent *comp,
    const struct vraw *raw, struct event *e)
{
	int			 line = raw != NULL ? raw->line : 0;
	struct cal_occurrence	*o = &e->proto;
	icalproperty		*p;
	icalattach		*att;
	struct icaldatetimeperiodtype rd;
	struct icaldurationtype	 dur;
	struct rdate		 rdv;
	struct rule		 rule;
	struct tval		 tv, endv;
	struct rrule_iter	*it;
	const char		*s, *xname, *fatal = NULL, *badtz = NULL, *badval = NULL;
	char			*alt = NULL, *tmp = NULL, fatalmsg[256] = "";
	char			 badtext[128] = "", badwhy[128] = "";
	int			 badline = line;
	bool			 has_end = false, has_dur = false;
	int64_t			 dursecs = 0;
	size_t			 nattach = 0;
	int			 r;

	memset(e, 0, sizeof(*e));
	e->line = line;
	o->line = line;
	if (raw != NULL) {
		e->dtstart_line = raw->dtstart_line;
		e->dtend_line = raw->dtend_line;
	}
	for (p = icalcomponent_get_first_property(comp, ICAL_ANY_PROPERTY);
	    p != NULL; p = icalcomponent_get_next_property(comp, ICAL_ANY_PROPERTY)) {
		r = 0;
		switch (icalproperty_isa(p)) {
		case ICAL_UID_PROPERTY:
			r = set_str(&o->uid, prop_text(p));
			break;
		case ICAL_SUMMARY_PROPERTY:
			r = set_str(&o->summary, prop_text(p));
			break;
		case ICAL_DESCRIPTION_PROPERTY:
			r = set_str(&o->description, prop_text(p));
			break;
		case ICAL_LOCATION_PROPERTY:
			r = set_str(&o->location, prop_text(p));
			break;
		case ICAL_URL_PROPERTY:
			r = set_str(&o->url, prop_text(p));
			break;
		case ICAL_CATEGORIES_PROPERTY:
			if ((s = prop_text(p)) != NULL)
				r = add_categories(o, s);
			break;
		case ICAL_STATUS_PROPERTY:
			s = icalproperty_get_value_as_string(p);
			if (s != NULL && strcasecmp(s, "CANCELLED") == 0)
				o->status = CAL_CANCELLED;
			else if (s != NULL && strcasecmp(s, "TENTATIVE") == 0)
				o->status = CAL_HELD;
			else
				o->status = CAL_SCHEDULED;
			break;
		case ICAL_SEQUENCE_PROPERTY:
			e->seq = icalproperty_get_sequence(p);
			o->sequence = e->seq;
			break;
		case ICAL_DTSTART_PROPERTY:
			r = tval_make(c, root, icalproperty_get_dtstart(p),
			    prop_tzid(p), &e->start);
			if (r == 0)
				e->has_start = true;
			break;
		case ICAL_DTEND_PROPERTY:
			r = tval_make(c, root, icalproperty_get_dtend(p),
			    prop_tzid(p), &endv);
			if (r == 0)
				has_end = true;
			break;
		case ICAL_DURATION_PROPERTY:
			dur = icalproperty_get_duration(p);
			dursecs = icaldurationtype_as_int(dur);
			has_dur = true;
			break;
		case ICAL_RECURRENCEID_PROPERTY:
			e->rid_written = true;
			r = tval_make(c, root, icalproperty_get_recurrenceid(p),
			    prop_tzid(p), &e->rid);
			if (r == 0)
				e->has_rid = true;
			break;
		case ICAL_EXDATE_PROPERTY:
			r = tval_make(c, root, icalproperty_get_exdate(p),
			    prop_tzid(p), &tv);
			if (r == 0 && push(&e->exdates, &e->nexdates, &tv,
			    sizeof(tv)) == -1)
				r = -1;
			break;
		case ICAL_RDATE_PROPERTY:
			rd = icalproperty_get_rdate(p);
			memset(&rdv, 0, sizeof(rdv));
			if (!icaltime_is_null_time(rd.time)) {
				r = tval_make(c, root, rd.time, prop_tzid(p), &rdv.v);
			} else {
				r = tval_make(c, root, rd.period.start, prop_tzid(p),
				    &rdv.v);
				if (r == 0 && !icaltime_is_null_time(rd.period.end)) {
					r = tval_make(c, root, rd.period.end,
					    prop_tzid(p), &tv);
					rdv.has_len = r == 0;
					if (r == 0)
						rdv.len = tval_instant(c, &tv) -
						    tval_instant(c, &rdv.v);
				} else if (r == 0) {
					rdv.has_len = true;
					rrule_duration(rd.period.duration,
					    &rdv.len_days, &rdv.len);
				}
			}
			if (r == 0 && push(&e->rdates, &e->nrdates, &rdv,
			    sizeof(rdv)) == -1)
				r = -1;
			break;
		case ICAL_RRULE_PROPERTY:
			memset(&rule, 0, sizeof(rule));
			rule.r = icalproperty_get_rrule(p);
			if (rule.r.freq == ICAL_NO_RECURRENCE)
				break;
			if (!icaltime_is_null_time(rule.r.until) &&
			    rrule_time_invalid(rule.r.until, c->why,
			    sizeof(c->why)) != NULL)
				r = 2;
			if (rule.r.rscale != NULL &&
			    strcasecmp(rule.r.rscale, "GREGORIAN") != 0) {
				fatal = "RRULE";
				snprintf(fatalmsg, sizeof(fatalmsg),
				    "RSCALE=%s is not supported", rule.r.rscale);
			}
			rule.r.rscale = NULL;
			if (fatal == NULL && rrule_check(&rule.r, fatalmsg,
			    sizeof(fatalmsg)) == -1)
				fatal = "RRULE";
			if (!icaltime_is_null_time(rule.r.until)) {
				rule.has_until = true;
				rule.until.is_date = rule.r.until.is_date != 0;
				rule.until.utc = icaltime_is_utc(rule.r.until) != 0;
				rule.until.local = ical_local(rule.r.until);
				rule.r.until = icaltime_null_time();
			}
			if (r == 0)
				r = push(&e->rules, &e->nrules, &rule, sizeof(rule));
			break;
		case ICAL_ATTACH_PROPERTY:
			att = icalproperty_get_attach(p);
			if (att == NULL || !icalattach_get_is_url(att) ||
			    (s = icalattach_get_url(att)) == NULL || *s == '\0')
				break;
			alt = prop_xparam(p, "X-CRIER-ALT");
			tmp = alt != NULL ? param_decode(alt) : NULL;
			if (alt != NULL && tmp == NULL) {
				free(alt);
				alt = NULL;
				r = -1;
				break;
			}
			{
				icalparameter *fp = icalproperty_get_first_parameter(p,
				    ICAL_FMTTYPE_PARAMETER);
				struct cal_attach *na = add_attach(o, s, fp ==
				    NULL ? NULL : icalparameter_get_fmttype(fp), tmp);

				if (na == NULL)
					r = -1;
				else if (raw != NULL && nattach < raw->nattach_lines)
					na->line = raw->attach_lines[nattach];
				nattach++;
			}
			free(alt);
			free(tmp);
			alt = tmp = NULL;
			break;
		case ICAL_XLICERROR_PROPERTY:
			s = icalproperty_get_xlicerror(p);
			if (fatal == NULL && (fatal = licerror_fatal(s)) != NULL) {
				const char *v = strstr(s, "Removing entire property: ");
				snprintf(fatalmsg, sizeof(fatalmsg), "%s",
				    v != NULL ? v + 26 : "");
			}
			break;
		case ICAL_X_PROPERTY:
			xname = icalproperty_get_x_name(p);
			s = icalproperty_get_x(p);
			if (xname == NULL || s == NULL ||
			    strncasecmp(xname, "X-CRIER-", 8) != 0)
				break;
			if ((tmp = unescape(s)) == NULL) {
				r = -1;
				break;
			}
			if (strcasecmp(xname, "X-CRIER-CHANNELS") == 0)
				r = set_channels(o, tmp);
			else if (strcasecmp(xname, "X-CRIER-TEMPLATE") == 0)
				r = set_str(&o->template, *tmp ? tmp : NULL);
			else if (strncasecmp(xname, "X-CRIER-VAR-", 12) == 0 &&
			    xname[12] != '\0')
				r = set_var(o, xname + 12, strlen(xname + 12), tmp);
			free(tmp);
			tmp = NULL;
			break;
		default:
			break;
		}
		if (r == -1)
			return -1;
		if (r == 1 && badtz == NULL)
			badtz = prop_tzid(p);
		if (r == 2 && badval == NULL) {
			badval = icalproperty_get_property_name(p);
			bad_value(c, p, line, badtext, sizeof(badtext), &badline);
			snprintf(badwhy, sizeof(badwhy), "%s", c->why);
		}
	}
	if (raw != NULL && (keep_raw(&o->summary, raw->summary) == -1 ||
	    keep_raw(&o->description, raw->description) == -1 ||
	    keep_raw(&o->location, raw->location) == -1))
		return -1;
	if (front_matter(o) == -1)
		return -1;
	if (strip_event_controls(c, o) == -1)
		return -1;

	/* what makes the event unusable, first cause only */
	if (raw != NULL && raw->toomany_line > 0) {
		e->bad = true;
		return problem(c, raw->toomany_line, o->uid, "event %s%s%s: one %s "
		    "with more than %d dates (split it over several %s lines); "
		    "event left out", o->uid ? "\"" : "", o->uid ? o->uid :
		    "without UID", o->uid ? "\"" : "", raw->toomany_prop,
		    ICAL_MAX_VALUES, raw->toomany_prop);
	}
	if (raw != NULL)
		e->nrdate_values = raw->nrdate_values;
	if (raw != NULL && raw->bad_line > 0) {
		e->bad = true;
		return problem(c, raw->bad_line, o->uid, "event %s%s%s: %s is not "
		    "valid UTF-8 text (save the calendar as UTF-8); event left out",
		    o->uid ? "\"" : "", o->uid ? o->uid : "without UID",
		    o->uid ? "\"" : "", raw->bad_prop);
	}
	if (fatal != NULL) {
		e->bad = true;
		for (char *q = fatalmsg; *q != '\0'; q++)
			if (q[0] == '\\' && (q[1] == ';' || q[1] == ','))
				memmove(q, q + 1, strlen(q));
		return problem(c, line, o->uid, "event %s%s%s: unreadable %s%s%s%s;"
		    " event left out", o->uid ? "\"" : "", o->uid ? o->uid :
		    "without UID", o->uid ? "\"" : "", fatal, *fatalmsg ? " \"" : "",
		    fatalmsg, *fatalmsg ? "\"" : "");
	}
	if (badtz != NULL && zone_why(c, badtz) != NULL) {
		e->bad = true;
		return problem(c, line, o->uid, "event %s%s%s: TZID \"%s\" cannot "
		    "be used: its VTIMEZONE has %s; event left out", o->uid ?
		    "\"" : "", o->uid ? o->uid : "without UID", o->uid ? "\"" : "",
		    badtz, zone_why(c, badtz));
	}
	if (badtz != NULL) {
		e->bad = true;
		return problem(c, line, o->uid, "event %s%s%s: unknown TZID \"%s\" "
		    "(not an IANA or Windows zone, and no VTIMEZONE in the file); "
		    "event left out", o->uid ? "\"" : "", o->uid ? o->uid :
		    "without UID", o->uid ? "\"" : "", badtz);
	}
	if (badval != NULL) {
		e->bad = true;
		return problem(c, badline, o->uid, "event %s%s%s: %s \"%s\" is not "
		    "a real date or time (%s); event left out", o->uid ? "\"" : "",
		    o->uid ? o->uid : "without UID", o->uid ? "\"" : "", badval,
		    badtext, badwhy);
	}
	if (!e->has_start) {
		e->bad = true;
		return problem(c, line, o->uid, "event %s%s%s: no DTSTART; event "
		    "left out", o->uid ? "\"" : "", o->uid ? o->uid : "without UID",
		    o->uid ? "\"" : "");
	}

	/* its length, RFC 5545 3.6.1 */
	if (e->start.is_date) {
		e->days = 1;
		if (has_end && endv.is_date)
			e->days = (endv.local - e->start.local) / DAY;
		else if (has_end)
			e->days = fdiv(tval_instant(c, &endv) -
			    tval_instant(c, &e->start), DAY);
		else if (has_dur)
			e->days = fdiv(dursecs, DAY);
		if (e->days <= 0)
			e->days = 1;
	} else if (has_end)
		e->len = tval_instant(c, &endv) - tval_instant(c, &e->start);
	else if (has_dur)
		rrule_duration(dur, &e->len_days, &e->len);
	if (has_end && tval_instant(c, &endv) < tval_instant(c, &e->start)) {
		char	sv[32], ev[32];

		e->bad = true;
		tval_text(c, &e->start, sv, sizeof(sv));
		tval_text(c, &endv, ev, sizeof(ev));
		return problem(c, e->dtend_line ? e->dtend_line : line, o->uid,
		    "event %s%s%s: DTEND %s (line %d) is before DTSTART %s (line "
		    "%d); event left out", o->uid ? "\"" : "", o->uid ? o->uid :
		    "without UID", o->uid ? "\"" : "", ev, e->dtend_line, sv,
		    e->dtstart_line);
	}

	for (size_t i = 0; i < e->nrules; i++) {
		it = rrule_iter_new(&e->rules[i].r,
		    ical_from_local(e->start.local, e->start.is_date));
		if (it == NULL) {
			e->bad = true;
			return problem(c, line, o->uid, "event %s%s%s: RRULE cannot "
			    "be enumerated; event left out", o->uid ? "\"" : "",
			    o->uid ? o->uid : "without UID", o->uid ? "\"" : "");
		}
		rrule_iter_free(it);
	}
	return 0;
}

/*
 * Removes C0 and C1 control characters but newline and tab from S (a
 * calendar's text goes to networks and terminals as it is); how many.
 */
static size_t
strip_controls(char *s)
{
	unsigned char	*r = (unsigned char *)s, *w = r;
	size_t		 n = 0;

	if (s == NULL)
		return 0;
	while (*r != '\0') {
		if ((*r < 0x20 && *r != '\n' && *r != '\t') || *r == 0x7f) {
			r++;
			n++;
		} else if (r[0] == 0xc2 && r[1] >= 0x80 && r[1] <= 0x9f) {
			r += 2;
			n++;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return n;
}

/* Strips control characters from every text of O, warning where it did. */
static int
strip_event_controls(struct cal_calendar *c, struct cal_occurrence *o)
{
	struct { const char *name; char *s; } f[] = {
		{ "SUMMARY", o->summary }, { "DESCRIPTION", o->description },
		{ "LOCATION", o->location }, { "URL", o->url },
		{ "X-CRIER-CHANNELS", o->channels },
		{ "X-CRIER-TEMPLATE", o->template },
	};
	size_t	 i, n;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if ((n = strip_controls(f[i].s)) > 0 && warning(c, o->line,
		    o->uid, "%zu control character%s removed from %s", n,
		    n == 1 ? "" : "s", f[i].name) == -1)
			return -1;
	for (i = 0, n = 0; i < o->ncategories; i++)
		n += strip_controls(o->categories[i]);
	for (i = 0; i < o->nvars; i++)
		n += strip_controls(o->vars[i].value);
	for (i = 0; i < o->nattach; i++)
		n += strip_controls(o->attach[i].alt);
	if (n > 0 && warning(c, o->line, o->uid, "%zu control character%s "
	    "removed from CATEGORIES, X-CRIER-VAR or alt text", n,
	    n == 1 ? "" : "s") == -1)
		return -1;
	return 0;
}

/* Frees the raw texts of N scanned VEVENTs, and the array. */
static void
vraw_free(struct vraw *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].summary);
		free(v[i].description);
		free(v[i].location);
		free(v[i].attach_lines);
	}
	free(v);
}

/*
 * Looks at logical line L of a VEVENT: libical drops whitespace at the end
 * of a value ("SUMMARY:Germany: Good Friday "), so the raw text of the
 * properties that are shown to people is kept here.
 */
static int
vraw_keep(struct vraw *v, const char *l)
{
	const char	*val;
	char		**dst, *copy;
	size_t		 nlen = strcspn(l, ";:");
	bool		 q = false;

	if (nlen == 7 && strncasecmp(l, "SUMMARY", 7) == 0)
		dst = &v->summary;
	else if (nlen == 11 && strncasecmp(l, "DESCRIPTION", 11) == 0)
		dst = &v->description;
	else if (nlen == 8 && strncasecmp(l, "LOCATION", 8) == 0)
		dst = &v->location;
	else
		return 0;
	for (val = l + nlen; *val != '\0' && (q || *val != ':'); val++)
		if (*val == '"')
			q = !q;
	if (*val != ':')
		return 0;
	if ((copy = unescape(val + 1)) == NULL)
		return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

/* Whether the N bytes at S are well-formed UTF-8 (RFC 3629: no overlongs, no surrogates). */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t	 i = 0, k, need;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			need = 1, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			need = 2, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			need = 3, cp = s[i] & 0x07;
		else
			return false;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += need + 1;
	}
	return true;
}

/* The property name of logical line L, for messages. */
static void
prop_name(const char *l, char *buf, size_t len)
{
	size_t	 n = strcspn(l, ";:");

	if (n >= len)
		n = len - 1;
	memcpy(buf, l, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
			buf[i] = '?';
}

/* Notes where VEVENT V's DTSTART, DTEND and ATTACH properties are (logical line L at LINE). */
static int
vraw_note(struct vraw *v, const char *l, int line)
{
	size_t	 nlen = strcspn(l, ";:");

	if (nlen == 7 && strncasecmp(l, "DTSTART", 7) == 0 && !v->dtstart_line)
		v->dtstart_line = line;
	else if (nlen == 5 && strncasecmp(l, "DTEND", 5) == 0 && !v->dtend_line)
		v->dtend_line = line;
	else if (nlen == 6 && strncasecmp(l, "ATTACH", 6) == 0)
		return push(&v->attach_lines, &v->nattach_lines, &line,
		    sizeof(line));
	else if ((nlen == 5 && strncasecmp(l, "RDATE", 5) == 0) ||
	    (nlen == 6 && strncasecmp(l, "EXDATE", 6) == 0)) {
		const char	*val = strchr(l, ':');
		size_t		 n = 1;

		for (; val != NULL && *val != '\0'; val++)
			n += *val == ',';
		if (nlen == 5)
			v->nrdate_values += n;
		if (n > ICAL_MAX_VALUES && v->toomany_line == 0) {
			v->toomany_line = line;
			snprintf(v->toomany_prop, sizeof(v->toomany_prop), "%.*s",
			    (int)nlen, l);
		}
	}
	return 0;
}

/*
 * Finds the line of each VEVENT's BEGIN directly inside a VCALENDAR (the
 * ones libical hands over, in the same order) and their raw texts,
 * unfolding as RFC 5545 3.1 says.  Returns -1 with ERR set when the text is
 * no calendar at all, is cut short, or memory ran out.
 */
static int
scan_lines(struct cal_calendar *c, const char *buf, struct vraw **raw,
    size_t *nraw, char *err, size_t errlen)
{
	enum { OTHER, VCAL, VEV };
	int		 stack[64], begins[64], depth = 0, lineno = 0, start = 0;
	int		 calline = 0, ev_depth = 0;
	char		 names[64][32], pname[40];
	int		 nx;
	char		*logical = NULL, *nl;
	size_t		 ll = 0, cap = 0, plen, rawlen, skip;
	const char	*p = buf, *e;
	bool		 saw_cal = false, more;
	struct vraw	 v;

	*raw = NULL;
	*nraw = 0;
	do {
		e = strchr(p, '\n');
		rawlen = e != NULL ? (size_t)(e - p) : strlen(p);
		plen = rawlen;
		if (plen > 0 && p[plen - 1] == '\r')
			plen--;
		lineno++;
		more = e != NULL || *p != '\0';
		skip = 0;
		if (!more || (*p != ' ' && *p != '\t')) {
			/* a logical line is complete: look at it */
			if (logical != NULL)
				logical[ll] = '\0';
			if (logical != NULL && ll > 0 &&
			    !utf8_valid((unsigned char *)logical, ll)) {
				prop_name(logical, pname, sizeof(pname));
				if (ev_depth > 0 && *nraw > 0) {
					struct vraw *bv = &(*raw)[*nraw - 1];

					if (bv->bad_line == 0) {
						bv->bad_line = start;
						snprintf(bv->bad_prop,
						    sizeof(bv->bad_prop), "%s", pname);
					}
				} else if (problem(c, start, NULL, "%s is not valid "
				    "UTF-8 text", pname) == -1)
					goto oom;
			}
			if (logical == NULL || ll == 0)
				;
			else if (strncasecmp(logical, "BEGIN:", 6) == 0) {
				nx = strcasecmp(logical + 6, "VCALENDAR") == 0 ? VCAL :
				    strcasecmp(logical + 6, "VEVENT") == 0 ? VEV : OTHER;
				if (nx == VEV && depth > 0 && depth <= 64 &&
				    stack[depth - 1] == VCAL) {
					memset(&v, 0, sizeof(v));
					v.line = start;
					if (push(raw, nraw, &v, sizeof(v)) == -1)
						goto oom;
					ev_depth = depth + 1;
				}
				if (nx == VCAL && depth == 0) {
					saw_cal = true;
					calline = start;
				}
				if (depth < 64) {
					stack[depth] = nx;
					if (strlen(logical + 6) >= sizeof(names[0]))
						names[depth][0] = '\0';	/* not checked */
					else
						strcpy(names[depth], logical + 6);
					begins[depth] = start;
				}
				depth++;
			} else if (strncasecmp(logical, "END:", 4) == 0) {
				/* libical would complain on stderr: say it here */
				if (depth == 0) {
					snprintf(err, errlen, "%s:%d: %s without "
					    "BEGIN", c->name, start, logical);
					goto fail;
				}
				if (depth <= 64 && names[depth - 1][0] != '\0' &&
				    strcasecmp(logical + 4,
				    names[depth - 1]) != 0) {
					snprintf(err, errlen, "%s:%d: %s does not end "
					    "BEGIN:%s of line %d", c->name, start,
					    logical, names[depth - 1], begins[depth - 1]);
					goto fail;
				}
				depth--;
				if (depth < ev_depth)
					ev_depth = 0;
			} else if (depth >= 2 && depth <= 64 &&
			    stack[depth - 1] == VEV && stack[depth - 2] == VCAL &&
			    *nraw > 0 && (vraw_keep(&(*raw)[*nraw - 1], logical) == -1 ||
			    vraw_note(&(*raw)[*nraw - 1], logical, start) == -1))
				goto oom;
			ll = 0;
			start = lineno;
		} else
			skip = 1;
		if (ll + plen + 1 > cap) {
			cap = (ll + plen + 1) * 2;
			if ((nl = realloc(logical, cap)) == NULL)
				goto oom;
			logical = nl;
		}
		memcpy(logical + ll, p + skip, plen - skip);
		ll += plen - skip;
		p = e != NULL ? e + 1 : p + rawlen;
	} while (more);
	free(logical);
	logical = NULL;
	if (!saw_cal) {
		snprintf(err, errlen, "%s: not an iCalendar file (no BEGIN:VCALENDAR)",
		    c->name);
		goto fail;
	}
	if (depth > 0) {
		snprintf(err, errlen, "%s:%d: BEGIN:VCALENDAR is never ended "
		    "(file cut short?)", c->name, calline);
		goto fail;
	}
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", c->name);
fail:
	free(logical);
	vraw_free(*raw, *nraw);
	*raw = NULL;
	*nraw = 0;
	return -1;
}

/* Orders events (pointers) by UID, then by their place in the file. */
static int
ev_uid_cmp(const void *a, const void *b)
{
	const struct event	*x = *(const struct event *const *)a;
	const struct event	*y = *(const struct event *const *)b;
	int			 r = strcmp(x->proto.uid, y->proto.uid);

	if (r != 0)
		return r;
	return x < y ? -1 : x > y;
}

/* Compares a UID (the key) with an event pointer's UID, for bsearch. */
static int
uid_key_cmp(const void *key, const void *elt)
{
	return strcmp(key, (*(const struct event *const *)elt)->proto.uid);
}

/*
 * Two VEVENTs without RECURRENCE-ID that share a UID are one problem
 * naming both lines (which one is meant cannot be known: both are left
 * out); overrides without X-CRIER-CHANNELS/TEMPLATE get their master's.
 * Sorted, so a calendar of many events costs n log n.  -1 without memory.
 */
static int
check_uids(struct cal_calendar *c)
{
	struct event	**m = NULL, **hit, *o;
	size_t		 nm = 0, i;
	int		 rc = -1;

	if (c->nevents > 0 && (m = calloc(c->nevents, sizeof(*m))) == NULL)
		return -1;
	for (i = 0; i < c->nevents; i++)
		if (!c->events[i].rid_written && c->events[i].proto.uid != NULL)
			m[nm++] = &c->events[i];
	if (nm > 1)
		qsort(m, nm, sizeof(*m), ev_uid_cmp);
	for (i = 1; i < nm; i++) {
		if (strcmp(m[i - 1]->proto.uid, m[i]->proto.uid) != 0)
			continue;
		m[i - 1]->bad = m[i]->bad = true;
		if (problem(c, m[i]->line, m[i]->proto.uid, "event \"%s\": the "
		    "VEVENTs at lines %d and %d share this UID and neither has a "
		    "RECURRENCE-ID; both left out (give each its own UID)",
		    m[i]->proto.uid, m[i - 1]->line, m[i]->line) == -1)
			goto out;
	}
	for (i = 0; i < c->nevents; i++) {
		o = &c->events[i];
		if (!o->has_rid || o->proto.uid == NULL || nm == 0 ||
		    (hit = bsearch(o->proto.uid, m, nm, sizeof(*m),
		    uid_key_cmp)) == NULL)
			continue;
		while (hit > m && strcmp(hit[-1]->proto.uid, o->proto.uid) == 0)
			hit--;
		if (o->proto.channels == NULL &&
		    set_str(&o->proto.channels, (*hit)->proto.channels) == -1)
			goto out;
		if (o->proto.template == NULL &&
		    set_str(&o->proto.template, (*hit)->proto.template) == -1)
			goto out;
	}
	rc = 0;
out:
	free(m);
	return rc;
}

/* Number of VEVENTs directly inside the VCALENDARs of ROOT. */
static size_t
count_vevents(icalcomponent *root)
{
	icalcomponent	*cal;
	size_t		 n = 0;

	if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT)
		return (size_t)icalcomponent_count_components(root,
		    ICAL_VEVENT_COMPONENT);
	for (cal = icalcomponent_get_first_component(root,
	    ICAL_VCALENDAR_COMPONENT); cal != NULL;
	    cal = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
		n += (size_t)icalcomponent_count_components(cal,
		    ICAL_VEVENT_COMPONENT);
	return n;
}

/* Reads the VEVENTs of VCALENDAR CAL into C; -1 without memory. */
static int
read_vcalendar(struct cal_calendar *c, icalcomponent *root, icalcomponent *cal,
    const struct vraw *raw, size_t nraw, size_t *idx)
{
	icalcomponent	*ev;
	struct event	*ne;

	for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    ev != NULL; ev = icalcomponent_get_next_component(cal,
	    ICAL_VEVENT_COMPONENT)) {
		/* Geometric growth: a calendar may hold tens of thousands. */
		if (c->nevents == c->events_cap) {
			size_t cap = c->events_cap ? c->events_cap * 2 : 16;

			if ((ne = reallocarray(c->events, cap, sizeof(*ne))) == NULL)
				return -1;
			c->events = ne;
			c->events_cap = cap;
		}
		if (event_read(c, root, ev, *idx < nraw ? &raw[*idx] : NULL,
		    &c->events[c->nevents]) == -1) {
			event_clear(&c->events[c->nevents]);
			return -1;
		}
		c->nevents++;
		(*idx)++;
	}
	return 0;
}

struct cal_calendar *
cal_parse(const char *data, size_t len, const char *name, const char *default_tz,
    char *err, size_t errlen)
{
	struct cal_calendar	*c = NULL;
	icalcomponent		*root = NULL, *cal;
	char			*buf = NULL, *text;
	struct vraw		*raw = NULL;
	size_t			 nraw = 0, nraw_all = 0, idx = 0;

	if (errlen > 0)
		err[0] = '\0';
	if (name == NULL)
		name = "calendar";
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->name = strdup(name)) == NULL)
		goto oom;
	if (len > CAL_MAX_SIZE) {
		snprintf(err, errlen, "%s: calendar is %zu bytes, more than the "
		    "%d accepted", name, len, CAL_MAX_SIZE);
		goto fail;
	}
	if (memchr(data, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: not an iCalendar file (NUL bytes)", name);
		goto fail;
	}
	if ((buf = malloc(len + 1)) == NULL)
		goto oom;
	memcpy(buf, data, len);
	buf[len] = '\0';
	text = buf;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;
	if ((c->utc = calloc(1, sizeof(*c->utc))) == NULL)
		goto oom;
	c->utc->kind = ZONE_FIXED;
	if (zone_keep(c, c->utc) == NULL) {
		c->utc = NULL;
		goto oom;
	}
	c->deflt = c->utc;
	if (default_tz != NULL && *default_tz != '\0' &&
	    strcmp(default_tz, "UTC") != 0) {
		if ((c->deflt = zone_load_iana(default_tz)) == NULL) {
			snprintf(err, errlen, "%s: unknown time zone \"%s\" for "
			    "floating times", name, default_tz);
			goto fail;
		}
		if (zone_keep(c, c->deflt) == NULL)
			goto oom;
	}
	if (scan_lines(c, text, &raw, &nraw, err, errlen) == -1)
		goto fail;
	nraw_all = nraw;
	if ((root = icalparser_parse_string(text)) == NULL) {
		snprintf(err, errlen, "%s: libical cannot read this calendar", name);
		goto fail;
	}
	/* if libical saw other VEVENTs than the scan did, lines would lie */
	if (count_vevents(root) != nraw)
		nraw = 0;
	c->text = text;
	if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
		if (read_vcalendar(c, root, root, raw, nraw, &idx) == -1)
			goto oom;
	} else
		for (cal = icalcomponent_get_first_component(root,
		    ICAL_VCALENDAR_COMPONENT); cal != NULL;
		    cal = icalcomponent_get_next_component(root,
		    ICAL_VCALENDAR_COMPONENT))
			if (read_vcalendar(c, root, cal, raw, nraw, &idx) == -1)
				goto oom;
	c->text = NULL;
	if (check_uids(c) == -1)
		goto oom;
	icalcomponent_free(root);
	vraw_free(raw, nraw_all);
	free(buf);
	return c;
oom:
	snprintf(err, errlen, "%s: out of memory", name);
fail:
	if (root != NULL)
		icalcomponent_free(root);
	vraw_free(raw, nraw_all);
	free(buf);
	cal_free(c);
	return NULL;
}

struct cal_calendar *
cal_load_file(const char *path, const char *default_tz, char *err, size_t errlen)
{
	struct cal_calendar	*c = NULL;
	struct stat		 st;
	char			*buf = NULL;
	size_t			 got = 0;
	ssize_t			 r;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	if (st.st_size > CAL_MAX_SIZE) {
		snprintf(err, errlen, "%s: calendar is %lld bytes, more than the "
		    "%d accepted", path, (long long)st.st_size, CAL_MAX_SIZE);
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto done;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	c = cal_parse(buf, got, path, default_tz, err, errlen);
done:
	free(buf);
	close(fd);
	return c;
}

size_t
cal_nevents(const struct cal_calendar *c)
{
	return c->nevents;
}

const struct cal_problem *
cal_problems(const struct cal_calendar *c, size_t *n)
{
	*n = c->nproblems;
	return c->problems;
}

const struct cal_problem *
cal_warnings(const struct cal_calendar *c, size_t *n)
{
	*n = c->nwarnings;
	return c->warnings;
}

/* Identity of an instance: its date, or its instant. */
static void
tval_key(const struct cal_calendar *c, const struct tval *v, bool *kdate,
    int64_t *key)
{
	*kdate = v->is_date;
	*key = v->is_date ? fdiv(v->local, DAY) : tval_instant(c, v);
}

/* Orders instances by identity, then by the order they were found. */
static int
inst_cmp(const void *a, const void *b)
{
	const struct inst	*x = a, *y = b;

	if (x->kdate != y->kdate)
		return x->kdate ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* Bytes occurrence O holds: itself and its strings. */
static size_t
occ_bytes(const struct cal_occurrence *o)
{
	const char	*f[] = { o->uid, o->summary, o->description, o->url,
			    o->location, o->channels, o->template };
	size_t		 n = sizeof(*o), i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		n += f[i] != NULL ? strlen(f[i]) + 1 : 0;
	for (i = 0; i < o->ncategories; i++)
		n += strlen(o->categories[i]) + 1 + sizeof(char *);
	for (i = 0; i < o->nvars; i++)
		n += strlen(o->vars[i].name) + strlen(o->vars[i].value) + 2 +
		    sizeof(o->vars[i]);
	for (i = 0; i < o->nattach; i++)
		n += strlen(o->attach[i].uri) + (o->attach[i].alt ?
		    strlen(o->attach[i].alt) : 0) + (o->attach[i].fmttype ?
		    strlen(o->attach[i].fmttype) : 0) + 3 + sizeof(o->attach[i]);
	return n;
}

/* Appends an occurrence of event E starting at V to OV; -1 without memory. */
static int
emit(struct cal_calendar *c, struct occvec *ov, const struct event *e,
    const struct tval *v, bool has_len, int64_t len, int64_t len_days,
    const char *rid)
{
	struct cal_occurrence	*o, *nv;
	size_t			 ncap;

	/* Many events with long texts, each repeating: bounded all the same. */
	c->out_bytes += occ_bytes(&e->proto);
	if (c->out_bytes > (c->limits.max_bytes ? c->limits.max_bytes :
	    (size_t)CAL_MAX_OUT)) {
		snprintf(c->error, sizeof(c->error), "%s: its occurrences in the "
		    "window would take more than %zu MiB; this version is not used",
		    c->name, (c->limits.max_bytes ? c->limits.max_bytes :
		    (size_t)CAL_MAX_OUT) >> 20);
		return -2;
	}

	if (ov->n == ov->cap) {
		ncap = ov->cap ? ov->cap * 2 : 64;
		if ((nv = reallocarray(ov->v, ncap, sizeof(*nv))) == NULL)
			return -1;
		ov->v = nv;
		ov->cap = ncap;
	}
	o = &ov->v[ov->n];
	if (occ_copy(o, &e->proto) == -1)
		return -1;
	snprintf(o->recurrence_id, sizeof(o->recurrence_id), "%s", rid ? rid : "");
	tval_text(c, v, o->start_str, sizeof(o->start_str));
	o->start = (time_t)tval_instant(c, v);
	o->all_day = v->is_date;
	if (v->is_date) {
		int64_t el = v->local + e->days * DAY;
		fmt_date(el, o->end_str, sizeof(o->end_str));
		o->end = (time_t)zone_local_to_utc(c->deflt, el);
	} else {
		/* RFC 5545 3.3.6: days and weeks keep the wall clock, the rest is exact */
		if (!has_len)
			len_days = e->len_days;
		o->end = (time_t)(len_days == 0 ? o->start :
		    zone_local_to_utc(v->zone, v->local + len_days * DAY)) +
		    (time_t)(has_len ? len : e->len);
		fmt_instant((int64_t)o->end, o->end_str, sizeof(o->end_str));
	}
	ov->n++;
	return 0;
}

/* Whether the instance at wall clock LOCAL is past the UNTIL of rule R (RFC 5545, leniently). */
static bool
rule_past_until(const struct cal_calendar *c, const struct event *e,
    const struct rule *r, int64_t local)
{
	struct tval	 v = e->start;

	if (!r->has_until)
		return false;
	if (r->until.utc && !e->start.is_date && !e->start.floating) {
		v.local = local;
		return tval_instant(c, &v) > r->until.local;
	}
	/* a DATE on one side: compare dates; else wall clock against wall clock */
	if (r->until.is_date || e->start.is_date)
		return fdiv(local, DAY) > fdiv(r->until.local, DAY);
	return local > r->until.local;
}

/* Whether instance IN of E is removed by an EXDATE. */
static bool
excluded(const struct cal_calendar *c, const struct event *e, const struct inst *in)
{
	bool	 kd;
	int64_t	 k;
	size_t	 i;

	for (i = 0; i < e->nexdates; i++) {
		tval_key(c, &e->exdates[i], &kd, &k);
		if (kd == in->kdate && k == in->key)
			return true;
		/* a DATE against DATE-TIMEs (or the reverse) matches by date */
		if (e->exdates[i].is_date != e->start.is_date &&
		    fdiv(e->exdates[i].local, DAY) == fdiv(in->v.local, DAY))
			return true;
	}
	return false;
}

/* Milliseconds on the monotonic clock. */
static int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Counts one step of expanding C; every TICK_EVERY steps looks at the
 * clock and at cal_interrupt(). -1 with C's error when the calendar's
 * time budget is spent or crierd is stopping.
 */
static int
tick(struct cal_calendar *c)
{
	if (++c->ticks % TICK_EVERY != 0)
		return 0;
	if (atomic_load(&cal_stopping)) {
		snprintf(c->error, sizeof(c->error), "%s: interrupted (crierd is "
		    "stopping)", c->name);
		return -1;
	}
	if (mono_ms() > c->deadline) {
		snprintf(c->error, sizeof(c->error), "%s: expanding the calendar "
		    "took longer than its budget of %lld s; this version is not "
		    "used", c->name, (long long)((c->limits.budget_ms > 0 ?
		    c->limits.budget_ms : CAL_BUDGET_MS) / 1000));
		return -1;
	}
	return 0;
}

/* Writes SECS as a person reads a duration: "1s", "15m", "2h30m", "1d". */
static void
fmt_dur(int64_t secs, char *buf, size_t len)
{
	static const struct { int64_t n; char u; } units[] = {
		{ DAY, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t	 i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < 4 && o < len; i++)
		if (secs >= units[i].n || (o == 0 && i == 3)) {
			o += (size_t)snprintf(buf + o, len - o, "%lld%c",
			    (long long)(secs / units[i].n), units[i].u);
			secs %= units[i].n;
		}
}

/* How expanding one master goes: what it has found and counted so far. */
struct xmaster {
	struct cal_calendar	*c;
	struct event		*e;
	int64_t			 lo, hi;	/* wall clock collected */
	int64_t			 from, to;	/* instants counted */
	struct inst		*in;
	size_t			 n;
	size_t			 inwin;		/* instances in [from, to) */
	size_t			 steps;		/* of the rule being enumerated */
	bool			 have_prev;
	int64_t			 prev;		/* wall clock of the rule's last instance */
};

/* The event's name for messages: "event "UID"" or "event without UID". */
static void
ev_name(const struct event *e, char *buf, size_t len)
{
	if (e->proto.uid != NULL)
		snprintf(buf, len, "event \"%s\"", e->proto.uid);
	else
		snprintf(buf, len, "event without UID");
}

/* Refuses X's master with a problem; 1, or -1 without memory. */
static int
refuse(struct xmaster *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
refuse(struct xmaster *x, const char *fmt, ...)
{
	char	 name[300], msg[600];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev_name(x->e, name, sizeof(name));
	x->e->bad = true;
	if (problem(x->c, x->e->line, x->e->proto.uid, "%s: %s; event left out",
	    name, msg) == -1)
		return -1;
	return 1;
}

/*
 * Takes the instance of rule R at wall clock LOCAL: checks its distance
 * from the rule's previous one against min_interval, keeps it when in
 * [lo, hi] and counts it against max_occurrences when in [from, to).
 * 0, 1 when the event is refused, -1 without memory, -2 out of budget.
 */
static int
take(struct xmaster *x, int64_t local)
{
	struct cal_calendar	*c = x->c;
	struct inst		 in;
	char			 d[40], m[40];

	if (tick(c) == -1)
		return -2;
	if (x->have_prev && c->limits.min_interval > 0 && local != x->prev &&
	    llabs(local - x->prev) < c->limits.min_interval) {
		fmt_dur(llabs(local - x->prev), d, sizeof(d));
		fmt_dur(c->limits.min_interval, m, sizeof(m));
		return refuse(x, "its RRULE puts posts %s apart, closer than "
		    "min_interval (%s)", d, m);
	}
	x->have_prev = true;
	x->prev = local;
	if (local < x->lo || local > x->hi)
		return 0;
	memset(&in, 0, sizeof(in));
	in.v = x->e->start;
	in.v.local = local;
	in.ord = x->n;
	tval_key(c, &in.v, &in.kdate, &in.key);
	if (push(&x->in, &x->n, &in, sizeof(in)) == -1)
		return -1;
	if (c->limits.max_occurrences > 0 && tval_instant(c, &in.v) >= x->from &&
	    tval_instant(c, &in.v) < x->to && !excluded(c, x->e, &in) &&
	    ++x->inwin > c->limits.max_occurrences)
		return refuse(x, "more than max_occurrences (%zu) posts in the "
		    "window", c->limits.max_occurrences);
	if (x->n > MAX_KEEP)
		return refuse(x, "more than %d instances to consider", MAX_KEEP);
	return 0;
}

/* Whether V is in BY-list L (ended by ICAL_RECURRENCE_ARRAY_MAX), or L is empty. */
static bool
by_ok(const short *l, size_t size, int v)
{
	size_t	 i;

	if (l[0] == ICAL_RECURRENCE_ARRAY_MAX)
		return true;
	for (i = 0; i < size && l[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (l[i] == v)
			return true;
	return false;
}

/* Whether day DAY (days since 1970) passes the day-level parts of rule R. */
static bool
day_ok(const struct icalrecurrencetype *r, int64_t day)
{
	int	 y, m, d, mdays, ydays, yday, wd;
	size_t	 i;
	bool	 ok;

	rrule_civil_date(day, &y, &m, &d);
	mdays = (int)(rrule_civil_days(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
	    rrule_civil_days(y, m, 1));
	ydays = (int)(rrule_civil_days(y + 1, 1, 1) - rrule_civil_days(y, 1, 1));
	yday = (int)(day - rrule_civil_days(y, 1, 1)) + 1;
	wd = (int)(((day % 7) + 11) % 7) + 1;	/* 1 = Sunday, as libical */
	if (r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX) {
		for (ok = false, i = 0; i < ICAL_BY_MONTH_SIZE &&
		    r->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			ok |= icalrecurrencetype_month_month(r->by_month[i]) == m;
		if (!ok)
			return false;
	}
	if (r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
		for (ok = false, i = 0; i < ICAL_BY_MONTHDAY_SIZE &&
		    r->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			ok |= r->by_month_day[i] > 0 ? r->by_month_day[i] == d :
			    mdays + r->by_month_day[i] + 1 == d;
		if (!ok)
			return false;
	}
	if (r->by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
		for (ok = false, i = 0; i < ICAL_BY_YEARDAY_SIZE &&
		    r->by_year_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			ok |= r->by_year_day[i] > 0 ? r->by_year_day[i] == yday :
			    ydays + r->by_year_day[i] + 1 == yday;
		if (!ok)
			return false;
	}
	if (r->by_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
		for (ok = false, i = 0; i < ICAL_BY_DAY_SIZE &&
		    r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			ok |= (int)icalrecurrencetype_day_day_of_week(r->by_day[i]) ==
			    wd;
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Enumerates sub-daily rule RU (SECONDLY, MINUTELY, HOURLY) of X's master
 * here rather than with libical, whose iterator tries every second until
 * 2037 when such a rule never matches (minutes of CPU for one call). Days
 * and hours that cannot match are skipped whole, so the work follows the
 * matches, and every match goes through take(). Returns as take().
 */
static int
subdaily(struct xmaster *x, const struct rule *ru)
{
	const struct icalrecurrencetype *r = &ru->r;
	int64_t		 t0 = x->e->start.local, step, t, day, sod, begin;
	int64_t		 h, mi, se, count = 0;
	size_t		 i;
	int		 rc;
	bool		 keep = true;

	step = r->freq == ICAL_SECONDLY_RECURRENCE ? 1 :
	    r->freq == ICAL_MINUTELY_RECURRENCE ? 60 : 3600;
	step *= r->interval > 0 ? r->interval : 1;
	if (r->by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX)
		return refuse(x, "BYWEEKNO goes with FREQ=YEARLY only");
	for (i = 0; i < ICAL_BY_DAY_SIZE &&
	    r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (icalrecurrencetype_day_position(r->by_day[i]) != 0)
			return refuse(x, "a numbered BYDAY goes with FREQ=MONTHLY "
			    "or YEARLY only");
	/* Each interval holds one candidate: BYSETPOS keeps it or not. */
	if (r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX)
		keep = !by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, 2) &&
		    (by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, 1) ||
		    by_ok(r->by_set_pos, ICAL_BY_SETPOS_SIZE, -1));
	if (!keep)
		return 0;
	/* COUNT counts matches from DTSTART on, as libical does */
	x->have_prev = true;
	x->prev = t0;
	begin = t0;
	if (r->count == 0 && x->lo > begin) {
		begin = x->lo;
		x->have_prev = false;
	}
#define ALIGN(v)	((v) <= t0 ? t0 : t0 + ((v) - t0 + step - 1) / step * step)
	for (t = ALIGN(begin); t <= x->hi; ) {
		if (++x->steps > CAL_MAX_STEPS)
			return refuse(x, "its RRULE takes more than %d steps",
			    CAL_MAX_STEPS);
		if (tick(x->c) == -1)
			return -2;
		day = fdiv(t, DAY);
		sod = t - day * DAY;
		h = sod / 3600;
		mi = sod / 60 % 60;
		se = sod % 60;
		if (!day_ok(r, day))
			t = ALIGN((day + 1) * DAY);
		else if (!by_ok(r->by_hour, ICAL_BY_HOUR_SIZE, (int)h))
			t = ALIGN(day * DAY + (h + 1) * 3600);
		else if (!by_ok(r->by_minute, ICAL_BY_MINUTE_SIZE, (int)mi))
			t = ALIGN(day * DAY + h * 3600 + (mi + 1) * 60);
		else if (!by_ok(r->by_second, ICAL_BY_SECOND_SIZE, (int)se))
			t = ALIGN(t + 1);
		else {
			if (rule_past_until(x->c, x->e, ru, t) ||
			    (r->count > 0 && count >= r->count))
				break;
			count++;
			/* DTSTART itself is already taken by collect() */
			if (t > t0 && (rc = take(x, t)) != 0)
				return rc;
			t += step;
		}
	}
#undef ALIGN
	return 0;
}

/* Whether rule R can never match: no month it names has a day BYMONTHDAY names. */
static bool
rule_impossible(const struct icalrecurrencetype *r)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };
	size_t	 i, j;
	int	 m, d;
	bool	 named;

	if (r->by_month_day[0] == ICAL_RECURRENCE_ARRAY_MAX)
		return false;
	for (m = 1; m <= 12; m++) {
		named = r->by_month[0] == ICAL_RECURRENCE_ARRAY_MAX;
		for (j = 0; !named && j < ICAL_BY_MONTH_SIZE &&
		    r->by_month[j] != ICAL_RECURRENCE_ARRAY_MAX; j++)
			named = icalrecurrencetype_month_month(r->by_month[j]) == m;
		if (!named)
			continue;
		for (i = 0; i < ICAL_BY_MONTHDAY_SIZE &&
		    r->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
			d = r->by_month_day[i];
			if ((d > 0 ? d : -d) <= mdays[m - 1])
				return false;
		}
	}
	return true;
}

/*
 * Collects the instances of X's master whose wall clock lies in [lo, hi]
 * into X. Returns 0, 1 when the event is refused (a problem recorded), -1
 * without memory, -2 when the calendar's budget is spent.
 */
static int
collect(struct xmaster *x)
{
	struct cal_calendar	*c = x->c;
	struct event		*e = x->e;
	struct inst		 in;
	struct rrule_iter	*it;
	struct icaltimetype	 t;
	size_t			 i;
	int64_t			 local;
	int			 rc;

	memset(&in, 0, sizeof(in));
	in.v = e->start;
	tval_key(c, &in.v, &in.kdate, &in.key);
	if (push(&x->in, &x->n, &in, sizeof(in)) == -1)
		return -1;
	if (c->limits.max_occurrences > 0 &&
	    (e->nrdates > c->limits.max_occurrences ||
	    e->nrdate_values > c->limits.max_occurrences))
		return refuse(x, "%zu RDATEs, more than max_occurrences (%zu)",
		    e->nrdates > e->nrdate_values ? e->nrdates : e->nrdate_values,
		    c->limits.max_occurrences);
	for (i = 0; i < e->nrules; i++) {
		x->steps = 0;
		x->have_prev = false;
		if (rule_impossible(&e->rules[i].r))
			return refuse(x, "its RRULE can never match (no month it "
			    "names has the days its BYMONTHDAY names)");
		switch (e->rules[i].r.freq) {
		case ICAL_SECONDLY_RECURRENCE:
		case ICAL_MINUTELY_RECURRENCE:
		case ICAL_HOURLY_RECURRENCE:
			if (e->start.is_date)
				return refuse(x, "an all-day event cannot repeat "
				    "more often than daily");
			if ((rc = subdaily(x, &e->rules[i])) != 0)
				return rc;
			continue;
		default:
			break;
		}
		it = rrule_iter_new(&e->rules[i].r,
		    ical_from_local(e->start.local, e->start.is_date));
		if (it == NULL)
			continue;
		/*
		 * Without COUNT nothing before the window matters: start there
		 * (a day early, for the spacing check) rather than walk years.
		 */
		if (e->rules[i].r.count == 0 && x->lo - DAY > e->start.local &&
		    rrule_iter_set_start(it, ical_from_local(x->lo - DAY,
		    e->start.is_date)) == -1) {
			rrule_iter_free(it);
			it = rrule_iter_new(&e->rules[i].r,
			    ical_from_local(e->start.local, e->start.is_date));
			if (it == NULL)
				continue;
		}
		for (rc = 0;;) {
			if (++x->steps > CAL_MAX_STEPS) {
				rc = refuse(x, "its RRULE takes more than %d steps",
				    CAL_MAX_STEPS);
				break;
			}
			t = rrule_iter_next(it);
			if (icaltime_is_null_time(t))
				break;
			local = ical_local(t);
			if (local > x->hi || rule_past_until(c, e, &e->rules[i], local))
				break;
			if ((rc = take(x, local)) != 0)
				break;
		}
		rrule_iter_free(it);
		if (rc != 0)
			return rc;
	}
	for (i = 0; i < e->nrdates; i++) {
		memset(&in, 0, sizeof(in));
		in.v = e->rdates[i].v;
		if (e->start.is_date && !in.v.is_date) {
			/* a date-time RDATE in an all-day series: its date */
			in.v.local = fdiv(in.v.local, DAY) * DAY;
			in.v.is_date = true;
			in.v.zone = c->deflt;
		} else if (!e->start.is_date && in.v.is_date) {
			/* an all-day RDATE in a timed series: the series' time that day */
			local = in.v.local;
			in.v = e->start;
			in.v.local = local + (e->start.local - fdiv(e->start.local,
			    DAY) * DAY);
		} else if (!e->start.is_date) {
			in.has_len = e->rdates[i].has_len;
			in.len = e->rdates[i].len;
			in.len_days = e->rdates[i].len_days;
		}
		in.ord = x->n;
		tval_key(c, &in.v, &in.kdate, &in.key);
		if (push(&x->in, &x->n, &in, sizeof(in)) == -1)
			return -1;
	}
	return 0;
}

/* Orders overrides by UID, identity, then SEQUENCE and place in the file. */
static int
ovr_cmp(const void *a, const void *b)
{
	const struct ovr	*x = a, *y = b;
	int			 r;

	if ((r = strcmp(x->ev->proto.uid ? x->ev->proto.uid : "",
	    y->ev->proto.uid ? y->ev->proto.uid : "")) != 0)
		return r;
	if (x->kdate != y->kdate)
		return x->kdate ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->ev->seq != y->ev->seq)
		return x->ev->seq < y->ev->seq ? -1 : 1;
	return x->ev < y->ev ? -1 : x->ev > y->ev;
}

/* Orders overrides by UID, value type and date, for matching across types. */
static int
ovr_day_cmp(const void *a, const void *b)
{
	const struct ovr	*x = a, *y = b;
	int64_t			 dx = fdiv(x->ev->rid.local, DAY);
	int64_t			 dy = fdiv(y->ev->rid.local, DAY);
	int			 r;

	if ((r = strcmp(x->ev->proto.uid ? x->ev->proto.uid : "",
	    y->ev->proto.uid ? y->ev->proto.uid : "")) != 0)
		return r;
	if (x->ev->rid.is_date != y->ev->rid.is_date)
		return x->ev->rid.is_date ? -1 : 1;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return 0;
}

/* Whether an override replaces instance IN of master E (binary searches). */
static bool
overridden(const struct event *e, const struct inst *in, const struct ovr *ov,
    size_t nov, const struct ovr *byday, size_t nbyday)
{
	struct event	 kev;
	struct ovr	 k;

	memset(&kev, 0, sizeof(kev));
	kev.proto.uid = e->proto.uid;
	kev.seq = INT_MIN;
	k.ev = &kev;
	k.kdate = in->kdate;
	k.key = in->key;
	/* ov holds one entry per identity: compare without SEQUENCE */
	{
		size_t lo = 0, hi = nov;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int r = strcmp(ov[mid].ev->proto.uid ? ov[mid].ev->proto.uid :
			    "", e->proto.uid ? e->proto.uid : "");

			if (r == 0 && ov[mid].kdate != k.kdate)
				r = ov[mid].kdate ? -1 : 1;
			if (r == 0 && ov[mid].key != k.key)
				r = ov[mid].key < k.key ? -1 : 1;
			if (r == 0)
				return true;
			if (r < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	/* a RECURRENCE-ID of the other value type (Outlook, Google): by date */
	kev.rid.is_date = !e->start.is_date;
	kev.rid.local = fdiv(in->v.local, DAY) * DAY;
	return nbyday > 0 && bsearch(&k, byday, nbyday, sizeof(*byday),
	    ovr_day_cmp) != NULL;
}

/* Expands master E into OV, leaving out what overrides replace; as collect(). */
static int
expand_master(struct cal_calendar *c, struct event *e, int64_t from,
    int64_t to, const struct ovr *ovr, size_t novr, const struct ovr *byday,
    size_t nbyday, struct occvec *ov)
{
	struct xmaster	 x;
	size_t		 i;
	bool		 recurring;
	int64_t		 t;
	char		 rid[32];
	int		 rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.e = e;
	x.lo = from - 2 * DAY;
	x.hi = to + 2 * DAY;
	x.from = from;
	x.to = to;
	recurring = e->nrules > 0 || e->nrdates > 0;
	if ((rc = collect(&x)) != 0)
		goto out;
	qsort(x.in, x.n, sizeof(*x.in), inst_cmp);
	for (i = 0; i < x.n; i++) {
		if (i > 0 && x.in[i].kdate == x.in[i - 1].kdate &&
		    x.in[i].key == x.in[i - 1].key)
			continue;
		if (excluded(c, e, &x.in[i]))
			continue;
		t = tval_instant(c, &x.in[i].v);
		if (t < from || t >= to)
			continue;
		if (recurring && overridden(e, &x.in[i], ovr, novr, byday, nbyday))
			continue;
		tval_text(c, &x.in[i].v, rid, sizeof(rid));
		if ((rc = emit(c, ov, e, &x.in[i].v, x.in[i].has_len,
		    x.in[i].len, x.in[i].len_days, recurring ? rid : NULL)) != 0)
			goto out;
	}
out:
	free(x.in);
	return rc == 1 ? 0 : rc;
}

/* Orders occurrences by start, uid, recurrence-id, end, summary. */
static int
occ_cmp(const void *a, const void *b)
{
	const struct cal_occurrence	*x = a, *y = b;
	int				 r;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if ((r = strcmp(x->uid ? x->uid : "", y->uid ? y->uid : "")) != 0)
		return r;
	if ((r = strcmp(x->recurrence_id, y->recurrence_id)) != 0)
		return r;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->summary ? x->summary : "", y->summary ? y->summary : "");
}

/* Whether UID is among the sorted UIDs of masters left out (BAD, N). */
static bool
master_bad(const char *const *bad, size_t n, const char *uid)
{
	size_t	 lo = 0, hi = n, mid;
	int	 r;

	while (uid != NULL && lo < hi) {
		mid = (lo + hi) / 2;
		if ((r = strcmp(bad[mid], uid)) == 0)
			return true;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Orders strings, for qsort. */
static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
cal_set_limits(struct cal_calendar *c, const struct cal_limits *l)
{
	c->limits = *l;
}

const char *
cal_error(const struct cal_calendar *c)
{
	return c->error[0] != '\0' ? c->error : NULL;
}

void
cal_interrupt(void)
{
	atomic_store(&cal_stopping, 1);
}

/*
 * Not safe to call on one calendar from two threads at once: zones read
 * from a VTIMEZONE fill libical's cache of changes lazily. Events refused
 * while expanding (too dense, too many) become problems of C and are left
 * out; a spent time budget fails the whole expansion (cal_error says so).
 */
ssize_t
cal_expand(struct cal_calendar *c, time_t from, time_t to,
    struct cal_occurrence **out)
{
	struct occvec		 ov = { NULL, 0, 0 };
	struct ovr		*ovr = NULL, *byday = NULL, o;
	struct event		*e;
	const char		**bad = NULL;
	size_t			 novr = 0, nbyday = 0, nbad = 0, i, k;
	char			 rid[32];
	int64_t			 t;
	int			 rc;

	*out = NULL;
	c->error[0] = '\0';
	c->ticks = 0;
	c->out_bytes = 0;
	c->deadline = mono_ms() + (c->limits.budget_ms > 0 ?
	    c->limits.budget_ms : CAL_BUDGET_MS);
	if (atomic_load(&cal_stopping)) {
		snprintf(c->error, sizeof(c->error), "%s: interrupted (crierd is "
		    "stopping)", c->name);
		return -1;
	}
	/* one override per (uid, instance): the highest SEQUENCE, then the last */
	for (i = 0; i < c->nevents; i++) {
		e = &c->events[i];
		if (!e->has_rid || e->bad)
			continue;
		o.ev = e;
		tval_key(c, &e->rid, &o.kdate, &o.key);
		if (push(&ovr, &novr, &o, sizeof(o)) == -1)
			goto fail;
	}
	if (novr > 1)
		qsort(ovr, novr, sizeof(*ovr), ovr_cmp);
	for (i = k = 0; i < novr; i++) {
		if (i + 1 < novr && ovr_cmp(&ovr[i], &ovr[i + 1]) != 0 &&
		    strcmp(ovr[i].ev->proto.uid ? ovr[i].ev->proto.uid : "",
		    ovr[i + 1].ev->proto.uid ? ovr[i + 1].ev->proto.uid : "") == 0 &&
		    ovr[i].kdate == ovr[i + 1].kdate && ovr[i].key == ovr[i + 1].key)
			continue;	/* a later one of the same identity wins */
		ovr[k++] = ovr[i];
	}
	novr = k;
	if (novr > 0) {
		if ((byday = calloc(novr, sizeof(*byday))) == NULL)
			goto fail;
		memcpy(byday, ovr, novr * sizeof(*byday));
		nbyday = novr;
		qsort(byday, nbyday, sizeof(*byday), ovr_day_cmp);
	}
	for (i = 0; i < c->nevents; i++) {
		e = &c->events[i];
		if (e->has_rid || e->bad)
			continue;
		rc = expand_master(c, e, from, to, ovr, novr, byday, nbyday, &ov);
		if (rc == -2)
			goto failed;
		if (rc == -1)
			goto fail;
	}
	for (i = 0; i < c->nevents; i++)
		if (c->events[i].bad && !c->events[i].has_rid &&
		    c->events[i].proto.uid != NULL &&
		    push(&bad, &nbad, &c->events[i].proto.uid, sizeof(*bad)) == -1)
			goto fail;
	if (nbad > 1)
		qsort(bad, nbad, sizeof(*bad), str_cmp);
	for (i = 0; i < novr; i++) {
		e = (struct event *)(uintptr_t)ovr[i].ev;
		if (master_bad(bad, nbad, e->proto.uid))
			continue;
		t = tval_instant(c, &e->start);
		if (t < from || t >= to)
			continue;
		tval_text(c, &e->rid, rid, sizeof(rid));
		if ((rc = emit(c, &ov, e, &e->start, false, 0, 0, rid)) == -2)
			goto failed;
		if (rc == -1)
			goto fail;
	}
	free(ovr);
	free(byday);
	free(bad);
	if (ov.n > 0)
		qsort(ov.v, ov.n, sizeof(*ov.v), occ_cmp);
	*out = ov.v;
	return (ssize_t)ov.n;
fail:
	snprintf(c->error, sizeof(c->error), "%s: out of memory", c->name);
failed:
	free(ovr);
	free(byday);
	free(bad);
	cal_occurrences_free(ov.v, ov.n);
	return -1;
}

void
cal_occurrences_free(struct cal_occurrence *occ, size_t n)
{
	size_t	 i;

	for (i = 0; occ != NULL && i < n; i++)
		occ_clear(&occ[i]);
	free(occ);
}

void
cal_free(struct cal_calendar *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nevents; i++)
		event_clear(&c->events[i]);
	free(c->events);
	for (i = 0; i < c->nproblems; i++) {
		free(c->problems[i].uid);
		free(c->problems[i].msg);
	}
	free(c->problems);
	for (i = 0; i < c->nwarnings; i++) {
		free(c->warnings[i].uid);
		free(c->warnings[i].msg);
	}
	free(c->warnings);
	for (i = 0; i < c->nzones; i++)
		zone_free(c->zones[i]);
	free(c->zones);
	free(c->name);
	free(c);
}
