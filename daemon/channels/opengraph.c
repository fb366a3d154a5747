/*
 * An OpenGraph scan of an HTML page without I/O: og:title and
 * og:description (else <title> and the meta description), for link cards.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "opengraph.h"

/* A growing string. */
struct sbuf {
	char	*s;
	size_t	 len, cap;
};

/* Appends N bytes of P to B. */
static void
sb_add(struct sbuf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			abort();
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* The code point of the entity at P (without its '&'), its length in *LEN; -1 if none. */
static int32_t
entity(const char *p, size_t n, size_t *len)
{
	static const struct { const char *name; int32_t cp; } named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
		{ "apos;", '\'' }, { "nbsp;", ' ' }, { "#39;", '\'' },
		{ "mdash;", 0x2014 }, { "ndash;", 0x2013 }, { "hellip;", 0x2026 },
		{ "rsquo;", 0x2019 }, { "lsquo;", 0x2018 }, { "rdquo;", 0x201d },
		{ "ldquo;", 0x201c }, { NULL, 0 } };
	size_t		i;
	long		v;
	char		*end, num[16];

	for (i = 0; named[i].name != NULL; i++)
		if (n >= strlen(named[i].name) &&
		    strncmp(p, named[i].name, strlen(named[i].name)) == 0) {
			*len = strlen(named[i].name);
			return (named[i].cp);
		}
	if (n < 3 || p[0] != '#')
		return (-1);
	for (i = 1; i < n && i < sizeof(num) - 1 && p[i] != ';'; i++)
		num[i - 1] = p[i];
	if (i >= n || p[i] != ';')
		return (-1);
	num[i - 1] = '\0';
	if (num[0] == 'x' || num[0] == 'X')
		v = strtol(num + 1, &end, 16);
	else
		v = strtol(num, &end, 10);
	if (*end != '\0' || end == num || !utf8proc_codepoint_valid((int32_t)v) ||
	    v == 0)
		return (-1);
	*len = i + 1;
	return ((int32_t)v);
}

