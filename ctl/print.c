/* crierctl's printers: each verb's reply as a person reads it. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "print.h"
#include "../common/human.h"

int	print_utc;

/* A string field or "-". */
const char *
print_field(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return (s != NULL ? s : "-");
}

/* Seconds from now until the ISO 8601 UTC time S ("...Z"); 0 if unreadable. */
static int64_t
secs_until(const char *s)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return (0);
	return ((int64_t)timegm(&tm) - (int64_t)time(NULL));
}

/* status: how long the daemon's event loop was busy at a stretch. */
static void
print_loop(json_t *l)
{
	if (!json_is_object(l))
		return;
	printf("loop      %lld turns, %.1f s busy, longest %.1f ms",
	    (long long)json_integer_value(json_object_get(l, "turns")),
	    json_real_value(json_object_get(l, "busy_seconds")),
	    json_real_value(json_object_get(l, "longest_turn_ms")));
	if (json_is_string(json_object_get(l, "longest_turn_at")))
		printf(" (%s)", print_field(l, "longest_turn_at"));
	printf(", %lld over 10 ms\n",
	    (long long)json_integer_value(json_object_get(l, "turns_over_10ms")));
}

/* status: what the daemon is doing. */
void
print_status(json_t *r)
{
	json_t		*d = json_object_get(r, "daemon"), *v, *counts;
	const char	*k;
	size_t		 i;

	char		 up[32];

	printf("crierd %s, pid %lld, up since %s (%s)\n", print_field(d, "version"),
	    (long long)json_integer_value(json_object_get(d, "pid")),
	    print_field(d, "started"), human_duration(secs_until(print_field(d, "started")), up,
	    sizeof(up)));
	printf("config    %s\nstate     %s\ntimezone  %s\n", print_field(d, "config"),
	    print_field(d, "state_dir"), print_field(d, "timezone"));
	if (json_is_string(json_object_get(r, "storage")))
		printf("STORAGE   %s\n", print_field(r, "storage"));
	if (json_is_string(json_object_get(d, "peers")))
		printf("peers     %s\n", print_field(d, "peers"));
	print_loop(json_object_get(d, "loop"));
	printf("\nchannels:\n");
	json_array_foreach(json_object_get(r, "channels"), i, v) {
		printf("  %-20s %-10s %-8s %s\n", print_field(v, "name"), print_field(v, "type"),
		    json_is_true(json_object_get(v, "paused")) ? "paused" : "active",
		    json_is_string(json_object_get(v, "last_error")) ?
		    print_field(v, "last_error") : "");
		if (json_is_true(json_object_get(v, "paused")) &&
		    json_is_string(json_object_get(v, "reason")))
			printf("    paused: %s\n", print_field(v, "reason"));
		if (json_is_string(json_object_get(v, "warning")))
			printf("    warning: %s\n", print_field(v, "warning"));
	}
	if (json_array_size(json_object_get(r, "calendars")) > 0) {
		printf("\ncalendars:\n");
		json_array_foreach(json_object_get(r, "calendars"), i, v) {
			printf("  %-20s %5lld events  loaded %s  %s\n", print_field(v, "name"),
			    (long long)json_integer_value(json_object_get(v, "events")),
			    print_field(v, "loaded_at"), print_field(v, "source"));
			if (json_is_string(json_object_get(v, "error")))
				printf("    error: %s\n", print_field(v, "error"));
		}
	}
	printf("\ndeliveries:");
	counts = json_object_get(r, "counts");
	json_object_foreach(counts, k, v)
		if (json_integer_value(v) > 0)
			printf(" %s %lld", k, (long long)json_integer_value(v));
	printf("\n");
}

