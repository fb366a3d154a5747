/*
 * Finding links in post text, as the networks' link counters do: http(s)
 * links for every network (url_span, url_find: UTM tagging and thread
 * splitting see exactly the links the length rules count as 23), and X's
 * own (url_span_x: twitter-text's extractor, "example.org" without a
 * scheme too, a known top-level domain needed, tlds.c).
 */
#include <config.h>

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "tlds.h"
#include "url.h"

#define BARE_MAX_LABELS	16	/* labels of a domain looked at: real ones have a few */

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

/*
 * Where a link whose text starts at FROM ends: at white space, less
 * trailing punctuation and unbalanced closing brackets.
 */
static size_t
url_end(const char *s, size_t n, size_t from)
{
	size_t	 j, k, end;
	int32_t	 cp;
	ssize_t	 r;
	long	 paren = 0, brack = 0;
	char	 c;

	for (j = from; j < n; j += (size_t)r) {
		if ((r = utf8proc_iterate((const uint8_t *)s + j,
		    (ssize_t)(n - j), &cp)) <= 0 || url_stop(cp))
			break;
	}
	end = j;
	for (k = from; k < end; k++) {
		if (s[k] == '(')
			paren++;
		else if (s[k] == ')')
			paren--;
		else if (s[k] == '[')
			brack++;
		else if (s[k] == ']')
			brack--;
	}
	while (end > from) {
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
	return end;
}

/* The length of "http://" or "https://" at S[I] (any case), or 0. */
static size_t
scheme_len(const char *s, size_t n, size_t i)
{
	if (n - i >= 7 && strncasecmp(s + i, "http://", 7) == 0)
		return 7;
	if (n - i >= 8 && strncasecmp(s + i, "https://", 8) == 0)
		return 8;
	return 0;
}

/* Length in bytes of an http(s) URL starting at S[I], or 0; PREV is the code point before it. */
size_t
url_span(const char *s, size_t n, size_t i, int32_t prev)
{
	size_t	 k, host, end;

	if ((host = scheme_len(s, n, i)) == 0)
		return 0;
	host += i;
	if (is_word(prev) || prev == '@' || prev == '$' || prev == '#' ||
	    prev == '/' || prev == '.')
		return 0;
	end = url_end(s, n, host);
	/* A host must start with a letter or digit; labels are DNS's. */
	if (end == host || !(is_user(s[host]) || (unsigned char)s[host] >= 0x80))
		return 0;
	for (k = host; k < end && strchr("/?#:", s[k]) == NULL; k++)
		;
	if (!host_ok(s + host, k - host))
		return 0;
	return end - i;
}

/* ASCII-only ctype: the locale has no say in what a link is. */
static int
isdigit_ascii(char c)
{
	return c >= '0' && c <= '9';
}

static int
isalnum_ascii(char c)
{
	return isdigit_ascii(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
tolower_ascii(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The code point at S[I] (S is N bytes) and its length in *LEN; -1 (length 1) if not UTF-8 or at the end. */
static int32_t
cp_at(const char *s, size_t n, size_t i, size_t *len)
{
	int32_t	 cp;
	ssize_t	 r;

	*len = 1;
	if (i >= n || (r = utf8proc_iterate((const uint8_t *)s + i,
	    (ssize_t)(n - i), &cp)) <= 0)
		return -1;
	*len = (size_t)r;
	return cp;
}

/*
 * Whether CP may be part of a domain name as twitter-text's validDomainChars
 * has it: not its punctuation, white space, directional marks or U+FFFE,
 * U+FEFF, U+FFFF.
 */
static int
bare_dom_char(int32_t cp)
{
	if (cp < 0x21 || cp == 0x7F)
		return 0;
	if (cp < 0x80)
		return strchr("!'#%&()*+,\\-./:;<=>?@[]^_{|}~$", (int)cp) == NULL;
	return !(cp == 0x85 || cp == 0xA0 || cp == 0x1680 || cp == 0x180E ||
	    (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFFFE ||
	    cp == 0xFEFF || cp == 0xFFFF || (cp >= 0x202A && cp <= 0x202E) ||
	    cp == 0x061C || cp == 0x200E || cp == 0x200F ||
	    (cp >= 0x2066 && cp <= 0x2069));
}

/* Whether CP is in twitter-text's latinAccentChars. */
static int
bare_latin(int32_t cp)
{
	return (cp >= 0xC0 && cp <= 0xD6) || (cp >= 0xD8 && cp <= 0xF6) ||
	    (cp >= 0xF8 && cp <= 0x24F) || cp == 0x253 || cp == 0x254 ||
	    cp == 0x256 || cp == 0x257 || cp == 0x259 || cp == 0x25B ||
	    cp == 0x263 || cp == 0x268 || cp == 0x26F || cp == 0x272 ||
	    cp == 0x289 || cp == 0x28B || cp == 0x2BB ||
	    (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1E00 && cp <= 0x1EFF);
}

/* Whether CP may be in a label of an ASCII domain (validAsciiDomain: [-a-z0-9] and Latin accents). */
static int
bare_ascii_char(int32_t cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= '0' && cp <= '9') || cp == '-' || bare_latin(cp);
}

/* Orders a TLD against the key (a NUL-terminated lower-case string). */
static int
tld_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/*
 * The length of a top-level domain X knows at S[I..END), followed by
 * neither [0-9A-Za-z] nor @, + or - (END counts as the end of the text),
 * or of a Punycode one (xn--...), or 0.
 */
static size_t
bare_tld(const char *s, size_t end, size_t i)
{
	char	 low[64];
	size_t	 j, k, best = 0, len;

	for (j = i; j < end && (isalnum_ascii(s[j]) || s[j] == '-'); j++)
		;
	if (j - i > 4 && strncasecmp(s + i, "xn--", 4) == 0) {
		/* Punycode: xn-- and letters, digits and hyphens, whatever follows. */
		return j - i;
	}
	for (j = i; j < end && isalnum_ascii(s[j]); j++)
		if (j - i < sizeof(low) - 1)
			low[j - i] = (char)tolower_ascii(s[j]);
	if (j > i) {
		if (j - i >= sizeof(low))
			return 0;
		low[j - i] = '\0';
		if (bsearch(low, tlds, ntlds, sizeof(*tlds), tld_cmp) == NULL)
			return 0;
		if (j < end && (s[j] == '@' || s[j] == '+' || s[j] == '-'))
			return 0;
		return j - i;
	}
	/* A TLD in another script: the longest that fits. */
	if (i >= end || (unsigned char)s[i] < 0x80)
		return 0;
	for (k = ntlds; k > 0 && (unsigned char)tlds[k - 1][0] >= 0x80; k--)
		;
	/* In byte order: those sharing S[I]'s first byte are together. */
	for (; k < ntlds && tlds[k][0] != s[i]; k++)
		;
	for (; k < ntlds && tlds[k][0] == s[i]; k++) {
		len = strlen(tlds[k]);
		if (len > end - i ||
		    len <= best || memcmp(s + i, tlds[k], len) != 0)
			continue;
		if (i + len < end && (isalnum_ascii(s[i + len]) ||
		    s[i + len] == '@' || s[i + len] == '+' ||
		    s[i + len] == '-'))
			continue;
		best = len;
	}
	return best;
}

/* bare_tld(S, N, I) through MEMO (NULL: none): each dot's TLD is looked up once per text. */
static size_t
memo_tld(struct url_memo *memo, const char *s, size_t n, size_t i)
{
	size_t	 t;

	if (memo == NULL || i >= n)
		return bare_tld(s, n, i);
	if (memo->tld == NULL && (memo->tld = calloc(n, 1)) == NULL)
		return bare_tld(s, n, i);
	if (memo->tld[i] != 0 && memo->tld[i] != UINT8_MAX)
		return memo->tld[i] - 1u;
	t = bare_tld(s, n, i);
	memo->tld[i] = t < UINT8_MAX - 1 ? (uint8_t)(t + 1) : UINT8_MAX;
	return t;
}

/*
 * The end of the domain twitter-text's validDomain matches at S[I]: labels
 * of domain characters (hyphens inside, underscores too but in the last
 * one) joined by dots, then a known TLD; the most labels that work. 0 if
 * none. *FIRST_END is where the first label ends: no domain starts inside
 * it if none starts at I.
 */
static size_t
bare_domain(const char *s, size_t n, size_t i, size_t *first_end,
    struct url_memo *memo)
{
	size_t	 dots[BARE_MAX_LABELS], under[BARE_MAX_LABELS];
	size_t	 nl = 0, j = i, len, t;
	int32_t	 cp, last;
	int	 us;

	*first_end = i;
	for (;;) {
		/* One label: a domain character first and last. */
		if ((cp = cp_at(s, n, j, &len)) < 0 || !bare_dom_char(cp))
			break;
		us = 0;
		last = cp;
		j += len;
		while ((cp = cp_at(s, n, j, &len)) >= 0 &&
		    (bare_dom_char(cp) || cp == '-' || cp == '_')) {
			if (cp == '_')
				us = 1;
			last = cp;
			j += len;
		}
		if (nl == 0)
			*first_end = j;
		if (cp != '.' || last == '-' || last == '_' ||
		    nl == BARE_MAX_LABELS)
			break;
		dots[nl] = j;
		under[nl++] = us;
		j++;
	}
	while (nl > 0) {
		nl--;
		if (!under[nl] && (t = memo_tld(memo, s, n, dots[nl] + 1)) > 0)
			return dots[nl] + 1 + t;
	}
	return 0;
}

/*
 * The first ASCII domain (validAsciiDomain) in S[FROM..END): its start in
 * *START and its end, or 0.
 */
static size_t
bare_ascii(const char *s, size_t end, size_t from, size_t *start)
{
	size_t	 p, j, len, t, dots[BARE_MAX_LABELS], nl, l0, first;
	int32_t	 cp;

	for (p = from; p < end; ) {
		cp = cp_at(s, end, p, &len);
		if (cp < 0 || !bare_ascii_char(cp)) {
			p += len;
			continue;
		}
		nl = 0;
		j = first = p;
		for (;;) {
			l0 = j;
			while ((cp = cp_at(s, end, j, &len)) >= 0 &&
			    bare_ascii_char(cp))
				j += len;
			if (nl == 0)
				first = j;
			if (j == l0 || cp != '.' || nl == BARE_MAX_LABELS)
				break;
			dots[nl++] = j++;
		}
		while (nl > 0) {
			nl--;
			if ((t = bare_tld(s, end, dots[nl] + 1)) > 0) {
				*start = p;
				return dots[nl] + 1 + t;
			}
		}
		/* A start further inside the first label finds the same: none. */
		p = first;
	}
	return 0;
}

/* Whether CP is in twitter-text's validGeneralUrlPathChars. */
static int
path_char(int32_t cp)
{
	if (cp <= 0)
		return 0;
	if (cp < 0x80)
		return isalnum_ascii((char)cp) ||
		    strchr("!*';:=+,.$/%#[]-_~@|&", (int)cp) != NULL;
	return cp == 0x2013 || (cp >= 0x400 && cp <= 0x4FF) || bare_latin(cp);
}

/* Whether CP is in validUrlPathEndingChars (without its balanced parentheses). */
static int
path_end_char(int32_t cp)
{
	if (cp <= 0)
		return 0;
	if (cp < 0x80)
		return isalnum_ascii((char)cp) || strchr("+-=_#/", (int)cp) != NULL;
	return (cp >= 0x400 && cp <= 0x4FF) || bare_latin(cp);
}

/* The end of a run of path characters from S[I] (at least MIN of them), or 0. */
static size_t
path_run(const char *s, size_t n, size_t i, size_t min)
{
	size_t	 len, k = 0;

	while (path_char(cp_at(s, n, i, &len))) {
		i += len;
		k++;
	}
	return k >= min ? i : 0;
}

/* The end of validUrlBalancedParens at S[I] (a '('), one level nested at most; 0 if none. */
static size_t
path_parens(const char *s, size_t n, size_t i)
{
	size_t	 j, k;

	if ((j = path_run(s, n, i + 1, 1)) != 0 && j < n && s[j] == ')')
		return j + 1;
	j = path_run(s, n, i + 1, 0);
	if (j >= n || s[j] != '(' || (k = path_run(s, n, j + 1, 1)) == 0 ||
	    k >= n || s[k] != ')')
		return 0;
	k = path_run(s, n, k + 1, 0);
	return k < n && s[k] == ')' ? k + 1 : 0;
}

/*
 * The end of the path at S[K] (a '/') as twitter-text's validUrlPath has
 * it: path characters and balanced parentheses, ending in an ending
 * character or a ')' that closes them.
 */
static size_t
path_end(const char *s, size_t n, size_t k)
{
	size_t	 i = k + 1, good = k + 1, len, e;
	int32_t	 cp;

	for (;;) {
		cp = cp_at(s, n, i, &len);
		if (cp == '(' && (e = path_parens(s, n, i)) != 0) {
			i = good = e;
			continue;
		}
		if (!path_char(cp))
			break;
		i += len;
		if (path_end_char(cp))
			good = i;
	}
	return good;
}

/* The end of a query string at S[K] (validUrlQueryChars, ending in validUrlQueryEndingChars), or K. */
static size_t
bare_query(const char *s, size_t n, size_t k)
{
	size_t	 j, end = k;

	if (k >= n || s[k] != '?')
		return k;
	for (j = k + 1; j < n && (isalnum_ascii(s[j]) ||
	    strchr("!?*'@();:&=+$/%#[]-_.,~|", s[j]) != NULL); j++)
		if (isalnum_ascii(s[j]) || strchr("-_&=#/", s[j]) != NULL)
			end = j + 1;
	return end;
}

/* The end of the port and path after a domain ending at K (the path's end, or K past a port without one); whether there is a path in *PATH. */
static size_t
x_after_domain(const char *s, size_t n, size_t k, int *path)
{
	size_t	 j = k;

	*path = 0;
	if (j < n && s[j] == ':' && j + 1 < n && isdigit_ascii(s[j + 1]))
		for (j++; j < n && isdigit_ascii(s[j]); j++)
			;
	if (j < n && s[j] == '/') {
		*path = 1;
		return path_end(s, n, j);
	}
	return j;
}

/*
 * A t.co link (https://t.co/SLUG) whose host starts at S[HOST] and which
 * ends at END: X counts it without what follows its slug but a query; 0
 * if the slug is longer than 40 (no link), END if it is no t.co link.
 */
static size_t
x_tco(const char *s, size_t host, size_t end)
{
	size_t	 j;

	if (end - host < 5 || strncasecmp(s + host, "t.co/", 5) != 0)
		return end;
	for (j = host + 5; j < end && isalnum_ascii(s[j]); j++)
		;
	if (j == host + 5)
		return end;
	if (j - (host + 5) > 40)
		return 0;
	return bare_query(s, end, j);
}

/* Whether a link may follow CP (validUrlPrecedingChars; -1: the start). */
static int
x_may_precede(int32_t cp)
{
	return !((cp >= 0 && cp < 0x80 && (isalnum_ascii((char)cp) ||
	    strchr("@$#", (int)cp) != NULL)) || cp == 0xFF20 ||
	    cp == 0xFF03 || cp == 0xFFFE || cp == 0xFEFF || cp == 0xFFFF);
}

/*
 * A link at S[I] as X finds one (twitter-text 3's extractUrlsWithIndices):
 * "http(s)://" and a domain ending in a known TLD, or such a domain alone
 * (its ASCII part; not after -, _, . or /), then a port, a path and a
 * query; never after a letter, digit, @, $ or #. Returns the bytes from
 * S[I] the match covers (0: none), with the link in [*START, *END) (empty:
 * no link, all text); what else it covers is text. MEMO keeps what was
 * looked up for the calls on one text.
 */
size_t
url_span_x(const char *s, size_t n, size_t i, int32_t prev, size_t *start,
    size_t *end, struct url_memo *memo)
{
	size_t	 host, dend, aend, k, skip, len;
	int32_t	 cp;
	int	 path;

	if (!x_may_precede(prev))
		return 0;
	/*
	 * At the start of the text twitter-text's pattern takes the first
	 * character as the one before a link if it can be, and only then
	 * the start itself: "édata.gov" is "é" and a link.
	 */
	if (i == 0 && (cp = cp_at(s, n, 0, &len)) >= 0 && x_may_precede(cp) &&
	    (k = url_span_x(s, n, len, cp, start, end, memo)) > 0)
		return len + k;
	if ((host = scheme_len(s, n, i)) != 0)
		host += i;
	if (host != 0 && (dend = bare_domain(s, n, host, &skip, memo)) != 0) {
		k = bare_query(s, n, x_after_domain(s, n, dend, &path));
		*start = i;
		*end = k;
		if (!host_ok(s + host, dend - host))
			*end = i;	/* no Punycode form: text */
		else if ((*end = x_tco(s, host, k)) == 0)
			*end = i;
		return k - i;
	}
	if ((dend = bare_domain(s, n, i, &skip, memo)) == 0) {
		/*
		 * No domain starts inside the first label either (its rest
		 * meets the same dots), but a link with a scheme may: the
		 * label is text up to one.
		 */
		for (k = i + 1; k < skip; k++)
			if ((s[k] == 'h' || s[k] == 'H') && scheme_len(s, n, k) > 0)
				break;
		if (k >= skip)
			k = skip;
		for (; k > i && ((unsigned char)s[k] & 0xC0) == 0x80; k--)
			;
		*start = *end = i;
		return k - i;
	}
	k = bare_query(s, n, x_after_domain(s, n, dend, &path));
	/* After -, _, . or /: no link, but the match is spent all the same. */
	if ((prev >= 0 && prev < 0x80 && strchr("-_./", (int)prev) != NULL) ||
	    !host_ok(s + i, dend - i) ||
	    (aend = bare_ascii(s, dend, i, start)) == 0) {
		/* No Punycode form, or not ASCII: no link, all text. */
		*start = *end = i;
		return k - i;
	}
	/* The link is the domain, and runs on to the path's end if there is one. */
	*end = path ? k : aend;
	return k - i;
}

/* Frees what MEMO keeps (it may be used again for another text). */
void
url_memo_clear(struct url_memo *memo)
{
	free(memo->tld);
	memo->tld = NULL;
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
