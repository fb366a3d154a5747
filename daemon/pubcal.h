/*
 * Keeps state_dir/published.ics, the published-posts calendar, up to date:
 * regenerated from the store a moment after posts go out, written off the
 * loop thread.
 */
#ifndef CRIER_PUBCAL_H
#define CRIER_PUBCAL_H

#include <stddef.h>

#define PUBCAL_FILE		"published.ics"
#define PUBCAL_MAX_POSTS	10000		/* the newest posts it holds */
#define PUBCAL_DEBOUNCE_MS	1000		/* posts going out together: one write */
#define PUBCAL_MAX_TEXT		(16 * 1024)	/* bytes of a post's text kept */

struct crierd_ctx;

/* Sets up the timer on CTX's loop and schedules a first write. */
void	 pubcal_init(const struct crierd_ctx *ctx);
/* A post went out: the calendar is written again shortly. */
void	 pubcal_touch(void);
/* Stops writing (a write under way finishes). */
void	 pubcal_shutdown(void);
/* Renders the calendar from the store now into *OUT (malloc'd, *LEN bytes). */
int	 pubcal_render(char **out, size_t *len, char *err, size_t errlen);

#endif
