/* What every Check program of tests/unit does around its suite. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/unit.h"
#include "daemon/log.h"

/* Runs S (in this process if NOFORK); 0 if every test passed, else 1. */
int
unit_run(Suite *s, int nofork)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	if (nofork)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}

/* Runs S in this process with the log quiet, in the directory TMPDIR made and removed here. */
int
unit_run_in(Suite *s, char *tmpdir)
{
	char	 cmd[4200];
	int	 rc;

	log_init(0);
	if (mkdtemp(tmpdir) == NULL)
		return (99);
	rc = unit_run(s, 1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return (99);
	return (rc);
}
