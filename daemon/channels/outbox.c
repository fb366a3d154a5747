/*
 * The outbox channel: each delivery becomes a file, written atomically.
 * The writes and their fsyncs (four per post, 1-2.5 ms in all here) run
 * on libuv's thread pool, so that a burst of posts to the outbox never
 * holds the loop.
 */
#include <config.h>

#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>
#include <uv.h>

#include "../channel.h"
#include "../when.h"

struct outbox {
	char	dir[PATH_MAX];
};

/* A post's two files, written on the thread pool; the loop owns the rest. */
struct owrite {
	uv_work_t		 work;
	LIST_ENTRY(owrite)	 entry;
	char			 dir[PATH_MAX];
	char			 base[128];	/* the files' name without .json/.txt */
	char			*js, *text;	/* their contents */
	size_t			 tlen;
	char			 failed[160];	/* the file that could not be written */
	int			 err;		/* its errno, 0 if both were written */
	chan_done_fn		 done;
	void			*arg;
	bool			 abandoned;	/* DONE was called at shutdown already */
};

static LIST_HEAD(, owrite)	owrites = LIST_HEAD_INITIALIZER(owrites);

static const struct chan_key outbox_keys[] = {
	{ "dir", CK_PATH, false, NULL },
	{ "like", CK_STYLE, false, NULL },
	{ NULL, 0, false, NULL },
};

