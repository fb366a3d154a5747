/*
 * Email messages for the smtp channel: RFC 5322 headers folded within 78
 * columns, RFC 2047 encoded words for what is not ASCII, and a MIME
 * multipart/alternative body (text/plain and text/html in UTF-8,
 * quoted-printable with lines of at most 76 characters).
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "mime.h"

#define MIME_WORD_BYTES	39	/* bytes per encoded word: 52 base64 chars */

struct buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

/* Appends N bytes at P to B. */
static void
buf_add(struct buf *b, const char *p, size_t n)
{
	char	*ns;
	size_t	 cap;

	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((ns = realloc(b->s, cap)) == NULL)
			abort();
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Appends the string S to B. */
static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* True if every byte of S is printable ASCII (space included). */
static bool
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return (false);
	return (true);
}

/* True if C may appear in a dot-atom (RFC 5322 atext). */
static bool
atext(int c)
{
	return (isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c)));
}

/* True if S is an addr-spec crier accepts. */
bool
mime_addr_ok(const char *s)
{
	const char	*at = strrchr(s, '@'), *p, *label;
	size_t		 n;

	if (at == NULL || at == s || strlen(s) > MIME_ADDR_MAX ||
	    (size_t)(at - s) > 64)
		return (false);
	/* Local part: a dot-atom. */
	for (p = s; p < at; p++) {
		if (*p == '.') {
			if (p == s || p + 1 == at || p[1] == '.')
				return (false);
		} else if (!atext((unsigned char)*p))
			return (false);
	}
	/* Domain: LDH labels, none empty, none over 63. */
	label = at + 1;
	if (*label == '\0')
		return (false);
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			n = (size_t)(p - label);
			if (n == 0 || n > 63 || *label == '-' || p[-1] == '-')
				return (false);
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			return (false);
	}
	return (true);
}

/* A copy of the N bytes at S with surrounding blanks removed. */
static char *
strip_dup(const char *s, size_t n)
{
	char	*r;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if ((r = strndup(s, n)) == NULL)
		abort();
	return (r);
}

/* Splits a configured mailbox into display name and address. */
int
mime_mailbox_parse(const char *s, char **name, char **addr)
{
	const char	*lt, *gt;
	char		*nm = NULL, *ad;
	size_t		 n;

	*name = *addr = NULL;
	if (strpbrk(s, "\r\n") != NULL)
		return (-1);
	if ((lt = strrchr(s, '<')) == NULL) {
		ad = strip_dup(s, strlen(s));
	} else {
		if ((gt = strchr(lt, '>')) == NULL || gt[1 + strspn(gt + 1,
		    " \t")] != '\0')
			return (-1);
		ad = strip_dup(lt + 1, (size_t)(gt - lt - 1));
		nm = strip_dup(s, (size_t)(lt - s));
		n = strlen(nm);
		if (n >= 2 && nm[0] == '"' && nm[n - 1] == '"') {
			memmove(nm, nm + 1, n - 2);
			nm[n - 2] = '\0';
		}
		if (strchr(nm, '"') != NULL || strchr(nm, '\\') != NULL) {
			free(nm);
			free(ad);
			return (-1);
		}
		if (*nm == '\0') {
			free(nm);
			nm = NULL;
		}
	}
	if (!mime_addr_ok(ad)) {
		free(nm);
		free(ad);
		return (-1);
	}
	*name = nm;
	*addr = ad;
	return (0);
}

/* Appends "=XX" for byte C to B. */
static void
qp_byte(struct buf *b, unsigned char c)
{
	char	hex[4];

	snprintf(hex, sizeof(hex), "=%02X", c);
	buf_add(b, hex, 3);
}

/* Quoted-printable of S: CRLF line ends, encoded lines of at most 76. */
char *
mime_qp(const char *s, size_t len)
{
	struct buf	 b = { NULL, 0, 0 };
	size_t		 i, col = 0, w;
	unsigned char	 c;
	bool		 eol;

	buf_add(&b, "", 0);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		if (c == '\n') {
			buf_add(&b, "\r\n", 2);
			col = 0;
			continue;
		}
		eol = i + 1 == len || s[i + 1] == '\n' ||
		    (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n');
		/* Blanks before a line end, '=', controls and 8-bit: encoded. */
		if ((c == ' ' || c == '\t') ? eol : (c == '=' || c < 0x20 ||
		    c > 0x7e))
			w = 3;
		else if (c == '.' && col == 0)
			w = 3;		/* no lone "." lines, whatever the relay */
		else
			w = 1;
		/* Room for this and, unless the line ends here, a soft break. */
		if (col + w > (eol ? MIME_LINE_MAX : MIME_LINE_MAX - 1)) {
			buf_add(&b, "=\r\n", 3);
			col = 0;
			if (c == '.')
				w = 3;
		}
		if (w == 3)
			qp_byte(&b, c);
		else
			buf_add(&b, (const char *)&c, 1);
		col += w;
	}
	return (b.s);
}

