/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The loudspeaker directory: a strict CSV loader into arrays sorted by code, target resolution
 * into selections, and the multicast groups of docs/addressing.md. Reporting errors and sending
 * audio to the groups are left to the caller. */

#include "zones/zones.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Offsets from the base group address (docs/addressing.md). Numbers up to 511 keep every
 * offset below 2^18, the size of the organisation-local scope 239.192.0.0/14. */
#define DISTRICT_OFFSET 1u
#define TOWN_STRIDE 512u
#define NUMBER_MAX 511u

#define MSG_MAX 256
#define TARGET_MAX (2 * ZONES_NAME_MAX + 8)
#define UTF8_BOM "\xEF\xBB\xBF"
#define FULLWIDTH_SPACE "\xE3\x80\x80"
#define FULLWIDTH_SLASH "\xEF\xBC\x8F"

enum field {
	F_ID, F_DISTRICT, F_DISTRICT_NAME, F_TOWN, F_TOWN_NAME, F_VILLAGE, F_VILLAGE_NAME, F_SITE,
	N_FIELDS
};

static const char *const field_name[N_FIELDS] = {
	"endpoint_id", "district_code", "district_name", "town_code",
	"town_name", "village_code", "village_name", "site",
};

/* Zero marks a name field. */
static const unsigned field_digits[N_FIELDS] = {
	[F_ID] = 15, [F_DISTRICT] = 6, [F_TOWN] = 9, [F_VILLAGE] = 12,
};

static const char csv_header[] = "endpoint_id,district_code,district_name,town_code,"
				 "town_name,village_code,village_name,site";

/* One CSV line, held until the whole file is in and can be sorted; indexed by field. */
struct row {
	uint64_t code[N_FIELDS];
	char name[N_FIELDS][ZONES_NAME_MAX];
	unsigned line;
};

struct loader {
	const char *path;
	char *err;
	size_t errlen;
	struct row *rows;
	size_t n_rows, cap_rows;
};

/* What one target names: a run of villages (contiguous, since arrays are sorted by code) or a
 * single endpoint. */
struct pick {
	uint32_t first_village, n_villages;
	long endpoint;
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Every load error names file, line and field, so the operator can go straight to the fault. */
__attribute__((format(printf, 5, 6)))
static enum zones_result load_err(const struct loader *ld, enum zones_result r, unsigned line,
				  const char *field, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(ld->err, ld->errlen, "%s line %u, %s: %s", ld->path, line, field, msg);
	return r;
}

/* Length of the UTF-8 sequence starting with byte c and the smallest code point it may carry
 * (anything lower is an overlong form); 0 for a byte that cannot start a sequence. */
static size_t utf8_lead(unsigned char c, uint32_t *cp, uint32_t *min)
{
	if ((c & 0xE0) == 0xC0) {
		*cp = c & 0x1F, *min = 0x80;
		return 2;
	}
	if ((c & 0xF0) == 0xE0) {
		*cp = c & 0x0F, *min = 0x800;
		return 3;
	}
	if ((c & 0xF8) == 0xF0) {
		*cp = c & 0x07, *min = 0x10000;
		return 4;
	}
	return 0;
}

/* Strict: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		uint32_t cp, min;
		size_t len;

		if (*s < 0x80) {
			s++;
			continue;
		}
		len = utf8_lead(*s, &cp, &min);
		if (len == 0)
			return false;

		/* A terminator fails the continuation test: this never reads past the string. */
		for (size_t i = 1; i < len; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		s += len;
	}
	return true;
}

/* By hand rather than strtoull, which would let a sign, spaces or a short code through. */
static bool parse_digits(const char *s, size_t want, uint64_t *out)
{
	uint64_t v = 0;

	if (strlen(s) != want)
		return false;
	for (size_t i = 0; i < want; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static enum zones_result parse_code(const struct loader *ld, struct row *r, enum field f,
				    const char *s)
{
	if (parse_digits(s, field_digits[f], &r->code[f]))
		return ZONES_OK;
	return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[f],
			"'%.24s' is not a code of %u digits", s, field_digits[f]);
}

/* Quotes would mean CSV quoting, which this format does not have; a slash in an area name would
 * make "town/village" targets ambiguous; spaces around a name could never be matched. */
static const char *name_problem(const char *s, size_t len, enum field f)
{
	if (s[0] == ' ' || s[len - 1] == ' ')
		return "spaces around the name";
	if (f != F_SITE && (strchr(s, '/') || strstr(s, FULLWIDTH_SLASH)))
		return "a slash, which separates town from village in targets";

	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			return "a control character";
		if (*p == '"')
			return "a quote (fields are never quoted)";
	}
	return NULL;
}

