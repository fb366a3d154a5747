/*
 * Reconciling one calendar's freshly loaded occurrences with the store: new
 * occurrences become deliveries, moved or changed ones are re-rendered, ones
 * gone from the calendar are cancelled. What went out, or may have, is never
 * touched again; an operator's standing decision (an override) holds until
 * the calendar changes the occurrence. A delivery that cannot go out right
 * (does not fit, media refused) is held. Every move goes through the state
 * machine (delivery.c).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "reconcile.h"
#include "channel.h"
#include "compose.h"
#include "delivery.h"
#include "log.h"
#include "media.h"
#include "render.h"
#include "schedule.h"
#include "store.h"
#include "when.h"

#define BIT(s)		(1u << (s))
#define PENDING		(BIT(DS_SCHEDULED) | BIT(DS_RETRYING) | BIT(DS_HELD) | \
			    BIT(DS_MISSED))

struct rec {
	const struct reconcile_in	*in;
	const struct cal_occurrence	*o;
	struct delivery			*have;		/* the calendar's deliveries, by id */
	size_t				 nhave;
	char				*seen;		/* per have[] entry */
	int				 added, moved, changed, cancelled;
	int64_t				 now;
	char				 held[640];	/* the first post held for a problem */
	char				 fp[65];	/* of r->o */
};

/* Compares strings, for bsearch of the skip list. */
static int
str_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Whether the event UID is left out of this load. */
static int
skipped(const struct reconcile_in *in, const char *uid)
{
	return (uid != NULL && in->nskip > 0 && bsearch(&uid, in->skip,
	    in->nskip, sizeof(*in->skip), str_cmp) != NULL);
}

/* The channels for OCC: its own, the calendar's, or the config's default. */
const char *
reconcile_channels(const struct reconcile_in *in,
    const struct cal_occurrence *o)
{
	if (o->channels != NULL)
		return (o->channels);
	if (in->channels != NULL)
		return (in->channels);
	return (in->conf->channels);
}

/* Calls FN for each channel name of the comma-separated LIST. */
int
reconcile_each_channel(const char *list, int (*fn)(void *, const char *), void *arg)
{
	char	 buf[128];
	size_t	 n;
	int	 rc;

	while (list != NULL && *list != '\0') {
		list += strspn(list, ", ");
		n = strcspn(list, ", ");
		if (n == 0)
			break;
		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, list, n);
		buf[n] = '\0';
		if ((rc = fn(arg, buf)) != 0)
			return (rc);
		list += n;
	}
	return (0);
}

/* Compares deliveries by id, for bsearch. */
static int
by_id(const void *a, const void *b)
{
	return (strcmp(((const struct delivery *)a)->id,
	    ((const struct delivery *)b)->id));
}

/* What the calendar says of occurrence O. */
static enum cal_state
cal_state_of(const struct cal_occurrence *o)
{
	switch (o->status) {
	case CAL_CANCELLED:
		return (CS_CANCELLED);
	case CAL_HELD:
		return (CS_HELD);
	default:
		return (CS_SCHEDULED);
	}
}

/* The attachments of O as JSON [{uri, fmttype, alt}] (malloc'd), or NULL if none. */
static char *
media_json(const struct cal_occurrence *o)
{
	json_t	*a;
	char	*s;
	size_t	 i;

	if (o->nattach == 0)
		return (NULL);
	a = json_array();
	for (i = 0; i < o->nattach; i++)
		json_array_append_new(a, json_pack("{s:s?, s:s?, s:s?}",
		    "uri", o->attach[i].uri, "fmttype", o->attach[i].fmttype,
		    "alt", o->attach[i].alt));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return (s);
}

/* Keeps IN's render context for email delivery ID: its recipients get their own. */
static void
keep_email_context(const struct render_input *in, const char *id)
{
	json_t	*ctx;
	char	*js;

	if ((ctx = render_context(in)) == NULL)
		return;
	if ((js = json_dumps(ctx, JSON_COMPACT)) != NULL)
		store_email_ctx_put(id, in->template, js);
	free(js);
	json_decref(ctx);
}

