/*
 * The WAL checkpoint on a thread of its own, through a connection of its
 * own. A checkpoint waits for two fsyncs (the WAL's, then the database
 * file's): 8-34 ms with 100k queued here, the longest stalls the loop had.
 * SQLite lets a PASSIVE checkpoint run beside the writer; the thread only
 * waits in the kernel, so it costs the loop nothing. Nothing here logs
 * (log.c is the loop's): the loop reads the last result when it asks again.
 */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store_ckpt.h"
#include "when.h"

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 thread;
	int		 started;	/* the thread runs */
	int		 wanted;	/* a checkpoint is asked for */
	int		 busy;		/* asked for or under way */
	int		 quit;
	char		 path[4096];
	struct store_ckpt_result last;
	int		 have_last;	/* LAST not read yet */
} ck = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* Runs one PASSIVE checkpoint on *C (opened on PATH the first time) into R. */
static void
ckpt_once(sqlite3 **c, const char *path, struct store_ckpt_result *r)
{
	int64_t	t0 = when_mono_us();
	int	rc = SQLITE_OK;

	memset(r, 0, sizeof(*r));
	if (*c == NULL) {
		rc = sqlite3_open_v2(path, c, SQLITE_OPEN_READWRITE, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(*c, "PRAGMA synchronous=FULL", NULL,
			    NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_wal_checkpoint_v2(*c, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &r->frames, &r->done);
	r->rc = rc;
	if (rc != SQLITE_OK) {
		snprintf(r->err, sizeof(r->err), "%s", *c != NULL ?
		    sqlite3_errmsg(*c) : sqlite3_errstr(rc));
		sqlite3_close(*c);	/* opened again next time */
		*c = NULL;
	}
	r->us = when_mono_us() - t0;
}

/* The thread: a checkpoint each time one is asked for, until told to quit. */
static void *
ckpt_main(void *arg)
{
	struct store_ckpt_result	 r;
	sqlite3				*c = NULL;

	(void)arg;
	pthread_mutex_lock(&ck.mu);
	for (;;) {
		while (!ck.wanted && !ck.quit)
			pthread_cond_wait(&ck.cv, &ck.mu);
		if (ck.quit)
			break;
		ck.wanted = 0;
		pthread_mutex_unlock(&ck.mu);
		ckpt_once(&c, ck.path, &r);
		pthread_mutex_lock(&ck.mu);
		ck.last = r;
		ck.have_last = 1;
		ck.busy = ck.wanted;	/* another one was asked for meanwhile */
	}
	pthread_mutex_unlock(&ck.mu);
	sqlite3_close(c);
	return (NULL);
}

/* Asks for a checkpoint of the database at PATH; -1 if the thread cannot start. */
int
store_ckpt_request(const char *path)
{
	int	rc = 0;

	pthread_mutex_lock(&ck.mu);
	if (!ck.started) {
		snprintf(ck.path, sizeof(ck.path), "%s", path);
		ck.quit = 0;
		if (pthread_create(&ck.thread, NULL, ckpt_main, NULL) != 0)
			rc = -1;
		else
			ck.started = 1;
	}
	if (rc == 0) {
		ck.wanted = ck.busy = 1;
		pthread_cond_signal(&ck.cv);
	}
	pthread_mutex_unlock(&ck.mu);
	return (rc);
}

/* The result of the last checkpoint into *R if not read yet; 1 if so. */
int
store_ckpt_last(struct store_ckpt_result *r)
{
	int	have;

	pthread_mutex_lock(&ck.mu);
	if ((have = ck.have_last))
		*r = ck.last;
	ck.have_last = 0;
	pthread_mutex_unlock(&ck.mu);
	return (have);
}

/* Whether a checkpoint is asked for or under way. */
int
store_ckpt_busy(void)
{
	int	busy;

	pthread_mutex_lock(&ck.mu);
	busy = ck.started && ck.busy;
	pthread_mutex_unlock(&ck.mu);
	return (busy);
}

/* Ends the thread, after the checkpoint under way if any. */
void
store_ckpt_stop(void)
{
	pthread_mutex_lock(&ck.mu);
	if (!ck.started) {
		pthread_mutex_unlock(&ck.mu);
		return;
	}
	ck.quit = 1;
	pthread_cond_signal(&ck.cv);
	pthread_mutex_unlock(&ck.mu);
	pthread_join(ck.thread, NULL);
	pthread_mutex_lock(&ck.mu);
	ck.started = 0;
	ck.wanted = ck.busy = 0;
	ck.have_last = 0;
	pthread_mutex_unlock(&ck.mu);
}
