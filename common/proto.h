/*
 * The control protocol, shared by crierd and crierctl: one JSON object per line
 * each way over a Unix stream socket (SPEC §7). The verb table lives here and
 * only here; the daemon attaches a handler to each entry, crierctl a printer.
 */
#ifndef CRIER_PROTO_H
#define CRIER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define CRIER_PROTO_VERSION	1
#define CTL_MAX_REQUEST		(64 * 1024)	/* a request line, newline included */
#define CTL_MAX_CLIENTS		256

/*
 * VERB(id, fn, printer, name, positional, options, changing, usage)
 * fn: crierd answers the verb with ctl_<fn> (daemon/ctl_*.c); printer:
 *   crierctl shows the reply with print_<printer> (ctl/print.c). Both tables
 *   are generated from this list, so a verb without either does not link.
 * positional: space-separated names of positional arguments; a trailing '?'
 *   marks one optional.
 * options: space-separated "--name" (a flag), "--name=s" (string), "--name=n"
 *   (integer), "--name=kv" (repeatable key=value into an object "name"s),
 *   "--name=l" (comma list into an array). The JSON field is the name with
 *   '-' turned into '_'.
 * changing: the verb changes state, so the peer's credentials are checked and
 *   the change is logged with its uid.
 */
#define CTL_VERBS(VERB)							\
	VERB(STATUS, status, status, "status", "", "", false,		\
	    "status")							\
	VERB(LIST, list, list, "list", "",				\
	    "--state=s --channel=s --from=s --to=s --limit=n --utc", false, \
	    "list [--state S] [--channel C] [--from T] [--to T] [--limit N] [--utc]") \
	VERB(SHOW, show, show, "show", "id", "", false,			\
	    "show ID")							\
	VERB(AGENDA, agenda, agenda, "agenda", "", "--days=n --limit=n", \
	    false, "agenda [--days N] [--limit N]")			\
	VERB(PREVIEW, preview, preview, "preview", "id?",		\
	    "--calendar=s --uid=s", false,				\
	    "preview ID | --calendar C --uid U")			\
	VERB(POST, post, post, "post", "",				\
	    "--channel=l --text=s --template=s --var=kv --at=s --in=s --hold " \
	    "--dry-run", true,						\
	    "post --channel C[,C] (--text T | --template T [--var k=v]...) [--at T | --in 10m] [--hold] [--dry-run]") \
	VERB(CANCEL, cancel, move, "cancel", "id", "--event", true,	\
	    "cancel ID [--event]")					\
	VERB(HOLD, hold, move, "hold", "id", "--event", true,		\
	    "hold ID [--event]")					\
	VERB(APPROVE, approve, move, "approve", "id", "--only", true,	\
	    "approve ID [--only]")					\
	VERB(RESCHEDULE, reschedule, move, "reschedule", "id time",	\
	    "--event", true,						\
	    "reschedule ID T [--event]")				\
	VERB(RESTORE, restore, move, "restore", "id", "", true,		\
	    "restore ID")						\
	VERB(EDIT, edit, edit, "edit", "id",				\
	    "--text=s --template=s --var=kv", true,			\
	    "edit ID (--text T | --template T [--var k=v]...)")		\
	VERB(RELOAD, reload, reload, "reload", "", "", true,		\
	    "reload")							\
	VERB(RETRY, retry, move, "retry", "id", "", true,		\
	    "retry ID")							\
	VERB(SEND_NOW, send_now, move, "send-now", "id", "", true,	\
	    "send-now ID")						\
	VERB(PAUSE, pause, pause, "pause", "channel?", "--all", true,	\
	    "pause [CHANNEL|--all]")					\
	VERB(RESUME, resume, pause, "resume", "channel?", "--all", true, \
	    "resume [CHANNEL|--all]")					\
	VERB(LOG, log, log, "log", "", "--limit=n --follow", false,	\
	    "log [--follow] [--limit N]")				\
	VERB(UNSUBSCRIBE, unsubscribe, suppress, "unsubscribe", "email", \
	    "", true,							\
	    "unsubscribe EMAIL")					\
	VERB(SUBSCRIBE, subscribe, suppress, "subscribe", "email", "", true, \
	    "subscribe EMAIL")						\
	VERB(SUPPRESSIONS, suppressions, suppressions, "suppressions",	\
	    "", "", false,						\
	    "suppressions")						\
	VERB(REPORT, report, report, "report", "",			\
	    "--from=s --to=s --html=s", false,				\
	    "report [--from T] [--to T] [--html FILE]")			\
	VERB(PUBLISHED, published, published, "published", "", "", false, \
	    "published")						\
	VERB(STATS, stats, stats, "stats", "", "--calendar=s", false,	\
	    "stats [--calendar C]")

enum ctl_verb_id {
#define CTL_VERB_ENUM(id, f, pr, n, p, o, c, u)	CTL_##id,
	CTL_VERBS(CTL_VERB_ENUM)
#undef CTL_VERB_ENUM
	CTL_NVERBS
};

struct ctl_verb {
	const char	*name;
	const char	*positional;
	const char	*options;
	bool		 changing;
	const char	*usage;
};

static const struct ctl_verb ctl_verbs[CTL_NVERBS] = {
#define CTL_VERB_ENTRY(id, f, pr, n, p, o, c, u)	{ n, p, o, c, u },
	CTL_VERBS(CTL_VERB_ENTRY)
#undef CTL_VERB_ENTRY
};

/* Index of the verb NAME names exactly or by unique prefix; -1 none, -2 ambiguous. */
static inline int
ctl_verb_find(const char *name)
{
	size_t	len = strlen(name);
	int	i, found = -1;

	if (len == 0)
		return (-1);
	for (i = 0; i < CTL_NVERBS; i++) {
		if (strcmp(ctl_verbs[i].name, name) == 0)
			return (i);
		if (strncmp(ctl_verbs[i].name, name, len) == 0)
			found = (found == -1) ? i : -2;
	}
	return (found);
}

/* Delivery states (SPEC §6), as stored and as sent over the wire. */
#define CRIER_STATES(S)							\
	S(SCHEDULED, "scheduled") S(SENDING, "sending") S(SENT, "sent")	\
	S(RETRYING, "retrying") S(FAILED, "failed") S(HELD, "held")	\
	S(CANCELLED, "cancelled") S(MISSED, "missed")			\
	S(UNCERTAIN, "uncertain")

enum dstate {
#define CRIER_STATE_ENUM(id, s)	DS_##id,
	CRIER_STATES(CRIER_STATE_ENUM)
#undef CRIER_STATE_ENUM
	DS_NSTATES
};

static const char *const dstate_names[DS_NSTATES] = {
#define CRIER_STATE_NAME(id, s)	s,
	CRIER_STATES(CRIER_STATE_NAME)
#undef CRIER_STATE_NAME
};

/* The state named S, or -1. */
static inline int
dstate_from_name(const char *s)
{
	int	i;

	for (i = 0; i < DS_NSTATES; i++)
		if (strcmp(dstate_names[i], s) == 0)
			return (i);
	return (-1);
}

#endif
