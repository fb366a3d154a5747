/* Helpers every part of crier shares: allocation that cannot fail, errors, list items. */
#ifndef CRIER_UTIL_H
#define CRIER_UTIL_H

#include <stddef.h>

/* Allocation failures abort: crier's allocations are small and bounded. */
void	*xmalloc(size_t size);
void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
/* A malloc'd copy of S; NULL stays NULL. */
char	*xstrdup(const char *s);
/* A malloc'd copy of the first N bytes of S (fewer at a NUL). */
char	*xstrndup(const char *s, size_t n);

/* Formats an error into ERR (ERRLEN bytes; nothing if ERR is NULL or ERRLEN 0). */
void	 util_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * The next item of the list *LIST, whose items are separated by runs of
 * the characters in SEP (", " for channel lists). Copies the item into BUF
 * (cut to SIZE - 1 bytes, NUL-terminated) and moves *LIST past it; returns
 * the item's whole length, or 0 when no item is left (LIST may be NULL).
 */
size_t	 util_list_next(const char **list, const char *sep, char *buf,
	    size_t size);

#endif
