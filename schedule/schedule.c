/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reads etc/schedule.cfg with libconfig and answers calendar questions with ICU, whose calendar
 * takes a named time zone per call: the process's TZ and the machine's zone play no part. */
#include "schedule/schedule.h"

#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "schedule/cfgfile.h"

struct day {
	int year, month, date;	/* month counts from 0, as ICU does */
};

static const char *const product_names[SCHEDULE_PRODUCTS] = { "nowcast", "forecast" };

static const struct {
	const char *time;
	enum schedule_product product;
} default_slots[] = {
	{ "08:00", SCHEDULE_NOWCAST }, { "09:00", SCHEDULE_NOWCAST },
	{ "12:00", SCHEDULE_NOWCAST }, { "16:00", SCHEDULE_NOWCAST },
	{ "17:00", SCHEDULE_FORECAST }, { "18:00", SCHEDULE_FORECAST },
};

/* Calendar arithmetic */

static UCalendar *calendar_open(const char *zone)
{
	UChar id[SCHEDULE_NAME_MAX];
	UErrorCode st = U_ZERO_ERROR;
	UCalendar *c;

	u_uastrncpy(id, zone, SCHEDULE_NAME_MAX - 1);
	id[SCHEDULE_NAME_MAX - 1] = 0;
	c = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st)) {
		if (c)
			ucal_close(c);
		return NULL;
	}
	return c;
}

static int day_of(UCalendar *c, time_t t, struct day *d)
{
	UErrorCode st = U_ZERO_ERROR;

	ucal_setMillis(c, (UDate)t * 1000.0, &st);
	d->year = ucal_get(c, UCAL_EXTENDED_YEAR, &st);
	d->month = ucal_get(c, UCAL_MONTH, &st);
	d->date = ucal_get(c, UCAL_DATE, &st);
	return U_SUCCESS(st) ? 0 : -1;
}

/* The instant of a local second of day d. A time that a daylight-saving change skips is taken
 * as the moment just after the change, as ICU's lenient calendar does. */
static int at_second(UCalendar *c, const struct day *d, int second, time_t *out)
{
	UErrorCode st = U_ZERO_ERROR;
	UDate ms;

	ucal_clear(c);
	ucal_set(c, UCAL_EXTENDED_YEAR, d->year);
	ucal_set(c, UCAL_MONTH, d->month);
	ucal_set(c, UCAL_DATE, d->date);
	ucal_set(c, UCAL_HOUR_OF_DAY, second / 3600);
	ucal_set(c, UCAL_MINUTE, second / 60 % 60);
	ucal_set(c, UCAL_SECOND, second % 60);
	ms = ucal_getMillis(c, &st);
	*out = (time_t)floor(ms / 1000.0);
	return U_SUCCESS(st) ? 0 : -1;
}

/* d moved by delta days, judged at local noon so that no daylight-saving hour gets in the way. */
static int shift_day(UCalendar *c, struct day *d, int delta)
{
	UErrorCode st = U_ZERO_ERROR;
	time_t noon;

	if (at_second(c, d, 12 * 3600, &noon))
		return -1;
	ucal_add(c, UCAL_DATE, delta, &st);
	d->year = ucal_get(c, UCAL_EXTENDED_YEAR, &st);
	d->month = ucal_get(c, UCAL_MONTH, &st);
	d->date = ucal_get(c, UCAL_DATE, &st);
	return U_SUCCESS(st) ? 0 : -1;
}

/* The occurrence of second on now's local day, moved one day by step while it lies on the
 * wrong side of now (step -1: not after now; +1: after now). */
static enum schedule_result occurrence(const struct schedule *s, int second, time_t now,
				       int step, time_t *at)
{
	UCalendar *c = calendar_open(s->zone);
	enum schedule_result rc = SCHEDULE_ERR_CALENDAR;
	struct day d;
	time_t t;

	if (!c)
		return SCHEDULE_ERR_ZONE;
	if (day_of(c, now, &d) || at_second(c, &d, second, &t))
		goto out;
	for (int tries = 0; step < 0 ? t > now : t <= now; tries++) {
		if (tries == 3 || shift_day(c, &d, step) || at_second(c, &d, second, &t))
			goto out;
	}
	*at = t;
	rc = SCHEDULE_OK;
out:
	ucal_close(c);
	return rc;
}

enum schedule_result schedule_last(const struct schedule *s, size_t i, time_t now, time_t *at)
{
	return occurrence(s, s->slots[i].second, now, -1, at);
}

