/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Active warning state: one cell per village and signal holding the colour and the bulletin
 * (source) that set it; the sources keep the text that a re-broadcast repeats. */
#include "headend/warnings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE_MAX 512

struct cell {
	uint8_t colour;		/* PROTO_COLOUR_NONE: not active */
	uint32_t source;
	time_t since;
};

struct source {
	uint32_t id;
	uint8_t signal;
	enum proto_colour colour;
	enum proto_action action;
	char *text;
	time_t issued, last;	/* accepted; last broadcast, first or re- */
};

struct warnings {
	const struct zones *z;
	const struct signals *sig;
	struct cell *cells;	/* n_villages rows of SIGNAL_COUNT */
	struct source *sources;
	size_t n_sources, cap_sources;
	unsigned char *scratch;	/* n_villages flags */
	uint32_t applied;
};

static struct cell *cell_at(const struct warnings *w, size_t village, uint8_t signal)
{
	return &w->cells[village * SIGNAL_COUNT + signal - 1];
}

enum warnings_result warnings_open(struct warnings **out, const struct zones *z,
				   const struct signals *sig)
{
	struct warnings *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return WARNINGS_ERR_NOMEM;
	w->z = z;
	w->sig = sig;
	w->cells = calloc(z->n_villages * SIGNAL_COUNT + 1, sizeof(*w->cells));
	w->scratch = calloc(z->n_villages + 1, 1);
	if (!w->cells || !w->scratch) {
		warnings_close(w);
		return WARNINGS_ERR_NOMEM;
	}
	*out = w;
	return WARNINGS_OK;
}

void warnings_close(struct warnings *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_sources; i++)
		free(w->sources[i].text);
	free(w->sources);
	free(w->cells);
	free(w->scratch);
	free(w);
}

uint32_t warnings_applied(const struct warnings *w)
{
	return w->applied;
}

const char *warnings_strerror(enum warnings_result r)
{
	switch (r) {
	case WARNINGS_OK: return "success";
	case WARNINGS_ERR_STATE: return "does not fit the active warnings";
	case WARNINGS_ERR_NOMEM: return "out of memory";
	case WARNINGS_ERR_FORMAT: return "saved warning state does not parse";
	}
	return "unknown error";
}

/* Checking */

enum warnings_result warnings_check(const struct warnings *w, const struct bulletin *b,
				    char *err, size_t errlen)
{
	const char *key = proto_signal_key(b->signal), *name;
	size_t any = 0, same = 0;
	enum proto_colour other = PROTO_COLOUR_NONE;

	if (b->kind != PROTO_KIND_WARNING || b->action == PROTO_ACTION_ISSUE)
		return WARNINGS_OK;
	name = w->sig->types[b->signal - 1].name;
	for (size_t v = 0; v < w->z->n_villages; v++) {
		const struct cell *c = cell_at(w, v, b->signal);

		if (!b->sel.villages[v] || !c->colour)
			continue;
		any++;
		same += c->colour == b->colour;
		other = c->colour != b->colour ? (enum proto_colour)c->colour : other;
	}
	if ((b->action == PROTO_ACTION_CHANGE && any) || (b->action == PROTO_ACTION_LIFT && same))
		return WARNINGS_OK;
	if (b->action == PROTO_ACTION_CHANGE)
		snprintf(err, errlen, "%s (%s) is not active in %s: issue it (发布) before "
			 "changing its colour", key, name, b->targets);
	else if (any)
		snprintf(err, errlen, "%s (%s) is %s, not %s, in %s: lift the %s signal", key,
			 name, proto_colour_name(other), proto_colour_name(b->colour), b->targets,
			 proto_colour_name(other));
	else
		snprintf(err, errlen, "%s (%s) is not active in %s: there is nothing to lift", key,
			 name, b->targets);
	return WARNINGS_ERR_STATE;
}

/* Sources */

