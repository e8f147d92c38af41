/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The loudspeaker directory: loads the CSV, resolves targets (codes or names) into villages and
 * endpoints, and maps them onto the multicast addressing plan of docs/addressing.md. Knows nothing
 * about audio or the network beyond group addresses. */
#ifndef CX_ZONES_H
#define CX_ZONES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZONES_NAME_MAX 64	/* bytes, UTF-8, including the terminator */
#define ZONES_MAX_GROUPS 3	/* groups an endpoint joins: district, town, village */

enum zones_result {
	ZONES_OK = 0,
	ZONES_ERR_IO,		/* cannot open or read the file */
	ZONES_ERR_FORMAT,	/* a line that does not parse; the message names line and field */
	ZONES_ERR_NOMEM,
	ZONES_ERR_UNKNOWN,	/* no such code or name */
	ZONES_ERR_AMBIGUOUS,	/* a village name found in several towns, given without its town */
	ZONES_ERR_RANGE,	/* a code outside what the addressing plan can map */
};

struct zones_endpoint {
	uint64_t id;		/* 15 digits */
	uint32_t village;	/* index into zones.villages */
	char site[ZONES_NAME_MAX];
};

struct zones_village {
	uint64_t code;		/* 12 digits */
	char name[ZONES_NAME_MAX];
	uint32_t town;		/* index into zones.towns */
	uint32_t first_endpoint, n_endpoints;	/* endpoints are contiguous per village */
};

struct zones_town {
	uint64_t code;		/* 9 digits */
	char name[ZONES_NAME_MAX];
	uint32_t first_village, n_villages;	/* villages are contiguous per town */
	uint32_t n_endpoints;
};

/* One district's directory, sorted by code. Read-only once loaded; share it freely. */
struct zones {
	uint64_t district_code;	/* 6 digits */
	char district_name[ZONES_NAME_MAX];
	struct zones_town *towns;
	struct zones_village *villages;
	struct zones_endpoint *endpoints;
	size_t n_towns, n_villages, n_endpoints;
};

/* What a broadcast is aimed at: whole villages, plus single endpoints addressed alone. */
struct zones_selection {
	bool *villages;		/* n_villages flags */
	uint32_t *endpoints;	/* indexes of endpoints targeted alone */
	size_t n_endpoints, cap_endpoints;
};

/* Load a directory CSV (header line, then endpoint_id,district_code,district_name,town_code,
 * town_name,village_code,village_name,site). On error *out is NULL and err says what and where. */
__attribute__((warn_unused_result))
enum zones_result zones_load(struct zones **out, const char *path, char *err, size_t errlen);
void zones_free(struct zones *z);

/* Selections start empty; free releases what resolve added. */
__attribute__((warn_unused_result))
enum zones_result zones_selection_init(struct zones_selection *sel, const struct zones *z);
void zones_selection_free(struct zones_selection *sel);

/* Add one target to sel: a 6/9/12/15-digit code, the district, town or village name, or
 * "town/village". On error sel is unchanged and err names the target. */
__attribute__((warn_unused_result))
enum zones_result zones_resolve(const struct zones *z, const char *target,
				struct zones_selection *sel, char *err, size_t errlen);

/* Endpoints the selection reaches (whole villages plus singles, each counted once). */
size_t zones_selection_count(const struct zones *z, const struct zones_selection *sel);

/* True if the endpoint with index ep is reached by sel. */
bool zones_selection_has(const struct zones *z, const struct zones_selection *sel, uint32_t ep);

/* Fewest groups that reach every endpoint of sel: the district group when all villages are
 * selected, a town group for each whole town, else village groups; single endpoints use their
 * village group. Writes up to max addresses, returns how many are needed. */
size_t zones_groups(const struct zones *z, const struct zones_selection *sel,
		    struct in_addr base, struct in_addr *out, size_t max);

/* The groups endpoint ep joins, district first. Returns ZONES_MAX_GROUPS. */
size_t zones_endpoint_groups(const struct zones *z, uint32_t ep, struct in_addr base,
			     struct in_addr out[ZONES_MAX_GROUPS]);

/* Index of the endpoint with this 15-digit id, or -1. */
long zones_find_endpoint(const struct zones *z, uint64_t id);

const char *zones_strerror(enum zones_result r);

#endif
