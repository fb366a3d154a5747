/*
 * The statements on the scheduler's and the control socket's hot paths,
 * named so that tests/unit/check_queryplan.c can show each uses an index
 * (store_plan.c lists them). Only store_*.c include this.
 */
#ifndef CRIER_STORE_HOT_H
#define CRIER_STORE_HOT_H

#define HOT_DELIVERY_COLS "id, channel, state, due, calendar, uid, " \
	"recurrence_id, summary, text, attempts, last_error, remote_id, " \
	"remote_url, next_attempt, sent_at, created, updated, cal_state, " \
	"hold_reason, cal_fp"

/* The earliest instant anything is ready. */
#define HOT_NEXT_WAKEUP "SELECT MIN(t) FROM (" \
	" SELECT MIN(due) AS t FROM deliveries WHERE state = 'scheduled'" \
	" UNION ALL" \
	" SELECT MIN(next_attempt) FROM deliveries WHERE state = 'retrying')"

/* ... of channel ?1. */
#define HOT_NEXT_WAKEUP_CHANNEL "SELECT MIN(t) FROM (" \
	" SELECT MIN(due) AS t FROM deliveries" \
	"  WHERE channel = ?1 AND state = 'scheduled'" \
	" UNION ALL" \
	" SELECT MIN(next_attempt) FROM deliveries" \
	"  WHERE channel = ?1 AND state = 'retrying')"

/*
 * ... of a channel not in the JSON array ?1: queue_counts names the few
 * channels that have anything waiting; each is one index lookup.
 */
#define HOT_NEXT_WAKEUP_OTHERS "SELECT MIN(t) FROM (" \
	" SELECT (SELECT MIN(d.due) FROM deliveries d" \
	"  WHERE d.channel = q.channel AND d.state = 'scheduled') AS t" \
	"  FROM queue_counts q WHERE q.state = 'scheduled' AND q.n > 0" \
	"  AND q.channel NOT IN (SELECT value FROM json_each(?1))" \
	" UNION ALL" \
	" SELECT (SELECT MIN(d.next_attempt) FROM deliveries d" \
	"  WHERE d.channel = q.channel AND d.state = 'retrying')" \
	"  FROM queue_counts q WHERE q.state = 'retrying' AND q.n > 0" \
	"  AND q.channel NOT IN (SELECT value FROM json_each(?1)))"

/*
 * Ready at ?1, at most ?2, by due, then in the order they were queued
 * (rid: a batch's rows and index entries are neighbours; ids are hashes).
 */
#define HOT_DUE "SELECT " HOT_DELIVERY_COLS ", rid FROM deliveries" \
	" WHERE state = 'scheduled' AND due <= ?1" \
	" UNION ALL SELECT " HOT_DELIVERY_COLS ", rid FROM deliveries" \
	" WHERE state = 'retrying' AND next_attempt <= ?1" \
	" ORDER BY due, rid LIMIT ?2"

/* ... of channel ?3. */
#define HOT_DUE_CHANNEL "SELECT " HOT_DELIVERY_COLS ", rid FROM" \
	" deliveries WHERE channel = ?3 AND state = 'scheduled' AND due <= ?1" \
	" UNION ALL SELECT " HOT_DELIVERY_COLS ", rid FROM deliveries" \
	" WHERE channel = ?3 AND state = 'retrying' AND next_attempt <= ?1" \
	" ORDER BY due, rid LIMIT ?2"

/* ... of a channel not in the JSON array ?3. */
#define HOT_DUE_OTHERS "SELECT " HOT_DELIVERY_COLS ", rid FROM deliveries" \
	" WHERE channel IN (SELECT channel FROM queue_counts" \
	"  WHERE state = 'scheduled' AND n > 0" \
	"  AND channel NOT IN (SELECT value FROM json_each(?3)))" \
	" AND state = 'scheduled' AND due <= ?1" \
	" UNION ALL SELECT " HOT_DELIVERY_COLS ", rid FROM deliveries" \
	" WHERE channel IN (SELECT channel FROM queue_counts" \
	"  WHERE state = 'retrying' AND n > 0" \
	"  AND channel NOT IN (SELECT value FROM json_each(?3)))" \
	" AND state = 'retrying' AND next_attempt <= ?1" \
	" ORDER BY due, rid LIMIT ?2"

