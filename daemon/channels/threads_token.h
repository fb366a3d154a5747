/*
 * A Threads channel's long-lived access token, refreshed before its 60 days
 * end (threads_token.c).
 */
#ifndef CRIER_THREADS_TOKEN_H
#define CRIER_THREADS_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TH_REFRESH_AFTER	(24LL * 3600 * 1000)	/* ms: Threads' minimum age */
#define TH_REFRESH_RETRY	(3600LL * 1000)		/* ms: after a failed refresh */
#define TH_TOKEN_MAX		4096

struct th_token;

/*
 * The token of channel NAME (API its base URL): the one crier.db keeps if
 * it grew from SEED (token_file's token, LEN bytes) as it is now, else SEED.
 * No network, no writes.
 */
struct th_token	*th_token_open(const char *name, const char *api,
		    const char *seed, size_t len);
/* The channel closes: no more refreshes start; drops its reference. */
void		 th_token_close(struct th_token *t);
/* The token to use now (valid until the next call into this module). */
const char	*th_token_get(const struct th_token *t);
/*
 * A look at T from the loop (a delivery starts, or the hourly timer): the
 * first sight of a token is written down, and one at least a day old is
 * refreshed in the background, the new one saved before it is used.
 */
void		 th_token_tick(struct th_token *t);

#endif
