/* AT Protocol helpers without I/O: record keys (TIDs), rich-text facets, handles, JWT times. */
#ifndef CRIER_ATPROTO_H
#define CRIER_ATPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATPROTO_TID_LEN	13
#define ATPROTO_TID_BASE	1704067200000000LL	/* 2024-01-01T00:00:00Z, in us */

enum atproto_facet_kind {
	AF_LINK,	/* value: the URI, as written */
	AF_TAG,		/* value: the tag without its '#' */
	AF_MENTION,	/* value: the handle without its '@' */
};

/* A span of the text, in UTF-8 byte offsets: [start, end). */
struct atproto_facet {
	enum atproto_facet_kind	 kind;
	size_t			 start;
	size_t			 end;
	char			*value;
	char			*did;	/* mentions, once resolved; else NULL */
};

/*
 * The record key of delivery ID: a TID (atproto.com/specs/tid) that is a
 * function of the id alone, so every attempt writes the same record.
 */
void	 atproto_tid(const char *id, char out[ATPROTO_TID_LEN + 1]);
/* True if S has TID syntax. */
bool	 atproto_is_tid(const char *s);
/*
 * The links, #hashtags and @mentions of TEXT (valid UTF-8), in order and
 * never overlapping; 0, or -1 if TEXT is not valid UTF-8.
 */
int	 atproto_facets(const char *text, struct atproto_facet **out, size_t *n);
void	 atproto_facets_free(struct atproto_facet *f, size_t n);
/* True if S is a syntactically valid handle (a domain name). */
bool	 atproto_handle_ok(const char *s);
/* The "exp" and "iat" claims (seconds) of JWT, read without verifying; -1 if none. */
int	 atproto_jwt_times(const char *jwt, int64_t *exp, int64_t *iat);

#define ATPROTO_MAX_LANGS	3	/* languages per post (the lexicon) */

struct json_t;
/* The comma-separated LANGUAGE as a JSON array of BCP 47 tags; NULL with ERR if one is bad. */
struct json_t	*atproto_langs(const char *language, char *err, size_t errlen);
/* The N facets F as app.bsky.richtext.facet objects (unresolved mentions left out). */
struct json_t	*atproto_facets_json(const struct atproto_facet *f, size_t n);

#endif
