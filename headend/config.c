/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reads etc/headend.cfg with libconfig into struct headend_config and checks every value's range;
 * the caller decides whether an error is fatal. */
#include "headend/config.h"

#include <arpa/inet.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct int_setting {
	const char *path;
	size_t offset;
	int min, max;
};

#define INT_AT(field) offsetof(struct headend_config, field)

static const struct int_setting int_settings[] = {
	{ "http.port", INT_AT(http_port), 1, 65535 },
	{ "auth.session_s", INT_AT(session_s), 1, 7 * 86400 },
	{ "multicast.port", INT_AT(mc_port), 1, 65535 },
	{ "multicast.ttl", INT_AT(mc_ttl), 0, 32 },
	{ "multicast.second_copy", INT_AT(second_copy), -1, 3 },
	{ "multicast.control_copies", INT_AT(control_copies), 0, 1 },
	{ "tts.rate", INT_AT(tts.rate_wpm), 80, 450 },
	{ "tts.pitch", INT_AT(tts.pitch), 0, 99 },
	{ "tts.bitrate", INT_AT(tts.bitrate), 6000, 128000 },
	{ "tts.fec_loss", INT_AT(tts.fec_loss_pct), 0, 100 },
	{ "tts.complexity", INT_AT(tts.complexity), 0, 10 },
	{ "tts.sentence_pause_ms", INT_AT(tts.sentence_pause_ms), 0, 10000 },
	{ "tts.clause_pause_ms", INT_AT(tts.clause_pause_ms), 0, 10000 },
	{ "tts.list_pause_ms", INT_AT(tts.list_pause_ms), 0, 10000 },
	{ "tts.bracket_pause_ms", INT_AT(tts.bracket_pause_ms), 0, 10000 },
	{ "broadcast.repeat_forecast", INT_AT(repeat_forecast), 0, 10 },
	{ "broadcast.repeat_nowcast", INT_AT(repeat_nowcast), 0, 10 },
	{ "broadcast.expire_forecast", INT_AT(expire[PROTO_KIND_FORECAST]), 60, 7 * 86400 },
	{ "broadcast.expire_nowcast", INT_AT(expire[PROTO_KIND_NOWCAST]), 60, 7 * 86400 },
	{ "broadcast.expire_warning", INT_AT(expire[PROTO_KIND_WARNING]), 60, 7 * 86400 },
	{ "broadcast.repeat_gap_ms", INT_AT(repeat_gap_ms), 0, 60000 },
	{ "broadcast.lead_ms", INT_AT(lead_ms), 0, 10000 },
	{ "archive.retention_days", INT_AT(archive_days), 0, 36500 },
	{ "archive.bitrate", INT_AT(archive_bitrate), 6000, 128000 },
	{ "live.max_s", INT_AT(live_max_s), 10, 24 * 3600 },
	{ "live.buffer_frames", INT_AT(live_buffer), 1, 25 },
	{ "live.alsa_buffer_ms", INT_AT(live_alsa_ms), 40, 2000 },
	{ "reports.port", INT_AT(report_port), 1, 65535 },
	{ "reports.period_s", INT_AT(report_period_s), 1, 3600 },
	{ "reports.missed", INT_AT(report_missed), 1, 100 },
	{ "reports.clock_tolerance_ms", INT_AT(report_tolerance_ms), 100, 3600000 },
};

struct str_setting {
	const char *path;
	size_t offset, size;
	int may_be_empty;	/* "" switches the feature off */
};

#define STR_AT(field) offsetof(struct headend_config, field), \
	sizeof(((struct headend_config *)0)->field)

