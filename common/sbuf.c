/* A growing byte string for building output (see sbuf.h). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

/* Appends P[0..N) to B, growing it; on failure B remembers it and stays as it was. */
void
sbuf_grow_add(struct sbuf *b, const void *p, size_t n)
{
	size_t	 cap;
	char	*np;

	if (b->oom)
		return;
	if (n >= (size_t)-1 / 2 - b->len) {
		b->oom = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends the string S to B. */
void
sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Frees B's bytes and empties it. */
void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}
