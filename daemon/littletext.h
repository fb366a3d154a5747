/* LinkedIn "little" text: commentary escaped so LinkedIn shows it as written. */
#ifndef CRIER_LITTLETEXT_H
#define CRIER_LITTLETEXT_H

#include <stddef.h>

#define LITTLETEXT_MAX		(64 * 1024)	/* input bytes accepted */
#define LITTLETEXT_HASHTAGS	0x01	/* #tag becomes {hashtag|#|tag} */

/*
 * Escapes TEXT (LEN bytes of UTF-8) for the commentary of a LinkedIn post:
 * every reserved character \ | { } @ [ ] ( ) < > # * _ ~ gets a backslash,
 * so mentions and parentheses stay plain text and nothing is cut.  With
 * LITTLETEXT_HASHTAGS, a #word (or ＃word) that starts a word and is made of
 * letters, marks and digits (not digits alone) becomes the documented
 * HashtagTemplate instead.  Returns a malloc'd string, or NULL with a
 * reason naming the byte offset in ERR (ERRLEN bytes).
 */
char	*littletext_escape(const char *text, size_t len, int flags, char *err,
	    size_t errlen);
/*
 * What LinkedIn shows for the little text LT (LEN bytes): escapes undone,
 * hashtag templates as #tag, mentions as their names.  Returns a malloc'd
 * string, or NULL with ERR naming the byte where LinkedIn would cut it.
 */
char	*littletext_shown(const char *lt, size_t len, char *err, size_t errlen);

#endif
