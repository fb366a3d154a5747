/* OAuth 1.0a HMAC-SHA1 request signing (RFC 5849, X's "Creating a signature"). */
#ifndef CRIER_OAUTH1_H
#define CRIER_OAUTH1_H

#include <stddef.h>

#define OAUTH1_MAX_URL		8192		/* bytes of a request URL */
#define OAUTH1_MAX_FORM		(1024 * 1024)	/* bytes of a form body */
#define OAUTH1_MAX_SECRET	1024		/* bytes of a key, token or secret */
#define OAUTH1_MAX_NONCE	128		/* bytes of a given nonce */
#define OAUTH1_MAX_PARAMS	256		/* query, form and oauth_* pairs */

/* An application's and a user's credentials (X: API key and secret, access token and secret). */
struct oauth1_creds {
	const char	*consumer_key;
	const char	*consumer_secret;
	const char	*token;		/* NULL: none (the request-token step) */
	const char	*token_secret;	/* NULL: empty */
};

/* What is signed of one request. */
struct oauth1_req {
	const char	*method;	/* "POST" */
	const char	*url;		/* with its query string, if any */
	const char	*form;		/* x-www-form-urlencoded body, or NULL */
	const char	*nonce;		/* NULL: oauth1_header picks a random one */
	long long	 timestamp;	/* 0: oauth1_header uses the current time */
};

/* Percent-encodes the N bytes at S as RFC 3986 section 2.1 and X require; NULL if out of memory. */
char	*oauth1_encode(const char *s, size_t n);
/* The signature base string of R (nonce and timestamp given) under C; NULL with ERR set on bad input. */
char	*oauth1_base_string(const struct oauth1_creds *c,
	    const struct oauth1_req *r, char *err, size_t errlen);
/* The base64 HMAC-SHA1 of BASE under C's signing key; NULL with ERR set on failure. */
char	*oauth1_signature(const struct oauth1_creds *c, const char *base,
	    char *err, size_t errlen);
/* The Authorization header value ("OAuth oauth_consumer_key=...") for R; NULL with ERR set on bad input. */
char	*oauth1_header(const struct oauth1_creds *c, const struct oauth1_req *r,
	    char *err, size_t errlen);

#endif
