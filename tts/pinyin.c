/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Hanzi to tone-numbered pinyin: the cheapest split of a run of Hanzi into words of the lexicon
 * and the operator's override file, then the tone changes of 一 and 不 that depend on the next
 * word. Third-tone sandhi is not made here: eSpeak-NG makes it from the tone numbers. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tts/reading-int.h"

#define MAX_WORD 16		/* characters in the longest word looked up */
#define UNKNOWN_COST 2000	/* a Hanzi in neither table: dearer than any word */
#define OVERRIDE_COST 300	/* an operator's word: cheaper than any lexicon word */
#define SINGLE_COST 700		/* an operator's character missing from the lexicon */
#define LEXICON_MAGIC "# cx-lexicon 1\n"

struct entry {
	const char *word;	/* wlen bytes, not terminated */
	size_t wlen;
	const char *pinyin;	/* plen bytes: syllables separated by one space */
	size_t plen;
	long cost;
};

/* The lexicon file as read: a header of # lines, then "word\tpinyin\tcost\n" sorted by the
 * bytes of the word, searched in place so that loading costs one read. */
struct table {
	char *buf;
	size_t len;
	size_t body;
};

struct lexicon {
	struct table lex;
	char *over_buf;		/* the override file, rewritten in place */
	struct entry *over;	/* sorted by word */
	size_t nover;
};

/* A numeral written out by the normaliser has one reading whatever its neighbours. */
static const struct {
	const char *ch;
	const char *py;
} numerals[] = {
	{"零", "ling2"}, {"一", "yi1"}, {"二", "er4"}, {"三", "san1"}, {"四", "si4"},
	{"五", "wu3"}, {"六", "liu4"}, {"七", "qi1"}, {"八", "ba1"}, {"九", "jiu3"},
	{"十", "shi2"}, {"百", "bai3"}, {"千", "qian1"}, {"万", "wan4"}, {"亿", "yi4"},
	{"两", "liang3"}, {"幺", "yao1"}, {"点", "dian3"},
};

static int read_whole(const char *path, char **buf, size_t *len)
{
	struct stat st;
	ssize_t got;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	*buf = NULL;
	if (fd < 0 || fstat(fd, &st) != 0)
		goto out;
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf)
		goto out;
	while (done < (size_t)st.st_size) {
		got = read(fd, *buf + done, (size_t)st.st_size - done);
		if (got <= 0)
			goto out;
		done += (size_t)got;
	}
	(*buf)[done] = '\0';
	*len = done;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static enum reading_result table_load(struct table *t, const char *path, char *err,
				      size_t errlen)
{
	size_t k = 0;

	if (read_whole(path, &t->buf, &t->len) != 0) {
		snprintf(err, errlen, "lexicon %s: %s", path, strerror(errno));
		return READING_ERR_IO;
	}
	if (t->len < sizeof LEXICON_MAGIC - 1 ||
	    memcmp(t->buf, LEXICON_MAGIC, sizeof LEXICON_MAGIC - 1) != 0 ||
	    t->buf[t->len - 1] != '\n') {
		snprintf(err, errlen, "lexicon %s: not a cx-lexicon 1 file", path);
		return READING_ERR_LEXICON;
	}
	while (k < t->len && t->buf[k] == '#')
		k = (size_t)((char *)memchr(t->buf + k, '\n', t->len - k) - t->buf) + 1;
	t->body = k;
	return READING_OK;
}

/* Parse the line at off into e; returns the offset of the next line. */
static size_t table_entry(const struct table *t, size_t off, struct entry *e)
{
	const char *p = t->buf + off, *end = memchr(p, '\n', t->len - off);
	const char *tab1 = memchr(p, '\t', (size_t)(end - p));
	const char *tab2 = tab1 ? memchr(tab1 + 1, '\t', (size_t)(end - tab1 - 1)) : NULL;

	e->word = p;
	e->wlen = tab1 ? (size_t)(tab1 - p) : (size_t)(end - p);
	e->pinyin = tab1 ? tab1 + 1 : end;
	e->plen = tab2 ? (size_t)(tab2 - e->pinyin) : 0;
	e->cost = tab2 ? strtol(tab2 + 1, NULL, 10) : UNKNOWN_COST;
	return (size_t)(end - t->buf) + 1;
}

