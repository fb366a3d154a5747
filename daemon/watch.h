/* Reloading a file when it changes on disk, renames over it included. */
#ifndef CRIER_WATCH_H
#define CRIER_WATCH_H

#include <stdint.h>
#include <uv.h>

/* Called on the loop thread; may call watch_free. */
typedef void (*watch_fn)(void *arg);

struct watch;

/*
 * Watches PATH: FN(ARG) is called once, DEBOUNCE_MS after the last
 * change event for that file (written, replaced by a rename, removed,
 * created).  The directory holding PATH is what is watched, so an
 * editor renaming a new copy over PATH keeps being noticed; if that
 * watch fails or the directory goes away, it is set up again once the
 * directory is back (and FN called, as the file may have changed).
 * Returns NULL on bad arguments or no memory.
 */
struct watch	*watch_new(uv_loop_t *loop, const char *path,
		    uint64_t debounce_ms, watch_fn fn, void *arg);
/*
 * Stops watching; FN is not called any more.  The memory is released
 * when the handles close: run the loop afterwards.  NULL is ignored.
 */
void		 watch_free(struct watch *w);

#endif
