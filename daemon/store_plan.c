/* The hot statements by name, and SQLite's query plan for any of them. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sql.h"
#include "store_hot.h"
#include "../common/util.h"

/* Every statement on a per-delivery, per-request or per-command path. */
static const struct store_stmt hot[] = {
	{ "next wakeup", HOT_NEXT_WAKEUP },
	{ "next wakeup of a channel", HOT_NEXT_WAKEUP_CHANNEL },
	{ "next wakeup of other channels", HOT_NEXT_WAKEUP_OTHERS },
	{ "due", HOT_DUE },
	{ "due of a channel", HOT_DUE_CHANNEL },
	{ "due of other channels", HOT_DUE_OTHERS },
	{ "status counts", HOT_COUNTS },
	{ "list", HOT_LIST },
	{ "list --state", HOT_LIST_STATE },
	{ "list --channel", HOT_LIST_CHANNEL },
	{ "list --state --channel", HOT_LIST_BOTH },
	{ "show", HOT_GET },
	{ "show events", HOT_EVENTS_FOR },
	{ "insert", HOT_INSERT },
	{ "event", HOT_EVENT },
	{ "transition: current state", HOT_CUR },
	{ "transition", HOT_TRANSITION },
	{ "transition, same due", HOT_TRANSITION_SAME_DUE },
	{ "recipient update", HOT_RCPT_PUT },
	{ "recipients", HOT_RCPT_LIST },
	{ "has recipients", HOT_RCPT_ANY },
	{ "calendar rows", HOT_LIST_CALENDAR },
	{ "occurrence rows", HOT_LIST_OCCURRENCE },
	{ "calendar content", HOT_SET_CONTENT },
	{ "a page of a calendar's rows", HOT_VIEW_CALENDAR },
	{ "list, printed columns", HOT_VIEW_LIST },
	{ "list --state, printed columns", HOT_VIEW_LIST_STATE },
	{ "list --channel, printed columns", HOT_VIEW_LIST_CHANNEL },
	{ "list --state --channel, printed columns", HOT_VIEW_LIST_BOTH },
	{ "agenda", HOT_VIEW_AGENDA },
	{ "agenda, one state", HOT_VIEW_AGENDA_STATE },
	{ "agenda, one channel", HOT_VIEW_AGENDA_CHANNEL },
	{ "agenda, one state and channel", HOT_VIEW_AGENDA_BOTH },
	{ "agenda, the next post after the window", HOT_VIEW_NEXT_PENDING },
	{ "resume: events", HOT_RELEASE_EVENTS },
	{ "resume: release", HOT_RELEASE },
	{ "pause: events", HOT_HOLD_EVENTS },
	{ "pause: hold", HOT_HOLD },
	{ "resume: what stays held", HOT_HELD_FOR },
};

/* The hot statements; *N of them. */
const struct store_stmt *
store_plan_hot(size_t *n)
{
	*n = sizeof(hot) / sizeof(hot[0]);
	return (hot);
}

/* The growing text of a plan. */
struct plan {
	char	*buf;
	size_t	 len, used;
};

/* Appends a plan row's detail (column 3) and a newline to the struct plan ARG. */
static void
row_plan(sqlite3_stmt *st, void *arg)
{
	struct plan	*p = arg;
	const char	*d = (const char *)sqlite3_column_text(st, 3);
	int		 w;

	if (p->used >= p->len)
		return;
	w = snprintf(p->buf + p->used, p->len - p->used, "%s\n", d ? d : "");
	if (w > 0)
		p->used += (size_t)w;
}

/* SQLite's query plan for SQL, one step a line, into BUF; -1 if it cannot be planned. */
int
store_plan_explain(const char *sql, char *buf, size_t len)
{
	struct plan	 p = { buf, len, 0 };
	char		*q;
	int		 n;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	if (asprintf(&q, "EXPLAIN QUERY PLAN %s", sql) == -1)
		return (-1);
	n = store_sql_read(NULL, q, row_plan, &p, "");
	free(q);
	return (n == -1 ? -1 : 0);
}
