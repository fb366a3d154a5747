/* Durations as people write them, shared by crierd and crierctl. */
#ifndef CRIER_HUMAN_H
#define CRIER_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Formats SECS (negative: its absolute value) in at most two units, largest
 * first: "45s", "3h 5m", "2d", "1d 4h". Returns BUF.
 */
char	*human_duration(int64_t secs, char *buf, size_t len);

#endif
