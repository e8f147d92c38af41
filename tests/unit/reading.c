/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading rules: the normaliser's spoken forms, polyphones and tone changes against expected
 * pinyin, and eSpeak-NG (voice cmn-latn-pinyin) reading every pinyin line without switching
 * language or spelling a character. */

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <espeak-ng/speak_lib.h>

#include "tts/reading.h"

struct reading_case {
	const char *in;
	const char *want;
};

/* Spoken forms: input, normalised text. */
static const struct reading_case normalise_cases[] = {
	/* cardinals */
	{"0", "零"}, {"5", "五"}, {"10", "十"}, {"11", "十一"}, {"19", "十九"}, {"20", "二十"},
	{"25", "二十五"}, {"99", "九十九"}, {"100", "一百"}, {"101", "一百零一"},
	{"115", "一百一十五"}, {"200", "二百"}, {"480", "四百八十"}, {"999", "九百九十九"},
	{"1000", "一千"}, {"1001", "一千零一"}, {"1010", "一千零一十"}, {"1100", "一千一百"},
	{"2000", "两千"}, {"2350", "两千三百五十"}, {"2,350", "两千三百五十"},
	{"3005", "三千零五"}, {"1013", "一千零一十三"}, {"12,000", "一万二千"},
	{"10,000", "一万"}, {"1,000,000", "一百万"}, {"2,000,000", "二百万"},
	{"100,010,000", "一亿零一万"}, {"20,000", "两万"}, {"10,050", "一万零五十"},
	{"3,600", "三千六百"},
	/* decimals */
	{"0.5", "零点五"}, {"2.5", "二点五"}, {"12.05", "十二点零五"}, {"100.0", "一百点零"},
	{"0.01", "零点零一"}, {"1.5米", "一点五米"}, {"2.0", "二点零"}, {"3.14", "三点一四"},
	/* years */
	{"2014年", "二零一四年"}, {"2000年", "二零零零年"}, {"1998年", "一九九八年"},
	{"2013～2014年", "二零一三到二零一四年"}, {"25年", "二十五年"}, {"2年", "两年"},
	{"近10年来", "近十年来"},
	/* dates */
	{"5月19日", "五月十九日"}, {"12月4日", "十二月四日"}, {"1月1日", "一月一日"},
	{"2月6日", "二月六日"}, {"10月1日", "十月一日"},
	{"2014年5月19日", "二零一四年五月十九日"}, {"2014-05-19", "二零一四年五月十九日"},
	{"2014/5/19", "二零一四年五月十九日"}, {"2014.7.17", "二零一四年七月十七日"},
	{"7月17日10时", "七月十七日十时"}, {"6月2号", "六月二号"},
	{"9月1日-3日", "九月一日到三日"}, {"5月1日至3日", "五月一日至三日"},
	/* times */
	{"14时25分", "十四时二十五分"}, {"14时40分", "十四时四十分"}, {"8时", "八时"},
	{"2时", "两时"}, {"12时", "十二时"}, {"14时05分", "十四时零五分"},
	{"14:25", "十四点二十五分"}, {"14:05", "十四点零五分"}, {"14:00", "十四点"},
	{"8:30", "八点三十分"}, {"2:00", "两点"}, {"0:30", "零点三十分"},
	{"14:25:30", "十四点二十五分三十秒"}, {"14:00-16:00", "十四点到十六点"},
	{"20时至23时", "二十时至二十三时"}, {"17时", "十七时"}, {"1时", "一时"},
	/* percents */
	{"85%", "百分之八十五"}, {"100%", "百分之一百"},
	{"45%～85%", "百分之四十五到百分之八十五"}, {"45～85%", "百分之四十五到百分之八十五"},
	{"0.5%", "百分之零点五"}, {"30％", "百分之三十"}, {"低于30%", "低于百分之三十"},
	{"5‰", "千分之五"}, {"2%", "百分之二"},
	/* ranges and temperatures */
	{"25～32℃", "二十五到三十二摄氏度"}, {"12～23℃", "十二到二十三摄氏度"},
	{"2～3级", "二到三级"}, {"7～9级", "七到九级"}, {"25~32℃", "二十五到三十二摄氏度"},
	{"25-32℃", "二十五到三十二摄氏度"}, {"25—32℃", "二十五到三十二摄氏度"},
	{"25至32℃", "二十五至三十二摄氏度"}, {"25到32℃", "二十五到三十二摄氏度"},
	{"-2℃", "零下二摄氏度"}, {"\xe2\x88\x92" "2℃", "零下二摄氏度"},
	{"-2～3℃", "零下二摄氏度到三摄氏度"}, {"-5～-2℃", "零下五到零下二摄氏度"},
	{"最低气温-3℃", "最低气温零下三摄氏度"}, {"30℃", "三十摄氏度"},
	{"30°C", "三十摄氏度"}, {"36.5℃", "三十六点五摄氏度"}, {"5～20毫米", "五到二十毫米"},
	{"2～3小时", "两到三小时"}, {"1～2天", "一到两天"}, {"24-48小时", "二十四到四十八小时"},
	{"6～8级短时大风", "六到八级短时大风"}, {"阵风7～9级", "阵风七到九级"},
	{"3～5℃", "三到五摄氏度"}, {"10～15毫米", "十到十五毫米"}, {"2～3个", "两到三个"},
	/* units */
	{"50mm", "五十毫米"}, {"50 mm", "五十毫米"}, {"30毫米", "三十毫米"},
	{"10km/h", "十公里每小时"}, {"5m/s", "五米每秒"}, {"17.2m/s", "十七点二米每秒"},
	{"1013hPa", "一千零一十三百帕"}, {"480公里", "四百八十公里"}, {"480km", "四百八十公里"},
	{"2km", "两公里"}, {"500m", "五百米"}, {"3cm", "三厘米"},
	{"35μg/m³", "三十五微克每立方米"}, {"20mm/h", "二十毫米每小时"},
	{"50公里/小时", "五十公里每小时"}, {"24h", "二十四小时"}, {"30min", "三十分钟"},
	{"5级", "五级"}, {"8级以上", "八级以上"}, {"2级", "二级"}, {"1级", "一级"},
	{"2天", "两天"}, {"2小时", "两小时"}, {"2个", "两个"}, {"2次", "两次"}, {"2米", "两米"},
	{"2万", "两万"}, {"3万人", "三万人"}, {"1.5万", "一点五万"}, {"45°", "四十五度"},
	{"20dB", "二十分贝"}, {"2倍", "两倍"}, {"110公里", "一百一十公里"},
	/* ordinals */
	{"第9号", "第九号"}, {"第12号台风", "第十二号台风"}, {"第2天", "第二天"},
	{"第1409号台风", "第一四零九号台风"}, {"1409号台风", "一四零九号台风"}, {"第1", "第一"},
	{"第2次", "第二次"},
	/* phone and hotline numbers */
	{"12121", "幺二幺二幺"}, {"12119", "幺二幺幺九"}, {"拨打12119", "拨打幺二幺幺九"},
	{"12379", "幺二三七九"}, {"110", "幺幺零"}, {"请拨打110报警", "请拨打幺幺零报警"},
	{"电话：0757-88888888", "电话：零七五七、八八八八八八八八"},
	{"热线电话96121", "热线电话九六幺二幺"}, {"咨询电话12345", "咨询电话幺二三四五"},
	{"致电12320", "致电幺二三二零"}, {"0757-12345678", "零七五七、幺二三四五六七八"},
	{"12121查询", "幺二幺二幺查询"}, {"手机13800138000", "手机幺三八零零幺三八零零零"},
	{"拨打 12121", "拨打幺二幺二幺"},
	/* letters */
	{"PM2.5", "PM二点五"}, {"PM10", "PM十"}, {"AQI", "AQI"}, {"AQI为150", "AQI为一百五十"},
	{"O3", "O三"}, {"5G", "五G"}, {"Ⅳ级", "四级"}, {"IV级应急响应", "四级应急响应"},
	{"Ⅱ级", "二级"},
	/* punctuation and symbols */
	{"“威马逊”", "“威马逊”"}, {"\"威马逊\"", "“威马逊”"}, {"今天(周一)", "今天（周一）"},
	{"今天，明天。", "今天，明天。"}, {"今天,明天.", "今天，明天。"}, {"注意!", "注意！"},
	{"注意?", "注意？"}, {"预报:", "预报："}, {"晴;多云", "晴；多云"},
	{"雷电/冰雹", "雷电、冰雹"}, {"≥50毫米", "大于等于五十毫米"}, {"今天 天气", "今天天气"},
	{"★注意", "注意"}, {"第一行\n第二行", "第一行\n第二行"},
	{"第一行\r\n\r\n第二行", "第一行\n第二行"},
	{"ＰＭ２．５", "PM二点五"}, {"１２１２１", "幺二幺二幺"}, {"风力３～４级", "风力三到四级"},
	{"温度１５℃", "温度十五摄氏度"}, {"今天～明天", "今天到明天"}, {"A&B", "A和B"},
	{"Wi Fi", "Wi Fi"}, {"①", "一"}, {"※", ""}, {"《通知》", "《通知》"},
	{"马丁·路德", "马丁路德"}, {"高温℃", "高温摄氏度"},
	/* as bulletins write them */
	{"气温12～23℃；东北风2～3级，阵风5级", "气温十二到二十三摄氏度；东北风二到三级，阵风五级"},
	{"相对湿度45%～85%。", "相对湿度百分之四十五到百分之八十五。"},
	{"未来24小时", "未来二十四小时"}, {"未来2小时", "未来两小时"}, {"过去3小时", "过去三小时"},
	{"连续25天", "连续二十五天"}, {"约480公里", "约四百八十公里"},
	{"第9号台风“威马逊”", "第九号台风“威马逊”"}, {"1小时", "一小时"}, {"1天", "一天"},
	{"1个月", "一个月"}, {"约1.5万人", "约一点五万人"},
	{"2014年5月19日14时40分", "二零一四年五月十九日十四时四十分"},
	{"雨量5～20毫米", "雨量五到二十毫米"}, {"气温下降3～5℃", "气温下降三到五摄氏度"},
};

