/* Mustache templates: compile once, render many (SPEC §5). */
#ifndef CRIER_TEMPLATE_H
#define CRIER_TEMPLATE_H

#include <stddef.h>
#include <stdbool.h>
#include <jansson.h>

#define TMPL_MAX_DEPTH		16	/* partial nesting bound */
#define TMPL_MAX_SIZE		(256 * 1024)	/* largest template file read */

struct tmpl;		/* one compiled template */
struct tmpl_set;	/* every template of a directory */

/* Returns malloc'd template source for partial NAME (length in *len), or NULL if none. */
typedef char *(*tmpl_partial_fn)(void *arg, const char *name, size_t *len);

struct tmpl_opts {
	bool		 html_escape;	/* {{x}} escapes &<>" ; false: plain text */
	bool		 strict;	/* an unknown variable is an error */
	tmpl_partial_fn	 partial;	/* may be NULL: partials render empty */
	/* Compiled partials by name (a set), instead of partial; may be NULL. */
	const struct tmpl *(*find)(void *arg, const char *name);
	void		*partial_arg;	/* partial's or find's */
};

/* Compiles SRC; NULL with a message (naming line) in ERR on a syntax error. */
struct tmpl	*tmpl_compile(const char *src, size_t len, char *err, size_t errlen);
/* As tmpl_compile, LABEL (a file name) prefixing the messages' lines. */
struct tmpl	*tmpl_compile_labelled(const char *src, size_t len,
		    const char *label, char *err, size_t errlen);
/* T's next partial from op *I on (0 first), with its line; NULL at the end. */
const char	*tmpl_next_partial(const struct tmpl *t, size_t *i,
		    unsigned *line);
/* The label T was compiled with (tmpl_compile_labelled), or NULL. */
const char	*tmpl_label(const struct tmpl *t);
/* Renders T against CTX into a malloc'd string in *OUT; -1 with ERR on failure. */
int		 tmpl_render(const struct tmpl *t, json_t *ctx, const struct tmpl_opts *o,
		    char **out, char *err, size_t errlen);
void		 tmpl_free(struct tmpl *t);

/* Loads and compiles every *.mustache file in DIR; NULL with ERR naming the file. */
struct tmpl_set	*tmpl_set_load(const char *dir, char *err, size_t errlen);
/* True if a template NAME exists for channel type TYPE (any variant or email part). */
bool		 tmpl_set_has(const struct tmpl_set *s, const char *name, const char *type);
/*
 * Renders template NAME for channel type TYPE. PART is NULL for a post, or
 * "subject", "txt", "html" for email. Lookup: NAME.<type>.mustache, then
 * NAME.mustache (for email parts: NAME.<part>.mustache). HTML escaping only
 * for the html part. Partials come from the same set, depth-bounded.
 */
int		 tmpl_set_render(const struct tmpl_set *s, const char *name,
		    const char *type, const char *part, json_t *ctx, bool strict,
		    char **out, char *err, size_t errlen);
/* Puts the SHA-256 of S's names and texts in MD (32 bytes; zeros for no set). */
void		 tmpl_set_digest(const struct tmpl_set *s, unsigned char md[32]);
/* Another reference to S (NULL stays NULL), dropped with tmpl_set_free. */
struct tmpl_set	*tmpl_set_ref(const struct tmpl_set *s);
/* Drops a reference to S; the last frees it. */
void		 tmpl_set_free(struct tmpl_set *s);

#endif
