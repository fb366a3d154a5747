/* A growing byte string for building output: NUL-terminated, OOM sticky. */
#ifndef CRIER_SBUF_H
#define CRIER_SBUF_H

#include <stddef.h>

/* Zero-initialise; P is NULL until the first append; LEN excludes the NUL. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 oom;		/* an append failed: B is as it was before it */
};

/* Appends P[0..N) to B (nothing once an append has failed). */
void	 sbuf_add(struct sbuf *b, const void *p, size_t n);
/* Appends the string S to B. */
void	 sbuf_str(struct sbuf *b, const char *s);
/* Frees B's bytes and empties it. */
void	 sbuf_free(struct sbuf *b);

#endif