static enum zones_result parse_name(const struct loader *ld, struct row *r, enum field f,
				    const char *s)
{
	size_t len = strlen(s);
	const char *problem;

	if (len == 0)
		return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[f], "empty");
	if (len >= ZONES_NAME_MAX)
		return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[f],
				"%zu bytes, at most %d", len, ZONES_NAME_MAX - 1);
	if (!utf8_valid((const unsigned char *)s))
		return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[f], "not valid UTF-8");

	problem = name_problem(s, len, f);
	if (problem)
		return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[f], "'%s' has %s", s,
				problem);
	memcpy(r->name[f], s, len + 1);
	return ZONES_OK;
}

/* Plain comma splitting is enough: names with commas or quotes are not allowed. */
static enum zones_result split_fields(const struct loader *ld, unsigned line, char *s,
				      char *fields[N_FIELDS])
{
	size_t n = 1;

	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (n < N_FIELDS)
		return load_err(ld, ZONES_ERR_FORMAT, line, field_name[n],
				"missing; the line has %zu fields, expected %d", n, N_FIELDS);
	if (n > N_FIELDS)
		return load_err(ld, ZONES_ERR_FORMAT, line, "after site",
				"the line has %zu fields, expected %d", n, N_FIELDS);

	fields[0] = s;
	for (size_t i = 1; i < N_FIELDS; i++) {
		char *comma = strchr(fields[i - 1], ',');

		*comma = '\0';
		fields[i] = comma + 1;
	}
	return ZONES_OK;
}

/* Each code extends its parent's by three digits: endpoint from village, village from town,
 * town from district. */
static enum zones_result check_prefixes(const struct loader *ld, const struct row *r)
{
	static const enum field chain[] = {F_ID, F_VILLAGE, F_TOWN, F_DISTRICT};

	for (size_t i = 0; i + 1 < sizeof(chain) / sizeof(chain[0]); i++) {
		enum field child = chain[i], parent = chain[i + 1];

		if (r->code[child] / 1000 == r->code[parent])
			continue;
		return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[child],
				"%0*" PRIu64 " does not start with %s %0*" PRIu64,
				(int)field_digits[child], r->code[child], field_name[parent],
				(int)field_digits[parent], r->code[parent]);
	}
	return ZONES_OK;
}

/* Town and village numbers become address offsets, so they must fit the plan. */
static enum zones_result check_numbers(const struct loader *ld, const struct row *r)
{
	static const enum field numbered[] = {F_TOWN, F_VILLAGE};

	for (size_t i = 0; i < sizeof(numbered) / sizeof(numbered[0]); i++) {
		enum field f = numbered[i];
		unsigned number = (unsigned)(r->code[f] % 1000);

		if (number >= 1 && number <= NUMBER_MAX)
			continue;
		return load_err(ld, ZONES_ERR_RANGE, r->line, field_name[f],
				"number %03u of %0*" PRIu64 " is outside 1..%u, the addressing "
				"plan's limit (docs/addressing.md)",
				number, (int)field_digits[f], r->code[f], NUMBER_MAX);
	}
	return ZONES_OK;
}

/* The first line of data fixes the district; every later line must agree with it. */
static enum zones_result check_district(const struct loader *ld, const struct row *r)
{
	const struct row *first = &ld->rows[0];

	if (ld->n_rows == 0)
		return ZONES_OK;
	if (r->code[F_DISTRICT] != first->code[F_DISTRICT])
		return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[F_DISTRICT],
				"%06" PRIu64 " differs from %06" PRIu64
				" on line %u; one district per file", r->code[F_DISTRICT],
				first->code[F_DISTRICT],
				first->line);
	if (strcmp(r->name[F_DISTRICT_NAME], first->name[F_DISTRICT_NAME]) != 0)
		return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[F_DISTRICT_NAME],
				"'%s' differs from '%s' on line %u for the same code",
				r->name[F_DISTRICT_NAME], first->name[F_DISTRICT_NAME],
				first->line);
	return ZONES_OK;
}