/* A fingerprint of what the calendar says of O: overrides are measured against it. */
static void
occ_fingerprint(const struct cal_occurrence *o, char fp[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	json_t		*j, *cats, *vars, *att;
	char		*s;
	size_t		 k;

	cats = json_array();
	for (k = 0; k < o->ncategories; k++)
		json_array_append_new(cats, json_string(o->categories[k]));
	vars = json_object();
	for (k = 0; k < o->nvars; k++)
		json_object_set_new(vars, o->vars[k].name, json_string(o->vars[k].value));
	att = json_array();
	for (k = 0; k < o->nattach; k++)
		json_array_append_new(att, json_pack("[s?, s?, s?]",
		    o->attach[k].uri, o->attach[k].fmttype, o->attach[k].alt));
	j = json_pack("{s:s, s:i, s:i, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, "
	    "s:o, s:o, s:o}", "start", o->start_str, "status", (int)o->status,
	    "sequence", o->sequence, "summary", o->summary, "description",
	    o->description, "url", o->url, "location", o->location, "channels",
	    o->channels, "template", o->template, "categories", cats, "vars",
	    vars, "attach", att);
	s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (s == NULL)
		abort();
	EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32 && i < mdlen; i++)
		snprintf(fp + i * 2, 3, "%02x", md[i]);
	fp[64] = '\0';
	free(s);
	json_decref(j);
}

/* True if A and B are both NULL or equal strings. */
static int
same(const char *a, const char *b)
{
	return (a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0);
}

/*
 * Loads the override of KIND on E; one the calendar has overtaken (it
 * changed the occurrence after the operator decided) is ended, saying so
 * in the log and the delivery's history. 1 if an override stands.
 */
static int
override_stands(struct rec *r, const struct delivery *e, const char *kind,
    struct store_override *ov, int *ended)
{
	const char	*base;
	char		 msg[512], at[40], to[40];

	if (store_override_get(e->id, kind, ov) != 0)
		return (0);
	/* Made before the version was known: measured from the last one seen. */
	base = ov->cal_fp != NULL ? ov->cal_fp : e->cal_fp;
	if (base == NULL || strcmp(base, r->fp) == 0)
		return (1);
	if (strcmp(kind, "time") == 0)
		snprintf(to, sizeof(to), " to %s", when_format(ov->due, at,
		    sizeof(at)));
	else
		to[0] = '\0';
	snprintf(msg, sizeof(msg), "the calendar changed this occurrence after "
	    "uid %d's %s%s: the calendar's version applies", ov->actor,
	    ov->verb, to);
	store_override_drop(e->id, kind);
	store_log(e->id, e->channel, STORE_ACTOR_DAEMON, "override ended", msg);
	log_info("calendar %s: %s: %s", r->in->name, e->id, msg);
	store_override_clear(ov);
	*ended = 1;
	return (0);
}

/*
 * The state occurrence E should be in, and why it is held (*REASON), given
 * what the calendar says (CS), the operator's standing decision OV (NULL:
 * none) and whether the calendar's word is to be taken afresh (FORCE).
 */
