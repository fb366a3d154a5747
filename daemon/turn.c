/* Work left for the end of the loop turn, run by a prepare and a check handle. */
#include <config.h>

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "turn.h"
#include "log.h"
#include "when.h"

#define TURN_MAX_FN	8	/* distinct flush functions */
/*
 * A request takes two turns (accepted, then read and answered); a slice
 * of background work in each put 2 ms on every `status` during a reload.
 * After two turns let go, a slice runs whatever comes, so a steady stream
 * of requests slows a reload down but never stops it.
 */
#define TURN_YIELD_MAX	2

static uv_prepare_t	 prep;	/* after timers, before the loop waits */
static uv_prepare_t	 clock_prep;	/* the last one: reads the clock again */
static uv_check_t	 check;	/* after I/O callbacks */
static int		 inited, active;
static turn_fn		 fns[TURN_MAX_FN];
static size_t		 nfns;
static uint64_t		 requests, requests_seen;	/* control requests noted */
static int		 yielded;	/* turns let go in a row */
static bool		 full;		/* turn_set_full */
static struct turn_stats stats;	/* what the turns cost (turn_stats) */
static uint64_t		 last_ns, last_idle_ns;	/* at the end of the last turn */
static const uint64_t	 over_ms[TURN_NOVER] = { 5, 10, 50 };

/* Runs the requested functions (they may request again: run next turn). */
static void
run(void)
{
	turn_fn	 now[TURN_MAX_FN];
	size_t	 i, n = nfns;

	for (i = 0; i < n; i++)
		now[i] = fns[i];
	nfns = 0;
	for (i = 0; i < n; i++)
		now[i]();
	if (nfns == 0 && active) {
		uv_prepare_stop(&prep);
		uv_check_stop(&check);
		active = 0;
	}
}

/* Prepare callback: what timers asked for, before the loop waits. */
static void
on_prepare(uv_prepare_t *h)
{
	(void)h;
	run();
}

/* Check callback: what I/O callbacks asked for. */
static void
on_check(uv_check_t *h)
{
	(void)h;
	run();
}

/*
 * Counts the turn that ends now: its time since the last one ended, less
 * what the loop spent waiting in epoll (libuv's idle time). That is how
 * long a request or a due post that came in at its start could wait.
 */
static void
measure(uv_loop_t *loop)
{
	uint64_t	now = uv_hrtime(), idle = uv_metrics_idle_time(loop);
	uint64_t	busy_us, wall = now - last_ns, waited = idle - last_idle_ns;
	size_t		i;

	if (last_ns != 0 && now >= last_ns && idle >= last_idle_ns) {
		busy_us = (waited < wall ? wall - waited : 0) / 1000;
		stats.turns++;
		stats.busy_us += busy_us;
		if (busy_us > stats.longest_us) {
			stats.longest_us = busy_us;
			stats.longest_at = when_now();
		}
		for (i = 0; i < TURN_NOVER; i++)
			if (busy_us > over_ms[i] * 1000)
				stats.over[i]++;
		if (busy_us > 10000)
			log_debug("loop: a turn took %.1f ms", busy_us / 1000.0);
	}
	last_ns = now;
	last_idle_ns = idle;
}

/*
 * Prepare callback, after every other: libuv computes how long to wait
 * from the time it read before running timers, so a callback that took
 * 5 ms (a WAL checkpoint, a reload slice) would make the next timer, a
 * post's due instant, 5 ms late. Reading the clock again here keeps it on
 * time (libuv runs prepare handles newest first; this one is the oldest).
 */
static void
on_clock(uv_prepare_t *h)
{
	uv_update_time(h->loop);
	measure(h->loop);
}

/* Sets up the handles on LOOP. */
int
turn_init(uv_loop_t *loop)
{
	/* Without it uv_metrics_idle_time() stays 0 (measure). */
	if (uv_loop_configure(loop, UV_METRICS_IDLE_TIME) != 0 ||
	    uv_prepare_init(loop, &clock_prep) != 0 ||
	    uv_prepare_start(&clock_prep, on_clock) != 0 ||
	    uv_prepare_init(loop, &prep) != 0 || uv_check_init(loop, &check) != 0)
		return (-1);
	uv_unref((uv_handle_t *)&clock_prep);	/* it keeps nothing running */
	inited = 1;
	return (0);
}

/* Runs FN once before the loop next waits. */
void
turn_request(turn_fn fn)
{
	size_t	i;

	for (i = 0; i < nfns; i++)
		if (fns[i] == fn)
			return;
	if (nfns == TURN_MAX_FN)
		fatalx("turn: more than %d flush functions", TURN_MAX_FN);
	fns[nfns++] = fn;
	if (!inited) {
		run();		/* no loop (unit tests): at once */
		return;
	}
	if (!active) {
		uv_prepare_start(&prep, on_prepare);
		uv_check_start(&check, on_check);
		active = 1;
	}
}

/* A control request came in during this turn. */
void
turn_note_request(void)
{
	requests++;
}

/* Whether background work should let this turn go by (see turn.h). */
bool
turn_yield(void)
{
	if (requests != requests_seen && yielded < TURN_YIELD_MAX) {
		requests_seen = requests;
		yielded++;
		return (true);
	}
	requests_seen = requests;
	yielded = 0;
	return (false);
}

/* Work deferred to the turn's end is at its bound (or, FULL false, done). */
void
turn_set_full(bool f)
{
	full = f;
}

/* Whether control requests should wait for the next turn (turn_set_full). */
bool
turn_full(void)
{
	return (full);
}

/* Runs what is requested now. */
void
turn_flush(void)
{
	while (nfns > 0)
		run();
}

/* How many turns of the loop have ended; 0 before the first (or with no loop). */
uint64_t
turn_number(void)
{
	return (stats.turns);
}

/* What the loop's turns cost since the start, into ST. */
void
turn_stats(struct turn_stats *st)
{
	*st = stats;
}

/* Closes the handles. */
void
turn_close(void)
{
	if (!inited)
		return;
	turn_flush();
	uv_close((uv_handle_t *)&prep, NULL);
	uv_close((uv_handle_t *)&check, NULL);
	uv_close((uv_handle_t *)&clock_prep, NULL);
	inited = active = 0;
}