/* Polyphones in context and the tone changes of 一 and 不: input, eSpeak-NG line. */
static const struct reading_case pinyin_cases[] = {
	{"降水", "jiang4 shui3"}, {"投降", "tou2 xiang2"}, {"强降水", "qiang2 jiang4 shui3"},
	{"勉强", "mian3 qiang3"}, {"长时间", "chang2 shi2 jian1"}, {"生长", "sheng1 zhang3"},
	{"重点", "zhong4 dian3"}, {"重新", "chong2 xin1"}, {"行人", "xing2 ren2"},
	{"银行", "yin2 hang2"}, {"还有", "hai2 you3"}, {"归还", "gui1 huan2"},
	{"因为", "yin1 wei4"}, {"等级为五级", "deng3 ji2 wei2 wu3 ji2"},
	{"调整", "tiao2 zheng3"}, {"声调", "sheng1 diao4"}, {"处理", "chu3 li3"},
	{"各处", "ge4 chu4"}, {"曝晒", "pu4 shai4"}, {"着火", "zhao2 huo3"},
	{"看着", "kan4 zhe5"}, {"下雨了", "xia4 yu3 le5"}, {"了解", "liao3 jie3"},
	{"便于", "bian4 yu2"}, {"便宜", "pian2 yi5"}, {"冲刷", "chong1 shua1"},
	{"应及时转移", "ying1 ji2 shi2 zhuan3 yi2"}, {"应急", "ying4 ji2"},
	{"更合镇", "geng1 he2 zhen4"}, {"更加", "geng4 jia1"}, {"更新", "geng1 xin1"},
	{"新圩村", "xin1 xu1 cun1"}, {"沧江社区", "cang1 jiang1 she4 qu1"},
	{"荷城街道", "he2 cheng2 jie1 dao4"}, {"杨梅村", "yang2 mei2 cun1"},
	{"明城镇", "ming2 cheng2 zhen4"}, {"杨和镇", "yang2 he2 zhen4"},
	{"更楼村", "geng1 lou2 cun1"}, {"城乡积涝", "cheng2 xiang1 ji1 lao4"},
	{"薄雾", "bo2 wu4"}, {"中暑", "zhong4 shu3"}, {"着凉", "zhao2 liang2"},
	{"下降", "xia4 jiang4"}, {"雨量", "yu3 liang4"}, {"数量", "shu4 liang4"},
	{"几乎", "ji1 hu1"}, {"还将", "hai2 jiang1"}, {"处于", "chu3 yu2"},
	{"干燥", "gan1 zao4"}, {"背风", "bei4 feng1"}, {"调查", "diao4 cha2"},
	{"露天", "lu4 tian1"}, {"转为", "zhuan3 wei2"}, {"为了", "wei4 le5"},
	{"作为", "zuo4 wei2"}, {"相对湿度", "xiang1 dui4 shi1 du4"}, {"空气", "kong1 qi4"},
	{"行业", "hang2 ye4"}, {"少数", "shao3 shu4"}, {"能见度差", "neng2 jian4 du4 cha4"},
	{"相差", "xiang1 cha1"}, {"降落", "jiang4 luo4"}, {"冰雹", "bing1 bao2"},
	{"一场大雨", "yi4 chang2 da4 yu3"},
	/* 一 and 不 */
	{"一天", "yi4 tian1"}, {"一样", "yi2 yang4"}, {"一起", "yi4 qi3"}, {"一定", "yi2 ding4"},
	{"统一", "tong3 yi1"}, {"第一", "di4 yi1"}, {"一月一日", "yi1 yue4 yi1 ri4"},
	{"十一", "shi2 yi1"}, {"一到两天", "yi1 dao4 liang3 tian1"}, {"一二三", "yi1 er4 san1"},
	{"不是", "bu2 shi4"}, {"不好", "bu4 hao3"}, {"不去", "bu2 qu4"}, {"不行", "bu4 xing2"},
	{"不得不去", "bu4 de2 bu2 qu4"}, {"严禁一切", "yan2 jin4 yi2 qie4"},
	{"1小时", "yi4 xiao3 shi2"}, {"1个", "yi2 ge4"}, {"1级", "yi1 ji2"},
	{"5月1日", "wu3 yue4 yi1 ri4"}, {"1时", "yi1 shi2"}, {"11时", "shi2 yi1 shi2"},
	{"21℃", "er4 shi2 yi1 she4 shi4 du4"}, {"100", "yi4 bai3"}, {"1000", "yi4 qian1"},
	{"10000人", "yi2 wan4 ren2"}, {"1.5", "yi1 dian3 wu3"},
	{"2014年", "er4 ling2 yi1 si4 nian2"}, {"第1", "di4 yi1"},
	{"12121", "yao1 er4 yao1 er4 yao1"},
	{"PM2.5", "PM er4 dian3 wu3"},
};

