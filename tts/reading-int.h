/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the files of the reading module share among themselves and with nobody else: a growing
 * text buffer, UTF-8 decoding, and the steps that reading.c chains into segments. */
#ifndef CX_READING_INT_H
#define CX_READING_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tts/reading.h"

/* How the pinyin step reads a byte of normalised text. Numbers written out by the normaliser
 * are read by rule, not by the lexicon, so that 一 stays yi1 in 十一, 一点五 and 一月一日. */
enum reading_mark {
	MARK_TEXT = 0,		/* ordinary text: the lexicon decides */
	MARK_NUMBER,		/* numeral of a written-out number: 一 is yi1 but in 一百 一千 */
	MARK_COUNT,		/* 一 counting what follows (1小时): tone set by what follows */
};

/* A growing NUL-terminated string; with marks, one reading_mark per byte of p. */
struct rbuf {
	char *p;
	unsigned char *mark;
	size_t len, cap;
	int marked;
};

int rbuf_put(struct rbuf *b, const char *s, size_t n, enum reading_mark m);
int rbuf_puts(struct rbuf *b, const char *s, enum reading_mark m);
void rbuf_free(struct rbuf *b);

/* Decode the code point at s[*i] (len bytes in all) and advance *i; -1 when malformed. */
int32_t utf8_next(const char *s, size_t len, size_t *i);
int is_hanzi(int32_t c);

/* reading_normalise with a mark per byte of out (normalise.c). */
enum reading_result normalise_marked(const char *utf8, struct rbuf *out);

struct lexicon;

/* Load and release the lexicon and override tables (pinyin.c). */
enum reading_result lexicon_open(struct lexicon **out, const char *lexicon_path,
				 const char *override_path, char *err, size_t errlen);
void lexicon_close(struct lexicon *lx);

/* Append the pinyin of n bytes of Hanzi (marks alongside) to out, syllables separated by
 * single spaces; a space goes first when out is not empty. -1 when out cannot grow. */
int pinyin_append(const struct lexicon *lx, const char *s, const unsigned char *mark, size_t n,
		  struct rbuf *out);

#endif
