/*
 * Runs twitter-text's conformance cases (validate.yml, converted to JSON by
 * twitter-text.sh) against len_measure(LEN_X, ...): the weighted length and
 * the verdict of every case of the sections named on the command line.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/length.h"

/* Runs case T of SECTION; 1 if length and verdict are twitter-text's. */
static int
run_case(const char *section, json_t *t)
{
	struct len_result	 r;
	const char		*desc, *text;
	json_t			*exp, *wl, *valid;

	desc = json_string_value(json_object_get(t, "description"));
	text = json_string_value(json_object_get(t, "text"));
	exp = json_object_get(t, "expected");
	wl = json_object_get(exp, "weightedLength");
	valid = json_object_get(exp, "valid");
	if (desc == NULL || text == NULL || !json_is_integer(wl) ||
	    !json_is_boolean(valid)) {
		printf("FAIL %s: %s\n  malformed case\n", section,
		    desc != NULL ? desc : "(no description)");
		return 0;
	}
	if (strlen(text) != json_string_length(json_object_get(t, "text"))) {
		printf("FAIL %s: %s\n  text has a NUL byte\n", section, desc);
		return 0;
	}
	if (len_measure(LEN_X, text, 0, &r) != 0) {
		printf("FAIL %s: %s\n  len_measure failed\n", section, desc);
		return 0;
	}
	if ((json_int_t)r.length != json_integer_value(wl) ||
	    r.fits != json_is_true(valid) || r.limit != 280) {
		printf("FAIL %s: %s\n  weightedLength %lld, valid %s; got %zu,"
		    " %s (limit %zu)\n", section, desc,
		    (long long)json_integer_value(wl),
		    json_is_true(valid) ? "true" : "false", r.length,
		    r.fits ? "true" : "false", r.limit);
		return 0;
	}
	return 1;
}

int
main(int argc, char *argv[])
{
	json_t		*root, *tests, *sec, *t;
	json_error_t	 jerr;
	size_t		 i;
	int		 a, passed = 0, failed = 0, sp, sf, bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: twitter-text validate.json section...\n");
		return 2;
	}
	if ((root = json_load_file(argv[1], 0, &jerr)) == NULL) {
		printf("FAIL %s: cannot read: %s (line %d)\n", argv[1],
		    jerr.text, jerr.line);
		return 1;
	}
	tests = json_object_get(root, "tests");
	for (a = 2; a < argc; a++) {
		sec = json_object_get(tests, argv[a]);
		if (!json_is_array(sec) || json_array_size(sec) == 0) {
			printf("FAIL %s: no such section, or empty\n", argv[a]);
			bad = 1;
			continue;
		}
		sp = sf = 0;
		json_array_foreach(sec, i, t) {
			if (run_case(argv[a], t))
				sp++;
			else
				sf++;
		}
		printf("%s: %d of %zu cases pass\n", argv[a], sp,
		    json_array_size(sec));
		passed += sp;
		failed += sf;
	}
	json_decref(root);
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0 || bad ? 1 : 0;
}
