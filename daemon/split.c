/*
 * Thread splitting: where a long post may break, and the greedy choice of
 * breaks that makes each numbered part fit its network's length rule.
 */
#include <config.h>

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "length.h"
#include "split.h"
#include "url.h"
#include "../common/util.h"

#define SPLIT_SNIPPET	40	/* bytes of an unsplittable word quoted in errors */

enum brk_class {
	BRK_WORD = 1,	/* white space, or between ideographs */
	BRK_SENT = 2,	/* after a sentence, or at a line end */
	BRK_PARA = 3,	/* at a blank line */
};

/* A place a part may end: it ends at END, the next one starts at NEXT. */
struct brk {
	size_t	 end;
	size_t	 next;
	int	 cls;
};

struct splitter {
	enum len_rule	 rule;
	size_t		 limit;
	const char	*s;
	size_t		 n;
	size_t		 first, last;	/* the text without white space around it */
	unsigned char	*nobreak;	/* nobreak[i]: inside a URL, mention or hashtag */
	struct brk	*b;
	size_t		 nb, capb;
	char		*buf;		/* a candidate part, measured */
	size_t		 capbuf;
};

/* What the scanner knows of one grapheme cluster. */
struct ginfo {
	size_t	 start;
	int32_t	 first;		/* first code point, -1 for an invalid byte */
	int	 space;		/* only breaking white space */
	int	 newlines;	/* line ends in it (a paragraph separator counts 2) */
	int	 ideo;		/* CJK ideograph, kana or CJK punctuation */
	int	 nostart;	/* may not start a line (closing punctuation) */
	int	 noend;		/* may not end a line (opening punctuation) */
	int	 term;		/* ends a sentence */
	int	 closer;	/* a closing quote or bracket (sentence end looks through) */
};

/* True if CP is white space a line may break at (no-break spaces are not). */
static int
is_space(int32_t cp)
{
	utf8proc_category_t	 c;

	if (cp == 0xA0 || cp == 0x2007 || cp == 0x202F)
		return 0;
	if ((cp >= 0x09 && cp <= 0x0D) || cp == ' ' || cp == 0x85 ||
	    cp == 0x200B)
		return 1;
	if (cp < 0x80)
		return 0;
	c = utf8proc_category(cp);
	return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL ||
	    c == UTF8PROC_CATEGORY_ZP;
}

/* True if CP is written without spaces between words: Han, kana, CJK punctuation. */
static int
is_ideo(int32_t cp)
{
	return (cp >= 0x2E80 && cp <= 0x2FDF) ||	/* radicals */
	    (cp >= 0x3001 && cp <= 0x303F) ||		/* CJK punctuation */
	    (cp >= 0x3040 && cp <= 0x30FF) ||		/* hiragana, katakana */
	    (cp >= 0x31F0 && cp <= 0x31FF) ||		/* katakana extension */
	    (cp >= 0x3400 && cp <= 0x4DBF) ||		/* Han extension A */
	    (cp >= 0x4E00 && cp <= 0x9FFF) ||		/* Han */
	    (cp >= 0xF900 && cp <= 0xFAFF) ||		/* compatibility ideographs */
	    (cp >= 0xFF01 && cp <= 0xFF60) ||		/* fullwidth forms */
	    (cp >= 0x20000 && cp <= 0x3FFFF);		/* Han extensions B.. */
}

/* True if CP may not start a line (UAX #14 CL, CP, EX, IS, NS, small kana). */
static int
is_nostart(int32_t cp)
{
	static const int32_t	 v[] = {
		0x3001, 0x3002, 0x3005, 0x3009, 0x300B, 0x300D, 0x300F,
		0x3011, 0x3015, 0x3017, 0x3019, 0x301B, 0x301E, 0x301F,
		0x303B, 0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063,
		0x3083, 0x3085, 0x3087, 0x308E, 0x3095, 0x3096, 0x309D,
		0x309E, 0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9, 0x30C3,
		0x30E3, 0x30E5, 0x30E7, 0x30EE, 0x30F5, 0x30F6, 0x30FB,
		0x30FC, 0x30FD, 0x30FE, 0xFF01, 0xFF09, 0xFF0C, 0xFF0E,
		0xFF1A, 0xFF1B, 0xFF1F, 0xFF3D, 0xFF5D, 0xFF60,
	};
	size_t			 i;

	if (cp >= 0 && cp < 0x80)
		return strchr(",.:;!?)]}%", (int)cp) != NULL && cp != 0;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] == cp)
			return 1;
	return 0;
}