enum schedule_result schedule_after(const struct schedule *s, size_t i, time_t now, time_t *at)
{
	return occurrence(s, s->slots[i].second, now, 1, at);
}

enum schedule_result schedule_next(const struct schedule *s, time_t now, size_t *i, time_t *at)
{
	*at = 0;
	for (size_t k = 0; k < s->n_slots; k++) {
		time_t t;
		enum schedule_result rc = schedule_after(s, k, now, &t);

		if (rc)
			return rc;
		if (!*at || t < *at) {
			*at = t;
			*i = k;
		}
	}
	return SCHEDULE_OK;
}

enum schedule_result schedule_check(const struct schedule *s, size_t i, time_t done, time_t now,
				    enum schedule_verdict *v, time_t *occ)
{
	enum schedule_result rc = schedule_last(s, i, now, occ);

	if (rc)
		return rc;
	if (*occ <= done)
		*v = SCHEDULE_NOT_DUE;
	else if (now - *occ <= s->grace)
		*v = SCHEDULE_PLAY;
	else
		*v = SCHEDULE_MISSED;
	return SCHEDULE_OK;
}

const char *schedule_format(const struct schedule *s, time_t t, char *buf, size_t len)
{
	UCalendar *c = calendar_open(s->zone);
	UErrorCode st = U_ZERO_ERROR;
	struct day d;

	if (!c || day_of(c, t, &d)) {
		snprintf(buf, len, "@%lld", (long long)t);
	} else {
		snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", d.year, d.month + 1, d.date,
			 ucal_get(c, UCAL_HOUR_OF_DAY, &st), ucal_get(c, UCAL_MINUTE, &st),
			 ucal_get(c, UCAL_SECOND, &st));
	}
	if (c)
		ucal_close(c);
	return buf;
}

/* Names */

const char *schedule_product_name(enum schedule_product p)
{
	return (unsigned)p < SCHEDULE_PRODUCTS ? product_names[p] : "?";
}

int schedule_product_lookup(const char *name)
{
	for (int p = 0; p < SCHEDULE_PRODUCTS; p++)
		if (!strcmp(name, product_names[p]))
			return p;
	return -1;
}

const char *schedule_strerror(enum schedule_result r)
{
	switch (r) {
	case SCHEDULE_OK: return "success";
	case SCHEDULE_ERR_IO: return "cannot read the file";
	case SCHEDULE_ERR_FORMAT: return "malformed schedule";
	case SCHEDULE_ERR_ZONE: return "unknown time zone";
	case SCHEDULE_ERR_CALENDAR: return "calendar arithmetic failed";
	}
	return "unknown error";
}

/* "HH:MM" or "HH:MM:SS" to a second of the day; -1 if malformed. */
static int parse_time(const char *t)
{
	int h, m, sec = 0, n = 0;
	size_t len = strlen(t);

	if (len != 5 && len != 8)
		return -1;
	if (len == 5 && (sscanf(t, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5))
		return -1;
	if (len == 8 && (sscanf(t, "%2d:%2d:%2d%n", &h, &m, &sec, &n) != 3 || n != 8))
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((i % 3 == 2) != (t[i] == ':') || (i % 3 != 2 && (t[i] < '0' || t[i] > '9')))
			return -1;
	if (h > 23 || m > 59 || sec > 59)
		return -1;
	return h * 3600 + m * 60 + sec;
}

int schedule_find(const struct schedule *s, const char *time)
{
	int second = parse_time(time);

	for (size_t i = 0; second >= 0 && i < s->n_slots; i++)
		if (s->slots[i].second == second)
			return (int)i;
	return -1;
}

/* Defaults and loading */

static void set_slot(struct schedule_slot *slot, const char *time, enum schedule_product p)
{
	memset(slot, 0, sizeof(*slot));
	snprintf(slot->time, sizeof(slot->time), "%s", time);
	slot->second = parse_time(time);
	slot->product = p;
	slot->repeat = -1;
}

void schedule_default(struct schedule *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->zone, sizeof(s->zone), "Asia/Shanghai");
	s->timer = true;
	s->grace = 600;
	s->wait = 600;
	s->fetch_timeout = 20;
	s->products[SCHEDULE_NOWCAST].max_age = 3600;
	s->products[SCHEDULE_FORECAST].max_age = 6 * 3600;
	for (size_t i = 0; i < sizeof(default_slots) / sizeof(default_slots[0]); i++)
		set_slot(&s->slots[i], default_slots[i].time, default_slots[i].product);
	s->n_slots = sizeof(default_slots) / sizeof(default_slots[0]);
}

