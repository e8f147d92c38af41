/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Text and alert tones to 20 ms Opus frames: eSpeak-NG speaks one sentence at a time, soxr lifts
 * its output to 48 kHz and libopus encodes it. Reading rules and what becomes of the frames are
 * left to others. */
#include "tts/tts.h"
#include "tts/reading.h"

#include <espeak-ng/speak_lib.h>
#include <math.h>
#include <opus.h>
#include <pthread.h>
#include <soxr.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define ESPEAK_BUFFER_MS 50	/* short, so the first frame leaves while a sentence is spoken */
#define FADE_SAMPLES (TTS_RATE / 100)	/* 10 ms ramps at both ends of a render */
#define RESAMPLE_CHUNK 2048
#define PAUSE_MAX_MS 10000

#define TONE_MS 2500		/* the whole tone, trailing silence included */
#define TONE_BEEPS_MS 2200	/* beeps must end by here, leaving a gap before the speech */
#define TONE_LEVEL 0.5		/* -6 dBFS leaves headroom for the encoder */
#define BEEP_RAMP_MS 10.0

static pthread_once_t espeak_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t espeak_lock = PTHREAD_MUTEX_INITIALIZER;
static int espeak_rate;		/* Hz eSpeak-NG produces, or -1 when it could not start */

struct tts {
	struct tts_config cfg;
	char *voice, *latin_voice;	/* our copies; cfg points here */
	struct reading *reading;	/* NULL: text goes to the voice as written */
};

/* One render in progress. Kept per call so that two threads only meet inside eSpeak-NG. */
struct render {
	const struct tts_sink *sink;
	OpusEncoder *enc;
	soxr_t rs;		/* NULL for tones, which are made at 48 kHz */
	int16_t held[TTS_FRAME_SAMPLES + FADE_SAMPLES];	/* the newest 10 ms wait for the end */
	size_t fill;
	size_t sent;		/* samples already given to the sink */
	float gain, ceiling;	/* speech only: calibration gain and limiter ceiling, linear */
	float limit;		/* the limiter's gain now, 0..1 */
	enum tts_result err;
};

/* Beeps alternate between two pitches; faster and higher means more urgent. */
struct tone_pattern {
	double freq[2];
	int on_ms, off_ms;
};

static const struct tone_pattern tone_patterns[] = {
	[TTS_TONE_WHITE] = { { 600, 600 }, 600, 400 },
	[TTS_TONE_BLUE] = { { 700, 880 }, 400, 250 },
	[TTS_TONE_YELLOW] = { { 900, 900 }, 250, 150 },
	[TTS_TONE_ORANGE] = { { 1100, 1400 }, 150, 80 },
	[TTS_TONE_RED] = { { 1500, 1500 }, 80, 50 },
};

static int synth_chunk(short *wav, int samples, espeak_EVENT *events);

void tts_config_default(struct tts_config *cfg)
{
	*cfg = (struct tts_config){
		.voice = "cmn",
		/* slower than eSpeak-NG's 175: listeners are often elderly, outdoors, at a horn */
		.rate_wpm = 150,
		.pitch = 50,
		.bitrate = 24000,
		.fec_loss_pct = 10,
		.complexity = 9,
		.sentence_pause_ms = 400,
		.latin_voice = "en",
		.clause_pause_ms = 200,
		.list_pause_ms = 120,
		.bracket_pause_ms = 60,
		/* measured: eSpeak-NG's cmn-latn-pinyin at rate 150 reads the shared bulletins at
		 * about -20 LUFS; this brings them to -16.0 +- 0.2 LUFS as decoded from Opus,
		 * which overshoots the limited peaks by up to 6 dB (bench/loudness.sh) */
		.gain_db = 5.5,
		.ceiling_dbfs = -3.0,
	};
}

/* Without DONT_EXIT eSpeak-NG ends the process when its data files are missing. */
static void espeak_start(void)
{
	int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, ESPEAK_BUFFER_MS, NULL,
				     espeakINITIALIZE_DONT_EXIT);

	if (rate > 0)
		espeak_SetSynthCallback(synth_chunk);
	espeak_rate = rate > 0 ? rate : -1;
}

