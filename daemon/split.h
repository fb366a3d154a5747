/*
 * Thread splitting (issue 17, split = thread): a post too long for its
 * network becomes numbered parts, each fitting the network's own rule.
 */
#ifndef CRIER_SPLIT_H
#define CRIER_SPLIT_H

#include <stddef.h>

#include "length.h"

#define SPLIT_MAX_TEXT	(64 * 1024)	/* longest text split, in bytes */
#define SPLIT_MAX_PARTS	99		/* longest thread */

struct split_part {
	char	*text;		/* the part as posted, its number included */
	size_t	 length;	/* as the network counts it, number included */
	size_t	 from, to;	/* the source bytes it carries, [from, to) */
};

struct split_result {
	struct split_part	*v;
	size_t			 n;
};

/*
 * Splits TEXT into parts that each fit RULE with LIMIT (0: the rule's
 * default). A text that fits is one part, unchanged and unnumbered.
 * Otherwise every part ends with " (i/n)" (a space, then the part number
 * and the count in parentheses), counted in its length; parts break at a
 * paragraph, else a sentence or line end, else between words (white space)
 * or between CJK ideographs/kana, never inside a grapheme cluster, URL,
 * mention or hashtag; white space at a break is dropped. A single word
 * longer than a part, a text over SPLIT_MAX_TEXT bytes or one needing more
 * than SPLIT_MAX_PARTS parts is an error: -1, with ERR saying which.
 */
int	 split_thread(enum len_rule rule, size_t limit, const char *text,
	    struct split_result *out, char *err, size_t errlen);
/* Frees the parts of R (not R itself) and empties it. */
void	 split_free(struct split_result *r);

#endif