static const struct str_setting str_settings[] = {
	{ "state_dir", STR_AT(state_dir), 0 },
	{ "zones", STR_AT(zones_path), 0 },
	{ "signals", STR_AT(signals_path), 0 },
	{ "schedule", STR_AT(schedule_path), 0 },
	{ "http.address", STR_AT(http_address), 0 },
	{ "http.tls_cert", STR_AT(tls_cert), 1 },
	{ "http.tls_key", STR_AT(tls_key), 1 },
	{ "tts.voice", STR_AT(voice), 0 },
	{ "tts.latin_voice", STR_AT(latin_voice), 0 },
	{ "tts.lexicon", STR_AT(lexicon), 1 },
	{ "tts.override", STR_AT(reading_override), 1 },
	{ "console.web", STR_AT(web_root), 0 },
	{ "console.templates", STR_AT(templates_path), 0 },
	{ "cap.schema", STR_AT(cap_schema), 0 },
	{ "cap.map", STR_AT(cap_map), 0 },
	{ "live.device", STR_AT(live_device), 0 },
	{ "monitor.device", STR_AT(monitor_device), 0 },
	{ "monitor.zone", STR_AT(monitor_zone), 1 },
};

void config_default(struct headend_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "var");
	snprintf(c->zones_path, sizeof(c->zones_path), "etc/zones.csv");
	snprintf(c->http_address, sizeof(c->http_address), "127.0.0.1");
	c->http_port = 8080;
	c->http_max_body = 64 * 1024;
	c->session_s = 8 * 3600;
	c->max_text = 4000;

	c->mc_interface.s_addr = htonl(INADDR_LOOPBACK);
	inet_pton(AF_INET, "239.192.0.0", &c->mc_base);
	c->mc_port = 5004;
	c->mc_ttl = 0;
	c->pace = 1.0;
	c->second_copy = 2;
	c->control_copies = 1;

	tts_config_default(&c->tts);
	snprintf(c->voice, sizeof(c->voice), "cmn-latn-pinyin");
	snprintf(c->latin_voice, sizeof(c->latin_voice), "%s", c->tts.latin_voice);
	snprintf(c->lexicon, sizeof(c->lexicon), "tts/data/lexicon.txt");
	snprintf(c->reading_override, sizeof(c->reading_override), "etc/reading-override.txt");
	c->tts.voice = c->voice;
	c->tts.latin_voice = c->latin_voice;

	c->repeat_forecast = 0;
	c->repeat_nowcast = 0;
	c->repeat_gap_ms = 2000;
	c->lead_ms = 200;
	c->expire[PROTO_KIND_FORECAST] = 6 * 3600;
	c->expire[PROTO_KIND_NOWCAST] = 3600;
	c->expire[PROTO_KIND_WARNING] = 3600;
	c->preempted = CONFIG_RESUME;
	snprintf(c->signals_path, sizeof(c->signals_path), "etc/signals.cfg");
	snprintf(c->schedule_path, sizeof(c->schedule_path), "etc/schedule.cfg");
	snprintf(c->web_root, sizeof(c->web_root), "web");
	snprintf(c->templates_path, sizeof(c->templates_path), "etc/templates.cfg");
	snprintf(c->cap_schema, sizeof(c->cap_schema), "etc/cap/CAP-v1.2.xsd");
	snprintf(c->cap_map, sizeof(c->cap_map), "etc/cap.cfg");
	c->archive_days = 730;
	c->archive_bitrate = 32000;
	snprintf(c->live_device, sizeof(c->live_device), "default");
	c->live_outranks = PROTO_COLOUR_YELLOW;
	c->live_max_s = 1800;
	c->live_buffer = 3;
	c->live_alsa_ms = 80;
	snprintf(c->monitor_device, sizeof(c->monitor_device), "default");
	c->report_address.s_addr = htonl(INADDR_LOOPBACK);
	c->report_port = 5005;
	c->report_period_s = 30;
	c->report_missed = 3;
	c->report_alarm = 0.8;
	c->report_tolerance_ms = 10000;
	signals_default(&c->signals);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Name the line of a setting when libconfig knows it, so the operator finds it at once. */
