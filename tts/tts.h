/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Text to Opus: eSpeak-NG synthesis, resampling to 48 kHz and Opus encoding, streamed frame by
 * frame to a caller's sink. Reading rules (normalisation, pinyin) live beside it in tts/; what is
 * done with the frames (pacing, sending) is the caller's business. */
#ifndef CX_TTS_H
#define CX_TTS_H

#include <stddef.h>
#include <stdint.h>

#define TTS_RATE 48000		/* Opus and output sample rate, Hz */
#define TTS_FRAME_MS 20
#define TTS_FRAME_SAMPLES (TTS_RATE / 1000 * TTS_FRAME_MS)
#define TTS_MAX_FRAME_BYTES 1275	/* largest Opus packet (RFC 6716) */

enum tts_result {
	TTS_OK = 0,
	TTS_ERR_INIT,		/* eSpeak-NG could not start (data files missing?) */
	TTS_ERR_VOICE,		/* the configured voice does not exist */
	TTS_ERR_NOMEM,
	TTS_ERR_TEXT,		/* empty or not valid UTF-8 */
	TTS_ERR_RESAMPLE,
	TTS_ERR_ENCODE,
	TTS_ERR_SYNTH,
	TTS_ERR_ABORTED,	/* a sink asked to stop */
	TTS_ERR_IO,
	TTS_ERR_CONFIG,		/* a setting or argument outside its range */
	TTS_ERR_READING,	/* the reading lexicon or override file cannot be used */
};

struct tts_config {
	const char *voice;	/* eSpeak-NG voice name, "cmn" by default */
	int rate_wpm;		/* speaking rate, words per minute (eSpeak-NG scale) */
	int pitch;		/* 0..100 */
	int bitrate;		/* Opus bit rate, bit/s */
	int fec_loss_pct;	/* expected loss that in-band FEC is tuned for, 0..100 */
	int complexity;		/* Opus encoder complexity 0..10 */
	int sentence_pause_ms;	/* silence between sentences, 0..10000 */
	/* With reading rules (tts_use_reading) only: */
	const char *latin_voice;	/* voice for Latin letters and acronyms, "en" by default */
	int clause_pause_ms;		/* after ，：, : — …; 0..10000 */
	int list_pause_ms;		/* after 、 and a slash between words */
	int bracket_pause_ms;		/* around brackets and quotation marks */
	/* Loudness: a fixed calibration of the voice, so that frames stream without waiting for
	 * the whole bulletin; a peak limiter keeps the gain from clipping. */
	double gain_db;			/* applied to speech, -20..+20 */
	double ceiling_dbfs;		/* sample peaks above this are limited, -20..0 */
};

/* Where rendered audio goes. Any callback may be NULL. All are called on the rendering
 * thread, in order; a non-zero return aborts the render with TTS_ERR_ABORTED. */
struct tts_sink {
	int (*on_pcm)(void *arg, const int16_t *pcm, size_t samples);	/* 48 kHz mono */
	/* one 20 ms frame */
	int (*on_frame)(void *arg, const unsigned char *opus, size_t len);
	void *arg;
	int (*on_sentence)(void *arg, size_t index);	/* sentence index (from 0) starts */
};

enum tts_tone {
	TTS_TONE_NONE = 0,
	TTS_TONE_WHITE, TTS_TONE_BLUE, TTS_TONE_YELLOW, TTS_TONE_ORANGE, TTS_TONE_RED,
};

struct tts;

/* Fill cfg with the defaults: voice cmn, 24 kbit/s, FEC tuned for 10 % loss, 400 ms between
 * sentences. */
void tts_config_default(struct tts_config *cfg);

/* Start an engine; eSpeak-NG itself is initialised once per process. *out is owned by the
 * caller and released with tts_close. */
__attribute__((warn_unused_result))
enum tts_result tts_open(struct tts **out, const struct tts_config *cfg);
void tts_close(struct tts *t);

/* From now on read text by our own rules (tts/reading.h): normalise numbers and units, look
 * words up in the lexicon (override may be NULL) and hand cfg.voice (cmn-latn-pinyin) tone
 * numbered pinyin, Latin letters going to cfg.latin_voice. Returns TTS_OK, or TTS_ERR_READING
 * with err naming the file and line at fault. */
__attribute__((warn_unused_result))
enum tts_result tts_use_reading(struct tts *t, const char *lexicon, const char *override,
				char *err, size_t errlen);

/* The reading of text, two lines a sentence: the normalised Chinese, then the pinyin handed to
 * eSpeak-NG. Needs tts_use_reading first. *out is the caller's to free. */
__attribute__((warn_unused_result))
enum tts_result tts_reading(struct tts *t, const char *utf8, char **out);

/* Render UTF-8 text through the sink, sentence by sentence (split at 。！？；!?; and line
 * breaks) with sentence_pause_ms of silence between. Safe to call from several threads:
 * synthesis is serialised inside because eSpeak-NG keeps global state. Returns once the last
 * frame has been delivered; the final frame is padded with silence to a whole 20 ms. */
__attribute__((warn_unused_result))
enum tts_result tts_render(struct tts *t, const char *utf8, const struct tts_sink *sink);

/* Render the alert tone that precedes a warning, about 2.5 s, pattern chosen by colour;
 * TTS_TONE_NONE renders nothing. */
__attribute__((warn_unused_result))
enum tts_result tts_render_tone(struct tts *t, enum tts_tone tone, const struct tts_sink *sink);

const char *tts_strerror(enum tts_result r);

#endif
