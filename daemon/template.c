/* Mustache templates: compile once into an op list, render many (SPEC §5). */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "template.h"
#include "../common/util.h"

#define TMPL_MAX_DELIM	16			/* longest set delimiter */
#define TMPL_MAX_OUTPUT	(16 * 1024 * 1024)	/* largest rendering */

enum op_type {
	OP_TEXT,	/* literal text */
	OP_BOL,		/* a line of this template starts: write the indentation */
	OP_VAR,		/* {{x}}, {{{x}}}, {{&x}} */
	OP_SECTION,	/* {{#x}} ... {{/x}} */
	OP_INVERTED,	/* {{^x}} ... {{/x}} */
	OP_PARTIAL,	/* {{> x}} */
};

struct op {
	enum op_type	 type;
	unsigned	 line;		/* source line of the tag */
	const char	*str;		/* text; name segments, NUL-separated */
	size_t		 len;		/* text length; number of name segments */
	const char	*indent;	/* partial: indentation of its standalone line */
	size_t		 indentlen;
	size_t		 end;		/* section: index of the op after its body */
	int		 escape;	/* var: HTML-escape when the options say so */
	int		 standalone;	/* partial: alone on its line */
};

struct tmpl {
	char		*src;		/* copy of the source; text ops point into it */
	char		*names;		/* name pool; name ops point into it */
	struct op	*ops;
	size_t		 nops;
	char		*label;		/* file name for messages, or NULL */
};

/* One token of the source, before standalone lines are removed. */
struct tok {
	int		 kind;		/* 0: text; else the tag sigil, 'v' for a variable */
	size_t		 off, len;	/* text span, or the tag's trimmed content */
	unsigned	 line;
	int		 nl;		/* text ending with a newline */
	int		 bol;		/* a line starts with this token */
	int		 dropped;	/* removed as part of a standalone line */
	size_t		 ioff, ilen;	/* standalone partial: its indentation */
};

struct toks {
	struct tok	*v;
	size_t		 n, cap;
};

struct buf {
	char		*p;
	size_t		 len, cap;
};

struct render {
	struct buf		 out;
	struct buf		 indent;	/* indentation of every open partial */
	size_t			 istart;	/* where the current indentation starts */
	json_t			**ctx;		/* context stack, innermost last */
	size_t			 nctx, capctx;
	int			 html;
	int			 strict;
	int			 depth;		/* partial nesting */
	const struct tmpl_opts	*opts;		/* partials */
	char			*err;
	size_t			 errlen;
};

/* Makes room for N more bytes and a NUL in B. */
static int
buf_grow(struct buf *b, size_t n)
{
	size_t	 cap;
	char	*p;

	if (b->len + n + 1 <= b->cap)
		return 0;
	if (b->len + n + 1 > TMPL_MAX_OUTPUT) {
		errno = EFBIG;
		return -1;
	}
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Appends N bytes of S to B, keeping it NUL-terminated. */
static int
buf_add(struct buf *b, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_grow(b, n) == -1)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Finds NEEDLE (NN bytes) in HAY (HN bytes); the offset or -1. */
static long
find(const char *hay, size_t hn, const char *needle, size_t nn)
{
	size_t	 i;

	if (nn == 0 || nn > hn)
		return -1;
	for (i = 0; i + nn <= hn; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nn) == 0)
			return (long)i;
	return -1;
}

/* True for the blanks that may surround a standalone tag. */
static int
isblank_c(char c)
{
	return c == ' ' || c == '\t';
}

