/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tts: render one bulletin file, optionally after its alert tone, to a WAV decoded from the very
 * Opus frames the loudspeakers get, or to an Ogg Opus file. Sending is the head-end's job. */
#include <errno.h>
#include <getopt.h>
#include <opus.h>
#include <opusenc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "headend/config.h"
#include "tts/tts.h"

#define DEFAULT_CONFIG "etc/headend.cfg"
#define WAV_HEADER_BYTES 44

struct options {
	const char *config;
	const char *output;
	const char *input;
	enum tts_tone tone;
	bool wav;
	bool reading;		/* print the reading instead of rendering */
};

/* Where the rendered audio goes, and what we learn on the way. */
struct output {
	FILE *wav;
	OpusDecoder *dec;	/* WAV: frames decoded back, as an endpoint does */
	OggOpusEnc *ogg;	/* .opus: the 48 kHz PCM encoded into an Ogg file */
	bool created;		/* a file exists that a failure must remove */
	size_t frames;
	double start, first_frame;
	char err[256];		/* why a callback stopped the render */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tts [--config FILE] [--tone white|blue|yellow|orange|red] "
		   "-o OUT.wav|OUT.opus BULLETIN_FILE\n"
		   "       tts [--config FILE] --reading BULLETIN_FILE\n"
		   "  --reading  per sentence: the normalised text, then the pinyin spoken\n");
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcasecmp(s + n - m, suffix);
}

static int parse_tone(const char *name, enum tts_tone *tone)
{
	static const char *const names[] = {
		[TTS_TONE_WHITE] = "white", [TTS_TONE_BLUE] = "blue", [TTS_TONE_YELLOW] = "yellow",
		[TTS_TONE_ORANGE] = "orange", [TTS_TONE_RED] = "red",
	};

	for (int i = TTS_TONE_WHITE; i <= TTS_TONE_RED; i++) {
		if (!strcasecmp(name, names[i])) {
			*tone = (enum tts_tone)i;
			return 0;
		}
	}
	fprintf(stderr, "tts: unknown tone colour '%s' (white, blue, yellow, orange or red)\n",
		name);
	return -1;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "tone", required_argument, NULL, 't' },
		{ "reading", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct options){ .config = DEFAULT_CONFIG };
	while ((ch = getopt_long(argc, argv, "c:o:t:rh", longs, NULL)) != -1) {
		if (ch == 'r')
			o->reading = true;
		else if (ch == 'c')
			o->config = optarg;
		else if (ch == 'o')
			o->output = optarg;
		else if (ch == 't' && parse_tone(optarg, &o->tone))
			return -1;
		else if (ch == 'h' || ch == '?')
			break;
	}
	if (ch == 'h') {
		usage(stdout);
		exit(0);
	}
	if (ch == '?' || !o->output == !o->reading || optind != argc - 1) {
		usage(ch == 'h' ? stdout : stderr);
		return -1;
	}
	o->input = argv[optind];
	return 0;
}

/* The output kind is known from its name, checked before any work is done. */
static int check_output(struct options *o)
{
	o->wav = ends_with(o->output, ".wav");
	if (o->wav || ends_with(o->output, ".opus"))
		return 0;
	fprintf(stderr, "tts: %s: unknown output type (the name must end in .wav or .opus)\n",
		o->output);
	return -1;
}

/* What is wrong with the bytes read from a bulletin, or NULL if nothing. */
static const char *bulletin_fault(FILE *f, const char *text, size_t n, size_t max)
{
	if (ferror(f))
		return "cannot be read";
	if (n > max)
		return "longer than broadcast.max_text";
	if (strlen(text) != n)
		return "contains a NUL byte";
	return NULL;
}

/* Read the whole bulletin; a leading byte-order mark is dropped, as editors on Windows add one. */
static char *read_bulletin(const char *path, size_t max, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	const char *why;
	char *text = NULL;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = calloc(1, max + 2);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}

	n = fread(text, 1, max + 1, f);
	why = bulletin_fault(f, text, n, max);
	if (why) {
		snprintf(err, errlen, "%s: %s", path, why);
		free(text);
		text = NULL;
	} else if (!strncmp(text, "\xef\xbb\xbf", 3)) {
		memmove(text, text + 3, n - 2);
	}
out:
	fclose(f);
	return text;
}

