/*
 * The recipients file of an smtp channel: CSV (RFC 4180 quoting) with the
 * columns email and name. A bad line is reported with its number and
 * skipped; every good line is kept.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mime.h"
#include "recipients.h"

struct problem {
	int	 line;
	char	*msg;
};

struct parse {
	const char	*file;
	struct rcpt_list *out;
	size_t		 cap;		/* of out->v */
	struct problem	*probs;
	size_t		 nprobs, probcap;
};

/* A malloc'd lower-case copy of EMAIL. */
char *
recipients_key(const char *email)
{
	char	*k, *p;

	if ((k = strdup(email)) == NULL)
		abort();
	for (p = k; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return (k);
}

/* Records a problem on LINE. */
static void
problem(struct parse *ps, int line, const char *fmt, const char *arg)
{
	struct problem	*np;
	char		 msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	if (ps->nprobs == ps->probcap) {
		ps->probcap = ps->probcap ? ps->probcap * 2 : 16;
		if ((np = reallocarray(ps->probs, ps->probcap, sizeof(*np))) ==
		    NULL)
			abort();
		ps->probs = np;
	}
	np = ps->probs;
	np[ps->nprobs].line = line;
	if (asprintf(&np[ps->nprobs].msg, "%s:%d: %s", ps->file, line, msg) == -1)
		abort();
	ps->nprobs++;
}

/* True if the N bytes at S are valid UTF-8 without control characters. */
static int
utf8_text_ok(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s, *e = p + n;
	size_t			 cl, i;
	unsigned int		 cp;

	while (p < e) {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return (0);
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p < 0xe0) {
			cl = 2;
			cp = *p & 0x1f;
		} else if (*p >= 0xe0 && *p < 0xf0) {
			cl = 3;
			cp = *p & 0x0f;
		} else if (*p >= 0xf0 && *p < 0xf5) {
			cl = 4;
			cp = *p & 0x07;
		} else
			return (0);
		if ((size_t)(e - p) < cl)
			return (0);
		for (i = 1; i < cl; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((cl == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
		    (cl == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0x80 && cp < 0xa0))
			return (0);
		p += cl;
	}
	return (1);
}

/*
 * Splits the line S (N bytes) into at most NF fields (malloc'd, trimmed,
 * unquoted); the number found, or -1 on a broken quote.
 */
static int
split_csv(const char *s, size_t n, char **f, int nf)
{
	size_t	 i = 0, o;
	int	 k = 0;
	char	*cur;

	for (;;) {
		if ((cur = malloc(n + 1)) == NULL)
			abort();
		o = 0;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < n && s[i] == '"') {
			for (i++;; i++) {
				if (i >= n) {
					free(cur);
					return (-1);
				}
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						cur[o++] = '"';
						i++;
						continue;
					}
					i++;
					break;
				}
				cur[o++] = s[i];
			}
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i < n && s[i] != ',') {
				free(cur);
				return (-1);
			}
		} else {
			while (i < n && s[i] != ',')
				cur[o++] = s[i++];
			while (o > 0 && (cur[o - 1] == ' ' || cur[o - 1] == '\t'))
				o--;
		}
		cur[o] = '\0';
		if (k < nf)
			f[k] = cur;
		else
			free(cur);
		k++;
		if (i >= n)
			break;
		i++;	/* the comma */
	}
	return (k);
}

/* Parses line LINE (S, N bytes without its end) into PS. */
static void
parse_line(struct parse *ps, int line, const char *s, size_t n)
{
	struct rcpt	*nv;
	char		*f[2] = { NULL, NULL };
	int		 k;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n == 0 || *s == '#')
		return;
	if ((k = split_csv(s, n, f, 2)) == -1) {
		problem(ps, line, "%s", "unbalanced quotes");
		goto done;
	}
	if (line == 1 && strcasecmp(f[0], "email") == 0)
		goto done;	/* the header line */
	if (!mime_addr_ok(f[0])) {
		problem(ps, line, "'%.200s' is not an email address", f[0]);
		goto done;
	}
	if (k >= 2 && (!utf8_text_ok(f[1], strlen(f[1])) ||
	    strlen(f[1]) > RECIPIENTS_MAX_NAME)) {
		problem(ps, line, "%s", "the name is not UTF-8 text of at "
		    "most 256 bytes");
		goto done;
	}
	if (ps->out->n == ps->cap) {
		/* Doubling: one copy per recipient made 60 000 take seconds. */
		ps->cap = ps->cap ? ps->cap * 2 : 64;
		if ((nv = reallocarray(ps->out->v, ps->cap, sizeof(*nv))) ==
		    NULL)
			abort();
		ps->out->v = nv;
	}
	nv = ps->out->v + ps->out->n++;
	nv->email = f[0];
	nv->key = recipients_key(f[0]);
	nv->name = f[1] != NULL ? f[1] : strdup("");
	if (nv->name == NULL)
		abort();
	nv->line = line;
	return;
