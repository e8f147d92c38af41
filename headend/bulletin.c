/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Turns a JSON bulletin request into a checked struct bulletin: keys, kind, warning signal,
 * colour and action (from the keys or the text's fixed phrase), repeat and targets. */
#include "headend/bulletin.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *key, *name, *short_name;
} colour_names[] = {
	[PROTO_COLOUR_WHITE] = { "white", "白色", "白" },
	[PROTO_COLOUR_BLUE] = { "blue", "蓝色", "蓝" },
	[PROTO_COLOUR_YELLOW] = { "yellow", "黄色", "黄" },
	[PROTO_COLOUR_ORANGE] = { "orange", "橙色", "橙" },
	[PROTO_COLOUR_RED] = { "red", "红色", "红" },
};

static const char *const known_keys[] = {
	"text", "kind", "targets", "repeat", "client_id", "signal", "colour", "action",
};

static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}

enum proto_colour colour_lookup(const char *s)
{
	for (int c = PROTO_COLOUR_WHITE; c <= PROTO_COLOUR_RED; c++)
		if (!strcmp(s, colour_names[c].key) || !strcmp(s, colour_names[c].name) ||
		    !strcmp(s, colour_names[c].short_name))
			return (enum proto_colour)c;
	return PROTO_COLOUR_NONE;
}

/* Signal name then colour then 预警信号, starting exactly at p; returns bytes matched or 0. */
static size_t match_signal(const struct signals *sig, const char *p, uint8_t *signal,
			   enum proto_colour *colour)
{
	static const char tail[] = "预警信号";

	for (int i = 0; i < SIGNAL_COUNT; i++) {
		size_t n = strlen(sig->types[i].name);

		if (!n || strncmp(p, sig->types[i].name, n))
			continue;
		for (int c = PROTO_COLOUR_WHITE; c <= PROTO_COLOUR_RED; c++) {
			size_t m = strlen(colour_names[c].name);

			if (strncmp(p + n, colour_names[c].name, m) ||
			    strncmp(p + n + m, tail, sizeof(tail) - 1))
				continue;
			*signal = (uint8_t)(i + 1);
			*colour = (enum proto_colour)c;
			return n + m + sizeof(tail) - 1;
		}
	}
	return 0;
}

/* The fixed phrase stands in the bulletin's opening, before its first colon; the body may
 * mention other warnings ("未来不会发布…") without changing what this bulletin is. */
static size_t opening_len(const char *text)
{
	const char *wide = strstr(text, "："), *narrow = strchr(text, ':');

	if (wide && (!narrow || wide < narrow))
		return (size_t)(wide - text);
	return narrow ? (size_t)(narrow - text) : strlen(text);
}

int bulletin_phrase(const struct signals *sig, const char *text, uint8_t *signal,
		    enum proto_colour *colour, enum proto_action *action)
{
	static const struct {
		const char *verb;
		enum proto_action action;
	} verbs[] = {
		{ "更新为", PROTO_ACTION_CHANGE },
		{ "解除", PROTO_ACTION_LIFT },
		{ "发布", PROTO_ACTION_ISSUE },
	};
	char *opening = strndup(text, opening_len(text));
	int found = 0;

	if (!opening)
		return -1;
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		size_t n = strlen(verbs[v].verb);

		char *p;

		for (p = strstr(opening, verbs[v].verb); p; p = strstr(p + 1, verbs[v].verb)) {
			uint8_t s;
			enum proto_colour c;

			if (!match_signal(sig, p + n, &s, &c))
				continue;
			if (found && (s != *signal || c != *colour || verbs[v].action != *action))
				found = -1;
			if (found >= 0) {
				*signal = s;
				*colour = c;
				*action = verbs[v].action;
				found = 1;
			}
		}
	}
	free(opening);
	return found;
}

static int check_keys(json_t *root, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(root, key, v) {
		size_t i, n = sizeof(known_keys) / sizeof(known_keys[0]);

		for (i = 0; i < n && strcmp(key, known_keys[i]); i++)
			;
		if (i == n)
			return fail(err, errlen, 400, "unknown key \"%s\" (known: text, kind, "
				    "targets, repeat, client_id, signal, colour, action)", key);
	}
	return 0;
}

