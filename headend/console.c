/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One function per console call. The console publishes through POST /v1/bulletins like any
 * client and watches GET /v1/status and /v1/warnings; what it needs beyond those is here:
 * the set-up (zone tree, signals, templates), previews rendered by the broadcast voice into
 * Ogg Opus, today's slots with their staged texts, the archive, and CAP alerts with the list
 * of those refused, for a forecaster to handle. */
#include "headend/console.h"

#include <errno.h>
#include <jansson.h>
#include <libconfig.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "headend/archive.h"
#include "headend/bulletin.h"
#include "headend/cap.h"
#include "headend/log.h"
#include "headend/oggopus.h"
#include "headend/state.h"
#include "tts/tts.h"

#define PREVIEWS 16		/* rendered previews kept for the browser to fetch */
#define PREVIEW_ID_MAX 24
#define REFUSED_MAX 50		/* refused CAP alerts listed */
#define FILE_MAX (1 << 20)	/* bytes of a static file */
#define HISTORY_LIMIT 500

struct preview {
	char id[PREVIEW_ID_MAX];
	unsigned char *audio;
	size_t len;
};

struct console {
	const struct headend_config *cfg;
	const struct schedule *sch;
	const struct zones *z;
	struct engine *e;
	struct scheduler *s;
	struct archive *archive;
	struct cap *cap;
	json_t *templates;
	pthread_mutex_t lock;	/* previews and refused */
	struct preview previews[PREVIEWS];
	unsigned long next_preview;
	json_t *refused;	/* newest last */
	json_int_t next_refused;
};

static void set_error(struct console_answer *an, unsigned status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(an->error, sizeof(an->error), fmt, ap);
	va_end(ap);
	an->status = status;
}

/* o (taken) as the JSON answer. */
static void set_json(struct console_answer *an, unsigned status, json_t *o)
{
	an->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!an->body) {
		set_error(an, 500, "out of memory");
		return;
	}
	an->status = status;
	an->len = strlen(an->body);
	an->type = "application/json; charset=utf-8";
}

static int prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Static files: a plain name under web root, nothing else. */

static const char *file_type(const char *url)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".svg", "image/svg+xml" },
		{ ".png", "image/png" }, { ".ico", "image/x-icon" },
	};
	size_t n = strlen(url);

	if (!strcmp(url, "/"))
		return types[0].type;
	if (n < 3 || n > 64 || url[0] != '/' || strspn(url + 1, "abcdefghijklmnopqrstuvwxyz"
						       "0123456789-_.") != n - 1 || url[1] == '.')
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t k = strlen(types[i].ext);

		if (n > k && !strcmp(url + n - k, types[i].ext))
			return types[i].type;
	}
	return NULL;
}

int console_public(const char *url)
{
	return file_type(url) != NULL;
}

int console_owns(const char *url)
{
	return console_public(url) || prefix(url, "/v1/console/") || !strcmp(url, "/v1/history") ||
	       prefix(url, "/v1/history/") || !strcmp(url, "/v1/cap") || prefix(url, "/v1/cap/");
}

const char *console_check_type(const char *url, const char *type)
{
	static const char *const cap_types[] = { "application/cap+xml", "application/xml" };
	const char *want = "application/json";

	if (!strcmp(url, "/v1/cap")) {
		for (size_t i = 0; type && i < 2; i++) {
			size_t n = strlen(cap_types[i]);

			if (!strncasecmp(type, cap_types[i], n) && (!type[n] || type[n] == ';' ||
								  type[n] == ' '))
				return NULL;
		}
		return "Content-Type must be application/cap+xml";
	}
	if (type && !strncasecmp(type, want, strlen(want)) &&
	    (!type[strlen(want)] || type[strlen(want)] == ';' || type[strlen(want)] == ' '))
		return NULL;
	return "Content-Type must be application/json";
}

