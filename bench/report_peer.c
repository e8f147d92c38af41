/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The least a head-end must do with a status report, as the peer the head-end's receiving
 * cost is compared with (bench/reports.sh): receive the datagram, find the sender's public key
 * by the endpoint code in it, check the Ed25519 signature. No state, no replay or clock check,
 * no logging. It gets a copy of the very reports the head-end gets (tools/fleet sends both),
 * and its CPU is read from /proc over the same window.
 * Usage: bench_report_peer ADDR PORT KEY_DIR     (prints one line at SIGTERM) */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/report.h"

struct peer {
	uint64_t id;
	unsigned char pk[PROTO_PUBLIC_KEY];
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int by_id(const void *a, const void *b)
{
	uint64_t x = ((const struct peer *)a)->id, y = ((const struct peer *)b)->id;

	return x < y ? -1 : x > y;
}

/* Every ID.key of dir, as the public keys they give, sorted by id. */
static struct peer *load_keys(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct peer *p = NULL;
	size_t cap = 0;
	struct dirent *de;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		unsigned char sk[PROTO_SECRET_KEY];
		char path[4096], err[512], *end;
		unsigned long long id = strtoull(de->d_name, &end, 10);

		if (strcmp(end, ".key") || id == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (proto_seed_load(path, sk, err, sizeof(err))) {
			fprintf(stderr, "peer: %s\n", err);
			continue;
		}
		if (*n == cap) {
			struct peer *q = realloc(p, (cap = cap ? 2 * cap : 4096) * sizeof(*p));

			if (!q)
				break;
			p = q;
		}
		p[*n].id = id;
		memcpy(p[(*n)++].pk, sk + PROTO_SEED, PROTO_PUBLIC_KEY);
		sodium_memzero(sk, sizeof(sk));
	}
	closedir(d);
	qsort(p, *n, sizeof(*p), by_id);
	return p;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sockaddr_in a = { .sin_family = AF_INET };
	unsigned long received = 0, verified = 0, bad = 0;
	unsigned char buf[PROTO_REPORT_MAX + 1];
	struct peer *keys;
	size_t n_keys;
	int fd, rcvbuf = 4 << 20;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
		fprintf(stderr, "usage: bench_report_peer ADDR PORT KEY_DIR\n");
		return 64;
	}
	a.sin_port = htons((uint16_t)strtoul(argv[2], NULL, 10));
	if (sodium_init() < 0)
		return 1;
	keys = load_keys(argv[3], &n_keys);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!n_keys || fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "peer: %zu keys in %s; %s\n", n_keys, argv[3], strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("peer: ready, %zu keys\n", n_keys);
	fflush(stdout);
	while (!stopping) {
		ssize_t len = recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL);
		struct peer want, *p;

		if (len < 0)
			continue;
		received++;
		if (len < PROTO_REPORT_BODY + PROTO_SIGNATURE ||
		    !proto_is_report(buf, (size_t)len)) {
			bad++;
			continue;
		}
		want.id = 0;
		for (int i = 4; i < 12; i++)
			want.id = want.id << 8 | buf[i];
		p = bsearch(&want, keys, n_keys, sizeof(*keys), by_id);
		if (p && !crypto_sign_verify_detached(buf + len - PROTO_SIGNATURE, buf,
						      (size_t)len - PROTO_SIGNATURE, p->pk))
			verified++;
		else
			bad++;
	}
	printf("peer: received=%lu verified=%lu bad=%lu\n", received, verified, bad);
	free(keys);
	close(fd);
	return 0;
}
