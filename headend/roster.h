/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the head-end knows of every loudspeaker from its status reports (回传): the state word of
 * each endpoint, which villages have too few endpoints able to play, and how many of the
 * endpoints a broadcast was aimed at reported playing it. Pure bookkeeping: no sockets, no
 * clock, no log. Times come in as milliseconds on a monotonic clock and what changed comes out
 * through roster_sweep, so unit tests drive every rule directly. headend/reports.c gives it
 * datagrams, time and a log. */
#ifndef CX_HEADEND_ROSTER_H
#define CX_HEADEND_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "proto/report.h"
#include "zones/zones.h"

#define ROSTER_RING 64		/* broadcasts whose played count is kept */
#define ROSTER_SETTLE_MS 3000	/* after a broadcast's end and one report period: count it */

/* The state words of GET /v1/endpoints: the report's own state (1..5, as proto_state), or
 * offline when nothing was accepted for missed × period (never heard included). */
enum roster_state {
	ROSTER_OFFLINE = 0,
	ROSTER_NORMAL = PROTO_STATE_NORMAL,
	ROSTER_OFF = PROTO_STATE_OFF,
	ROSTER_FAULT = PROTO_STATE_FAULT,
	ROSTER_RECOVERED = PROTO_STATE_RECOVERED,
	ROSTER_BROADCASTING = PROTO_STATE_BROADCASTING,
	ROSTER_STATES
};

struct roster_endpoint {
	struct proto_report_peer peer;	/* its key and the newest (boot, seq) */
	struct proto_report last;	/* the newest accepted report; seq 0: none yet */
	uint64_t heard_ms;		/* when it was accepted, monotonic */
	uint64_t wall_ms;		/* the same moment on the wall clock, for people */
	unsigned char shown;		/* the state roster_sweep last reported */
	unsigned char seen;		/* roster_sweep has reported it other than offline */
};

#define ROSTER_TARGETED 1
#define ROSTER_PLAYED 2

struct roster_broadcast {
	uint32_t id;			/* 0: slot unused */
	uint64_t ended_ms;		/* 0 while on air */
	int counted;			/* roster_sweep has reported its count */
	size_t targeted, played;
	unsigned char *marks;		/* per endpoint: ROSTER_TARGETED, ROSTER_PLAYED */
};

struct roster {
	const struct zones *z;
	uint64_t period_ms;		/* endpoints report this often */
	unsigned missed;		/* reports missed before offline */
	double alarm;			/* village share able to play below which it alarms */
	uint64_t tolerance_ms;		/* clock window of sent_ms */
	uint64_t quiet_until_ms;	/* no village alarm before: endpoints are still starting */
	struct roster_endpoint *ep;	/* one per endpoint of the directory, in its order */
	unsigned char *alarmed;		/* per village: below the threshold, said so */
	unsigned long rejected[PROTO_REJECT_COUNT];	/* by reason, since the start */
	struct roster_broadcast ring[ROSTER_RING];
	size_t next;			/* ring slot the next broadcast takes */
};

/* period_s, missed, alarm and tolerance_ms as the config has them; now_ms: the head-end's
 * start. Returns 0, or -1 out of memory. */
__attribute__((warn_unused_result))
int roster_init(struct roster *r, const struct zones *z, unsigned period_s, unsigned missed,
		double alarm, uint64_t tolerance_ms, uint64_t now_ms);
void roster_free(struct roster *r);

/* Endpoint i signs with pk from now on; the (boot, seq) order starts afresh with the new key. */
void roster_set_key(struct roster *r, uint32_t i, const unsigned char pk[PROTO_PUBLIC_KEY]);

/* Check one datagram (proto_report_check) and, if accepted, take it in: the endpoint's state,
 * and the broadcasts it names. wall_ms is the clock the report's sent_ms is checked against,
 * now_ms the monotonic one. Returns the verdict; *index is the endpoint the datagram names
 * (-1 if none of the directory); rejections are counted. */
enum proto_reject roster_receive(struct roster *r, const unsigned char *buf, size_t len,
				 uint64_t wall_ms, uint64_t now_ms, long *index);

/* The state word of endpoint i at now_ms. */
enum roster_state roster_state(const struct roster *r, uint32_t i, uint64_t now_ms);

/* "offline", "normal", "off", "fault", "recovered", "broadcasting". */
const char *roster_state_name(enum roster_state s);

/* Normal, recovered or broadcasting: reporting, and nothing said it cannot play. */
int roster_able(enum roster_state s);

/* Endpoints of village v able to play at now_ms. */
size_t roster_village_able(const struct roster *r, uint32_t v, uint64_t now_ms);

/* A broadcast went on air aimed at these codes: the endpoints they cover are its targeted
 * ones. Returns 0, or -1 out of memory (it is then not counted). */
__attribute__((warn_unused_result))
int roster_on_air(struct roster *r, uint32_t id, const uint64_t *codes, size_t n_codes,
		  uint64_t now_ms);

/* The broadcast is over; its count is final one report period and ROSTER_SETTLE_MS later. */
void roster_off_air(struct roster *r, uint32_t id, uint64_t now_ms);

/* The broadcast's entry, NULL if it is not (or no longer) kept. */
const struct roster_broadcast *roster_broadcast(const struct roster *r, uint32_t id);

enum roster_event_kind {
	ROSTER_EVENT_ENDPOINT,		/* an endpoint's state word changed */
	ROSTER_EVENT_BELOW,		/* a village fell below the threshold */
	ROSTER_EVENT_BACK,		/* a village below it is at or above it again */
	ROSTER_EVENT_COUNTED,		/* a broadcast's played count is final */
};

struct roster_event {
	enum roster_event_kind kind;
	uint32_t index;			/* endpoint or village */
	enum roster_state from, to;	/* ENDPOINT */
	int first;			/* ENDPOINT: its first report since the head-end started */
	size_t count, of;		/* BELOW, BACK: able of all; COUNTED: played of targeted */
	uint32_t broadcast;		/* COUNTED */
};

typedef void (*roster_event_fn)(void *arg, const struct roster_event *ev);

/* Look at everything at now_ms and call fn once for each change since the last sweep. Villages
 * are judged only from quiet_until_ms on. */
void roster_sweep(struct roster *r, uint64_t now_ms, roster_event_fn fn, void *arg);

#endif
