/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One alert at a time (a mutex: libxml2's error hooks are per thread, the schema is shared):
 * parse, refuse a DOCTYPE, check the namespace, validate, then map through the table. Every
 * refusal names what was wrong so that the warning platform's operator can act on it. */
#include "headend/cap.h"

#include <libconfig.h>
#include <libxml/parser.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlschemas.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headend/bulletin.h"

#define LIST_MAX 16		/* names per event, valueNames, statuses, languages */
#define NAME_MAX_BYTES 64
#define ALIASES_MAX 64
#define TARGETS_MAX 64
#define LEDGER_MAX 256
#define PART_MAX 2048		/* bytes kept of a headline, description or instruction */

struct names {
	char s[LIST_MAX][NAME_MAX_BYTES];
	size_t n;
};

struct alias {
	char desc[NAME_MAX_BYTES];
	struct names targets;
};

struct ledger_entry {		/* an alert broadcast: what an Update or Cancel refers to */
	char key[2 * NAME_MAX_BYTES + 2];	/* "sender,identifier" */
	unsigned signal;
	enum proto_colour colour;
};

struct cap {
	const struct zones *z;
	const struct signals *sig;
	char map_path[512];
	xmlSchemaPtr schema;
	pthread_mutex_t lock;
	struct names statuses, languages, colour_params, geocodes;
	struct names events[SIGNAL_COUNT];	/* index: wire number - 1 */
	enum proto_colour severity[5];	/* Extreme, Severe, Moderate, Minor, Unknown */
	int action[3];			/* Alert, Update, Cancel: proto_action, or 0 */
	struct alias aliases[ALIASES_MAX];
	size_t n_aliases;
	struct ledger_entry ledger[LEDGER_MAX];
	size_t n_ledger, next_ledger;
};

static const char *const colour_zh[] = { "", "白色", "蓝色", "黄色", "橙色", "红色" };
static const char *const severities[] = { "Extreme", "Severe", "Moderate", "Minor", "Unknown" };
static const char *const msg_types[] = { "Alert", "Update", "Cancel" };

static unsigned fail(char *err, size_t errlen, unsigned status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}

/* The same for the start-up checks, which return -1. */
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The table */

static int load_names(const config_setting_t *set, struct names *out)
{
	out->n = 0;
	if (!set)
		return 0;
	if (!config_setting_is_array(set) && !config_setting_is_list(set))
		return -1;
	for (int i = 0; i < config_setting_length(set) && out->n < LIST_MAX; i++) {
		const char *s = config_setting_get_string_elem(set, i);

		if (!s || !*s || strlen(s) >= NAME_MAX_BYTES)
			return -1;
		snprintf(out->s[out->n++], NAME_MAX_BYTES, "%s", s);
	}
	return 0;
}

static int load_events(struct cap *c, const config_t *cf, char *err, size_t errlen)
{
	const config_setting_t *list = config_lookup(cf, "events");

	for (int i = 0; list && i < config_setting_length(list); i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *key = NULL;
		unsigned n;

		config_setting_lookup_string(e, "signal", &key);
		n = key ? signals_lookup(c->sig, key) : 0;
		if (!n || load_names(config_setting_lookup(e, "event"), &c->events[n - 1]))
			return bad(err, errlen, "%s:%d: events: signal must be one in use in the "
				   "signal table and event a list of names", c->map_path,
				   config_setting_source_line(e));
	}
	return 0;
}

static int load_choices(struct cap *c, const config_t *cf, char *err, size_t errlen)
{
	for (int i = 0; i < 5; i++) {
		char path[64];
		const char *v = "";

		snprintf(path, sizeof(path), "severity.%s", severities[i]);
		config_lookup_string(cf, path, &v);
		c->severity[i] = *v ? colour_lookup(v) : PROTO_COLOUR_NONE;
		if (*v && c->severity[i] == PROTO_COLOUR_NONE)
			return bad(err, errlen, "%s: %s: unknown colour \"%s\"", c->map_path, path,
				   v);
	}
	for (int i = 0; i < 3; i++) {
		static const char *const actions[] = { "", "issue", "change", "lift" };
		char path[64];
		const char *v = "";

		snprintf(path, sizeof(path), "msg_types.%s", msg_types[i]);
		config_lookup_string(cf, path, &v);
		c->action[i] = 0;
		for (int a = PROTO_ACTION_ISSUE; a <= PROTO_ACTION_LIFT; a++)
			if (!strcmp(v, actions[a]))
				c->action[i] = a;
		if (*v && !c->action[i])
			return bad(err, errlen, "%s: %s: issue, change or lift, not \"%s\"",
				   c->map_path, path, v);
	}
	return 0;
}

static int load_aliases(struct cap *c, const config_t *cf, char *err, size_t errlen)
{
	const config_setting_t *list = config_lookup(cf, "areas");

	for (int i = 0; list && i < config_setting_length(list); i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		struct alias *al = &c->aliases[c->n_aliases];
		const char *desc = NULL;

		config_setting_lookup_string(e, "desc", &desc);
		if (c->n_aliases == ALIASES_MAX || !desc || strlen(desc) >= NAME_MAX_BYTES ||
		    load_names(config_setting_lookup(e, "targets"), &al->targets) ||
		    !al->targets.n)
			return bad(err, errlen, "%s:%d: areas: each needs desc and targets (at "
				   "most %d areas)", c->map_path, config_setting_source_line(e),
				   ALIASES_MAX);
		snprintf(al->desc, sizeof(al->desc), "%s", desc);
		c->n_aliases++;
	}
	return 0;
}

static int load_map(struct cap *c, const char *path, char *err, size_t errlen)
{
	config_t cf;
	int rc = -1;

	snprintf(c->map_path, sizeof(c->map_path), "%s", path);
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		bad(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
		     config_error_type(&cf) == CONFIG_ERR_FILE_IO ? "cannot read the file" :
		     config_error_text(&cf));
		goto out;
	}
	if (load_names(config_lookup(&cf, "status"), &c->statuses) ||
	    load_names(config_lookup(&cf, "languages"), &c->languages) ||
	    load_names(config_lookup(&cf, "colour_parameters"), &c->colour_params) ||
	    load_names(config_lookup(&cf, "geocodes"), &c->geocodes)) {
		bad(err, errlen, "%s: status, languages, colour_parameters and geocodes are "
		    "lists of non-empty strings", path);
		goto out;
	}
	if (!c->statuses.n)
		snprintf(c->statuses.s[c->statuses.n++], NAME_MAX_BYTES, "Actual");
	rc = load_events(c, &cf, err, errlen) || load_choices(c, &cf, err, errlen) ||
	     load_aliases(c, &cf, err, errlen) ? -1 : 0;
out:
	config_destroy(&cf);
	return rc;
}

