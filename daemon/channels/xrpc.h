/* An AT Protocol account over XRPC: calls, their errors, and its shared session. */
#ifndef CRIER_XRPC_H
#define CRIER_XRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "../http.h"

#define XRPC_TIMEOUT_MS		30000L

struct chan_result;

/* Someone waiting for an account's session (embedded in a delivery). */
struct xrpc_waiter {
	TAILQ_ENTRY(xrpc_waiter) entry;
	/* The session is there (R NULL), or getting it failed with R. */
	void	(*ready)(struct xrpc_waiter *w, const struct chan_result *r);
};

/* An account: its configuration and, once logged in, its session. */
struct xrpc_acct {
	int			 refs;
	char			*name;		/* the channel's, for logs */
	char			*service;	/* no trailing slash */
	char			*handle;
	char			*password;
	size_t			 pwlen;
	json_t			*langs;		/* posts' languages, may be empty */
	bool			 link_cards;	/* posts get link cards */
	/* the session: never written anywhere */
	char			*access;
	char			*refresh;
	char			*did;
	int64_t			 refresh_at;	/* ms: refresh from then on */
	bool			 busy;		/* a login or refresh runs */
	TAILQ_HEAD(, xrpc_waiter) waiters;
};

/* Forgets A's session, wiping the tokens. */
void	 xrpc_session_clear(struct xrpc_acct *a);
/* Drops a reference to A, freeing it with the last. */
void	 xrpc_acct_unref(struct xrpc_acct *a);
/* The XRPC error name and message of RESP's body, into NAME and MSG. */
void	 xrpc_error(const struct http_response *resp, char *name, size_t nlen,
	    char *msg, size_t mlen);
/* True if RESP says the token it was sent with is expired or unknown. */
bool	 xrpc_token_refused(const struct http_response *resp);
/* Reads a failed answer into R: "WHAT: HTTP n Name: message", outcome and wait. */
void	 xrpc_result(const struct http_response *resp, const char *what,
	    struct chan_result *r);
/*
 * Starts an XRPC call of A: METHOD on NSID with QUERY (may be NULL), the
 * body BODY of type CTYPE (may be NULL), Bearer TOKEN (may be NULL).
 */
int	 xrpc_call(struct xrpc_acct *a, const char *method, const char *nsid,
	    const char *query, const char *token, const char *ctype,
	    const char *body, size_t blen, http_done_fn fn, void *arg);
/* Calls xrpc_call with a JSON body J (consumed), POST. */
int	 xrpc_json(struct xrpc_acct *a, const char *nsid, const char *token,
	    json_t *j, http_done_fn fn, void *arg);
/*
 * Queues W until A has a session, starting a login or a refresh if none
 * runs; W->ready is called later, never from within. -1 (W not queued) if
 * the request cannot start.
 */
int	 xrpc_session_wait(struct xrpc_acct *a, struct xrpc_waiter *w);

#endif
