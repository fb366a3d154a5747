/*
 * Control socket connections. Whatever a client does, crierd's memory and
 * its other clients are safe: a connection must send a complete request
 * within CTLCONN_IDLE_MS, each uid has a few connections (root and the
 * service user have slots of their own), and a client that does not read
 * its replies is not read either once CTLCONN_MAX_QUEUE bytes wait for it.
 * A client that half-closes still gets every reply; a last request without
 * its newline is answered too. A reply whose change waits for the turn's
 * commit is held, and every later reply of its connection behind it, so a
 * client reads its replies in the order it asked.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ctlconn.h"
#include "log.h"
#include "turn.h"
#include "when.h"
#include "../common/jsonw.h"
#include "../common/proto.h"
#include "../common/util.h"

struct ctl_write {
	uv_write_t	 req;
	char		*data;
	size_t		 len;
	struct client	*cl;
};

/* A reply promised for later (ctlconn_later); CL NULL once the connection is gone. */
struct ctlconn_later {
	struct client	*cl;
};

/* A reply held until ctlconn_release(). */
struct ctlconn_held {
	STAILQ_ENTRY(ctlconn_held)	 entry;
	json_t				*r;		/* or, written already: */
	char				*line;
	size_t				 len;
	size_t				 weight;	/* counted in queued */
};

static LIST_HEAD(, client)	 clients = LIST_HEAD_INITIALIZER(clients);
static size_t			 nclients;
static ctlconn_dispatch_fn	 dispatch_fn;
static ctlconn_gone_fn		 gone_fn;
static int			 per_uid = CTLCONN_PER_UID;
static int64_t			 refused_logged;	/* ms, rate limit */
static long			 refused_quiet;

static size_t			 nopen;		/* not closing */
static uv_idle_t		 resume;	/* answers what waits for the next turn */
static int			 resume_inited;

