/*
 * SMTP off the event loop. Each mailer is one thread with its own curl
 * multi and easy handles, hence one connection, reused from message to
 * message (one TLS session for a whole list). The loop hands it one
 * message at a time, whose `sending` mark the loop has already committed
 * (in a batch, before handing any of the batch over). Once the server
 * accepts DATA the thread asks the loop whether the message may still go
 * (the recipient may have unsubscribed meanwhile) and waits for the
 * answer; then it reports how the message ended. Both go through one
 * uv_async queue, so every store write stays on the loop thread.
 *
 * libcurl waits for the reply to the final "." and to QUIT in a blocking
 * loop whatever interface is used, so deadlines are kept by the loop: a
 * 100 ms timer compares each thread's stage deadline (RFC 5321 4.5.3.2)
 * with the clock and, when one passes or crierd stops, wakes the thread's
 * multi handle and shuts its socket down, which ends any wait at once.
 */
#include <config.h>

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "http.h"
#include "log.h"
#include "mailer.h"

#define MAILER_TICK_MS		100	/* how often deadlines are checked */
#define MAILER_MAX_FDS		4	/* sockets of one connection attempt */
#define MAILER_STOP_WAIT_MS	1500	/* for threads to end at shutdown */
#define MAILER_POLL_MS		1000
#define MAILER_CONNECT_POLL_MS	200

/* What a thread tells the loop. */
enum mev_type {
	MEV_DATA,	/* DATA accepted: may it still go? then answer */
	MEV_DONE,	/* a message ended */
	MEV_EXIT,	/* the thread is about to return */
};

struct mevent {
	TAILQ_ENTRY(mevent)	 entry;
	struct mailer		*m;
	enum mev_type		 type;
	size_t			 tag;
	struct mailer_result	 r;
};

/* The loop's answer to MEV_DATA. */
enum data_state { DS_NONE, DS_ASKED, DS_GO, DS_DROP };

struct mailer {
	LIST_ENTRY(mailer)	 entry;		/* loop thread */
	/* Set by mailer_open, read-only afterwards. */
	char			*url;
	char			*username;
	char			*password;
	char			*ca_file;
	char			*from;
	bool			 starttls;
	int64_t			 timeouts[MT_N];
	int64_t			 msg_timeout;
	const struct mailer_ops	*ops;
	void			*arg;
	uv_thread_t		 thread;
	/* Loop thread only. */
	bool			 closed;	/* no more callbacks */
	bool			 busy;		/* a message is out */
	size_t			 busy_tag;
	bool			 granted;	/* its data callback said go */
	bool			 joined;
	/* Shared, under mu. */
	uv_mutex_t		 mu;
	uv_cond_t		 cv;
	bool			 has_job;
	char			*job_rcpt;
	char			*job_msg;
	size_t			 job_len;
	size_t			 job_tag;
	bool			 quit;		/* mailer_close */
	bool			 abort;		/* crierd stops */
	enum data_state		 data;
	enum mailer_stage	 stage;
	uint64_t		 deadline;	/* uv_hrtime() ns, 0: none */
	bool			 timed_out;
	enum mailer_stage	 timed_stage;
	int			 fds[MAILER_MAX_FDS];
	size_t			 nfds;
	CURLM			*multi;		/* NULL once being cleaned up */
	bool			 exited;
	/* The thread only. */
	CURLM			*t_multi;
	CURL			*easy;
	char			*msg;
	size_t			 len;
	size_t			 off;
	bool			 asked;
	bool			 sent_data;
	char			 reply[256];
	enum mailer_stage	 reply_stage;
	char			 conn_err[200];
	char			 errbuf[CURL_ERROR_SIZE];
};

TAILQ_HEAD(mevents, mevent);
LIST_HEAD(mailers, mailer);

static uv_async_t	 ml_async;
static uv_timer_t	 ml_timer;
static bool		 ml_inited;
static uv_loop_t	*ml_loop;	/* the loop mailer_init set up on */
static bool		 ml_stopping;	/* loop thread: mailer_shutdown runs */
static uv_mutex_t	 ml_lock;	/* the queue and ml_closed */
static bool		 ml_closed;	/* the async handle is gone */
static struct mevents	 ml_events = TAILQ_HEAD_INITIALIZER(ml_events);
static struct mailers	 ml_all = LIST_HEAD_INITIALIZER(ml_all);