static void get_file(struct console *con, const char *url, struct console_answer *an)
{
	char path[PATH_MAX + 80];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s%s", con->cfg->web_root, strcmp(url, "/") ? url :
		 "/index.html");
	f = fopen(path, "rb");
	an->body = f ? malloc(FILE_MAX) : NULL;
	if (an->body)
		n = fread(an->body, 1, FILE_MAX, f);
	if (f)
		fclose(f);
	if (!an->body || n == FILE_MAX) {
		free(an->body);
		an->body = NULL;
		set_error(an, 404, "no such file");
		return;
	}
	an->status = 200;
	an->len = n;
	an->type = file_type(url);
}

/* Set-up: what the compose screen offers */

static json_t *zone_tree(const struct zones *z)
{
	json_t *towns = json_array();

	for (size_t t = 0; towns && t < z->n_towns; t++) {
		const struct zones_town *town = &z->towns[t];
		json_t *villages = json_array();

		for (uint32_t v = 0; villages && v < town->n_villages; v++) {
			const struct zones_village *vil = &z->villages[town->first_village + v];

			json_array_append_new(villages, json_pack("{s:s, s:I, s:i}", "name",
					      vil->name, "code", (json_int_t)vil->code,
					      "endpoints", (json_int_t)vil->n_endpoints));
		}
		json_array_append_new(towns, json_pack("{s:s, s:I, s:i, s:o}", "name", town->name,
				      "code", (json_int_t)town->code, "endpoints",
				      (json_int_t)town->n_endpoints, "villages", villages));
	}
	return json_pack("{s:s, s:I, s:i, s:o}", "name", z->district_name, "code",
			 (json_int_t)z->district_code, "endpoints", (json_int_t)z->n_endpoints,
			 "towns", towns);
}

static json_t *signal_list(const struct headend_config *cfg)
{
	json_t *list = json_array();

	for (uint8_t s = 1; list && s <= SIGNAL_COUNT; s++) {
		const struct signal_type *t = &cfg->signals.types[s - 1];
		json_t *colours = json_array();

		if (!t->name[0]) {
			json_decref(colours);
			continue;
		}
		for (int c = PROTO_COLOUR_WHITE; colours && c <= PROTO_COLOUR_RED; c++)
			if (t->colours & (1u << c))
				json_array_append_new(colours, json_string(proto_colour_name(
						      (enum proto_colour)c)));
		json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "key",
				      proto_signal_key(s), "name", t->name, "colours", colours));
	}
	return list;
}

static json_t *repeat_policy(const struct headend_config *cfg)
{
	json_t *colours = json_object();

	for (int c = PROTO_COLOUR_WHITE; colours && c <= PROTO_COLOUR_RED; c++)
		json_object_set_new(colours, proto_colour_name((enum proto_colour)c),
				    json_integer(cfg->signals.colours[c].repeat));
	return json_pack("{s:i, s:i, s:i, s:o}", "forecast", cfg->repeat_forecast, "nowcast",
			 cfg->repeat_nowcast, "lift", cfg->signals.lift_repeat, "colours",
			 colours);
}

static void get_setup(struct console *con, const struct console_request *rq,
		      struct console_answer *an)
{
	char observatory[ZONES_NAME_MAX + 16];

	snprintf(observatory, sizeof(observatory), "%s气象台", con->z->district_name);
	set_json(an, 200, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:O, s:i}", "operator",
				    rq->who, "observatory", observatory, "time_zone",
				    con->sch->zone, "zones", zone_tree(con->z), "signals",
				    signal_list(con->cfg), "repeat", repeat_policy(con->cfg),
				    "templates", con->templates, "max_text",
				    (json_int_t)con->cfg->max_text));
}

/* libconfig groups and strings as JSON objects and strings. */
static json_t *config_json(const config_setting_t *set)
{
	json_t *o;

	if (config_setting_type(set) == CONFIG_TYPE_STRING)
		return json_string(config_setting_get_string(set));
	if (!config_setting_is_group(set))
		return NULL;
	o = json_object();
	for (int i = 0; o && i < config_setting_length(set); i++) {
		const config_setting_t *c = config_setting_get_elem(set, (unsigned)i);
		json_t *v = config_json(c);

		if (!v) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, config_setting_name(c), v);
	}
	return o;
}

