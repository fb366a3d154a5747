/*
 * Attachments of a delivery, shared by the channels that upload them:
 * where a URI's file is, reading it within a channel's cap, its MIME type
 * and file name, and the delivery's media list kept in the store.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jansson.h>

#include "calendar/calendar.h"
#include "conf.h"
#include "media.h"
#include "netguard.h"
#include "store.h"
#include "../common/util.h"

/* The value of hex digit C, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * The local path of media URI, malloc'd: a file:// URI, an absolute path,
 * or a path relative to the media directories; NULL for a URL (scheme:).
 */
char *
media_local_path(const char *uri)
{
	const char	*s = uri;
	char		*p, *o;
	int		 hi, lo;

	if (strncasecmp(s, "file://", 7) != 0) {
		size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

		if (*s == '\0' || (n > 0 && s[n] == ':'))
			return (NULL);
		return (xstrdup(s));
	}
	s += 7;
	if (strncasecmp(s, "localhost/", 10) == 0)
		s += 9;
	if (*s != '/')
		return (NULL);
	p = o = xstrdup(s);
	for (; *s != '\0'; s++) {
		if (*s == '%' && (hi = hexval(s[1])) != -1 &&
		    (lo = hexval(s[2])) != -1) {
			if (hi == 0 && lo == 0)
				goto fail;
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return (p);
fail:
	free(p);
	return (NULL);
}

/* A MIME type guessed from the extension of NAME (query, fragment dropped), or NULL. */
const char *
media_guess_type(const char *name)
{
	static const char *const map[][2] = {
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
		{ ".webp", "image/webp" }, { ".mp4", "video/mp4" },
		{ ".mp3", "audio/mpeg" },
	};
	size_t		 i, n = strcspn(name, "?#"), e;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		e = strlen(map[i][0]);
		if (n > e && strncasecmp(name + n - e, map[i][0], e) == 0)
			return (map[i][1]);
	}
	return (NULL);
}

/* The last path segment of PATH or URL (query and fragment dropped), malloc'd. */
char *
media_file_name(const char *s)
{
	const char	*end = s + strcspn(s, "?#"), *b = end;
	char		*p;

	while (b > s && b[-1] != '/')
		b--;
	if ((p = strndup(b, (size_t)(end - b))) == NULL)
		abort();
	return (p);
}

/* One configured media directory. */
struct mdir {
	char	*path;		/* as configured */
	char	*real;		/* realpath, NULL if it does not exist */
	bool	 in_state;	/* lies inside the state directory */
};

/* The media policy in force (media_setup): where files may come from. */
static struct mdir	*md_dirs;
static size_t		 md_ndirs;
static char		*md_state;	/* realpath of state_dir, may be NULL */
static struct stat	*md_deny;	/* secret and configuration files */
static size_t		 md_ndeny;

/* Adds the file PATH (if it exists) to the files media may never be. */
static void
deny_add(const char *path)
{
	struct stat	 sb;

	if (path == NULL || stat(path, &sb) == -1)
		return;
	if ((md_deny = reallocarray(md_deny, md_ndeny + 1, sizeof(*md_deny))) ==
	    NULL)
		abort();
	md_deny[md_ndeny++] = sb;
}

void
media_shutdown(void)
{
	while (md_ndirs > 0) {
		md_ndirs--;
		free(md_dirs[md_ndirs].path);
		free(md_dirs[md_ndirs].real);
	}
	free(md_dirs);
	md_dirs = NULL;
	free(md_state);
	md_state = NULL;
	free(md_deny);
	md_deny = NULL;
	md_ndeny = 0;
}

/* Whether PATH is DIR or lies below it, by name. */
static bool
path_under(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	if (n > 0 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int
media_setup(const struct config *c, bool create, char *err, size_t errlen)
{
	const char	*cred = getenv("CREDENTIALS_DIRECTORY");
	char		 path[PATH_MAX], *r;
	size_t		 i, j, n;

	media_shutdown();
	md_state = realpath(c->state_dir, NULL);
	n = c->nmedia_dirs;
	if ((md_dirs = calloc(n > 0 ? n : 1, sizeof(*md_dirs))) == NULL)
		abort();
	for (i = 0; i < n; i++)
		md_dirs[i].path = xstrdup(c->media_dirs[i]);
	if (n == 0) {
		snprintf(path, sizeof(path), "%s/media", c->state_dir);
		md_dirs[0].path = xstrdup(path);
		n = 1;
		if (create && mkdir(path, 0750) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "media directory %s: %s", path,
			    strerror(errno));
			md_ndirs = n;
			return -1;
		}
	}
	md_ndirs = n;
	for (i = 0; i < n; i++) {
		md_dirs[i].real = r = realpath(md_dirs[i].path, NULL);
		md_dirs[i].in_state = r != NULL && md_state != NULL &&
		    path_under(r, md_state) && strcmp(r, md_state) != 0;
	}
	/* What a calendar must never get posted: secrets, config, state. */
	deny_add(c->file);
	for (i = 0; i < c->nchans; i++)
		for (j = 0; j < c->chans[i].nkv; j++) {
			const struct cfg_kv *kv = &c->chans[i].kv[j];
			size_t kl = strlen(kv->key);

			if (kl > 5 && strcmp(kv->key + kl - 5, "_file") == 0)
				deny_add(kv->value);
			else if (strcmp(kv->key, "credential") == 0 && cred) {
				snprintf(path, sizeof(path), "%s/%s", cred,
				    kv->value);
				deny_add(path);
			}
		}
	return 0;
}

/* The media types crier recognises by their first bytes. */
const char *
media_sniff(const unsigned char *b, size_t n)
{
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
		return "image/gif";
	if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0)
		return memcmp(b + 8, "qt  ", 4) == 0 ? "video/quicktime" :
		    "video/mp4";
	return NULL;
}

/* Whether FMTTYPE (as a calendar wrote it) names TYPE. */
static bool
type_agrees(const char *fmttype, const char *type)
{
	size_t	 n = strcspn(fmttype, "; ");

	if (strncasecmp(fmttype, type, n) == 0 && type[n] == '\0')
		return true;
	return strcmp(type, "image/jpeg") == 0 && n == 9 &&
	    (strncasecmp(fmttype, "image/jpg", 9) == 0 ||
	    strncasecmp(fmttype, "image/pjp", 9) == 0);
}

int
media_content_type(const char *data, size_t len, const char *fmttype,
    const struct media_rules *r, const char **type, char *err, size_t errlen)
{
	const char	*t = media_sniff((const unsigned char *)data, len);

	*type = t;
	if (t == NULL) {
		snprintf(err, errlen, "not a PNG, JPEG, GIF or WebP image%s (by "
		    "its content)", r == NULL || !r->images_only ?
		    ", nor an MP4 video" : "");
		return -1;
	}
	if (fmttype != NULL && *fmttype != '\0' && !type_agrees(fmttype, t)) {
		snprintf(err, errlen, "FMTTYPE says %.*s but the content is %s",
		    (int)strcspn(fmttype, "; "), fmttype, t);
		return -1;
	}
	if (r != NULL && r->images_only && strncmp(t, "image/", 6) != 0) {
		snprintf(err, errlen, "%s, not an image", t);
		return -1;
	}
	return 0;
}

/* Why the file SB describes is refused under R (NULL: no caps), or NULL. */
static const char *
file_refused(const struct stat *sb, const struct media_rules *r)
{
	size_t	 i;

	if (!S_ISREG(sb->st_mode))
		return S_ISDIR(sb->st_mode) ? "a directory, not a file" :
		    "not a regular file (a device, FIFO or socket)";
	for (i = 0; i < md_ndeny; i++)
		if (md_deny[i].st_dev == sb->st_dev &&
		    md_deny[i].st_ino == sb->st_ino)
			return "a secret or configuration file of crier's";
	if (sb->st_size == 0)
		return "empty";
	if (r != NULL && (uintmax_t)sb->st_size > r->max_bytes)
		return r->too_big;
	return NULL;
}

/* Opens REL beneath directory DFD, following no symbolic link; -1 with errno. */
static int
open_beneath(int dfd, const char *rel)
{
	struct open_how	 how;
	struct stat	 sb;
	char		*names, *comp, *save, *more;
	int		 fd, next, saved;
	long		 r;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	if ((r = syscall(SYS_openat2, dfd, rel, &how, sizeof(how))) >= 0)
		return (int)r;
	if (errno != ENOSYS && errno != EPERM)
		return -1;
	/* Before Linux 5.6 (or under a seccomp filter): one name at a time. */
	if ((fd = dup(dfd)) == -1)
		return -1;
	names = xstrdup(rel);
	for (comp = strtok_r(names, "/", &save); comp != NULL; comp = more) {
		more = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0) {
			errno = EXDEV;
			goto fail;
		}
		if (strcmp(comp, ".") == 0 && more != NULL)
			continue;
		next = openat(fd, comp, (more != NULL ? O_PATH | O_DIRECTORY :
		    O_RDONLY | O_NONBLOCK | O_NOCTTY) | O_NOFOLLOW | O_CLOEXEC);
		if (next == -1) {
			if (errno == ENOTDIR && fstatat(fd, comp, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
				errno = ELOOP;
			goto fail;
		}
		close(fd);
		fd = next;
	}
	free(names);
	return fd;
fail:
	saved = errno;
	free(names);
	close(fd);
	errno = saved;
	return -1;
}

/* Why opening beneath a media directory failed with errno E. */
static const char *
open_why(int e)
{
	switch (e) {
	case ELOOP:
		return "a symbolic link (crier follows none in media "
		    "directories)";
	case EXDEV:
		return "outside the media directories (media_dirs)";
	case ENOTDIR:
		return "not below a directory";
	default:
		return strerror(e);
	}
}

/*
 * Opens local media PATH for reading: PATH absolute and inside a media
 * directory, or relative to one; no symbolic links, no "..". *FD on 0,
 * -1 with WHY.
 */
static int
media_open(const char *path, int *fd, const char **why)
{
	const char	*rel;
	size_t		 i;
	int		 dfd, e = ENOENT, tried = 0;

	*fd = -1;
	*why = "outside the media directories (media_dirs)";
	for (i = 0; i < md_ndirs; i++) {
		const struct mdir *d = &md_dirs[i];

		if (path[0] == '/') {
			if (d->real != NULL && path_under(path, d->real))
				rel = path + strlen(d->real);
			else if (path_under(path, d->path))
				rel = path + strlen(d->path);
			else
				continue;
			rel += strspn(rel, "/");
		} else
			rel = path;
		tried = 1;
		if (*rel == '\0') {
			*why = "a directory, not a file";
			return -1;
		}
		if ((dfd = open(d->real ? d->real : d->path, O_PATH |
		    O_DIRECTORY | O_CLOEXEC)) == -1) {
			e = errno;
			continue;
		}
		*fd = open_beneath(dfd, rel);
		e = errno;
		close(dfd);
		if (*fd != -1)
			return 0;
		if (e != ENOENT)
			break;
	}
	if (tried)
		*why = open_why(e);
	return -1;
}

/* Whether the open file FD lies in the state directory (outside its media dir). */
static bool
in_state_dir(int fd)
{
	char	 link[64], real[PATH_MAX];
	ssize_t	 n;
	size_t	 i;

	if (md_state == NULL)
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, real, sizeof(real) - 1)) <= 0)
		return false;
	real[n] = '\0';
	if (!path_under(real, md_state))
		return false;
	for (i = 0; i < md_ndirs; i++)
		if (md_dirs[i].in_state && md_dirs[i].real != NULL &&
		    path_under(real, md_dirs[i].real))
			return false;
	return true;
}

