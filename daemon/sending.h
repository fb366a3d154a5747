/* One delivery on its way: the post assembled, handed to its channel, its end reported. */
#ifndef CRIER_SENDING_H
#define CRIER_SENDING_H

#include <stdbool.h>

struct channel;
struct channel_ops;
struct chan_result;
struct delivery;
struct tmpl_set;

/*
 * How a delivery ended: R (r->aborted when crierd is stopping). D is in
 * `sending`; OPS its channel type's. LATER is false when it ended before
 * sending_start returned (a local channel, or a post that cannot go).
 */
typedef void (*sending_done_fn)(const struct delivery *d,
		    const struct channel_ops *ops, const struct chan_result *r,
		    bool later);

/*
 * Sends D (taken over, cleared) on CH, whose `sending` mark is committed:
 * its post gets the text, its media read by media.c, for an email channel
 * its recipients and their rendering from TMPLS (newsletter.c), and a
 * journal. DONE is called exactly once, whatever happens.
 */
void	 sending_start(struct channel *ch, struct delivery *d,
	    const struct tmpl_set *tmpls, sending_done_fn done);
/* Number of network deliveries on their way (what max_in_flight bounds). */
int	 sending_count(void);
/* Frees what is left (http_shutdown has normally ended everything). */
void	 sending_shutdown(void);

#endif