static int word_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Offset of the first line whose word is not below key. */
static size_t table_lower(const struct table *t, const char *key, size_t klen)
{
	size_t lo = t->body, hi = t->len, mid, line, next;
	struct entry e;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		line = mid;
		while (line > lo && t->buf[line - 1] != '\n')
			line--;
		next = table_entry(t, line, &e);
		if (word_cmp(e.word, e.wlen, key, klen) < 0)
			lo = next;
		else
			hi = line;
	}
	return lo;
}

static int starts_with(const struct entry *e, const char *key, size_t klen)
{
	return e->wlen > klen && memcmp(e->word, key, klen) == 0;
}

/* Exact entry for key, if any; *longer says whether some longer word begins with key. */
static int table_find(const struct table *t, const char *key, size_t klen, struct entry *e,
		      int *longer)
{
	size_t off = table_lower(t, key, klen);
	struct entry next;
	int found = 0;

	*longer = 0;
	if (off >= t->len)
		return 0;
	off = table_entry(t, off, e);
	if (word_cmp(e->word, e->wlen, key, klen) == 0) {
		found = 1;
		if (off >= t->len)
			return 1;
		table_entry(t, off, &next);
		*longer = starts_with(&next, key, klen);
	} else {
		*longer = starts_with(e, key, klen);
	}
	return found;
}

static int over_find(const struct lexicon *lx, const char *key, size_t klen, struct entry *e,
		     int *longer)
{
	size_t lo = 0, hi = lx->nover, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (word_cmp(lx->over[mid].word, lx->over[mid].wlen, key, klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*longer = 0;
	if (lo < lx->nover && word_cmp(lx->over[lo].word, lx->over[lo].wlen, key, klen) == 0) {
		*e = lx->over[lo++];
		*longer = lo < lx->nover && starts_with(&lx->over[lo], key, klen);
		return 1;
	}
	*longer = lo < lx->nover && starts_with(&lx->over[lo], key, klen);
	return 0;
}

/* The override's reading, else the lexicon's. A word of the override costs OVERRIDE_COST
 * unless the lexicon has it cheaper; a single character keeps the lexicon's cost, so that it
 * changes that character's reading without breaking the words around it. */
static int lookup(const struct lexicon *lx, const char *key, size_t klen, struct entry *e,
		  int *longer)
{
	struct entry oe = {0};
	int olonger, ofound = over_find(lx, key, klen, &oe, &olonger);
	int found = table_find(&lx->lex, key, klen, e, longer);

	*longer = *longer || olonger;
	if (!ofound)
		return found;
	if (!found)
		e->cost = oe.cost ? oe.cost : SINGLE_COST;
	else if (oe.cost && e->cost > oe.cost)
		e->cost = oe.cost;
	e->word = oe.word;
	e->wlen = oe.wlen;
	e->pinyin = oe.pinyin;
	e->plen = oe.plen;
	return 1;
}

/* The next character of an operator's pinyin, folded: ü and u: to v, capitals to small
 * letters, a tab to a blank. p is terminated, so looking one byte ahead is safe. */
static char pinyin_fold(const char *p, size_t *r)
{
	unsigned char c = (unsigned char)p[(*r)++];

	if (c == '\t')
		return ' ';
	if (c == 0xc3 && ((unsigned char)p[*r] | 0x20) == 0xbc) {
		(*r)++;
		return 'v';
	}
	if (c == 'u' && p[*r] == ':') {
		(*r)++;
		return 'v';
	}
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
}

/* Rewrite one override pinyin in place with single blanks between syllables. Returns the
 * number of syllables, or 0 unless each is letters then a tone 1-5, syllables apart. */
static size_t over_pinyin(char *p, size_t *len)
{
	size_t r = 0, w = 0, n = 0, letters = 0;
	int blank = 0, after_tone;
	char c;

	while (r < *len) {
		c = pinyin_fold(p, &r);
		if (c == ' ') {
			blank = 1;
			continue;
		}
		after_tone = w > 0 && p[w - 1] >= '1' && p[w - 1] <= '5';
		if (w > 0 && blank != after_tone)
			return 0;
		if (after_tone)
			p[w++] = ' ';
		blank = 0;
		if (c >= '1' && c <= '5' && letters)
			n++, letters = 0;
		else if (c >= 'a' && c <= 'z')
			letters++;
		else
			return 0;
		p[w++] = c;
	}
	*len = w;
	return letters ? 0 : n;
}

static size_t hanzi_count(const char *s, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len) {
		if (!is_hanzi(utf8_next(s, len, &i)))
			return 0;
		n++;
	}
	return n;
}

static int over_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return word_cmp(x->word, x->wlen, y->word, y->wlen);
}

