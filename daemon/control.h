/* The control socket: JSON lines from crierctl, one table of verbs (SPEC §7). */
#ifndef CRIER_CONTROL_H
#define CRIER_CONTROL_H

#include <stddef.h>
#include <uv.h>

struct crierd_ctx;

/* Listens on the socket of CTX's configuration (or an inherited one, FD >= 0). */
int	ctl_init(const struct crierd_ctx *ctx, int fd, char *err, size_t errlen);
/* Stops listening, closes every client and removes the socket file. */
void	ctl_shutdown(void);
/* Why the uids of some peers cannot be seen (a user namespace), or NULL. */
const char *ctl_peers_note(void);

#endif
