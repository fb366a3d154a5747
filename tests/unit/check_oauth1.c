/*
 * Unit tests for oauth1.c against published values:
 *  - X's "Creating a signature" page,
 *    https://docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature
 *    (the request is a POST to https://api.x.com/1.1/statuses/update.json;
 *    the page publishes the signature base string below and the signature
 *    Ls93hJiZbQ3akF3HF3x1Bz8/zU4=), and its earlier edition at
 *    https://developer.twitter.com/en/docs/authentication/oauth-1-0a/creating-a-signature
 *    (the same request to api.twitter.com, signature hCtSmYh+iHYCEqBWrE7C7hYmtUk=);
 *  - X's "Percent encoding parameters" page,
 *    https://docs.x.com/fundamentals/authentication/oauth-1-0a/percent-encoding-parameters;
 *  - RFC 5849 section 3.4.1.1 (query and form parameters, '+', duplicates).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "daemon/oauth1.h"
#include "tests/unit/unit.h"

/* The credentials of X's example (marked invalid for real requests there). */
static const struct oauth1_creds x_creds = {
	"xvz1evFS4wEEPTGEFPHBog",
	"kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
	"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
	"LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
};

#define X_NONCE		"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
#define X_TIMESTAMP	1318622958
/* The body as the page's raw request sends it. */
#define X_FORM		"status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20" \
			"signed%20OAuth%20request%21"

/* Quoted from the page ("Creating the signature base string"). */
#define X_BASE_XCOM \
	"POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&" \
	"include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog" \
	"%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26" \
	"oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26" \
	"oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26" \
	"oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520" \
	"Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"

/* Quoted from the page's earlier edition (api.twitter.com). */
#define X_BASE_TWITTER \
	"POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&" \
	"include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog" \
	"%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26" \
	"oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26" \
	"oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26" \
	"oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520" \
	"Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"

/* The request of X's example, to URL. */
static struct oauth1_req
x_req(const char *url)
{
	struct oauth1_req	r;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = url;
	r.form = X_FORM;
	r.nonce = X_NONCE;
	r.timestamp = X_TIMESTAMP;
	return (r);
}

/* The examples table of "Percent encoding parameters". */
START_TEST(test_encode)
{
	static const char *const cases[][2] = {
		{ "Ladies + Gentlemen", "Ladies%20%2B%20Gentlemen" },
		{ "An encoded string!", "An%20encoded%20string%21" },
		{ "Dogs, Cats & Mice", "Dogs%2C%20Cats%20%26%20Mice" },
		{ "\xe2\x98\x83", "%E2%98%83" },
		/* Unreserved characters stay; everything else is escaped. */
		{ "AZaz09-._~", "AZaz09-._~" },
		{ "/?#[]@!$'()*+,;=%", "%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2B"
		    "%2C%3B%3D%25" },
	};
	size_t	 i;
	char	*s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = oauth1_encode(cases[i][0], strlen(cases[i][0]));
		ck_assert_str_eq(s, cases[i][1]);
		free(s);
	}
	s = oauth1_encode("a\0b", 3);
	ck_assert_str_eq(s, "a%00b");
	free(s);
}
END_TEST

