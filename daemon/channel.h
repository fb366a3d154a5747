/* Channels: one vtable per network type; the configured channels at run time. */
#ifndef CRIER_CHANNEL_H
#define CRIER_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct delivery;
#include "length.h"

struct media;			/* media.h */

/* One recipient an email post is for (recipients_file, in file order). */
struct email_rcpt {
	const char	*email;		/* as written */
	const char	*key;		/* lower-cased: what the journal compares */
	const char	*name;		/* "" if none */
	bool		 todo;		/* still to send (not sent, refused,
					   suppressed or uncertain already) */
};

/* One recipient's message, rendered by render.c: free with chan_email_parts_clear. */
struct email_parts {
	char	*subject;	/* one line */
	char	*text;		/* the text/plain part */
	char	*html;		/* the text/html part */
	char	*unsub_url;	/* NULL: no unsubscribe URL */
};

/*
 * An email channel without recipients_file (a list service such as
 * listmonk) gets one message, rendered with these in place of the
 * recipient's email and name for the service to fill in.
 */
#define CHAN_LIST_EMAIL	"@@crier.recipient.email@@"
#define CHAN_LIST_NAME	"@@crier.recipient.name@@"

/* What an email channel (ops->email) sends: recipients and their messages. */
struct post_email {
	const struct email_rcpt	*rcpts;
	size_t			 nrcpts;
	size_t			 nsent;		/* sent before this attempt */
	size_t			 nuncertain;	/* found `sending` after a crash */
	const char		*source;	/* recipients_file, for messages */
	/* Renders recipient I's message into P; -1 with ERR naming the template. */
	int	(*render)(const struct post_email *e, size_t i,
		    struct email_parts *p, char *err, size_t errlen);
	void			*arg;		/* render's */
};

/* Where a recipient of an email post stands. */
enum rcpt_fate {
	RCPT_PENDING,		/* to be sent (again) */
	RCPT_SENDING,		/* DATA began: a crash now is uncertain */
	RCPT_SENT,
	RCPT_FAILED,		/* refused for good */
	RCPT_SUPPRESSED,	/* unsubscribed: never sent to */
	RCPT_UNCERTAIN,		/* cut off during DATA */
};

/*
 * How a channel reports progress within one delivery; the scheduler's side
 * writes it to the store, so channels never touch the store.
 */
struct chan_journal {
	void	*arg;
	/*
	 * Records email recipient I's FATE (ERROR and MESSAGE_ID may be NULL);
	 * ATTEMPT counts one more attempt. -1 if it could not be recorded.
	 */
	int	(*recipient)(void *arg, size_t i, enum rcpt_fate fate,
		    const char *error, const char *message_id, bool attempt);
	/* 1 if email recipient I unsubscribed meanwhile, else 0. */
	int	(*suppressed)(void *arg, size_t i);
	/* Adds EVENT with DETAIL to the delivery's history. */
	void	(*event)(void *arg, const char *event, const char *detail);
	/*
	 * Records thread part I (of post.nparts) as confirmed by the network
	 * with REMOTE_ID, REMOTE_URL and REF (may be NULL), durably before
	 * the next part goes. -1 if it could not be recorded: stop there.
	 */
	int	(*part)(void *arg, size_t i, const char *remote_id,
		    const char *remote_url, const char *ref);
	/*
	 * Groups the recipient records until batch(arg, false) into one
	 * transaction (batch(arg, true) opens it); the close commits it,
	 * durably. -1 if it could not: nothing of the batch is recorded.
	 */
	int	(*batch)(void *arg, bool open);
};

/*
 * One part of a thread (split = thread, daemon/thread.c): a post too long
 * for its network goes as parts, each a reply to the one before.
 */
struct post_part {
	const char	*text;		/* numbered "(i/n)", fits the network */
	const char	*remote_id;	/* confirmed earlier: skip it; else NULL */
	const char	*remote_url;	/* may be NULL */
	const char	*ref;		/* the network's extra (Bluesky: the
					   record's cid), may be NULL */
};

/*
 * What a channel is asked to send: one delivery, complete and read-only,
 * valid until the channel reports its end (chan_done_fn).
 */
