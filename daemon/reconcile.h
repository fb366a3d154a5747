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
	const char			(*fps)[65];	/* per occurrence, or NULL: computed here */
	int				 same_context;	/* config and templates: the bytes of the last load */
};

/* A reconcile in slices (struct rec in reconcile.c). */
struct reconcile_job;

/*
 * Brings the store in line with IN in one transaction; HELD gets the first
 * post held for a problem ("" if none). -1 if a store write failed: then
 * nothing was applied.
 */
int	 reconcile_run(const struct reconcile_in *in, char *held, size_t heldlen);
/*
 * The same in slices: reconcile_step works for about BUDGET_US (0: until
 * done), each slice of writes one transaction, the soonest due first, each
 * row re-read as it is applied. 1: more to do; 0: done; -1: a store write
 * failed (that slice was undone; earlier ones stay, and a later load
 * converges).
 */
struct reconcile_job *reconcile_start(const struct reconcile_in *in);
int	 reconcile_step(struct reconcile_job *j, int64_t budget_us);
/* Whether J has reached its writes. */
int	 reconcile_applying(const struct reconcile_job *j);
/* The first post J held for a problem ("" if none). */
const char *reconcile_held(const struct reconcile_job *j);
void	 reconcile_free(struct reconcile_job *j);
/* The fingerprint of what the calendar says of O (thread-safe: for the worker). */
void	 reconcile_fingerprint(const struct cal_occurrence *o, char fp[65]);
/* The channels of occurrence O: its own, the calendar's, or the config's default. */
const char *reconcile_channels(const struct reconcile_in *in,
	    const struct cal_occurrence *o);
/* Calls FN for each channel name of the comma-separated LIST until one returns non-zero. */
int	 reconcile_each_channel(const char *list,
	    int (*fn)(void *, const char *), void *arg);

#endif
