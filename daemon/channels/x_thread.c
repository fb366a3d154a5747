/*
 * split = thread on the x channel (issue 17): a post too long for X goes
 * as numbered parts, each a reply (reply.in_reply_to_tweet_id) to the one
 * before. X has no idempotency key, so each part has its own marker in
 * crier.db ("x_posting:ID/N"); a delivery cut off mid-thread resumes at
 * the first part not recorded and looks for that part's text first, as
 * x.c does for a single post.
 */
#include <config.h>

#include <stdio.h>

#include <jansson.h>

#include "../channel.h"
#include "../thread.h"
#include "x.h"

/* The text of part PART of P (P's if no thread), its marker's key into MARKER. */
const char *
x_thread_at(const struct post *p, size_t part, char *marker, size_t len)
{
	if (p->nparts == 0) {
		snprintf(marker, len, "x_posting:%s", p->id);
		return (p->text);
	}
	snprintf(marker, len, "x_posting:%s/%zu", p->id, part + 1);
	return (p->parts[part].text);
}

/* The first part of P to post into *PART; -1 with R sent if every part went. */
int
x_thread_start(const struct post *p, size_t *part, struct chan_result *r)
{
	*part = 0;
	if (p->nparts == 0)
		return (0);
	if ((*part = thread_next(p)) < p->nparts)
		return (0);
	/* Every part went before a crash: the thread is sent. */
	thread_sent(p, r);
	return (-1);
}

/* Adds to BODY the reply to the previous part when PART of P is not the first. */
void
x_thread_reply(const struct post *p, size_t part, json_t *body)
{
	if (p->nparts == 0 || part == 0 || p->parts[part - 1].remote_id == NULL)
		return;
	json_object_set_new(body, "reply", json_pack("{s:s}",
	    "in_reply_to_tweet_id", p->parts[part - 1].remote_id));
}

/*
 * Records part *PART of P as R's post: 0 with *PART the next part to
 * post, or -1: finish with R (every part sent, or the record failed).
 */
int
x_thread_part(const struct post *p, size_t *part, struct chan_result *r)
{
	const struct chan_journal	*jl = p->journal;

	if (jl == NULL || jl->part == NULL || jl->part(jl->arg, *part,
	    r->remote_id, r->remote_url[0] != '\0' ? r->remote_url : NULL,
	    NULL) == -1) {
		r->outcome = CHAN_TRANSIENT;
		snprintf(r->error, sizeof(r->error), "part %zu was posted as "
		    "%s but cannot be recorded", *part + 1, r->remote_id);
		return (-1);
	}
	if ((*part = thread_next(p)) >= p->nparts) {
		thread_sent(p, r);
		return (-1);
	}
	return (0);
}

/*
 * True if P is a thread whose part PART went out (X refused it again as
 * a duplicate) without X saying its id: R then says so, transient, since
 * the next part must reply to that id and the next attempt looks for it.
 */
bool
x_thread_unknown(const struct post *p, size_t part, struct chan_result *r)
{
	if (p->nparts == 0)
		return (false);
	r->outcome = CHAN_TRANSIENT;
	snprintf(r->error, sizeof(r->error), "part %zu went out before the "
	    "crash (X refused it as a duplicate) but X did not say its id: "
	    "looking for it again", part + 1);
	return (true);
}