static bool config_valid(const struct tts_config *c)
{
	return c->voice && c->voice[0] &&
	       c->rate_wpm >= espeakRATE_MINIMUM && c->rate_wpm <= espeakRATE_MAXIMUM &&
	       c->pitch >= 0 && c->pitch <= 100 &&
	       c->bitrate >= 6000 && c->bitrate <= 510000 &&
	       c->fec_loss_pct >= 0 && c->fec_loss_pct <= 100 &&
	       c->complexity >= 0 && c->complexity <= 10 &&
	       c->sentence_pause_ms >= 0 && c->sentence_pause_ms <= PAUSE_MAX_MS &&
	       c->clause_pause_ms >= 0 && c->clause_pause_ms <= PAUSE_MAX_MS &&
	       c->list_pause_ms >= 0 && c->list_pause_ms <= PAUSE_MAX_MS &&
	       c->bracket_pause_ms >= 0 && c->bracket_pause_ms <= PAUSE_MAX_MS &&
	       c->gain_db >= -20 && c->gain_db <= 20 && c->ceiling_dbfs >= -20 &&
	       c->ceiling_dbfs <= 0 && c->latin_voice;
}

/* espeak_SetVoiceByName falls back to a default voice for names it does not know, so the
 * check is against the list of installed voices: their names or identifiers ("sit/cmn"). */
static bool voice_exists(const char *name)
{
	const espeak_VOICE **v;
	bool found = false;

	pthread_mutex_lock(&espeak_lock);
	for (v = espeak_ListVoices(NULL); v && *v && !found; v++) {
		const char *id = (*v)->identifier, *base = id ? strrchr(id, '/') : NULL;

		found = ((*v)->name && !strcasecmp((*v)->name, name)) ||
			(id && !strcasecmp(base ? base + 1 : id, name));
	}
	pthread_mutex_unlock(&espeak_lock);
	return found;
}

enum tts_result tts_open(struct tts **out, const struct tts_config *cfg)
{
	struct tts *t;

	*out = NULL;
	pthread_once(&espeak_once, espeak_start);
	if (espeak_rate <= 0)
		return TTS_ERR_INIT;
	if (!config_valid(cfg))
		return TTS_ERR_CONFIG;

	/* a misspelt voice should stop the head-end at start-up, not at the first warning */
	if (!voice_exists(cfg->voice))
		return TTS_ERR_VOICE;

	t = calloc(1, sizeof(*t));
	if (!t)
		return TTS_ERR_NOMEM;
	t->voice = strdup(cfg->voice);
	t->latin_voice = strdup(cfg->latin_voice);
	if (!t->voice || !t->latin_voice) {
		tts_close(t);
		return TTS_ERR_NOMEM;
	}
	t->cfg = *cfg;
	t->cfg.voice = t->voice;
	t->cfg.latin_voice = t->latin_voice;
	*out = t;
	return TTS_OK;
}

void tts_close(struct tts *t)
{
	if (!t)
		return;
	reading_close(t->reading);
	free(t->voice);
	free(t->latin_voice);
	free(t);
}

/* Length of the valid UTF-8 sequence at s, or 0: no overlong forms, surrogates or > U+10FFFF. */
static size_t utf8_char(const unsigned char *s)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n = s[0] < 0x80 ? 1 : s[0] < 0xc0 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 :
		   s[0] < 0xf8 ? 4 : 0;
	uint32_t cp = s[0] & (0x7f >> n);

	if (n <= 1)
		return n;

	/* a NUL is not a continuation byte, so a cut sequence stops here too */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool utf8_valid(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s) {
		size_t n = utf8_char(s);

		if (!n)
			return false;
		s += n;
	}
	return true;
}

/* Bytes of the space at s, counting the no-break and ideographic spaces; 0 if none. */
static size_t space_len(const char *s)
{
	if (*s && strchr(" \t\n\v\f\r", *s))
		return 1;
	if (!strncmp(s, "\u00a0", 2))
		return 2;
	if (!strncmp(s, "\u3000", 3))
		return 3;
	return 0;
}

static bool text_blank(const char *s)
{
	size_t n;

	while ((n = space_len(s)))
		s += n;
	return !*s;
}

