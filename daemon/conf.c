/* crier.conf: parsed with inih, every key checked, errors naming file, line and key. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <ini.h>
#include <libical/ical.h>

#include "conf.h"
#include "redact.h"
#include "netguard.h"
#include "template.h"
#include "calendar/tz.h"
#include "../common/digest.h"
#include "../common/util.h"

struct parse {
	struct config	*c;
	const char	*file;
	FILE		*fp;
	int		 line;		/* of the line inih read last */
	char		*err;
	size_t		 errlen;
	int		 failed;
	char		 section[16];	/* "crier", "vars", "calendar", "channel" */
	const struct conf_chan_rules *rules;
	void		*cur;		/* the calendar or channel being read */
	struct digest	 dg;		/* of the bytes read */
};

/* Records the first error, formatted as "FILE:LINE: MESSAGE". */
static int
perr(struct parse *p, const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];

	if (p->failed++)
		return (0);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->file, p->line, msg);
	return (0);
}

/* Parses a duration such as "30s", "15m", "2h", "90d", "1w" or "1h30m". */
int
conf_parse_duration(const char *s, int64_t *secs)
{
	int64_t		 total = 0, n, mult;
	char		*end;
	int		 parts = 0;

	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return (-1);
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || n < 0 || n > 100000000)
			return (-1);
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return (-1);
		}
		total += n * mult;
		if (total > (int64_t)100 * 365 * 86400)
			return (-1);
		s = end + 1;
		parts++;
	}
	if (parts == 0)
		return (-1);
	*secs = total;
	return (0);
}

/* Parses "N/period" (e.g. "30/5m") into a rate. */
int
conf_parse_rate(const char *s, struct cfg_rate *rate)
{
	char		*end;
	long		 n;
	int64_t		 period;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '/' || n <= 0 || n > 1000000)
		return (-1);
	if (conf_parse_duration(end + 1, &period) == -1 || period <= 0)
		return (-1);
	rate->count = (uint32_t)n;
	rate->period = period;
	return (0);
}

/* True for localhost, 127.0.0.0/8 and ::1 (brackets allowed). */
bool
conf_host_is_loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		 buf[64];
	size_t		 len = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return (true);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']' &&
	    len - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET, host, &a4) == 1)
		return ((ntohl(a4.s_addr) >> 24) == 127);
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return (IN6_IS_ADDR_LOOPBACK(&a6));
	return (false);
}

/* True if the space-separated word list LIST contains W (length WLEN). */
static bool
word_in(const char *list, const char *w, size_t wlen)
{
	const char	*p = list;
	size_t		 n;

	while (p != NULL && *p != '\0') {
		n = strcspn(p, " ");
		if (n == wlen && strncasecmp(p, w, n) == 0)
			return (true);
		p += n;
		p += strspn(p, " ");
	}
	return (false);
}

/* Checks URL's scheme: any of SECURE, or of PLAIN when its host is loopback. */
int
conf_check_url(const char *url, const char *secure, const char *plain,
    char *err, size_t errlen)
{
	const char	*sep = strstr(url, "://");
	const char	*h, *e;
	char		 host[256], safe[1024];
	size_t		 slen, hlen;

	if (sep == NULL || sep == url) {
		snprintf(err, errlen, "'%s' is not a URL", redact_url(url, safe,
		    sizeof(safe)));
		return (-1);
	}
	slen = (size_t)(sep - url);
	h = sep + 3;
	if ((e = strchr(h, '@')) != NULL && e < h + strcspn(h, "/?#"))
		h = e + 1;
	if (*h == '[')
		e = strchr(h, ']') ? strchr(h, ']') + 1 : h + strlen(h);
	else
		e = h + strcspn(h, ":/?#");
	hlen = (size_t)(e - h);
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "'%s' has no host", redact_url(url, safe,
		    sizeof(safe)));
		return (-1);
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (word_in(secure, url, slen))
		return (0);
	if (plain != NULL && word_in(plain, url, slen)) {
		if (conf_host_is_loopback(host))
			return (0);
		snprintf(err, errlen, "'%.*s://' is only allowed for loopback hosts "
		    "(use %s)", (int)slen, url, secure);
		return (-1);
	}
	snprintf(err, errlen, "unsupported URL scheme '%.*s' (use %s)",
	    (int)slen, url, secure);
	return (-1);
}