/* True if CP may not end a line (UAX #14 OP: opening brackets and quotes). */
static int
is_noend(int32_t cp)
{
	static const int32_t	 v[] = {
		'(', '[', '{', 0x3008, 0x300A, 0x300C, 0x300E, 0x3010,
		0x3014, 0x3016, 0x3018, 0x301A, 0x301D, 0xFF08, 0xFF3B,
		0xFF5B, 0xFF5F,
	};
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] == cp)
			return 1;
	return 0;
}

/* True if CP ends a sentence. */
static int
is_term(int32_t cp)
{
	return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 ||
	    cp == 0x3002 || cp == 0xFF01 || cp == 0xFF0E || cp == 0xFF1F ||
	    cp == 0x203C || cp == 0x2047 || cp == 0x2048 || cp == 0x2049;
}

/* True if CP closes a quotation or bracket a sentence end may sit inside. */
static int
is_closer(int32_t cp)
{
	return cp == '"' || cp == '\'' || cp == ')' || cp == ']' ||
	    cp == 0x2019 || cp == 0x201D || cp == 0xBB || cp == 0x300D ||
	    cp == 0x300F || cp == 0xFF09;
}

/* True for the ASCII characters of a user or domain name. */
static int
is_user(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* True if CP is a word character (letters, marks, digits, connectors). */
static int
is_word(int32_t cp)
{
	utf8proc_category_t	 c;

	if (cp < 0)
		return 0;
	if (cp < 0x80)
		return is_user((char)cp);
	c = utf8proc_category(cp);
	return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ND) ||
	    c == UTF8PROC_CATEGORY_PC;
}

/* Bytes of user-name characters joined by '.' or '-' runs at S[I], or 0. */
static size_t
dotted_at(const char *s, size_t n, size_t i)
{
	size_t	 j = i, k;

	if (j >= n || !is_user(s[j]))
		return 0;
	for (;;) {
		while (j < n && is_user(s[j]))
			j++;
		for (k = j; k < n && (s[k] == '.' || s[k] == '-'); k++)
			;
		if (k == j || k >= n || !is_user(s[k]))
			return j - i;
		j = k;
	}
}

/* Length of a mention "@user", "@user@domain" or "@handle.bsky.social" at S[I], or 0. */
static size_t
mention_at(const char *s, size_t n, size_t i, int32_t prev)
{
	size_t	 u, d;

	if (is_word(prev) || prev == '=' || prev == '/' || prev == '@')
		return 0;
	if ((u = dotted_at(s, n, i + 1)) == 0)
		return 0;
	if (i + 1 + u < n && s[i + 1 + u] == '@' &&
	    (d = dotted_at(s, n, i + 2 + u)) > 0)
		return 2 + u + d;
	return 1 + u;
}

/* Length of a hashtag "#" and word characters (·, ZWNJ too) at S[I], or 0. */
static size_t
hashtag_at(const char *s, size_t n, size_t i, int32_t prev)
{
	size_t	 j = i + 1;
	int32_t	 cp;
	ssize_t	 r;

	if (is_word(prev) || prev == '/' || prev == ')' || prev == '&')
		return 0;
	while (j < n) {
		r = utf8proc_iterate((const uint8_t *)s + j, (ssize_t)(n - j),
		    &cp);
		if (r <= 0 || !(is_word(cp) || cp == 0xB7 || cp == 0x200C))
			break;
		j += (size_t)r;
	}
	return j - i > 1 ? j - i : 0;
}