/* One line of the override file: a word of Hanzi, blanks, its pinyin. */
static int over_line(struct lexicon *lx, char *line, size_t len)
{
	struct entry *e = &lx->over[lx->nover];
	size_t k = 0, n;

	while (k < len && line[k] != ' ' && line[k] != '\t')
		k++;
	e->word = line;
	e->wlen = k;
	e->pinyin = line + k;
	e->plen = len - k;
	while (e->plen && (*e->pinyin == ' ' || *e->pinyin == '\t'))
		e->pinyin++, e->plen--;
	n = hanzi_count(e->word, e->wlen);
	if (n == 0 || over_pinyin(line + (e->pinyin - line), &e->plen) != n)
		return -1;
	e->cost = n > 1 ? OVERRIDE_COST : 0;
	lx->nover++;
	return 0;
}

static size_t line_trim(char *line, size_t len)
{
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	return len;
}

static enum reading_result over_parse(struct lexicon *lx, const char *path, size_t len,
				      char *err, size_t errlen)
{
	char *p = lx->over_buf, *end = p + len, *nl;
	size_t lineno = 0, n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		lineno++;
		n = line_trim(p, (size_t)(nl - p));
		if (n && *p != '#' && over_line(lx, p, n) != 0) {
			snprintf(err, errlen, "override %s:%zu: want a word of Hanzi, then one "
				 "pinyin syllable with tone 1-5 per character", path, lineno);
			return READING_ERR_OVERRIDE;
		}
		p = nl + 1;
	}
	qsort(lx->over, lx->nover, sizeof *lx->over, over_cmp);
	for (n = 1; n < lx->nover; n++) {
		if (over_cmp(&lx->over[n - 1], &lx->over[n]) == 0) {
			snprintf(err, errlen, "override %s: %.*s is given twice", path,
				 (int)lx->over[n].wlen, lx->over[n].word);
			return READING_ERR_OVERRIDE;
		}
	}
	return READING_OK;
}

static enum reading_result over_load(struct lexicon *lx, const char *path, char *err,
				     size_t errlen)
{
	size_t len, lines = 1, k;

	if (read_whole(path, &lx->over_buf, &len) != 0) {
		snprintf(err, errlen, "override %s: %s", path, strerror(errno));
		return READING_ERR_IO;
	}
	for (k = 0; k < len; k++)
		lines += lx->over_buf[k] == '\n';
	lx->over = calloc(lines, sizeof *lx->over);
	if (!lx->over)
		return READING_ERR_NOMEM;
	return over_parse(lx, path, len, err, errlen);
}

