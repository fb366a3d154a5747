/* What every Check program of tests/unit does around its suite. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "tests/unit/unit.h"
#include "daemon/log.h"

/* Runs S (in this process if NOFORK); 0 if every test passed, else 1. */
int
unit_run(Suite *s, int nofork)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	if (nofork)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}

/* Runs S in this process with the log quiet, in the directory TMPDIR made and removed here. */
int
unit_run_in(Suite *s, char *tmpdir)
{
	char	 cmd[4200];
	int	 rc;

	log_init(0);
	if (mkdtemp(tmpdir) == NULL)
		return (99);
	rc = unit_run(s, 1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return (99);
	return (rc);
}

/* The one-integer answer of SQL (?1 ARG, ?2 ARG2) from DIR/crier.db, read directly; -1 if none. */
int64_t
unit_db_int(const char *dir, const char *sql, const char *arg, int64_t arg2)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 path[700];
	int64_t		 v = -1;

	snprintf(path, sizeof(path), "%s/crier.db", dir);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, arg2);	/* SQLITE_RANGE without a ?2: fine */
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (v);
}
