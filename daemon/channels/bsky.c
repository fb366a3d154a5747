/*
 * Bluesky helpers that do no I/O: deterministic record keys (TIDs),
 * rich-text facets in UTF-8 byte offsets, an OpenGraph scan of an HTML
 * page for link cards, and the times in a JWT.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <utf8proc.h>

#include "bsky.h"

#define TAG_MAX_CHARS	64
#define TAG_MAX_BYTES	640

static const char tid_alpha[] = "234567abcdefghijklmnopqrstuvwxyz";

/* The 48 bits of delivery id ID: its hex digits, else an FNV-1a hash. */
static uint64_t
id_bits(const char *id)
{
	uint64_t	v = 0, h = 1469598103934665603ULL;
	size_t		i, n = strlen(id);

	if (n == 12 && strspn(id, "0123456789abcdef") == 12) {
		for (i = 0; i < n; i++)
			v = v << 4 | (uint64_t)(isdigit((unsigned char)id[i]) ?
			    id[i] - '0' : id[i] - 'a' + 10);
		return (v);
	}
	for (i = 0; i < n; i++) {
		h ^= (unsigned char)id[i];
		h *= 1099511628211ULL;
	}
	return (h & 0xffffffffffffULL);
}

/* The TID of delivery ID: 38 id bits over a fixed epoch, 10 as clock id. */
void
bsky_tid(const char *id, char out[BSKY_TID_LEN + 1])
{
	uint64_t	b = id_bits(id);
	uint64_t	us = (uint64_t)BSKY_TID_BASE + (b >> 10);
	uint64_t	v = (us << 10) | (b & 0x3ff);
	int		i;

	for (i = BSKY_TID_LEN - 1; i >= 0; i--) {
		out[i] = tid_alpha[v & 31];
		v >>= 5;
	}
	out[BSKY_TID_LEN] = '\0';
}

/* True if S has TID syntax. */
bool
bsky_is_tid(const char *s)
{
	size_t	i;

	if (strlen(s) != BSKY_TID_LEN || strchr("234567abcdefghij", s[0]) == NULL)
		return (false);
	for (i = 0; i < BSKY_TID_LEN; i++)
		if (s[i] == '\0' || strchr(tid_alpha, s[i]) == NULL)
			return (false);
	return (true);
}

/* Decodes the code point at S[I] (N bytes in all) into *CP; its length, or -1. */
static ssize_t
cp_at(const char *s, size_t i, size_t n, int32_t *cp)
{
	utf8proc_ssize_t	r;

	r = utf8proc_iterate((const uint8_t *)s + i, (utf8proc_ssize_t)(n - i), cp);
	return (r <= 0 ? -1 : (ssize_t)r);
}

/* The start of the code point before byte offset I of S. */
static size_t
cp_prev(const char *s, size_t i)
{
	if (i == 0)
		return (0);
	i--;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return (i);
}

/* True if CP is white space. */
static bool
is_space(int32_t cp)
{
	utf8proc_category_t	c;

	if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d))
		return (true);
	c = utf8proc_category(cp);
	return (c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL ||
	    c == UTF8PROC_CATEGORY_ZP);
}

/* True if CP is punctuation. */
static bool
is_punct(int32_t cp)
{
	utf8proc_category_t	c = utf8proc_category(cp);

	return (c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO);
}

/* The code point before byte offset I of S (N bytes), or ' ' at the start. */
static int32_t
cp_before(const char *s, size_t i, size_t n)
{
	int32_t	cp = ' ';

	if (i == 0)
		return (' ');
	if (cp_at(s, cp_prev(s, i), n, &cp) == -1)
		return (0);
	return (cp);
}

/* The end of the run of non-space code points of S from I. */
static size_t
word_end(const char *s, size_t i, size_t n)
{
	int32_t	cp;
	ssize_t	l;

	while (i < n && (l = cp_at(s, i, n, &cp)) > 0 && !is_space(cp))
		i += (size_t)l;
	return (i);
}

