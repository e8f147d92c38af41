/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The microphone of live announcements: an ALSA capture device read one 20 ms period at a
 * time, kept going through what a device does to a long recording. An overrun (-EPIPE) and a
 * suspend (-ESTRPIPE) are recovered in place; a device that fails (-EIO, -ENODEV, anything
 * else) is closed and opened again with a growing pause between attempts, and meanwhile every
 * read gives a period of silence on time, so the announcement goes on. Each event is counted
 * and reported through a callback; no logging, threads or encoding here. */
#ifndef CX_HEADEND_CAPTURE_H
#define CX_HEADEND_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#define CAPTURE_RATE 48000
#define CAPTURE_PERIOD 960		/* frames: 20 ms, one Opus frame */
#define CAPTURE_RETRY_FIRST 5		/* periods of silence before the first new attempt */
#define CAPTURE_RETRY_MAX 100		/* the pause doubles up to this many periods (2 s) */

enum capture_event {
	CAPTURE_OVERRUN,	/* -EPIPE: samples were lost; prepared again */
	CAPTURE_SUSPEND,	/* -ESTRPIPE: the device was suspended; resumed */
	CAPTURE_ERROR,		/* the device failed; closed, to be opened again */
	CAPTURE_REOPEN_FAILED,	/* an attempt to open it again failed */
	CAPTURE_REOPENED,	/* it is back */
};

struct capture_stats {
	unsigned long periods;		/* periods of audio read from the device */
	unsigned long silent;		/* periods of silence given while it was away */
	unsigned long overruns, suspends, errors, reopen_failures, reopens;
	int down;			/* 1 while the device is away */
};

/* Called for every event, with a sentence naming the device and the ALSA error. */
typedef void (*capture_event_fn)(void *arg, enum capture_event ev, const char *what);

struct capture;

/* Open device for 48 kHz mono S16 with about buffer_ms of ALSA buffer. Returns 0, or -1 with
 * err naming the device and why it cannot be opened. */
__attribute__((warn_unused_result))
int capture_open(struct capture **out, const char *device, int buffer_ms, capture_event_fn fn,
		 void *arg, char *err, size_t errlen);

/* One period into pcm (CAPTURE_PERIOD samples): 1 with audio, *delay_frames set to what was
 * still in the device after it (snd_pcm_delay, 0 if unknown); 0 with silence, a period after
 * the last one, while the device is away. Blocks about one period either way. */
int capture_read(struct capture *c, int16_t *pcm, long *delay_frames);

void capture_stats(const struct capture *c, struct capture_stats *out);
void capture_close(struct capture *c);

#endif