/* Bytes of the sentence end at s (closing quotes and brackets go with it), or 0. */
static size_t sentence_mark(const char *s, bool closers)
{
	static const char *const ends[] = { "。", "！", "？", "；", "!", "?", ";", "\n", "\r" };
	static const char *const after[] = { "”", "’", "」", "』", "）", ")", "\"" };
	const char *const *set = closers ? after : ends;
	size_t count = closers ? ARRAY_LEN(after) : ARRAY_LEN(ends);

	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(set[i]);

		if (!strncmp(s, set[i], n))
			return n;
	}
	return 0;
}

/* Length of the sentence at s with its closing marks. Marks all begin with a lead or ASCII byte,
 * so stepping byte by byte cannot match inside a character. */
static size_t sentence_len(const char *s)
{
	size_t n = 0, m;

	while (s[n] && !sentence_mark(s + n, false))
		n++;
	while ((m = sentence_mark(s + n, false)) || (m = sentence_mark(s + n, true)))
		n += m;
	return n;
}

static int16_t to_int16(float x)
{
	long v = lrintf(x * 32768.0f);

	return (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
}

/* Ramp up the part of a frame that falls in the first 10 ms of the render. */
static void fade_in(int16_t *pcm, size_t first)
{
	for (size_t i = 0; i < TTS_FRAME_SAMPLES && first + i < FADE_SAMPLES; i++)
		pcm[i] = (int16_t)(pcm[i] * (float)(first + i) / FADE_SAMPLES);
}

/* Ramp down to zero over the last 10 ms, or over all of it when the render is shorter. */
static void fade_out(int16_t *pcm, size_t len)
{
	size_t n = len < FADE_SAMPLES ? len : FADE_SAMPLES;
	int16_t *tail = pcm + len - n;

	for (size_t i = 0; i < n; i++)
		tail[i] = (int16_t)(tail[i] * (float)(n - 1 - i) / n);
}

static int encoder_tune(OpusEncoder *enc, const struct tts_config *c)
{
	int e = opus_encoder_ctl(enc, OPUS_SET_BITRATE(c->bitrate));

	if (e == OPUS_OK)
		e = opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
	if (e == OPUS_OK)
		e = opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(c->fec_loss_pct));
	if (e == OPUS_OK)
		e = opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(c->complexity));
	if (e == OPUS_OK)
		e = opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	return e;
}

/* Set up r; speech also needs the resampler. render_close undoes even a half-done open. */
static enum tts_result render_open(struct render *r, const struct tts *t,
				   const struct tts_sink *sink, bool speech)
{
	soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_FLOAT32_I);
	soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
	soxr_error_t serr = NULL;
	int oerr;

	memset(r, 0, sizeof(*r));
	r->sink = sink;
	r->enc = opus_encoder_create(TTS_RATE, 1, OPUS_APPLICATION_VOIP, &oerr);
	if (!r->enc)
		return oerr == OPUS_ALLOC_FAIL ? TTS_ERR_NOMEM : TTS_ERR_ENCODE;
	if (encoder_tune(r->enc, &t->cfg) != OPUS_OK)
		return TTS_ERR_ENCODE;
	if (!speech)
		return TTS_OK;

	r->gain = (float)pow(10, t->cfg.gain_db / 20);
	r->ceiling = (float)pow(10, t->cfg.ceiling_dbfs / 20);
	r->limit = 1;

	/* float out of soxr, so clipping to int16 happens once, in render_push */
	r->rs = soxr_create(espeak_rate, TTS_RATE, 1, &serr, &io, &q, NULL);
	return r->rs ? TTS_OK : TTS_ERR_RESAMPLE;
}

static void render_close(struct render *r)
{
	if (r->rs)
		soxr_delete(r->rs);
	if (r->enc)
		opus_encoder_destroy(r->enc);
}

