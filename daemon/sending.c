/*
 * One delivery on its way, the one shape every channel follows: the post
 * is assembled complete (text, media read and checked by media.c, for an
 * email channel the recipients and their rendering from newsletter.c, a
 * journal), handed to chan_start, and its end reported exactly once. The
 * scheduler commits `sending` before and books the outcome after.
 */
#include <config.h>

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "log.h"
#include "media.h"
#include "newsletter.h"
#include "sending.h"
#include "store.h"
#include "store_parts.h"
#include "thread.h"
#include "../common/util.h"

/* One delivery under way. */
struct job {
	LIST_ENTRY(job)			 entry;
	struct delivery			 d;
	const struct channel_ops	*ops;
	struct post			 p;
	struct media			*media;
	size_t				 nmedia;
	struct newsletter		*nl;
	struct chan_journal		 journal;	/* non-email channels */
	struct split_result		 split;		/* a thread's parts */
	struct post_part		*parts;
	struct store_part		*confirmed;	/* parts sent before */
	size_t				 nconfirmed;
	sending_done_fn			 done;
};

static LIST_HEAD(, job)	jobs = LIST_HEAD_INITIALIZER(jobs);
static int		njobs;	/* network ones: local ones are not counted */
static struct job	*starting;	/* the job in chan_start, if any */

/* Adds EVENT to the history of the job ARG's delivery. */
static void
job_event(void *arg, const char *event, const char *detail)
{
	struct job	*job = arg;

	store_log(job->d.id, job->d.channel, STORE_ACTOR_DAEMON, event, detail);
}

/* Frees JOB (not on the list). */
static void
job_free(struct job *job)
{
	newsletter_close(job->nl);
	media_free(job->media, job->nmedia);
	split_free(&job->split);
	free(job->parts);
	store_parts_free(job->confirmed, job->nconfirmed);
	store_delivery_clear(&job->d);
	free(job);
}

/* The end of JOB's delivery: R goes to the scheduler, JOB is freed. */
static void
job_end(void *arg, const struct chan_result *r)
{
	struct job	*job = arg;
	bool		 later = job != starting;

	LIST_REMOVE(job, entry);
	if (!job->ops->local)
		njobs--;
	if (!later)
		starting = NULL;
	job->done(&job->d, job->ops, r, later);
	job_free(job);
}

/* Records thread part I of the job ARG's delivery as confirmed. */
static int
job_part(void *arg, size_t i, const char *remote_id, const char *remote_url,
    const char *ref)
{
	struct job		*job = arg;
	struct store_part	*sp;
	char			 detail[700];

	if (store_parts_put(job->d.id, i, remote_id, remote_url, ref) == -1)
		return (-1);
	/* The channel reads the parts confirmed so far from its post. */
	job->confirmed = xreallocarray(job->confirmed, job->nconfirmed + 1,
	    sizeof(*job->confirmed));
	sp = &job->confirmed[job->nconfirmed++];
	sp->part = i;
	sp->remote_id = xstrdup(remote_id);
	sp->remote_url = remote_url ? xstrdup(remote_url) : NULL;
	sp->ref = ref ? xstrdup(ref) : NULL;
	sp->at = 0;
	job->parts[i].remote_id = sp->remote_id;
	job->parts[i].remote_url = sp->remote_url;
	job->parts[i].ref = sp->ref;
	snprintf(detail, sizeof(detail), "part %zu/%zu: %s", i + 1,
	    job->p.nparts, remote_url != NULL ? remote_url : remote_id);
	store_log(job->d.id, job->d.channel, STORE_ACTOR_DAEMON, "part",
	    detail);
	return (0);
}

/*
 * A post too long for CH with split = thread: its parts, those confirmed
 * by an earlier attempt marked so (they are not posted again); -1 with ERR.
 */
static int
job_parts(struct channel *ch, struct job *job, char *err, size_t errlen)
{
	struct post		*p = &job->p;
	struct len_result	 lr;
	size_t			 i, k;

	/* refit measured it just before: only a thread is measured again. */
	if (!thread_enabled(ch) ||
	    thread_measure(ch, p->text, &lr, &job->split, err, errlen) != 1)
		return (0);	/* one post; -1: refit has held it already */
	if (store_parts_list(p->id, &job->confirmed, &job->nconfirmed) == -1) {
		snprintf(err, errlen, "cannot read the thread's parts");
		return (-1);
	}
	if ((job->parts = calloc(job->split.n, sizeof(*job->parts))) == NULL)
		abort();
	for (i = 0; i < job->split.n; i++) {
		job->parts[i].text = job->split.v[i].text;
		for (k = 0; k < job->nconfirmed; k++)
			if (job->confirmed[k].part == i) {
				job->parts[i].remote_id =
				    job->confirmed[k].remote_id;
				job->parts[i].remote_url =
				    job->confirmed[k].remote_url;
				job->parts[i].ref = job->confirmed[k].ref;
			}
	}
	p->parts = job->parts;
	p->nparts = job->split.n;
	job->journal.part = job_part;
	return (0);
}

