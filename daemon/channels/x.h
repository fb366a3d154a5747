/* The X channel's account: its OAuth credentials and who it posts as (x_auth.c). */
#ifndef CRIER_X_H
#define CRIER_X_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "../oauth1.h"

#define X_TIMEOUT_MS	60000L		/* default per request */
#define X_ACCESS_MARGIN	60000		/* ms: refresh an access token this early */

struct channel;
struct chan_request;
struct chan_result;

/* A delivery waiting for the account's access token (embedded in its job). */
struct x_waiter {
	TAILQ_ENTRY(x_waiter) entry;
	/* The token is there (R NULL), or getting it failed with R. */
	void	(*ready)(struct x_waiter *w, const struct chan_result *r);
};

enum x_mode {
	X_OAUTH1,		/* OAuth 1.0a user context: four keys, no expiry */
	X_OAUTH2,		/* OAuth 2.0 user token, refreshed, rotating */
};

/* One channel's account: shared by its deliveries, freed with the last. */
struct x_acct {
	int			 refs;
	char			*name;		/* the channel's */
	char			*api;		/* base URL, no trailing slash */
	enum x_mode		 mode;
	long			 timeout_ms;
	/* OAuth 1.0a: the keys file's bytes hold the four strings */
	char			*keys;
	size_t			 keys_len;
	struct oauth1_creds	 o1;
	/* OAuth 2.0 */
	char			*client_id;
	char			*client_secret;	/* NULL: a public client */
	size_t			 cs_len;
	char			*seed_sha256;	/* of token_file's refresh token */
	char			*refresh;
	char			*access;	/* NULL: none yet, or refused */
	int64_t			 access_expires;	/* ms */
	unsigned		 access_gen;	/* counts access tokens */
	bool			 unsaved;	/* tokens not yet in the store */
	bool			 busy;		/* a refresh runs */
	TAILQ_HEAD(, x_waiter)	 waiters;
	/* who posts, from GET /2/users/me (NULL: not known yet) */
	char			*user_id;
	char			*username;
};

struct cfg_channel;
struct post;

/* Checks channel CC's secret: the four OAuth 1.0a keys, or one refresh token; -1 with ERR. */
int	 x_auth_check(const struct cfg_channel *cc, char *err, size_t errlen);
/* Sets up channel CH's account from its keys and the store; -1 with ERR. */
int	 x_auth_open(const struct channel *ch, struct x_acct **out, char *err,
	    size_t errlen);
/* Drops a reference to A, freeing it (and wiping its secrets) with the last. */
void	 x_auth_unref(struct x_acct *a);
/*
 * 1 if A can sign requests now; else queues W until it can (0: W->ready is
 * called later, never from within), refreshing the access token if none
 * runs. -1 (W not queued) if the refresh cannot start.
 */
int	 x_auth_wait(struct x_acct *a, struct x_waiter *w);
/*
 * Adds A's Authorization header for METHOD URL (with the form body FORM,
 * or NULL) to RQ, and the access token's generation to *GEN; -1 with ERR.
 */
int	 x_auth_sign(struct x_acct *a, const char *method, const char *url,
	    const char *form, struct chan_request *rq, unsigned *gen,
	    char *err, size_t errlen);
/*
 * X refused access token generation GEN (401): forgets it so the next
 * x_auth_wait refreshes. False if there is nothing to refresh (OAuth 1.0a).
 */
bool	 x_auth_refused(struct x_acct *a, unsigned gen);

/* The text of part PART of P (P's if no thread), its marker's key into MARKER. */
const char *x_thread_at(const struct post *p, size_t part, char *marker,
	    size_t len);
/* The first part of P to post into *PART; -1 with R sent if every part went. */
int	 x_thread_start(const struct post *p, size_t *part,
	    struct chan_result *r);
/* Adds to BODY the reply to the previous part when PART of P is not the first. */
void	 x_thread_reply(const struct post *p, size_t part, json_t *body);
/*
 * Records part *PART of P as R's post: 0 with *PART the next part to
 * post, or -1: finish with R (every part sent, or the record failed).
 */
int	 x_thread_part(const struct post *p, size_t *part,
	    struct chan_result *r);

/*
 * True if P is a thread whose part PART went out (X refused it again as
 * a duplicate) without X saying its id: R then says so, transient.
 */
bool	 x_thread_unknown(const struct post *p, size_t part,
	    struct chan_result *r);

#endif
