/*
 * The published-posts calendar: RFC 5545 text written by hand (escaping,
 * folding), so what subscribers get is exactly what this file says.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <utf8proc.h>

#include "published.h"
#include "../common/sbuf.h"
#include "../common/util.h"

#define PUB_FOLD	75		/* octets in a content line (RFC 5545 3.1) */
#define PUB_ID_MAX	64
#define PUB_NAME_MAX	256		/* channel, calendar and domain names */
#define PUB_SUMMARY_MAX	80		/* bytes of a text's first line used as SUMMARY */
#define PUB_MAX_MS	INT64_C(253402300799999)	/* 9999-12-31T23:59:59.999Z */
#define PUB_DURATION	"PT15M"

/*
 * Appends S as clean UTF-8 to B: invalid bytes become U+FFFD, CRLF and CR
 * become LF, other controls but TAB go (RFC 5545 TEXT allows none).
 */
static void
sb_clean(struct sbuf *b, const char *s)
{
	size_t	 n = strlen(s), i = 0;
	int32_t	 cp;
	ssize_t	 r;

	while (i < n) {
		r = utf8proc_iterate((const uint8_t *)s + i, (ssize_t)(n - i),
		    &cp);
		if (r <= 0) {
			sbuf_str(b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (cp == '\r') {
			if (i + 1 >= n || s[i + 1] != '\n')
				sbuf_add(b, "\n", 1);
		} else if (cp == '\n' || cp == '\t' || (cp >= 0x20 && cp != 0x7F))
			sbuf_add(b, s + i, (size_t)r);
		i += (size_t)r;
	}
}

/* Appends clean UTF-8 S to B escaped as RFC 5545 TEXT (backslash, ';', ',', newline). */
static void
sb_escape(struct sbuf *b, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\':
			sbuf_add(b, "\\\\", 2);
			break;
		case ';':
			sbuf_add(b, "\\;", 2);
			break;
		case ',':
			sbuf_add(b, "\\,", 2);
			break;
		case '\n':
			sbuf_add(b, "\\n", 2);
			break;
		default:
			sbuf_add(b, s + i, 1);
		}
	}
}

/* Appends any text S to B as escaped clean TEXT, via the scratch buffer T. */
static void
sb_text(struct sbuf *b, struct sbuf *t, const char *s)
{
	t->len = 0;
	sbuf_add(t, "", 0);
	sb_clean(t, s);
	if (!t->oom)
		sb_escape(b, t->p, t->len);
}

/* Appends URL U to B as a URI: bytes a URI cannot hold are percent-encoded. */
static void
sb_uri(struct sbuf *b, const char *u)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			 e[3];

	for (; *u != '\0'; u++) {
		c = (unsigned char)*u;
		if (c > 0x20 && c < 0x7F && strchr("\"<>\\^`{|}", c) == NULL) {
			sbuf_add(b, &c, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		sbuf_add(b, e, 3);
	}
}

/* Octets of the unit at P (N left): an escape pair, or one UTF-8 character. */
static size_t
unit_len(const unsigned char *p, size_t n)
{
	size_t	 u = 1;

	if (p[0] == '\\')
		u = 2;
	else if (p[0] >= 0xF0)
		u = 4;
	else if (p[0] >= 0xE0)
		u = 3;
	else if (p[0] >= 0xC0)
		u = 2;
	return u < n ? u : n;
}

/* Appends content line L to OUT folded at PUB_FOLD octets between units, with CRLF; empties L. */
static void
emit(struct sbuf *out, struct sbuf *l)
{
	const unsigned char	*p = (const unsigned char *)l->p;
	size_t			 i = 0, col = 0, u;

	while (i < l->len) {
		u = unit_len(p + i, l->len - i);
		if (col + u > PUB_FOLD) {
			sbuf_add(out, "\r\n ", 3);
			col = 1;
		}
		sbuf_add(out, p + i, u);
		col += u;
		i += u;
	}
	sbuf_add(out, "\r\n", 2);
	l->len = 0;
	if (l->p != NULL)
		l->p[0] = '\0';
}

/* Emits "NAME:VALUE" with VALUE already in RFC 5545 form. */
static void
prop_raw(struct sbuf *out, struct sbuf *l, const char *name, const char *value)
{
	sbuf_str(l, name);
	sbuf_add(l, ":", 1);
	sbuf_str(l, value);
	emit(out, l);
}

/* Emits "NAME:VALUE" with VALUE escaped as TEXT, unless VALUE is NULL or empty. */
static void
prop_text(struct sbuf *out, struct sbuf *l, struct sbuf *t, const char *name,
    const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	sbuf_str(l, name);
	sbuf_add(l, ":", 1);
	sb_text(l, t, value);
	emit(out, l);
}

/* Formats MS since the epoch as an RFC 5545 UTC DATE-TIME into BUF. */
static void
fmt_utc(int64_t ms, char buf[20])
{
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(buf, 20, "%Y%m%dT%H%M%SZ", &tm);
}

/* True if S is 1..MAX bytes of letters, digits and the characters in EXTRA. */
static int
is_token(const char *s, size_t max, const char *extra)
{
	size_t	 n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; s[n] != '\0'; n++) {
		if (n >= max)
			return 0;
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') || strchr(extra, s[n]) != NULL))
			return 0;
	}
	return 1;
}

