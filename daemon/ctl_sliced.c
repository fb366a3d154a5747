/*
 * Replies made a slice a turn. `list --limit 10000` at 100k queued held
 * the loop 118-160 ms in one turn (SQL, jansson objects, the dump): a due
 * post waited that long, and 16 connections of one uid could make a turn
 * of 2 s. Now each slice's items are written out as they come, and the
 * slices of all such replies share SLICED_TURN_US a turn.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <jansson.h>
#include <uv.h>

#include "ctl_sliced.h"
#include "log.h"
#include "reply.h"
#include "store.h"
#include "when.h"
#include "../common/jsonw.h"
#include "../common/proto.h"
#include "../common/util.h"

#define SLICED_TURN_US	4000	/* for every sliced reply together, at most about */

/* A reply being made. */
struct sjob {
	TAILQ_ENTRY(sjob)	 entry;
	struct ctlconn_later	*later;
	json_t			*head;		/* the reply without its array */
	struct ctl_slicer	 s;		/* its strings our own copies */
	void			*arg;
	char			*buf;		/* the items so far, written out */
	size_t			 len, cap;
	size_t			 nitems;
};

static TAILQ_HEAD(, sjob)	 jobs = TAILQ_HEAD_INITIALIZER(jobs);
static size_t			 njobs;
static uv_idle_t		 slice_idle;
static int			 idle_inited;
/*
 * Tests only: the rows a slice, and a sleep before each slice after the
 * first, so that a test's other client surely acts while a reply is made.
 */
static size_t			 test_rows;
static unsigned			 test_sleep_ms;

/* Appends the items of array A, written out, to J's text; -1 if they cannot be written. */
static int
add_items(struct sjob *j, json_t *a)
{
	size_t	 n = 0;
	char	*t;

	if (json_array_size(a) == 0)
		return (0);
	if ((t = jsonw_dump(a, 0, &n)) == NULL || n < 2) {
		free(t);
		return (-1);
	}
	/* "[x,y]": what is inside, after a comma when items came before. */
	if (j->len + n + 1 > j->cap) {
		j->cap = (j->len + n + 1) * 2;
		j->buf = xreallocarray(j->buf, j->cap, 1);
	}
	if (j->nitems > 0)
		j->buf[j->len++] = ',';
	memcpy(j->buf + j->len, t + 1, n - 2);
	j->len += n - 2;
	j->nitems += json_array_size(a);
	free(t);
	return (0);
}

/* The object of reply HEAD that holds S's array. */
static json_t *
holder(json_t *head, const struct ctl_slicer *s)
{
	return (s->within != NULL ? json_object_get(head, s->within) : head);
}

/* Object O written out without its closing brace (*LEN bytes); NULL on error. */
static char *
open_object(json_t *o, size_t *len)
{
	char	*t;
	size_t	 n = 0;

	if ((t = jsonw_dump(o, 0, &n)) == NULL || n < 2) {
		free(t);
		return (NULL);
	}
	*len = n - 1;
	return (t);
}

/* Appends N bytes at P to LINE at *OFF. */
static void
put(char *line, size_t *off, const void *p, size_t n)
{
	memcpy(line + *off, p, n);
	*off += n;
}

/*
 * J's whole reply line (*LEN bytes): its head, the version, the array, a
 * newline. The array's text, megabytes for a long one, is copied once.
 */
static char *
finish_line(struct sjob *j, size_t *len)
{
	json_t	*in;
	char	*outer = NULL, *inner = NULL, *line = NULL, key[80];
	size_t	 on = 0, in_n = 0, off = 0;
	int	 kn;

	json_object_set_new(j->head, "v", json_integer(CRIER_PROTO_VERSION));
	if ((in = holder(j->head, &j->s)) == NULL)
		return (NULL);
	if (j->s.end != NULL)
		j->s.end(j->arg, in);
	if (j->s.within != NULL) {
		/* The head without the holder, then the holder in it. */
		json_incref(in);
		json_object_del(j->head, j->s.within);
		if ((outer = open_object(j->head, &on)) == NULL)
			goto done;
	}
	if ((inner = open_object(in, &in_n)) == NULL)
		goto done;
	line = xcalloc(1, on + in_n + 2 * sizeof(key) + j->len + 8);
	if (outer != NULL) {
		put(line, &off, outer, on);
		kn = snprintf(key, sizeof(key), "%s\"%s\":", on > 1 ? "," : "",
		    j->s.within);
		put(line, &off, key, (size_t)kn);
	}
	put(line, &off, inner, in_n);
	kn = snprintf(key, sizeof(key), "%s\"%s\":[", in_n > 1 ? "," : "",
	    j->s.field);
	put(line, &off, key, (size_t)kn);
	put(line, &off, j->buf, j->len);
	put(line, &off, outer != NULL ? "]}}\n" : "]}\n", outer != NULL ? 4 : 3);
	*len = off;
done:
	if (j->s.within != NULL)
		json_decref(in);
	free(outer);
	free(inner);
	return (line);
}

/* Frees J and what its slicer holds. */
static void
job_free(struct sjob *j)
{
	j->s.free_fn(j->arg);
	json_decref(j->head);
	free((char *)j->s.within);
	free((char *)j->s.field);
	free(j->buf);
	free(j);
}