/* Moves END back over trailing punctuation of S[start..end) a link may not end with. */
static size_t
link_trim(const char *s, size_t start, size_t end)
{
	size_t	i, open = 0, close = 0, p;
	int32_t	cp;

	for (i = start; i < end; i++) {
		open += s[i] == '(';
		close += s[i] == ')';
	}
	while (end > start) {
		p = cp_prev(s, end);
		if (cp_at(s, p, end, &cp) == -1)
			break;
		if (cp == ')' && close > open) {
			close--;
			end = p;
		} else if (cp == '/' || cp == '#' || cp == '=' || cp == '-' ||
		    cp == '_' || cp == '~' || cp == '+' || cp == '&' ||
		    cp == '%' || cp == '@' || cp == ')')
			break;
		else if (is_punct(cp) || cp == '<' || cp == '>' || cp == '`' ||
		    cp == '|' || cp == '^')
			end = p;
		else
			break;
	}
	return (end);
}

/* Moves END back over the trailing punctuation of S[start..end). */
static size_t
punct_trim(const char *s, size_t start, size_t end)
{
	size_t	p;
	int32_t	cp;

	while (end > start) {
		p = cp_prev(s, end);
		if (cp_at(s, p, end, &cp) == -1 || !is_punct(cp))
			break;
		end = p;
	}
	return (end);
}

/* Appends a facet of KIND for S[start..end) with VALUE S[vs..end) to the list. */
static void
add(struct bsky_facet **f, size_t *n, enum bsky_facet_kind kind, const char *s,
    size_t start, size_t vs, size_t end)
{
	struct bsky_facet	*nf;

	if ((nf = reallocarray(*f, *n + 1, sizeof(**f))) == NULL)
		abort();
	*f = nf;
	nf[*n].kind = kind;
	nf[*n].start = start;
	nf[*n].end = end;
	if ((nf[*n].value = strndup(s + vs, end - vs)) == NULL)
		abort();
	nf[*n].did = NULL;
	(*n)++;
}

/* True if S has a link starting at I: http:// or https:// and a host. */
static size_t
link_at(const char *s, size_t i, size_t n)
{
	size_t	k;

	if (n - i > 8 && strncasecmp(s + i, "https://", 8) == 0)
		k = 8;
	else if (n - i > 7 && strncasecmp(s + i, "http://", 7) == 0)
		k = 7;
	else
		return (0);
	if (!isalnum((unsigned char)s[i + k]) && s[i + k] != '[')
		return (0);
	return (k);
}

/* True if HANDLE is a domain name of two labels or more, the last not numeric. */
bool
bsky_handle_ok(const char *s)
{
	size_t	n = strlen(s), l, labels = 0;
	const char *last = s;

	if (n == 0 || n > 253)
		return (false);
	while (*s != '\0') {
		l = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-");
		if (l == 0 || l > 63 || s[0] == '-' || s[l - 1] == '-')
			return (false);
		last = s;
		labels++;
		s += l;
		if (*s == '.')
			s++;
		else if (*s != '\0')
			return (false);
		else
			break;
	}
	if (s[-1] == '.' || labels < 2)
		return (false);
	return (isalpha((unsigned char)last[0]) != 0);
}

