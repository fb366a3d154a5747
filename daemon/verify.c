/*
 * crierd --check: every occurrence in the window, rendered for each of its
 * channels and measured, with every problem named by calendar, uid, start
 * and channel. Works offline: url calendars use their cached copy.
 */
#include <config.h>

#include <libgen.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "verify.h"
#include "redact.h"
#include "calendar/calendar.h"
#include "campaign.h"
#include "channel.h"
#include "compose.h"
#include "media.h"
#include "netguard.h"
#include "render.h"
#include "template.h"
#include "thread.h"
#include "../common/util.h"
#include "../common/util.h"

struct vsrc {
	char		*name;
	const char	*path;
	const char	*channels;	/* calendar default */
	const char	*template;
	char		*label;		/* for messages: the path or url */
};

#define VERIFY_OBUF	(1 << 20)	/* stdout's buffer in JSON mode */

struct vbuf {				/* a growing byte string */
	char		*p;
	size_t		 n, cap;
};

/*
 * What checking one occurrence gave: its JSON row but for the times
 * (PRE, then recurrence_id, start, end, then POST), its problems with
 * their lines and its channels' warnings. Kept for the event's other
 * occurrences when nothing in it depends on the start (start_free()).
 */
struct vrow {
	char		*pre, *post;
	size_t		 npre, npost;
	bool		 ok;		/* the row can be written */
	char		**probs;
	int		*lines;
	size_t		 nprobs;
	char		**warns;
	size_t		 nwarns;
};

struct vcal {				/* a calendar being checked */
	struct vsrc	 src;
	char		*copy, *label;	/* what src points into, owned */
	struct cal_calendar *cal;
	struct cal_stream *st;
	const struct cal_occurrence *head;	/* its next occurrence, or NULL */
	size_t		 hev;		/* the event that is from */
	struct vrow	**rows;		/* by event, kept rows */
	size_t		 nrows;
};

struct vstate {
	const struct verify_opts	*o;
	const struct tmpl_set		*tmpls;
	struct vcal			*cals;
	size_t				 ncals;
	size_t				 nocc;
	size_t				 problems;
	json_t				*lines;		/* problem -> its line, when not the event's */
};

static char	 obuf[VERIFY_OBUF];

static int	 next_head(struct vstate *, struct vcal *);
static void	 stream_failed(struct vstate *, struct vcal *);