static enum zones_result grow_rows(struct loader *ld)
{
	size_t cap = ld->cap_rows ? 2 * ld->cap_rows : 1024;
	struct row *rows = reallocarray(ld->rows, cap, sizeof(*rows));

	if (!rows)
		return ZONES_ERR_NOMEM;
	ld->rows = rows;
	ld->cap_rows = cap;
	return ZONES_OK;
}

static enum zones_result add_row(struct loader *ld, char *s, unsigned line)
{
	char *fields[N_FIELDS];
	enum zones_result res;
	struct row *r;

	if (ld->n_rows == ld->cap_rows && grow_rows(ld) != ZONES_OK)
		return load_err(ld, ZONES_ERR_NOMEM, line, "line", "out of memory");
	r = &ld->rows[ld->n_rows];
	memset(r, 0, sizeof(*r));
	r->line = line;

	res = split_fields(ld, line, s, fields);
	for (size_t f = 0; res == ZONES_OK && f < N_FIELDS; f++)
		res = field_digits[f] ? parse_code(ld, r, f, fields[f])
				      : parse_name(ld, r, f, fields[f]);

	if (res == ZONES_OK)
		res = check_prefixes(ld, r);
	if (res == ZONES_OK)
		res = check_numbers(ld, r);
	if (res == ZONES_OK)
		res = check_district(ld, r);
	if (res == ZONES_OK)
		ld->n_rows++;
	return res;
}

/* Drops the line end (LF or CRLF) and, on the first line, a byte order mark that spreadsheet
 * programs like to write. */
static char *clean_line(char *s, ssize_t *n, unsigned line)
{
	if (*n > 0 && s[*n - 1] == '\n')
		s[--*n] = '\0';
	if (*n > 0 && s[*n - 1] == '\r')
		s[--*n] = '\0';

	if (line == 1 && strncmp(s, UTF8_BOM, 3) == 0) {
		*n -= 3;
		return s + 3;
	}
	return s;
}

static enum zones_result check_header(const struct loader *ld, const char *s)
{
	if (strcmp(s, csv_header) == 0)
		return ZONES_OK;
	return load_err(ld, ZONES_ERR_FORMAT, 1, "header", "expected '%s'", csv_header);
}

/* Blank lines are fine at the end of the file only; one in the middle hints at a damaged file. */
static enum zones_result take_line(struct loader *ld, char *s, ssize_t n, unsigned line,
				   unsigned *blank)
{
	if (memchr(s, '\0', (size_t)n))
		return load_err(ld, ZONES_ERR_FORMAT, line, "line", "contains a NUL byte");
	if (line == 1)
		return check_header(ld, s);

	if (n == 0) {
		*blank = *blank ? *blank : line;
		return ZONES_OK;
	}
	if (*blank)
		return load_err(ld, ZONES_ERR_FORMAT, *blank, "line", "empty, with data after it");
	return add_row(ld, s, line);
}

/* Bounds that a directory never comes near and a wrong file (a device, a binary) soon
 * passes; getline is still unbounded, so the file itself must be a regular one. */
#define LINE_MAX_BYTES 1024
#define ROWS_MAX 1000000

static enum zones_result read_rows(struct loader *ld, FILE *f)
{
	enum zones_result res = ZONES_OK;
	unsigned line = 0, blank = 0;
	char *buf = NULL, *s;
	size_t cap = 0;
	ssize_t n;

	while (res == ZONES_OK && (n = getline(&buf, &cap, f)) >= 0) {
		if (n > LINE_MAX_BYTES || ++line > ROWS_MAX + 1) {
			res = load_err(ld, ZONES_ERR_FORMAT, line, "line", n > LINE_MAX_BYTES ?
				       "longer than %d bytes" : "more than %d rows", n >
				       LINE_MAX_BYTES ? LINE_MAX_BYTES : ROWS_MAX);
			break;
		}
		s = clean_line(buf, &n, line);
		res = take_line(ld, s, n, line, &blank);
	}

	if (res == ZONES_OK && !feof(f))
		res = load_err(ld, errno == ENOMEM ? ZONES_ERR_NOMEM : ZONES_ERR_IO, line + 1,
			       "line", "cannot read: %s", strerror(errno));
	else if (res == ZONES_OK && line == 0)
		res = load_err(ld, ZONES_ERR_FORMAT, 1, "header", "missing; the file is empty");
	else if (res == ZONES_OK && ld->n_rows == 0)
		res = load_err(ld, ZONES_ERR_FORMAT, 2, "endpoint_id", "no endpoints in the file");
	free(buf);
	return res;
}