/* P[0..N) with entities decoded, white space collapsed, cut to MAX bytes; NULL if empty or not UTF-8. */
static char *
clean_text(const char *p, size_t n, size_t max)
{
	struct sbuf	b = { NULL, 0, 0 };
	size_t		i, el, cut;
	int32_t		cp;
	uint8_t		enc[4];
	bool		space = false;

	sb_add(&b, "", 0);
	for (i = 0; i < n; i++) {
		if (isspace((unsigned char)p[i])) {
			space = true;
			continue;
		}
		if (space && b.len > 0)
			sb_add(&b, " ", 1);
		space = false;
		if (p[i] == '&' && (cp = entity(p + i + 1, n - i - 1, &el)) != -1) {
			sb_add(&b, (const char *)enc,
			    (size_t)utf8proc_encode_char(cp, enc));
			i += el;
		} else
			sb_add(&b, p + i, 1);
	}
	for (i = 0; i < b.len; i += (size_t)el) {
		utf8proc_ssize_t r = utf8proc_iterate((uint8_t *)b.s + i,
		    (utf8proc_ssize_t)(b.len - i), &cp);

		if (r <= 0 || cp == 0) {
			free(b.s);
			return (NULL);
		}
		el = (size_t)r;
	}
	if (b.len > max) {
		cut = max;
		while (cut > 0 && ((unsigned char)b.s[cut] & 0xc0) == 0x80)
			cut--;
		b.s[cut] = '\0';
		b.len = cut;
	}
	while (b.len > 0 && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	if (b.len == 0) {
		free(b.s);
		return (NULL);
	}
	return (b.s);
}

/* Finds NEEDLE (lower case) in P[0..N) ignoring case; its offset, or N. */
static size_t
find_ci(const char *p, size_t n, const char *needle)
{
	size_t	i, l = strlen(needle);

	for (i = 0; i + l <= n; i++)
		if (strncasecmp(p + i, needle, l) == 0)
			return (i);
	return (n);
}

/* Reads the attributes of the tag at P[0..N) (after its name) into NAME/PROPERTY/CONTENT. */
static size_t
meta_attrs(const char *p, size_t n, char **name, char **prop, const char **content,
    size_t *clen)
{
	size_t		i = 0, ks, kl, vs, vl;
	char		q;

	*name = *prop = NULL;
	*content = NULL;
	*clen = 0;
	while (i < n && p[i] != '>') {
		while (i < n && (isspace((unsigned char)p[i]) || p[i] == '/'))
			i++;
		ks = i;
		while (i < n && !isspace((unsigned char)p[i]) && p[i] != '=' &&
		    p[i] != '>' && p[i] != '/')
			i++;
		kl = i - ks;
		while (i < n && isspace((unsigned char)p[i]))
			i++;
		vs = vl = 0;
		if (i < n && p[i] == '=') {
			i++;
			while (i < n && isspace((unsigned char)p[i]))
				i++;
			if (i < n && (p[i] == '"' || p[i] == '\'')) {
				q = p[i++];
				vs = i;
				while (i < n && p[i] != q)
					i++;
				vl = i - vs;
				if (i < n)
					i++;
			} else {
				vs = i;
				while (i < n && !isspace((unsigned char)p[i]) &&
				    p[i] != '>')
					i++;
				vl = i - vs;
			}
		}
		if (kl == 0) {
			if (i < n && p[i] != '>')
				i++;
			continue;
		}
		if (kl == 4 && strncasecmp(p + ks, "name", 4) == 0 && *name == NULL)
			*name = strndup(p + vs, vl);
		else if (kl == 8 && strncasecmp(p + ks, "property", 8) == 0 &&
		    *prop == NULL)
			*prop = strndup(p + vs, vl);
		else if (kl == 7 && strncasecmp(p + ks, "content", 7) == 0) {
			*content = p + vs;
			*clen = vl;
		}
	}
	return (i);
}

/* Keeps the first value of a field: frees V if *DST is set, else stores it. */
static void
keep(char **dst, char *v)
{
	if (*dst == NULL)
		*dst = v;
	else
		free(v);
}

/* og:title/og:description of an HTML page, else <title> and meta description. */
void
opengraph_parse(const char *p, size_t n, size_t max, char **title, char **desc)
{
	char		*ogt = NULL, *ogd = NULL, *t = NULL, *d = NULL;
	char		*name, *prop;
	const char	*content, *key;
	size_t		 i = 0, e, clen;

	while (i < n) {
		e = i + find_ci(p + i, n - i, "<");
		if (e >= n)
			break;
		i = e + 1;
		if (n - i >= 3 && strncmp(p + i, "!--", 3) == 0) {
			i += find_ci(p + i, n - i, "-->");
			continue;
		}
		if (n - i >= 5 && strncasecmp(p + i, "/head", 5) == 0)
			break;
		if (n - i >= 6 && strncasecmp(p + i, "script", 6) == 0) {
			i += find_ci(p + i, n - i, "</script");
			continue;
		}
		if (n - i >= 5 && strncasecmp(p + i, "style", 5) == 0) {
			i += find_ci(p + i, n - i, "</style");
			continue;
		}
		if (n - i >= 5 && strncasecmp(p + i, "title", 5) == 0 &&
		    (p[i + 5] == '>' || isspace((unsigned char)p[i + 5]))) {
			i += find_ci(p + i, n - i, ">");
			if (i >= n)
				break;
			i++;
			e = i + find_ci(p + i, n - i, "</title");
			keep(&t, clean_text(p + i, e - i, max));
			i = e;
			continue;
		}
		if (n - i >= 5 && strncasecmp(p + i, "meta", 4) == 0 &&
		    (isspace((unsigned char)p[i + 4]) || p[i + 4] == '/')) {
			i += 4 + meta_attrs(p + i + 4, n - i - 4, &name, &prop,
			    &content, &clen);
			key = prop != NULL ? prop : name;
			if (key != NULL && content != NULL) {
				if (strcasecmp(key, "og:title") == 0)
					keep(&ogt, clean_text(content, clen, max));
				else if (strcasecmp(key, "og:description") == 0)
					keep(&ogd, clean_text(content, clen, max));
				else if (strcasecmp(key, "description") == 0)
					keep(&d, clean_text(content, clen, max));
			}
			free(name);
			free(prop);
		}
	}
	*title = ogt != NULL ? ogt : t;
	*desc = ogd != NULL ? ogd : d;
	if (ogt != NULL)
		free(t);
	if (ogd != NULL)
		free(d);
}