/* Give the sink the oldest 20 ms in held, as PCM and as one Opus frame. */
static void render_emit(struct render *r)
{
	const struct tts_sink *s = r->sink;
	unsigned char pkt[TTS_MAX_FRAME_BYTES];
	opus_int32 len;

	fade_in(r->held, r->sent);
	r->sent += TTS_FRAME_SAMPLES;
	if (s->on_pcm && s->on_pcm(s->arg, r->held, TTS_FRAME_SAMPLES)) {
		r->err = TTS_ERR_ABORTED;
		return;
	}

	len = opus_encode(r->enc, r->held, TTS_FRAME_SAMPLES, pkt, sizeof(pkt));
	if (len < 0) {
		r->err = TTS_ERR_ENCODE;
		return;
	}
	if (s->on_frame && s->on_frame(s->arg, pkt, (size_t)len))
		r->err = TTS_ERR_ABORTED;
}

/* Drop the frame just emitted, keeping what came after it. */
static void render_shift(struct render *r)
{
	size_t keep = r->fill > TTS_FRAME_SAMPLES ? r->fill - TTS_FRAME_SAMPLES : 0;

	memmove(r->held, r->held + TTS_FRAME_SAMPLES, keep * sizeof(r->held[0]));
	r->fill = keep;
}

/* Add 48 kHz audio; a frame leaves only once 10 ms more is waiting behind it, because that
 * 10 ms may turn out to be the end, which must fade. */
static void render_push(struct render *r, const float *x, size_t n)
{
	for (size_t i = 0; i < n && r->err == TTS_OK; i++) {
		r->held[r->fill++] = to_int16(x[i]);
		if (r->fill < ARRAY_LEN(r->held))
			continue;
		render_emit(r);
		render_shift(r);
	}
}

/* Feed eSpeak-NG's PCM through the resampler; in == NULL flushes what soxr still holds. */
/* Calibration gain, then a peak limiter: a sample that would pass the ceiling pulls the gain
 * down at once; the gain recovers over about 80 ms, so speech is not pumped word by word. */
static void render_level(struct render *r, float *x, size_t n)
{
	const float recover = 1.0f / (0.080f * TTS_RATE);

	for (size_t i = 0; i < n; i++) {
		float y = x[i] * r->gain, a = fabsf(y) * r->limit;

		if (a > r->ceiling)
			r->limit *= r->ceiling / a;
		else if (r->limit < 1)
			r->limit = fminf(1, r->limit + recover * (1 - r->limit) * 8);
		x[i] = y * r->limit;
	}
}

static void render_resample(struct render *r, const int16_t *in, size_t n)
{
	float out[RESAMPLE_CHUNK];
	size_t used, made;

	do {
		if (soxr_process(r->rs, in, n, &used, out, ARRAY_LEN(out), &made)) {
			r->err = TTS_ERR_RESAMPLE;
			return;
		}
		render_level(r, out, made);
		render_push(r, out, made);

		if (in)
			in += used;
		n -= used;
	} while (r->err == TTS_OK && (made == ARRAY_LEN(out) || (n > 0 && used > 0)));
}

/* Silence goes in before the resampler so it lands after the sentence's own tail. */
static void render_pause(struct render *r, int ms)
{
	static const int16_t zeros[1024];
	size_t left = (size_t)ms * (size_t)espeak_rate / 1000;

	while (left > 0 && r->err == TTS_OK) {
		size_t n = left < ARRAY_LEN(zeros) ? left : ARRAY_LEN(zeros);

		render_resample(r, zeros, n);
		left -= n;
	}
}

/* Flush, fade the end and pad the last frame with silence. */
static void render_finish(struct render *r)
{
	if (r->rs && r->err == TTS_OK)
		render_resample(r, NULL, 0);
	if (r->err != TTS_OK)
		return;

	fade_out(r->held, r->fill);
	while (r->fill > 0 && r->err == TTS_OK) {
		size_t gap = r->fill < TTS_FRAME_SAMPLES ? TTS_FRAME_SAMPLES - r->fill : 0;

		memset(r->held + r->fill, 0, gap * sizeof(r->held[0]));
		render_emit(r);
		render_shift(r);
	}
}

/* eSpeak-NG hands over each short buffer here, with our render in the events' user_data. */
static int synth_chunk(short *wav, int samples, espeak_EVENT *events)
{
	struct render *r = events ? events->user_data : NULL;

	if (!r)
		return 1;
	if (wav && samples > 0)
		render_resample(r, wav, (size_t)samples);
	return r->err != TTS_OK;
}

/* The voice and parameters are global to eSpeak-NG, so they are set again under the lock in
 * case another engine spoke in between. */
