/* Unit tests: the delivery state machine walked on real store rows. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "daemon/delivery.h"
#include "daemon/log.h"
#include "daemon/store.h"
#include "tests/unit/unit.h"

static char	tmpdir[] = "/tmp/crier-check-delivery-XXXXXX";
static char	dbdir[600];
static char	err[512];
static int	seq;

/* Opens a fresh store in a new subdirectory. */
static void
setup(void)
{
	static int	n;

	snprintf(dbdir, sizeof(dbdir), "%s/db%d", tmpdir, n++);
	ck_assert_msg(store_open(dbdir, err, sizeof(err)) == 0, "%s", err);
}

static void
teardown(void)
{
	store_close();
}

/* Inserts a new delivery in STATE (calendar state CS); its id into ID. */
static void
add(enum dstate state, enum cal_state cs, char id[DELIVERY_ID_LEN + 1])
{
	struct delivery	d;
	char		uid[32];

	snprintf(uid, sizeof(uid), "u%d", seq++);
	memset(&d, 0, sizeof(d));
	store_delivery_id("cal", uid, NULL, "box", d.id);
	d.channel = (char *)"box";
	d.due = 5000;
	d.state = state;
	d.calendar = (char *)"cal";
	d.uid = uid;
	d.summary = (char *)"summary";
	d.text = (char *)"hello";
	d.cal_state = cs;
	ck_assert_int_eq(store_insert(&d, 1000, "queued"), 0);
	memcpy(id, d.id, DELIVERY_ID_LEN + 1);
}

/* The state of delivery ID in the store. */
static enum dstate
state_of(const char *id)
{
	struct delivery	d;
	enum dstate	s;

	ck_assert_int_eq(store_get(id, &d), 0);
	s = d.state;
	store_delivery_clear(&d);
	return (s);
}

/* How many events delivery ID has. */
static size_t
events_of(const char *id)
{
	struct store_event	*e;
	size_t			 n;

	ck_assert_int_eq(store_events_for(id, &e, &n), 0);
	store_events_free(e, n);
	return (n);
}

/* Every (from, to): allowed ones move a real row, refused ones leave it with a reason. */
START_TEST(test_walk_table)
{
	int	from, to, allowed = 0, refused = 0;

	for (from = 0; from < DS_NSTATES; from++)
		for (to = 0; to < DS_NSTATES; to++) {
			char			 id[DELIVERY_ID_LEN + 1];
			struct store_update	 u;
			enum dstate		 cur = DS_NSTATES;
			const char		*why;
			int			 rc;

			add((enum dstate)from, CS_SCHEDULED, id);
			memset(&u, 0, sizeof(u));
			u.due = 9000;
			why = delivery_why_not((enum dstate)from, (enum dstate)to);
			/* Even a caller that allows every state cannot pass the table. */
			rc = delivery_move(id, ~0u, (enum dstate)to, &u, 1000,
			    "walk", NULL, &cur);
			if (delivery_allowed((enum dstate)from, (enum dstate)to)) {
				ck_assert_ptr_null(why);
				ck_assert_int_eq(rc, 0);
				ck_assert_int_eq(state_of(id), to);
				ck_assert_uint_eq(events_of(id), 2);
				allowed++;
			} else {
				ck_assert_msg(why != NULL && *why != '\0',
				    "%s -> %s refused without a reason",
				    dstate_names[from], dstate_names[to]);
				ck_assert_int_eq(rc, 1);
				ck_assert_int_eq(cur, from);
				ck_assert_int_eq(state_of(id), from);
				ck_assert_uint_eq(events_of(id), 1);
				refused++;
			}
		}
	ck_assert_int_eq(allowed + refused, DS_NSTATES * DS_NSTATES);
	ck_assert_int_gt(allowed, 0);
	ck_assert_int_gt(refused, 0);
}
END_TEST

/* The caller's mask narrows the table further: a state outside it is refused. */
START_TEST(test_mask_narrows)
{
	char		id[DELIVERY_ID_LEN + 1];
	enum dstate	cur = DS_NSTATES;

	add(DS_HELD, CS_HELD, id);
	ck_assert_int_eq(delivery_move(id, DELIVERY_BIT(DS_SCHEDULED),
	    DS_CANCELLED, NULL, 1000, "cancel", NULL, &cur), 1);
	ck_assert_int_eq(cur, DS_HELD);
	ck_assert_int_eq(state_of(id), DS_HELD);
	ck_assert_int_eq(delivery_move(id, DELIVERY_BIT(DS_HELD), DS_CANCELLED,
	    NULL, 1000, "cancel", NULL, &cur), 0);
	ck_assert_int_eq(state_of(id), DS_CANCELLED);
	ck_assert_int_eq(delivery_move("000000000000", ~0u, DS_CANCELLED, NULL,
	    1000, "cancel", NULL, &cur), 2);
}
END_TEST