static char source_dir[4096];
static struct reading *rd;

/* The source tree holds the lexicon and the data: found from this file's own path, so that the
 * test runs from any folder. */
static void find_source_dir(void)
{
	const char *f = __FILE__, *cut = strstr(f, "tests/unit/reading.c");

	if (cut && cut > f)
		snprintf(source_dir, sizeof source_dir, "%.*s", (int)(cut - f - 1), f);
	else
		snprintf(source_dir, sizeof source_dir, ".");
}

static const char *in_source(const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", source_dir, rel);
	return buf;
}

static int setup(void **state)
{
	char lex[4200], over[4200], err[256];

	find_source_dir();
	if (reading_open(&rd, in_source("tts/data/lexicon.txt", lex, sizeof lex),
			 in_source("etc/reading-override.txt", over, sizeof over), err,
			 sizeof err) != READING_OK) {
		fprintf(stderr, "reading_open: %s\n", err);
		return -1;
	}
	if (espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT) < 0 ||
	    espeak_SetVoiceByName("cmn-latn-pinyin") != EE_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	reading_close(rd);
	espeak_Terminate();
	return 0;
}

/* Every token is letters then a tone 1-5: what cmn-latn-pinyin reads as one syllable. */
static int pinyin_well_formed(const char *line)
{
	const char *p = line;

	while (*p) {
		const char *start = p;

		while (*p >= 'a' && *p <= 'z')
			p++;
		if (p == start || *p < '1' || *p > '5')
			return 0;
		p++;
		if (*p == ' ' && p[1] != '\0' && p[1] != ' ')
			p++;
		else if (*p)
			return 0;
	}
	return p != line;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	while (*len + n + 1 > *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* The phoneme string eSpeak-NG makes of line with the current voice. */
static char *espeak_phonemes(const char *line)
{
	const void *p = line;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	append(&buf, &len, &cap, "");
	while (p) {
		const char *ph = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, 0);

		append(&buf, &len, &cap, ph ? ph : "");
		append(&buf, &len, &cap, " ");
	}
	return buf;
}

/* The tone contours eSpeak-NG gives the syllables: the runs of digits in its phonemes. */
static char *contours(const char *phonemes)
{
	char *buf = NULL, run[8];
	size_t len = 0, cap = 0, n;

	append(&buf, &len, &cap, "");
	for (const char *p = phonemes; *p;) {
		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		for (n = 0; *p >= '0' && *p <= '9' && n < sizeof run - 1; p++)
			run[n++] = *p;
		run[n] = '\0';
		append(&buf, &len, &cap, len ? " " : "");
		append(&buf, &len, &cap, run);
	}
	return buf;
}

static char *expected_contours(const char *line)
{
	static const char *const contour[] = {"", "55", "35", "214", "51", "11"};
	char *buf = NULL;
	size_t len = 0, cap = 0;

	append(&buf, &len, &cap, "");
	for (const char *p = line; *p; p++) {
		if (*p >= '1' && *p <= '5') {
			append(&buf, &len, &cap, len ? " " : "");
			append(&buf, &len, &cap, contour[*p - '0']);
		}
	}
	return buf;
}

/* 0 when eSpeak-NG reads a PINYIN line as exactly its syllables and tones: no switch to another
 * language (a tag such as "(en)"), no character spelled out, no syllable split or merged. */
static int espeak_reads(const char *line, int *switches)
{
	char *ph = espeak_phonemes(line), *got = contours(ph), *want = expected_contours(line);
	int bad = !pinyin_well_formed(line) || strchr(ph, '(') || strcmp(got, want) != 0;

	for (const char *p = ph; (p = strchr(p, '(')) != NULL; p++)
		(*switches)++;
	if (bad)
		print_error("eSpeak-NG: [%s] -> [%s]\n", line, ph);
	free(ph);
	free(got);
	free(want);
	return bad;
}

/* Checks every PINYIN segment of text; returns how many failed. */
static int segments_read(const char *text, int *switches)
{
	struct reading_segment *seg;
	size_t n;
	int bad = 0;

	assert_int_equal(reading_segments(rd, text, NULL, &seg, &n), READING_OK);
	for (size_t k = 0; k < n; k++)
		if (seg[k].kind == READING_PINYIN)
			bad += espeak_reads(seg[k].text, switches);
	reading_segments_free(seg, n);
	return bad;
}

static void test_normalise(void **state)
{
	size_t n = sizeof normalise_cases / sizeof normalise_cases[0];
	int bad = 0, switches = 0;
	char *out;

	assert_true(n >= 150);
	for (size_t k = 0; k < n; k++) {
		const struct reading_case *c = &normalise_cases[k];

		assert_int_equal(reading_normalise(c->in, &out), READING_OK);
		if (strcmp(out, c->want) != 0) {
			print_error("normalise [%s]: got [%s], want [%s]\n", c->in, out, c->want);
			bad++;
		}
		free(out);
		bad += segments_read(c->in, &switches);
	}
	assert_int_equal(switches, 0);
	assert_int_equal(bad, 0);
}

/* The eSpeak-NG line of a text that is one sentence or several, joined by spaces. */
static char *pinyin_of(const char *text)
{
	struct reading_sentence *s;
	char *buf = NULL;
	size_t n, len = 0, cap = 0;

	assert_int_equal(reading_sentences(rd, text, &s, &n), READING_OK);
	append(&buf, &len, &cap, "");
	for (size_t k = 0; k < n; k++) {
		append(&buf, &len, &cap, k ? " " : "");
		append(&buf, &len, &cap, s[k].pinyin);
	}
	reading_sentences_free(s, n);
	return buf;
}

static void test_pinyin(void **state)
{
	size_t n = sizeof pinyin_cases / sizeof pinyin_cases[0];
	int bad = 0, switches = 0;

	assert_true(n >= 60);
	for (size_t k = 0; k < n; k++) {
		const struct reading_case *c = &pinyin_cases[k];
		char *got = pinyin_of(c->in);

		if (strcmp(got, c->want) != 0) {
			print_error("pinyin [%s]: got [%s], want [%s]\n", c->in, got, c->want);
			bad++;
		}
		free(got);
		bad += segments_read(c->in, &switches);
	}
	assert_int_equal(switches, 0);
	assert_int_equal(bad, 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* Checks every .txt bulletin of a folder; returns how many were read. */
static int bulletins_read(const char *rel, int *bad, int *switches)
{
	char dir[4200], path[8400];
	struct dirent *de;
	DIR *d = opendir(in_source(rel, dir, sizeof dir));
	int files = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *text;

		if (len < 4 || strcmp(de->d_name + len - 4, ".txt") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		text = slurp(path);
		*bad += segments_read(text, switches);
		free(text);
		files++;
	}
	closedir(d);
	return files;
}

static void test_bulletins(void **state)
{
	int bad = 0, switches = 0;

	assert_int_equal(bulletins_read("tests/data/bulletins", &bad, &switches), 12);
	assert_true(bulletins_read("tests/data/gold", &bad, &switches) >= 30);
	assert_int_equal(switches, 0);
	assert_int_equal(bad, 0);
}

/* Adds syl to a set of syllables kept in open addressing; 1 when it was new. */
static int syllable_add(char (*set)[8], size_t slots, const char *syl, size_t len)
{
	size_t h = 5381;

	if (len >= 8)
		return 1;
	for (size_t k = 0; k < len; k++)
		h = h * 33 + (unsigned char)syl[k];
	for (h %= slots; set[h][0]; h = (h + 1) % slots)
		if (strlen(set[h]) == len && memcmp(set[h], syl, len) == 0)
			return 0;
	memcpy(set[h], syl, len);
	return 1;
}

/* Collects syllables into lines of forty and has eSpeak-NG read each full line. */
struct syllable_lines {
	char *line;
	size_t len, cap;
	int in_line, bad, switches;
};

static void syllable_line_add(struct syllable_lines *l, const char *syl, size_t n)
{
	char buf[8];

	assert_true(n < sizeof buf);
	memcpy(buf, syl, n);
	buf[n] = '\0';
	append(&l->line, &l->len, &l->cap, l->in_line ? " " : "");
	append(&l->line, &l->len, &l->cap, buf);
	if (++l->in_line == 40) {
		l->bad += espeak_reads(l->line, &l->switches);
		l->len = 0;
		l->line[0] = '\0';
		l->in_line = 0;
	}
}

/* Each syllable the lexicon can produce is read by eSpeak-NG as one syllable of its tone. */
static void test_lexicon_syllables(void **state)
{
	static char set[8192][8];
	char path[4200], *lex = slurp(in_source("tts/data/lexicon.txt", path, sizeof path));
	struct syllable_lines l = {0};
	size_t distinct = 0, n;

	append(&l.line, &l.len, &l.cap, "");
	for (char *p = lex; *p; p = strchr(p, '\n') + 1) {
		char *py = strchr(p, '\t'), *end;

		if (*p == '#' || !py)
			continue;
		for (end = strchr(++py, '\t'); py < end; py += n + (py[n] == ' ')) {
			n = strcspn(py, " \t");
			if (syllable_add(set, sizeof set / sizeof set[0], py, n)) {
				syllable_line_add(&l, py, n);
				distinct++;
			}
		}
	}
	if (l.in_line)
		l.bad += espeak_reads(l.line, &l.switches);
	free(l.line);
	free(lex);
	assert_true(distinct > 1000);
	assert_int_equal(l.switches, 0);
	assert_int_equal(l.bad, 0);
}

static void expect_segment(const struct reading_segment *s, enum reading_kind kind,
			   const char *text, unsigned ms)
{
	assert_int_equal(s->kind, kind);
	if (text)
		assert_string_equal(s->text, text);
	else
		assert_null(s->text);
	assert_int_equal(s->pause_ms, ms);
}

static void test_segments(void **state)
{
	struct reading_pauses p = {.sentence_ms = 700, .clause_ms = 350, .list_ms = 250,
				   .bracket_ms = 50};
	struct reading_segment *seg;
	size_t n;

	assert_int_equal(reading_segments(rd, "。PM2.5浓度高，AQI为150、“威马逊”。”\n明天",
					  &p, &seg, &n), READING_OK);
	assert_int_equal(n, 9);
	expect_segment(&seg[0], READING_LATIN, "P-M", 0);
	expect_segment(&seg[1], READING_PINYIN, "er4 dian3 wu3 nong2 du4 gao1", 0);
	expect_segment(&seg[2], READING_PAUSE, NULL, 350);
	expect_segment(&seg[3], READING_LATIN, "A-Q-I", 0);
	expect_segment(&seg[4], READING_PINYIN, "wei2 yi4 bai3 wu3 shi2", 0);
	expect_segment(&seg[5], READING_PAUSE, NULL, 250);
	expect_segment(&seg[6], READING_PINYIN, "wei1 ma3 xun4", 0);
	expect_segment(&seg[7], READING_PAUSE, NULL, 700);
	expect_segment(&seg[8], READING_PINYIN, "ming2 tian1", 0);
	reading_segments_free(seg, n);
}

static void test_sentences(void **state)
{
	struct reading_sentence *s;
	size_t n;

	assert_int_equal(reading_sentences(rd, "今天多云，气温25～32℃。他说：“注意防暑。”\n"
					   "\n明天阴；AQI为50！。", &s, &n), READING_OK);
	assert_int_equal(n, 4);
	assert_string_equal(s[0].text, "今天多云，气温二十五到三十二摄氏度。");
	assert_string_equal(s[0].pinyin, "jin1 tian1 duo1 yun2 qi4 wen1 er4 shi2 wu3 dao4 "
			    "san1 shi2 er4 she4 shi4 du4");
	assert_string_equal(s[1].text, "他说：“注意防暑。”");
	assert_string_equal(s[1].pinyin, "ta1 shuo1 zhu4 yi4 fang2 shu3");
	assert_string_equal(s[2].text, "明天阴；");
	assert_string_equal(s[3].text, "AQI为五十！");
	assert_string_equal(s[3].pinyin, "AQI wei2 wu3 shi2");
	reading_sentences_free(s, n);
}

static char *temp_file(const char *content)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof path, "/tmp/unit_reading.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void expect_open_fails(const char *lex, const char *over, enum reading_result want,
			      const char *in_err)
{
	struct reading *r = NULL;
	char err[256] = "";

	assert_int_equal(reading_open(&r, lex, over, err, sizeof err), want);
	assert_null(r);
	assert_non_null(strstr(err, in_err));
}

static void expect_override_fails(const char *content, const char *in_err)
{
	char lex[4200], *path = strdup(temp_file(content));

	expect_open_fails(in_source("tts/data/lexicon.txt", lex, sizeof lex), path,
			  READING_ERR_OVERRIDE, in_err);
	unlink(path);
	free(path);
}

static void test_open_errors(void **state)
{
	char *bad_lex;

	expect_open_fails("/nonexistent/lexicon.txt", NULL, READING_ERR_IO, "/nonexistent");
	bad_lex = strdup(temp_file("降水\tjiang4 shui3\t900\n"));
	expect_open_fails(bad_lex, NULL, READING_ERR_LEXICON, "not a cx-lexicon");
	unlink(bad_lex);
	free(bad_lex);
	expect_override_fails("# comment\n沧江 cang1 jiang1\n沧江 cang jiang\n", ":3:");
	expect_override_fails("沧江 cang1 jiang1\n\n沧江 cang1 jiang1\n", "twice");
	expect_override_fails("沧江 cang1\n", ":1:");
	expect_override_fails("沧江 cang1jiang1\n", ":1:");
	expect_override_fails("沧江 cang 1 jiang1\n", ":1:");
	expect_override_fails("沧江 cang6 jiang1\n", ":1:");
	expect_override_fails("PM er4 dian3\n", ":1:");
}

static void test_text_errors(void **state)
{
	struct reading_segment *seg;
	struct reading_sentence *sen;
	char *out = (char *)"x";
	size_t n;

	assert_int_equal(reading_normalise("\xff\xfe", &out), READING_ERR_TEXT);
	assert_null(out);
	assert_int_equal(reading_segments(rd, "气温\xe6\xb0", NULL, &seg, &n), READING_ERR_TEXT);
	assert_null(seg);
	assert_int_equal(reading_sentences(rd, "\xc0\xaf", &sen, &n), READING_ERR_TEXT);
	assert_null(sen);
	for (int r = READING_OK; r <= READING_ERR_TEXT; r++)
		assert_non_null(reading_strerror((enum reading_result)r));
}

/* The operator's file wins over the lexicon, ü may be written as such. */
static void test_override(void **state)
{
	char lex[4200], err[256], *path;
	struct reading *r;
	struct reading_sentence *s;
	size_t n;

	path = strdup(temp_file("# test\n降水  jiang1 shui3\n绿道 LÜ4 dao4 \n"));
	assert_int_equal(reading_open(&r, in_source("tts/data/lexicon.txt", lex, sizeof lex), path,
				      err, sizeof err), READING_OK);
	assert_int_equal(reading_sentences(r, "强降水，绿道", &s, &n), READING_OK);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].pinyin, "qiang2 jiang1 shui3 lv4 dao4");
	reading_sentences_free(s, n);
	reading_close(r);
	unlink(path);
	free(path);
}

static void test_empty(void **state)
{
	struct reading_segment *seg;
	struct reading_sentence *sen;
	char *out;
	size_t n;

	assert_int_equal(reading_normalise("", &out), READING_OK);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(reading_segments(rd, "。，！", NULL, &seg, &n), READING_OK);
	assert_int_equal(n, 0);
	reading_segments_free(seg, n);
	assert_int_equal(reading_sentences(rd, "\n\n", &sen, &n), READING_OK);
	assert_int_equal(n, 0);
	reading_sentences_free(sen, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_pinyin),
		cmocka_unit_test(test_bulletins),
		cmocka_unit_test(test_lexicon_syllables),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_sentences),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_text_errors),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
