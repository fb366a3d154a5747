/* Unit tests for mime.c (headers, RFC 2047, quoted-printable, messages) and recipients.c. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/evp.h>

#include "daemon/mime.h"
#include "daemon/recipients.h"
#include "tests/unit/unit.h"

/* The longest line of S (CRLF line ends), CRLF excluded. */
static size_t
longest_line(const char *s)
{
	size_t	max = 0, n;

	while (*s != '\0') {
		n = strcspn(s, "\r\n");
		if (n > max)
			max = n;
		s += n;
		s += strspn(s, "\r\n");
	}
	return (max);
}

/* True if every line break in S is CRLF. */
static int
crlf_only(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if ((s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) ||
		    (s[i] == '\r' && s[i + 1] != '\n'))
			return (0);
	return (1);
}

/* Decodes quoted-printable Q into a malloc'd string. */
static char *
qp_decode(const char *q)
{
	char	*out = malloc(strlen(q) + 1), *w = out, hex[3] = { 0, 0, 0 };

	while (*q != '\0') {
		if (q[0] == '=' && q[1] == '\r' && q[2] == '\n') {
			q += 3;
		} else if (*q == '=') {
			hex[0] = q[1];
			hex[1] = q[2];
			*w++ = (char)strtol(hex, NULL, 16);
			q += 3;
		} else if (q[0] == '\r' && q[1] == '\n') {
			*w++ = '\n';
			q += 2;
		} else
			*w++ = *q++;
	}
	*w = '\0';
	return (out);
}

/* ASCII goes through; lines stay within 76 even with long words and UTF-8. */
START_TEST(test_qp_lines)
{
	const char	*in = "Hello Zoë,\nfoo=bar and a tab\t\n"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx end \n"
	    "ééééééééééééééééééééééééééééééééééééééééééééééééé\n.\n"
	    "trailing space ";
	char		*q, *d;

	q = mime_qp(in, strlen(in));
	ck_assert_ptr_nonnull(q);
	ck_assert_int_le(longest_line(q), 76);
	ck_assert(crlf_only(q));
	ck_assert_ptr_nonnull(strstr(q, "foo=3Dbar"));
	ck_assert_ptr_nonnull(strstr(q, "Zo=C3=AB"));
	ck_assert_ptr_nonnull(strstr(q, "tab=09\r\n"));	/* blank before EOL */
	ck_assert_ptr_nonnull(strstr(q, "\r\n=2E\r\n"));	/* a lone dot */
	ck_assert_ptr_nonnull(strstr(q, "space=20"));
	d = qp_decode(q);
	ck_assert_str_eq(d, in);
	free(d);
	free(q);
}
END_TEST

/* Never an "=XX" split by a soft break: every line decodes on its own. */
START_TEST(test_qp_many_lengths)
{
	char	in[300], *q, *d;
	size_t	n, i;

	for (n = 1; n < 200; n += 7) {
		for (i = 0; i < n; i++)
			in[i] = (i % 3) ? 'a' : '=';
		in[n] = '\0';
		q = mime_qp(in, n);
		ck_assert_int_le(longest_line(q), 76);
		d = qp_decode(q);
		ck_assert_str_eq(d, in);
		free(d);
		free(q);
	}
}
END_TEST

/* An ASCII subject stays readable and is folded at spaces within 78. */
START_TEST(test_header_ascii)
{
	char	*h;

	h = mime_header("Subject", "Weekly news");
	ck_assert_str_eq(h, "Subject: Weekly news\r\n");
	free(h);
	h = mime_header("Subject", "a long subject line with many words that "
	    "goes on and on past the seventy-eight columns a header line "
	    "should keep to");
	ck_assert_int_le(longest_line(h), 78);
	ck_assert_ptr_nonnull(strstr(h, "\r\n "));
	ck_assert(crlf_only(h));
	free(h);
}
END_TEST

/* Decodes the encoded words of a header value back into UTF-8. */
static void
words_decode(const char *h, char *out, size_t len)
{
	const char	*p = h;
	unsigned char	 buf[256];
	size_t		 o = 0;
	int		 n, pad;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		const char *e = strstr(p + 10, "?=");

		n = EVP_DecodeBlock(buf, (const unsigned char *)p + 10,
		    (int)(e - p - 10));
		pad = (e[-1] == '=') + (e[-2] == '=');
		ck_assert_int_lt(o + (size_t)(n - pad), len);
		memcpy(out + o, buf, (size_t)(n - pad));
		o += (size_t)(n - pad);
		p = e + 2;
	}
	out[o] = '\0';
}

