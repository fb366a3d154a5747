/*
 * Campaigns: the configured calendars, loaded off the loop thread, checked,
 * and reconciled into deliveries (SPEC §4, §6).
 */
#ifndef CRIER_CAMPAIGN_H
#define CRIER_CAMPAIGN_H

#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "template.h"

#define CAMP_DEBOUNCE_MS	500	/* after the last change to a calendar file */

/* Starts loading every calendar of C; T (may be NULL) renders their posts. */
int	 camp_init(uv_loop_t *loop, const struct config *c, const struct tmpl_set *t);
/* Switches to configuration C and templates T and reloads every calendar. */
void	 camp_set_config(const struct config *c, const struct tmpl_set *t);
/* Re-reads every calendar (SIGHUP, crierctl reload). */
void	 camp_reload_all(void);
/* The calendars for `status`: name, source, events, loaded_at, error. */
json_t	*camp_status_json(void);
/* True while a calendar is being loaded (tests and shutdown use it). */
int	 camp_busy(void);
void	 camp_shutdown(void);

#endif
