/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The attacker of tests/system/reports.sh, on loopback only: it records an endpoint's genuine
 * status reports on their way to the head-end (tap), sends recorded ones again (send), and
 * makes new ones with a key that is not the endpoint's (forge). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/report.h"
#include "proto/sign.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: report_send tap LISTEN_PORT TO_PORT DIR   forward reports, keep each\n"
		"            as DIR/N.bin\n"
		"       report_send send TO_PORT FILE...          send recorded reports again\n"
		"       report_send forge TO_PORT ENDPOINT_ID SEED_FILE|random CLAIM\n"
		"            a new report for ENDPOINT_ID (state normal, a boot above any real\n"
		"            one), signed with SEED_FILE or a random key, with the key id of\n"
		"            CLAIM: a public key in 64 hex digits, or \"own\" for the signing\n"
		"            key's\n"
		"Everything goes to and from 127.0.0.1.\n");
	exit(64);
}

static int port_of(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 65535)
		usage();
	return (int)v;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int open_socket(int port)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "report_send: UDP 127.0.0.1:%d: %s\n", port, strerror(errno));
		exit(1);
	}
	return fd;
}

static int send_to(int fd, int port, const unsigned char *buf, size_t len)
{
	struct sockaddr_in to = loopback(port);

	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len) {
		fprintf(stderr, "report_send: sending to 127.0.0.1:%d: %s\n", port,
			strerror(errno));
		return 1;
	}
	return 0;
}

/* Written whole, then renamed, so the test never reads half a datagram. */
static void keep(const char *dir, unsigned long n, const unsigned char *buf, size_t len)
{
	char tmp[600], path[600];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.%lu.tmp", dir, n);
	snprintf(path, sizeof(path), "%s/%lu.bin", dir, n);
	f = fopen(tmp, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) || rename(tmp, path))
		fprintf(stderr, "report_send: %s: %s\n", path, strerror(errno));
}

static int tap(int listen_port, int to_port, const char *dir)
{
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned char buf[2048];
	unsigned long n = 0;
	int in = open_socket(listen_port), out = open_socket(0);

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stopping) {
		ssize_t len = recv(in, buf, sizeof(buf), 0);

		if (len < 0)
			continue;
		keep(dir, ++n, buf, (size_t)len);
		send_to(out, to_port, buf, (size_t)len);
	}
	return 0;
}

static int resend(int to_port, int argc, char **argv)
{
	unsigned char buf[2048];
	int fd = open_socket(0), rc = 0;

	for (int i = 0; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;

		if (!f || !len) {
			fprintf(stderr, "report_send: %s: %s\n", argv[i], f ? "empty" :
				strerror(errno));
			rc = 1;
		} else {
			rc |= send_to(fd, to_port, buf, len);
		}
		if (f)
			fclose(f);
	}
	return rc;
}

static int forge(int to_port, const char *id, const char *seed_file, const char *claim)
{
	unsigned char sk[PROTO_SECRET_KEY], pk[PROTO_PUBLIC_KEY], buf[PROTO_REPORT_MAX];
	struct proto_report r = { .state = PROTO_STATE_NORMAL, .seq = 1 };
	struct timespec now;
	char err[512];
	size_t n, got = 0;

	if (strlen(id) != 15 || strspn(id, "0123456789") != 15)
		usage();
	if (!strcmp(seed_file, "random"))
		crypto_sign_keypair(pk, sk);
	else if (proto_seed_load(seed_file, sk, err, sizeof(err))) {
		fprintf(stderr, "report_send: %s\n", err);
		return 1;
	}
	if (!strcmp(claim, "own"))
		memcpy(pk, sk + PROTO_SEED, sizeof(pk));
	else if (sodium_hex2bin(pk, sizeof(pk), claim, strlen(claim), NULL, &got, NULL) ||
		 got != sizeof(pk))
		usage();
	clock_gettime(CLOCK_REALTIME, &now);
	r.endpoint = strtoull(id, NULL, 10);
	r.key_id = proto_key_id(pk);
	r.boot = (uint64_t)now.tv_sec * 2000u;	/* newer than any start of the real one */
	r.sent_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
	snprintf(r.version, sizeof(r.version), "forged");
	n = proto_report_pack(&r, buf, sizeof(buf));
	proto_sign(buf, n, sk);
	sodium_memzero(sk, sizeof(sk));
	return send_to(open_socket(0), to_port, buf, n);
}

int main(int argc, char **argv)
{
	if (proto_crypto_init())
		return 1;
	if (argc == 5 && !strcmp(argv[1], "tap"))
		return tap(port_of(argv[2]), port_of(argv[3]), argv[4]);
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return resend(port_of(argv[2]), argc - 3, argv + 3);
	if (argc == 6 && !strcmp(argv[1], "forge"))
		return forge(port_of(argv[2]), argv[3], argv[4], argv[5]);
	usage();
	return 64;
}
