/* What a TZID of the file names: an IANA or Windows zone, else the file's VTIMEZONE. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar-int.h"
#include "rrule.h"

#define MAX_VTZ_RDATES	1000		/* RDATEs of one VTIMEZONE at most */

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
const char *
tzid_why(const struct cal_calendar *c, const char *tzid)
{
	size_t	 i;

	for (i = 0; i < c->nzones; i++)
		if (strcmp(c->zones[i].tzid, tzid) == 0)
			return c->zones[i].why;
	return NULL;
}

/*
 * Resolves TZID as calendar apps do: IANA name (also behind a prefix), then
 * Windows name, then the file's VTIMEZONE.  Returns NULL when none applies
 * (*OOM set when memory ran out).  C keeps the answer, also a NULL one.
 */
const struct tz_zone *
tzid_get(struct cal_calendar *c, icalcomponent *root, const char *tzid, bool *oom)
{
	struct cal_zone	 cz = { NULL, NULL, NULL }, *nz;
	icalcomponent	*vtz;
	char		 why[200];
	size_t		 i;

	for (i = 0; i < c->nzones; i++)
		if (strcmp(c->zones[i].tzid, tzid) == 0)
			return c->zones[i].zone;
	if ((cz.tzid = strdup(tzid)) == NULL)
		goto oom;
	if ((cz.zone = tz_load_tzid(tzid)) == NULL &&
	    (vtz = find_vtimezone(root, tzid)) != NULL) {
		if (!vtz_sane(vtz, why, sizeof(why))) {
			if ((cz.why = strdup(why)) == NULL)
				goto oom;
		} else if (tz_new_vtimezone(vtz, &cz.zone) == -1)
			goto oom;
	}
	nz = reallocarray(c->zones, c->nzones + 1, sizeof(*nz));
	if (nz == NULL)
		goto oom;
	c->zones = nz;
	c->zones[c->nzones++] = cz;
	return cz.zone;
oom:
	free(cz.tzid);
	free(cz.why);
	tz_free(cz.zone);
	*oom = true;
	return NULL;
}
