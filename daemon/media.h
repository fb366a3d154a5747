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
	char	*type;		/* local: by content; remote: FMTTYPE, may be NULL */
	char	*alt;		/* may be NULL */
	char	*path;		/* the local file; NULL: remote (http, https) */
	char	*data;		/* the local file's bytes; NULL: remote */
	size_t	 len;
};

struct config;

/* Sets the media policy from C: media_dirs, state dir, secret files. CREATE makes the default dir. */
int		 media_setup(const struct config *c, bool create, char *err,
		    size_t errlen);
void		 media_shutdown(void);
/* The MIME type of content B (N bytes) by its magic bytes, or NULL. */
const char	*media_sniff(const unsigned char *b, size_t n);
/*
 * The type of content DATA by its bytes into *TYPE; -1 with ERR when
 * unknown, when FMTTYPE (may be NULL) says otherwise, or when R (may be
 * NULL) takes images only and it is none.
 */
int		 media_content_type(const char *data, size_t len,
		    const char *fmttype, const struct media_rules *r,
		    const char **type, char *err, size_t errlen);
char		*media_local_path(const char *uri);
const char	*media_guess_type(const char *name);
char		*media_file_name(const char *s);
/* Checks local media PATH: confined, regular, not a secret, within R's cap, typed by content. */
int		 media_check(const char *path, const char *fmttype,
		    const struct media_rules *r, char *err, size_t errlen);
struct cal_attach;
/*
 * Checks the N attachments A of an occurrence as a channel with rules R
 * (NULL: one that takes none, so only where they come from) would take
 * them: -1 with ERR and *LINE the line of the one refused.
 */
int		 media_check_attachments(const struct cal_attach *a, size_t n,
		    const struct media_rules *r, int *line, char *err,
		    size_t errlen);
int		 media_read(const char *path, const struct media_rules *r,
		    char **data, size_t *len, char *err, size_t errlen);
int		 media_parse(const char *json, const struct media_rules *r,
		    struct media **list, size_t *n, char *err, size_t errlen);
int		 media_load(const char *id, const struct media_rules *r,
		    struct media **list, size_t *n, char *err, size_t errlen);
void		 media_free(struct media *list, size_t n);

#endif
