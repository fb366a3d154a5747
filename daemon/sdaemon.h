/* systemd's notify, watchdog and socket-activation protocols, libsystemd loaded on demand. */
#ifndef CRIER_SDAEMON_H
#define CRIER_SDAEMON_H

#include <stdint.h>

#define SDAEMON_LISTEN_FDS_START	3	/* SD_LISTEN_FDS_START */

/* Sends STATE (e.g. "READY=1") to systemd's notify socket, if there is one. */
void	sdaemon_notify(const char *state);
/* The sockets systemd passed (0: none); -1 (logged) if it passed some libsystemd cannot take. */
int	sdaemon_listen_fds(void);
/* systemd's watchdog interval in microseconds, or 0 when there is none. */
uint64_t sdaemon_watchdog_usec(void);

#endif
