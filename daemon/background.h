/*
 * Threads that work in the background (freeing a calendar's last load,
 * the published calendar's read and write) yield the CPU to the loop
 * thread (background.c).
 */
#ifndef CRIER_BACKGROUND_H
#define CRIER_BACKGROUND_H

/* Lowers the calling thread's CPU priority, once per thread. */
void	background_thread(void);

#endif