static int	close_cb(void *, curl_socket_t);

static const int64_t ml_defaults[MT_N] = {
	[MT_CONNECT] = 30 * 1000,
	[MT_GREETING] = 5 * 60 * 1000,
	[MT_MAIL] = 5 * 60 * 1000,
	[MT_RCPT] = 5 * 60 * 1000,
	[MT_DATA_INIT] = 2 * 60 * 1000,
	[MT_DATA_BLOCK] = 3 * 60 * 1000,
	[MT_DATA_END] = 10 * 60 * 1000,
	[MT_QUIT] = 30 * 1000,
};

static const char *ml_stage_names[MS_NSTAGES] = {
	[MS_IDLE] = "idle",
	[MS_CONNECT] = "connect",
	[MS_GREETING] = "greeting",
	[MS_EHLO] = "EHLO",
	[MS_STARTTLS] = "STARTTLS",
	[MS_AUTH] = "AUTH",
	[MS_MAIL] = "MAIL",
	[MS_RCPT] = "RCPT",
	[MS_DATA] = "DATA",
	[MS_BLOCK] = "data block",
	[MS_END] = "end of DATA",
	[MS_QUIT] = "QUIT",
};

/* The default of timeout T, in ms. */
int64_t
mailer_default_timeout(enum mailer_timeout t)
{
	return (t >= 0 && t < MT_N ? ml_defaults[t] : 0);
}

/* The name of stage S. */
const char *
mailer_stage_name(enum mailer_stage s)
{
	return (s >= 0 && s < MS_NSTAGES ? ml_stage_names[s] : "?");
}

/* The timeout that bounds stage S, or -1 for none. */
static int
stage_timeout(enum mailer_stage s)
{
	static const int	t[MS_NSTAGES] = {
		[MS_IDLE] = -1, [MS_CONNECT] = MT_CONNECT,
		[MS_GREETING] = MT_GREETING, [MS_EHLO] = MT_GREETING,
		[MS_STARTTLS] = MT_GREETING, [MS_AUTH] = MT_GREETING,
		[MS_MAIL] = MT_MAIL, [MS_RCPT] = MT_RCPT,
		[MS_DATA] = MT_DATA_INIT, [MS_BLOCK] = MT_DATA_BLOCK,
		[MS_END] = MT_DATA_END, [MS_QUIT] = MT_QUIT,
	};

	return (s >= 0 && s < MS_NSTAGES ? t[s] : -1);
}

/* Wakes M's thread from any wait (mu held): its multi, its sockets, its cond. */
static void
wake_locked(struct mailer *m)
{
	size_t	i;

	if (m->multi != NULL)
		curl_multi_wakeup(m->multi);
	/* A blocked read or poll on a socket returns once it is shut down. */
	for (i = 0; i < m->nfds; i++)
		shutdown(m->fds[i], SHUT_RDWR);
	uv_cond_broadcast(&m->cv);
}

/* Enters stage S (thread): its deadline starts now. */
static void
set_stage(struct mailer *m, enum mailer_stage s)
{
	int	t = stage_timeout(s);

	uv_mutex_lock(&m->mu);
	m->stage = s;
	m->deadline = t < 0 ? 0 : uv_hrtime() + (uint64_t)m->timeouts[t] *
	    1000000;
	uv_mutex_unlock(&m->mu);
}

/* True if M must stop what it does (thread): crierd stops or a deadline passed. */
static bool
must_stop(struct mailer *m)
{
	bool	stop;

	uv_mutex_lock(&m->mu);
	stop = m->abort || m->timed_out;
	uv_mutex_unlock(&m->mu);
	return (stop);
}

