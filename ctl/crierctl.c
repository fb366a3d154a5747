/* crierctl: talks to crierd over its control socket (SPEC §7). */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ini.h>
#include <jansson.h>

#include "../common/human.h"
#include "../common/proto.h"
#include "print.h"

#define EXIT_NO		1	/* the daemon said no */
#define EXIT_USAGE	2
#define EXIT_UNREACH	3
#define REPLY_MAX	(64 * 1024 * 1024)
#define REPLY_TIMEOUT	60000	/* ms */

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

typedef void	(*printer)(json_t *reply);

static int	json_out;
static json_t	*request;	/* global so early exits leave nothing unreachable */
static const char *usage_of;	/* the verb's usage line, for usage errors */

/*
 * Prints a usage error (with the verb's usage line when known) and exits 2;
 * with --json, as a JSON error object on standard output.
 */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[1024];
	char	*s;
	json_t	*r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_out) {
		r = json_pack("{s:i, s:b, s:s, s:s}", "v", CRIER_PROTO_VERSION,
		    "ok", 0, "error", msg, "code", "usage");
		if (usage_of != NULL)
			json_object_set_new(r, "usage", json_sprintf("crierctl %s",
			    usage_of));
		if ((s = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(r);
	} else {
		fprintf(stderr, "crierctl: %s\n", msg);
		if (usage_of != NULL)
			fprintf(stderr, "usage: crierctl %s\n", usage_of);
	}
	json_decref(request);
	exit(EXIT_USAGE);
}

/* The edit distance of A and B, adjacent swaps counting one (Damerau). */
static size_t
distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, d[32][32], c, best;

	if (la >= 32 || lb >= 32)
		return (SIZE_MAX);
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] == b[j - 1] ? 0 : 1;
			best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < best)
				best = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return (d[la][lb]);
}

/* Says in one line that NAME is no verb (or an ambiguous prefix) and exits 2. */
static void __attribute__((noreturn))
unknown_verb(const char *name, int ambiguous)
{
	char	list[512] = "";
	size_t	i, dist, best = SIZE_MAX, len = strlen(name);
	int	pick = -1;

	if (ambiguous) {
		for (i = 0; i < CTL_NVERBS; i++)
			if (strncmp(ctl_verbs[i].name, name, len) == 0)
				snprintf(list + strlen(list), sizeof(list) -
				    strlen(list), "%s%s", *list ? ", " : "",
				    ctl_verbs[i].name);
		usage_error("'%s' is ambiguous: did you mean %s?", name, list);
	}
	for (i = 0; i < CTL_NVERBS; i++) {
		dist = distance(name, ctl_verbs[i].name);
		if (dist < best) {
			best = dist;
			pick = (int)i;
		}
	}
	if (pick >= 0 && best <= (len > 4 ? 2 : 1))
		usage_error("unknown verb '%s'; did you mean '%s'?", name,
		    ctl_verbs[pick].name);
	usage_error("unknown verb '%s' (crierctl --help lists the verbs)", name);
}

/* Prints the usage of every verb. */
static void
usage(FILE *fp)
{
	int	i;

	fprintf(fp, "usage: crierctl [-s SOCKET] [--json] VERB [ARGS]\n\nverbs:\n");
	for (i = 0; i < CTL_NVERBS; i++)
		fprintf(fp, "  %s\n", ctl_verbs[i].usage);
}

struct sockcfg {
	char	*socket;
	char	*state_dir;
};

/* inih handler: keeps [crier] socket and state_dir. */
static int
cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	struct sockcfg	*sc = user;

	if (strcmp(section, "crier") != 0)
		return (1);
	if (strcmp(name, "socket") == 0) {
		free(sc->socket);
		sc->socket = strdup(value);
	} else if (strcmp(name, "state_dir") == 0) {
		free(sc->state_dir);
		sc->state_dir = strdup(value);
	}
	return (1);
}

