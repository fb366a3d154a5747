/* The fields of an occurrence: channels, variables, attachments, categories; copies. */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "calendar-int.h"

/* Sets channels of O from list S (normalised); -1 without memory. */
int
occurrence_set_channels(struct cal_occurrence *o, const char *s)
{
	char	*n = NULL;

	if (strspn(s, " \t,") != strlen(s) && (n = text_norm_list(s)) == NULL)
		return -1;
	free(o->channels);
	o->channels = n;
	return 0;
}

/* Sets variable NAME (lower-cased) of O to VALUE, replacing an earlier one. */
int
occurrence_set_var(struct cal_occurrence *o, const char *name, size_t namelen,
    const char *value)
{
	struct cal_var	*nv;
	char		*n, *v;
	size_t		 i;

	if ((n = strndup(name, namelen)) == NULL)
		return -1;
	for (i = 0; n[i] != '\0'; i++)
		if (n[i] >= 'A' && n[i] <= 'Z')
			n[i] = (char)(n[i] - 'A' + 'a');
	if ((v = strdup(value)) == NULL) {
		free(n);
		return -1;
	}
	for (i = 0; i < o->nvars; i++)
		if (strcmp(o->vars[i].name, n) == 0) {
			free(n);
			free(o->vars[i].value);
			o->vars[i].value = v;
			return 0;
		}
	if ((nv = reallocarray(o->vars, o->nvars + 1, sizeof(*nv))) == NULL) {
		free(n);
		free(v);
		return -1;
	}
	o->vars = nv;
	o->vars[o->nvars].name = n;
	o->vars[o->nvars++].value = v;
	return 0;
}

/* Appends an attachment to O; returns it, or NULL without memory. */
struct cal_attach *
occurrence_add_attach(struct cal_occurrence *o, const char *uri, const char *fmttype,
    const char *alt)
{
	struct cal_attach	*na, *a;

	if ((na = reallocarray(o->attach, o->nattach + 1, sizeof(*na))) == NULL)
		return NULL;
	o->attach = na;
	a = &na[o->nattach];
	memset(a, 0, sizeof(*a));
	a->line = o->line;
	if ((a->uri = strdup(uri)) == NULL ||
	    (fmttype != NULL && (a->fmttype = strdup(fmttype)) == NULL) ||
	    (alt != NULL && (a->alt = strdup(alt)) == NULL)) {
		free(a->uri);
		free(a->fmttype);
		return NULL;
	}
	o->nattach++;
	return a;
}

/* Adds each item of comma list S to the categories of O. */
int
occurrence_add_categories(struct cal_occurrence *o, const char *s)
{
	char		**nc, *item;
	const char	*b, *e;

	while (*s != '\0') {
		b = s;
		while (*s != '\0' && *s != ',')
			s++;
		e = s;
		if (*s == ',')
			s++;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == b)
			continue;
		if ((item = strndup(b, (size_t)(e - b))) == NULL)
			return -1;
		nc = reallocarray(o->categories, o->ncategories + 1, sizeof(*nc));
		if (nc == NULL) {
			free(item);
			return -1;
		}
		o->categories = nc;
		o->categories[o->ncategories++] = item;
	}
	return 0;
}

/* Frees what occurrence O owns (not O itself). */
void
occurrence_clear(struct cal_occurrence *o)
{
	size_t	 i;

	free(o->uid);
	free(o->summary);
	free(o->description);
	free(o->url);
	free(o->location);
	for (i = 0; i < o->ncategories; i++)
		free(o->categories[i]);
	free(o->categories);
	free(o->channels);
	free(o->template);
	for (i = 0; i < o->nvars; i++) {
		free(o->vars[i].name);
		free(o->vars[i].value);
	}
	free(o->vars);
	for (i = 0; i < o->nattach; i++) {
		free(o->attach[i].uri);
		free(o->attach[i].fmttype);
		free(o->attach[i].alt);
	}
	free(o->attach);
	memset(o, 0, sizeof(*o));
}

/* Deep-copies SRC into DST; on failure DST owns nothing and -1 is returned. */
int
occurrence_copy(struct cal_occurrence *dst, const struct cal_occurrence *src)
{
	size_t	 i;

	*dst = *src;
	dst->uid = dst->summary = dst->description = dst->url = NULL;
	dst->location = dst->channels = dst->template = NULL;
	dst->categories = NULL;
	dst->vars = NULL;
	dst->attach = NULL;
	dst->ncategories = dst->nvars = dst->nattach = 0;
	if (text_set(&dst->uid, src->uid) == -1 ||
	    text_set(&dst->summary, src->summary) == -1 ||
	    text_set(&dst->description, src->description) == -1 ||
	    text_set(&dst->url, src->url) == -1 ||
	    text_set(&dst->location, src->location) == -1 ||
	    text_set(&dst->channels, src->channels) == -1 ||
	    text_set(&dst->template, src->template) == -1)
		goto fail;
	if (src->ncategories > 0 && (dst->categories = calloc(src->ncategories,
	    sizeof(*dst->categories))) == NULL)
		goto fail;
	for (i = 0; i < src->ncategories; i++, dst->ncategories++)
		if ((dst->categories[i] = strdup(src->categories[i])) == NULL)
			goto fail;
	if (src->nvars > 0 && (dst->vars = calloc(src->nvars,
	    sizeof(*dst->vars))) == NULL)
		goto fail;
	for (i = 0; i < src->nvars; i++, dst->nvars++)
		if ((dst->vars[i].name = strdup(src->vars[i].name)) == NULL ||
		    (dst->vars[i].value = strdup(src->vars[i].value)) == NULL) {
			dst->nvars++;
			goto fail;
		}
	if (src->nattach > 0 && (dst->attach = calloc(src->nattach,
	    sizeof(*dst->attach))) == NULL)
		goto fail;
	for (i = 0; i < src->nattach; i++, dst->nattach++)
		if (text_set(&dst->attach[i].uri, src->attach[i].uri) == -1 ||
		    text_set(&dst->attach[i].fmttype, src->attach[i].fmttype) == -1 ||
		    text_set(&dst->attach[i].alt, src->attach[i].alt) == -1) {
			dst->nattach++;
			goto fail;
		} else
			dst->attach[i].line = src->attach[i].line;
	return 0;
fail:
	occurrence_clear(dst);
	return -1;
}

void
cal_occurrences_free(struct cal_occurrence *occ, size_t n)
{
	size_t	 i;

	for (i = 0; occ != NULL && i < n; i++)
		occurrence_clear(&occ[i]);
	free(occ);
}

