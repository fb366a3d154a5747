/* Per-network length rules (SPEC §5): graphemes, URLs, mentions, bytes. */
#include <config.h>

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "length.h"
#include "url.h"

#define LEN_URL			23	/* what a link counts on Mastodon and X */
#define METER_TRIM		0x1	/* "@user@domain" counts as "@user" */
#define METER_X			0x2	/* links as X finds them, "example.org" too */
#define LEN_MASTODON_DEFAULT	500
#define LEN_BLUESKY_DEFAULT	300
#define LEN_BLUESKY_BYTES	3000
#define LEN_X_DEFAULT		280
#define LEN_THREADS_DEFAULT	500
#define LEN_THREADS_LINKS	5	/* THREADS_API__LINK_LIMIT_EXCEEDED above */
#define LEN_LINKS_KEPT		64	/* distinct links compared; more only count */
#define LEN_LINKEDIN_DEFAULT	3000
#define LEN_FACEBOOK_DEFAULT	63206

/* Counts grapheme clusters, and X's weights per cluster, as code points arrive. */
struct meter {
	int32_t	 prev;		/* last code point, -1 at a fresh start */
	int32_t	 state;		/* utf8proc's break state */
	size_t	 clusters;
	size_t	 weight;	/* X: finished clusters, in hundredths */
	size_t	 cweight;	/* X: the open cluster's code point weights */
	int	 cemoji;	/* X: the open cluster is an emoji */
	int	 cvs16;		/* X: the open cluster has U+FE0F */
	int	 cpict;		/* X: the open cluster has a pictograph */
	int	 refused;	/* X: U+FFFE, U+FEFF or U+FFFF, which X refuses */
};

/* X's weight of code point CP in hundredths (twitter-text v3 ranges). */
static size_t
x_weight(int32_t cp)
{
	if ((cp >= 0 && cp <= 4351) || (cp >= 8192 && cp <= 8205) ||
	    (cp >= 8208 && cp <= 8223) || (cp >= 8242 && cp <= 8247))
		return 100;
	return 200;
}

/* Adds the open cluster of M to its X weight. */
static void
meter_close(struct meter *m)
{
	int	 emoji;

	if (m->prev == -1 && m->cweight == 0)
		return;
	/* Pictographs below U+2000 (©, ®) are emoji only with U+FE0F. */
	emoji = m->cemoji || (m->cpict && m->cvs16);
	m->weight += emoji ? 200 : m->cweight;
	m->cweight = 0;
	m->cemoji = m->cvs16 = m->cpict = 0;
}

/* Feeds code point CP to M. */
static void
meter_cp(struct meter *m, int32_t cp)
{
	const utf8proc_property_t	*p = utf8proc_get_property(cp);

	if (m->prev == -1 ||
	    utf8proc_grapheme_break_stateful(m->prev, cp, &m->state)) {
		meter_close(m);
		m->clusters++;
	}
	m->prev = cp;
	m->cweight += x_weight(cp);
	if (cp == 0xFE0F)
		m->cvs16 = 1;
	if (cp == 0xFFFE || cp == 0xFEFF || cp == 0xFFFF)
		m->refused = 1;
	if (cp == 0x20E3 ||
	    p->boundclass == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR)
		m->cemoji = 1;
	if (p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC ||
	    p->boundclass == UTF8PROC_BOUNDCLASS_E_ZWG) {
		if (cp >= 0x2000)
			m->cemoji = 1;
		else
			m->cpict = 1;
	}
}

/* Feeds an invalid byte to M: a cluster of its own. */
static void
meter_bad(struct meter *m)
{
	meter_close(m);
	m->clusters++;
	m->weight += 100;
	m->prev = -1;
	m->state = 0;
	m->cweight = 0;
}

/* Ends the text fed to M. */
static void
meter_end(struct meter *m)
{
	meter_close(m);
	m->prev = -1;
}

