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
/*
 * list's (agenda's, with ENDS) rows a slice at a time (a big --limit is
 * answered over several loop turns): a cursor on a read-only connection
 * of its own, one snapshot until closed (store_cursor_close).
 * store_view_cursor returns NULL with ERR if it cannot open one;
 * store_view_cursor_next reads at most MAX rows (free with
 * store_deliveries_free, and *ENDS, when asked, as store_view_list's),
 * 1 if more may follow, 0 at the end, -1 on error.
 */
struct store_cursor *store_view_cursor(const struct store_filter *f,
	    int ends, char *err, size_t errlen);
int	 store_view_cursor_next(struct store_cursor *c, size_t max,
	    struct delivery **out, size_t *n, char ***ends);

/*
 * agenda's next post: the soonest delivery due at FROM or later still to
 * go out (scheduled, retrying, held), list's columns, into *OUT (free
 * with store_delivery_clear); 1 if there is none, -1 on a database error.
 */
int	 store_view_next_pending(int64_t from, struct delivery *out);

#endif
