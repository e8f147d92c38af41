/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The spoken form of bulletin text: digits, dates, times, ranges, percents, units and phone
 * numbers written out in Chinese, punctuation made Chinese, unspoken symbols dropped. How the
 * resulting Hanzi sound is pinyin.c's business. */

#include <stdlib.h>
#include <string.h>

#include "tts/reading-int.h"

/* How a number reads before a unit. Announcers say 两 where 2 counts things, time or distance
 * (两小时 两天 两公里) and 二 where it is a value on a scale (二级 二摄氏度 百分之二). */
enum unit_flag {
	U_LIANG = 1 << 0,	/* a lone 2 is 两 */
	U_COUNT = 1 << 1,	/* a lone 1 counts, so its tone changes (一小时 yi4) */
	U_PERCENT = 1 << 2,
	U_PERMILLE = 1 << 3,
	U_TEMP = 1 << 4,	/* a minus is 零下 */
	U_YEAR = 1 << 5,	/* four digits are read one by one: 二零一四年 */
	U_CODE = 1 << 6,	/* four or more digits are read one by one: 一四零九号台风 */
	U_MINUTE = 1 << 7,	/* a leading zero is spoken: 十四时零五分 */
};

#define COUNTING (U_LIANG | U_COUNT)

enum {
	CH_DI = 0x7b2c,		/* 第 */
	CH_JI = 0x7ea7,		/* 级 */
	CH_ZHI = 0x81f3,	/* 至 */
	CH_DAO = 0x5230,	/* 到 */
};

/* say NULL: the unit is already Chinese and stays in the text; only the number depends on it.
 * The longest match wins, so 分钟 counts while 分 of a clock time does not. */
struct unit {
	const char *match;
	const char *say;
	unsigned flags;
};

static const struct unit units[] = {
	{"℃", "摄氏度", U_TEMP}, {"°C", "摄氏度", U_TEMP}, {"℉", "华氏度", U_TEMP},
	{"°", "度", 0}, {"%", "", U_PERCENT}, {"‰", "", U_PERMILLE},
	{"mm/h", "毫米每小时", COUNTING}, {"mm", "毫米", COUNTING}, {"cm", "厘米", COUNTING},
	{"km/h", "公里每小时", COUNTING}, {"km²", "平方公里", COUNTING},
	{"km", "公里", COUNTING}, {"m/s", "米每秒", COUNTING}, {"m³/s", "立方米每秒", COUNTING},
	{"m3/s", "立方米每秒", COUNTING}, {"m²", "平方米", COUNTING},
	{"m³", "立方米", COUNTING}, {"m", "米", COUNTING}, {"hPa", "百帕", 0},
	{"kPa", "千帕", 0}, {"μg/m³", "微克每立方米", 0}, {"μg/m3", "微克每立方米", 0},
	{"µg/m³", "微克每立方米", 0}, {"ug/m3", "微克每立方米", 0},
	{"mg/m³", "毫克每立方米", 0}, {"mg/m3", "毫克每立方米", 0}, {"kg", "公斤", COUNTING},
	{"h", "小时", COUNTING}, {"min", "分钟", COUNTING}, {"s", "秒", 0}, {"dB", "分贝", 0},
	{"小时", NULL, COUNTING}, {"天", NULL, COUNTING}, {"个", NULL, COUNTING},
	{"次", NULL, COUNTING}, {"周", NULL, COUNTING}, {"名", NULL, COUNTING},
	{"人", NULL, COUNTING}, {"户", NULL, COUNTING}, {"辆", NULL, COUNTING},
	{"艘", NULL, COUNTING}, {"座", NULL, COUNTING}, {"条", NULL, COUNTING},
	{"间", NULL, COUNTING}, {"场", NULL, COUNTING}, {"位", NULL, COUNTING},
	{"台", NULL, COUNTING}, {"架", NULL, COUNTING}, {"部", NULL, COUNTING},
	{"头", NULL, COUNTING}, {"家", NULL, COUNTING}, {"所", NULL, COUNTING},
	{"批", NULL, COUNTING}, {"项", NULL, COUNTING}, {"亩", NULL, COUNTING},
	{"公里", NULL, COUNTING}, {"千米", NULL, COUNTING}, {"米", NULL, COUNTING},
	{"厘米", NULL, COUNTING}, {"毫米", NULL, COUNTING}, {"公斤", NULL, COUNTING},
	{"吨", NULL, COUNTING}, {"分钟", NULL, COUNTING}, {"秒钟", NULL, COUNTING},
	{"万", NULL, COUNTING}, {"千", NULL, COUNTING}, {"亿", NULL, COUNTING},
	{"倍", NULL, COUNTING}, {"成", NULL, COUNTING}, {"年", NULL, COUNTING | U_YEAR},
	{"时", NULL, U_LIANG}, {"点", NULL, U_LIANG}, {"号", NULL, U_CODE},
	{"分", NULL, U_MINUTE}, {"秒", NULL, U_MINUTE}, {"摄氏度", NULL, U_TEMP},
	{"度", NULL, U_TEMP}, {"月", NULL, 0}, {"日", NULL, 0}, {"级", NULL, 0},
};

