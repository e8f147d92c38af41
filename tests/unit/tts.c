/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tts: real eSpeak-NG renders of short text and a whole bulletin, checked through libopus, plus
 * the text checks, the alert tones and the fades. Whether the reading is right is tested in
 * tests/unit/reading.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ebur128.h>

#include <espeak-ng/speak_lib.h>
#include <math.h>
#include <opus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tts/tts.h"

#define HAIL_BULLETIN "tests/data/bulletins/warning-hail-orange.txt"
#define FIVE_MS (TTS_RATE / 200)

/* Everything a render gave the sink, each frame decoded again as an endpoint would. */
struct capture {
	int16_t *pcm;
	size_t samples, cap;
	size_t frames, bad_frames;
	OpusDecoder *dec;
	double start, first_frame;
	size_t sentences;
	size_t frames_at_second;	/* frames out when the second sentence went to eSpeak-NG */
	size_t abort_after;		/* frames before the sink says stop; 0 never */
	int16_t *heard;			/* the frames decoded again, as a loudspeaker plays them */
	size_t heard_samples;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int on_pcm(void *arg, const int16_t *pcm, size_t samples)
{
	struct capture *c = arg;

	if (c->samples + samples > c->cap) {
		c->cap = (c->cap + samples) * 2;
		c->pcm = realloc(c->pcm, c->cap * sizeof(*c->pcm));
		assert_non_null(c->pcm);
	}
	memcpy(c->pcm + c->samples, pcm, samples * sizeof(*pcm));
	c->samples += samples;
	return 0;
}

static int on_frame(void *arg, const unsigned char *opus, size_t len)
{
	struct capture *c = arg;
	opus_int16 out[TTS_FRAME_SAMPLES];

	if (c->frames++ == 0)
		c->first_frame = now() - c->start;
	if (opus_decode(c->dec, opus, (opus_int32)len, out, TTS_FRAME_SAMPLES, 0) !=
	    TTS_FRAME_SAMPLES) {
		c->bad_frames++;
	} else {
		c->heard = realloc(c->heard, (c->heard_samples + TTS_FRAME_SAMPLES) *
				   sizeof(*c->heard));
		assert_non_null(c->heard);
		memcpy(c->heard + c->heard_samples, out, sizeof(out));
		c->heard_samples += TTS_FRAME_SAMPLES;
	}
	return c->abort_after && c->frames >= c->abort_after;
}

static int on_sentence(void *arg, size_t index)
{
	struct capture *c = arg;

	if (index == 1)
		c->frames_at_second = c->frames;
	c->sentences++;
	return 0;
}

static void capture_init(struct capture *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->dec = opus_decoder_create(TTS_RATE, 1, &err);
	assert_int_equal(err, OPUS_OK);
	c->start = now();
}

static void capture_free(struct capture *c)
{
	opus_decoder_destroy(c->dec);
	free(c->pcm);
	free(c->heard);
}

static struct tts_sink capture_sink(struct capture *c)
{
	return (struct tts_sink){ .on_pcm = on_pcm, .on_frame = on_frame,
				  .on_sentence = on_sentence, .arg = c };
}

static double rms(const int16_t *pcm, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)pcm[i] * pcm[i];
	return sqrt(sum / n);
}

static double peak(const int16_t *pcm, size_t n)
{
	double top = 0;

	for (size_t i = 0; i < n; i++)
		top = fmax(top, fabs((double)pcm[i]));
	return top;
}

/* Every render must hand over whole frames that decode, PCM to match, and ends that fade: a
 * tone starts with a beep, so "quiet" is measured against the loudest sample. */
