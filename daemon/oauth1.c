/*
 * OAuth 1.0a request signing with HMAC-SHA1: RFC 5849 section 3.4 and X's
 * "Creating a signature" and "Percent encoding parameters" pages.
 */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "oauth1.h"
#include "../common/sbuf.h"
#include "../common/util.h"

/* One parameter, its name and value percent-encoded. */
struct param {
	char	*k;
	char	*v;
};

/* The parameters of one request. */
struct params {
	struct param	 p[OAUTH1_MAX_PARAMS];
	size_t		 n;
};

/* Appends S (N bytes) to B percent-encoded. */
static void
buf_enc(struct sbuf *b, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*u = (const unsigned char *)s;
	char			 e[3];
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (isalnum(u[i]) && u[i] < 0x80)
			sbuf_add(b, s + i, 1);
		else if (u[i] == '-' || u[i] == '.' || u[i] == '_' ||
		    u[i] == '~')
			sbuf_add(b, s + i, 1);
		else {
			e[0] = '%';
			e[1] = hex[u[i] >> 4];
			e[2] = hex[u[i] & 0x0f];
			sbuf_add(b, e, 3);
		}
	}
}

/* Takes B's string (NULL after a failed allocation). */
static char *
buf_take(struct sbuf *b)
{
	char	*s;

	if (b->oom) {
		free(b->p);
		return (NULL);
	}
	if (b->p == NULL)
		return (strdup(""));
	s = b->p;
	b->p = NULL;
	return (s);
}

/* Percent-encodes the N bytes at S as RFC 3986 section 2.1 and X require; NULL if out of memory. */
char *
oauth1_encode(const char *s, size_t n)
{
	struct sbuf	b;

	memset(&b, 0, sizeof(b));
	buf_enc(&b, s, n);
	return (buf_take(&b));
}

/* The value of hex digit C, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Decodes N bytes of form-urlencoded S ('+' is a space) into OUT (N + 1 bytes); -1 on a bad escape. */
static int
form_decode(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t	i, o = 0;
	int	hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= n)
				return (-1);
			if ((hi = hexval((unsigned char)s[i + 1])) == -1 ||
			    (lo = hexval((unsigned char)s[i + 2])) == -1)
				return (-1);
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return (0);
}

/* Adds the pair NAME=VALUE (raw bytes) to PS, both encoded; -1 when full or out of memory. */
static int
params_add(struct params *ps, const char *k, size_t kn, const char *v,
    size_t vn)
{
	struct param	*p;

	if (ps->n == OAUTH1_MAX_PARAMS)
		return (-1);
	p = &ps->p[ps->n];
	p->k = oauth1_encode(k, kn);
	p->v = oauth1_encode(v, vn);
	if (p->k == NULL || p->v == NULL) {
		free(p->k);
		free(p->v);
		return (-1);
	}
	ps->n++;
	return (0);
}

/* Frees the pairs of PS. */
static void
params_free(struct params *ps)
{
	size_t	i;

	for (i = 0; i < ps->n; i++) {
		free(ps->p[i].k);
		free(ps->p[i].v);
	}
	ps->n = 0;
}

/* Adds the pairs of the form-urlencoded string S (N bytes) to PS; WHAT names it in errors. */
static int
params_parse(struct params *ps, const char *s, size_t n, const char *what,
    char *err, size_t errlen)
{
	const char	*end = s + n, *amp, *eq;
	char		*k = NULL, *v = NULL;
	size_t		 kn, vn, seg;
	int		 rc = -1;

	if ((k = malloc(n + 1)) == NULL || (v = malloc(n + 1)) == NULL) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	while (s < end) {
		amp = memchr(s, '&', (size_t)(end - s));
		seg = (size_t)((amp != NULL ? amp : end) - s);
		if (seg > 0) {
			eq = memchr(s, '=', seg);
			if (form_decode(s, eq != NULL ? (size_t)(eq - s) : seg,
			    k, &kn) == -1 || (eq != NULL && form_decode(eq + 1,
			    seg - (size_t)(eq + 1 - s), v, &vn) == -1)) {
				util_seterr(err, errlen, "%s: bad percent escape "
				    "in \"%.*s\"", what, (int)(seg > 64 ? 64 :
				    seg), s);
				goto fail;
			}
			if (eq == NULL) {
				v[0] = '\0';
				vn = 0;
			}
			/* RFC 5849 3.4.1.3.1: oauth_signature is never signed. */
			if (strcmp(k, "oauth_signature") != 0 &&
			    params_add(ps, k, kn, v, vn) == -1) {
				util_seterr(err, errlen, "%s: more than %d parameters"
				    " or out of memory", what, OAUTH1_MAX_PARAMS);
				goto fail;
			}
		}
		s += seg + (amp != NULL ? 1 : 0);
	}
	rc = 0;
fail:
	free(k);
	free(v);
	return (rc);
}

