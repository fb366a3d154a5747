/* What a previous run left behind (deliveries caught `sending`, posts missed). */
#ifndef CRIER_RECOVER_H
#define CRIER_RECOVER_H

#include <stdint.h>

/* Settles them (CATCH_UP in seconds); -1 if the store could not be read. */
int	 recover_run(int64_t catch_up);

#endif
