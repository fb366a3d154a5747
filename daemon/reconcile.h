/*
 * Reconciling one calendar's freshly loaded occurrences with the store
 * (SPEC §4, §6): the deliveries they make, move, change or cancel.
 */
#ifndef CRIER_RECONCILE_H
#define CRIER_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "calendar/calendar.h"
#include "conf.h"
#include "template.h"

/* One calendar's load, as reconcile needs it; all borrowed. */
struct reconcile_in {
	const char			*name;		/* the calendar's name */
	const char			*label;		/* its path or redacted url: shown */
	const char			*channels;	/* calendar default, may be NULL */
	const char			*template;	/* calendar default, may be NULL */
	const struct config		*conf;		/* default channels, zone */
	const struct tmpl_set		*tmpls;		/* may be NULL */
	const struct cal_occurrence	*occ;		/* in the window */
	size_t				 nocc;
	int64_t				 from, to;	/* the window, ms */
	char *const			*skip;		/* UIDs left out of this load, sorted */
	size_t				 nskip;
};

/*
 * Brings the store in line with IN in one transaction; HELD gets the first
 * post held for a problem ("" if none). -1 if a store write failed: then
 * nothing was applied.
 */
int	 reconcile_run(const struct reconcile_in *in, char *held, size_t heldlen);
/* The channels of occurrence O: its own, the calendar's, or the config's default. */
const char *reconcile_channels(const struct reconcile_in *in,
	    const struct cal_occurrence *o);
/* Calls FN for each channel name of the comma-separated LIST until one returns non-zero. */
int	 reconcile_each_channel(const char *list,
	    int (*fn)(void *, const char *), void *arg);

#endif
