/* Finding http(s) links in post text, as the networks' link counters do. */
#ifndef CRIER_URL_H
#define CRIER_URL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length in bytes of an http(s) URL starting at S[I] (S is N bytes), or 0.
 * PREV is the code point before S[I] (-1 at the start). The URL runs to
 * white space; trailing punctuation and unbalanced closing brackets are
 * left to the sentence. length.c counts links with it (twitter-text's
 * pattern, which Mastodon uses), so a link gets UTM parameters exactly when
 * it counts as a link.
 */
size_t	 url_span(const char *s, size_t n, size_t i, int32_t prev);
/*
 * What url_span_x has looked up in one text, so that scanning it stays
 * linear: zeroed before the first call, cleared after the last.
 */
struct url_memo {
	uint8_t	*tld;	/* per byte: 1 + the TLD's length after a dot, 0 unknown */
};

/*
 * A link at S[I] as X counts one (twitter-text 3's extractUrlsWithIndices,
 * with its list of top-level domains): "https://" and a domain ending in a
 * known TLD, or such a domain without a scheme ("opengovweek.org"), then a
 * port, path and query as its patterns have them. PREV as for url_span.
 * Returns the bytes from S[I] the match covers, 0 if none; the link itself
 * is [*START, *END) within them (empty if there is none), the rest is text.
 */
size_t	 url_span_x(const char *s, size_t n, size_t i, int32_t prev,
	    size_t *start, size_t *end, struct url_memo *memo);
/* Frees what MEMO keeps (it may be used again for another text). */
void	 url_memo_clear(struct url_memo *memo);
/*
 * Finds the first URL in S[FROM..N); returns its length and sets *START,
 * or returns 0 when there is none. FROM must be 0 or the end of a URL this
 * function returned (the start of a code point either way).
 */
size_t	 url_find(const char *s, size_t n, size_t from, size_t *start);

/* The index after the code point at S[I] (one byte if it is not UTF-8), which becomes *PREV (-1 then). */
size_t	 url_step(const char *s, size_t n, size_t i, int32_t *prev);

#endif
