/* Logging: stderr lines, with journald priority prefixes under systemd. */
#ifndef CRIER_LOG_H
#define CRIER_LOG_H

#include <stdarg.h>

/* Sets verbosity (0 info, 1 debug) and detects JOURNAL_STREAM. */
void	log_init(int verbose);
/* Warning with ": strerror(errno)" appended. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warning without errno. */
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Error without errno (a condition needing attention; the daemon goes on). */
void	log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs with strerror(errno) and exits 1. */
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Logs and exits 1. */
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