static int load_templates(struct console *con, char *err, size_t errlen)
{
	const char *path = con->cfg->templates_path;
	config_t cf;

	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
			 config_error_type(&cf) == CONFIG_ERR_FILE_IO ? "cannot read the file" :
			 config_error_text(&cf));
		config_destroy(&cf);
		return -1;
	}
	con->templates = config_json(config_root_setting(&cf));
	config_destroy(&cf);
	if (!con->templates)
		snprintf(err, errlen, "%s: only groups and strings belong in it", path);
	return con->templates ? 0 : -1;
}

/* Preview: the broadcast's voice, tone included, one play, as Ogg Opus */

static int take_pcm(void *arg, const int16_t *pcm, size_t samples)
{
	char err[128];

	return oggopus_write(arg, pcm, samples, err, sizeof(err));
}

static enum tts_tone tone_of(const struct headend_config *cfg, const struct bulletin *b)
{
	enum proto_colour c;

	if (b->kind != PROTO_KIND_WARNING || b->colour == PROTO_COLOUR_NONE)
		return TTS_TONE_NONE;
	c = cfg->signals.colours[b->colour].tone;
	return c == PROTO_COLOUR_NONE ? TTS_TONE_NONE : (enum tts_tone)(TTS_TONE_WHITE + c -
									PROTO_COLOUR_WHITE);
}

/* sentences: [{text, pinyin}] from tts_reading's two lines a sentence. */
static json_t *sentences_of(struct tts *t, const char *text, json_t **normalised)
{
	json_t *list = json_array();
	char *out = NULL, *line, *save = NULL;
	size_t used = 0, cap = strlen(text) * 2 + 64;
	char *joined = malloc(cap);

	*normalised = NULL;
	if (joined)
		joined[0] = '\0';
	if (!joined || tts_reading(t, text, &out) != TTS_OK) {
		free(joined);
		return list;
	}
	for (line = strtok_r(out, "\n", &save); list && line; line = strtok_r(NULL, "\n", &save)) {
		char *pinyin = strtok_r(NULL, "\n", &save);
		size_t n = strlen(line);

		json_array_append_new(list, json_pack("{s:s, s:s}", "text", line, "pinyin",
						      pinyin ? pinyin : ""));
		if (used + n + 1 < cap) {
			memcpy(joined + used, line, n + 1);
			used += n;
		}
	}
	*normalised = json_string(joined);
	free(joined);
	free(out);
	return list;
}

static int render_preview(struct console *con, const struct bulletin *b, unsigned char **audio,
			  size_t *len, char *err, size_t errlen)
{
	struct tts *t = engine_tts(con->e);
	struct oggopus *o = oggopus_new(con->cfg->archive_bitrate, "preview", err, errlen);
	struct tts_sink sink = { .on_pcm = take_pcm, .arg = o };
	enum tts_tone tone = tone_of(con->cfg, b);
	enum tts_result r = TTS_OK;

	if (!o)
		return -1;
	if (tone != TTS_TONE_NONE)
		r = tts_render_tone(t, tone, &sink);
	if (r == TTS_OK)
		r = tts_render(t, b->text, &sink);
	if (r != TTS_OK) {
		snprintf(err, errlen, "the voice cannot read it: %s", tts_strerror(r));
		oggopus_free(o);
		return -1;
	}
	return oggopus_finish(o, audio, len, err, errlen);
}

/* Ogg Opus length: the last page's granule position (48 kHz) less OpusHead's pre-skip. */
static double ogg_seconds(const unsigned char *d, size_t len)
{
	unsigned skip = len > 40 && !memcmp(d + 28, "OpusHead", 8) ? d[38] | d[39] << 8 : 0;

	for (size_t i = len >= 27 ? len - 27 : 0; i-- > 0;)
		if (!memcmp(d + i, "OggS", 4)) {
			uint64_t g = 0;

			for (int k = 7; k >= 0; k--)
				g = (g << 8) | d[i + 6 + k];
			return g > skip ? (g - skip) / 48000.0 : 0;
		}
	return 0;
}