/* libxml2 */

struct xml_error {
	int line;
	char text[256];
};

static void keep_error(void *arg, xmlErrorPtr e)
{
	struct xml_error *x = arg;
	size_t n;

	if (!e || x->text[0])
		return;
	x->line = e->line;
	snprintf(x->text, sizeof(x->text), "%s", e->message ? e->message : "error");
	n = strlen(x->text);
	while (n && (x->text[n - 1] == '\n' || x->text[n - 1] == ' '))
		x->text[--n] = '\0';
}

static int load_schema(struct cap *c, const char *path, char *err, size_t errlen)
{
	struct xml_error x = { 0 };
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);

	if (pc) {
		xmlSchemaSetParserStructuredErrors(pc, keep_error, &x);
		c->schema = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
	}
	if (!c->schema)
		return bad(err, errlen, "%s: not a usable XML schema (%s)", path,
			   x.text[0] ? x.text : "cannot read it");
	return 0;
}

int cap_open(struct cap **out, const char *schema, const char *map, const struct zones *z,
	     const struct signals *sig, char *err, size_t errlen)
{
	struct cap *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return bad(err, errlen, "out of memory");
	c->z = z;
	c->sig = sig;
	pthread_mutex_init(&c->lock, NULL);
	xmlInitParser();
	/* Nothing an alert or the schema names is ever fetched from the network. */
	xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
	if (load_map(c, map, err, errlen) || load_schema(c, schema, err, errlen)) {
		cap_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

void cap_close(struct cap *c)
{
	if (!c)
		return;
	if (c->schema)
		xmlSchemaFree(c->schema);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Reading the alert */

static int is_cap(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       !strcmp((const char *)n->ns->href, CAP_NAMESPACE) &&
	       (!name || !strcmp((const char *)n->name, name));
}

static xmlNode *child(const xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_cap(n, name))
			return n;
	return NULL;
}

static xmlNode *next_named(const xmlNode *after, const char *name)
{
	for (xmlNode *n = after ? after->next : NULL; n; n = n->next)
		if (is_cap(n, name))
			return n;
	return NULL;
}

/* The trimmed text of parent's first child element name, at most len-1 bytes; "" if none. */
static const char *text_of(const xmlNode *parent, const char *name, char *buf, size_t len)
{
	xmlNode *n = child(parent, name);
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	const char *s = t ? (const char *)t : "";
	size_t k;

	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	snprintf(buf, len, "%s", s);
	k = strlen(buf);
	while (k && (buf[k - 1] == ' ' || buf[k - 1] == '\n' || buf[k - 1] == '\r' ||
		     buf[k - 1] == '\t'))
		buf[--k] = '\0';
	xmlFree(t);
	return buf;
}

static int in_names(const struct names *n, const char *s)
{
	for (size_t i = 0; i < n->n; i++)
		if (!strcmp(n->s[i], s))
			return 1;
	return 0;
}

/* The <info> to read: the first in a configured language, else the first. */
static xmlNode *pick_info(const struct cap *c, const xmlNode *alert)
{
	xmlNode *first = child(alert, "info");

	for (size_t l = 0; l < c->languages.n; l++)
		for (xmlNode *i = first; i; i = next_named(i, "info")) {
			char lang[32];

			text_of(i, "language", lang, sizeof(lang));
			if (!strncmp(lang, c->languages.s[l], strlen(c->languages.s[l])))
				return i;
		}
	return first;
}

/* "暴雨", or "暴雨橙色预警" whose colour is then *colour. Wire number, 0 if none. */
static unsigned find_event(const struct cap *c, const char *event, enum proto_colour *colour)
{
	static const char *const tails[] = { "", "预警", "预警信号" };

	for (unsigned s = 0; s < SIGNAL_COUNT; s++)
		for (size_t i = 0; i < c->events[s].n; i++) {
			const char *name = c->events[s].s[i];
			size_t n = strlen(name);

			if (!strcmp(event, name))
				return s + 1;
			if (strncmp(event, name, n))
				continue;
			for (int k = PROTO_COLOUR_WHITE; k <= PROTO_COLOUR_RED; k++) {
				size_t m = strlen(colour_zh[k]);

				for (size_t t = 0; t < 3; t++)
					if (!strncmp(event + n, colour_zh[k], m) &&
					    !strcmp(event + n + m, tails[t])) {
						*colour = (enum proto_colour)k;
						return s + 1;
					}
			}
		}
	return 0;
}

/* A <parameter> whose valueName is one of the colour names the table lists. */
static enum proto_colour colour_parameter(const struct cap *c, const xmlNode *info)
{
	for (xmlNode *p = child(info, "parameter"); p; p = next_named(p, "parameter")) {
		char name[NAME_MAX_BYTES], value[NAME_MAX_BYTES];

		if (in_names(&c->colour_params, text_of(p, "valueName", name, sizeof(name))))
			return colour_lookup(text_of(p, "value", value, sizeof(value)));
	}
	return PROTO_COLOUR_NONE;
}

/* CAP's dateTime, "2014-05-19T14:40:00+08:00", as a time; 0 if it is not one. */
static time_t cap_time(const char *s)
{
	struct tm tm = { 0 };
	int oh = 0, om = 0;
	char sign = '+';

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &oh, &om) != 9)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm) - (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
}