/* Checks that PATH is a regular file nobody but its owner can read. */
int
conf_check_secret(const char *path, char *err, size_t errlen)
{
	struct stat	st;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "secret file %s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret file %s is not a regular file", path);
		return (-1);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "secret file %s is accessible by group or "
		    "others (mode %04o): chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		return (-1);
	}
	return (0);
}

/* Appends a key/value to an array of them. */
static void
kv_add(struct cfg_kv **kv, size_t *n, const char *key, const char *value, int line)
{
	struct cfg_kv	*nkv;

	*kv = nkv = xreallocarray(*kv, *n + 1, sizeof(**kv));
	nkv[*n].key = xstrdup(key);
	nkv[*n].value = xstrdup(value);
	nkv[*n].line = line;
	(*n)++;
}

/* Checks that NAME is a usable calendar/channel name: [A-Za-z0-9._-]+. */
static bool
valid_name(const char *name)
{
	const char	*p;

	if (*name == '\0' || strlen(name) > 64)
		return (false);
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			return (false);
	return (true);
}

/* Handles media_dirs = DIR[, DIR...]: at most 16 directories. */
static int
media_dirs_key(struct parse *p, const char *v)
{
	struct config	*c = p->c;
	char		 tok[CONFIG_MAX_LINE];
	size_t		 i;

	for (i = 0; i < c->nmedia_dirs; i++)
		free(c->media_dirs[i]);
	free(c->media_dirs);
	c->media_dirs = NULL;
	c->nmedia_dirs = 0;
	while (util_list_next(&v, ", \t", tok, sizeof(tok)) > 0) {
		if (c->nmedia_dirs == 16)
			return (perr(p, "media_dirs: more than 16 directories "
			    "('%s')", tok));
		c->media_dirs = xreallocarray(c->media_dirs, c->nmedia_dirs + 1,
		    sizeof(*c->media_dirs));
		c->media_dirs[c->nmedia_dirs++] = xstrdup(tok);
	}
	return (1);
}

/* Handles a key of [crier]. */
static int
crier_key(struct parse *p, const char *k, const char *v)
{
	struct config	*c = p->c;
	char		*end;
	long		 n;
	char		**sp = NULL;

	if (strcmp(k, "state_dir") == 0)
		sp = &c->state_dir;
	else if (strcmp(k, "socket") == 0)
		sp = &c->socket;
	else if (strcmp(k, "socket_group") == 0)
		sp = &c->socket_group;
	else if (strcmp(k, "templates") == 0)
		sp = &c->templates;
	else if (strcmp(k, "channels") == 0)
		sp = &c->channels;
	else if (strcmp(k, "ca_file") == 0)
		sp = &c->ca_file;
	else if (strcmp(k, "timezone") == 0) {
		if (strcmp(v, "UTC") != 0 &&
		    tz_find(v) == NULL)
			return (perr(p, "timezone: unknown time zone '%s' "
			    "(an IANA name such as Europe/London)", v));
		sp = &c->timezone;
	} else if (strcmp(k, "socket_mode") == 0) {
		errno = 0;
		n = strtol(v, &end, 8);
		if (errno != 0 || *v == '\0' || *end != '\0' || n < 0 || n > 0777)
			return (perr(p, "socket_mode: '%s' is not an octal mode "
			    "such as 0660", v));
		c->socket_mode = (mode_t)n;
		return (1);
	} else if (strcmp(k, "horizon") == 0 || strcmp(k, "catch_up") == 0) {
		int64_t	secs;

		if (conf_parse_duration(v, &secs) == -1)
			return (perr(p, "%s: '%s' is not a duration "
			    "(such as 30s, 15m, 2h, 90d)", k, v));
		if (k[0] == 'h') {
			if (secs < 60)
				return (perr(p, "horizon: '%s' is too short "
				    "(1m at least)", v));
			c->horizon = secs;
		} else
			c->catch_up = secs;
		return (1);
	} else if (strcmp(k, "media_dirs") == 0) {
		return (media_dirs_key(p, v));
	} else if (strcmp(k, "fetch_allow") == 0) {
		char	msg[300];

		if (netguard_parse(v, msg, sizeof(msg)) == -1)
			return (perr(p, "%s", msg));
		sp = &c->fetch_allow;
	} else if (strcmp(k, "min_interval") == 0) {
		int64_t	secs;

		if (strcmp(v, "0") == 0)
			secs = 0;
		else if (conf_parse_duration(v, &secs) == -1)
			return (perr(p, "min_interval: '%s' is not a duration "
			    "(such as 15m, 30m, 1h; 0 for none)", v));
		c->min_interval = secs;
		return (1);
	} else if (strcmp(k, "max_occurrences") == 0) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || *v == '\0' || *end != '\0' || n < 1 ||
		    n > 100000)
			return (perr(p, "max_occurrences: '%s' is not a number "
			    "from 1 to 100000", v));
		c->max_occurrences = (size_t)n;
		return (1);
	} else if (strcmp(k, "max_in_flight") == 0) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || *v == '\0' || *end != '\0' || n < 1 || n > 1024)
			return (perr(p, "max_in_flight: '%s' is not a number "
			    "from 1 to 1024", v));
		c->max_in_flight = (int)n;
		return (1);
	} else if (strcmp(k, "max_clients_per_uid") == 0) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || *v == '\0' || *end != '\0' || n < 1 || n > 200)
			return (perr(p, "max_clients_per_uid: '%s' is not a "
			    "number from 1 to 200", v));
		c->max_clients_per_uid = (int)n;
		return (1);
	} else
		return (perr(p, "unknown key '%s' in [crier]", k));
	free(*sp);
	*sp = (*v == '\0') ? NULL : xstrdup(v);
	return (1);
}

