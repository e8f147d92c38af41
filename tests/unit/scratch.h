/* SPDX-License-Identifier: GPL-3.0-or-later */
/* For unit tests of file loaders: a private directory under /tmp, made before the group runs
 * and removed after it, and one file in it that each test writes its case into. */
#ifndef CX_TESTS_SCRATCH_H
#define CX_TESTS_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char scratch_dir[64];
static char scratch_file[128];

/* mkdtemp /tmp/cx-PROG-XXXXXX; scratch_file is FILE in it. 0, or -1 if it cannot be made. */
static int scratch_open(const char *prog, const char *file)
{
	snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/cx-%s-XXXXXX", prog);
	if (!mkdtemp(scratch_dir))
		return -1;
	snprintf(scratch_file, sizeof(scratch_file), "%s/%s", scratch_dir, file);
	return 0;
}

static int scratch_close(void **state)
{
	(void)state;
	unlink(scratch_file);
	return rmdir(scratch_dir);
}

/* scratch_file holds text and nothing else. */
static void scratch_write(const char *text)
{
	FILE *f = fopen(scratch_file, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

#endif