/* Queues EV for the loop (any thread); dropped once the loop side is gone. */
static void
post(struct mevent *ev)
{
	uv_mutex_lock(&ml_lock);
	if (ml_closed) {
		uv_mutex_unlock(&ml_lock);
		free(ev);
		return;
	}
	TAILQ_INSERT_TAIL(&ml_events, ev, entry);
	uv_async_send(&ml_async);
	uv_mutex_unlock(&ml_lock);
}

/* A new event of TYPE from M. */
static struct mevent *
event_new(struct mailer *m, enum mev_type type, size_t tag)
{
	struct mevent	*ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		abort();
	ev->m = m;
	ev->type = type;
	ev->tag = tag;
	return (ev);
}

/* curl's socket: made and connected here, so connecting is a stage of its own. */
static curl_socket_t
open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct mailer	*m = arg;
	struct pollfd	 pfd;
	socklen_t	 sl = sizeof(int);
	int		 fd, err = 0, rc;

	(void)purpose;
	if ((fd = socket(a->family, a->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    a->protocol)) == -1) {
		snprintf(m->conn_err, sizeof(m->conn_err), "socket: %s",
		    strerror(errno));
		return (CURL_SOCKET_BAD);
	}
	uv_mutex_lock(&m->mu);
	if (m->nfds < MAILER_MAX_FDS)
		m->fds[m->nfds++] = fd;
	uv_mutex_unlock(&m->mu);
	set_stage(m, MS_CONNECT);
	if (connect(fd, &a->addr, a->addrlen) == -1) {
		if (errno != EINPROGRESS)
			err = errno;
		while (err == 0) {
			if (must_stop(m)) {
				err = ETIMEDOUT;
				break;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			pfd.revents = 0;
			rc = poll(&pfd, 1, MAILER_CONNECT_POLL_MS);
			if (rc == -1 && errno != EINTR)
				err = errno;
			else if (rc > 0) {
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
				    &sl) == -1)
					err = errno;
				break;
			}
		}
	}
	if (err != 0) {
		snprintf(m->conn_err, sizeof(m->conn_err), "cannot connect: %s",
		    strerror(err));
		close_cb(m, fd);
		return (CURL_SOCKET_BAD);	/* curl tries the next address */
	}
	m->conn_err[0] = '\0';
	set_stage(m, MS_GREETING);
	return (fd);
}

/* Tells curl the socket is connected already (open_cb did it). */
static int
sockopt_cb(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	(void)arg;
	(void)fd;
	(void)purpose;
	return (CURL_SOCKOPT_ALREADY_CONNECTED);
}

/* Forgets and closes socket FD. */
static int
close_cb(void *arg, curl_socket_t fd)
{
	struct mailer	*m = arg;
	size_t		 i;

	uv_mutex_lock(&m->mu);
	for (i = 0; i < m->nfds; i++)
		if (m->fds[i] == fd) {
			m->fds[i] = m->fds[--m->nfds];
			break;
		}
	uv_mutex_unlock(&m->mu);
	return (close(fd));
}

/* True if LINE (LEN bytes) is command CMD followed by a space or the line end. */
static bool
is_cmd(const char *line, size_t len, const char *cmd)
{
	size_t	n = strlen(cmd);

	return (len > n && strncasecmp(line, cmd, n) == 0 &&
	    (line[n] == ' ' || line[n] == '\r' || line[n] == '\n'));
}

/* Follows the commands curl sends, to know each reply's deadline (never logs: AUTH). */
static int
debug_cb(CURL *e, curl_infotype type, char *data, size_t size, void *arg)
{
	struct mailer	*m = arg;
	enum mailer_stage s;

	(void)e;
	if (type != CURLINFO_HEADER_OUT)
		return (0);
	if (is_cmd(data, size, "EHLO") || is_cmd(data, size, "HELO"))
		s = MS_EHLO;
	else if (is_cmd(data, size, "STARTTLS"))
		s = MS_STARTTLS;
	else if (is_cmd(data, size, "AUTH"))
		s = MS_AUTH;
	else if (is_cmd(data, size, "MAIL"))
		s = MS_MAIL;
	else if (is_cmd(data, size, "RCPT"))
		s = MS_RCPT;
	else if (is_cmd(data, size, "DATA"))
		s = MS_DATA;
	else if (is_cmd(data, size, "QUIT"))
		s = MS_QUIT;
	else {
		uv_mutex_lock(&m->mu);
		s = m->stage;	/* an AUTH continuation, RSET, NOOP... */
		uv_mutex_unlock(&m->mu);
	}
	set_stage(m, s);
	return (0);
}

