/* Tracked links: reading a utm value and tagging each untagged link of a post. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"
#include "utm.h"
#include "../common/sbuf.h"
#include "../common/util.h"

/* Google Analytics' campaign parameters, without their "utm_" prefix. */
static const char *const utm_names[] = {
	"id", "source", "medium", "campaign", "term", "content",
	"source_platform", "creative_format", "marketing_tactic",
};
#define UTM_NNAMES	(sizeof(utm_names) / sizeof(utm_names[0]))

/* Value of hex digit C, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends V[0..N) to B percent-encoded (RFC 3986: all but unreserved), decoding valid %XX first. */
static void
sb_encode(struct sbuf *b, const char *v, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			 e[3];
	size_t			 i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if (c == '%' && i + 2 < n &&
		    hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
			c = (unsigned char)(hexval(v[i + 1]) * 16 +
			    hexval(v[i + 2]));
			i += 2;
		}
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			sbuf_add(b, (const char *)&c, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		sbuf_add(b, e, 3);
	}
}

/* The index in utm_names of the name P[0..N) (with or without "utm_"), or -1. */
static int
name_index(const char *p, size_t n)
{
	size_t	 i;

	if (n > 4 && strncasecmp(p, "utm_", 4) == 0) {
		p += 4;
		n -= 4;
	}
	for (i = 0; i < UTM_NNAMES; i++)
		if (strlen(utm_names[i]) == n &&
		    strncasecmp(utm_names[i], p, n) == 0)
			return (int)i;
	return -1;
}

/* Turns PARAMS into the encoded query "utm_source=...&..." in *QUERY; -1 with ERR naming a bad name. */
int
utm_query(const char *params, char **query, char *err, size_t errlen)
{
	struct sbuf	 b;
	const char	*p, *amp, *eq;
	size_t		 n;
	int		 seen[UTM_NNAMES], k;

	*query = NULL;
	memset(&b, 0, sizeof(b));
	memset(seen, 0, sizeof(seen));
	if (params == NULL)
		params = "";
	if (strlen(params) > UTM_MAX_PARAMS) {
		util_seterr(err, errlen, "utm: the value is %zu bytes, over the "
		    "limit of %d", strlen(params), UTM_MAX_PARAMS);
		return -1;
	}
	sbuf_add(&b, "", 0);
	for (p = params; *p != '\0'; p = *amp == '&' ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		n = (size_t)(amp - p);
		if (n == 0)
			continue;
		if ((eq = memchr(p, '=', n)) == NULL) {
			util_seterr(err, errlen, "utm: \"%.*s\" is not name=value",
			    (int)n, p);
			goto fail;
		}
		if ((k = name_index(p, (size_t)(eq - p))) == -1) {
			util_seterr(err, errlen, "utm: unknown parameter \"%.*s\" "
			    "(known: source, medium, campaign, term, content, "
			    "id, source_platform, creative_format, "
			    "marketing_tactic)", (int)(eq - p), p);
			goto fail;
		}
		if (seen[k]++) {
			util_seterr(err, errlen, "utm: parameter \"%s\" given twice",
			    utm_names[k]);
			goto fail;
		}
		if (eq + 1 == amp)
			continue;
		if (b.len > 0)
			sbuf_add(&b, "&", 1);
		sbuf_add(&b, "utm_", 4);
		sbuf_add(&b, utm_names[k], strlen(utm_names[k]));
		sbuf_add(&b, "=", 1);
		sb_encode(&b, eq + 1, (size_t)(amp - eq - 1));
	}
	if (b.oom) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	*query = b.p;
	return 0;
fail:
	free(b.p);
	return -1;
}

