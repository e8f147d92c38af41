/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Argument and setting parsing and clock reading shared by the receiving tools. */
#include "tools/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int tool_number(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

uint64_t tool_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double tool_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double tool_mono_ms(void)
{
	return tool_mono_s() * 1e3;
}

int tool_config_address(config_t *cf, const char *path, struct in_addr *out)
{
	const char *v;

	if (!config_lookup_string(cf, path, &v))
		return config_lookup(cf, path) ? -1 : 0;
	return inet_pton(AF_INET, v, out) == 1 ? 0 : -1;
}

int tool_config_read(config_t *cf, const char *path, char *err, size_t errlen)
{
	config_init(cf);
	if (config_read_file(cf, path))
		return 0;
	snprintf(err, errlen, "%s:%d: %s", path, config_error_line(cf),
		 config_error_type(cf) == CONFIG_ERR_FILE_IO ? "cannot read the file" :
		 config_error_text(cf));
	return -1;
}
