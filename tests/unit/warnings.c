/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/warnings.c and headend/signals.c: the shipped etc/signals.cfg, refused
 * signal files, the warning state per village through issue, change and lift, every illegal
 * action with its message, a saved state read back, and re-broadcasts by colour. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "headend/bulletin.h"
#include "headend/config.h"
#include "headend/signals.h"
#include "headend/warnings.h"
#include "zones/zones.h"

#define ERR_MAX 512
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1796400000
#define YANGHE_VILLAGES 16

static struct zones *directory;
static struct headend_config settings;
static char tmpdir[64], cfg_path[128];

static int setup(void **state)
{
	char err[ERR_MAX];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cx-warnings-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/signals.cfg", tmpdir);
	if (zones_load(&directory, "etc/zones.csv", err, sizeof(err)) != ZONES_OK ||
	    config_load(&settings, "etc/headend.cfg", err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	zones_free(directory);
	unlink(cfg_path);
	return rmdir(tmpdir);
}

static void bulletin(const char *text, const char *targets, struct bulletin *b)
{
	char body[1024], err[ERR_MAX];

	snprintf(body, sizeof(body), "{\"text\": \"%s\", \"targets\": %s}", text, targets);
	if (bulletin_parse(body, strlen(body), directory, &settings, b, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
}

/* Check b against w and, if it passes, apply it as bulletin id. Returns the check's result
 * and leaves its message in err. */
static enum warnings_result act(struct warnings *w, const char *text, const char *targets,
				uint32_t id, char *err)
{
	struct bulletin b;
	enum warnings_result rc;

	bulletin(text, targets, &b);
	err[0] = '\0';
	rc = warnings_check(w, &b, err, ERR_MAX);
	if (!rc)
		assert_int_equal(warnings_apply(w, &b, id, T0 + id), WARNINGS_OK);
	bulletin_free(&b);
	return rc;
}

static json_t *active(struct warnings *w)
{
	json_t *r = warnings_report(w);

	assert_non_null(r);
	return r;
}

/* signals.cfg */

static void test_shipped_signals(void **state)
{
	const struct signals *s = &settings.signals;
	static const struct {
		const char *key, *name;
		unsigned colours;
	} rows[] = {
		{ "typhoon", "台风", 0x3e }, { "rainstorm", "暴雨", 0x38 },
		{ "heat", "高温", 0x38 },
		{ "cold", "寒冷", 0x38 }, { "fog", "大雾", 0x38 }, { "haze", "灰霾", 0x08 },
		{ "thunderstorm-gale", "雷雨大风", 0x38 }, { "road-icing", "道路结冰", 0x38 },
		{ "hail", "冰雹", 0x30 }, { "forest-fire", "森林火险", 0x38 },
	};

	for (size_t i = 0; i < N(rows); i++) {
		unsigned n = signals_lookup(s, rows[i].key);

		assert_int_equal(n, i + 1);
		assert_int_equal(signals_lookup(s, rows[i].name), n);
		assert_string_equal(s->types[n - 1].name, rows[i].name);
		if (s->types[n - 1].colours != rows[i].colours)
			fail_msg("%s: colours 0x%x", rows[i].key, s->types[n - 1].colours);
	}
	assert_true(s->colours[PROTO_COLOUR_RED].repeat > s->colours[PROTO_COLOUR_ORANGE].repeat);
	assert_true(s->colours[PROTO_COLOUR_ORANGE].repeat >
		    s->colours[PROTO_COLOUR_YELLOW].repeat);
	assert_int_equal(s->colours[PROTO_COLOUR_RED].rebroadcast, 1800);
	assert_int_equal(s->colours[PROTO_COLOUR_ORANGE].rebroadcast, 3600);
	assert_int_equal(s->colours[PROTO_COLOUR_YELLOW].rebroadcast, 0);
	assert_int_equal(s->colours[PROTO_COLOUR_BLUE].tone, PROTO_COLOUR_BLUE);

	/* Presentation left out of the file is the default. */
	{
		struct signals def;

		signals_default(&def);
		assert_memory_equal(def.colours, s->colours, sizeof(def.colours));
		assert_int_equal(def.lift_repeat, s->lift_repeat);
	}
}

static void write_signals(const char *text)
{
	FILE *f = fopen(cfg_path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_refused_signals(void **state)
{
	static const struct {
		const char *text, *message;
	} rows[] = {
		{ "colours: {};\n", "signals must be a list" },
		{ "signals = ( { key = \"tornado\"; name = \"龙卷风\";\n"
		  "  colours = [\"red\"]; } );\n",
		  "1: key must be one of the protocol's signals" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = [\"purple\"]; } );\n",
		  "1: colour 1 must be white" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = []; } );\n",
		  "colours must be a list" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = [\"red\"]; },\n"
		  "  { key = \"hail\"; name = \"雹\"; colours = [\"red\"]; } );\n",
		  "2: signal hail is listed twice" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = [\"red\"]; },\n"
		  "  { key = \"fog\"; name = \"冰雹\"; colours = [\"red\"]; } );\n",
		  "2: fog: the name 冰雹 is taken already" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = [\"red\"];\n"
		  "  colour = 1; } );\n",
		  "unknown setting colour" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = [\"red\"]; } );\n"
		  "colours: { red: { repeat = 11; }; };\n", "2: repeat: 11 is outside 0..10" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = [\"red\"]; } );\n"
		  "colours: { red: { rebroadcast = 30; }; };\n", "at least 60 s" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = [\"red\"]; } );\n"
		  "colours: { red: { tone = \"siren\"; }; };\n", "tone must be white" },
		{ "signals = ( { key = \"hail\"; name = \"冰雹\"; colours = [\"red\"]; } );\n"
		  "colours: { purple: { repeat = 1; }; };\n", "unknown setting purple" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct signals s;
		char err[ERR_MAX] = "";

		write_signals(rows[i].text);
		if (signals_load(&s, cfg_path, err, sizeof(err)) != SIGNALS_ERR_FORMAT ||
		    !strstr(err, rows[i].message))
			fail_msg("row %zu: \"%s\", expected \"%s\"", i, err, rows[i].message);
	}
}

/* A province without a signal: it cannot be issued, and a bulletin naming it is refused. */
static void test_signal_not_in_use(void **state)
{
	struct headend_config cfg = settings;
	struct bulletin b;
	char err[ERR_MAX], body[] = "{\"text\": \"发布冰雹橙色预警信号\", \"kind\": \"warning\", "
				    "\"signal\": \"hail\", \"colour\": \"orange\"}";

	write_signals("signals = ( { key = \"fog\"; name = \"大雾\";\n"
		      "  colours = [\"yellow\"]; } );\n");
	assert_int_equal(signals_load(&cfg.signals, cfg_path, err, sizeof(err)), SIGNALS_OK);
	assert_int_equal(bulletin_parse(body, strlen(body), directory, &cfg, &b, err, sizeof(err)),
			 422);
	assert_non_null(strstr(err, "signal hail is not in use here"));
}

/* The warning state */

static void test_issue_and_lift(void **state)
{
	struct warnings *w;
	char err[ERR_MAX];
	json_t *r;

	assert_int_equal(warnings_open(&w, directory, &settings.signals), WARNINGS_OK);
	assert_int_equal(act(w, "发布暴雨黄色预警信号", "[\"杨和镇\"]", 1, err), WARNINGS_OK);
	r = active(w);
	assert_int_equal(json_array_size(json_object_get(r, "active")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
			 json_object_get(r, "active"), 0), "villages")), YANGHE_VILLAGES);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
			    json_object_get(r, "active"), 0), "where")), "杨和镇");
	json_decref(r);

	/* A town-wide warning is active in each of its villages: one of them can be lifted. */
	assert_int_equal(act(w, "解除暴雨黄色预警信号", "[\"杨和镇/新圩村\"]", 2, err),
			 WARNINGS_OK);
	r = active(w);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
			 json_object_get(r, "active"), 0), "villages")), YANGHE_VILLAGES - 1);
	json_decref(r);
	assert_int_equal(act(w, "解除暴雨黄色预警信号", "[\"杨和镇\"]", 3, err), WARNINGS_OK);
	r = active(w);
	assert_int_equal(json_array_size(json_object_get(r, "active")), 0);
	json_decref(r);
	assert_int_equal(warnings_applied(w), 3);
	warnings_close(w);
}

/* Every action that does not fit the state, with its 409 sentence. */
static void test_illegal_actions(void **state)
{
	static const struct {
		const char *text, *targets, *message;
	} rows[] = {
		{ "解除寒冷黄色预警信号", "[\"荷城街道\"]",
		  "cold (寒冷) is not active in 荷城街道: there is nothing to lift" },
		{ "解除暴雨橙色预警信号", "[\"杨和镇\"]",
		  "rainstorm (暴雨) is yellow, not orange, in 杨和镇: lift the yellow signal" },
		{ "解除暴雨黄色预警信号", "[\"明城镇\"]",
		  "rainstorm (暴雨) is not active in 明城镇: there is nothing to lift" },
		{ "将冰雹橙色预警信号更新为冰雹红色预警信号", "[\"杨和镇\"]",
		  "hail (冰雹) is not active in 杨和镇: issue it (发布) before changing" },
		{ "解除暴雨黄色预警信号", "[\"440608102201001\"]",
		  "not active in 440608102201001" },
	};
	struct warnings *w;
	char err[ERR_MAX];

	assert_int_equal(warnings_open(&w, directory, &settings.signals), WARNINGS_OK);
	assert_int_equal(act(w, "发布暴雨黄色预警信号", "[\"杨和镇\"]", 1, err), WARNINGS_OK);
	for (size_t i = 0; i < N(rows); i++) {
		enum warnings_result rc = act(w, rows[i].text, rows[i].targets, 10 + i, err);

		if (rc != WARNINGS_ERR_STATE || !strstr(err, rows[i].message))
			fail_msg("row %zu: %d \"%s\", expected \"%s\"", i, rc, err,
				 rows[i].message);
	}
	assert_int_equal(warnings_applied(w), 1);
	warnings_close(w);
}

/* Issue again at the same colour: accepted (it is broadcast again), the state keeps one
 * warning; change moves the colour; lift then needs the new colour. */
static void test_reissue_and_change(void **state)
{
	struct warnings *w;
	char err[ERR_MAX];
	json_t *r, *a;

	assert_int_equal(warnings_open(&w, directory, &settings.signals), WARNINGS_OK);
	assert_int_equal(act(w, "发布暴雨橙色预警信号", "[\"明城镇\", \"更合镇\"]", 1, err), 0);
	assert_int_equal(act(w, "发布暴雨橙色预警信号", "[\"明城镇\", \"更合镇\"]", 2, err), 0);
	r = active(w);
	a = json_array_get(json_object_get(r, "active"), 0);
	assert_int_equal(json_array_size(json_object_get(r, "active")), 1);
	assert_int_equal(json_integer_value(json_object_get(a, "bulletin")), 2);
	assert_string_equal(json_string_value(json_object_get(a, "where")), "明城镇, 更合镇");
	json_decref(r);

	assert_int_equal(act(w, "将暴雨橙色预警信号更新为暴雨红色预警信号", "[\"明城镇\"]", 3,
			     err), 0);
	r = active(w);
	assert_int_equal(json_array_size(json_object_get(r, "active")), 2);
	json_decref(r);
	assert_int_equal(act(w, "解除暴雨橙色预警信号", "[\"明城镇\"]", 4, err),
			 WARNINGS_ERR_STATE);
	assert_int_equal(act(w, "解除暴雨红色预警信号", "[\"明城镇\"]", 5, err), 0);
	assert_int_equal(act(w, "解除暴雨橙色预警信号", "[\"更合镇\"]", 6, err), 0);
	r = active(w);
	assert_int_equal(json_array_size(json_object_get(r, "active")), 0);
	json_decref(r);
	warnings_close(w);
}

static void test_save_restore(void **state)
{
	struct warnings *w, *back;
	char err[ERR_MAX];
	json_t *saved, *again, *r1, *r2;

	assert_int_equal(warnings_open(&w, directory, &settings.signals), WARNINGS_OK);
	assert_int_equal(act(w, "发布冰雹红色预警信号", "[\"杨和镇/新圩村\"]", 7, err), 0);
	assert_int_equal(act(w, "发布大雾黄色预警信号", "[\"高明区\"]", 8, err), 0);
	saved = warnings_save(w);
	assert_non_null(saved);
	assert_int_equal(warnings_open(&back, directory, &settings.signals), WARNINGS_OK);
	assert_int_equal(warnings_restore(back, saved, err, sizeof(err)), WARNINGS_OK);
	assert_int_equal(warnings_applied(back), 8);
	again = warnings_save(back);
	assert_true(json_equal(saved, again));
	r1 = warnings_report(w);
	r2 = warnings_report(back);
	assert_true(json_equal(r1, r2));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
			    json_object_get(r2, "active"), 1), "where")), "高明区");

	/* A lift after the restart finds what was active before it. */
	assert_int_equal(act(back, "解除冰雹红色预警信号", "[\"杨和镇/新圩村\"]", 9, err), 0);
	json_decref(again);
	again = json_pack("{s:[]}", "sources");
	assert_int_equal(warnings_restore(w, again, err, sizeof(err)), WARNINGS_ERR_FORMAT);
	json_decref(saved);
	json_decref(again);
	json_decref(r1);
	json_decref(r2);
	warnings_close(w);
	warnings_close(back);
}