/* Keeps the server's latest error reply (curl passes SMTP replies here). */
static size_t
header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct mailer	*m = arg;
	size_t		 n = size * nitems, o = 0, i;

	/* Only 4xx and 5xx: a later "221 Bye" must not hide the refusal. */
	if (n < 3 || (buf[0] != '4' && buf[0] != '5') ||
	    buf[1] < '0' || buf[1] > '9' || buf[2] < '0' || buf[2] > '9')
		return (n);
	for (i = 0; i < n && o + 1 < sizeof(m->reply); i++) {
		if (buf[i] == '\r' || buf[i] == '\n')
			break;
		if ((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f)
			m->reply[o++] = buf[i];
	}
	if (o > 0) {
		m->reply[o] = '\0';
		uv_mutex_lock(&m->mu);
		m->reply_stage = m->stage;
		uv_mutex_unlock(&m->mu);
	}
	return (n);
}

/* Discards what an SMTP transfer would "download". */
static size_t
write_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	(void)buf;
	(void)arg;
	return (size * nitems);
}

/* curl reads the message: the first call means DATA was accepted. */
static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct mailer	*m = arg;
	size_t		 n = size * nitems;
	bool		 go;

	if (!m->asked) {
		/* The loop says whether it may still go before a byte does. */
		m->asked = true;
		set_stage(m, MS_BLOCK);
		uv_mutex_lock(&m->mu);
		m->data = DS_ASKED;
		uv_mutex_unlock(&m->mu);
		post(event_new(m, MEV_DATA, m->job_tag));
		uv_mutex_lock(&m->mu);
		while (m->data == DS_ASKED && !m->abort && !m->timed_out)
			uv_cond_wait(&m->cv, &m->mu);
		go = m->data == DS_GO;
		uv_mutex_unlock(&m->mu);
		if (!go)
			return (CURL_READFUNC_ABORT);
		m->sent_data = true;
	}
	if (n > m->len - m->off)
		n = m->len - m->off;
	memcpy(buf, m->msg + m->off, n);
	m->off += n;
	/* Each block taken restarts the data block clock; then the end. */
	set_stage(m, m->off >= m->len ? MS_END : MS_BLOCK);
	return (n);
}

/* Aborts a transfer from within curl's blocking waits (called about every second). */
static int
progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return (must_stop(arg) ? 1 : 0);
}

/* Sets the options every message of M shares; -1 on failure. */
static int
setup_easy(struct mailer *m)
{
	CURL		*e = m->easy;
	int64_t		 longest = 0;
	char		 from[1024];
	int		 rc = 0, i;

	for (i = 0; i < MT_N; i++)
		if (m->timeouts[i] > longest)
			longest = m->timeouts[i];
	snprintf(from, sizeof(from), "<%s>", m->from);
	rc |= curl_easy_setopt(e, CURLOPT_URL, m->url);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	rc |= curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
	rc |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	rc |= curl_easy_setopt(e, CURLOPT_READDATA, m);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, m);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	rc |= curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress_cb);
	rc |= curl_easy_setopt(e, CURLOPT_XFERINFODATA, m);
	rc |= curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
	rc |= curl_easy_setopt(e, CURLOPT_DEBUGDATA, m);
	rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
	rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, m);
	rc |= curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	rc |= curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, m);
	rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, m);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, m->errbuf);
	/* The stages' deadlines are ours; curl's only back them up. */
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(m->timeouts[MT_CONNECT] + 4 * m->timeouts[MT_GREETING] +
	    60000));
	rc |= curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    (long)(longest / 1000 + 60));
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)m->msg_timeout);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (m->ca_file != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, m->ca_file);
	/* STARTTLS is required on smtp:// unless starttls = no (loopback). */
	rc |= curl_easy_setopt(e, CURLOPT_USE_SSL, m->starttls ?
	    (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (m->username != NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_USERNAME, m->username);
		rc |= curl_easy_setopt(e, CURLOPT_PASSWORD, m->password);
	}
	return (rc == 0 ? 0 : -1);
}