/* True for the white space trimmed from tag contents. */
static int
isspace_c(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* Appends a token to TS. */
static int
toks_add(struct toks *ts, const struct tok *t)
{
	struct tok	*v;
	size_t		 cap;

	if (ts->n == ts->cap) {
		cap = ts->cap ? ts->cap * 2 : 64;
		if ((v = reallocarray(ts->v, cap, sizeof(*v))) == NULL)
			return -1;
		ts->v = v;
		ts->cap = cap;
	}
	ts->v[ts->n++] = *t;
	return 0;
}

/* Writes "LABEL:LINE" or "line LINE" into W for messages. */
static void
where(char *w, size_t wlen, const char *label, unsigned line)
{
	if (label != NULL)
		snprintf(w, wlen, "%s:%u", label, line);
	else
		snprintf(w, wlen, "line %u", line);
}

/* Parses the "=<open> <close>=" contents S (N bytes) into new delimiters. */
static int
set_delims(const char *s, size_t n, char *open, size_t *olen, char *close,
    size_t *clen)
{
	size_t	 i = 0, a, b, c, d;

	while (i < n && isspace_c(s[i]))
		i++;
	a = i;
	while (i < n && !isspace_c(s[i]) && s[i] != '=')
		i++;
	b = i;
	while (i < n && isspace_c(s[i]))
		i++;
	c = i;
	while (i < n && !isspace_c(s[i]) && s[i] != '=')
		i++;
	d = i;
	while (i < n && isspace_c(s[i]))
		i++;
	if (i != n || b == a || d == c || b - a > TMPL_MAX_DELIM ||
	    d - c > TMPL_MAX_DELIM)
		return -1;
	memcpy(open, s + a, b - a);
	*olen = b - a;
	memcpy(close, s + c, d - c);
	*clen = d - c;
	return 0;
}

/* Splits SRC into text and tag tokens, following set-delimiter tags. */
static int
tokenize(const char *src, size_t len, const char *label, struct toks *ts,
    char *err, size_t errlen)
{
	char		 open[TMPL_MAX_DELIM + 1] = "{{";
	char		 close[TMPL_MAX_DELIM + 2] = "}}";
	char		 closer[TMPL_MAX_DELIM + 2];
	size_t		 olen = 2, clen = 2, pos = 0, q, e, end, s, t, cl;
	unsigned	 line = 1, i;
	int		 bol = 1;
	long		 p, f;
	const char	*nl;
	struct tok	 tk;
	char		 w[PATH_MAX + 32];

	while (pos < len) {
		p = find(src + pos, len - pos, open, olen);
		end = p == -1 ? len : pos + (size_t)p;
		while (pos < end) {
			nl = memchr(src + pos, '\n', end - pos);
			e = nl != NULL ? (size_t)(nl - src) + 1 : end;
			memset(&tk, 0, sizeof(tk));
			tk.off = pos;
			tk.len = e - pos;
			tk.line = line;
			tk.nl = nl != NULL;
			tk.bol = bol;
			bol = 0;
			if (toks_add(ts, &tk) == -1)
				goto nomem;
			if (nl != NULL) {
				line++;
				bol = 1;
			}
			pos = e;
		}
		if (p == -1)
			break;

		memset(&tk, 0, sizeof(tk));
		tk.line = line;
		tk.bol = bol;
		bol = 0;
		q = pos + olen;
		tk.kind = 'v';
		if (q < len && strchr("#^/!>&={", src[q]) != NULL)
			tk.kind = src[q++];
		/* Triple mustaches and delimiter tags end with a longer closer. */
		cl = 0;
		if (tk.kind == '{')
			closer[cl++] = '}';
		else if (tk.kind == '=')
			closer[cl++] = '=';
		memcpy(closer + cl, close, clen);
		cl += clen;
		if ((f = find(src + q, len - q, closer, cl)) == -1) {
			where(w, sizeof(w), label, line);
			util_seterr(err, errlen, "%s: unclosed tag", w);
			return -1;
		}
		s = q;
		t = q + (size_t)f;
		for (i = 0; pos < t + cl; pos++)
			if (src[pos] == '\n')
				i++;
		line += i;
		if (tk.kind == '!') {
			tk.off = s;
			tk.len = 0;
		} else if (tk.kind == '=') {
			if (set_delims(src + s, t - s, open, &olen, close,
			    &clen) == -1) {
				where(w, sizeof(w), label, tk.line);
				util_seterr(err, errlen, "%s: bad set-delimiter tag",
				    w);
				return -1;
			}
		} else {
			while (s < t && isspace_c(src[s]))
				s++;
			while (t > s && isspace_c(src[t - 1]))
				t--;
			if (s == t) {
				where(w, sizeof(w), label, tk.line);
				util_seterr(err, errlen, "%s: tag without a name", w);
				return -1;
			}
			tk.off = s;
			tk.len = t - s;
		}
		if (toks_add(ts, &tk) == -1)
			goto nomem;
	}
	return 0;
 nomem:
	util_seterr(err, errlen, "out of memory");
	return -1;
}

/* True if the text token T is only blanks, with an optional final newline. */
static int
blank_text(const char *src, const struct tok *t)
{
	size_t	 n = t->len;

	if (t->nl) {
		n--;
		if (n > 0 && src[t->off + n - 1] == '\r')
			n--;
	}
	while (n > 0 && isblank_c(src[t->off + n - 1]))
		n--;
	return n == 0;
}

/*
 * Drops the lines that hold a single section, inverted, close, comment,
 * partial or delimiter tag and only blanks otherwise, as the spec says:
 * such a line renders nothing, not even its newline.
 */
static void
standalone(const char *src, struct toks *ts)
{
	size_t	 i = 0, j, k, tag, ntags;
	int	 ok;

	while (i < ts->n) {
		for (j = i; j < ts->n; j++)
			if (ts->v[j].kind == 0 && ts->v[j].nl)
				break;
		if (j == ts->n)
			j--;
		ok = 1;
		ntags = 0;
		tag = i;
		for (k = i; k <= j; k++) {
			if (ts->v[k].kind == 0) {
				if (!blank_text(src, &ts->v[k]))
					ok = 0;
				continue;
			}
			ntags++;
			tag = k;
			if (strchr("#^/!>=", ts->v[k].kind) == NULL)
				ok = 0;
		}
		if (ok && ntags == 1) {
			for (k = i; k <= j; k++) {
				if (ts->v[k].kind != 0)
					continue;
				ts->v[k].dropped = 1;
				if (k < tag && ts->v[tag].kind == '>') {
					ts->v[tag].ioff = ts->v[k].off;
					ts->v[tag].ilen = ts->v[k].len;
				}
			}
			ts->v[i].bol = 0;
			ts->v[tag].bol = 0;
			ts->v[tag].dropped = 2;	/* standalone, still an op */
		}
		i = j + 1;
	}
}

/* Copies name N of length LEN into the pool at *POOL, splitting dotted segments. */
static const char *
pool_name(char **pool, const char *n, size_t len, int dotted, size_t *nseg)
{
	char	*p = *pool;
	size_t	 i;

	memcpy(p, n, len);
	p[len] = '\0';
	*nseg = 1;
	if (dotted && !(len == 1 && n[0] == '.')) {
		for (i = 0; i < len; i++)
			if (p[i] == '.') {
				p[i] = '\0';
				(*nseg)++;
			}
	}
	*pool += len + 1;
	return p;
}

/* True if NAME (LEN bytes) is "." or dot-separated non-empty words without blanks. */
static int
valid_name(const char *n, size_t len)
{
	size_t	 i;

	if (len == 1 && n[0] == '.')
		return 1;
	if (n[0] == '.' || n[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (isspace_c(n[i]))
			return 0;
		if (n[i] == '.' && n[i + 1] == '.')
			return 0;
	}
	return 1;
}

/* Writes the dotted name of OP into B (truncated to BLEN) and returns B. */
static const char *
joined(const struct op *op, char *b, size_t blen)
{
	const char	*p = op->str;
	size_t		 i, n = 0, l;

	if (blen == 0)
		return b;
	b[0] = '\0';
	for (i = 0; i < op->len; i++) {
		l = strlen(p);
		if (i > 0 && n + 1 < blen)
			b[n++] = '.';
		if (n + l >= blen)
			l = blen - n - 1;
		memcpy(b + n, p, l);
		n += l;
		b[n] = '\0';
		p += strlen(p) + 1;
	}
	return b;
}

/* True if the name of OP spells S (N bytes) exactly. */
static int
name_eq(const struct op *op, const char *s, size_t n)
{
	const char	*p = op->str;
	size_t		 i, l;

	for (i = 0; i < op->len; i++) {
		if (i > 0) {
			if (n == 0 || *s != '.')
				return 0;
			s++;
			n--;
		}
		l = strlen(p);
		if (l > n || memcmp(p, s, l) != 0)
			return 0;
		s += l;
		n -= l;
		p += l + 1;
	}
	return n == 0;
}

/* Compiles SRC; LABEL, when not NULL, names the file in messages. */
static struct tmpl *
compile(const char *src, size_t len, const char *label, char *err,
    size_t errlen)
{
	struct tmpl	*t = NULL;
	struct toks	 ts = { NULL, 0, 0 };
	struct tok	*k;
	struct op	*op;
	size_t		*stack = NULL, nstack = 0, i, nseg;
	char		*pool;
	char		 w[PATH_MAX + 32], nb[256];

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto nomem;
	if ((t->src = malloc(len + 1)) == NULL ||
	    (t->names = malloc(len + 1)) == NULL)
		goto nomem;
	memcpy(t->src, src, len);
	t->src[len] = '\0';
	if (label != NULL && (t->label = strdup(label)) == NULL)
		goto nomem;
	if (tokenize(t->src, len, label, &ts, err, errlen) == -1)
		goto fail;
	standalone(t->src, &ts);

	/* At most one line start and one op per token. */
	if ((t->ops = reallocarray(NULL, ts.n * 2 + 1, sizeof(*t->ops))) == NULL ||
	    (stack = reallocarray(NULL, ts.n + 1, sizeof(*stack))) == NULL)
		goto nomem;
	pool = t->names;
	for (i = 0; i < ts.n; i++) {
		k = &ts.v[i];
		if (k->bol) {
			op = &t->ops[t->nops++];
			memset(op, 0, sizeof(*op));
			op->type = OP_BOL;
			op->line = k->line;
		}
		if (k->dropped == 1 || k->kind == '!' || k->kind == '=')
			continue;
		if (k->kind != 0 && k->kind != '>' &&
		    !valid_name(t->src + k->off, k->len)) {
			where(w, sizeof(w), label, k->line);
			util_seterr(err, errlen, "%s: bad name \"%.*s\"", w,
			    (int)k->len, t->src + k->off);
			goto fail;
		}
		op = &t->ops[t->nops];
		memset(op, 0, sizeof(*op));
		op->line = k->line;
		switch (k->kind) {
		case 0:
			op->type = OP_TEXT;
			op->str = t->src + k->off;
			op->len = k->len;
			break;
		case 'v':
		case '&':
		case '{':
			op->type = OP_VAR;
			op->escape = k->kind == 'v';
			op->str = pool_name(&pool, t->src + k->off, k->len, 1,
			    &nseg);
			op->len = nseg;
			break;
		case '#':
		case '^':
			op->type = k->kind == '#' ? OP_SECTION : OP_INVERTED;
			op->str = pool_name(&pool, t->src + k->off, k->len, 1,
			    &nseg);
			op->len = nseg;
			stack[nstack++] = t->nops;
			break;
		case '/':
			where(w, sizeof(w), label, k->line);
			if (nstack == 0) {
				util_seterr(err, errlen, "%s: {{/%.*s}} closes no "
				    "section", w, (int)k->len, t->src + k->off);
				goto fail;
			}
			op = &t->ops[stack[nstack - 1]];
			if (!name_eq(op, t->src + k->off, k->len)) {
				util_seterr(err, errlen, "%s: {{/%.*s}} closes "
				    "section \"%s\" opened on line %u", w,
				    (int)k->len, t->src + k->off,
				    joined(op, nb, sizeof(nb)), op->line);
				goto fail;
			}
			op->end = t->nops;
			nstack--;
			continue;
		case '>':
			op->type = OP_PARTIAL;
			op->str = pool_name(&pool, t->src + k->off, k->len, 0,
			    &nseg);
			op->standalone = k->dropped == 2;
			op->indent = t->src + k->ioff;
			op->indentlen = k->ilen;
			break;
		}
		t->nops++;
	}
	if (nstack > 0) {
		op = &t->ops[stack[nstack - 1]];
		where(w, sizeof(w), label, op->line);
		util_seterr(err, errlen, "%s: unclosed section \"%s\"", w,
		    joined(op, nb, sizeof(nb)));
		goto fail;
	}
	free(stack);
	free(ts.v);
	return t;
 nomem:
	util_seterr(err, errlen, "out of memory");
 fail:
	free(stack);
	free(ts.v);
	tmpl_free(t);
	return NULL;
}

/* Compiles SRC; NULL with a message (naming line) in ERR on a syntax error. */
struct tmpl *
tmpl_compile(const char *src, size_t len, char *err, size_t errlen)
{
	return compile(src, len, NULL, err, errlen);
}

/* Frees T and everything it owns. */
void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->src);
	free(t->names);
	free(t->ops);
	free(t->label);
	free(t);
}