/* Answers J's client (RC 0: the reply, -1: an error) and frees J. */
static void
job_end(struct sjob *j, int rc)
{
	char	*line;
	size_t	 len = 0;

	if (rc == 0 && (line = finish_line(j, &len)) != NULL)
		ctlconn_later_answer_line(j->later, line, len);
	else
		ctlconn_later_answer(j->later, reply_error("internal",
		    "database error (crierd's log says more)"));
	job_free(j);
}

/* J's next slice: 1 if more may follow, 0 at the end, -1 on error. */
static int
job_step(struct sjob *j)
{
	json_t	*items = json_array();
	int	 rc;

	if (test_sleep_ms > 0)
		uv_sleep(test_sleep_ms);
	rc = j->s.next(j->arg, j->s.slice, items);
	if (rc >= 0 && add_items(j, items) == -1)
		rc = -1;
	json_decref(items);
	return (rc);
}

/* Idle callback: a slice of each reply in turn, while this turn's time lasts. */
static void
on_slice(uv_idle_t *h)
{
	struct sjob	*j;
	int64_t		 t0 = when_mono_us(), end = t0 + SLICED_TURN_US, t = t0;
	int64_t		 last = 0;	/* the last slice took */
	size_t		 i;
	int		 rc;

	/*
	 * A slice of each reply at most, and of one at least; another only
	 * if one as long as the last still ends in time. The slice done goes
	 * to the back: every reply gets its turn.
	 */
	for (i = 0; i < njobs && (i == 0 || t + last <= end); ) {
		j = TAILQ_FIRST(&jobs);
		TAILQ_REMOVE(&jobs, j, entry);
		njobs--;
		if (ctlconn_later_gone(j->later)) {
			/* Its client left: the promise is freed, nothing sent. */
			ctlconn_later_answer_line(j->later, NULL, 0);
			job_free(j);
			continue;
		}
		i++;
		if ((rc = job_step(j)) == 1) {
			TAILQ_INSERT_TAIL(&jobs, j, entry);
			njobs++;
		} else
			job_end(j, rc);
		last = when_mono_us() - t;
		t += last;
	}
	if (njobs == 0)
		uv_idle_stop(h);
}

/* Reads the tests' settings once: CRIER_TEST_LIST_SLICE, CRIER_TEST_SLICE_SLEEP_MS. */
static void
test_env(void)
{
	static int	 read;
	const char	*v;

	if (read)
		return;
	read = 1;
	if ((v = getenv("CRIER_TEST_LIST_SLICE")) != NULL && atoi(v) > 0) {
		test_rows = (size_t)atoi(v);
		log_warnx("CRIER_TEST_LIST_SLICE=%zu: for tests only", test_rows);
	}
	if ((v = getenv("CRIER_TEST_SLICE_SLEEP_MS")) != NULL && atoi(v) > 0) {
		test_sleep_ms = (unsigned)atoi(v);
		log_warnx("CRIER_TEST_SLICE_SLEEP_MS=%u: for tests only",
		    test_sleep_ms);
	}
}

/* Items a slice: DEF, or CRIER_TEST_LIST_SLICE (tests only). */
size_t
ctl_sliced_rows(size_t def)
{
	test_env();
	return (test_rows > 0 ? test_rows : def);
}

/* Answers CL with HEAD and S's array, a slice a turn (NULL: promised). */
json_t *
ctl_sliced(struct client *cl, json_t *head, const struct ctl_slicer *s,
    void *arg)
{
	struct sjob	*j;
	json_t		*items = json_array(), *in;
	int		 rc;

	rc = s->next(arg, s->slice, items);
	if (rc <= 0) {
		/* It fitted in one slice (or failed): answered now. */
		if (rc == 0 && (in = holder(head, s)) != NULL) {
			if (s->end != NULL)
				s->end(arg, in);
			json_object_set(in, s->field, items);
		} else
			rc = -1;
		s->free_fn(arg);
		json_decref(items);
		if (rc < 0) {
			json_decref(head);
			return (reply_error("internal", "database error (crierd's "
			    "log says more)"));
		}
		return (head);
	}
	if (!idle_inited) {
		if (uv_idle_init(cl->pipe.loop, &slice_idle) != 0)
			fatalx("ctl: cannot set up sliced replies");
		idle_inited = 1;
	}
	j = xcalloc(1, sizeof(*j));
	j->head = head;
	j->s = *s;
	j->s.within = s->within != NULL ? xstrdup(s->within) : NULL;
	j->s.field = xstrdup(s->field);
	j->arg = arg;
	j->later = ctlconn_later(cl);
	rc = add_items(j, items);
	json_decref(items);
	if (rc == -1) {
		job_end(j, -1);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&jobs, j, entry);
	njobs++;
	uv_idle_start(&slice_idle, on_slice);
	return (NULL);
}

/* ctl_slice_free_fn for a slicer whose ARG is a store cursor (list, log). */
void
ctl_sliced_cursor_free(void *arg)
{
	store_cursor_close(arg);
}

/* Stopping: each reply still being made is answered "stopping"; the handle is closed. */
void
ctl_sliced_shutdown(void)
{
	struct sjob	*j;

	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		TAILQ_REMOVE(&jobs, j, entry);
		njobs--;
		ctlconn_later_answer(j->later, reply_error("stopping",
		    "crierd is stopping"));
		job_free(j);
	}
	if (idle_inited) {
		uv_idle_stop(&slice_idle);
		uv_close((uv_handle_t *)&slice_idle, NULL);
		idle_inited = 0;
	}
}
