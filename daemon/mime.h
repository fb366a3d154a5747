/* Email messages: RFC 5322 headers, RFC 2047 words, MIME multipart/alternative. */
#ifndef CRIER_MIME_H
#define CRIER_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIME_LINE_MAX	76	/* encoded body lines, CRLF excluded */
#define MIME_HDR_MAX	78	/* header lines we write, CRLF excluded */
#define MIME_ADDR_MAX	254

/* One personal message. */
struct mime_msg {
	const char	*from_name;	/* may be NULL */
	const char	*from_addr;
	const char	*to_name;	/* may be NULL or "" */
	const char	*to_addr;
	const char	*reply_to;	/* a mailbox as configured, may be NULL */
	const char	*subject;	/* UTF-8, one line */
	const char	*text;		/* UTF-8, the text/plain part */
	const char	*html;		/* UTF-8, the text/html part; NULL: text only */
	const char	*message_id;	/* without the angle brackets */
	int64_t		 date;		/* ms since the epoch */
	const char	*list_id;	/* "Name <id>" or "id", may be NULL */
	const char	*unsub_url;	/* https URL, may be NULL */
	const char	*unsub_mailto;	/* an address, may be NULL */
};

/* True if S is an addr-spec crier accepts (ASCII local@domain, RFC 5321 sizes). */
bool	 mime_addr_ok(const char *s);
/*
 * Splits a mailbox "Name <addr>", "\"Name\" <addr>" or "addr" into a
 * malloc'd *NAME (NULL if none) and *ADDR; -1 if it is not one.
 */
int	 mime_mailbox_parse(const char *s, char **name, char **addr);
/* Quoted-printable (RFC 2045) of S, CRLF line ends, lines of at most 76. */
char	*mime_qp(const char *s, size_t len);
/* "Name: value" folded (CRLF SP), RFC 2047 B-encoded when not ASCII; ends with CRLF. */
char	*mime_header(const char *name, const char *value);
/* "Name: phrase <addr>" with the display name quoted or encoded as needed; CRLF. */
char	*mime_header_addr(const char *name, const char *display, const char *addr);
/* The RFC 5322 date of MS (UTC), e.g. "Thu, 08 Jan 2026 10:00:00 +0000". */
void	 mime_date(int64_t ms, char *buf, size_t len);
/* The whole message M, CRLF line ends; its length in *LEN. */
char	*mime_build(const struct mime_msg *m, size_t *len);

#endif