struct post {
	const char	*id;
	const char	*channel;
	int64_t		 due;		/* ms since the epoch */
	const char	*calendar;	/* NULL for ad-hoc posts */
	const char	*uid;
	const char	*recurrence_id;
	const char	*summary;
	const char	*text;		/* rendered for the channel's style */
	int		 attempt;	/* 1 for the first */
	const struct media *media;	/* read and checked against ops->media */
	size_t		 nmedia;
	const struct post_email *email;	/* ops->email channels, else NULL */
	const struct chan_journal *journal;
	/*
	 * A thread (nparts > 0): post the parts in order, each replying to
	 * the previous one, skipping those with a remote_id, and call
	 * journal->part as each is confirmed; media go with the first part;
	 * the result's remote id and URL are the first part's. Channels
	 * without thread support never get one (split is not their key).
	 */
	const struct post_part *parts;
	size_t		 nparts;
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

/* A post's engagement as its network counts it (issue 17 point 4). */
struct chan_engagement {
	bool			ok;		/* the figures below are read */
	int64_t			likes;		/* favourites, likes */
	int64_t			reposts;	/* boosts, reposts */
	int64_t			replies;
	int64_t			wait_ms;	/* ask this channel nothing more
						   for so long (rate limit) */
	bool			aborted;	/* crierd is stopping */
	char			error[256];	/* !ok: why */
};

/* How a channel hands back a post's engagement (exactly once). */
typedef void (*chan_engage_fn)(void *arg, const struct chan_engagement *e);

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
	CK_STYLE,	/* a network with its own length rule (chan_style_ok) */
	CK_TEMPLATE,	/* a Mustache template, compiled to check it */
};

struct chan_key {
	const char		*name;
	enum chan_key_kind	 kind;
	bool			 required;
	const char		*values;	/* CK_ENUM */
};

struct channel;

