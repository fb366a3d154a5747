/* The daemon's context: what main sets up and hands to each module's init. */
#ifndef CRIER_CONTEXT_H
#define CRIER_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct config;
struct tmpl_set;

/*
 * Reloads the configuration and what hangs off it (templates, channels,
 * calendars); -1 with ERR keeps the old one. ACTOR is the uid asking.
 */
typedef int	(*crierd_reload_fn)(int actor, char *err, size_t errlen);

/*
 * Owned by main, which alone writes it: modules keep a pointer to it and
 * read the configuration from it each time, so a reload reaches them all
 * and there is no second copy to fall out of date.
 */
struct crierd_ctx {
	uv_loop_t		*loop;
	struct config		*conf;		/* the configuration in force */
	struct tmpl_set		*tmpls;		/* its templates, NULL: none */
	int64_t			 started;	/* ms since the epoch */
	crierd_reload_fn	 reload;	/* registered by main */
};

#endif
