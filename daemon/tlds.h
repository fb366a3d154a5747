/* The top-level domains X knows (tlds.c, from twitter-text), in strcmp order. */
#ifndef CRIER_TLDS_H
#define CRIER_TLDS_H

#include <stddef.h>

extern const char *const tlds[];
extern const size_t ntlds;

#endif