/* Every move the scheduler, the verbs and reconcile make is in the table. */
START_TEST(test_callers_admitted)
{
	static const struct { enum dstate from, to; } used[] = {
		/* schedule.c */
		{ DS_SCHEDULED, DS_SENDING }, { DS_RETRYING, DS_SENDING },
		{ DS_SENDING, DS_SENT }, { DS_SENDING, DS_RETRYING },
		{ DS_SENDING, DS_FAILED }, { DS_SENDING, DS_UNCERTAIN },
		{ DS_SENDING, DS_HELD }, { DS_SCHEDULED, DS_HELD },
		{ DS_RETRYING, DS_HELD }, { DS_SCHEDULED, DS_FAILED },
		{ DS_RETRYING, DS_FAILED }, { DS_SCHEDULED, DS_MISSED },
		{ DS_HELD, DS_HELD }, { DS_HELD, DS_SCHEDULED },
		/* approve, hold, cancel, reschedule, restore, edit, retry, send-now */
		{ DS_SCHEDULED, DS_CANCELLED }, { DS_RETRYING, DS_CANCELLED },
		{ DS_HELD, DS_CANCELLED }, { DS_UNCERTAIN, DS_CANCELLED },
		{ DS_MISSED, DS_CANCELLED }, { DS_FAILED, DS_CANCELLED },
		{ DS_SCHEDULED, DS_SCHEDULED }, { DS_RETRYING, DS_SCHEDULED },
		{ DS_MISSED, DS_SCHEDULED }, { DS_FAILED, DS_SCHEDULED },
		{ DS_UNCERTAIN, DS_SCHEDULED }, { DS_CANCELLED, DS_SCHEDULED },
		{ DS_CANCELLED, DS_HELD },
		/* campaign.c reconcile (standing overrides, paused channels) */
		{ DS_MISSED, DS_HELD }, { DS_FAILED, DS_HELD },
	};
	size_t	i;

	for (i = 0; i < sizeof(used) / sizeof(used[0]); i++)
		ck_assert_msg(delivery_allowed(used[i].from, used[i].to),
		    "%s -> %s is refused: %s", dstate_names[used[i].from],
		    dstate_names[used[i].to], delivery_why_not(used[i].from,
		    used[i].to));
}
END_TEST

/* Sent is final; what may have gone out is only retried or cancelled. */
START_TEST(test_final_states)
{
	char	id[DELIVERY_ID_LEN + 1];
	int	s, to;

	ck_assert(delivery_final(DS_SENT));
	for (s = 0; s < DS_NSTATES; s++)
		if (s != DS_SENT)
			ck_assert_msg(!delivery_final((enum dstate)s), "%s",
			    dstate_names[s]);
	add(DS_SENT, CS_SCHEDULED, id);
	for (to = 0; to < DS_NSTATES; to++) {
		ck_assert_str_eq(delivery_why_not(DS_SENT, (enum dstate)to),
		    "a sent post is final");
		ck_assert_int_eq(delivery_move(id, ~0u, (enum dstate)to, NULL,
		    1000, "walk", NULL, NULL), 1);
	}
	ck_assert_int_eq(state_of(id), DS_SENT);
	ck_assert(!delivery_allowed(DS_SENDING, DS_CANCELLED));
	ck_assert(!delivery_allowed(DS_UNCERTAIN, DS_SENDING));
	ck_assert(!delivery_allowed(DS_HELD, DS_SENDING));
	ck_assert_ptr_nonnull(delivery_why_not(DS_NSTATES, DS_SENT));
}
END_TEST

/* Calendar states are an enum in memory and the same strings in SQLite. */
START_TEST(test_cal_state_column)
{
	static const char *const names[CS_NSTATES] = {
		NULL, "scheduled", "held", "cancelled", "removed", "invalid"
	};
	char		 id[DELIVERY_ID_LEN + 1], path[700];
	struct delivery	 d;
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 cs;

	for (cs = 0; cs < CS_NSTATES; cs++) {
		ck_assert(store_cal_state_parse(names[cs]) == (enum cal_state)cs);
		if (names[cs] == NULL)
			ck_assert_ptr_null(store_cal_state_name((enum cal_state)cs));
		else
			ck_assert_str_eq(store_cal_state_name((enum cal_state)cs),
			    names[cs]);
	}
	ck_assert(store_cal_state_parse("bogus") == CS_NONE);
	add(DS_HELD, CS_INVALID, id);
	ck_assert_int_eq(store_get(id, &d), 0);
	ck_assert_int_eq(d.cal_state, CS_INVALID);
	store_delivery_clear(&d);
	ck_assert_int_eq(store_set_content(id, 7000, "s", "t", CS_REMOVED,
	    NULL), 0);
	ck_assert_int_eq(store_get(id, &d), 0);
	ck_assert_int_eq(d.cal_state, CS_REMOVED);
	store_delivery_clear(&d);
	/* The column holds the name, as crier has always written it. */
	snprintf(path, sizeof(path), "%s/crier.db", dbdir);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT cal_state FROM "
	    "deliveries WHERE id = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "removed");
	sqlite3_finalize(st);
	sqlite3_close(db);
	ck_assert_int_eq(store_set_content(id, 7000, "s", "t", CS_NONE,
	    NULL), 0);
	ck_assert_int_eq(store_get(id, &d), 0);
	ck_assert_int_eq(d.cal_state, CS_NONE);
	store_delivery_clear(&d);
}
END_TEST

/* The test suite. */
static Suite *
delivery_suite(void)
{
	Suite	*s = suite_create("delivery");
	TCase	*tc = tcase_create("delivery");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_walk_table);
	tcase_add_test(tc, test_mask_narrows);
	tcase_add_test(tc, test_callers_admitted);
	tcase_add_test(tc, test_final_states);
	tcase_add_test(tc, test_cal_state_column);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run_in(delivery_suite(), tmpdir));
}
