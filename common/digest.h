/* SHA-256 for identifiers and fingerprints, without OpenSSL's start-up. */
#ifndef CRIER_DIGEST_H
#define CRIER_DIGEST_H

#include <stddef.h>
#include <nettle/sha2.h>

#define DIGEST_LEN	SHA256_DIGEST_SIZE	/* bytes of a SHA-256 */

/*
 * nettle's SHA-256: OpenSSL 3 sets up its providers, configuration and
 * method stores (about 2 MiB) on the first EVP digest, which every
 * calendar load needs for delivery ids; with nettle that set-up waits
 * until TLS, an HMAC or random bytes are first needed.
 */
struct digest {
	struct sha256_ctx	 ctx;
};

/* Starts a SHA-256 in D. */
void	digest_start(struct digest *d);
/* Adds LEN bytes at P to D. */
void	digest_add(struct digest *d, const void *p, size_t len);
/* Puts D's SHA-256 in MD; D must be started again before reuse. */
void	digest_end(struct digest *d, unsigned char md[DIGEST_LEN]);
/* Puts the SHA-256 of LEN bytes at P in MD. */
void	digest_sha256(const void *p, size_t len, unsigned char md[DIGEST_LEN]);

#endif
