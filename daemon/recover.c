/*
 * What a previous run of crierd left behind, settled at the start: a
 * delivery caught `sending` is sent again on an idempotent channel and
 * `uncertain` otherwise; one due longer ago than catch_up is `missed`.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "recover.h"
#include "channel.h"
#include "delivery.h"
#include "log.h"
#include "store.h"
#include "when.h"
#include "../common/human.h"

#define BIT(s)		(1u << (s))

/* Settles what a previous run left behind; -1 if the store could not be read. */
int
recover_run(int64_t catch_up)
{
	struct store_filter	 f;
	struct delivery		*ds = NULL;
	struct channel		*ch;
	size_t			 n = 0, i;
	int64_t			 now = when_now();
	char			 detail[160];

	memset(&f, 0, sizeof(f));
	f.state = DS_SENDING;
	if (store_list(&f, &ds, &n) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		ch = chan_find(ds[i].channel);
		if (ch != NULL && ch->ops->idempotent) {
			struct store_update u = { .next_attempt = now };

			delivery_move(ds[i].id, BIT(DS_SENDING), DS_RETRYING,
			    &u, STORE_ACTOR_DAEMON, "recovered",
			    "interrupted while sending; the channel is idempotent, "
			    "sending again", NULL);
			log_info("delivery %s: interrupted while sending, sending "
			    "again (channel %s is idempotent)", ds[i].id,
			    ds[i].channel);
		} else {
			struct store_update u = { .last_error = "interrupted while "
			    "sending: it may or may not have gone out" };

			delivery_move(ds[i].id, BIT(DS_SENDING), DS_UNCERTAIN,
			    &u, STORE_ACTOR_DAEMON, "uncertain", u.last_error, NULL);
			log_warnx("delivery %s: uncertain: interrupted while "
			    "sending to %s; check and use retry or cancel",
			    ds[i].id, ds[i].channel);
		}
	}
	store_deliveries_free(ds, n);
	ds = NULL;
	n = 0;
	f.state = DS_SCHEDULED;
	f.to = now - catch_up * 1000;
	if (f.to <= 0)
		f.to = 1;
	if (store_list(&f, &ds, &n) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		char	a[32], b[32];

		snprintf(detail, sizeof(detail), "due %s ago while crierd was "
		    "down, more than catch_up (%s)",
		    human_duration((now - ds[i].due) / 1000, a, sizeof(a)),
		    human_duration(catch_up, b, sizeof(b)));
		delivery_move(ds[i].id, BIT(DS_SCHEDULED), DS_MISSED, NULL,
		    STORE_ACTOR_DAEMON, "missed", detail, NULL);
		log_warnx("delivery %s: missed: %s", ds[i].id, detail);
	}
	store_deliveries_free(ds, n);
	return (0);
}
