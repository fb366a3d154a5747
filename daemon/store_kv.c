/* A channel's own durable values in the store (table chan_kv). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_kv.h"
#include "store_sql.h"
#include "when.h"

/* What a row of chan_kv is read into. */
struct kv_row {
	char	*value;
	int64_t	 updated;
};

/* Copies the value and time of a chan_kv row into the struct kv_row ARG. */
static void
row_kv(sqlite3_stmt *st, void *arg)
{
	struct kv_row	*r = arg;

	free(r->value);
	r->value = store_sql_text(st, 0);
	r->updated = sqlite3_column_int64(st, 1);
}

/* Loads CHANNEL's KEY; 1 if none. */
int
store_kv_get(const char *channel, const char *key, char **value,
    int64_t *updated)
{
	struct kv_row	r = { NULL, 0 };
	char		what[128];
	int		n;

	*value = NULL;
	if (updated != NULL)
		*updated = 0;
	snprintf(what, sizeof(what), "channel %s: reading %s", channel, key);
	n = store_sql_read(what, "SELECT value, updated FROM chan_kv"
	    " WHERE channel = ?1 AND key = ?2", row_kv, &r, "ss", channel, key);
	if (n == -1) {
		free(r.value);
		return (-1);
	}
	if (n == 0 || r.value == NULL)
		return (1);
	*value = r.value;
	if (updated != NULL)
		*updated = r.updated;
	return (0);
}

/* Writes CHANNEL's N values KV in one transaction. */
int
store_kv_put(const char *channel, const struct store_kv *kv, size_t n)
{
	char	what[128];
	int64_t	now = when_now();
	size_t	i;
	int	rc;

	for (i = 0; i < n; i++)
		if (kv[i].value != NULL && strlen(kv[i].value) > STORE_KV_MAX) {
			store_sql_failed("channel %s: %s is over %d bytes",
			    channel, kv[i].key, STORE_KV_MAX);
			return (-1);
		}
	if (store_sql_tx_begin() == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "channel %s: saving %s", channel,
		    kv[i].key);
		if (kv[i].value == NULL)
			rc = store_sql_write(what, "DELETE FROM chan_kv"
			    " WHERE channel = ?1 AND key = ?2", "ss", channel,
			    kv[i].key);
		else
			rc = store_sql_write(what, "INSERT INTO chan_kv (channel,"
			    " key, value, updated) VALUES (?1, ?2, ?3, ?4)"
			    " ON CONFLICT(channel, key) DO UPDATE SET value = ?3,"
			    " updated = ?4", "sssI", channel, kv[i].key,
			    kv[i].value, now);
		if (rc == -1) {
			store_sql_tx_rollback();
			return (-1);
		}
	}
	return (store_sql_tx_commit());
}
