/*
 * Network confinement for what a calendar can make crierd fetch (link
 * cards, https media): public addresses only, unless the operator's
 * fetch_allow names the host or a CIDR that holds the address.
 */
#ifndef CRIER_NETGUARD_H
#define CRIER_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define NETGUARD_MAX_REDIRECTS	3	/* a calendar-caused fetch follows at most */

/* Checks the fetch_allow list LIST (hosts, addresses, CIDRs); -1 with ERR. */
int	 netguard_parse(const char *list, char *err, size_t errlen);
/* Makes LIST (already checked, may be NULL) the allow list in force; -1 with ERR. */
int	 netguard_set_allow(const char *list, char *err, size_t errlen);
void	 netguard_shutdown(void);
/*
 * Whether a fetch for URL host HOST may connect to address SA: a public
 * address, or one fetch_allow covers (by CIDR, or by naming HOST). Else
 * false with WHY ("127.0.0.1 is a loopback address").
 */
bool	 netguard_allowed(const char *host, const struct sockaddr *sa,
	    char *why, size_t len);
/*
 * Checks URL as far as it can be known without a network: its scheme, and
 * its host when that is an address literal or named in the test resolver
 * override (CRIER_RESOLVE). 0 if allowed or unknown, -1 with WHY.
 */
int	 netguard_check_url(const char *url, char *why, size_t len);
/* The test resolver override as curl's CURLOPT_RESOLVE entries ("host:port:addr"), or NULL. */
const char *netguard_resolve_override(void);

#endif
