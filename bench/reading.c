/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_reading: how well and how fast bulletins are read. Prints the share of syllables that
 * match tests/data/gold, lexicon load time, normaliser+lexicon time per bulletin, and how often
 * eSpeak-NG switches to English on the shared bulletins, raw (voice cmn) and through the
 * reader. */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <espeak-ng/speak_lib.h>

#include "tts/reading.h"

#ifndef CX_SOURCE_DIR
#define CX_SOURCE_DIR "."
#endif

#define LOAD_RUNS 20
#define READ_RUNS 20

struct tally {
	long syllables, matched;
	double ms;
	int bulletins;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
			buf[len] = '\0';
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* Split s in place at blanks and line breaks; *n tokens. */
static char **tokens(char *s, size_t *n)
{
	size_t cap = 64;
	char **v = malloc(cap * sizeof *v);

	*n = 0;
	while (v && *s) {
		s += strspn(s, " \n");
		if (!*s)
			break;
		if (*n == cap) {
			char **w = realloc(v, (cap *= 2) * sizeof *v);

			if (!w)
				break;
			v = w;
		}
		v[(*n)++] = s;
		s += strcspn(s, " \n");
		if (*s)
			*s++ = '\0';
	}
	return v;
}

/* Syllables of want that got matches in order: the longest common subsequence, so that one
 * missing or extra syllable costs one and does not shift the rest. */
static long matched(char **got, size_t ng, char **want, size_t nw)
{
	long *row = calloc((nw + 1) * 2, sizeof *row), best;
	long *prev = row, *cur = row + nw + 1;

	if (!row)
		return 0;
	for (size_t i = 1; i <= ng; i++) {
		for (size_t j = 1; j <= nw; j++) {
			if (strcmp(got[i - 1], want[j - 1]) == 0)
				cur[j] = prev[j - 1] + 1;
			else
				cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
		}
		long *t = prev;

		prev = cur;
		cur = t;
	}
	best = prev[nw];
	free(row);
	return best;
}

/* The reader's eSpeak-NG lines for text, joined; NULL on failure. */
static char *read_lines(const struct reading *r, const char *text)
{
	struct reading_sentence *s;
	size_t n, len = 0, at = 0, k;
	char *out;

	if (reading_sentences(r, text, &s, &n) != READING_OK)
		return NULL;
	for (k = 0; k < n; k++)
		len += strlen(s[k].pinyin) + 1;
	out = malloc(len + 1);
	for (k = 0; out && k < n; k++) {
		size_t l = strlen(s[k].pinyin);

		memcpy(out + at, s[k].pinyin, l);
		out[at + l] = '\n';
		at += l + 1;
	}
	if (out)
		out[at] = '\0';
	reading_sentences_free(s, n);
	return out;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of runs, because the machine is shared and a mean would measure the neighbours. */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double time_segments(const struct reading *r, const char *text)
{
	struct reading_segment *seg;
	double runs[READ_RUNS], t0;
	size_t n;

	for (int k = 0; k < READ_RUNS; k++) {
		t0 = now_ms();
		if (reading_segments(r, text, NULL, &seg, &n) == READING_OK)
			reading_segments_free(seg, n);
		runs[k] = now_ms() - t0;
	}
	return median(runs, READ_RUNS);
}

/* Compare one gold bulletin; mismatching sentences are printed when verbose. */
static void gold_one(const struct reading *r, const char *txt, struct tally *t, int verbose)
{
	char pinyin[4096], *text = slurp(txt), *want, *got;
	char **gv = NULL, **wv = NULL;
	size_t ng, nw;
	long m;

	want = snprintf(pinyin, sizeof pinyin, "%.*s.pinyin", (int)(strlen(txt) - 4), txt) <
	       (int)sizeof pinyin ? slurp(pinyin) : NULL;
	got = text ? read_lines(r, text) : NULL;
	if (!want || !got) {
		fprintf(stderr, "bench_reading: cannot read %s or its .pinyin\n", txt);
		goto out;
	}
	t->ms += time_segments(r, text);
	gv = tokens(got, &ng);
	wv = tokens(want, &nw);
	m = matched(gv, ng, wv, nw);
	if (verbose && (m != (long)nw || ng != nw))
		printf("  %s: %ld of %zu syllables match (%zu read)\n", txt, m, nw, ng);
	t->syllables += (long)nw;
	t->matched += m;
	t->bulletins++;
out:
	free(gv);
	free(wv);
	free(text);
	free(want);
	free(got);
}

static int gold_all(const struct reading *r, const char *dir, struct tally *t, int verbose)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "bench_reading: %s: cannot open\n", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 4 || strcmp(de->d_name + len - 4, ".txt") != 0)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
			gold_one(r, path, t, verbose);
	}
	closedir(d);
	return 0;
}

