/* Reloading a file when it changes on disk, renames over it included. */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "log.h"
#include "watch.h"

#define WATCH_REARM_MS	500	/* retry period while the directory is away */

/*
 * The directory is watched, not the file: an editor writing a new copy
 * and renaming it over the old one would leave a watch on the file's
 * inode looking at the deleted copy.
 */
struct watch {
	uv_loop_t	*loop;
	uv_fs_event_t	 ev;
	uv_timer_t	 debounce;
	uv_timer_t	 rearm;
	char		*path;
	char		*dir;
	const char	*base;		/* file name in DIR, points into PATH */
	const char	*dir_base;	/* DIR's own name, as libuv reports it */
	char		*dir_mem;	/* owns DIR */
	dev_t		 dev;		/* identity of the directory watched */
	ino_t		 ino;
	uint64_t	 debounce_ms;
	watch_fn	 fn;
	void		*arg;
	bool		 watching;	/* EV is started */
	bool		 freeing;
	int		 nhandles;	/* handles initialised and not closed */
};

static void	watch_event_cb(uv_fs_event_t *, const char *, int, int);

/* Frees W once the last of its handles has closed. */
static void
watch_closed(uv_handle_t *handle)
{
	struct watch	*w = handle->data;

	if (--w->nhandles > 0)
		return;
	free(w->path);
	free(w->dir_mem);
	free(w);
}

/* Debounce timer: the file has been quiet for DEBOUNCE_MS. */
static void
watch_debounce_cb(uv_timer_t *timer)
{
	struct watch	*w = timer->data;

	log_debug("watch: %s changed", w->path);
	/* Nothing after this: FN may free W. */
	w->fn(w->arg);
}

/* (Re)starts the debounce period after a change to the file. */
static void
watch_kick(struct watch *w)
{
	uv_timer_start(&w->debounce, watch_debounce_cb, w->debounce_ms, 0);
}

/* Starts watching the directory and notes which one it is. */
static int
watch_arm(struct watch *w)
{
	struct stat	st;
	int		rc;

	if ((rc = uv_fs_event_start(&w->ev, watch_event_cb, w->dir, 0)) != 0)
		return rc;
	if (stat(w->dir, &st) == 0) {
		w->dev = st.st_dev;
		w->ino = st.st_ino;
	}
	w->watching = true;
	return 0;
}

/* Rearm timer: tries to watch the directory again. */
static void
watch_rearm_cb(uv_timer_t *timer)
{
	struct watch	*w = timer->data;

	if (watch_arm(w) != 0)
		return;		/* the repeating timer tries again */
	uv_timer_stop(&w->rearm);
	log_info("watch: watching %s again", w->dir);
	/* The file may have changed while nobody was looking. */
	watch_kick(w);
}

/* Drops the directory watch and retries it periodically. */
static void
watch_lost(struct watch *w)
{
	if (w->watching) {
		uv_fs_event_stop(&w->ev);
		w->watching = false;
	}
	if (watch_arm(w) == 0) {
		watch_kick(w);
		return;
	}
	log_warnx("watch: cannot watch %s; retrying", w->dir);
	uv_timer_start(&w->rearm, watch_rearm_cb, WATCH_REARM_MS,
	    WATCH_REARM_MS);
}

/*
 * Checks that the directory watched is still the one at DIR: after it
 * is removed or renamed away, the kernel watch is gone or follows the
 * old directory elsewhere.
 */
static void
watch_check_dir(struct watch *w)
{
	struct stat	st;

	if (stat(w->dir, &st) == 0 && st.st_dev == w->dev &&
	    st.st_ino == w->ino)
		return;
	log_info("watch: directory %s replaced or gone", w->dir);
	watch_lost(w);
}

/* Directory events: FILENAME is the entry that changed. */
static void
watch_event_cb(uv_fs_event_t *handle, const char *filename, int events,
    int status)
{
	struct watch	*w = handle->data;

	if (status < 0) {
		log_warnx("watch: %s: %s", w->dir, uv_strerror(status));
		watch_lost(w);
		return;
	}
	/* libuv names the directory itself for its own events. */
	if (filename == NULL || strcmp(filename, w->dir_base) == 0)
		watch_check_dir(w);
	if (filename == NULL || strcmp(filename, w->base) == 0)
		watch_kick(w);
}

/* Splits W->path into the directory to watch and the file name. */
static int
watch_split(struct watch *w)
{
	char	*slash, *p;

	if ((slash = strrchr(w->path, '/')) == NULL) {
		w->base = w->path;
		w->dir_mem = strdup(".");
	} else {
		w->base = slash + 1;
		if (slash == w->path)
			w->dir_mem = strdup("/");
		else
			w->dir_mem = strndup(w->path, slash - w->path);
	}
	if (w->dir_mem == NULL)
		return -1;
	w->dir = w->dir_mem;
	/* As libuv's basename: after the last '/', or all of it. */
	p = strrchr(w->dir, '/');
	w->dir_base = p != NULL ? p + 1 : w->dir;
	return 0;
}

/* Watches PATH, calling FN(ARG) DEBOUNCE_MS after its last change. */
struct watch *
watch_new(uv_loop_t *loop, const char *path, uint64_t debounce_ms,
    watch_fn fn, void *arg)
{
	struct watch	*w;

	if (loop == NULL || path == NULL || fn == NULL)
		return NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->loop = loop;
	w->debounce_ms = debounce_ms;
	w->fn = fn;
	w->arg = arg;
	if ((w->path = strdup(path)) == NULL || watch_split(w) == -1)
		goto fail;
	if (w->base[0] == '\0') {
		log_warnx("watch: %s: not a file path", path);
		goto fail;
	}
	if (uv_timer_init(loop, &w->debounce) != 0)
		goto fail;
	w->debounce.data = w;
	w->nhandles++;
	if (uv_timer_init(loop, &w->rearm) != 0)
		goto fail;
	w->rearm.data = w;
	w->nhandles++;
	if (uv_fs_event_init(loop, &w->ev) != 0)
		goto fail;
	w->ev.data = w;
	w->nhandles++;
	if (watch_arm(w) != 0) {
		log_warnx("watch: cannot watch %s yet; retrying", w->dir);
		uv_timer_start(&w->rearm, watch_rearm_cb, WATCH_REARM_MS,
		    WATCH_REARM_MS);
	}
	return w;
fail:
	switch (w->nhandles) {
	case 0:
		free(w->path);
		free(w->dir_mem);
		free(w);
		break;
	case 2:
		uv_close((uv_handle_t *)&w->rearm, watch_closed);
		/* FALLTHROUGH */
	case 1:
		uv_close((uv_handle_t *)&w->debounce, watch_closed);
		break;
	}
	return NULL;
}

/* Stops watching and frees W once its handles are closed. */
void
watch_free(struct watch *w)
{
	if (w == NULL || w->freeing)
		return;
	w->freeing = true;
	uv_timer_stop(&w->debounce);
	uv_timer_stop(&w->rearm);
	if (w->watching)
		uv_fs_event_stop(&w->ev);
	uv_close((uv_handle_t *)&w->debounce, watch_closed);
	uv_close((uv_handle_t *)&w->rearm, watch_closed);
	uv_close((uv_handle_t *)&w->ev, watch_closed);
}