static int fail_at(const config_t *cf, const char *file, const char *path, const char *why,
		   char *err, size_t errlen)
{
	const config_setting_t *s = config_lookup(cf, path);
	int line = s ? config_setting_source_line(s) : 0;

	return fail(err, errlen, "%s:%d: %s: %s", file, line, path, why);
}

static int load_ints(const config_t *cf, const char *file, struct headend_config *c,
		     char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++) {
		const struct int_setting *s = &int_settings[i];
		const config_setting_t *set = config_lookup(cf, s->path);
		int v;

		if (!set)
			continue;
		if (config_setting_type(set) != CONFIG_TYPE_INT)
			return fail_at(cf, file, s->path, "must be an integer", err, errlen);
		v = config_setting_get_int(set);
		if (v < s->min || v > s->max) {
			char why[96];

			snprintf(why, sizeof(why), "%d is outside %d..%d", v, s->min, s->max);
			return fail_at(cf, file, s->path, why, err, errlen);
		}
		memcpy((char *)c + s->offset, &v, sizeof(v));
	}
	return 0;
}

static int load_strings(const config_t *cf, const char *file, struct headend_config *c,
			char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(str_settings) / sizeof(str_settings[0]); i++) {
		const struct str_setting *s = &str_settings[i];
		const config_setting_t *set = config_lookup(cf, s->path);
		const char *v;

		if (!set)
			continue;
		v = config_setting_get_string(set);
		if (!v)
			return fail_at(cf, file, s->path, "must be a string", err, errlen);
		if ((!*v && !s->may_be_empty) || strlen(v) >= s->size)
			return fail_at(cf, file, s->path, "empty or too long", err, errlen);
		memcpy((char *)c + s->offset, v, strlen(v) + 1);
	}
	return 0;
}

static int load_address(const config_t *cf, const char *file, const char *path,
			struct in_addr *out, char *err, size_t errlen)
{
	const char *v;

	if (!config_lookup_string(cf, path, &v)) {
		if (config_lookup(cf, path))
			return fail_at(cf, file, path, "must be a string", err, errlen);
		return 0;
	}
	if (inet_pton(AF_INET, v, out) != 1)
		return fail_at(cf, file, path, "not an IPv4 address", err, errlen);
	return 0;
}

/* Sizes may be written as 64 or 64L; either way they must be whole and in range. */
static int load_size(const config_t *cf, const char *file, const char *path, long long min,
		     long long max, size_t *out, char *err, size_t errlen)
{
	const config_setting_t *set = config_lookup(cf, path);
	long long v;

	if (!set)
		return 0;
	if (config_setting_type(set) != CONFIG_TYPE_INT &&
	    config_setting_type(set) != CONFIG_TYPE_INT64)
		return fail_at(cf, file, path, "must be an integer", err, errlen);
	v = config_setting_get_int64(set);
	if (v < min || v > max) {
		char why[96];

		snprintf(why, sizeof(why), "%lld is outside %lld..%lld", v, min, max);
		return fail_at(cf, file, path, why, err, errlen);
	}
	*out = (size_t)v;
	return 0;
}

/* A number written as 1 or 1.0 alike, within min..max. */
static int load_number(const config_t *cf, const char *file, const char *path, double min,
		       double max, double *out, char *err, size_t errlen)
{
	const config_setting_t *set = config_lookup(cf, path);
	char why[96];
	double d;

	if (!set)
		return 0;
	if (config_setting_type(set) == CONFIG_TYPE_FLOAT)
		d = config_setting_get_float(set);
	else if (config_setting_type(set) == CONFIG_TYPE_INT)
		d = config_setting_get_int(set);
	else
		return fail_at(cf, file, path, "must be a number", err, errlen);
	if (d < min || d > max) {
		snprintf(why, sizeof(why), "must be within %.1f..%.1f", min, max);
		return fail_at(cf, file, path, why, err, errlen);
	}
	*out = d;
	return 0;
}

