/*
 * Campaigns: the configured calendars, loaded off the loop thread, checked,
 * and reconciled into deliveries (SPEC §4, §6).
 */
#ifndef CRIER_CAMPAIGN_H
#define CRIER_CAMPAIGN_H

#include <jansson.h>
#include <uv.h>

#include "conf.h"
#include "template.h"

#define CAMP_DEBOUNCE_MS	500	/* after the last change to a calendar file */
/*
 * The one rule for a calendar with a problem, as the log, status and
 * --check say it: a broken event is left out, a file that cannot be used
 * at all keeps the last good version.
 */
#define CAMP_RULE_EVENT	"an event with a problem is left out of this version " \
			"(its posts stay as the last good version made them); " \
			"the rest of the calendar is applied"
#define CAMP_RULE_FILE	"this version is not applied; the last good version " \
			"stays in force"

struct cal_problem;

struct crierd_ctx;
/* Starts loading every calendar of CTX's configuration; its templates render the posts. */
int	 camp_init(const struct crierd_ctx *ctx);
/* Sets up every calendar afresh from the configuration now in the context. */
void	 camp_reconfigure(void);
/* Re-reads every calendar (SIGHUP, crierctl reload). */
void	 camp_reload_all(void);
/* The calendars for `status`: name, source, events, loaded_at, error. */
json_t	*camp_status_json(void);
/* True while a calendar is being loaded (tests and shutdown use it). */
int	 camp_busy(void);
void	 camp_shutdown(void);
/* Calendar problem PR as one clean sentence naming file, line and event (in BUF). */
const char *camp_problem_text(const struct cal_problem *pr, char *buf, size_t len);

#endif
