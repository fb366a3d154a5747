/* What every Check program of tests/unit does around its suite. */
#ifndef CRIER_UNIT_H
#define CRIER_UNIT_H

#include <check.h>
#include <stdint.h>

/* Runs S (in this process if NOFORK); 0 if every test passed, else 1. */
int	 unit_run(Suite *s, int nofork);
/*
 * Runs S in this process with the log quiet, in TMPDIR (a mkdtemp
 * template, made first and removed after): 0 if every test passed, 1 if
 * one failed, 99 if the directory could not be made or removed.
 */
int	 unit_run_in(Suite *s, char *tmpdir);

/*
 * The one-integer answer of SQL (?1 the text ARG if not NULL, ?2 ARG2) read
 * from DIR/crier.db through a connection of its own; -1 if it gave no row
 * or NULL. A failed open or prepare fails the test.
 */
int64_t	 unit_db_int(const char *dir, const char *sql, const char *arg,
	    int64_t arg2);

#endif