/* Words right before a number that make it a phone number, read digit by digit. */
static const char *const phone_words[] = {
	"拨打", "电话", "热线", "致电", "拨", "呼叫", "号码", "手机", "传真", "短信", "服务号",
};

/* Public service numbers read digit by digit wherever they stand: weather (12121, 96121),
 * warnings (12379), forest fire (12119), police, fire, ambulance, traffic, citizen lines. */
static const char *const hotlines[] = {
	"110", "119", "120", "122", "12110", "12119", "12121", "12315", "12319", "12320",
	"12345", "12350", "12369", "12379", "12395", "96121",
};

/* Symbols spoken as words or turned into Chinese punctuation. Chinese punctuation not listed
 * in kept[] and every other symbol is dropped. */
struct symbol {
	int32_t c;
	const char *say;
};

static const struct symbol symbols[] = {
	{',', "，"}, {'.', "。"}, {';', "；"}, {':', "："}, {'!', "！"}, {'?', "？"},
	{'(', "（"}, {')', "）"}, {'[', "（"}, {']', "）"}, {'{', "（"}, {'}', "）"},
	{'<', "小于"}, {'>', "大于"}, {'=', "等于"}, {'+', "加"}, {'&', "和"}, {'~', "到"},
	{'/', "、"}, {'|', "、"}, {0x2103, "摄氏度"}, {0x2264, "小于等于"},
	{0x2265, "大于等于"}, {0xb1, "正负"}, {0xd7, "乘"}, {0x25cb, "〇"}, {0x2013, "—"},
	{0x2015, "—"}, {0x22ef, "…"},
};

static const int32_t kept[] = {
	0x3002, 0x3001, 0x201c, 0x201d, 0x2018, 0x2019, 0x300a, 0x300b, 0x3008, 0x3009,
	0x300c, 0x300d, 0x300e, 0x300f, 0x3010, 0x3011, 0x3014, 0x3015, 0x2014, 0x2026,
};

static const char *const digit_say[] = {
	"零", "一", "二", "三", "四", "五", "六", "七", "八", "九",
};

struct nstate {
	int32_t *c;		/* input code points after folding, 0 after the last */
	size_t n;
	size_t i;		/* next code point to read */
	struct rbuf *out;
	int quote_open;		/* an ASCII double quote was opened */
};

struct num {
	char d[64];		/* integer digits, grouping commas removed */
	size_t nd;
	char f[16];		/* digits after the decimal point */
	size_t nf;
	int neg;
	size_t ngroups;		/* groups of three after a comma */
	size_t end;		/* code point after the number */
};

static int32_t at(const struct nstate *s, size_t k)
{
	return k < s->n ? s->c[k] : 0;
}

static int isdig(int32_t c)
{
	return c >= '0' && c <= '9';
}