/* Deliveries per state (status). */
#define HOT_COUNTS "SELECT state, SUM(n) FROM queue_counts GROUP BY state"

/*
 * list and agenda: due in [?3, ?4), at most ?5; with state ?1, channel ?2
 * (one statement per filter: "?1 IS NULL OR state = ?1" defeats indexes).
 */
#define HOT_LIST_TAIL " due >= ?3 AND due < ?4 ORDER BY due, channel, id" \
	" LIMIT ?5"
#define HOT_LIST "SELECT " HOT_DELIVERY_COLS " FROM deliveries WHERE" \
	HOT_LIST_TAIL
#define HOT_LIST_STATE "SELECT " HOT_DELIVERY_COLS " FROM deliveries" \
	" WHERE state = ?1 AND" HOT_LIST_TAIL
#define HOT_LIST_CHANNEL "SELECT " HOT_DELIVERY_COLS " FROM deliveries" \
	" WHERE channel = ?2 AND" HOT_LIST_TAIL
#define HOT_LIST_BOTH "SELECT " HOT_DELIVERY_COLS " FROM deliveries" \
	" WHERE state = ?1 AND channel = ?2 AND" HOT_LIST_TAIL

/* resume: what a release left held for the pause (calendar-held, invalid). */
#define HOT_HELD_FOR "SELECT " HOT_DELIVERY_COLS " FROM deliveries" \
	" WHERE channel = ?1 AND state = 'held' AND hold_reason = ?2" \
	" ORDER BY due, id LIMIT ?3"

/* show / get. */
#define HOT_GET "SELECT " HOT_DELIVERY_COLS " FROM deliveries WHERE id = ?"
#define HOT_EVENTS_FOR "SELECT seq, at, delivery, channel, event, detail," \
	" actor FROM events WHERE delivery_rid =" \
	" (SELECT rid FROM deliveries WHERE id = ?1) ORDER BY seq"

/* post and the calendar: a new delivery and its first event. */
#define HOT_INSERT "INSERT INTO deliveries (id, channel, state, due," \
	" calendar, uid, recurrence_id, summary, text, created, updated," \
	" cal_state, last_error, hold_reason, cal_fp) VALUES (?, ?, ?, ?," \
	" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define HOT_EVENT "INSERT INTO events (at, delivery, channel, event," \
	" detail, actor, delivery_rid) VALUES (?1, ?2, ?3, ?4, ?5, ?6," \
	" (SELECT rid FROM deliveries WHERE id = ?2))"

/* A transition: the current state, then the change. */
#define HOT_CUR "SELECT state, channel FROM deliveries WHERE id = ?"
#define HOT_TRANSITION "UPDATE deliveries SET state = ?, updated = ?," \
	" due = CASE WHEN ?3 > 0 THEN ?3 ELSE due END," \
	" attempts = CASE WHEN ?12 THEN 0 ELSE attempts END + ?4," \
	" hold_reason = CASE WHEN ?1 = 'held' THEN ?11 ELSE NULL END," \
	" last_error = CASE WHEN ?5 IS NULL THEN last_error" \
	"   WHEN ?5 = '' THEN NULL ELSE ?5 END," \
	" remote_id = COALESCE(?6, remote_id)," \
	" remote_url = COALESCE(?7, remote_url)," \
	" sent_at = CASE WHEN ?8 > 0 THEN ?8 ELSE sent_at END," \
	" next_attempt = ?9" \
	" WHERE id = ?10"