/* Checks the credentials of url calendar CAL: username with password_file or credential. */
static int
calendar_auth_check(struct parse *p, const struct cfg_calendar *cal)
{
	const char	*sep, *at;

	if (cal->username == NULL && cal->password_file == NULL &&
	    cal->credential == NULL)
		return (1);
	if (cal->url == NULL)
		return (perr(p, "[calendar %s]: username, password_file and "
		    "credential are for url calendars", cal->name));
	if (cal->password_file != NULL && cal->credential != NULL)
		return (perr(p, "[calendar %s]: set password_file or credential, "
		    "not both", cal->name));
	if (cal->username == NULL)
		return (perr(p, "[calendar %s]: %s needs username", cal->name,
		    cal->password_file ? "password_file" : "credential"));
	sep = strstr(cal->url, "://");
	at = sep ? strchr(sep + 3, '@') : NULL;
	if (at != NULL && at < sep + 3 + strcspn(sep + 3, "/?#"))
		return (perr(p, "[calendar %s]: credentials both in the url and "
		    "in username", cal->name));
	return (1);
}

/* Handles a key of [calendar NAME]. */
static int
calendar_key(struct parse *p, const char *k, const char *v)
{
	struct cfg_calendar	*cal = p->cur;
	char			 msg[256];
	char			**sp;

	if (strcmp(k, "path") == 0)
		sp = &cal->path;
	else if (strcmp(k, "url") == 0) {
		if (conf_check_url(v, "https", "http", msg, sizeof(msg)) == -1)
			return (perr(p, "url: %s", msg));
		sp = &cal->url;
	} else if (strcmp(k, "channels") == 0)
		sp = &cal->channels;
	else if (strcmp(k, "template") == 0)
		sp = &cal->template;
	else if (strcmp(k, "username") == 0) {
		if (strchr(v, ':') != NULL)
			return (perr(p, "username: a user name cannot hold ':'"));
		sp = &cal->username;
	} else if (strcmp(k, "password_file") == 0) {
		if (conf_check_secret(v, msg, sizeof(msg)) == -1)
			return (perr(p, "password_file: %s", msg));
		sp = &cal->password_file;
	} else if (strcmp(k, "credential") == 0) {
		if (strchr(v, '/') != NULL)
			return (perr(p, "credential: '%s' is a name, not a path",
			    v));
		sp = &cal->credential;
	} else if (strcmp(k, "utm") == 0) {
		struct tmpl *t;

		if ((t = tmpl_compile(v, strlen(v), msg, sizeof(msg))) == NULL)
			return (perr(p, "utm: %s", msg));
		tmpl_free(t);
		sp = &cal->utm;
	} else if (strcmp(k, "refresh") == 0) {
		if (conf_parse_duration(v, &cal->refresh) == -1 ||
		    cal->refresh < 60)
			return (perr(p, "refresh: '%s' is not a duration of 1m "
			    "or more", v));
		return (1);
	} else
		return (perr(p, "unknown key '%s' in [calendar %s]", k, cal->name));
	if (*v == '\0')
		return (perr(p, "%s: empty value", k));
	free(*sp);
	*sp = xstrdup(v);
	return (1);
}

