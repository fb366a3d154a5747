/* The front matter of a DESCRIPTION: crier's keys written at the top of the event text. */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calendar-int.h"

#define MAX_FRONT	64		/* front matter lines at most */

/* Trims blanks at both ends of [*B, *E). */
static void
trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/*
 * Takes front matter (SPEC §4) off the description of O: "key: value" lines
 * ended by a line "---" (an opening "---" is allowed too).  Anything else on
 * those lines means there is no front matter and the text stays as written.
 * Front matter wins over X-CRIER-* properties: it is what a person last
 * edited in a calendar app.  "alt:" gives alt text to the media before it,
 * or to the next one.
 */
int
frontmatter_read(struct cal_occurrence *o)
{
	struct {
		const char	*k, *v;
		size_t		 klen, vlen;
	}			 kv[MAX_FRONT];
	const char		*s = o->description, *b, *e, *c, *body = NULL;
	char			*val = NULL, *pending_alt = NULL, *nb;
	struct cal_attach	*last = NULL;
	size_t			 n = 0, i;
	bool			 first = true;

	if (s == NULL)
		return 0;
	while (*s != '\0') {
		b = s;
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		s = *e == '\n' ? e + 1 : e;
		trim(&b, &e);
		if (e - b == 3 && memcmp(b, "---", 3) == 0) {
			if (first && n == 0) {
				first = false;
				continue;
			}
			body = s;
			break;
		}
		first = false;
		c = b;
		if (c < e && ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
			while (c < e && ((*c >= 'A' && *c <= 'Z') ||
			    (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			    *c == '_' || *c == '-'))
				c++;
		if (c == b || c >= e || *c != ':' || n == MAX_FRONT)
			return 0;
		kv[n].k = b;
		kv[n].klen = (size_t)(c - b);
		c++;
		trim(&c, &e);
		kv[n].v = c;
		kv[n].vlen = (size_t)(e - c);
		n++;
	}
	if (body == NULL || n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if ((val = strndup(kv[i].v, kv[i].vlen)) == NULL)
			goto fail;
		if (kv[i].klen == 8 && strncasecmp(kv[i].k, "channels", 8) == 0) {
			if (occurrence_set_channels(o, val) == -1)
				goto fail;
		} else if (kv[i].klen == 8 && strncasecmp(kv[i].k, "template", 8) == 0) {
			if (text_set(&o->template, *val ? val : NULL) == -1)
				goto fail;
		} else if (kv[i].klen == 5 && strncasecmp(kv[i].k, "media", 5) == 0) {
			if (*val != '\0') {
				if ((last = occurrence_add_attach(o, val, NULL, pending_alt)) == NULL)
					goto fail;
				free(pending_alt);
				pending_alt = NULL;
			}
		} else if (kv[i].klen == 3 && strncasecmp(kv[i].k, "alt", 3) == 0) {
			if (last != NULL && last->alt == NULL)
				last->alt = val, val = NULL;
			else {
				free(pending_alt);
				pending_alt = val;
				val = NULL;
			}
		} else if (occurrence_set_var(o, kv[i].k, kv[i].klen, val) == -1)
			goto fail;
		free(val);
		val = NULL;
	}
	/* an alt with no media after it describes the last ATTACH without one */
	if (pending_alt != NULL)
		for (i = o->nattach; i > 0; i--)
			if (o->attach[i - 1].alt == NULL) {
				o->attach[i - 1].alt = pending_alt;
				pending_alt = NULL;
				break;
			}
	free(pending_alt);
	while (*body == '\n' || *body == '\r')
		body++;
	nb = NULL;
	if (*body != '\0' && (nb = strdup(body)) == NULL)
		return -1;
	free(o->description);
	o->description = nb;
	return 0;
fail:
	free(val);
	free(pending_alt);
	return -1;
}