/* True if the query Q[0..N) has a parameter whose name starts with "utm_". */
static int
has_utm(const char *q, size_t n)
{
	size_t	 i = 0, j;

	while (i < n) {
		for (j = i; j < n && q[j] != '&' && q[j] != ';'; j++)
			;
		if (j - i >= 4 && strncasecmp(q + i, "utm_", 4) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* Appends the link U[0..N) to B with QUERY added (after AMP if U has a query), unless it is tagged already. */
static void
tag_link(struct sbuf *b, const char *u, size_t n, const char *query,
    const char *amp)
{
	const char	*frag, *q, *host, *slash;
	size_t		 at;

	frag = memchr(u, '#', n);
	at = frag != NULL ? (size_t)(frag - u) : n;
	q = memchr(u, '?', at);
	if (q != NULL && has_utm(q + 1, at - (size_t)(q - u) - 1)) {
		sbuf_add(b, u, n);
		return;
	}
	host = u + (u[4] == ':' ? 7 : 8);	/* past "http://" or "https://" */
	slash = memchr(host, '/', (size_t)(u + at - host));
	sbuf_add(b, u, at);
	if (q == NULL) {
		/* "https://host?x" is valid, but "https://host/?x" is what every client shows. */
		if (slash == NULL)
			sbuf_add(b, "/", 1);
		sbuf_add(b, "?", 1);
	} else if (q + 1 < u + at && u[at - 1] != '&')
		sbuf_add(b, amp, strlen(amp));
	sbuf_add(b, query, strlen(query));
	sbuf_add(b, u + at, n - at);
}

/* Tags the links of TEXT (N bytes) with QUERY into B, but SKIP (NULL: none). */
static void
tag_text(struct sbuf *b, const char *text, size_t n, const char *query,
    const char *skip)
{
	size_t	 i = 0, start, len;

	while ((len = url_find(text, n, i, &start)) > 0) {
		sbuf_add(b, text + i, start - i);
		if (query[0] != '\0' && (skip == NULL || strlen(skip) != len ||
		    memcmp(skip, text + start, len) != 0))
			tag_link(b, text + start, len, query, "&");
		else
			sbuf_add(b, text + start, len);
		i = start + len;
	}
	sbuf_add(b, text + i, n - i);
}

/* Whether the attribute value V[0..N) (HTML-escaped) is the URL SKIP. */
static int
is_skip(const char *v, size_t n, const char *skip)
{
	size_t	 i, k = 0, sn;

	if (skip == NULL)
		return 0;
	sn = strlen(skip);
	for (i = 0; i < n; k++) {
		if (k >= sn || v[i] != skip[k])
			return 0;
		i += n - i >= 5 && strncmp(v + i, "&amp;", 5) == 0 ? 5 : 1;
	}
	return k == sn;
}

/*
 * Tags the href="http(s)..." values of HTML (N bytes) with HQUERY (the
 * query with "&amp;" for "&") into B, but SKIP; everything else is copied.
 */
static void
tag_html(struct sbuf *b, const char *html, size_t n, const char *hquery,
    const char *skip)
{
	size_t		 i = 0, k, v, e;
	char		 q;

	while (i < n) {
		if ((i == 0 || strchr(" \t\r\n\"'", html[i - 1]) != NULL) &&
		    n - i > 5 && strncasecmp(html + i, "href", 4) == 0) {
			for (k = i + 4; k < n && strchr(" \t\r\n", html[k]); k++)
				;
			if (k < n && html[k] == '=') {
				for (k++; k < n && strchr(" \t\r\n", html[k]);
				    k++)
					;
				if (k < n && (html[k] == '"' || html[k] == '\'')) {
					q = html[k];
					v = k + 1;
					for (e = v; e < n && html[e] != q; e++)
						;
					sbuf_add(b, html + i, v - i);
					if (e < n && (strncasecmp(html + v,
					    "http://", 7) == 0 || strncasecmp(
					    html + v, "https://", 8) == 0) &&
					    !is_skip(html + v, e - v, skip))
						tag_link(b, html + v, e - v, hquery, "&amp;");
					else
						sbuf_add(b, html + v, e - v);
					i = e;
					continue;
				}
			}
		}
		sbuf_add(b, html + i, 1);
		i++;
	}
}

/* B's string into *OUT, or -1 with ERR when memory ran out. */
static int
sb_take(struct sbuf *b, char **out, char *err, size_t errlen)
{
	if (b->oom) {
		free(b->p);
		util_seterr(err, errlen, "out of memory");
		return -1;
	}
	*out = b->p;
	return 0;
}

/* Appends PARAMS as UTM parameters to every untagged http(s) link of TEXT into *OUT; -1 with ERR. */
int
utm_apply(const char *text, const char *params, char **out, char *err,
    size_t errlen)
{
	struct sbuf	 b;
	char		*query = NULL;
	size_t		 n;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if (text == NULL)
		text = "";
	n = strlen(text);
	if (n > UTM_MAX_TEXT) {
		util_seterr(err, errlen, "utm: the text is %zu bytes, over the "
		    "limit of %d", n, UTM_MAX_TEXT);
		return -1;
	}
	if (utm_query(params, &query, err, errlen) == -1)
		return -1;
	sbuf_add(&b, "", 0);
	tag_text(&b, text, n, query, NULL);
	free(query);
	return sb_take(&b, out, err, errlen);
}

/* Tags the links of an email's TEXT and the hrefs of its HTML (either may be NULL) with PARAMS, but SKIP. */
int
utm_apply_email(char **text, char **html, const char *params,
    const char *skip, char *err, size_t errlen)
{
	struct sbuf	 b, h;
	char		*query = NULL, *t = NULL, *hq = NULL, *nh = NULL;
	size_t		 i;
	int		 rc = -1;

	memset(&b, 0, sizeof(b));
	memset(&h, 0, sizeof(h));
	if (utm_query(params, &query, err, errlen) == -1)
		return -1;
	if (query[0] == '\0') {
		free(query);
		return 0;
	}
	if (*text != NULL) {
		sbuf_add(&b, "", 0);
		tag_text(&b, *text, strlen(*text), query, skip);
		if (sb_take(&b, &t, err, errlen) == -1)
			goto done;
	}
	if (*html != NULL) {
		for (i = 0; query[i] != '\0'; i++)
			sbuf_add(&h, query[i] == '&' ? "&amp;" : query + i,
			    query[i] == '&' ? 5 : 1);
		sbuf_add(&h, "", 0);
		if (sb_take(&h, &hq, err, errlen) == -1)
			goto done;
		memset(&h, 0, sizeof(h));
		sbuf_add(&h, "", 0);
		tag_html(&h, *html, strlen(*html), hq, skip);
		if (sb_take(&h, &nh, err, errlen) == -1)
			goto done;
		free(*html);
		*html = nh;
	}
	if (t != NULL) {
		free(*text);
		*text = t;
		t = NULL;
	}
	rc = 0;
done:
	free(t);
	free(hq);
	free(query);
	return rc;
}
