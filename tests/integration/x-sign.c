/*
 * Test helper: signs one request with oauth1.c and prints the Authorization
 * header (and, with X_SIGN_NONCE and X_SIGN_TS set, the signature base
 * string on a second line), so x-oauth1.sh can send it to x_mock.py.
 * Usage: x-sign CREDS_FILE METHOD URL [FORM_BODY]; CREDS_FILE holds the
 * lines consumer_key=, consumer_secret=, access_token=, access_token_secret=.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/oauth1.h"

/* Reads the four credential lines of PATH into C (strings in BUF). */
static int
read_creds(const char *path, struct oauth1_creds *c, char *buf, size_t len)
{
	FILE	*f;
	char	*line, *eq, *save = NULL;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	memset(c, 0, sizeof(*c));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "consumer_key") == 0)
			c->consumer_key = eq;
		else if (strcmp(line, "consumer_secret") == 0)
			c->consumer_secret = eq;
		else if (strcmp(line, "access_token") == 0)
			c->token = eq;
		else if (strcmp(line, "access_token_secret") == 0)
			c->token_secret = eq;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct oauth1_creds	 c;
	struct oauth1_req	 r;
	char			 buf[8192], err[256], *h, *base = NULL;
	const char		*ts;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: x-sign creds method url [form]\n");
		return 2;
	}
	if (read_creds(argv[1], &c, buf, sizeof(buf)) == -1) {
		perror(argv[1]);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	r.method = argv[2];
	r.url = argv[3];
	r.form = argc == 5 ? argv[4] : NULL;
	r.nonce = getenv("X_SIGN_NONCE");
	if ((ts = getenv("X_SIGN_TS")) != NULL)
		r.timestamp = strtoll(ts, NULL, 10);
	if ((h = oauth1_header(&c, &r, err, sizeof(err))) == NULL) {
		fprintf(stderr, "x-sign: %s\n", err);
		return 1;
	}
	printf("%s\n", h);
	if (r.nonce != NULL && r.timestamp > 0) {
		if ((base = oauth1_base_string(&c, &r, err, sizeof(err))) == NULL) {
			fprintf(stderr, "x-sign: %s\n", err);
			free(h);
			return 1;
		}
		printf("%s\n", base);
	}
	free(h);
	free(base);
	return 0;
}