static int islatin(int32_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int emit(struct nstate *s, const char *text, enum reading_mark m)
{
	return rbuf_puts(s->out, text, m);
}

static int emit_cp(struct nstate *s, int32_t c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return rbuf_put(s->out, u, n, MARK_TEXT);
}

/* Does the input at k spell word? Returns its length in code points, 0 if not. */
static size_t match_at(const struct nstate *s, size_t k, const char *word)
{
	size_t i = 0, len = strlen(word), m = 0;

	while (i < len) {
		if (utf8_next(word, len, &i) != at(s, k + m))
			return 0;
		m++;
	}
	return m;
}

/* Does the input just before k spell word? */
static int ends_at(const struct nstate *s, size_t k, const char *word)
{
	size_t i = 0, len = strlen(word), m = 0;

	while (i < len) {
		utf8_next(word, len, &i);
		m++;
	}
	return m <= k && match_at(s, k - m, word) == m;
}

/* Full-width forms to ASCII, odd spaces and dashes to plain ones, so that the rules below
 * see one spelling of each symbol; 0 drops the character. */
static int32_t fold(int32_t c)
{
	if (c >= 0xff01 && c <= 0xff5e)
		return c - 0xfee0;
	switch (c) {
	case 0x3000: case 0xa0: case '\t': return ' ';
	case '\r': return '\n';
	case 0x2212: case 0xfe63: return '-';
	case 0x301c: case 0x223c: return '~';
	case 0xff0e: return '.';
	case 0xb7: case 0x2022: case 0x30fb: case 0xfeff: case 0x200b: return 0;
	default: return c;
	}
}

static const struct unit *unit_at(const struct nstate *s, size_t k, size_t *len)
{
	const struct unit *best = NULL;
	size_t i, m, best_len = 0;

	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		m = match_at(s, k, units[i].match);
		if (m <= best_len)
			continue;
		/* mm in "5mmol" is not a unit */
		if (islatin(at(s, k + m - 1)) && islatin(at(s, k + m)))
			continue;
		best = &units[i];
		best_len = m;
	}
	*len = best_len;
	return best;
}

/* The unit after a number (one space allowed before it); *end is the code point after it. */
static const struct unit *unit_after(const struct nstate *s, size_t k, size_t *end)
{
	const struct unit *u;
	size_t len, from = at(s, k) == ' ' ? k + 1 : k;

	u = unit_at(s, from, &len);
	*end = u ? from + len : k;
	return u;
}

static size_t digits_from(const struct nstate *s, size_t k)
{
	size_t n = 0;

	while (isdig(at(s, k + n)))
		n++;
	return n;
}

static int parse_digits(const struct nstate *s, size_t *k, char *d, size_t *nd, size_t max)
{
	while (isdig(at(s, *k)) && *nd < max - 1)
		d[(*nd)++] = (char)at(s, (*k)++);
	d[*nd] = '\0';
	return *nd > 0;
}

/* A number at k: optional minus, digits with optional 2,350 grouping, optional fraction. */
static int parse_num(const struct nstate *s, size_t k, struct num *nm)
{
	memset(nm, 0, sizeof *nm);
	if (at(s, k) == '-' && isdig(at(s, k + 1))) {
		nm->neg = 1;
		k++;
	}
	if (!parse_digits(s, &k, nm->d, &nm->nd, sizeof nm->d))
		return 0;
	/* 2,350: groups of three after a first group of at most three */
	while (nm->nd <= 3 + 3 * nm->ngroups && at(s, k) == ',' && digits_from(s, k + 1) == 3) {
		k++;
		parse_digits(s, &k, nm->d, &nm->nd, sizeof nm->d);
		nm->ngroups++;
	}
	if (at(s, k) == '.' && isdig(at(s, k + 1))) {
		k++;
		parse_digits(s, &k, nm->f, &nm->nf, sizeof nm->f);
	}
	nm->end = k;
	return 1;
}

static int say_digits(struct nstate *s, const char *d, size_t nd, int yao)
{
	size_t k;

	for (k = 0; k < nd; k++) {
		const char *w = yao && d[k] == '1' ? "幺" : digit_say[d[k] - '0'];

		if (emit(s, w, MARK_NUMBER))
			return -1;
	}
	return 0;
}

/* One non-zero digit of a cardinal. place: 0 千, 1 百, 2 十, 3 the units of its group;
 * group: 0 亿, 1 万, 2 the last four digits. */
