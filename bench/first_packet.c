/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Time from sending POST /v1/bulletins to the first RTP packet of that bulletin at a receiver
 * joined to the target's group on loopback; prints p50, p99 and max over N uploads. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int join(const char *group, int port)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct ip_mreq m;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, zero = 0;

	inet_pton(AF_INET, group, &m.imr_multiaddr);
	inet_pton(AF_INET, "127.0.0.1", &m.imr_interface);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any)) ||
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m))) {
		perror("receiver socket");
		exit(1);
	}
	return fd;
}

struct answer {
	char text[512];
	size_t len;
};

static size_t keep(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t room = sizeof(a->text) - 1 - a->len, take = size * n < room ? size * n : room;

	memcpy(a->text + a->len, p, take);
	a->len += take;
	a->text[a->len] = '\0';
	return size * n;
}

/* The receiver is joined before the POST goes out, so packets that arrive while curl waits
 * for the answer queue in the socket buffer with their kernel arrival order intact. */
static long post(CURL *curl, const char *url, const char *body)
{
	struct answer a = { .len = 0 };
	json_t *o;
	long id = -1;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, (void *)&a);
	if (curl_easy_perform(curl) != CURLE_OK)
		return -1;
	o = json_loads(a.text, 0, NULL);
	if (json_is_integer(json_object_get(o, "id")))
		id = (long)json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	return id;
}

/* Read packets until the END of broadcast id; returns the arrival time of its first RTP. */
static double first_rtp(int fd, long id, double deadline)
{
	unsigned char buf[1600];
	double first = -1;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (now_ms() < deadline && poll(&p, 1, 100) >= 0) {
		struct timespec ts;
		struct proto_rtp r;
		struct proto_control c;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (proto_rtp_parse(buf, (size_t)n, &r) == PROTO_OK && r.ssrc == id && first < 0)
			first = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
		if (proto_control_parse(buf, (size_t)n, &c) == PROTO_OK && c.type == PROTO_END &&
		    c.broadcast == id)
			return first;
	}
	return first;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *server = argc > 1 ? argv[1] : "http://127.0.0.1:18090";
	int port = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 15090;
	int n = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 100;
	const char *body = "{\"text\": \"高明区气象台测试广播。\", \"kind\": \"nowcast\", "
			   "\"targets\": [\"杨和镇\"], \"repeat\": 0}";
	int fd = join("239.192.202.0", port);	/* 杨和镇, 440608101: base + 101 * 512 */
	double *lat = calloc((size_t)n, sizeof(*lat));
	char url[256];
	CURL *curl = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char bearer[160];
	int got = 0;

	/* The API takes uploads only with the operator's token (bench/run.sh exports it). */
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s",
		 getenv("HEADEND_TOKEN") ? getenv("HEADEND_TOKEN") : "");
	h = curl_slist_append(h, bearer);

	snprintf(url, sizeof(url), "%s/v1/bulletins", server);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	for (int i = 0; i < n; i++) {
		double t0 = now_ms(), t1;
		long id = post(curl, url, body);

		if (id < 0 || (t1 = first_rtp(fd, id, t0 + 10000)) < 0) {
			fprintf(stderr, "upload %d: no packet\n", i);
			continue;
		}
		lat[got++] = t1 - t0;
	}
	qsort(lat, (size_t)got, sizeof(*lat), cmp);
	if (got)
		printf("POST to first RTP packet over %d uploads: p50 %.2f ms, p99 %.2f ms, "
		       "max %.2f ms\n", got, lat[got / 2], lat[(got * 99) / 100 - (got >= 100)],
		       lat[got - 1]);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	free(lat);
	close(fd);
	return got == n ? 0 : 1;
}