/* Pushes context V onto R's stack. */
static int
ctx_push(struct render *r, json_t *v)
{
	json_t	**c;
	size_t	  cap;

	if (r->nctx == r->capctx) {
		cap = r->capctx ? r->capctx * 2 : 16;
		if ((c = reallocarray(r->ctx, cap, sizeof(*c))) == NULL)
			return -1;
		r->ctx = c;
		r->capctx = cap;
	}
	r->ctx[r->nctx++] = v;
	return 0;
}

/*
 * Resolves the name of OP: the first segment in the innermost context
 * that has it, the others inside that value only (a broken chain is a
 * miss, it does not fall back to outer contexts).
 */
static json_t *
lookup(const struct render *r, const struct op *op, int *found)
{
	const char	*p = op->str;
	json_t		*v = NULL;
	size_t		 i;

	*found = 0;
	if (r->nctx == 0)
		return NULL;
	if (op->len == 1 && strcmp(p, ".") == 0) {
		*found = 1;
		return r->ctx[r->nctx - 1];
	}
	for (i = r->nctx; i > 0; i--)
		if (json_is_object(r->ctx[i - 1]) &&
		    (v = json_object_get(r->ctx[i - 1], p)) != NULL)
			break;
	if (v == NULL)
		return NULL;
	for (i = 1; i < op->len; i++) {
		p += strlen(p) + 1;
		if (!json_is_object(v) || (v = json_object_get(v, p)) == NULL)
			return NULL;
	}
	*found = 1;
	return v;
}