/* Length of the UTF-8 sequence starting with byte C (1 for bad bytes). */
static size_t
utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return (4);
	if (c >= 0xe0)
		return (c < 0xf0 ? 3 : 1);
	if (c >= 0xc0)
		return (2);
	return (1);
}

/* Appends S (N bytes) to B as encoded words, never splitting a character. */
static void
encoded_words(struct buf *b, const char *s, size_t n, size_t *col)
{
	unsigned char	 out[MIME_WORD_BYTES * 2];
	size_t		 i = 0, take, cl;
	int		 olen;

	while (i < n) {
		take = 0;
		while (i + take < n) {
			cl = utf8_len((unsigned char)s[i + take]);
			if (i + take + cl > n)
				cl = n - i - take;
			if (take + cl > MIME_WORD_BYTES)
				break;
			take += cl;
		}
		if (take == 0)
			take = 1;
		olen = EVP_EncodeBlock(out, (const unsigned char *)s + i,
		    (int)take);
		if (*col + 12 + (size_t)olen > MIME_HDR_MAX) {
			buf_add(b, "\r\n ", 3);
			*col = 1;
		} else if (*col > 0 && b->len > 0 && b->s[b->len - 1] != ' ') {
			buf_add(b, " ", 1);
			(*col)++;
		}
		buf_str(b, "=?UTF-8?B?");
		buf_add(b, (const char *)out, (size_t)olen);
		buf_str(b, "?=");
		*col += 12 + (size_t)olen;
		i += take;
	}
}

/* Appends plain ASCII words of S to B, folding at spaces past 78 columns. */
static void
folded_words(struct buf *b, const char *s, size_t *col)
{
	const char	*p = s, *q;
	size_t		 n;

	while (*p != '\0') {
		q = p;
		while (*q == ' ')
			q++;
		n = strcspn(q, " ");
		if (n == 0)
			break;
		if (*col + 1 + n > MIME_HDR_MAX && *col > 1) {
			buf_add(b, "\r\n ", 3);
			*col = 1;
		} else {
			buf_add(b, " ", 1);
			(*col)++;
		}
		buf_add(b, q, n);
		*col += n;
		p = q + n;
	}
}

/* Appends the unstructured VALUE to B (after "Name:"), encoded if need be. */
static void
header_value(struct buf *b, const char *value, size_t *col)
{
	if (printable_ascii(value) && strstr(value, "=?") == NULL)
		folded_words(b, value, col);
	else {
		buf_add(b, " ", 1);
		(*col)++;
		encoded_words(b, value, strlen(value), col);
	}
}

/* "Name: value" folded, encoded when not ASCII, with CRLF. */
char *
mime_header(const char *name, const char *value)
{
	struct buf	b = { NULL, 0, 0 };
	size_t		col;

	buf_str(&b, name);
	buf_add(&b, ":", 1);
	col = strlen(name) + 1;
	header_value(&b, value, &col);
	buf_add(&b, "\r\n", 2);
	return (b.s);
}

/* True if S is a phrase of atoms and spaces only (no quoting needed). */
static bool
plain_phrase(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && !atext((unsigned char)*s))
			return (false);
	return (true);
}

/* Appends the display name S as atoms, a quoted string or encoded words. */
static void
display_name(struct buf *b, const char *s, size_t *col)
{
	const char	*p;

	if (!printable_ascii(s) || strstr(s, "=?") != NULL) {
		buf_add(b, " ", 1);
		(*col)++;
		encoded_words(b, s, strlen(s), col);
		return;
	}
	if (plain_phrase(s)) {
		folded_words(b, s, col);
		return;
	}
	buf_add(b, " \"", 2);
	*col += 2;
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			buf_add(b, "\\", 1);
			(*col)++;
		}
		buf_add(b, p, 1);
		(*col)++;
	}
	buf_add(b, "\"", 1);
	(*col)++;
}

/* "Name: display <addr>" with CRLF. */
char *
mime_header_addr(const char *name, const char *display, const char *addr)
{
	struct buf	b = { NULL, 0, 0 };
	size_t		col;

	buf_str(&b, name);
	buf_add(&b, ":", 1);
	col = strlen(name) + 1;
	if (display == NULL || *display == '\0') {
		buf_add(&b, " ", 1);
		buf_str(&b, addr);
	} else {
		display_name(&b, display, &col);
		if (col + 3 + strlen(addr) > MIME_HDR_MAX) {
			buf_add(&b, "\r\n", 2);
			col = 0;
		}
		buf_add(&b, " <", 2);
		buf_str(&b, addr);
		buf_add(&b, ">", 1);
	}
	buf_add(&b, "\r\n", 2);
	return (b.s);
}

