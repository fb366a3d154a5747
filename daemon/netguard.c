/*
 * Network confinement for calendar-caused fetches. Anyone who can edit a
 * shared calendar chooses the links and media URLs in it, so crierd must
 * not become their way into the machine's own network: only public
 * addresses are reached, judged on the address actually connected to
 * (http.c asks here from curl's open-socket callback), unless the
 * operator's fetch_allow names the host or a CIDR holding the address.
 */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "netguard.h"
#include "../common/util.h"

#define MAX_ALLOW	256	/* entries in fetch_allow */

struct allow {
	char		*host;		/* a host name, lower case; NULL: a CIDR */
	int		 family;
	unsigned char	 addr[16];
	int		 bits;
};

static struct allow	*ng_allow;
static size_t		 ng_nallow;

/* A range of addresses and the word for it. */
struct range {
	const char	*net;
	int		 bits;
	const char	*what;
};

static const struct range ranges4[] = {
	{ "0.0.0.0", 8, "an unspecified (\"this network\") address" },
	{ "10.0.0.0", 8, "a private (RFC 1918) address" },
	{ "100.64.0.0", 10, "a carrier-grade NAT (RFC 6598) address" },
	{ "127.0.0.0", 8, "a loopback address" },
	{ "169.254.0.0", 16, "a link-local address" },
	{ "172.16.0.0", 12, "a private (RFC 1918) address" },
	{ "192.0.0.0", 24, "an IETF protocol assignment address" },
	{ "192.0.2.0", 24, "a documentation address" },
	{ "192.88.99.0", 24, "a 6to4 relay address" },
	{ "192.168.0.0", 16, "a private (RFC 1918) address" },
	{ "198.18.0.0", 15, "a benchmarking address" },
	{ "198.51.100.0", 24, "a documentation address" },
	{ "203.0.113.0", 24, "a documentation address" },
	{ "224.0.0.0", 4, "a multicast address" },
	{ "240.0.0.0", 4, "a reserved address" },
};

static const struct range ranges6[] = {
	{ "::", 128, "an unspecified address" },
	{ "::1", 128, "a loopback address" },
	{ "64:ff9b:1::", 48, "a local-use NAT64 address" },
	{ "100::", 64, "a discard-only address" },
	{ "2001::", 23, "an IETF protocol assignment address" },
	{ "2001:db8::", 32, "a documentation address" },
	{ "fc00::", 7, "a unique local (private) address" },
	{ "fe80::", 10, "a link-local address" },
	{ "fec0::", 10, "a site-local address" },
	{ "ff00::", 8, "a multicast address" },
};

/* Whether the first BITS bits of A and B agree. */
static bool
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int	 full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

/* Why IPv4 address A (4 bytes) is not public, or NULL if it is. */
static const char *
v4_why(const unsigned char *a)
{
	unsigned char	 net[4];
	size_t		 i;

	for (i = 0; i < sizeof(ranges4) / sizeof(ranges4[0]); i++) {
		inet_pton(AF_INET, ranges4[i].net, net);
		if (prefix_eq(a, net, ranges4[i].bits))
			return ranges4[i].what;
	}
	return NULL;
}

/* Why IPv6 address A (16 bytes) is not public, or NULL if it is. */
static const char *
v6_why(const unsigned char *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	static const unsigned char compat[12] = { 0 };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };
	unsigned char	 net[16];
	const char	*w;
	size_t		 i;

	/* IPv4 inside IPv6 is judged as the IPv4 address it carries. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 ||
	    (memcmp(a, compat, 12) == 0 && (a[12] | a[13]) != 0))
		return v4_why(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02) {	/* 6to4 2002:V4ADDR::/48 */
		if ((w = v4_why(a + 2)) != NULL)
			return w;
	}
	for (i = 0; i < sizeof(ranges6) / sizeof(ranges6[0]); i++) {
		inet_pton(AF_INET6, ranges6[i].net, net);
		if (prefix_eq(a, net, ranges6[i].bits))
			return ranges6[i].what;
	}
	return NULL;
}