struct mapping {
	unsigned signal;
	enum proto_colour colour, old_colour;
	enum proto_action action;
	json_t *targets;
	char sender_name[128];
};

/* A 12- or 9-digit division code padded with zeros is the town or district above it. */
static void trim_code(char *code)
{
	size_t n = strlen(code);

	if (n == 12 && !strcmp(code + 6, "000000"))
		code[6] = '\0';
	else if (n == 12 && !strcmp(code + 9, "000"))
		code[9] = '\0';
	else if (n == 9 && !strcmp(code + 6, "000"))
		code[6] = '\0';
}

static int resolves(const struct cap *c, const char *target)
{
	struct zones_selection sel;
	char why[128];
	int ok;

	if (zones_selection_init(&sel, c->z) != ZONES_OK)
		return 0;
	ok = zones_resolve(c->z, target, &sel, why, sizeof(why)) == ZONES_OK;
	zones_selection_free(&sel);
	return ok;
}

static int add_target(json_t *targets, const char *t)
{
	json_t *v;
	size_t i;

	json_array_foreach(targets, i, v)
		if (!strcmp(json_string_value(v), t))
			return 0;
	return json_array_size(targets) < TARGETS_MAX ? json_array_append_new(targets,
									      json_string(t)) : -1;
}

/* One areaDesc, split at commas, 、 and spaces: each part an alias or a directory name. */
static unsigned area_names(const struct cap *c, const char *desc, json_t *targets, char *err,
			   size_t errlen)
{
	static const char *const seps[] = { ",", "，", "、", ";", "；", " ", "\u3000" };
	char buf[512], *p = buf;

	snprintf(buf, sizeof(buf), "%s", desc);
	while (*p) {
		size_t cut = strlen(p), skip = 0;

		for (size_t s = 0; s < sizeof(seps) / sizeof(seps[0]); s++) {
			char *q = strstr(p, seps[s]);

			if (q && (size_t)(q - p) < cut) {
				cut = (size_t)(q - p);
				skip = strlen(seps[s]);
			}
		}
		p[cut] = '\0';
		if (cut) {
			size_t a;

			for (a = 0; a < c->n_aliases && strcmp(c->aliases[a].desc, p); a++)
				;
			for (size_t t = 0; a < c->n_aliases && t < c->aliases[a].targets.n; t++)
				add_target(targets, c->aliases[a].targets.s[t]);
			if (a == c->n_aliases && (!resolves(c, p) || add_target(targets, p)))
				return fail(err, errlen, 422, "unknown area: \"%s\" "
					    "(areaDesc \"%s\") is neither in the directory "
					    "nor among the areas of %s", p, desc,
					    c->map_path);
		}
		p += cut + skip;
	}
	return 0;
}

