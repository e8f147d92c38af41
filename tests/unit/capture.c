/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/capture.c against a scripted ALSA: the test links with
 * -Wl,--wrap=snd_pcm_open and the other calls capture.c makes, so every read returns what the
 * script says. Overruns, suspends, short reads, device errors and failed attempts to open the
 * device again must each be recovered and counted exactly. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "headend/capture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define END_OF_SCRIPT 99999

static char fake_device;	/* what the scripted snd_pcm_open hands out */

static struct {
	const long *reads;	/* snd_pcm_readi: frames, or -errno */
	size_t n_reads, read_at;
	const int *opens;	/* snd_pcm_open: 0 or -errno */
	size_t n_opens, open_at;
	int recover_rc;		/* what snd_pcm_recover returns */
	int recovered[8];	/* the errors it was called with */
	size_t n_recovered;
	int closes;
	int16_t fill;		/* sample value of the next read */
	unsigned long events[CAPTURE_REOPENED + 1];
	char last_event[256];
} script;

static void reset(const long *reads, size_t n_reads, const int *opens, size_t n_opens)
{
	memset(&script, 0, sizeof(script));
	script.reads = reads;
	script.n_reads = n_reads;
	script.opens = opens;
	script.n_opens = n_opens;
}

int __wrap_snd_pcm_open(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream, int mode);
int __wrap_snd_pcm_open(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream, int mode)
{
	int rc = script.open_at < script.n_opens ? script.opens[script.open_at] : -ENOENT;

	assert_int_equal(stream, SND_PCM_STREAM_CAPTURE);
	assert_string_equal(name, "mic");
	/* A device held by another program must answer at once, not block the caller. */
	assert_int_equal(mode, SND_PCM_NONBLOCK);
	script.open_at++;
	*pcm = rc ? NULL : (snd_pcm_t *)&fake_device;
	return rc;
}

/* After the open, reads block again. */
int __wrap_snd_pcm_nonblock(snd_pcm_t *pcm, int nonblock);
int __wrap_snd_pcm_nonblock(snd_pcm_t *pcm, int nonblock)
{
	assert_ptr_equal(pcm, &fake_device);
	assert_int_equal(nonblock, 0);
	return 0;
}

int __wrap_snd_pcm_set_params(snd_pcm_t *pcm, snd_pcm_format_t format, snd_pcm_access_t access,
			      unsigned channels, unsigned rate, int resample, unsigned latency);
int __wrap_snd_pcm_set_params(snd_pcm_t *pcm, snd_pcm_format_t format, snd_pcm_access_t access,
			      unsigned channels, unsigned rate, int resample, unsigned latency)
{
	assert_ptr_equal(pcm, &fake_device);
	assert_int_equal(format, SND_PCM_FORMAT_S16_LE);
	assert_int_equal(channels, 1);
	assert_int_equal(rate, 48000);
	assert_int_equal(latency, 80000);
	return 0;
}

snd_pcm_sframes_t __wrap_snd_pcm_readi(snd_pcm_t *pcm, void *buf, snd_pcm_uframes_t size);
snd_pcm_sframes_t __wrap_snd_pcm_readi(snd_pcm_t *pcm, void *buf, snd_pcm_uframes_t size)
{
	long n;

	assert_ptr_equal(pcm, &fake_device);
	if (script.read_at >= script.n_reads)
		fail_msg("read %zu is past the end of the script", script.read_at);
	n = script.reads[script.read_at++];
	if (n > 0) {
		assert_true((snd_pcm_uframes_t)n <= size);
		for (long i = 0; i < n; i++)
			((int16_t *)buf)[i] = script.fill;
		script.fill++;
	}
	return n;
}

int __wrap_snd_pcm_recover(snd_pcm_t *pcm, int err, int silent);
int __wrap_snd_pcm_recover(snd_pcm_t *pcm, int err, int silent)
{
	assert_ptr_equal(pcm, &fake_device);
	assert_true(script.n_recovered < N(script.recovered));
	script.recovered[script.n_recovered++] = err;
	return script.recover_rc;
}

int __wrap_snd_pcm_delay(snd_pcm_t *pcm, snd_pcm_sframes_t *delay);
int __wrap_snd_pcm_delay(snd_pcm_t *pcm, snd_pcm_sframes_t *delay)
{
	*delay = 96;
	return 0;
}

int __wrap_snd_pcm_close(snd_pcm_t *pcm);
int __wrap_snd_pcm_close(snd_pcm_t *pcm)
{
	assert_ptr_equal(pcm, &fake_device);
	script.closes++;
	return 0;
}

static void on_event(void *arg, enum capture_event ev, const char *what)
{
	script.events[ev]++;
	snprintf(script.last_event, sizeof(script.last_event), "%s", what);
}

static struct capture *open_mic(void)
{
	struct capture *c;
	char err[256];

	if (capture_open(&c, "mic", 80, on_event, NULL, err, sizeof(err)))
		fail_msg("capture_open: %s", err);
	return c;
}

