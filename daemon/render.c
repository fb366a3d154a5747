/* Rendering: an occurrence or an ad-hoc post into the text a channel sends (SPEC §5). */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libical/ical.h>
#include <utf8proc.h>

#include "render.h"
#include "utm.h"
#include "calendar/tz.h"
#include "../common/util.h"

static const char *const weekdays[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday",
};

static const char *const months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};

/* True if S is NULL or empty. */
static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/*
 * A JSON string for S ("" for NULL). Calendars are not always valid UTF-8,
 * which jansson refuses, so each bad byte becomes U+FFFD rather than
 * losing the whole field.
 */
static json_t *
jstr(const char *s)
{
	const utf8proc_uint8_t	*p;
	utf8proc_int32_t	 cp;
	utf8proc_ssize_t	 n, left;
	json_t			*v;
	char			*b, *o;

	if (s == NULL)
		s = "";
	if ((v = json_string(s)) != NULL)
		return v;
	left = (utf8proc_ssize_t)strlen(s);
	if ((b = malloc((size_t)left * 3 + 1)) == NULL)
		return NULL;
	o = b;
	p = (const utf8proc_uint8_t *)s;
	while (left > 0) {
		n = utf8proc_iterate(p, left, &cp);
		if (n <= 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(o, p, (size_t)n);
			o += n;
		}
		p += n;
		left -= n;
	}
	*o = '\0';
	v = json_string(b);
	free(b);
	return v;
}

/* Sets KEY of OBJ to the string S; -1 when out of memory. */
static int
set_str(json_t *obj, const char *key, const char *s)
{
	json_t	*v;

	if ((v = jstr(s)) == NULL)
		return -1;
	return json_object_set_new(obj, key, v);
}

