/* Durations as people write them: "3h 5m", "2d". */
#include "human.h"

#include <stdio.h>

/* Formats SECS in its two largest units. */
char *
human_duration(int64_t secs, char *buf, size_t len)
{
	static const struct { int64_t secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t	i, used = 0;
	int	shown = 0;

	if (secs < 0)
		secs = -secs;
	if (len == 0)
		return (buf);
	buf[0] = '\0';
	if (secs == 0) {
		snprintf(buf, len, "0s");
		return (buf);
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]) && shown < 2; i++) {
		int64_t	n = secs / units[i].secs;

		if (n == 0) {
			if (shown)
				break;	/* "2d 5m" would mislead: stop at a gap */
			continue;
		}
		secs -= n * units[i].secs;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
		    "%s%lld%c", shown ? " " : "", (long long)n, units[i].unit);
		if (used >= len)
			break;
		shown++;
	}
	return (buf);
}
