/* Runs the official Mustache spec files given as arguments against template.c. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/template.h"

/* Returns a copy of partial NAME from the test's "partials" object ARG. */
static char *
spec_partial(void *arg, const char *name, size_t *len)
{
	json_t	*v;
	char	*s;

	if (arg == NULL || (v = json_object_get(arg, name)) == NULL ||
	    !json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	if ((s = malloc(*len + 1)) == NULL)
		return NULL;
	memcpy(s, json_string_value(v), *len + 1);
	return s;
}

/* Runs one test object T of FILE; 1 if it passed. */
static int
run_test(const char *file, json_t *t)
{
	struct tmpl_opts	 o;
	struct tmpl		*tp = NULL;
	json_t			*tpl, *exp;
	const char		*name;
	char			*out = NULL, err[512];
	int			 ok = 0;

	name = json_string_value(json_object_get(t, "name"));
	tpl = json_object_get(t, "template");
	exp = json_object_get(t, "expected");
	if (name == NULL || !json_is_string(tpl) || !json_is_string(exp)) {
		printf("FAIL %s: %s\n  malformed test\n", file,
		    name != NULL ? name : "(unnamed)");
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.html_escape = true;
	o.partial = spec_partial;
	o.partial_arg = json_object_get(t, "partials");
	err[0] = '\0';
	if ((tp = tmpl_compile(json_string_value(tpl), json_string_length(tpl),
	    err, sizeof(err))) == NULL ||
	    tmpl_render(tp, json_object_get(t, "data"), &o, &out, err,
	    sizeof(err)) == -1) {
		printf("FAIL %s: %s\n  error: %s\n", file, name, err);
		goto done;
	}
	if (strlen(out) != json_string_length(exp) ||
	    strcmp(out, json_string_value(exp)) != 0) {
		printf("FAIL %s: %s\n  expected: \"%s\"\n  got:      \"%s\"\n",
		    file, name, json_string_value(exp), out);
		goto done;
	}
	ok = 1;
 done:
	free(out);
	tmpl_free(tp);
	return ok;
}

int
main(int argc, char *argv[])
{
	json_t		*root, *tests, *t;
	json_error_t	 jerr;
	size_t		 i;
	int		 a, passed = 0, failed = 0, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: mustache-spec file.json ...\n");
		return 2;
	}
	for (a = 1; a < argc; a++) {
		if ((root = json_load_file(argv[a], 0, &jerr)) == NULL) {
			printf("FAIL %s: cannot read: %s (line %d)\n", argv[a],
			    jerr.text, jerr.line);
			bad = 1;
			continue;
		}
		tests = json_object_get(root, "tests");
		if (!json_is_array(tests)) {
			printf("FAIL %s: no \"tests\" list\n", argv[a]);
			bad = 1;
		}
		json_array_foreach(tests, i, t) {
			if (run_test(argv[a], t))
				passed++;
			else
				failed++;
		}
		json_decref(root);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0 || bad ? 1 : 0;
}
