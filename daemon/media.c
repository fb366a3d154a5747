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
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "media.h"
#include "store.h"

/* A malloc'd copy of S, or NULL if S is NULL. */
static char *
copy(const char *s)
{
	char	*p = NULL;

	if (s != NULL && (p = strdup(s)) == NULL)
		abort();
	return (p);
}

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

/* The local path of media URI (file:// or absolute), malloc'd; NULL if remote. */
char *
media_local_path(const char *uri)
{
	const char	*s = uri;
	char		*p, *o;
	int		 hi, lo;

	if (strncasecmp(s, "file://", 7) != 0)
		return (*s == '/' ? copy(s) : NULL);
	s += 7;
	if (strncasecmp(s, "localhost/", 10) == 0)
		s += 9;
	if (*s != '/')
		return (NULL);
	p = o = copy(s);
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

/* Why the file SB describes is refused under R, or NULL if it is not. */
static const char *
file_refused(const struct stat *sb, const struct media_rules *r)
{
	if (!S_ISREG(sb->st_mode))
		return ("not a regular file");
	if (sb->st_size == 0)
		return ("empty");
	if ((uintmax_t)sb->st_size > r->max_bytes)
		return (r->too_big);
	return (NULL);
}

/* Checks that PATH is a file R accepts, without reading it; -1 with ERR. */
int
media_check(const char *path, const struct media_rules *r, char *err,
    size_t errlen)
{
	struct stat	 sb;
	const char	*why;

	if (stat(path, &sb) == -1)
		why = strerror(errno);
	else if ((why = file_refused(&sb, r)) == NULL)
		return (0);
	snprintf(err, errlen, "%s %s: %s", r->what, path, why);
	return (-1);
}

/* Reads the regular file PATH (1 to R's max_bytes bytes) into *DATA; -1 with ERR. */
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

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		why = strerror(errno);
		goto fail;
	}
	if ((why = file_refused(&sb, r)) != NULL)
		goto fail;
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
	if (fd != -1)
		close(fd);
	free(buf);
	return (-1);
}

/* Fills M from the list entry E: its strings, then its file or URL; -1 with ERR. */
static int
media_entry(struct media *m, json_t *e, const struct media_rules *r,
    char *err, size_t errlen)
{
	const char	*type;
	char		 msg[400];

	m->uri = copy(json_string_value(json_object_get(e, "uri")));
	m->alt = copy(json_string_value(json_object_get(e, "alt")));
	if (m->uri == NULL) {
		snprintf(err, errlen, "an attachment without a URI");
		return (-1);
	}
	m->type = copy(json_string_value(json_object_get(e, "fmttype")));
	type = m->type ? m->type : media_guess_type(m->uri);
	if (r->images_only && (type == NULL ||
	    strncasecmp(type, "image/", 6) != 0)) {
		snprintf(err, errlen, "attachment %s: %s", m->uri, type ?
		    "not an image" : "unknown type (set FMTTYPE)");
		return (-1);
	}
	if ((m->path = media_local_path(m->uri)) != NULL)
		return (media_read(m->path, r, &m->data, &m->len, err, errlen));
	if (config_check_url(m->uri, "https", "http", msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%s %s: %s", r->what, m->uri, msg);
		return (-1);
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