static void	client_process(struct client *);
static void	flow(struct client *);
static void	maybe_finish(struct client *);
static void	client_read(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	client_alloc(uv_handle_t *, size_t, uv_buf_t *);

/* Sets up the dispatcher, the close hook and the per-uid limit. */
void
ctlconn_init(ctlconn_dispatch_fn dispatch, ctlconn_gone_fn gone, int max_per_uid)
{
	dispatch_fn = dispatch;
	gone_fn = gone;
	per_uid = max_per_uid > 0 ? max_per_uid : CTLCONN_PER_UID;
}

/* The first open connection, or NULL. */
struct client *
ctlconn_first(void)
{
	return (LIST_FIRST(&clients));
}

/* The connection after CL, or NULL. */
struct client *
ctlconn_next(struct client *cl)
{
	return (LIST_NEXT(cl, entry));
}

/* Reply bytes queued for CL. */
size_t
ctlconn_queued(const struct client *cl)
{
	return (cl->queued);
}

/* Drops CL's held replies. */
static void
held_free(struct client *cl)
{
	struct ctlconn_held	*h;

	while ((h = STAILQ_FIRST(&cl->held)) != NULL) {
		STAILQ_REMOVE_HEAD(&cl->held, entry);
		cl->queued -= h->weight;
		json_decref(h->r);
		free(h->line);
		free(h);
	}
}

/* Frees CL once both its handles are closed. */
static void
client_closed(uv_handle_t *h)
{
	struct client	*cl = h->data;

	if (--cl->open_handles > 0)
		return;
	held_free(cl);
	if (cl->later != NULL)
		cl->later->cl = NULL;	/* its owner still answers it */
	LIST_REMOVE(cl, entry);
	nclients--;
	if (gone_fn != NULL)
		gone_fn(cl);
	free(cl->buf);
	free(cl);
}

/* Closes CL's connection (pending writes are cancelled). */
void
ctlconn_close(struct client *cl)
{
	if (cl->closing)
		return;
	cl->closing = 1;
	nopen--;
	uv_read_stop((uv_stream_t *)&cl->pipe);
	uv_timer_stop(&cl->idle);
	uv_close((uv_handle_t *)&cl->pipe, client_closed);
	uv_close((uv_handle_t *)&cl->idle, client_closed);
}

/* Closes every connection (at shutdown). */
void
ctlconn_close_all(void)
{
	struct client	*cl;

	LIST_FOREACH(cl, &clients, entry)
		ctlconn_close(cl);
	if (resume_inited) {
		uv_idle_stop(&resume);
		uv_close((uv_handle_t *)&resume, NULL);
		resume_inited = 0;
	}
}

/* Idle callback, before the loop polls: the requests left from the last turn. */
static void
on_resume(uv_idle_t *h)
{
	struct client	*cl;
	int		 left = 0;

	/* A closed client stays on the list until its close callback. */
	LIST_FOREACH(cl, &clients, entry) {
		if (!cl->more || cl->closing)
			continue;
		cl->more = 0;
		client_process(cl);
		if (!cl->closing) {
			flow(cl);
			maybe_finish(cl);
		}
		left |= cl->more;
	}
	if (!left)
		uv_idle_stop(h);
}

/* The idle timer: no complete request, and no reply bytes taken, for too long. */
static void
on_idle(uv_timer_t *t)
{
	struct client	*cl = t->data;
	size_t		 unwritten = cl->pipe.write_queue_size;

	if (cl->queued > 0 && unwritten < cl->idle_unwritten) {
		/* A large reply is still being read, slowly: that is progress. */
		cl->idle_unwritten = unwritten;
		uv_timer_start(&cl->idle, on_idle, CTLCONN_IDLE_MS, 0);
		return;
	}
	log_debug("ctl: uid %d pid %d: idle for %d s, closed", (int)cl->uid,
	    (int)cl->pid, CTLCONN_IDLE_MS / 1000);
	ctlconn_close(cl);
}

/* The client made progress: it gets another CTLCONN_IDLE_MS (followers wait for events). */
static void
idle_restart(struct client *cl)
{
	if (cl->closing)
		return;
	if ((cl->follow && !cl->eof) || cl->later != NULL)
		uv_timer_stop(&cl->idle);
	else {
		cl->idle_unwritten = cl->pipe.write_queue_size;
		uv_timer_start(&cl->idle, on_idle, CTLCONN_IDLE_MS, 0);
	}
}

/* Starts or stops reading CL as its queue and its input allow. */
static void
flow(struct client *cl)
{
	int	want = !cl->closing && !cl->eof && !cl->drain_close &&
	    !cl->more && cl->later == NULL && cl->queued <= CTLCONN_MAX_QUEUE &&
	    cl->len < CTL_MAX_REQUEST;

	if (want && !cl->reading) {
		if (uv_read_start((uv_stream_t *)&cl->pipe, client_alloc,
		    client_read) == 0)
			cl->reading = 1;
	} else if (!want && cl->reading) {
		uv_read_stop((uv_stream_t *)&cl->pipe);
		cl->reading = 0;
	}
}

/* Closes CL if everything it asked for has been written and it has no more to say. */
static void
maybe_finish(struct client *cl)
{
	if (cl->closing || cl->queued > 0 || cl->later != NULL)
		return;
	if (cl->drain_close || (cl->eof && cl->len == 0 && !cl->follow))
		ctlconn_close(cl);
}

/* Write completion: frees the buffer, reads again once the queue is short. */
static void
write_done(uv_write_t *req, int status)
{
	struct ctl_write	*w = (struct ctl_write *)req;
	struct client		*cl = w->cl;

	cl->queued -= w->len;
	free(w->data);
	free(w);
	if (cl->closing)
		return;
	if (status < 0) {
		ctlconn_close(cl);
		return;
	}
	idle_restart(cl);
	/*
	 * Not when the rest waits for the next turn (cl->more): libuv runs
	 * write callbacks up to 8 times more after polling, and each went
	 * on with another budget, so 10 000 pipelined posts made turns of
	 * 25-65 ms.
	 */
	if (cl->queued <= CTLCONN_MAX_QUEUE && !cl->more)
		client_process(cl);
	if (!cl->closing) {
		flow(cl);
		maybe_finish(cl);
	}
}

/* Reply R (consumed) as one line with the protocol version; *LEN its length. */
static char *
line_of(json_t *r, size_t *len)
{
	char	*line;

	json_object_set_new(r, "v", json_integer(CRIER_PROTO_VERSION));
	line = jsonw_dump(r, 1, len);
	json_decref(r);
	return (line);
}

/* Writes the LEN bytes of DATA (consumed) to CL; NULL DATA: out of memory. */
static void
client_write(struct client *cl, char *data, size_t len)
{
	struct ctl_write	*w;
	uv_buf_t		 b;

	if (cl->closing) {
		free(data);
		return;
	}
	if (data == NULL || (w = calloc(1, sizeof(*w))) == NULL) {
		free(data);
		ctlconn_close(cl);
		return;
	}
	w->data = data;
	w->len = len;
	w->cl = cl;
	b = uv_buf_init(w->data, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&cl->pipe, &b, 1, write_done) != 0) {
		free(w->data);
		free(w);
		ctlconn_close(cl);
		return;
	}
	cl->queued += len;
	flow(cl);
}