/* An overrun and a suspend are recovered in place; a read cut short is completed. */
static void test_overrun_and_suspend(void **state)
{
	static const long reads[] = { 960, -EPIPE, 960, -ESTRPIPE, 480, 480, 960 };
	static const int opens[] = { 0 };
	int16_t pcm[CAPTURE_PERIOD];
	struct capture_stats st;
	struct capture *c;
	long delay;

	reset(reads, N(reads), opens, N(opens));
	c = open_mic();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(capture_read(c, pcm, &delay), 1);
		assert_int_equal(delay, 96);
		/* reads are numbered from 0; the third period is made of reads 2 and 3 */
		assert_int_equal(pcm[0], i < 3 ? i : 4);
		assert_int_equal(pcm[CAPTURE_PERIOD - 1], i < 2 ? i : i + 1);
	}
	capture_stats(c, &st);
	assert_int_equal(st.periods, 4);
	assert_int_equal(st.overruns, 1);
	assert_int_equal(st.suspends, 1);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.silent, 0);
	assert_int_equal(script.n_recovered, 2);
	assert_int_equal(script.recovered[0], -EPIPE);
	assert_int_equal(script.recovered[1], -ESTRPIPE);
	assert_int_equal(script.events[CAPTURE_OVERRUN], 1);
	assert_int_equal(script.events[CAPTURE_SUSPEND], 1);
	assert_int_equal(script.read_at, N(reads));
	capture_close(c);
	assert_int_equal(script.closes, 1);
}

/* The device fails (-EIO): closed, silence on the period clock, opened again after 5 periods;
 * that fails twice (-ENODEV), the pause doubling to 10 and 20 periods, then succeeds. */
static void test_error_reopen_with_backoff(void **state)
{
	static const long reads[] = { 960, -EIO, 960 };
	static const int opens[] = { 0, -ENODEV, -ENODEV, 0 };
	int16_t pcm[CAPTURE_PERIOD];
	struct capture_stats st;
	struct capture *c;
	int silent = 0, rc;
	long delay;

	reset(reads, N(reads), opens, N(opens));
	c = open_mic();
	assert_int_equal(capture_read(c, pcm, &delay), 1);
	while ((rc = capture_read(c, pcm, &delay)) == 0) {
		for (int i = 0; i < CAPTURE_PERIOD; i++)
			assert_int_equal(pcm[i], 0);
		assert_int_equal(delay, 0);
		if (++silent > 100)
			fail_msg("the device was never opened again");
	}
	assert_int_equal(rc, 1);
	assert_int_equal(silent, 5 + 10 + 20);
	capture_stats(c, &st);
	assert_int_equal(st.periods, 2);
	assert_int_equal(st.silent, 35);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.reopen_failures, 2);
	assert_int_equal(st.reopens, 1);
	assert_int_equal(st.down, 0);
	assert_int_equal(script.open_at, 4);
	assert_int_equal(script.closes, 1);
	assert_int_equal(script.events[CAPTURE_ERROR], 1);
	assert_int_equal(script.events[CAPTURE_REOPEN_FAILED], 2);
	assert_int_equal(script.events[CAPTURE_REOPENED], 1);
	assert_non_null(strstr(script.last_event, "\"mic\" is back"));
	capture_close(c);
	assert_int_equal(script.closes, 2);
}

/* -ENODEV from a read, and an overrun that snd_pcm_recover cannot mend, both lose the device;
 * a read of nothing counts as a failure rather than spin. */
static void test_unplugged_and_failed_recovery(void **state)
{
	static const long reads[] = { -ENODEV, 960, -EPIPE, 960, 0, 960 };
	static const int opens[] = { 0, 0, 0, 0 };
	int16_t pcm[CAPTURE_PERIOD];
	struct capture_stats st;
	struct capture *c;
	int audio = 0, silent = 0;
	long delay;

	reset(reads, N(reads), opens, N(opens));
	c = open_mic();
	assert_int_equal(capture_read(c, pcm, &delay), 0);	/* -ENODEV, first silence */
	silent++;
	while (audio < 1)
		capture_read(c, pcm, &delay) ? audio++ : silent++;
	assert_int_equal(silent, 5);
	script.recover_rc = -EBADFD;
	while (audio < 2)
		capture_read(c, pcm, &delay) ? audio++ : silent++;
	while (audio < 3)
		capture_read(c, pcm, &delay) ? audio++ : silent++;
	assert_int_equal(silent, 15);
	capture_stats(c, &st);
	assert_int_equal(st.periods, 3);
	assert_int_equal(st.overruns, 1);
	assert_int_equal(st.errors, 3);
	assert_int_equal(st.reopens, 3);
	assert_int_equal(st.reopen_failures, 0);
	assert_int_equal(st.silent, 15);
	assert_int_equal(script.read_at, N(reads));
	capture_close(c);
	assert_int_equal(script.closes, 4);
}

/* A device that cannot be opened at the start is an error naming it; nothing runs. */
static void test_open_fails(void **state)
{
	static const int opens[] = { -ENODEV };
	struct capture *c = (struct capture *)&fake_device;
	char err[256];

	reset(NULL, 0, opens, N(opens));
	assert_int_equal(capture_open(&c, "mic", 80, on_event, NULL, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, "cannot open ALSA capture device \"mic\": No such device");
	assert_int_equal(script.closes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overrun_and_suspend),
		cmocka_unit_test(test_error_reopen_with_backoff),
		cmocka_unit_test(test_unplugged_and_failed_recovery),
		cmocka_unit_test(test_open_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
