/* The outbox channel: each delivery becomes a file, written atomically. */
#include <config.h>

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

#include "../channel.h"
#include "../when.h"

struct outbox {
	char	dir[PATH_MAX];
};

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

/* Writes the post as NAME.txt plus a NAME.json sidecar. */
static void
write_post(struct channel *ch, const struct post *p, struct chan_result *r)
{
	struct outbox	*ob = ch->priv;
	json_t		*side = NULL;
	char		*js = NULL;
	char		 base[128], name[160], due[40], sent[40], stamp[32];
	time_t		 t = (time_t)(p->due / 1000);
	struct tm	 tm;
	size_t		 tlen = strlen(p->text);
	char		*text = NULL;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(base, sizeof(base), "%s-%s", stamp, p->id);
	side = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?}",
	    "id", p->id, "channel", p->channel,
	    "due", when_format(p->due, due, sizeof(due)),
	    "sent", when_format(when_now(), sent, sizeof(sent)),
	    "calendar", p->calendar, "uid", p->uid,
	    "recurrence_id", p->recurrence_id, "summary", p->summary);
	if (side == NULL || json_object_set_new(side, "text",
	    json_string(p->text)) == -1 ||
	    (js = json_dumps(side, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		r->outcome = CHAN_TRANSIENT;
		goto done;
	}
	/* The text file, with a final newline as text files have. */
	if ((text = malloc(tlen + 2)) == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		r->outcome = CHAN_TRANSIENT;
		goto done;
	}
	memcpy(text, p->text, tlen);
	if (tlen == 0 || text[tlen - 1] != '\n')
		text[tlen++] = '\n';
	snprintf(name, sizeof(name), "%s.json", base);
	if (write_atomic(ob->dir, name, js, strlen(js)) == -1)
		goto ioerr;
	snprintf(name, sizeof(name), "%s.txt", base);
	if (write_atomic(ob->dir, name, text, tlen) == -1)
		goto ioerr;
	r->outcome = CHAN_SENT;
	snprintf(r->remote_id, sizeof(r->remote_id), "%s", name);
	snprintf(r->remote_url, sizeof(r->remote_url), "file://%s/%s",
	    ob->dir, name);
	goto done;
ioerr:
	/* A full disk or a permission problem may well be fixed by a person. */
	snprintf(r->error, sizeof(r->error), "writing %s/%s: %s", ob->dir, name,
	    strerror(errno));
	r->outcome = CHAN_TRANSIENT;
done:
	free(text);
	free(js);
	json_decref(side);
}

/* Delivers P now: a local write, so DONE is called before this returns. */
static int
outbox_start(struct channel *ch, const struct post *p, chan_done_fn done,
    void *arg, char *err, size_t errlen)
{
	struct chan_result	r;

	(void)err;
	(void)errlen;
	memset(&r, 0, sizeof(r));
	write_post(ch, p, &r);
	done(arg, &r);
	return (0);
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
};