/*
 * False for a miss, null, false, an empty list and, unlike the reference
 * implementation, an empty string: a calendar field that is present but
 * empty should hide its section in a post.
 */
static int
truthy(json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	return 1;
}

/* Appends S (N bytes) to the output, HTML-escaped if ESC. */
static int
emit(struct render *r, const char *s, size_t n, int esc)
{
	size_t		 i, from = 0;
	const char	*rep;

	if (!esc)
		return buf_add(&r->out, s, n);
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		default:
			continue;
		}
		if (buf_add(&r->out, s + from, i - from) == -1 ||
		    buf_add(&r->out, rep, strlen(rep)) == -1)
			return -1;
		from = i + 1;
	}
	return buf_add(&r->out, s + from, n - from);
}

/* Formats the real D in the shortest form that reads back as D. */
static void
fmt_real(char *b, size_t blen, double d)
{
	int	 prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(b, blen, "%.*g", prec, d);
		if (strtod(b, NULL) == d)
			return;
	}
}

/*
 * Appends scalar V; a list of scalars is written as "a, b, c" so that
 * {{categories}} reads naturally in a post, objects write nothing.
 */
static int
emit_value(struct render *r, json_t *v, int esc, int nested)
{
	char	 b[64];
	size_t	 i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return emit(r, json_string_value(v), json_string_length(v),
		    esc);
	case JSON_INTEGER:
		snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return emit(r, b, strlen(b), 0);
	case JSON_REAL:
		fmt_real(b, sizeof(b), json_real_value(v));
		return emit(r, b, strlen(b), 0);
	case JSON_TRUE:
		return emit(r, "true", 4, 0);
	case JSON_FALSE:
		return emit(r, "false", 5, 0);
	case JSON_ARRAY:
		if (nested)
			return 0;
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0 && emit(r, ", ", 2, 0) == -1)
				return -1;
			if (emit_value(r, json_array_get(v, i), esc, 1) == -1)
				return -1;
		}
		return 0;
	default:
		return 0;
	}
}