/* Codes extend their parents', so sorting by endpoint id sorts by town, then village. */
static int row_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct row *)a)->code[F_ID];
	uint64_t y = ((const struct row *)b)->code[F_ID];

	return (x > y) - (x < y);
}

static enum zones_result check_duplicates(const struct loader *ld)
{
	for (size_t i = 1; i < ld->n_rows; i++) {
		const struct row *a = &ld->rows[i - 1], *b = &ld->rows[i];

		if (a->code[F_ID] != b->code[F_ID])
			continue;
		return load_err(ld, ZONES_ERR_FORMAT, a->line > b->line ? a->line : b->line,
				field_name[F_ID], "%015" PRIu64 " already on line %u",
				a->code[F_ID], a->line < b->line ? a->line : b->line);
	}
	return ZONES_OK;
}

/* Name field f follows its code field f - 1 in the CSV and in struct row. */
static enum zones_result same_name(const struct loader *ld, const struct row *first,
				   const struct row *r, enum field f)
{
	if (strcmp(first->name[f], r->name[f]) == 0)
		return ZONES_OK;
	return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[f],
			"'%s' differs from '%s' on line %u for the same code %0*" PRIu64,
			r->name[f], first->name[f], first->line,
			(int)field_digits[f - 1], r->code[f - 1]);
}

/* Two areas of one name under the same parent could not be told apart by a target. */
static enum zones_result unique_name(const struct loader *ld, const struct row *r,
				     enum field f, const char *names, size_t stride, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names + i * stride, r->name[f]) != 0)
			continue;
		return load_err(ld, ZONES_ERR_FORMAT, r->line, field_name[f],
				"'%s' is already the name of another code in the same %s",
				r->name[f], f == F_TOWN_NAME ? "district" : "town");
	}
	return ZONES_OK;
}

static enum zones_result add_town(const struct loader *ld, struct zones *z, const struct row *r)
{
	struct zones_town *t = &z->towns[z->n_towns];
	enum zones_result res;

	res = unique_name(ld, r, F_TOWN_NAME, z->towns[0].name, sizeof(*t), z->n_towns);
	if (res != ZONES_OK)
		return res;

	t->code = r->code[F_TOWN];
	memcpy(t->name, r->name[F_TOWN_NAME], sizeof(t->name));
	t->first_village = (uint32_t)z->n_villages;
	t->n_villages = t->n_endpoints = 0;
	z->n_towns++;
	return ZONES_OK;
}

static enum zones_result add_village(const struct loader *ld, struct zones *z,
				     const struct row *r)
{
	struct zones_town *t = &z->towns[z->n_towns - 1];
	struct zones_village *v = &z->villages[z->n_villages];
	enum zones_result res;

	res = unique_name(ld, r, F_VILLAGE_NAME, z->villages[t->first_village].name, sizeof(*v),
			  t->n_villages);
	if (res != ZONES_OK)
		return res;

	v->code = r->code[F_VILLAGE];
	memcpy(v->name, r->name[F_VILLAGE_NAME], sizeof(v->name));
	v->town = (uint32_t)(z->n_towns - 1);
	v->first_endpoint = (uint32_t)z->n_endpoints;
	v->n_endpoints = 0;
	t->n_villages++;
	z->n_villages++;
	return ZONES_OK;
}

static void add_endpoint(struct zones *z, const struct row *r)
{
	struct zones_endpoint *e = &z->endpoints[z->n_endpoints++];

	e->id = r->code[F_ID];
	e->village = (uint32_t)(z->n_villages - 1);
	memcpy(e->site, r->name[F_SITE], sizeof(e->site));
	z->villages[z->n_villages - 1].n_endpoints++;
	z->towns[z->n_towns - 1].n_endpoints++;
}

/* Sorted rows come town by town and village by village; a new code opens a new area, a repeated
 * code must repeat its name. */
static enum zones_result fill_zones(const struct loader *ld, struct zones *z)
{
	size_t town_row = 0, village_row = 0;
	enum zones_result res = ZONES_OK;

