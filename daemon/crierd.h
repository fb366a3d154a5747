/* What the daemon's modules may ask of main: the running configuration and reload. */
#ifndef CRIER_CRIERD_H
#define CRIER_CRIERD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The configuration in force. */
const struct config	*crierd_config(void);
struct tmpl_set;
/* The templates in force, or NULL when none are configured. */
const struct tmpl_set	*crierd_templates(void);
/* When this crierd started, ms since the epoch. */
int64_t			 crierd_started(void);
/* Reloads configuration (and what hangs off it); -1 with ERR keeps the old one. */
int			 crierd_reload(int actor, char *err, size_t errlen);

#endif