/*
 * Marks the insides of URLs, mentions and hashtags in SP as unbreakable;
 * for X its links as it finds them ("example.org" too).
 */
static void
mark_tokens(struct splitter *sp)
{
	const char	*s = sp->s;
	size_t		 n = sp->n, i = 0, t, k, ls, le, stop;
	int32_t		 prev = -1;
	struct url_memo	 memo = { NULL };

	while (i < n) {
		t = ls = le = 0;
		/* A URL stays whole even where X's link ends sooner. */
		if ((s[i] == 'h' || s[i] == 'H') &&
		    (t = url_span(s, n, i, prev)) > 0) {
			ls = i;
			le = i + t;
		} else if (sp->rule == LEN_X && (unsigned char)s[i] > 0x20)
			t = url_span_x(s, n, i, prev, &ls, &le, &memo);
		if (t > 0 && le > ls) {
			for (k = ls + 1; k < le; k++)
				sp->nobreak[k] = 1;
			i = le;
			prev = (unsigned char)s[i - 1] < 0x80 ?
			    (unsigned char)s[i - 1] : 'x';
			continue;
		}
		if (t > 0) {
			/* Text X's finder has looked at: no link starts in it. */
			for (stop = i + t; i < stop; )
				i = url_step(s, n, i, &prev);
			continue;
		}
		if (s[i] == '@')
			t = mention_at(s, n, i, prev);
		else if (s[i] == '#')
			t = hashtag_at(s, n, i, prev);
		if (t > 0) {
			for (k = i + 1; k < i + t; k++)
				sp->nobreak[k] = 1;
			i += t;
			prev = (unsigned char)s[i - 1] < 0x80 ?
			    (unsigned char)s[i - 1] : 'x';
			continue;
		}
		i = url_step(s, n, i, &prev);
	}
	url_memo_clear(&memo);
}

/* Adds a break to SP; -1 if memory runs out. */
static int
add_brk(struct splitter *sp, size_t end, size_t next, int cls)
{
	struct brk	*nb;
	size_t		 cap;

	if (end <= sp->first || next >= sp->last)
		return 0;
	if (sp->nb == sp->capb) {
		cap = sp->capb ? sp->capb * 2 : 64;
		if ((nb = reallocarray(sp->b, cap, sizeof(*nb))) == NULL)
			return -1;
		sp->b = nb;
		sp->capb = cap;
	}
	sp->b[sp->nb].end = end;
	sp->b[sp->nb].next = next;
	sp->b[sp->nb].cls = cls;
	sp->nb++;
	return 0;
}

/* Fills G for the cluster S[START..END) whose code points are CPS[0..NCP). */
static void
ginfo_fill(struct ginfo *g, size_t start, const int32_t *cps, size_t ncp)
{
	size_t	 k;

	memset(g, 0, sizeof(*g));
	g->start = start;
	g->first = ncp > 0 ? cps[0] : -1;
	g->space = ncp > 0;
	for (k = 0; k < ncp; k++) {
		if (!is_space(cps[k]))
			g->space = 0;
		if (cps[k] == '\n' || cps[k] == 0x2028 || cps[k] == 0x85 ||
		    (cps[k] == '\r' && (k + 1 == ncp || cps[k + 1] != '\n')))
			g->newlines++;
		else if (cps[k] == 0x2029)
			g->newlines += 2;
	}
	if (g->first < 0)
		return;
	g->ideo = is_ideo(g->first);
	g->nostart = is_nostart(g->first);
	g->noend = is_noend(g->first);
	g->term = is_term(g->first);
	g->closer = is_closer(g->first);
}