	for (size_t i = 0; res == ZONES_OK && i < ld->n_rows; i++) {
		const struct row *r = &ld->rows[i];

		if (i == 0 || r->code[F_TOWN] != ld->rows[town_row].code[F_TOWN]) {
			town_row = i;
			res = add_town(ld, z, r);
		}
		if (res == ZONES_OK && (i == 0 || r->code[F_VILLAGE] !=
					ld->rows[village_row].code[F_VILLAGE])) {
			village_row = i;
			res = add_village(ld, z, r);
		}

		if (res == ZONES_OK)
			res = same_name(ld, &ld->rows[town_row], r, F_TOWN_NAME);
		if (res == ZONES_OK)
			res = same_name(ld, &ld->rows[village_row], r, F_VILLAGE_NAME);
		if (res == ZONES_OK)
			add_endpoint(z, r);
	}
	return res;
}

/* Counts first, so each array is allocated once at its final size. */
static enum zones_result build_zones(const struct loader *ld, struct zones **out)
{
	size_t towns = 1, villages = 1;
	struct zones *z;

	for (size_t i = 1; i < ld->n_rows; i++) {
		towns += ld->rows[i].code[F_TOWN] != ld->rows[i - 1].code[F_TOWN];
		villages += ld->rows[i].code[F_VILLAGE] != ld->rows[i - 1].code[F_VILLAGE];
	}
	z = calloc(1, sizeof(*z));
	if (z) {
		z->towns = calloc(towns, sizeof(*z->towns));
		z->villages = calloc(villages, sizeof(*z->villages));
		z->endpoints = calloc(ld->n_rows, sizeof(*z->endpoints));
	}
	*out = z;
	if (!z || !z->towns || !z->villages || !z->endpoints) {
		set_err(ld->err, ld->errlen, "%s: out of memory", ld->path);
		return ZONES_ERR_NOMEM;
	}

	z->district_code = ld->rows[0].code[F_DISTRICT];
	memcpy(z->district_name, ld->rows[0].name[F_DISTRICT_NAME], sizeof(z->district_name));
	return fill_zones(ld, z);
}

/* Opened without blocking, so that a FIFO or a device named by mistake is refused instead of
 * hanging the start-up or filling memory. */
static FILE *open_regular(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0) {
		set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > 256 << 20) {
		set_err(err, errlen, "%s: not a regular file of at most 256 MiB", path);
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

enum zones_result zones_load(struct zones **out, const char *path, char *err, size_t errlen)
{
	struct loader ld = {.path = path, .err = err, .errlen = errlen};
	enum zones_result res = ZONES_ERR_IO;
	struct zones *z = NULL;
	FILE *f;

	*out = NULL;
	set_err(err, errlen, "%s", "");
	f = open_regular(path, err, errlen);
	if (!f)
		goto out;

	res = read_rows(&ld, f);
	if (res != ZONES_OK)
		goto out;
	qsort(ld.rows, ld.n_rows, sizeof(*ld.rows), row_cmp);
	res = check_duplicates(&ld);
	if (res != ZONES_OK)
		goto out;

	res = build_zones(&ld, &z);
	if (res == ZONES_OK) {
		*out = z;
		z = NULL;
	}
out:
	zones_free(z);
	free(ld.rows);
	if (f)
		fclose(f);
	return res;
}

void zones_free(struct zones *z)
{
	if (!z)
		return;
	free(z->towns);
	free(z->villages);
	free(z->endpoints);
	free(z);
}

enum zones_result zones_selection_init(struct zones_selection *sel, const struct zones *z)
{
	memset(sel, 0, sizeof(*sel));
	sel->villages = calloc(z->n_villages ? z->n_villages : 1, sizeof(*sel->villages));
	return sel->villages ? ZONES_OK : ZONES_ERR_NOMEM;
}

void zones_selection_free(struct zones_selection *sel)
{
	free(sel->villages);
	free(sel->endpoints);
	memset(sel, 0, sizeof(*sel));
}

/* Spaces around a target are a typing accident; U+3000 is the space Chinese input methods
 * type. Works in place on the caller's copy. */
static char *trim(char *s)
{
	size_t len;

	for (;;) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		else if (strncmp(s, FULLWIDTH_SPACE, 3) == 0)
			s += 3;
		else
			break;
	}

	len = strlen(s);
	for (;;) {
		if (len > 0 && strchr(" \t\r\n", s[len - 1]))
			len--;
		else if (len >= 3 && memcmp(s + len - 3, FULLWIDTH_SPACE, 3) == 0)
			len -= 3;
		else
			break;
	}
	s[len] = '\0';
	return s;
}

