/* Writes the published-posts calendar of the posts in a JSON file: published-write POSTS.json OUT.ics. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/published.h"

/* The string member NAME of O, or NULL. */
static const char *
str(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

int
main(int argc, char *argv[])
{
	struct published_post	*v = NULL;
	json_t			*root, *o;
	json_error_t		 je;
	size_t			 i;
	char			 err[512];
	int			 rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: published-write POSTS.json OUT.ics\n");
		return 2;
	}
	if ((root = json_load_file(argv[1], 0, &je)) == NULL) {
		fprintf(stderr, "%s:%d: %s\n", argv[1], je.line, je.text);
		return 1;
	}
	if (!json_is_array(root) || (v = calloc(json_array_size(root) + 1,
	    sizeof(*v))) == NULL) {
		fprintf(stderr, "%s: not an array of posts\n", argv[1]);
		goto done;
	}
	json_array_foreach(root, i, o) {
		v[i].delivery_id = str(o, "delivery_id");
		v[i].channel = str(o, "channel");
		v[i].sent_at = json_integer_value(json_object_get(o, "sent_at"));
		v[i].text = str(o, "text");
		v[i].remote_url = str(o, "remote_url");
		v[i].calendar = str(o, "calendar");
		v[i].source_uid = str(o, "source_uid");
		v[i].summary = str(o, "summary");
	}
	if (published_write(argv[2], v, json_array_size(root),
	    "crier.example.org", "Published posts", err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		goto done;
	}
	rc = 0;
done:
	free(v);
	json_decref(root);
	return rc;
}
