/* The state directory's ownership and modes, checked before crierd uses it. */
#ifndef CRIER_STATEDIR_H
#define CRIER_STATEDIR_H

#include <stddef.h>

/*
 * Creates DIR (0750) if it is missing, then refuses (-1, ERR naming the
 * path, its owner and its mode) when DIR or anything crier keeps in it is
 * owned by a user other than root and the one crierd runs as, is group- or
 * world-writable, or is a symbolic link (like sshd's StrictModes). The
 * control socket is not checked (it is replaced at start), nor media/
 * (images people put there for posts).
 */
int	statedir_check(const char *dir, char *err, size_t errlen);

#endif
