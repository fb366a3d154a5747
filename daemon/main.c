/* crierd: reads campaign calendars and sends each post on time, exactly once. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <uv.h>

#include "calendar/calendar.h"
#include "campaign.h"
#include "channel.h"
#include "conf.h"
#include "context.h"
#include "control.h"
#include "engage.h"
#include "http.h"
#include "log.h"
#include "media.h"
#include "netguard.h"
#include "pubcal.h"
#include "mailer.h"
#include "schedule.h"
#include "sdaemon.h"
#include "statedir.h"
#include "store.h"
#include "template.h"
#include "verify.h"
#include "when.h"
#include "../common/proto.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/crier/crier.conf"

static struct crierd_ctx ctx;		/* the one copy of the configuration */
static uv_signal_t	 sig_term, sig_int, sig_hup;
static uv_timer_t	 watchdog;	/* WATCHDOG=1 and STATUS= for systemd */

/* Loads the templates directory of C into *OUT (NULL when none is configured). */
static int
load_templates(const struct config *c, struct tmpl_set **out, char *err,
    size_t errlen)
{
	char	msg[900];

	*out = NULL;
	if (c->templates == NULL)
		return (0);
	if ((*out = tmpl_set_load(c->templates, msg, sizeof(msg))) == NULL) {
		snprintf(err, errlen, "templates %s: %s", c->templates, msg);
		return (-1);
	}
	return (0);
}

/* Tells systemd (when it is listening) about our state. */
static void
notify(const char *what)
{
	sdaemon_notify(what);
}

/* Tells systemd a one-line summary of the deliveries. */
static void
notify_status(void)
{
	int64_t	counts[DS_NSTATES];
	char	buf[256];

	if (store_counts(counts) == -1)
		return;
	snprintf(buf, sizeof(buf), "STATUS=%lld scheduled, %lld held, %lld "
	    "retrying, %lld sent, %lld failed, %lld uncertain",
	    (long long)counts[DS_SCHEDULED], (long long)counts[DS_HELD],
	    (long long)counts[DS_RETRYING], (long long)counts[DS_SENT],
	    (long long)counts[DS_FAILED], (long long)counts[DS_UNCERTAIN]);
	notify(buf);
}

/* Pets the systemd watchdog from the loop, so a stuck loop gets restarted. */
static void
on_watchdog(uv_timer_t *t)
{
	notify("WATCHDOG=1");
	notify_status();
}

/* Starts the watchdog timer at half of systemd's WatchdogSec, or every minute for STATUS. */
static void
start_watchdog(void)
{
	uint64_t	period = 60 * 1000, usec;

	if ((usec = sdaemon_watchdog_usec()) > 0)
		period = usec / 2000 > 0 ? usec / 2000 : 1;
	uv_timer_init(ctx.loop, &watchdog);
	uv_timer_start(&watchdog, on_watchdog, period, period);
	uv_unref((uv_handle_t *)&watchdog);
}

/*
 * Reloads configuration, templates and calendars; on any error the old
 * ones stay. Registered in the context, so modules reload through it.
 */
static int
reload(int actor, char *err, size_t errlen)
{
	struct config	*conf = ctx.conf, *nc;
	struct tmpl_set	*tmpls = ctx.tmpls, *nt = NULL;

	notify("RELOADING=1");
	if ((nc = conf_load(conf->file ? conf->file : DEFAULT_CONFIG,
	    conf->file != NULL, &chan_config_rules, err, errlen)) == NULL)
		goto fail;
	if (strcmp(nc->state_dir, conf->state_dir) != 0 ||
	    strcmp(nc->socket, conf->socket) != 0)
		log_warnx("reload: state_dir and socket changes take effect "
		    "after a restart");
	if (load_templates(nc, &nt, err, errlen) == -1)
		goto fail;
	if (netguard_parse(nc->fetch_allow, err, errlen) == -1)
		goto fail;
	if (chan_init(nc, false, err, errlen) == -1)
		goto fail;
	/* From here on NC is in force. */
	if (media_setup(nc, true, err, errlen) == -1)
		log_warnx("reload: %s", err);
	netguard_set_allow(nc->fetch_allow, err, errlen);
	/* chan_init replaced the channels; they now point into NC. */
	ctx.conf = nc;
	ctx.tmpls = nt;
	chan_ready();
	sched_kick();
	camp_reconfigure();
	/* Nothing points into the old ones now. */
	conf_free(conf);
	tmpl_set_free(tmpls);
	conf = nc;
	store_log(NULL, NULL, actor, "reload", conf->file);
	log_info("reload: configuration %s loaded (uid %d)",
	    conf->file ? conf->file : "(built-in defaults)", actor);
	notify("READY=1");
	notify_status();
	return (0);
fail:
	tmpl_set_free(nt);
	conf_free(nc);
	log_errx("reload failed, keeping the previous configuration: %s", err);
	notify("READY=1");
	return (-1);
}

