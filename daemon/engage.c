/*
 * Engagement of sent posts: a timer looks for posts whose next checkpoint
 * (1 h, 24 h, 7 d after sending) has come, asks their channel for the
 * figures, and stores them. A failure is logged at debug level only and
 * tried again later; a channel that says its rate limit is spent is left
 * alone until it resets.
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "engage.h"
#include "channel.h"
#include "context.h"
#include "log.h"
#include "reply.h"
#include "store_engage.h"
#include "when.h"
#include "../common/util.h"

#define ENGAGE_TICK_MAX_MS	60000
#define ENGAGE_TICK_MIN_MS	50

/* Hours after sending of each checkpoint, and how it reads. */
static const int64_t	 stage_hours[STORE_ENGAGE_STAGES] = { 1, 24, 168 };
static const char *const stage_labels[STORE_ENGAGE_STAGES] = {
	"1 h", "24 h", "7 d"
};

/* One fetch under way. */
struct ejob {
	char	 id[DELIVERY_ID_LEN + 1];
	char	*channel;
	int	 stage;		/* the checkpoint it passes */
	size_t	 slot;		/* in inflight[] */
};

/* A channel told to wait by its rate limit. */
struct ewait {
	char	*channel;
	int64_t	 until;		/* ms */
};

static uv_timer_t		 e_timer;
static bool			 e_inited, e_stopping;
static int64_t			 e_hour = ENGAGE_HOUR_MS;
static struct ejob		*inflight[ENGAGE_MAX_IN_FLIGHT];
static size_t			 n_inflight;
static struct ewait		*waits;
static size_t			 nwaits;

/* The length of an hour: CRIER_TEST_ENGAGE_HOUR_MS (tests only) or an hour. */
static int64_t
hour_ms(void)
{
	const char	*v = getenv("CRIER_TEST_ENGAGE_HOUR_MS");
	char		*end;
	long long	 n;

	if (v == NULL || *v == '\0')
		return (ENGAGE_HOUR_MS);
	n = strtoll(v, &end, 10);
	if (*end != '\0' || n <= 0 || n > ENGAGE_HOUR_MS)
		return (ENGAGE_HOUR_MS);
	log_warnx("CRIER_TEST_ENGAGE_HOUR_MS=%lld: for tests only", n);
	return ((int64_t)n);
}

/* Until when channel NAME must not be asked (0: not waiting). */
static int64_t
wait_until(const char *name)
{
	size_t	i;

	for (i = 0; i < nwaits; i++)
		if (strcmp(waits[i].channel, name) == 0)
			return (waits[i].until);
	return (0);
}

/* Channel NAME must not be asked before UNTIL. */
static void
wait_set(const char *name, int64_t until)
{
	size_t	i;

	for (i = 0; i < nwaits; i++)
		if (strcmp(waits[i].channel, name) == 0) {
			if (until > waits[i].until)
				waits[i].until = until;
			return;
		}
	waits = xreallocarray(waits, nwaits + 1, sizeof(*waits));
	waits[nwaits].channel = xstrdup(name);
	waits[nwaits++].until = until;
}

/* True if a fetch for delivery ID is under way. */
static bool
busy(const char *id)
{
	size_t	i;

	for (i = 0; i < ENGAGE_MAX_IN_FLIGHT; i++)
		if (inflight[i] != NULL && strcmp(inflight[i]->id, id) == 0)
			return (true);
	return (false);
}

/* Frees J and its slot. */
static void
job_free(struct ejob *j)
{
	inflight[j->slot] = NULL;
	n_inflight--;
	free(j->channel);
	free(j);
}

/* The channel answered J. */
static void
on_engagement(void *arg, const struct chan_engagement *e)
{
	struct ejob		*j = arg;
	struct store_engage	 se;
	int64_t			 now = when_now();

	if (e->aborted) {
		job_free(j);
		return;
	}
	if (e->wait_ms > 0)
		wait_set(j->channel, now + e->wait_ms);
	if (e->ok) {
		memset(&se, 0, sizeof(se));
		se.stage = j->stage;
		se.likes = e->likes;
		se.reposts = e->reposts;
		se.replies = e->replies;
		se.fetched = now;
		if (store_engage_put(j->id, &se) == 0)
			log_debug("engagement of %s on %s after %s: %lld likes, "
			    "%lld reposts, %lld replies", j->id, j->channel,
			    stage_labels[j->stage - 1], (long long)e->likes,
			    (long long)e->reposts, (long long)e->replies);
	} else {
		log_debug("engagement of %s on %s: %s; trying again later",
		    j->id, j->channel, e->error);
		store_engage_retry(j->id, now + (e->wait_ms > e_hour / 4 ?
		    e->wait_ms : e_hour / 4));
	}
	job_free(j);
}

