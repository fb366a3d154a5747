/* Per-network length rules (SPEC §5), in one place every channel uses. */
#ifndef CRIER_LENGTH_H
#define CRIER_LENGTH_H

#include <stddef.h>
#include <stdbool.h>

enum len_rule {
	LEN_PLAIN,	/* graphemes, no limit unless configured */
	LEN_MASTODON,	/* graphemes, URL = 23, @user@domain = @user, default 500 */
	LEN_BLUESKY,	/* 300 graphemes and 3000 UTF-8 bytes */
	LEN_X,		/* twitter-text weighted length, URL = 23, default 280 */
	LEN_THREADS,	/* graphemes, an emoji one by its UTF-8 bytes, default
			   500; at most 5 distinct links */
	LEN_LINKEDIN,	/* UTF-16 code units, as LinkedIn counts commentary */
	LEN_FACEBOOK,	/* graphemes, default 63206 (Facebook's post limit) */
};

struct len_result {
	size_t	length;		/* as the network counts it */
	size_t	bytes;		/* UTF-8 bytes */
	size_t	limit;		/* 0: none */
	size_t	byte_limit;	/* 0: none */
	size_t	links;		/* distinct links, where the network limits them */
	size_t	link_limit;	/* 0: none */
	bool	fits;
};

/* Extended grapheme clusters in the UTF-8 string S (N bytes); invalid bytes count one each. */
size_t	 len_graphemes(const char *s, size_t n);
/* Measures TEXT under RULE; LIMIT 0 means the rule's default. Returns 0. */
int	 len_measure(enum len_rule rule, const char *text, size_t limit,
	    struct len_result *out);

#endif