/* list: one delivery a line. */
void
print_list(json_t *r)
{
	json_t	*arr = json_object_get(r, "deliveries"), *v;
	size_t	 i;

	if (json_array_size(arr) == 0) {
		printf("no deliveries\n");
		return;
	}
	printf("%-12s  %-10s  %-19s  %-16s  %s\n", "ID", "STATE", print_utc ?
	    "DUE (UTC)" : "DUE", "CHANNEL", "SUMMARY");
	json_array_foreach(arr, i, v) {
		char	due[40];

		if (print_utc || !json_is_string(json_object_get(v, "due_local"))) {
			/* Whole seconds: "2027-05-17 09:00:00". */
			snprintf(due, sizeof(due), "%.19s", print_field(v, "due"));
			if (strlen(due) > 10)
				due[10] = ' ';
		} else
			snprintf(due, sizeof(due), "%s", print_field(v, "due_local"));
		printf("%-12s  %-10s  %-19s  %-16s  %s", print_field(v, "id"),
		    print_field(v, "state"), due, print_field(v, "channel"), print_field(v, "summary"));
		if (json_is_string(json_object_get(v, "remote_url")))
			printf("  %s", print_field(v, "remote_url"));
		print_engagement(json_object_get(v, "engagement"), "  ");
		printf("\n");
	}
	printf("\n(times in %s)\n", print_utc ? "UTC" : print_field(r, "timezone"));
}


/* A newsletter's recipients: counts, then each (only those not sent if many). */
static void
print_recipients(json_t *d)
{
	json_t		*rs = json_object_get(d, "recipients"), *e, *v;
	const char	*k;
	size_t		 i, n = json_array_size(rs);
	int		 first = 1;

	if (n == 0)
		return;
	printf("recipients  %zu:", n);
	json_object_foreach(json_object_get(d, "recipient_counts"), k, v) {
		printf("%s %lld %s", first ? "" : ",",
		    (long long)json_integer_value(v), k);
		first = 0;
	}
	printf("\n");
	json_array_foreach(rs, i, e) {
		if (n > 100 && strcmp(print_field(e, "state"), "sent") == 0)
			continue;
		printf("  %-36s %-10s %s\n", print_field(e, "email"), print_field(e, "state"),
		    json_is_string(json_object_get(e, "error")) ?
		    print_field(e, "error") : "");
	}
}

/* show: everything about one delivery. */
void
print_show(json_t *r)
{
	json_t	*d = json_object_get(r, "delivery"), *e;
	size_t	 i;

	printf("id          %s\nstate       %s\nchannel     %s\n", print_field(d, "id"),
	    print_field(d, "state"), print_field(d, "channel"));
	if (json_is_string(json_object_get(d, "due_local")))
		printf("due         %s (%s)\n", print_field(d, "due_local"), print_field(r, "timezone"));
	else
		printf("due         %s\n", print_field(d, "due"));
	if (json_is_string(json_object_get(d, "calendar")))
		printf("calendar    %s\n", print_field(d, "calendar"));
	printf("uid         %s\n", print_field(d, "uid"));
	if (json_is_string(json_object_get(d, "recurrence_id")))
		printf("instance    %s\n", print_field(d, "recurrence_id"));
	printf("attempts    %lld\n",
	    (long long)json_integer_value(json_object_get(d, "attempts")));
	if (json_is_string(json_object_get(d, "held_for")))
		printf("held for    %s\n", print_field(d, "held_for"));
	json_array_foreach(json_object_get(d, "overrides"), i, e) {
		char	ago[32];

		printf("override    %s%s%s by uid %lld, %s ago; a reload keeps it "
		    "unless the calendar changes this occurrence\n", print_field(e, "verb"),
		    json_is_string(json_object_get(e, "due")) ? " to " : "",
		    json_is_string(json_object_get(e, "due")) ? print_field(e, "due") : "",
		    (long long)json_integer_value(json_object_get(e, "actor")),
		    human_duration(secs_until(print_field(e, "at")), ago, sizeof(ago)));
	}
	if (json_is_string(json_object_get(d, "next_attempt"))) {
		char	in[32];
		int64_t	secs = secs_until(print_field(d, "next_attempt"));

		printf("next try    %s (%s %s)\n", print_field(d, "next_attempt"),
		    secs >= 0 ? "in" : "due", human_duration(secs, in, sizeof(in)));
	}
	if (json_is_string(json_object_get(d, "last_error")))
		printf("last error  %s\n", print_field(d, "last_error"));
	if (json_is_string(json_object_get(d, "sent_at")))
		printf("sent        %s\n", print_field(d, "sent_at"));
	if (json_is_string(json_object_get(d, "remote_url")))
		printf("remote      %s\n", print_field(d, "remote_url"));
	if (json_is_string(json_object_get(d, "remote_state")))
		printf("remote now  %s\n", print_field(d, "remote_state"));
	if (json_is_object(json_object_get(d, "engagement"))) {
		print_engagement(json_object_get(d, "engagement"), "engagement  ");
		printf(" (fetched %s)\n", print_field(json_object_get(d,
		    "engagement"), "fetched"));
	}
	print_recipients(d);
	printf("\n%s\n\nhistory:\n", print_field(d, "text"));
	json_array_foreach(json_object_get(d, "events"), i, e) {
		json_t *actor = json_object_get(e, "actor");

		printf("  %s  %-10s %s", print_field(e, "at"), print_field(e, "event"),
		    json_is_string(json_object_get(e, "detail")) ? print_field(e, "detail") : "");
		if (json_is_integer(actor))
			printf(" (uid %lld)", (long long)json_integer_value(actor));
		printf("\n");
	}
}

