/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Checked reading of libconfig settings, shared by the loaders of etc/schedule.cfg (schedule.c)
 * and etc/signals.cfg (headend/signals.c): every error names the file and line, and a setting
 * the loader does not know is an error rather than silently ignored. */
#ifndef CX_SCHEDULE_CFGFILE_H
#define CX_SCHEDULE_CFGFILE_H

#include <libconfig.h>
#include <stddef.h>

struct cfgfile {
	const char *file;	/* for messages */
	char *err;		/* receives "file:line: why" */
	size_t errlen;
};

/* Write "file:line: why" (line of set, 0 without one) to l->err; returns -1. */
__attribute__((format(printf, 3, 4)))
int cfgfile_fail(const struct cfgfile *l, const config_setting_t *set, const char *fmt, ...);

/* The integer setting name under parent into *out, if it is there: 0 when absent or good, -1
 * (with l->err set) when it is not an integer or lies outside min..max. */
int cfgfile_int(const struct cfgfile *l, const config_setting_t *parent, const char *name,
		int min, int max, int *out);

/* The string setting name under parent into out (size bytes), if it is there: 0 or -1. */
int cfgfile_string(const struct cfgfile *l, const config_setting_t *parent, const char *name,
		   char *out, size_t size, int may_be_empty);

/* -1 if group holds a setting whose name is not among the n known ones: a misspelt setting
 * would otherwise leave its default in force without a word. */
int cfgfile_names(const struct cfgfile *l, const config_setting_t *group,
		  const char *const *known, size_t n);

#endif
