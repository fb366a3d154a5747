/*
 * Threads that work in the background (a calendar's parse and expansion,
 * the WAL checkpoint, the published calendar's write) yield the CPU to the
 * loop thread (background.c).
 */
#ifndef CRIER_BACKGROUND_H
#define CRIER_BACKGROUND_H

/* Lowers the calling thread's CPU priority, once per thread. */
void	background_thread(void);

#endif
