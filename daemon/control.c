/*
 * The control socket: one JSON request per line, one reply per line. It
 * listens, checks a changing verb's credentials, dispatches each request to
 * its verb's handler (daemon/ctl_*.c, one table generated from the list in
 * common/proto.h) and streams the log to followers.
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <jansson.h>

#include "control.h"
#include "conf.h"
#include "context.h"
#include "ctl_post.h"
#include "ctl_sliced.h"
#include "ctl_verbs.h"
#include "ctlconn.h"
#include "log.h"
#include "reply.h"
#include "store.h"
#include "../common/proto.h"
#include "../common/util.h"

#define LIST_MAX	10000
#define LOG_DEFAULT	50
#define LOG_SLICE	400	/* events a slice of a longer log (about 2 ms) */

typedef json_t	*(*ctl_handler)(struct client *, json_t *);

static uv_pipe_t		 ctl_server;
static int			 ctl_listening;
static char			*ctl_path;	/* NULL when inherited */
static gid_t			 ctl_gid = (gid_t)-1;
static uv_timer_t		 ctl_follow_timer;
static int			 ctl_follow_inited;
static size_t			 ctl_nfollowers;

#define FOLLOW_MAX_QUEUE	(4 * 1024 * 1024)	/* unread bytes before a
							   follower is dropped */

static char			 ctl_userns[512];	/* why peers may be unmappable */

/* The handler of each verb of the table in common/proto.h. */
static const ctl_handler handlers[CTL_NVERBS] = {
#define CTL_HANDLER(id, f, pr, n, p, o, c, u)	[CTL_##id] = ctl_##f,
	CTL_VERBS(CTL_HANDLER)
#undef CTL_HANDLER
};

/* Streams the events newer than what each follower has seen. */
static void
follow_flush(uv_timer_t *t)
{
	struct client		*cl;
	struct store_event	*ev;
	size_t			 n, i;
	json_t			*r;

	(void)t;
	for (cl = ctlconn_first(); cl != NULL; cl = ctlconn_next(cl)) {
		if (!cl->follow || cl->closing)
			continue;
		if (ctlconn_queued(cl) > FOLLOW_MAX_QUEUE) {
			log_warnx("ctl: uid %d: log --follow not reading; "
			    "dropped", (int)cl->uid);
			ctlconn_close(cl);
			continue;
		}
		ev = NULL;
		n = 0;
		if (store_events(cl->last_seq, 0, &ev, &n) == -1)
			continue;
		for (i = 0; i < n && !cl->closing; i++) {
			r = json_object();
			json_object_set_new(r, "event", reply_event(&ev[i]));
			ctlconn_send(cl, r);
			cl->last_seq = ev[i].seq;
		}
		store_events_free(ev, n);
	}
}

/* store's hook: an event was written; followers get it once it is committed. */
static void
follow_hook(void)
{
	if (ctl_follow_inited && ctl_nfollowers > 0)
		uv_timer_start(&ctl_follow_timer, follow_flush, 0, 0);
}

/* A long log read a slice a turn; with --follow, its client streams from LAST on. */
struct log_job {
	struct store_cursor	*cur;
	struct client		*cl;	/* --follow: streams once answered */
	int64_t			 last;	/* the newest event in the reply */
};

/* ctl_sliced's slicer for log: the next MAX events of ARG's cursor into ITEMS. */
static int
log_slice(void *arg, size_t max, json_t *items)
{
	struct log_job		*lj = arg;
	struct store_event	*ev = NULL;
	size_t			 n = 0, i;
	int			 rc;

	if ((rc = store_events_cursor_next(lj->cur, max, &ev, &n)) == -1)
		return (-1);
	for (i = 0; i < n; i++)
		json_array_append_new(items, reply_event(&ev[i]));
	if (n > 0)
		lj->last = ev[n - 1].seq;
	store_events_free(ev, n);
	return (rc);
}

/* Makes CL a follower streaming the events after LAST; says so in reply R. */
static void
follow_start(struct client *cl, int64_t last, json_t *r)
{
	if (cl->follow)
		return;
	cl->follow = 1;
	ctl_nfollowers++;
	cl->last_seq = last;
	json_object_set_new(r, "following", json_true());
	/* What was logged while the reply was made goes out after it. */
	follow_hook();
}

/* ctl_sliced's end for log --follow: the reply is whole, its client (alive) follows. */
static void
log_end(void *arg, json_t *obj)
{
	struct log_job	*lj = arg;

	if (lj->cl != NULL)
		follow_start(lj->cl, lj->last, obj);
}

/* ctl_sliced's free for log: the cursor and the job. */
static void
log_free(void *arg)
{
	struct log_job	*lj = arg;

	store_cursor_close(lj->cur);
	free(lj);
}