/* What a warning does to a forecast it interrupts, once the warning is over. */
static int load_preempted(const config_t *cf, const char *file, struct headend_config *c,
			  char *err, size_t errlen)
{
	static const char *const names[] = { "resume", "restart", "drop" };
	const char *v;

	if (!config_lookup_string(cf, "broadcast.preempted", &v)) {
		if (config_lookup(cf, "broadcast.preempted"))
			return fail_at(cf, file, "broadcast.preempted", "must be a string", err,
				       errlen);
		return 0;
	}
	for (int i = 0; i < 3; i++)
		if (!strcmp(v, names[i])) {
			c->preempted = (enum config_preempted)i;
			return 0;
		}
	return fail_at(cf, file, "broadcast.preempted", "must be \"resume\", \"restart\" or "
		       "\"drop\"", err, errlen);
}

/* Which warnings a live announcement preempts: those up to this colour; higher ones preempt it. */
static int load_outranks(const config_t *cf, const char *file, struct headend_config *c,
			 char *err, size_t errlen)
{
	const char *v;

	if (!config_lookup_string(cf, "live.outranks", &v)) {
		if (config_lookup(cf, "live.outranks"))
			return fail_at(cf, file, "live.outranks", "must be a string", err, errlen);
		return 0;
	}
	for (int i = PROTO_COLOUR_NONE; i <= PROTO_COLOUR_RED; i++)
		if (!strcmp(v, proto_colour_name((enum proto_colour)i))) {
			c->live_outranks = (enum proto_colour)i;
			return 0;
		}
	return fail_at(cf, file, "live.outranks", "must be \"none\", \"white\", \"blue\", "
		       "\"yellow\", \"orange\" or \"red\"", err, errlen);
}

/* The signal table is a file of its own so that a province edits it alone. */
static int load_signals(const config_t *cf, const char *file, struct headend_config *c,
			char *err, size_t errlen)
{
	char why[512];

	if (signals_load(&c->signals, c->signals_path, why, sizeof(why)) == SIGNALS_OK)
		return 0;
	if (!config_lookup(cf, "signals"))
		return fail(err, errlen, "%s: signals (by default): %s", file, why);
	return fail_at(cf, file, "signals", why, err, errlen);
}

/* Multicast must stay on the interface the operator named: a group address there would make
 * packets leave by the default route instead. */
static int check_multicast(const config_t *cf, const char *file, const struct headend_config *c,
			   char *err, size_t errlen)
{
	uint32_t base = ntohl(c->mc_base.s_addr);

	/* The plan fills 2^18 addresses; 239.252.0.0/14 would take in the local scope. */
	if ((base >> 24) != 239 || (base & 0x3ffffu) != 0 || base == 0xeffc0000u)
		return fail_at(cf, file, "multicast.base",
			       "must start a /14 of the administratively scoped 239.0.0.0/8 "
			       "(239.192.0.0, the organisation-local scope, by default; not "
			       "239.252.0.0)", err, errlen);
	if (IN_MULTICAST(ntohl(c->mc_interface.s_addr)) || c->mc_interface.s_addr == INADDR_ANY)
		return fail_at(cf, file, "multicast.interface",
			       "must be the unicast IPv4 address of one interface", err, errlen);
	return 0;
}

/* A certificate without its key, or the other way round, is a mistake, not plain HTTP. */
static int check_tls(const config_t *cf, const char *file, const struct headend_config *c,
		     char *err, size_t errlen)
{
	if (!c->tls_cert[0] != !c->tls_key[0])
		return fail_at(cf, file, c->tls_cert[0] ? "http.tls_key" : "http.tls_cert",
			       "http.tls_cert and http.tls_key go together", err, errlen);
	return 0;
}

