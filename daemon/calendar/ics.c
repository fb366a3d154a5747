/* Reading an iCalendar file: the calendar, its problems and warnings, UIDs (SPEC §2). */
#include <config.h>

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar-int.h"
#include "rrule.h"

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
int
ics_problem(struct cal_calendar *c, int line, const char *uid, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = record(c, &c->problems, &c->nproblems, line, uid, fmt, ap);
	va_end(ap);
	return rc;
}

/* Records a warning (something repaired, not refused) in C; -1 without memory. */
int
ics_warning(struct cal_calendar *c, int line, const char *uid, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = record(c, &c->warnings, &c->nwarnings, line, uid, fmt, ap);
	va_end(ap);
	return rc;
}

/* Frees what event E owns. */
static void
event_clear(struct event *e)
{
	free(e->rules);
	free(e->rdates);
	free(e->exdates);
	free(e->exkeys);
	free(e->exdays);
	occurrence_clear(&e->proto);
}

/*
 * Appends item IT of size SZ to array *V of *N items, made only by ics_push():
 * its room doubles whenever N reaches a power of two.  -1 without memory.
 */
int
ics_push(void *vp, size_t *n, const void *it, size_t sz)
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
		if (ics_problem(c, m[i]->line, m[i]->proto.uid, "event \"%s\": the "
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
		    text_set(&o->proto.channels, (*hit)->proto.channels) == -1)
			goto out;
		if (o->proto.template == NULL &&
		    text_set(&o->proto.template, (*hit)->proto.template) == -1)
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
		if (vevent_read(c, root, ev, *idx < nraw ? &raw[*idx] : NULL,
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
	if ((c->utc = tz_new_fixed(0)) == NULL)
		goto oom;
	c->deflt = c->utc;
	if (default_tz != NULL && *default_tz != '\0' &&
	    strcmp(default_tz, "UTC") != 0 &&
	    (c->deflt = c->own_deflt = tz_load(default_tz)) == NULL) {
		snprintf(err, errlen, "%s: unknown time zone \"%s\" for "
		    "floating times", name, default_tz);
		goto fail;
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
	scan_free(raw, nraw_all);
	free(buf);
	return c;
oom:
	snprintf(err, errlen, "%s: out of memory", name);
fail:
	if (root != NULL)
		icalcomponent_free(root);
	scan_free(raw, nraw_all);
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
	for (i = 0; i < c->nzones; i++) {
		free(c->zones[i].tzid);
		free(c->zones[i].why);
		tz_free(c->zones[i].zone);
	}
	free(c->zones);
	tz_free(c->utc);
	tz_free(c->own_deflt);
	free(c->name);
	free(c);
}