/* True if a partial NAME may be looked up in a set directory. */
static int
safe_partial(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL &&
	    strstr(name, "..") == NULL;
}

static int	render_ops(struct render *, const struct tmpl *, size_t,
		    size_t);

/* Renders partial OP of template T, found compiled or compiled from its source. */
static int
render_partial(struct render *r, const struct tmpl *t, const struct op *op)
{
	struct tmpl		*owned = NULL;
	const struct tmpl	*p = NULL;
	char			*src = NULL;
	size_t			 len = 0, istart = r->istart, ilen = r->indent.len;
	int			 rv = -1;
	char			 w[PATH_MAX + 32], perr[512];

	where(w, sizeof(w), t->label, op->line);
	if (r->depth >= TMPL_MAX_DEPTH) {
		util_seterr(r->err, r->errlen, "%s: partial \"%s\" nested deeper "
		    "than %d", w, op->str, TMPL_MAX_DEPTH);
		return -1;
	}
	if (r->opts->find != NULL) {
		if (!safe_partial(op->str)) {
			util_seterr(r->err, r->errlen, "%s: partial name \"%s\" "
			    "refused", w, op->str);
			return -1;
		}
		p = r->opts->find(r->opts->partial_arg, op->str);
	} else if (r->opts->partial != NULL &&
	    (src = r->opts->partial(r->opts->partial_arg, op->str, &len)) !=
	    NULL) {
		if ((owned = compile(src, len, NULL, perr, sizeof(perr))) ==
		    NULL) {
			util_seterr(r->err, r->errlen, "%s: partial \"%s\": %s", w,
			    op->str, perr);
			goto fail;
		}
		p = owned;
	}
	if (p == NULL) {
		/* The spec renders a missing partial as nothing. */
		if (r->strict) {
			util_seterr(r->err, r->errlen, "%s: no partial \"%s\"", w,
			    op->str);
			goto fail;
		}
		rv = 0;
		goto fail;
	}

	/*
	 * A standalone partial indents each of its lines like its tag; an
	 * inline one is not indented at all, not even by an outer partial.
	 */
	if (op->standalone) {
		if (buf_add(&r->indent, op->indent, op->indentlen) == -1) {
			util_seterr(r->err, r->errlen, "out of memory");
			goto fail;
		}
	} else
		r->istart = r->indent.len;
	r->depth++;
	rv = render_ops(r, p, 0, p->nops);
	r->depth--;
	r->istart = istart;
	r->indent.len = ilen;
 fail:
	tmpl_free(owned);
	free(src);
	return rv;
}