struct due_log {
	int calls;
	uint32_t source[4];
	size_t villages[4];
};

static int on_due(void *arg, uint32_t source, const char *text, uint8_t signal,
		  enum proto_colour colour, enum proto_action action,
		  const unsigned char *villages)
{
	struct due_log *d = arg;
	size_t n = 0;

	for (size_t v = 0; v < directory->n_villages; v++)
		n += villages[v];
	if (d->calls < 4) {
		d->source[d->calls] = source;
		d->villages[d->calls] = n;
	}
	d->calls++;
	return 0;
}

/* Red comes back every 30 min, orange every hour, yellow never; only where still active. */
static void test_rebroadcast(void **state)
{
	struct warnings *w;
	struct due_log d = { 0 };
	char err[ERR_MAX];

	assert_int_equal(warnings_open(&w, directory, &settings.signals), WARNINGS_OK);
	assert_int_equal(act(w, "发布暴雨红色预警信号", "[\"杨和镇\"]", 1, err), 0);
	assert_int_equal(act(w, "发布冰雹橙色预警信号", "[\"明城镇\"]", 2, err), 0);
	assert_int_equal(act(w, "发布大雾黄色预警信号", "[\"更合镇\"]", 3, err), 0);
	assert_int_equal(act(w, "解除暴雨红色预警信号", "[\"杨和镇/新圩村\"]", 4, err), 0);

	/* Issued at T0 + id; red due at T0 + 1 + 1800, orange at T0 + 2 + 3600. */
	assert_int_equal(warnings_due(w, T0 + 1800, on_due, &d), T0 + 1801);
	assert_int_equal(d.calls, 0);
	assert_int_equal(warnings_due(w, T0 + 1801, on_due, &d), T0 + 1801 + 1800);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.source[0], 1);
	assert_int_equal(d.villages[0], YANGHE_VILLAGES - 1);
	assert_int_equal(warnings_due(w, T0 + 3602, on_due, &d), T0 + 3602 + 1800);
	assert_int_equal(d.calls, 3);
	assert_int_equal(d.source[1], 1);
	assert_int_equal(d.source[2], 2);
	assert_int_equal(d.villages[2], 20);

	/* Lifted everywhere: nothing more falls due. */
	assert_int_equal(act(w, "解除暴雨红色预警信号", "[\"杨和镇\"]", 5, err), 0);
	assert_int_equal(act(w, "解除冰雹橙色预警信号", "[\"明城镇\"]", 6, err), 0);
	assert_int_equal(warnings_due(w, T0 + 90000, on_due, &d), 0);
	assert_int_equal(d.calls, 3);
	warnings_close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_signals),
		cmocka_unit_test(test_refused_signals),
		cmocka_unit_test(test_signal_not_in_use),
		cmocka_unit_test(test_issue_and_lift),
		cmocka_unit_test(test_illegal_actions),
		cmocka_unit_test(test_reissue_and_change),
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_rebroadcast),
	};

	return cmocka_run_group_tests_name("warnings", tests, setup, teardown);
}