struct channel_ops {
	const char		*type;		/* also its template variant:
						   NAME.<type>.mustache */
	bool			 idempotent;	/* re-sending after a crash cannot duplicate */
	bool			 email;		/* rendered per recipient from the
						   newsletter templates (post.email) */
	bool			 local;		/* no network: not bounded by
						   concurrency or max_in_flight,
						   but SCHED_LOCAL_MAX */
	enum len_rule		 len_rule;	/* how its posts are measured */
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
	/*
	 * One-request channels: builds the request for P into RQ (zeroed by
	 * the caller, freed with chan_request_clear); -1 with ERR if P can
	 * never be sent as it is. chan_start sends it and hands the answer
	 * to classify.
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
	 * Other channels (several requests, a session, a list of recipients,
	 * a local write) set this instead of build/classify: it starts
	 * delivering P and calls DONE(ARG, result) exactly once, possibly
	 * before it returns; on the loop thread; during shutdown with
	 * r->aborted set. -1 with ERR if P can never be sent as it is (DONE
	 * is then not called).
	 */
	int	(*start)(struct channel *ch, const struct post *p,
		    chan_done_fn done, void *arg, char *err, size_t errlen);
	/*
	 * At shutdown, before the deliveries under way are dropped: calls
	 * DONE, with r->aborted set, for every start of this type that has
	 * not called it yet (start channels not ended by http_shutdown or
	 * mailer_shutdown). May be NULL.
	 */
	void	(*stop)(void);
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
	/*
	 * The loop runs and HTTP is up (after start and after each reload):
	 * the channel may start its own timers. May be NULL.
	 */
	void	(*ready)(struct channel *ch);
	/*
	 * crierctl show: the state of REMOTE_ID on the network as last
	 * fetched, written to BUF (a refresh starts in the background, never
	 * blocking), or NULL if there is none to tell. May be NULL.
	 */
	const char *(*remote_state)(struct channel *ch, const char *remote_id,
		    char *buf, size_t len);
	/*
	 * `status`: a standing warning about CH at NOW (ms since the epoch),
	 * such as a token about to expire, into BUF; 1 if there is one,
	 * else 0. May be NULL.
	 */
	int	(*warning)(const struct channel *ch, int64_t now, char *buf,
		    size_t len);
	/*
	 * Starts fetching the engagement of the post REMOTE_ID that went out
	 * on CH (daemon/engage.c asks 1 h, 24 h and 7 d after sending) and
	 * calls DONE(ARG, e) exactly once, never from within; -1 if the
	 * request cannot start. May be NULL: no figures are fetched.
	 */
	int	(*engage)(struct channel *ch, const char *remote_id,
		    chan_engage_fn done, void *arg);
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
/* Appends "Authorization: Bearer TOKEN" to RQ (wiped with RQ's headers). */
void		 chan_request_bearer(struct chan_request *rq, const char *token);
void		 chan_request_clear(struct chan_request *rq);
/*
 * The usual reading of an HTTP answer: 2xx sent; curl errors (connection,
 * TLS, timeout, garbage), 408, 425, 429 and 5xx transient, with Retry-After
 * or rate-limit reset headers in R's retry_after; 401 and 403 auth; other
 * statuses permanent. R's error gets the API's message from the body.
 */
void		 chan_http_classify(const struct http_response *resp,
		    struct chan_result *r);
/*
 * Fills R (zeroing it first) for RESP, an answer that is not the success a
 * step needed: aborted (crierd is stopping), or as chan_http_classify reads
 * it, a 2xx becoming a transient "HTTP N: unexpected answer"; the message is
 * prefixed "WHAT: " when WHAT is not NULL.
 */
void		 chan_http_failed(const struct http_response *resp,
		    const char *what, struct chan_result *r);
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
/* The hex SHA-256 of S (malloc'd): how a channel tells that a secret file changed. */
char		*chan_sha256_hex(const char *s);
/* Wipes and frees a secret from chan_secret_read. */
void		 chan_secret_free(char *s, size_t len);
/* A value a channel keeps across restarts (crier.db, table chan_kv); VALUE NULL deletes it. */
struct chan_kv {
	const char	*key;
	const char	*value;
};

/*
 * Loads channel NAME's KEY into *VALUE (malloc'd; wipe secrets before
 * freeing) and its last change, ms, into *UPDATED (may be NULL); 1 if none,
 * -1 on a storage error. Channels reach the store only through these two.
 */
int		 chan_kv_get(const char *name, const char *key, char **value,
		    int64_t *updated);
/* Writes the N values KV of channel NAME in one transaction, durable on return; -1 writes none. */
int		 chan_kv_put(const char *name, const struct chan_kv *kv, size_t n);
/* Tells each channel that the loop runs and HTTP is up (ops->ready). */
void		 chan_ready(void);
/* Shutdown: every channel type ends what it has under way (ops->stop). */
void		 chan_stop(void);
/* The ops for channel type TYPE, or NULL. */
const struct channel_ops *chan_ops_find(const char *type);
/* Number of channel types and the I-th one (the table, for tests and docs). */
size_t		 chan_type_count(void);
const struct channel_ops *chan_type_at(size_t i);
/*
 * Render styles: every channel type (an outbox may be `like` those with
 * their own length rule). Their number and the I-th name;
 * each name is a template variant (NAME.<style>.mustache).
 */
size_t		 chan_style_count(void);
const char	*chan_style_at(size_t i);
/* The length rule and default limit of style NAME; -1 if there is none. */
int		 chan_style_find(const char *name, enum len_rule *rule,
		    size_t *limit);
/* True if an outbox may be `like` NAME: a style with its own length rule. */
bool		 chan_style_ok(const char *name);
/*
 * Starts delivering P on CH, the one way a delivery starts: ops->start,
 * or ops->build sent by http.c and its answer read by ops->classify. DONE
 * as for ops->start.
 */
int		 chan_start(struct channel *ch, const struct post *p,
		    chan_done_fn done, void *arg, char *err, size_t errlen);
/* P (zeroed first) with delivery D's fields: id, channel, due, event, text, attempt; D's strings are borrowed. */
void		 chan_post_of(struct post *p, const struct delivery *d);
/* Frees what P holds and zeroes it. */
void		 chan_email_parts_clear(struct email_parts *p);
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

#endif
