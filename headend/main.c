/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The head-end daemon: loads the configuration and the directory, starts the engine and the HTTP
 * API, then waits for SIGINT or SIGTERM. Fatal errors are possible only here, at start-up. */
#include <arpa/inet.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headend/config.h"
#include "headend/engine.h"
#include "headend/http.h"
#include "headend/log.h"
#include "headend/state.h"
#include "zones/zones.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: headend [--config FILE]\n"
		"  --config FILE  settings (default etc/headend.cfg)\n");
}

static const char *parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = "etc/headend.cfg";
	int c;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c') {
			config = optarg;
		} else {
			usage(c == 'h' ? stdout : stderr);
			exit(c == 'h' ? 0 : 64);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(64);
	}
	return config;
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigwait(&set, &sig);
	return sig;
}

int main(int argc, char **argv)
{
	const char *path = parse_args(argc, argv);
	struct headend_config cfg;
	struct zones *z = NULL;
	struct engine *e = NULL;
	struct http *h = NULL;
	char err[512], ifname[INET_ADDRSTRLEN], base[INET_ADDRSTRLEN];
	sigset_t set;
	int rc = 1;

	/* Block the stop signals before any thread starts so that only sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (config_load(&cfg, path, err, sizeof(err)) || state_open(cfg.state_dir, err,
								  sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	if (zones_load(&z, cfg.zones_path, err, sizeof(err)) != ZONES_OK) {
		log_error("%s", err);
		return 1;
	}
	if (engine_open(&e, &cfg, z, err, sizeof(err)) ||
	    http_open(&h, &cfg, z, e, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	inet_ntop(AF_INET, &cfg.mc_interface, ifname, sizeof(ifname));
	inet_ntop(AF_INET, &cfg.mc_base, base, sizeof(base));
	log_info("headend: listening on http://%s:%d; multicast on interface %s, port %d, "
		 "groups from %s; %zu endpoints in %zu towns, %zu villages", cfg.http_address,
		 cfg.http_port, ifname, cfg.mc_port, base, z->n_endpoints, z->n_towns,
		 z->n_villages);
	log_info("headend: stopping on signal %d", wait_for_signal());
	rc = 0;
out:
	http_close(h);
	engine_close(e);
	zones_free(z);
	return rc;
}