/* agenda: the coming days as a person reads a calendar. */
void
print_agenda(json_t *r)
{
	json_t	*day, *it;
	size_t	 i, j;

	if (json_array_size(json_object_get(r, "days")) == 0) {
		json_t	*n = json_object_get(r, "next");

		long long	 wd = json_integer_value(json_object_get(r,
				    "window_days"));

		if (json_is_object(n))
			printf("nothing in the next %lld day%s; the next post is on "
			    "%s at %s (%s): \"%s\" on %s (crierctl agenda --days "
			    "%lld shows it)\n", wd, wd == 1 ? "" : "s",
			    print_field(n, "label"), print_field(n, "time"), print_field(r, "timezone"),
			    print_field(n, "summary"), print_field(n, "channel"), (long long)
			    json_integer_value(json_object_get(n, "days")));
		else
			printf("nothing scheduled in the next %lld day%s, nor "
			    "after\n", wd, wd == 1 ? "" : "s");
		return;
	}
	json_array_foreach(json_object_get(r, "days"), i, day) {
		printf("%s%s\n", i ? "\n" : "", print_field(day, "label"));
		json_array_foreach(json_object_get(day, "items"), j, it) {
			printf("  %s  %-16s %-10s %s%s%s%s  [%s]", print_field(it, "time"),
			    print_field(it, "channel"), print_field(it, "state"), print_field(it, "summary"),
			    json_is_string(json_object_get(it, "until")) ?
			    " (until " : "", json_is_string(json_object_get(it,
			    "until")) ? print_field(it, "until") : "",
			    json_is_string(json_object_get(it, "until")) ? ")" : "",
			    print_field(it, "id"));
			if (json_is_string(json_object_get(it, "remote_url")))
				printf("  %s", print_field(it, "remote_url"));
			printf("\n");
		}
	}
	if (json_is_true(json_object_get(r, "more")))
		printf("\n... and more in these %lld days than the %lld shown "
		    "(crierctl agenda --limit N shows more; crierctl list "
		    "--from and --to shows them all)\n",
		    (long long)json_integer_value(json_object_get(r, "window_days")),
		    (long long)json_integer_value(json_object_get(r, "limit")));
	printf("\n(times in %s)\n", print_field(r, "timezone"));
}

/* The parts of a post that goes as a thread (split = thread), if it does. */
static void
print_parts(json_t *p)
{
	json_t	*parts = json_object_get(p, "parts"), *v;
	size_t	 i, n = json_array_size(parts);

	if (n == 0)
		return;
	printf("── as a thread of %zu parts, each a reply to the one before:\n", n);
	json_array_foreach(parts, i, v)
		printf("[%zu/%zu, %lld characters]\n%s\n", i + 1, n, (long long)
		    json_integer_value(json_object_get(v, "length")),
		    print_field(v, "text"));
}

/* "── 133 / 500, 6 of 5 links  DOES NOT FIT": length, limit and links of P. */
static void
print_measure(json_t *p)
{
	json_t	*ll = json_object_get(p, "link_limit");

	printf("── %lld / %lld", (long long)json_integer_value(
	    json_object_get(p, "length")), (long long)json_integer_value(
	    json_object_get(p, "limit")));
	if (json_is_integer(ll))
		printf(", %lld of %lld links", (long long)json_integer_value(
		    json_object_get(p, "links")), (long long)json_integer_value(ll));
	printf("%s\n", json_is_true(json_object_get(p, "fits")) ? "" :
	    "  DOES NOT FIT");
}

