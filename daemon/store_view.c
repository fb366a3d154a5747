/*
 * Narrow reads of the deliveries table, a page at a time on the primary
 * key, so that a reload never holds the loop thread for a whole calendar.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
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

/* Where list's rows go. */
struct list {
	struct delivery	*v;
	char		**ends;		/* NULL: not asked for */
	size_t		 n, cap;
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

/* Appends the row ST (HOT_VIEW_COLS, then ends) to the struct list ARG. */
static void
row_list(sqlite3_stmt *st, void *arg)
{
	struct list	*l = arg;
	struct delivery	*d;
	const char	*id;
	int		 s;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((l->v = reallocarray(l->v, l->cap, sizeof(*l->v))) == NULL ||
		    (l->ends != NULL && (l->ends = reallocarray(l->ends, l->cap,
		    sizeof(*l->ends))) == NULL))
			abort();
	}
	d = &l->v[l->n];
	memset(d, 0, sizeof(*d));
	id = (const char *)sqlite3_column_text(st, 0);
	snprintf(d->id, sizeof(d->id), "%s", id ? id : "");
	d->channel = store_sql_text(st, 1);
	s = dstate_from_name((const char *)sqlite3_column_text(st, 2));
	d->state = s < 0 ? DS_FAILED : (enum dstate)s;
	d->due = sqlite3_column_int64(st, 3);
	d->calendar = store_sql_text(st, 4);
	d->uid = store_sql_text(st, 5);
	d->recurrence_id = store_sql_text(st, 6);
	d->summary = store_sql_text(st, 7);
	d->attempts = sqlite3_column_int(st, 8);
	d->last_error = store_sql_text(st, 9);
	d->remote_url = store_sql_text(st, 10);
	if (l->ends != NULL)
		l->ends[l->n] = store_sql_text(st, 11);
	l->n++;
}

/* The statement of list (of agenda with ENDS) for filter F. */
static const char *
list_sql(const struct store_filter *f, int ends)
{
	if (ends)
		return (f->state >= 0 && f->channel != NULL ?
		    HOT_VIEW_AGENDA_BOTH : f->state >= 0 ? HOT_VIEW_AGENDA_STATE :
		    f->channel != NULL ? HOT_VIEW_AGENDA_CHANNEL : HOT_VIEW_AGENDA);
	return (f->state >= 0 && f->channel != NULL ? HOT_VIEW_LIST_BOTH :
	    f->state >= 0 ? HOT_VIEW_LIST_STATE : f->channel != NULL ?
	    HOT_VIEW_LIST_CHANNEL : HOT_VIEW_LIST);
}

/* Lists deliveries matching F with the columns list and agenda print (and ENDS). */
int
store_view_list(const struct store_filter *f, struct delivery **out,
    size_t *n, char ***ends)
{
	struct list	 l = { NULL, NULL, 0, 0 };
	const char	*sql;
	int		 rc;

	if (ends != NULL && (l.ends = calloc(1, sizeof(*l.ends))) == NULL)
		abort();
	sql = list_sql(f, ends != NULL);
	rc = store_sql_read("query", sql, row_list, &l, "ssIII", f->state >= 0 ?
	    dstate_names[f->state] : NULL, f->channel, f->from != 0 ? f->from :
	    INT64_MIN, f->to != 0 ? f->to : INT64_MAX, f->limit ?
	    (int64_t)f->limit : (int64_t)-1);
	if (rc == -1) {
		store_deliveries_free(l.v, l.n);
		store_view_ends_free(l.ends, l.n);
		return (-1);
	}
	*out = l.v;
	*n = l.n;
	if (ends != NULL)
		*ends = l.ends;
	return (0);
}

/* Opens a cursor over the rows list (agenda with ENDS) shows for F (store_sql_cursor: one snapshot). */
struct store_cursor *
store_view_cursor(const struct store_filter *f, int ends, char *err,
    size_t errlen)
{
	return (store_sql_cursor(list_sql(f, ends), err, errlen, "ssIII",
	    f->state >= 0 ? dstate_names[f->state] : NULL, f->channel,
	    f->from != 0 ? f->from : INT64_MIN, f->to != 0 ? f->to : INT64_MAX,
	    f->limit ? (int64_t)f->limit : (int64_t)-1));
}

/* Reads C's next rows, at most MAX, into *OUT (*N) and *ENDS: 1 if more may follow, 0 at the end, -1 on error. */
int
store_view_cursor_next(struct store_cursor *c, size_t max,
    struct delivery **out, size_t *n, char ***ends)
{
	struct list	 l = { NULL, NULL, 0, 0 };
	int		 rc;

	if (ends != NULL && (l.ends = calloc(1, sizeof(*l.ends))) == NULL)
		abort();
	if ((rc = store_sql_cursor_next(c, max, row_list, &l)) == -1) {
		store_deliveries_free(l.v, l.n);
		store_view_ends_free(l.ends, l.n);
		return (-1);
	}
	*out = l.v;
	*n = l.n;
	if (ends != NULL)
		*ends = l.ends;
	return (rc);
}

/* The soonest delivery still to go out due at FROM or later into *OUT; 1 if none. */
int
store_view_next_pending(int64_t from, struct delivery *out)
{
	struct list	 l = { NULL, NULL, 0, 0 };

	if (store_sql_read("query", HOT_VIEW_NEXT_PENDING, row_list, &l, "I",
	    from) == -1) {
		store_deliveries_free(l.v, l.n);
		return (-1);
	}
	if (l.n == 0)
		return (1);
	*out = l.v[0];
	free(l.v);
	return (0);
}

/* Frees the N ends of store_view_list. */
void
store_view_ends_free(char **ends, size_t n)
{
	size_t	i;

	for (i = 0; ends != NULL && i < n; i++)
		free(ends[i]);
	free(ends);
}
