/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The two clocks of the head-end: the wall clock, which goes on the wire and into records, and
 * the monotonic one, which paces, times out and measures latency and never jumps. */
#ifndef CX_HEADEND_CLOCK_H
#define CX_HEADEND_CLOCK_H

#include <stdint.h>
#include <time.h>

/* ms since 1970 UTC. */
static inline uint64_t clock_wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static inline int64_t clock_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline uint64_t clock_mono_ms(void)
{
	return (uint64_t)clock_mono_ns() / 1000000u;
}

#endif