/* Each <area>: its geocodes of a configured kind, else its areaDesc. */
static unsigned map_areas(const struct cap *c, const xmlNode *info, json_t *targets,
			  json_t *about, char *err, size_t errlen)
{
	json_t *descs = json_array();
	unsigned rc = 0;

	for (xmlNode *area = child(info, "area"); area && !rc; area = next_named(area, "area")) {
		char desc[256], name[NAME_MAX_BYTES], code[32];
		int coded = 0;

		text_of(area, "areaDesc", desc, sizeof(desc));
		json_array_append_new(descs, json_string(desc));
		for (xmlNode *g = child(area, "geocode"); g && !rc; g = next_named(g, "geocode")) {
			if (!in_names(&c->geocodes, text_of(g, "valueName", name, sizeof(name))))
				continue;
			text_of(g, "value", code, sizeof(code));
			trim_code(code);
			if (strspn(code, "0123456789") != strlen(code) || !resolves(c, code) ||
			    add_target(targets, code))
				rc = fail(err, errlen, 422, "unknown area: geocode %s "
					  "%s (areaDesc \"%s\") is not in the directory",
					  name, code, desc);
			coded = 1;
		}
		if (!coded && !rc)
			rc = area_names(c, desc, targets, err, errlen);
	}
	json_object_set_new(about, "areaDesc", descs);
	if (!rc && !json_array_size(targets))
		rc = fail(err, errlen, 422, "unknown area: the alert names no area");
	return rc;
}

/* The colour an Update replaces or a Cancel lifts: the referred alert's, else the one signal
 * colour active now. NONE if neither says. */
