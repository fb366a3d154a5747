/* A newsletter delivery, the scheduler's side: recipients planned, rendered and journaled. */
#ifndef CRIER_NEWSLETTER_H
#define CRIER_NEWSLETTER_H

#include <stdbool.h>
#include <stddef.h>

struct channel;
struct chan_journal;
struct post;
struct post_email;
struct email_parts;
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
/*
 * NL's recipients are read and planned (ERR NULL), or not: ERR says why,
 * PERMANENT if the post cannot go as it is (the recipients file cannot
 * be read), else it may be tried again (the store failed).
 */
typedef void	(*newsletter_ready_fn)(void *arg, const char *err,
		    bool permanent);

/*
 * 1 if NL's recipients are still being read (a long recipients file, on a
 * worker thread) or planned (a slice a loop turn): READY(ARG, ...) comes
 * once they are, and the post must not be started before. 0 if they are
 * planned already.
 */
int		 newsletter_planning(struct newsletter *nl,
		    newsletter_ready_fn ready, void *arg);
/*
 * Renders the message email post P on CH sends, as it goes out (utm tags
 * and all), for recipient EMAIL, NAME into OUT (free with
 * chan_email_parts_clear): what `preview` shows; -1 with ERR.
 */
int		 newsletter_preview(const struct channel *ch,
		    const struct post *p, const struct tmpl_set *tmpls,
		    const char *email, const char *name,
		    struct email_parts *out, char *err, size_t errlen);
/* The recipients and their rendering, for post.email. */
const struct post_email *newsletter_email(const struct newsletter *nl);
/* The journal writing each recipient's fate to the store, for post.journal. */
const struct chan_journal *newsletter_journal(const struct newsletter *nl);
void		 newsletter_close(struct newsletter *nl);

#endif
