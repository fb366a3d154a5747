/* SHA-256 with nettle (see digest.h for why not OpenSSL's EVP). */
#include <config.h>

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#include "digest.h"

/* Starts a SHA-256 in D. */
void
digest_start(struct digest *d)
{
	sha256_init(&d->ctx);
}

/* Adds LEN bytes at P to D. */
void
digest_add(struct digest *d, const void *p, size_t len)
{
	sha256_update(&d->ctx, len, (const uint8_t *)p);
}

/* Puts D's SHA-256 in MD. */
void
digest_end(struct digest *d, unsigned char md[DIGEST_LEN])
{
	sha256_digest(&d->ctx, DIGEST_LEN, md);
}

/* Puts the SHA-256 of LEN bytes at P in MD. */
void
digest_sha256(const void *p, size_t len, unsigned char md[DIGEST_LEN])
{
	struct digest	d;

	digest_start(&d);
	digest_add(&d, p, len);
	digest_end(&d, md);
}