/* Orders pairs by encoded name, then encoded value. */
static int
param_cmp(const void *a, const void *b)
{
	const struct param	*pa = a, *pb = b;
	int			 c;

	if ((c = strcmp(pa->k, pb->k)) != 0)
		return (c);
	return (strcmp(pa->v, pb->v));
}

/* Appends the base string URI of URL (RFC 5849 3.4.1.2) to B and sets *QUERY; -1 on a bad URL. */
static int
base_uri(struct sbuf *b, const char *url, const char **query, size_t *qlen,
    char *err, size_t errlen)
{
	const char	*sep, *auth, *aend, *host_end, *port, *path, *pend, *q;
	size_t		 i, slen;
	char		 c;

	if ((sep = strstr(url, "://")) == NULL || sep == url) {
		util_seterr(err, errlen, "URL has no scheme");
		return (-1);
	}
	slen = (size_t)(sep - url);
	for (i = 0; i < slen; i++) {
		c = (char)tolower((unsigned char)url[i]);
		if (!isalnum((unsigned char)c) && c != '+' && c != '-' &&
		    c != '.') {
			util_seterr(err, errlen, "URL has a bad scheme");
			return (-1);
		}
		sbuf_add(b, &c, 1);
	}
	sbuf_str(b, "://");
	auth = sep + 3;
	aend = auth + strcspn(auth, "/?#");
	if (aend == auth || memchr(auth, '@', (size_t)(aend - auth)) != NULL) {
		util_seterr(err, errlen, "URL has no host, or carries credentials");
		return (-1);
	}
	/* The port is the digits after the last ':' outside brackets. */
	host_end = aend;
	port = NULL;
	for (q = aend; q > auth; q--) {
		if (q[-1] == ']')
			break;
		if (q[-1] == ':') {
			port = q;
			host_end = q - 1;
			break;
		}
	}
	for (q = auth; q < host_end; q++) {
		c = (char)tolower((unsigned char)*q);
		sbuf_add(b, &c, 1);
	}
	if (port != NULL && port < aend) {
		slen = (size_t)(aend - port);
		for (q = port; q < aend; q++)
			if (!isdigit((unsigned char)*q)) {
				util_seterr(err, errlen, "URL has a bad port");
				return (-1);
			}
		/* Default ports are left out. */
		if (!((slen == 2 && memcmp(port, "80", 2) == 0 &&
		    strncasecmp(url, "http://", 7) == 0) ||
		    (slen == 3 && memcmp(port, "443", 3) == 0 &&
		    strncasecmp(url, "https://", 8) == 0))) {
			sbuf_str(b, ":");
			sbuf_add(b, port, slen);
		}
	}
	path = aend;
	pend = path + strcspn(path, "?#");
	if (pend == path || *path != '/')
		sbuf_str(b, "/");
	sbuf_add(b, path, (size_t)(pend - path));
	*query = NULL;
	*qlen = 0;
	if (*pend == '?') {
		*query = pend + 1;
		*qlen = strcspn(*query, "#");
	}
	return (0);
}

/* Checks that credential field V (named WHAT) is usable. */
static int
check_field(const char *v, const char *what, int required, char *err,
    size_t errlen)
{
	if (v == NULL) {
		if (required)
			util_seterr(err, errlen, "%s is missing", what);
		return (required ? -1 : 0);
	}
	if (required && v[0] == '\0') {
		util_seterr(err, errlen, "%s is empty", what);
		return (-1);
	}
	if (strlen(v) > OAUTH1_MAX_SECRET) {
		util_seterr(err, errlen, "%s is longer than %d bytes", what,
		    OAUTH1_MAX_SECRET);
		return (-1);
	}
	return (0);
}