/* Queues R (consumed) behind CL's held replies, counted in its budget. */
static void
held_add(struct client *cl, json_t *r)
{
	struct ctlconn_held	*h;

	if (cl->closing) {
		json_decref(r);
		return;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		json_decref(r);
		ctlconn_close(cl);
		return;
	}
	h->r = r;
	/* Its line, and room for the version and an error in its place. */
	h->weight = json_dumpb(r, NULL, 0, JSON_COMPACT) + 64;
	STAILQ_INSERT_TAIL(&cl->held, h, entry);
	cl->queued += h->weight;
	flow(cl);
}

/* Queues the finished reply LINE of LEN bytes (consumed) behind CL's held replies. */
static void
held_add_line(struct client *cl, char *line, size_t len)
{
	struct ctlconn_held	*h;

	if (cl->closing || (h = calloc(1, sizeof(*h))) == NULL) {
		free(line);
		if (!cl->closing)
			ctlconn_close(cl);
		return;
	}
	h->line = line;
	h->len = h->weight = len;
	STAILQ_INSERT_TAIL(&cl->held, h, entry);
	cl->queued += h->weight;
	flow(cl);
}

/* Sends reply R (consumed) as one line, behind any held replies. */
void
ctlconn_send(struct client *cl, json_t *r)
{
	char	*line;
	size_t	 len = 0;

	if (cl->hold || !STAILQ_EMPTY(&cl->held)) {
		cl->hold = 0;
		held_add(cl, r);
		return;
	}
	line = line_of(r, &len);
	client_write(cl, line, len);
}

/* The reply being made for CL waits for ctlconn_release(). */
void
ctlconn_hold(struct client *cl)
{
	cl->hold = 1;
}

/* Writes CL's held replies as one buffer. */
static void
held_write(struct client *cl)
{
	struct ctlconn_held	*h;
	char			*buf = NULL, *line, *nb;
	size_t			 len = 0, cap = 0, n = 0;

	while ((h = STAILQ_FIRST(&cl->held)) != NULL) {
		STAILQ_REMOVE_HEAD(&cl->held, entry);
		cl->queued -= h->weight;
		if (h->r != NULL)
			line = line_of(h->r, &n);
		else {
			line = h->line;
			n = h->len;
		}
		free(h);
		if (line == NULL)
			goto fail;
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(line);
				goto fail;
			}
			buf = nb;
		}
		memcpy(buf + len, line, n + 1);
		len += n;
		free(line);
	}
	client_write(cl, buf, len);
	return;
fail:
	free(buf);
	ctlconn_close(cl);	/* the rest is dropped as it closes */
}

/* Writes the held replies of every connection. */
void
ctlconn_release(void)
{
	struct client	*cl;

	LIST_FOREACH(cl, &clients, entry)
		if (!STAILQ_EMPTY(&cl->held))
			held_write(cl);
}