static void keep_preview(struct console *con, unsigned char *audio, size_t len, char *id)
{
	struct preview *p;

	pthread_mutex_lock(&con->lock);
	p = &con->previews[con->next_preview % PREVIEWS];
	free(p->audio);
	snprintf(p->id, sizeof(p->id), "p%lu", ++con->next_preview);
	p->audio = audio;
	p->len = len;
	snprintf(id, PREVIEW_ID_MAX, "%s", p->id);
	pthread_mutex_unlock(&con->lock);
}

static void post_preview(struct console *con, const struct console_request *rq,
			 struct console_answer *an)
{
	struct bulletin b;
	unsigned char *audio;
	size_t len;
	char err[512], id[PREVIEW_ID_MAX], url[64];
	int status = bulletin_parse(rq->body ? rq->body : "", rq->len, con->z, con->cfg, &b, err,
				    sizeof(err));
	json_t *normalised, *sentences, *o;
	double seconds, gaps;

	if (status) {
		set_error(an, (unsigned)status, "%s", err);
		return;
	}
	if (render_preview(con, &b, &audio, &len, err, sizeof(err))) {
		set_error(an, 422, "%s", err);
		bulletin_free(&b);
		return;
	}
	seconds = ogg_seconds(audio, len);
	keep_preview(con, audio, len, id);
	snprintf(url, sizeof(url), "/v1/console/preview/%s.opus", id);
	sentences = sentences_of(engine_tts(con->e), b.text, &normalised);
	gaps = b.kind == PROTO_KIND_WARNING ? con->cfg->signals.colours[b.colour].gap_ms :
	       con->cfg->repeat_gap_ms;
	gaps = gaps * b.repeat / 1000.0;
	o = json_pack("{s:s, s:s, s:f, s:i, s:f, s:s, s:s, s:i, s:o, s:o}", "id", id, "audio", url,
		      "seconds", seconds, "plays", b.repeat + 1, "on_air_seconds",
		      seconds * (b.repeat + 1) + gaps, "kind", proto_kind_name(b.kind), "targets",
		      b.targets, "endpoints", (json_int_t)b.endpoints, "sentences", sentences,
		      "normalised", normalised ? normalised : json_string(""));
	if (o && b.kind == PROTO_KIND_WARNING)
		json_object_set_new(o, "warning", json_pack("{s:s, s:s, s:s, s:s}", "signal",
				    proto_signal_key(b.signal), "name",
				    con->cfg->signals.types[b.signal - 1].name, "colour",
				    proto_colour_name(b.colour), "action",
				    proto_action_name(b.action)));
	log_info("console %s: preview %s of %s to %s, %.1f s", rq->who, id,
		 proto_kind_name(b.kind), b.targets, seconds);
	bulletin_free(&b);
	set_json(an, 200, o);
}

static void get_preview(struct console *con, const char *url, struct console_answer *an)
{
	const char *name = url + strlen("/v1/console/preview/");
	size_t n = strlen(name);

	an->status = 0;
	pthread_mutex_lock(&con->lock);
	for (size_t i = 0; n > 5 && !strcmp(name + n - 5, ".opus") && i < PREVIEWS; i++) {
		const struct preview *p = &con->previews[i];

		if (!p->audio || strlen(p->id) != n - 5 || strncmp(p->id, name, n - 5))
			continue;
		an->body = malloc(p->len);
		if (an->body) {
			memcpy(an->body, p->audio, p->len);
			an->len = p->len;
			an->status = 200;
			an->type = "audio/ogg";
		}
	}
	pthread_mutex_unlock(&con->lock);
	if (!an->status)
		set_error(an, 404, "no such preview (only the last %d are kept)", PREVIEWS);
}

