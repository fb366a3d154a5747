/*
 * floor: the lateness floor crier is compared with in tests/bench/peers.sh.
 * It sleeps with clock_nanosleep(TIMER_ABSTIME) until each due time and
 * POSTs a JSON body naming that time with libcurl, nothing else: what any
 * scheduler on this machine must at least pay.
 *
 *   floor URL N FIRST_DUE_EPOCH_S INTERVAL_S
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

/* Discards a response body. */
static size_t
discard(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return (sz * n);
}

/* Sleeps until the wall-clock second DUE. */
static void
sleep_until(time_t due)
{
	struct timespec	ts = { due, 0 };

	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Sends N requests, each at its due second. */
int
main(int argc, char *argv[])
{
	struct curl_slist	*hdr = NULL;
	CURL			*h;
	CURLcode		 rc;
	char			 body[256], iso[32];
	long			 n, i, interval, code;
	time_t			 first, due;
	int			 failed = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: floor URL N FIRST_DUE_EPOCH_S INTERVAL_S\n");
		return (2);
	}
	n = atol(argv[2]);
	first = (time_t)atoll(argv[3]);
	interval = atol(argv[4]);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (h = curl_easy_init()) == NULL) {
		fprintf(stderr, "floor: libcurl did not start\n");
		return (1);
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, argv[1]);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	for (i = 0; i < n; i++) {
		due = first + i * interval;
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime(&due));
		snprintf(body, sizeof(body),
		    "{\"id\":\"floor-%ld\",\"due\":\"%s\",\"text\":\"floor\"}",
		    i, iso);
		curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
		sleep_until(due);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (rc != CURLE_OK || code / 100 != 2) {
			fprintf(stderr, "floor: %s: %s (HTTP %ld)\n", argv[1],
			    curl_easy_strerror(rc), code);
			failed++;
		}
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return (failed ? 1 : 0);
}
