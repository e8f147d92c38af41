/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the body of POST /v1/bulletins through bulletin_parse, against the shipped
 * directory and the default settings. Run from the top of the tree (etc/zones.csv). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headend/bulletin.h"
#include "headend/config.h"
#include "zones/zones.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct zones *z;
static struct headend_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	config_default(&cfg);
	if (zones_load(&z, "etc/zones.csv", err, sizeof(err)) != ZONES_OK) {
		fprintf(stderr, "fuzz: %s (run from the top of the tree)\n", err);
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1), err[512];
	struct bulletin b;

	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';	/* as http.c hands it over */
	if (bulletin_parse(body, size, z, &cfg, &b, err, sizeof(err)) == 0)
		bulletin_free(&b);
	free(body);
	return 0;
}
