/*
 * Background threads at a lower CPU priority (nice 10). On two cores a
 * calendar's expansion, a checkpoint and the loop each want one: a slice
 * of 1 ms of the loop's work took 14-18 ms of wall time during the first
 * load of 100k occurrences, the loop thread waiting for a core. At nice 10
 * the kernel gives the loop about nine times the share of a background
 * thread when they meet on a core; the background work still runs when
 * the loop waits. Linux applies setpriority to the one thread named.
 */
#include <config.h>

#include <sys/resource.h>
#include <sys/syscall.h>

#include <unistd.h>

#include "background.h"

#define BACKGROUND_NICE	10

static _Thread_local int	lowered;

/* Lowers the calling thread's CPU priority, once per thread. */
void
background_thread(void)
{
	if (lowered)
		return;
	lowered = 1;
	/* Raising one's own nice value is always allowed; a failure changes nothing. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
	    BACKGROUND_NICE);
}