/* The socket path: -s, $CRIER_SOCKET, the config's, or crierd's built-in default. */
static char *
socket_path(const char *opt)
{
	struct sockcfg	 sc = { NULL, NULL };
	const char	*cfile;
	char		*p;

	if (opt != NULL)
		return (strdup(opt));
	if ((p = getenv("CRIER_SOCKET")) != NULL && *p != '\0')
		return (strdup(p));
	if ((cfile = getenv("CRIER_CONFIG")) == NULL)
		cfile = SYSCONFDIR "/crier/crier.conf";
	ini_parse(cfile, cfg_handler, &sc);
	if (sc.socket != NULL) {
		free(sc.state_dir);
		return (sc.socket);
	}
	if (asprintf(&p, "%s/crierd.sock", sc.state_dir ? sc.state_dir :
	    "./crier-state") == -1)
		p = NULL;
	free(sc.state_dir);
	return (p);
}

/* Finds option NAME (without "--") in the verb's option spec; its type in TYPE. */
static int
find_option(const char *spec, const char *name, size_t nlen, char *type, size_t tlen)
{
	const char	*p = spec, *eq;
	size_t		 n;

	while (*p != '\0') {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n > 2 && strncmp(p, "--", 2) == 0) {
			eq = memchr(p, '=', n);
			size_t on = (eq ? (size_t)(eq - p) : n) - 2;

			if (on == nlen && strncmp(p + 2, name, nlen) == 0) {
				if (eq != NULL)
					snprintf(type, tlen, "%.*s",
					    (int)(n - (size_t)(eq - p) - 1), eq + 1);
				else
					snprintf(type, tlen, "flag");
				return (0);
			}
		}
		p += n;
	}
	return (-1);
}

/* The JSON field name of option NAME: '-' becomes '_'. */
static void
field_name(const char *name, size_t nlen, char *out, size_t olen)
{
	size_t	i;

	for (i = 0; i < nlen && i + 1 < olen; i++)
		out[i] = name[i] == '-' ? '_' : name[i];
	out[i] = '\0';
}

/* Builds the request for verb V from ARGV. */
static json_t *
build_request(int v, int argc, char **argv)
{
	const struct ctl_verb	*vb = &ctl_verbs[v];
	json_t			*req;
	char			 type[8], field[64], pos[128];
	const char		*name, *val, *eq, *p;
	size_t			 nlen;
	int			 i, npos = 0, nreq = 0, nopt = 0;
	char			*tok, *save;
	char			*posnames[8];

	req = json_pack("{s:i, s:s}", "v", CRIER_PROTO_VERSION, "cmd", vb->name);
	request = req;
	usage_of = vb->usage;
	snprintf(pos, sizeof(pos), "%s", vb->positional);
	for (tok = strtok_r(pos, " ", &save); tok != NULL && npos < 8;
	    tok = strtok_r(NULL, " ", &save)) {
		posnames[npos++] = tok;
		if (tok[strlen(tok) - 1] != '?')
			nreq++;
		else
			tok[strlen(tok) - 1] = '\0';
	}
	i = 0;
	for (int a = 0; a < argc; a++) {
		if (strncmp(argv[a], "--", 2) == 0 && argv[a][2] != '\0') {
			name = argv[a] + 2;
			eq = strchr(name, '=');
			nlen = eq ? (size_t)(eq - name) : strlen(name);
			if (find_option(vb->options, name, nlen, type, sizeof(type)) == -1)
				usage_error("%s: unknown option --%.*s", vb->name,
				    (int)nlen, name);
			field_name(name, nlen, field, sizeof(field));
			if (strcmp(type, "flag") == 0) {
				if (eq != NULL)
					usage_error("--%.*s takes no value", (int)nlen, name);
				json_object_set_new(req, field, json_true());
				continue;
			}
			if (eq != NULL)
				val = eq + 1;
			else if (a + 1 < argc)
				val = argv[++a];
			else
				usage_error("--%.*s needs a value", (int)nlen, name);
			nopt++;
			if (strcmp(type, "n") == 0) {
				char *end;
				long long n;

				errno = 0;
				n = strtoll(val, &end, 10);
				if (errno || *val == '\0' || *end != '\0')
					usage_error("--%s: '%s' is not a number", field, val);
				json_object_set_new(req, field, json_integer(n));
			} else if (strcmp(type, "kv") == 0) {
				json_t	*obj;
				char	 key[128];

				if ((p = strchr(val, '=')) == NULL || p == val ||
				    (size_t)(p - val) >= sizeof(key))
					usage_error("--%s: '%s' is not key=value", field, val);
				snprintf(key, sizeof(key), "%.*s", (int)(p - val), val);
				strncat(field, "s", sizeof(field) - strlen(field) - 1);
				if ((obj = json_object_get(req, field)) == NULL) {
					obj = json_object();
					json_object_set_new(req, field, obj);
				}
				json_object_set_new(obj, key, json_string(p + 1));
			} else if (strcmp(type, "l") == 0) {
				json_t	*arr = json_object_get(req, field);
				char	*copy = strdup(val), *t, *sv;

				if (arr == NULL) {
					arr = json_array();
					json_object_set_new(req, field, arr);
				}
				for (t = strtok_r(copy, ",", &sv); t != NULL;
				    t = strtok_r(NULL, ",", &sv))
					if (*t != '\0')
						json_array_append_new(arr, json_string(t));
				free(copy);
			} else
				json_object_set_new(req, field, json_string(val));
			continue;
		}
		if (i >= npos)
			usage_error("%s: unexpected argument '%s'", vb->name,
			    argv[a]);
		json_object_set_new(req, posnames[i++], json_string(argv[a]));
	}
	if (i < nreq)
		usage_error("%s: missing %s", vb->name, posnames[i]);
	(void)nopt;
	return (req);
}

