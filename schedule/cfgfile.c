/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Checked reading of libconfig settings with file:line messages. */
#include "schedule/cfgfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cfgfile_fail(const struct cfgfile *l, const config_setting_t *set, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "%s:%d: %s", l->file,
		 set ? config_setting_source_line(set) : 0, why);
	return -1;
}

int cfgfile_int(const struct cfgfile *l, const config_setting_t *parent, const char *name,
		int min, int max, int *out)
{
	const config_setting_t *set = config_setting_get_member(parent, name);
	int v;

	if (!set)
		return 0;
	if (config_setting_type(set) != CONFIG_TYPE_INT)
		return cfgfile_fail(l, set, "%s must be an integer", name);
	v = config_setting_get_int(set);
	if (v < min || v > max)
		return cfgfile_fail(l, set, "%s: %d is outside %d..%d", name, v, min, max);
	*out = v;
	return 0;
}

int cfgfile_string(const struct cfgfile *l, const config_setting_t *parent, const char *name,
		   char *out, size_t size, int may_be_empty)
{
	const config_setting_t *set = config_setting_get_member(parent, name);
	const char *v;

	if (!set)
		return 0;
	v = config_setting_get_string(set);
	if (!v)
		return cfgfile_fail(l, set, "%s must be a string", name);
	if ((!*v && !may_be_empty) || strlen(v) >= size)
		return cfgfile_fail(l, set, "%s is empty or too long", name);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int cfgfile_names(const struct cfgfile *l, const config_setting_t *group,
		  const char *const *known, size_t n)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *set = config_setting_get_elem(group, (unsigned)i);
		size_t k;

		for (k = 0; k < n && strcmp(config_setting_name(set), known[k]); k++)
			;
		if (k == n)
			return cfgfile_fail(l, set, "unknown setting %s",
					    config_setting_name(set));
	}
	return 0;
}