/* Reports come to one named address: the wildcard would take them from every network. */
static int check_reports(const config_t *cf, const char *file, const struct headend_config *c,
			 char *err, size_t errlen)
{
	uint32_t a = ntohl(c->report_address.s_addr);

	if (IN_MULTICAST(a) || a == INADDR_ANY || a == INADDR_BROADCAST)
		return fail_at(cf, file, "reports.address",
			       "must be the unicast IPv4 address of one interface", err, errlen);
	/* On one port the reports would meet the broadcasts: the monitor and endpoints on this
	 * machine, which listen on multicast.port, could not bind, or would take reports. */
	if (c->report_port == c->mc_port)
		return fail_at(cf, file, "reports.port", "must differ from multicast.port", err,
			       errlen);
	return 0;
}

static int known_path(const char *path)
{
	static const char *const others[] = {
		"http", "multicast", "tts", "broadcast", "http.max_body", "broadcast.max_text",
		"multicast.interface", "multicast.base", "multicast.pace", "tts.gain_db",
		"tts.ceiling_dbfs", "broadcast.preempted", "auth", "console", "cap", "archive",
		"live", "live.outranks", "monitor",
		"reports", "reports.address", "reports.village_alarm",
	};

	for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++)
		if (!strcmp(path, int_settings[i].path))
			return 1;
	for (size_t i = 0; i < sizeof(str_settings) / sizeof(str_settings[0]); i++)
		if (!strcmp(path, str_settings[i].path))
			return 1;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (!strcmp(path, others[i]))
			return 1;
	return 0;
}

/* A misspelt setting would otherwise leave its default in force without a word. */
static int check_unknown(const config_setting_t *group, const char *file, char *err,
			 size_t errlen)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *parent = config_setting_name(group);
		char path[128];

		snprintf(path, sizeof(path), "%s%s%s", parent ? parent : "", parent ? "." : "",
			 config_setting_name(s));
		if (!known_path(path))
			return fail(err, errlen, "%s:%d: unknown setting %s", file,
				    config_setting_source_line(s), path);
		if (config_setting_is_group(s) && check_unknown(s, file, err, errlen))
			return -1;
	}
	return 0;
}

int config_load(struct headend_config *c, const char *path, char *err, size_t errlen)
{
	config_t cf;
	int rc = -1;

	config_default(c);
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			fail(err, errlen, "%s: cannot read the file", path);
		else
			fail(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
			     config_error_text(&cf));
		goto out;
	}
	if (check_unknown(config_root_setting(&cf), path, err, errlen) ||
	    load_ints(&cf, path, c, err, errlen) || load_strings(&cf, path, c, err, errlen) ||
	    load_size(&cf, path, "http.max_body", 1024, 16 << 20, &c->http_max_body, err,
		      errlen) ||
	    load_size(&cf, path, "broadcast.max_text", 16, 1 << 20, &c->max_text, err, errlen) ||
	    load_address(&cf, path, "multicast.interface", &c->mc_interface, err, errlen) ||
	    load_address(&cf, path, "multicast.base", &c->mc_base, err, errlen) ||
	    load_address(&cf, path, "reports.address", &c->report_address, err, errlen) ||
	    load_number(&cf, path, "reports.village_alarm", 0.0, 1.0, &c->report_alarm, err,
			errlen) ||
	    load_number(&cf, path, "multicast.pace", 1.0, 50.0, &c->pace, err, errlen) ||
	    load_number(&cf, path, "tts.gain_db", -20.0, 20.0, &c->tts.gain_db, err, errlen) ||
	    load_number(&cf, path, "tts.ceiling_dbfs", -20.0, 0.0, &c->tts.ceiling_dbfs, err,
			errlen) || check_multicast(&cf, path, c, err, errlen) ||
	    check_tls(&cf, path, c, err, errlen) ||
	    check_reports(&cf, path, c, err, errlen) ||
	    load_preempted(&cf, path, c, err, errlen) ||
	    load_outranks(&cf, path, c, err, errlen) ||
	    load_signals(&cf, path, c, err, errlen))
		goto out;
	c->tts.voice = c->voice;
	c->tts.latin_voice = c->latin_voice;
	rc = 0;
out:
	config_destroy(&cf);
	return rc;
}
