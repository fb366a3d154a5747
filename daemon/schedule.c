/* The scheduler: one libuv timer armed for the earliest waiting delivery. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "schedule.h"
#include "channel.h"
#include "log.h"
#include "store.h"
#include "when.h"

#define BIT(s)		(1u << (s))
/*
 * The timer runs on the monotonic clock while due times are wall-clock; a
 * cap on how long we sleep bounds the error if the wall clock is stepped.
 */
#define SCHED_MAX_SLEEP	(5 * 60 * 1000)

static uv_loop_t		*sched_loop;
static uv_timer_t		 sched_timer;
static int			 sched_inited;
static const struct config	*sched_conf;

static void	fire(uv_timer_t *);

/* Sets up the timer. */
int
sched_init(uv_loop_t *loop, const struct config *c)
{
	sched_loop = loop;
	sched_conf = c;
	if (uv_timer_init(loop, &sched_timer) != 0)
		return (-1);
	sched_inited = 1;
	return (0);
}

/* Switches to configuration C. */
void
sched_set_config(const struct config *c)
{
	sched_conf = c;
	sched_kick();
}

/* Exponential backoff from 30 s, capped at an hour, with +-20% jitter. */
int64_t
sched_backoff(int attempts)
{
	int64_t		base = 30000;
	uint32_t	r = 0;
	int		i;

	for (i = 1; i < attempts && base < 3600000; i++)
		base *= 2;
	if (base > 3600000)
		base = 3600000;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	return (base * 8 / 10 + (int64_t)(r % (uint32_t)(base * 4 / 10 + 1)));
}

/* Books the outcome R of sending D. */
static void
book(const struct delivery *d, const struct chan_result *r)
{
	struct store_update	u;
	char			detail[640];

	memset(&u, 0, sizeof(u));
	u.attempt = true;
	switch (r->outcome) {
	case CHAN_SENT:
		u.last_error = "";
		u.remote_id = r->remote_id[0] ? r->remote_id : NULL;
		u.remote_url = r->remote_url[0] ? r->remote_url : NULL;
		u.sent_at = when_now();
		store_transition(d->id, BIT(DS_SENDING), DS_SENT, &u,
		    STORE_ACTOR_DAEMON, "sent", r->remote_url[0] ? r->remote_url :
		    NULL, NULL);
		log_info("delivery %s: sent to %s%s%s", d->id, d->channel,
		    r->remote_url[0] ? " as " : "", r->remote_url);
		return;
	case CHAN_TRANSIENT:
		u.last_error = r->error;
		if (d->attempts + 1 < SCHED_MAX_ATTEMPTS) {
			u.next_attempt = when_now() + (r->retry_after > 0 ?
			    r->retry_after : sched_backoff(d->attempts + 1));
			snprintf(detail, sizeof(detail), "attempt %d: %s",
			    d->attempts + 1, r->error);
			store_transition(d->id, BIT(DS_SENDING), DS_RETRYING, &u,
			    STORE_ACTOR_DAEMON, "retrying", detail, NULL);
			log_warnx("delivery %s: %s (will retry)", d->id, r->error);
			return;
		}
		snprintf(detail, sizeof(detail), "gave up after %d attempts: %s",
		    d->attempts + 1, r->error);
		break;
	case CHAN_PERMANENT:
	case CHAN_AUTH:
		u.last_error = r->error;
		snprintf(detail, sizeof(detail), "%s", r->error);
		break;
	}
	store_transition(d->id, BIT(DS_SENDING), DS_FAILED, &u,
	    STORE_ACTOR_DAEMON, "failed", detail, NULL);
	log_errx("delivery %s: failed: %s", d->id, detail);
}