static enum proto_colour known_colour(const struct cap *c, const char *references,
				      unsigned signal, const json_t *active)
{
	enum proto_colour found = PROTO_COLOUR_NONE;
	const json_t *w;
	size_t i;

	/* references lists "sender,identifier,sent" of each earlier alert */
	for (size_t k = 0; k < c->n_ledger; k++)
		if (c->ledger[k].signal == signal && strstr(references, c->ledger[k].key))
			found = c->ledger[k].colour;
	if (found != PROTO_COLOUR_NONE)
		return found;
	json_array_foreach(json_object_get(active, "active"), i, w) {
		const char *key = json_string_value(json_object_get(w, "signal"));
		const char *name = json_string_value(json_object_get(w, "colour"));
		enum proto_colour col = colour_lookup(name ? name : "");

		if (!key || signals_lookup(c->sig, key) != signal)
			continue;
		if (found != PROTO_COLOUR_NONE && found != col)
			return PROTO_COLOUR_NONE;
		found = col;
	}
	return found;
}

static unsigned map_warning(const struct cap *c, const xmlNode *alert, const xmlNode *info,
			    const json_t *active, struct mapping *m, json_t *about, char *err,
			    size_t errlen)
{
	char event[256], severity[32], msg[32], refs[1024];
	enum proto_colour from_event = PROTO_COLOUR_NONE;
	int t;

	text_of(info, "event", event, sizeof(event));
	text_of(info, "severity", severity, sizeof(severity));
	text_of(alert, "msgType", msg, sizeof(msg));
	text_of(alert, "references", refs, sizeof(refs));
	for (t = 0; t < 3 && strcmp(msg, msg_types[t]); t++)
		;
	if (t == 3 || !c->action[t])
		return fail(err, errlen, 422, "msgType %s carries no warning to broadcast "
			    "(%s maps Alert, Update and Cancel)", msg, c->map_path);
	m->action = (enum proto_action)c->action[t];
	m->signal = find_event(c, event, &from_event);
	if (!m->signal || !c->sig->types[m->signal - 1].name[0])
		return fail(err, errlen, 422, "unknown event \"%s\": no warning signal in %s "
			    "matches it", event, c->map_path);
	m->colour = colour_parameter(c, info);
	if (m->colour == PROTO_COLOUR_NONE)
		m->colour = from_event;
	for (int s = 0; m->colour == PROTO_COLOUR_NONE && s < 5; s++)
		if (!strcmp(severity, severities[s]))
			m->colour = c->severity[s];
	m->old_colour = known_colour(c, refs, m->signal, active);
	if (m->action == PROTO_ACTION_LIFT && m->old_colour != PROTO_COLOUR_NONE)
		m->colour = m->old_colour;
	if (m->colour == PROTO_COLOUR_NONE)
		return fail(err, errlen, 422, "no colour for %s: severity %s maps to none in %s "
			    "and no colour parameter is given", event, severity, c->map_path);
	if (!(c->sig->types[m->signal - 1].colours & (1u << m->colour)))
		return fail(err, errlen, 422, "%s has no %s warning in the signal table "
			    "(severity %s)", c->sig->types[m->signal - 1].name,
			    proto_colour_name(m->colour), severity);
	text_of(info, "senderName", m->sender_name, sizeof(m->sender_name));
	return map_areas(c, info, m->targets, about, err, errlen);
}

/* The bulletin text: the description when it carries the fixed phrase, else the phrase made
 * from the mapping before it, then the instruction. */
