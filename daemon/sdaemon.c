/*
 * systemd's protocols through libsystemd, loaded with dlopen only when the
 * environment shows systemd talking to crierd (NOTIFY_SOCKET, LISTEN_FDS,
 * WATCHDOG_USEC): run any other way, crierd never maps libsystemd and the
 * libraries it brings (libgcrypt, libgpg-error, liblzma, liblz4, libcap:
 * about 0.9 MiB resident once their constructors and relocations ran).
 */
#include <config.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sdaemon.h"

#define SDAEMON_LIB	"libsystemd.so.0"

static int	(*sd_notify_fn)(int, const char *);
static int	(*sd_listen_fds_fn)(int);
static int	(*sd_watchdog_fn)(int, uint64_t *);

#ifdef HAVE_SYSTEMD
static int	 sd_state;	/* 0: not looked at yet, 1: loaded, -1: not used */

/* Whether systemd passed crierd anything through the environment. */
static int
sdaemon_wanted(void)
{
	return (getenv("NOTIFY_SOCKET") != NULL ||
	    getenv("LISTEN_FDS") != NULL || getenv("WATCHDOG_USEC") != NULL);
}

/* Puts the address of symbol NAME of H in *FN (a function pointer); -1 if absent. */
static int
sdaemon_sym(void *h, const char *name, void *fn)
{
	void	*p;

	if ((p = dlsym(h, name)) == NULL)
		return (-1);
	memcpy(fn, &p, sizeof(p));	/* ISO C has no object-to-function cast */
	return (0);
}
#endif

/* Loads libsystemd the first time it is needed; 1 when usable, -1 when not. */
static int
sdaemon_load(void)
{
#ifdef HAVE_SYSTEMD
	void	*h;

	if (sd_state != 0)
		return (sd_state);
	sd_state = -1;
	if (!sdaemon_wanted())
		return (-1);
	if ((h = dlopen(SDAEMON_LIB, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_warnx("systemd: cannot load %s: %s", SDAEMON_LIB, dlerror());
		return (-1);
	}
	if (sdaemon_sym(h, "sd_notify", &sd_notify_fn) == -1 ||
	    sdaemon_sym(h, "sd_listen_fds", &sd_listen_fds_fn) == -1 ||
	    sdaemon_sym(h, "sd_watchdog_enabled", &sd_watchdog_fn) == -1) {
		log_warnx("systemd: %s lacks sd_notify, sd_listen_fds or "
		    "sd_watchdog_enabled", SDAEMON_LIB);
		dlclose(h);
		return (-1);
	}
	sd_state = 1;	/* kept loaded until exit */
	return (1);
#else
	return (-1);
#endif
}

/* Sends STATE to systemd's notify socket, if there is one. */
void
sdaemon_notify(const char *state)
{
	if (sdaemon_load() == 1)
		sd_notify_fn(0, state);
}

/* The number of sockets systemd passed: 0 when none, -1 when they cannot be taken. */
int
sdaemon_listen_fds(void)
{
	int	set = getenv("LISTEN_FDS") != NULL;

	if (sdaemon_load() == 1)
		return (sd_listen_fds_fn(1));
	if (set)
		log_warnx("socket activation: LISTEN_FDS is set but crierd "
		    "cannot use libsystemd");
	return (set ? -1 : 0);
}

/* systemd's watchdog interval in microseconds, 0 when there is none. */
uint64_t
sdaemon_watchdog_usec(void)
{
	uint64_t	usec = 0;

	if (sdaemon_load() == 1 && sd_watchdog_fn(0, &usec) > 0)
		return (usec);
	return (0);
}