static enum dstate
decide(const struct rec *r, const struct delivery *e, enum cal_state cs,
    const struct store_override *ov, int force, int64_t due,
    const char **reason, char *why, size_t whylen)
{
	enum cal_state	 prev = e->cal_state;
	enum dstate	 want = e->state;
	int		 prob = e->state == DS_HELD && same(e->hold_reason, SCHED_PROBLEM);
	int		 calgone = prev == CS_CANCELLED || prev == CS_REMOVED;

	*reason = e->state == DS_HELD ? e->hold_reason : NULL;
	why[0] = '\0';
	if (ov != NULL) {
		if (strcmp(ov->verb, "cancel") == 0)
			want = DS_CANCELLED;
		else if (strcmp(ov->verb, "hold") == 0) {
			want = DS_HELD;
			if (!same(*reason, SCHED_PAUSED))
				*reason = NULL;
		} else if (prob)
			want = DS_SCHEDULED;
		snprintf(why, whylen, "uid %d's %s stands", ov->actor, ov->verb);
	} else if (force || prob || prev != cs) {
		if (cs == CS_CANCELLED) {
			want = DS_CANCELLED;
			snprintf(why, whylen, "cancelled in the calendar");
		} else if (cs == CS_HELD) {
			if (e->state == DS_SCHEDULED || e->state == DS_RETRYING ||
			    prob || (e->state == DS_CANCELLED && (calgone || force)) ||
			    (force && e->state == DS_HELD)) {
				want = DS_HELD;
				*reason = NULL;
			}
			snprintf(why, whylen, "tentative in the calendar: held "
			    "for approval");
		} else if (cs == CS_SCHEDULED) {
			if ((e->state == DS_HELD && (prob || force ||
			    (*reason == NULL && (prev == CS_HELD ||
			    prev == CS_INVALID)))) ||
			    (e->state == DS_CANCELLED && (calgone || force)))
				want = DS_SCHEDULED;
			snprintf(why, whylen, prob ? "the problem is fixed: "
			    "re-rendered, it fits" : "confirmed in the calendar");
		}
	}
	if (e->state == DS_MISSED && want == DS_MISSED && due > r->now) {
		want = DS_SCHEDULED;	/* moved to a time still to come */
		snprintf(why, whylen, "moved to a time still to come");
	}
	/* A post that cannot go out as it is never does. */
	if (cs == CS_INVALID && (want == DS_SCHEDULED ||
	    want == DS_RETRYING || want == DS_HELD)) {
		want = DS_HELD;
		*reason = SCHED_PROBLEM;
		snprintf(why, whylen, "held: %s", e->last_error ?
		    e->last_error : "it cannot go out as it is");
	}
	if (want == DS_SCHEDULED && e->state != DS_SCHEDULED) {
		const char	*pr, *le;
		bool		 paused = false;
		int		 inf;

		if (chan_find(e->channel) != NULL)
			sched_channel_info(e->channel, &paused, &pr, &le, &inf);
		if (paused) {
			want = DS_HELD;
			*reason = SCHED_PAUSED;
		}
	}
	return (want);
}

