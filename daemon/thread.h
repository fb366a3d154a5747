/*
 * split = thread (issue 17): whether a channel posts a text too long for
 * it as a reply chain, and the parts it posts.
 */
#ifndef CRIER_THREAD_H
#define CRIER_THREAD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "channel.h"
#include "length.h"
#include "split.h"

/* True if CH has split = thread. */
bool	 thread_enabled(const struct channel *ch);
/*
 * Measures TEXT for CH into LR. If it does not fit and CH has split =
 * thread, splits it into PARTS (may be NULL: only whether it can be) and
 * sets LR->fits: 1. Else PARTS stays empty: 0, LR->fits saying whether it
 * fits as one post. -1 if it does not fit and cannot be split, with ERR
 * saying why (a word longer than a part, too many parts).
 */
int	 thread_measure(const struct channel *ch, const char *text,
	    struct len_result *lr, struct split_result *parts, char *err,
	    size_t errlen);
/* The parts of TEXT on CH as [{"text", "length", "limit"}], or NULL if it goes as one post. */
json_t	*thread_json(const struct channel *ch, const char *text);

/*
 * For channels posting a thread (post.nparts > 0): the first part of P
 * not confirmed yet, P->nparts when every part is. journal->part fills
 * in P's parts as they are confirmed.
 */
size_t	 thread_next(const struct post *p);
/* Fills R as sent with the thread's head: part 1's remote id and URL. */
void	 thread_sent(const struct post *p, struct chan_result *r);

#endif
