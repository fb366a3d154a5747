/*
 * Narrow reads of the deliveries table: only the columns a caller uses,
 * a page at a time on an index, so that no read on the loop thread is
 * O(queue): reconcile's view of a calendar, list and agenda.
 */
#ifndef CRIER_STORE_VIEW_H
#define CRIER_STORE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* What reconcile needs to know of a calendar's delivery before deciding to look closer. */
struct store_vrow {
	char		 id[DELIVERY_ID_LEN + 1];
	unsigned char	 state;		/* enum dstate */
	unsigned char	 cal_state;	/* enum cal_state */
	unsigned char	 has_fp;	/* fp holds the calendar's version */
	unsigned char	 problem;	/* held for a problem */
	int64_t		 due;
	unsigned char	 fp[32];	/* cal_fp, binary */
};

/*
 * Appends to *ROWS (*N of them, room for *CAP) at most MAX rows of calendar
 * NAME with ids after AFTER ("" from the start), in id order; returns how
 * many were read (0: no more), -1 on a database error.
 */
int	 store_view_calendar_page(const char *name, const char *after,
	    size_t max, struct store_vrow **rows, size_t *n, size_t *cap);

/*
 * list and agenda: deliveries matching F with only the columns they print
 * (reply_delivery's: no text), ordered by due, channel, id; for agenda
 * (ENDS not NULL) *ENDS gets each row's occurrence end (malloc'd, may be
 * NULL). Free with store_deliveries_free and store_view_ends_free.
 */
int	 store_view_list(const struct store_filter *f, struct delivery **out,
	    size_t *n, char ***ends);
void	 store_view_ends_free(char **ends, size_t n);

#endif