/* The page's signature base string, byte for byte, and its published signature. */
START_TEST(test_x_example)
{
	struct oauth1_req	 r;
	char			 err[256], *base, *sig;

	r = x_req("https://api.x.com/1.1/statuses/update.json"
	    "?include_entities=true");
	base = oauth1_base_string(&x_creds, &r, err, sizeof(err));
	ck_assert_msg(base != NULL, "%s", err);
	ck_assert_str_eq(base, X_BASE_XCOM);
	/* "Exactly 2 ampersand characters". */
	ck_assert_ptr_nonnull(strchr(strchr(base, '&') + 1, '&'));
	ck_assert_ptr_null(strchr(strchr(strchr(base, '&') + 1, '&') + 1, '&'));
	sig = oauth1_signature(&x_creds, base, err, sizeof(err));
	ck_assert_msg(sig != NULL, "%s", err);
	ck_assert_str_eq(sig, "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=");
	free(base);
	free(sig);

	/* The page's earlier edition: the same request to api.twitter.com. */
	r = x_req("https://api.twitter.com/1.1/statuses/update.json"
	    "?include_entities=true");
	base = oauth1_base_string(&x_creds, &r, err, sizeof(err));
	ck_assert_msg(base != NULL, "%s", err);
	ck_assert_str_eq(base, X_BASE_TWITTER);
	sig = oauth1_signature(&x_creds, base, err, sizeof(err));
	ck_assert_str_eq(sig, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
	free(base);
	free(sig);
}
END_TEST

/* The header as "Authorizing a request" builds it: sorted, quoted, encoded, ", " between. */
START_TEST(test_x_header)
{
	struct oauth1_req	 r;
	char			 err[256], *h;

	r = x_req("https://api.x.com/1.1/statuses/update.json"
	    "?include_entities=true");
	h = oauth1_header(&x_creds, &r, err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	ck_assert_str_eq(h, "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", "
	    "oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", "
	    "oauth_signature=\"Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D\", "
	    "oauth_signature_method=\"HMAC-SHA1\", "
	    "oauth_timestamp=\"1318622958\", "
	    "oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", "
	    "oauth_version=\"1.0\"");
	free(h);
}
END_TEST

/* RFC 5849 3.4.1.1: query and form pairs decoded ('+' too), re-encoded, sorted by name then value. */
START_TEST(test_rfc5849_base_string)
{
	struct oauth1_creds	 c = { "9djdj82h48djs9d2", "j49sk3j29djd",
				    "kkk9d7dh3k39sjv7", "dh893hdasih9" };
	struct oauth1_req	 r;
	char			 err[256], *base;

	memset(&r, 0, sizeof(r));
	r.method = "post";
	r.url = "http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b";
	r.form = "c2&a3=2+q";
	r.nonce = "7d8f3e4a";
	r.timestamp = 137131201;
	base = oauth1_base_string(&c, &r, err, sizeof(err));
	ck_assert_msg(base != NULL, "%s", err);
	/* The RFC's string, plus the oauth_version X's requests carry. */
	ck_assert_str_eq(base, "POST&http%3A%2F%2Fexample.com%2Frequest&"
	    "a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26"
	    "c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26"
	    "oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26"
	    "oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
	    "%26oauth_version%3D1.0");
	free(base);
}
END_TEST

/* The base string URI: default ports dropped, others kept, no fragment, "/" for an empty path. */
START_TEST(test_base_uri)
{
	static const char *const cases[][2] = {
		{ "https://API.X.com:443/2/tweets", "https%3A%2F%2Fapi.x.com%2F2%2Ftweets&" },
		{ "http://127.0.0.1:8080/2/tweets?a=1#frag",
		    "http%3A%2F%2F127.0.0.1%3A8080%2F2%2Ftweets&a%3D1%26" },
		{ "https://api.x.com:80/x", "https%3A%2F%2Fapi.x.com%3A80%2Fx&" },
		{ "http://[::1]:8443/x", "http%3A%2F%2F%5B%3A%3A1%5D%3A8443%2Fx&" },
		{ "https://api.x.com", "https%3A%2F%2Fapi.x.com%2F&" },
	};
	struct oauth1_req	 r;
	char			 err[256], *base, *want;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.method = "GET";
		r.url = cases[i][0];
		r.nonce = "n";
		r.timestamp = 1;
		base = oauth1_base_string(&x_creds, &r, err, sizeof(err));
		ck_assert_msg(base != NULL, "%s: %s", cases[i][0], err);
		ck_assert_int_gt(asprintf(&want, "GET&%s", cases[i][1]), 0);
		ck_assert_msg(strncmp(base, want, strlen(want)) == 0,
		    "%s: %s", cases[i][0], base);
		free(want);
		free(base);
	}
}
END_TEST

/* Without a nonce and a timestamp: a fresh random nonce and the current time. */
START_TEST(test_fresh_nonce)
{
	struct oauth1_req	 r;
	char			 err[256], *a, *b, *p;
	long long		 ts;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = "https://api.x.com/2/tweets";
	a = oauth1_header(&x_creds, &r, err, sizeof(err));
	b = oauth1_header(&x_creds, &r, err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_ne(a, b);
	p = strstr(a, "oauth_nonce=\"");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(strspn(p + 13, "0123456789abcdef"), 32);
	ck_assert_int_eq(p[13 + 32], '"');
	p = strstr(a, "oauth_timestamp=\"");
	ck_assert_ptr_nonnull(p);
	ts = strtoll(p + 17, NULL, 10);
	ck_assert(ts >= (long long)time(NULL) - 60 &&
	    ts <= (long long)time(NULL) + 1);
	free(a);
	free(b);
}
END_TEST

/* The request-token step: no token, signing key "secret&". */
START_TEST(test_no_token)
{
	struct oauth1_creds	 c = { "key", "sec ret", NULL, NULL };
	struct oauth1_req	 r;
	char			 err[256], *h, *sig;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = "https://api.x.com/oauth/request_token";
	r.nonce = "abc";
	r.timestamp = 1700000000;
	h = oauth1_header(&c, &r, err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	ck_assert_ptr_null(strstr(h, "oauth_token"));
	/* printf %s 'x' | openssl dgst -sha1 -hmac 'sec%20ret&' -binary | base64 */
	sig = oauth1_signature(&c, "x", err, sizeof(err));
	ck_assert_str_eq(sig, "Xscy0/9Yfen0lxL4LVrqEpNKHjY=");
	free(sig);
	free(h);
}
END_TEST

/* Bad input fails with an error naming the part, never showing a secret. */
START_TEST(test_errors)
{
	struct oauth1_creds	 c = x_creds;
	struct oauth1_req	 r;
	char			 err[256], *big, *s;

	r = x_req("https://api.x.com/2/tweets?a=%zz");
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "URL query"));
	r = x_req("https://api.x.com/2/tweets");
	r.form = "status=%4";
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "form body"));
	r.form = NULL;
	r.url = "api.x.com/2/tweets";
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "scheme"));
	r.url = "https://user:pw@api.x.com/2/tweets";
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "credentials"));
	r.url = "https://api.x.com/2/tweets";
	r.method = "PO ST";
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "method"));
	r.method = "POST";
	r.nonce = NULL;
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "nonce"));
	r.nonce = X_NONCE;
	c.consumer_secret = NULL;
	ck_assert_ptr_null(oauth1_header(&c, &r, err, sizeof(err)));
	ck_assert_str_eq(err, "consumer_secret is missing");

	/* Oversized inputs: the limits hold, the secret is not echoed. */
	big = malloc(OAUTH1_MAX_FORM + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'S', OAUTH1_MAX_FORM + 1);
	big[OAUTH1_MAX_FORM + 1] = '\0';
	c = x_creds;
	big[OAUTH1_MAX_SECRET + 1] = '\0';
	c.token_secret = big;
	ck_assert_ptr_null(oauth1_header(&c, &r, err, sizeof(err)));
	ck_assert_str_eq(err, "token_secret is longer than 1024 bytes");
	ck_assert_ptr_null(strstr(err, "SSSS"));
	c = x_creds;
	big[OAUTH1_MAX_SECRET + 1] = 'S';
	r.form = big;
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "form body is longer"));
	r.form = NULL;
	big[OAUTH1_MAX_URL + 1] = '\0';
	memcpy(big, "https://", 8);
	r.url = big;
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "URL"));
	free(big);

	/* More pairs than OAUTH1_MAX_PARAMS. */
	s = malloc(OAUTH1_MAX_PARAMS * 4 + 1);
	ck_assert_ptr_nonnull(s);
	s[0] = '\0';
	for (int i = 0; i < OAUTH1_MAX_PARAMS; i++)
		strcat(s, "a=1&");
	r.url = "https://api.x.com/2/tweets";
	r.form = s;
	ck_assert_ptr_null(oauth1_base_string(&c, &r, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "parameters"));
	free(s);
}
END_TEST

/* The test suite. */
static Suite *
oauth1_suite(void)
{
	Suite	*s = suite_create("oauth1");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_x_example);
	tcase_add_test(tc, test_x_header);
	tcase_add_test(tc, test_rfc5849_base_string);
	tcase_add_test(tc, test_base_uri);
	tcase_add_test(tc, test_fresh_nonce);
	tcase_add_test(tc, test_no_token);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(oauth1_suite(), 0));
}
