/*
 * Control socket connections: accepting, who the peer is, per-uid limits,
 * idle timeouts, request lines in, replies out with backpressure.
 */
#ifndef CRIER_CTLCONN_H
#define CRIER_CTLCONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#define CTLCONN_IDLE_MS		10000		/* no complete request: closed */
#define CTLCONN_MAX_QUEUE	(1024 * 1024)	/* unsent reply bytes before we
						   stop reading a client */
#define CTLCONN_PER_UID		16		/* default max_clients_per_uid */
/*
 * Time for control requests in one turn of the loop, about, all
 * connections together (each still gets one request a turn): the rest
 * wait for the next turn, so one that pipelines thousands (80 ms of posts
 * in one turn) holds up no due post and no other client.
 */
#define CTLCONN_TURN_US		2000
#define CTLCONN_RESERVED	16		/* of CTL_MAX_CLIENTS, for root
						   and the service user */
#define CTLCONN_MAX_GROUPS	256

struct ctlconn_held;
struct ctlconn_later;

struct client {
	uv_pipe_t		 pipe;
	uv_timer_t		 idle;
	LIST_ENTRY(client)	 entry;
	char			*buf;		/* CTL_MAX_REQUEST bytes of input */
	size_t			 len;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	gid_t			 groups[CTLCONN_MAX_GROUPS];	/* SO_PEERGROUPS */
	int			 ngroups;	/* -1: unknown */
	int			 cred_ok;
	int			 privileged;	/* root or the service user */
	int			 closing;
	int			 open_handles;	/* freed when both are closed */
	int			 eof;		/* the peer sent all it will */
	int			 reading;
	int			 drain_close;	/* close once the replies are out */
	size_t			 queued;	/* reply bytes not yet written,
						   held ones included */
	STAILQ_HEAD(, ctlconn_held) held;	/* replies waiting for a commit */
	int			 hold;		/* the reply being made is held */
	size_t			 idle_unwritten; /* of those, when the timer started */
	uint64_t		 requests;	/* answered so far */
	int			 more;		/* complete requests wait for the next turn */
	uint64_t		 served_turn;	/* the loop turn it was last answered in */
	struct ctlconn_later	*later;		/* a reply promised: the next
						   requests wait for it */
	int			 follow;	/* log --follow: events are streamed */
	int64_t			 last_seq;	/* the last event streamed */
};

/* Answers one request line (without its newline) with a reply object. */
typedef json_t	*(*ctlconn_dispatch_fn)(struct client *, const char *line,
		    size_t len);
/* Called for each client as it goes away. */
typedef void	 (*ctlconn_gone_fn)(struct client *);

/* Sets up: DISPATCH answers requests, at most PER_UID connections per uid. */
void		 ctlconn_init(ctlconn_dispatch_fn dispatch, ctlconn_gone_fn gone,
		    int per_uid);
/* The listening socket's connection callback. */
void		 ctlconn_accept(uv_stream_t *server, int status);
/*
 * Sends reply R (consumed) to CL as one line; behind CL's held replies if
 * it has any.
 */
void		 ctlconn_send(struct client *cl, json_t *r);
/*
 * Holds the reply to the request CL is being answered (and so every later
 * reply of CL's) until ctlconn_release(): the request's change is not
 * committed yet. Held replies count against CL's output budget, and the
 * holder may still change R's content until the release.
 */
void		 ctlconn_hold(struct client *cl);
/* Writes every connection's held replies, in order, one write each. */
void		 ctlconn_release(void);
/*
 * The reply to the request CL is being answered comes later, through
 * ctlconn_later_answer() (the dispatcher returns NULL meanwhile); CL's
 * next requests wait for it, and its idle timer does not run.
 */
struct ctlconn_later *ctlconn_later(struct client *cl);
/* Sends R (consumed) as the reply L promised (L freed); dropped if the connection went away. */
void		 ctlconn_later_answer(struct ctlconn_later *l, json_t *r);
/*
 * The same with the reply already written out: LINE (LEN bytes, ending in
 * a newline, the protocol version in it; consumed) is sent as it is.
 */
void		 ctlconn_later_answer_line(struct ctlconn_later *l, char *line,
		    size_t len);
/* Whether the connection L was promised to has gone (the answer would be dropped). */
int		 ctlconn_later_gone(const struct ctlconn_later *l);
/* Closes CL's connection now. */
void		 ctlconn_close(struct client *cl);
/* Reply bytes queued for CL and not yet written. */
size_t		 ctlconn_queued(const struct client *cl);
/* Iterates over the open connections. */
struct client	*ctlconn_first(void);
struct client	*ctlconn_next(struct client *cl);
/* Closes every connection. */
void		 ctlconn_close_all(void);
/*
 * Reads UID_MAP (the text of /proc/self/uid_map): 0 if every uid is mapped
 * as itself, else 1 with MSG saying that peers may show up as the overflow
 * uid; -1 if it cannot be parsed.
 */
int		 ctlconn_userns_check(const char *uid_map, char *msg,
		    size_t msglen);
/* The uid the kernel shows for peers this namespace cannot map (65534). */
uid_t		 ctlconn_overflow_uid(void);

#endif