/* Finds links, then tags and mentions outside them; sorted by offset. */
int
bsky_facets(const char *s, struct bsky_facet **out, size_t *nout)
{
	struct bsky_facet	*f = NULL, tmp;
	size_t			 n = strlen(s), nf = 0, i, e, k, j, chars;
	int32_t			 cp, before;
	ssize_t			 l;
	char			 tag[TAG_MAX_BYTES + 1];
	bool			 digits;

	*out = NULL;
	*nout = 0;
	for (i = 0; i < n; i += (size_t)l)
		if ((l = cp_at(s, i, n, &cp)) == -1)
			return (-1);
	/* Links: a scheme after white space, an opening bracket or a quote. */
	for (i = 0; i < n; i++) {
		if ((k = link_at(s, i, n)) == 0)
			continue;
		before = cp_before(s, i, n);
		if (!is_space(before) && strchr("([{<\"'", before) == NULL)
			continue;
		e = link_trim(s, i, word_end(s, i, n));
		if (e <= i + k)
			continue;
		add(&f, &nf, BF_LINK, s, i, i, e);
		i = e - 1;
	}
	/* Tags and mentions, after white space (mentions: or '('). */
	for (i = 0; i < n; i += (size_t)l) {
		l = cp_at(s, i, n, &cp);
		for (j = 0; j < nf; j++)
			if (f[j].kind == BF_LINK && i >= f[j].start && i < f[j].end)
				break;
		if (j < nf) {
			l = (ssize_t)(f[j].end - i);
			continue;
		}
		before = cp_before(s, i, n);
		if ((cp == '#' || cp == 0xff03) && is_space(before)) {
			e = punct_trim(s, i + (size_t)l, word_end(s, i + (size_t)l, n));
			k = i + (size_t)l;
			if (e <= k || e - k > TAG_MAX_BYTES || s[k] == '#' ||
			    strncmp(s + k, "\xef\xb8\x8f", 3) == 0)
				continue;
			digits = true;
			chars = 0;
			for (j = k; j < e; j += (size_t)cp_at(s, j, n, &cp)) {
				cp_at(s, j, n, &cp);
				if (cp < '0' || cp > '9')
					digits = false;
				chars++;
			}
			if (digits || chars > TAG_MAX_CHARS)
				continue;
			add(&f, &nf, BF_TAG, s, i, k, e);
			l = (ssize_t)(e - i);
		} else if (cp == '@' && (is_space(before) || before == '(')) {
			e = i + 1 + strspn(s + i + 1, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
			while (e > i + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
				e--;
			if (e - i - 1 > 253)
				continue;
			memcpy(tag, s + i + 1, e - i - 1);
			tag[e - i - 1] = '\0';
			if (!bsky_handle_ok(tag))
				continue;
			add(&f, &nf, BF_MENTION, s, i, i + 1, e);
			l = (ssize_t)(e - i);
		}
	}
	/* Insertion sort by start: links came first. */
	for (i = 1; i < nf; i++)
		for (j = i; j > 0 && f[j - 1].start > f[j].start; j--) {
			tmp = f[j];
			f[j] = f[j - 1];
			f[j - 1] = tmp;
		}
	*out = f;
	*nout = nf;
	return (0);
}

/* Frees the N facets F. */
void
bsky_facets_free(struct bsky_facet *f, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(f[i].value);
		free(f[i].did);
	}
	free(f);
}

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
bsky_og_parse(const char *p, size_t n, size_t max, char **title, char **desc)
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

/* Decodes base64url S (N chars) into a NUL-terminated malloc'd string. */
static char *
b64url_decode(const char *s, size_t n)
{
	char		*out;
	uint32_t	 acc = 0;
	int		 bits = 0, v;
	size_t		 i, o = 0;

	if ((out = malloc(n * 3 / 4 + 2)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-' || c == '+')
			v = 62;
		else if (c == '_' || c == '/')
			v = 63;
		else if (c == '=')
			break;
		else {
			free(out);
			return (NULL);
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return (out);
}

/* The exp and iat claims of JWT, unverified. */
int
bsky_jwt_times(const char *jwt, int64_t *exp, int64_t *iat)
{
	const char	*a, *b;
	char		*payload;
	json_t		*j, *v;
	int		 rc = -1;

	*exp = *iat = 0;
	if ((a = strchr(jwt, '.')) == NULL || (b = strchr(a + 1, '.')) == NULL)
		return (-1);
	if ((payload = b64url_decode(a + 1, (size_t)(b - a - 1))) == NULL)
		return (-1);
	if ((j = json_loads(payload, 0, NULL)) != NULL) {
		v = json_object_get(j, "exp");
		if (json_is_integer(v) || json_is_real(v)) {
			*exp = (int64_t)json_number_value(v);
			rc = 0;
		}
		v = json_object_get(j, "iat");
		if (json_is_integer(v) || json_is_real(v))
			*iat = (int64_t)json_number_value(v);
		json_decref(j);
	}
	free(payload);
	return (rc);
}
