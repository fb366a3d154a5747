/*
 * The control verbs' handlers: ctl_<fn> for each verb of CTL_VERBS
 * (common/proto.h), in daemon/ctl_*.c by subject. control.c's table is
 * generated from the same list, so a verb without a handler does not link.
 * Each takes the peer and its request and returns the reply object.
 */
#ifndef CRIER_CTL_VERBS_H
#define CRIER_CTL_VERBS_H

#include <jansson.h>

#include "ctlconn.h"
#include "../common/proto.h"

#define CTL_HANDLER_DECL(id, f, pr, n, p, o, c, u)			\
	json_t	*ctl_##f(struct client *, json_t *);
CTL_VERBS(CTL_HANDLER_DECL)
#undef CTL_HANDLER_DECL

#endif