static void render_sentence(struct render *r, const struct tts *t, const char *voice,
			    const char *text)
{
	espeak_ERROR e;

	pthread_mutex_lock(&espeak_lock);
	if (espeak_SetVoiceByName(voice) != EE_OK) {
		r->err = TTS_ERR_VOICE;
		goto out;
	}
	e = espeak_SetParameter(espeakRATE, t->cfg.rate_wpm, 0);
	if (e == EE_OK)
		e = espeak_SetParameter(espeakPITCH, t->cfg.pitch, 0);

	/* without espeakENDPAUSE eSpeak-NG adds no pause of its own; ours follows */
	if (e == EE_OK)
		e = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
				 NULL, r);
	if (e != EE_OK && r->err == TTS_OK)
		r->err = TTS_ERR_SYNTH;
out:
	pthread_mutex_unlock(&espeak_lock);
}

/* Speak each non-blank sentence of text, using buf (as large as text) for its copy. */
static void render_text(struct render *r, const struct tts *t, const char *text, char *buf)
{
	const struct tts_sink *s = r->sink;
	size_t nth = 0;

	while (*text && r->err == TTS_OK) {
		size_t n = sentence_len(text);

		/* eSpeak-NG wants a NUL-terminated string */
		memcpy(buf, text, n);
		buf[n] = '\0';
		text += n;
		if (text_blank(buf))
			continue;

		if (nth > 0)
			render_pause(r, t->cfg.sentence_pause_ms);
		if (r->err == TTS_OK && s->on_sentence && s->on_sentence(s->arg, nth))
			r->err = TTS_ERR_ABORTED;
		if (r->err == TTS_OK)
			render_sentence(r, t, t->voice, buf);
		nth++;
	}
}

/* With reading rules: speak each segment with its voice, pauses as our own silence. */
static void render_segments(struct render *r, const struct tts *t, const char *text)
{
	const struct tts_sink *s = r->sink;
	struct reading_pauses p = {
		.sentence_ms = (unsigned)t->cfg.sentence_pause_ms,
		.clause_ms = (unsigned)t->cfg.clause_pause_ms,
		.list_ms = (unsigned)t->cfg.list_pause_ms,
		.bracket_ms = (unsigned)t->cfg.bracket_pause_ms,
	};
	struct reading_segment *seg;
	size_t n, nth = 0;

	if (reading_segments(t->reading, text, &p, &seg, &n) != READING_OK) {
		r->err = TTS_ERR_NOMEM;
		return;
	}
	for (size_t i = 0; i < n && r->err == TTS_OK; i++) {
		if (seg[i].kind == READING_PAUSE) {
			render_pause(r, (int)seg[i].pause_ms);
			continue;
		}
		if (s->on_sentence && s->on_sentence(s->arg, nth++)) {
			r->err = TTS_ERR_ABORTED;
			break;
		}
		render_sentence(r, t, seg[i].kind == READING_LATIN ? t->latin_voice : t->voice,
				seg[i].text);
	}
	reading_segments_free(seg, n);
}

enum tts_result tts_use_reading(struct tts *t, const char *lexicon, const char *override,
				char *err, size_t errlen)
{
	struct reading *r;

	if (!voice_exists(t->cfg.latin_voice)) {
		snprintf(err, errlen, "no such eSpeak-NG voice for Latin letters: %s",
			 t->cfg.latin_voice);
		return TTS_ERR_VOICE;
	}
	if (reading_open(&r, lexicon, override, err, errlen) != READING_OK)
		return TTS_ERR_READING;
	reading_close(t->reading);
	t->reading = r;
	return TTS_OK;
}

static int append(char **buf, size_t *len, const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = realloc(*buf, *len + n + 1);

	if (!p)
		return -1;
	*buf = p;
	*len += (size_t)snprintf(p + *len, n + 1, "%s\n%s\n", a, b);
	return 0;
}

enum tts_result tts_reading(struct tts *t, const char *utf8, char **out)
{
	struct reading_sentence *s;
	size_t n, len = 0;
	enum tts_result res = TTS_OK;
	char *buf = NULL;

