/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ALSA capture for live announcements, and what keeps it going: snd_pcm_recover for overruns
 * and suspends, closing and opening the device again for everything else. While the device is
 * away, silence is given on the period clock, so a microphone unplugged for a moment costs the
 * villages a moment of silence, not the announcement. tests/unit/capture.c drives every path
 * with a scripted ALSA. */
#include "headend/capture.h"

#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PERIOD_NS (1000000000L / (CAPTURE_RATE / CAPTURE_PERIOD))
#define AHEAD_MAX_NS 1000000000L	/* a device this far ahead of the clock is not real time */

struct capture {
	char device[128];
	int buffer_ms;
	snd_pcm_t *pcm;
	capture_event_fn fn;
	void *arg;
	struct capture_stats st;
	unsigned wait;			/* silent periods left before the next attempt to open */
	unsigned backoff;		/* the pause before that attempt, periods */
	struct timespec next;		/* when the next silent period is due */
	struct timespec since;		/* when the device was opened */
	unsigned long read_since;	/* periods read since then */
};

static void add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static long long diff_ns(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

__attribute__((format(printf, 3, 4)))
static void event(struct capture *c, enum capture_event ev, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->fn)
		c->fn(c->arg, ev, what);
}

/* 48 kHz mono S16, periods of about a quarter of the buffer (20 ms for the default 80 ms). */
static int device_open(struct capture *c)
{
	snd_pcm_t *pcm = NULL;
	/* Opened without blocking: a device in use by another program answers EBUSY at once
	 * instead of holding the caller until it is free; reads then block as usual. */
	int rc = snd_pcm_open(&pcm, c->device, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);

	if (rc >= 0 && (rc = snd_pcm_nonblock(pcm, 0)) < 0)
		snd_pcm_close(pcm);
	if (rc >= 0) {
		rc = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
					1, CAPTURE_RATE, 1, (unsigned)c->buffer_ms * 1000u);
		if (rc < 0)
			snd_pcm_close(pcm);
	}
	if (rc < 0)
		return rc;
	c->pcm = pcm;
	clock_gettime(CLOCK_MONOTONIC, &c->since);
	c->read_since = 0;
	return 0;
}

/* The device failed: close it and give silence until the next attempt. */
static void device_lost(struct capture *c, int rc)
{
	c->st.errors++;
	c->st.down = 1;
	snd_pcm_close(c->pcm);
	c->pcm = NULL;
	c->backoff = CAPTURE_RETRY_FIRST;
	c->wait = c->backoff;
	clock_gettime(CLOCK_MONOTONIC, &c->next);
	event(c, CAPTURE_ERROR, "ALSA capture device \"%s\" failed (%s); closed, sending silence "
	      "while it is opened again", c->device, snd_strerror(rc));
}

/* An overrun or a suspend: recovered in place, or the device is lost. */
static void recover(struct capture *c, int rc)
{
	int r;

	if (rc == -EPIPE) {
		c->st.overruns++;
		event(c, CAPTURE_OVERRUN, "ALSA capture device \"%s\": overrun (%s), samples "
		      "lost; prepared again", c->device, snd_strerror(rc));
	} else if (rc == -ESTRPIPE) {
		c->st.suspends++;
		event(c, CAPTURE_SUSPEND, "ALSA capture device \"%s\": suspended (%s); resumed",
		      c->device, snd_strerror(rc));
	} else if (rc != -EINTR) {
		device_lost(c, rc);
		return;
	}
	r = snd_pcm_recover(c->pcm, rc, 1);
	if (r < 0)
		device_lost(c, r);
}

/* A device that gives audio faster than real time (a file or the null plugin) is held to the
 * clock, or it would fill the head-end's memory with frames the pacer throws away. */
static void hold_to_clock(struct capture *c)
{
	struct timespec now;
	long long ahead;

	c->read_since++;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ahead = (long long)c->read_since * PERIOD_NS - diff_ns(&c->since, &now);
	if (ahead > AHEAD_MAX_NS) {
		add_ns(&now, (long)(ahead - AHEAD_MAX_NS));
		sleep_until(&now);
	}
}

/* A period of silence on the period clock; now and then, one more attempt to open. */
static int silent_period(struct capture *c, int16_t *pcm)
{
	struct timespec now;
	int rc;

	memset(pcm, 0, CAPTURE_PERIOD * sizeof(*pcm));
	add_ns(&c->next, PERIOD_NS);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (diff_ns(&c->next, &now) > 5 * PERIOD_NS)
		c->next = now;
	sleep_until(&c->next);
	c->st.silent++;
	if (--c->wait)
		return 0;
	rc = device_open(c);
	if (rc < 0) {
		c->st.reopen_failures++;
		if (c->backoff < CAPTURE_RETRY_MAX)
			c->backoff = c->backoff * 2 < CAPTURE_RETRY_MAX ? c->backoff * 2 :
				     CAPTURE_RETRY_MAX;
		c->wait = c->backoff;
		event(c, CAPTURE_REOPEN_FAILED, "ALSA capture device \"%s\" cannot be opened "
		      "again (%s); trying again in %u ms", c->device, snd_strerror(rc),
		      c->wait * 20);
		return 0;
	}
	c->st.reopens++;
	c->st.down = 0;
	event(c, CAPTURE_REOPENED, "ALSA capture device \"%s\" is back after %lu periods of "
	      "silence", c->device, c->st.silent);
	return 0;
}

int capture_read(struct capture *c, int16_t *pcm, long *delay_frames)
{
	size_t got = 0;

	*delay_frames = 0;
	while (c->pcm) {
		snd_pcm_sframes_t n = snd_pcm_readi(c->pcm, pcm + got, CAPTURE_PERIOD - got);
		snd_pcm_sframes_t d;

		if (n == 0)
			n = -EIO;	/* blocking reads return audio or an error */
		if (n < 0) {
			recover(c, (int)n);
			continue;
		}
		got += (size_t)n;
		if (got < CAPTURE_PERIOD)
			continue;
		if (snd_pcm_delay(c->pcm, &d) == 0 && d > 0)
			*delay_frames = d;
		c->st.periods++;
		hold_to_clock(c);
		return 1;
	}
	return silent_period(c, pcm);
}

int capture_open(struct capture **out, const char *device, int buffer_ms, capture_event_fn fn,
		 void *arg, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (strlen(device) >= sizeof(c->device)) {
		snprintf(err, errlen, "ALSA capture device name is too long");
		free(c);
		return -1;
	}
	memcpy(c->device, device, strlen(device) + 1);
	c->buffer_ms = buffer_ms;
	c->fn = fn;
	c->arg = arg;
	rc = device_open(c);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open ALSA capture device \"%s\": %s", device,
			 snd_strerror(rc));
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void capture_stats(const struct capture *c, struct capture_stats *out)
{
	*out = c->st;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->pcm)
		snd_pcm_close(c->pcm);
	free(c);
}