/* Not ASCII: RFC 2047 B words of at most 75, whole characters, round trip. */
START_TEST(test_header_2047)
{
	const char	*subj = "Café society — naïve ✓ ünïcödé and a long "
	    "line to make several encoded words appear here ✓✓✓✓✓✓✓";
	char		*h, back[512];
	const char	*p;

	h = mime_header("Subject", subj);
	ck_assert(strncmp(h, "Subject: =?UTF-8?B?", 19) == 0);
	ck_assert_int_le(longest_line(h), 78);
	ck_assert(crlf_only(h));
	for (p = h; (p = strstr(p, "=?UTF-8?B?")) != NULL; p += 2)
		ck_assert_int_le(strstr(p, "?=") + 2 - p, 75);
	words_decode(h, back, sizeof(back));
	ck_assert_str_eq(back, subj);
	free(h);
	/* "=?" in ASCII text would be taken as a word: it is encoded too. */
	h = mime_header("Subject", "a =?b?= c");
	ck_assert_ptr_nonnull(strstr(h, "=?UTF-8?B?"));
	free(h);
}
END_TEST

/* Display names: atoms as they are, specials quoted, UTF-8 encoded. */
START_TEST(test_header_addr)
{
	char	*h;

	h = mime_header_addr("To", "Reader One", "r1@example.org");
	ck_assert_str_eq(h, "To: Reader One <r1@example.org>\r\n");
	free(h);
	h = mime_header_addr("To", "Doe, Jane \"JD\"", "j@example.org");
	ck_assert_str_eq(h, "To: \"Doe, Jane \\\"JD\\\"\" <j@example.org>\r\n");
	free(h);
	h = mime_header_addr("To", "", "j@example.org");
	ck_assert_str_eq(h, "To: j@example.org\r\n");
	free(h);
	h = mime_header_addr("To", "Zoë", "z@example.org");
	ck_assert_str_eq(h, "To: =?UTF-8?B?Wm/Dqw==?= <z@example.org>\r\n");
	free(h);
}
END_TEST

/* Addresses and configured mailboxes. */
START_TEST(test_addresses)
{
	char	*n, *a;

	ck_assert(mime_addr_ok("a.b+tag@example.org"));
	ck_assert(mime_addr_ok("x@localhost"));
	ck_assert(!mime_addr_ok("not-an-address"));
	ck_assert(!mime_addr_ok("a@b@c"));
	ck_assert(!mime_addr_ok(".a@example.org"));
	ck_assert(!mime_addr_ok("a..b@example.org"));
	ck_assert(!mime_addr_ok("a b@example.org"));
	ck_assert(!mime_addr_ok("a@exa mple.org"));
	ck_assert(!mime_addr_ok("a@-example.org"));
	ck_assert(!mime_addr_ok("a@example..org"));
	ck_assert(!mime_addr_ok("a@"));
	ck_assert(!mime_addr_ok("zoë@example.org"));
	ck_assert_int_eq(mime_mailbox_parse("OGP News <news@example.org>", &n,
	    &a), 0);
	ck_assert_str_eq(n, "OGP News");
	ck_assert_str_eq(a, "news@example.org");
	free(n);
	free(a);
	ck_assert_int_eq(mime_mailbox_parse("\"Doe, J\" <j@example.org>", &n,
	    &a), 0);
	ck_assert_str_eq(n, "Doe, J");
	free(n);
	free(a);
	ck_assert_int_eq(mime_mailbox_parse("news@example.org", &n, &a), 0);
	ck_assert_ptr_null(n);
	ck_assert_str_eq(a, "news@example.org");
	free(a);
	ck_assert_int_eq(mime_mailbox_parse("News <bad>", &n, &a), -1);
	ck_assert_int_eq(mime_mailbox_parse("News <a@b.org> x", &n, &a), -1);
}
END_TEST