/*
 * ... the same when the due time stays (most moves: `sending`, outcomes):
 * not assigning `due` spares the two indexes on it (?3 is unused).
 */
#define HOT_TRANSITION_SAME_DUE "UPDATE deliveries SET state = ?1," \
	" updated = ?2," \
	" attempts = CASE WHEN ?12 THEN 0 ELSE attempts END + ?4," \
	" hold_reason = CASE WHEN ?1 = 'held' THEN ?11 ELSE NULL END," \
	" last_error = CASE WHEN ?5 IS NULL THEN last_error" \
	"   WHEN ?5 = '' THEN NULL ELSE ?5 END," \
	" remote_id = COALESCE(?6, remote_id)," \
	" remote_url = COALESCE(?7, remote_url)," \
	" sent_at = CASE WHEN ?8 > 0 THEN ?8 ELSE sent_at END," \
	" next_attempt = ?9" \
	" WHERE id = ?10"

/* A newsletter recipient's fate, and the list of them. */
#define HOT_RCPT_PUT "INSERT INTO recipients (delivery, email," \
	" name, state, error, message_id, attempts, sent_at, updated)" \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)" \
	" ON CONFLICT(delivery, email) DO UPDATE SET name = ?3, state = ?4," \
	" error = ?5, message_id = coalesce(?6, message_id)," \
	" attempts = ?7, sent_at = ?8, updated = ?9"
#define HOT_RCPT_LIST "SELECT email, name, state, error, message_id," \
	" attempts, sent_at, updated FROM recipients WHERE delivery = ?" \
	" ORDER BY email"
#define HOT_RCPT_ANY "SELECT 1 FROM recipients WHERE delivery = ? LIMIT 1"

/* The calendar's rows and one occurrence's (reconcile). */
#define HOT_LIST_CALENDAR "SELECT " HOT_DELIVERY_COLS " FROM deliveries" \
	" WHERE calendar = ? ORDER BY due, id"
#define HOT_LIST_OCCURRENCE "SELECT " HOT_DELIVERY_COLS " FROM deliveries" \
	" WHERE calendar IS ?1 AND uid IS ?2 AND recurrence_id IS ?3" \
	" ORDER BY channel, id"
/*
 * A page of calendar ?1's rows after id ?2, at most ?3, with only what
 * reconcile compares (store_view.c): a range of the primary key ("+"
 * keeps SQLite off deliveries_occurrence, whose calendar prefix would
 * sort the whole calendar for every page).
 */
#define HOT_VIEW_CALENDAR "SELECT id, state, due, cal_state, hold_reason," \
	" cal_fp FROM deliveries WHERE id > ?2 AND +calendar = ?1" \
	" ORDER BY id LIMIT ?3"
/*
 * list and agenda with only the columns they print (store_view.c), with
 * the same filters as HOT_LIST*; agenda adds the occurrence's end.
 */
#define HOT_VIEW_COLS "id, channel, state, due, calendar, uid," \
	" recurrence_id, summary, attempts, last_error, remote_url"
#define HOT_VIEW_LIST "SELECT " HOT_VIEW_COLS " FROM deliveries WHERE" \
	HOT_LIST_TAIL
#define HOT_VIEW_LIST_STATE "SELECT " HOT_VIEW_COLS " FROM deliveries" \
	" WHERE state = ?1 AND" HOT_LIST_TAIL
#define HOT_VIEW_LIST_CHANNEL "SELECT " HOT_VIEW_COLS " FROM deliveries" \
	" WHERE channel = ?2 AND" HOT_LIST_TAIL
#define HOT_VIEW_LIST_BOTH "SELECT " HOT_VIEW_COLS " FROM deliveries" \
	" WHERE state = ?1 AND channel = ?2 AND" HOT_LIST_TAIL
#define HOT_VIEW_AGENDA "SELECT " HOT_VIEW_COLS ", ends FROM deliveries" \
	" WHERE" HOT_LIST_TAIL