/* Parses one fetch_allow entry S (LEN bytes) into A; -1 with ERR. */
static int
parse_entry(const char *s, size_t len, struct allow *a, char *err, size_t errlen)
{
	char		 buf[300], *slash, *end;
	long		 bits;
	size_t		 i;

	memset(a, 0, sizeof(*a));
	if (len >= sizeof(buf)) {
		snprintf(err, errlen, "fetch_allow: entry '%.40s...' is too long", s);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = AF_INET;
		a->bits = 32;
	} else if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		a->bits = 128;
	} else if (slash != NULL) {
		snprintf(err, errlen, "fetch_allow: '%s' is not a CIDR such as "
		    "10.0.0.0/8 or fd00::/8", s);
		return -1;
	} else {
		for (i = 0; buf[i] != '\0'; i++)
			if (!isalnum((unsigned char)buf[i]) && buf[i] != '-' &&
			    buf[i] != '.' && buf[i] != '_') {
				snprintf(err, errlen, "fetch_allow: '%s' is neither "
				    "a host name, an address nor a CIDR", buf);
				return -1;
			}
		for (i = 0; buf[i] != '\0'; i++)
			buf[i] = (char)tolower((unsigned char)buf[i]);
		if ((a->host = strdup(buf)) == NULL)
			abort();
		return 0;
	}
	if (slash != NULL) {
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || slash[1] == '\0' || bits < 0 ||
		    bits > a->bits) {
			snprintf(err, errlen, "fetch_allow: '%.*s': the prefix "
			    "length must be 0 to %d", (int)len, s, a->bits);
			return -1;
		}
		a->bits = (int)bits;
	}
	return 0;
}

/* Parses LIST into a malloc'd array (*OUT, *N); -1 with ERR. */
static int
parse_list(const char *list, struct allow **out, size_t *n, char *err,
    size_t errlen)
{
	struct allow	*v = NULL;
	size_t		 k = 0, len;
	const char	*p = list;
	char		 ent[4096];	/* a configuration line's length */

	*out = NULL;
	*n = 0;
	while ((len = util_list_next(&p, ", \t", ent, sizeof(ent))) > 0) {
		if (len >= sizeof(ent))
			len = sizeof(ent) - 1;
		if (k == MAX_ALLOW) {
			snprintf(err, errlen, "fetch_allow: more than %d entries",
			    MAX_ALLOW);
			goto fail;
		}
		v = xreallocarray(v, k + 1, sizeof(*v));
		if (parse_entry(ent, len, &v[k], err, errlen) == -1)
			goto fail;
		k++;
	}
	*out = v;
	*n = k;
	return 0;
fail:
	while (k > 0)
		free(v[--k].host);
	free(v);
	return -1;
}

int
netguard_parse(const char *list, char *err, size_t errlen)
{
	struct allow	*v;
	size_t		 n;

	if (parse_list(list, &v, &n, err, errlen) == -1)
		return -1;
	while (n > 0)
		free(v[--n].host);
	free(v);
	return 0;
}

int
netguard_set_allow(const char *list, char *err, size_t errlen)
{
	struct allow	*v = NULL;
	size_t		 n = 0;

	if (list != NULL && parse_list(list, &v, &n, err, errlen) == -1)
		return -1;
	netguard_shutdown();
	ng_allow = v;
	ng_nallow = n;
	return 0;
}

void
netguard_shutdown(void)
{
	while (ng_nallow > 0)
		free(ng_allow[--ng_nallow].host);
	free(ng_allow);
	ng_allow = NULL;
}

