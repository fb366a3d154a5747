/*
 * Finding http(s) links in text. The recogniser is length.c's (which
 * keeps its own static copy until it is switched to this module), so
 * UTM tagging and thread splitting see exactly the links the length
 * rules count as 23.
 */
#include <config.h>

#include <sys/types.h>

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "url.h"

/* True if code point CP ends a URL: white space, a control or a format character. */
static int
url_stop(int32_t cp)
{
	utf8proc_category_t	 c;

	if (cp <= 0x20 || cp == 0x7F || cp == '<' || cp == '>' || cp == '"')
		return 1;
	c = utf8proc_category(cp);
	return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL ||
	    c == UTF8PROC_CATEGORY_ZP || c == UTF8PROC_CATEGORY_CC ||
	    c == UTF8PROC_CATEGORY_CF;
}

/* True if CP is a word character ([[:word:]]: letters, marks, digits, connectors). */
static int
is_word(int32_t cp)
{
	utf8proc_category_t	 c;

	if (cp < 0)
		return 0;
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9') || cp == '_';
	c = utf8proc_category(cp);
	return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ND) ||
	    c == UTF8PROC_CATEGORY_PC;
}

/* True for the ASCII characters of a user name. */
static int
is_user(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* Punycode's bias adaptation (RFC 3492 6.1). */
static uint32_t
puny_adapt(uint32_t delta, uint32_t npoints, int first)
{
	uint32_t	 k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / npoints;
	while (delta > 35 * 26 / 2) {
		delta /= 35;
		k += 36;
	}
	return k + 36 * delta / (delta + 38);
}

/* Length of the ASCII form ("xn--" and Punycode) of the label CP[0..N). */
static size_t
puny_len(const int32_t *cp, size_t n)
{
	uint32_t	 c, m, next = 128, delta = 0, bias = 72, q, k, t;
	size_t		 i, h = 0, b, out;

	for (i = 0; i < n; i++)
		if (cp[i] < 128)
			h++;
	if (h == n)
		return n;
	b = h;
	out = 4 + b + (b > 0);
	while (h < n) {
		m = UINT32_MAX;
		for (i = 0; i < n; i++)
			if ((uint32_t)cp[i] >= next && (uint32_t)cp[i] < m)
				m = (uint32_t)cp[i];
		delta += (m - next) * (uint32_t)(h + 1);
		next = m;
		for (i = 0; i < n; i++) {
			c = (uint32_t)cp[i];
			if (c < next)
				delta++;
			if (c != next)
				continue;
			for (q = delta, k = 36;; k += 36) {
				t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
				if (q < t)
					break;
				out++;
				q = (q - t) / (36 - t);
			}
			out++;
			bias = puny_adapt(delta, (uint32_t)(h + 1), h == b);
			delta = 0;
			h++;
		}
		delta++;
		next++;
	}
	return out;
}

/* True if no label of the host S[0..N) is longer than 63 in its ASCII form. */
static int
host_ok(const char *s, size_t n)
{
	int32_t	 label[64];
	size_t	 i = 0, nl = 0;
	ssize_t	 r;
	int32_t	 cp;

	while (i <= n) {
		if (i == n || s[i] == '.') {
			if (nl > 63 || puny_len(label, nl) > 63)
				return 0;
			nl = 0;
			i++;
			continue;
		}
		if ((r = utf8proc_iterate((const uint8_t *)s + i,
		    (ssize_t)(n - i), &cp)) <= 0)
			return 0;
		if (nl == 64)
			return 0;
		label[nl++] = cp;
		i += (size_t)r;
	}
	return 1;
}

/* Length in bytes of an http(s) URL starting at S[I], or 0; PREV is the code point before it. */
size_t
url_span(const char *s, size_t n, size_t i, int32_t prev)
{
	size_t	 j, k, host, end;
	int32_t	 cp;
	ssize_t	 r;
	long	 paren = 0, brack = 0;
	char	 c;

	if (n - i >= 7 && strncasecmp(s + i, "http://", 7) == 0)
		host = i + 7;
	else if (n - i >= 8 && strncasecmp(s + i, "https://", 8) == 0)
		host = i + 8;
	else
		return 0;
	if (is_word(prev) || prev == '@' || prev == '$' || prev == '#' ||
	    prev == '/' || prev == '.')
		return 0;
	for (j = host; j < n; j += (size_t)r) {
		if ((r = utf8proc_iterate((const uint8_t *)s + j,
		    (ssize_t)(n - j), &cp)) <= 0 || url_stop(cp))
			break;
	}
	end = j;
	for (k = host; k < end; k++) {
		if (s[k] == '(')
			paren++;
		else if (s[k] == ')')
			paren--;
		else if (s[k] == '[')
			brack++;
		else if (s[k] == ']')
			brack--;
	}
	while (end > host) {
		c = s[end - 1];
		if (strchr(".,;:!?'*", c) != NULL)
			end--;
		else if (c == ')' && paren < 0) {
			paren++;
			end--;
		} else if (c == ']' && brack < 0) {
			brack++;
			end--;
		} else
			break;
	}
	/* A host must start with a letter or digit; labels are DNS's. */
	if (end == host || !(is_user(s[host]) || (unsigned char)s[host] >= 0x80))
		return 0;
	for (k = host; k < end && strchr("/?#:", s[k]) == NULL; k++)
		;
	if (!host_ok(s + host, k - host))
		return 0;
	return end - i;
}

/* The code point before S[I] (a code point start), -1 at the start or after an invalid byte. */
static int32_t
prev_cp(const char *s, size_t n, size_t i)
{
	size_t	 j = i - 1;
	int32_t	 cp;
	ssize_t	 r;

	if (i == 0)
		return -1;
	while (j > 0 && i - j < 4 && ((unsigned char)s[j] & 0xC0) == 0x80)
		j--;
	r = utf8proc_iterate((const uint8_t *)s + j, (ssize_t)(n - j), &cp);
	if (r <= 0 || j + (size_t)r != i)
		return -1;
	return cp;
}

/* The index after the code point at S[I] (one byte if it is not UTF-8), which becomes *PREV (-1 then). */
size_t
url_step(const char *s, size_t n, size_t i, int32_t *prev)
{
	int32_t	 cp;
	ssize_t	 r;

	r = utf8proc_iterate((const uint8_t *)s + i, (ssize_t)(n - i), &cp);
	if (r <= 0) {
		*prev = -1;
		return (i + 1);
	}
	*prev = cp;
	return (i + (size_t)r);
}

/* Finds the first URL in S[FROM..N); its length, and its start in *START, or 0. */
size_t
url_find(const char *s, size_t n, size_t from, size_t *start)
{
	size_t	 i = from, u;
	int32_t	 prev;

	prev = prev_cp(s, n, from);
	while (i < n) {
		if ((s[i] == 'h' || s[i] == 'H') &&
		    (u = url_span(s, n, i, prev)) > 0) {
			*start = i;
			return u;
		}
		i = url_step(s, n, i, &prev);
	}
	return 0;
}
