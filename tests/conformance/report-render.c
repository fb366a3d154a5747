/* Renders the installed report template: report-render TEMPLATES_DIR CONTEXT.json html|txt, strictly (an unknown variable fails). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/template.h"

int
main(int argc, char *argv[])
{
	struct tmpl_set	*set = NULL;
	json_t		*ctx = NULL;
	json_error_t	 je;
	char		 err[1024], *out = NULL;
	int		 rc = 1;

	if (argc != 4 || (strcmp(argv[3], "html") != 0 &&
	    strcmp(argv[3], "txt") != 0)) {
		fprintf(stderr, "usage: report-render TEMPLATES_DIR "
		    "CONTEXT.json html|txt\n");
		return 2;
	}
	if ((ctx = json_load_file(argv[2], 0, &je)) == NULL) {
		fprintf(stderr, "%s:%d: %s\n", argv[2], je.line, je.text);
		return 1;
	}
	if ((set = tmpl_set_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		goto done;
	}
	if (tmpl_set_render(set, "report", NULL, argv[3], ctx, true, &out, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		goto done;
	}
	fputs(out, stdout);
	rc = fflush(stdout) == 0 ? 0 : 1;
done:
	free(out);
	tmpl_set_free(set);
	json_decref(ctx);
	return rc;
}