/* Checks post I of V; -1 with ERR naming the post and its faulty field. */
static int
check_post(const struct published_post *p, size_t i, char *err, size_t errlen)
{
	const char	*fields[] = { p->text, p->remote_url, p->calendar,
	    p->source_uid, p->summary };
	const char	*names[] = { "text", "remote_url", "calendar",
	    "source_uid", "summary" };
	size_t		 k;

	if (!is_token(p->delivery_id, PUB_ID_MAX, "._-")) {
		util_seterr(err, errlen, "published: post %zu: delivery_id must be "
		    "1 to %d letters, digits, '.', '_' or '-'", i, PUB_ID_MAX);
		return -1;
	}
	if (p->channel == NULL || *p->channel == '\0' ||
	    strlen(p->channel) > PUB_NAME_MAX) {
		util_seterr(err, errlen, "published: post %zu (delivery %s): "
		    "channel must be 1 to %d bytes", i, p->delivery_id,
		    PUB_NAME_MAX);
		return -1;
	}
	if (p->sent_at < 0 || p->sent_at > PUB_MAX_MS) {
		util_seterr(err, errlen, "published: post %zu (delivery %s): "
		    "sent_at %lld is outside years 1970 to 9999", i,
		    p->delivery_id, (long long)p->sent_at);
		return -1;
	}
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		if (fields[k] != NULL && strlen(fields[k]) > PUBLISHED_MAX_FIELD) {
			util_seterr(err, errlen, "published: post %zu (delivery %s): "
			    "%s is %zu bytes, over the limit of %d", i,
			    p->delivery_id, names[k], strlen(fields[k]),
			    PUBLISHED_MAX_FIELD);
			return -1;
		}
	}
	return 0;
}

/* Appends the SUMMARY value of P to L: "channel: summary", or the text's first line. */
static void
summary(struct sbuf *l, struct sbuf *t, const struct published_post *p)
{
	size_t	 n, cut, k;

	sb_text(l, t, p->channel);
	sbuf_add(l, ": ", 2);
	if (p->summary != NULL && *p->summary != '\0') {
		sb_text(l, t, p->summary);
		return;
	}
	t->len = 0;
	sbuf_add(t, "", 0);
	sb_clean(t, p->text != NULL ? p->text : "");
	if (t->oom)
		return;
	n = strcspn(t->p, "\n");
	cut = n > PUB_SUMMARY_MAX ? PUB_SUMMARY_MAX : n;
	while (cut > 0 && cut < n && ((unsigned char)t->p[cut] & 0xC0) == 0x80)
		cut--;
	/* Cut between words when there is a space in the second half. */
	for (k = cut; cut < n && k > PUB_SUMMARY_MAX / 2; k--)
		if (t->p[k - 1] == ' ') {
			cut = k - 1;
			break;
		}
	sb_escape(l, t->p, cut);
	if (cut < n)
		sbuf_str(l, "\xe2\x80\xa6");
}

/* Emits the VEVENT of post P. */
static void
event(struct sbuf *out, struct sbuf *l, struct sbuf *t,
    const struct published_post *p, const char *domain)
{
	char	 when[20];

	fmt_utc(p->sent_at, when);
	prop_raw(out, l, "BEGIN", "VEVENT");
	sbuf_str(l, "UID:");
	sb_text(l, t, p->delivery_id);
	sbuf_add(l, "@", 1);
	sb_text(l, t, domain);
	emit(out, l);
	prop_raw(out, l, "DTSTAMP", when);
	prop_raw(out, l, "DTSTART", when);
	prop_raw(out, l, "DURATION", PUB_DURATION);
	sbuf_str(l, "SUMMARY:");
	summary(l, t, p);
	emit(out, l);
	prop_text(out, l, t, "DESCRIPTION", p->text);
	if (p->remote_url != NULL && *p->remote_url != '\0') {
		sbuf_str(l, "URL:");
		sb_uri(l, p->remote_url);
		emit(out, l);
	}
	prop_text(out, l, t, "RELATED-TO", p->source_uid);
	prop_text(out, l, t, "CATEGORIES", p->channel);
	prop_text(out, l, t, "X-CRIER-CALENDAR", p->calendar);
	prop_text(out, l, t, "X-CRIER-DELIVERY", p->delivery_id);
	prop_raw(out, l, "STATUS", "CONFIRMED");
	prop_raw(out, l, "TRANSP", "TRANSPARENT");
	prop_raw(out, l, "END", "VEVENT");
}