static struct source *add_source(struct warnings *w, uint32_t id, uint8_t signal,
				 enum proto_colour colour, enum proto_action action,
				 const char *text, time_t t)
{
	struct source *s;

	if (w->n_sources == w->cap_sources) {
		size_t cap = w->cap_sources ? 2 * w->cap_sources : 8;
		struct source *grown = realloc(w->sources, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		w->sources = grown;
		w->cap_sources = cap;
	}
	s = &w->sources[w->n_sources];
	*s = (struct source){ id, signal, colour, action, strdup(text), t, t };
	if (!s->text)
		return NULL;
	w->n_sources++;
	return s;
}

/* Villages (into w->scratch) where source s is what is active; returns how many. */
static size_t villages_of(const struct warnings *w, const struct source *s)
{
	size_t n = 0;

	for (size_t v = 0; v < w->z->n_villages; v++) {
		w->scratch[v] = cell_at(w, v, s->signal)->source == s->id &&
				cell_at(w, v, s->signal)->colour;
		n += w->scratch[v];
	}
	return n;
}

static void prune(struct warnings *w)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->n_sources; i++) {
		if (villages_of(w, &w->sources[i])) {
			w->sources[kept++] = w->sources[i];
			continue;
		}
		free(w->sources[i].text);
	}
	w->n_sources = kept;
}

/* Applying */

static void set_cell(struct cell *c, enum proto_colour colour, uint32_t source, time_t t)
{
	if (c->colour != colour)
		c->since = t;
	c->colour = (uint8_t)colour;
	c->source = source;
}

enum warnings_result warnings_apply(struct warnings *w, const struct bulletin *b, uint32_t id,
				    time_t t)
{
	if (b->kind != PROTO_KIND_WARNING)
		return WARNINGS_OK;
	if (id > w->applied)
		w->applied = id;
	if (b->action != PROTO_ACTION_LIFT &&
	    !add_source(w, id, b->signal, b->colour, b->action, b->text, t))
		return WARNINGS_ERR_NOMEM;
	for (size_t v = 0; v < w->z->n_villages; v++) {
		struct cell *c = cell_at(w, v, b->signal);

		if (!b->sel.villages[v])
			continue;
		if (b->action != PROTO_ACTION_LIFT)
			set_cell(c, b->colour, id, t);
		else if (c->colour == b->colour)
			memset(c, 0, sizeof(*c));
	}
	prune(w);
	return WARNINGS_OK;
}

/* Saving and restoring */

static const char *code_text(uint64_t code, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)code);
	return buf;
}

static json_t *source_json(const struct warnings *w, const struct source *s)
{
	json_t *villages = json_array();
	char code[24];

	villages_of(w, s);
	for (size_t v = 0; villages && v < w->z->n_villages; v++) {
		if (!w->scratch[v])
			continue;
		code_text(w->z->villages[v].code, code, sizeof(code));
		json_array_append_new(villages, json_string(code));
	}
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "id", (json_int_t)s->id,
			 "signal", proto_signal_key(s->signal), "colour",
			 proto_colour_name(s->colour), "action", proto_action_name(s->action),
			 "text", s->text, "issued", (json_int_t)s->issued, "last",
			 (json_int_t)s->last, "villages", villages);
}

json_t *warnings_save(const struct warnings *w)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < w->n_sources; i++)
		if (json_array_append_new(list, source_json(w, &w->sources[i]))) {
			json_decref(list);
			return NULL;
		}
	return list ? json_pack("{s:i, s:o}", "applied", (json_int_t)w->applied, "sources",
				list) : NULL;
}

static long village_index(const struct zones *z, const char *code)
{
	unsigned long long c = strtoull(code, NULL, 10);

	for (size_t v = 0; v < z->n_villages; v++)
		if (z->villages[v].code == c)
			return (long)v;
	return -1;
}

static enum proto_colour colour_by_name(const char *s)
{
	for (int c = PROTO_COLOUR_WHITE; c <= PROTO_COLOUR_RED; c++)
		if (!strcmp(s, proto_colour_name((enum proto_colour)c)))
			return (enum proto_colour)c;
	return PROTO_COLOUR_NONE;
}

static enum proto_action action_by_name(const char *s)
{
	for (int a = PROTO_ACTION_ISSUE; a <= PROTO_ACTION_LIFT; a++)
		if (!strcmp(s, proto_action_name((enum proto_action)a)))
			return (enum proto_action)a;
	return PROTO_ACTION_NONE;
}