/*
 * Opens and checks local media PATH under R (NULL: no caps): confined,
 * a regular file, not a secret, within the size; *FD and *SB on 0, -1
 * with ERR.
 */
static int
media_open_checked(const char *path, const struct media_rules *r, int *fd,
    struct stat *sb, char *err, size_t errlen)
{
	const char	*what = r != NULL ? r->what : "media";
	const char	*why;

	if (media_open(path, fd, &why) == -1)
		goto fail;
	if (fstat(*fd, sb) == -1)
		why = strerror(errno);
	else if ((why = file_refused(sb, r)) == NULL && in_state_dir(*fd))
		why = "in crier's state directory";
	if (why == NULL)
		return 0;
	close(*fd);
	*fd = -1;
fail:
	snprintf(err, errlen, "%s %s: %s", what, path, why);
	return -1;
}

/* Reads up to N bytes at the start of FD into BUF; the count, or -1. */
static ssize_t
read_head(int fd, unsigned char *buf, size_t n)
{
	ssize_t	 r;

	do
		r = pread(fd, buf, n, 0);
	while (r == -1 && errno == EINTR);
	return r;
}

int
media_check(const char *path, const char *fmttype, const struct media_rules *r,
    char *err, size_t errlen)
{
	unsigned char	 head[16];
	struct stat	 sb;
	const char	*type;
	char		 why[300];
	ssize_t		 n;
	int		 fd;

	if (media_open_checked(path, r, &fd, &sb, err, errlen) == -1)
		return -1;
	n = read_head(fd, head, sizeof(head));
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s %s: %s", r ? r->what : "media", path,
		    strerror(errno));
		return -1;
	}
	if (media_content_type((const char *)head, (size_t)n, fmttype, r, &type,
	    why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s %s: %s", r ? r->what : "media", path,
		    why);
		return -1;
	}
	return 0;
}

