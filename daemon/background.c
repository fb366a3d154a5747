/*
 * Background threads at a lower CPU priority (nice 10): the kernel gives
 * the loop about nine times the share of such a thread when they meet on
 * a core, and the background work still runs when the loop waits. Not a
 * calendar's parse and expansion: a load then lagged well behind a busy
 * loop (two tests raced it under ASan). Not the checkpoint thread either:
 * its fsync holds the WAL inode lock that the loop's writes wait for.
 * Linux applies setpriority to the one thread named.
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