/* CL's requests still in its buffer are answered from the next turn; -1 if that cannot be arranged. */
static int
next_turn(struct client *cl)
{
	if (!resume_inited) {
		if (uv_idle_init(cl->pipe.loop, &resume) != 0)
			return (-1);
		resume_inited = 1;
	}
	cl->more = 1;
	uv_idle_start(&resume, on_resume);
	return (0);
}

/* The reply to CL's request being answered is promised for later. */
struct ctlconn_later *
ctlconn_later(struct client *cl)
{
	struct ctlconn_later	*l = xcalloc(1, sizeof(*l));

	l->cl = cl;
	cl->later = l;
	uv_timer_stop(&cl->idle);
	return (l);
}

/* Sends R as L's reply; CL's requests that waited are answered from the next turn. */
void
ctlconn_later_answer(struct ctlconn_later *l, json_t *r)
{
	size_t	len = 0;
	char	*line;

	if (l->cl == NULL) {
		free(l);
		json_decref(r);
		return;
	}
	line = line_of(r, &len);
	ctlconn_later_answer_line(l, line, len);
}

/* Whether the connection L's reply was promised to went away. */
int
ctlconn_later_gone(const struct ctlconn_later *l)
{
	return (l->cl == NULL || l->cl->closing);
}

/* Sends LINE (LEN bytes with its newline, consumed; NULL: out of memory) as L's reply. */
void
ctlconn_later_answer_line(struct ctlconn_later *l, char *line, size_t len)
{
	struct client	*cl = l->cl;

	free(l);
	if (cl == NULL) {
		free(line);
		return;
	}
	cl->later = NULL;
	cl->requests++;
	if (line != NULL && !STAILQ_EMPTY(&cl->held))
		held_add_line(cl, line, len);
	else
		client_write(cl, line, len);
	if (cl->closing)
		return;
	idle_restart(cl);
	(void)next_turn(cl);
	flow(cl);
	maybe_finish(cl);
}

/* Answers the request LINE of LEN bytes (no newline) from CL. */
static void
answer(struct client *cl, const char *line, size_t len)
{
	json_t	*r = NULL;

	if (len > 0)
		r = dispatch_fn(cl, line, len);
	if (r != NULL) {
		cl->requests++;
		ctlconn_send(cl, r);
	}
	cl->hold = 0;
}

/* Drops the first USED bytes of CL's buffer. */
static void
consume(struct client *cl, size_t used)
{
	if (used == 0)
		return;
	memmove(cl->buf, cl->buf + used, cl->len - used);
	cl->len -= used;
	idle_restart(cl);
}

/*
 * When this loop turn's time for control requests ends: every connection
 * shares it, or 16 connections of one uid pipelining could hold a turn
 * for 32 ms. Before the first turn is counted (or with no loop), each
 * call has its own.
 */
static int64_t
turn_deadline(void)
{
	static uint64_t	turn;
	static int64_t	end;
	uint64_t	now = turn_number();

	if (now == 0 || now != turn) {
		turn = now;
		end = when_mono_us() + CTLCONN_TURN_US;
	}
	return (end);
}

