/* The newsletter suppression list: unsubscribe, subscribe, suppressions. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_verbs.h"
#include "log.h"
#include "mime.h"
#include "recipients.h"
#include "reply.h"
#include "store.h"
#include "when.h"

/* unsubscribe (ON), subscribe: the newsletter suppression list. */
static json_t *
suppress(struct client *cl, json_t *req, bool on)
{
	const char	*email = json_string_value(json_object_get(req, "email"));
	char		*key;
	json_t		*r;
	int		 rc;

	if (email == NULL || !mime_addr_ok(email))
		return (reply_error("bad_request", "'%s' is not an email address",
		    email != NULL ? email : ""));
	key = recipients_key(email);
	if ((rc = store_suppress(key, on, (int)cl->uid)) == -1) {
		free(key);
		return (reply_error("internal", "cannot update the suppression "
		    "list"));
	}
	if (rc == 0) {
		store_log(NULL, NULL, (int)cl->uid, on ? "unsubscribed" :
		    "subscribed", key);
		log_info("ctl: uid %d: %s %s", (int)cl->uid, on ? "unsubscribe" :
		    "subscribe", key);
	}
	r = reply_ok();
	json_object_set_new(r, "email", json_string(key));
	json_object_set_new(r, "suppressed", json_boolean(on));
	json_object_set_new(r, "changed", json_boolean(rc == 0));
	free(key);
	return (r);
}

/* unsubscribe: EMAIL gets no newsletter any more. */
json_t *
ctl_unsubscribe(struct client *cl, json_t *req)
{
	return (suppress(cl, req, true));
}

/* subscribe: EMAIL leaves the suppression list. */
json_t *
ctl_subscribe(struct client *cl, json_t *req)
{
	return (suppress(cl, req, false));
}

/* suppressions: the addresses no newsletter goes to. */
json_t *
ctl_suppressions(struct client *cl, json_t *req)
{
	struct store_suppression	*s = NULL;
	size_t				 n = 0, i;
	json_t				*arr, *r;
	char				 at[40];

	(void)cl;
	(void)req;
	if (store_suppressions(&s, &n) == -1)
		return (reply_error("internal", "database error"));
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i}", "email",
		    s[i].email, "at", when_format(s[i].at, at, sizeof(at)),
		    "actor", s[i].actor));
	store_suppressions_free(s, n);
	r = json_pack("{s:b}", "ok", 1);
	json_object_set_new(r, "suppressions", arr);
	return (r);
}
