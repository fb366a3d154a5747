/* Calendars from a URL: conditional GETs, a refresh timer, a cache on disk. */
#ifndef CRIER_FETCH_H
#define CRIER_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/*
 * Called on the loop thread when a fetch ends.  DATA/LEN: the calendar
 * body (new or cached), valid only during the call; CHANGED: true if it
 * differs from what was delivered before (false on 304 or identical
 * body; true for the first delivery when fetch_cached gave nothing);
 * ERROR: NULL on success, else a message naming the URL (without
 * userinfo or query), already logged; then DATA may be the cached copy,
 * or NULL if none.  The callback may call fetch_free or fetch_now.
 */
typedef void (*fetch_done_fn)(void *arg, const char *data, size_t len,
    bool changed, const char *error);

struct fetch;

/*
 * Makes a fetcher for calendar NAME (used for the cache file names
 * CACHE_DIR/NAME.ics and NAME.meta: no '/', not starting with '.') at
 * URL, refreshed every REFRESH_SECS (<= 0: 15 minutes) once started.
 * Loads the cached copy, if any.  http_init must have been called
 * before the first fetch.  Returns NULL on bad arguments or no memory.
 */
struct fetch	*fetch_new(uv_loop_t *loop, const char *name, const char *url,
		    const char *cache_dir, int64_t refresh_secs,
		    fetch_done_fn done, void *arg);
/*
 * Returns the last good copy (read from CACHE_DIR at fetch_new, or the
 * latest fetched since) and its length in *LEN, or NULL if none.  The
 * copy counts as delivered: a later identical body is not "changed".
 * Valid until the next loop iteration that may end a fetch.
 */
const char	*fetch_cached(struct fetch *f, size_t *len);
/*
 * A changed body goes to DONE without replacing the cached copy: once it
 * parses, the caller gives it back here and it becomes the last good copy,
 * in memory and on disk (with its validators); a body that does not parse
 * never replaces it. DATA is compared with the body fetched last.
 */
void		 fetch_keep(struct fetch *f, const char *data, size_t len);
/* Sends HTTP Basic credentials USER and PASSWORD with every request; -1 on no memory. */
int		 fetch_set_auth(struct fetch *f, const char *user,
		    const char *password);
/* Fetches now (from the loop), then every refresh interval. */
void		 fetch_start(struct fetch *f);
/*
 * Fetches now (from the loop, never calling DONE from within); if a
 * request is under way, another follows it.
 */
void		 fetch_now(struct fetch *f);
/*
 * Stops the timer and detaches any request under way (its outcome is
 * dropped, DONE is not called again).  The memory is released when the
 * timer handle closes: run the loop afterwards.  NULL is ignored.
 */
void		 fetch_free(struct fetch *f);

#endif