/* Sends message MSG to RCPT over M's connection (thread); fills R. */
static void
run_message(struct mailer *m, const char *rcpt, struct mailer_result *r)
{
	struct curl_slist	*to = NULL;
	CURLMsg			*cm;
	CURLcode		 code = CURLE_OK;
	char			 addr[1024];
	bool			 finished = false, timed_out, aborted;
	enum mailer_stage	 stage;
	long			 reply = 0;
	int			 running, left;
	int64_t			 limit;

	memset(r, 0, sizeof(*r));
	m->off = 0;
	m->asked = false;
	m->sent_data = false;
	m->reply[0] = '\0';
	m->conn_err[0] = '\0';
	m->errbuf[0] = '\0';
	snprintf(addr, sizeof(addr), "<%s>", rcpt);
	if ((to = curl_slist_append(NULL, addr)) == NULL ||
	    curl_easy_setopt(m->easy, CURLOPT_MAIL_RCPT, to) != CURLE_OK ||
	    curl_easy_setopt(m->easy, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)m->len) != CURLE_OK ||
	    curl_multi_add_handle(m->t_multi, m->easy) != CURLM_OK) {
		curl_slist_free_all(to);
		r->curl_code = CURLE_FAILED_INIT;
		snprintf(r->error, sizeof(r->error), "cannot set up the SMTP "
		    "transfer");
		return;
	}
	set_stage(m, MS_CONNECT);
	while (!finished) {
		if (curl_multi_perform(m->t_multi, &running) != CURLM_OK) {
			code = CURLE_FAILED_INIT;
			break;
		}
		while ((cm = curl_multi_info_read(m->t_multi, &left)) != NULL)
			if (cm->msg == CURLMSG_DONE) {
				code = cm->data.result;
				finished = true;
			}
		if (finished)
			break;
		if (must_stop(m)) {
			code = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		curl_multi_poll(m->t_multi, NULL, 0, MAILER_POLL_MS, NULL);
	}
	/* Cut short: curl closes the connection without QUIT. */
	curl_multi_remove_handle(m->t_multi, m->easy);
	curl_easy_setopt(m->easy, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(to);
	curl_easy_getinfo(m->easy, CURLINFO_RESPONSE_CODE, &reply);

	/* Idle from here: no deadline may fire between two messages. */
	uv_mutex_lock(&m->mu);
	timed_out = m->timed_out;
	stage = timed_out ? m->timed_stage : m->stage;
	aborted = m->abort;
	m->timed_out = false;
	m->data = DS_NONE;
	m->stage = MS_IDLE;
	m->deadline = 0;
	uv_mutex_unlock(&m->mu);

	r->curl_code = (int)code;
	r->code = reply;
	r->stage = stage;
	r->data = m->sent_data;
	snprintf(r->reply, sizeof(r->reply), "%s", m->reply);
	r->reply_stage = m->reply[0] != '\0' ? m->reply_stage : MS_IDLE;
	if (code == CURLE_OK) {
		/* Accepted, whatever happened to the clock meanwhile. */
		r->reply[0] = '\0';
	} else if (timed_out) {
		r->timed_out = true;
		r->curl_code = CURLE_OPERATION_TIMEDOUT;
		limit = stage_timeout(stage) >= 0 ?
		    m->timeouts[stage_timeout(stage)] : 0;
		snprintf(r->error, sizeof(r->error), "SMTP timeout: nothing "
		    "from the server for %lld s at %s", (long long)(limit /
		    1000), mailer_stage_name(stage));
		r->reply[0] = '\0';
	} else if (aborted) {
		r->aborted = true;
		snprintf(r->error, sizeof(r->error), "crierd stopped during the "
		    "SMTP transaction (at %s)", mailer_stage_name(stage));
	} else if (m->conn_err[0] != '\0')
		snprintf(r->error, sizeof(r->error), "%s", m->conn_err);
	else if (m->errbuf[0] != '\0')
		snprintf(r->error, sizeof(r->error), "%s", m->errbuf);
	else
		snprintf(r->error, sizeof(r->error), "%s",
		    curl_easy_strerror(code));
}

/* The thread: sends what the loop hands over until closed or stopped. */
static void
worker(void *arg)
{
	struct mailer	*m = arg;
	struct mevent	*ev;
	char		*rcpt;
	size_t		 tag;
	bool		 abort_now;

	uv_mutex_lock(&m->mu);
	for (;;) {
		while (!m->has_job && !m->quit && !m->abort)
			uv_cond_wait(&m->cv, &m->mu);
		if (m->abort || !m->has_job)
			break;
		rcpt = m->job_rcpt;
		m->msg = m->job_msg;
		m->len = m->job_len;
		tag = m->job_tag;
		m->job_rcpt = m->job_msg = NULL;
		m->has_job = false;
		uv_mutex_unlock(&m->mu);

		ev = event_new(m, MEV_DONE, tag);
		run_message(m, rcpt, &ev->r);
		free(rcpt);
		free(m->msg);
		m->msg = NULL;
		post(ev);
		uv_mutex_lock(&m->mu);
	}
	abort_now = m->abort;
	uv_mutex_unlock(&m->mu);
	/* QUIT on a kept connection, bounded like any stage. */
	if (!abort_now)
		set_stage(m, MS_QUIT);
	uv_mutex_lock(&m->mu);
	m->multi = NULL;	/* no wakeups into a multi being cleaned up */
	uv_mutex_unlock(&m->mu);
	curl_multi_cleanup(m->t_multi);
	curl_easy_cleanup(m->easy);
	m->t_multi = NULL;
	m->easy = NULL;
	uv_mutex_lock(&m->mu);
	m->stage = MS_IDLE;
	m->deadline = 0;
	m->exited = true;
	uv_cond_broadcast(&m->cv);
	uv_mutex_unlock(&m->mu);
	post(event_new(m, MEV_EXIT, 0));
}

/* Frees M (its thread has ended or never started). */
static void
mailer_free(struct mailer *m)
{
	if (m->password != NULL) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	free(m->url);
	free(m->username);
	free(m->ca_file);
	free(m->from);
	free(m->job_rcpt);
	free(m->job_msg);
	if (m->easy != NULL)
		curl_easy_cleanup(m->easy);
	if (m->t_multi != NULL)
		curl_multi_cleanup(m->t_multi);
	uv_cond_destroy(&m->cv);
	uv_mutex_destroy(&m->mu);
	free(m);
}

/* Acts on EV on the loop thread, then frees it. */
static void
dispatch(struct mevent *ev)
{
	struct mailer	*m = ev->m;
	int		 rc = -1;

	switch (ev->type) {
	case MEV_DATA:
		if (!m->closed && !ml_stopping && m->busy &&
		    m->busy_tag == ev->tag)
			rc = m->ops->data(m->arg, ev->tag);
		m->granted = rc == 0;
		uv_mutex_lock(&m->mu);
		m->data = rc == 0 ? DS_GO : DS_DROP;
		uv_cond_broadcast(&m->cv);
		uv_mutex_unlock(&m->mu);
		break;
	case MEV_DONE:
		m->busy = false;
		m->granted = false;
		if (!m->closed)
			m->ops->done(m->arg, ev->tag, &ev->r);
		break;
	case MEV_EXIT:
		uv_thread_join(&m->thread);
		m->joined = true;
		if (m->closed) {
			LIST_REMOVE(m, entry);
			mailer_free(m);
		}
		break;
	}
	free(ev);
}

/* Runs every queued event. */
static void
drain(void)
{
	struct mevents	 q = TAILQ_HEAD_INITIALIZER(q);
	struct mevent	*ev;

	uv_mutex_lock(&ml_lock);
	TAILQ_CONCAT(&q, &ml_events, entry);
	uv_mutex_unlock(&ml_lock);
	while ((ev = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, ev, entry);
		dispatch(ev);
	}
}

/* The threads have news. */
static void
on_async(uv_async_t *h)
{
	(void)h;
	drain();
}

/* Every 100 ms while mailers exist: deadlines. */
static void
on_tick(uv_timer_t *t)
{
	struct mailer	*m;
	uint64_t	 now = uv_hrtime();

	(void)t;
	LIST_FOREACH(m, &ml_all, entry) {
		uv_mutex_lock(&m->mu);
		if (m->deadline != 0 && now >= m->deadline && !m->timed_out &&
		    !m->exited) {
			m->timed_out = true;
			m->timed_stage = m->stage;
			wake_locked(m);
		}
		uv_mutex_unlock(&m->mu);
	}
	if (LIST_EMPTY(&ml_all))
		uv_timer_stop(&ml_timer);
}

/* Sets the mailers up on LOOP. */
int
mailer_init(uv_loop_t *loop)
{
	static bool	lock_ready;

	if (ml_inited)
		return (-1);
	/* Once: a thread that outlived a shutdown may still take it. */
	if (!lock_ready) {
		if (uv_mutex_init(&ml_lock) != 0)
			return (-1);
		lock_ready = true;
	}
	if (uv_async_init(loop, &ml_async, on_async) != 0)
		return (-1);
	uv_timer_init(loop, &ml_timer);
	ml_closed = false;
	ml_stopping = false;
	ml_inited = true;
	ml_loop = loop;
	return (0);
}

/* The daemon's loop once the mailers are set up and until they stop; NULL otherwise (--check). */
uv_loop_t *
mailer_loop(void)
{
	return (ml_inited && !ml_stopping ? ml_loop : NULL);
}

/* True once mailer_shutdown has begun. */
bool
mailer_stopping(void)
{
	return (ml_stopping);
}

/* Starts a mailer thread for C. */
struct mailer *
mailer_open(const struct mailer_conf *c, const struct mailer_ops *ops,
    void *arg, char *err, size_t errlen)
{
	struct mailer	*m;
	int		 i;

	if (!ml_inited || ml_stopping) {
		snprintf(err, errlen, "crierd is stopping");
		return (NULL);
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		abort();
	if (uv_mutex_init(&m->mu) != 0) {
		free(m);
		snprintf(err, errlen, "cannot create a mutex");
		return (NULL);
	}
	if (uv_cond_init(&m->cv) != 0) {
		uv_mutex_destroy(&m->mu);
		free(m);
		snprintf(err, errlen, "cannot create a condition variable");
		return (NULL);
	}
	if ((m->url = strdup(c->url)) == NULL ||
	    (m->from = strdup(c->from_addr)) == NULL ||
	    (c->username != NULL && (m->username = strdup(c->username)) ==
	    NULL) ||
	    (c->password != NULL && (m->password = strdup(c->password)) ==
	    NULL) ||
	    (c->ca_file != NULL && *c->ca_file != '\0' &&
	    (m->ca_file = strdup(c->ca_file)) == NULL))
		abort();
	m->starttls = c->starttls;
	for (i = 0; i < MT_N; i++)
		m->timeouts[i] = c->timeouts[i] > 0 ? c->timeouts[i] :
		    ml_defaults[i];
	m->msg_timeout = c->message_timeout;
	m->ops = ops;
	m->arg = arg;
	if (http_global() == -1 || (m->easy = curl_easy_init()) == NULL ||
	    (m->t_multi = curl_multi_init()) == NULL || setup_easy(m) == -1) {
		snprintf(err, errlen, "cannot set up curl for SMTP");
		goto fail;
	}
	m->multi = m->t_multi;
	if (uv_thread_create(&m->thread, worker, m) != 0) {
		snprintf(err, errlen, "cannot start the SMTP thread");
		goto fail;
	}
	LIST_INSERT_HEAD(&ml_all, m, entry);
	if (!uv_is_active((uv_handle_t *)&ml_timer))
		uv_timer_start(&ml_timer, on_tick, MAILER_TICK_MS,
		    MAILER_TICK_MS);
	return (m);
fail:
	mailer_free(m);
	return (NULL);
}

/* Hands message MSG for RCPT to M's thread. */
int
mailer_send(struct mailer *m, const char *rcpt, char *msg, size_t len,
    size_t tag)
{
	char	*r;

	if (ml_stopping || m->closed || m->busy ||
	    (r = strdup(rcpt)) == NULL) {
		free(msg);
		return (-1);
	}
	m->busy = true;
	m->busy_tag = tag;
	m->granted = false;
	uv_mutex_lock(&m->mu);
	m->job_rcpt = r;
	m->job_msg = msg;
	m->job_len = len;
	m->job_tag = tag;
	m->has_job = true;
	uv_cond_broadcast(&m->cv);
	uv_mutex_unlock(&m->mu);
	return (0);
}

/* Ends M: its thread says QUIT and ends; no more callbacks. */
void
mailer_close(struct mailer *m)
{
	if (m == NULL || m->closed)
		return;
	m->closed = true;
	if (m->joined) {
		/* Its thread ended already (mailer_shutdown). */
		LIST_REMOVE(m, entry);
		mailer_free(m);
		return;
	}
	uv_mutex_lock(&m->mu);
	m->quit = true;
	uv_cond_broadcast(&m->cv);
	uv_mutex_unlock(&m->mu);
}

/*
 * Stops every mailer: threads are told to abort and woken, given
 * MAILER_STOP_WAIT_MS to end, what they reported is run, and a message
 * still out is reported aborted. A thread that does not end in time (a
 * name lookup that hangs) is left to the process's exit.
 */
void
mailer_shutdown(void)
{
	struct mailer		*m, *next;
	struct mailer_result	 r;
	uint64_t		 until;
	bool			 all;

	if (!ml_inited)
		return;
	ml_stopping = true;
	LIST_FOREACH(m, &ml_all, entry) {
		uv_mutex_lock(&m->mu);
		m->abort = true;
		wake_locked(m);
		uv_mutex_unlock(&m->mu);
	}
	until = uv_hrtime() + (uint64_t)MAILER_STOP_WAIT_MS * 1000000;
	for (;;) {
		all = true;
		LIST_FOREACH(m, &ml_all, entry) {
			uv_mutex_lock(&m->mu);
			if (!m->exited)
				all = false;
			uv_mutex_unlock(&m->mu);
		}
		if (all || uv_hrtime() >= until)
			break;
		uv_sleep(10);
	}
	/* What the threads said before they ended (an exit frees closed ones). */
	drain();
	for (m = LIST_FIRST(&ml_all); m != NULL; m = next) {
		next = LIST_NEXT(m, entry);	/* done may close (free) M */
		if (m->busy && !m->closed) {
			memset(&r, 0, sizeof(r));
			r.curl_code = CURLE_ABORTED_BY_CALLBACK;
			r.aborted = true;
			r.data = m->granted;
			snprintf(r.error, sizeof(r.error), "crierd stopped during "
			    "the SMTP transaction");
			m->busy = false;
			m->ops->done(m->arg, m->busy_tag, &r);
		}
	}
	uv_mutex_lock(&ml_lock);
	ml_closed = true;
	uv_mutex_unlock(&ml_lock);
	/* Late events of threads that had not ended are dropped with them. */
	drain();
	/* Closed mailers go now, the others when their owner closes them. */
	for (m = LIST_FIRST(&ml_all); m != NULL; m = next) {
		next = LIST_NEXT(m, entry);
		uv_mutex_lock(&m->mu);
		all = m->exited;
		uv_mutex_unlock(&m->mu);
		if (!all) {
			log_warnx("smtp: a mailer thread did not stop in time");
			LIST_REMOVE(m, entry);
			continue;
		}
		if (!m->joined) {
			uv_thread_join(&m->thread);
			m->joined = true;
		}
		if (m->closed) {
			LIST_REMOVE(m, entry);
			mailer_free(m);
		}
	}
	uv_timer_stop(&ml_timer);
	uv_close((uv_handle_t *)&ml_timer, NULL);
	uv_close((uv_handle_t *)&ml_async, NULL);
	ml_inited = false;
}
