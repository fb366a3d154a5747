/*
 * Narrow reads of the deliveries table, a page at a time on the primary
 * key, so that a reload never holds the loop thread for a whole calendar.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sql.h"
#include "store_hot.h"
#include "store_view.h"
#include "delivery.h"

/* Where a page of rows goes. */
struct page {
	struct store_vrow	**rows;
	size_t			 *n, *cap;
};

/* The value (0-15) of hex digit C, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* Appends the row ST (HOT_VIEW_CALENDAR's columns) to the struct page ARG. */
static void
row_vrow(sqlite3_stmt *st, void *arg)
{
	struct page		*p = arg;
	struct store_vrow	*v;
	const char		*s;
	int			 i, hi, lo;

	if (*p->n == *p->cap) {
		*p->cap = *p->cap ? *p->cap * 2 : 1024;
		if ((*p->rows = reallocarray(*p->rows, *p->cap,
		    sizeof(**p->rows))) == NULL)
			abort();
	}
	v = &(*p->rows)[(*p->n)++];
	memset(v, 0, sizeof(*v));
	if ((s = (const char *)sqlite3_column_text(st, 0)) != NULL)
		strncpy(v->id, s, DELIVERY_ID_LEN);
	s = (const char *)sqlite3_column_text(st, 1);
	i = s != NULL ? dstate_from_name(s) : -1;
	v->state = i < 0 ? DS_UNCERTAIN : (unsigned char)i;
	v->due = sqlite3_column_int64(st, 2);
	s = (const char *)sqlite3_column_text(st, 3);
	v->cal_state = s != NULL ? (unsigned char)store_cal_state_parse(s) : 0;
	s = (const char *)sqlite3_column_text(st, 4);
	v->problem = s != NULL && strcmp(s, DELIVERY_HOLD_PROBLEM) == 0;
	if ((s = (const char *)sqlite3_column_text(st, 5)) != NULL &&
	    strlen(s) == 64) {
		v->has_fp = 1;
		for (i = 0; i < 32; i++) {
			hi = hexval(s[i * 2]);
			lo = hexval(s[i * 2 + 1]);
			if (hi < 0 || lo < 0) {
				v->has_fp = 0;
				break;
			}
			v->fp[i] = (unsigned char)(hi << 4 | lo);
		}
	}
}

/* Reads the next page of calendar NAME's rows after id AFTER into *ROWS. */
int
store_view_calendar_page(const char *name, const char *after, size_t max,
    struct store_vrow **rows, size_t *n, size_t *cap)
{
	struct page	p = { rows, n, cap };

	return (store_sql_read("query", HOT_VIEW_CALENDAR, row_vrow, &p, "ssI",
	    name, after, (int64_t)max));
}
