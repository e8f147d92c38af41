/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Chains the reading steps: normalised text is cut into Hanzi runs (to pinyin.c), Latin runs
 * (for an English voice) and punctuation (pauses), for synthesis or for `tts --reading`. */

#include <stdlib.h>
#include <string.h>

#include "tts/reading-int.h"

struct reading {
	struct lexicon *lx;
};

/* Pause classes, in the order of the fields of struct reading_pauses. */
enum pause_class { P_NONE = -1, P_SENTENCE, P_CLAUSE, P_LIST, P_BRACKET };

/* Builds the segment list for one stretch of normalised text. */
struct walk {
	const struct reading *r;
	unsigned pause_ms[4];
	int spell;		/* spell acronyms P-M for the English voice */
	struct reading_segment *seg;
	size_t n, cap;
	struct rbuf cur;	/* pinyin gathered since the last LATIN or PAUSE */
};

int rbuf_put(struct rbuf *b, const char *s, size_t n, enum reading_mark m)
{
	size_t cap = b->cap ? b->cap : 64;
	char *p;
	unsigned char *mk;

	while (b->len + n + 1 > cap)
		cap *= 2;
	if (cap != b->cap || !b->p) {
		p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		if (b->marked) {
			mk = realloc(b->mark, cap);
			if (!mk)
				return -1;
			b->mark = mk;
		}
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	if (b->marked)
		memset(b->mark + b->len, m, n + 1);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int rbuf_puts(struct rbuf *b, const char *s, enum reading_mark m)
{
	return rbuf_put(b, s, strlen(s), m);
}

void rbuf_free(struct rbuf *b)
{
	free(b->p);
	free(b->mark);
	memset(b, 0, sizeof *b);
}

int32_t utf8_next(const char *s, size_t len, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s + *i;
	size_t left = len - *i, need, k;
	int32_t c, min;

	if (u[0] < 0x80) {
		(*i)++;
		return u[0];
	}
	if ((u[0] & 0xe0) == 0xc0)
		need = 1, c = u[0] & 0x1f, min = 0x80;
	else if ((u[0] & 0xf0) == 0xe0)
		need = 2, c = u[0] & 0x0f, min = 0x800;
	else if ((u[0] & 0xf8) == 0xf0)
		need = 3, c = u[0] & 0x07, min = 0x10000;
	else
		return -1;
	if (left <= need)
		return -1;
	for (k = 1; k <= need; k++) {
		if ((u[k] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (u[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*i += need + 1;
	return c;
}

int is_hanzi(int32_t c)
{
	return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f) || c == 0x3007;
}

static int is_latin(int32_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static enum pause_class pause_of(int32_t c)
{
	static const char sentence[] = "。！？；!?;\n";
	static const char clause[] = "，,：:—…";
	static const char list[] = "、/";
	static const char bracket[] = "（）()“”‘’《》〈〉「」『』【】〔〕\"'";
	const char *const classes[] = {sentence, clause, list, bracket};

	for (int k = 0; k < 4; k++) {
		size_t i = 0, len = strlen(classes[k]);

		while (i < len)
			if (utf8_next(classes[k], len, &i) == c)
				return (enum pause_class)k;
	}
	return P_NONE;
}

static int walk_push(struct walk *w, enum reading_kind kind, char *text, unsigned ms)
{
	struct reading_segment *s;
	size_t cap;

	if (w->n == w->cap) {
		cap = w->cap ? w->cap * 2 : 16;
		s = realloc(w->seg, cap * sizeof *s);
		if (!s) {
			free(text);
			return -1;
		}
		w->seg = s;
		w->cap = cap;
	}
	w->seg[w->n].kind = kind;
	w->seg[w->n].text = text;
	w->seg[w->n].pause_ms = ms;
	w->n++;
	return 0;
}

/* The pinyin gathered so far becomes a segment of its own. */
static int walk_flush(struct walk *w)
{
	char *text;

	if (!w->cur.len)
		return 0;
	text = w->cur.p;
	memset(&w->cur, 0, sizeof w->cur);
	return walk_push(w, READING_PINYIN, text, 0);
}

/* Neighbouring marks make one pause, the longest; nothing is said before the first word. */
static int walk_pause(struct walk *w, enum pause_class pc)
{
	unsigned ms = w->pause_ms[pc];

	if (walk_flush(w))
		return -1;
	if (w->n == 0)
		return 0;
	if (w->seg[w->n - 1].kind == READING_PAUSE) {
		if (ms > w->seg[w->n - 1].pause_ms)
			w->seg[w->n - 1].pause_ms = ms;
		return 0;
	}
	return walk_push(w, READING_PAUSE, NULL, ms);
}

/* Letters of a Latin run; an acronym in capitals is spelled P-M because the English voice
 * reads AQI or CO as words. */
static char *latin_text(const char *s, size_t len, int spell)
{
	struct rbuf b = {0};
	int caps = len <= 8;

	for (size_t k = 0; k < len; k++)
		caps = caps && s[k] >= 'A' && s[k] <= 'Z';
	for (size_t k = 0; k < len; k++) {
		if ((spell && caps && k && rbuf_put(&b, "-", 1, MARK_TEXT)) ||
		    rbuf_put(&b, s + k, 1, MARK_TEXT)) {
			rbuf_free(&b);
			return NULL;
		}
	}
	return b.p;
}

static int walk_latin(struct walk *w, const char *s, size_t *i, size_t to)
{
	size_t start = *i, end;
	char *text;

	while (*i < to && (is_latin((unsigned char)s[*i]) ||
			   (s[*i] == ' ' && *i + 1 < to && is_latin((unsigned char)s[*i + 1]))))
		(*i)++;
	end = *i;
	if (walk_flush(w))
		return -1;
	text = latin_text(s + start, end - start, w->spell);
	return text ? walk_push(w, READING_LATIN, text, 0) : -1;
}

static int walk_hanzi(struct walk *w, const char *s, const unsigned char *mark, size_t *i,
		      size_t to)
{
	size_t start = *i, k = *i;

	while (k < to && is_hanzi(utf8_next(s, to, &k)))
		*i = k;
	return pinyin_append(w->r->lx, s + start, mark + start, *i - start, &w->cur);
}

/* Segments for the bytes [from, to) of normalised text. */
static int walk_text(struct walk *w, const char *s, const unsigned char *mark, size_t from,
		     size_t to)
{
	size_t i = from, k;
	int32_t c;
	enum pause_class pc;

	while (i < to) {
		k = i;
		c = utf8_next(s, to, &k);
		if (is_hanzi(c)) {
			if (walk_hanzi(w, s, mark, &i, to))
				return -1;
		} else if (is_latin(c)) {
			if (walk_latin(w, s, &i, to))
				return -1;
		} else {
			pc = pause_of(c);
			if (pc != P_NONE && walk_pause(w, pc))
				return -1;
			i = k;
		}
	}
	return walk_flush(w);
}

static void walk_init(struct walk *w, const struct reading *r, const struct reading_pauses *p,
		      int spell)
{
	struct reading_pauses def;

	if (!p) {
		reading_pauses_default(&def);
		p = &def;
	}
	memset(w, 0, sizeof *w);
	w->r = r;
	w->spell = spell;
	w->pause_ms[P_SENTENCE] = p->sentence_ms;
	w->pause_ms[P_CLAUSE] = p->clause_ms;
	w->pause_ms[P_LIST] = p->list_ms;
	w->pause_ms[P_BRACKET] = p->bracket_ms;
}

void reading_pauses_default(struct reading_pauses *p)
{
	p->sentence_ms = 600;
	p->clause_ms = 300;
	p->list_ms = 200;
	p->bracket_ms = 100;
}

enum reading_result reading_open(struct reading **out, const char *lexicon_path,
				 const char *override_path, char *err, size_t errlen)
{
	struct reading *r = calloc(1, sizeof *r);
	enum reading_result rc;

	*out = NULL;
	if (!r)
		return READING_ERR_NOMEM;
	rc = lexicon_open(&r->lx, lexicon_path, override_path, err, errlen);
	if (rc != READING_OK) {
		free(r);
		return rc;
	}
	*out = r;
	return READING_OK;
}

void reading_close(struct reading *r)
{
	if (!r)
		return;
	lexicon_close(r->lx);
	free(r);
}

enum reading_result reading_segments(const struct reading *r, const char *utf8,
				     const struct reading_pauses *pauses,
				     struct reading_segment **out, size_t *count)
{
	struct rbuf text = {0};
	struct walk w;
	enum reading_result rc;

	*out = NULL;
	*count = 0;
	walk_init(&w, r, pauses, 1);
	rc = normalise_marked(utf8, &text);
	if (rc != READING_OK)
		goto out;
	if (walk_text(&w, text.p, text.mark, 0, text.len)) {
		rc = READING_ERR_NOMEM;
		reading_segments_free(w.seg, w.n);
		goto out;
	}
	*out = w.seg;
	*count = w.n;
out:
	rbuf_free(&w.cur);
	rbuf_free(&text);
	return rc;
}

void reading_segments_free(struct reading_segment *s, size_t count)
{
	for (size_t k = 0; s && k < count; k++)
		free(s[k].text);
	free(s);
}

static int is_closing(int32_t c)
{
	static const char closing[] = "”’）》」』】〕)\"'";
	size_t i = 0;

	while (closing[i])
		if (utf8_next(closing, sizeof closing - 1, &i) == c)
			return 1;
	return 0;
}

/* Where the sentence starting at from ends: after 。！？；!?; and the closing quotes or
 * brackets that follow, or after a line break. */
static size_t sentence_end(const char *s, size_t from, size_t len)
{
	size_t i = from, k;
	int32_t c;
	int ended = 0;

	while (i < len) {
		k = i;
		c = utf8_next(s, len, &k);
		if (ended && !is_closing(c))
			return c == '\n' ? k : i;
		if (c == '\n')
			return k;
		if (pause_of(c) == P_SENTENCE)
			ended = 1;
		i = k;
	}
	return len;
}

struct sentences {
	struct reading_sentence *v;
	size_t n, cap;
};

static int sentences_push(struct sentences *l, char *text, char *pinyin)
{
	struct reading_sentence *v;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 8;
		v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].text = text;
	l->v[l->n].pinyin = pinyin;
	l->n++;
	return 0;
}

/* The eSpeak-NG line of a sentence: its words, Latin letters as written, single spaces. */
static int sentence_line(const struct walk *w, struct rbuf *line)
{
	for (size_t k = 0; k < w->n; k++) {
		if (w->seg[k].kind == READING_PAUSE)
			continue;
		if ((line->len && rbuf_put(line, " ", 1, MARK_TEXT)) ||
		    rbuf_puts(line, w->seg[k].text, MARK_TEXT))
			return -1;
	}
	return 0;
}

/* Adds the sentence [from, to) of t to l unless it has nothing to say. */
static int sentence_add(const struct reading *r, const struct rbuf *t, size_t from, size_t to,
			struct sentences *l)
{
	struct rbuf line = {0}, text = {0};
	struct walk w;
	int rc = -1;

	while (to > from && t->p[to - 1] == '\n')
		to--;
	walk_init(&w, r, NULL, 0);
	if (walk_text(&w, t->p, t->mark, from, to) || sentence_line(&w, &line))
		goto out;
	rc = 0;
	if (!line.len)
		goto out;
	rc = -1;
	if (rbuf_put(&text, t->p + from, to - from, MARK_TEXT) ||
	    sentences_push(l, text.p, line.p))
		goto out;
	memset(&text, 0, sizeof text);
	memset(&line, 0, sizeof line);
	rc = 0;
out:
	rbuf_free(&line);
	rbuf_free(&text);
	rbuf_free(&w.cur);
	reading_segments_free(w.seg, w.n);
	return rc;
}

enum reading_result reading_sentences(const struct reading *r, const char *utf8,
				      struct reading_sentence **out, size_t *count)
{
	struct rbuf text = {0};
	struct sentences l = {0};
	enum reading_result rc;
	size_t from, to;

	*out = NULL;
	*count = 0;
	rc = normalise_marked(utf8, &text);
	for (from = 0; rc == READING_OK && from < text.len; from = to) {
		to = sentence_end(text.p, from, text.len);
		if (sentence_add(r, &text, from, to, &l)) {
			reading_sentences_free(l.v, l.n);
			rc = READING_ERR_NOMEM;
			goto out;
		}
	}
	if (rc == READING_OK) {
		*out = l.v;
		*count = l.n;
	}
out:
	rbuf_free(&text);
	return rc;
}

void reading_sentences_free(struct reading_sentence *s, size_t count)
{
	for (size_t k = 0; s && k < count; k++) {
		free(s[k].text);
		free(s[k].pinyin);
	}
	free(s);
}

const char *reading_strerror(enum reading_result r)
{
	switch (r) {
	case READING_OK: return "success";
	case READING_ERR_NOMEM: return "out of memory";
	case READING_ERR_IO: return "cannot read the lexicon or override file";
	case READING_ERR_LEXICON: return "lexicon file is malformed";
	case READING_ERR_OVERRIDE: return "override file has a malformed line";
	case READING_ERR_TEXT: return "text is not valid UTF-8";
	}
	return "unknown error";
}
