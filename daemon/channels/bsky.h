/* Bluesky helpers without I/O: record keys, rich-text facets, OpenGraph, JWTs. */
#ifndef CRIER_BSKY_H
#define CRIER_BSKY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BSKY_TID_LEN	13
#define BSKY_TID_BASE	1704067200000000LL	/* 2024-01-01T00:00:00Z, in us */

enum bsky_facet_kind {
	BF_LINK,	/* value: the URI, as written */
	BF_TAG,		/* value: the tag without its '#' */
	BF_MENTION,	/* value: the handle without its '@' */
};

/* A span of the text, in UTF-8 byte offsets: [start, end). */
struct bsky_facet {
	enum bsky_facet_kind	 kind;
	size_t			 start;
	size_t			 end;
	char			*value;
	char			*did;	/* mentions, once resolved; else NULL */
};

/*
 * The record key of delivery ID: a TID (atproto.com/specs/tid) that is a
 * function of the id alone, so every attempt writes the same record.
 */
void	 bsky_tid(const char *id, char out[BSKY_TID_LEN + 1]);
/* True if S has TID syntax. */
bool	 bsky_is_tid(const char *s);
/*
 * The links, #hashtags and @mentions of TEXT (valid UTF-8), in order and
 * never overlapping; 0, or -1 if TEXT is not valid UTF-8.
 */
int	 bsky_facets(const char *text, struct bsky_facet **out, size_t *n);
void	 bsky_facets_free(struct bsky_facet *f, size_t n);
/* True if S is a syntactically valid handle (a domain name). */
bool	 bsky_handle_ok(const char *s);
/*
 * og:title and og:description (else <title>, meta description) of the
 * HTML page in BUF; each NULL when absent; valid UTF-8, at most MAX bytes.
 */
void	 bsky_og_parse(const char *buf, size_t len, size_t max, char **title,
	    char **description);
/* The "exp" and "iat" claims (seconds) of JWT, read without verifying; -1 if none. */
int	 bsky_jwt_times(const char *jwt, int64_t *exp, int64_t *iat);

#endif