	*out = NULL;
	if (!t->reading)
		return TTS_ERR_READING;
	if (!utf8 || !utf8_valid(utf8) || text_blank(utf8))
		return TTS_ERR_TEXT;
	if (reading_sentences(t->reading, utf8, &s, &n) != READING_OK)
		return TTS_ERR_NOMEM;
	for (size_t i = 0; i < n && res == TTS_OK; i++)
		if (append(&buf, &len, s[i].text, s[i].pinyin))
			res = TTS_ERR_NOMEM;
	reading_sentences_free(s, n);
	if (res == TTS_OK && !buf)
		buf = strdup("");
	if (res != TTS_OK || !buf) {
		free(buf);
		return res != TTS_OK ? res : TTS_ERR_NOMEM;
	}
	*out = buf;
	return TTS_OK;
}

enum tts_result tts_render(struct tts *t, const char *utf8, const struct tts_sink *sink)
{
	struct render r;
	char *buf = NULL;
	enum tts_result res;

	if (!utf8 || !utf8_valid(utf8) || text_blank(utf8))
		return TTS_ERR_TEXT;
	res = render_open(&r, t, sink, true);
	if (res != TTS_OK)
		goto out;

	buf = malloc(strlen(utf8) + 1);
	if (!buf) {
		res = TTS_ERR_NOMEM;
		goto out;
	}
	if (t->reading)
		render_segments(&r, t, utf8);
	else
		render_text(&r, t, utf8, buf);
	render_finish(&r);
	res = r.err;
out:
	free(buf);
	render_close(&r);
	return res;
}

/* Sample i of a tone: beeps with 10 ms ramps so each one starts and stops without a click. */
static double tone_sample(const struct tone_pattern *p, size_t i)
{
	double ms = i * 1000.0 / TTS_RATE;
	int period = p->on_ms + p->off_ms;
	int beep = (int)(ms / period);
	double at = ms - (double)beep * period;
	double env;

	if (at >= p->on_ms || (double)beep * period + p->on_ms > TONE_BEEPS_MS)
		return 0.0;
	env = fmin(1.0, fmin(at, p->on_ms - at) / BEEP_RAMP_MS);
	return TONE_LEVEL * env * sin(2.0 * M_PI * p->freq[beep % 2] * i / TTS_RATE);
}

enum tts_result tts_render_tone(struct tts *t, enum tts_tone tone, const struct tts_sink *sink)
{
	const size_t total = (size_t)TONE_MS * TTS_RATE / 1000;
	float block[TTS_FRAME_SAMPLES];
	struct render r;
	enum tts_result res;

	if (tone == TTS_TONE_NONE)
		return TTS_OK;
	if (tone < TTS_TONE_WHITE || tone > TTS_TONE_RED)
		return TTS_ERR_CONFIG;
	res = render_open(&r, t, sink, false);
	if (res != TTS_OK)
		goto out;

	for (size_t i = 0; i < total && r.err == TTS_OK; i += ARRAY_LEN(block)) {
		for (size_t k = 0; k < ARRAY_LEN(block); k++)
			block[k] = (float)tone_sample(&tone_patterns[tone], i + k);
		render_push(&r, block, ARRAY_LEN(block));
	}
	render_finish(&r);
	res = r.err;
out:
	render_close(&r);
	return res;
}

const char *tts_strerror(enum tts_result r)
{
	switch (r) {
	case TTS_OK: return "success";
	case TTS_ERR_INIT: return "eSpeak-NG could not start (are its data files installed?)";
	case TTS_ERR_VOICE: return "no such eSpeak-NG voice";
	case TTS_ERR_NOMEM: return "out of memory";
	case TTS_ERR_TEXT: return "text is empty or not valid UTF-8";
	case TTS_ERR_RESAMPLE: return "resampling failed";
	case TTS_ERR_ENCODE: return "Opus encoding failed";
	case TTS_ERR_SYNTH: return "speech synthesis failed";
	case TTS_ERR_ABORTED: return "stopped by the receiver";
	case TTS_ERR_IO: return "input/output error";
	case TTS_ERR_READING: return "reading rules not loaded or not usable";
	case TTS_ERR_CONFIG: return "a setting or argument is out of range";
	}
	return "unknown error";
}