/* Connects to PATH; -1 with errno on failure. */
static int
connect_socket(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strcpy(sun.sun_path, path);
	/* A full listen queue says EAGAIN: a busy daemon, so wait a little. */
	for (int tries = 0; tries < 100; tries++) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return (-1);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return (fd);
		int e = errno;

		close(fd);
		errno = e;
		if (e != EAGAIN)
			return (-1);
		poll(NULL, 0, 20);
	}
	return (-1);
}

/* What was read from the daemon and not yet taken as a line. */
static char	*rbuf;
static size_t	 rlen, rcap;

/*
 * Reads one line from FD into *LINE (NUL-terminated, owned by the caller),
 * waiting at most TIMEOUT ms (-1: forever). 0, or -1 on EOF or error.
 */
static int
read_line(int fd, int timeout, char **line)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	char		*nl;
	ssize_t		 n;
	size_t		 len;

	for (;;) {
		if (rlen > 0 && (nl = memchr(rbuf, '\n', rlen)) != NULL) {
			len = (size_t)(nl - rbuf);
			if ((*line = malloc(len + 1)) == NULL)
				exit(EXIT_UNREACH);
			memcpy(*line, rbuf, len);
			(*line)[len] = '\0';
			memmove(rbuf, nl + 1, rlen - len - 1);
			rlen -= len + 1;
			return (0);
		}
		if (rcap - rlen < 4096) {
			rcap = rcap ? rcap * 2 : 65536;
			if (rcap > REPLY_MAX || (rbuf = realloc(rbuf, rcap)) == NULL) {
				fprintf(stderr, "crierctl: reply too large\n");
				exit(EXIT_UNREACH);
			}
		}
		if ((n = poll(&pfd, 1, timeout)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			fprintf(stderr, "crierctl: no reply from crierd\n");
			exit(EXIT_UNREACH);
		}
		if ((n = read(fd, rbuf + rlen, rcap - rlen)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return (-1);
		}
		rlen += (size_t)n;
	}
}

/* Sends REQ as one line and reads one reply line. */
static json_t *
exchange(int fd, json_t *req)
{
	char		*s, *line = NULL;
	size_t		 len, off = 0;
	ssize_t		 n;
	json_t		*reply;
	json_error_t	 jerr;

	if ((s = json_dumps(req, JSON_COMPACT)) == NULL)
		return (NULL);
	len = strlen(s);
	s = realloc(s, len + 2);
	s[len++] = '\n';
	while (off < len) {
		if ((n = write(fd, s + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			free(s);
			return (NULL);
		}
		off += (size_t)n;
	}
	free(s);
	if (read_line(fd, REPLY_TIMEOUT, &line) == -1)
		return (NULL);
	reply = json_loadb(line, strlen(line), 0, &jerr);
	free(line);
	return (reply);
}

/* log --follow: prints each event line from FD until the daemon goes away. */
static int
follow(int fd)
{
	char		*line;
	json_t		*msg;
	json_error_t	 jerr;

	while (read_line(fd, -1, &line) == 0) {
		if (json_out)
			printf("%s\n", line);
		else if ((msg = json_loads(line, 0, &jerr)) != NULL) {
			print_defang(msg);
			if (json_is_object(json_object_get(msg, "event")))
				print_event(json_object_get(msg, "event"));
			json_decref(msg);
		}
		free(line);
		/* Each event reaches a pipe or file as it happens. */
		if (fflush(stdout) == EOF)
			break;
	}
	fprintf(stderr, "crierctl: crierd closed the connection\n");
	return (EXIT_UNREACH);
}

/* How each verb of the table in common/proto.h is shown to a person. */
static const printer printers[CTL_NVERBS] = {
#define CTL_PRINTER(id, f, pr, n, p, o, c, u)	[CTL_##id] = print_##pr,
	CTL_VERBS(CTL_PRINTER)
#undef CTL_PRINTER
};

int
main(int argc, char *argv[])
{
	const char	*sockopt = NULL;
	char		*path, *s;
	json_t		*reply;
	int		 v, fd, a, following, rc;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "-s") == 0 || strcmp(argv[a], "--socket") == 0) {
			if (++a >= argc)
				usage_error("-s needs a socket path");
			sockopt = argv[a];
		} else if (strncmp(argv[a], "--socket=", 9) == 0)
			sockopt = argv[a] + 9;
		else if (strcmp(argv[a], "--json") == 0)
			json_out = 1;
		else if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
			usage(stdout);
			return (0);
		} else if (strcmp(argv[a], "--version") == 0) {
			printf("crierctl %s (protocol %d)\n", PACKAGE_VERSION,
			    CRIER_PROTO_VERSION);
			return (0);
		} else {
			fprintf(stderr, "crierctl: unknown option %s\n", argv[a]);
			usage(stderr);
			return (EXIT_USAGE);
		}
	}
	if (a >= argc) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	/* --json anywhere makes even a usage error JSON. */
	for (int i = a; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			json_out = 1;
	if ((v = ctl_verb_find(argv[a])) < 0)
		unknown_verb(argv[a], v == -2);
	/* --json may also follow the verb. */
	for (int i = a + 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0) {
			json_out = 1;
			memmove(&argv[i], &argv[i + 1], sizeof(char *) * (size_t)(argc - i));
			argc--;
			i--;
		}
	request = build_request(v, argc - a - 1, argv + a + 1);
	print_utc = json_is_true(json_object_get(request, "utc"));
	if (json_is_string(json_object_get(request, "html")) &&
	    (print_html = strdup(json_string_value(json_object_get(request,
	    "html")))) == NULL)
		abort();
	if ((path = socket_path(sockopt)) == NULL)
		usage_error("no socket path");
	if ((fd = connect_socket(path)) == -1) {
		fprintf(stderr, "crierctl: cannot reach crierd at %s: %s\n", path,
		    strerror(errno));
		free(path);
		json_decref(request);
		return (EXIT_UNREACH);
	}
	free(path);
	reply = exchange(fd, request);
	following = json_is_true(json_object_get(request, "follow"));
	json_decref(request);
	request = NULL;
	if (reply == NULL) {
		close(fd);
		free(rbuf);
		fprintf(stderr, "crierctl: crierd closed the connection without a "
		    "valid reply\n");
		return (EXIT_UNREACH);
	}
	following = following && json_is_true(json_object_get(reply, "following"));
	if (!json_out)
		print_defang(reply);	/* --json output is JSON-escaped already */
	if (json_out) {
		/* Following, every message is one line, as the daemon sent it. */
		s = json_dumps(reply, following ? JSON_COMPACT :
		    JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
	}
	if (following) {
		if (!json_out)
			printers[v](reply);
		fflush(stdout);
		json_decref(reply);
		rc = follow(fd);
		close(fd);
		free(rbuf);
		return (rc);
	}
	close(fd);
	free(rbuf);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		if (!json_out)
			fprintf(stderr, "crierctl: %s\n", print_field(reply, "error"));
		json_decref(reply);
		return (EXIT_NO);
	}
	if (!json_out)
		printers[v](reply);
	else if (print_html != NULL && print_report_html(reply) == -1) {
		/* --json prints the reply and still writes the page. */
		json_decref(reply);
		return (1);
	}
	json_decref(reply);
	return (0);
}
