/*
 * split = thread (issue 17): a post too long for a Mastodon or Bluesky
 * channel with split = thread goes as numbered parts (split.c), each
 * measured by the network's own rule. Queueing, the last look before
 * sending, preview and --check all ask here, so they agree.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "thread.h"

/* True if CH has split = thread. */
bool
thread_enabled(const struct channel *ch)
{
	const char	*v;

	if (ch == NULL || ch->cfg == NULL || ch->ops->email)
		return (false);
	v = conf_chan_get(ch->cfg, "split", NULL);
	return (v != NULL && strcmp(v, "thread") == 0);
}

/* Measures TEXT for CH; a thread if it does not fit and CH splits. */
int
thread_measure(const struct channel *ch, const char *text,
    struct len_result *lr, struct split_result *parts, char *err,
    size_t errlen)
{
	struct split_result	 tmp;
	struct split_result	*r = parts != NULL ? parts : &tmp;
	char			 why[256];

	if (parts != NULL)
		memset(parts, 0, sizeof(*parts));
	if (text == NULL)
		text = "";
	len_measure(chan_len_rule(ch), text, ch->limit, lr);
	if (lr->fits || !thread_enabled(ch))
		return (0);
	if (split_thread(chan_len_rule(ch), ch->limit, text, r, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "split = thread: %s", why);
		return (-1);
	}
	if (parts == NULL)
		split_free(&tmp);
	lr->fits = true;
	return (1);
}

/* The parts TEXT goes as on CH, or NULL when it is one post. */
json_t *
thread_json(const struct channel *ch, const char *text)
{
	struct split_result	 r;
	struct len_result	 lr;
	json_t			*a;
	char			 err[256];
	size_t			 i;

	if (thread_measure(ch, text, &lr, &r, err, sizeof(err)) != 1)
		return (NULL);
	a = json_array();
	for (i = 0; i < r.n; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:o}", "text",
		    r.v[i].text, "length", (json_int_t)r.v[i].length, "limit",
		    lr.limit ? json_integer((json_int_t)lr.limit) :
		    json_null()));
	split_free(&r);
	return (a);
}

/* The first part of P's thread not confirmed yet. */
size_t
thread_next(const struct post *p)
{
	size_t	i;

	for (i = 0; i < p->nparts && p->parts[i].remote_id != NULL; i++)
		;
	return (i);
}

/* R as sent, with the remote id and URL of P's first part. */
void
thread_sent(const struct post *p, struct chan_result *r)
{
	memset(r, 0, sizeof(*r));
	r->outcome = CHAN_SENT;
	if (p->nparts == 0 || p->parts[0].remote_id == NULL)
		return;
	snprintf(r->remote_id, sizeof(r->remote_id), "%s",
	    p->parts[0].remote_id);
	if (p->parts[0].remote_url != NULL)
		snprintf(r->remote_url, sizeof(r->remote_url), "%s",
		    p->parts[0].remote_url);
}
