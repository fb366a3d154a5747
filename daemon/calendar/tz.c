/* Time zones (TZif, Windows names, VTIMEZONEs): one engine for expansion and display. */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libical/ical.h>

#include "rrule.h"
#include "tz.h"

/*
 * Why crier reads the tz database itself: libical's built-in zones rebuild
 * each zone from its latest rules (Israel's 2013 summer time reads wrong)
 * and their tables stop in 2037, so an instant would read differently in a
 * message than in the schedule (tests/unit/check_tz.c shows both).
 * Every conversion between an instant and a wall clock, for expanding a
 * calendar and for showing a time to a person, goes through this file.
 */

#define TZDIR_DEFAULT	"/usr/share/zoneinfo"
#define TZIF_MAX	(512 * 1024)	/* larger files are not tz data */
#define TZ_CACHE_MAX	64		/* display zones kept at most */

enum zone_kind { ZONE_FIXED, ZONE_TZIF, ZONE_VTZ };

struct prule {			/* one POSIX TZ transition rule: Mm.w.d, Jn or n */
	char		 kind;
	int		 m, w, d;
	int32_t		 secs;	/* local time of day of the change */
};

struct tz_zone {
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
	icaltimezone	*vtz;		/* ZONE_VTZ: built from a VTIMEZONE */
	uint64_t	 id;		/* unique for the life of the process */
};

#define SPAN_CACHE	4		/* zones whose current span is remembered */

/*
 * The span between two transitions each thread read last, per zone: an
 * expansion converts times that are close together, in few zones, so most
 * conversions need no search. Keyed by the zone's id, never reused, so a
 * freed zone's entry cannot be taken for another's.
 */
static _Thread_local struct span {
	uint64_t	 id;
	int64_t		 lo, hi;	/* [lo, hi) */
	int32_t		 off;
} spans[SPAN_CACHE];
static _Thread_local unsigned	 span_next;
static _Atomic uint64_t		 zone_ids;

