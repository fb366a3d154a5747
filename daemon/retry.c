/* Retry arithmetic: backoff, Retry-After and rate-limit headers, token buckets. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "retry.h"
#include "when.h"

/* Refills B for the time since it was last used. */
void
retry_bucket_refill(struct retry_bucket *b, const struct cfg_rate *rate,
    int64_t now)
{
	double	cap, per_ms;

	if (rate->count == 0 || rate->period <= 0)
		return;
	cap = (double)rate->count;
	if (b->at == 0) {
		b->tokens = cap;
		b->at = now;
		return;
	}
	if (b->tokens > cap)
		b->tokens = cap;	/* the rate was lowered */
	if (now > b->at) {
		per_ms = cap / ((double)rate->period * 1000.0);
		b->tokens += (double)(now - b->at) * per_ms;
		if (b->tokens > cap)
			b->tokens = cap;
		b->at = now;
	}
	if (b->tokens < 0)
		b->tokens = 0;
}

/* Takes a token, or says how long until there is one. */
int64_t
retry_bucket_take(struct retry_bucket *b, const struct cfg_rate *rate,
    int64_t now)
{
	double	per_ms, wait;

	if (rate->count == 0 || rate->period <= 0)
		return (0);
	retry_bucket_refill(b, rate, now);
	if (b->tokens >= 1.0 - 1e-9) {
		b->tokens -= 1.0;
		if (b->tokens < 0)
			b->tokens = 0;
		return (0);
	}
	per_ms = (double)rate->count / ((double)rate->period * 1000.0);
	wait = (1.0 - b->tokens) / per_ms;
	return ((int64_t)wait + 1);
}

/* Parses a whole non-negative decimal number (at most 12 digits). */
static int
parse_uint(const char *s, int64_t *out)
{
	int64_t	n = 0;
	size_t	len;

	s += strspn(s, " \t");
	len = strspn(s, "0123456789");
	if (len == 0 || len > 12)
		return (-1);
	if (s[len + strspn(s + len, " \t")] != '\0')
		return (-1);
	while (len-- > 0)
		n = n * 10 + (*s++ - '0');
	*out = n;
	return (0);
}

/* Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime) into ms. */
static int
parse_http_date(const char *v, int64_t *ms)
{
	time_t	t;

	/* A date has letters (weekday, month); curl_getdate takes much else. */
	if (strpbrk(v, "JFMASONDjfmasond") == NULL)
		return (-1);
	if ((t = curl_getdate(v, NULL)) == -1)
		return (-1);
	*ms = (int64_t)t * 1000;
	return (0);
}

/* Delta seconds or an HTTP-date. */
int
retry_after_parse(const char *v, int64_t now, int64_t *delay)
{
	int64_t	n, at;

	if (v == NULL)
		return (-1);
	if (parse_uint(v, &n) == 0) {
		*delay = n * 1000;
		return (0);
	}
	if (parse_http_date(v, &at) == -1)
		return (-1);
	*delay = at > now ? at - now : 0;
	return (0);
}

/* Seconds from now, a Unix time, ISO 8601 or an HTTP-date. */
int
retry_ratelimit_reset_parse(const char *v, int64_t now, int64_t *delay)
{
	int64_t	n, at;

	if (v == NULL)
		return (-1);
	if (parse_uint(v, &n) == 0) {
		/* Unix times are past 10^9 (2001); delays are far smaller. */
		if (n >= 1000000000) {
			at = n * 1000;
			*delay = at > now ? at - now : 0;
		} else
			*delay = n * 1000;
		return (0);
	}
	if (when_parse(v, "UTC", &at) == -1 && parse_http_date(v, &at) == -1)
		return (-1);
	*delay = at > now ? at - now : 0;
	return (0);
}

/* BASE * 2^(ATTEMPTS-1), capped, +-20%. */
int64_t
retry_backoff(int attempts, int64_t base, int64_t cap, uint32_t rnd)
{
	int64_t	d = base;
	int	i;

	if (d <= 0)
		d = 1;
	for (i = 1; i < attempts && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return (d * 8 / 10 + (int64_t)(rnd % (uint32_t)(d * 4 / 10 + 1)));
}
