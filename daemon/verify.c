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

struct vstate {
	const struct verify_opts	*o;
	const struct tmpl_set		*tmpls;
	json_t				*rows;		/* one object per occurrence */
	size_t				 problems;
	json_t				*lines;		/* problem -> its line, when not the event's */
};

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

/* Renders O for channel NAME and appends the result to ROW's channels. */
static void
check_channel(struct vstate *vs, const struct vsrc *src,
    const struct cal_occurrence *o, const char *name, json_t *chans,
    json_t *probs)
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
		json_object_set_new(jc, "length", json_integer((json_int_t)out.len.length));
		json_object_set_new(jc, "limit", out.len.limit ?
		    json_integer((json_int_t)out.len.limit) : json_null());
		json_object_set_new(jc, "fits", json_boolean(out.len.fits));
		if ((parts = thread_json(ch, out.text)) != NULL)
			json_object_set_new(jc, "parts", parts);
		if (!out.len.fits) {
			snprintf(msg, sizeof(msg), "%s: too long: %s", name, why);
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
			fprintf(stderr, "%s:%d: uid %s at %s: warning: %s: %s\n",
			    src->label, o->line, o->uid ? o->uid : "(none)",
			    o->start_str, name, cmsg);
			break;
		}
	}
	json_array_append_new(chans, jc);
	render_output_clear(&out);
}

/* Checks one occurrence and records its row. */
static void
check_occurrence(struct vstate *vs, const struct vsrc *src,
    const struct cal_occurrence *o)
{
	json_t		*row, *chans, *probs, *p;
	const char	*list = o->channels ? o->channels : src->channels ?
			    src->channels : vs->o->conf->channels;
	char		 name[128];
	size_t		 i;

	chans = json_array();
	probs = json_array();
	while (util_list_next(&list, ", ", name, sizeof(name)) > 0)
		check_channel(vs, src, o, name, chans, probs);
	if (json_array_size(chans) == 0 && json_array_size(probs) == 0)
		json_array_append_new(probs, json_string("no channel (set "
		    "X-CRIER-CHANNELS, or channels = in the config)"));
	/* What never goes out cannot go out wrong. */
	if (o->status == CAL_CANCELLED)
		json_array_clear(probs);
	row = json_pack("{s:s, s:s?, s:o, s:s, s:s, s:s?, s:s, s:o, s:o}",
	    "calendar", src->name, "uid", o->uid,
	    "recurrence_id", o->recurrence_id[0] ? json_string(o->recurrence_id) :
	    json_null(), "start", o->start_str, "end", o->end_str,
	    "summary", o->summary, "status", status_name(o->status),
	    "channels", chans, "problems", probs);
	/* Sort keys kept aside, removed before printing. */
	json_object_set_new(row, "_t", json_integer((json_int_t)o->start));
	json_array_append_new(vs->rows, row);
	json_array_foreach(probs, i, p) {
		json_t	*l = json_object_get(vs->lines, json_string_value(p));

		vs->problems++;
		if (!vs->o->json)
			printf("%s:%d: uid %s at %s: %s\n", src->label, l != NULL ?
			    (int)json_integer_value(l) : o->line,
			    o->uid ? o->uid : "(none)", o->start_str,
			    json_string_value(p));
	}
	json_object_clear(vs->lines);
}

/* Loads, expands and checks one calendar. */
static void
check_calendar(struct vstate *vs, const struct vsrc *src)
{
	const struct cal_problem	*pr;
	struct cal_limits		 lim;
	struct cal_calendar		*cal;
	struct cal_occurrence		*occ = NULL;
	ssize_t				 n;
	size_t				 np, nw, i;
	char				 err[1024];

	cal = cal_load_file(src->path, vs->o->conf->timezone, err, sizeof(err));
	if (cal == NULL) {
		problem(vs, "%s", err);
		fprintf(vs->o->json ? stderr : stdout, "%s: %s\n", src->label,
		    CAMP_RULE_FILE);
		return;
	}
	memset(&lim, 0, sizeof(lim));
	lim.min_interval = vs->o->conf->min_interval;
	lim.max_occurrences = vs->o->conf->max_occurrences;
	cal_set_limits(cal, &lim);
	n = cal_expand(cal, (time_t)(vs->o->from / 1000),
	    (time_t)((vs->o->to + 999) / 1000), &occ);
	/* The problems of reading and of expanding, each naming file and line. */
	pr = cal_problems(cal, &np);
	for (i = 0; i < np; i++)
		problem(vs, "%s", camp_problem_text(&pr[i], err, sizeof(err)));
	pr = cal_warnings(cal, &nw);
	for (i = 0; i < nw; i++)
		fprintf(stderr, "%s (warning)\n", pr[i].msg);
	if (n < 0) {
		problem(vs, "%s", cal_error(cal) ? cal_error(cal) :
		    "expanding the calendar failed");
		fprintf(vs->o->json ? stderr : stdout, "%s: %s\n", src->label,
		    CAMP_RULE_FILE);
	} else if (np > 0)
		fprintf(vs->o->json ? stderr : stdout, "%s: %zu problem%s: %s\n",
		    src->label, np, np > 1 ? "s" : "", CAMP_RULE_EVENT);
	for (i = 0; n > 0 && i < (size_t)n; i++)
		check_occurrence(vs, src, &occ[i]);
	if (n > 0)
		cal_occurrences_free(occ, (size_t)n);
	cal_free(cal);
}