/* Reconciles occurrence R->o on channel NAME with the store. */
static int
rec_channel(void *arg, const char *name)
{
	struct rec		*r = arg;
	const struct cal_occurrence *o = r->o;
	struct render_input	 in;
	struct render_output	 out;
	struct delivery		 key, d, *e;
	struct store_override	 ot, os;
	struct store_update	 u;
	struct channel		*ch = chan_find(name);
	enum cal_state		 cs = cal_state_of(o);
	const char		*err = NULL, *reason, *le;
	char			 prob[600], msg[900], why[700], when[40], was[40];
	char			*media = NULL;
	int64_t			 due = (int64_t)o->start * 1000, final;
	int			 has_t, has_s, ended = 0, mline;
	enum compose_result	 fit;
	enum dstate		 want;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.occ = o;
	in.calendar = r->in->name;
	in.ch = ch;
	in.conf = r->in->conf;
	in.tmpls = r->in->tmpls;
	in.template = o->template ? o->template : r->in->template;
	in.start = due;
	if ((fit = compose_post(&in, NULL, &out, prob, sizeof(prob))) ==
	    COMPOSE_ERROR) {
		snprintf(prob, sizeof(prob), "cannot render: %s", out.error);
		err = prob;
	} else if (ch != NULL && ch->ops->check_post != NULL &&
	    ch->ops->check_post(ch, o, prob, sizeof(prob)) == CHAN_CHECK_PROBLEM) {
		err = prob;
	} else if (fit == COMPOSE_TOO_LONG) {
		err = compose_does_not_fit(&out.len, prob, sizeof(prob));
	} else if (o->nattach > 0 && ch != NULL &&
	    media_check_attachments(o->attach, o->nattach, ch->ops->media,
	    &mline, prob, sizeof(prob)) == -1) {
		err = prob;
		if (r->held[0] == '\0' && o->status != CAL_CANCELLED)
			snprintf(r->held, sizeof(r->held), "%s:%d: event \"%s\" on "
			    "%s: %s; the post is held", r->in->label, mline,
			    o->uid ? o->uid : "(no UID)", name, prob);
	}
	/* A post that cannot go out right waits for a person, visibly. */
	if (err != NULL && cs != CS_CANCELLED)
		cs = CS_INVALID;
	memset(&key, 0, sizeof(key));
	store_delivery_id(r->in->name, o->uid, o->recurrence_id[0] ?
	    o->recurrence_id : NULL, name, key.id);
	e = r->nhave ? bsearch(&key, r->have, r->nhave, sizeof(*e), by_id) : NULL;
	if (ch != NULL && err == NULL && ch->ops->email &&
	    (e == NULL || (e->state != DS_SENT && e->state != DS_SENDING &&
	    e->state != DS_UNCERTAIN)))
		keep_email_context(&in, key.id);
	if (e == NULL) {
		memset(&d, 0, sizeof(d));
		memcpy(d.id, key.id, sizeof(d.id));
		d.channel = (char *)name;
		d.due = due;
		d.calendar = (char *)r->in->name;
		d.uid = o->uid;
		d.recurrence_id = o->recurrence_id[0] ? (char *)o->recurrence_id : NULL;
		d.summary = o->summary;
		d.text = out.text;
		d.cal_state = cs;
		d.cal_fp = r->fp;
		d.last_error = (char *)err;
		d.state = cs == CS_CANCELLED ? DS_CANCELLED :
		    cs == CS_SCHEDULED ? DS_SCHEDULED : DS_HELD;
		d.hold_reason = cs == CS_INVALID ? SCHED_PROBLEM : NULL;
		if (store_insert(&d, STORE_ACTOR_DAEMON, "calendar") == 0) {
			r->added++;
			if (o->nattach > 0 && (media = media_json(o)) != NULL)
				store_set_media(d.id, media);
			store_set_end(d.id, o->end_str);
		}
		goto done;
	}
	r->seen[e - r->have] = 1;
	/* What went out, or may have, is never touched again. */
	if (e->state == DS_SENT || e->state == DS_SENDING || e->state == DS_UNCERTAIN)
		goto done;
	/* The operator's decisions stand until the calendar changes the occurrence. */
	has_t = override_stands(r, e, "time", &ot, &ended);
	has_s = override_stands(r, e, "state", &os, &ended);
	final = has_t ? ot.due : due;
	if (e->due != final) {
		if (ended)
			snprintf(msg, sizeof(msg), "the calendar's time applies "
			    "again: from %s to %s", when_format(e->due, was,
			    sizeof(was)), when_format(final, when, sizeof(when)));
		else
			snprintf(msg, sizeof(msg), "moved in the calendar from "
			    "%s to %s", when_format(e->due, was, sizeof(was)),
			    when_format(final, when, sizeof(when)));
		store_log(e->id, e->channel, STORE_ACTOR_DAEMON, "moved", msg);
		log_info("calendar %s: %s %s", r->in->name, e->id, msg);
		r->moved++;
	} else if ((e->text == NULL) != (out.text == NULL) ||
	    (e->text && out.text && strcmp(e->text, out.text) != 0))
		r->changed++;
	/* The problem text is the last error while it lasts, and goes with it. */
	le = err ? err : e->cal_state == CS_INVALID ||
	    same(e->hold_reason, SCHED_PROBLEM) ? NULL : e->last_error;
	/* An unchanged occurrence costs these compares, not a write. */
	if (e->due != final || !same(e->summary, o->summary) ||
	    !same(e->text ? e->text : "", out.text ? out.text : "") ||
	    e->cal_state != cs || !same(e->last_error, le))
		store_set_content(e->id, final, o->summary, out.text, cs, le);
	if (!same(e->cal_fp, r->fp))
		store_set_cal_fp(e->id, r->fp);
	store_override_adopt(e->id);
	media = media_json(o);
	store_set_media(e->id, media);
	store_set_end(e->id, o->end_str);
	if (err != NULL) {
		free(e->last_error);
		if ((e->last_error = strdup(err)) == NULL)
			abort();
	}
	want = decide(r, e, cs, has_s ? &os : NULL, ended, final, &reason, why,
	    sizeof(why));
	if (want != e->state || (want == DS_HELD && !same(reason, e->hold_reason))) {
		memset(&u, 0, sizeof(u));
		u.hold_reason = reason;
		if (delivery_move(e->id, BIT(e->state), want, &u,
		    STORE_ACTOR_DAEMON, dstate_names[want], why, NULL) == 0) {
			log_info("calendar %s: %s %s -> %s (%s)", r->in->name, e->id,
			    dstate_names[e->state], dstate_names[want], why);
			if (want == DS_CANCELLED)
				r->cancelled++;
		}
	}
	if (has_t)
		store_override_clear(&ot);
	if (has_s)
		store_override_clear(&os);
done:
	if (err != NULL)
		log_warnx("calendar %s: uid %s on %s: %s", r->in->name,
		    o->uid ? o->uid : "(none)", name, err);
	render_output_clear(&out);
	free(media);
	return (0);
}