/* True if code point CP belongs in a hashtag: a letter, a mark or a digit. */
static bool
tag_char(utf8proc_int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

/*
 * Appends to B (room for twice S) the letters, marks and digits of S. In a
 * category of several words each word starts with a capital ("break the
 * roles" is BreakTheRoles), as screen readers need; other letters keep
 * their case, and a single word ("iPhone") is kept as it is.
 */
static void
tag_word(char *b, const char *s)
{
	const utf8proc_uint8_t	*p;
	utf8proc_int32_t	 cp;
	utf8proc_ssize_t	 n, left;
	char			*o = b + strlen(b);
	size_t			 words = 0;
	bool			 gap;
	int			 pass;

	/* The first pass counts the words, the second writes them. */
	for (pass = 0; pass < 2; pass++) {
		p = (const utf8proc_uint8_t *)s;
		left = (utf8proc_ssize_t)strlen(s);
		gap = true;
		while (left > 0) {
			if ((n = utf8proc_iterate(p, left, &cp)) <= 0) {
				p++;
				left--;
				continue;
			}
			if (!tag_char(cp))
				gap = true;
			else if (pass == 0) {
				words += gap;
				gap = false;
			} else if (gap && words > 1) {
				o += utf8proc_encode_char(utf8proc_totitle(cp),
				    (utf8proc_uint8_t *)o);
				gap = false;
			} else {
				memcpy(o, p, (size_t)n);
				o += n;
				gap = false;
			}
			p += n;
			left -= n;
		}
	}
	*o = '\0';
}

/* Sets "categories" and "hashtags" of CTX from occurrence OCC (NULL: none). */
static int
set_categories(json_t *ctx, const struct cal_occurrence *occ)
{
	json_t	*list = NULL;
	char	*tags = NULL;
	size_t	 i, size = 1, n;
	int	 rv = -1;

	if ((list = json_array()) == NULL)
		goto fail;
	for (i = 0; occ != NULL && i < occ->ncategories; i++)
		if (occ->categories[i] != NULL)
			size += 2 * strlen(occ->categories[i]) + 2;
	if ((tags = calloc(1, size)) == NULL)
		goto fail;
	for (i = 0; occ != NULL && i < occ->ncategories; i++) {
		if (empty(occ->categories[i]))
			continue;
		if (json_array_append_new(list, jstr(occ->categories[i])) == -1)
			goto fail;
		n = strlen(tags);
		strcpy(tags + n, n > 0 ? " #" : "#");
		tag_word(tags, occ->categories[i]);
		/* A category of punctuation only makes no tag. */
		if (tags[strlen(tags) - 1] == '#')
			tags[n] = '\0';
	}
	if (json_object_set_new(ctx, "categories", list) == -1) {
		list = NULL;
		goto fail;
	}
	list = NULL;
	if (set_str(ctx, "hashtags", tags) == -1)
		goto fail;
	rv = 0;
 fail:
	json_decref(list);
	free(tags);
	return rv;
}

/*
 * Sets "start" of CTX for the instant T in zone TZ. An all-day event is a
 * date, so its calendar date (DATE, "2027-05-17") is used as written
 * rather than converted.
 */
static int
set_start(json_t *ctx, time_t t, bool all_day, const char *date,
    const char *tz, char *err, size_t errlen)
{
	struct icaltimetype	 tt;
	struct tz_civil		 lc;
	struct tm		 tm;
	json_t			*st = NULL;
	char			 b[64];
	int			 wd;

	if (tz_civil(tz, t, &lc) == -1) {
		util_seterr(err, errlen, "unknown time zone \"%s\"", tz);
		return -1;
	}
	tt = icaltime_null_time();
	if (all_day && !empty(date) && sscanf(date, "%4d-%2d-%2d", &tt.year,
	    &tt.month, &tt.day) == 3 && tt.month >= 1 && tt.month <= 12 &&
	    tt.day >= 1 && tt.day <= icaltime_days_in_month(tt.month, tt.year))
		tt.is_date = 1;
	else {
		tt.year = lc.year;
		tt.month = lc.month;
		tt.day = lc.day;
		tt.hour = lc.hour;
		tt.minute = lc.minute;
		tt.is_date = all_day;
	}
	if ((st = json_object()) == NULL)
		goto nomem;
	if (all_day) {
		snprintf(b, sizeof(b), "%04d-%02d-%02d", tt.year, tt.month,
		    tt.day);
	} else {
		if (gmtime_r(&t, &tm) == NULL) {
			util_seterr(err, errlen, "start time out of range");
			goto fail;
		}
		strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (set_str(st, "iso", b) == -1)
		goto nomem;
	snprintf(b, sizeof(b), "%04d-%02d-%02d", tt.year, tt.month, tt.day);
	if (set_str(st, "date", b) == -1)
		goto nomem;
	if (all_day)
		b[0] = '\0';
	else
		snprintf(b, sizeof(b), "%02d:%02d", tt.hour, tt.minute);
	if (set_str(st, "time", b) == -1)
		goto nomem;
	wd = icaltime_day_of_week(tt);
	if (set_str(st, "weekday", wd >= 1 && wd <= 7 ?
	    weekdays[wd - 1] : "") == -1)
		goto nomem;
	snprintf(b, sizeof(b), "%d", tt.day);
	if (set_str(st, "day", b) == -1)
		goto nomem;
	if (set_str(st, "month", tt.month >= 1 && tt.month <= 12 ?
	    months[tt.month - 1] : "") == -1)
		goto nomem;
	snprintf(b, sizeof(b), "%d", tt.year);
	if (set_str(st, "year", b) == -1)
		goto nomem;
	if (json_object_set_new(ctx, "start", st) == -1) {
		st = NULL;
		goto nomem;
	}
	return 0;
 nomem:
	util_seterr(err, errlen, "out of memory");
 fail:
	json_decref(st);
	return -1;
}

/* Sets "vars": config [vars], then the occurrence's, then the post's, each overriding. */
static int
set_vars(json_t *ctx, const struct render_input *in)
{
	json_t	*vars;
	size_t	 i;

	if ((vars = json_object()) == NULL)
		return -1;
	for (i = 0; in->conf != NULL && i < in->conf->nvars; i++)
		if (set_str(vars, in->conf->vars[i].key,
		    in->conf->vars[i].value) == -1)
			goto fail;
	for (i = 0; in->occ != NULL && i < in->occ->nvars; i++)
		if (set_str(vars, in->occ->vars[i].name,
		    in->occ->vars[i].value) == -1)
			goto fail;
	if (json_is_object(in->vars) && json_object_update(vars, in->vars) == -1)
		goto fail;
	return json_object_set_new(ctx, "vars", vars);
 fail:
	json_decref(vars);
	return -1;
}

/* Sets "channel" {name, type, limit} of CTX; limit is left out when there is none. */
static int
set_channel(json_t *ctx, const struct channel *ch)
{
	json_t	*c, *lim;

	if ((c = json_object()) == NULL)
		return -1;
	if (set_str(c, "name", ch->name) == -1 ||
	    set_str(c, "type", chan_style_of(ch)) == -1)
		goto fail;
	if (ch->limit != 0) {
		if ((lim = json_integer((json_int_t)ch->limit)) == NULL ||
		    json_object_set_new(c, "limit", lim) == -1)
			goto fail;
	}
	return json_object_set_new(ctx, "channel", c);
 fail:
	json_decref(c);
	return -1;
}

/* An ad-hoc post's --var summary=, description=, url=, location= fill those fields. */
static int
set_post_fields(json_t *ctx, const struct render_input *in)
{
	static const char *const keys[] = { "summary", "description", "url",
	    "location" };
	const char	*v;
	size_t		 i;

	if (in->occ != NULL || !json_is_object(in->vars))
		return 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = json_string_value(json_object_get(in->vars, keys[i])))
		    != NULL && set_str(ctx, keys[i], v) == -1)
			return -1;
	return 0;
}