static char *compose(const struct cap *c, const xmlNode *info, const struct mapping *m)
{
	const char *const *zh = colour_zh;
	const char *name = c->sig->types[m->signal - 1].name;
	char desc[PART_MAX], instr[PART_MAX], phrase[512], obs[160], *text = NULL;
	uint8_t sig;
	enum proto_colour col;
	enum proto_action act;

	text_of(info, "description", desc, sizeof(desc));
	text_of(info, "instruction", instr, sizeof(instr));
	if (m->sender_name[0])
		snprintf(obs, sizeof(obs), "%s", m->sender_name);
	else
		snprintf(obs, sizeof(obs), "%s气象台", c->z->district_name);
	if (m->action == PROTO_ACTION_LIFT)
		snprintf(phrase, sizeof(phrase), "%s解除%s%s预警信号", obs, name, zh[m->colour]);
	else if (m->action == PROTO_ACTION_CHANGE && m->old_colour != PROTO_COLOUR_NONE)
		snprintf(phrase, sizeof(phrase), "%s将%s%s预警信号更新为%s%s预警信号", obs, name,
			 zh[m->old_colour], name, zh[m->colour]);
	else if (m->action == PROTO_ACTION_CHANGE)
		snprintf(phrase, sizeof(phrase), "%s将%s预警信号更新为%s%s预警信号", obs, name,
			 name, zh[m->colour]);
	else
		snprintf(phrase, sizeof(phrase), "%s发布%s%s预警信号", obs, name, zh[m->colour]);
	if (bulletin_phrase(c->sig, desc, &sig, &col, &act))
		phrase[0] = '\0';
	if (asprintf(&text, "%s%s%s%s", phrase, !phrase[0] ? "" : desc[0] ? "：" : "。", desc,
		     instr) < 0)
		return NULL;
	return text;
}

/* Same alert pushed twice: the same client id, so it plays once. */
static void client_id(const char *sender, const char *identifier, char out[40])
{
	unsigned char h[16];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)sender, strlen(sender) + 1);
	crypto_generichash_update(&st, (const unsigned char *)identifier, strlen(identifier));
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(out, "cap-", 4);
	sodium_bin2hex(out + 4, 33, h, sizeof(h));
}

static void describe(const xmlNode *alert, const xmlNode *info, json_t *about)
{
	static const char *const top[] = { "identifier", "sender", "sent", "status", "msgType",
					   "references" };
	static const char *const parts[] = { "event", "severity", "headline", "description",
					     "instruction", "senderName" };
	char buf[PART_MAX];

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		if (child(alert, top[i]))
			json_object_set_new(about, top[i], json_string(text_of(alert, top[i], buf,
										 sizeof(buf))));
	for (size_t i = 0; info && i < sizeof(parts) / sizeof(parts[0]); i++)
		if (child(info, parts[i]))
			json_object_set_new(about, parts[i], json_string(text_of(info, parts[i],
										   buf,
										   sizeof(buf))));
}