done:
	free(f[0]);
	free(f[1]);
}

/* Orders recipient pointers by key, then line. */
static int
by_key(const void *a, const void *b)
{
	const struct rcpt	*x = *(struct rcpt *const *)a;
	const struct rcpt	*y = *(struct rcpt *const *)b;
	int			 c = strcmp(x->key, y->key);

	return (c != 0 ? c : x->line - y->line);
}

/* Orders problems by line. */
static int
by_line(const void *a, const void *b)
{
	return (((const struct problem *)a)->line -
	    ((const struct problem *)b)->line);
}

/* Drops every repeat of an address already listed, as a problem. */
static void
drop_duplicates(struct parse *ps)
{
	struct rcpt_list	 *l = ps->out;
	struct rcpt		**ix;
	char			  msg[400];
	size_t			  i, o;

	if (l->n < 2)
		return;
	if ((ix = calloc(l->n, sizeof(*ix))) == NULL)
		abort();
	for (i = 0; i < l->n; i++)
		ix[i] = &l->v[i];
	qsort(ix, l->n, sizeof(*ix), by_key);
	for (i = 1; i < l->n; i++)
		if (strcmp(ix[i]->key, ix[i - 1]->key) == 0) {
			snprintf(msg, sizeof(msg), "duplicate of line %d (%.200s)",
			    ix[i - 1]->line, ix[i]->email);
			problem(ps, ix[i]->line, "%s", msg);
			free(ix[i]->email);
			ix[i]->email = NULL;
			ix[i]->key[0] = '\0';
			/* Keep comparing with the first of the run. */
			ix[i] = ix[i - 1];
		}
	free(ix);
	for (i = o = 0; i < l->n; i++) {
		if (l->v[i].email == NULL) {
			free(l->v[i].key);
			free(l->v[i].name);
			continue;
		}
		l->v[o++] = l->v[i];
	}
	l->n = o;
}

/* Parses BUF into OUT, recording the problems of bad lines. */
void
recipients_parse(const char *buf, size_t len, const char *file, struct rcpt_list *out)
{
	struct parse	 ps;
	size_t		 i = 0, e;
	int		 line = 0;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.file = file;
	ps.out = out;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		line++;
		for (e = i; e < len && buf[e] != '\n'; e++)
			;
		parse_line(&ps, line, buf + i, e > i && buf[e - 1] == '\r' ?
		    e - i - 1 : e - i);
		i = e + 1;
	}
	drop_duplicates(&ps);
	if (ps.nprobs > 1)
		qsort(ps.probs, ps.nprobs, sizeof(*ps.probs), by_line);
	if (ps.nprobs > 0 && (out->problems = calloc(ps.nprobs,
	    sizeof(*out->problems))) == NULL)
		abort();
	for (i = 0; i < ps.nprobs; i++)
		out->problems[i] = ps.probs[i].msg;
	out->nproblems = ps.nprobs;
	free(ps.probs);
}

/* Reads and parses PATH. */
int
recipients_load(const char *path, struct rcpt_list *out, char *err, size_t errlen)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;
	int	 fd;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "recipients_file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL)
				abort();
			buf = nb;
		}
		if ((r = read(fd, buf + len, cap - len)) == 0)
			break;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "recipients_file %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		len += (size_t)r;
		if (len > RECIPIENTS_MAX_FILE) {
			snprintf(err, errlen, "recipients_file %s: over %d bytes",
			    path, RECIPIENTS_MAX_FILE);
			goto fail;
		}
	}
	close(fd);
	recipients_parse(buf, len, path, out);
	free(buf);
	return (0);
fail:
	close(fd);
	free(buf);
	return (-1);
}

/* Frees what L holds. */
void
recipients_list_free(struct rcpt_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].email);
		free(l->v[i].key);
		free(l->v[i].name);
	}
	free(l->v);
	for (i = 0; i < l->nproblems; i++)
		free(l->problems[i]);
	free(l->problems);
	memset(l, 0, sizeof(*l));
}
