/* crierd --check: load, expand, render and measure everything, send nothing. */
#ifndef CRIER_VERIFY_H
#define CRIER_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct verify_opts {
	const struct config	*conf;
	char *const		*calendars;	/* extra --calendar files */
	size_t			 ncalendars;
	int64_t			 from, to;	/* ms */
	bool			 json;
};

/* Runs the check, printing to stdout; returns the exit status (0 good, 1 problems). */
int	verify_run(const struct verify_opts *o);

#endif
