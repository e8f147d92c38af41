/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/config.c: the shipped etc/headend.cfg and its documented values, then
 * small files written to a temporary folder, each wrong in one way, with the exact message. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "headend/config.h"

#include "scratch.h"

#define SHIPPED "etc/headend.cfg"
#define ERR_MAX 512
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int make_tmpdir(void **state)
{
	(void)state;
	return scratch_open("config", "headend.cfg");
}

static const char *addr(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The shipped file */

static void test_shipped(void **state)
{
	struct headend_config c;
	char err[ERR_MAX] = "", a[INET_ADDRSTRLEN];

	if (config_load(&c, SHIPPED, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(c.state_dir, "var");
	assert_string_equal(c.zones_path, "etc/zones.csv");
	assert_string_equal(c.http_address, "127.0.0.1");
	assert_int_equal(c.http_port, 8080);
	assert_int_equal(c.http_max_body, 65536);
	assert_int_equal(c.max_text, 4000);
	assert_string_equal(addr(c.mc_interface, a), "127.0.0.1");
	assert_string_equal(addr(c.mc_base, a), "239.192.0.0");
	assert_int_equal(c.mc_port, 5004);
	assert_int_equal(c.mc_ttl, 0);
	assert_true(c.pace == 1.0);
	assert_string_equal(c.voice, "cmn-latn-pinyin");
	assert_ptr_equal(c.tts.voice, c.voice);
	assert_int_equal(c.tts.rate_wpm, 150);
	assert_int_equal(c.tts.pitch, 50);
	assert_int_equal(c.tts.bitrate, 24000);
	assert_int_equal(c.tts.fec_loss_pct, 10);
	assert_int_equal(c.tts.complexity, 9);
	assert_int_equal(c.tts.sentence_pause_ms, 400);
	assert_int_equal(c.repeat_forecast, 0);
	assert_int_equal(c.repeat_nowcast, 0);
	assert_int_equal(c.expire[PROTO_KIND_FORECAST], 21600);
	assert_int_equal(c.expire[PROTO_KIND_NOWCAST], 3600);
	assert_int_equal(c.expire[PROTO_KIND_WARNING], 3600);
	assert_int_equal(c.preempted, CONFIG_RESUME);
	assert_string_equal(c.signals_path, "etc/signals.cfg");
	assert_string_equal(c.schedule_path, "etc/schedule.cfg");
	assert_string_equal(c.signals.types[8].name, "冰雹");
	assert_int_equal(c.signals.types[8].colours, (1u << PROTO_COLOUR_ORANGE) |
			 (1u << PROTO_COLOUR_RED));
	assert_int_equal(c.signals.colours[PROTO_COLOUR_RED].repeat, 3);
	assert_int_equal(c.repeat_gap_ms, 2000);
	assert_int_equal(c.lead_ms, 200);
}

/* The shipped file says every setting in it is shown with its default: removing a line must
 * not change what the head-end does. */
static void test_shipped_is_default(void **state)
{
	struct headend_config shipped, def;
	char err[ERR_MAX] = "";

	if (config_load(&shipped, SHIPPED, err, sizeof(err)))
		fail_msg("%s", err);
	config_default(&def);
	assert_int_equal(def.http_port, shipped.http_port);
	assert_int_equal(def.http_max_body, shipped.http_max_body);
	assert_int_equal(def.max_text, shipped.max_text);
	assert_int_equal(def.mc_port, shipped.mc_port);
	assert_int_equal(def.mc_ttl, shipped.mc_ttl);
	assert_memory_equal(def.expire, shipped.expire, sizeof(def.expire));
	assert_int_equal(def.preempted, shipped.preempted);
	assert_int_equal(def.lead_ms, shipped.lead_ms);
	assert_int_equal(def.tts.bitrate, shipped.tts.bitrate);
	assert_int_equal(def.tts.pitch, shipped.tts.pitch);
	assert_int_equal(def.tts.fec_loss_pct, shipped.tts.fec_loss_pct);
	assert_int_equal(def.report_address.s_addr, shipped.report_address.s_addr);
	assert_int_equal(def.report_port, shipped.report_port);
	assert_int_equal(shipped.report_port, 5005);
	assert_int_equal(def.report_period_s, shipped.report_period_s);
	assert_int_equal(shipped.report_period_s, 30);
	assert_int_equal(def.report_missed, shipped.report_missed);
	assert_int_equal(shipped.report_missed, 3);
	assert_true(def.report_alarm == shipped.report_alarm && shipped.report_alarm == 0.8);
	assert_int_equal(def.report_tolerance_ms, shipped.report_tolerance_ms);
	if (def.tts.rate_wpm != shipped.tts.rate_wpm)
		fail_msg("tts.rate: default %d, shipped file %d", def.tts.rate_wpm,
			 shipped.tts.rate_wpm);
	if (def.tts.complexity != shipped.tts.complexity)
		fail_msg("tts.complexity: default %d, shipped file %d", def.tts.complexity,
			 shipped.tts.complexity);
}

static void test_empty_file_is_default(void **state)
{
	struct headend_config c, def;
	char err[ERR_MAX] = "", a[INET_ADDRSTRLEN];

	scratch_write("# nothing set\n");
	if (config_load(&c, scratch_file, err, sizeof(err)))
		fail_msg("%s", err);
	config_default(&def);
	assert_int_equal(c.http_port, def.http_port);
	assert_int_equal(c.http_max_body, 64 * 1024);
	assert_string_equal(addr(c.mc_interface, a), "127.0.0.1");
	assert_string_equal(addr(c.mc_base, a), "239.192.0.0");
	assert_ptr_equal(c.tts.voice, c.voice);
}

/* Values that must load, and what they load as. */
static void test_accepted(void **state)
{
	struct headend_config c;
	char err[ERR_MAX] = "", a[INET_ADDRSTRLEN];

	scratch_write("http: { max_body = 65536L; port = 1; };\n"
		  "multicast: { base = \"239.192.0.0\"; interface = \"192.0.2.10\"; pace = 50;\n"
		  "  ttl = 32; port = 65535; };\n"
		  "broadcast: { max_text = 16L; expire_warning = 60; lead_ms = 0;\n"
		  "  preempted = \"drop\"; };\n"
		  "tts: { voice = \"cmn-latn-pinyin\"; bitrate = 6000; };\n");
	if (config_load(&c, scratch_file, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.http_max_body, 65536);
	assert_int_equal(c.http_port, 1);
	assert_string_equal(addr(c.mc_base, a), "239.192.0.0");
	assert_string_equal(addr(c.mc_interface, a), "192.0.2.10");
	assert_true(c.pace == 50.0);
	assert_int_equal(c.mc_ttl, 32);
	assert_int_equal(c.mc_port, 65535);
	assert_int_equal(c.max_text, 16);
	assert_int_equal(c.expire[PROTO_KIND_WARNING], 60);
	assert_int_equal(c.preempted, CONFIG_DROP);
	assert_int_equal(c.lead_ms, 0);
	assert_string_equal(c.tts.voice, "cmn-latn-pinyin");
	assert_int_equal(c.tts.bitrate, 6000);

	scratch_write("http: { max_body = 16777216L; };\nmulticast: { pace = 1; };\n");
	if (config_load(&c, scratch_file, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.http_max_body, 16 << 20);
	assert_true(c.pace == 1.0);

	scratch_write("multicast: { pace = 2.5; base = \"239.192.0.0\"; };\n");
	if (config_load(&c, scratch_file, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c.pace == 2.5);

	/* another district of a province takes another /14 of 239.0.0.0/8 */
	scratch_write("multicast: { base = \"239.196.0.0\"; };\n");
	if (config_load(&c, scratch_file, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(addr(c.mc_base, a), "239.196.0.0");
}

static void test_missing_file(void **state)
{
	struct headend_config c;
	char err[ERR_MAX] = "", path[192];

	snprintf(path, sizeof(path), "%s/absent.cfg", scratch_dir);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "cannot read the file"));
}

/* Each row: a file, then the message after "<path>:". */
static void test_refused(void **state)
{
	static const struct {
		const char *text, *message;
	} rows[] = {
		/* syntax */
		{ "http:\n{\n  port == 8080;\n};\n", "3: syntax error" },
		{ "state_dir = \"var\";\nzones = ;\n", "2: syntax error" },
		/* unknown settings, at any depth */
		{ "state_dir = \"var\";\nstatedir = \"var\";\n", "2: unknown setting statedir" },
		{ "http:\n{\n  port = 8080;\n  prot = 8081;\n};\n",
		  "4: unknown setting http.prot" },
		{ "multicast: { ttl = 1; };\ntts: {\n voice = \"cmn\";\n speed = 3; };\n",
		  "4: unknown setting tts.speed" },
		{ "\n\nbroadcast: { max_body = 10; };\n",
		  "3: unknown setting broadcast.max_body" },
		/* types */
		{ "http: {\n  port = \"8080\";\n};\n", "2: http.port: must be an integer" },
		{ "multicast: { ttl = 1.0; };\n", "1: multicast.ttl: must be an integer" },
		{ "broadcast: { expire_warning = true; };\n",
		  "1: broadcast.expire_warning: must be an integer" },
		{ "broadcast: { preempted = 1; };\n", "1: broadcast.preempted: must be a string" },
		{ "tts: { bitrate = 24000L; };\n", "1: tts.bitrate: must be an integer" },
		{ "\nstate_dir = 5;\n", "2: state_dir: must be a string" },
		{ "tts: { voice = [\"cmn\"]; };\n", "1: tts.voice: must be a string" },
		{ "state_dir = \"\";\n", "1: state_dir: empty or too long" },
		{ "http: { max_body = 65536.0; };\n", "1: http.max_body: must be an integer" },
		{ "http: { max_body = \"64k\"; };\n", "1: http.max_body: must be an integer" },
		{ "multicast: {\n pace = \"1.0\"; };\n", "2: multicast.pace: must be a number" },
		{ "multicast: { interface = 2130706433; };\n",
		  "1: multicast.interface: must be a string" },
		{ "multicast: { base = \"239.192.0\"; };\n",
		  "1: multicast.base: not an IPv4 address" },
		{ "multicast: { interface = \"localhost\"; };\n",
		  "1: multicast.interface: not an IPv4 address" },
		/* integer ranges */
		{ "http: { port = 0; };\n", "1: http.port: 0 is outside 1..65535" },
		{ "http: { port = 65536; };\n", "1: http.port: 65536 is outside 1..65535" },
		{ "multicast: {\n\n port = 70000; };\n",
		  "3: multicast.port: 70000 is outside 1..65535" },
		{ "multicast: { ttl = 33; };\n", "1: multicast.ttl: 33 is outside 0..32" },
		{ "multicast: { ttl = -1; };\n", "1: multicast.ttl: -1 is outside 0..32" },
		{ "tts: { rate = 79; };\n", "1: tts.rate: 79 is outside 80..450" },
		{ "tts: { pitch = 100; };\n", "1: tts.pitch: 100 is outside 0..99" },
		{ "tts: { bitrate = 5999; };\n", "1: tts.bitrate: 5999 is outside 6000..128000" },
		{ "tts: { fec_loss = 101; };\n", "1: tts.fec_loss: 101 is outside 0..100" },
		{ "tts: { complexity = 11; };\n", "1: tts.complexity: 11 is outside 0..10" },
		{ "tts: { sentence_pause_ms = 10001; };\n",
		  "1: tts.sentence_pause_ms: 10001 is outside 0..10000" },
		{ "broadcast: { repeat_forecast = 11; };\n",
		  "1: broadcast.repeat_forecast: 11 is outside 0..10" },
		{ "broadcast: { repeat_nowcast = -1; };\n",
		  "1: broadcast.repeat_nowcast: -1 is outside 0..10" },
		{ "broadcast: { expire_nowcast = 59; };\n",
		  "1: broadcast.expire_nowcast: 59 is outside 60..604800" },
		{ "broadcast: { preempted = \"pause\"; };\n",
		  "1: broadcast.preempted: must be \"resume\", \"restart\" or \"drop\"" },
		{ "signals = \"/nonexistent/signals.cfg\";\n",
		  "1: signals: /nonexistent/signals.cfg: cannot read the file" },
		{ "broadcast: { repeat_gap_ms = 60001; };\n",
		  "1: broadcast.repeat_gap_ms: 60001 is outside 0..60000" },
		{ "broadcast: { lead_ms = 10001; };\n",
		  "1: broadcast.lead_ms: 10001 is outside 0..10000" },
		/* status reports */
		{ "reports: { address = \"0.0.0.0\"; };\n",
		  "1: reports.address: must be the unicast IPv4 address of one interface" },
		{ "reports: { address = \"239.192.0.1\"; };\n",
		  "1: reports.address: must be the unicast IPv4 address of one interface" },
		{ "reports: { period_s = 0; };\n", "1: reports.period_s: 0 is outside 1..3600" },
		{ "multicast: { port = 6000; };\nreports: { port = 6000; };\n",
		  "2: reports.port: must differ from multicast.port" },
		{ "reports: { missed = 0; };\n", "1: reports.missed: 0 is outside 1..100" },
		{ "reports: { village_alarm = 1.5; };\n",
		  "1: reports.village_alarm: must be within 0.0..1.0" },
		{ "reports: { clock_tolerance_ms = 99; };\n",
		  "1: reports.clock_tolerance_ms: 99 is outside 100..3600000" },
		{ "reports: { perod_s = 30; };\n", "1: unknown setting reports.perod_s" },
		/* sizes, plain or long */
		{ "http: { max_body = 64L; };\n",
		  "1: http.max_body: 64 is outside 1024..16777216" },
		{ "http: { max_body = 64; };\n",
		  "1: http.max_body: 64 is outside 1024..16777216" },
		{ "http: { max_body = 16777217L; };\n",
		  "1: http.max_body: 16777217 is outside 1024..16777216" },
		{ "http: { max_body = 4294967296L; };\n",
		  "1: http.max_body: 4294967296 is outside 1024..16777216" },
		{ "broadcast: { max_text = 15; };\n",
		  "1: broadcast.max_text: 15 is outside 16..1048576" },
		{ "broadcast: { max_text = 1048577L; };\n",
		  "1: broadcast.max_text: 1048577 is outside 16..1048576" },
		/* pace */
		{ "multicast: { pace = 0.5; };\n", "1: multicast.pace: must be within 1.0..50.0" },
		{ "multicast: { pace = 0; };\n", "1: multicast.pace: must be within 1.0..50.0" },
		{ "multicast: { pace = 50.01; };\n",
		  "1: multicast.pace: must be within 1.0..50.0" },
		{ "multicast: { pace = 51; };\n", "1: multicast.pace: must be within 1.0..50.0" },
		{ "multicast: { pace = -1.0; };\n",
		  "1: multicast.pace: must be within 1.0..50.0" },
	};
	char err[ERR_MAX], expect[ERR_MAX];

	for (size_t i = 0; i < N(rows); i++) {
		struct headend_config c;

		scratch_write(rows[i].text);
		err[0] = '\0';
		snprintf(expect, sizeof(expect), "%s:%s", scratch_file, rows[i].message);
		if (config_load(&c, scratch_file, err, sizeof(err)) != -1)
			fail_msg("row %zu loaded, expected \"%s\"", i, rows[i].message);
		if (strcmp(err, expect))
			fail_msg("row %zu: \"%s\", expected \"%s\"", i, err, expect);
	}
}

/* The group plan and the interface. The organisation-local scope is exactly 239.192.0.0/14,
 * and the plan fills a whole /14, so 239.192.0.0 is the one base that keeps every group inside
 * it; a message must not offer any other. */
static void test_multicast_addresses(void **state)
{
	static const char base_why[] = "multicast.base: must start a /14 of the administratively "
				       "scoped 239.0.0.0/8";
	static const char if_why[] = "multicast.interface: must be the unicast IPv4 address of "
				     "one interface";
	static const struct {
		const char *key, *value;
		const char *why;
	} rows[] = {
		{ "base", "239.252.0.0", base_why },
		{ "base", "239.194.0.0", base_why },
		{ "base", "239.191.0.0", base_why },
		{ "base", "239.193.0.0", base_why },
		{ "base", "239.195.0.0", base_why },
		{ "base", "239.192.4.0", base_why },
		{ "base", "239.192.0.1", base_why },
		{ "base", "239.193.128.0", base_why },
		{ "base", "224.0.0.0", base_why },
		{ "base", "10.0.0.0", base_why },
		{ "interface", "0.0.0.0", if_why },
		{ "interface", "239.192.0.1", if_why },
		{ "interface", "224.0.0.1", if_why },
		{ "interface", "239.255.255.250", if_why },
	};
	char text[256], err[ERR_MAX], expect[ERR_MAX], misleading[ERR_MAX] = "";

	for (size_t i = 0; i < N(rows); i++) {
		struct headend_config c;

		snprintf(text, sizeof(text), "multicast:\n{\n  %s = \"%s\";\n};\n", rows[i].key,
			 rows[i].value);
		scratch_write(text);
		err[0] = '\0';
		snprintf(expect, sizeof(expect), "%s:3: %s", scratch_file, rows[i].why);
		if (config_load(&c, scratch_file, err, sizeof(err)) != -1)
			fail_msg("%s %s loaded", rows[i].key, rows[i].value);
		if (strncmp(err, expect, strlen(expect)))
			fail_msg("%s %s: \"%s\", expected \"%s\"", rows[i].key, rows[i].value, err,
				 expect);
		if (rows[i].why == if_why)
			assert_string_equal(err, expect);
		else if (!strstr(err, "239.192.0.0") || strstr(err, "239.193.0.0") ||
			 strstr(err, "239.194.0.0") || strstr(err, "239.195.0.0"))
			snprintf(misleading, sizeof(misleading), "%s", err);
	}
	if (*misleading)
		fail_msg("\"%s\" offers bases the check refuses", misleading);
}

/* A message that does not fit is cut, never overrun. */
static void test_small_buffer(void **state)
{
	struct headend_config c;
	char err[16];

	memset(err, 'x', sizeof(err));
	scratch_write("http: { port = 0; };\n");
	assert_int_equal(config_load(&c, scratch_file, err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_shipped_is_default),
		cmocka_unit_test(test_empty_file_is_default),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_multicast_addresses),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests_name("config", tests, make_tmpdir, scratch_close)
	       ? EXIT_FAILURE : EXIT_SUCCESS;
}
