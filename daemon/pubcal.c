/*
 * The published-posts calendar kept under state_dir: debounced on a timer,
 * read from crier.db through a connection of its own, rendered and written
 * atomically, all on the thread pool, so neither the read (up to 10 000
 * rows) nor an fsync stalls sending.
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "pubcal.h"
#include "background.h"
#include "conf.h"
#include "context.h"
#include "log.h"
#include "published.h"
#include "store_published.h"
#include "../common/util.h"

#define PUBCAL_NAME	"Published posts"

/* One write: the rows read on the loop, what the worker made of them. */
struct pubjob {
	uv_work_t		 work;
	char			*path;
	char			*db;		/* crier.db, read by the worker */
	struct store_sent	*rows;
	size_t			 n;
	struct published_post	*posts;
	int			 rc;
	char			 err[512];
};

static const struct crierd_ctx	*pc_ctx;
static uv_timer_t		 pc_timer;
static bool			 pc_inited, pc_busy, pc_again, pc_stopping;

/* Cuts S (malloc'd, may be NULL) to at most MAX bytes, between UTF-8 characters. */
static void
cut_utf8(char *s, size_t max)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	s[n] = '\0';
}

/* Makes J's posts of its rows. */
static void
posts_of_rows(struct pubjob *j)
{
	size_t	i;

	j->posts = xcalloc(j->n ? j->n : 1, sizeof(*j->posts));
	for (i = 0; i < j->n; i++) {
		struct store_sent	*s = &j->rows[i];
		struct published_post	*p = &j->posts[i];

		cut_utf8(s->text, PUBCAL_MAX_TEXT);
		cut_utf8(s->summary, PUBCAL_MAX_TEXT);
		p->delivery_id = s->id;
		p->channel = s->channel;
		p->sent_at = s->sent_at;
		p->text = s->text;
		p->remote_url = s->remote_url;
		p->calendar = s->calendar;
		p->source_uid = s->uid;
		p->summary = s->summary;
	}
}

/* Reads the newest sent posts into J's rows and posts, on the loop; -1 on a store error. */
static int
load(struct pubjob *j)
{
	if (store_published_list(PUBCAL_MAX_POSTS, &j->rows, &j->n) == -1)
		return (-1);
	posts_of_rows(j);
	return (0);
}

/* Frees J. */
static void
job_free(struct pubjob *j)
{
	if (j == NULL)
		return;
	store_published_free(j->rows, j->n);
	free(j->posts);
	free(j->path);
	free(j->db);
	free(j);
}

/* On the thread pool: reads the sent posts, renders and replaces the file. */
static void
work_write(uv_work_t *w)
{
	struct pubjob	*j = w->data;
	char		 err[400];

	background_thread();
	if (store_published_read(j->db, PUBCAL_MAX_POSTS, &j->rows, &j->n,
	    err, sizeof(err)) == -1) {
		/* The file stays as it was. */
		snprintf(j->err, sizeof(j->err), "cannot read the sent posts: "
		    "%s", err);
		j->rc = -1;
		return;
	}
	posts_of_rows(j);
	j->rc = published_write(j->path, j->posts, j->n, NULL, PUBCAL_NAME,
	    j->err, sizeof(j->err));
}

/* Back on the loop: says how it went; writes again if posts went out meanwhile. */
static void
work_done(uv_work_t *w, int status)
{
	struct pubjob	*j = w->data;

	if (status != 0)
		log_warnx("published calendar: the write was cancelled");
	else if (j->rc == -1)
		log_warnx("published calendar: %s", j->err);
	else
		log_debug("published calendar: %zu posts in %s", j->n, j->path);
	job_free(j);
	pc_busy = false;
	if (pc_again) {
		pc_again = false;
		pubcal_touch();
	}
}

/* The timer fired: start a write unless one is under way. */
static void
fire(uv_timer_t *t)
{
	struct pubjob	*j;

	(void)t;
	if (pc_stopping || pc_ctx->conf->state_dir == NULL)
		return;
	if (pc_busy) {
		pc_again = true;
		return;
	}
	j = xcalloc(1, sizeof(*j));
	if (asprintf(&j->path, "%s/%s", pc_ctx->conf->state_dir,
	    PUBCAL_FILE) == -1)
		abort();
	j->db = xstrdup(store_db_path());
	j->work.data = j;
	if (uv_queue_work(pc_ctx->loop, &j->work, work_write, work_done) != 0) {
		log_warnx("published calendar: cannot queue the write");
		job_free(j);
		return;
	}
	pc_busy = true;
}

/* Sets up the timer; the first write follows at once. */
void
pubcal_init(const struct crierd_ctx *ctx)
{
	pc_ctx = ctx;
	uv_timer_init(ctx->loop, &pc_timer);
	pc_inited = true;
	pc_stopping = false;
	uv_timer_start(&pc_timer, fire, 0, 0);
}

/* Schedules a write unless one is already scheduled. */
void
pubcal_touch(void)
{
	if (!pc_inited || pc_stopping)
		return;
	if (!uv_is_active((uv_handle_t *)&pc_timer))
		uv_timer_start(&pc_timer, fire, PUBCAL_DEBOUNCE_MS, 0);
}

/* Stops the timer; a write on the thread pool still completes. */
void
pubcal_shutdown(void)
{
	if (!pc_inited)
		return;
	pc_stopping = true;
	uv_timer_stop(&pc_timer);
	uv_close((uv_handle_t *)&pc_timer, NULL);
	pc_inited = false;
}

/* Renders the current calendar for `crierctl published`. */
int
pubcal_render(char **out, size_t *len, char *err, size_t errlen)
{
	struct pubjob	j;
	int		rc;

	memset(&j, 0, sizeof(j));
	if (load(&j) == -1) {
		snprintf(err, errlen, "cannot read the sent posts from the store");
		store_published_free(j.rows, j.n);
		free(j.posts);
		return (-1);
	}
	rc = published_render(j.posts, j.n, NULL, PUBCAL_NAME, out, len, err,
	    errlen);
	store_published_free(j.rows, j.n);
	free(j.posts);
	return (rc);
}
