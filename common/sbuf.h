/* A growing byte string for building output: NUL-terminated, OOM sticky. */
#ifndef CRIER_SBUF_H
#define CRIER_SBUF_H

#include <stddef.h>
#include <string.h>

/* Zero-initialise; P is NULL until the first append; LEN excludes the NUL. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 oom;		/* an append failed: B is as it was before it */
};

/* Appends P[0..N) to B, growing it (nothing once an append has failed). */
void	 sbuf_grow_add(struct sbuf *b, const void *p, size_t n);

/* Appends P[0..N) to B (nothing once an append has failed); inline while it fits. */
static inline void
sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	if (b->oom || b->p == NULL || n >= b->cap - b->len) {
		sbuf_grow_add(b, p, n);
		return;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}
/* Appends the string S to B. */
void	 sbuf_str(struct sbuf *b, const char *s);
/* Frees B's bytes and empties it. */
void	 sbuf_free(struct sbuf *b);

#endif