/* Whether fetch_allow names HOST (exactly, or ".example.org" as a suffix). */
static bool
host_allowed(const char *host)
{
	size_t	 i, hl, al;

	if (host == NULL)
		return false;
	hl = strlen(host);
	for (i = 0; i < ng_nallow; i++) {
		if (ng_allow[i].host == NULL)
			continue;
		al = strlen(ng_allow[i].host);
		if (strcasecmp(ng_allow[i].host, host) == 0)
			return true;
		if (ng_allow[i].host[0] == '.' && hl > al &&
		    strcasecmp(host + hl - al, ng_allow[i].host) == 0)
			return true;
	}
	return false;
}

/* Whether a CIDR of fetch_allow holds address A of FAMILY. */
static bool
addr_allowed(int family, const unsigned char *a)
{
	size_t	 i;

	for (i = 0; i < ng_nallow; i++)
		if (ng_allow[i].host == NULL && ng_allow[i].family == family &&
		    prefix_eq(a, ng_allow[i].addr, ng_allow[i].bits))
			return true;
	return false;
}

bool
netguard_allowed(const char *host, const struct sockaddr *sa, char *why,
    size_t len)
{
	const unsigned char	*a;
	const char		*w;
	char			 txt[INET6_ADDRSTRLEN];
	int			 family = sa->sa_family;

	if (family == AF_INET)
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (family == AF_INET6)
		a = (const unsigned char *)
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else {
		snprintf(why, len, "not an internet address");
		return false;
	}
	w = family == AF_INET ? v4_why(a) : v6_why(a);
	if (w == NULL || host_allowed(host) || addr_allowed(family, a))
		return true;
	inet_ntop(family, a, txt, sizeof(txt));
	snprintf(why, len, "%s is %s; calendar-caused fetches reach public "
	    "addresses only (fetch_allow names exceptions)", txt, w);
	return false;
}

const char *
netguard_resolve_override(void)
{
	const char	*s = getenv("CRIER_RESOLVE");

	return s != NULL && *s != '\0' ? s : NULL;
}

/* The address the resolver override gives HOST:PORT, into SS; -1 if none. */
static int
override_addr(const char *host, long port, struct sockaddr_storage *ss)
{
	const char	*p = netguard_resolve_override();
	char		 ent[300], *c1, *c2;
	size_t		 n;

	while ((n = util_list_next(&p, ", ", ent, sizeof(ent))) > 0 &&
	    n < sizeof(ent)) {
		if ((c1 = strchr(ent, ':')) == NULL ||
		    (c2 = strchr(c1 + 1, ':')) == NULL)
			continue;
		*c1 = *c2 = '\0';
		if (strcasecmp(ent, host) != 0 || strtol(c1 + 1, NULL, 10) != port)
			continue;
		c2++;
		if (*c2 == '[') {
			c2++;
			c2[strcspn(c2, "]")] = '\0';
		}
		memset(ss, 0, sizeof(*ss));
		if (inet_pton(AF_INET, c2, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
			ss->ss_family = AF_INET;
			return 0;
		}
		if (inet_pton(AF_INET6, c2, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
			ss->ss_family = AF_INET6;
			return 0;
		}
	}
	return -1;
}

int
netguard_check_url(const char *url, char *why, size_t len)
{
	CURLU			*u;
	char			*scheme = NULL, *host = NULL, *port = NULL;
	struct sockaddr_storage	 ss;
	size_t			 hl;
	int			 rc = 0;

	if ((u = curl_url()) == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		snprintf(why, len, "%s is not a URL", url);
		rc = -1;
		goto done;
	}
	if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0) {
		snprintf(why, len, "%s: only http and https can be fetched", url);
		rc = -1;
		goto done;
	}
	memset(&ss, 0, sizeof(ss));
	hl = strlen(host);
	if (host[0] == '[' && hl > 2) {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
			ss.ss_family = AF_INET6;
		memmove(host, host + 1, hl - 1);
	} else if (inet_pton(AF_INET, host,
	    &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else
		override_addr(host, strtol(port, NULL, 10), &ss);
	if (ss.ss_family != 0 &&
	    !netguard_allowed(host, (struct sockaddr *)&ss, why, len))
		rc = -1;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}