/* Builds the context of IN; NULL with ERR on failure. */
static json_t *
context(const struct render_input *in, char *err, size_t errlen)
{
	const struct cal_occurrence	*o = in->occ;
	json_t				*ctx = NULL, *cal;
	const char			*tz;
	time_t				 t;

	if ((ctx = json_object()) == NULL)
		goto nomem;
	/*
	 * Absent fields are empty strings, not missing keys, so that a strict
	 * check of a template does not depend on what one event happens to set.
	 */
	if (set_str(ctx, "summary", o ? o->summary : NULL) == -1 ||
	    set_str(ctx, "description", o ? o->description : NULL) == -1 ||
	    set_str(ctx, "url", o ? o->url : NULL) == -1 ||
	    set_str(ctx, "location", o ? o->location : NULL) == -1 ||
	    set_categories(ctx, o) == -1)
		goto nomem;
	tz = in->conf != NULL && in->conf->timezone != NULL ?
	    in->conf->timezone : CONFIG_DEFAULT_TZ;
	if (o != NULL)
		t = o->start;
	else
		t = (time_t)(in->start / 1000 - (in->start % 1000 < 0));
	if (set_start(ctx, t, o != NULL && o->all_day,
	    o != NULL ? o->start_str : NULL, tz, err, errlen) == -1)
		goto fail;
	if (in->calendar != NULL) {
		if ((cal = json_object()) == NULL)
			goto nomem;
		if (set_str(cal, "name", in->calendar) == -1) {
			json_decref(cal);
			goto nomem;
		}
		if (json_object_set_new(ctx, "calendar", cal) == -1)
			goto nomem;
	}
	if (in->ch != NULL && set_channel(ctx, in->ch) == -1)
		goto nomem;
	if (set_vars(ctx, in) == -1 || set_post_fields(ctx, in) == -1)
		goto nomem;
	return ctx;
 nomem:
	util_seterr(err, errlen, "out of memory");
 fail:
	json_decref(ctx);
	return NULL;
}

/* The Mustache context for IN (a new reference), or NULL. */
json_t *
render_context(const struct render_input *in)
{
	return context(in, NULL, 0);
}

/* Removes leading blank lines and trailing white space from S, in place. */
static void
trim_text(char *s)
{
	char	*p = s, *q;
	size_t	 n;

	for (;;) {
		for (q = p; *q == ' ' || *q == '\t' || *q == '\r'; q++)
			;
		if (*q != '\n')
			break;
		p = q + 1;
	}
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
	    p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	memmove(s, p, n);
	s[n] = '\0';
}