/* Handles a key of [channel NAME]; type-specific keys are checked later. */
static int
channel_key(struct parse *p, const char *k, const char *v)
{
	struct cfg_channel	*ch = p->cur;
	char			*end;
	long			 n;

	if (strcmp(k, "type") == 0) {
		if (!p->rules->known(v))
			return (perr(p, "type: unknown channel type '%s'", v));
		free(ch->type);
		ch->type = xstrdup(v);
	} else if (strcmp(k, "rate") == 0) {
		if (conf_parse_rate(v, &ch->rate) == -1)
			return (perr(p, "rate: '%s' is not a rate such as 30/5m", v));
	} else if (strcmp(k, "limit") == 0) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || *v == '\0' || *end != '\0' || n < 1 ||
		    n > 1000000)
			return (perr(p, "limit: '%s' is not a positive number", v));
		ch->limit = (size_t)n;
	} else if (strcmp(k, "concurrency") == 0) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || *v == '\0' || *end != '\0' || n < 1 || n > 64)
			return (perr(p, "concurrency: '%s' is not a number from "
			    "1 to 64", v));
		ch->concurrency = (int)n;
	} else {
		if (conf_chan_get(ch, k, NULL) != NULL)
			return (perr(p, "%s: given twice in [channel %s]", k,
			    ch->name));
		kv_add(&ch->kv, &ch->nkv, k, v, p->line);
	}
	return (1);
}

/* Opens a new [calendar NAME] or [channel NAME] section. */
static int
new_section(struct parse *p, const char *section)
{
	struct config	*c = p->c;
	const char	*name;
	size_t		 i;

	if (strcmp(section, "crier") == 0 || strcmp(section, "vars") == 0) {
		snprintf(p->section, sizeof(p->section), "%s",
		    section[0] == 'c' ? "crier" : "vars");
		return (1);
	}
	if (strncmp(section, "calendar ", 9) == 0) {
		struct cfg_calendar	*nc;

		name = section + 9;
		name += strspn(name, " ");
		if (!valid_name(name))
			return (perr(p, "[%s]: a calendar name is letters, digits, "
			    "'.', '_' and '-'", section));
		for (i = 0; i < c->ncalendars; i++)
			if (strcmp(c->calendars[i].name, name) == 0)
				return (perr(p, "[%s]: calendar defined twice", section));
		c->calendars = xreallocarray(c->calendars, c->ncalendars + 1,
		    sizeof(*nc));
		nc = &c->calendars[c->ncalendars++];
		memset(nc, 0, sizeof(*nc));
		nc->name = xstrdup(name);
		nc->line = p->line;
		nc->refresh = 15 * 60;
		p->cur = nc;
		snprintf(p->section, sizeof(p->section), "calendar");
		return (1);
	}
	if (strncmp(section, "channel ", 8) == 0) {
		struct cfg_channel	*nc;

		name = section + 8;
		name += strspn(name, " ");
		if (!valid_name(name))
			return (perr(p, "[%s]: a channel name is letters, digits, "
			    "'.', '_' and '-'", section));
		for (i = 0; i < c->nchans; i++)
			if (strcmp(c->chans[i].name, name) == 0)
				return (perr(p, "[%s]: channel defined twice", section));
		c->chans = xreallocarray(c->chans, c->nchans + 1, sizeof(*nc));
		nc = &c->chans[c->nchans++];
		memset(nc, 0, sizeof(*nc));
		nc->name = xstrdup(name);
		nc->line = p->line;
		p->cur = nc;
		snprintf(p->section, sizeof(p->section), "channel");
		return (1);
	}
	return (perr(p, "unknown section [%s] (expected [crier], [vars], "
	    "[calendar NAME] or [channel NAME])", section));
}

/* inih's handler: one call per key; sections were opened by the reader. */
static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse	*p = user;

	if (p->failed)
		return (0);
	if (p->section[0] == '\0')
		return (perr(p, "key '%s' outside any section", name));
	if (strcmp(p->section, "crier") == 0)
		return (crier_key(p, name, value));
	if (strcmp(p->section, "vars") == 0) {
		if (!valid_name(name))
			return (perr(p, "vars: '%s' is not a valid variable name", name));
		kv_add(&p->c->vars, &p->c->nvars, name, value, p->line);
		return (1);
	}
	if (strcmp(p->section, "calendar") == 0)
		return (calendar_key(p, name, value));
	if (strcmp(p->section, "channel") == 0)
		return (channel_key(p, name, value));
	return (perr(p, "key '%s' in an unknown section", name));
}