/* Brings the store in line with the freshly loaded occurrences of IN. */
int
reconcile_run(const struct reconcile_in *in, char *held, size_t heldlen)
{
	struct rec	 r;
	size_t		 i;
	int		 removed = 0;
	uint64_t	 failures = store_failures();

	memset(&r, 0, sizeof(r));
	r.in = in;
	r.now = when_now();
	if (store_list_calendar(in->name, &r.have, &r.nhave) == -1)
		return (-1);
	if (r.nhave > 1)
		qsort(r.have, r.nhave, sizeof(*r.have), by_id);
	if ((r.seen = calloc(r.nhave + 1, 1)) == NULL)
		abort();
	if (store_begin() == -1)
		goto fail;
	for (i = 0; i < in->nocc; i++) {
		r.o = &in->occ[i];
		if (skipped(in, r.o->uid))
			continue;
		occ_fingerprint(r.o, r.fp);
		reconcile_each_channel(reconcile_channels(in, r.o), rec_channel, &r);
	}
	/* Pending deliveries in the window that the calendar no longer has. */
	for (i = 0; i < r.nhave; i++) {
		struct delivery *e = &r.have[i];

		if (r.seen[i] || (PENDING & BIT(e->state)) == 0 ||
		    e->due < in->from || e->due >= in->to ||
		    skipped(in, e->uid))
			continue;
		store_set_content(e->id, e->due, e->summary, e->text, CS_REMOVED,
		    e->last_error);
		if (delivery_move(e->id, BIT(e->state), DS_CANCELLED, NULL,
		    STORE_ACTOR_DAEMON, "cancelled", "removed from the calendar",
		    NULL) == 0) {
			log_info("calendar %s: %s cancelled: removed from the "
			    "calendar", in->name, e->id);
			removed++;
		}
	}
	/* Any write that failed on the way (a full disk...) undoes the whole load. */
	if (store_failures() != failures || store_commit() == -1)
		goto fail;
	if (r.added || r.moved || r.changed || r.cancelled || removed)
		log_info("calendar %s: %d new, %d moved, %d changed, %d cancelled, "
		    "%d removed", in->name, r.added, r.moved, r.changed,
		    r.cancelled, removed);
	store_deliveries_free(r.have, r.nhave);
	free(r.seen);
	snprintf(held, heldlen, "%s", r.held);
	return (0);
fail:
	store_rollback();
	store_deliveries_free(r.have, r.nhave);
	free(r.seen);
	return (-1);
}
