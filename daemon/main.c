/* crierd: reads campaign calendars and sends each post on time, exactly once. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <uv.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "channel.h"
#include "config.h"
#include "control.h"
#include "crierd.h"
#include "log.h"
#include "schedule.h"
#include "store.h"
#include "when.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/crier/crier.conf"

static struct config	*conf;
static int64_t		 started;
static uv_loop_t	*loop;
static uv_signal_t	 sig_term, sig_int, sig_hup;

/* The configuration in force. */
const struct config *
crierd_config(void)
{
	return (conf);
}

/* When this crierd started. */
int64_t
crierd_started(void)
{
	return (started);
}

/* Tells systemd (when it is listening) about our state. */
static void
notify(const char *what)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, what);
#else
	(void)what;
#endif
}

/* Reloads the configuration; on any error the old one stays. */
int
crierd_reload(int actor, char *err, size_t errlen)
{
	struct config	*nc;

	notify("RELOADING=1");
	if ((nc = config_load(conf->file ? conf->file : DEFAULT_CONFIG,
	    conf->file != NULL, err, errlen)) == NULL)
		goto fail;
	if (strcmp(nc->state_dir, conf->state_dir) != 0 ||
	    strcmp(nc->socket, conf->socket) != 0)
		log_warnx("reload: state_dir and socket changes take effect "
		    "after a restart");
	if (chan_init(nc, err, errlen) == -1)
		goto fail;
	/* chan_init replaced the channels; they now point into NC. */
	sched_set_config(nc);
	config_free(conf);
	conf = nc;
	store_log(NULL, NULL, actor, "reload", conf->file);
	log_info("reload: configuration %s loaded (uid %d)",
	    conf->file ? conf->file : "(built-in defaults)", actor);
	notify("READY=1");
	return (0);
fail:
	config_free(nc);
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
		crierd_reload((int)getuid(), err, sizeof(err));
		return;
	}
	log_info("signal %d: stopping", signum);
	notify("STOPPING=1");
	uv_stop(loop);
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
	    "usage: crierd [-c FILE] [-f] [-v] [--version]\n");
	exit(status);
}

/* The socket systemd passed us, or -1. */
static int
inherited_socket(void)
{
#ifdef HAVE_SYSTEMD
	int	n = sd_listen_fds(1);

	if (n > 1)
		fatalx("socket activation: expected one socket, got %d", n);
	if (n == 1)
		return (SD_LISTEN_FDS_START);
#endif
	return (-1);
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
		{ NULL, 0, NULL, 0 },
	};
	const char	*cfile = getenv("CRIER_CONFIG");
	char		 err[1024];
	int		 ch, verbose = 0, explicit = cfile != NULL;

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
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	log_init(verbose);
	if (cfile == NULL)
		cfile = DEFAULT_CONFIG;
	if ((conf = config_load(cfile, explicit, err, sizeof(err))) == NULL)
		fatalx("%s", err);

	umask(027);
	signal(SIGPIPE, SIG_IGN);
	started = when_now();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("curl_global_init failed");
	if (store_open(conf->state_dir, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (chan_init(conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	loop = uv_default_loop();
	if (sched_init(loop, conf) == -1)
		fatalx("scheduler: cannot set up its timer");
	if (sched_recover() == -1)
		fatalx("store: cannot read what the last run left behind");
	if (ctl_init(loop, conf, inherited_socket(), err, sizeof(err)) == -1)
		fatalx("%s", err);
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_init(loop, &sig_hup);
	uv_signal_start(&sig_hup, on_signal, SIGHUP);
	sched_kick();
	log_info("crierd %s ready: config %s, state %s, socket %s",
	    PACKAGE_VERSION, conf->file ? conf->file : "(built-in defaults)",
	    conf->state_dir, conf->socket);
	notify("READY=1");

	uv_run(loop, UV_RUN_DEFAULT);

	/* Torn down in the reverse order of setting up. */
	ctl_shutdown();
	sched_shutdown();
	uv_walk(loop, close_walk, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_loop_close(loop) != 0)
		log_warnx("event loop: handles still open at exit");
	chan_shutdown();
	store_close();
	curl_global_cleanup();
	config_free(conf);
	log_info("stopped");
	return (0);
}