/* A newsletter's message as it goes out (preview's "email"), if P has one. */
static void
print_email(json_t *p)
{
	json_t	*e = json_object_get(p, "email"), *html;

	if (!json_is_object(e))
		return;
	if (json_is_string(json_object_get(e, "error"))) {
		printf("── the message cannot be rendered: %s\n",
		    print_field(e, "error"));
		return;
	}
	printf("── the message to %s, as it goes out\nSubject: %s\n%s\n",
	    print_field(e, "recipient"), print_field(e, "subject"),
	    print_field(e, "text"));
	if (json_is_string(json_object_get(e, "unsubscribe_url")))
		printf("── unsubscribe: %s\n", print_field(e, "unsubscribe_url"));
	if (json_is_string(html = json_object_get(e, "html")))
		printf("── and an HTML part of %zu bytes (--json shows it)\n",
		    strlen(json_string_value(html)));
}

/* preview: the rendered text and its length per channel. */
void
print_preview(json_t *r)
{
	json_t	*p, *lim;
	size_t	 i;

	json_array_foreach(json_object_get(r, "previews"), i, p) {
		lim = json_object_get(p, "limit");
		printf("%s── %s (%s%s%s) %s, due %s\n", i ? "\n" : "",
		    print_field(p, "channel"), print_field(p, "type"), json_is_string(json_object_get(
		    p, "like")) ? " like " : "", json_is_string(json_object_get(p,
		    "like")) ? print_field(p, "like") : "", print_field(p, "id"), json_is_string(
		    json_object_get(p, "due_local")) ? print_field(p, "due_local") :
		    print_field(p, "due"));
		printf("%s\n", print_field(p, "text"));
		if (json_is_integer(lim))
			print_measure(p);
		else
			printf("── %lld characters, no limit\n",
			    (long long)json_integer_value(json_object_get(p, "length")));
		print_parts(p);
		print_email(p);
	}
}

/* post: what was queued. */
void
print_post(json_t *r)
{
	json_t	*v;
	size_t	 i;

	if (json_is_true(json_object_get(r, "dry_run"))) {
		json_array_foreach(json_object_get(r, "previews"), i, v) {
			json_t	*lim = json_object_get(v, "limit");

			printf("%s── %s (%s), due %s\n", i ? "\n" : "", print_field(v,
			    "channel"), print_field(v, "type"), print_field(r, "due"));
			if (json_is_string(json_object_get(v, "error"))) {
				printf("cannot render: %s\n", print_field(v, "error"));
				continue;
			}
			printf("%s\n", print_field(v, "text"));
			if (json_is_integer(lim))
				print_measure(v);
			else
				printf("── %lld characters, no limit\n", (long long)
				    json_integer_value(json_object_get(v, "length")));
			print_parts(v);
		}
		printf("\ndry run: nothing was queued\n");
		return;
	}
	json_array_foreach(json_object_get(r, "ids"), i, v)
		printf("%s %s for %s (%s)\n", json_string_value(v), print_field(r, "state"),
		    print_field(r, "due_local"), print_field(r, "timezone"));
}

/* cancel, hold, approve, reschedule, retry, send-now, restore: the new state of each. */
void
print_move(json_t *r)
{
	json_t	*v;
	size_t	 i;

	if (!json_is_array(json_object_get(r, "deliveries"))) {
		printf("%s %s\n", print_field(r, "id"), print_field(r, "state"));
		if (json_is_string(json_object_get(r, "detail")))
			printf("  %s\n", print_field(r, "detail"));
		return;
	}
	json_array_foreach(json_object_get(r, "deliveries"), i, v)
		printf("%s %s (%s)\n", print_field(v, "id"), print_field(v, "state"),
		    print_field(v, "channel"));
	json_array_foreach(json_object_get(r, "skipped"), i, v)
		printf("%s not changed (%s): %s\n", print_field(v, "id"), print_field(v, "channel"),
		    print_field(v, "reason"));
}

/* edit: the new text and its length. */
void
print_edit(json_t *r)
{
	json_t	*lim = json_object_get(r, "limit");

	printf("%s %s, edited\n%s\n", print_field(r, "id"), print_field(r, "state"), print_field(r, "text"));
	if (json_is_integer(lim))
		printf("── %lld / %lld\n", (long long)json_integer_value(
		    json_object_get(r, "length")), (long long)json_integer_value(lim));
}