enum reading_result lexicon_open(struct lexicon **out, const char *lexicon_path,
				 const char *override_path, char *err, size_t errlen)
{
	struct lexicon *lx = calloc(1, sizeof *lx);
	enum reading_result r = READING_ERR_NOMEM;
	char scratch[1];

	if (!err || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	*out = NULL;
	if (!lx)
		goto out;
	r = table_load(&lx->lex, lexicon_path, err, errlen);
	if (r == READING_OK && override_path)
		r = over_load(lx, override_path, err, errlen);
out:
	if (r == READING_OK)
		*out = lx;
	else
		lexicon_close(lx);
	return r;
}

void lexicon_close(struct lexicon *lx)
{
	if (!lx)
		return;
	free(lx->lex.buf);
	free(lx->over_buf);
	free(lx->over);
	free(lx);
}

/* A character of the run being read. */
struct hz {
	size_t off;		/* byte offset in the run */
	int32_t c;
	unsigned char mark;
};

/* The cheapest way to reach a character boundary, and the word that ends there. */
struct best {
	long cost;
	size_t from;
	struct entry e;
	int known;
};

/* One syllable of the result, with what the tone rules need to know about its word. */
struct syl {
	const char *p;		/* letters, then the tone digit */
	size_t len;
	int tone;
	int32_t c;
	unsigned char mark;
	int single, last;	/* its word is one character; it ends its word */
};

static void relax(struct best *b, size_t from, size_t to, const struct entry *e, int known)
{
	long cost = b[from].cost + (known ? e->cost : UNKNOWN_COST);

	if (cost < b[to].cost) {
		b[to].cost = cost;
		b[to].from = from;
		b[to].known = known;
		if (known)
			b[to].e = *e;
	}
}

static int numeral_entry(const char *s, size_t len, struct entry *e)
{
	for (size_t k = 0; k < sizeof numerals / sizeof numerals[0]; k++) {
		if (strlen(numerals[k].ch) == len && memcmp(numerals[k].ch, s, len) == 0) {
			e->word = s;
			e->wlen = len;
			e->pinyin = numerals[k].py;
			e->plen = strlen(numerals[k].py);
			e->cost = 0;
			return 1;
		}
	}
	return 0;
}

/* Every word that starts at character i; written-out numbers are words of their own. */
static void words_from(const struct lexicon *lx, const char *s, const struct hz *h, size_t n,
		       size_t i, struct best *b)
{
	struct entry e = {0};
	int longer, any = 0;
	size_t max = h[i].mark == MARK_TEXT ? MAX_WORD : 1;

	if (h[i].mark != MARK_TEXT && numeral_entry(s + h[i].off, h[i + 1].off - h[i].off, &e)) {
		relax(b, i, i + 1, &e, 1);
		return;
	}
	for (size_t k = 1; k <= max && i + k <= n; k++) {
		if (k > 1 && h[i + k - 1].mark != MARK_TEXT)
			break;
		if (lookup(lx, s + h[i].off, h[i + k].off - h[i].off, &e, &longer)) {
			relax(b, i, i + k, &e, 1);
			any |= k == 1;
		}
		if (!longer)
			break;
	}
	if (!any)
		relax(b, i, i + 1, &e, 0);
}

static int in_list(int32_t c, const char *list)
{
	size_t i = 0, len = strlen(list);

	while (i < len) {
		if (utf8_next(list, len, &i) == c)
			return 1;
	}
	return 0;
}

static int numeral(int32_t c)
{
	return in_list(c, "零一二三四五六七八九十两〇");
}

/* 一 and 不 take the second tone before a fourth (or a neutral one, weakened from a fourth:
 * 一个), 一 the fourth before any other. */
static int changed(const struct syl *next, int before_four, int otherwise)
{
	return next->tone == 4 || next->tone == 5 ? before_four : otherwise;
}

/* 一 keeps its first tone when it counts as a number: in 第一, 十一, 一二三, 一到两天, 一月,
 * 五月一日, 一号, 一级, at the end of a phrase, and in numbers written out from digits. */
static int yi_tone(const struct syl *s, size_t j, size_t n)
{
	const struct syl *next = j + 1 < n ? &s[j + 1] : NULL;
	const struct syl *after = j + 2 < n ? &s[j + 2] : NULL;

	if (s[j].mark == MARK_NUMBER)
		return next && next->mark == MARK_NUMBER && in_list(next->c, "百千万亿") ?
		       changed(next, 2, 4) : 1;
	if (s[j].mark == MARK_COUNT)
		return next ? changed(next, 2, 4) : 1;
	if (j > 0 && (in_list(s[j - 1].c, "第") ||
		      (in_list(s[j - 1].c, "月") && next && in_list(next->c, "日号"))))
		return 1;
	if (!s[j].single)
		return s[j].tone;
	if (!next || (j > 0 && (numeral(s[j - 1].c) || in_list(s[j - 1].c, "百千万亿"))))
		return 1;
	if (numeral(next->c) || in_list(next->c, "月号楼层级届期班栋"))
		return 1;
	if (in_list(next->c, "到至或") && after && numeral(after->c))
		return 1;
	return changed(next, 2, 4);
}

static void tone_rules(struct syl *s, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		if (in_list(s[j].c, "一") && s[j].len == 3 && memcmp(s[j].p, "yi", 2) == 0)
			s[j].tone = yi_tone(s, j, n);
		else if (in_list(s[j].c, "不") && (s[j].single || s[j].last) && j + 1 < n &&
			 memcmp(s[j].p, "bu", 2) == 0)
			s[j].tone = s[j + 1].tone == 4 ? 2 : 4;
	}
}