static void assert_well_formed(const struct capture *c)
{
	double quiet;

	assert_true(c->frames > 0);
	assert_int_equal(c->frames * TTS_FRAME_SAMPLES, c->samples);
	assert_int_equal(c->bad_frames, 0);

	quiet = peak(c->pcm, c->samples) / 10;
	assert_true(abs(c->pcm[0]) < 50);
	assert_true(rms(c->pcm, FIVE_MS) < quiet);
	assert_true(rms(c->pcm + c->samples - FIVE_MS, FIVE_MS) < quiet);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = calloc(1, 64 * 1024);
	size_t n;

	assert_non_null(f);
	assert_non_null(text);
	n = fread(text, 1, 64 * 1024 - 1, f);
	assert_true(n > 0);
	fclose(f);
	return text;
}

static int engine_open(void **state)
{
	struct tts_config cfg;
	struct tts *t;

	tts_config_default(&cfg);
	if (tts_open(&t, &cfg) != TTS_OK)
		return -1;
	*state = t;
	return 0;
}

static int engine_close(void **state)
{
	tts_close(*state);
	return 0;
}

static void short_sentence(void **state)
{
	struct capture c;
	struct tts_sink sink = capture_sink(&c);
	double seconds;

	capture_init(&c);
	assert_int_equal(tts_render(*state, "今天白天晴，最高气温二十八度。", &sink), TTS_OK);
	seconds = (double)c.samples / TTS_RATE;

	assert_well_formed(&c);
	assert_int_equal(c.sentences, 1);
	assert_true(seconds > 1.5 && seconds < 8.0);
	capture_free(&c);
}

/* The hail warning: 92 characters in two sentences, about 30 s at the default rate. */
static void whole_bulletin(void **state)
{
	char *text = read_text(HAIL_BULLETIN);
	struct capture c;
	struct tts_sink sink = capture_sink(&c);
	double seconds, total;

	capture_init(&c);
	assert_int_equal(tts_render(*state, text, &sink), TTS_OK);
	total = now() - c.start;
	seconds = (double)c.samples / TTS_RATE;
	print_message("hail bulletin: %.2f s of audio, %zu frames, first frame after %.1f ms, "
		      "rendered in %.0f ms\n", seconds, c.frames, c.first_frame * 1e3,
		      total * 1e3);

	assert_well_formed(&c);
	assert_int_equal(c.sentences, 2);
	assert_true(seconds > 22.0 && seconds < 40.0);

	/* streamed, not rendered whole and then sent */
	assert_true(c.frames_at_second > 0);
	assert_true(c.first_frame < total / 4);
	capture_free(&c);
	free(text);
}

static void bad_text(void **state)
{
	static const char *const texts[] = {
		"", "   ", " \t\n\r\n", "\u3000\u3000", "\xff\xfe", "天气\xe9\xa2",
		"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "晴\x80",
	};
	struct capture c;
	struct tts_sink sink = capture_sink(&c);

	capture_init(&c);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_int_equal(tts_render(*state, texts[i], &sink), TTS_ERR_TEXT);
	assert_int_equal(tts_render(*state, NULL, &sink), TTS_ERR_TEXT);
	assert_int_equal(c.frames, 0);
	capture_free(&c);
}

static void sink_abort(void **state)
{
	struct capture c;
	struct tts_sink sink = capture_sink(&c);

	capture_init(&c);
	c.abort_after = 3;
	assert_int_equal(tts_render(*state, "请注意防雷。请注意防风。", &sink), TTS_ERR_ABORTED);
	assert_int_equal(c.frames, 3);
	capture_free(&c);
}

static void tones(void **state)
{
	struct capture c[TTS_TONE_RED + 1];

	for (int tone = TTS_TONE_WHITE; tone <= TTS_TONE_RED; tone++) {
		struct tts_sink sink = capture_sink(&c[tone]);

		capture_init(&c[tone]);
		assert_int_equal(tts_render_tone(*state, tone, &sink), TTS_OK);
		assert_well_formed(&c[tone]);
		assert_true(c[tone].samples >= TTS_RATE);
		assert_true(rms(c[tone].pcm, c[tone].samples) > 1000.0);
	}

	/* each colour must be told apart by ear, so no two patterns may match */
	for (int a = TTS_TONE_WHITE; a <= TTS_TONE_RED; a++)
		for (int b = a + 1; b <= TTS_TONE_RED; b++)
			assert_true(c[a].samples != c[b].samples ||
				    memcmp(c[a].pcm, c[b].pcm, c[a].samples * 2) != 0);
	for (int tone = TTS_TONE_WHITE; tone <= TTS_TONE_RED; tone++)
		capture_free(&c[tone]);
}

