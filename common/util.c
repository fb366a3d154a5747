/* Helpers every part of crier shares: allocation that cannot fail, errors, list items. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* malloc, or abort. */
void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size ? size : 1)) == NULL)
		abort();
	return (p);
}

/* calloc, or abort. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		abort();
	return (p);
}

/* reallocarray, or abort (on overflow too). */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	void	*np;

	if ((np = reallocarray(p, n ? n : 1, size ? size : 1)) == NULL)
		abort();
	return (np);
}

/* strdup that keeps NULL and aborts when out of memory. */
char *
xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return (NULL);
	if ((p = strdup(s)) == NULL)
		abort();
	return (p);
}

/* strndup, or abort. */
char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		abort();
	return (p);
}

/* Cuts the next SEP-separated item of *LIST into BUF. */
size_t
util_list_next(const char **list, const char *sep, char *buf, size_t size)
{
	const char	*p = *list;
	size_t		 n;

	if (size > 0)
		buf[0] = '\0';
	if (p == NULL)
		return (0);
	p += strspn(p, sep);
	if ((n = strcspn(p, sep)) == 0) {
		*list = p;
		return (0);
	}
	if (size > 0) {
		memcpy(buf, p, n < size ? n : size - 1);
		buf[n < size ? n : size - 1] = '\0';
	}
	*list = p + n;
	return (n);
}

/* Formats an error into ERR. */
void
util_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
