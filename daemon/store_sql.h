/*
 * What the store_*.c files share and nothing else includes: the SQLite
 * handle, one statement run with its arguments and rows, transactions,
 * and the record of storage failures.
 */
#ifndef CRIER_STORE_SQL_H
#define CRIER_STORE_SQL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* Called with each result row of store_sql_read. */
typedef void	(*store_sql_row_fn)(sqlite3_stmt *st, void *arg);

/*
 * Opens (creating) the database at PATH, in WAL mode with synchronous=FULL,
 * and checks its integrity; -1 with ERR naming PATH and the OS reason.
 */
int		 store_sql_open(const char *path, char *err, size_t errlen);
void		 store_sql_close(void);
/* Whether a database is open. */
int		 store_sql_is_open(void);
/* The database file's path (as opened). */
const char	*store_sql_path(void);
/* Fills ERR with "PATH: WHAT: SQLite's message (OS reason)". */
void		 store_sql_open_error(const char *what, char *err, size_t errlen);

/*
 * Runs SQL once, binding the arguments FMT lists, one letter each: 's' a
 * string (NULL binds NULL), 'i' an int, 'I' an int64_t, 'd' a double, 'n'
 * a NULL (no argument). A statement with no rows: returns how many rows it
 * changed. With WHAT, an error is recorded as the storage problem
 * ("WHAT: message") and a success as a working write; without, the
 * caller decides. A statement that cannot be prepared is always recorded.
 */
int		 store_sql_write(const char *what, const char *sql,
		    const char *fmt, ...);
/*
 * Runs the query SQL with FMT's arguments, calling ROW (may be NULL) on
 * each row: returns the number of rows, or -1 (recorded under WHAT when
 * given, as for store_sql_write).
 */
int		 store_sql_read(const char *what, const char *sql,
		    store_sql_row_fn row, void *arg, const char *fmt, ...);
/*
 * A query read some rows at a time, over several loop turns: its own
 * read-only connection and statement, so one snapshot of the database
 * until it is closed, whatever the loop's connection commits meanwhile.
 * store_sql_cursor returns NULL with ERR if it cannot be opened (FMT as
 * for store_sql_read); store_sql_cursor_next hands at most MAX rows to
 * ROW and returns 1 if more may follow, 0 at the end, -1 on error.
 */
struct store_cursor;
struct store_cursor *store_sql_cursor(const char *sql, char *err,
		    size_t errlen, const char *fmt, ...);
int		 store_sql_cursor_next(struct store_cursor *c, size_t max,
		    store_sql_row_fn row, void *arg);
void		 store_sql_cursor_close(struct store_cursor *c);
/* A malloc'd copy of column I of ST, or NULL. */
char		*store_sql_text(sqlite3_stmt *st, int i);
/* SQLite's message and primary result code for the last error. */
const char	*store_sql_errmsg(void);
int		 store_sql_errcode(void);
/* Runs SQL with no rows and no arguments (pragmas, schema); -1 recorded. */
int		 store_sql_exec(const char *sql);

/* A unit of work: its own transaction, or a savepoint inside a batch. */
int		 store_sql_tx_begin(void);
int		 store_sql_tx_commit(void);
void		 store_sql_tx_rollback(void);
/* True while a transaction is open (SQLite ends one itself on some errors). */
int		 store_sql_tx_open(void);
/* A batch: every unit until store_sql_batch_commit is one transaction. */
int		 store_sql_batch_begin(void);
int		 store_sql_batch_commit(void);
void		 store_sql_batch_rollback(void);

/*
 * queue_counts as moves change it (store_qcount.c): counted in the unit,
 * written at its commit or its batch's, forgotten when rolled back.
 */
void		 store_qcount_add(const char *channel, const char *state,
		    int64_t n);
int		 store_qcount_unit_write(void);
void		 store_qcount_unit_keep(void);
void		 store_qcount_unit_drop(void);
int		 store_qcount_batch_write(void);
void		 store_qcount_batch_drop(void);

/* Records a failed operation as the current storage problem (and logs it). */
void		 store_sql_failed(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* A write was committed: a storage problem, if any, is over. */
void		 store_sql_wrote(void);
/* The current storage problem, or NULL; failures since the start. */
const char	*store_sql_problem(void);
uint64_t	 store_sql_failures(void);
/* Write transactions committed since the start; *FRAMES (if not NULL): their WAL frames. */
uint64_t	 store_sql_commits(uint64_t *frames);
uint64_t	 store_sql_prepared(void);
/* Whether the WAL is due to be checkpointed, and the checkpoint (off the send path). */
int		 store_sql_checkpoint_due(void);
int		 store_sql_checkpoint_busy(void);
void		 store_sql_checkpoint(void);

#endif
