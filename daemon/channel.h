/* Channels: one vtable per network type; the configured channels at run time. */
#ifndef CRIER_CHANNEL_H
#define CRIER_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "length.h"

/* What a channel is asked to send: one delivery, rendered. */
struct post {
	const char	*id;
	const char	*channel;
	int64_t		 due;		/* ms since the epoch */
	const char	*calendar;	/* NULL for ad-hoc posts */
	const char	*uid;
	const char	*recurrence_id;
	const char	*summary;
	const char	*text;
	int		 attempt;	/* 1 for the first */
};

enum chan_outcome {
	CHAN_SENT,		/* delivered */
	CHAN_TRANSIENT,		/* try again later */
	CHAN_PERMANENT,		/* will never work as it is */
	CHAN_AUTH,		/* credentials refused: pause the channel */
};

struct chan_result {
	enum chan_outcome	outcome;
	char			error[512];
	char			remote_id[128];
	char			remote_url[512];
	int64_t			retry_after;	/* ms from now, 0: backoff decides */
	int64_t			channel_wait;	/* ms from now the channel must
						   send nothing (rate limit spent) */
	bool			aborted;	/* crierd is stopping: the request
						   was cut short (start channels) */
};

/* How a multi-step channel reports the end of a delivery (exactly once). */
typedef void (*chan_done_fn)(void *arg, const struct chan_result *r);

/* An HTTP request built by a channel; every pointer is owned by it. */
struct chan_request {
	const char	*method;	/* a string constant */
	char		*url;
	char		**headers;	/* "Name: value", NULL-terminated */
	size_t		 nheaders;
	char		*body;
	size_t		 body_len;
	long		 timeout_ms;	/* whole request; 0: http's default */
};

struct http_response;
struct cal_occurrence;
struct media_rules;

enum chan_key_kind {
	CK_STRING,
	CK_PATH,	/* a file or directory path */
	CK_SECRET,	/* a secret file: must exist, mode 0600 or stricter */
	CK_CREDENTIAL,	/* a systemd credential: a file in $CREDENTIALS_DIRECTORY */
	CK_URL,
	CK_BOOL,	/* yes/no */
	CK_ENUM,	/* one of the '|'-separated values */
	CK_DURATION,	/* 30s, 2m... */
};

struct chan_key {
	const char		*name;
	enum chan_key_kind	 kind;
	bool			 required;
	const char		*values;	/* CK_ENUM */
};

struct channel;

struct channel_ops {
	const char		*type;
	bool			 idempotent;	/* re-sending after a crash cannot duplicate */
	enum len_rule		 len_rule;
	size_t			 default_limit;	/* 0: none */
	const struct chan_key	*keys;		/* type-specific keys, NULL-name terminated */
	const struct media_rules *media;	/* attachments it takes; NULL: none */
	/* Further checks of a channel's configuration; may be NULL. */
	int	(*check)(const struct cfg_channel *cc, const struct config *c,
		    char *err, size_t errlen);
	/* Sets up CH (ch->priv); may be NULL. */
	int	(*open)(struct channel *ch, const struct config *c, char *err,
		    size_t errlen);
	void	(*close)(struct channel *ch);
	/* Local channels: delivers P now and fills R. */
	void	(*deliver)(struct channel *ch, const struct post *p,
		    struct chan_result *r);
	/*
	 * HTTP channels (deliver NULL): builds the request for P into RQ
	 * (zeroed by the caller, freed with chan_request_clear); -1 with ERR
	 * if P can never be sent as it is.
	 */
	int	(*build)(struct channel *ch, const struct post *p,
		    struct chan_request *rq, char *err, size_t errlen);
	/*
	 * Classifies the answer RESP to P's request: sent (with remote id and
	 * URL), transient, permanent (with the API's message) or auth. CH may
	 * be NULL if a reload removed the channel while the request ran.
	 * chan_http_classify() does what most APIs need.
	 */
	void	(*classify)(struct channel *ch, const struct post *p,
		    const struct http_response *resp, struct chan_result *r);
	/*
	 * Channels that need several requests for one post (media upload, a
	 * session, a list of recipients) set this instead of build/classify:
	 * it starts delivering P (copy what must outlive the call) and calls
	 * DONE(ARG, result) exactly once, on the loop thread, never from
	 * within start itself; during shutdown with r->aborted set. -1 with
	 * ERR if P can never be sent as it is (DONE is then not called).
	 */
	int	(*start)(struct channel *ch, const struct post *p,
		    chan_done_fn done, void *arg, char *err, size_t errlen);
	/*
	 * The network's length limit as last learnt (a cache under
	 * state_dir, no network), 0 if unknown; used when the channel sets
	 * no `limit`, offline too. May be NULL.
	 */
	size_t	(*cached_limit)(const struct cfg_channel *cc,
		    const struct config *c);
	/*
	 * crierd --check: what only the channel can find wrong with
	 * occurrence O (alt text, media). Writes it to MSG and returns
	 * CHAN_CHECK_PROBLEM or CHAN_CHECK_WARNING, else CHAN_CHECK_OK.
	 * May be NULL.
	 */
	int	(*check_post)(const struct channel *ch,
		    const struct cal_occurrence *o, char *msg, size_t len);
};