static int say_cardinal_digit(struct nstate *s, int digit, int place, int group, int first)
{
	static const char *const place_say[] = {"千", "百", "十", ""};

	if (digit == 1 && place == 2 && first)
		return emit(s, "十", MARK_NUMBER);
	if (digit == 2 && first && (place == 0 || (place == 3 && group < 2)))
		return emit(s, "两", MARK_NUMBER) || emit(s, place_say[place], MARK_NUMBER);
	return emit(s, digit_say[digit], MARK_NUMBER) || emit(s, place_say[place], MARK_NUMBER);
}

/* Cardinal in places of four (亿, 万, units), 零 once for any run of inner zeros. */
static int say_cardinal(struct nstate *s, const char *d, size_t nd)
{
	static const char *const group_say[] = {"亿", "万", ""};
	size_t k, pad;
	int zero = 0, started = 0, group_used = 0;

	while (nd > 1 && *d == '0')
		d++, nd--;
	if (nd > 12)
		return say_digits(s, d, nd, 0);
	if (nd == 1 && *d == '0')
		return emit(s, "零", MARK_NUMBER);
	pad = 12 - nd;
	for (k = 0; k < nd; k++) {
		int digit = d[k] - '0', place = (int)((pad + k) % 4), group = (int)((pad + k) / 4);

		if (digit == 0) {
			zero = started;
		} else {
			if ((zero && emit(s, "零", MARK_NUMBER)) ||
			    say_cardinal_digit(s, digit, place, group, !started))
				return -1;
			zero = 0;
			started = group_used = 1;
		}
		if (place == 3 && group_used) {
			if (emit(s, group_say[group], MARK_NUMBER))
				return -1;
			group_used = 0;
		}
	}
	return 0;
}

/* The number itself, read as the unit after it asks; direct when the unit follows at once. */
static int say_value(struct nstate *s, const struct num *nm, unsigned flags, int direct)
{
	if (nm->neg && emit(s, flags & U_TEMP ? "零下" : "负", MARK_TEXT))
		return -1;
	if ((flags & U_PERCENT && emit(s, "百分之", MARK_TEXT)) ||
	    (flags & U_PERMILLE && emit(s, "千分之", MARK_TEXT)))
		return -1;
	if (nm->nf)
		return say_cardinal(s, nm->d, nm->nd) || emit(s, "点", MARK_NUMBER) ||
		       say_digits(s, nm->f, nm->nf, 0);
	if ((flags & U_YEAR && nm->nd == 4) || (flags & U_CODE && nm->nd >= 4))
		return say_digits(s, nm->d, nm->nd, 0);
	if (nm->nd == 1 && nm->d[0] == '2' && flags & U_LIANG)
		return emit(s, "两", MARK_NUMBER);
	if (nm->nd == 1 && nm->d[0] == '1' && flags & U_COUNT && direct)
		return emit(s, "一", MARK_COUNT);
	if (flags & U_MINUTE && nm->nd == 2 && nm->d[0] == '0' && nm->d[1] != '0')
		return emit(s, "零", MARK_NUMBER) || say_digits(s, nm->d + 1, 1, 0);
	return say_cardinal(s, nm->d, nm->nd);
}

static int say_unit(struct nstate *s, const struct unit *u, size_t from, size_t to)
{
	size_t k;

	if (!u)
		return 0;
	if (u->say)
		return emit(s, u->say, MARK_TEXT);
	for (k = from; k < to; k++)
		if (at(s, k) != ' ' && emit_cp(s, at(s, k)))
			return -1;
	return 0;
}

/* 公里/小时 and the like: a slash between two units is 每. */
static int say_per(struct nstate *s, size_t *k)
{
	const struct unit *u;
	size_t len;

	if (at(s, *k) != '/')
		return 0;
	u = unit_at(s, *k + 1, &len);
	if (!u || u->flags & (U_PERCENT | U_PERMILLE))
		return 0;
	if (emit(s, "每", MARK_TEXT) || say_unit(s, u, *k + 1, *k + 1 + len))
		return -1;
	*k += 1 + len;
	return 0;
}

/* Length of a range separator at k (～ ~ - – — 至 到) when a number follows it; *word is how
 * it is said. */
