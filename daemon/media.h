/* Attachments of a delivery: local paths, capped file reads, MIME types. */
#ifndef CRIER_MEDIA_H
#define CRIER_MEDIA_H

#include <stdbool.h>
#include <stddef.h>

/* A channel's limits on attachments, and the words of its messages. */
struct media_rules {
	size_t		 max_items;	/* attachments per post */
	const char	*items;		/* "more than N <items>" */
	size_t		 max_bytes;	/* per local file */
	const char	*too_big;	/* why a file over max_bytes is refused */
	const char	*what;		/* prefix of file errors: "media", "image" */
	bool		 images_only;	/* refuse attachments not image/ */
};

/* One attachment of a delivery. */
struct media {
	char	*uri;
	char	*type;		/* FMTTYPE as given, may be NULL */
	char	*alt;		/* may be NULL */
	char	*path;		/* the local file; NULL: remote (http, https) */
	char	*data;		/* the local file's bytes; NULL: remote */
	size_t	 len;
};

char		*media_local_path(const char *uri);
const char	*media_guess_type(const char *name);
char		*media_file_name(const char *s);
int		 media_check(const char *path, const struct media_rules *r,
		    char *err, size_t errlen);
int		 media_read(const char *path, const struct media_rules *r,
		    char **data, size_t *len, char *err, size_t errlen);
int		 media_parse(const char *json, const struct media_rules *r,
		    struct media **list, size_t *n, char *err, size_t errlen);
int		 media_load(const char *id, const struct media_rules *r,
		    struct media **list, size_t *n, char *err, size_t errlen);
void		 media_free(struct media *list, size_t n);

#endif