/* Appends N bytes of S to B. */
static void
vbuf_add(struct vbuf *b, const char *s, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->n + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->n + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			abort();
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* Prints a problem line (human mode) and counts it. */
static void
problem(struct vstate *vs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(struct vstate *vs, const char *fmt, ...)
{
	va_list	ap;

	vs->problems++;
	if (vs->o->json) {
		/* In JSON mode problems outside any occurrence go to stderr. */
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		return;
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The status word of SPEC §2. */
static const char *
status_name(enum cal_status s)
{
	return (s == CAL_CANCELLED ? "cancelled" : s == CAL_HELD ? "held" :
	    "scheduled");
}

/*
 * What crierd would fetch or read for O on CH, checked as it would be:
 * attachments confined to media_dirs and typed by content, URLs (media,
 * and Bluesky's link cards) public. Problems go to PROBS.
 */
static void
check_fetches(struct vstate *vs, const struct channel *ch,
    const struct cal_occurrence *o, const char *text, const char *name,
    json_t *probs)
{
	const char	*p, *lc;
	char		 msg[700], why[500], url[2048];
	size_t		 n;
	int		 line;

	/* Where attachments come from is checked whatever the channel. */
	if (o->nattach > 0 && media_check_attachments(o->attach, o->nattach,
	    ch->ops->media, &line, why, sizeof(why)) == -1) {
		snprintf(msg, sizeof(msg), "%s: %s", name, why);
		json_array_append_new(probs, json_string(msg));
		if (line > 0)
			json_object_set_new(vs->lines, msg, json_integer(line));
	}
	/* Only types whose key table has link_cards can have it set (conf.c). */
	lc = conf_chan_get(ch->cfg, "link_cards", NULL);
	if (text == NULL || lc == NULL ||
	    (strcasecmp(lc, "yes") != 0 && strcasecmp(lc, "true") != 0) ||
	    o->nattach > 0)
		return;
	/* The link card is fetched from the first link of the post. */
	for (p = text; (p = strstr(p, "http")) != NULL; p++) {
		if (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0)
			continue;
		n = strcspn(p, " \t\n\r\"<>");
		while (n > 0 && strchr(".,;:!?)'", p[n - 1]) != NULL)
			n--;
		snprintf(url, sizeof(url), "%.*s", (int)n, p);
		if (netguard_check_url(url, why, sizeof(why)) == -1) {
			snprintf(msg, sizeof(msg), "%s: link card %s: %s", name,
			    url, why);
			json_array_append_new(probs, json_string(msg));
		}
		break;
	}
}

/* Renders O for channel NAME into CHANS, its problems to PROBS, warnings to WARNS. */
static void
check_channel(struct vstate *vs, const struct vsrc *src,
    const struct cal_occurrence *o, const char *name, json_t *chans,
    json_t *probs, json_t *warns)
{
	struct render_input	 in;
	struct render_output	 out;
	struct channel		*ch = chan_find(name);
	const char		*tmpl = o->template ? o->template : src->template;
	char			 msg[700], why[400];
	json_t			*jc, *parts;

	if (ch == NULL) {
		snprintf(msg, sizeof(msg), "no channel named '%s'", name);
		json_array_append_new(probs, json_string(msg));
		return;
	}
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.occ = o;
	in.calendar = src->name;
	in.ch = ch;
	in.conf = vs->o->conf;
	in.tmpls = vs->tmpls;
	in.template = tmpl;
	in.start = (int64_t)o->start * 1000;
	in.strict = true;
	jc = json_object();
	json_object_set_new(jc, "name", json_string(name));
	json_object_set_new(jc, "type", json_string(ch->ops->type));
	if (compose_post(&in, NULL, &out, why, sizeof(why)) == COMPOSE_ERROR) {
		snprintf(msg, sizeof(msg), "%s: %s", name, out.error);
		json_array_append_new(probs, json_string(msg));
		json_object_set_new(jc, "text", json_null());
		json_object_set_new(jc, "error", json_string(out.error));
		json_object_set_new(jc, "fits", json_false());
	} else {
		json_object_set_new(jc, "text", json_string(out.text));
		if (out.subject != NULL)
			json_object_set_new(jc, "subject", json_string(out.subject));
		compose_len_json(jc, &out.len);
		if ((parts = thread_json(ch, out.text)) != NULL)
			json_object_set_new(jc, "parts", parts);
		if (!out.len.fits) {
			snprintf(msg, sizeof(msg), "%s: %s: %s", name,
			    out.len.length <= out.len.limit && out.len.links >
			    out.len.link_limit && out.len.link_limit != 0 ?
			    "too many links" : "too long", why);
			json_array_append_new(probs, json_string(msg));
		}
	}
	check_fetches(vs, ch, o, out.text, name, probs);
	if (ch->ops->check_post != NULL) {
		char	cmsg[600];

		cmsg[0] = '\0';
		switch (ch->ops->check_post(ch, o, cmsg, sizeof(cmsg))) {
		case CHAN_CHECK_PROBLEM:
			snprintf(msg, sizeof(msg), "%s: %s", name, cmsg);
			json_array_append_new(probs, json_string(msg));
			break;
		case CHAN_CHECK_WARNING:
			snprintf(msg, sizeof(msg), "%s: %s", name, cmsg);
			json_array_append_new(warns, json_string(msg));
			break;
		}
	}
	json_array_append_new(chans, jc);
	render_output_clear(&out);
}

/* The utm key compose.c tags IN's links with (its utm_key()): NULL when none. */
static const char *
utm_of(const struct vstate *vs, const struct vsrc *src, const struct channel *ch)
{
	const struct config	*c = vs->o->conf;
	size_t			 i;

	for (i = 0; i < c->ncalendars; i++)
		if (strcmp(c->calendars[i].name, src->name) == 0 &&
		    c->calendars[i].utm)
			return (c->calendars[i].utm);
	return (ch->cfg != NULL ? conf_chan_get(ch->cfg, "utm", NULL) : NULL);
}

/*
 * Whether what O's channels give depends on nothing but O's event: no
 * template and no utm parameters (both can use {{start}}), so that every
 * occurrence of the event shares one result.
 */
static bool
start_free(const struct vstate *vs, const struct vsrc *src,
    const struct cal_occurrence *o, const char *list)
{
	const struct channel	*ch;
	char			 name[128];

	if (o->template != NULL || src->template != NULL)
		return (false);
	while (util_list_next(&list, ", ", name, sizeof(name)) > 0)
		if ((ch = chan_find(name)) != NULL && utm_of(vs, src, ch) != NULL)
			return (false);
	return (true);
}

/* Appends S to B as JSON (jansson's compact form), or null; -1 if S is not UTF-8. */
static int
json_put(struct vbuf *b, const char *s)
{
	json_t	*j;
	char	*d;

	if (s == NULL) {
		vbuf_add(b, "null", 4);
		return (0);
	}
	if ((j = json_string(s)) == NULL)
		return (-1);
	d = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(j);
	if (d == NULL)
		abort();
	vbuf_add(b, d, strlen(d));
	free(d);
	return (0);
}

/* Appends array A (compact, in order) to B. */
static void
json_put_array(struct vbuf *b, json_t *a)
{
	char	*d;

	if ((d = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		abort();
	vbuf_add(b, d, strlen(d));
	free(d);
}

/*
 * Renders and measures O for each of its channels: the row's text around
 * its times, its problems and warnings (see struct vrow). NULL when the
 * row cannot be written (a text that is not UTF-8, as jansson refuses).
 */
static struct vrow *
make_row(struct vstate *vs, const struct vsrc *src,
    const struct cal_occurrence *o, const char *list)
{
	struct vrow	*r;
	struct vbuf	 b;
	json_t		*chans, *probs, *warns, *p, *l;
	char		 name[128];
	const char	*ll = list;
	size_t		 i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		abort();
	memset(&b, 0, sizeof(b));
	chans = json_array();
	probs = json_array();
	warns = json_array();
	while (util_list_next(&ll, ", ", name, sizeof(name)) > 0)
		check_channel(vs, src, o, name, chans, probs, warns);
	if (json_array_size(chans) == 0 && json_array_size(probs) == 0)
		json_array_append_new(probs, json_string("no channel (set "
		    "X-CRIER-CHANNELS, or channels = in the config)"));
	/* What never goes out cannot go out wrong. */
	if (o->status == CAL_CANCELLED)
		json_array_clear(probs);
	r->nprobs = json_array_size(probs);
	r->nwarns = json_array_size(warns);
	if ((r->probs = calloc(r->nprobs + 1, sizeof(*r->probs))) == NULL ||
	    (r->lines = calloc(r->nprobs + 1, sizeof(*r->lines))) == NULL ||
	    (r->warns = calloc(r->nwarns + 1, sizeof(*r->warns))) == NULL)
		abort();
	json_array_foreach(probs, i, p) {
		l = json_object_get(vs->lines, json_string_value(p));
		if ((r->probs[i] = strdup(json_string_value(p))) == NULL)
			abort();
		r->lines[i] = l != NULL ? (int)json_integer_value(l) : o->line;
	}
	json_array_foreach(warns, i, p)
		if ((r->warns[i] = strdup(json_string_value(p))) == NULL)
			abort();
	json_object_clear(vs->lines);
	/* {"calendar", "uid", "recurrence_id", "start", "end", "summary", ...} */
	r->ok = true;
	vbuf_add(&b, "{\"calendar\":", 12);
	if (json_put(&b, src->name) == -1)
		r->ok = false;
	vbuf_add(&b, ",\"uid\":", 7);
	if (json_put(&b, o->uid) == -1)
		r->ok = false;
	vbuf_add(&b, ",\"recurrence_id\":", 17);
	r->pre = b.p;
	r->npre = b.n;
	memset(&b, 0, sizeof(b));
	vbuf_add(&b, ",\"summary\":", 11);
	if (json_put(&b, o->summary) == -1)
		r->ok = false;
	vbuf_add(&b, ",\"status\":\"", 11);
	vbuf_add(&b, status_name(o->status), strlen(status_name(o->status)));
	vbuf_add(&b, "\",\"channels\":", 13);
	json_put_array(&b, chans);
	vbuf_add(&b, ",\"problems\":", 12);
	json_put_array(&b, probs);
	vbuf_add(&b, "}\n", 2);
	r->post = b.p;
	r->npost = b.n;
	json_decref(chans);
	json_decref(probs);
	json_decref(warns);
	return (r);
}

/* Frees row R. */
static void
row_free(struct vrow *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nprobs; i++)
		free(r->probs[i]);
	for (i = 0; i < r->nwarns; i++)
		free(r->warns[i]);
	free(r->probs);
	free(r->lines);
	free(r->warns);
	free(r->pre);
	free(r->post);
	free(r);
}

/* Writes row R for occurrence O: its times between R's two halves. */
static void
write_row(const struct vrow *r, const struct cal_occurrence *o)
{
	struct vbuf	 b;
	char		 mid[160];

	/* the times are ASCII digits and signs: nothing to escape; MID
	 * holds them all (three of at most 31 bytes and the keys) */
	b.p = mid;
	b.n = 0;
	b.cap = sizeof(mid);
	if (o->recurrence_id[0] != '\0') {
		vbuf_add(&b, "\"", 1);
		vbuf_add(&b, o->recurrence_id, strlen(o->recurrence_id));
		vbuf_add(&b, "\"", 1);
	} else
		vbuf_add(&b, "null", 4);
	vbuf_add(&b, ",\"start\":\"", 10);
	vbuf_add(&b, o->start_str, strlen(o->start_str));
	vbuf_add(&b, "\",\"end\":\"", 9);
	vbuf_add(&b, o->end_str, strlen(o->end_str));
	vbuf_add(&b, "\"", 1);
	fwrite(r->pre, 1, r->npre, stdout);
	fwrite(b.p, 1, b.n, stdout);
	fwrite(r->post, 1, r->npost, stdout);
}

/* Checks occurrence O, EVENT of calendar VC: prints its problems, and in JSON mode its row. */
static void
check_occurrence(struct vstate *vs, struct vcal *vc,
    const struct cal_occurrence *o, size_t event)
{
	const struct vsrc	*src = &vc->src;
	struct vrow		*r = NULL;
	const char		*list = o->channels ? o->channels : src->channels ?
				    src->channels : vs->o->conf->channels;
	size_t			 i;
	bool			 keep;

	if (event < vc->nrows && vc->rows[event] != NULL)
		r = vc->rows[event];
	else {
		r = make_row(vs, src, o, list);
		keep = event < vc->nrows && start_free(vs, src, o, list);
		if (keep)
			vc->rows[event] = r;
	}
	for (i = 0; i < r->nwarns; i++)
		fprintf(stderr, "%s:%d: uid %s at %s: warning: %s\n", src->label,
		    o->line, o->uid ? o->uid : "(none)", o->start_str, r->warns[i]);
	vs->nocc++;
	vs->problems += r->nprobs;
	if (!vs->o->json)
		for (i = 0; i < r->nprobs; i++)
			printf("%s:%d: uid %s at %s: %s\n", src->label, r->lines[i],
			    o->uid ? o->uid : "(none)", o->start_str, r->probs[i]);
	else if (r->ok)
		write_row(r, o);
	if (event >= vc->nrows || vc->rows[event] != r)
		row_free(r);
}

/*
 * Loads calendar VC and starts streaming its occurrences, printing the
 * problems of reading and of checking its events against the limits.
 * -1 when it gives nothing.
 */
static int
open_calendar(struct vstate *vs, struct vcal *vc)
{
	const struct cal_problem	*pr;
	const struct vsrc		*src = &vc->src;
	struct cal_limits		 lim;
	size_t				 np, nw, i;
	char				 err[1024];

	vc->cal = cal_load_file(src->path, vs->o->conf->timezone, err, sizeof(err));
	if (vc->cal == NULL) {
		problem(vs, "%s", err);
		fprintf(vs->o->json ? stderr : stdout, "%s: %s\n", src->label,
		    CAMP_RULE_FILE);
		return (-1);
	}
	memset(&lim, 0, sizeof(lim));
	lim.min_interval = vs->o->conf->min_interval;
	lim.max_occurrences = vs->o->conf->max_occurrences;
	cal_set_limits(vc->cal, &lim);
	vc->st = cal_stream_new(vc->cal, (time_t)(vs->o->from / 1000),
	    (time_t)((vs->o->to + 999) / 1000));
	/* The problems of reading and of expanding, each naming file and line. */
	pr = cal_problems(vc->cal, &np);
	for (i = 0; i < np; i++)
		problem(vs, "%s", camp_problem_text(&pr[i], err, sizeof(err)));
	pr = cal_warnings(vc->cal, &nw);
	for (i = 0; i < nw; i++)
		fprintf(stderr, "%s (warning)\n", pr[i].msg);
	if (vc->st == NULL) {
		stream_failed(vs, vc);
		return (-1);
	}
	if (np > 0)
		fprintf(vs->o->json ? stderr : stdout, "%s: %zu problem%s: %s\n",
		    src->label, np, np > 1 ? "s" : "", CAMP_RULE_EVENT);
	vc->nrows = cal_nevents(vc->cal);
	if (vc->nrows > 0 && (vc->rows = calloc(vc->nrows,
	    sizeof(*vc->rows))) == NULL)
		abort();
	return (next_head(vs, vc));
}

/* Says that VC's expansion failed (its budget spent): the file's rule. */
static void
stream_failed(struct vstate *vs, struct vcal *vc)
{
	problem(vs, "%s", cal_error(vc->cal) ? cal_error(vc->cal) :
	    "expanding the calendar failed");
	fprintf(vs->o->json ? stderr : stdout, "%s: %s\n", vc->src.label,
	    CAMP_RULE_FILE);
}

/* Moves VC to its next occurrence; -1 when it has no more. */
static int
next_head(struct vstate *vs, struct vcal *vc)
{
	int	 rc;

	vc->head = NULL;
	if (vc->st == NULL)
		return (-1);
	if ((rc = cal_stream_next(vc->st, &vc->head, &vc->hev)) == 1)
		return (0);
	if (rc == -1)
		stream_failed(vs, vc);
	vc->head = NULL;
	return (-1);
}

/* Frees what VC holds. */
static void
close_calendar(struct vcal *vc)
{
	size_t	 i;

	for (i = 0; i < vc->nrows; i++)
		row_free(vc->rows[i]);
	free(vc->rows);
	cal_stream_free(vc->st);
	cal_free(vc->cal);
	free(vc->copy);
	memset(vc, 0, sizeof(*vc));
}

/* Orders the heads of two calendars as the rows print: start, uid, recurrence id. */
static int
head_cmp(const struct cal_occurrence *x, const struct cal_occurrence *y)
{
	int	 c;

	if (x->start != y->start)
		return (x->start < y->start ? -1 : 1);
	if ((c = strcmp(x->uid ? x->uid : "", y->uid ? y->uid : "")) != 0)
		return (c);
	return (strcmp(x->recurrence_id, y->recurrence_id));
}

/*
 * Checks the calendars of VS, each streamed: one after the other for
 * people (problems calendar by calendar), merged in time order for
 * --json (calendars in their order where the times are the same).
 */
static void
check_all(struct vstate *vs)
{
	struct vcal	*vc, *best;
	size_t		 i;

	if (!vs->o->json) {
		for (i = 0; i < vs->ncals; i++) {
			vc = &vs->cals[i];
			if (open_calendar(vs, vc) == 0)
				do
					check_occurrence(vs, vc, vc->head, vc->hev);
				while (next_head(vs, vc) == 0);
			close_calendar(vc);
		}
		return;
	}
	for (i = 0; i < vs->ncals; i++)
		open_calendar(vs, &vs->cals[i]);
	for (;;) {
		best = NULL;
		/* few calendars: the earliest head by a look at each */
		for (i = 0; i < vs->ncals; i++) {
			vc = &vs->cals[i];
			if (vc->head != NULL && (best == NULL ||
			    head_cmp(vc->head, best->head) < 0))
				best = vc;
		}
		if (best == NULL)
			break;
		check_occurrence(vs, best, best->head, best->hev);
		next_head(vs, best);
	}
	for (i = 0; i < vs->ncals; i++)
		close_calendar(&vs->cals[i]);
}

/* Adds a calendar to check to VS. */
static struct vcal *
add_calendar(struct vstate *vs)
{
	struct vcal	*n;

	if ((n = reallocarray(vs->cals, vs->ncals + 1, sizeof(*n))) == NULL)
		abort();
	vs->cals = n;
	n = &vs->cals[vs->ncals++];
	memset(n, 0, sizeof(*n));
	return (n);
}

/* Runs the whole check. */
int
verify_run(const struct verify_opts *o)
{
	const struct config	*c = o->conf;
	struct tmpl_set		*tmpls = NULL;
	struct vstate		 vs;
	struct vcal		*vc;
	char			 err[1024], cache[4096], safe[2048];
	size_t			 i;

	memset(&vs, 0, sizeof(vs));
	vs.o = o;
	vs.lines = json_object();
	/* Rows go out as they are made: one large buffer, written in blocks. */
	if (o->json)
		setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (chan_init(c, true, err, sizeof(err)) == -1)
		problem(&vs, "%s", err);
	if (media_setup(c, false, err, sizeof(err)) == -1 ||
	    netguard_set_allow(c->fetch_allow, err, sizeof(err)) == -1)
		problem(&vs, "%s", err);
	if (c->templates != NULL &&
	    (tmpls = tmpl_set_load(c->templates, err, sizeof(err))) == NULL)
		problem(&vs, "templates: %s", err);
	vs.tmpls = tmpls;
	for (i = 0; i < c->ncalendars; i++) {
		const struct cfg_calendar *cc = &c->calendars[i];

		if (cc->path == NULL) {
			/* Offline: the copy crierd fetched last. */
			snprintf(cache, sizeof(cache), "%s/calendars/%s.ics",
			    c->state_dir, cc->name);
			if (access(cache, R_OK) == -1) {
				problem(&vs, "calendar %s: no cached copy of %s yet "
				    "(crierd fetches it when running)", cc->name,
				    redact_url(cc->url, safe, sizeof(safe)));
				continue;
			}
		}
		vc = add_calendar(&vs);
		vc->src.name = cc->name;
		vc->src.channels = cc->channels;
		vc->src.template = cc->template;
		if (cc->path != NULL) {
			vc->src.path = cc->path;
			vc->src.label = cc->path;
		} else {
			if ((vc->copy = strdup(cache)) == NULL ||
			    (vc->label = strdup(redact_url(cc->url, safe,
			    sizeof(safe)))) == NULL)
				abort();
			vc->src.path = vc->copy;
			vc->src.label = vc->label;
		}
	}
	for (i = 0; i < o->ncalendars; i++) {
		vc = add_calendar(&vs);
		if ((vc->copy = strdup(o->calendars[i])) == NULL)
			abort();
		vc->src.name = basename(vc->copy);
		vc->src.name[strcspn(vc->src.name, ".")] = '\0';
		vc->src.path = o->calendars[i];
		vc->src.label = o->calendars[i];
	}
	check_all(&vs);
	if (!o->json)
		printf("%zu occurrence%s checked, %zu problem%s\n", vs.nocc,
		    vs.nocc == 1 ? "" : "s", vs.problems, vs.problems == 1 ? "" : "s");
	fflush(stdout);
	free(vs.cals);
	json_decref(vs.lines);
	tmpl_set_free(tmpls);
	chan_shutdown();
	media_shutdown();
	netguard_shutdown();
	return (vs.problems ? 1 : 0);
}