static size_t range_at(const struct nstate *s, size_t k, const char **word)
{
	int32_t c = at(s, k);
	size_t len = 1;

	if (c == CH_ZHI)
		*word = "至";
	else if (c == '~' || c == '-' || c == 0x2013 || c == 0x2014 || c == 0x2015 || c == CH_DAO)
		*word = "到";
	else
		return 0;
	if (c == 0x2014 && at(s, k + 1) == 0x2014)
		len = 2;
	if (isdig(at(s, k + len)) || (at(s, k + len) == '-' && isdig(at(s, k + len + 1))))
		return len;
	return 0;
}

static unsigned flags_for(const struct nstate *s, size_t start, const struct unit *u)
{
	unsigned flags = u ? u->flags : 0;

	/* 第2天 is the second day: an ordinal is never 两 nor a count */
	if (start > 0 && at(s, start - 1) == CH_DI)
		flags &= ~(unsigned)(U_LIANG | U_COUNT);
	return flags;
}

/* Both ends of a range take their reading from the unit after the second (25～32℃, 2～3级);
 * a negative first end keeps its unit so that 零下二摄氏度到三摄氏度 is not heard as -2 to -3. */
static int say_range(struct nstate *s, const struct num *a, const struct unit *ua, size_t ua_end,
		     size_t sep)
{
	const struct unit *ub;
	const char *word;
	struct num b;
	size_t seplen = range_at(s, sep, &word), ub_end;
	unsigned fb;

	parse_num(s, sep + seplen, &b);
	ub = unit_after(s, b.end, &ub_end);
	fb = flags_for(s, s->i, ub ? ub : ua);
	if (say_value(s, a, ua ? flags_for(s, s->i, ua) : fb, ua != NULL) ||
	    say_unit(s, ua, a->end, ua_end))
		return -1;
	if (!ua && a->neg && !b.neg && ub && ub->flags & U_TEMP && say_unit(s, ub, b.end, ub_end))
		return -1;
	if (emit(s, word, MARK_TEXT) || say_value(s, &b, fb, ub != NULL) ||
	    say_unit(s, ub, b.end, ub_end))
		return -1;
	s->i = ub_end;
	return say_per(s, &s->i);
}

static int is_hotline(const struct num *nm)
{
	size_t k;

	for (k = 0; k < sizeof hotlines / sizeof hotlines[0]; k++)
		if (strcmp(nm->d, hotlines[k]) == 0)
			return 1;
	return 0;
}

static int after_phone_word(const struct nstate *s)
{
	size_t k = s->i, w;

	while (k > 0 && (at(s, k - 1) == ' ' || at(s, k - 1) == ':'))
		k--;
	for (w = 0; w < sizeof phone_words / sizeof phone_words[0]; w++)
		if (ends_at(s, k, phone_words[w]))
			return 1;
	return 0;
}

/* Phone and hotline numbers: after 拨打/电话/热线, a known hotline, an area code with a dash, or
 * five digits and more with no unit. Read digit by digit with 幺 for 1. */
static int is_phone(const struct nstate *s, const struct num *nm)
{
	size_t end;

	if (nm->neg || nm->nf || nm->ngroups || unit_after(s, nm->end, &end))
		return 0;
	if (s->i > 0 && at(s, s->i - 1) == CH_DI)
		return 0;
	if (is_hotline(nm) || (nm->nd >= 3 && after_phone_word(s)) || nm->nd >= 5)
		return 1;
	return nm->d[0] == '0' && nm->nd >= 3 && at(s, nm->end) == '-' &&
	       digits_from(s, nm->end + 1) >= 5;
}

static int say_phone(struct nstate *s, const struct num *nm)
{
	struct num more;

	if (say_digits(s, nm->d, nm->nd, 1))
		return -1;
	s->i = nm->end;
	while (at(s, s->i) == '-' && isdig(at(s, s->i + 1))) {
		parse_num(s, s->i + 1, &more);
		if (emit(s, "、", MARK_TEXT) || say_digits(s, more.d, more.nd, 1))
			return -1;
		s->i = more.end;
	}
	return 0;
}

/* A number of at most two digits at *k, its value in *v. */
static int small_at(const struct nstate *s, size_t *k, int *v)
{
	if (!isdig(at(s, *k)))
		return 0;
	*v = at(s, (*k)++) - '0';
	if (isdig(at(s, *k)))
		*v = *v * 10 + at(s, (*k)++) - '0';
	return !isdig(at(s, *k));
}