/* Sends D: commits `sending` first, so a crash mid-request is visible. */
static void
send_one(struct delivery *d, int64_t now)
{
	struct channel		*ch = chan_find(d->channel);
	struct chan_result	 r;
	struct post		 p;
	char			 late[128];

	if (d->state == DS_SCHEDULED && now - d->due > sched_conf->catch_up * 1000) {
		snprintf(late, sizeof(late), "due %llds ago, more than catch_up "
		    "(%llds)", (long long)((now - d->due) / 1000),
		    (long long)sched_conf->catch_up);
		store_transition(d->id, BIT(DS_SCHEDULED), DS_MISSED, NULL,
		    STORE_ACTOR_DAEMON, "missed", late, NULL);
		log_warnx("delivery %s: missed: %s", d->id, late);
		return;
	}
	if (ch == NULL) {
		struct store_update u = { .last_error = "channel is no longer "
		    "configured" };

		store_transition(d->id, BIT(DS_SCHEDULED) | BIT(DS_RETRYING),
		    DS_FAILED, &u, STORE_ACTOR_DAEMON, "failed",
		    u.last_error, NULL);
		log_errx("delivery %s: channel %s is no longer configured",
		    d->id, d->channel);
		return;
	}
	if (store_transition(d->id, BIT(DS_SCHEDULED) | BIT(DS_RETRYING),
	    DS_SENDING, NULL, STORE_ACTOR_DAEMON, "sending", NULL, NULL) != 0)
		return;
	memset(&p, 0, sizeof(p));
	p.id = d->id;
	p.channel = d->channel;
	p.due = d->due;
	p.calendar = d->calendar;
	p.uid = d->uid;
	p.recurrence_id = d->recurrence_id;
	p.summary = d->summary;
	p.text = d->text ? d->text : "";
	memset(&r, 0, sizeof(r));
	ch->ops->deliver(ch, &p, &r);
	book(d, &r);
}

/* Timer callback: sends everything due, then re-arms. */
static void
fire(uv_timer_t *t)
{
	struct delivery	*ds = NULL;
	size_t		 n = 0, i;
	int64_t		 now = when_now();

	if (store_due(now, SCHED_MAX_BATCH, &ds, &n) == -1) {
		/* The database is in trouble; try again shortly rather than spin. */
		uv_timer_start(&sched_timer, fire, 1000, 0);
		return;
	}
	for (i = 0; i < n; i++)
		send_one(&ds[i], now);
	store_deliveries_free(ds, n);
	if (n == SCHED_MAX_BATCH)
		uv_timer_start(&sched_timer, fire, 0, 0);
	else
		sched_kick();
}

/* Arms the timer for the next waiting delivery. */
void
sched_kick(void)
{
	int64_t	next, delay;

	if (!sched_inited)
		return;
	uv_timer_stop(&sched_timer);
	if (store_next_wakeup(&next) != 0)
		return;
	delay = next - when_now();
	if (delay < 0)
		delay = 0;
	if (delay > SCHED_MAX_SLEEP)
		delay = SCHED_MAX_SLEEP;
	uv_update_time(sched_loop);
	uv_timer_start(&sched_timer, fire, (uint64_t)delay, 0);
}

/* Settles what a previous run left behind. */
int
sched_recover(void)
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

			store_transition(ds[i].id, BIT(DS_SENDING), DS_RETRYING,
			    &u, STORE_ACTOR_DAEMON, "recovered",
			    "interrupted while sending; the channel is idempotent, "
			    "sending again", NULL);
			log_info("delivery %s: interrupted while sending, sending "
			    "again (channel %s is idempotent)", ds[i].id,
			    ds[i].channel);
		} else {
			struct store_update u = { .last_error = "interrupted while "
			    "sending: it may or may not have gone out" };

			store_transition(ds[i].id, BIT(DS_SENDING), DS_UNCERTAIN,
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
	f.to = now - sched_conf->catch_up * 1000;
	if (f.to <= 0)
		f.to = 1;
	if (store_list(&f, &ds, &n) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		snprintf(detail, sizeof(detail), "due %llds ago while crierd was "
		    "down, more than catch_up (%llds)",
		    (long long)((now - ds[i].due) / 1000),
		    (long long)sched_conf->catch_up);
		store_transition(ds[i].id, BIT(DS_SCHEDULED), DS_MISSED, NULL,
		    STORE_ACTOR_DAEMON, "missed", detail, NULL);
		log_warnx("delivery %s: missed: %s", ds[i].id, detail);
	}
	store_deliveries_free(ds, n);
	return (0);
}

/* Stops the timer; the loop closes it. */
void
sched_shutdown(void)
{
	if (!sched_inited)
		return;
	uv_timer_stop(&sched_timer);
	uv_close((uv_handle_t *)&sched_timer, NULL);
	sched_inited = 0;
}
