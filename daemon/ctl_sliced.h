/*
 * Replies too big for one loop turn (ctl_sliced.c): a verb's array is
 * filled a slice a turn and written out as it grows; the reply goes once
 * it is whole (ctlconn_later), and the scheduler and the other
 * connections are served in between.
 */
#ifndef CRIER_CTL_SLICED_H
#define CRIER_CTL_SLICED_H

#include <stddef.h>

#include <jansson.h>

#include "ctlconn.h"

/* Appends at most MAX items to ITEMS: 1 if more may follow, 0 at the end, -1 on error. */
typedef int	(*ctl_slice_fn)(void *arg, size_t max, json_t *items);
/* Adds the last fields to OBJ, the object that holds the whole array. */
typedef void	(*ctl_slice_end_fn)(void *arg, json_t *obj);
/* Frees what a slicer's ARG holds. */
typedef void	(*ctl_slice_free_fn)(void *arg);

/* A reply's array made a slice a turn, and where it goes. */
struct ctl_slicer {
	const char		*within;	/* the reply's object that holds it; NULL: the reply */
	const char		*field;		/* the array's name */
	size_t			 slice;		/* items a turn */
	ctl_slice_fn		 next;
	ctl_slice_end_fn	 end;		/* NULL: nothing to add at the end */
	ctl_slice_free_fn	 free_fn;
};

/*
 * Answers CL with HEAD (consumed) plus the array that S->next fills,
 * S->slice items a turn; S->free_fn(ARG) once it is done. Returns the
 * reply when one slice held everything (or an error reply), else NULL:
 * the reply is promised and sent later.
 */
json_t	*ctl_sliced(struct client *cl, json_t *head,
	    const struct ctl_slicer *s, void *arg);
/* Items a slice: DEF, or the CRIER_TEST_LIST_SLICE of tests. */
size_t	 ctl_sliced_rows(size_t def);
/* Closes the store cursor ARG: the ctl_slice_free_fn of list's and log's slicers. */
void	 ctl_sliced_cursor_free(void *arg);
/* Stopping: replies still being made are answered "stopping" and dropped. */
void	 ctl_sliced_shutdown(void);

#endif