static int say_small(struct nstate *s, int v, const char *unit, unsigned flags)
{
	struct num nm;

	memset(&nm, 0, sizeof nm);
	if (v >= 10)
		nm.d[nm.nd++] = (char)('0' + v / 10);
	nm.d[nm.nd++] = (char)('0' + v % 10);
	return say_value(s, &nm, flags, 1) || emit(s, unit, MARK_TEXT);
}

/* 14:25, 14:25:30; v[2] is -1 without seconds. */
static int clock_at(const struct nstate *s, size_t k, int v[3], size_t *end)
{
	int n = 0;

	if (!small_at(s, &k, &v[0]))
		return 0;
	while (n < 2 && at(s, k) == ':' && isdig(at(s, k + 1)) && isdig(at(s, k + 2))) {
		k++;
		if (!small_at(s, &k, &v[++n]))
			return 0;
	}
	if (n == 0 || v[0] > 24 || v[1] > 59 || (n == 2 && v[2] > 59))
		return 0;
	if (n < 2)
		v[2] = -1;
	*end = k;
	return 1;
}

/* 十四点二十五分, 十四点零五分, 十四点 for 14:00, 两点 for 2:00. */
static int say_clock(struct nstate *s, const int v[3])
{
	if (say_small(s, v[0], "点", U_LIANG))
		return -1;
	if (v[1] == 0 && v[2] <= 0)
		return 0;
	if (v[1] < 10 && emit(s, "零", MARK_NUMBER))
		return -1;
	if (v[1] > 0 && say_small(s, v[1], "分", 0))
		return -1;
	if (v[1] == 0 && emit(s, "分", MARK_TEXT))
		return -1;
	return v[2] > 0 ? say_small(s, v[2], "秒", U_MINUTE) : 0;
}

static int say_clocks(struct nstate *s, const int v[3], size_t end)
{
	const char *word;
	size_t len = range_at(s, end, &word), end2;
	int w[3];

	if (say_clock(s, v))
		return -1;
	s->i = end;
	if (len && clock_at(s, end + len, w, &end2)) {
		if (emit(s, word, MARK_TEXT) || say_clock(s, w))
			return -1;
		s->i = end2;
	}
	return 0;
}

/* 2014-05-19, 2014/5/19 and 2014.5.19 are 二零一四年五月十九日; *done tells whether it was one. */
static int say_date(struct nstate *s, int *done)
{
	size_t k = s->i;
	int32_t sep = at(s, k + 4);
	int month, day;
	char year[5];

	*done = 0;
	for (int j = 0; j < 4; j++) {
		if (!isdig(at(s, k + (size_t)j)))
			return 0;
		year[j] = (char)at(s, k + (size_t)j);
	}
	year[4] = '\0';
	k += 5;
	if ((sep != '-' && sep != '/' && sep != '.') || !small_at(s, &k, &month) ||
	    at(s, k++) != sep || !small_at(s, &k, &day))
		return 0;
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return 0;
	*done = 1;
	s->i = k;
	return say_digits(s, year, 4, 0) || emit(s, "年", MARK_TEXT) ||
	       say_small(s, month, "月", 0) || say_small(s, day, "日", 0);
}

/* A number with whatever follows it: a clock time, a date, a phone number, a range, a unit. */
static int say_number(struct nstate *s)
{
	const struct unit *u;
	const char *word;
	struct num nm;
	size_t end;
	int v[3], done;

	if (say_date(s, &done) || done)
		return done ? 0 : -1;
	if (clock_at(s, s->i, v, &end))
		return say_clocks(s, v, end);
	parse_num(s, s->i, &nm);
	if (is_phone(s, &nm))
		return say_phone(s, &nm);
	u = unit_after(s, nm.end, &end);
	if (range_at(s, end, &word))
		return say_range(s, &nm, u, end, end);
	if (say_value(s, &nm, flags_for(s, s->i, u), 1) || say_unit(s, u, nm.end, end))
		return -1;
	s->i = end;
	return say_per(s, &s->i);
}

