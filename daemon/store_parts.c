/*
 * Thread parts in the store: each part of a split = thread post is
 * recorded as the network confirms it, so a restart mid-thread resumes at
 * the next part and never posts one twice.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "store_parts.h"
#include "store_sql.h"
#include "when.h"
#include "../common/util.h"

/* A growing array of parts. */
struct parts {
	struct store_part	*v;
	size_t			 n;
};

/* Records part PART of delivery ID as confirmed by the network. */
int
store_parts_put(const char *id, size_t part, const char *remote_id,
    const char *remote_url, const char *ref)
{
	char	what[64];

	snprintf(what, sizeof(what), "thread part %zu of %s", part + 1, id);
	return (store_sql_write(what, "INSERT INTO parts (delivery, part,"
	    " remote_id, remote_url, ref, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT(delivery, part) DO UPDATE SET remote_id = ?3,"
	    " remote_url = ?4, ref = ?5, at = ?6", "sisssI", id, (int)part,
	    remote_id, remote_url, ref, when_now()) == -1 ? -1 : 0);
}

/* Appends a row of the parts table to the struct parts ARG. */
static void
row_part(sqlite3_stmt *st, void *arg)
{
	struct parts		*a = arg;
	struct store_part	*p;

	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	p = &a->v[a->n++];
	p->part = (size_t)sqlite3_column_int(st, 0);
	p->remote_id = store_sql_text(st, 1);
	p->remote_url = store_sql_text(st, 2);
	p->ref = store_sql_text(st, 3);
	p->at = sqlite3_column_int64(st, 4);
}

/* Every confirmed part of delivery ID, by part number. */
int
store_parts_list(const char *id, struct store_part **out, size_t *n)
{
	struct parts	a = { NULL, 0 };

	*out = NULL;
	*n = 0;
	if (store_sql_read("thread parts", "SELECT part, remote_id, remote_url,"
	    " ref, at FROM parts WHERE delivery = ? ORDER BY part", row_part,
	    &a, "s", id) == -1) {
		store_parts_free(a.v, a.n);
		return (-1);
	}
	*out = a.v;
	*n = a.n;
	return (0);
}

/* Frees N parts. */
void
store_parts_free(struct store_part *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].remote_id);
		free(v[i].remote_url);
		free(v[i].ref);
	}
	free(v);
}