/* log: the newest delivery events, oldest first (--follow: then each new one). */
json_t *
ctl_log(struct client *cl, json_t *req)
{
	struct store_event	*ev = NULL;
	struct log_job		*lj;
	struct store_cursor	*cur;
	size_t			 n = 0, i, limit = LOG_DEFAULT;
	json_t			*arr, *r, *lim;
	int			 follow;
	char			 err[512];

	follow = json_is_true(json_object_get(req, "follow"));
	if ((lim = json_object_get(req, "limit")) != NULL) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
		    json_integer_value(lim) > LIST_MAX)
			return (reply_error("bad_request", "--limit: a number from "
			    "1 to %d", LIST_MAX));
		limit = (size_t)json_integer_value(lim);
	}
	if (limit > ctl_sliced_rows(LOG_SLICE)) {
		/*
		 * More than a turn's worth: a slice a turn, as list. The
		 * cursor's snapshot ends the reply; a follower streams what
		 * came after it once the reply is out.
		 */
		if ((cur = store_events_cursor(limit, err, sizeof(err))) != NULL) {
			lj = xcalloc(1, sizeof(*lj));
			lj->cur = cur;
			lj->cl = follow ? cl : NULL;
			return (ctl_sliced(cl, reply_ok(),
			    &(struct ctl_slicer){ NULL, "events",
			    ctl_sliced_rows(LOG_SLICE), log_slice, log_end,
			    log_free }, lj));
		}
		log_warnx("log: %s; read in one turn", err);
	}
	if (store_events(0, limit, &ev, &n) == -1)
		return (reply_error("internal", "database error"));
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, reply_event(&ev[i]));
	r = reply_ok();
	json_object_set_new(r, "events", arr);
	if (follow)
		follow_start(cl, n > 0 ? ev[n - 1].seq : 0, r);
	store_events_free(ev, n);
	return (r);
}

/* True if the peer may use changing verbs: root, our own user, or the socket's group. */
static int
authorized(struct client *cl)
{
	struct passwd	*pw;
	gid_t		 groups[256];
	int		 ng = 256, i;

	if (!cl->cred_ok)
		return (0);
	if (cl->uid == 0 || cl->uid == geteuid())
		return (1);
	if (ctl_gid == (gid_t)-1)
		return (0);
	if (cl->gid == ctl_gid)
		return (1);
	for (i = 0; i < cl->ngroups; i++)
		if (cl->groups[i] == ctl_gid)
			return (1);
	if ((pw = getpwuid(cl->uid)) == NULL)
		return (0);
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) == -1)
		return (0);
	for (i = 0; i < ng; i++)
		if (groups[i] == ctl_gid)
			return (1);
	return (0);
}

/*
 * A handler's "internal" error that came from the store (it failed since
 * FAILURES) becomes the storage problem itself (such as "No space left on
 * device"), with code "storage".
 */
static json_t *
storage_reply(json_t *r, uint64_t failures)
{
	const char	*code = json_string_value(json_object_get(r, "code"));
	const char	*problem = store_problem();

	if (problem == NULL || code == NULL || strcmp(code, "internal") != 0 ||
	    store_failures() == failures)
		return (r);
	json_decref(r);
	return (reply_error("storage", "storage: %s", problem));
}

/* Handles one request line and returns the reply object. */
static json_t *
dispatch(struct client *cl, const char *line, size_t len)
{
	json_error_t	 jerr;
	json_t		*req, *r, *jv;
	const char	*cmd;
	uint64_t	 failures;
	int		 v;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return (reply_error("bad_request", "malformed JSON at column %d: %s",
		    jerr.column, jerr.text));
	if (!json_is_object(req)) {
		json_decref(req);
		return (reply_error("bad_request", "a request is a JSON object"));
	}
	jv = json_object_get(req, "v");
	if (!json_is_integer(jv) || json_integer_value(jv) != CRIER_PROTO_VERSION) {
		r = reply_error("version", "protocol version mismatch: the client "
		    "speaks %lld, crierd speaks %d", json_is_integer(jv) ?
		    (long long)json_integer_value(jv) : 0LL, CRIER_PROTO_VERSION);
		json_decref(req);
		return (r);
	}
	if ((cmd = reply_field(req, "cmd")) == NULL) {
		json_decref(req);
		return (reply_error("bad_request", "missing \"cmd\""));
	}
	v = ctl_verb_find(cmd);
	if (v < 0) {
		r = reply_error("unknown_verb", v == -2 ? "'%s' is ambiguous" :
		    "unknown verb '%s'", cmd);
		json_decref(req);
		return (r);
	}
	if (ctl_verbs[v].changing && !authorized(cl)) {
		log_warnx("ctl: uid %d pid %d refused: %s", (int)cl->uid,
		    (int)cl->pid, ctl_verbs[v].name);
		json_decref(req);
		if (cl->uid == ctlconn_overflow_uid() && ctl_userns[0] != '\0')
			return (reply_error("forbidden", "uid %d may not %s: %s",
			    (int)cl->uid, ctl_verbs[v].name, ctl_userns));
		return (reply_error("forbidden", "uid %d may not %s (root, the "
		    "crierd user or the socket's group only)", (int)cl->uid,
		    ctl_verbs[v].name));
	}
	/* Posts of this turn first: every verb sees what was asked before it. */
	if (v != CTL_POST)
		ctl_post_flush();
	failures = store_failures();
	r = handlers[v](cl, req);
	json_decref(req);
	return (storage_reply(r, failures));
}