/* Nothing but ASCII white space and the ideographic space U+3000. */
static int is_blank(const char *s)
{
	for (;;) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		else if (!strncmp(s, "\u3000", 3))
			s += 3;
		else
			return *s == '\0';
	}
}

/* A Han character (U+3400..U+9FFF, three bytes from E3 90 80), a Latin letter or a digit:
 * punctuation or emoji alone would go on air as silence. */
static int has_words(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
			return 1;
		if ((*p == 0xe3 && p[1] >= 0x90) || (*p >= 0xe4 && *p <= 0xe9))
			return 1;
	}
	return 0;
}

/* Control characters other than line breaks and tabs have no spoken form and hint at a
 * mangled upload, so they are refused rather than silently dropped. */
static int check_text(const char *text, size_t max, char *err, size_t errlen)
{
	size_t len = strlen(text);
	const unsigned char *p;

	if (len > max)
		return fail(err, errlen, 413, "text is %zu bytes, the limit is %zu", len, max);
	for (p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t')
			return fail(err, errlen, 422,
				    "text has control character 0x%02x at byte %zu", *p,
				    (size_t)(p - (const unsigned char *)text));
	if (is_blank(text))
		return fail(err, errlen, 422, "text is empty");
	if (!has_words(text))
		return fail(err, errlen, 422, "text has nothing to read aloud (no Chinese "
			    "characters, letters or digits)");
	return 0;
}

static int optional_string(json_t *root, const char *key, const char **out, char *err,
			   size_t errlen)
{
	json_t *v = json_object_get(root, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || !*json_string_value(v))
		return fail(err, errlen, 422, "\"%s\" must be a non-empty string", key);
	*out = json_string_value(v);
	return 0;
}

static int parse_kind(json_t *root, const char *text, int has_phrase, struct bulletin *b,
		      char *err, size_t errlen)
{
	static const char *const kinds[] = { NULL, "forecast", "nowcast", "warning" };
	const char *k;
	int rc = optional_string(root, "kind", &k, err, errlen);

	if (rc)
		return rc;
	if (!k) {
		if (has_phrase)
			b->kind = PROTO_KIND_WARNING;
		else if (strstr(text, "短时临近预报"))
			b->kind = PROTO_KIND_NOWCAST;
		else if (strstr(text, "天气预报"))
			b->kind = PROTO_KIND_FORECAST;
		else
			return fail(err, errlen, 422, "\"kind\" is missing and the text does not "
				    "say (forecast, nowcast or warning)");
		return 0;
	}
	for (int i = 1; i <= 3; i++)
		if (!strcmp(k, kinds[i])) {
			b->kind = (enum proto_kind)i;
			return 0;
		}
	return fail(err, errlen, 422, "unknown kind \"%s\" (forecast, nowcast or warning)", k);
}

static int parse_action(const char *s, enum proto_action *a)
{
	static const char *const names[][2] = {
		[PROTO_ACTION_ISSUE] = { "issue", "发布" },
		[PROTO_ACTION_CHANGE] = { "change", "更新" },
		[PROTO_ACTION_LIFT] = { "lift", "解除" },
	};

	for (int i = PROTO_ACTION_ISSUE; i <= PROTO_ACTION_LIFT; i++)
		if (!strcmp(s, names[i][0]) || !strcmp(s, names[i][1])) {
			*a = (enum proto_action)i;
			return 0;
		}
	return -1;
}

struct warning_keys {
	const char *signal, *colour, *action;
};

/* Keys first, then the phrase fills what the keys left out; where both speak they must agree. */
static int merge_warning(const struct signals *sig, const struct warning_keys *k,
			 int has_phrase, uint8_t ps, enum proto_colour pc, enum proto_action pa,
			 struct bulletin *b, char *err, size_t errlen)
{
	b->signal = k->signal ? (uint8_t)signals_lookup(sig, k->signal) : 0;
	b->colour = k->colour ? colour_lookup(k->colour) : PROTO_COLOUR_NONE;
	b->action = PROTO_ACTION_NONE;
	if (k->signal && !b->signal)
		return fail(err, errlen, 422, "unknown signal \"%s\"", k->signal);
	if (k->colour && !b->colour)
		return fail(err, errlen, 422, "unknown colour \"%s\" (white, blue, yellow, "
			    "orange, red)", k->colour);
	if (k->action && parse_action(k->action, &b->action))
		return fail(err, errlen, 422, "unknown action \"%s\" (issue, change, lift)",
			    k->action);
	if (has_phrase && b->signal && b->signal != ps)
		return fail(err, errlen, 422, "signal is %s in the keys but %s in the text",
			    proto_signal_key(b->signal), proto_signal_key(ps));
	if (has_phrase && b->colour && b->colour != pc)
		return fail(err, errlen, 422, "colour is %s in the keys but %s in the text",
			    proto_colour_name(b->colour), proto_colour_name(pc));
	if (has_phrase && b->action && b->action != pa)
		return fail(err, errlen, 422, "action is %s in the keys but %s in the text",
			    proto_action_name(b->action), proto_action_name(pa));
	if (has_phrase) {
		b->signal = ps;
		b->colour = pc;
		b->action = pa;
	}
	return 0;
}

static int parse_warning(json_t *root, const char *text, const struct signals *sig,
			 struct bulletin *b, char *err, size_t errlen)
{
	struct warning_keys k;
	uint8_t ps = 0;
	enum proto_colour pc = PROTO_COLOUR_NONE;
	enum proto_action pa = PROTO_ACTION_NONE;
	int has_phrase = bulletin_phrase(sig, text, &ps, &pc, &pa);
	int rc;

	if ((rc = optional_string(root, "signal", &k.signal, err, errlen)) ||
	    (rc = optional_string(root, "colour", &k.colour, err, errlen)) ||
	    (rc = optional_string(root, "action", &k.action, err, errlen)))
		return rc;
	if (b->kind != PROTO_KIND_WARNING) {
		if (k.signal || k.colour || k.action)
			return fail(err, errlen, 422, "signal, colour and action are for warnings "
				    "only, this is a %s", proto_kind_name(b->kind));
		return 0;
	}
	if ((rc = merge_warning(sig, &k, has_phrase, ps, pc, pa, b, err, errlen)))
		return rc;
	if (!b->signal || !b->colour)
		return fail(err, errlen, 422, "a warning needs its signal and colour, in the "
			    "keys or as the fixed phrase (发布冰雹橙色预警信号)");
	if (!b->action)
		b->action = PROTO_ACTION_ISSUE;
	if (!sig->types[b->signal - 1].name[0])
		return fail(err, errlen, 422, "signal %s is not in use here (not in the signal "
			    "table)", proto_signal_key(b->signal));
	if (!(sig->types[b->signal - 1].colours & (1u << b->colour)))
		return fail(err, errlen, 422, "%s (%s) has no %s signal",
			    proto_signal_key(b->signal), sig->types[b->signal - 1].name,
			    proto_colour_name(b->colour));
	return 0;
}

static int default_repeat(const struct bulletin *b, const struct headend_config *cfg)
{
	if (b->kind == PROTO_KIND_FORECAST)
		return cfg->repeat_forecast;
	if (b->kind == PROTO_KIND_NOWCAST)
		return cfg->repeat_nowcast;
	if (b->action == PROTO_ACTION_LIFT)
		return cfg->signals.lift_repeat;
	return cfg->signals.colours[b->colour].repeat;
}

static int parse_repeat_and_client(json_t *root, const struct headend_config *cfg,
				   struct bulletin *b, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, "repeat");
	const char *id;
	int rc;

	b->repeat = default_repeat(b, cfg);
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 10)
			return fail(err, errlen, 422, "\"repeat\" must be an integer 0..10");
		b->repeat = (int)json_integer_value(v);
	}
	if ((rc = optional_string(root, "client_id", &id, err, errlen)) || !id)
		return rc;
	if (strlen(id) > BULLETIN_CLIENT_ID_MAX)
		return fail(err, errlen, 422, "\"client_id\" is longer than %d bytes",
			    BULLETIN_CLIENT_ID_MAX);
	for (const char *p = id; *p; p++)
		if (*p <= ' ' || *p > '~')
			return fail(err, errlen, 422, "\"client_id\" must be printable ASCII "
				    "without spaces");
	memcpy(b->client_id, id, strlen(id) + 1);
	return 0;
}