/* Opens the section if LINE is a "[section]" header (so empty sections count too). */
static void
maybe_section(struct parse *p, const char *line)
{
	const char	*s = line + strspn(line, " \t");
	const char	*e;
	char		 name[256];
	size_t		 len;

	if (*s != '[')
		return;
	s++;
	if ((e = strchr(s, ']')) == NULL)
		return;		/* inih reports the syntax error */
	while (*s == ' ' || *s == '\t')
		s++;
	len = (size_t)(e - s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= sizeof(name)) {
		perr(p, "section name too long");
		return;
	}
	memcpy(name, s, len);
	name[len] = '\0';
	new_section(p, name);
}

/* inih's reader: fgets that counts lines, so errors can name them. */
static char *
read_line(char *str, int num, void *stream)
{
	struct parse	*p = stream;
	char		*r;
	size_t		 len;

	r = fgets(str, num, p->fp);
	if (r == NULL)
		return (NULL);
	p->line++;
	len = strlen(str);
	digest_add(&p->dg, str, len);
	if (!p->failed)
		maybe_section(p, str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(p->fp)) {
		int ch;

		/* Too long for inih: say so rather than read half a value. */
		perr(p, "line longer than %d bytes", num - 2);
		while ((ch = fgetc(p->fp)) != EOF && ch != '\n')
			;
	}
	return (r);
}

/* Sets the built-in defaults. */
static void
set_defaults(struct config *c)
{
	c->state_dir = xstrdup("./crier-state");
	c->socket_mode = 0660;
	c->timezone = xstrdup(CONFIG_DEFAULT_TZ);
	c->horizon = 90 * 86400;
	c->catch_up = 15 * 60;
	c->max_in_flight = 16;
	c->min_interval = 15 * 60;
	c->max_occurrences = 1000;
	c->max_clients_per_uid = 16;
}

/* Checks what can only be checked once the whole file is read. */
static int
check_whole(struct parse *p)
{
	struct config	*c = p->c;
	char		 msg[512], tok[CONFIG_MAX_LINE];
	const char	*list;
	size_t		 i;

	for (i = 0; i < c->nchans; i++) {
		struct cfg_channel *ch = &c->chans[i];

		p->line = ch->line;
		if (ch->type == NULL)
			return (perr(p, "[channel %s]: missing key 'type'", ch->name));
		if (p->rules->check(ch, c, msg, sizeof(msg)) == -1) {
			if (!p->failed++)
				snprintf(p->err, p->errlen, "%s:%s", p->file, msg);
			return (0);
		}
	}
	for (i = 0; i < c->ncalendars; i++) {
		struct cfg_calendar *cal = &c->calendars[i];
		const char *lists[2] = { cal->channels, NULL };

		p->line = cal->line;
		if ((cal->path == NULL) == (cal->url == NULL))
			return (perr(p, "[calendar %s]: exactly one of 'path' and "
			    "'url' is required", cal->name));
		if (calendar_auth_check(p, cal) == 0)
			return (0);
		if (cal->channels == NULL && c->channels == NULL)
			lists[0] = NULL;
		for (int j = 0; j < 1 && lists[j] != NULL; j++) {
			list = lists[j];
			while (util_list_next(&list, ", ", tok, sizeof(tok)) > 0)
				if (conf_channel(c, tok) == NULL)
					return (perr(p, "[calendar %s] channels: no "
					    "channel named '%s'", cal->name, tok));
		}
	}
	if (c->channels != NULL) {
		p->line = 0;
		list = c->channels;
		while (util_list_next(&list, ", ", tok, sizeof(tok)) > 0)
			if (conf_channel(c, tok) == NULL)
				return (perr(p, "[crier] channels: no channel "
				    "named '%s'", tok));
	}
	if (c->ca_file != NULL && access(c->ca_file, R_OK) == -1) {
		p->line = 0;
		return (perr(p, "ca_file: %s: %s", c->ca_file, strerror(errno)));
	}
	return (1);
}