#define HOT_VIEW_AGENDA_STATE "SELECT " HOT_VIEW_COLS ", ends FROM" \
	" deliveries WHERE state = ?1 AND" HOT_LIST_TAIL
#define HOT_VIEW_AGENDA_CHANNEL "SELECT " HOT_VIEW_COLS ", ends FROM" \
	" deliveries WHERE channel = ?2 AND" HOT_LIST_TAIL
#define HOT_VIEW_AGENDA_BOTH "SELECT " HOT_VIEW_COLS ", ends FROM" \
	" deliveries WHERE state = ?1 AND channel = ?2 AND" HOT_LIST_TAIL
/*
 * agenda's "next": the soonest row still to go out (scheduled, retrying,
 * held) due at ?1 or later, with list's columns: three index MINs, then
 * the rows at that instant (a scan by due would pass every row sent,
 * cancelled or failed on the way).
 */
#define HOT_VIEW_NEXT_PENDING "SELECT " HOT_VIEW_COLS " FROM deliveries" \
	" WHERE due = (SELECT MIN(t) FROM (" \
	"  SELECT MIN(due) AS t FROM deliveries" \
	"   WHERE state = 'scheduled' AND due >= ?1" \
	"  UNION ALL SELECT MIN(due) FROM deliveries" \
	"   WHERE state = 'retrying' AND due >= ?1" \
	"  UNION ALL SELECT MIN(due) FROM deliveries" \
	"   WHERE state = 'held' AND due >= ?1))" \
	" AND state IN ('scheduled', 'retrying', 'held')" \
	" ORDER BY channel, id LIMIT 1"
#define HOT_SET_CONTENT "UPDATE deliveries SET due = ?, summary = ?," \
	" text = ?, cal_state = ?, last_error = ?, updated = ? WHERE id = ?"

/*
 * resume: the next ?7 (-1: all) deliveries of channel ?1 held for reason
 * ?2 that the calendar lets go (not "invalid", not "held"), soonest
 * first, go back to `scheduled` in one statement, after one statement
 * logs event ?5 (?6) for each. Both pick the same rows: nothing changes
 * between them, in one transaction.
 */
#define HOT_RELEASE_WHERE " WHERE rid IN (SELECT rid FROM deliveries" \
	" WHERE channel = ?1 AND state = 'held' AND hold_reason = ?2" \
	" AND cal_state IS NOT 'invalid' AND cal_state IS NOT 'held'" \
	" ORDER BY due, rid LIMIT ?7)"
#define HOT_RELEASE_EVENTS "INSERT INTO events (at, delivery, channel," \
	" event, detail, actor, delivery_rid) SELECT ?3, id, channel, ?5, ?6," \
	" ?4, rid FROM deliveries" HOT_RELEASE_WHERE " ORDER BY due, rid"
#define HOT_RELEASE "UPDATE deliveries SET state = 'scheduled'," \
	" updated = ?3, hold_reason = NULL, next_attempt = 0" \
	HOT_RELEASE_WHERE
/* pause: the next ?8 (-1: all) of a channel's deliveries in one state held, likewise. */
#define HOT_HOLD_WHERE " WHERE rid IN (SELECT rid FROM deliveries" \
	" WHERE channel = ?1 AND state = ?2 ORDER BY due, rid LIMIT ?8)"
#define HOT_HOLD_EVENTS "INSERT INTO events (at, delivery, channel," \
	" event, detail, actor, delivery_rid) SELECT ?3, id, channel, ?5, ?6," \
	" ?4, rid FROM deliveries" HOT_HOLD_WHERE " ORDER BY due, rid"
#define HOT_HOLD "UPDATE deliveries SET state = 'held', updated = ?3," \
	" hold_reason = ?7, next_attempt = 0" HOT_HOLD_WHERE

#endif
