/* Logging to stderr, one line per event; "<N>" prefixes when stderr is the journal. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"

static int	log_verbose;
static int	log_journal;	/* stderr is connected to journald */

/* Sets verbosity and whether priorities are written as journald prefixes. */
void
log_init(int verbose)
{
	const char	*js = getenv("JOURNAL_STREAM");
	struct stat	 st;
	unsigned long	 dev, ino;

	log_verbose = verbose;
	log_journal = 0;
	if (js != NULL && sscanf(js, "%lu:%lu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long)st.st_dev == dev && (unsigned long)st.st_ino == ino)
		log_journal = 1;
	else if (js != NULL && getenv("CRIER_LOG_JOURNAL") != NULL)
		log_journal = 1;
}

/* Writes one line at syslog priority PRI, with ERRSTR appended when not NULL. */
static void
log_line(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char		 msg[2048];
	char		 ts[32];
	struct timespec	 now;
	struct tm	 tm;
	size_t		 i;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One event, one line: never let a value break the line. */
	for (i = 0; msg[i] != '\0'; i++)
		if (msg[i] == '\n' || msg[i] == '\r')
			msg[i] = ' ';
	if (log_journal) {
		if (errstr != NULL)
			fprintf(stderr, "<%d>%s: %s\n", pri, msg, errstr);
		else
			fprintf(stderr, "<%d>%s\n", pri, msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		if (errstr != NULL)
			fprintf(stderr, "%s.%03ldZ %s: %s\n", ts,
			    now.tv_nsec / 1000000, msg, errstr);
		else
			fprintf(stderr, "%s.%03ldZ %s\n", ts,
			    now.tv_nsec / 1000000, msg);
	}
	fflush(stderr);
}

/* Warning with strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_line(4, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Warning without errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_line(4, NULL, fmt, ap);
	va_end(ap);
}

/* Error without errno. */
void
log_errx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_line(3, NULL, fmt, ap);
	va_end(ap);
}

/* Informational line. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_line(6, NULL, fmt, ap);
	va_end(ap);
}

/* Debug line, only when verbose. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_line(7, NULL, fmt, ap);
	va_end(ap);
}

/* Logs with strerror(errno) and exits. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_line(2, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

/* Logs and exits. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_line(2, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