/* Well-formed, no DOCTYPE, CAP 1.2's namespace, valid against the schema. */
static unsigned check_document(struct cap *c, const char *xml, size_t len, xmlDocPtr *doc,
			       char *err, size_t errlen)
{
	struct xml_error x = { 0 };
	xmlParserCtxtPtr pc = xmlNewParserCtxt();
	xmlSchemaValidCtxtPtr vc;
	xmlNode *root;
	int bad;

	*doc = NULL;
	if (!pc)
		return fail(err, errlen, 500, "out of memory");
	xmlSetStructuredErrorFunc(&x, keep_error);
	*doc = xmlCtxtReadMemory(pc, xml, (int)len, "alert.xml", NULL, XML_PARSE_NONET |
				 XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlSetStructuredErrorFunc(NULL, NULL);
	xmlFreeParserCtxt(pc);
	if (!*doc)
		return fail(err, errlen, 400, "not well-formed XML: line %d: %s", x.line,
			    x.text[0] ? x.text : "no document");
	if ((*doc)->intSubset || (*doc)->extSubset)
		return fail(err, errlen, 400, "a DOCTYPE is not allowed in a CAP alert");
	root = xmlDocGetRootElement(*doc);
	if (!root || strcmp((const char *)root->name, "alert"))
		return fail(err, errlen, 422, "the root element is <%s>, not a CAP <alert>",
			    root ? (const char *)root->name : "");
	if (!root->ns || strcmp((const char *)root->ns->href, CAP_NAMESPACE))
		return fail(err, errlen, 422, "wrong namespace: <alert> is in \"%s\"; only "
			    "CAP 1.2 (%s) is accepted", root->ns ? (const char *)root->ns->href :
			    "none", CAP_NAMESPACE);
	vc = xmlSchemaNewValidCtxt(c->schema);
	if (!vc)
		return fail(err, errlen, 500, "out of memory");
	xmlSchemaSetValidStructuredErrors(vc, keep_error, &x);
	bad = xmlSchemaValidateDoc(vc, *doc);
	xmlSchemaFreeValidCtxt(vc);
	if (bad)
		return fail(err, errlen, 422, "not valid CAP 1.2: line %d: %s", x.line,
			    x.text[0] ? x.text : "the schema refuses it");
	return 0;
}

static unsigned map_locked(struct cap *c, xmlDocPtr doc, const json_t *active,
			   json_t **request, json_t *about, char *err, size_t errlen)
{
	xmlNode *alert = xmlDocGetRootElement(doc), *info = pick_info(c, alert);
	struct mapping m = { .targets = json_array() };
	char status[32], expires[64], sender[256], identifier[256], id[40];
	unsigned rc;
	char *text;

	describe(alert, info, about);
	text_of(alert, "status", status, sizeof(status));
	text_of(alert, "sender", sender, sizeof(sender));
	text_of(alert, "identifier", identifier, sizeof(identifier));
	if (!in_names(&c->statuses, status))
		rc = fail(err, errlen, 422, "status %s is not broadcast (only %s, as %s says)",
			  status, c->statuses.s[0], c->map_path);
	else if (!info)
		rc = fail(err, errlen, 422, "the alert has no <info> to broadcast");
	else if (text_of(info, "expires", expires, sizeof(expires))[0] &&
		 cap_time(expires) && cap_time(expires) <= time(NULL))
		rc = fail(err, errlen, 422, "the alert expired at %s", expires);
	else
		rc = map_warning(c, alert, info, active, &m, about, err, errlen);
	text = rc ? NULL : compose(c, info, &m);
	if (!rc && !text)
		rc = fail(err, errlen, 500, "out of memory");
	if (!rc) {
		client_id(sender, identifier, id);
		*request = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:s}", "text", text, "kind",
				     "warning", "signal", proto_signal_key((uint8_t)m.signal),
				     "colour", proto_colour_name(m.colour), "action",
				     proto_action_name(m.action), "targets", m.targets,
				     "client_id", id);
		if (!*request)
			rc = fail(err, errlen, 422, "the text is not valid UTF-8");
	}
	free(text);
	json_decref(m.targets);
	return rc;
}

unsigned cap_map(struct cap *c, const char *xml, size_t len, const json_t *active,
		 json_t **request, json_t *about, char *err, size_t errlen)
{
	xmlDocPtr doc;
	unsigned rc;

	*request = NULL;
	pthread_mutex_lock(&c->lock);
	rc = check_document(c, xml, len, &doc, err, errlen);
	if (!rc)
		rc = map_locked(c, doc, active, request, about, err, errlen);
	else if (doc && xmlDocGetRootElement(doc))
		describe(xmlDocGetRootElement(doc), NULL, about);
	pthread_mutex_unlock(&c->lock);
	if (doc)
		xmlFreeDoc(doc);
	return rc;
}

void cap_accepted(struct cap *c, const json_t *about, const json_t *request)
{
	const char *sender = json_string_value(json_object_get(about, "sender"));
	const char *identifier = json_string_value(json_object_get(about, "identifier"));
	struct ledger_entry *l;

	if (!sender || !identifier)
		return;
	pthread_mutex_lock(&c->lock);
	l = &c->ledger[c->next_ledger];
	c->next_ledger = (c->next_ledger + 1) % LEDGER_MAX;
	if (c->n_ledger < LEDGER_MAX)
		c->n_ledger++;
	snprintf(l->key, sizeof(l->key), "%.*s,%.*s", NAME_MAX_BYTES - 1, sender,
		 NAME_MAX_BYTES - 1, identifier);
	l->signal = signals_lookup(c->sig, json_string_value(json_object_get(request, "signal")));
	l->colour = colour_lookup(json_string_value(json_object_get(request, "colour")));
	pthread_mutex_unlock(&c->lock);
}
