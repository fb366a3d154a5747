/*
 * crierctl's printers for the verbs that look back: report (to the
 * terminal, or to a file written atomically), published and stats.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "print.h"

char	*print_html;

/* A JSON integer field K of O. */
static long long
ival(json_t *o, const char *k)
{
	return ((long long)json_integer_value(json_object_get(o, k)));
}

/* Engagement after PREFIX: "12 likes, 3 reposts, 1 replies after 24 h". */
void
print_engagement(json_t *e, const char *prefix)
{
	if (!json_is_object(e))
		return;
	printf("%s%lld likes, %lld reposts, %lld replies after %s", prefix,
	    ival(e, "likes"), ival(e, "reposts"), ival(e, "replies"),
	    print_field(e, "as_of"));
}

/* Writes LEN bytes of S to PATH atomically: a temporary file beside it, fsync'd, renamed. */
static int
write_atomic(const char *path, const char *s, size_t len)
{
	char	*tmp = NULL, *dcopy = NULL;
	size_t	 off = 0;
	ssize_t	 w;
	int	 fd = -1, dfd, rc = -1;

	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) == -1) {
		tmp = NULL;
		goto fail;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) == -1)
		goto fail;
	while (off < len) {
		if ((w = write(fd, s + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	tmp = NULL;
	if ((dcopy = strdup(path)) != NULL &&
	    (dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
fail:
	if (rc == -1) {
		int	saved = errno;

		if (fd != -1)
			close(fd);
		if (tmp != NULL)
			unlink(tmp);
		errno = saved;
	}
	free(tmp);
	free(dcopy);
	return (rc);
}

/* Writes report R's page to print_html; -1 with a message on stderr. */
int
print_report_html(json_t *r)
{
	json_t	*rep = json_object_get(r, "report");

	if (!json_is_string(rep) || print_html == NULL) {
		fprintf(stderr, "crierctl: crierd sent no report page\n");
		return (-1);
	}
	if (write_atomic(print_html, json_string_value(rep),
	    json_string_length(rep)) == -1) {
		fprintf(stderr, "crierctl: %s: %s\n", print_html, strerror(errno));
		return (-1);
	}
	return (0);
}

/* report: the text table, or the HTML page written to --html FILE. */
void
print_report(json_t *r)
{
	json_t		*rep = json_object_get(r, "report");
	const char	*s = json_string_value(rep);

	if (s == NULL)
		return;
	if (print_html == NULL) {
		fputs(s, stdout);
		if (json_string_length(rep) > 0 && s[json_string_length(rep) - 1] != '\n')
			putchar('\n');
		return;
	}
	if (print_report_html(r) == -1)
		exit(1);
	printf("wrote %s: %lld posts (%lld deliveries) from %s to %s\n",
	    print_html, ival(r, "posts"), ival(r, "deliveries"),
	    print_field(r, "from"), print_field(r, "to"));
}

/* published: the calendar's content lines, each ended with CRLF as RFC 5545 wants. */
void
print_published(json_t *r)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(json_object_get(r, "lines"), i, v)
		printf("%s\r\n", json_string_value(v));
}

/* stats: a table per calendar and channel, then the total. */
void
print_stats(json_t *r)
{
	json_t	*arr = json_object_get(r, "stats"), *v, *t;
	size_t	 i;

	if (json_array_size(arr) == 0) {
		printf("no posts went out%s%s\n", json_is_string(json_object_get(r,
		    "calendar")) ? " from calendar " : "",
		    json_is_string(json_object_get(r, "calendar")) ?
		    print_field(r, "calendar") : "");
		return;
	}
	printf("%-20s  %-16s  %6s  %8s  %8s  %8s  %8s\n", "CAMPAIGN", "CHANNEL",
	    "POSTS", "MEASURED", "LIKES", "REPOSTS", "REPLIES");
	json_array_foreach(arr, i, v)
		printf("%-20s  %-16s  %6lld  %8lld  %8lld  %8lld  %8lld\n",
		    json_is_string(json_object_get(v, "calendar")) ?
		    print_field(v, "calendar") : "(ad hoc)",
		    print_field(v, "channel"), ival(v, "posts"),
		    ival(v, "measured"), ival(v, "likes"), ival(v, "reposts"),
		    ival(v, "replies"));
	t = json_object_get(r, "total");
	printf("%-20s  %-16s  %6lld  %8lld  %8lld  %8lld  %8lld\n", "total", "",
	    ival(t, "posts"), ival(t, "measured"), ival(t, "likes"),
	    ival(t, "reposts"), ival(t, "replies"));
}
