/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/bulletin.c: the twelve shared bulletins as POST /v1/bulletins bodies,
 * the warning phrase against the keys, default repeats, targets against etc/zones.csv, and
 * one table row per malformed or refused request with its HTTP status and message. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headend/bulletin.h"
#include "headend/config.h"
#include "zones/zones.h"

#define DIRECTORY "etc/zones.csv"
#define SETTINGS "etc/headend.cfg"
#define BULLETINS "tests/data/bulletins/"
#define ERR_MAX 1024
#define N(a) (sizeof(a) / sizeof((a)[0]))

#define HAIL 9
#define RAINSTORM 2
#define COLD 4
#define FOREST_FIRE 10
#define TYPHOON 1
#define THUNDERSTORM_GALE 7
#define HAZE 6

#define FORECAST_TEXT "高明区气象台12月4日17时发布未来24小时天气预报：多云。"
#define CHANGE_TEXT "高明区气象台5月19日15时10分将暴雨橙色预警信号更新为暴雨红色预警信号：" \
		    "明城镇、更合镇已出现100毫米以上降水。"

static struct zones *directory;
static struct headend_config settings;

static int load_all(void **state)
{
	char err[ERR_MAX];

	if (zones_load(&directory, DIRECTORY, err, sizeof(err)) != ZONES_OK ||
	    config_load(&settings, SETTINGS, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int free_all(void **state)
{
	zones_free(directory);
	return 0;
}

static char *read_text(const char *name)
{
	char path[256];
	FILE *f;
	char *text = calloc(1, 8192);
	size_t n;

	snprintf(path, sizeof(path), BULLETINS "%s.txt", name);
	f = fopen(path, "rb");
	if (!f || !text)
		fail_msg("%s: cannot read", path);
	n = fread(text, 1, 8191, f);
	fclose(f);
	assert_true(n > 0 && n < 8191);
	return text;
}

/* A request body: the text plus "key", "value" string pairs; caller frees. */
static char *body_with(const char *text, const char *targets_json, ...)
{
	json_t *o = json_object();
	va_list ap;
	const char *k;
	char *s;

	json_object_set_new(o, "text", json_string(text));
	if (targets_json)
		json_object_set_new(o, "targets", json_loads(targets_json, 0, NULL));
	va_start(ap, targets_json);
	while ((k = va_arg(ap, const char *)))
		json_object_set_new(o, k, json_string(va_arg(ap, const char *)));
	va_end(ap);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_non_null(s);
	return s;
}

static int parse_cfg(const char *body, size_t len, const struct headend_config *cfg,
		     struct bulletin *b, char *err)
{
	err[0] = '\0';
	return bulletin_parse(body, len, directory, cfg, b, err, ERR_MAX);
}

static int parse(const char *body, struct bulletin *b, char *err)
{
	return parse_cfg(body, strlen(body), &settings, b, err);
}

static void assert_codes(const struct bulletin *b, const uint64_t *codes, size_t n)
{
	assert_int_equal(b->n_codes, n);
	for (size_t i = 0; i < n; i++)
		if (b->codes[i] != codes[i])
			fail_msg("code %zu is %llu, expected %llu", i,
				 (unsigned long long)b->codes[i], (unsigned long long)codes[i]);
}

/* The shared bulletins */

static void test_shared_bulletins(void **state)
{
	static const struct {
		const char *file;
		enum proto_kind kind;
		uint8_t signal;
		enum proto_colour colour;
		enum proto_action action;
		int repeat;
	} rows[] = {
		{ "forecast-24h-1700", PROTO_KIND_FORECAST, 0, 0, 0, 0 },
		{ "forecast-24h-1800", PROTO_KIND_FORECAST, 0, 0, 0, 0 },
		{ "nowcast-0800", PROTO_KIND_NOWCAST, 0, 0, 0, 0 },
		{ "nowcast-0900", PROTO_KIND_NOWCAST, 0, 0, 0, 0 },
		{ "nowcast-1200", PROTO_KIND_NOWCAST, 0, 0, 0, 0 },
		{ "nowcast-1600", PROTO_KIND_NOWCAST, 0, 0, 0, 0 },
		{ "warning-cold-yellow-lift", PROTO_KIND_WARNING, COLD, PROTO_COLOUR_YELLOW,
		  PROTO_ACTION_LIFT, 1 },
		{ "warning-forest-fire-red", PROTO_KIND_WARNING, FOREST_FIRE, PROTO_COLOUR_RED,
		  PROTO_ACTION_ISSUE, 3 },
		{ "warning-hail-orange", PROTO_KIND_WARNING, HAIL, PROTO_COLOUR_ORANGE,
		  PROTO_ACTION_ISSUE, 2 },
		{ "warning-rainstorm-orange", PROTO_KIND_WARNING, RAINSTORM, PROTO_COLOUR_ORANGE,
		  PROTO_ACTION_ISSUE, 2 },
		{ "warning-thunderstorm-gale-yellow", PROTO_KIND_WARNING, THUNDERSTORM_GALE,
		  PROTO_COLOUR_YELLOW, PROTO_ACTION_ISSUE, 1 },
		{ "warning-typhoon-white", PROTO_KIND_WARNING, TYPHOON, PROTO_COLOUR_WHITE,
		  PROTO_ACTION_ISSUE, 1 },
	};
	static const uint64_t two_towns[] = { 440608101, 440608102 };

	for (size_t i = 0; i < N(rows); i++) {
		char *text = read_text(rows[i].file), err[ERR_MAX];
		char *body = body_with(text, "[\"杨和镇\", \"明城镇\"]", NULL);
		struct bulletin b;
		int rc = parse(body, &b, err);

		if (rc)
			fail_msg("%s: %d %s", rows[i].file, rc, err);
		if (b.kind != rows[i].kind || b.signal != rows[i].signal ||
		    b.colour != rows[i].colour || b.action != rows[i].action ||
		    b.repeat != rows[i].repeat)
			fail_msg("%s: %s signal %u %s %s repeat %d", rows[i].file,
				 proto_kind_name(b.kind), b.signal, proto_colour_name(b.colour),
				 proto_action_name(b.action), b.repeat);
		assert_string_equal(b.text, text);
		assert_string_equal(b.targets, "杨和镇, 明城镇");
		assert_string_equal(b.client_id, "");
		assert_int_equal(b.endpoints, 980);
		assert_codes(&b, two_towns, 2);
		bulletin_free(&b);
		free(body);
		free(text);
	}
}

/* Keys beside the fixed phrase: agreeing keys in English or Chinese, disagreeing keys named. */
static void test_keys_and_phrase(void **state)
{
	static const struct {
		const char *kind, *signal, *colour, *action;
		int status;
		const char *said, *text_says;	/* both must be in the message */
	} rows[] = {
		{ "warning", "hail", "orange", "issue", 0, NULL, NULL },
		{ NULL, "hail", NULL, NULL, 0, NULL, NULL },
		{ NULL, NULL, "orange", NULL, 0, NULL, NULL },
		{ NULL, "冰雹", "橙色", "发布", 0, NULL, NULL },
		{ "warning", "冰雹", "橙", "issue", 0, NULL, NULL },
		{ NULL, NULL, "red", NULL, 422, "red", "orange" },
		{ NULL, "rainstorm", NULL, NULL, 422, "rainstorm", "hail" },
		{ NULL, NULL, NULL, "lift", 422, "lift", "issue" },
		{ NULL, "暴雨", NULL, NULL, 422, "rainstorm", "hail" },
		{ NULL, NULL, "红色", NULL, 422, "red", "orange" },
		{ NULL, NULL, NULL, "解除", 422, "lift", "issue" },
		{ NULL, "hail", "yellow", "issue", 422, "yellow", "orange" },
	};
	char *text = read_text("warning-hail-orange");

	for (size_t i = 0; i < N(rows); i++) {
		json_t *o = json_pack("{s:s}", "text", text);
		char *body, err[ERR_MAX];
		struct bulletin b;
		int rc;

		if (rows[i].kind)
			json_object_set_new(o, "kind", json_string(rows[i].kind));
		if (rows[i].signal)
			json_object_set_new(o, "signal", json_string(rows[i].signal));
		if (rows[i].colour)
			json_object_set_new(o, "colour", json_string(rows[i].colour));
		if (rows[i].action)
			json_object_set_new(o, "action", json_string(rows[i].action));
		body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		rc = parse(body, &b, err);
		free(body);

		if (rc != rows[i].status)
			fail_msg("row %zu: status %d (%s), expected %d", i, rc, err,
				 rows[i].status);
		if (rc == 0) {
			assert_int_equal(b.kind, PROTO_KIND_WARNING);
			assert_int_equal(b.signal, HAIL);
			assert_int_equal(b.colour, PROTO_COLOUR_ORANGE);
			assert_int_equal(b.action, PROTO_ACTION_ISSUE);
			bulletin_free(&b);
		} else if (!strstr(err, rows[i].said) || !strstr(err, rows[i].text_says)) {
			fail_msg("row %zu: \"%s\" does not name %s and %s", i, err, rows[i].said,
				 rows[i].text_says);
		}
	}
	free(text);
}

static void test_phrases(void **state)
{
	static const struct {
		const char *text;
		int found;
		uint8_t signal;
		enum proto_colour colour;
		enum proto_action action;
	} rows[] = {
		{ CHANGE_TEXT, 1, RAINSTORM, PROTO_COLOUR_RED, PROTO_ACTION_CHANGE },
		{ "发布冰雹橙色预警信号", 1, HAIL, PROTO_COLOUR_ORANGE, PROTO_ACTION_ISSUE },
		{ "解除寒冷黄色预警信号", 1, COLD, PROTO_COLOUR_YELLOW, PROTO_ACTION_LIFT },
		{ "气象台10时发布雷雨大风黄色预警信号：", 1, THUNDERSTORM_GALE,
		  PROTO_COLOUR_YELLOW, PROTO_ACTION_ISSUE },
		{ "发布台风白色预警信号", 1, TYPHOON, PROTO_COLOUR_WHITE, PROTO_ACTION_ISSUE },
		{ FORECAST_TEXT, 0, 0, 0, 0 },
		{ "冰雹橙色预警信号", 0, 0, 0, 0 },
		{ "发布冰雹紫色预警信号", 0, 0, 0, 0 },
		{ "发布冰雹橙色预警", 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0 },
		/* only the opening counts: a body that mentions another warning changes nothing */
		{ "高明区气象台发布冰雹橙色预警信号：预计今天不会发布暴雨红色预警信号。", 1, HAIL,
		  PROTO_COLOUR_ORANGE, PROTO_ACTION_ISSUE },
		{ "高明区气象台8时发布短时临近预报：今天不会发布冰雹橙色预警信号。", 0, 0, 0, 0 },
		/* two different warnings in the opening cannot be one broadcast */
		{ "高明区气象台发布暴雨红色预警信号，同时解除寒冷黄色预警信号：请注意。",
		  -1, 0, 0, 0 },
		{ "发布暴雨红色预警信号，解除寒冷黄色预警信号", -1, 0, 0, 0 },
		/* the same phrase twice is still one warning */
		{ "发布冰雹橙色预警信号（发布冰雹橙色预警信号）：", 1, HAIL, PROTO_COLOUR_ORANGE,
		  PROTO_ACTION_ISSUE },
	};

	for (size_t i = 0; i < N(rows); i++) {
		uint8_t s = 0;
		enum proto_colour c = PROTO_COLOUR_NONE;
		enum proto_action a = PROTO_ACTION_NONE;

		if (bulletin_phrase(&settings.signals, rows[i].text, &s, &c, &a) != rows[i].found)
			fail_msg("row %zu: phrase %sfound", i, rows[i].found ? "not " : "");
		if (rows[i].found != 1)
			continue;
		assert_int_equal(s, rows[i].signal);
		assert_int_equal(c, rows[i].colour);
		assert_int_equal(a, rows[i].action);
	}
}

/* The change phrase through the whole request: kind, colour and action from the phrase. */
static void test_change_request(void **state)
{
	char *body = body_with(CHANGE_TEXT, NULL, NULL), err[ERR_MAX];
	struct bulletin b;

	if (parse(body, &b, err))
		fail_msg("%s", err);
	assert_int_equal(b.kind, PROTO_KIND_WARNING);
	assert_int_equal(b.signal, RAINSTORM);
	assert_int_equal(b.colour, PROTO_COLOUR_RED);
	assert_int_equal(b.action, PROTO_ACTION_CHANGE);
	assert_int_equal(b.repeat, settings.signals.colours[PROTO_COLOUR_RED].repeat);
	bulletin_free(&b);
	free(body);
}

/* Signal and colour from the keys alone, and colours a signal does not have. */
static void test_keys_without_phrase(void **state)
{
	static const struct {
		const char *signal, *colour, *action;
		int status;
		uint8_t expect_signal;
		const char *words[2];
	} rows[] = {
		{ "hail", "orange", NULL, 0, HAIL, { NULL, NULL } },
		{ "冰雹", "红色", "更新", 0, HAIL, { NULL, NULL } },
		{ "haze", "yellow", "lift", 0, HAZE, { NULL, NULL } },
		{ "typhoon", "blue", NULL, 0, TYPHOON, { NULL, NULL } },
		{ "hail", "blue", NULL, 422, 0, { "hail", "blue" } },
		{ "hail", "yellow", NULL, 422, 0, { "hail", "yellow" } },
		{ "haze", "red", NULL, 422, 0, { "haze", "red" } },
		{ "灰霾", "橙色", NULL, 422, 0, { "haze", "orange" } },
		{ "rainstorm", "white", NULL, 422, 0, { "rainstorm", "white" } },
		{ "hail", NULL, NULL, 422, 0, { "signal and colour", NULL } },
		{ NULL, "orange", NULL, 422, 0, { "signal and colour", NULL } },
		{ "tornado", "red", NULL, 422, 0, { "unknown signal", "tornado" } },
		{ "hail", "purple", NULL, 422, 0, { "unknown colour", "purple" } },
		{ "hail", "orange", "cancel", 422, 0, { "unknown action", "cancel" } },
	};
	static const char text[] = "预计未来2小时杨和镇将出现冰雹，请做好防御。";

	for (size_t i = 0; i < N(rows); i++) {
		json_t *o = json_pack("{s:s, s:s}", "text", text, "kind", "warning");
		char *body, err[ERR_MAX];
		struct bulletin b;
		int rc;

		if (rows[i].signal)
			json_object_set_new(o, "signal", json_string(rows[i].signal));
		if (rows[i].colour)
			json_object_set_new(o, "colour", json_string(rows[i].colour));
		if (rows[i].action)
			json_object_set_new(o, "action", json_string(rows[i].action));
		body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		rc = parse(body, &b, err);
		free(body);

		if (rc != rows[i].status)
			fail_msg("row %zu: status %d (%s), expected %d", i, rc, err,
				 rows[i].status);
		if (rc == 0) {
			assert_int_equal(b.signal, rows[i].expect_signal);
			if (!rows[i].action)
				assert_int_equal(b.action, PROTO_ACTION_ISSUE);
			bulletin_free(&b);
			continue;
		}
		for (int w = 0; w < 2; w++)
			if (rows[i].words[w] && !strstr(err, rows[i].words[w]))
				fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err, rows[i].words[w]);
	}
}

/* Default repeats by kind, colour and action (etc/signals.cfg for warnings), with a distinct
 * value per setting. */
static void test_default_repeats(void **state)
{
	static const struct {
		const char *text;
		int expect;
	} rows[] = {
		{ FORECAST_TEXT, 3 },
		{ "高明区气象台8时发布短时临近预报：未来6小时多云。", 4 },
		{ "发布寒冷黄色预警信号", 7 },
		{ "发布台风白色预警信号", 5 },
		{ "发布台风蓝色预警信号", 6 },
		{ "发布冰雹橙色预警信号", 8 },
		{ "发布森林火险红色预警信号", 9 },
		{ "解除暴雨橙色预警信号", 2 },
		{ "解除暴雨红色预警信号", 2 },
		{ "解除寒冷黄色预警信号", 2 },
		{ CHANGE_TEXT, 9 },
		{ "将暴雨橙色预警信号更新为暴雨黄色预警信号", 7 },
	};
	struct headend_config cfg = settings;

	cfg.repeat_forecast = 3;
	cfg.repeat_nowcast = 4;
	for (int c = PROTO_COLOUR_WHITE; c <= PROTO_COLOUR_RED; c++)
		cfg.signals.colours[c].repeat = 4 + c;
	cfg.signals.lift_repeat = 2;
	for (size_t i = 0; i < N(rows); i++) {
		char *body = body_with(rows[i].text, NULL, NULL), err[ERR_MAX];
		struct bulletin b;

		if (parse_cfg(body, strlen(body), &cfg, &b, err))
			fail_msg("row %zu: %s", i, err);
		if (b.repeat != rows[i].expect)
			fail_msg("row %zu (%s): repeat %d, expected %d", i, rows[i].text, b.repeat,
				 rows[i].expect);
		bulletin_free(&b);
		free(body);
	}
}

/* A repeat in the request wins over the defaults. */
static void test_explicit_repeat(void **state)
{
	static const char *const bodies[] = {
		"{\"text\": \"发布冰雹橙色预警信号\", \"repeat\": 0}",
		"{\"text\": \"" FORECAST_TEXT "\", \"repeat\": 10}",
	};
	static const int expect[] = { 0, 10 };

	for (size_t i = 0; i < N(bodies); i++) {
		char err[ERR_MAX];
		struct bulletin b;

		if (parse(bodies[i], &b, err))
			fail_msg("%s", err);
		assert_int_equal(b.repeat, expect[i]);
		bulletin_free(&b);
	}
}

/* Targets */

static size_t village_endpoints(uint64_t code)
{
	for (size_t v = 0; v < directory->n_villages; v++)
		if (directory->villages[v].code == code)
			return directory->villages[v].n_endpoints;
	fail_msg("village %llu not in the directory", (unsigned long long)code);
	return 0;
}

static void test_targets(void **state)
{
	static const struct {
		const char *targets;	/* JSON, NULL: no key */
		size_t endpoints;
		uint64_t plus_village;	/* whose endpoints to add to the count, 0 none */
		const char *echo;
		uint64_t codes[2];
		size_t n_codes;
	} rows[] = {
		{ "[\"杨和镇\", \"明城镇\"]", 980, 0, "杨和镇, 明城镇", { 440608101, 440608102 },
		  2 },
		{ "[\"440608101\", \"440608102\"]", 980, 0, "440608101, 440608102",
		  { 440608101, 440608102 }, 2 },
		{ NULL, 2350, 0, "高明区", { 440608 }, 1 },
		{ "[\"高明区\"]", 2350, 0, "高明区", { 440608 }, 1 },
		{ "[\"荷城街道\", \"杨和镇\", \"明城镇\", \"更合镇\"]", 2350, 0,
		  "荷城街道, 杨和镇, 明城镇, 更合镇", { 440608 }, 1 },
		{ "[\"杨和镇/新圩村\"]", 0, 440608101206, "杨和镇/新圩村", { 440608101206 }, 1 },
		{ "[\"440608101206001\"]", 1, 0, "440608101206001", { 440608101206001 }, 1 },
		{ "[\"440608101206001\", \"440608103205001\"]", 2, 0,
		  "440608101206001, 440608103205001", { 440608101206001, 440608103205001 }, 2 },
		{ "[\"杨和镇\", \"440608102220\"]", 462, 440608102220, "杨和镇, 440608102220",
		  { 440608101, 440608102220 }, 2 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		char *body = body_with(FORECAST_TEXT, rows[i].targets, NULL), err[ERR_MAX];
		struct bulletin b;
		size_t expect = rows[i].endpoints;

		if (rows[i].plus_village)
			expect += village_endpoints(rows[i].plus_village);
		if (parse(body, &b, err))
			fail_msg("row %zu: %s", i, err);
		if (b.endpoints != expect)
			fail_msg("row %zu: %zu endpoints, expected %zu", i, b.endpoints, expect);
		assert_string_equal(b.targets, rows[i].echo);
		assert_codes(&b, rows[i].codes, rows[i].n_codes);
		bulletin_free(&b);
		free(body);
	}
}

static void test_ambiguous_target(void **state)
{
	char *body = body_with(FORECAST_TEXT, "[\"新圩村\"]", NULL), err[ERR_MAX];
	struct bulletin b;

	assert_int_equal(parse(body, &b, err), 422);
	assert_non_null(strstr(err, "新圩村"));
	assert_non_null(strstr(err, "杨和镇/新圩村"));
	assert_non_null(strstr(err, "更合镇/新圩村"));
	free(body);
}

/* Refused requests */

enum gen { GEN_NONE, GEN_LONG_TEXT, GEN_LONG_BODY, GEN_65_TARGETS, GEN_64_TARGETS,
	   GEN_MAX_TEXT };

/* Bodies too long to write out in a table row. */
static char *generate(enum gen g, size_t *len)
{
	json_t *o = json_object(), *list = json_array();
	char *text, *body;
	size_t n;

	json_object_set_new(o, "kind", json_string("forecast"));
	switch (g) {
	case GEN_LONG_TEXT:
	case GEN_MAX_TEXT:
		n = settings.max_text + (g == GEN_LONG_TEXT);
		text = malloc(n + 1);
		assert_non_null(text);
		memset(text, 'a', n);
		text[n] = '\0';
		json_object_set_new(o, "text", json_string(text));
		free(text);
		break;
	case GEN_65_TARGETS:
	case GEN_64_TARGETS:
		for (size_t i = 0; i < (g == GEN_65_TARGETS ? 65u : 64u); i++) {
			char code[24];

			snprintf(code, sizeof(code), "%llu",
				 (unsigned long long)directory->endpoints[i * 30].id);
			json_array_append_new(list, json_string(code));
		}
		json_object_set(o, "targets", list);
		/* fall through */
	default:
		json_object_set_new(o, "text", json_string(FORECAST_TEXT));
		break;
	}
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	json_decref(list);
	assert_non_null(body);

	/* one byte over the body limit: JSON allows trailing white space */
	if (g == GEN_LONG_BODY) {
		size_t have = strlen(body);

		n = settings.http_max_body + 1;
		body = realloc(body, n + 1);
		assert_non_null(body);
		memset(body + have, ' ', n - have);
		body[n] = '\0';
	}
	*len = strlen(body);
	return body;
}

#define F "\"text\": \"" FORECAST_TEXT "\""
#define ID64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-"
#define ID65 ID64 "."

static void test_refused(void **state)
{
	static const struct {
		const char *what, *body;
		enum gen gen;
		int status;
		const char *message;
	} rows[] = {
		{ "invalid JSON", "{\n  " F "\n  \"kind\": \"forecast\"\n}", GEN_NONE, 400,
		  "invalid JSON at line 3 column 8" },
		{ "trailing comma", "{" F ",}", GEN_NONE, 400, "invalid JSON at line 1" },
		{ "truncated JSON", "{\"text\": \"高明区气象台", GEN_NONE, 400, "invalid JSON" },
		{ "truncated after a key", "{\"text\":", GEN_NONE, 400, "invalid JSON" },
		{ "empty body", "", GEN_NONE, 400, "invalid JSON" },
		{ "a list", "[\"" FORECAST_TEXT "\"]", GEN_NONE, 400, "must be a JSON object" },
		{ "a string", "\"" FORECAST_TEXT "\"", GEN_NONE, 400, "invalid JSON" },
		{ "duplicate key", "{" F ", " F "}", GEN_NONE, 400, "invalid JSON" },
		{ "unknown key", "{" F ", \"color\": \"red\"}", GEN_NONE, 400,
		  "unknown key \"color\"" },
		{ "missing text", "{\"kind\": \"forecast\"}", GEN_NONE, 422,
		  "\"text\" is missing" },
		{ "text not a string", "{\"text\": 5}", GEN_NONE, 422, "\"text\" is missing" },
		{ "empty text", "{\"text\": \"\"}", GEN_NONE, 422, "text is empty" },
		{ "punctuation only", "{\"text\": \"!!!???。。。\", \"kind\": \"forecast\"}",
		  GEN_NONE, 422, "nothing to read aloud" },
		{ "emoji only",
		  "{\"text\": \"\\ud83c\\udf00\\ud83c\\udf00\", \"kind\": \"nowcast\"}",
		  GEN_NONE, 422, "nothing to read aloud" },
		{ "two warnings in the opening",
		  "{\"text\": \"发布暴雨红色预警信号，同时解除寒冷黄色预警信号：请注意。\"}",
		  GEN_NONE, 422, "more than one warning" },
		{ "white space", "{\"text\": \" \\t\\r\\n \"}", GEN_NONE, 422, "text is empty" },
		{ "ideographic spaces", "{\"text\": \"\\u3000 \\u3000\"}", GEN_NONE, 422,
		  "text is empty" },
		{ "raw ideographic space", "{\"text\": \"\u3000\u3000\"}", GEN_NONE, 422,
		  "text is empty" },
		{ "raw control byte", "{\"text\": \"天气\x07预报\"}", GEN_NONE, 400,
		  "invalid JSON" },
		{ "invalid UTF-8", "{\"text\": \"\xff\xfe\"}", GEN_NONE, 400, "invalid JSON" },
		{ "cut UTF-8", "{\"text\": \"\xe5\xa4\"}", GEN_NONE, 400, "invalid JSON" },
		{ "overlong UTF-8", "{\"text\": \"\xc0\xaf\"}", GEN_NONE, 400, "invalid JSON" },
		{ "UTF-8 surrogate", "{\"text\": \"\xed\xa0\x80\"}", GEN_NONE, 400,
		  "invalid JSON" },
		{ "NUL escape", "{\"text\": \"天气预报\\u0000\"}", GEN_NONE, 400, "invalid JSON" },
		{ "bell", "{\"text\": \"天气预报\\u0007\"}", GEN_NONE, 422,
		  "control character 0x07 at byte 12" },
		{ "escape", "{\"text\": \"\\u001b[1m天气预报\"}", GEN_NONE, 422,
		  "control character 0x1b at byte 0" },
		{ "text over max_text", NULL, GEN_LONG_TEXT, 413,
		  "text is 4001 bytes, the limit is 4000" },
		{ "body over max_body", NULL, GEN_LONG_BODY, 413,
		  "request body is 65537 bytes, the limit is 65536" },
		{ "unknown kind", "{" F ", \"kind\": \"alert\"}", GEN_NONE, 422,
		  "unknown kind \"alert\"" },
		{ "kind in Chinese", "{" F ", \"kind\": \"预报\"}", GEN_NONE, 422,
		  "unknown kind" },
		{ "empty kind", "{" F ", \"kind\": \"\"}", GEN_NONE, 422,
		  "\"kind\" must be a non-empty string" },
		{ "numeric kind", "{" F ", \"kind\": 1}", GEN_NONE, 422,
		  "\"kind\" must be a non-empty string" },
		{ "no kind to infer", "{\"text\": \"请注意。\"}", GEN_NONE, 422,
		  "\"kind\" is missing" },
		{ "warning without signal", "{\"text\": \"请注意。\", \"kind\": \"warning\"}",
		  GEN_NONE, 422, "needs its signal and colour" },
		{ "signal on a forecast", "{" F ", \"signal\": \"hail\"}", GEN_NONE, 422,
		  "for warnings only, this is a forecast" },
		{ "repeat -1", "{" F ", \"repeat\": -1}", GEN_NONE, 422,
		  "\"repeat\" must be an integer 0..10" },
		{ "repeat 11", "{" F ", \"repeat\": 11}", GEN_NONE, 422,
		  "\"repeat\" must be an integer 0..10" },
		{ "repeat \"2\"", "{" F ", \"repeat\": \"2\"}", GEN_NONE, 422,
		  "\"repeat\" must be an integer 0..10" },
		{ "repeat 1.0", "{" F ", \"repeat\": 1.0}", GEN_NONE, 422,
		  "\"repeat\" must be an integer 0..10" },
		{ "repeat 2^32", "{" F ", \"repeat\": 4294967297}", GEN_NONE, 422,
		  "\"repeat\" must be an integer 0..10" },
		{ "client_id with space", "{" F ", \"client_id\": \"desk 1\"}", GEN_NONE, 422,
		  "\"client_id\" must be printable ASCII without spaces" },
		{ "client_id of 65 bytes", "{" F ", \"client_id\": \"" ID65 "\"}", GEN_NONE, 422,
		  "\"client_id\" is longer than 64 bytes" },
		{ "client_id in Chinese", "{" F ", \"client_id\": \"气象台\"}", GEN_NONE, 422,
		  "\"client_id\" must be printable ASCII without spaces" },
		{ "empty client_id", "{" F ", \"client_id\": \"\"}", GEN_NONE, 422,
		  "\"client_id\" must be a non-empty string" },
		{ "targets a string", "{" F ", \"targets\": \"杨和镇\"}", GEN_NONE, 422,
		  "\"targets\" must be a list of 1 to 64 codes or names" },
		{ "targets an object", "{" F ", \"targets\": {}}", GEN_NONE, 422,
		  "\"targets\" must be a list of 1 to 64 codes or names" },
		{ "targets empty", "{" F ", \"targets\": []}", GEN_NONE, 422,
		  "\"targets\" must be a list of 1 to 64 codes or names" },
		{ "65 targets", NULL, GEN_65_TARGETS, 422,
		  "\"targets\" must be a list of 1 to 64 codes or names" },
		{ "a number in targets", "{" F ", \"targets\": [440608101]}", GEN_NONE, 422,
		  "target 1 is not a string" },
		{ "a null second target", "{" F ", \"targets\": [\"杨和镇\", null]}", GEN_NONE,
		  422, "target 2 is not a string" },
		{ "unknown target", "{" F ", \"targets\": [\"黄埔镇\"]}", GEN_NONE, 422,
		  "unknown name '黄埔镇'" },
		{ "unknown code", "{" F ", \"targets\": [\"440608104\"]}", GEN_NONE, 422,
		  "440608104" },
		{ "ambiguous village", "{" F ", \"targets\": [\"新圩村\"]}", GEN_NONE, 422,
		  "更合镇/新圩村" },
	};
	char err[ERR_MAX];

	for (size_t i = 0; i < N(rows); i++) {
		size_t len = rows[i].body ? strlen(rows[i].body) : 0;
		char *generated = rows[i].gen ? generate(rows[i].gen, &len) : NULL;
		struct bulletin b;
		int rc = parse_cfg(generated ? generated : rows[i].body, len, &settings, &b, err);

		if (rc != rows[i].status)
			fail_msg("%s: status %d (%s), expected %d", rows[i].what, rc, err,
				 rows[i].status);
		if (!strstr(err, rows[i].message))
			fail_msg("%s: \"%s\" lacks \"%s\"", rows[i].what, err, rows[i].message);
		if (rc == 0)
			bulletin_free(&b);
		free(generated);
	}
}

/* The limits themselves are allowed. */
static void test_at_limits(void **state)
{
	static const struct {
		const char *what, *body;
		enum gen gen;
		size_t endpoints, client_id_len;
	} rows[] = {
		{ "text of max_text bytes", NULL, GEN_MAX_TEXT, 2350, 0 },
		{ "client_id of 64 bytes", "{" F ", \"client_id\": \"" ID64 "\"}", GEN_NONE, 2350,
		  64 },
		{ "text with line breaks and tabs", "{\"text\": \"天气预报\\n\\t多云\\r\\n\"}",
		  GEN_NONE, 2350, 0 },
		{ "64 targets, each a 15-digit code", NULL, GEN_64_TARGETS, 64, 0 },
	};
	char err[ERR_MAX];

	for (size_t i = 0; i < N(rows); i++) {
		size_t len = rows[i].body ? strlen(rows[i].body) : 0;
		char *body = rows[i].gen ? generate(rows[i].gen, &len) : NULL;
		struct bulletin b;
		int rc = parse_cfg(body ? body : rows[i].body, len, &settings, &b, err);

		free(body);
		if (rc)
			fail_msg("%s: %d %s", rows[i].what, rc, err);
		assert_int_equal(b.endpoints, rows[i].endpoints);
		assert_int_equal(strlen(b.client_id), rows[i].client_id_len);
		bulletin_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_bulletins),
		cmocka_unit_test(test_keys_and_phrase),
		cmocka_unit_test(test_phrases),
		cmocka_unit_test(test_change_request),
		cmocka_unit_test(test_keys_without_phrase),
		cmocka_unit_test(test_default_repeats),
		cmocka_unit_test(test_explicit_repeat),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_ambiguous_target),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_at_limits),
	};

	return cmocka_run_group_tests_name("request", tests, load_all, free_all) ? EXIT_FAILURE
									       : EXIT_SUCCESS;
}