/* A whole message: the headers, two parts, CRLF, lines within limits. */
START_TEST(test_build)
{
	struct mime_msg	 m;
	char		*msg, *body;
	size_t		 len;

	memset(&m, 0, sizeof(m));
	m.from_name = "OGP News";
	m.from_addr = "news@example.org";
	m.to_name = "Zoë";
	m.to_addr = "z@example.org";
	m.reply_to = "Comms <comms@example.org>";
	m.subject = "Café";
	m.text = "Hello Zoë,\n\nUnsubscribe: https://example.org/u?e=z";
	m.html = "<p>Hello Zo&euml;</p>";
	m.message_id = "crier.abc.123@example.org";
	m.date = 1800000000000LL;
	m.list_id = "weekly.example.org";
	m.unsub_url = "https://example.org/u?e=z";
	m.unsub_mailto = "unsub@example.org";
	msg = mime_build(&m, &len);
	ck_assert_int_eq(strlen(msg), len);
	ck_assert(crlf_only(msg));
	ck_assert_int_le(longest_line(msg), 78);
	ck_assert(strncmp(msg, "Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n", 39) == 0);
	ck_assert_ptr_nonnull(strstr(msg, "\r\nFrom: OGP News <news@example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nSubject: =?UTF-8?B?Q2Fmw6k=?=\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nMessage-ID: <crier.abc.123@example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nReply-To: Comms <comms@example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nList-Id: <weekly.example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nList-Unsubscribe: <https://example.org/u?e=z>,"));
	ck_assert_ptr_nonnull(strstr(msg, "<mailto:unsub@example.org?subject=unsubscribe>"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "multipart/alternative;"));
	ck_assert_ptr_nonnull(strstr(msg, "Content-Type: text/plain; charset=utf-8"));
	ck_assert_ptr_nonnull(strstr(msg, "Content-Type: text/html; charset=utf-8"));
	body = strstr(msg, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_int_le(longest_line(body), 76);
	ck_assert_ptr_nonnull(strstr(body, "--\r\n"));	/* the closing boundary */
	free(msg);
	/* No https URL: no one-click header; text only: one part. */
	m.unsub_url = NULL;
	m.html = NULL;
	msg = mime_build(&m, &len);
	ck_assert_ptr_null(strstr(msg, "List-Unsubscribe-Post"));
	ck_assert_ptr_null(strstr(msg, "multipart"));
	free(msg);
}
END_TEST

/* Good lines are kept, bad ones reported with their numbers. */
START_TEST(test_recipients)
{
	const char	*csv = "\xef\xbb\xbf" "email,name\r\n"
	    "a@example.org,Alice\r\n"
	    "\n"
	    "# a comment\n"
	    "not-an-address,Nobody\n"
	    "\"b@example.org\", \"Doe, Bob \"\"B\"\"\"\n"
	    "A@EXAMPLE.ORG,Alice again\n"
	    "c@example.org\n"
	    "d@example.org,\"unbalanced\n"
	    "e@example.org,Zoë\n"
	    "f@example.org,bad\x01name\n";
	struct rcpt_list l;

	recipients_parse(csv, strlen(csv), "r.csv", &l);
	ck_assert_int_eq(l.n, 4);
	ck_assert_str_eq(l.v[0].email, "a@example.org");
	ck_assert_str_eq(l.v[0].name, "Alice");
	ck_assert_int_eq(l.v[0].line, 2);
	ck_assert_str_eq(l.v[1].email, "b@example.org");
	ck_assert_str_eq(l.v[1].name, "Doe, Bob \"B\"");
	ck_assert_str_eq(l.v[2].email, "c@example.org");
	ck_assert_str_eq(l.v[2].name, "");
	ck_assert_str_eq(l.v[3].name, "Zoë");
	ck_assert_str_eq(l.v[3].key, "e@example.org");
	ck_assert_int_eq(l.nproblems, 4);
	ck_assert_str_eq(l.problems[0],
	    "r.csv:5: 'not-an-address' is not an email address");
	ck_assert_str_eq(l.problems[1],
	    "r.csv:7: duplicate of line 2 (A@EXAMPLE.ORG)");
	ck_assert_str_eq(l.problems[2], "r.csv:9: unbalanced quotes");
	ck_assert_ptr_nonnull(strstr(l.problems[3], "r.csv:11: the name"));
	recipients_list_free(&l);
	recipients_parse("", 0, "empty.csv", &l);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(l.nproblems, 0);
	recipients_list_free(&l);
}
END_TEST

/* A file that cannot be read is an error naming it. */
START_TEST(test_recipients_load)
{
	struct rcpt_list	l;
	char			err[256];

	ck_assert_int_eq(recipients_load("/nonexistent/r.csv", &l, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/r.csv"));
}
END_TEST

static Suite *
mime_suite(void)
{
	Suite	*s = suite_create("mime");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_qp_lines);
	tcase_add_test(tc, test_qp_many_lengths);
	tcase_add_test(tc, test_header_ascii);
	tcase_add_test(tc, test_header_2047);
	tcase_add_test(tc, test_header_addr);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_recipients);
	tcase_add_test(tc, test_recipients_load);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(mime_suite(), 0));
}
