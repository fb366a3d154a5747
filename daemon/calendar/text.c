/* Text values: copies, RFC 5545 and RFC 6868 escapes, comma lists. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "calendar-int.h"

/* Replaces *DST with a copy of SRC (NULL allowed); returns -1 without memory. */
int
text_set(char **dst, const char *src)
{
	char	*s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

/* Copies SRC with RFC 5545 TEXT escapes (\n \, \; \\) undone. */
char *
text_unescape(const char *src)
{
	char	*out, *o;

	if ((out = malloc(strlen(src) + 1)) == NULL)
		return NULL;
	for (o = out; *src != '\0'; src++) {
		if (*src == '\\' && src[1] != '\0') {
			src++;
			*o++ = (*src == 'n' || *src == 'N') ? '\n' : *src;
		} else
			*o++ = *src;
	}
	*o = '\0';
	return out;
}

/* Copies parameter value SRC with RFC 6868 escapes (^n ^' ^^) undone. */
char *
text_param_decode(const char *src)
{
	char	*out, *o;

	if ((out = malloc(strlen(src) + 1)) == NULL)
		return NULL;
	for (o = out; *src != '\0'; src++) {
		if (*src == '^' && (src[1] == 'n' || src[1] == 'N')) {
			*o++ = '\n';
			src++;
		} else if (*src == '^' && src[1] == '\'') {
			*o++ = '"';
			src++;
		} else if (*src == '^' && src[1] == '^') {
			*o++ = '^';
			src++;
		} else
			*o++ = *src;
	}
	*o = '\0';
	return out;
}

/* Copies the list "a, b,,c" as "a,b,c"; NULL without memory. */
char *
text_norm_list(const char *s)
{
	char		*out, *o;
	const char	*b, *e;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	o = out;
	while (*s != '\0') {
		b = s;
		while (*s != '\0' && *s != ',')
			s++;
		e = s;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > b) {
			if (o != out)
				*o++ = ',';
			memcpy(o, b, (size_t)(e - b));
			o += e - b;
		}
		if (*s == ',')
			s++;
	}
	*o = '\0';
	return out;
}
