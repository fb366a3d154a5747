/*
 * A templates directory: every NAME.mustache compiled once, partials
 * checked, and the lookup of a template for a style or an email part.
 * Which dotted names are variants is up to the caller's lookup (the
 * channel table's styles): this file knows no networks.
 */
#include <config.h>

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "template.h"
#include "../common/digest.h"
#include "../common/util.h"

/* A file of the set: NAME.mustache, NAME.<style>.mustache or NAME.<part>.mustache. */
struct entry {
	char		*base;		/* file name without ".mustache" */
	struct tmpl	*t;
};

struct tmpl_set {
	struct entry	*v;
	size_t		 n;
	int		 refs;		/* tmpl_set_ref; tmpl_set_free drops one */
	unsigned char	 digest[DIGEST_LEN];	/* of every name and text */
};

/* Finds the template of S whose file is BASE.mustache. */
static const struct tmpl *
set_find(const struct tmpl_set *s, const char *base)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].base, base) == 0)
			return s->v[i].t;
	return NULL;
}

/* Finds template NAME with VARIANT (NULL: the generic one): NAME.VARIANT. */
static const struct tmpl *
set_get(const struct tmpl_set *s, const char *name, const char *variant)
{
	char	base[PATH_MAX];

	if (variant == NULL)
		return set_find(s, name);
	if ((size_t)snprintf(base, sizeof(base), "%s.%s", name, variant) >=
	    sizeof(base))
		return NULL;
	return set_find(s, base);
}

/* Reads regular file PATH (at most TMPL_MAX_SIZE bytes) into *BUF. */
static int
read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	char		*b = NULL;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		/* Not an error: only regular files are templates. */
		close(fd);
		return 1;
	}
	if (st.st_size > TMPL_MAX_SIZE) {
		util_seterr(err, errlen, "%s: larger than %d bytes", path,
		    TMPL_MAX_SIZE);
		goto fail;
	}
	if ((b = malloc(TMPL_MAX_SIZE + 1)) == NULL) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	/* Read to the end, in case the file grew after fstat. */
	while ((r = read(fd, b + n, TMPL_MAX_SIZE + 1 - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			util_seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		n += (size_t)r;
		if (n > TMPL_MAX_SIZE) {
			util_seterr(err, errlen, "%s: larger than %d bytes", path,
			    TMPL_MAX_SIZE);
			goto fail;
		}
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
 fail:
	free(b);
	close(fd);
	return -1;
}

/* Keeps directory entries named *.mustache, hidden files aside. */
static int
is_template(const struct dirent *d)
{
	size_t	 n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 9 &&
	    strcmp(d->d_name + n - 9, ".mustache") == 0;
}

/* tmpl_opts' find: the template of set ARG named NAME. */
static const struct tmpl *
find_cb(void *arg, const char *name)
{
	return set_find(arg, name);
}

/* Checks that every partial T uses is a safe name found in S. */
static int
check_partials(const struct tmpl_set *s, const struct tmpl *t, char *err,
    size_t errlen)
{
	const char	*name, *label = tmpl_label(t);
	size_t		 i = 0;
	unsigned	 line;

	while ((name = tmpl_next_partial(t, &i, &line)) != NULL) {
		if (name[0] == '\0' || name[0] == '.' ||
		    strchr(name, '/') != NULL || strstr(name, "..") != NULL) {
			util_seterr(err, errlen, "%s:%u: partial name \"%s\" refused "
			    "(not a file of the directory)", label, line, name);
			return -1;
		}
		if (set_find(s, name) == NULL) {
			util_seterr(err, errlen, "%s:%u: no partial \"%s\" "
			    "(%s.mustache)", label, line, name, name);
			return -1;
		}
	}
	return 0;
}

/* Puts the SHA-256 of S's names and texts in MD (zeros for no set). */
void
tmpl_set_digest(const struct tmpl_set *s, unsigned char md[DIGEST_LEN])
{
	if (s == NULL)
		memset(md, 0, DIGEST_LEN);
	else
		memcpy(md, s->digest, DIGEST_LEN);
}

/* Loads and compiles every *.mustache file in DIR; NULL with ERR naming the file. */
struct tmpl_set *
tmpl_set_load(const char *dir, char *err, size_t errlen)
{
	struct tmpl_set	 *s = NULL;
	struct dirent	**names = NULL;
	struct entry	 *e;
	struct digest	  dg;
	char		  path[PATH_MAX];
	char		 *src = NULL;
	size_t		  len;
	uint64_t	  len64;
	int		  n = -1, i, rv;

	if ((n = scandir(dir, &names, is_template, alphasort)) == -1) {
		util_seterr(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (n > 0 && (s->v = calloc(n, sizeof(*s->v))) == NULL)) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	s->refs = 1;
	digest_start(&dg);
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]->d_name) >= sizeof(path)) {
			util_seterr(err, errlen, "%s/%s: path too long", dir,
			    names[i]->d_name);
			goto fail;
		}
		if ((rv = read_file(path, &src, &len, err, errlen)) == -1)
			goto fail;
		if (rv == 1)
			continue;
		e = &s->v[s->n];
		names[i]->d_name[strlen(names[i]->d_name) - 9] = '\0';
		if ((e->base = strdup(names[i]->d_name)) == NULL) {
			util_seterr(err, errlen, "out of memory");
			s->n++;
			goto fail;
		}
		s->n++;
		if ((e->t = tmpl_compile_labelled(src, len, path, err,
		    errlen)) == NULL)
			goto fail;
		/* Name and length first: no two sets run together alike. */
		len64 = len;
		digest_add(&dg, e->base, strlen(e->base) + 1);
		digest_add(&dg, &len64, sizeof(len64));
		digest_add(&dg, src, len);
		free(src);
		src = NULL;
	}
	digest_end(&dg, s->digest);
	for (i = 0; i < (int)s->n; i++)
		if (check_partials(s, s->v[i].t, err, errlen) == -1)
			goto fail;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return s;
 fail:
	free(src);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	tmpl_set_free(s);
	return NULL;
}

