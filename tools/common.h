/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Small helpers the receiving tools (endpoint, fleet, relay, wiretap) share: parsing a number
 * argument or an address setting, and reading the clocks. Everything else in a tool stays its
 * own. */
#ifndef CX_TOOLS_COMMON_H
#define CX_TOOLS_COMMON_H

#include <libconfig.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Parse all of s as a number within min..max into *out. Returns 0, or -1 leaving *out. */
int tool_number(const char *s, double min, double max, double *out);

/* Wall-clock time in ms since 1970 UTC, as control packets carry it. */
uint64_t tool_wall_ms(void);

/* The monotonic clock in s or ms, with its fraction: for pacing and timeouts. */
double tool_mono_s(void);
double tool_mono_ms(void);

/* config_init cf and read path into it. Returns 0, or -1 with err saying "file:line: why";
 * cf is to be destroyed either way. */
int tool_config_read(config_t *cf, const char *path, char *err, size_t errlen);

/* The IPv4 address setting path of cf into *out, if it is there. Returns 0 (absent or good),
 * or -1 if it is not a string holding a dotted-quad address. */
int tool_config_address(config_t *cf, const char *path, struct in_addr *out);

#endif
