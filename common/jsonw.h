/*
 * Compact JSON text of a jansson value, byte for byte what json_dumps(v,
 * JSON_COMPACT) writes, several times faster: jansson hands every escaped
 * piece and every code point to a callback, which made the dump a third of
 * a `list` reply's cost (issue 16).
 */
#ifndef CRIER_JSONW_H
#define CRIER_JSONW_H

#include <stddef.h>

#include <jansson.h>

/*
 * The compact text of V followed by NL (a newline if nonzero) in a new
 * string, its length in *LEN; NULL where json_dumps would fail (a string
 * that is not UTF-8, a value nested too deep) or out of memory. A key that
 * is not UTF-8 is refused too, where jansson writes it cut short.
 */
char	*jsonw_dump(const json_t *v, int nl, size_t *len);

#endif
