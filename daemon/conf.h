/* crier.conf: parsed with inih, every key validated (SPEC §3). */
#ifndef CRIER_CONF_H
#define CRIER_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define CONFIG_MAX_SIZE		(1024 * 1024)
#define CONFIG_MAX_LINE		4096	/* inih's longest line, so the longest value */
#define CONFIG_DEFAULT_TZ	"UTC"

struct cfg_kv {
	char	*key;
	char	*value;
	int	 line;
};

struct cfg_rate {
	uint32_t	count;		/* 0: no limit */
	int64_t		period;		/* seconds */
};

struct cfg_channel {
	char		*name;
	char		*type;
	int		 line;		/* the [channel NAME] line */
	struct cfg_kv	*kv;		/* every key but type, rate, limit */
	size_t		 nkv;
	struct cfg_rate	 rate;
	size_t		 limit;		/* 0: the network's own */
	int		 concurrency;	/* requests at a time (default 1) */
};

struct cfg_calendar {
	char	*name;
	int	 line;
	char	*path;		/* exactly one of path and url */
	char	*url;
	int64_t	 refresh;	/* seconds, url only */
	char	*channels;	/* may be NULL: [crier] channels */
	char	*template;	/* may be NULL */
	char	*username;	/* url only: HTTP Basic credentials, may be NULL */
	char	*password_file;	/* may be NULL */
	char	*credential;	/* a systemd credential, may be NULL */
	char	*utm;		/* tracked links (compose.c), may be NULL */
};

struct config {
	char			*file;		/* NULL: built-in defaults */
	unsigned char		 digest[32];	/* SHA-256 of the file as read */
	char			*state_dir;
	char			*socket;
	mode_t			 socket_mode;
	char			*socket_group;	/* may be NULL */
	char			*timezone;
	int64_t			 horizon;	/* seconds */
	int64_t			 catch_up;	/* seconds */
	int			 max_in_flight;
	int			 max_clients_per_uid;	/* control connections */
	char			*templates;	/* may be NULL */
	char			*channels;	/* default channels, may be NULL */
	char			*ca_file;	/* may be NULL */
	char			**media_dirs;	/* where local attachments may come from; */
	size_t			 nmedia_dirs;	/* none: <state_dir>/media */
	char			*fetch_allow;	/* hosts and CIDRs calendars may reach; NULL */
	int64_t			 min_interval;	/* seconds; 0: no minimum */
	size_t			 max_occurrences; /* per event in the horizon */
	struct cfg_kv		*vars;
	size_t			 nvars;
	struct cfg_calendar	*calendars;
	size_t			 ncalendars;
	struct cfg_channel	*chans;
	size_t			 nchans;
};

/*
 * What conf_load asks of the channel types, which live above it (in
 * channel.c): whether TYPE is one, and whether channel CC's keys are right
 * (-1 with "LINE: message" in ERR). Passed in, so this file knows none.
 */
struct conf_chan_rules {
	bool	(*known)(const char *type);
	int	(*check)(const struct cfg_channel *cc, const struct config *c,
		    char *err, size_t errlen);
};

/*
 * Loads PATH, checking channel sections with RULES. With MUST_EXIST false
 * a missing file gives the built-in defaults. NULL with a message naming
 * file, line and key in ERR.
 */
struct config	*conf_load(const char *path, bool must_exist,
		    const struct conf_chan_rules *rules, char *err,
		    size_t errlen);
void		 conf_free(struct config *c);
/* The channel named NAME, or NULL. */
const struct cfg_channel *conf_channel(const struct config *c, const char *name);
/* The value of KEY in channel CH, or NULL; *LINE gets its line when not NULL. */
const char	*conf_chan_get(const struct cfg_channel *ch, const char *key, int *line);
/* Parses "30s", "15m", "2h", "90d" (and sums such as "1h30m") into seconds. */
int		 conf_parse_duration(const char *s, int64_t *secs);
/* Parses "30/5m" into RATE. */
int		 conf_parse_rate(const char *s, struct cfg_rate *rate);
/* True if HOST is a loopback name or address (plain http/smtp is allowed there). */
bool		 conf_host_is_loopback(const char *host);
/* Checks that the URL's scheme is in SECURE, or in PLAIN with a loopback host. */
int		 conf_check_url(const char *url, const char *secure, const char *plain,
		    char *err, size_t errlen);
/* Checks a secret file exists, is regular and is not readable by group or others. */
int		 conf_check_secret(const char *path, char *err, size_t errlen);

#endif
