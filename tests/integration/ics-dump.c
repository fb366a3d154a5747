/*
 * Reads an iCalendar file with libical and prints its VEVENTs as JSON
 * lines (uid, dtstart as UTC seconds, summary, description, url,
 * related_to, categories); exits 1 on a parse error or any property or
 * component libical marks as erroneous (X-LIC-ERROR) or RFC 5545's
 * restrictions refuse.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libical/ical.h>

/* S as a JSON string, or null. */
static json_t *
str_or_null(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
}

/* The value of URI or TEXT property KIND of C, unescaped, or null. */
static json_t *
prop_str(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty	*p = icalcomponent_get_first_property(c, kind);

	if (p == NULL)
		return (json_null());
	switch (kind) {
	case ICAL_URL_PROPERTY:
		return (str_or_null(icalproperty_get_url(p)));
	case ICAL_RELATEDTO_PROPERTY:
		return (str_or_null(icalproperty_get_relatedto(p)));
	case ICAL_UID_PROPERTY:
		return (str_or_null(icalproperty_get_uid(p)));
	case ICAL_SUMMARY_PROPERTY:
		return (str_or_null(icalproperty_get_summary(p)));
	default:
		return (json_null());
	}
}

int
main(int argc, char *argv[])
{
	icalcomponent	*cal, *ev;
	FILE		*f;
	char		*buf;
	long		 len;
	int		 nerr;

	if (argc != 2) {
		fprintf(stderr, "usage: ics-dump FILE.ics\n");
		return (2);
	}
	if ((f = fopen(argv[1], "rb")) == NULL || fseek(f, 0, SEEK_END) == -1 ||
	    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		perror(argv[1]);
		return (1);
	}
	buf[len] = '\0';
	fclose(f);
	if ((cal = icalparser_parse_string(buf)) == NULL ||
	    icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		fprintf(stderr, "%s: not a VCALENDAR: %s\n", argv[1],
		    icalerror_strerror(icalerrno));
		return (1);
	}
	free(buf);
	icalrestriction_check(cal);
	if ((nerr = icalcomponent_count_errors(cal)) > 0) {
		fprintf(stderr, "%s: %d errors:\n%s\n", argv[1], nerr,
		    icalcomponent_as_ical_string(cal));
		return (1);
	}
	for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    ev != NULL; ev = icalcomponent_get_next_component(cal,
	    ICAL_VEVENT_COMPONENT)) {
		struct icaltimetype	 t = icalcomponent_get_dtstart(ev);
		json_t			*o, *cats = json_array();
		icalproperty		*p;
		char			*s;

		for (p = icalcomponent_get_first_property(ev,
		    ICAL_CATEGORIES_PROPERTY); p != NULL;
		    p = icalcomponent_get_next_property(ev,
		    ICAL_CATEGORIES_PROPERTY))
			json_array_append_new(cats, json_string(
			    icalproperty_get_categories(p)));
		o = json_pack("{s:o, s:I, s:b, s:o, s:o, s:o, s:o, s:o}",
		    "uid", prop_str(ev, ICAL_UID_PROPERTY), "dtstart",
		    (json_int_t)icaltime_as_timet(t), "utc", icaltime_is_utc(t),
		    "summary", prop_str(ev, ICAL_SUMMARY_PROPERTY),
		    "description", json_string(icalcomponent_get_description(ev) ?
		    icalcomponent_get_description(ev) : ""), "url",
		    prop_str(ev, ICAL_URL_PROPERTY), "related_to",
		    prop_str(ev, ICAL_RELATEDTO_PROPERTY), "categories", cats);
		s = json_dumps(o, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	icalcomponent_free(cal);
	return (0);
}