/* Makes S one line: white space around a line break becomes one space; trimmed. */
static void
one_line(char *s)
{
	char	*r = s, *w = s, *q;
	bool	 nl;

	while (*r != '\0') {
		if (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n') {
			nl = false;
			for (q = r; *q == ' ' || *q == '\t' || *q == '\r' ||
			    *q == '\n'; q++)
				if (*q == '\r' || *q == '\n')
					nl = true;
			if (nl) {
				*w++ = ' ';
				r = q;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
	trim_text(s);
	for (r = s; *r == ' ' || *r == '\t'; r++)
		;
	memmove(s, r, strlen(r) + 1);
}

/* The post without a template: description, a blank line, the URL; else the summary. */
static char *
plain_text(const struct cal_occurrence *o)
{
	const char	*d = o ? o->description : NULL, *u = o ? o->url : NULL;
	char		*s;

	if (!empty(d) && !empty(u)) {
		if (asprintf(&s, "%s\n\n%s", d, u) == -1)
			return NULL;
		return s;
	}
	if (!empty(d))
		return strdup(d);
	if (!empty(u))
		return strdup(u);
	return strdup(o != NULL && o->summary != NULL ? o->summary : "");
}

/*
 * Renders the parts of email template NAME for style TYPE with CTX: subject
 * and text must exist, html may not (*HTML NULL then). -1 with ERR.
 */
static int
email_parts(const struct tmpl_set *tmpls, const char *name, const char *type,
    bool strict, json_t *ctx, char **subject, char **text, char **html,
    char *err, size_t errlen)
{
	char	 msg[448], missing[256];

	if (tmpl_set_render(tmpls, name, type, "subject", ctx, strict,
	    subject, msg, sizeof(msg)) == -1) {
		util_seterr(err, errlen, "template %s, subject: %s", name, msg);
		return -1;
	}
	if (tmpl_set_render(tmpls, name, type, "txt", ctx, strict, text, msg,
	    sizeof(msg)) == -1) {
		util_seterr(err, errlen, "template %s, text part: %s", name, msg);
		return -1;
	}
	if (tmpl_set_render(tmpls, name, type, "html", ctx, strict, html, msg,
	    sizeof(msg)) == -1) {
		/* Only the message for a missing file means "no HTML part". */
		snprintf(missing, sizeof(missing), "no template %s.html for %s",
		    name, type);
		if (strcmp(msg, missing) != 0) {
			util_seterr(err, errlen, "template %s, html part: %s", name,
			    msg);
			return -1;
		}
		*html = NULL;
	}
	return 0;
}

/* Renders the email parts of IN's template with CTX into OUT. */
static int
render_email_parts(const struct render_input *in, json_t *ctx,
    struct render_output *out)
{
	return email_parts(in->tmpls, in->template, chan_style_of(in->ch),
	    in->strict, ctx, &out->subject, &out->text, &out->html, out->error,
	    sizeof(out->error));
}

/* Renders IN into OUT, with RECIPIENT for an email (NULL: a blank one). */
static int
render(const struct render_input *in, json_t *recipient,
    struct render_output *out)
{
	json_t	*ctx = NULL, *blank = NULL;
	char	 err[448];
	bool	 email;
	int	 rv = -1;

	memset(out, 0, sizeof(*out));
	if (in->ch == NULL || in->ch->ops == NULL) {
		util_seterr(out->error, sizeof(out->error), "no channel to render for");
		goto fail;
	}
	email = in->ch->ops->email;
	if ((ctx = context(in, err, sizeof(err))) == NULL) {
		util_seterr(out->error, sizeof(out->error), "%s", err);
		goto fail;
	}
	if (email) {
		if (recipient == NULL && (recipient = blank = json_pack(
		    "{s:s, s:s, s:s}", "email", "", "name", "",
		    "unsubscribe_url", "")) == NULL)
			goto nomem;
		if (json_object_set(ctx, "recipient", recipient) == -1)
			goto nomem;
	}

	if (in->template == NULL) {
		if ((out->text = plain_text(in->occ)) == NULL)
			goto nomem;
		if (email && (out->subject = strdup(in->occ != NULL &&
		    !empty(in->occ->summary) ? in->occ->summary :
		    out->text)) == NULL)
			goto nomem;
	} else if (in->tmpls == NULL) {
		util_seterr(out->error, sizeof(out->error), "template %s: no "
		    "templates directory is configured", in->template);
		goto fail;
	} else if (email) {
		if (render_email_parts(in, ctx, out) == -1)
			goto fail;
	} else if (tmpl_set_render(in->tmpls, in->template, chan_style_of(in->ch),
	    NULL, ctx, in->strict, &out->text, err, sizeof(err)) == -1) {
		util_seterr(out->error, sizeof(out->error), "template %s: %s",
		    in->template, err);
		goto fail;
	}

	trim_text(out->text);
	if (out->subject != NULL)
		one_line(out->subject);
	if (out->html != NULL)
		trim_text(out->html);
	if (out->text[0] == '\0') {
		if (in->template != NULL)
			util_seterr(out->error, sizeof(out->error), "template %s: "
			    "the post is empty", in->template);
		else
			util_seterr(out->error, sizeof(out->error), "nothing to "
			    "post: no template, description, URL or summary");
		goto fail;
	}
	if (email && out->subject[0] == '\0') {
		util_seterr(out->error, sizeof(out->error), "template %s: the "
		    "subject is empty", in->template ? in->template : "(none)");
		goto fail;
	}
	len_measure(chan_len_rule(in->ch), out->text, in->ch->limit, &out->len);
	rv = 0;
	goto fail;
 nomem:
	util_seterr(out->error, sizeof(out->error), "out of memory");
 fail:
	if (rv == -1) {
		free(out->text);
		free(out->subject);
		free(out->html);
		out->text = out->subject = out->html = NULL;
	}
	json_decref(blank);
	json_decref(ctx);
	return rv;
}

/* Renders IN for its channel into OUT; 0 even if too long, -1 with out->error. */
int
render_post(const struct render_input *in, struct render_output *out)
{
	return render(in, NULL, out);
}

/* Renders the email of IN for RECIPIENT into OUT. */
int
render_email_for(const struct render_input *in, json_t *recipient,
    struct render_output *out)
{
	return render(in, recipient, out);
}

/* Frees what OUT holds and zeroes it. */
void
render_output_clear(struct render_output *out)
{
	if (out == NULL)
		return;
	free(out->text);
	free(out->subject);
	free(out->html);
	memset(out, 0, sizeof(*out));
}

/* S percent-encoded for a URL query (RFC 3986 unreserved kept). */
static char *
url_encode(const char *s)
{
	char	*r, *w;

	if ((r = malloc(strlen(s) * 3 + 1)) == NULL)
		abort();
	for (w = r; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~@", c) != NULL)
			*w++ = (char)c;
		else
			w += sprintf(w, "%%%02X", c);
	}
	*w = '\0';
	return r;
}

/* TEXT as HTML-escaped paragraphs: the HTML part of a text-only email. */
static char *
html_of(const char *text)
{
	size_t	 n = strlen(text), i;
	char	*h, *w;

	if ((h = malloc(n * 6 + 128)) == NULL)
		abort();
	w = h + sprintf(h, "<!DOCTYPE html>\n<html><body>\n<p>");
	for (i = 0; i < n; i++) {
		switch (text[i]) {
		case '&':
			w += sprintf(w, "&amp;");
			break;
		case '<':
			w += sprintf(w, "&lt;");
			break;
		case '>':
			w += sprintf(w, "&gt;");
			break;
		case '"':
			w += sprintf(w, "&quot;");
			break;
		case '\n':
			w += sprintf(w, "<br>\n");
			break;
		default:
			*w++ = text[i];
		}
	}
	sprintf(w, "</p>\n</body></html>\n");
	return h;
}

/* Renders E's message for recipient EMAIL, NAME into OUT; -1 with ERR. */
int
render_email_rcpt(const struct render_email *e, const char *email,
    const char *name, struct email_parts *out, char *err, size_t errlen)
{
	struct tmpl_opts	 o;
	json_t			*ctx = NULL, *rj;
	char			*enc, msg[400];
	int			 rv = -1;

	memset(out, 0, sizeof(*out));
	enc = url_encode(email);
	rj = json_pack("{s:s, s:s, s:s, s:s}", "email", email, "name", name,
	    "email_urlencoded", enc, "unsubscribe_url", "");
	free(enc);
	if (rj == NULL || (ctx = json_deep_copy(e->ctx)) == NULL ||
	    json_object_set(ctx, "recipient", rj) == -1) {
		util_seterr(err, errlen, "out of memory");
		goto done;
	}
	if (e->unsub != NULL) {
		memset(&o, 0, sizeof(o));
		if (tmpl_render(e->unsub, ctx, &o, &out->unsub_url, msg,
		    sizeof(msg)) == -1) {
			util_seterr(err, errlen, "unsubscribe_url: %s", msg);
			goto done;
		}
		one_line(out->unsub_url);
		json_object_set_new(rj, "unsubscribe_url",
		    json_string(out->unsub_url));
		if (out->unsub_url[0] == '\0') {
			free(out->unsub_url);
			out->unsub_url = NULL;
		}
	}
	if (e->template != NULL) {
		if (e->tmpls == NULL) {
			util_seterr(err, errlen, "template %s: no templates directory "
			    "is configured", e->template);
			goto done;
		}
		if (email_parts(e->tmpls, e->template, e->style, false, ctx,
		    &out->subject, &out->text, &out->html, err, errlen) == -1)
			goto done;
	} else if ((out->subject = strdup(!empty(e->summary) ? e->summary :
	    e->text != NULL ? e->text : "")) == NULL ||
	    (out->text = strdup(e->text != NULL ? e->text : "")) == NULL) {
		util_seterr(err, errlen, "out of memory");
		goto done;
	}
	one_line(out->subject);
	trim_text(out->text);
	if (*out->subject == '\0' || *out->text == '\0') {
		util_seterr(err, errlen, "the %s is empty", *out->subject ? "text" :
		    "subject");
		goto done;
	}
	/* Tracked links, but not the recipient's unsubscribe link. */
	if (e->utm != NULL && utm_apply_email(&out->text, &out->html, e->utm,
	    out->unsub_url, err, errlen) == -1)
		goto done;
	if (out->html == NULL)
		out->html = html_of(out->text);
	rv = 0;
 done:
	if (rv == -1) {
		free(out->subject);
		free(out->text);
		free(out->html);
		free(out->unsub_url);
		memset(out, 0, sizeof(*out));
	}
	json_decref(rj);
	json_decref(ctx);
	return rv;
}