/* The end of the grapheme cluster at S[I]; its first code points (MAX at most) in CPS, their count in *NCP (0 for an invalid byte). */
static size_t
cluster_end(const char *s, size_t n, size_t i, int32_t *cps, size_t max,
    size_t *ncp)
{
	int32_t	 cp, last, state = 0;
	ssize_t	 r;

	*ncp = 0;
	if ((r = utf8proc_iterate((const uint8_t *)s + i, (ssize_t)(n - i),
	    &cp)) <= 0)
		return i + 1;
	for (;;) {
		if (*ncp < max)
			cps[(*ncp)++] = cp;
		last = cp;
		i += (size_t)r;
		if (i >= n)
			return i;
		r = utf8proc_iterate((const uint8_t *)s + i, (ssize_t)(n - i),
		    &cp);
		if (r <= 0 || utf8proc_grapheme_break_stateful(last, cp, &state))
			return i;
	}
}

/* The class of a break at a white space run with NL line ends after a sentence end if SENT. */
static int
run_class(size_t nl, int sent)
{
	if (nl >= 2)
		return BRK_PARA;
	return nl == 1 || sent ? BRK_SENT : BRK_WORD;
}

/*
 * Walks the grapheme clusters of SP's text, recording every break: white
 * space runs (classed by what precedes them and their line ends) and the
 * boundaries next to ideographs outside URLs, mentions and hashtags, where
 * UAX #14 allows a line to break.
 */
static int
scan_breaks(struct splitter *sp)
{
	struct ginfo	 prev, cur;
	int32_t		 cps[32];
	size_t		 i = 0, e, ncp, run = 0, nl = 0;
	int		 have_prev = 0, inrun = 0, sent = 0, rc = 0;

	memset(&prev, 0, sizeof(prev));
	while (i < sp->n && rc == 0) {
		e = cluster_end(sp->s, sp->n, i, cps, 32, &ncp);
		ginfo_fill(&cur, i, cps, ncp);
		i = e;
		if (cur.space) {
			if (!inrun)
				run = cur.start;
			inrun = 1;
			nl += (size_t)cur.newlines;
			continue;
		}
		if (inrun)
			rc = add_brk(sp, run, cur.start, run_class(nl, sent));
		else if (have_prev && !sp->nobreak[cur.start] &&
		    (prev.ideo || cur.ideo) && !cur.nostart && !prev.noend)
			rc = add_brk(sp, cur.start, cur.start,
			    prev.ideo && prev.term ? BRK_SENT : BRK_WORD);
		inrun = 0;
		nl = 0;
		sent = cur.term || (cur.closer && sent);
		prev = cur;
		have_prev = 1;
	}
	return rc;
}

/* Sets SP's first and last bytes of text outside white space clusters. */
static void
find_bounds(struct splitter *sp)
{
	struct ginfo	 g;
	int32_t		 cps[32];
	size_t		 i = 0, e, ncp;

	sp->first = sp->n;
	sp->last = 0;
	while (i < sp->n) {
		e = cluster_end(sp->s, sp->n, i, cps, 32, &ncp);
		ginfo_fill(&g, i, cps, ncp);
		if (!g.space) {
			if (sp->first == sp->n)
				sp->first = i;
			sp->last = e;
		}
		i = e;
	}
}

/* Measures S[FROM..TO) plus " (I/TOTAL)" into *LR; 1 if it fits, 0 if not, -1 without memory. */
static int
measure(struct splitter *sp, size_t from, size_t to, size_t i, size_t total,
    struct len_result *lr)
{
	char			 num[48];
	size_t			 nn, need;
	char			*nb;

	nn = (size_t)snprintf(num, sizeof(num), " (%zu/%zu)", i, total);
	need = to - from + nn + 1;
	if (need > sp->capbuf) {
		if ((nb = realloc(sp->buf, need)) == NULL)
			return -1;
		sp->buf = nb;
		sp->capbuf = need;
	}
	memcpy(sp->buf, sp->s + from, to - from);
	memcpy(sp->buf + (to - from), num, nn + 1);
	len_measure(sp->rule, sp->buf, sp->limit, lr);
	return lr->fits ? 1 : 0;
}