/* SIGTERM, SIGINT: stop. SIGHUP: reload. */
static void
on_signal(uv_signal_t *h, int signum)
{
	char	err[1024];

	if (signum == SIGHUP) {
		ctx.reload((int)getuid(), err, sizeof(err));
		return;
	}
	log_info("signal %d: stopping", signum);
	notify("STOPPING=1");
	cal_interrupt();	/* a calendar load under way ends within a second */
	uv_stop(ctx.loop);
}

/* Closes every handle still open so the loop can be closed. */
static void
close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Prints usage and exits with STATUS. */
static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: crierd [-c FILE] [-f] [-v] [--version]\n"
	    "       crierd [-c FILE] --check [--json] [--calendar FILE.ics]... "
	    "[--from T] [--to T]\n");
	exit(status);
}

/* The socket systemd passed us, or -1. */
static int
inherited_socket(void)
{
	int	n = sdaemon_listen_fds();

	if (n < 0)
		fatalx("socket activation: cannot take the socket systemd "
		    "passed");
	if (n > 1)
		fatalx("socket activation: expected one socket, got %d", n);
	if (n == 1)
		return (SDAEMON_LISTEN_FDS_START);
	return (-1);
}

/*
 * Memory that a reload frees goes back to the system. glibc raises its
 * mmap and trim thresholds as large blocks are freed (up to 32 and 64 MiB),
 * after which a worker thread's arena keeps a whole expanded calendar's
 * worth of free pages for good (263 MiB after 10 reloads of 100k); fixed
 * thresholds switch that off, and two arenas are enough for the loop and
 * the worker pool.
 */