/* The JSON array of channels that can be asked now, or NULL if none. */
static char *
askable(int64_t now)
{
	json_t	*a = json_array();
	char	*s = NULL;
	size_t	 i;

	for (i = 0; i < chan_count(); i++) {
		struct channel	*ch = chan_at(i);

		if (ch->ops->engage != NULL && wait_until(ch->name) <= now)
			json_array_append_new(a, json_string(ch->name));
	}
	if (json_array_size(a) > 0)
		s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return (s);
}

/* Starts the fetch of due post D, passing checkpoint STAGE. */
static void
start(const struct store_engage_due *d, int stage, int64_t now)
{
	struct channel	*ch = chan_find(d->channel);
	struct ejob	*j;
	size_t		 slot;

	if (ch == NULL || ch->ops->engage == NULL)
		return;
	for (slot = 0; inflight[slot] != NULL; slot++)
		;
	j = xcalloc(1, sizeof(*j));
	snprintf(j->id, sizeof(j->id), "%s", d->id);
	j->channel = xstrdup(d->channel);
	j->stage = stage;
	j->slot = slot;
	inflight[slot] = j;
	n_inflight++;
	if (ch->ops->engage(ch, d->remote_id, on_engagement, j) == -1) {
		log_debug("engagement of %s on %s: cannot start the request",
		    d->id, d->channel);
		store_engage_retry(d->id, now + e_hour / 4);
		job_free(j);
	}
}

/* The timer: starts fetches for posts whose checkpoint has come. */
static void
tick(uv_timer_t *t)
{
	struct store_engage_due	*d = NULL;
	size_t			 n = 0, i;
	int64_t			 now = when_now(), off[STORE_ENGAGE_STAGES];
	int64_t			 age;
	char			*chans;
	int			 stage;

	(void)t;
	if (e_stopping || n_inflight >= ENGAGE_MAX_IN_FLIGHT ||
	    (chans = askable(now)) == NULL)
		return;
	for (i = 0; i < STORE_ENGAGE_STAGES; i++)
		off[i] = stage_hours[i] * e_hour;
	/* A day past the last checkpoint, a post is no longer asked about. */
	if (store_engage_due(chans, now, off, now - off[2] - 24 * e_hour,
	    ENGAGE_BATCH, &d, &n) == -1) {
		free(chans);
		return;
	}
	free(chans);
	for (i = 0; i < n && n_inflight < ENGAGE_MAX_IN_FLIGHT; i++) {
		if (busy(d[i].id) || wait_until(d[i].channel) > now)
			continue;
		/* After a long stop, the latest checkpoint passed counts. */
		age = now - d[i].sent_at;
		for (stage = d[i].stage + 1; stage < STORE_ENGAGE_STAGES &&
		    age >= off[stage]; stage++)
			;
		start(&d[i], stage, now);
	}
	store_engage_due_free(d, n);
}

/* Sets up the timer. */
void
engage_init(const struct crierd_ctx *ctx)
{
	int64_t	tickms;

	e_hour = hour_ms();
	tickms = e_hour / 60;
	if (tickms > ENGAGE_TICK_MAX_MS)
		tickms = ENGAGE_TICK_MAX_MS;
	if (tickms < ENGAGE_TICK_MIN_MS)
		tickms = ENGAGE_TICK_MIN_MS;
	uv_timer_init(ctx->loop, &e_timer);
	e_inited = true;
	e_stopping = false;
	uv_timer_start(&e_timer, tick, (uint64_t)tickms, (uint64_t)tickms);
}

/* Stops the timer and forgets the channels' waits. */
void
engage_shutdown(void)
{
	size_t	i;

	if (!e_inited)
		return;
	e_stopping = true;
	uv_timer_stop(&e_timer);
	uv_close((uv_handle_t *)&e_timer, NULL);
	e_inited = false;
	for (i = 0; i < nwaits; i++)
		free(waits[i].channel);
	free(waits);
	waits = NULL;
	nwaits = 0;
}

/* ID's figures for show, list and the report, or null. */
json_t *
engage_json(const char *id)
{
	struct store_engage	e;

	if (store_engage_get(id, &e) != 0 || e.stage < 1 ||
	    e.stage > STORE_ENGAGE_STAGES)
		return (json_null());
	return (json_pack("{s:I, s:I, s:I, s:s, s:o}", "likes",
	    (json_int_t)e.likes, "reposts", (json_int_t)e.reposts, "replies",
	    (json_int_t)e.replies, "as_of", stage_labels[e.stage - 1],
	    "fetched", reply_time(e.fetched)));
}