/* Renders ops FROM..TO of T into R's output. */
static int
render_ops(struct render *r, const struct tmpl *t, size_t from, size_t to)
{
	const struct op	*op;
	json_t		*v;
	size_t		 i, j;
	int		 found;
	char		 w[PATH_MAX + 32], nb[256];

	for (i = from; i < to; i++) {
		op = &t->ops[i];
		switch (op->type) {
		case OP_TEXT:
			if (buf_add(&r->out, op->str, op->len) == -1)
				goto nomem;
			break;
		case OP_BOL:
			if (buf_add(&r->out, r->indent.p + r->istart,
			    r->indent.len - r->istart) == -1)
				goto nomem;
			break;
		case OP_VAR:
			v = lookup(r, op, &found);
			if (!found && r->strict) {
				where(w, sizeof(w), t->label, op->line);
				util_seterr(r->err, r->errlen, "%s: unknown variable "
				    "\"%s\"", w, joined(op, nb, sizeof(nb)));
				return -1;
			}
			if (v != NULL && emit_value(r, v, op->escape && r->html,
			    0) == -1)
				goto nomem;
			break;
		case OP_SECTION:
			v = lookup(r, op, &found);
			if (!truthy(v)) {
				i = op->end - 1;
				break;
			}
			if (json_is_array(v)) {
				for (j = 0; j < json_array_size(v); j++) {
					if (ctx_push(r, json_array_get(v, j)) == -1)
						goto nomem;
					if (render_ops(r, t, i + 1, op->end) == -1)
						return -1;
					r->nctx--;
				}
			} else {
				if (ctx_push(r, v) == -1)
					goto nomem;
				if (render_ops(r, t, i + 1, op->end) == -1)
					return -1;
				r->nctx--;
			}
			i = op->end - 1;
			break;
		case OP_INVERTED:
			v = lookup(r, op, &found);
			if (truthy(v))
				i = op->end - 1;
			break;
		case OP_PARTIAL:
			if (render_partial(r, t, op) == -1)
				return -1;
			break;
		}
	}
	return 0;
 nomem:
	if (errno == EFBIG)
		util_seterr(r->err, r->errlen, "rendering larger than %d bytes",
		    TMPL_MAX_OUTPUT);
	else
		util_seterr(r->err, r->errlen, "out of memory");
	return -1;
}