/* The file being read: libconfig's tree and where messages go (schedule/cfgfile.h). */
struct loader {
	const config_t *cf;
	struct cfgfile f;
};

#define fail_at(l, set, ...) (cfgfile_fail(&(l)->f, set, __VA_ARGS__), SCHEDULE_ERR_FORMAT)
#define get_int(l, ...) (cfgfile_int(&(l)->f, __VA_ARGS__) ? SCHEDULE_ERR_FORMAT : SCHEDULE_OK)
#define get_string(l, ...) \
	(cfgfile_string(&(l)->f, __VA_ARGS__) ? SCHEDULE_ERR_FORMAT : SCHEDULE_OK)
#define check_names(l, ...) \
	(cfgfile_names(&(l)->f, __VA_ARGS__) ? SCHEDULE_ERR_FORMAT : SCHEDULE_OK)

static enum schedule_result load_zone(const struct loader *l, struct schedule *s)
{
	const config_setting_t *root = config_root_setting(l->cf);
	UChar id[SCHEDULE_NAME_MAX], canonical[SCHEDULE_NAME_MAX];
	UErrorCode st = U_ZERO_ERROR;
	UBool system;
	enum schedule_result rc = get_string(l, root, "time_zone", s->zone, sizeof(s->zone), 0);

	if (rc)
		return rc;
	u_uastrncpy(id, s->zone, SCHEDULE_NAME_MAX - 1);
	id[SCHEDULE_NAME_MAX - 1] = 0;
	ucal_getCanonicalTimeZoneID(id, -1, canonical, SCHEDULE_NAME_MAX, &system, &st);
	if (U_FAILURE(st) || !system) {
		cfgfile_fail(&l->f, config_setting_get_member(root, "time_zone"),
			     "time_zone: \"%s\" is not a known time zone (an IANA name such as "
			     "Asia/Shanghai)", s->zone);
		return SCHEDULE_ERR_ZONE;
	}
	return SCHEDULE_OK;
}

static enum schedule_result load_top(const struct loader *l, struct schedule *s)
{
	static const char *const known[] = {
		"time_zone", "timer", "grace", "wait", "fetch_timeout", "products", "slots",
	};
	const config_setting_t *root = config_root_setting(l->cf);
	const config_setting_t *timer = config_setting_get_member(root, "timer");
	enum schedule_result rc;

	if ((rc = check_names(l, root, known, sizeof(known) / sizeof(known[0]))) ||
	    (rc = load_zone(l, s)) ||
	    (rc = get_int(l, root, "grace", 0, 86400, &s->grace)) ||
	    (rc = get_int(l, root, "wait", 0, 86400, &s->wait)) ||
	    (rc = get_int(l, root, "fetch_timeout", 1, 600, &s->fetch_timeout)))
		return rc;
	if (timer && config_setting_type(timer) != CONFIG_TYPE_BOOL)
		return fail_at(l, timer, "timer must be true or false");
	if (timer)
		s->timer = config_setting_get_bool(timer);
	return SCHEDULE_OK;
}

static enum schedule_result load_products(const struct loader *l, struct schedule *s)
{
	static const char *const fields[] = { "url", "max_age" };
	const config_setting_t *group = config_lookup(l->cf, "products");
	enum schedule_result rc;

	if (!group)
		return SCHEDULE_OK;
	if (!config_setting_is_group(group))
		return fail_at(l, group, "products must be a group");
	if ((rc = check_names(l, group, product_names, SCHEDULE_PRODUCTS)))
		return rc;
	for (int p = 0; p < SCHEDULE_PRODUCTS; p++) {
		const config_setting_t *set = config_setting_get_member(group, product_names[p]);
		struct schedule_source *src = &s->products[p];

		if (!set)
			continue;
		if (!config_setting_is_group(set))
			return fail_at(l, set, "products.%s must be a group", product_names[p]);
		if ((rc = check_names(l, set, fields, 2)) ||
		    (rc = get_string(l, set, "url", src->url, sizeof(src->url), 1)) ||
		    (rc = get_int(l, set, "max_age", 60, 7 * 86400, &src->max_age)))
			return rc;
		if (*src->url && strncmp(src->url, "http://", 7) &&
		    strncmp(src->url, "https://", 8) && strncmp(src->url, "file://", 7))
			return fail_at(l, set, "products.%s.url must start with http://, https:// "
				       "or file://", product_names[p]);
	}
	return SCHEDULE_OK;
}

