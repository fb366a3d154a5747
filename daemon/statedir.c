/*
 * The state directory is crierd's to write: before using it, make sure
 * nobody else could have planted or changed anything in it. Files crier
 * creates there are then opened with O_NOFOLLOW (temporary ones with
 * O_EXCL), so a link made later is not written through either.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "statedir.h"

#define MAX_DEPTH	4
#define MAX_ENTRIES	200000

/* The name of UID for messages. */
static const char *
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "%s, uid %d", pw->pw_name, (int)uid);
	else
		snprintf(buf, len, "uid %d", (int)uid);
	return (buf);
}

/* Refuses PATH (described by ST) if it is a link, foreign-owned or writable by others. */
static int
check_one(const char *path, const struct stat *st, char *err, size_t errlen)
{
	char	who[160], to[PATH_MAX];
	ssize_t	n;

	if (S_ISLNK(st->st_mode)) {
		if ((n = readlink(path, to, sizeof(to) - 1)) < 0)
			n = 0;
		to[n] = '\0';
		snprintf(err, errlen, "state_dir: %s is a symbolic link (to %s; "
		    "owner %s): crier never makes one, so someone else did; "
		    "remove it", path, to, user_name(st->st_uid, who,
		    sizeof(who)));
		return (-1);
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(err, errlen, "state_dir: %s is owned by %s (mode %04o): "
		    "it must belong to root or to the user crierd runs as "
		    "(uid %d)", path, user_name(st->st_uid, who, sizeof(who)),
		    (unsigned)(st->st_mode & 07777), (int)geteuid());
		return (-1);
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, errlen, "state_dir: %s (owner %s) is group- or "
		    "world-writable (mode %04o): chmod go-w it", path,
		    user_name(st->st_uid, who, sizeof(who)),
		    (unsigned)(st->st_mode & 07777));
		return (-1);
	}
	return (0);
}

/* Checks every entry under directory PATH, DEPTH levels down. */
static int
check_tree(const char *path, int depth, size_t *seen, char *err, size_t errlen)
{
	struct dirent	*de;
	struct stat	 st;
	char		 sub[PATH_MAX];
	DIR		*d;
	int		 fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))
	    == -1 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errlen, "state_dir: %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++*seen > MAX_ENTRIES)
			break;	/* an outbox of many years: the rest is crier's own */
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >=
		    (int)sizeof(sub))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			snprintf(err, errlen, "state_dir: %s: %s", sub,
			    strerror(errno));
			rc = -1;
			break;
		}
		if (S_ISSOCK(st.st_mode))
			continue;
		if (depth == 0 && strcmp(de->d_name, "media") == 0 &&
		    S_ISDIR(st.st_mode))
			continue;
		if ((rc = check_one(sub, &st, err, errlen)) == -1)
			break;
		if (S_ISDIR(st.st_mode) && depth + 1 < MAX_DEPTH)
			rc = check_tree(sub, depth + 1, seen, err, errlen);
	}
	closedir(d);
	return (rc);
}

/* Creates DIR if needed, then checks it and what it holds. */
int
statedir_check(const char *dir, char *err, size_t errlen)
{
	struct stat	st;
	size_t		seen = 0;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		return (-1);
	}
	/* The directory itself may be a link the administrator made: follow it. */
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state_dir %s: not a directory", dir);
		return (-1);
	}
	if (check_one(dir, &st, err, errlen) == -1)
		return (-1);
	return (check_tree(dir, 0, &seen, err, errlen));
}