/* suppressions: one address a line. */
void
print_suppressions(json_t *r)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(json_object_get(r, "suppressions")) == 0) {
		printf("the suppression list is empty\n");
		return;
	}
	json_array_foreach(json_object_get(r, "suppressions"), i, v)
		printf("%-40s since %s (uid %lld)\n", print_field(v, "email"), print_field(v, "at"),
		    (long long)json_integer_value(json_object_get(v, "actor")));
}

/* unsubscribe, subscribe. */
void
print_suppress(json_t *r)
{
	printf("%s %s%s\n", print_field(r, "email"), json_is_true(json_object_get(r,
	    "suppressed")) ? "unsubscribed (suppressed)" : "subscribed",
	    json_is_true(json_object_get(r, "changed")) ? "" : " already");
}

/* reload. */
void
print_reload(json_t *r)
{
	printf("reloaded\n");
}

/* One event a line. */
void
print_event(json_t *e)
{
	json_t	*actor = json_object_get(e, "actor");

	printf("%s  %-10s %-12s %-16s %s", print_field(e, "at"), print_field(e, "event"),
	    print_field(e, "delivery"), print_field(e, "channel"),
	    json_is_string(json_object_get(e, "detail")) ? print_field(e, "detail") : "");
	if (json_is_integer(actor))
		printf(" (uid %lld)", (long long)json_integer_value(actor));
	printf("\n");
}

/* log: events, oldest first. */
void
print_log(json_t *r)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(json_object_get(r, "events"), i, e)
		print_event(e);
}

/* pause, resume: which channels. */
void
print_pause(json_t *r)
{
	json_t	*v;
	size_t	 i;
	int	 pause = json_is_true(json_object_get(r, "paused"));

	json_array_foreach(json_object_get(r, "channels"), i, v)
		printf("%s %s\n", json_string_value(v), pause ? "paused" : "resumed");
	printf("%lld deliveries %s\n", (long long)json_integer_value(
	    json_object_get(r, pause ? "held" : "released")),
	    pause ? "held" : "released");
}

/* Whether code point C must not reach a terminal as it is (newline and tab may). */
static int
unsafe_cp(unsigned long c)
{
	return ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ||
	    (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069));
}

/*
 * Returns a malloc'd copy of the UTF-8 text S (LEN bytes) with control
 * characters (ESC, C1, bidi overrides...) written as \xNN or \uNNNN, or
 * NULL when S has none.
 */
static char *
defang_text(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned long		 c;
	size_t			 i, n, o = 0;
	char			*out = NULL;

	for (i = 0; i < len; i += n) {
		n = p[i] < 0x80 ? 1 : p[i] < 0xe0 ? 2 : p[i] < 0xf0 ? 3 : 4;
		if (i + n > len)
			n = len - i;
		c = n == 1 ? p[i] : n == 2 ? (p[i] & 0x1fUL) << 6 |
		    (p[i + 1] & 0x3f) : n == 3 ? (p[i] & 0x0fUL) << 12 |
		    (p[i + 1] & 0x3fUL) << 6 | (p[i + 2] & 0x3f) : 0x10000;
		if (!unsafe_cp(c)) {
			if (out != NULL) {
				memcpy(out + o, s + i, n);
				o += n;
			}
			continue;
		}
		if (out == NULL) {
			/* At most 6 bytes ("\u202e") for each input byte. */
			if ((out = malloc(len * 6 + 1)) == NULL)
				abort();
			memcpy(out, s, i);
			o = i;
		}
		o += (size_t)sprintf(out + o, c < 0x80 ? "\\x%02lx" : "\\u%04lx",
		    c);
	}
	if (out != NULL)
		out[o] = '\0';
	return (out);
}

/* Escapes control characters in every string of J, for a person's terminal. */
void
print_defang(json_t *j)
{
	const char	*k;
	json_t		*v;
	char		*safe;
	size_t		 i;

	if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			print_defang(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			print_defang(v);
	} else if (json_is_string(j) && (safe = defang_text(json_string_value(j),
	    json_string_length(j))) != NULL) {
		json_string_set(j, safe);
		free(safe);
	}
}
