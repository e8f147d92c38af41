/* SPDX-License-Identifier: GPL-3.0-or-later */
/* How a bulletin is read aloud: numbers, dates and units spelled out in Chinese, Hanzi turned
 * into tone-numbered pinyin through a word lexicon, punctuation turned into pauses. Speaking the
 * result (which eSpeak-NG voice, how silence is made) is left to the caller. */
#ifndef CX_READING_H
#define CX_READING_H

#include <stddef.h>

enum reading_result {
	READING_OK = 0,
	READING_ERR_NOMEM,
	READING_ERR_IO,		/* the lexicon or override file cannot be read */
	READING_ERR_LEXICON,	/* the lexicon file is not one written by convert-lexicon.mjs */
	READING_ERR_OVERRIDE,	/* a line of the override file is malformed; err names it */
	READING_ERR_TEXT,	/* input is not valid UTF-8 */
};

/* What the synthesiser does with a segment: PINYIN goes to the voice cmn-latn-pinyin, LATIN to
 * an English voice, PAUSE is silence made by the caller. */
enum reading_kind {
	READING_PINYIN,
	READING_LATIN,
	READING_PAUSE,
};

struct reading_segment {
	enum reading_kind kind;
	/* PINYIN: "jiang4 shui3", syllables [a-z]+[1-5], ü as v, 5 neutral; LATIN: letters for
	 * the English voice, acronyms spelled "P-M"; PAUSE: NULL */
	char *text;
	unsigned pause_ms;	/* PAUSE only */
};

/* Silence for each kind of punctuation; neighbouring marks give one pause, the longest. */
struct reading_pauses {
	unsigned sentence_ms;	/* 。！？；!?; and line breaks */
	unsigned clause_ms;	/* ，：, : — … */
	unsigned list_ms;	/* 、 and a slash between words */
	unsigned bracket_ms;	/* brackets and quotation marks */
};

/* One sentence as `tts --reading` shows it: the text after normalisation, and the line handed
 * to eSpeak-NG (pinyin syllables and Latin letters as written, single spaces, nothing else). */
struct reading_sentence {
	char *text;
	char *pinyin;
};

struct reading;

/* Fill p with the defaults: sentence 600 ms, clause 300 ms, list 200 ms, bracket 100 ms. */
void reading_pauses_default(struct reading_pauses *p);

/* Load the lexicon (tts/data/lexicon.txt, read in one go and searched in place) and, unless
 * override_path is NULL, the operator's override file, whose words win over the lexicon. On
 * failure err (if not NULL) holds one sentence naming the file and line. *out is owned by the
 * caller, released with reading_close, and may be shared by threads: it is never written to
 * after loading. */
__attribute__((warn_unused_result))
enum reading_result reading_open(struct reading **out, const char *lexicon_path,
				 const char *override_path, char *err, size_t errlen);
void reading_close(struct reading *r);

/* Rewrite UTF-8 text in its spoken form: digits, dates, times, percents, ranges, units and
 * phone numbers as Chinese words, ASCII punctuation as Chinese punctuation, symbols that are not
 * spoken dropped; Hanzi, Latin letters and line breaks kept. *out is allocated, caller frees. */
__attribute__((warn_unused_result))
enum reading_result reading_normalise(const char *utf8, char **out);

/* Turn a bulletin into what the synthesiser says, in order. Never a Hanzi, digit or markup in
 * a PINYIN segment; Hanzi missing from both lexicons are left out. pauses may be NULL for the
 * defaults. *out (count entries) is released with reading_segments_free. */
__attribute__((warn_unused_result))
enum reading_result reading_segments(const struct reading *r, const char *utf8,
				     const struct reading_pauses *pauses,
				     struct reading_segment **out, size_t *count);
void reading_segments_free(struct reading_segment *s, size_t count);

/* Split a bulletin into sentences (ending at 。！？；!?; or a line break) and give each its
 * normalised text and its eSpeak-NG line. *out is released with reading_sentences_free. */
__attribute__((warn_unused_result))
enum reading_result reading_sentences(const struct reading *r, const char *utf8,
				      struct reading_sentence **out, size_t *count);
void reading_sentences_free(struct reading_sentence *s, size_t count);

const char *reading_strerror(enum reading_result r);

#endif