/* Adds the built-in outbox channel when the configuration names none. */
static void
add_default_channel(struct config *c)
{
	c->chans = xcalloc(1, sizeof(*c->chans));
	c->chans[0].name = xstrdup("outbox");
	c->chans[0].type = xstrdup("outbox");
	c->nchans = 1;
}

_Static_assert(sizeof(((struct config *)0)->digest) == DIGEST_LEN,
    "struct config's digest is a SHA-256");

/* Loads and validates the configuration file PATH. */
struct config *
conf_load(const char *path, bool must_exist,
    const struct conf_chan_rules *rules, char *err, size_t errlen)
{
	struct parse	 p;
	struct config	*c;
	struct stat	 st;
	int		 rc;

	memset(&p, 0, sizeof(p));
	c = xcalloc(1, sizeof(*c));
	set_defaults(c);
	p.c = c;
	p.file = path;
	p.rules = rules;
	p.err = err;
	p.errlen = errlen;
	digest_start(&p.dg);
	if ((p.fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist) {
			digest_end(&p.dg, c->digest);	/* of nothing */
			add_default_channel(c);
			c->socket = malloc(strlen(c->state_dir) + 16);
			sprintf(c->socket, "%s/crierd.sock", c->state_dir);
			return (c);
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fileno(p.fp), &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_MAX_SIZE) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes",
		    path, CONFIG_MAX_SIZE);
		goto fail;
	}
	c->file = xstrdup(path);
	ini_stop_on_first_error = true;
	ini_use_stack = false;
	ini_max_line = CONFIG_MAX_LINE;
	rc = ini_parse_stream(read_line, &p, on_key, &p);
	fclose(p.fp);
	p.fp = NULL;
	digest_end(&p.dg, c->digest);
	if (rc > 0 && !p.failed) {
		p.line = rc;
		perr(&p, "syntax error (expected [section] or key = value)");
	}
	if (rc < 0 && !p.failed)
		perr(&p, "cannot read the file");
	if (p.failed)
		goto fail;
	if (c->nchans == 0)
		add_default_channel(c);
	if (!check_whole(&p))
		goto fail;
	if (c->socket == NULL) {
		if ((c->socket = malloc(strlen(c->state_dir) + 16)) == NULL)
			abort();
		sprintf(c->socket, "%s/crierd.sock", c->state_dir);
	}
	return (c);
fail:
	if (p.fp != NULL)
		fclose(p.fp);
	conf_free(c);
	return (NULL);
}

/* Frees an array of key/values. */
static void
kv_free(struct cfg_kv *kv, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

/* Frees C and everything it owns. */
void
conf_free(struct config *c)
{
	size_t	i;

	if (c == NULL)
		return;
	free(c->file);
	free(c->state_dir);
	free(c->socket);
	free(c->socket_group);
	free(c->timezone);
	free(c->templates);
	free(c->channels);
	free(c->ca_file);
	for (size_t m = 0; m < c->nmedia_dirs; m++)
		free(c->media_dirs[m]);
	free(c->media_dirs);
	free(c->fetch_allow);
	kv_free(c->vars, c->nvars);
	for (i = 0; i < c->ncalendars; i++) {
		free(c->calendars[i].name);
		free(c->calendars[i].path);
		free(c->calendars[i].url);
		free(c->calendars[i].channels);
		free(c->calendars[i].template);
		free(c->calendars[i].username);
		free(c->calendars[i].password_file);
		free(c->calendars[i].credential);
		free(c->calendars[i].utm);
	}
	free(c->calendars);
	for (i = 0; i < c->nchans; i++) {
		free(c->chans[i].name);
		free(c->chans[i].type);
		kv_free(c->chans[i].kv, c->chans[i].nkv);
	}
	free(c->chans);
	free(c);
}

/* The channel named NAME, or NULL. */
const struct cfg_channel *
conf_channel(const struct config *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nchans; i++)
		if (strcmp(c->chans[i].name, name) == 0)
			return (&c->chans[i]);
	return (NULL);
}

/* The value of KEY in channel CH, or NULL. */
const char *
conf_chan_get(const struct cfg_channel *ch, const char *key, int *line)
{
	size_t	i;

	for (i = 0; i < ch->nkv; i++)
		if (strcmp(ch->kv[i].key, key) == 0) {
			if (line != NULL)
				*line = ch->kv[i].line;
			return (ch->kv[i].value);
		}
	return (NULL);
}