/* Orders rows by start, then uid, then recurrence id. */
static int
row_cmp(const void *a, const void *b)
{
	json_t		*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t	 tx = json_integer_value(json_object_get(x, "_t"));
	json_int_t	 ty = json_integer_value(json_object_get(y, "_t"));
	const char	*ux, *uy;
	int		 c;

	if (tx != ty)
		return (tx < ty ? -1 : 1);
	ux = json_string_value(json_object_get(x, "uid"));
	uy = json_string_value(json_object_get(y, "uid"));
	if ((c = strcmp(ux ? ux : "", uy ? uy : "")) != 0)
		return (c);
	ux = json_string_value(json_object_get(x, "recurrence_id"));
	uy = json_string_value(json_object_get(y, "recurrence_id"));
	return (strcmp(ux ? ux : "", uy ? uy : ""));
}

/* Runs the whole check. */
int
verify_run(const struct verify_opts *o)
{
	const struct config	*c = o->conf;
	struct tmpl_set		*tmpls = NULL;
	struct vstate		 vs;
	struct vsrc		 src;
	json_t			**rows = NULL, *r;
	char			 err[1024], cache[4096], safe[2048], *copy;
	size_t			 i, n, nocc = 0;

	memset(&vs, 0, sizeof(vs));
	vs.o = o;
	vs.rows = json_array();
	vs.lines = json_object();
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

		memset(&src, 0, sizeof(src));
		src.name = cc->name;
		src.channels = cc->channels;
		src.template = cc->template;
		if (cc->path != NULL) {
			src.path = cc->path;
			src.label = cc->path;
		} else {
			/* Offline: the copy crierd fetched last. */
			snprintf(cache, sizeof(cache), "%s/calendars/%s.ics",
			    c->state_dir, cc->name);
			if (access(cache, R_OK) == -1) {
				problem(&vs, "calendar %s: no cached copy of %s yet "
				    "(crierd fetches it when running)", cc->name,
				    redact_url(cc->url, safe, sizeof(safe)));
				continue;
			}
			src.path = cache;
			src.label = redact_url(cc->url, safe, sizeof(safe));
		}
		check_calendar(&vs, &src);
	}
	for (i = 0; i < o->ncalendars; i++) {
		memset(&src, 0, sizeof(src));
		if ((copy = strdup(o->calendars[i])) == NULL)
			abort();
		src.name = basename(copy);
		src.name[strcspn(src.name, ".")] = '\0';
		src.path = o->calendars[i];
		src.label = (char *)o->calendars[i];
		check_calendar(&vs, &src);
		free(copy);
	}
	n = json_array_size(vs.rows);
	if (n > 0 && (rows = calloc(n, sizeof(*rows))) == NULL)
		abort();
	json_array_foreach(vs.rows, i, r)
		rows[i] = r;
	if (n > 1)
		qsort(rows, n, sizeof(*rows), row_cmp);
	for (i = 0; i < n; i++) {
		json_object_del(rows[i], "_t");
		nocc++;
		if (o->json) {
			char *s = json_dumps(rows[i], JSON_COMPACT | JSON_PRESERVE_ORDER);

			printf("%s\n", s);
			free(s);
		}
	}
	if (!o->json)
		printf("%zu occurrence%s checked, %zu problem%s\n", nocc,
		    nocc == 1 ? "" : "s", vs.problems, vs.problems == 1 ? "" : "s");
	free(rows);
	json_decref(vs.rows);
	json_decref(vs.lines);
	tmpl_set_free(tmpls);
	chan_shutdown();
	media_shutdown();
	netguard_shutdown();
	return (vs.problems ? 1 : 0);
}