static void tone_none_and_bad(void **state)
{
	struct capture c;
	struct tts_sink sink = capture_sink(&c);

	capture_init(&c);
	assert_int_equal(tts_render_tone(*state, TTS_TONE_NONE, &sink), TTS_OK);
	assert_int_equal(tts_render_tone(*state, (enum tts_tone)99, &sink), TTS_ERR_CONFIG);
	assert_int_equal(c.frames, 0);
	capture_free(&c);
}

static void open_rejects(void **state)
{
	struct tts_config cfg;
	struct tts *t;

	tts_config_default(&cfg);
	cfg.voice = "no-such-voice";
	assert_int_equal(tts_open(&t, &cfg), TTS_ERR_VOICE);
	assert_null(t);

	tts_config_default(&cfg);
	cfg.bitrate = 100;
	assert_int_equal(tts_open(&t, &cfg), TTS_ERR_CONFIG);
	assert_string_equal(tts_strerror(TTS_ERR_TEXT), "text is empty or not valid UTF-8");
}

/* Only that eSpeak-NG reads Chinese as Mandarin at all; the reading itself is tested elsewhere. */
static void mandarin_phonemes(void **state)
{
	const char *text = "天气预报";
	const void *p = text;
	const char *phonemes;

	assert_int_equal(espeak_SetVoiceByName("cmn"), EE_OK);
	phonemes = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, 0);
	assert_non_null(phonemes);
	assert_true(strlen(phonemes) > 4);
}

struct job {
	struct tts *t;
	struct capture c;
	enum tts_result r;
};

static void *render_job(void *arg)
{
	struct job *j = arg;
	struct tts_sink sink = capture_sink(&j->c);

	j->r = tts_render(j->t, "请注意防雷。请注意防风；切勿在树下躲雨。", &sink);
	return NULL;
}