/* Answers the complete requests in CL's buffer while its queue allows. */
static void
client_process(struct client *cl)
{
	char	*nl;
	size_t	 off = 0, n;
	int64_t	 end = turn_deadline();
	/* Its one request past the turn's time was answered already. */
	int	 again = turn_number() != 0 && cl->served_turn == turn_number();

	/* The buffer is compacted once, not after each line. */
	while (!cl->closing && !cl->drain_close && cl->later == NULL &&
	    cl->queued <= CTLCONN_MAX_QUEUE &&
	    (nl = memchr(cl->buf + off, '\n', cl->len - off)) != NULL) {
		if ((off > 0 || again) &&
		    (when_mono_us() >= end || turn_full()) &&
		    next_turn(cl) == 0) {
			/* Not read further meanwhile. */
			log_debug("ctl: uid %d pid %d: the requests after "
			    "%llu wait for the next turn", (int)cl->uid,
			    (int)cl->pid, (unsigned long long)cl->requests);
			break;
		}
		n = (size_t)(nl - (cl->buf + off));
		cl->served_turn = turn_number();
		answer(cl, cl->buf + off, n);
		off += n + 1;
	}
	consume(cl, off);
	if (cl->more || cl->closing || cl->drain_close || cl->later != NULL ||
	    cl->queued > CTLCONN_MAX_QUEUE)
		return;
	if (cl->len == CTL_MAX_REQUEST) {
		/* No newline within the limit: refuse, and end this connection. */
		log_warnx("ctl: uid %d: request over %d bytes refused",
		    (int)cl->uid, CTL_MAX_REQUEST);
		cl->len = 0;
		cl->drain_close = 1;
		ctlconn_send(cl, json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
		    "request larger than 65536 bytes", "code", "too_large"));
		return;
	}
	if (cl->eof && cl->len > 0) {
		answer(cl, cl->buf, cl->len);	/* the last line had no newline */
		consume(cl, cl->len);
	}
}

/* Gives libuv the free end of the client's line buffer. */
static void
client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct client	*cl = h->data;

	(void)hint;
	buf->base = cl->buf + cl->len;
	buf->len = CTL_MAX_REQUEST - cl->len;
}

/* Reads request bytes; EOF is a half-close: the replies still go out. */
static void
client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client	*cl = s->data;

	(void)buf;
	if (cl->closing)
		return;
	if (nread == UV_EOF)
		cl->eof = 1;
	else if (nread < 0) {
		ctlconn_close(cl);
		return;
	} else {
		cl->len += (size_t)nread;
		turn_note_request();
	}
	client_process(cl);
	if (!cl->closing) {
		flow(cl);
		maybe_finish(cl);
	}
}

/* Reads the peer's credentials and groups with SO_PEERCRED and SO_PEERGROUPS. */
static void
peer_identify(struct client *cl)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);
	uv_os_fd_t	 fd;

	cl->uid = (uid_t)-1;
	cl->gid = (gid_t)-1;
	cl->ngroups = -1;
	if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) != 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
		cl->uid = uc.uid;
		cl->gid = uc.gid;
		cl->pid = uc.pid;
		cl->cred_ok = 1;
	}
#ifdef SO_PEERGROUPS
	len = sizeof(cl->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cl->groups, &len) == 0)
		cl->ngroups = (int)(len / sizeof(gid_t));
#endif
	cl->privileged = cl->cred_ok && (cl->uid == 0 || cl->uid == geteuid());
}

/* The oldest connection of UID with no reply pending, or NULL; *COUNT: how many UID has. */
static struct client *
evictable(uid_t uid, int *count)
{
	struct client	*cl, *victim = NULL;

	*count = 0;
	/* The list is newest first: the last match is the oldest. */
	LIST_FOREACH(cl, &clients, entry) {
		if (cl->closing || !cl->cred_ok || cl->uid != uid)
			continue;
		(*count)++;
		if (!cl->follow && cl->queued == 0 && cl->later == NULL)
			victim = cl;
	}
	return (victim);
}

/* Logs a refused connection, at most once a minute. */
static void
log_refused(const struct client *cl, const char *why)
{
	int64_t	now = when_now();

	if (refused_logged != 0 && now - refused_logged < 60000) {
		refused_quiet++;
		return;
	}
	log_warnx("ctl: uid %d pid %d refused: %s%s", (int)cl->uid, (int)cl->pid,
	    why, refused_quiet ? " (and others in the last minute)" : "");
	refused_logged = now;
	refused_quiet = 0;
}

