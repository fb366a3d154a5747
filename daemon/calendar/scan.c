/* A calendar's raw text before libical: UTF-8, control characters, lines. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar-int.h"

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
int
scan_strip_event(struct cal_calendar *c, struct cal_occurrence *o)
{
	struct { const char *name; char *s; } f[] = {
		{ "SUMMARY", o->summary }, { "DESCRIPTION", o->description },
		{ "LOCATION", o->location }, { "URL", o->url },
		{ "X-CRIER-CHANNELS", o->channels },
		{ "X-CRIER-TEMPLATE", o->template },
	};
	size_t	 i, n;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if ((n = strip_controls(f[i].s)) > 0 && ics_warning(c, o->line,
		    o->uid, "%zu control character%s removed from %s", n,
		    n == 1 ? "" : "s", f[i].name) == -1)
			return -1;
	for (i = 0, n = 0; i < o->ncategories; i++)
		n += strip_controls(o->categories[i]);
	for (i = 0; i < o->nvars; i++)
		n += strip_controls(o->vars[i].value);
	for (i = 0; i < o->nattach; i++)
		n += strip_controls(o->attach[i].alt);
	if (n > 0 && ics_warning(c, o->line, o->uid, "%zu control character%s "
	    "removed from CATEGORIES, X-CRIER-VAR or alt text", n,
	    n == 1 ? "" : "s") == -1)
		return -1;
	return 0;
}

/* Frees the raw texts of N scanned VEVENTs, and the array. */
void
scan_free(struct vraw *v, size_t n)
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
	if ((copy = text_unescape(val + 1)) == NULL)
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
		return ics_push(&v->attach_lines, &v->nattach_lines, &line,
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
int
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
				} else if (ics_problem(c, start, NULL, "%s is not valid "
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
					if (ics_push(raw, nraw, &v, sizeof(v)) == -1)
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
	scan_free(*raw, *nraw);
	*raw = NULL;
	*nraw = 0;
	return -1;
}