static int add_code(struct bulletin *b, uint64_t code, char *err, size_t errlen)
{
	if (b->n_codes == PROTO_MAX_TARGETS)
		return fail(err, errlen, 422, "the targets name more than %d separate villages "
			    "and loudspeakers", PROTO_MAX_TARGETS);
	b->codes[b->n_codes++] = code;
	return 0;
}

/* The selection in the fewest codes, as the control packets carry it. */
static int selection_codes(const struct zones *z, struct bulletin *b, char *err, size_t errlen)
{
	size_t all = 0;

	for (size_t v = 0; v < z->n_villages; v++)
		all += b->sel.villages[v];
	if (all == z->n_villages)
		return add_code(b, z->district_code, err, errlen);
	for (size_t t = 0; t < z->n_towns; t++) {
		const struct zones_town *town = &z->towns[t];
		size_t n = 0;

		for (uint32_t v = 0; v < town->n_villages; v++)
			n += b->sel.villages[town->first_village + v];
		if (n == town->n_villages && add_code(b, town->code, err, errlen))
			return 422;
		for (uint32_t v = 0; n < town->n_villages && v < town->n_villages; v++)
			if (b->sel.villages[town->first_village + v] &&
			    add_code(b, z->villages[town->first_village + v].code, err, errlen))
				return 422;
	}
	for (size_t i = 0; i < b->sel.n_endpoints; i++)
		if (add_code(b, z->endpoints[b->sel.endpoints[i]].id, err, errlen))
			return 422;
	return 0;
}

