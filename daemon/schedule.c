/*
 * The scheduler: one libuv timer armed for the earliest delivery that can
 * go. Each goes one way (sending.c): `sending` committed, the post handed
 * to its channel, the outcome booked. Local channels end at once; network
 * ones run under max_in_flight overall, `concurrency` per channel (default
 * 1) and the channel's `rate` (a token bucket kept in the store).
 */
#include <config.h>

#include <sys/queue.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/random.h>

#include "schedule.h"
#include "schedule-int.h"
#include "channel.h"
#include "compose.h"
#include "context.h"
#include "delivery.h"
#include "http.h"
#include "log.h"
#include "recover.h"
#include "retry.h"
#include "sending.h"
#include "store.h"
#include "turn.h"
#include "thread.h"
#include "when.h"
#include "../common/human.h"
#include "../common/util.h"

#define BIT(s)		(1u << (s))
#define READY_MASK	(BIT(DS_SCHEDULED) | BIT(DS_RETRYING))
/*
 * The timer runs on the monotonic clock while due times are wall-clock; a
 * cap on how long we sleep bounds the error if the wall clock is stepped.
 */
#define SCHED_MAX_SLEEP	(5 * 60 * 1000)
/*
 * libuv's timers have millisecond resolution on a cached clock and fire up
 * to a millisecond or two late, and an fsync takes up to 5 ms here now and
 * then; the timer is armed this much early instead, the marks are written
 * and committed (the fsync off the due instant), and the requests leave at
 * the due instant itself, never before it: a second timer wakes the loop
 * SCHED_SPIN ms ahead and clock_nanosleep waits out the rest (the loop
 * stands still that long at most; sched_launch.c).
 */
#define SCHED_EARLY	20	/* ms */
#define SCHED_WARM	30000	/* ms: libcurl is set up this long before a network delivery is due */
#define SCHED_CKPT_DELAY 20	/* ms after a commit: its requests are on the wire */
/*
 * Local deliveries (the outbox) under way at once per channel: their
 * files are written on libuv's thread pool, which DNS lookups and calendar
 * loads share (4 threads).
 */
#define SCHED_LOCAL_MAX	4

/*
 * An outcome to book at the end of the loop turn (with the others of the
 * turn, in one transaction), or that the store could not record yet: its
 * delivery stays `sending` meanwhile.
 */
struct unbooked {
	TAILQ_ENTRY(unbooked)	 entry;
	char			 id[DELIVERY_ID_LEN + 1];
	char			*channel;
	int			 attempts;
	int64_t			 due;
	struct chan_result	 r;
};

static uv_loop_t		*sched_loop;
static uv_timer_t		 sched_timer;
static uv_timer_t		 ckpt_timer;	/* the WAL checkpoint, after the requests left */
static uv_idle_t		 more_idle;	/* fire() again next turn: a batch left more */
static int			 sched_inited;
static const struct crierd_ctx	*sched_ctx;	/* configuration, templates */
static struct chrt		**rts;
static size_t			 nrts;
static size_t			 rr;		/* round robin over channels */
static int64_t			 retry_base = SCHED_RETRY_BASE;
static int64_t			 max_age = SCHED_MAX_AGE;
static TAILQ_HEAD(, unbooked)	 unbooked = TAILQ_HEAD_INITIALIZER(unbooked);
static TAILQ_HEAD(, unbooked)	 tobook = TAILQ_HEAD_INITIALIZER(tobook);

static struct start		*starts;	/* marked in the open batch */
static size_t			 nstarts, capstarts;
static int64_t			 store_wait;	/* backoff after a store failure, ms */
static int64_t			 store_retry_at; /* not before then, wall ms */
static int			 recover_pending; /* sched_recover met a store failure */
static int			 stopping;	/* books outcomes, starts nothing */
static int64_t			 armed_for;	/* the due instant the timer is early for, wall ms */
static int64_t			 early = SCHED_EARLY;

static void	fire(uv_timer_t *);
static void	on_more(uv_idle_t *);

/* A positive number (of ms) from environment variable NAME, or DEF. */
int64_t
sched_env_ms(const char *name, int64_t def)
{
	const char	*v = getenv(name);
	char		*end;
	long long	 n;

	if (v == NULL || *v == '\0')
		return (def);
	n = strtoll(v, &end, 10);
	if (*end != '\0' || n <= 0)
		return (def);
	log_warnx("%s=%lld: for tests only", name, n);
	return ((int64_t)n);
}

