/* Compact JSON text of a jansson value, as json_dumps writes it (see jsonw.h). */
#include <config.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "sbuf.h"

#define JSONW_MAX_DEPTH	2048	/* jansson's own limit */
/* Length of the UTF-8 sequence at S (N bytes left), 0 if it is not valid UTF-8. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	c = s[0];
	uint32_t	cp;
	size_t		len, i;

	if (c < 0x80)
		return (1);
	if (c < 0xc2)
		return (0);	/* a continuation byte, or an overlong lead */
	if (c < 0xe0) {
		len = 2;
		cp = c & 0x1f;
	} else if (c < 0xf0) {
		len = 3;
		cp = c & 0x0f;
	} else if (c < 0xf5) {
		len = 4;
		cp = c & 0x07;
	} else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

/* Appends the quoted, escaped string S of N bytes to B; -1 if S is not UTF-8. */
static int
put_string(struct sbuf *b, const char *str, size_t n)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, run, k;
	char			 esc[8];

	sbuf_add(b, "\"", 1);
	while (i < n) {
		/* The longest run that goes out as it is. */
		for (run = i; run < n; run++) {
			if (s[run] < 0x20 || s[run] == '"' || s[run] == '\\')
				break;
			if (s[run] >= 0x80) {
				if ((k = utf8_len(s + run, n - run)) == 0)
					return (-1);
				run += k - 1;
			}
		}
		sbuf_add(b, s + i, run - i);
		if (run == n)
			break;
		switch (s[run]) {
		case '"':	sbuf_add(b, "\\\"", 2); break;
		case '\\':	sbuf_add(b, "\\\\", 2); break;
		case '\b':	sbuf_add(b, "\\b", 2); break;
		case '\f':	sbuf_add(b, "\\f", 2); break;
		case '\n':	sbuf_add(b, "\\n", 2); break;
		case '\r':	sbuf_add(b, "\\r", 2); break;
		case '\t':	sbuf_add(b, "\\t", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)s[run]);
			sbuf_add(b, esc, 6);
			break;
		}
		i = run + 1;
	}
	sbuf_add(b, "\"", 1);
	return (0);
}

/* Appends V's text to B; -1 where json_dumps would fail. */
static int
put_value(struct sbuf *b, const json_t *v, int depth)
{
	const char	*key;
	json_t		*item;
	char		 num[32], *real;
	size_t		 i, n;
	void		*it;
	int		 first = 1;

	if (depth > JSONW_MAX_DEPTH)
		return (-1);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		sbuf_add(b, "{", 1);
		/* jansson keeps keys in insertion order and dumps them so. */
		for (it = json_object_iter((json_t *)v); it != NULL;
		    it = json_object_iter_next((json_t *)v, it)) {
			key = json_object_iter_key(it);
			if (!first)
				sbuf_add(b, ",", 1);
			first = 0;
			if (put_string(b, key, json_object_iter_key_len(it)) == -1)
				return (-1);
			sbuf_add(b, ":", 1);
			if (put_value(b, json_object_iter_value(it), depth + 1) == -1)
				return (-1);
		}
		sbuf_add(b, "}", 1);
		return (0);
	case JSON_ARRAY:
		sbuf_add(b, "[", 1);
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				sbuf_add(b, ",", 1);
			item = json_array_get(v, i);
			if (put_value(b, item, depth + 1) == -1)
				return (-1);
		}
		sbuf_add(b, "]", 1);
		return (0);
	case JSON_STRING:
		return (put_string(b, json_string_value(v), json_string_length(v)));
	case JSON_INTEGER:
		n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		sbuf_add(b, num, n);
		return (0);
	case JSON_REAL:
		/* Rare in replies: jansson's own digits. */
		if ((real = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
			return (-1);
		sbuf_str(b, real);
		free(real);
		return (0);
	case JSON_TRUE:
		sbuf_add(b, "true", 4);
		return (0);
	case JSON_FALSE:
		sbuf_add(b, "false", 5);
		return (0);
	case JSON_NULL:
		sbuf_add(b, "null", 4);
		return (0);
	}
	return (-1);
}

/* The compact text of V (and a newline if NL) in a new string of *LEN bytes. */
char *
jsonw_dump(const json_t *v, int nl, size_t *len)
{
	struct sbuf	b;

	memset(&b, 0, sizeof(b));
	if (v == NULL || put_value(&b, v, 0) == -1)
		goto fail;
	if (nl)
		sbuf_add(&b, "\n", 1);
	if (b.oom || b.p == NULL)
		goto fail;
	*len = b.len;
	return (b.p);
fail:
	sbuf_free(&b);
	return (NULL);
}
