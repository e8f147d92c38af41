/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reads etc/signals.cfg with libconfig and checks it: each signal key at most once and one of
 * the protocol's ten, each name once, colours by their English names. */
#include "headend/signals.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>

#include "schedule/cfgfile.h"

#define fail_at(l, set, ...) (cfgfile_fail(l, set, __VA_ARGS__), SIGNALS_ERR_FORMAT)
#define get_int(l, ...) (cfgfile_int(l, __VA_ARGS__) ? SIGNALS_ERR_FORMAT : SIGNALS_OK)
#define check_names(l, ...) (cfgfile_names(l, __VA_ARGS__) ? SIGNALS_ERR_FORMAT : SIGNALS_OK)

void signals_default(struct signals *s)
{
	memset(s, 0, sizeof(*s));
	for (int c = PROTO_COLOUR_WHITE; c <= PROTO_COLOUR_RED; c++) {
		s->colours[c].tone = (enum proto_colour)c;
		s->colours[c].repeat = c == PROTO_COLOUR_RED ? 3 :
				       c == PROTO_COLOUR_ORANGE ? 2 : 1;
		s->colours[c].gap_ms = 2000;
		s->colours[c].rebroadcast = c == PROTO_COLOUR_RED ? 1800 :
					    c == PROTO_COLOUR_ORANGE ? 3600 : 0;
	}
	s->lift_repeat = 1;
}

unsigned signals_lookup(const struct signals *s, const char *key_or_name)
{
	for (unsigned i = 0; i < SIGNAL_COUNT; i++)
		if (!strcmp(key_or_name, proto_signal_key(i + 1)) ||
		    (s->types[i].name[0] && !strcmp(key_or_name, s->types[i].name)))
			return i + 1;
	return 0;
}

const char *signals_strerror(enum signals_result r)
{
	switch (r) {
	case SIGNALS_OK: return "success";
	case SIGNALS_ERR_IO: return "cannot read the file";
	case SIGNALS_ERR_FORMAT: return "malformed signal table";
	}
	return "unknown error";
}

static enum proto_colour colour_named(const char *name)
{
	for (int c = PROTO_COLOUR_WHITE; c <= PROTO_COLOUR_RED; c++)
		if (!strcmp(name, proto_colour_name((enum proto_colour)c)))
			return (enum proto_colour)c;
	return PROTO_COLOUR_NONE;
}

static enum signals_result load_colours_list(const struct cfgfile *l,
					     const config_setting_t *list, unsigned *out)
{
	if (!list || !config_setting_is_array(list) || !config_setting_length(list))
		return fail_at(l, list, "colours must be a list such as "
			       "[ \"yellow\", \"orange\" ]");
	*out = 0;
	for (int i = 0; i < config_setting_length(list); i++) {
		const char *name = config_setting_get_string_elem(list, i);
		enum proto_colour c = name ? colour_named(name) : PROTO_COLOUR_NONE;

		if (!c)
			return fail_at(l, list, "colour %d must be white, blue, yellow, orange "
				       "or red", i + 1);
		*out |= 1u << c;
	}
	return SIGNALS_OK;
}

static enum signals_result load_signal(const struct cfgfile *l, const config_setting_t *set,
				       struct signals *s)
{
	static const char *const fields[] = { "key", "name", "colours" };
	const char *key = NULL, *name = NULL;
	enum signals_result rc;
	unsigned n;

	if (!config_setting_is_group(set))
		return fail_at(l, set, "each signal is a group { key = ...; name = ...; colours = "
			       "[...]; }");
	if ((rc = check_names(l, set, fields, 3)))
		return rc;
	config_setting_lookup_string(set, "key", &key);
	config_setting_lookup_string(set, "name", &name);
	for (n = 1; key && n <= SIGNAL_COUNT && strcmp(key, proto_signal_key(n)); n++)
		;
	if (!key || n > SIGNAL_COUNT)
		return fail_at(l, set, "key must be one of the protocol's signals (typhoon, "
			       "rainstorm, heat, cold, fog, haze, thunderstorm-gale, road-icing, "
			       "hail, forest-fire)");
	if (s->types[n - 1].name[0])
		return fail_at(l, set, "signal %s is listed twice", key);
	if (!name || !*name || strlen(name) >= SIGNAL_NAME_MAX)
		return fail_at(l, set, "%s: name must be its Chinese name, at most %d bytes", key,
			       SIGNAL_NAME_MAX - 1);
	if (signals_lookup(s, name))
		return fail_at(l, set, "%s: the name %s is taken already", key, name);
	if ((rc = load_colours_list(l, config_setting_get_member(set, "colours"),
				    &s->types[n - 1].colours)))
		return rc;
	memcpy(s->types[n - 1].name, name, strlen(name) + 1);
	return SIGNALS_OK;
}

