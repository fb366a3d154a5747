/* Retry arithmetic: backoff, Retry-After and rate-limit headers, token buckets. */
#ifndef CRIER_RETRY_H
#define CRIER_RETRY_H

#include <stdint.h>

#include "conf.h"

/* A token bucket for a channel's `rate = N/period`. */
struct retry_bucket {
	double	 tokens;	/* tokens left at AT */
	int64_t	 at;		/* ms since the epoch; 0: never used (full) */
};

/* Brings B up to NOW under RATE: refills, and caps at RATE's count. */
void	retry_bucket_refill(struct retry_bucket *b, const struct cfg_rate *rate,
	    int64_t now);
/*
 * Takes one token from B at NOW: 0 if taken, else the ms to wait until one
 * is there (nothing taken). No limit (count 0) always gives 0.
 */
int64_t	retry_bucket_take(struct retry_bucket *b, const struct cfg_rate *rate,
	    int64_t now);

/*
 * Parses a Retry-After value: delay-seconds or an HTTP-date. *DELAY gets the
 * ms from NOW (0 for a date in the past). -1 if it is neither.
 */
int	retry_after_parse(const char *v, int64_t now, int64_t *delay);
/*
 * Parses a rate-limit reset header (X-RateLimit-Reset, RateLimit-Reset):
 * seconds from now (small numbers), a Unix time in seconds (large ones),
 * an ISO 8601 time or an HTTP-date. *DELAY as for retry_after_parse.
 */
int	retry_ratelimit_reset_parse(const char *v, int64_t now, int64_t *delay);
/*
 * Exponential backoff before attempt ATTEMPTS + 1: BASE doubled per attempt,
 * capped at CAP, then +-20% jitter drawn from RND.
 */
int64_t	retry_backoff(int attempts, int64_t base, int64_t cap, uint32_t rnd);

#endif