static void put_le(unsigned char *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A canonical 44-byte header for 16-bit mono PCM at 48 kHz. */
static int wav_header(FILE *f, uint32_t data_bytes)
{
	unsigned char h[WAV_HEADER_BYTES];

	memcpy(h, "RIFF", 4);
	put_le(h + 4, 36 + data_bytes, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le(h + 16, 16, 4);
	put_le(h + 20, 1, 2);			/* PCM */
	put_le(h + 22, 1, 2);			/* mono */
	put_le(h + 24, TTS_RATE, 4);
	put_le(h + 28, TTS_RATE * 2, 4);	/* bytes per second */
	put_le(h + 32, 2, 2);			/* bytes per sample frame */
	put_le(h + 34, 16, 2);
	memcpy(h + 36, "data", 4);
	put_le(h + 40, data_bytes, 4);

	if (fseek(f, 0, SEEK_SET) || fwrite(h, sizeof(h), 1, f) != 1)
		return -1;
	return fseek(f, 0, SEEK_END);
}

static int wav_open(struct output *out, const char *path)
{
	int err;

	out->wav = fopen(path, "wb");
	if (!out->wav) {
		snprintf(out->err, sizeof(out->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	out->created = true;
	out->dec = opus_decoder_create(TTS_RATE, 1, &err);
	if (!out->dec) {
		snprintf(out->err, sizeof(out->err), "Opus decoder: %s", opus_strerror(err));
		return -1;
	}

	/* sizes are filled in once the length is known */
	if (wav_header(out->wav, 0)) {
		snprintf(out->err, sizeof(out->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int ogg_open(struct output *out, const char *path, const char *title, int bitrate)
{
	OggOpusComments *tags = ope_comments_create();
	int err = OPE_ALLOC_FAIL;

	if (tags && ope_comments_add(tags, "TITLE", title) == OPE_OK)
		out->ogg = ope_encoder_create_file(path, tags, TTS_RATE, 1, 0, &err);
	if (out->ogg) {
		out->created = true;
		err = ope_encoder_ctl(out->ogg, OPUS_SET_BITRATE(bitrate));
		if (err == OPE_OK)
			err = ope_encoder_ctl(out->ogg, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	}
	if (tags)
		ope_comments_destroy(tags);
	if (err != OPE_OK)
		snprintf(out->err, sizeof(out->err), "%s: %s", path, ope_strerror(err));
	return err == OPE_OK ? 0 : -1;
}

/* WAV: decode the frame exactly as a loudspeaker would and keep what it would play. */
static int on_frame(void *arg, const unsigned char *opus, size_t len)
{
	struct output *out = arg;
	opus_int16 pcm[TTS_FRAME_SAMPLES];
	unsigned char le[sizeof(pcm)];
	int n;

	if (out->frames++ == 0)
		out->first_frame = now() - out->start;
	if (!out->wav)
		return 0;

	n = opus_decode(out->dec, opus, (opus_int32)len, pcm, TTS_FRAME_SAMPLES, 0);
	if (n < 0) {
		snprintf(out->err, sizeof(out->err), "frame %zu: %s", out->frames,
			 opus_strerror(n));
		return -1;
	}
	for (int i = 0; i < n; i++)
		put_le(le + 2 * i, (uint16_t)pcm[i], 2);
	if (fwrite(le, 2, (size_t)n, out->wav) != (size_t)n) {
		snprintf(out->err, sizeof(out->err), "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Ogg Opus: libopusenc encodes the 48 kHz PCM again, at the configured bit rate. */
static int on_pcm(void *arg, const int16_t *pcm, size_t samples)
{
	struct output *out = arg;
	int err;

	if (!out->ogg)
		return 0;
	err = ope_encoder_write(out->ogg, pcm, (int)samples);
	if (err != OPE_OK) {
		snprintf(out->err, sizeof(out->err), "Ogg Opus: %s", ope_strerror(err));
		return -1;
	}
	return 0;
}

/* Complete the file: the WAV sizes, or the last Ogg pages. */
static int output_finish(struct output *out)
{
	uint32_t bytes = (uint32_t)(out->frames * TTS_FRAME_SAMPLES * 2);
	int err;

	if (out->wav && (wav_header(out->wav, bytes) || fflush(out->wav))) {
		snprintf(out->err, sizeof(out->err), "write: %s", strerror(errno));
		return -1;
	}
	if (out->ogg) {
		err = ope_encoder_drain(out->ogg);
		if (err != OPE_OK) {
			snprintf(out->err, sizeof(out->err), "Ogg Opus: %s", ope_strerror(err));
			return -1;
		}
	}
	return 0;
}

/* Release everything; a fclose that fails loses data, so it counts as an error. */
static int output_close(struct output *out)
{
	int rc = 0;

	if (out->wav && fclose(out->wav)) {
		snprintf(out->err, sizeof(out->err), "write: %s", strerror(errno));
		rc = -1;
	}
	if (out->dec)
		opus_decoder_destroy(out->dec);
	if (out->ogg)
		ope_encoder_destroy(out->ogg);
	out->wav = NULL;
	out->dec = NULL;
	out->ogg = NULL;
	return rc;
}

static enum tts_result render(struct tts *t, const struct options *o, const char *text,
			      struct output *out)
{
	struct tts_sink sink = { .on_pcm = on_pcm, .on_frame = on_frame, .arg = out };
	enum tts_result r = TTS_OK;

	out->start = now();
	if (o->tone != TTS_TONE_NONE)
		r = tts_render_tone(t, o->tone, &sink);
	if (r == TTS_OK)
		r = tts_render(t, text, &sink);
	return r;
}

/* Render the bulletin into the opened output; 0, or -1 with a message printed. */
static int run(struct tts *t, const struct options *o, const char *text, struct output *out)
{
	enum tts_result r = render(t, o, text, out);
	double took = now() - out->start;

	if (r != TTS_OK) {
		fprintf(stderr, "tts: %s: %s%s%s\n", o->input, tts_strerror(r),
			out->err[0] ? ": " : "", out->err);
		return -1;
	}
	if (output_finish(out)) {
		fprintf(stderr, "tts: %s: %s\n", o->output, out->err);
		return -1;
	}
	fprintf(stderr, "%s: %.2f s of audio, %zu frames, rendered in %.2f s, "
		"first frame after %.1f ms\n", o->output,
		(double)out->frames * TTS_FRAME_MS / 1000, out->frames, took,
		out->first_frame * 1000);
	return 0;
}

static int open_all(const struct options *o, struct headend_config *cfg, char **text,
		    struct tts **t, struct output *out)
{
	char err[CONFIG_STR_MAX + PATH_MAX];
	enum tts_result r;

	if (config_load(cfg, o->config, err, sizeof(err))) {
		fprintf(stderr, "tts: %s\n", err);
		return -1;
	}
	*text = read_bulletin(o->input, cfg->max_text, err, sizeof(err));
	if (!*text) {
		fprintf(stderr, "tts: %s\n", err);
		return -1;
	}

	r = tts_open(t, &cfg->tts);
	if (r == TTS_ERR_VOICE)
		fprintf(stderr, "tts: %s: tts.voice \"%s\": %s\n", o->config, cfg->tts.voice,
			tts_strerror(r));
	else if (r != TTS_OK)
		fprintf(stderr, "tts: %s\n", tts_strerror(r));
	if (r != TTS_OK)
		return -1;
	if (cfg->lexicon[0] && tts_use_reading(*t, cfg->lexicon, cfg->reading_override[0] ?
					       cfg->reading_override : NULL, err, sizeof(err))) {
		fprintf(stderr, "tts: %s: %s\n", o->config, err);
		return -1;
	}
	if (o->reading)
		return 0;
	if (o->wav ? wav_open(out, o->output) : ogg_open(out, o->output, o->input,
							   cfg->tts.bitrate)) {
		fprintf(stderr, "tts: %s\n", out->err);
		return -1;
	}
	return 0;
}

/* tts --reading: what the head-end will hand eSpeak-NG, for checking a bulletin by eye. */
static int print_reading(const struct options *o, struct headend_config *cfg)
{
	struct output none = { 0 };
	struct tts *t = NULL;
	char *text = NULL, *lines = NULL;
	enum tts_result r;
	int rc = 1;

	if (open_all(o, cfg, &text, &t, &none))
		goto out;
	if (!cfg->lexicon[0]) {
		fprintf(stderr, "tts: %s: tts.lexicon is empty, so there are no reading rules\n",
			o->config);
		goto out;
	}
	r = tts_reading(t, text, &lines);
	if (r != TTS_OK) {
		fprintf(stderr, "tts: %s: %s\n", o->input, tts_strerror(r));
		goto out;
	}
	fputs(lines, stdout);
	rc = 0;
out:
	free(lines);
	free(text);
	tts_close(t);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct headend_config cfg;
	struct output out = { 0 };
	struct tts *t = NULL;
	char *text = NULL;
	int rc = 1;

	if (parse_args(argc, argv, &o) || (!o.reading && check_output(&o)))
		return 2;
	if (o.reading)
		return print_reading(&o, &cfg);
	if (open_all(&o, &cfg, &text, &t, &out) == 0 && run(t, &o, text, &out) == 0)
		rc = 0;

	/* a half-written file would only mislead whoever listens to it */
	if (output_close(&out) && rc == 0) {
		fprintf(stderr, "tts: %s: %s\n", o.output, out.err);
		rc = 1;
	}
	if (rc != 0 && out.created)
		unlink(o.output);
	tts_close(t);
	free(text);
	return rc;
}