/* Whether CL may stay: the per-uid limit and the reserved slots; else it is told why. */
static int
admit(struct client *cl)
{
	struct client	*victim;
	char		 why[160];
	int		 count;

	victim = evictable(cl->uid, &count);
	count--;	/* CL itself */
	if (victim == cl)
		victim = NULL;
	if (cl->privileged) {
		/*
		 * Root and the service user are not limited per uid and have
		 * CTLCONN_RESERVED slots to themselves; when every slot is
		 * taken, their own oldest waiting connection makes room.
		 */
		if (nopen > CTL_MAX_CLIENTS && victim != NULL) {
			log_debug("ctl: uid %d: %zu connections, its oldest "
			    "one closed", (int)cl->uid, nopen);
			ctlconn_close(victim);
		}
		if (nopen <= CTL_MAX_CLIENTS)
			return (1);
		snprintf(why, sizeof(why), "too many connections (%d)",
		    CTL_MAX_CLIENTS);
	} else if (!cl->cred_ok) {
		snprintf(why, sizeof(why), "peer credentials unknown");
	} else if (count >= per_uid) {
		snprintf(why, sizeof(why), "uid %d has %d connections open "
		    "(max_clients_per_uid)", (int)cl->uid, count);
	} else if (nopen > CTL_MAX_CLIENTS - CTLCONN_RESERVED) {
		snprintf(why, sizeof(why), "too many connections (%d; the rest "
		    "are kept for root and the crierd user)",
		    CTL_MAX_CLIENTS - CTLCONN_RESERVED);
	} else
		return (1);
	log_refused(cl, why);
	cl->drain_close = 1;
	cl->eof = 1;
	ctlconn_send(cl, json_pack("{s:b, s:s, s:s}", "ok", 0, "error", why,
	    "code", "busy"));
	return (0);
}

/* Accepts a client, learns who it is, and admits it or tells it why not. */
void
ctlconn_accept(uv_stream_t *server, int status)
{
	struct client	*cl;

	if (status < 0) {
		log_warnx("ctl: accept: %s", uv_strerror(status));
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL ||
	    (cl->buf = malloc(CTL_MAX_REQUEST)) == NULL) {
		if (cl != NULL)
			free(cl);
		log_warnx("ctl: out of memory");
		return;
	}
	uv_pipe_init(server->loop, &cl->pipe, 0);
	uv_timer_init(server->loop, &cl->idle);
	STAILQ_INIT(&cl->held);
	cl->pipe.data = cl;
	cl->idle.data = cl;
	cl->open_handles = 2;
	LIST_INSERT_HEAD(&clients, cl, entry);
	nclients++;
	nopen++;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0) {
		ctlconn_close(cl);
		return;
	}
	peer_identify(cl);
	if (!admit(cl)) {
		idle_restart(cl);
		return;
	}
	idle_restart(cl);
	turn_note_request();
	flow(cl);
}

/* Parses uid_map text: is every uid mapped as itself? */
int
ctlconn_userns_check(const char *uid_map, char *msg, size_t msglen)
{
	unsigned long long	inner, outer, count;
	char			first[128];
	int			n;

	if (sscanf(uid_map, " %llu %llu %llu%n", &inner, &outer, &count, &n) != 3)
		return (-1);
	if (inner == 0 && outer == 0 && count == 4294967295ULL &&
	    uid_map[n + strspn(uid_map + n, " \t\n")] == '\0')
		return (0);
	snprintf(first, sizeof(first), "%llu %llu %llu", inner, outer, count);
	snprintf(msg, msglen, "crierd runs in a user namespace that does not "
	    "map every uid (uid_map \"%s\"%s): peers it cannot map show up as "
	    "uid %d and cannot use changing verbs, and the audit log cannot "
	    "name them (under systemd, do not set PrivateUsers=)", first,
	    strchr(uid_map + n, '\n') != NULL &&
	    uid_map[n + strspn(uid_map + n, " \t\n")] != '\0' ? ", ..." : "",
	    (int)ctlconn_overflow_uid());
	return (1);
}

/* The kernel's overflow uid (what an unmapped peer shows as). */
uid_t
ctlconn_overflow_uid(void)
{
	FILE		*fp;
	unsigned long	 v = 65534;

	if ((fp = fopen("/proc/sys/kernel/overflowuid", "re")) != NULL) {
		if (fscanf(fp, "%lu", &v) != 1)
			v = 65534;
		fclose(fp);
	}
	return ((uid_t)v);
}