/* Renders the calendar of the N posts V into *OUT (*OUTLEN bytes); -1 with ERR. */
int
published_render(const struct published_post *v, size_t n,
    const char *domain, const char *name, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	struct sbuf	 o, l, t;
	size_t		 i;

	*out = NULL;
	*outlen = 0;
	if (domain == NULL)
		domain = "crier";
	if (name == NULL)
		name = "Published posts";
	if (!is_token(domain, PUB_NAME_MAX, ".-")) {
		util_seterr(err, errlen, "published: domain \"%.64s\" must be 1 to "
		    "%d letters, digits, '.' or '-'", domain, PUB_NAME_MAX);
		return -1;
	}
	if (strlen(name) > PUB_NAME_MAX) {
		util_seterr(err, errlen, "published: the calendar name is over %d "
		    "bytes", PUB_NAME_MAX);
		return -1;
	}
	if (n > PUBLISHED_MAX_POSTS) {
		util_seterr(err, errlen, "published: %zu posts, over the limit of "
		    "%d", n, PUBLISHED_MAX_POSTS);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (check_post(&v[i], i, err, errlen) == -1)
			return -1;
	memset(&o, 0, sizeof(o));
	memset(&l, 0, sizeof(l));
	memset(&t, 0, sizeof(t));
	prop_raw(&o, &l, "BEGIN", "VCALENDAR");
	prop_raw(&o, &l, "VERSION", "2.0");
	prop_raw(&o, &l, "PRODID", "-//crier//crier " PACKAGE_VERSION "//EN");
	prop_raw(&o, &l, "CALSCALE", "GREGORIAN");
	/* No METHOD: DTSTAMP then means when the post's information was last revised (RFC 5545 3.8.7.2). */
	prop_text(&o, &l, &t, "X-WR-CALNAME", name);
	prop_raw(&o, &l, "X-PUBLISHED-TTL", "PT1H");
	for (i = 0; i < n; i++)
		event(&o, &l, &t, &v[i], domain);
	prop_raw(&o, &l, "END", "VCALENDAR");
	free(l.p);
	free(t.p);
	if (o.oom || l.oom || t.oom) {
		free(o.p);
		util_seterr(err, errlen, "out of memory");
		return -1;
	}
	*out = o.p;
	*outlen = o.len;
	return 0;
}

/* Writes all of DATA (LEN bytes) to FD; -1 with errno on failure. */
static int
write_all(int fd, const char *data, size_t len)
{
	ssize_t	 w;

	while (len > 0) {
		if ((w = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Renders the calendar and replaces PATH with it atomically; -1 with ERR naming PATH. */
int
published_write(const char *path, const struct published_post *v, size_t n,
    const char *domain, const char *name, char *err, size_t errlen)
{
	char		*data = NULL, *tmp = NULL, *dir = NULL, *slash;
	const char	*base;
	size_t		 len, tl;
	int		 fd = -1, dfd, rc = -1;

	if (published_render(v, n, domain, name, &data, &len, err,
	    errlen) == -1)
		return -1;
	if ((dir = strdup(path)) == NULL)
		goto nomem;
	if ((slash = strrchr(dir, '/')) != NULL) {
		base = path + (slash - dir) + 1;
		if (slash == dir)
			slash++;
		*slash = '\0';
	} else {
		base = path;
		strcpy(dir, ".");
	}
	/* A dot-name beside PATH: same file system, so the rename is atomic. */
	tl = strlen(dir) + strlen(base) + sizeof("/..XXXXXX");
	if ((tmp = malloc(tl)) == NULL)
		goto nomem;
	snprintf(tmp, tl, "%s/.%s.XXXXXX", dir, base);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		util_seterr(err, errlen, "published: cannot create %s: %s", tmp,
		    strerror(errno));
		goto done;
	}
	if (fchmod(fd, 0644) == -1 || write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		util_seterr(err, errlen, "published: cannot write %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		util_seterr(err, errlen, "published: cannot write %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		util_seterr(err, errlen, "published: cannot rename %s to %s: %s",
		    tmp, path, strerror(errno));
		goto fail;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(dfd) == -1) {
			util_seterr(err, errlen, "published: cannot sync %s: %s",
			    dir, strerror(errno));
			close(dfd);
			goto done;
		}
		close(dfd);
	}
	rc = 0;
	goto done;
nomem:
	util_seterr(err, errlen, "out of memory");
	goto done;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
done:
	free(tmp);
	free(dir);
	free(data);
	return rc;
}
