/*
 * Unit tests: calendar reconcile on the real store. Real iCalendar text is
 * parsed and expanded, reconciled, changed and reconciled again; the rows
 * and their states are what the store then holds.
 */
#include <config.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/calendar/calendar.h"
#include "daemon/channel.h"
#include "daemon/conf.h"
#include "daemon/delivery.h"
#include "daemon/log.h"
#include "daemon/reconcile.h"
#include "daemon/schedule.h"
#include "daemon/store.h"
#include "tests/unit/unit.h"

static char		 tmpdir[] = "/tmp/crier-check-reconcile-XXXXXX";
static char		 err[1024];
static struct config	*conf;
static time_t		 t0;		/* the tests' "now", whole seconds */

/* Writes TEXT to DIR/NAME. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char	 p[700];
	FILE	*fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* A configuration with channels a, b and t (20 characters), a fresh store. */
static void
setup(void)
{
	static int	 n;
	char		 dir[700], text[1024], p[800];

	snprintf(dir, sizeof(dir), "%s/s%d", tmpdir, n++);
	snprintf(text, sizeof(text), "mkdir -p '%s'", dir);
	ck_assert_int_eq(system(text), 0);
	snprintf(text, sizeof(text), "[crier]\nstate_dir = %s\ntimezone = UTC\n"
	    "\n[channel a]\ntype = outbox\n\n[channel b]\ntype = outbox\n"
	    "\n[channel t]\ntype = outbox\nlimit = 20\n", dir);
	write_file(dir, "crier.conf", text);
	snprintf(p, sizeof(p), "%s/crier.conf", dir);
	conf = conf_load(p, true, &chan_config_rules, err, sizeof(err));
	ck_assert_msg(conf != NULL, "%s", err);
	ck_assert_msg(chan_init(conf, true, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(store_open(dir, err, sizeof(err)) == 0, "%s", err);
	t0 = time(NULL);
}

static void
teardown(void)
{
	store_close();
	chan_shutdown();
	conf_free(conf);
	conf = NULL;
}

/* The iCalendar time SECS seconds after t0. */
static const char *
at(long secs, char buf[32])
{
	time_t		t = t0 + secs;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y%m%dT%H%M%SZ", &tm);
	return (buf);
}

/* One VEVENT: UID at SECS from now, STATUS (NULL: none), DESCRIPTION TEXT. */
static void
event(char *ics, size_t len, const char *uid, long secs, const char *status,
    const char *text)
{
	char	b[32];
	size_t	n = strlen(ics);

	snprintf(ics + n, len - n, "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:"
	    "20270101T000000Z\r\nDTSTART:%s\r\n%s%s%sSUMMARY:%s\r\n"
	    "DESCRIPTION:%s\r\nEND:VEVENT\r\n", uid, at(secs, b),
	    status ? "STATUS:" : "", status ? status : "", status ? "\r\n" : "",
	    uid, text);
}

/*
 * Parses and expands the calendar of the VEVENTs in BODY (the next day) and
 * reconciles it for CHANNELS; HELD gets the first post held for a problem.
 */
static void
reconcile(const char *body, const char *channels, char *held, size_t heldlen)
{
	struct cal_calendar	*cal;
	struct cal_occurrence	*occ = NULL;
	struct reconcile_in	 in;
	char			 ics[16384];
	char			 h[640];
	ssize_t			 n;

	snprintf(ics, sizeof(ics), "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//crier tests//EN\r\n%sEND:VCALENDAR\r\n", body);
	cal = cal_parse(ics, strlen(ics), "c.ics", "UTC", err, sizeof(err));
	ck_assert_msg(cal != NULL, "%s", err);
	memset(&in, 0, sizeof(in));
	in.from = ((int64_t)t0 - 3600) * 1000;
	in.to = ((int64_t)t0 + 86400) * 1000;
	n = cal_expand(cal, (time_t)(in.from / 1000), (time_t)(in.to / 1000),
	    &occ);
	ck_assert_int_ge(n, 0);
	in.name = "c";
	in.label = "c.ics";
	in.channels = channels;
	in.conf = conf;
	in.occ = occ;
	in.nocc = (size_t)n;
	ck_assert_int_eq(reconcile_run(&in, held ? held : h, held ? heldlen :
	    sizeof(h)), 0);
	cal_occurrences_free(occ, (size_t)n);
	cal_free(cal);
}

/* Loads the delivery of event UID on channel CH into D. */
static void
get(const char *uid, const char *ch, struct delivery *d)
{
	char	id[DELIVERY_ID_LEN + 1];

	store_delivery_id("c", uid, NULL, ch, id);
	ck_assert_msg(store_get(id, d) == 0, "no delivery of %s on %s", uid, ch);
}

/* Asserts the state, calendar state and due (SECS from t0; -1: any) of UID on CH. */
static void
expect(const char *uid, const char *ch, enum dstate state, enum cal_state cs,
    long secs)
{
	struct delivery	d;

	get(uid, ch, &d);
	ck_assert_msg(d.state == state, "%s on %s is %s, not %s", uid, ch,
	    dstate_names[d.state], dstate_names[state]);
	ck_assert_msg(d.cal_state == cs, "%s on %s: calendar says %s, not %s",
	    uid, ch, store_cal_state_name(d.cal_state) ?
	    store_cal_state_name(d.cal_state) : "nothing",
	    store_cal_state_name(cs) ? store_cal_state_name(cs) : "nothing");
	if (secs >= 0)
		ck_assert_int_eq(d.due, ((int64_t)t0 + secs) * 1000);
	store_delivery_clear(&d);
}

/* How many deliveries calendar c has. */
static size_t
rows(void)
{
	struct delivery	*ds;
	size_t		 n;

	ck_assert_int_eq(store_list_calendar("c", &ds, &n), 0);
	store_deliveries_free(ds, n);
	return (n);
}

/* How many events the store has logged. */
static size_t
nevents(void)
{
	struct store_event	*e;
	size_t			 n;

	ck_assert_int_eq(store_events(0, 100000, &e, &n), 0);
	store_events_free(e, n);
	return (n);
}

/* New occurrences become rows in the state the calendar says; again changes nothing. */
START_TEST(test_new_and_idempotent)
{
	char	ics[8192] = "";
	size_t	ev;

	event(ics, sizeof(ics), "x@t", 7200, NULL, "X text");
	event(ics, sizeof(ics), "y@t", 10800, "TENTATIVE", "Y text");
	event(ics, sizeof(ics), "z@t", 14400, "CANCELLED", "Z text");
	reconcile(ics, "a,b", NULL, 0);
	ck_assert_uint_eq(rows(), 6);
	expect("x@t", "a", DS_SCHEDULED, CS_SCHEDULED, 7200);
	expect("x@t", "b", DS_SCHEDULED, CS_SCHEDULED, 7200);
	expect("y@t", "a", DS_HELD, CS_HELD, 10800);
	expect("z@t", "b", DS_CANCELLED, CS_CANCELLED, 14400);
	ev = nevents();
	reconcile(ics, "a,b", NULL, 0);
	ck_assert_uint_eq(rows(), 6);
	ck_assert_uint_eq(nevents(), ev);
	expect("x@t", "a", DS_SCHEDULED, CS_SCHEDULED, 7200);
	expect("y@t", "b", DS_HELD, CS_HELD, 10800);
}
END_TEST

/* Moved, confirmed, cancelled, restored and removed occurrences. */
START_TEST(test_changes)
{
	char		ics[8192] = "";
	struct delivery	d;

	event(ics, sizeof(ics), "x@t", 7200, NULL, "X text");
	event(ics, sizeof(ics), "y@t", 10800, "TENTATIVE", "Y text");
	event(ics, sizeof(ics), "z@t", 14400, "CANCELLED", "Z text");
	event(ics, sizeof(ics), "v@t", 16000, NULL, "V text");
	event(ics, sizeof(ics), "w@t", 18000, NULL, "W text");
	reconcile(ics, "a,b", NULL, 0);
	ics[0] = '\0';
	event(ics, sizeof(ics), "x@t", 21600, NULL, "X text, edited");
	event(ics, sizeof(ics), "y@t", 10800, "CONFIRMED", "Y text");
	event(ics, sizeof(ics), "z@t", 14400, NULL, "Z text");
	event(ics, sizeof(ics), "v@t", 16000, "CANCELLED", "V text");
	reconcile(ics, "a,b", NULL, 0);
	ck_assert_uint_eq(rows(), 10);
	expect("x@t", "a", DS_SCHEDULED, CS_SCHEDULED, 21600);
	get("x@t", "b", &d);
	ck_assert_ptr_nonnull(strstr(d.text, "X text, edited"));
	store_delivery_clear(&d);
	expect("y@t", "a", DS_SCHEDULED, CS_SCHEDULED, 10800);
	expect("z@t", "a", DS_SCHEDULED, CS_SCHEDULED, 14400);
	expect("v@t", "b", DS_CANCELLED, CS_CANCELLED, 16000);
	/* Gone from the calendar: cancelled, and the calendar state says why. */
	expect("w@t", "a", DS_CANCELLED, CS_REMOVED, 18000);
	expect("w@t", "b", DS_CANCELLED, CS_REMOVED, 18000);
	/* Back in the calendar: scheduled again. */
	event(ics, sizeof(ics), "w@t", 18000, NULL, "W text");
	reconcile(ics, "a,b", NULL, 0);
	expect("w@t", "a", DS_SCHEDULED, CS_SCHEDULED, 18000);
}
END_TEST

/* What went out is never touched again: not moved, re-rendered or cancelled. */
START_TEST(test_sent_not_requeued)
{
	char			ics[8192] = "";
	char			id[DELIVERY_ID_LEN + 1];
	struct store_update	u;
	struct delivery		d;

	event(ics, sizeof(ics), "x@t", 7200, NULL, "X text");
	reconcile(ics, "a,b", NULL, 0);
	store_delivery_id("c", "x@t", NULL, "a", id);
	ck_assert_int_eq(delivery_move(id, DELIVERY_BIT(DS_SCHEDULED),
	    DS_SENDING, NULL, STORE_ACTOR_DAEMON, "sending", NULL, NULL), 0);
	memset(&u, 0, sizeof(u));
	u.sent_at = ((int64_t)t0 + 1) * 1000;
	ck_assert_int_eq(delivery_move(id, DELIVERY_BIT(DS_SENDING), DS_SENT,
	    &u, STORE_ACTOR_DAEMON, "sent", NULL, NULL), 0);
	ics[0] = '\0';
	event(ics, sizeof(ics), "x@t", 21600, NULL, "X text, edited");
	reconcile(ics, "a,b", NULL, 0);
	expect("x@t", "a", DS_SENT, CS_SCHEDULED, 7200);
	get("x@t", "a", &d);
	ck_assert_ptr_null(strstr(d.text, "edited"));
	store_delivery_clear(&d);
	expect("x@t", "b", DS_SCHEDULED, CS_SCHEDULED, 21600);
	/* Removed from the calendar: the sent one stays sent. */
	reconcile("", "a,b", NULL, 0);
	expect("x@t", "a", DS_SENT, CS_SCHEDULED, 7200);
	expect("x@t", "b", DS_CANCELLED, CS_REMOVED, 21600);
}
END_TEST

/* An operator's hold and reschedule stand until the calendar changes the occurrence. */
START_TEST(test_override_survives)
{
	char			ics[8192] = "";
	char			ida[DELIVERY_ID_LEN + 1], idb[DELIVERY_ID_LEN + 1];
	struct store_update	u;
	struct store_override	o;

	event(ics, sizeof(ics), "x@t", 7200, NULL, "X text");
	reconcile(ics, "a,b", NULL, 0);
	store_delivery_id("c", "x@t", NULL, "a", ida);
	store_delivery_id("c", "x@t", NULL, "b", idb);
	/* As `hold` and `reschedule` do it. */
	ck_assert_int_eq(delivery_move(ida, DELIVERY_BIT(DS_SCHEDULED), DS_HELD,
	    NULL, 1000, "hold", NULL, NULL), 0);
	ck_assert_int_eq(store_override_put(ida, "state", "hold", 0, 1000), 0);
	memset(&u, 0, sizeof(u));
	u.due = ((int64_t)t0 + 30000) * 1000;
	ck_assert_int_eq(delivery_move(idb, DELIVERY_BIT(DS_SCHEDULED),
	    DS_SCHEDULED, &u, 1000, "reschedule", NULL, NULL), 0);
	ck_assert_int_eq(store_override_put(idb, "time", "reschedule", u.due,
	    1000), 0);
	/* The same calendar again: the decisions stand. */
	reconcile(ics, "a,b", NULL, 0);
	expect("x@t", "a", DS_HELD, CS_SCHEDULED, 7200);
	expect("x@t", "b", DS_SCHEDULED, CS_SCHEDULED, 30000);
	/* A change to the occurrence in the calendar ends them. */
	ics[0] = '\0';
	event(ics, sizeof(ics), "x@t", 7200, NULL, "X text, edited");
	reconcile(ics, "a,b", NULL, 0);
	expect("x@t", "a", DS_SCHEDULED, CS_SCHEDULED, 7200);
	expect("x@t", "b", DS_SCHEDULED, CS_SCHEDULED, 7200);
	ck_assert_int_eq(store_override_get(ida, "state", &o), 1);
	ck_assert_int_eq(store_override_get(idb, "time", &o), 1);
}
END_TEST

/* A post that does not fit is held with the problem, and released once it fits. */
START_TEST(test_problem_held_and_released)
{
	char		ics[8192] = "", held[640];
	struct delivery	d;

	event(ics, sizeof(ics), "x@t", 7200, NULL,
	    "far too long for twenty characters");
	reconcile(ics, "t", held, sizeof(held));
	expect("x@t", "t", DS_HELD, CS_INVALID, 7200);
	get("x@t", "t", &d);
	ck_assert_str_eq(d.hold_reason, SCHED_PROBLEM);
	ck_assert_ptr_nonnull(d.last_error);
	ck_assert_msg(strncmp(d.last_error, "does not fit: ", 14) == 0 &&
	    strstr(d.last_error, " of 20 characters") != NULL, "%s",
	    d.last_error);
	ck_assert_str_eq(delivery_problem(&d), d.last_error);
	store_delivery_clear(&d);
	ics[0] = '\0';
	event(ics, sizeof(ics), "x@t", 7200, NULL, "short");
	reconcile(ics, "t", held, sizeof(held));
	expect("x@t", "t", DS_SCHEDULED, CS_SCHEDULED, 7200);
	get("x@t", "t", &d);
	ck_assert_ptr_null(d.last_error);
	ck_assert_ptr_null(delivery_problem(&d));
	store_delivery_clear(&d);
}
END_TEST

/* The test suite. */
static Suite *
reconcile_suite(void)
{
	Suite	*s = suite_create("reconcile");
	TCase	*tc = tcase_create("reconcile");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_new_and_idempotent);
	tcase_add_test(tc, test_changes);
	tcase_add_test(tc, test_sent_not_requeued);
	tcase_add_test(tc, test_override_survives);
	tcase_add_test(tc, test_problem_held_and_released);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run_in(reconcile_suite(), tmpdir));
}