/* Completes JOB's post for CH: media, the email's recipients, a journal; -1 with ERR. */
static int
job_post(struct channel *ch, struct job *job, const struct tmpl_set *tmpls,
    char *err, size_t errlen)
{
	const struct delivery	*d = &job->d;
	struct post		*p = &job->p;

	chan_post_of(p, d);
	job->journal.arg = job;
	job->journal.event = job_event;
	p->journal = &job->journal;
	if (ch->ops->media != NULL) {
		if (media_load(d->id, ch->ops->media, &job->media, &job->nmedia,
		    err, errlen) == -1)
			return (-1);
		p->media = job->media;
		p->nmedia = job->nmedia;
	}
	if (job_parts(ch, job, err, errlen) == -1)
		return (-1);
	if (ch->ops->email) {
		if ((job->nl = newsletter_open(ch, p, tmpls, err, errlen)) ==
		    NULL)
			return (-1);
		p->email = newsletter_email(job->nl);
		p->journal = newsletter_journal(job->nl);
	}
	return (0);
}

/* Ends JOB before it started, as OUTCOME with ERR. */
static void
job_fail(struct job *job, enum chan_outcome outcome, const char *err)
{
	struct chan_result	 r;

	memset(&r, 0, sizeof(r));
	r.outcome = outcome;
	snprintf(r.error, sizeof(r.error), "%s", err[0] ? err :
	    "cannot start the delivery");
	job_end(job, &r);
}

/* Starts JOB's post on CH; one the channel refuses ends failed. */
static void
job_start(struct channel *ch, struct job *job)
{
	char	 err[512];

	err[0] = '\0';
	if (chan_start(ch, &job->p, job_end, job, err, sizeof(err)) != 0)
		job_fail(job, CHAN_PERMANENT, err);
	/* else JOB may be gone already: a channel may end at once */
}

/*
 * newsletter_ready_fn: JOB's recipients are read and planned, its post
 * starts now (on its channel as configured now: a reload may have come).
 */
static void
job_planned(void *arg, const char *err, bool permanent)
{
	struct job	*job = arg;
	struct channel	*ch = chan_find(job->d.channel);

	if (err != NULL)
		job_fail(job, permanent ? CHAN_PERMANENT : CHAN_TRANSIENT, err);
	else if (ch == NULL || ch->ops != job->ops)
		job_fail(job, CHAN_TRANSIENT, "the channel changed while its "
		    "recipients were planned");
	else
		job_start(ch, job);
}

/* Sends D on CH: one path for every channel type. */
void
sending_start(struct channel *ch, struct delivery *d,
    const struct tmpl_set *tmpls, sending_done_fn done)
{
	struct job		*job;
	char			 err[512];

	if ((job = calloc(1, sizeof(*job))) == NULL)
		abort();
	job->d = *d;
	memset(d, 0, sizeof(*d));
	job->ops = ch->ops;
	job->done = done;
	LIST_INSERT_HEAD(&jobs, job, entry);
	if (!job->ops->local)
		njobs++;
	err[0] = '\0';
	starting = job;
	if (job_post(ch, job, tmpls, err, sizeof(err)) == -1)
		job_fail(job, CHAN_PERMANENT, err);
	else if (job->nl == NULL ||
	    !newsletter_planning(job->nl, job_planned, job))
		job_start(ch, job);
	/* else a long list of recipients is planned first, a slice a turn */
	starting = NULL;
}

/* Number of network deliveries on their way (what max_in_flight bounds). */
int
sending_count(void)
{
	return (njobs);
}

/* Frees the deliveries left (still `sending` in the store: the next start settles them). */
void
sending_shutdown(void)
{
	struct job	*job;

	while ((job = LIST_FIRST(&jobs)) != NULL) {
		LIST_REMOVE(job, entry);
		job_free(job);
	}
	njobs = 0;
}