/* Splits "town/village" at an ASCII or full-width slash; false when there is none. */
static bool split_pair(char *s, char **town, char **village)
{
	char *ascii = strchr(s, '/'), *wide = strstr(s, FULLWIDTH_SLASH);
	char *cut = ascii && (!wide || ascii < wide) ? ascii : wide;

	if (!cut)
		return false;
	*cut = '\0';
	*village = trim(cut + (cut == ascii ? 1 : 3));
	*town = trim(s);
	return true;
}

static long find_town_code(const struct zones *z, uint64_t code)
{
	for (size_t i = 0; i < z->n_towns; i++)
		if (z->towns[i].code == code)
			return (long)i;
	return -1;
}

static long find_village_code(const struct zones *z, uint64_t code)
{
	for (size_t i = 0; i < z->n_villages; i++)
		if (z->villages[i].code == code)
			return (long)i;
	return -1;
}

static long find_town_name(const struct zones *z, const char *name)
{
	for (size_t i = 0; i < z->n_towns; i++)
		if (strcmp(z->towns[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int endpoint_cmp(const void *key, const void *elem)
{
	uint64_t id = *(const uint64_t *)key;
	uint64_t other = ((const struct zones_endpoint *)elem)->id;

	return (id > other) - (id < other);
}

long zones_find_endpoint(const struct zones *z, uint64_t id)
{
	const struct zones_endpoint *e;

	e = bsearch(&id, z->endpoints, z->n_endpoints, sizeof(*e), endpoint_cmp);
	return e ? (long)(e - z->endpoints) : -1;
}

static void pick_villages(struct pick *p, uint32_t first, uint32_t n)
{
	p->first_village = first;
	p->n_villages = n;
}

static void pick_town(const struct zones *z, long t, struct pick *p)
{
	pick_villages(p, z->towns[t].first_village, z->towns[t].n_villages);
}

/* The length of a digit string says which level it names. */
static enum zones_result pick_code(const struct zones *z, const char *t, struct pick *p,
				   char *err, size_t errlen)
{
	static const char *const level[] = {"district", "town", "village", "endpoint"};
	size_t len = strlen(t), k;
	uint64_t code;
	long i = -1;

	if (len % 3 != 0 || len < 6 || len > 15 || !parse_digits(t, len, &code)) {
		set_err(err, errlen, "unknown target '%s': codes have 6, 9, 12 or 15 digits", t);
		return ZONES_ERR_UNKNOWN;
	}
	k = len / 3 - 2;

	if (k == 0 && code == z->district_code)
		pick_villages(p, 0, (uint32_t)z->n_villages);
	else if (k == 1 && (i = find_town_code(z, code)) >= 0)
		pick_town(z, i, p);
	else if (k == 2 && (i = find_village_code(z, code)) >= 0)
		pick_villages(p, (uint32_t)i, 1);
	else if (k == 3 && (i = zones_find_endpoint(z, code)) >= 0)
		p->endpoint = i;
	else {
		set_err(err, errlen, "unknown %s code '%s'", level[k], t);
		return ZONES_ERR_UNKNOWN;
	}
	return ZONES_OK;
}

/* Lists every "town/village" the caller could have meant, as far as err has room. */
static void list_candidates(const struct zones *z, const char *name, char *err, size_t errlen)
{
	const char *sep = "";

	set_err(err, errlen, "village '%s' is in several towns; name one of:", name);
	for (size_t i = 0; err && i < z->n_villages; i++) {
		size_t used = strlen(err);

		if (strcmp(z->villages[i].name, name) != 0 || used + 1 >= errlen)
			continue;
		snprintf(err + used, errlen - used, "%s %s/%s", sep,
			 z->towns[z->villages[i].town].name, name);
		sep = ",";
	}
}

static enum zones_result pick_village_name(const struct zones *z, const char *name,
					   struct pick *p, char *err, size_t errlen)
{
	size_t found = 0, at = 0;

	for (size_t i = 0; i < z->n_villages; i++) {
		if (strcmp(z->villages[i].name, name) == 0) {
			found++;
			at = i;
		}
	}

	if (found == 0) {
		set_err(err, errlen, "unknown name '%s'", name);
		return ZONES_ERR_UNKNOWN;
	}
	if (found > 1) {
		list_candidates(z, name, err, errlen);
		return ZONES_ERR_AMBIGUOUS;
	}
	pick_villages(p, (uint32_t)at, 1);
	return ZONES_OK;
}

static enum zones_result pick_pair(const struct zones *z, const char *town, const char *village,
				   struct pick *p, char *err, size_t errlen)
{
	long t = find_town_name(z, town);

	if (t < 0) {
		set_err(err, errlen, "unknown target '%s/%s': no town '%s'", town, village, town);
		return ZONES_ERR_UNKNOWN;
	}

	for (uint32_t i = 0; i < z->towns[t].n_villages; i++) {
		uint32_t v = z->towns[t].first_village + i;

		if (strcmp(z->villages[v].name, village) == 0) {
			pick_villages(p, v, 1);
			return ZONES_OK;
		}
	}
	set_err(err, errlen, "unknown target '%s/%s': town '%s' has no village '%s'", town,
		village, town, village);
	return ZONES_ERR_UNKNOWN;
}

static enum zones_result pick_name(const struct zones *z, const char *name, struct pick *p,
				   char *err, size_t errlen)
{
	long t;

	if (strcmp(name, z->district_name) == 0) {
		pick_villages(p, 0, (uint32_t)z->n_villages);
		return ZONES_OK;
	}
	t = find_town_name(z, name);
	if (t >= 0) {
		pick_town(z, t, p);
		return ZONES_OK;
	}
	return pick_village_name(z, name, p, err, errlen);
}

static bool is_single(const struct zones_selection *sel, uint32_t ep)
{
	for (size_t i = 0; i < sel->n_endpoints; i++)
		if (sel->endpoints[i] == ep)
			return true;
	return false;
}

static enum zones_result add_single(const struct zones *z, struct zones_selection *sel,
				    uint32_t ep, char *err, size_t errlen)
{
	if (zones_selection_has(z, sel, ep))
		return ZONES_OK;

	if (sel->n_endpoints == sel->cap_endpoints) {
		size_t cap = sel->cap_endpoints ? 2 * sel->cap_endpoints : 16;
		uint32_t *grown = reallocarray(sel->endpoints, cap, sizeof(*grown));

		if (!grown) {
			set_err(err, errlen, "endpoint %015" PRIu64 ": out of memory",
				z->endpoints[ep].id);
			return ZONES_ERR_NOMEM;
		}
		sel->endpoints = grown;
		sel->cap_endpoints = cap;
	}
	sel->endpoints[sel->n_endpoints++] = ep;
	return ZONES_OK;
}

/* Singles inside a village selected after them are covered by the village now. */
static void drop_covered_singles(const struct zones *z, struct zones_selection *sel)
{
	size_t kept = 0;

	for (size_t i = 0; i < sel->n_endpoints; i++) {
		uint32_t ep = sel->endpoints[i];

		if (!sel->villages[z->endpoints[ep].village])
			sel->endpoints[kept++] = ep;
	}
	sel->n_endpoints = kept;
}

static enum zones_result apply_pick(const struct zones *z, const struct pick *p,
				    struct zones_selection *sel, char *err, size_t errlen)
{
	if (p->endpoint >= 0)
		return add_single(z, sel, (uint32_t)p->endpoint, err, errlen);

	for (uint32_t i = 0; i < p->n_villages; i++)
		sel->villages[p->first_village + i] = true;
	drop_covered_singles(z, sel);
	return ZONES_OK;
}

enum zones_result zones_resolve(const struct zones *z, const char *target,
				struct zones_selection *sel, char *err, size_t errlen)
{
	struct pick p = {.endpoint = -1};
	char copy[TARGET_MAX], *t, *town, *village;
	enum zones_result res;

	set_err(err, errlen, "%s", "");
	if (!target || (size_t)snprintf(copy, sizeof(copy), "%s", target) >= sizeof(copy)) {
		set_err(err, errlen, "unknown target '%.*s...': too long", ZONES_NAME_MAX,
			target ? target : "");
		return ZONES_ERR_UNKNOWN;
	}
	t = trim(copy);

	if (*t == '\0') {
		set_err(err, errlen, "empty target");
		return ZONES_ERR_UNKNOWN;
	}
	if (strspn(t, "0123456789") == strlen(t))
		res = pick_code(z, t, &p, err, errlen);
	else if (split_pair(t, &town, &village))
		res = pick_pair(z, town, village, &p, err, errlen);
	else
		res = pick_name(z, t, &p, err, errlen);
	return res == ZONES_OK ? apply_pick(z, &p, sel, err, errlen) : res;
}

size_t zones_selection_count(const struct zones *z, const struct zones_selection *sel)
{
	size_t n = 0;

	for (size_t v = 0; v < z->n_villages; v++)
		if (sel->villages[v])
			n += z->villages[v].n_endpoints;

	/* Singles are never listed twice, but may sit in a village selected since. */
	for (size_t i = 0; i < sel->n_endpoints; i++)
		if (!sel->villages[z->endpoints[sel->endpoints[i]].village])
			n++;
	return n;
}

bool zones_selection_has(const struct zones *z, const struct zones_selection *sel, uint32_t ep)
{
	if (ep >= z->n_endpoints)
		return false;
	return sel->villages[z->endpoints[ep].village] || is_single(sel, ep);
}

static struct in_addr group_at(struct in_addr base, uint32_t offset)
{
	struct in_addr a = {.s_addr = htonl(ntohl(base.s_addr) + offset)};

	return a;
}

static uint32_t town_offset(uint64_t town_code)
{
	return (uint32_t)(town_code % 1000) * TOWN_STRIDE;
}

static uint32_t village_offset(uint64_t village_code)
{
	return town_offset(village_code / 1000) + (uint32_t)(village_code % 1000);
}

static bool all_selected(const struct zones_selection *sel, size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++)
		if (!sel->villages[i])
			return false;
	return true;
}

/* A village needs its group when it is selected or holds a single endpoint. */
static bool village_needed(const struct zones *z, const struct zones_selection *sel, uint32_t v)
{
	if (sel->villages[v])
		return true;
	for (size_t i = 0; i < sel->n_endpoints; i++)
		if (z->endpoints[sel->endpoints[i]].village == v)
			return true;
	return false;
}

static void emit(struct in_addr *out, size_t max, size_t *n, struct in_addr group)
{
	if (*n < max)
		out[*n] = group;
	(*n)++;
}

/* Towns come in code order and a town's villages sit just above its own group, so walking
 * the arrays in order yields ascending addresses. */
size_t zones_groups(const struct zones *z, const struct zones_selection *sel,
		    struct in_addr base, struct in_addr *out, size_t max)
{
	size_t n = 0;

	if (z->n_villages > 0 && all_selected(sel, 0, z->n_villages)) {
		emit(out, max, &n, group_at(base, DISTRICT_OFFSET));
		return n;
	}

	for (size_t t = 0; t < z->n_towns; t++) {
		const struct zones_town *town = &z->towns[t];
		uint32_t end = town->first_village + town->n_villages;

		if (all_selected(sel, town->first_village, town->n_villages)) {
			emit(out, max, &n, group_at(base, town_offset(town->code)));
			continue;
		}
		for (uint32_t v = town->first_village; v < end; v++)
			if (village_needed(z, sel, v))
				emit(out, max, &n,
				     group_at(base, village_offset(z->villages[v].code)));
	}
	return n;
}

size_t zones_endpoint_groups(const struct zones *z, uint32_t ep, struct in_addr base,
			     struct in_addr out[ZONES_MAX_GROUPS])
{
	const struct zones_village *v = &z->villages[z->endpoints[ep].village];

	out[0] = group_at(base, DISTRICT_OFFSET);
	out[1] = group_at(base, town_offset(v->code / 1000));
	out[2] = group_at(base, village_offset(v->code));
	return ZONES_MAX_GROUPS;
}

const char *zones_strerror(enum zones_result r)
{
	switch (r) {
	case ZONES_OK:
		return "success";
	case ZONES_ERR_IO:
		return "cannot read the directory file";
	case ZONES_ERR_FORMAT:
		return "malformed directory file";
	case ZONES_ERR_NOMEM:
		return "out of memory";
	case ZONES_ERR_UNKNOWN:
		return "no such code or name";
	case ZONES_ERR_AMBIGUOUS:
		return "village name found in several towns";
	case ZONES_ERR_RANGE:
		return "code outside the addressing plan";
	}
	return "unknown zones error";
}
