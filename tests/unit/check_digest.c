/* Unit tests for common/digest.c: SHA-256 as FIPS 180-4 and OpenSSL give it. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/evp.h>

#include "common/digest.h"
#include "tests/unit/unit.h"

/* Puts MD as lowercase hex in HEX (2 * DIGEST_LEN + 1 bytes). */
static void
hex(const unsigned char *md, char *out)
{
	size_t	i;

	for (i = 0; i < DIGEST_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Checks the one-shot SHA-256 of S against WANT (hex). */
static void
expect(const char *s, const char *want)
{
	unsigned char	md[DIGEST_LEN];
	char		got[2 * DIGEST_LEN + 1];

	digest_sha256(s, strlen(s), md);
	hex(md, got);
	ck_assert_str_eq(got, want);
}

/* The test vectors of FIPS 180-4's examples (and the empty string). */
START_TEST(test_vectors)
{
	expect("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

/* Any split of the input gives OpenSSL's digest of the whole, at every length around the block size. */
START_TEST(test_same_as_openssl)
{
	unsigned char	buf[300], md[DIGEST_LEN], ref[EVP_MAX_MD_SIZE];
	unsigned int	reflen = 0;
	struct digest	d;
	size_t		len, cut, i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (len = 0; len <= sizeof(buf); len++) {
		ck_assert_int_eq(EVP_Digest(buf, len, ref, &reflen,
		    EVP_sha256(), NULL), 1);
		ck_assert_uint_eq(reflen, DIGEST_LEN);
		digest_sha256(buf, len, md);
		ck_assert_mem_eq(md, ref, DIGEST_LEN);
		for (cut = 0; cut <= len; cut += 1 + len / 7) {
			digest_start(&d);
			digest_add(&d, buf, cut);
			digest_add(&d, buf + cut, len - cut);
			digest_end(&d, md);
			ck_assert_mem_eq(md, ref, DIGEST_LEN);
		}
	}
}
END_TEST

/* The test suite. */
static Suite *
digest_suite(void)
{
	Suite	*s = suite_create("digest");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_same_as_openssl);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (unit_run(digest_suite(), 0));
}