/* A client went away. */
static void
client_gone(struct client *cl)
{
	if (cl->follow)
		ctl_nfollowers--;
}

/* Removes a stale socket file, refusing if a daemon still answers there. */
static int
clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, rc;

	if (lstat(path, &st) == -1)
		return (errno == ENOENT ? 0 : -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "socket %s exists and is not a socket", path);
		return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "socket %s: another crierd is running", path);
		return (-1);
	}
	unlink(path);
	return (0);
}

/* Says at start when peers' uids cannot all be seen (a user namespace). */
static void
peers_check(void)
{
	char	map[4096];
	size_t	n;
	FILE	*fp;

	ctl_userns[0] = '\0';
	if ((fp = fopen("/proc/self/uid_map", "re")) == NULL)
		return;
	n = fread(map, 1, sizeof(map) - 1, fp);
	fclose(fp);
	map[n] = '\0';
	if (ctlconn_userns_check(map, ctl_userns, sizeof(ctl_userns)) == 1)
		log_warnx("ctl: %s", ctl_userns);
	else
		ctl_userns[0] = '\0';
}

/* Listens on the configured socket, or on the inherited FD. */
int
ctl_init(const struct crierd_ctx *ctx, int fd, char *err, size_t errlen)
{
	const struct config	*c = ctx->conf;
	uv_loop_t		*loop = ctx->loop;
	struct group	*gr;
	int		 rc;

	reply_init(ctx);
	if (c->socket_group != NULL) {
		if ((gr = getgrnam(c->socket_group)) == NULL) {
			snprintf(err, errlen, "socket_group: no group '%s'",
			    c->socket_group);
			return (-1);
		}
		ctl_gid = gr->gr_gid;
	}
	ctlconn_init(dispatch, client_gone, c->max_clients_per_uid);
	peers_check();
	uv_pipe_init(loop, &ctl_server, 0);
	ctl_listening = 1;
	if (!ctl_follow_inited && uv_timer_init(loop, &ctl_follow_timer) == 0) {
		ctl_follow_inited = 1;
		store_set_event_hook(follow_hook);
	}
	if (fd >= 0) {
		if ((rc = uv_pipe_open(&ctl_server, fd)) != 0) {
			snprintf(err, errlen, "inherited socket: %s", uv_strerror(rc));
			return (-1);
		}
	} else {
		if (strlen(c->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "socket %s: path too long", c->socket);
			return (-1);
		}
		if (clear_stale(c->socket, err, errlen) == -1) {
			if (*err == '\0')
				snprintf(err, errlen, "socket %s: %s", c->socket,
				    strerror(errno));
			return (-1);
		}
		if ((rc = uv_pipe_bind(&ctl_server, c->socket)) != 0) {
			snprintf(err, errlen, "socket %s: %s", c->socket,
			    uv_strerror(rc));
			return (-1);
		}
		if ((ctl_path = strdup(c->socket)) == NULL)
			abort();
		if (chmod(c->socket, c->socket_mode) == -1 ||
		    (ctl_gid != (gid_t)-1 && chown(c->socket, (uid_t)-1, ctl_gid) == -1)) {
			snprintf(err, errlen, "socket %s: %s", c->socket,
			    strerror(errno));
			return (-1);
		}
	}
	if ((rc = uv_listen((uv_stream_t *)&ctl_server, SOMAXCONN,
	    ctlconn_accept)) != 0) {
		snprintf(err, errlen, "socket %s: listen: %s", c->socket,
		    uv_strerror(rc));
		return (-1);
	}
	return (0);
}

/* Closes the server and every client. */
void
ctl_shutdown(void)
{
	ctl_post_flush();
	ctl_sliced_shutdown();
	ctlconn_close_all();
	if (ctl_follow_inited) {
		store_set_event_hook(NULL);
		uv_timer_stop(&ctl_follow_timer);
		uv_close((uv_handle_t *)&ctl_follow_timer, NULL);
		ctl_follow_inited = 0;
	}
	if (ctl_listening) {
		uv_close((uv_handle_t *)&ctl_server, NULL);
		ctl_listening = 0;
	}
	if (ctl_path != NULL) {
		unlink(ctl_path);
		free(ctl_path);
		ctl_path = NULL;
	}
}

/* Why the uids of some peers cannot be seen (a user namespace), or NULL. */
const char *
ctl_peers_note(void)
{
	return (ctl_userns[0] != '\0' ? ctl_userns : NULL);
}