static enum schedule_result load_targets(const struct loader *l, const config_setting_t *set,
					 struct schedule_slot *slot)
{
	const config_setting_t *list = config_setting_get_member(set, "targets");
	int n = list ? config_setting_length(list) : 0;

	if (!list)
		return SCHEDULE_OK;
	if (!config_setting_is_array(list) || n > SCHEDULE_MAX_TARGETS)
		return fail_at(l, list, "targets must be a list of at most %d names or codes",
			       SCHEDULE_MAX_TARGETS);
	for (int i = 0; i < n; i++) {
		const char *t = config_setting_get_string_elem(list, i);

		if (!t || !*t || strlen(t) >= SCHEDULE_NAME_MAX)
			return fail_at(l, list, "target %d must be a name or code", i + 1);
		memcpy(slot->targets[i], t, strlen(t) + 1);
	}
	slot->n_targets = (size_t)n;
	return SCHEDULE_OK;
}

static enum schedule_result load_slot(const struct loader *l, const config_setting_t *set,
				      struct schedule_slot *slot)
{
	static const char *const fields[] = { "time", "product", "targets", "repeat" };
	const char *time = NULL, *product = NULL;
	enum schedule_result rc;
	int p;

	if (!config_setting_is_group(set))
		return fail_at(l, set, "each slot is a group { time = \"08:00\"; "
			       "product = ...; }");
	if ((rc = check_names(l, set, fields, sizeof(fields) / sizeof(fields[0]))))
		return rc;
	config_setting_lookup_string(set, "time", &time);
	config_setting_lookup_string(set, "product", &product);
	if (!time || parse_time(time) < 0)
		return fail_at(l, set, "slot time must be \"HH:MM\" (or \"HH:MM:SS\")");
	p = product ? schedule_product_lookup(product) : -1;
	if (p < 0)
		return fail_at(l, set, "slot %s: product must be \"nowcast\" or \"forecast\"",
			       time);
	set_slot(slot, time, (enum schedule_product)p);
	if ((rc = load_targets(l, set, slot)))
		return rc;
	return get_int(l, set, "repeat", 0, 10, &slot->repeat);
}

static int by_second(const void *a, const void *b)
{
	const struct schedule_slot *x = a, *y = b;

	return x->second - y->second;
}

static enum schedule_result load_slots(const struct loader *l, struct schedule *s)
{
	const config_setting_t *list = config_lookup(l->cf, "slots");
	int n = list ? config_setting_length(list) : 0;
	enum schedule_result rc;

	if (!list)
		return SCHEDULE_OK;
	if (!config_setting_is_list(list) || n > SCHEDULE_MAX_SLOTS)
		return fail_at(l, list, "slots must be a list ( {...}, {...} ) of at most %d "
			       "slots", SCHEDULE_MAX_SLOTS);
	for (int i = 0; i < n; i++)
		if ((rc = load_slot(l, config_setting_get_elem(list, (unsigned)i), &s->slots[i])))
			return rc;
	s->n_slots = (size_t)n;
	qsort(s->slots, s->n_slots, sizeof(s->slots[0]), by_second);
	for (size_t i = 1; i < s->n_slots; i++)
		if (s->slots[i].second == s->slots[i - 1].second)
			return fail_at(l, list, "two slots at %s", s->slots[i].time);
	return SCHEDULE_OK;
}

enum schedule_result schedule_load(struct schedule *s, const char *path, char *err,
				   size_t errlen)
{
	config_t cf;
	struct loader l = { &cf, { path, err, errlen } };
	enum schedule_result rc;

	schedule_default(s);
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		rc = config_error_type(&cf) == CONFIG_ERR_FILE_IO ? SCHEDULE_ERR_IO :
		     SCHEDULE_ERR_FORMAT;
		if (rc == SCHEDULE_ERR_IO)
			snprintf(err, errlen, "%s: cannot read the file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
				 config_error_text(&cf));
		goto out;
	}
	rc = load_top(&l, s);
	if (!rc)
		rc = load_products(&l, s);
	if (!rc)
		rc = load_slots(&l, s);
out:
	config_destroy(&cf);
	return rc;
}