/* Renders T against CTX with R's settings into *OUT. */
static int
render_top(struct render *r, const struct tmpl *t, json_t *ctx, char **out)
{
	int	 rv = -1;

	*out = NULL;
	if (ctx_push(r, ctx) == -1 || buf_grow(&r->out, 0) == -1) {
		util_seterr(r->err, r->errlen, "out of memory");
		goto fail;
	}
	r->out.p[0] = '\0';
	if (render_ops(r, t, 0, t->nops) == -1)
		goto fail;
	*out = r->out.p;
	r->out.p = NULL;
	rv = 0;
 fail:
	free(r->out.p);
	free(r->indent.p);
	free(r->ctx);
	return rv;
}

/* Compiles SRC, named LABEL (a file) in messages; NULL with ERR. */
struct tmpl *
tmpl_compile_labelled(const char *src, size_t len, const char *label,
    char *err, size_t errlen)
{
	return compile(src, len, label, err, errlen);
}

/* T's next partial from op *I on, with its line, advancing *I; NULL at the end. */
const char *
tmpl_next_partial(const struct tmpl *t, size_t *i, unsigned *line)
{
	for (; *i < t->nops; (*i)++)
		if (t->ops[*i].type == OP_PARTIAL) {
			*line = t->ops[*i].line;
			return t->ops[(*i)++].str;
		}
	return NULL;
}

/* The label (file name) T was compiled with, or NULL. */
const char *
tmpl_label(const struct tmpl *t)
{
	return t->label;
}

/* Renders T against CTX into a malloc'd string in *OUT; -1 with ERR on failure. */
int
tmpl_render(const struct tmpl *t, json_t *ctx, const struct tmpl_opts *o,
    char **out, char *err, size_t errlen)
{
	static const struct tmpl_opts	 plain;
	struct render			 r;

	if (o == NULL)
		o = &plain;
	memset(&r, 0, sizeof(r));
	r.html = o->html_escape;
	r.strict = o->strict;
	r.opts = o;
	r.err = err;
	r.errlen = errlen;
	return render_top(&r, t, ctx, out);
}
