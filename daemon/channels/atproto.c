/*
 * AT Protocol helpers that do no I/O: deterministic record keys (TIDs),
 * rich-text facets in UTF-8 byte offsets, handle syntax, language tags of
 * a post, and the times in a session JWT.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <utf8proc.h>

#include "atproto.h"

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
atproto_tid(const char *id, char out[ATPROTO_TID_LEN + 1])
{
	uint64_t	b = id_bits(id);
	uint64_t	us = (uint64_t)ATPROTO_TID_BASE + (b >> 10);
	uint64_t	v = (us << 10) | (b & 0x3ff);
	int		i;

	for (i = ATPROTO_TID_LEN - 1; i >= 0; i--) {
		out[i] = tid_alpha[v & 31];
		v >>= 5;
	}
	out[ATPROTO_TID_LEN] = '\0';
}

/* True if S has TID syntax. */
bool
atproto_is_tid(const char *s)
{
	size_t	i;

	if (strlen(s) != ATPROTO_TID_LEN || strchr("234567abcdefghij", s[0]) == NULL)
		return (false);
	for (i = 0; i < ATPROTO_TID_LEN; i++)
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
add(struct atproto_facet **f, size_t *n, enum atproto_facet_kind kind, const char *s,
    size_t start, size_t vs, size_t end)
{
	struct atproto_facet	*nf;

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
atproto_handle_ok(const char *s)
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
atproto_facets(const char *s, struct atproto_facet **out, size_t *nout)
{
	struct atproto_facet	*f = NULL, tmp;
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
		add(&f, &nf, AF_LINK, s, i, i, e);
		i = e - 1;
	}
	/* Tags and mentions, after white space (mentions: or '('). */
	for (i = 0; i < n; i += (size_t)l) {
		l = cp_at(s, i, n, &cp);
		for (j = 0; j < nf; j++)
			if (f[j].kind == AF_LINK && i >= f[j].start && i < f[j].end)
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
			add(&f, &nf, AF_TAG, s, i, k, e);
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
			if (!atproto_handle_ok(tag))
				continue;
			add(&f, &nf, AF_MENTION, s, i, i + 1, e);
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
atproto_facets_free(struct atproto_facet *f, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(f[i].value);
		free(f[i].did);
	}
	free(f);
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
atproto_jwt_times(const char *jwt, int64_t *exp, int64_t *iat)
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

/* True if S is a plausible BCP 47 tag: 2-3 letters, then -subtags of 1-8 alnum. */
static bool
lang_ok(const char *s)
{
	size_t	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

	if (n < 2 || n > 3)
		return (false);
	for (s += n; *s == '-'; s += n) {
		s++;
		n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789");
		if (n < 1 || n > 8)
			return (false);
	}
	return (*s == '\0');
}

/* Splits the comma-separated LANGUAGE into a JSON array; NULL with ERR if a tag is bad. */
json_t *
atproto_langs(const char *language, char *err, size_t errlen)
{
	json_t	*a = json_array();
	char	*copy, *p, *tok;

	if (language == NULL)
		return (a);
	if ((copy = strdup(language)) == NULL)
		abort();
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = '\0';
		if (*tok == '\0')
			continue;
		if (!lang_ok(tok) || json_array_size(a) == ATPROTO_MAX_LANGS) {
			snprintf(err, errlen, "language: '%s' is not a language "
			    "tag such as en or pt-BR (at most %d, comma-separated)",
			    tok, ATPROTO_MAX_LANGS);
			free(copy);
			json_decref(a);
			return (NULL);
		}
		json_array_append_new(a, json_string(tok));
	}
	free(copy);
	return (a);
}

/* The facets F as a JSON array of app.bsky.richtext.facet objects. */
json_t *
atproto_facets_json(const struct atproto_facet *f, size_t n)
{
	json_t	*facets = json_array(), *feat;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (f[i].kind == AF_LINK)
			feat = json_pack("{s:s, s:s}", "$type",
			    "app.bsky.richtext.facet#link", "uri", f[i].value);
		else if (f[i].kind == AF_TAG)
			feat = json_pack("{s:s, s:s}", "$type",
			    "app.bsky.richtext.facet#tag", "tag", f[i].value);
		else if (f[i].did != NULL)
			feat = json_pack("{s:s, s:s}", "$type",
			    "app.bsky.richtext.facet#mention", "did", f[i].did);
		else
			continue;
		json_array_append_new(facets, json_pack("{s:{s:I, s:I}, s:[o]}",
		    "index", "byteStart", (json_int_t)f[i].start, "byteEnd",
		    (json_int_t)f[i].end, "features", feat));
	}
	return (facets);
}