/* Today: the slots with the text staged for each and whether it is fresh */

static void add_staged(struct console *con, json_t *slot)
{
	const char *time = json_string_value(json_object_get(slot, "time"));
	const char *product = json_string_value(json_object_get(slot, "product"));
	json_t *staged = json_object_get(slot, "staged"), *file;
	char dir[PATH_MAX + 16], name[32], *text;
	size_t n = 0;
	int p = product ? schedule_product_lookup(product) : -1;
	int max_age = p >= 0 ? con->sch->products[p].max_age : 0;

	if (!time)
		return;
	for (const char *c = time; *c && n + 6 < sizeof(name); c++)
		if (*c != ':')
			name[n++] = *c;
	snprintf(name + n, sizeof(name) - n, ".json");
	json_object_set_new(slot, "max_age", json_integer(max_age));
	if (!staged)
		return;
	snprintf(dir, sizeof(dir), "%s/staged", con->cfg->state_dir);
	text = state_read(dir, name, NULL);
	file = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	json_object_set(staged, "text", json_object_get(file, "text") ? json_object_get(file,
			"text") : json_string(""));
	json_object_set_new(staged, "fresh", json_boolean(!json_is_true(json_object_get(staged,
			    "played")) && json_integer_value(json_object_get(staged, "age_s")) <=
			    max_age));
	json_decref(file);
}

static void get_today(struct console *con, const struct console_request *rq,
		      struct console_answer *an)
{
	char err[512], *answer = NULL;
	unsigned status = scheduler_handle(con->s, "GET", "/v1/schedule", rq->who, NULL, 0,
					   &answer, err, sizeof(err));
	json_t *o = status == 200 ? json_loads(answer, 0, NULL) : NULL, *slot;
	size_t i;

	free(answer);
	if (!o) {
		set_error(an, status == 200 ? 500 : status, "%s", status == 200 ?
			  "the schedule does not parse" : err);
		return;
	}
	json_array_foreach(json_object_get(o, "slots"), i, slot)
		add_staged(con, slot);
	set_json(an, 200, o);
}

/* History */

