/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The head-end daemon: loads the configuration, the directory and the schedule, starts the
 * engine, the HTTP API and the slot timer, tells systemd it is ready and feeds its watchdog,
 * then waits for SIGINT or SIGTERM. Fatal errors are possible only here, at start-up. */
#include <alsa/asoundlib.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "headend/config.h"
#include "headend/console.h"
#include "headend/engine.h"
#include "headend/http.h"
#include "headend/log.h"
#include "headend/monitor.h"
#include "headend/reports.h"
#include "headend/scheduler.h"
#include "headend/state.h"
#include "schedule/schedule.h"
#include "zones/zones.h"

/* alsa-lib writes its own complaints to stderr, unformatted and as often as they happen (a
 * failing monitor device: dozens a second). Into our log they go, at most one every 10 s,
 * with a count of those left out. */
static void alsa_message(const char *file, int line, const char *function, int err,
			 const char *fmt, ...)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t last;
	static unsigned long held;
	char what[256];
	va_list ap;
	time_t now = time(NULL);

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lock);
	if (last && now - last < 10) {
		held++;
	} else {
		log_warn("alsa-lib: %s%s%s (%s:%d %s)%s", what, err ? ": " : "",
			 err ? snd_strerror(err) : "", file, line, function,
			 held ? ", and more since the last such line" : "");
		last = now;
		held = 0;
	}
	pthread_mutex_unlock(&lock);
}

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

/* Wait for a stop signal; meanwhile, under systemd's watchdog, tell it every half period that
 * the pacer and the slot timer are still going round. */
static int wait_for_signal(struct engine *e, struct scheduler *s)
{
	struct timespec every = { .tv_sec = 3600 };
	uint64_t usec = 0;
	sigset_t set;
	int sig, stuck = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sd_watchdog_enabled(0, &usec) > 0) {
		every.tv_sec = (time_t)(usec / 2000000);
		every.tv_nsec = (long)(usec / 2 % 1000000) * 1000;
	}
	while ((sig = sigtimedwait(&set, NULL, &every)) < 0) {
		if (errno != EAGAIN || !usec)
			continue;
		if (engine_alive(e, 30) && scheduler_alive(s)) {
			sd_notify(0, "WATCHDOG=1");
			stuck = 0;
		} else if (!stuck++) {
			log_error("headend: the pacer or the slot timer is stuck; the watchdog is "
				  "no longer fed");
		}
	}
	return sig;
}

int main(int argc, char **argv)
{
	const char *path = parse_args(argc, argv);
	struct headend_config cfg;
	struct zones *z = NULL;
	struct engine *e = NULL;
	struct http *h = NULL;
	struct schedule *sch = malloc(sizeof(*sch));
	struct scheduler *s = NULL;
	struct console *con = NULL;
	struct monitor *mon = NULL;
	struct reports *rep = NULL;
	char err[512], ifname[INET_ADDRSTRLEN], base[INET_ADDRSTRLEN];
	sigset_t set;
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	snd_lib_error_set_handler(alsa_message);
	if (!sch || config_load(&cfg, path, err, sizeof(err)) ||
	    state_open(cfg.state_dir, err, sizeof(err)) ||
	    state_lock(cfg.state_dir, err, sizeof(err)) ||
	    schedule_load(sch, cfg.schedule_path, err, sizeof(err)) ||
	    zones_load(&z, cfg.zones_path, err, sizeof(err)) != ZONES_OK ||
	    scheduler_check(sch, z, &cfg, err, sizeof(err)) ||
	    reports_open(&rep, &cfg, z, err, sizeof(err))) {
		log_error("%s", sch ? err : "out of memory");
		goto out;
	}
	/* Block the stop signals before the first thread starts so that only sigwait sees them;
	 * until here they stop a start-up stuck on a slow file at once. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (engine_open(&e, &cfg, z, err, sizeof(err)) ||
	    http_open(&h, &cfg, z, e, err, sizeof(err)) ||
	    scheduler_open(&s, &cfg, sch, z, e, err, sizeof(err)) ||
	    console_open(&con, &cfg, sch, z, e, s, err, sizeof(err)) ||
	    monitor_open(&mon, &cfg, z, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	/* Reports listen only once HTTP does: a second head-end on the same ports is refused
	 * by the HTTP port first, with the message operators know. */
	if (reports_start(rep, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	engine_on_air(e, reports_on_air, rep);
	http_set_scheduler(h, s);
	http_set_console(h, con);
	http_set_monitor(h, mon);
	http_set_reports(h, rep);
	inet_ntop(AF_INET, &cfg.mc_interface, ifname, sizeof(ifname));
	inet_ntop(AF_INET, &cfg.mc_base, base, sizeof(base));
	log_info("headend: listening on http%s://%s:%d; multicast on interface %s, port %d, "
		 "groups from %s; %zu endpoints in %zu towns, %zu villages",
		 cfg.tls_cert[0] ? "s" : "", cfg.http_address, cfg.http_port, ifname, cfg.mc_port,
		 base, z->n_endpoints, z->n_towns, z->n_villages);
	log_info("headend: %zu daily slots in %s, %s", sch->n_slots, sch->zone, sch->timer ?
		 "played by the head-end's timer" : "played when asked (cron mode)");
	sd_notifyf(0, "READY=1\nSTATUS=listening on http://%s:%d", cfg.http_address,
		   cfg.http_port);
	log_info("headend: stopping on signal %d", wait_for_signal(e, s));
	sd_notify(0, "STOPPING=1");
	rc = 0;
out:
	http_close(h);
	engine_live_shutdown(e, 2000);
	monitor_close(mon);
	console_close(con);
	scheduler_close(s);
	engine_close(e);
	reports_close(rep);
	zones_free(z);
	free(sch);
	curl_global_cleanup();
	return rc;
}
