/* The WAL checkpoint on a thread of its own (store_ckpt.c); only store_sql.c uses it. */
#ifndef CRIER_STORE_CKPT_H
#define CRIER_STORE_CKPT_H

#include <stdint.h>

/* What a checkpoint did. */
struct store_ckpt_result {
	int	 rc;		/* SQLite's result code */
	int	 frames;	/* in the WAL */
	int	 done;		/* of them copied into the database */
	int64_t	 us;		/* how long it took */
	char	 err[256];	/* SQLite's message when rc is not SQLITE_OK */
};

int	store_ckpt_request(const char *path);
int	store_ckpt_last(struct store_ckpt_result *r);
int	store_ckpt_busy(void);
void	store_ckpt_stop(void);

#endif
