/* An OpenGraph scan of an HTML page, without I/O: the title and description of a link card. */
#ifndef CRIER_OPENGRAPH_H
#define CRIER_OPENGRAPH_H

#include <stddef.h>

/*
 * og:title and og:description (else <title>, meta description) of the
 * HTML page in BUF; each NULL when absent; valid UTF-8, at most MAX bytes.
 */
void	 opengraph_parse(const char *buf, size_t len, size_t max, char **title,
	    char **description);

#endif