static int parse_limit(const char *s, size_t *out)
{
	char *end;
	long v;

	if (!s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > HISTORY_LIMIT)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* The village codes of a target, or of the whole district when target is NULL. */
static uint64_t *target_codes(const struct zones *z, const char *target, size_t *n, char *err,
			      size_t errlen)
{
	struct zones_selection sel;
	uint64_t *codes = NULL;

	*n = 0;
	if (zones_selection_init(&sel, z) != ZONES_OK) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (target && zones_resolve(z, target, &sel, err, errlen) != ZONES_OK)
		goto out;
	codes = calloc(z->n_villages + 1, sizeof(*codes));
	for (size_t v = 0; codes && v < z->n_villages; v++)
		if (!target || sel.villages[v])
			codes[(*n)++] = z->villages[v].code;
	for (size_t i = 0; codes && target && i < sel.n_endpoints; i++)
		codes[(*n)++] = z->villages[z->endpoints[sel.endpoints[i]].village].code;
	if (!codes)
		snprintf(err, errlen, "out of memory");
out:
	zones_selection_free(&sel);
	return codes;
}

static void get_heard(struct console *con, const char *target, const char *at,
		      struct console_answer *an)
{
	char from[ARCHIVE_TIME_MAX], to[ARCHIVE_TIME_MAX], err[256];
	size_t n;
	uint64_t *codes;
	json_t *o;

	if (archive_span(at, from, to)) {
		set_error(an, 422, "\"at\" must be YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD "
			  "HH:MM:SS (%s time)", con->sch->zone);
		return;
	}
	codes = target_codes(con->z, target, &n, err, sizeof(err));
	if (!codes) {
		set_error(an, 422, "%s", err);
		return;
	}
	o = archive_heard(con->archive, codes, n, from, to);
	free(codes);
	if (o)
		json_object_update_new(o, json_pack("{s:s, s:s, s:s, s:s, s:s}", "target",
				       target ? target : con->z->district_name, "at", at, "from",
				       from, "to", to, "time_zone", con->sch->zone));
	set_json(an, 200, o);
}

static void get_history(struct console *con, const struct console_request *rq,
			struct console_answer *an)
{
	const char *target = rq->arg(rq->ctx, "target"), *at = rq->arg(rq->ctx, "at");
	size_t limit = 50;

	if (at && *at)
		get_heard(con, target && *target ? target : NULL, at, an);
	else if (target && *target)
		set_error(an, 422, "\"target\" needs \"at\": what a place heard at a time");
	else if (parse_limit(rq->arg(rq->ctx, "limit"), &limit))
		set_error(an, 422, "\"limit\" must be 1..%d", HISTORY_LIMIT);
	else
		set_json(an, 200, json_pack("{s:o, s:s}", "history",
					    archive_latest(con->archive, limit), "time_zone",
					    con->sch->zone));
}

static void get_record(struct console *con, const char *url, struct console_answer *an)
{
	char id[ARCHIVE_ID_MAX + 8];
	size_t n;
	json_t *rec;

	snprintf(id, sizeof(id), "%s", url + strlen("/v1/history/"));
	n = strlen(id);
	if (n > 5 && !strcmp(id + n - 5, ".opus")) {
		id[n - 5] = '\0';
		if (archive_audio(con->archive, id, &an->body, &an->len)) {
			set_error(an, 404, "no recording %s in the archive", id);
			return;
		}
		an->status = 200;
		an->type = "audio/ogg";
		return;
	}
	rec = archive_record(con->archive, id);
	if (!rec) {
		set_error(an, 404, "no record %s in the archive", id);
		return;
	}
	set_json(an, 200, rec);
}

/* CAP */

static void save_refused(struct console *con)
{
	char *text = json_dumps(con->refused, JSON_COMPACT);

	if (!text || state_write(con->cfg->state_dir, "cap-refused.json", text, strlen(text)))
		log_error("cap: cannot save the refused alerts in %s: %s", con->cfg->state_dir,
			  text ? strerror(errno) : "out of memory");
	free(text);
}

static void refuse_alert(struct console *con, unsigned status, const char *why, json_t *about)
{
	char at[32];
	json_t *entry;

	pthread_mutex_lock(&con->lock);
	entry = json_pack("{s:I, s:s, s:i, s:s, s:O, s:b}", "id", ++con->next_refused, "at",
			  schedule_format(con->sch, time(NULL), at, sizeof(at)), "status",
			  (json_int_t)status, "reason", why, "alert", about, "handled", 0);
	json_array_append_new(con->refused, entry);
	while (json_array_size(con->refused) > REFUSED_MAX)
		json_array_remove(con->refused, 0);
	save_refused(con);
	pthread_mutex_unlock(&con->lock);
}

static void load_refused(struct console *con)
{
	char *text = state_read(con->cfg->state_dir, "cap-refused.json", NULL);
	json_t *list = text ? json_loads(text, 0, NULL) : NULL, *e;
	size_t i;

	free(text);
	con->refused = json_is_array(list) ? list : json_array();
	if (list && !json_is_array(list))
		json_decref(list);
	json_array_foreach(con->refused, i, e)
		if (json_integer_value(json_object_get(e, "id")) > con->next_refused)
			con->next_refused = json_integer_value(json_object_get(e, "id"));
}

static const char *about_text(const json_t *about, const char *key)
{
	const char *s = json_string_value(json_object_get(about, key));

	return s ? s : "?";
}

/* A mapped alert through the bulletin parser and into the engine, like POST /v1/bulletins. */
static unsigned submit_alert(struct console *con, const char *who, json_t *request,
			     json_t *about, json_t **answer, char *err, size_t errlen)
{
	char *body = json_dumps(request, JSON_COMPACT), source[600];
	struct bulletin b;
	uint32_t id;
	int rc = body ? bulletin_parse(body, strlen(body), con->z, con->cfg, &b, err, errlen) :
			500;

	free(body);
	if (rc)
		return (unsigned)rc;
	rc = engine_submit(con->e, &b, &id, err, errlen);
	if (rc)
		bulletin_free(&b);
	if (rc < 0)
		return rc == -2 ? 409 : 503;
	snprintf(source, sizeof(source), "CAP %s %s", about_text(about, "sender"),
		 about_text(about, "identifier"));
	if (!rc && archive_note(con->archive, id, who, source))
		log_error("bulletin %u: cannot note who sent it: %s", id, strerror(errno));
	if (!rc)
		cap_accepted(con->cap, about, request);
	*answer = json_pack("{s:i, s:b, s:s, s:O, s:O, s:O, s:O}", "id", (json_int_t)id,
			    "duplicate", rc == 1, "identifier", about_text(about, "identifier"),
			    "signal", json_object_get(request, "signal"), "colour",
			    json_object_get(request, "colour"), "action",
			    json_object_get(request, "action"), "targets",
			    json_object_get(request, "targets"));
	log_info("console %s: CAP %s from %s %s as bulletin %u (%s %s %s)", who,
		 about_text(about, "identifier"), about_text(about, "sender"),
		 rc == 1 ? "already accepted" : "accepted", id,
		 json_string_value(json_object_get(request, "signal")),
		 json_string_value(json_object_get(request, "colour")),
		 json_string_value(json_object_get(request, "action")));
	return rc == 1 ? 200 : 202;
}

static void post_cap(struct console *con, const struct console_request *rq,
		     struct console_answer *an)
{
	char *active_text = engine_warnings_json(con->e), err[512];
	json_t *active = active_text ? json_loads(active_text, 0, NULL) : NULL;
	json_t *about = json_object(), *request = NULL, *answer = NULL;
	unsigned status;

	free(active_text);
	status = about ? cap_map(con->cap, rq->body ? rq->body : "", rq->len, active, &request,
				 about, err, sizeof(err)) : 500;
	if (!about)
		snprintf(err, sizeof(err), "out of memory");
	if (!status)
		status = submit_alert(con, rq->who, request, about, &answer, err, sizeof(err));
	if (status >= 300) {
		if (about)
			refuse_alert(con, status, err, about);
		set_error(an, status, "%s", err);
	} else {
		set_json(an, status, answer);
	}
	json_decref(request);
	json_decref(about);
	json_decref(active);
}

static void get_refused(struct console *con, struct console_answer *an)
{
	json_t *list = json_array(), *e;
	size_t i, pending = 0;

	pthread_mutex_lock(&con->lock);
	for (i = json_array_size(con->refused); list && i-- > 0;) {
		e = json_array_get(con->refused, i);
		json_array_append(list, e);
		pending += !json_is_true(json_object_get(e, "handled"));
	}
	pthread_mutex_unlock(&con->lock);
	set_json(an, 200, json_pack("{s:o, s:i}", "refused", list, "pending",
				    (json_int_t)pending));
}

static void post_handled(struct console *con, const struct console_request *rq,
			 struct console_answer *an)
{
	json_t *o = json_loadb(rq->body ? rq->body : "", rq->len, 0, NULL), *e;
	json_int_t id = json_integer_value(json_object_get(o, "id"));
	size_t i;
	int found = 0;

	if (!json_is_object(o) || json_object_size(o) != 1 || !json_is_integer(json_object_get(o,
										     "id"))) {
		json_decref(o);
		set_error(an, 400, "the body must be {\"id\": N}");
		return;
	}
	json_decref(o);
	pthread_mutex_lock(&con->lock);
	json_array_foreach(con->refused, i, e)
		if (json_integer_value(json_object_get(e, "id")) == id) {
			json_object_set_new(e, "handled", json_true());
			json_object_set_new(e, "handled_by", json_string(rq->who));
			found = 1;
		}
	if (found)
		save_refused(con);
	pthread_mutex_unlock(&con->lock);
	if (!found) {
		set_error(an, 404, "no refused alert %lld", (long long)id);
		return;
	}
	log_info("console %s: refused CAP alert %lld marked handled", rq->who, (long long)id);
	set_json(an, 200, json_pack("{s:I, s:b}", "id", id, "handled", 1));
}

/* Routing */

static int is_get(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

/* POST routes; 0 if url is none of them. */
static int route_post(struct console *con, const struct console_request *rq,
		      struct console_answer *an)
{
	if (!strcmp(rq->url, "/v1/console/preview"))
		post_preview(con, rq, an);
	else if (!strcmp(rq->url, "/v1/cap"))
		post_cap(con, rq, an);
	else if (!strcmp(rq->url, "/v1/cap/handled"))
		post_handled(con, rq, an);
	else
		return 0;
	return 1;
}

static int route_get(struct console *con, const struct console_request *rq,
		     struct console_answer *an)
{
	const char *url = rq->url;

	if (console_public(url))
		get_file(con, url, an);
	else if (!strcmp(url, "/v1/console/setup"))
		get_setup(con, rq, an);
	else if (prefix(url, "/v1/console/preview/"))
		get_preview(con, url, an);
	else if (!strcmp(url, "/v1/console/today"))
		get_today(con, rq, an);
	else if (!strcmp(url, "/v1/history"))
		get_history(con, rq, an);
	else if (prefix(url, "/v1/history/"))
		get_record(con, url, an);
	else if (!strcmp(url, "/v1/cap/refused"))
		get_refused(con, an);
	else
		return 0;
	return 1;
}

static int takes_post(const char *url)
{
	return !strcmp(url, "/v1/console/preview") || !strcmp(url, "/v1/cap") ||
	       !strcmp(url, "/v1/cap/handled");
}

void console_handle(struct console *con, const struct console_request *rq,
		    struct console_answer *an)
{
	int get = is_get(rq->method), post = !strcmp(rq->method, "POST");

	memset(an, 0, sizeof(*an));
	if ((get && route_get(con, rq, an)) || (post && route_post(con, rq, an)))
		return;
	if (get || !post)
		set_error(an, takes_post(rq->url) ? 405 : 404, takes_post(rq->url) ?
			  "use POST for %s" : "no such resource: %s", rq->url);
	else
		set_error(an, 405, "use GET for %s", rq->url);
}

void console_accepted(struct console *con, uint32_t id, const char *who, const char *client_id)
{
	const char *source = client_id && prefix(client_id, "console-") ? "console" : "api";

	if (con && archive_note(con->archive, id, who, source))
		log_error("bulletin %u: cannot note who sent it: %s", id, strerror(errno));
}

int console_open(struct console **out, const struct headend_config *cfg,
		 const struct schedule *sch, const struct zones *z, struct engine *e,
		 struct scheduler *s, char *err, size_t errlen)
{
	struct console *con = calloc(1, sizeof(*con));

	*out = NULL;
	if (!con)
		return snprintf(err, errlen, "out of memory"), -1;
	*con = (struct console){ .cfg = cfg, .sch = sch, .z = z, .e = e, .s = s };
	pthread_mutex_init(&con->lock, NULL);
	load_refused(con);
	if (load_templates(con, err, errlen) ||
	    cap_open(&con->cap, cfg->cap_schema, cfg->cap_map, z, &cfg->signals, err, errlen) ||
	    archive_open(&con->archive, cfg, sch, z, e, err, errlen)) {
		console_close(con);
		return -1;
	}
	*out = con;
	return 0;
}

void console_close(struct console *con)
{
	if (!con)
		return;
	archive_close(con->archive);
	cap_close(con->cap);
	for (size_t i = 0; i < PREVIEWS; i++)
		free(con->previews[i].audio);
	json_decref(con->templates);
	json_decref(con->refused);
	pthread_mutex_destroy(&con->lock);
	free(con);
}