/* Two engines at once, as the head-end does for two zones: both must come out whole. */
static void concurrent(void **state)
{
	struct tts_config cfg;
	struct job jobs[2];
	pthread_t threads[2];

	tts_config_default(&cfg);
	for (int i = 0; i < 2; i++) {
		cfg.pitch = 30 + 40 * i;
		assert_int_equal(tts_open(&jobs[i].t, &cfg), TTS_OK);
		capture_init(&jobs[i].c);
		assert_int_equal(pthread_create(&threads[i], NULL, render_job, &jobs[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(jobs[i].r, TTS_OK);
		assert_well_formed(&jobs[i].c);
		assert_int_equal(jobs[i].c.sentences, 3);
		capture_free(&jobs[i].c);
		tts_close(jobs[i].t);
	}
}

/* The engine as the head-end runs it: reading rules, the pinyin voice, the shipped lexicon. */
static int reading_open_engine(void **state)
{
	struct tts_config cfg;
	struct tts *t;
	char err[256];

	tts_config_default(&cfg);
	cfg.voice = "cmn-latn-pinyin";
	if (tts_open(&t, &cfg) != TTS_OK)
		return -1;
	if (tts_use_reading(t, "tts/data/lexicon.txt", "etc/reading-override.txt", err,
			    sizeof(err)) != TTS_OK) {
		print_error("%s\n", err);
		tts_close(t);
		return -1;
	}
	*state = t;
	return 0;
}

/* Samples at full scale: Opus at 24 kbit/s overshoots the limited input by up to 6 dB. */
static size_t clipped(const int16_t *pcm, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += pcm[i] >= 32767 || pcm[i] <= -32767;
	return k;
}

static double loudness(const int16_t *pcm, size_t n)
{
	ebur128_state *st = ebur128_init(1, TTS_RATE, EBUR128_MODE_I);
	double lufs = 0;

	assert_non_null(st);
	assert_int_equal(ebur128_add_frames_short(st, pcm, n), EBUR128_SUCCESS);
	assert_int_equal(ebur128_loudness_global(st, &lufs), EBUR128_SUCCESS);
	ebur128_destroy(&st);
	return lufs;
}

/* Every shared bulletin at the horns' level, measured on the decoded Opus as a loudspeaker
 * plays it: -16 LUFS within a loudness unit; before encoding no sample passes the limiter's
 * ceiling (-3 dBFS), and after decoding fewer than one sample in 10,000 reaches full scale. */
static void reading_loudness(void **state)
{
	DIR *d = opendir("tests/data/bulletins");
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512], *text;
		struct capture c;
		struct tts_sink sink = capture_sink(&c);
		double lufs;

		if (!strstr(e->d_name, ".txt"))
			continue;
		snprintf(path, sizeof(path), "tests/data/bulletins/%s", e->d_name);
		text = read_text(path);
		capture_init(&c);
		assert_int_equal(tts_render(*state, text, &sink), TTS_OK);
		assert_well_formed(&c);
		lufs = loudness(c.heard, c.heard_samples);
		print_message("%s: %.1f LUFS as heard, peak %.0f before and %.0f after Opus, "
			      "%zu of %zu samples at full scale\n", e->d_name, lufs,
			      peak(c.pcm, c.samples), peak(c.heard, c.heard_samples),
			      clipped(c.heard, c.heard_samples), c.heard_samples);
		assert_true(lufs > -17.0 && lufs < -15.0);
		assert_true(peak(c.pcm, c.samples) <= 32768 * pow(10, -3.0 / 20) * 1.01);
		assert_true(clipped(c.heard, c.heard_samples) * 10000 < c.heard_samples);
		capture_free(&c);
		free(text);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 12);
}

/* What tts --reading prints: normalised text, then pinyin only, per sentence. */
static void reading_lines(void **state)
{
	char *text = read_text(HAIL_BULLETIN), *out = NULL;

	assert_int_equal(tts_reading(*state, text, &out), TTS_OK);
	assert_non_null(strstr(out, "高明区气象台二零一四年五月十九日十四时四十分发布冰雹橙色预警"
				    "信号：预计未来两小时，杨和镇、明城镇将出现冰雹"));
	assert_non_null(strstr(out, "\ngao1 ming2 qu1 qi4 xiang4 tai2 er4 ling2 yi1 si4 nian2 wu3 "
				    "yue4 shi2 jiu3 ri4 shi2 si4 shi2 si4 shi2 fen1 fa1 bu4 bing1 "
				    "bao2 cheng2 se4 yu4 jing3 xin4 hao4"));
	assert_non_null(strstr(out, "yang2 he2 zhen4 ming2 cheng2 zhen4"));
	free(out);
	free(text);
	assert_int_equal(tts_reading(*state, "\xff", &out), TTS_ERR_TEXT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(short_sentence),
		cmocka_unit_test(whole_bulletin),
		cmocka_unit_test(bad_text),
		cmocka_unit_test(sink_abort),
		cmocka_unit_test(tones),
		cmocka_unit_test(tone_none_and_bad),
		cmocka_unit_test(open_rejects),
		cmocka_unit_test(mandarin_phonemes),
		cmocka_unit_test(concurrent),
		cmocka_unit_test_setup_teardown(reading_loudness, reading_open_engine,
						engine_close),
		cmocka_unit_test_setup_teardown(reading_lines, reading_open_engine, engine_close),
	};

	return cmocka_run_group_tests_name("tts", tests, engine_open, engine_close);
}