static void
memory_setup(void)
{
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "check", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },
		{ "calendar", required_argument, NULL, 'K' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_opts	 vo;
	char			*calv[64];
	const char		*from = NULL, *to = NULL;
	int			 check = 0, json = 0;
	size_t			 ncal = 0;
	bool			 abandon = false;
	const char	*cfile = getenv("CRIER_CONFIG");
	struct config	*conf;
	uv_loop_t	*loop;
	char		 err[1024];
	int		 ch, verbose = 0, explicit = cfile != NULL;

	memory_setup();
	while ((ch = getopt_long(argc, argv, "c:fvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfile = optarg;
			explicit = 1;
			break;
		case 'f':
			break;	/* crierd never forks: -f is the default */
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("crierd %s (protocol %d)\n", PACKAGE_VERSION,
			    CRIER_PROTO_VERSION);
			return (0);
		case 'h':
			usage(0);
		case 'C':
			check = 1;
			break;
		case 'J':
			json = 1;
			break;
		case 'K':
			if (ncal == sizeof(calv) / sizeof(calv[0]))
				fatalx("--calendar: at most %zu files", ncal);
			calv[ncal++] = optarg;
			break;
		case 'F':
			from = optarg;
			break;
		case 'T':
			to = optarg;
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	log_init(verbose);
	if (cfile == NULL)
		cfile = DEFAULT_CONFIG;
	if ((json || ncal || from || to) && !check)
		usage(2);
	if ((conf = conf_load(cfile, explicit, &chan_config_rules, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (check) {
		int rc;

		memset(&vo, 0, sizeof(vo));
		vo.conf = conf;
		vo.calendars = calv;
		vo.ncalendars = ncal;
		vo.json = json;
		vo.from = when_now();
		if (from != NULL && when_parse(from, conf->timezone, &vo.from) == -1)
			fatalx("--from: '%s' is not a date or time "
			    "(2021-05-17 or 2021-05-17T09:00:00Z)", from);
		vo.to = vo.from + conf->horizon * 1000;
		if (to != NULL && when_parse(to, conf->timezone, &vo.to) == -1)
			fatalx("--to: '%s' is not a date or time "
			    "(2021-05-17 or 2021-05-17T09:00:00Z)", to);
		rc = verify_run(&vo);
		conf_free(conf);
		return (rc);
	}
	ctx.conf = conf;
	if (load_templates(conf, &ctx.tmpls, err, sizeof(err)) == -1)
		fatalx("%s", err);
	ctx.reload = reload;

	umask(027);
	signal(SIGPIPE, SIG_IGN);
	ctx.started = when_now();
	if (statedir_check(conf->state_dir, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (store_open(conf->state_dir, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (chan_init(conf, false, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (media_setup(conf, true, err, sizeof(err)) == -1 ||
	    netguard_set_allow(conf->fetch_allow, err, sizeof(err)) == -1)
		fatalx("%s", err);
	ctx.loop = loop = uv_default_loop();
	if (sched_init(&ctx) == -1)
		fatalx("scheduler: cannot set up its timer");
	if (sched_recover() == -1)
		fatalx("store: cannot read what the last run left behind");
	if (ctl_init(&ctx, inherited_socket(), err, sizeof(err)) == -1)
		fatalx("%s", err);
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_init(loop, &sig_hup);
	uv_signal_start(&sig_hup, on_signal, SIGHUP);
	if (http_init(loop, conf->ca_file) == -1)
		fatalx("http: cannot set up on the event loop");
	chan_ready();
	if (mailer_init(loop) == -1)
		fatalx("smtp: cannot set up the mailer threads");
	camp_init(&ctx);
	pubcal_init(&ctx);
	engage_init(&ctx);
	sched_kick();
	conf = NULL;	/* a reload replaces it: ctx.conf from here on */
	log_info("crierd %s ready: config %s, state %s, socket %s",
	    PACKAGE_VERSION, ctx.conf->file ? ctx.conf->file :
	    "(built-in defaults)", ctx.conf->state_dir, ctx.conf->socket);
	notify("READY=1");
	notify_status();
	start_watchdog();

	uv_run(loop, UV_RUN_DEFAULT);

	/* Torn down in the reverse order of setting up. */
	uv_timer_stop(&watchdog);
	/*
	 * A pause or resume still moving rows answers its client ("stopping":
	 * stored, finished at the next start) while the connection is open.
	 */
	sched_stopping();
	ctl_shutdown();
	camp_shutdown();
	mailer_shutdown();
	engage_shutdown();
	pubcal_shutdown();
	http_shutdown();
	chan_stop();
	sched_shutdown();
	/*
	 * Close what is left (signals) and let a calendar job see
	 * cal_interrupt(); one still reading its file after half a second (libical
	 * cannot be interrupted) is left behind: it holds nothing that must
	 * be saved, and exiting ends it.
	 */
	uv_walk(loop, close_walk, NULL);
	for (int64_t until = when_now() + 500; camp_busy() &&
	    when_now() < until; ) {
		uv_run(loop, UV_RUN_NOWAIT);
		if (camp_busy())
			uv_sleep(10);
	}
	if ((abandon = camp_busy()))
		log_warnx("stopping: a calendar load is still reading its file; "
		    "not waiting for it");
	else {
		uv_run(loop, UV_RUN_DEFAULT);
		if (uv_loop_close(loop) != 0)
			log_warnx("event loop: handles still open at exit");
	}
	chan_shutdown();
	netguard_shutdown();
	media_shutdown();
	store_close();
	tmpl_set_free(ctx.tmpls);
	conf_free(ctx.conf);
	log_info("stopped");
	/* Exit hooks (and leak checkers) would wait on the abandoned load. */
	if (abandon)
		_exit(0);
	return (0);
}
