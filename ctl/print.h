/*
 * crierctl's printers: each verb's reply as a person reads it. One
 * print_<printer> per printer named in CTL_VERBS (common/proto.h).
 */
#ifndef CRIER_PRINT_H
#define CRIER_PRINT_H

#include <jansson.h>

#include "../common/proto.h"

extern int	print_utc;	/* list --utc: times in UTC */

#define PRINT_DECL(id, f, pr, n, p, o, c, u)	void print_##pr(json_t *);
CTL_VERBS(PRINT_DECL)
#undef PRINT_DECL

/* A string field K of O, or "-". */
const char	*print_field(json_t *o, const char *k);
/* One event line of `log`. */
void		 print_event(json_t *e);
/* Prints engagement E ({likes, reposts, replies, as_of}) after PREFIX; nothing if E is not an object. */
void		 print_engagement(json_t *e, const char *prefix);
/* Where `report --html FILE` writes (crierctl sets it), or NULL. */
extern char	*print_html;
/* Writes report R's page to print_html; -1 with a message on stderr. */
int		 print_report_html(json_t *r);
/* Makes every string in J safe to print on a terminal. */
void		 print_defang(json_t *j);

#endif
