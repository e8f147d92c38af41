/* SPDX-License-Identifier: GPL-3.0-or-later */
/* etc/headend.cfg through libconfig: every setting with its default, checked once at start-up.
 * The programs decide what to do with an error; this file only names it. */
#ifndef CX_HEADEND_CONFIG_H
#define CX_HEADEND_CONFIG_H

#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "headend/signals.h"
#include "tts/tts.h"

#define CONFIG_STR_MAX 256

struct headend_config {
	char state_dir[PATH_MAX];	/* runtime state: queue, keys, archive */
	char zones_path[PATH_MAX];	/* loudspeaker directory CSV */

	char http_address[CONFIG_STR_MAX];	/* listen address, 127.0.0.1 by default */
	int http_port;
	size_t http_max_body;		/* bytes of a request body */
	char tls_cert[PATH_MAX];	/* PEM certificate chain; empty: plain HTTP */
	char tls_key[PATH_MAX];		/* its PEM private key */
	int session_s;			/* lifetime of a login session */
	size_t max_text;		/* bytes of bulletin text */

	struct in_addr mc_interface;	/* IPv4 address of the interface multicast leaves by */
	struct in_addr mc_base;		/* first address of the group plan, docs/addressing.md */
	int mc_port;
	int mc_ttl;
	double pace;			/* 1.0 real time; tests may send faster */
	int second_copy;		/* RTP packets again this many later; -1: once */
	int control_copies;		/* 1: START and MANIFEST again (copies.h) */

	char voice[CONFIG_STR_MAX];
	char latin_voice[CONFIG_STR_MAX];
	struct tts_config tts;		/* tts.voice and latin_voice point into the arrays above */
	char lexicon[PATH_MAX];		/* reading rules; empty: text goes to the voice as is */
	char reading_override[PATH_MAX];	/* operator's word list; empty: none */

	int repeat_forecast;		/* plays after the first, by kind */
	int repeat_nowcast;
	int repeat_gap_ms;		/* silence between plays */
	int lead_ms;			/* silence first, for amplifiers to wake */
	int expire[4];			/* by proto_kind: seconds a bulletin may wait to play */
	enum config_preempted { CONFIG_RESUME, CONFIG_RESTART, CONFIG_DROP } preempted;
					/* a forecast a warning interrupts, in its villages */

	char signals_path[PATH_MAX];	/* warning signals and their presentation */
	struct signals signals;		/* loaded from signals_path by config_load */
	char schedule_path[PATH_MAX];	/* daily slots, read by the daemon */

	char web_root[PATH_MAX];	/* the console's static files, served at / */
	char templates_path[PATH_MAX];	/* the console's bulletin templates */
	char cap_schema[PATH_MAX];	/* the OASIS CAP 1.2 XML schema */
	char cap_map[PATH_MAX];		/* CAP event, severity and area to warning and targets */
	int archive_days;		/* days broadcasts are kept in the archive; 0: for ever */
	int archive_bitrate;		/* Opus bit rate of archived recordings */

	char live_device[CONFIG_STR_MAX];	/* ALSA capture device of live announcements */
	enum proto_colour live_outranks;	/* the highest warning colour live preempts */
	int live_max_s;			/* a live announcement ends by itself after this long */
	int live_buffer;		/* frames held before sending: their MANIFEST goes first */
	int live_alsa_ms;		/* ALSA capture buffer */
	char monitor_device[CONFIG_STR_MAX];	/* ALSA playback device of the local monitor */
	char monitor_zone[CONFIG_STR_MAX];	/* what it plays from start-up; "": off */

	struct in_addr report_address;	/* endpoints' status reports arrive here (UDP) */
	int report_port;
	int report_period_s;		/* endpoints report this often */
	int report_missed;		/* reports missed before an endpoint is offline */
	double report_alarm;		/* village share able to play below which it alarms */
	int report_tolerance_ms;	/* how far a report's sent_ms may be from our clock */
};

/* Load path into c, starting from the defaults. Returns 0, or -1 with err naming the file, line
 * and setting at fault. Relative paths in the file stay relative to the working directory. */
__attribute__((warn_unused_result))
int config_load(struct headend_config *c, const char *path, char *err, size_t errlen);

/* The defaults alone, as config_load starts from. */
void config_default(struct headend_config *c);

#endif