static size_t word_syllables(const struct entry *e, const struct hz *h, size_t from, size_t to,
			     struct syl *out)
{
	const char *p = e->pinyin, *end = p + e->plen, *sp;
	size_t k = 0, len;

	while (p < end && from + k < to) {
		sp = memchr(p, ' ', (size_t)(end - p));
		len = sp ? (size_t)(sp - p) : (size_t)(end - p);
		out[k].p = p;
		out[k].len = len;
		out[k].tone = p[len - 1] - '0';
		out[k].c = h[from + k].c;
		out[k].mark = h[from + k].mark;
		out[k].single = to - from == 1;
		out[k].last = from + k + 1 == to;
		k++;
		p += len + (sp != NULL);
	}
	return k;
}

/* Lay the words of the cheapest path out as syllables; a Hanzi known to neither table is left
 * out rather than handed to eSpeak-NG, which would spell it in English. */
static size_t syllables(const struct best *b, const struct hz *h, size_t n, size_t *ends,
			struct syl *out)
{
	size_t nw = 0, count = 0, to;

	for (size_t at = n; at > 0; at = b[at].from)
		ends[nw++] = at;
	while (nw-- > 0) {
		to = ends[nw];
		if (b[to].known)
			count += word_syllables(&b[to].e, h, b[to].from, to, out + count);
	}
	return count;
}

static int put_syllables(const struct syl *s, size_t n, struct rbuf *out)
{
	char tone;

	for (size_t j = 0; j < n; j++) {
		tone = (char)('0' + s[j].tone);
		if ((out->len && rbuf_put(out, " ", 1, MARK_TEXT)) ||
		    rbuf_put(out, s[j].p, s[j].len - 1, MARK_TEXT) ||
		    rbuf_put(out, &tone, 1, MARK_TEXT))
			return -1;
	}
	return 0;
}

/* Characters of the run with their offsets and marks; h[n].off is the end. */
static size_t characters(const char *s, const unsigned char *mark, size_t len, struct hz *h)
{
	size_t i = 0, n = 0;

	while (i < len) {
		h[n].off = i;
		h[n].mark = mark ? mark[i] : MARK_TEXT;
		h[n].c = utf8_next(s, len, &i);
		n++;
	}
	h[n].off = len;
	return n;
}

int pinyin_append(const struct lexicon *lx, const char *s, const unsigned char *mark, size_t n,
		  struct rbuf *out)
{
	struct hz *h = calloc(n + 1, sizeof *h);
	struct best *b = calloc(n + 1, sizeof *b);
	struct syl *sy = calloc(n + 1, sizeof *sy);
	size_t *ends = calloc(n + 1, sizeof *ends), nc, count;
	int rc = -1;

	if (!h || !b || !sy || !ends)
		goto out;
	nc = characters(s, mark, n, h);
	for (size_t i = 1; i <= nc; i++)
		b[i].cost = LONG_MAX;
	for (size_t i = 0; i < nc; i++)
		words_from(lx, s, h, nc, i, b);
	count = syllables(b, h, nc, ends, sy);
	tone_rules(sy, count);
	rc = put_syllables(sy, count, out);
out:
	free(h);
	free(b);
	free(sy);
	free(ends);
	return rc;
}