/* Appends the part S[FROM..TO), numbered I of TOTAL, to OUT. */
static int
add_part(struct splitter *sp, struct split_result *out, size_t from,
    size_t to, size_t i, size_t total)
{
	struct split_part	*p;
	struct len_result	 lr;

	if (measure(sp, from, to, i, total, &lr) == -1)
		return -1;
	if ((p = reallocarray(out->v, out->n + 1, sizeof(*p))) == NULL)
		return -1;
	out->v = p;
	p = &out->v[out->n];
	if ((p->text = strdup(sp->buf)) == NULL)
		return -1;
	p->length = lr.length;
	p->from = from;
	p->to = to;
	out->n++;
	return 0;
}

/* The end of the clean UTF-8 prefix of S[FROM..) at most MAX bytes long. */
static size_t
snippet_end(const char *s, size_t from, size_t to, size_t max)
{
	size_t	 e = to - from > max ? from + max : to;

	while (e > from && e < to && ((unsigned char)s[e] & 0xC0) == 0x80)
		e--;
	return e;
}

/* Explains that the word at FROM cannot fit a part. */
static void
word_error(struct splitter *sp, size_t from, size_t bi, size_t i,
    size_t total, char *err, size_t errlen)
{
	struct len_result	 lr;
	size_t			 to, e;

	to = bi < sp->nb ? sp->b[bi].end : sp->last;
	e = snippet_end(sp->s, from, to, SPLIT_SNIPPET);
	if (measure(sp, from, to, i, total, &lr) == -1) {
		util_seterr(err, errlen, "out of memory");
		return;
	}
	util_seterr(err, errlen, "cannot split: the word at byte %zu (\"%.*s%s\") "
	    "does not fit one part: %zu with its number \"(%zu/%zu)\", "
	    "%zu bytes; limit %zu%s", from, (int)(e - from), sp->s + from,
	    e < to ? "..." : "", lr.length, i, total, lr.bytes, lr.limit,
	    lr.byte_limit ? " and a byte limit" : "");
}

/*
 * Chooses the break ending a part among the fitting ones B[LO..HI]: the
 * last blank line, else the last sentence or line end, else the last
 * break at all, but a better break only if it keeps the part at least
 * half as long as the longest fitting one (no stubby parts).
 */
static size_t
choose(struct splitter *sp, size_t from, size_t lo, size_t hi, size_t i,
    size_t total)
{
	struct len_result	 longest, lr;
	size_t			 k;
	int			 cls;

	if (measure(sp, from, sp->b[hi].end, i, total, &longest) == -1)
		return hi;
	for (cls = BRK_PARA; cls > BRK_WORD; cls--) {
		for (k = hi + 1; k > lo; k--)
			if (sp->b[k - 1].cls >= cls)
				break;
		if (k == lo)
			continue;
		if (measure(sp, from, sp->b[k - 1].end, i, total, &lr) != -1 &&
		    lr.length * 2 >= longest.length)
			return k - 1;
	}
	return hi;
}

/*
 * One greedy pass numbering parts "i/TOTAL": each part takes as much text
 * as fits. Returns the number of parts, or -1 with ERR.
 */
static int
pass(struct splitter *sp, size_t total, struct split_result *out, char *err,
    size_t errlen)
{
	struct len_result	 lr;
	size_t			 pos = sp->first, bi = 0, lo, hi, mid, k;
	size_t			 i = 1;
	int			 f;

	while (pos < sp->last) {
		if (i > SPLIT_MAX_PARTS) {
			util_seterr(err, errlen, "cannot split: the text needs more "
			    "than %d parts", SPLIT_MAX_PARTS);
			return -1;
		}
		if ((f = measure(sp, pos, sp->last, i, total, &lr)) == -1)
			goto nomem;
		if (f) {
			if (add_part(sp, out, pos, sp->last, i, total) == -1)
				goto nomem;
			break;
		}
		while (bi < sp->nb && sp->b[bi].end <= pos)
			bi++;
		if (bi == sp->nb ||
		    (f = measure(sp, pos, sp->b[bi].end, i, total, &lr)) == 0) {
			word_error(sp, pos, bi, i, total, err, errlen);
			return -1;
		}
		if (f == -1)
			goto nomem;
		/* Longer parts measure longer: find the last fitting break. */
		lo = bi;
		hi = sp->nb - 1;
		while (lo < hi) {
			mid = lo + (hi - lo + 1) / 2;
			if ((f = measure(sp, pos, sp->b[mid].end, i, total,
			    &lr)) == -1)
				goto nomem;
			if (f)
				lo = mid;
			else
				hi = mid - 1;
		}
		k = choose(sp, pos, bi, lo, i, total);
		if (add_part(sp, out, pos, sp->b[k].end, i, total) == -1)
			goto nomem;
		pos = sp->b[k].next;
		bi = k + 1;
		i++;
	}
	return (int)out->n;
nomem:
	util_seterr(err, errlen, "out of memory");
	return -1;
}