/* Creates DIR and its parents (mode 0750). */
static int
mkdir_p(const char *dir)
{
	char	 buf[PATH_MAX];
	char	*p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(buf, 0750) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

/* Resolves the channel's directory and creates it. */
static int
outbox_open(struct channel *ch, const struct config *c, char *err, size_t errlen)
{
	struct outbox	*ob;
	const char	*dir = conf_chan_get(ch->cfg, "dir", NULL);
	char		 abs[PATH_MAX];
	int		 n, fd;

	if ((ob = calloc(1, sizeof(*ob))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (dir != NULL)
		n = snprintf(ob->dir, sizeof(ob->dir), "%s", dir);
	else
		n = snprintf(ob->dir, sizeof(ob->dir), "%s/outbox/%s",
		    c->state_dir, ch->name);
	if (n < 0 || (size_t)n >= sizeof(ob->dir) || mkdir_p(ob->dir) == -1) {
		snprintf(err, errlen, "channel %s: outbox %s: %s", ch->name,
		    ob->dir, strerror(n < 0 || (size_t)n >= sizeof(ob->dir) ?
		    ENAMETOOLONG : errno));
		free(ob);
		return (-1);
	}
	/* In the state dir, a link planted for our directory is refused. */
	if (dir == NULL && (fd = open(ob->dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "channel %s: outbox %s: %s", ch->name,
		    ob->dir, errno == ELOOP || errno == ENOTDIR ? "a symbolic "
		    "link or not a directory: refused" : strerror(errno));
		free(ob);
		return (-1);
	}
	if (dir == NULL)
		close(fd);
	/* Absolute, so remote URLs (file://...) mean the same from anywhere. */
	if (realpath(ob->dir, abs) != NULL)
		snprintf(ob->dir, sizeof(ob->dir), "%s", abs);
	ch->priv = ob;
	return (0);
}

/* Frees the channel's state. */
static void
outbox_close(struct channel *ch)
{
	free(ch->priv);
	ch->priv = NULL;
}

/* Writes LEN bytes of DATA to DIR/NAME through a temporary file and rename. */
static int
write_atomic(const char *dir, const char *name, const char *data, size_t len)
{
	char	tmp[PATH_MAX], dst[PATH_MAX];
	int	fd = -1, dfd;
	ssize_t	w;
	size_t	off = 0;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	/* A leftover of a crash goes first; a new one is ours alone (EXCL, NOFOLLOW). */
	if (unlink(tmp) == -1 && errno != ENOENT)
		return (-1);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640)) == -1)
		return (-1);
	while (off < len) {
		if ((w = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) == -1)
		goto fail;
	/* The rename is durable only once the directory is synced. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return (0);
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return (-1);
}

/* Thread pool: writes W's NAME.json sidecar, then NAME.txt. */
static void
owrite_work(uv_work_t *req)
{
	struct owrite	*w = req->data;

	snprintf(w->failed, sizeof(w->failed), "%s.json", w->base);
	if (write_atomic(w->dir, w->failed, w->js, strlen(w->js)) == -1) {
		w->err = errno;
		return;
	}
	snprintf(w->failed, sizeof(w->failed), "%s.txt", w->base);
	if (write_atomic(w->dir, w->failed, w->text, w->tlen) == -1) {
		w->err = errno;
		return;
	}
	w->err = 0;
}

/* Frees W (off the list). */
static void
owrite_free(struct owrite *w)
{
	free(w->js);
	free(w->text);
	free(w);
}

/* Loop: W's files are written (or not); its delivery's outcome. */
static void
owrite_done(uv_work_t *req, int status)
{
	struct owrite		*w = req->data;
	struct chan_result	 r;

	LIST_REMOVE(w, entry);
	if (w->abandoned) {
		owrite_free(w);
		return;
	}
	memset(&r, 0, sizeof(r));
	if (status != 0) {
		snprintf(r.error, sizeof(r.error), "writing %s/%s: %s", w->dir,
		    w->base, uv_strerror(status));
		r.outcome = CHAN_TRANSIENT;
	} else if (w->err != 0) {
		/* A full disk or a permission problem may well be fixed by a person. */
		snprintf(r.error, sizeof(r.error), "writing %s/%s: %s", w->dir,
		    w->failed, strerror(w->err));
		r.outcome = CHAN_TRANSIENT;
	} else {
		r.outcome = CHAN_SENT;
		snprintf(r.remote_id, sizeof(r.remote_id), "%s.txt", w->base);
		snprintf(r.remote_url, sizeof(r.remote_url), "file://%s/%s.txt",
		    w->dir, w->base);
	}
	w->done(w->arg, &r);
	owrite_free(w);
}

/* Builds the post's NAME.txt and NAME.json sidecar into W; -1 if out of memory. */
static int
owrite_build(struct channel *ch, const struct post *p, struct owrite *w)
{
	struct outbox	*ob = ch->priv;
	json_t		*side;
	char		 due[40], sent[40], stamp[32];
	time_t		 t = (time_t)(p->due / 1000);
	struct tm	 tm;
	size_t		 tlen = strlen(p->text);

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(w->base, sizeof(w->base), "%s-%s", stamp, p->id);
	snprintf(w->dir, sizeof(w->dir), "%s", ob->dir);
	side = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?}",
	    "id", p->id, "channel", p->channel,
	    "due", when_format(p->due, due, sizeof(due)),
	    "sent", when_format(when_now(), sent, sizeof(sent)),
	    "calendar", p->calendar, "uid", p->uid,
	    "recurrence_id", p->recurrence_id, "summary", p->summary);
	if (side == NULL || json_object_set_new(side, "text",
	    json_string(p->text)) == -1 ||
	    (w->js = json_dumps(side, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		json_decref(side);
		return (-1);
	}
	json_decref(side);
	/* The text file, with a final newline as text files have. */
	if ((w->text = malloc(tlen + 2)) == NULL)
		return (-1);
	memcpy(w->text, p->text, tlen);
	if (tlen == 0 || w->text[tlen - 1] != '\n')
		w->text[tlen++] = '\n';
	w->tlen = tlen;
	return (0);
}

/* Delivers P: its files are written on the thread pool, then DONE is called. */
static int
outbox_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	struct owrite		*w;
	struct chan_result	 r;
	int			 rc;

	(void)err;
	(void)errlen;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		abort();
	w->done = done;
	w->arg = arg;
	w->work.data = w;
	memset(&r, 0, sizeof(r));
	if (owrite_build(ch, p, w) == -1) {
		snprintf(r.error, sizeof(r.error), "out of memory");
		goto fail;
	}
	LIST_INSERT_HEAD(&owrites, w, entry);
	if ((rc = uv_queue_work(uv_default_loop(), &w->work, owrite_work,
	    owrite_done)) != 0) {
		LIST_REMOVE(w, entry);
		snprintf(r.error, sizeof(r.error), "writing %s/%s: %s", w->dir,
		    w->base, uv_strerror(rc));
		goto fail;
	}
	return (0);
fail:
	r.outcome = CHAN_TRANSIENT;
	owrite_free(w);
	done(arg, &r);
	return (0);
}

/*
 * Shutdown: the writes under way end as interrupted now (their files may
 * still appear: a later start writes the same names again).
 */
static void
outbox_stop(void)
{
	struct owrite		*w;
	struct chan_result	 r;

	LIST_FOREACH(w, &owrites, entry) {
		if (w->abandoned)
			continue;
		w->abandoned = true;
		memset(&r, 0, sizeof(r));
		r.aborted = true;
		snprintf(r.error, sizeof(r.error), "stopped while writing");
		w->done(w->arg, &r);
	}
}

const struct channel_ops outbox_ops = {
	.type = "outbox",
	.idempotent = true,	/* the same delivery writes the same file names */
	.len_rule = LEN_PLAIN,
	.default_limit = 0,
	.keys = outbox_keys,
	.open = outbox_open,
	.close = outbox_close,
	.local = true,
	.start = outbox_start,
	.stop = outbox_stop,
};
