/*
 * LinkedIn's "little" text format for post commentary, per
 * learn.microsoft.com/linkedin/marketing/community-management/shares/
 * little-text-format: reserved characters must be escaped with a backslash
 * to be plain text, even where they start no element; unescaped, LinkedIn
 * misparses the text and cuts it at the first one.
 */
#include <config.h>

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "littletext.h"
#include "../common/util.h"

#define RESERVED	"\\|{}@[]()<>#*_~"
#define HASHTAG_OPEN	"{hashtag|"
#define FULLWIDTH_SIGN	"\xef\xbc\x83"	/* U+FF03, the other hashtag sign */
#define URN_PERSON	"urn:li:person:"
#define URN_ORG		"urn:li:organization:"

/* A growing output string. */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* Appends N bytes of S to B; returns -1 when out of memory. */
static int
buf_add(struct buf *b, const char *s, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 64;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Whether code point CP is a letter, a mark or a digit (a hashtag's body). */
static int
wordish(int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* Whether CP is a digit, which alone makes no hashtag. */
static int
digit(int32_t cp)
{
	return utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

/*
 * Length in bytes of the hashtag body after the sign at S[I] (SIGNLEN
 * bytes), or 0 if none: letters, marks and digits, not digits alone, not
 * followed by '_' or another sign (which would split what the user wrote).
 */
static size_t
hashtag_body(const char *s, size_t len, size_t i, size_t signlen)
{
	const uint8_t	*u = (const uint8_t *)s;
	size_t		 j = i + signlen;
	ssize_t		 r;
	int32_t		 cp;
	int		 letters = 0;

	while (j < len) {
		r = utf8proc_iterate(u + j, (ssize_t)(len - j), &cp);
		if (r <= 0 || !wordish(cp))
			break;
		if (!digit(cp))
			letters = 1;
		j += (size_t)r;
	}
	if (!letters)
		return 0;
	if (j < len && (s[j] == '_' || s[j] == '#' ||
	    (len - j >= 3 && memcmp(s + j, FULLWIDTH_SIGN, 3) == 0)))
		return 0;
	return j - i - signlen;
}

/* Escapes TEXT as little-text commentary; a malloc'd string or NULL with ERR. */
char *
littletext_escape(const char *text, size_t len, int flags, char *err,
    size_t errlen)
{
	const uint8_t	*u = (const uint8_t *)text;
	struct buf	 b = { NULL, 0, 0 };
	size_t		 i = 0, body, signlen;
	ssize_t		 r;
	int32_t		 cp, prev = -1;
	char		 esc[2] = { '\\', 0 };

	if (len > LITTLETEXT_MAX) {
		util_seterr(err, errlen, "commentary is %zu bytes, more than %d",
		    len, LITTLETEXT_MAX);
		return NULL;
	}
	if (buf_add(&b, "", 0) == -1)
		goto nomem;
	while (i < len) {
		r = utf8proc_iterate(u + i, (ssize_t)(len - i), &cp);
		if (r <= 0) {
			util_seterr(err, errlen, "invalid UTF-8 at byte %zu", i);
			goto fail;
		}
		if (cp == 0) {
			util_seterr(err, errlen, "NUL character at byte %zu", i);
			goto fail;
		}
		signlen = cp == '#' ? 1 : cp == 0xFF03 ? 3 : 0;
		if ((flags & LITTLETEXT_HASHTAGS) && signlen > 0 &&
		    (prev == -1 || (!wordish(prev) && prev != '_' &&
		    prev != '&')) &&
		    (body = hashtag_body(text, len, i, signlen)) > 0) {
			if (buf_add(&b, HASHTAG_OPEN, strlen(HASHTAG_OPEN)) == -1 ||
			    buf_add(&b, text + i, signlen) == -1 ||
			    buf_add(&b, "|", 1) == -1 ||
			    buf_add(&b, text + i + signlen, body) == -1 ||
			    buf_add(&b, "}", 1) == -1)
				goto nomem;
			i += signlen + body;
			prev = 'a';	/* a tag ends inside a word */
			continue;
		}
		if (cp < 0x80 && strchr(RESERVED, (int)cp) != NULL) {
			esc[1] = (char)cp;
			if (buf_add(&b, esc, 2) == -1)
				goto nomem;
		} else if (buf_add(&b, text + i, (size_t)r) == -1)
			goto nomem;
		prev = cp;
		i += (size_t)r;
	}
	return b.p;
nomem:
	util_seterr(err, errlen, "out of memory");
fail:
	free(b.p);
	return NULL;
}

/* Whether byte C is one of little's reserved characters. */
static int
reserved(char c)
{
	return c != '\0' && strchr(RESERVED, c) != NULL;
}

/*
 * Reads plain text from LT[*I] up to an unescaped STOP into B, undoing
 * escapes; returns 0 at STOP (consumed), -1 at anything else reserved.
 */
static int
read_until(const char *lt, size_t len, size_t *i, char stop, struct buf *b)
{
	while (*i < len) {
		if (lt[*i] == '\\' && *i + 1 < len && reserved(lt[*i + 1])) {
			if (buf_add(b, lt + *i + 1, 1) == -1)
				return -1;
			*i += 2;
		} else if (lt[*i] == stop) {
			(*i)++;
			return 0;
		} else if (reserved(lt[*i])) {
			return -1;
		} else {
			if (buf_add(b, lt + *i, 1) == -1)
				return -1;
			(*i)++;
		}
	}
	return -1;
}

/* Parses {hashtag|SIGN|VALUE} at LT[*I] into B as SIGN VALUE; -1 if malformed. */
static int
shown_hashtag(const char *lt, size_t len, size_t *i, struct buf *b)
{
	size_t	 j = *i + strlen(HASHTAG_OPEN), mark;

	if (len - *i < strlen(HASHTAG_OPEN) ||
	    memcmp(lt + *i, HASHTAG_OPEN, strlen(HASHTAG_OPEN)) != 0)
		return -1;
	if (j < len && lt[j] == '#')
		j++;
	else if (j + 3 <= len && memcmp(lt + j, FULLWIDTH_SIGN, 3) == 0)
		j += 3;
	else
		return -1;
	if (j >= len || lt[j] != '|')
		return -1;
	if (buf_add(b, lt + *i + strlen(HASHTAG_OPEN),
	    j - *i - strlen(HASHTAG_OPEN)) == -1)
		return -1;
	j++;
	mark = b->len;
	if (read_until(lt, len, &j, '}', b) == -1 || b->len == mark)
		return -1;
	*i = j;
	return 0;
}

/* Parses @[NAME](URN) at LT[*I] into B as NAME; -1 if malformed. */
static int
shown_mention(const char *lt, size_t len, size_t *i, struct buf *b)
{
	struct buf	 urn = { NULL, 0, 0 };
	size_t		 j = *i + 2;
	int		 ok;

	if (len - *i < 2 || lt[*i + 1] != '[')
		return -1;
	if (read_until(lt, len, &j, ']', b) == -1 || j >= len ||
	    lt[j] != '(')
		return -1;
	j++;
	ok = read_until(lt, len, &j, ')', &urn) == 0 && urn.p != NULL &&
	    ((strncmp(urn.p, URN_PERSON, strlen(URN_PERSON)) == 0 &&
	    urn.len > strlen(URN_PERSON)) ||
	    (strncmp(urn.p, URN_ORG, strlen(URN_ORG)) == 0 &&
	    urn.len > strlen(URN_ORG)));
	free(urn.p);
	if (!ok)
		return -1;
	*i = j;
	return 0;
}

/* What LinkedIn shows for little text LT; a malloc'd string or NULL with ERR. */
char *
littletext_shown(const char *lt, size_t len, char *err, size_t errlen)
{
	struct buf	 b = { NULL, 0, 0 };
	size_t		 i = 0, start;

	if (len > 4 * (size_t)LITTLETEXT_MAX) {
		util_seterr(err, errlen, "little text is %zu bytes, too long", len);
		return NULL;
	}
	if (buf_add(&b, "", 0) == -1)
		goto nomem;
	while (i < len) {
		start = i;
		if (lt[i] == '\\') {
			if (i + 1 >= len || !reserved(lt[i + 1]))
				goto cut;
			if (buf_add(&b, lt + i + 1, 1) == -1)
				goto nomem;
			i += 2;
		} else if (lt[i] == '{') {
			if (shown_hashtag(lt, len, &i, &b) == -1)
				goto cut;
		} else if (lt[i] == '@') {
			if (shown_mention(lt, len, &i, &b) == -1)
				goto cut;
		} else if (lt[i] == '#') {
			/* A HashtagElement: the sign and a word after it. */
			i++;
			while (i < len && !reserved(lt[i]) && lt[i] != ' ' &&
			    lt[i] != '\n' && lt[i] != '\t')
				i++;
			if (i == start + 1)
				goto cut;
			if (buf_add(&b, lt + start, i - start) == -1)
				goto nomem;
		} else if (reserved(lt[i])) {
			goto cut;
		} else {
			if (buf_add(&b, lt + i, 1) == -1)
				goto nomem;
			i++;
		}
		continue;
cut:
		util_seterr(err, errlen, "LinkedIn would cut the text at byte %zu "
		    "(unescaped '%c')", start, lt[start]);
		goto fail;
	}
	return b.p;
nomem:
	util_seterr(err, errlen, "out of memory");
fail:
	free(b.p);
	return NULL;
}
