/* A newsletter's recipients file: CSV "email,name", checked line by line. */
#ifndef CRIER_RECIPIENTS_H
#define CRIER_RECIPIENTS_H

#include <stddef.h>

#define RECIPIENTS_MAX_FILE	(64 * 1024 * 1024)
#define RECIPIENTS_MAX_NAME	256

struct rcpt {
	char	*email;		/* as written */
	char	*key;		/* lower-cased: what duplicates and suppressions compare */
	char	*name;		/* "" if none */
	int	 line;
};

struct rcpt_list {
	struct rcpt	*v;
	size_t		 n;
	char		**problems;	/* "FILE:LINE: what", one per bad line */
	size_t		 nproblems;
};

/*
 * Parses the LEN bytes at BUF (named FILE in messages) into OUT (zeroed
 * first). Good lines are kept, bad ones (an address that is not one, a
 * duplicate, a bad name) become problems with their line numbers. An
 * optional first line "email,name", blank lines and '#' comments are skipped.
 */
void	 recipients_parse(const char *buf, size_t len, const char *file,
	    struct rcpt_list *out);
/* Reads and parses PATH into OUT; -1 with ERR if it cannot be read. */
int	 recipients_load(const char *path, struct rcpt_list *out, char *err,
	    size_t errlen);
void	 recipients_list_free(struct rcpt_list *l);
/* A malloc'd lower-case copy of EMAIL. */
char	*recipients_key(const char *email);

#endif