/* True if a part name is one of an email's. */
static int
email_part(const char *v)
{
	return v != NULL && (strcmp(v, "subject") == 0 ||
	    strcmp(v, "txt") == 0 || strcmp(v, "html") == 0);
}

/* True if a template NAME exists for channel type TYPE (any variant or email part). */
bool
tmpl_set_has(const struct tmpl_set *s, const char *name, const char *type)
{
	return set_get(s, name, NULL) != NULL ||
	    set_get(s, name, "subject") != NULL ||
	    set_get(s, name, "txt") != NULL || set_get(s, name, "html") != NULL ||
	    (type != NULL && set_get(s, name, type) != NULL);
}

/* Renders template NAME for channel type TYPE, or its email PART. */
int
tmpl_set_render(const struct tmpl_set *s, const char *name, const char *type,
    const char *part, json_t *ctx, bool strict, char **out, char *err,
    size_t errlen)
{
	struct tmpl_opts	 o;
	const struct tmpl	*t = NULL;

	*out = NULL;
	if (part != NULL && !email_part(part)) {
		util_seterr(err, errlen, "no email part \"%s\"", part);
		return -1;
	}
	if (part != NULL)
		t = set_get(s, name, part);
	else {
		if (type != NULL)
			t = set_get(s, name, type);
		if (t == NULL)
			t = set_get(s, name, NULL);
	}
	if (t == NULL) {
		if (part != NULL)
			util_seterr(err, errlen, "no template %s.%s for %s", name,
			    part, type != NULL ? type : "any channel");
		else
			util_seterr(err, errlen, "no template %s for %s", name,
			    type != NULL ? type : "any channel");
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.html_escape = part != NULL && strcmp(part, "html") == 0;
	o.strict = strict;
	o.find = find_cb;
	o.partial_arg = (void *)s;
	return tmpl_render(t, ctx, &o, out, err, errlen);
}

/* Takes another reference to S (NULL stays NULL): a send under way outlives a reload. */
struct tmpl_set *
tmpl_set_ref(const struct tmpl_set *s)
{
	struct tmpl_set	*w = (struct tmpl_set *)s;

	if (w != NULL)
		w->refs++;
	return w;
}

/* Drops a reference to S, freeing it and every template in it with the last. */
void
tmpl_set_free(struct tmpl_set *s)
{
	size_t	 i;

	if (s == NULL || --s->refs > 0)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].base);
		tmpl_free(s->v[i].t);
	}
	free(s->v);
	free(s);
}
