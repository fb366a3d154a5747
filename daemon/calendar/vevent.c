/* One VEVENT read into an event: times, rules, overrides, crier's properties. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calendar-int.h"
#include "rrule.h"

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
	return text_set(dst, raw);
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
int
vevent_read(struct cal_calendar *c, icalcomponent *root, icalcomponent *comp,
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
			r = text_set(&o->uid, prop_text(p));
			break;
		case ICAL_SUMMARY_PROPERTY:
			r = text_set(&o->summary, prop_text(p));
			break;
		case ICAL_DESCRIPTION_PROPERTY:
			r = text_set(&o->description, prop_text(p));
			break;
		case ICAL_LOCATION_PROPERTY:
			r = text_set(&o->location, prop_text(p));
			break;
		case ICAL_URL_PROPERTY:
			r = text_set(&o->url, prop_text(p));
			break;
		case ICAL_CATEGORIES_PROPERTY:
			if ((s = prop_text(p)) != NULL)
				r = occurrence_add_categories(o, s);
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
			if (r == 0 && ics_push(&e->exdates, &e->nexdates, &tv,
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
			if (r == 0 && ics_push(&e->rdates, &e->nrdates, &rdv,
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
				rule.until.local = tval_ical_local(rule.r.until);
				rule.r.until = icaltime_null_time();
			}
			if (r == 0)
				r = ics_push(&e->rules, &e->nrules, &rule, sizeof(rule));
			break;
		case ICAL_ATTACH_PROPERTY:
			att = icalproperty_get_attach(p);
			if (att == NULL || !icalattach_get_is_url(att) ||
			    (s = icalattach_get_url(att)) == NULL || *s == '\0')
				break;
			alt = prop_xparam(p, "X-CRIER-ALT");
			tmp = alt != NULL ? text_param_decode(alt) : NULL;
			if (alt != NULL && tmp == NULL) {
				free(alt);
				alt = NULL;
				r = -1;
				break;
			}
			{
				icalparameter *fp = icalproperty_get_first_parameter(p,
				    ICAL_FMTTYPE_PARAMETER);
				struct cal_attach *na = occurrence_add_attach(o, s, fp ==
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
			if ((tmp = text_unescape(s)) == NULL) {
				r = -1;
				break;
			}
			if (strcasecmp(xname, "X-CRIER-CHANNELS") == 0)
				r = occurrence_set_channels(o, tmp);
			else if (strcasecmp(xname, "X-CRIER-TEMPLATE") == 0)
				r = text_set(&o->template, *tmp ? tmp : NULL);
			else if (strncasecmp(xname, "X-CRIER-VAR-", 12) == 0 &&
			    xname[12] != '\0')
				r = occurrence_set_var(o, xname + 12, strlen(xname + 12), tmp);
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
	if (frontmatter_read(o) == -1)
		return -1;
	if (scan_strip_event(c, o) == -1)
		return -1;

	/* what makes the event unusable, first cause only */
	if (raw != NULL && raw->toomany_line > 0) {
		e->bad = true;
		return ics_problem(c, raw->toomany_line, o->uid, "event %s%s%s: one %s "
		    "with more than %d dates (split it over several %s lines); "
		    "event left out", o->uid ? "\"" : "", o->uid ? o->uid :
		    "without UID", o->uid ? "\"" : "", raw->toomany_prop,
		    ICAL_MAX_VALUES, raw->toomany_prop);
	}
	if (raw != NULL)
		e->nrdate_values = raw->nrdate_values;
	if (raw != NULL && raw->bad_line > 0) {
		e->bad = true;
		return ics_problem(c, raw->bad_line, o->uid, "event %s%s%s: %s is not "
		    "valid UTF-8 text (save the calendar as UTF-8); event left out",
		    o->uid ? "\"" : "", o->uid ? o->uid : "without UID",
		    o->uid ? "\"" : "", raw->bad_prop);
	}
	if (fatal != NULL) {
		e->bad = true;
		for (char *q = fatalmsg; *q != '\0'; q++)
			if (q[0] == '\\' && (q[1] == ';' || q[1] == ','))
				memmove(q, q + 1, strlen(q));
		return ics_problem(c, line, o->uid, "event %s%s%s: unreadable %s%s%s%s;"
		    " event left out", o->uid ? "\"" : "", o->uid ? o->uid :
		    "without UID", o->uid ? "\"" : "", fatal, *fatalmsg ? " \"" : "",
		    fatalmsg, *fatalmsg ? "\"" : "");
	}
	if (badtz != NULL && tzid_why(c, badtz) != NULL) {
		e->bad = true;
		return ics_problem(c, line, o->uid, "event %s%s%s: TZID \"%s\" cannot "
		    "be used: its VTIMEZONE has %s; event left out", o->uid ?
		    "\"" : "", o->uid ? o->uid : "without UID", o->uid ? "\"" : "",
		    badtz, tzid_why(c, badtz));
	}
	if (badtz != NULL) {
		e->bad = true;
		return ics_problem(c, line, o->uid, "event %s%s%s: unknown TZID \"%s\" "
		    "(not an IANA or Windows zone, and no VTIMEZONE in the file); "
		    "event left out", o->uid ? "\"" : "", o->uid ? o->uid :
		    "without UID", o->uid ? "\"" : "", badtz);
	}
	if (badval != NULL) {
		e->bad = true;
		return ics_problem(c, badline, o->uid, "event %s%s%s: %s \"%s\" is not "
		    "a real date or time (%s); event left out", o->uid ? "\"" : "",
		    o->uid ? o->uid : "without UID", o->uid ? "\"" : "", badval,
		    badtext, badwhy);
	}
	if (!e->has_start) {
		e->bad = true;
		return ics_problem(c, line, o->uid, "event %s%s%s: no DTSTART; event "
		    "left out", o->uid ? "\"" : "", o->uid ? o->uid : "without UID",
		    o->uid ? "\"" : "");
	}

	/* its length, RFC 5545 3.6.1 */
	if (e->start.is_date) {
		e->days = 1;
		if (has_end && endv.is_date)
			e->days = (endv.local - e->start.local) / TZ_DAY;
		else if (has_end)
			e->days = tz_day(tval_instant(c, &endv) -
			    tval_instant(c, &e->start));
		else if (has_dur)
			e->days = tz_day(dursecs);
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
		return ics_problem(c, e->dtend_line ? e->dtend_line : line, o->uid,
		    "event %s%s%s: DTEND %s (line %d) is before DTSTART %s (line "
		    "%d); event left out", o->uid ? "\"" : "", o->uid ? o->uid :
		    "without UID", o->uid ? "\"" : "", ev, e->dtend_line, sv,
		    e->dtstart_line);
	}

	for (size_t i = 0; i < e->nrules; i++) {
		it = rrule_iter_new(&e->rules[i].r,
		    tval_from_local(e->start.local, e->start.is_date));
		if (it == NULL) {
			e->bad = true;
			return ics_problem(c, line, o->uid, "event %s%s%s: RRULE cannot "
			    "be enumerated; event left out", o->uid ? "\"" : "",
			    o->uid ? o->uid : "without UID", o->uid ? "\"" : "");
		}
		rrule_iter_free(it);
	}
	return 0;
}
