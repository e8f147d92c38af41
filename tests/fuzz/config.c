/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: headend.cfg through config_load (libconfig, then every range check), the
 * input written to a memory file each time. Run from the top of the tree (etc/signals.cfg). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "headend/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct headend_config c;
	char err[512];

	if (fd < 0) {
		fd = memfd_create("headend.cfg", 0);
		if (fd < 0)
			return 0;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	(void)config_load(&c, path, err, sizeof(err));
	return 0;
}