/* The RFC 5322 date of MS in UTC. */
void
mime_date(int64_t ms, char *buf, size_t len)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Appends header line H (malloc'd, CRLF-terminated) to B and frees it. */
static void
add_line(struct buf *b, char *h)
{
	buf_str(b, h);
	free(h);
}

/* Appends one body part of TYPE with TEXT, quoted-printable. */
static void
add_part(struct buf *b, const char *boundary, const char *type,
    const char *text)
{
	char	*qp;

	buf_str(b, "--");
	buf_str(b, boundary);
	buf_str(b, "\r\nContent-Type: ");
	buf_str(b, type);
	buf_str(b, "; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	qp = mime_qp(text, strlen(text));
	buf_str(b, qp);
	free(qp);
	buf_str(b, "\r\n");
}

/* Appends the List-* headers of M to B. */
static void
list_headers(struct buf *b, const struct mime_msg *m)
{
	char	*v;
	int	 rc;

	if (m->list_id != NULL) {
		if (strchr(m->list_id, '<') != NULL)
			add_line(b, mime_header("List-Id", m->list_id));
		else {
			if (asprintf(&v, "<%s>", m->list_id) == -1)
				abort();
			add_line(b, mime_header("List-Id", v));
			free(v);
		}
	}
	if (m->unsub_url == NULL && m->unsub_mailto == NULL)
		return;
	if (m->unsub_url != NULL && m->unsub_mailto != NULL)
		rc = asprintf(&v, "<%s>, <mailto:%s?subject=unsubscribe>",
		    m->unsub_url, m->unsub_mailto);
	else if (m->unsub_url != NULL)
		rc = asprintf(&v, "<%s>", m->unsub_url);
	else
		rc = asprintf(&v, "<mailto:%s?subject=unsubscribe>",
		    m->unsub_mailto);
	if (rc == -1)
		abort();
	add_line(b, mime_header("List-Unsubscribe", v));
	free(v);
	/* RFC 8058: one-click needs an https URI to POST to. */
	if (m->unsub_url != NULL && strncmp(m->unsub_url, "https://", 8) == 0)
		buf_str(b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
}

/* The whole message M. */
char *
mime_build(const struct mime_msg *m, size_t *len)
{
	struct buf	 b = { NULL, 0, 0 };
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	char		 date[64], boundary[64], *v;
	size_t		 i;

	mime_date(m->date, date, sizeof(date));
	SHA256((const unsigned char *)m->message_id, strlen(m->message_id), md);
	memcpy(boundary, "=_crier_", 8);
	for (i = 0; i < 12; i++)
		snprintf(boundary + 8 + i * 2, 3, "%02x", md[i]);

	add_line(&b, mime_header("Date", date));
	add_line(&b, mime_header_addr("From", m->from_name, m->from_addr));
	add_line(&b, mime_header_addr("To", m->to_name, m->to_addr));
	add_line(&b, mime_header("Subject", m->subject));
	if (asprintf(&v, "<%s>", m->message_id) == -1)
		abort();
	add_line(&b, mime_header("Message-ID", v));
	free(v);
	if (m->reply_to != NULL) {
		char	*rn, *ra;

		if (mime_mailbox_parse(m->reply_to, &rn, &ra) == 0) {
			add_line(&b, mime_header_addr("Reply-To", rn, ra));
			free(rn);
			free(ra);
		}
	}
	list_headers(&b, m);
	buf_str(&b, "MIME-Version: 1.0\r\n");
	if (m->html == NULL) {
		buf_str(&b, "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		v = mime_qp(m->text, strlen(m->text));
		buf_str(&b, v);
		free(v);
		buf_str(&b, "\r\n");
	} else {
		buf_str(&b, "Content-Type: multipart/alternative;\r\n"
		    " boundary=\"");
		buf_str(&b, boundary);
		buf_str(&b, "\"\r\n\r\nThis is a MIME message in two parts: "
		    "plain text and HTML.\r\n\r\n");
		add_part(&b, boundary, "text/plain", m->text);
		add_part(&b, boundary, "text/html", m->html);
		buf_str(&b, "--");
		buf_str(&b, boundary);
		buf_str(&b, "--\r\n");
	}
	*len = b.len;
	return (b.s);
}