#define CHAN_CHECK_OK		0
#define CHAN_CHECK_PROBLEM	1
#define CHAN_CHECK_WARNING	2

struct channel {
	char				*name;
	const struct channel_ops	*ops;
	const struct cfg_channel	*cfg;
	size_t				 limit;		/* effective length limit, 0: none */
	const char			*style;		/* the type its posts are rendered and
							   measured as: ops->type, or `like` */
	enum len_rule			 len_rule;	/* of style */
	void				*priv;
};

/* The type CH's posts are rendered as (its `like`, else its own type). */
static inline const char *
chan_style_of(const struct channel *ch)
{
	return (ch->style != NULL ? ch->style : ch->ops->type);
}

/* The length rule CH's posts are measured with. */
static inline enum len_rule
chan_len_rule(const struct channel *ch)
{
	return (ch->style != NULL ? ch->len_rule : ch->ops->len_rule);
}

/* Appends header "NAME: VALUE" to RQ. */
void		 chan_request_header(struct chan_request *rq, const char *name,
		    const char *value);
void		 chan_request_clear(struct chan_request *rq);
/*
 * The usual reading of an HTTP answer: 2xx sent; curl errors (connection,
 * TLS, timeout, garbage), 408, 425, 429 and 5xx transient, with Retry-After
 * or rate-limit reset headers in R's retry_after; 401 and 403 auth; other
 * statuses permanent. R's error gets the API's message from the body.
 */
void		 chan_http_classify(const struct http_response *resp,
		    struct chan_result *r);
#define CHAN_SECRET_MAX	(64 * 1024)	/* largest secret read */

/*
 * Reads channel CC's secret: the file named by its key FILE_KEY, or the
 * systemd credential named by its `credential` key. *OUT is malloc'd and
 * NUL-terminated, one trailing newline dropped; free it with
 * chan_secret_free. 1 if neither key is set; -1 with ERR, which names the
 * file but never holds the secret.
 */
int		 chan_secret_read(const struct cfg_channel *cc, const char *file_key,
		    char **out, size_t *len, char *err, size_t errlen);
/* Wipes and frees a secret from chan_secret_read. */
void		 chan_secret_free(char *s, size_t len);
/* The ops for channel type TYPE, or NULL. */
const struct channel_ops *chan_ops_find(const char *type);
/* Validates channel CC of config C (keys, values, secrets); ERR names file, line, key. */
int		 chan_config_check(const struct cfg_channel *cc, const struct config *c,
		    char *err, size_t errlen);
/* What conf_load checks channel sections with: chan_ops_find and chan_config_check. */
extern const struct conf_chan_rules chan_config_rules;
/*
 * Opens every channel of C, replacing the current set on success. OFFLINE
 * (crierd --check) sets them up without opening anything: no files, no network.
 */
int		 chan_init(const struct config *c, bool offline, char *err,
		    size_t errlen);
void		 chan_shutdown(void);
/* The channel named NAME, or NULL. */
struct channel	*chan_find(const char *name);
/* Number of channels and the I-th one. */
size_t		 chan_count(void);
struct channel	*chan_at(size_t i);

extern const struct channel_ops outbox_ops;
extern const struct channel_ops webhook_ops;
extern const struct channel_ops bluesky_ops;
extern const struct channel_ops mastodon_ops;
extern const struct channel_ops smtp_ops;

#endif