/* Renumbers the parts of OUT "i/n" for their real count n, fewer than they were measured for. */
static int
renumber(struct splitter *sp, struct split_result *out)
{
	struct len_result	 lr;
	size_t			 i;
	char			*t;

	for (i = 0; i < out->n; i++) {
		if (measure(sp, out->v[i].from, out->v[i].to, i + 1, out->n,
		    &lr) == -1 || (t = strdup(sp->buf)) == NULL)
			return -1;
		free(out->v[i].text);
		out->v[i].text = t;
		out->v[i].length = lr.length;
	}
	return 0;
}

/* Frees the parts of R (not R itself) and empties it. */
void
split_free(struct split_result *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->v[i].text);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* Splits TEXT into numbered parts that each fit RULE and LIMIT; -1 with ERR if it cannot. */
int
split_thread(enum len_rule rule, size_t limit, const char *text,
    struct split_result *out, char *err, size_t errlen)
{
	struct splitter		 sp;
	struct len_result	 lr;
	size_t			 total = 2, iter;
	int			 c, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&sp, 0, sizeof(sp));
	if (text == NULL)
		text = "";
	sp.rule = rule;
	sp.limit = limit;
	sp.s = text;
	sp.n = strlen(text);
	if (sp.n > SPLIT_MAX_TEXT) {
		util_seterr(err, errlen, "cannot split: the text is %zu bytes, over "
		    "the limit of %d", sp.n, SPLIT_MAX_TEXT);
		return -1;
	}
	len_measure(rule, text, limit, &lr);
	if (lr.fits) {
		if ((out->v = calloc(1, sizeof(*out->v))) == NULL ||
		    (out->v[0].text = strdup(text)) == NULL)
			goto nomem;
		out->n = 1;
		out->v[0].length = lr.length;
		out->v[0].to = sp.n;
		return 0;
	}
	find_bounds(&sp);
	if (sp.first >= sp.last) {
		util_seterr(err, errlen, "cannot split: the text is only white "
		    "space, and too long");
		return -1;
	}
	if ((sp.nobreak = calloc(sp.n + 1, 1)) == NULL)
		goto nomem;
	mark_tokens(&sp);
	if (scan_breaks(&sp) == -1)
		goto nomem;
	/*
	 * Parts are measured with the count's digits, unknown until the end:
	 * measure again while the count grows. Parts measured for a wider
	 * count still fit with a narrower one, so fewer parts are renumbered.
	 */
	for (iter = 0; iter < 8; iter++) {
		if ((c = pass(&sp, total, out, err, errlen)) == -1)
			goto fail;
		if ((size_t)c == total) {
			rc = 0;
			goto done;
		}
		if ((size_t)c < total) {
			if (renumber(&sp, out) == -1)
				goto nomem;
			rc = 0;
			goto done;
		}
		split_free(out);
		total = (size_t)c;
	}
	util_seterr(err, errlen, "cannot split: the part count does not settle");
	goto fail;
nomem:
	util_seterr(err, errlen, "out of memory");
fail:
	split_free(out);
done:
	free(sp.nobreak);
	free(sp.b);
	free(sp.buf);
	return rc;
}