/* Roman numerals of a grade (Ⅳ级 or IV级) are read as numbers; 0 when the letters are not. */
static int roman_value(const struct nstate *s, size_t from, size_t to)
{
	int total = 0, prev = 0;

	for (size_t k = to; k > from; k--) {
		int32_t c = at(s, k - 1);
		int v = c == 'I' ? 1 : c == 'V' ? 5 : c == 'X' ? 10 : 0;

		if (!v)
			return 0;
		total += v < prev ? -v : v;
		if (v > prev)
			prev = v;
	}
	return total > 0 && total < 40 ? total : 0;
}

/* Latin letters stay as written for the English voice; a space survives only between them. */
static int say_latin(struct nstate *s)
{
	size_t k = s->i;
	int v;

	while (islatin(at(s, k)))
		k++;
	if (at(s, k) == CH_JI && (v = roman_value(s, s->i, k)) > 0) {
		s->i = k;
		return say_small(s, v, "", 0);
	}
	for (; s->i < k; s->i++)
		if (emit_cp(s, at(s, s->i)))
			return -1;
	return 0;
}

static int say_space(struct nstate *s)
{
	struct rbuf *o = s->out;
	int32_t prev = o->len ? (unsigned char)o->p[o->len - 1] : 0;

	if (at(s, s->i++) == '\n')
		return o->len && prev != '\n' ? emit(s, "\n", MARK_TEXT) : 0;
	if (islatin(prev) && islatin(at(s, s->i)))
		return emit(s, " ", MARK_TEXT);
	return 0;
}

static int say_symbol(struct nstate *s, int32_t c)
{
	size_t k;

	s->i++;
	if (c == '"') {
		s->quote_open = !s->quote_open;
		return emit(s, s->quote_open ? "“" : "”", MARK_TEXT);
	}
	if (c >= 0x2160 && c <= 0x216b)
		return say_small(s, c - 0x2160 + 1, "", 0);
	if (c >= 0x2460 && c <= 0x2473)
		return say_small(s, c - 0x2460 + 1, "", 0);
	for (k = 0; k < sizeof symbols / sizeof symbols[0]; k++)
		if (symbols[k].c == c)
			return emit(s, symbols[k].say, MARK_TEXT);
	for (k = 0; k < sizeof kept / sizeof kept[0]; k++)
		if (kept[k] == c)
			return emit_cp(s, c);
	return is_hanzi(c) ? emit_cp(s, c) : 0;
}

static int step(struct nstate *s)
{
	int32_t c = at(s, s->i), prev = s->i ? at(s, s->i - 1) : 0;

	if (isdig(c) || (c == '-' && isdig(at(s, s->i + 1)) && !isdig(prev) && !islatin(prev)))
		return say_number(s);
	if (islatin(c))
		return say_latin(s);
	if (c == ' ' || c == '\n')
		return say_space(s);
	return say_symbol(s, c);
}

static enum reading_result decode(const char *utf8, struct nstate *s)
{
	size_t len = strlen(utf8), i = 0;
	int32_t c;

	s->c = malloc((len + 1) * sizeof *s->c);
	if (!s->c)
		return READING_ERR_NOMEM;
	while (i < len) {
		c = utf8_next(utf8, len, &i);
		if (c < 0)
			return READING_ERR_TEXT;
		c = fold(c);
		if (c)
			s->c[s->n++] = c;
	}
	s->c[s->n] = 0;
	return READING_OK;
}

enum reading_result normalise_marked(const char *utf8, struct rbuf *out)
{
	struct nstate s;
	enum reading_result r;

	memset(&s, 0, sizeof s);
	s.out = out;
	out->marked = 1;
	r = decode(utf8, &s);
	if (r != READING_OK)
		goto out;
	while (s.i < s.n) {
		if (step(&s)) {
			r = READING_ERR_NOMEM;
			goto out;
		}
	}
	if (rbuf_put(out, "", 0, MARK_TEXT))
		r = READING_ERR_NOMEM;
out:
	free(s.c);
	return r;
}

enum reading_result reading_normalise(const char *utf8, char **out)
{
	struct rbuf b = {0};
	enum reading_result r;

	*out = NULL;
	r = normalise_marked(utf8, &b);
	if (r != READING_OK) {
		rbuf_free(&b);
		return r;
	}
	free(b.mark);
	*out = b.p;
	return READING_OK;
}