static int append_target(struct bulletin *b, const char *t)
{
	size_t used = strlen(b->targets);
	int n = snprintf(b->targets + used, sizeof(b->targets) - used, "%s%s",
			 used ? ", " : "", t);

	return n < 0 || (size_t)n >= sizeof(b->targets) - used ? -1 : 0;
}

static int parse_targets(json_t *root, const struct zones *z, struct bulletin *b, char *err,
			 size_t errlen)
{
	json_t *list = json_object_get(root, "targets"), *t;
	size_t i;

	if (zones_selection_init(&b->sel, z) != ZONES_OK)
		return fail(err, errlen, 500, "out of memory");
	if (!list) {
		if (zones_resolve(z, z->district_name, &b->sel, err, errlen) != ZONES_OK ||
		    append_target(b, z->district_name))
			return 500;
	} else if (!json_is_array(list) || !json_array_size(list) || json_array_size(list) > 64) {
		return fail(err, errlen, 422,
			    "\"targets\" must be a list of 1 to 64 codes or names");
	}
	json_array_foreach(list, i, t) {
		if (!json_is_string(t))
			return fail(err, errlen, 422, "target %zu is not a string", i + 1);
		if (zones_resolve(z, json_string_value(t), &b->sel, err, errlen) != ZONES_OK)
			return 422;
		if (append_target(b, json_string_value(t)))
			return fail(err, errlen, 422, "the target list is longer than %d bytes",
				    BULLETIN_TARGETS_MAX - 1);
	}
	b->endpoints = zones_selection_count(z, &b->sel);
	return selection_codes(z, b, err, errlen);
}

int bulletin_parse(const char *body, size_t len, const struct zones *z,
		   const struct headend_config *cfg, struct bulletin *b, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *text;
	uint8_t ps;
	enum proto_colour pc;
	enum proto_action pa;
	int rc, phrase;

	memset(b, 0, sizeof(*b));
	if (len > cfg->http_max_body)
		return fail(err, errlen, 413, "request body is %zu bytes, the limit is %zu", len,
			    cfg->http_max_body);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, 400, "invalid JSON at line %d column %d: %s", jerr.line,
			    jerr.column, jerr.text);
	if (!json_is_object(root)) {
		rc = fail(err, errlen, 400, "the body must be a JSON object");
		goto out;
	}
	if ((rc = check_keys(root, err, errlen)))
		goto out;
	text = json_object_get(root, "text");
	if (!json_is_string(text)) {
		rc = fail(err, errlen, 422, "\"text\" is missing or not a string");
		goto out;
	}
	if ((rc = check_text(json_string_value(text), cfg->max_text, err, errlen)))
		goto out;
	phrase = bulletin_phrase(&cfg->signals, json_string_value(text), &ps, &pc, &pa);
	if (phrase < 0) {
		rc = fail(err, errlen, 422, "the opening of the text names more than one warning "
			  "signal or action; send one warning per bulletin");
		goto out;
	}
	if ((rc = parse_kind(root, json_string_value(text), phrase, b, err, errlen)) ||
	    (rc = parse_warning(root, json_string_value(text), &cfg->signals, b, err, errlen)) ||
	    (rc = parse_repeat_and_client(root, cfg, b, err, errlen)) ||
	    (rc = parse_targets(root, z, b, err, errlen)))
		goto out;
	b->text = strdup(json_string_value(text));
	if (!b->text)
		rc = fail(err, errlen, 500, "out of memory");