static enum warnings_result restore_source(struct warnings *w, json_t *o, char *err,
					   size_t errlen)
{
	const char *signal, *colour, *action, *text;
	json_int_t id, issued, last;
	json_t *villages, *code;
	struct source *s;
	size_t i;

	if (json_unpack(o, "{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "id", &id, "signal",
			&signal, "colour", &colour, "action", &action, "text", &text, "issued",
			&issued, "last", &last, "villages", &villages) ||
	    !json_is_array(villages) ||
	    !signals_lookup(w->sig, signal) || !colour_by_name(colour) ||
	    !action_by_name(action)) {
		snprintf(err, errlen, "a saved warning lacks a field or has a bad one");
		return WARNINGS_ERR_FORMAT;
	}
	s = add_source(w, (uint32_t)id, (uint8_t)signals_lookup(w->sig, signal),
		       colour_by_name(colour), action_by_name(action), text, (time_t)issued);
	if (!s)
		return WARNINGS_ERR_NOMEM;
	s->last = (time_t)last;
	json_array_foreach(villages, i, code) {
		long v = json_is_string(code) ? village_index(w->z, json_string_value(code)) : -1;

		if (v >= 0)
			*cell_at(w, (size_t)v, s->signal) =
				(struct cell){ (uint8_t)s->colour, s->id, s->issued };
	}
	return WARNINGS_OK;
}

enum warnings_result warnings_restore(struct warnings *w, const json_t *saved, char *err,
				      size_t errlen)
{
	json_t *list = json_object_get(saved, "sources"), *o;
	json_t *applied = json_object_get(saved, "applied");
	enum warnings_result rc;
	size_t i;

	if (!json_is_array(list) || !json_is_integer(applied)) {
		snprintf(err, errlen, "saved warning state has no sources list or applied id");
		return WARNINGS_ERR_FORMAT;
	}
	w->applied = (uint32_t)json_integer_value(applied);
	json_array_foreach(list, i, o)
		if ((rc = restore_source(w, o, err, errlen)))
			return rc;
	prune(w);
	return WARNINGS_OK;
}

/* Reporting */

static void append(char *out, size_t len, const char *name)
{
	size_t used = strlen(out);

	if (used + strlen(name) + 3 < len)
		snprintf(out + used, len - used, "%s%s", used ? ", " : "", name);
}

/* The flagged villages in the fewest names: the district, whole towns, else town/village. */
static void where(const struct warnings *w, char *out, size_t len)
{
	const struct zones *z = w->z;
	size_t all = 0;

	out[0] = '\0';
	for (size_t v = 0; v < z->n_villages; v++)
		all += w->scratch[v];
	if (all == z->n_villages) {
		append(out, len, z->district_name);
		return;
	}
	for (size_t t = 0; t < z->n_towns; t++) {
		const struct zones_town *town = &z->towns[t];
		size_t n = 0;

		for (uint32_t v = 0; v < town->n_villages; v++)
			n += w->scratch[town->first_village + v];
		if (n == town->n_villages)
			append(out, len, town->name);
		for (uint32_t v = 0; n && n < town->n_villages && v < town->n_villages; v++) {
			char name[2 * ZONES_NAME_MAX + 2];

			if (!w->scratch[town->first_village + v])
				continue;
			snprintf(name, sizeof(name), "%s/%s", town->name,
				 z->villages[town->first_village + v].name);
			append(out, len, name);
		}
	}
}

static json_t *iso_time(time_t t)
{
	char buf[32];
	struct tm tm;

	if (!t)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *report_one(const struct warnings *w, const struct source *s)
{
	int every = w->sig->colours[s->colour].rebroadcast;
	char place[WHERE_MAX];
	size_t n = villages_of(w, s);

	where(w, place, sizeof(place));
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:o, s:i, s:s, s:o, s:o}", "bulletin",
			 (json_int_t)s->id, "signal", proto_signal_key(s->signal), "name",
			 w->sig->types[s->signal - 1].name, "colour", proto_colour_name(s->colour),
			 "action", proto_action_name(s->action), "since", iso_time(s->issued),
			 "villages", (json_int_t)n, "where", place, "last_broadcast",
			 iso_time(s->last), "next_broadcast",
			 iso_time(every ? s->last + every : 0));
}

json_t *warnings_report(const struct warnings *w)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < w->n_sources; i++)
		json_array_append_new(list, report_one(w, &w->sources[i]));
	return list ? json_pack("{s:o}", "active", list) : NULL;
}

/* Re-broadcasts */

time_t warnings_due(struct warnings *w, time_t now, warnings_due_fn fn, void *arg)
{
	time_t next = 0;

	for (size_t i = 0; i < w->n_sources; i++) {
		struct source *s = &w->sources[i];
		int every = w->sig->colours[s->colour].rebroadcast;
		time_t due = s->last + every;

		if (!every || !villages_of(w, s))
			continue;
		if (due <= now) {
			if (fn(arg, s->id, s->text, s->signal, s->colour, s->action, w->scratch))
				due = now + 60;
			else
				due = (s->last = now) + every;
		}
		if (!next || due < next)
			next = due;
	}
	return next;
}
