/* Channel types (a table of vtables) and the configured channels at run time. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel.h"
#include "log.h"

/* Every channel type this build knows; adding a network adds a line here. */
static const struct channel_ops *const chan_types[] = {
	&outbox_ops,
};

static struct channel	*chans;
static size_t		 nchans;

/* The ops for channel type TYPE, or NULL. */
const struct channel_ops *
chan_ops_find(const char *type)
{
	size_t	i;

	for (i = 0; i < sizeof(chan_types) / sizeof(chan_types[0]); i++)
		if (strcmp(chan_types[i]->type, type) == 0)
			return (chan_types[i]);
	return (NULL);
}

/* The key spec for KEY in OPS, or NULL. */
static const struct chan_key *
key_find(const struct channel_ops *ops, const char *key)
{
	const struct chan_key	*k;

	for (k = ops->keys; k != NULL && k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			return (k);
	return (NULL);
}

/* True if VALUE is one of the '|'-separated VALUES. */
static int
enum_has(const char *values, const char *value)
{
	const char	*p = values;
	size_t		 n, vlen = strlen(value);

	while (*p != '\0') {
		n = strcspn(p, "|");
		if (n == vlen && strncmp(p, value, n) == 0)
			return (1);
		p += n;
		if (*p == '|')
			p++;
	}
	return (0);
}

/* Validates one key/value against its spec; ERR gets the reason. */
static int
check_value(const struct chan_key *k, const char *v, char *err, size_t errlen)
{
	char	msg[384];

	switch (k->kind) {
	case CK_STRING:
	case CK_PATH:
		if (*v == '\0') {
			snprintf(err, errlen, "empty value");
			return (-1);
		}
		return (0);
	case CK_SECRET:
		if (config_check_secret(v, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s", msg);
			return (-1);
		}
		return (0);
	case CK_URL:
		if (config_check_url(v, "https", "http", msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s", msg);
			return (-1);
		}
		return (0);
	case CK_BOOL:
		if (strcasecmp(v, "yes") && strcasecmp(v, "no") &&
		    strcasecmp(v, "true") && strcasecmp(v, "false")) {
			snprintf(err, errlen, "'%s' is not yes or no", v);
			return (-1);
		}
		return (0);
	case CK_ENUM:
		if (!enum_has(k->values, v)) {
			snprintf(err, errlen, "'%s' is not one of %s", v, k->values);
			return (-1);
		}
		return (0);
	}
	return (0);
}

/* Validates channel CC: known keys, good values, required keys, secrets. */
int
chan_config_check(const struct cfg_channel *cc, const struct config *c,
    char *err, size_t errlen)
{
	const struct channel_ops	*ops = chan_ops_find(cc->type);
	const struct chan_key		*k;
	char				 msg[400];
	size_t				 i;

	if (ops == NULL) {
		snprintf(err, errlen, "%d: type: unknown channel type '%s'",
		    cc->line, cc->type);
		return (-1);
	}
	for (i = 0; i < cc->nkv; i++) {
		if ((k = key_find(ops, cc->kv[i].key)) == NULL) {
			snprintf(err, errlen, "%d: unknown key '%s' for a %s "
			    "channel [channel %s]", cc->kv[i].line, cc->kv[i].key,
			    cc->type, cc->name);
			return (-1);
		}
		if (check_value(k, cc->kv[i].value, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%d: %s: %s", cc->kv[i].line,
			    cc->kv[i].key, msg);
			return (-1);
		}
	}
	for (k = ops->keys; k != NULL && k->name != NULL; k++)
		if (k->required && config_chan_get(cc, k->name, NULL) == NULL) {
			snprintf(err, errlen, "%d: [channel %s]: missing key '%s'",
			    cc->line, cc->name, k->name);
			return (-1);
		}
	if (ops->check != NULL && ops->check(cc, c, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%d: [channel %s]: %s", cc->line, cc->name, msg);
		return (-1);
	}
	return (0);
}

/* Closes and frees the channel array CS of N entries. */
static void
close_all(struct channel *cs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (cs[i].ops->close != NULL && cs[i].priv != NULL)
			cs[i].ops->close(&cs[i]);
		free(cs[i].name);
	}
	free(cs);
}

/* Opens every channel of C; the current set is replaced only if all open. */
int
chan_init(const struct config *c, bool offline, char *err, size_t errlen)
{
	struct channel	*cs;
	size_t		 i, n = 0;

	if ((cs = calloc(c->nchans ? c->nchans : 1, sizeof(*cs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < c->nchans; i++) {
		struct channel *ch = &cs[i];

		ch->ops = chan_ops_find(c->chans[i].type);
		ch->cfg = &c->chans[i];
		if ((ch->name = strdup(c->chans[i].name)) == NULL)
			abort();
		ch->limit = c->chans[i].limit ? c->chans[i].limit :
		    ch->ops->default_limit;
		n++;
		if (!offline && ch->ops->open != NULL &&
		    ch->ops->open(ch, c, err, errlen) == -1) {
			n--;
			free(ch->name);
			goto fail;
		}
	}
	close_all(chans, nchans);
	chans = cs;
	nchans = n;
	return (0);
fail:
	close_all(cs, n);
	return (-1);
}

/* Closes every channel. */
void
chan_shutdown(void)
{
	close_all(chans, nchans);
	chans = NULL;
	nchans = 0;
}

/* The channel named NAME, or NULL. */
struct channel *
chan_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nchans; i++)
		if (strcmp(chans[i].name, name) == 0)
			return (&chans[i]);
	return (NULL);
}

/* Number of channels. */
size_t
chan_count(void)
{
	return (nchans);
}

/* The I-th channel. */
struct channel *
chan_at(size_t i)
{
	return (i < nchans ? &chans[i] : NULL);
}
