/*
 * The published-posts calendar (issue 17): an RFC 5545 calendar with one
 * VEVENT per post that went out, for people to subscribe to.
 */
#ifndef CRIER_PUBLISHED_H
#define CRIER_PUBLISHED_H

#include <stddef.h>
#include <stdint.h>

#define PUBLISHED_MAX_POSTS	100000		/* events in one calendar */
#define PUBLISHED_MAX_FIELD	(64 * 1024)	/* bytes of any one text */

/* One post that went out; only DELIVERY_ID, CHANNEL and SENT_AT are required. */
struct published_post {
	const char	*delivery_id;	/* [A-Za-z0-9._-], 1..64: the UID's left part */
	const char	*channel;	/* the channel's name: SUMMARY prefix, CATEGORIES */
	int64_t		 sent_at;	/* when it went out, ms since the epoch */
	const char	*text;		/* what was posted: DESCRIPTION */
	const char	*remote_url;	/* the post on its network: URL */
	const char	*calendar;	/* the source calendar's name: X-CRIER-CALENDAR */
	const char	*source_uid;	/* the source event's UID: RELATED-TO */
	const char	*summary;	/* the source event's SUMMARY */
};

/*
 * Renders the calendar NAME (NULL: "Published posts") of the N posts V
 * into *OUT (malloc'd, *OUTLEN bytes): one VEVENT per post, UID
 * "<delivery_id>@<DOMAIN>" (DOMAIN NULL: "crier"), DTSTART and DTSTAMP
 * in UTC at the time it went out, DURATION PT15M (calendar apps draw a
 * zero-length event as nothing), SUMMARY "<channel>: <summary>" (or the
 * text's first line), DESCRIPTION the text, URL, RELATED-TO, CATEGORIES
 * the channel; TEXT escaped and lines folded at 75 octets between UTF-8
 * characters. Invalid UTF-8 becomes U+FFFD, CRLF and CR become line ends,
 * other control characters are dropped. -1 with ERR naming the post
 * (by index and delivery id) and the field at fault.
 */
int	 published_render(const struct published_post *v, size_t n,
	    const char *domain, const char *name, char **out, size_t *outlen,
	    char *err, size_t errlen);
/*
 * Renders as published_render does and replaces PATH atomically (a
 * temporary file beside it, fsync'd, renamed over it, the directory
 * fsync'd), mode 0644; -1 with ERR naming the path, PATH untouched.
 */
int	 published_write(const char *path, const struct published_post *v,
	    size_t n, const char *domain, const char *name, char *err,
	    size_t errlen);

#endif