/* The signature base string of R (nonce and timestamp given) under C; NULL with ERR set on bad input. */
char *
oauth1_base_string(const struct oauth1_creds *c, const struct oauth1_req *r,
    char *err, size_t errlen)
{
	struct params	*ps = NULL;
	struct sbuf	 uri, pstr, out;
	const char	*query;
	char		 ts[32], method[16];
	size_t		 qlen, i;

	memset(&uri, 0, sizeof(uri));
	memset(&pstr, 0, sizeof(pstr));
	memset(&out, 0, sizeof(out));
	if (check_field(c->consumer_key, "consumer_key", 1, err, errlen) == -1 ||
	    check_field(c->consumer_secret, "consumer_secret", 1, err,
	    errlen) == -1 ||
	    check_field(c->token, "token", 0, err, errlen) == -1 ||
	    check_field(c->token_secret, "token_secret", 0, err, errlen) == -1)
		goto fail;
	if (r->method == NULL || r->method[0] == '\0' ||
	    strlen(r->method) >= sizeof(method)) {
		util_seterr(err, errlen, "bad HTTP method");
		goto fail;
	}
	for (i = 0; r->method[i] != '\0'; i++) {
		if (!isalpha((unsigned char)r->method[i])) {
			util_seterr(err, errlen, "bad HTTP method");
			goto fail;
		}
		method[i] = (char)toupper((unsigned char)r->method[i]);
	}
	method[i] = '\0';
	if (r->url == NULL || strlen(r->url) > OAUTH1_MAX_URL) {
		util_seterr(err, errlen, "URL is missing or longer than %d bytes",
		    OAUTH1_MAX_URL);
		goto fail;
	}
	if (r->form != NULL && strlen(r->form) > OAUTH1_MAX_FORM) {
		util_seterr(err, errlen, "form body is longer than %d bytes",
		    OAUTH1_MAX_FORM);
		goto fail;
	}
	if (r->nonce == NULL || r->nonce[0] == '\0' ||
	    strlen(r->nonce) > OAUTH1_MAX_NONCE || r->timestamp <= 0) {
		util_seterr(err, errlen, "nonce or timestamp is missing");
		goto fail;
	}
	if (base_uri(&uri, r->url, &query, &qlen, err, errlen) == -1)
		goto fail;
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	if (query != NULL &&
	    params_parse(ps, query, qlen, "URL query", err, errlen) == -1)
		goto fail;
	if (r->form != NULL && params_parse(ps, r->form, strlen(r->form),
	    "form body", err, errlen) == -1)
		goto fail;
	snprintf(ts, sizeof(ts), "%lld", r->timestamp);
	if (params_add(ps, "oauth_consumer_key", 18, c->consumer_key,
	    strlen(c->consumer_key)) == -1 ||
	    params_add(ps, "oauth_nonce", 11, r->nonce, strlen(r->nonce)) == -1 ||
	    params_add(ps, "oauth_signature_method", 22, "HMAC-SHA1", 9) == -1 ||
	    params_add(ps, "oauth_timestamp", 15, ts, strlen(ts)) == -1 ||
	    (c->token != NULL && params_add(ps, "oauth_token", 11, c->token,
	    strlen(c->token)) == -1) ||
	    params_add(ps, "oauth_version", 13, "1.0", 3) == -1) {
		util_seterr(err, errlen, "more than %d parameters or out of memory",
		    OAUTH1_MAX_PARAMS);
		goto fail;
	}
	qsort(ps->p, ps->n, sizeof(ps->p[0]), param_cmp);
	for (i = 0; i < ps->n; i++) {
		if (i > 0)
			sbuf_str(&pstr, "&");
		sbuf_str(&pstr, ps->p[i].k);
		sbuf_str(&pstr, "=");
		sbuf_str(&pstr, ps->p[i].v);
	}
	if (uri.oom || pstr.oom) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	sbuf_str(&out, method);
	sbuf_str(&out, "&");
	buf_enc(&out, uri.p, uri.len);
	sbuf_str(&out, "&");
	buf_enc(&out, pstr.p != NULL ? pstr.p : "", pstr.len);
	if (out.oom) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	params_free(ps);
	free(ps);
	free(uri.p);
	free(pstr.p);
	return (buf_take(&out));
fail:
	if (ps != NULL)
		params_free(ps);
	free(ps);
	free(uri.p);
	free(pstr.p);
	free(out.p);
	return (NULL);
}

