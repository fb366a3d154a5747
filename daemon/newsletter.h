/* A newsletter delivery, the scheduler's side: recipients planned, rendered and journaled. */
#ifndef CRIER_NEWSLETTER_H
#define CRIER_NEWSLETTER_H

#include <stddef.h>

struct channel;
struct chan_journal;
struct post;
struct post_email;
struct tmpl_set;
struct newsletter;

/*
 * Prepares email post P on CH: reads CH's recipients_file (its problems go
 * to P's history), settles the recipients an earlier attempt left (sent,
 * refused, `sending` at a crash: uncertain) and keeps the template and
 * context campaign.c stored for P, with a reference to TMPLS (may be NULL).
 * NULL with ERR if P cannot be sent.
 */
struct newsletter *newsletter_open(const struct channel *ch,
		    const struct post *p, const struct tmpl_set *tmpls,
		    char *err, size_t errlen);
/* The recipients and their rendering, for post.email. */
const struct post_email *newsletter_email(const struct newsletter *nl);
/* The journal writing each recipient's fate to the store, for post.journal. */
const struct chan_journal *newsletter_journal(const struct newsletter *nl);
void		 newsletter_close(struct newsletter *nl);

#endif