out:
	json_decref(root);
	if (rc)
		bulletin_free(b);
	return rc;
}

void bulletin_free(struct bulletin *b)
{
	free(b->text);
	b->text = NULL;
	zones_selection_free(&b->sel);
}

/* The name an operator would write for a code, for logs and the status. */
static void code_name(const struct zones *z, uint64_t code, char *out, size_t len)
{
	snprintf(out, len, "%llu", (unsigned long long)code);
	if (code == z->district_code)
		snprintf(out, len, "%s", z->district_name);
	for (size_t t = 0; t < z->n_towns; t++)
		if (z->towns[t].code == code)
			snprintf(out, len, "%s", z->towns[t].name);
	for (size_t v = 0; v < z->n_villages; v++)
		if (z->villages[v].code == code)
			snprintf(out, len, "%s/%s", z->towns[z->villages[v].town].name,
				 z->villages[v].name);
}

int bulletin_restrict(struct bulletin *b, const struct zones *z, const unsigned char *keep,
		      char *err, size_t errlen)
{
	size_t n = 0;

	for (size_t v = 0; v < z->n_villages; v++)
		b->sel.villages[v] = b->sel.villages[v] && keep[v];
	for (size_t i = 0; i < b->sel.n_endpoints; i++)
		if (keep[z->endpoints[b->sel.endpoints[i]].village])
			b->sel.endpoints[n++] = b->sel.endpoints[i];
	b->sel.n_endpoints = n;
	b->n_codes = 0;
	b->targets[0] = '\0';
	b->endpoints = zones_selection_count(z, &b->sel);
	if (selection_codes(z, b, err, errlen))
		return -1;
	for (size_t i = 0; i < b->n_codes; i++) {
		char name[2 * ZONES_NAME_MAX + 2];

		code_name(z, b->codes[i], name, sizeof(name));
		if (append_target(b, name))
			break;
	}
	return 0;
}

int bulletin_copy(struct bulletin *dst, const struct bulletin *src, const struct zones *z)
{
	*dst = *src;
	dst->text = strdup(src->text);
	dst->sel.villages = NULL;
	dst->sel.endpoints = NULL;
	dst->sel.n_endpoints = dst->sel.cap_endpoints = 0;
	if (!dst->text || zones_selection_init(&dst->sel, z) != ZONES_OK)
		goto fail;
	memcpy(dst->sel.villages, src->sel.villages, z->n_villages * sizeof(bool));
	if (src->sel.n_endpoints) {
		dst->sel.endpoints = malloc(src->sel.n_endpoints * sizeof(uint32_t));
		if (!dst->sel.endpoints)
			goto fail;
		memcpy(dst->sel.endpoints, src->sel.endpoints,
		       src->sel.n_endpoints * sizeof(uint32_t));
		dst->sel.n_endpoints = dst->sel.cap_endpoints = src->sel.n_endpoints;
	}
	return 0;
fail:
	bulletin_free(dst);
	return -1;
}

json_t *bulletin_request(const struct bulletin *b)
{
	json_t *o = json_pack("{s:s, s:s, s:i}", "text", b->text, "kind",
			      proto_kind_name(b->kind), "repeat", (json_int_t)b->repeat);
	json_t *targets = json_array();

	for (size_t i = 0; o && targets && i < b->n_codes; i++) {
		char code[24];

		snprintf(code, sizeof(code), "%llu", (unsigned long long)b->codes[i]);
		json_array_append_new(targets, json_string(code));
	}
	if (!o || !targets || json_object_set_new(o, "targets", targets)) {
		json_decref(o);
		return NULL;
	}
	if (*b->client_id)
		json_object_set_new(o, "client_id", json_string(b->client_id));
	if (b->kind == PROTO_KIND_WARNING) {
		json_object_set_new(o, "signal", json_string(proto_signal_key(b->signal)));
		json_object_set_new(o, "colour", json_string(proto_colour_name(b->colour)));
		json_object_set_new(o, "action", json_string(proto_action_name(b->action)));
	}
	return o;
}