/* Reads the confined regular file PATH (1 to R's max_bytes bytes) into *DATA; -1 with ERR. */
int
media_read(const char *path, const struct media_rules *r, char **data,
    size_t *len, char *err, size_t errlen)
{
	struct stat	 sb;
	const char	*why;
	char		*buf = NULL;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd;

	if (media_open_checked(path, r, &fd, &sb, err, errlen) == -1)
		return (-1);
	if ((buf = malloc((size_t)sb.st_size)) == NULL)
		abort();
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			why = n == 0 ? "shorter than expected" :
			    strerror(errno);
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = got;
	return (0);
fail:
	snprintf(err, errlen, "%s %s: %s", r->what, path, why);
	close(fd);
	free(buf);
	return (-1);
}

/* Fills M from the list entry E: its strings, then its file (typed by content) or URL; -1 with ERR. */
static int
media_entry(struct media *m, json_t *e, const struct media_rules *r,
    char *err, size_t errlen)
{
	const char	*type;
	char		 msg[400];

	m->uri = xstrdup(json_string_value(json_object_get(e, "uri")));
	m->alt = xstrdup(json_string_value(json_object_get(e, "alt")));
	if (m->uri == NULL) {
		snprintf(err, errlen, "an attachment without a URI");
		return (-1);
	}
	m->type = xstrdup(json_string_value(json_object_get(e, "fmttype")));
	if ((m->path = media_local_path(m->uri)) != NULL) {
		if (media_read(m->path, r, &m->data, &m->len, err, errlen) == -1)
			return (-1);
		if (media_content_type(m->data, m->len, m->type, r, &type, msg,
		    sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s %s: %s", r->what, m->path, msg);
			return (-1);
		}
		free(m->type);
		m->type = xstrdup(type);
		return (0);
	}
	if (netguard_check_url(m->uri, msg, sizeof(msg)) == -1 ||
	    conf_check_url(m->uri, "https", "http", msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%s %s: %s", r->what, m->uri, msg);
		return (-1);
	}
	return (0);
}

int
media_check_attachments(const struct cal_attach *a, size_t n,
    const struct media_rules *r, int *line, char *err, size_t errlen)
{
	char	*path, msg[400];
	size_t	 i;
	int	 rc;

	*line = 0;
	if (r != NULL && n > r->max_items) {
		*line = a[r->max_items].line;
		snprintf(err, errlen, "%zu attachments, more than %zu %s", n,
		    r->max_items, r->items);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		*line = a[i].line;
		if ((path = media_local_path(a[i].uri)) != NULL) {
			rc = media_check(path, a[i].fmttype, r, err, errlen);
			free(path);
			if (rc == -1)
				return (-1);
		} else if (netguard_check_url(a[i].uri, msg, sizeof(msg)) == -1 ||
		    conf_check_url(a[i].uri, "https", "http", msg,
		    sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s %s: %s", r != NULL ? r->what :
			    "media", a[i].uri, msg);
			return (-1);
		}
	}
	return (0);
}

/* Parses the media list JSON ([{uri, fmttype, alt}]) into *LIST, reading local files. */
int
media_parse(const char *json, const struct media_rules *r, struct media **list,
    size_t *n, char *err, size_t errlen)
{
	struct media	*l = NULL;
	json_t		*a, *e;
	size_t		 i, k = 0;

	*list = NULL;
	*n = 0;
	a = json_loads(json, 0, NULL);
	if (!json_is_array(a)) {
		snprintf(err, errlen, "unreadable media list");
		goto fail;
	}
	if (json_array_size(a) > r->max_items) {
		snprintf(err, errlen, "more than %zu %s", r->max_items,
		    r->items);
		goto fail;
	}
	if ((l = calloc(json_array_size(a) + 1, sizeof(*l))) == NULL)
		abort();
	json_array_foreach(a, i, e)
		if (media_entry(&l[k++], e, r, err, errlen) == -1)
			goto fail;
	json_decref(a);
	*list = l;
	*n = k;
	return (0);
fail:
	media_free(l, k);
	json_decref(a);
	return (-1);
}

/* Loads delivery ID's media list from the store into *LIST (none: NULL, 0). */
int
media_load(const char *id, const struct media_rules *r, struct media **list,
    size_t *n, char *err, size_t errlen)
{
	char	*s;
	int	 rc;

	*list = NULL;
	*n = 0;
	if (store_get_media(id, &s) == -1) {
		snprintf(err, errlen, "cannot read the delivery's media");
		return (-1);
	}
	if (s == NULL)
		return (0);
	rc = media_parse(s, r, list, n, err, errlen);
	free(s);
	return (rc);
}

/* Frees the N attachments of LIST and LIST itself. */
void
media_free(struct media *list, size_t n)
{
	size_t	i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(list[i].uri);
		free(list[i].type);
		free(list[i].alt);
		free(list[i].path);
		free(list[i].data);
	}
	free(list);
}
