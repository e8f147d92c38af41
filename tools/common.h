/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Small helpers the receiving tools (endpoint, fleet, relay, wiretap) share: parsing a number
 * argument and reading the wall clock. Everything else in a tool stays its own. */
#ifndef CX_TOOLS_COMMON_H
#define CX_TOOLS_COMMON_H

#include <stdint.h>

/* Parse all of s as a number within min..max into *out. Returns 0, or -1 leaving *out. */
int tool_number(const char *s, double min, double max, double *out);

/* Wall-clock time in ms since 1970 UTC, as control packets carry it. */
uint64_t tool_wall_ms(void);

#endif