/* Extended grapheme clusters in the UTF-8 string S (N bytes); invalid bytes count one each. */
size_t
len_graphemes(const char *s, size_t n)
{
	struct meter	 m;
	int32_t		 cp;
	ssize_t		 r;
	size_t		 i = 0;

	memset(&m, 0, sizeof(m));
	m.prev = -1;
	while (i < n) {
		r = utf8proc_iterate((const uint8_t *)s + i, (ssize_t)(n - i),
		    &cp);
		if (r <= 0) {
			meter_bad(&m);
			i++;
		} else {
			meter_cp(&m, cp);
			i += (size_t)r;
		}
	}
	return m.clusters;
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

/*
 * Length in bytes of a remote mention "@user@domain" at S[I], or 0; the
 * user part's length (without '@') in *USERLEN. Mastodon's pattern:
 * @[a-z0-9_]+([.-]+[a-z0-9_]+)* then @ and a domain of word characters.
 */
static size_t
mention_at(const char *s, size_t n, size_t i, int32_t prev, size_t *userlen)
{
	size_t	 j = i + 1, k;

	if (is_word(prev) || prev == '=' || prev == '/')
		return 0;
	if (j >= n || !is_user(s[j]))
		return 0;
	for (;;) {
		while (j < n && is_user(s[j]))
			j++;
		for (k = j; k < n && (s[k] == '.' || s[k] == '-'); k++)
			;
		if (k == j || k >= n || !is_user(s[k]))
			break;
		j = k;
	}
	*userlen = j - i - 1;
	if (j >= n || s[j] != '@')
		return 0;
	k = j + 1;
	if (k >= n || !is_user(s[k]))
		return 0;
	for (;;) {
		while (k < n && is_user(s[k]))
			k++;
		for (j = k; j < n && (s[j] == '.' || s[j] == '-'); j++)
			;
		if (j == k || j >= n || !is_user(s[j]))
			break;
		k = j;
	}
	/* Not a mention when followed by another '@' or "://". */
	if (k < n && (s[k] == '@' || (n - k >= 3 && memcmp(s + k, "://", 3) == 0)))
		return 0;
	return k - i;
}

/* Feeds S[I..END) to M as plain text; the last code point is left in *PREV. */
static void
meter_plain(struct meter *m, const char *s, size_t i, size_t end,
    int32_t *prev)
{
	int32_t	 cp;
	ssize_t	 r;

	while (i < end) {
		r = utf8proc_iterate((const uint8_t *)s + i, (ssize_t)(end - i),
		    &cp);
		if (r <= 0) {
			meter_bad(m);
			*prev = -1;
			i++;
		} else {
			meter_cp(m, cp);
			*prev = cp;
			i += (size_t)r;
		}
	}
}

/* Feeds a link to M: 23 characters. */
static void
meter_link(struct meter *m)
{
	size_t	k;

	for (k = 0; k < LEN_URL; k++)
		meter_cp(m, 'x');
}

/*
 * Feeds TEXT (N bytes) to M, URLs as 23 characters; with METER_TRIM
 * "@user@domain" as "@user" (Mastodon), with METER_X links as X finds
 * them (url_span_x: without a scheme too, a known TLD needed).
 */
static void
meter_text(struct meter *m, const char *s, size_t n, int flags)
{
	size_t	 i = 0, u, ulen, k, ls, le;
	int32_t	 prev = -1;
	int	 trim = flags & METER_TRIM;
	struct url_memo memo = { NULL };

	while (i < n) {
		if (!(flags & METER_X) && (s[i] == 'h' || s[i] == 'H') &&
		    (u = url_span(s, n, i, prev)) > 0) {
			meter_link(m);
			i += u;
			prev = (unsigned char)s[i - 1] < 0x80 ?
			    (unsigned char)s[i - 1] : 'x';
			continue;
		}
		if ((flags & METER_X) && (unsigned char)s[i] > 0x20 &&
		    (u = url_span_x(s, n, i, prev, &ls, &le, &memo)) > 0) {
			meter_plain(m, s, i, ls, &prev);
			if (le > ls) {
				meter_link(m);
				prev = 'x';
			}
			meter_plain(m, s, le > ls ? le : ls, i + u, &prev);
			i += u;
			continue;
		}
		if (trim && s[i] == '@' &&
		    (u = mention_at(s, n, i, prev, &ulen)) > 0) {
			for (k = 0; k <= ulen; k++)
				meter_cp(m, (unsigned char)s[i + k]);
			i += u;
			prev = (unsigned char)s[i - 1];
			continue;
		}
		k = url_step(s, n, i, &prev);
		meter_plain(m, s, i, k, &prev);
		i = k;
	}
	url_memo_clear(&memo);
	meter_end(m);
}

/*
 * Threads' count (its posts page): a grapheme cluster is one character, but
 * an emoji cluster counts its UTF-8 bytes (a thumbs-up is 4).
 */
static size_t
threads_len(const char *s, size_t n)
{
	utf8proc_int32_t	 cp, prev = -1, state = 0;
	const utf8proc_property_t *p;
	utf8proc_ssize_t	 r;
	size_t			 i = 0, total = 0, cbytes = 0;
	int			 emoji = 0;

	while (i < n) {
		r = utf8proc_iterate((const uint8_t *)s + i, (utf8proc_ssize_t)(n - i),
		    &cp);
		if (r < 1) {
			total += emoji ? cbytes : (prev != -1);
			total++;
			prev = -1;
			state = 0;
			cbytes = 0;
			emoji = 0;
			i++;
			continue;
		}
		if (prev == -1 || utf8proc_grapheme_break_stateful(prev, cp,
		    &state)) {
			total += emoji ? cbytes : (prev != -1);
			cbytes = 0;
			emoji = 0;
		}
		p = utf8proc_get_property(cp);
		if ((p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC &&
		    cp >= 0x2000) || p->boundclass == UTF8PROC_BOUNDCLASS_E_ZWG ||
		    p->boundclass == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR)
			emoji = 1;
		cbytes += (size_t)r;
		prev = cp;
		i += (size_t)r;
	}
	total += emoji ? cbytes : (prev != -1);
	return (total);
}

/* UTF-16 code units of S (N bytes): LinkedIn's count; an invalid byte counts one. */
static size_t
len_utf16(const char *s, size_t n)
{
	size_t	 i = 0, units = 0;
	int32_t	 cp;
	ssize_t	 r;

	while (i < n) {
		r = utf8proc_iterate((const uint8_t *)s + i, (ssize_t)(n - i),
		    &cp);
		if (r <= 0) {
			units++;
			i++;
			continue;
		}
		units += cp > 0xFFFF ? 2 : 1;
		i += (size_t)r;
	}
	return units;
}

/* Length of a "www." link at S[I] (PREV before it), to white space, trailing punctuation left out; 0 if none. */
static size_t
www_span(const char *s, size_t n, size_t i, int32_t prev)
{
	size_t	 k = i + 4;

	if (n - i < 5 || strncasecmp(s + i, "www.", 4) != 0 ||
	    (prev != -1 && prev != '(' && prev != '<' && prev != '"' &&
	    prev != '\'' && (prev >= 0x80 || !isspace((unsigned char)prev))))
		return 0;
	while (k < n && !isspace((unsigned char)s[k]) && s[k] != '<' &&
	    s[k] != '>' && s[k] != '"')
		k++;
	while (k > i + 4 && strchr(".,;:!?)", s[k - 1]) != NULL)
		k--;
	return k > i + 4 ? k - i : 0;
}

/*
 * Distinct links in S (N bytes) as Threads counts them ("all unique URLs
 * found in the text"): http(s) URLs as url_span finds them, and "www."
 * names; the same link twice counts once.
 */
static size_t
count_links(const char *s, size_t n)
{
	struct { const char *p; size_t len; } seen[LEN_LINKS_KEPT];
	size_t	 i = 0, u, k, nseen = 0, links = 0;
	int32_t	 prev = -1;

	while (i < n) {
		u = 0;
		if (s[i] == 'h' || s[i] == 'H')
			u = url_span(s, n, i, prev);
		else if (s[i] == 'w' || s[i] == 'W')
			u = www_span(s, n, i, prev);
		if (u > 0) {
			for (k = 0; k < nseen; k++)
				if (seen[k].len == u && memcmp(seen[k].p, s + i,
				    u) == 0)
					break;
			if (k == nseen) {
				links++;
				if (nseen < LEN_LINKS_KEPT) {
					seen[nseen].p = s + i;
					seen[nseen++].len = u;
				}
			}
			i += u;
			prev = (unsigned char)s[i - 1] < 0x80 ?
			    (unsigned char)s[i - 1] : 'x';
			continue;
		}
		i = url_step(s, n, i, &prev);
	}
	return links;
}

/* Measures TEXT under RULE; LIMIT 0 means the rule's default. Returns 0. */
int
len_measure(enum len_rule rule, const char *text, size_t limit,
    struct len_result *out)
{
	struct meter	 m;
	uint8_t		*nfc = NULL;
	size_t		 n;

	if (text == NULL)
		text = "";
	n = strlen(text);
	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	m.prev = -1;
	out->bytes = n;
	switch (rule) {
	case LEN_MASTODON:
		meter_text(&m, text, n, METER_TRIM);
		out->length = m.clusters;
		out->limit = limit ? limit : LEN_MASTODON_DEFAULT;
		break;
	case LEN_BLUESKY:
		out->length = len_graphemes(text, n);
		out->limit = limit ? limit : LEN_BLUESKY_DEFAULT;
		out->byte_limit = LEN_BLUESKY_BYTES;
		break;
	case LEN_X:
		/* twitter-text weighs the NFC form; keep the raw text if it is not UTF-8. */
		if ((nfc = utf8proc_NFC((const uint8_t *)text)) != NULL)
			meter_text(&m, (const char *)nfc, strlen((char *)nfc),
			    METER_X);
		else
			meter_text(&m, text, n, METER_X);
		free(nfc);
		out->length = m.weight / 100;
		out->limit = limit ? limit : LEN_X_DEFAULT;
		break;
	case LEN_THREADS:
		out->length = threads_len(text, n);
		out->limit = limit ? limit : LEN_THREADS_DEFAULT;
		out->links = count_links(text, n);
		out->link_limit = LEN_THREADS_LINKS;
		break;
	case LEN_LINKEDIN:
		out->length = len_utf16(text, n);
		out->limit = limit ? limit : LEN_LINKEDIN_DEFAULT;
		break;
	case LEN_FACEBOOK:
		out->length = len_graphemes(text, n);
		out->limit = limit ? limit : LEN_FACEBOOK_DEFAULT;
		break;
	default:
		out->length = len_graphemes(text, n);
		out->limit = limit;
		break;
	}
	out->fits = (out->limit == 0 || out->length <= out->limit) &&
	    (out->byte_limit == 0 || out->bytes <= out->byte_limit) &&
	    (out->link_limit == 0 || out->links <= out->link_limit) &&
	    !(rule == LEN_X && m.refused);
	return 0;
}