/* The base64 HMAC-SHA1 of BASE under C's signing key; NULL with ERR set on failure. */
char *
oauth1_signature(const struct oauth1_creds *c, const char *base, char *err,
    size_t errlen)
{
	struct sbuf	 key;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*sig = NULL;

	memset(&key, 0, sizeof(key));
	if (check_field(c->consumer_secret, "consumer_secret", 1, err,
	    errlen) == -1 ||
	    check_field(c->token_secret, "token_secret", 0, err, errlen) == -1)
		return (NULL);
	/* The signing key: encoded consumer secret '&' encoded token secret. */
	buf_enc(&key, c->consumer_secret, strlen(c->consumer_secret));
	sbuf_str(&key, "&");
	if (c->token_secret != NULL)
		buf_enc(&key, c->token_secret, strlen(c->token_secret));
	if (key.oom) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	if (HMAC(EVP_sha1(), key.p, (int)key.len, (const unsigned char *)base,
	    strlen(base), md, &mdlen) == NULL) {
		util_seterr(err, errlen, "HMAC-SHA1 failed");
		goto fail;
	}
	if ((sig = malloc(4 * ((mdlen + 2) / 3) + 1)) == NULL) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	EVP_EncodeBlock((unsigned char *)sig, md, (int)mdlen);
fail:
	if (key.p != NULL) {
		OPENSSL_cleanse(key.p, key.cap);
		free(key.p);
	}
	OPENSSL_cleanse(md, sizeof(md));
	return (sig);
}

/* Appends key="encoded value" to header B, after a ", " unless FIRST. */
static void
header_pair(struct sbuf *b, const char *k, const char *v, int first)
{
	if (!first)
		sbuf_str(b, ", ");
	sbuf_str(b, k);
	sbuf_str(b, "=\"");
	buf_enc(b, v, strlen(v));
	sbuf_str(b, "\"");
}

/* The Authorization header value ("OAuth oauth_consumer_key=...") for R; NULL with ERR set on bad input. */
char *
oauth1_header(const struct oauth1_creds *c, const struct oauth1_req *r,
    char *err, size_t errlen)
{
	struct oauth1_req	 req = *r;
	struct sbuf		 h;
	unsigned char		 rnd[16];
	char			 nonce[2 * sizeof(rnd) + 1], ts[32];
	char			*base = NULL, *sig = NULL, *out = NULL;
	size_t			 i;

	memset(&h, 0, sizeof(h));
	if (req.nonce == NULL) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			util_seterr(err, errlen, "no random bytes for a nonce");
			goto fail;
		}
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
		req.nonce = nonce;
	}
	if (req.timestamp == 0)
		req.timestamp = (long long)time(NULL);
	if ((base = oauth1_base_string(c, &req, err, errlen)) == NULL ||
	    (sig = oauth1_signature(c, base, err, errlen)) == NULL)
		goto fail;
	snprintf(ts, sizeof(ts), "%lld", req.timestamp);
	sbuf_str(&h, "OAuth ");
	header_pair(&h, "oauth_consumer_key", c->consumer_key, 1);
	header_pair(&h, "oauth_nonce", req.nonce, 0);
	header_pair(&h, "oauth_signature", sig, 0);
	header_pair(&h, "oauth_signature_method", "HMAC-SHA1", 0);
	header_pair(&h, "oauth_timestamp", ts, 0);
	if (c->token != NULL)
		header_pair(&h, "oauth_token", c->token, 0);
	header_pair(&h, "oauth_version", "1.0", 0);
	if ((out = buf_take(&h)) == NULL)
		util_seterr(err, errlen, "out of memory");
	h.p = NULL;
fail:
	free(h.p);
	free(base);
	free(sig);
	return (out);
}
