/*
 * One SMTP connection on its own thread. libcurl waits for some SMTP
 * replies (end of DATA, QUIT) in a blocking loop even under its multi
 * interface, so SMTP never runs on the event loop: a mailer's thread
 * sends the messages the loop hands it, and reports back through a
 * uv_async; every callback runs on the loop thread.
 */
#ifndef CRIER_MAILER_H
#define CRIER_MAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* Where an SMTP exchange stands (what a stall or a timeout is named by). */
enum mailer_stage {
	MS_IDLE,	/* between messages: no deadline */
	MS_CONNECT,	/* name lookup and TCP connect */
	MS_GREETING,	/* the 220 greeting (after the TLS handshake of smtps://) */
	MS_EHLO,
	MS_STARTTLS,	/* STARTTLS and the TLS handshake after it */
	MS_AUTH,
	MS_MAIL,
	MS_RCPT,
	MS_DATA,	/* DATA, until the 354 */
	MS_BLOCK,	/* sending the message */
	MS_END,		/* the final ".", until the server's reply */
	MS_QUIT,
	MS_NSTAGES
};

/* The configurable timeouts; RFC 5321 4.5.3.2 gives the defaults. */
enum mailer_timeout {
	MT_CONNECT,	/* TCP connect: 30 s */
	MT_GREETING,	/* each reply before MAIL (220, EHLO, STARTTLS, AUTH): 5 min */
	MT_MAIL,	/* 5 min */
	MT_RCPT,	/* 5 min */
	MT_DATA_INIT,	/* the reply to DATA: 2 min */
	MT_DATA_BLOCK,	/* each block of the message to be taken: 3 min */
	MT_DATA_END,	/* the reply to the final ".": 10 min */
	MT_QUIT,	/* 30 s */
	MT_N
};

/* A mailer's settings (copied by mailer_open). */
struct mailer_conf {
	const char	*url;		/* smtp:// or smtps:// */
	bool		 starttls;	/* required on smtp:// */
	const char	*username;	/* NULL: no AUTH */
	const char	*password;
	const char	*ca_file;	/* extra CA bundle, may be NULL */
	const char	*from_addr;	/* MAIL FROM */
	int64_t		 timeouts[MT_N];	/* ms; 0: the default */
	int64_t		 message_timeout;	/* ms for one whole message, 0: none */
};

/* How one message ended. */
struct mailer_result {
	int			 curl_code;	/* CURLcode; 0: accepted */
	long			 code;		/* the server's last reply code */
	char			 reply[256];	/* its latest 4xx/5xx line, or "" */
	enum mailer_stage	 reply_stage;	/* the command that line answered */
	char			 error[400];	/* what went wrong, or "" */
	enum mailer_stage	 stage;		/* where it ended */
	bool			 data;		/* the data callback let the
						   message go: it may have
						   arrived */
	bool			 timed_out;
	bool			 aborted;	/* crierd is stopping */
};

struct mailer_ops {
	/*
	 * The server accepted DATA for message TAG: commit what must be
	 * durable before its content goes out. 0 sends it, -1 drops it
	 * (the connection is then cut; the message never completes).
	 */
	int	(*data)(void *arg, size_t tag);
	/* Message TAG ended (exactly once per mailer_send that returned 0). */
	void	(*done)(void *arg, size_t tag, const struct mailer_result *r);
};

struct mailer;

/* Default of timeout T in ms. */
int64_t		 mailer_default_timeout(enum mailer_timeout t);
/* The stage's name for messages ("end of DATA"). */
const char	*mailer_stage_name(enum mailer_stage s);
/* Sets the mailers up on LOOP. */
int		 mailer_init(uv_loop_t *loop);
/*
 * Stops every mailer within about a second: transfers under way are cut
 * (their done callbacks get r->aborted, with r->data telling whether the
 * message may have arrived), then the threads are joined and the loop
 * handles closed (run the loop afterwards).
 */
void		 mailer_shutdown(void);
/* True once mailer_shutdown has begun. */
bool		 mailer_stopping(void);
/* The daemon's loop once the mailers are set up and until they stop; NULL otherwise (--check). */
uv_loop_t	*mailer_loop(void);
/* Starts a mailer thread for C, reporting to OPS with ARG; NULL with ERR. */
struct mailer	*mailer_open(const struct mailer_conf *c,
		    const struct mailer_ops *ops, void *arg, char *err,
		    size_t errlen);
/*
 * Hands message MSG (LEN bytes, taken over) for RCPT to M's thread; one
 * message at a time. -1 (MSG freed) if one is under way or crierd stops.
 */
int		 mailer_send(struct mailer *m, const char *rcpt, char *msg,
		    size_t len, size_t tag);
/*
 * Ends M: no callback is made after this call; the connection is closed
 * (QUIT) on its thread and M freed later. No message may be under way.
 */
void		 mailer_close(struct mailer *m);

#endif