/* Language switches eSpeak-NG makes on text with the current voice ("(en)" and the like). */
static int switches(const char *text)
{
	const void *p = text;
	int n = 0;

	while (p) {
		const char *ph = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, 0);

		for (; ph && (ph = strchr(ph, '(')) != NULL; ph++)
			n += strncmp(ph, "(cmn)", 5) != 0;
	}
	return n;
}

static int reader_switches(const struct reading *r, const char *text)
{
	struct reading_segment *seg;
	size_t n;
	int count = 0;

	if (reading_segments(r, text, NULL, &seg, &n) != READING_OK)
		return -1;
	for (size_t k = 0; k < n; k++)
		if (seg[k].kind == READING_PINYIN)
			count += switches(seg[k].text);
	reading_segments_free(seg, n);
	return count;
}

/* English fallbacks on the shared bulletins: raw text with voice cmn, then the reader's pinyin
 * with voice cmn-latn-pinyin. */
static void fallbacks(const struct reading *r, const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	int raw = 0, ours = 0, files = 0;

	if (!d || espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, 0) < 0)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *text;

		if (len < 4 || strcmp(de->d_name + len - 4, ".txt") != 0)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
			continue;
		text = slurp(path);
		if (!text)
			continue;
		espeak_SetVoiceByName("cmn");
		raw += switches(text);
		espeak_SetVoiceByName("cmn-latn-pinyin");
		ours += reader_switches(r, text);
		files++;
		free(text);
	}
	closedir(d);
	printf("english fallbacks on %d shared bulletins: raw text, voice cmn: %d; "
	       "reader, voice cmn-latn-pinyin: %d\n", files, raw, ours);
}

static struct reading *open_timed(const char *src, int with_override, double *ms)
{
	char lex[4096], over[4096], err[256];
	struct reading *r = NULL;
	double runs[LOAD_RUNS], t0;

	if (snprintf(lex, sizeof lex, "%s/tts/data/lexicon.txt", src) >= (int)sizeof lex ||
	    snprintf(over, sizeof over, "%s/etc/reading-override.txt", src) >= (int)sizeof over)
		return NULL;
	for (int k = 0; k < LOAD_RUNS; k++) {
		reading_close(r);
		t0 = now_ms();
		if (reading_open(&r, lex, with_override ? over : NULL, err, sizeof err)) {
			fprintf(stderr, "bench_reading: %s\n", err);
			return NULL;
		}
		runs[k] = now_ms() - t0;
	}
	*ms = median(runs, LOAD_RUNS);
	return r;
}

static void report(const char *what, const struct tally *t)
{
	printf("%s: %d bulletins, %ld of %ld syllables match: %.2f %%, "
	       "normaliser+lexicon %.3f ms per bulletin (median)\n", what, t->bulletins,
	       t->matched, t->syllables,
	       t->syllables ? 100.0 * (double)t->matched / (double)t->syllables : 0,
	       t->bulletins ? t->ms / t->bulletins : 0);
}

int main(int argc, char **argv)
{
	const char *src = argc > 1 ? argv[1] : CX_SOURCE_DIR;
	struct tally with = {0}, without = {0};
	struct reading *r, *bare;
	char gold[4096], shared[4096];
	double load_ms, bare_ms;

	if (snprintf(gold, sizeof gold, "%s/tests/data/gold", src) >= (int)sizeof gold ||
	    snprintf(shared, sizeof shared, "%s/tests/data/bulletins", src) >= (int)sizeof shared)
		return 1;
	r = open_timed(src, 1, &load_ms);
	bare = open_timed(src, 0, &bare_ms);
	if (!r || !bare)
		return 1;
	printf("lexicon load: %.3f ms with the override file, %.3f ms without (median of %d)\n",
	       load_ms, bare_ms, LOAD_RUNS);
	if (gold_all(r, gold, &with, 1) != 0 || gold_all(bare, gold, &without, 0) != 0)
		return 1;
	report("gold, with override", &with);
	report("gold, lexicon only", &without);
	fallbacks(r, shared);
	reading_close(r);
	reading_close(bare);
	return 0;
}