static enum signals_result load_policy(const struct cfgfile *l, const config_setting_t *set,
				       struct colour_policy *p)
{
	static const char *const fields[] = { "tone", "repeat", "gap_ms", "rebroadcast" };
	const char *tone = NULL;
	enum signals_result rc;

	if (!config_setting_is_group(set))
		return fail_at(l, set, "colours.%s must be a group", config_setting_name(set));
	if ((rc = check_names(l, set, fields, 4)) ||
	    (rc = get_int(l, set, "repeat", 0, 10, &p->repeat)) ||
	    (rc = get_int(l, set, "gap_ms", 0, 60000, &p->gap_ms)) ||
	    (rc = get_int(l, set, "rebroadcast", 0, 7 * 86400, &p->rebroadcast)))
		return rc;
	if (p->rebroadcast && p->rebroadcast < 60)
		return fail_at(l, set, "rebroadcast must be 0 (never) or at least 60 s");
	if (!config_setting_lookup_string(set, "tone", &tone)) {
		if (config_setting_get_member(set, "tone"))
			return fail_at(l, set, "tone must be a string");
		return SIGNALS_OK;
	}
	p->tone = colour_named(tone);
	if (!p->tone && strcmp(tone, "none"))
		return fail_at(l, set, "tone must be white, blue, yellow, orange, red or none");
	return SIGNALS_OK;
}

static enum signals_result load_policies(const struct cfgfile *l, const config_setting_t *group,
					 struct signals *s)
{
	static const char *const colours[] = { "white", "blue", "yellow", "orange", "red" };
	enum signals_result rc;

	if (!group)
		return SIGNALS_OK;
	if (!config_setting_is_group(group))
		return fail_at(l, group, "colours must be a group");
	if ((rc = check_names(l, group, colours, 5)))
		return rc;
	for (int c = PROTO_COLOUR_WHITE; c <= PROTO_COLOUR_RED; c++) {
		const config_setting_t *set = config_setting_get_member(group, colours[c - 1]);

		if (set && (rc = load_policy(l, set, &s->colours[c])))
			return rc;
	}
	return SIGNALS_OK;
}

static enum signals_result load_all(const struct cfgfile *l, const config_t *cf,
				    struct signals *s)
{
	static const char *const top[] = { "signals", "colours", "lift_repeat" };
	const config_setting_t *root = config_root_setting(cf);
	const config_setting_t *list = config_lookup(cf, "signals");
	enum signals_result rc;

	if ((rc = check_names(l, root, top, 3)))
		return rc;
	if (!list || !config_setting_is_list(list) || !config_setting_length(list))
		return fail_at(l, list, "signals must be a list ( {...}, {...} ) of the signals "
			       "in use");
	for (int i = 0; i < config_setting_length(list); i++)
		if ((rc = load_signal(l, config_setting_get_elem(list, (unsigned)i), s)))
			return rc;
	if ((rc = load_policies(l, config_lookup(cf, "colours"), s)))
		return rc;
	return get_int(l, root, "lift_repeat", 0, 10, &s->lift_repeat);
}

enum signals_result signals_load(struct signals *s, const char *path, char *err, size_t errlen)
{
	struct cfgfile l = { path, err, errlen };
	enum signals_result rc;
	config_t cf;

	signals_default(s);
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		rc = config_error_type(&cf) == CONFIG_ERR_FILE_IO ? SIGNALS_ERR_IO :
		     SIGNALS_ERR_FORMAT;
		if (rc == SIGNALS_ERR_IO)
			snprintf(err, errlen, "%s: cannot read the file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
				 config_error_text(&cf));
	} else {
		rc = load_all(&l, &cf, s);
	}
	config_destroy(&cf);
	return rc;
}