static struct {			/* display zones by name, never freed */
	pthread_mutex_t	 lock;
	char		*name[TZ_CACHE_MAX];
	struct tz_zone	*zone[TZ_CACHE_MAX];
	size_t		 n;
	struct tz_zone	*utc;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Days since 1970-01-01 of T, rounding towards minus infinity. */
int64_t
tz_day(int64_t t)
{
	return t / TZ_DAY - (t % TZ_DAY < 0);
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
posix_parse(struct tz_zone *z, const char *s)
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
posix_offset(const struct tz_zone *z, int64_t t)
{
	int	 y, m, d;
	int64_t	 s, e;

	if (!z->has_dst)
		return z->std_off;
	rrule_civil_date(tz_day(t + z->std_off), &y, &m, &d);
	s = prule_day(&z->rstart, y) * TZ_DAY + z->rstart.secs - z->std_off;
	e = prule_day(&z->rend, y) * TZ_DAY + z->rend.secs - z->dst_off;
	if (s < e)
		return t >= s && t < e ? z->dst_off : z->std_off;
	return t >= e && t < s ? z->std_off : z->dst_off;
}

/* Parses TZif data (RFC 8536) into Z; returns -1 if it is not valid. */
static int
tzif_parse(struct tz_zone *z, const unsigned char *b, size_t n)
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
int32_t
tz_offset(const struct tz_zone *z, int64_t t)
{
	struct span		*span;
	size_t			 lo, hi, mid;
	struct icaltimetype	 tt = icaltime_null_time();
	int			 y, m, d;
	int64_t			 s;

	switch (z->kind) {
	case ZONE_TZIF:
		for (lo = 0; lo < SPAN_CACHE; lo++)
			if (spans[lo].id == z->id && t >= spans[lo].lo &&
			    t < spans[lo].hi)
				return spans[lo].off;
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
		if (lo + 1 < z->ntrans) {
			span = &spans[span_next++ % SPAN_CACHE];
			span->id = z->id;
			span->lo = z->trans[lo];
			span->hi = z->trans[lo + 1];
			span->off = z->utoff[z->tidx[lo]];
		}
		return z->utoff[z->tidx[lo]];
	case ZONE_VTZ:
		rrule_civil_date(tz_day(t), &y, &m, &d);
		s = t - tz_day(t) * TZ_DAY;
		tt.year = y;
		tt.month = m;
		tt.day = d;
		tt.hour = (int)(s / 3600);
		tt.minute = (int)(s / 60 % 60);
		tt.second = (int)(s % 60);
		return icaltimezone_get_utc_offset_of_utc_time(z->vtz, &tt, NULL);
	case ZONE_FIXED:
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
int64_t
tz_local_to_utc(const struct tz_zone *z, int64_t local)
{
	int32_t	 before, after;
	int64_t	 t1, t2;
	bool	 ok1, ok2;

	if (z->kind == ZONE_FIXED)
		return local - z->fixed;
	before = tz_offset(z, local - TZ_DAY);
	after = tz_offset(z, local + TZ_DAY);
	t1 = local - before;
	t2 = local - after;
	ok1 = tz_offset(z, t1) == before;
	ok2 = tz_offset(z, t2) == after;
	if (ok1 && ok2)
		return t1 < t2 ? t1 : t2;
	if (ok2)
		return t2;
	return t1;
}

/* Frees zone Z. */
void
tz_free(struct tz_zone *z)
{
	if (z == NULL)
		return;
	if (z->vtz != NULL)
		icaltimezone_free(z->vtz, 1);
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
struct tz_zone *
tz_load(const char *name)
{
	const char	*dir = getenv("TZDIR");
	char		 path[PATH_MAX];
	unsigned char	*buf = NULL;
	struct tz_zone	*z = NULL;
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
	z->id = ++zone_ids;
	if (tzif_parse(z, buf, got) == -1)
		goto fail;
	close(fd);
	free(buf);
	return z;
fail:
	tz_free(z);
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
struct tz_zone *
tz_load_tzid(const char *tzid)
{
	struct tz_zone	*z;
	const char	*p;

	if ((z = tz_load(tzid)) != NULL)
		return z;
	for (p = strchr(tzid, '/'); p != NULL; p = strchr(p + 1, '/')) {
		if (strchr(p + 1, '/') == NULL && tzid[0] != '/')
			break;
		if ((z = tz_load(p + 1)) != NULL)
			return z;
	}
	if ((p = tz_windows_to_iana(tzid)) != NULL)
		return tz_load(p);
	return NULL;
}

/* A new zone at fixed offset OFF. */
struct tz_zone *
tz_new_fixed(int32_t off)
{
	struct tz_zone	*z;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	z->kind = ZONE_FIXED;
	z->fixed = off;
	return z;
}

/* A new zone from a copy of VTIMEZONE VTZ, through libical. */
int
tz_new_vtimezone(icalcomponent *vtz, struct tz_zone **out)
{
	struct tz_zone	*z = NULL;
	icalcomponent	*clone = NULL;

	*out = NULL;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		goto oom;
	z->kind = ZONE_VTZ;
	if ((clone = icalcomponent_new_clone(vtz)) == NULL ||
	    (z->vtz = icaltimezone_new()) == NULL)
		goto oom;
	if (icaltimezone_set_component(z->vtz, clone) == 0) {
		/* not a usable VTIMEZONE: as if there were none */
		icalcomponent_free(clone);
		tz_free(z);
		return 1;
	}
	*out = z;
	return 0;
oom:
	if (clone != NULL)
		icalcomponent_free(clone);
	tz_free(z);
	return -1;
}

/* The display zone NAME, loaded on first use and kept. */
const struct tz_zone *
tz_find(const char *name)
{
	struct tz_zone	*z = NULL;
	char		*copy;
	size_t		 i;

	pthread_mutex_lock(&cache.lock);
	if (name == NULL || *name == '\0' || strcmp(name, "UTC") == 0 ||
	    strcmp(name, "Etc/UTC") == 0) {
		if (cache.utc == NULL)
			cache.utc = tz_new_fixed(0);
		z = cache.utc;
		goto done;
	}
	for (i = 0; i < cache.n; i++)
		if (strcmp(cache.name[i], name) == 0) {
			z = cache.zone[i];
			goto done;
		}
	/* a zone is shared once loaded, so a full table refuses new names */
	if (cache.n == TZ_CACHE_MAX || (z = tz_load(name)) == NULL)
		goto done;
	if ((copy = strdup(name)) == NULL) {
		tz_free(z);
		z = NULL;
		goto done;
	}
	cache.name[cache.n] = copy;
	cache.zone[cache.n++] = z;
done:
	pthread_mutex_unlock(&cache.lock);
	return z;
}

/* Civil time of instant T in zone Z. */
void
tz_civil_in(const struct tz_zone *z, int64_t t, struct tz_civil *out)
{
	int64_t	 local, day, s;

	out->offset = tz_offset(z, t);
	local = t + out->offset;
	day = tz_day(local);
	s = local - day * TZ_DAY;
	rrule_civil_date(day, &out->year, &out->month, &out->day);
	out->hour = (int)(s / 3600);
	out->minute = (int)(s / 60 % 60);
	out->second = (int)(s % 60);
	out->wday = (int)((day % 7 + 11) % 7);	/* 1970-01-01 was a Thursday */
}

/* Civil time of instant T in the display zone NAME. */
int
tz_civil(const char *name, int64_t t, struct tz_civil *out)
{
	const struct tz_zone	*z;

	if ((z = tz_find(name)) == NULL)
		return -1;
	tz_civil_in(z, t, out);
	return 0;
}


/*
 * CLDR windowsZones.xml, territory "001" (the zone Windows means when no
 * country is known), with IANA names written in their current canonical form
 * (Asia/Kolkata, not Asia/Calcutta) so that a tz database without the
 * "backward" links still resolves every entry.  A few names Windows used to
 * ship (Mid-Atlantic, Kamchatka, Mexico 2) are kept for old exports.
 */
static const struct {
	const char	*windows;
	const char	*iana;
} zones[] = {
	{ "Dateline Standard Time",		"Etc/GMT+12" },
	{ "UTC-11",				"Etc/GMT+11" },
	{ "Aleutian Standard Time",		"America/Adak" },
	{ "Hawaiian Standard Time",		"Pacific/Honolulu" },
	{ "Marquesas Standard Time",		"Pacific/Marquesas" },
	{ "Alaskan Standard Time",		"America/Anchorage" },
	{ "UTC-09",				"Etc/GMT+9" },
	{ "Pacific Standard Time (Mexico)",	"America/Tijuana" },
	{ "UTC-08",				"Etc/GMT+8" },
	{ "Pacific Standard Time",		"America/Los_Angeles" },
	{ "US Mountain Standard Time",		"America/Phoenix" },
	{ "Mountain Standard Time (Mexico)",	"America/Mazatlan" },
	{ "Mountain Standard Time",		"America/Denver" },
	{ "Yukon Standard Time",		"America/Whitehorse" },
	{ "Central America Standard Time",	"America/Guatemala" },
	{ "Central Standard Time",		"America/Chicago" },
	{ "Easter Island Standard Time",	"Pacific/Easter" },
	{ "Central Standard Time (Mexico)",	"America/Mexico_City" },
	{ "Mexico Standard Time",		"America/Mexico_City" },
	{ "Mexico Standard Time 2",		"America/Chihuahua" },
	{ "Canada Central Standard Time",	"America/Regina" },
	{ "SA Pacific Standard Time",		"America/Bogota" },
	{ "Eastern Standard Time (Mexico)",	"America/Cancun" },
	{ "Eastern Standard Time",		"America/New_York" },
	{ "Haiti Standard Time",		"America/Port-au-Prince" },
	{ "Cuba Standard Time",			"America/Havana" },
	{ "US Eastern Standard Time",		"America/Indiana/Indianapolis" },
	{ "Turks And Caicos Standard Time",	"America/Grand_Turk" },
	{ "Paraguay Standard Time",		"America/Asuncion" },
	{ "Atlantic Standard Time",		"America/Halifax" },
	{ "Venezuela Standard Time",		"America/Caracas" },
	{ "Central Brazilian Standard Time",	"America/Cuiaba" },
	{ "SA Western Standard Time",		"America/La_Paz" },
	{ "Pacific SA Standard Time",		"America/Santiago" },
	{ "Newfoundland Standard Time",		"America/St_Johns" },
	{ "Tocantins Standard Time",		"America/Araguaina" },
	{ "E. South America Standard Time",	"America/Sao_Paulo" },
	{ "SA Eastern Standard Time",		"America/Cayenne" },
	{ "Argentina Standard Time",		"America/Argentina/Buenos_Aires" },
	{ "Greenland Standard Time",		"America/Nuuk" },
	{ "Montevideo Standard Time",		"America/Montevideo" },
	{ "Magallanes Standard Time",		"America/Punta_Arenas" },
	{ "Saint Pierre Standard Time",		"America/Miquelon" },
	{ "Bahia Standard Time",		"America/Bahia" },
	{ "UTC-02",				"Etc/GMT+2" },
	{ "Mid-Atlantic Standard Time",		"Etc/GMT+2" },
	{ "Azores Standard Time",		"Atlantic/Azores" },
	{ "Cape Verde Standard Time",		"Atlantic/Cape_Verde" },
	{ "UTC",				"Etc/UTC" },
	{ "GMT Standard Time",			"Europe/London" },
	{ "Greenwich Standard Time",		"Atlantic/Reykjavik" },
	{ "Sao Tome Standard Time",		"Africa/Sao_Tome" },
	{ "Morocco Standard Time",		"Africa/Casablanca" },
	{ "W. Europe Standard Time",		"Europe/Berlin" },
	{ "Central Europe Standard Time",	"Europe/Budapest" },
	{ "Romance Standard Time",		"Europe/Paris" },
	{ "Central European Standard Time",	"Europe/Warsaw" },
	{ "W. Central Africa Standard Time",	"Africa/Lagos" },
	{ "Jordan Standard Time",		"Asia/Amman" },
	{ "GTB Standard Time",			"Europe/Bucharest" },
	{ "Middle East Standard Time",		"Asia/Beirut" },
	{ "Egypt Standard Time",		"Africa/Cairo" },
	{ "E. Europe Standard Time",		"Europe/Chisinau" },
	{ "Syria Standard Time",		"Asia/Damascus" },
	{ "West Bank Standard Time",		"Asia/Hebron" },
	{ "South Africa Standard Time",		"Africa/Johannesburg" },
	{ "FLE Standard Time",			"Europe/Kyiv" },
	{ "Israel Standard Time",		"Asia/Jerusalem" },
	{ "South Sudan Standard Time",		"Africa/Juba" },
	{ "Kaliningrad Standard Time",		"Europe/Kaliningrad" },
	{ "Sudan Standard Time",		"Africa/Khartoum" },
	{ "Libya Standard Time",		"Africa/Tripoli" },
	{ "Namibia Standard Time",		"Africa/Windhoek" },
	{ "Arabic Standard Time",		"Asia/Baghdad" },
	{ "Turkey Standard Time",		"Europe/Istanbul" },
	{ "Arab Standard Time",			"Asia/Riyadh" },
	{ "Belarus Standard Time",		"Europe/Minsk" },
	{ "Russian Standard Time",		"Europe/Moscow" },
	{ "E. Africa Standard Time",		"Africa/Nairobi" },
	{ "Volgograd Standard Time",		"Europe/Volgograd" },
	{ "Iran Standard Time",			"Asia/Tehran" },
	{ "Arabian Standard Time",		"Asia/Dubai" },
	{ "Astrakhan Standard Time",		"Europe/Astrakhan" },
	{ "Azerbaijan Standard Time",		"Asia/Baku" },
	{ "Russia Time Zone 3",			"Europe/Samara" },
	{ "Mauritius Standard Time",		"Indian/Mauritius" },
	{ "Saratov Standard Time",		"Europe/Saratov" },
	{ "Georgian Standard Time",		"Asia/Tbilisi" },
	{ "Caucasus Standard Time",		"Asia/Yerevan" },
	{ "Armenian Standard Time",		"Asia/Yerevan" },
	{ "Afghanistan Standard Time",		"Asia/Kabul" },
	{ "West Asia Standard Time",		"Asia/Tashkent" },
	{ "Qyzylorda Standard Time",		"Asia/Qyzylorda" },
	{ "Ekaterinburg Standard Time",		"Asia/Yekaterinburg" },
	{ "Pakistan Standard Time",		"Asia/Karachi" },
	{ "India Standard Time",		"Asia/Kolkata" },
	{ "Sri Lanka Standard Time",		"Asia/Colombo" },
	{ "Nepal Standard Time",		"Asia/Kathmandu" },
	{ "Central Asia Standard Time",		"Asia/Bishkek" },
	{ "Bangladesh Standard Time",		"Asia/Dhaka" },
	{ "Omsk Standard Time",			"Asia/Omsk" },
	{ "Myanmar Standard Time",		"Asia/Yangon" },
	{ "SE Asia Standard Time",		"Asia/Bangkok" },
	{ "Altai Standard Time",		"Asia/Barnaul" },
	{ "W. Mongolia Standard Time",		"Asia/Hovd" },
	{ "North Asia Standard Time",		"Asia/Krasnoyarsk" },
	{ "N. Central Asia Standard Time",	"Asia/Novosibirsk" },
	{ "Tomsk Standard Time",		"Asia/Tomsk" },
	{ "China Standard Time",		"Asia/Shanghai" },
	{ "North Asia East Standard Time",	"Asia/Irkutsk" },
	{ "Singapore Standard Time",		"Asia/Singapore" },
	{ "W. Australia Standard Time",		"Australia/Perth" },
	{ "Taipei Standard Time",		"Asia/Taipei" },
	{ "Ulaanbaatar Standard Time",		"Asia/Ulaanbaatar" },
	{ "Aus Central W. Standard Time",	"Australia/Eucla" },
	{ "Transbaikal Standard Time",		"Asia/Chita" },
	{ "Tokyo Standard Time",		"Asia/Tokyo" },
	{ "North Korea Standard Time",		"Asia/Pyongyang" },
	{ "Korea Standard Time",		"Asia/Seoul" },
	{ "Yakutsk Standard Time",		"Asia/Yakutsk" },
	{ "Cen. Australia Standard Time",	"Australia/Adelaide" },
	{ "AUS Central Standard Time",		"Australia/Darwin" },
	{ "E. Australia Standard Time",		"Australia/Brisbane" },
	{ "AUS Eastern Standard Time",		"Australia/Sydney" },
	{ "West Pacific Standard Time",		"Pacific/Port_Moresby" },
	{ "Tasmania Standard Time",		"Australia/Hobart" },
	{ "Vladivostok Standard Time",		"Asia/Vladivostok" },
	{ "Lord Howe Standard Time",		"Australia/Lord_Howe" },
	{ "Bougainville Standard Time",		"Pacific/Bougainville" },
	{ "Russia Time Zone 10",		"Asia/Srednekolymsk" },
	{ "Magadan Standard Time",		"Asia/Magadan" },
	{ "Norfolk Standard Time",		"Pacific/Norfolk" },
	{ "Sakhalin Standard Time",		"Asia/Sakhalin" },
	{ "Central Pacific Standard Time",	"Pacific/Guadalcanal" },
	{ "Russia Time Zone 11",		"Asia/Kamchatka" },
	{ "Kamchatka Standard Time",		"Asia/Kamchatka" },
	{ "New Zealand Standard Time",		"Pacific/Auckland" },
	{ "UTC+12",				"Etc/GMT-12" },
	{ "Fiji Standard Time",			"Pacific/Fiji" },
	{ "Chatham Islands Standard Time",	"Pacific/Chatham" },
	{ "UTC+13",				"Etc/GMT-13" },
	{ "Tonga Standard Time",		"Pacific/Tongatapu" },
	{ "Samoa Standard Time",		"Pacific/Apia" },
	{ "Line Islands Standard Time",		"Pacific/Kiritimati" },
};

/* Returns the IANA zone for a Windows zone name (case-insensitive), or NULL. */
const char *
tz_windows_to_iana(const char *windows_name)
{
	size_t	 i;

	if (windows_name == NULL)
		return NULL;
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcasecmp(zones[i].windows, windows_name) == 0)
			return zones[i].iana;
	return NULL;
}

/* Calls FN for every entry of the table (for tests); returns the count. */
size_t
tz_windows_each(void (*fn)(const char *, const char *, void *), void *arg)
{
	size_t	 i, n = sizeof(zones) / sizeof(zones[0]);

	for (i = 0; fn != NULL && i < n; i++)
		fn(zones[i].windows, zones[i].iana, arg);
	return n;
}