/* Sets up the timer on CTX's loop; the configuration is read from CTX. */
int
sched_init(const struct crierd_ctx *ctx)
{
	sched_ctx = ctx;
	sched_loop = ctx->loop;
	retry_base = sched_env_ms("CRIER_TEST_BACKOFF_MS", SCHED_RETRY_BASE);
	max_age = sched_env_ms("CRIER_TEST_RETRY_MAX_AGE_MS", SCHED_MAX_AGE);
	early = sched_env_ms("CRIER_TEST_EARLY_MS", SCHED_EARLY);
	if (uv_timer_init(sched_loop, &sched_timer) != 0 ||
	    uv_timer_init(sched_loop, &ckpt_timer) != 0 ||
	    uv_idle_init(sched_loop, &more_idle) != 0 ||
	    sched_launch_init(sched_loop) != 0 ||
	    sched_pause_init(sched_loop) != 0 ||
	    turn_init(sched_loop) != 0)
		return (-1);
	sched_inited = 1;
	return (0);
}

/* Exponential backoff from retry_base, capped at an hour, with +-20% jitter. */
int64_t
sched_backoff(int attempts)
{
	uint32_t	r = 0;

	/* getrandom, not RAND_bytes: an outbox retry need not start OpenSSL. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)when_now();
	return (retry_backoff(attempts, retry_base, SCHED_RETRY_CAP, r));
}

/* The run-time state of channel NAME, loaded from the store the first time. */
struct chrt *
sched_chrt_get(const char *name)
{
	struct chrt	*rt, **nr;
	size_t		 i;

	for (i = 0; i < nrts; i++)
		if (strcmp(rts[i]->name, name) == 0)
			return (rts[i]);
	if ((rt = calloc(1, sizeof(*rt))) == NULL ||
	    (rt->name = strdup(name)) == NULL ||
	    (nr = reallocarray(rts, nrts + 1, sizeof(*rts))) == NULL)
		abort();
	rts = nr;
	rts[nrts++] = rt;
	if (store_channel_get(name, &rt->sc) == 0 && rt->sc.has_tokens) {
		rt->bucket.tokens = rt->sc.tokens;
		rt->bucket.at = rt->sc.tokens_at;
	}
	return (rt);
}

/* Saves RT's durable part. */
int
sched_chrt_save(struct chrt *rt)
{
	rt->sc.has_tokens = rt->bucket.at != 0;
	rt->sc.tokens = rt->bucket.tokens;
	rt->sc.tokens_at = rt->bucket.at;
	return (store_channel_put(rt->name, &rt->sc));
}

/* Replaces string *DST with a copy of SRC (may be NULL); 1 if it changed. */
int
sched_set_str(char **dst, const char *src)
{
	if ((*dst == NULL && src == NULL) ||
	    (*dst != NULL && src != NULL && strcmp(*dst, src) == 0))
		return (0);
	free(*dst);
	*dst = NULL;
	if (src != NULL && (*dst = strdup(src)) == NULL)
		abort();
	return (1);
}

/* The number of requests CH may have under way. */
static int
chan_concurrency(const struct channel *ch)
{
	return (ch->cfg->concurrency > 0 ? ch->cfg->concurrency : 1);
}

/* Moves ID (in `sending`, or ready when FROM says) to held: its channel is paused. */
void
sched_hold_paused(const char *id, unsigned from, const char *reason,
    const struct store_update *base)
{
	struct store_update	u;
	char			detail[640];

	if (base != NULL)
		u = *base;
	else
		memset(&u, 0, sizeof(u));
	u.hold_reason = SCHED_PAUSED;
	snprintf(detail, sizeof(detail), "channel paused%s%s",
	    reason ? ": " : "", reason ? reason : "");
	delivery_move(id, from, DS_HELD, &u, STORE_ACTOR_DAEMON, "held",
	    detail, NULL);
}

/* Records R's error as RT's latest, or clears it after a success. */
static void
note_result(struct chrt *rt, const struct chan_result *r)
{
	int64_t	now = when_now();

	if (rt == NULL)
		return;
	if (r->channel_wait > 0 && now + r->channel_wait > rt->not_before)
		rt->not_before = now + r->channel_wait;
	if (sched_set_str(&rt->sc.last_error, r->outcome == CHAN_SENT ? NULL :
	    r->error))
		sched_chrt_save(rt);
}

/* Books the outcome R of sending D (which is in `sending`); -1 if the store failed. */
static int
book(const struct delivery *d, const struct chan_result *r)
{
	struct store_update	u;
	struct chrt		*rt = sched_chrt_get(d->channel);
	char			detail[800], ago[32];
	int64_t			now = when_now(), next;
	uint64_t		failures = store_failures();

	memset(&u, 0, sizeof(u));
	u.attempt = true;
	note_result(rt, r);
	switch (r->outcome) {
	case CHAN_SENT:
		u.last_error = "";
		u.remote_id = r->remote_id[0] ? r->remote_id : NULL;
		u.remote_url = r->remote_url[0] ? r->remote_url : NULL;
		u.sent_at = now;
		if (delivery_move(d->id, BIT(DS_SENDING), DS_SENT, &u,
		    STORE_ACTOR_DAEMON, "sent", r->remote_url[0] ? r->remote_url :
		    NULL, NULL) == -1)
			return (-1);
		log_info("delivery %s: sent to %s%s%s", d->id, d->channel,
		    r->remote_url[0] ? " as " : "", r->remote_url);
		return (0);
	case CHAN_TRANSIENT:
		u.last_error = r->error;
		next = now + (r->retry_after > 0 ? r->retry_after :
		    sched_backoff(d->attempts + 1));
		if (d->attempts + 1 >= SCHED_MAX_ATTEMPTS) {
			snprintf(detail, sizeof(detail), "gave up after %d "
			    "attempts: %s", d->attempts + 1, r->error);
			break;
		}
		if (next - d->due > max_age) {
			human_duration((now - d->due) / 1000, ago, sizeof(ago));
			snprintf(detail, sizeof(detail), "gave up after %d "
			    "attempts, %s after it was due: %s", d->attempts + 1,
			    ago, r->error);
			break;
		}
		u.next_attempt = next;
		snprintf(detail, sizeof(detail), "attempt %d: %s; next in %s",
		    d->attempts + 1, r->error, human_duration((next - now + 999) /
		    1000, ago, sizeof(ago)));
		if (delivery_move(d->id, BIT(DS_SENDING), DS_RETRYING, &u,
		    STORE_ACTOR_DAEMON, "retrying", detail, NULL) == -1)
			return (-1);
		log_warnx("delivery %s: %s (will retry)", d->id, r->error);
		return (0);
	case CHAN_AUTH:
		/* The credentials are wrong: nothing on this channel can go. */
		u.last_error = r->error;
		snprintf(detail, sizeof(detail), "credentials refused: %s",
		    r->error);
		sched_hold_paused(d->id, BIT(DS_SENDING), detail, &u);
		if (store_failures() != failures)
			return (-1);
		sched_pause(d->channel, detail, STORE_ACTOR_DAEMON, NULL, NULL);
		return (0);
	case CHAN_PERMANENT:
		u.last_error = r->error;
		snprintf(detail, sizeof(detail), "%s", r->error);
		break;
	}
	if (delivery_move(d->id, BIT(DS_SENDING), DS_FAILED, &u,
	    STORE_ACTOR_DAEMON, "failed", detail, NULL) == -1)
		return (-1);
	log_errx("delivery %s: failed: %s", d->id, detail);
	return (0);
}

/*
 * Books R for D, or keeps it to book once the store works again: the
 * delivery stays `sending` meanwhile, so it is never sent twice.
 */
static void
settle(const struct delivery *d, const struct chan_result *r)
{
	struct unbooked	*ub;

	if (book(d, r) == 0)
		return;
	if ((ub = calloc(1, sizeof(*ub))) == NULL ||
	    (ub->channel = strdup(d->channel)) == NULL)
		abort();
	snprintf(ub->id, sizeof(ub->id), "%s", d->id);
	ub->attempts = d->attempts;
	ub->due = d->due;
	ub->r = *r;
	TAILQ_INSERT_TAIL(&unbooked, ub, entry);
	log_warnx("delivery %s: its outcome waits for the store to work again",
	    d->id);
}

/* The delivery an outcome UB is about (what book() reads of it) into D. */
static void
ub_delivery(const struct unbooked *ub, struct delivery *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", ub->id);
	d->channel = ub->channel;
	d->attempts = ub->attempts;
	d->due = ub->due;
}

/* Books the outcomes of the loop turn in the open batch, but `auth` ones; -1 if the store failed. */
static int
tobook_book(void)
{
	struct unbooked	*ub;
	struct delivery	 d;

	TAILQ_FOREACH(ub, &tobook, entry) {
		if (ub->r.outcome == CHAN_AUTH)
			continue;
		ub_delivery(ub, &d);
		if (book(&d, &ub->r) == -1)
			return (-1);
	}
	return (0);
}

/*
 * After the batch: booked outcomes are forgotten, refused ones (FAILED)
 * wait for the store, still `sending`; an `auth` outcome pauses its
 * channel, in its own transaction.
 */
static void
tobook_end(int failed)
{
	struct unbooked	*ub;
	struct delivery	 d;

	while ((ub = TAILQ_FIRST(&tobook)) != NULL) {
		TAILQ_REMOVE(&tobook, ub, entry);
		if (ub->r.outcome == CHAN_AUTH) {
			ub_delivery(ub, &d);
			settle(&d, &ub->r);
		} else if (failed) {
			TAILQ_INSERT_TAIL(&unbooked, ub, entry);
			log_warnx("delivery %s: its outcome waits for the store "
			    "to work again", ub->id);
			continue;
		}
		free(ub->channel);
		free(ub);
	}
}

/* End of the loop turn with outcomes: the scheduler runs now (it books them). */
static void
tobook_flush(void)
{
	if (!sched_inited || TAILQ_EMPTY(&tobook))
		return;
	uv_timer_stop(&sched_timer);
	fire(&sched_timer);
}

/* Keeps outcome R of D to book at the end of the loop turn. */
static void
tobook_add(const struct delivery *d, const struct chan_result *r)
{
	struct unbooked	*ub;

	if ((ub = calloc(1, sizeof(*ub))) == NULL ||
	    (ub->channel = strdup(d->channel)) == NULL)
		abort();
	snprintf(ub->id, sizeof(ub->id), "%s", d->id);
	ub->attempts = d->attempts;
	ub->due = d->due;
	ub->r = *r;
	TAILQ_INSERT_TAIL(&tobook, ub, entry);
	turn_request(tobook_flush);
}

/* Books the outcomes the store refused before; -1 if it still refuses. */
static int
rebook(void)
{
	struct unbooked	*ub, *next;
	struct delivery	 d;

	for (ub = TAILQ_FIRST(&unbooked); ub != NULL; ub = next) {
		next = TAILQ_NEXT(ub, entry);
		ub_delivery(ub, &d);
		if (book(&d, &ub->r) == -1)
			return (-1);
		TAILQ_REMOVE(&unbooked, ub, entry);
		free(ub->channel);
		free(ub);
	}
	return (0);
}

/* A request cut short by our own shutdown: as a crash would leave it. */
static void
interrupted(const struct delivery *d, const struct channel_ops *ops)
{
	if (ops->idempotent) {
		struct store_update u = { .next_attempt = when_now() };

		delivery_move(d->id, BIT(DS_SENDING), DS_RETRYING, &u,
		    STORE_ACTOR_DAEMON, "interrupted", "crierd stopped during "
		    "the request; the channel is idempotent, sending again", NULL);
	} else {
		struct store_update u = { .last_error = "crierd stopped during "
		    "the request: it may or may not have gone out" };

		delivery_move(d->id, BIT(DS_SENDING), DS_UNCERTAIN, &u,
		    STORE_ACTOR_DAEMON, "uncertain", u.last_error, NULL);
		log_warnx("delivery %s: uncertain: stopped while sending to %s",
		    d->id, d->channel);
	}
}

/* The end of sending D: booked at the end of the turn, or as a crash would leave it when crierd stops. */
static void
sent(const struct delivery *d, const struct channel_ops *ops,
    const struct chan_result *r, bool later)
{
	(void)later;
	sched_chrt_get(d->channel)->in_flight--;
	if (r->aborted)
		interrupted(d, ops);
	else
		tobook_add(d, r);
}

/* Fails D at once (before any attempt) with ERR. */
static int
fail_now(const struct delivery *d, const char *err)
{
	struct store_update	u;

	memset(&u, 0, sizeof(u));
	u.last_error = err;
	if (delivery_move(d->id, READY_MASK, DS_FAILED, &u,
	    STORE_ACTOR_DAEMON, "failed", err, NULL) == -1)
		return (-1);
	log_errx("delivery %s: failed: %s", d->id, err);
	return (0);
}

/*
 * The last look before D goes out on CH: measured again (the limit may have
 * changed since it was queued); one that does not fit is held with the
 * problem named, never sent. 1 if held, -1 if the store failed.
 */
static int
refit(struct channel *ch, struct delivery *d)
{
	struct store_update	u;
	struct len_result	lr;
	char			why[256];

	if (ch->ops->email)
		return (0);	/* rendered per recipient; no length rule */
	if (thread_measure(ch, d->text, &lr, NULL, why, sizeof(why)) == -1)
		;	/* split = thread, but it cannot be split: WHY says why */
	else if (lr.fits)
		return (0);
	else
		compose_does_not_fit(&lr, why, sizeof(why));
	memset(&u, 0, sizeof(u));
	u.hold_reason = SCHED_PROBLEM;
	u.last_error = why;
	if (delivery_move(d->id, READY_MASK, DS_HELD, &u, STORE_ACTOR_DAEMON,
	    "held", why, NULL) == -1)
		return (-1);
	log_warnx("delivery %s: not sent: %s", d->id, why);
	return (1);
}

/*
 * Marks D `sending` on CH (with the token taken) in the open batch; it is
 * handed over only once the batch is committed (starts_go), so a crash
 * mid-request is visible afterwards. D's contents are taken over once it
 * is marked (D is cleared then).
 */
static int
send_one(struct channel *ch, struct chrt *rt, struct delivery *d, int took)
{
	struct start	*s;
	int		 rc;

	if ((rc = refit(ch, d)) != 0)
		return (rc < 0 ? -1 : 0);
	rc = delivery_move(d->id, READY_MASK, DS_SENDING, NULL,
	    STORE_ACTOR_DAEMON, "sending", NULL, NULL);
	if (took && rc == 0 && sched_chrt_save(rt) == -1)
		rc = -1;	/* the whole batch is rolled back */
	if (rc != 0) {
		/* Nothing changed: the delivery stays where it was. */
		if (took)
			rt->bucket.tokens += 1.0;	/* not used after all */
		return (rc == 1 ? 0 : -1);
	}
	if (nstarts == capstarts) {
		capstarts = capstarts ? capstarts * 2 : 64;
		starts = xreallocarray(starts, capstarts, sizeof(*starts));
	}
	s = &starts[nstarts++];
	s->ch = ch;
	s->rt = rt;
	s->d = *d;
	s->took = took;
	memset(d, 0, sizeof(*d));
	rt->in_flight++;
	return (0);
}

/* Hands D over to CH's sending now (its `sending` mark is committed); D is taken over. */
void
sched_start_now(struct channel *ch, struct delivery *d)
{
	sending_start(ch, d, sched_ctx->tmpls, sent);
}

/*
 * The committed starts leave at AT: at once, or from the launch timer
 * (sched_launch.c) when AT is further than SCHED_SPIN ms ahead.
 */
static void
starts_go(int64_t at)
{
	size_t	i, n = nstarts;

	nstarts = 0;
	if (at - when_now() > SCHED_SPIN) {
		sched_launch_add(starts, n, at);
		return;
	}
	sched_sleep_until(at);
	for (i = 0; i < n; i++)
		sched_start_now(starts[i].ch, &starts[i].d);
}

/* Forgets the marks of a batch that was not committed: nothing changed. */
static void
starts_undo(void)
{
	size_t	i;

	for (i = 0; i < nstarts; i++) {
		starts[i].rt->in_flight--;
		if (starts[i].took)
			starts[i].rt->bucket.tokens += 1.0;
		store_delivery_clear(&starts[i].d);
	}
	nstarts = 0;
}

/* Marks D missed if it is a scheduled post later than catch_up; 1 if so. */
static int
check_missed(const struct delivery *d, int64_t now)
{
	char	late[128], a[32], b[32];

	if (d->state != DS_SCHEDULED || now - d->due <= sched_ctx->conf->catch_up * 1000)
		return (0);
	snprintf(late, sizeof(late), "due %s ago, more than catch_up (%s)",
	    human_duration((now - d->due) / 1000, a, sizeof(a)),
	    human_duration(sched_ctx->conf->catch_up, b, sizeof(b)));
	if (delivery_move(d->id, BIT(DS_SCHEDULED), DS_MISSED, NULL,
	    STORE_ACTOR_DAEMON, "missed", late, NULL) == -1)
		return (-1);
	log_warnx("delivery %s: missed: %s", d->id, late);
	return (1);
}

/* The configured channel names as a JSON array (for store_due_for). */
static char *
channel_names(void)
{
	json_t	*a = json_array();
	char	*s;
	size_t	 i;

	for (i = 0; i < chan_count(); i++)
		json_array_append_new(a, json_string(chan_at(i)->name));
	if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
		abort();
	json_decref(a);
	return (s);
}

/* Fails what is ready on channels no longer configured; -1 on error. */
static int
fail_orphans(int64_t now, int *more)
{
	struct delivery	*ds = NULL;
	size_t		 n = 0, i;
	char		*names = channel_names();
	int64_t		 t;
	int		 rc;

	/*
	 * Asked first through queue_counts (a few rows): the query for the
	 * rows themselves walks every due row of every channel.
	 */
	if ((rc = store_next_wakeup_for(NULL, names, &t)) != 0 || t > now) {
		free(names);
		return (rc == -1 ? -1 : 0);
	}
	rc = store_due_for(NULL, names, now, SCHED_MAX_BATCH, &ds, &n);
	free(names);
	if (rc == -1)
		return (-1);
	for (i = 0; i < n && rc != -1; i++)
		if ((rc = check_missed(&ds[i], now)) == 0)
			rc = fail_now(&ds[i], "channel is no longer configured");
	if (rc == 1)
		rc = 0;
	if (n == SCHED_MAX_BATCH)
		*more = 1;
	store_deliveries_free(ds, n);
	return (rc == -1 ? -1 : 0);
}

/* Starts what channel CH may send now; -1 on a database error. */
static int
run_channel(struct channel *ch, int64_t now, int *more)
{
	struct chrt	*rt = sched_chrt_get(ch->name);
	struct delivery	*ds = NULL;
	size_t		 n = 0, i, want;
	int		 http = !ch->ops->local, stop = 0, took;
	int		 slots, rc, failed = 0, busy;

	if (rt->sc.paused) {
		/* What falls due on a paused channel waits, held. */
		if (store_due_for(ch->name, NULL, now, SCHED_MAX_BATCH, &ds,
		    &n) == -1)
			return (-1);
		for (i = 0; i < n; i++)
			sched_hold_paused(ds[i].id, READY_MASK, rt->sc.reason, NULL);
		if (n == SCHED_MAX_BATCH)
			*more = 1;
		store_deliveries_free(ds, n);
		return (0);
	}
	while (!stop && rt->not_before <= now) {
		want = SCHED_MAX_BATCH;
		if (!http) {
			if (rt->in_flight >= SCHED_LOCAL_MAX)
				break;	/* one that ends kicks the scheduler */
			want = (size_t)(SCHED_LOCAL_MAX - rt->in_flight);
		} else {
			slots = chan_concurrency(ch) - rt->in_flight;
			busy = sending_count() + (int)(nstarts + sched_launch_waiting());
			if (sched_ctx->conf->max_in_flight - busy < slots)
				slots = sched_ctx->conf->max_in_flight - busy;
			if (slots <= 0)
				break;
			want = (size_t)slots;
		}
		if (store_due_for(ch->name, NULL, now, want, &ds, &n) == -1)
			return (-1);
		for (i = 0; i < n && !stop; i++) {
			if ((rc = check_missed(&ds[i], now)) == -1)
				stop = failed = 1;
			if (rc != 0)
				continue;
			took = 0;
			if (ch->cfg->rate.count > 0) {
				if (retry_bucket_take(&rt->bucket, &ch->cfg->rate,
				    now) > 0) {
					stop = 1;
					break;
				}
				took = 1;
			}
			if (send_one(ch, rt, &ds[i], took) == -1)
				stop = failed = 1;
		}
		store_deliveries_free(ds, n);
		ds = NULL;
		if (failed)
			return (-1);
		if (n < want)
			break;
	}
	return (0);
}

/* Timer callback: the WAL is copied into the database now that the requests left. */
static void
checkpoint(uv_timer_t *t)
{
	(void)t;
	if (sched_launch_waiting() > 0)	/* not while requests wait for their instant */
		uv_timer_start(&ckpt_timer, checkpoint, SCHED_CKPT_DELAY, 0);
	else
		store_checkpoint();
}

/* Arms the checkpoint timer if the WAL is due to be copied. */
void
sched_ckpt_arm(void)
{
	if (store_checkpoint_due() && !uv_is_active((uv_handle_t *)&ckpt_timer))
		uv_timer_start(&ckpt_timer, checkpoint, SCHED_CKPT_DELAY, 0);
}

/* Sleeps until wall-clock instant MS if it is still ahead (at most SCHED_EARLY ms). */
void
sched_sleep_until(int64_t ms)
{
	struct timespec	ts;

	if (ms <= when_now() || ms - when_now() > early)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Timer callback: starts everything that may go, then re-arms. */
static void
fire(uv_timer_t *t)
{
	int64_t	now = when_now();
	size_t	i, nch = chan_count();
	int	more = 0, err = 0;
	uint64_t failures = store_failures();

	(void)t;
	/* Woken early for ARMED_FOR: what is due then is marked now. */
	if (armed_for > now && armed_for - now <= early)
		now = armed_for;
	if (recover_pending) {
		recover_pending = 0;
		if (recover_run(sched_ctx->conf->catch_up) == -1 || store_failures() != failures)
			recover_pending = err = 1;
	}
	/*
	 * Group commit: what this turn changes (the outcomes of the requests
	 * that ended, the `sending` marks) is one transaction, committed
	 * before any request leaves.
	 */
	if (err || rebook() == -1 || store_begin() == -1) {
		err = 1;
		tobook_end(1);
	} else {
		if (tobook_book() == -1 || fail_orphans(now, &more) == -1)
			err = 1;
		for (i = 0; i < nch && !err && !stopping; i++)
			if (run_channel(chan_at((rr + i) % nch), now, &more) == -1)
				err = 1;
		if (err)
			store_rollback();
		else if (store_commit() == -1)
			err = 1;
		tobook_end(err);
		if (err)
			starts_undo();
		else {
			/*
			 * Marked and committed up to SCHED_EARLY ms ahead (the
			 * fsync is off the due instant); no request leaves
			 * before it. A crash in between leaves those
			 * `uncertain`, as one between a commit and its
			 * request always did; a stop, a pause or a reload
			 * that drops the channel meanwhile puts them back.
			 */
			if (nstarts > 0)
				starts_go(now);
		}
		sched_ckpt_arm();
	}
	rr++;
	if (err || store_failures() != failures) {
		/*
		 * The store is in trouble (a full disk...): everything stays
		 * where it was; try again later, waiting longer each time.
		 */
		store_wait = store_wait == 0 ? SCHED_STORE_WAIT_MIN :
		    store_wait * 2 > SCHED_STORE_WAIT_MAX ? SCHED_STORE_WAIT_MAX :
		    store_wait * 2;
		store_retry_at = when_now() + store_wait;
		uv_idle_stop(&more_idle);	/* not before the wait is over */
		uv_timer_start(&sched_timer, fire, (uint64_t)store_wait, 0);
		return;
	}
	if (store_wait != 0)
		log_info("scheduler: the store works again; going on");
	store_wait = 0;
	store_retry_at = 0;
	if (more) {
		/*
		 * Not a timer of 0 ms: libuv (1.44) runs a timer restarted
		 * from its own callback again in the same pass, so 20 000
		 * posts on the outbox went out in one turn of 33 s, no
		 * request answered meanwhile. An idle handle runs once per
		 * turn, after the loop has looked at its sockets.
		 */
		uv_timer_stop(&sched_timer);
		uv_idle_start(&more_idle, on_more);
	} else
		sched_kick();
}

/* Idle callback: the rest of what fire() found, a turn later. */
static void
on_more(uv_idle_t *h)
{
	uv_idle_stop(h);
	fire(&sched_timer);
}

/* When channel CH next has something it may start, or -1 (nothing, or a
 * request must end first, which kicks the scheduler). */
static int64_t
channel_wakeup(struct channel *ch, int64_t now)
{
	struct chrt	*rt = sched_chrt_get(ch->name);
	struct retry_bucket	 b;
	int64_t		 t, w;

	if (!rt->sc.paused && ch->ops->local && rt->in_flight >= SCHED_LOCAL_MAX)
		return (-1);
	if (!rt->sc.paused && !ch->ops->local &&
	    (rt->in_flight >= chan_concurrency(ch) ||
	    sending_count() + (int)sched_launch_waiting() >= sched_ctx->conf->max_in_flight))
		return (-1);
	if (store_next_wakeup_for(ch->name, NULL, &t) != 0)
		return (-1);
	if (rt->sc.paused)
		return (t);
	if (t < now)
		t = now;
	if (rt->not_before > t)
		t = rt->not_before;
	if (ch->cfg->rate.count > 0) {
		b = rt->bucket;
		if ((w = retry_bucket_take(&b, &ch->cfg->rate, t)) > 0)
			t += w;
	}
	return (t);
}

/* Arms the timer for the next delivery that may go. */
void
sched_kick(void)
{
	int64_t	 next = -1, warm = -1, t, delay, now = when_now();
	size_t	 i;
	char	*names;

	if (!sched_inited || sched_ctx == NULL)
		return;
	sched_ckpt_arm();	/* posts and other changes grow the WAL too */
	if (uv_is_active((uv_handle_t *)&more_idle))
		return;	/* fire() runs next turn anyway, and kicks after */
	uv_timer_stop(&sched_timer);
	names = channel_names();
	if (store_next_wakeup_for(NULL, names, &t) == 0)
		next = t;
	free(names);
	for (i = 0; i < chan_count(); i++) {
		if ((t = channel_wakeup(chan_at(i), now)) < 0)
			continue;
		/*
		 * A network delivery due soon: libcurl's start-up (OpenSSL's)
		 * goes now, not at its due instant; one due later wakes the
		 * scheduler for it then, so an idle daemon stays small.
		 */
		if (!chan_at(i)->ops->local) {
			if (t - now <= SCHED_WARM)
				http_warm();
			else if (warm < 0 || t - SCHED_WARM < warm)
				warm = t - SCHED_WARM;
		}
		if (next < 0 || t < next)
			next = t;
	}
	if (store_retry_at > now && (next < 0 || next < store_retry_at))
		next = store_retry_at;	/* backing off from a store failure */
	armed_for = 0;
	if (next < 0)
		return;
	/*
	 * The clock again: the queries above take a while at times (a page
	 * read from disk), and the timer counts from when it is armed.
	 */
	uv_update_time(sched_loop);
	now = when_now();
	delay = next - now;
	if (warm >= 0 && warm < next)
		delay = warm - now;	/* fire() finds nothing due, kicks again */
	else if (delay > 0 && delay <= SCHED_MAX_SLEEP) {
		armed_for = next;
		delay = delay > early ? delay - early : 0;
	}
	if (delay < 0)
		delay = 0;
	if (delay > SCHED_MAX_SLEEP)
		delay = SCHED_MAX_SLEEP;
	uv_timer_start(&sched_timer, fire, (uint64_t)delay, 0);
}

/* Settles what a previous run left behind; what the store refused is settled later. */
int
sched_recover(void)
{
	uint64_t	failures = store_failures();

	if (recover_run(sched_ctx->conf->catch_up) == -1)
		return (-1);
	recover_pending = store_failures() != failures;
	if (recover_pending)
		log_warnx("scheduler: what the last run left behind is settled "
		    "once the store works again");
	sched_pause_recover();
	return (0);
}

/* The stop begins, before the connections close: pauses and resumes under way answer. */
void
sched_stopping(void)
{
	if (sched_inited)
		sched_pause_stopping();
}

/* Stops the timer (the loop closes it) and frees the channels' state. */
void
sched_shutdown(void)
{
	struct unbooked	*ub;
	size_t		 i;

	if (!sched_inited)
		return;
	stopping = 1;
	turn_close();	/* books the outcomes of the last turn */
	sched_launch_shutdown();	/* what waits for its instant goes back */
	sched_pause_shutdown();
	while ((ub = TAILQ_FIRST(&unbooked)) != NULL) {
		/* Still `sending` in the store: the next start settles it. */
		TAILQ_REMOVE(&unbooked, ub, entry);
		free(ub->channel);
		free(ub);
	}
	/* http_shutdown has normally ended every request already. */
	sending_shutdown();
	for (i = 0; i < nrts; i++) {
		store_channel_clear(&rts[i]->sc);
		free(rts[i]->name);
		free(rts[i]);
	}
	free(rts);
	rts = NULL;
	nrts = 0;
	free(starts);
	starts = NULL;
	capstarts = 0;
	uv_timer_stop(&sched_timer);
	uv_close((uv_handle_t *)&sched_timer, NULL);
	uv_timer_stop(&ckpt_timer);
	uv_close((uv_handle_t *)&ckpt_timer, NULL);
	uv_idle_stop(&more_idle);
	uv_close((uv_handle_t *)&more_idle, NULL);
	sched_inited = 0;
}
