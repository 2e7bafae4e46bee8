/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The serving side of one PPSPP channel (RFC 7574 §3, §5): the handshake checked and
 * answered, REQUESTs queued and answered with peaks, uncles and DATA from a packed store,
 * CANCEL, and ACK/HAVE kept so that uncles the peer already knows are not sent again.
 *
 * Per channel, no DPDK, no allocation, no clock: the data plane's workers and superpeer fetch
 * (seeding) drive it the same way: seeder_input() for each datagram that arrives on the
 * channel, seeder_output() until it returns 0 to fill the next datagrams to send. A channel
 * is 784 bytes on x86-64 (docs/serving.md).
 *
 * Integrity (§5.3-5.6): before its first DATA the peer gets INTEGRITY for every peak (which
 * it checks against the swarm ID); each DATA is preceded by the uncles from the chunk up to
 * its peak, minus those the peer can already compute: a node is known when a chunk under its
 * parent is acknowledged, or was sent on this channel since the peer last re-requested
 * something. INTEGRITY and DATA share a datagram when they fit; otherwise the INTEGRITY goes
 * in a datagram of its own just before.
 */
#ifndef SUPERPEER_PPSPP_SEEDER_H
#define SUPERPEER_PPSPP_SEEDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chunk_store.h"
#include "ledbat.h"
#include "ppspp_codec.h"

/* Why a datagram (or part of it) was refused: (enum, short name for telemetry, text). */
#define SEEDER_REASONS(_)                                                                          \
	_(OK, "ok", "ok")                                                                          \
	_(MALFORMED, "malformed", "malformed datagram (codec)")                                    \
	_(NO_HANDSHAKE, "no_handshake", "datagram on a channel that has not shaken hands")         \
	_(BAD_CHANNEL, "bad_channel", "destination channel is not ours")                           \
	_(WRONG_SWARM, "wrong_swarm", "handshake for another swarm (or none)")                     \
	_(BAD_VERSION, "bad_version", "handshake without version 1 in its range")                  \
	_(BAD_CIPM, "bad_cipm", "content integrity method other than Merkle")                      \
	_(BAD_HASH, "bad_hash", "Merkle hash function differs from the swarm's")                   \
	_(BAD_CHUNK_SIZE, "bad_chunk_size", "chunk size differs from the swarm's")                 \
	_(OUT_OF_RANGE, "out_of_range", "request or cancel past the last chunk")                   \
	_(TOO_MANY_REQUESTS, "too_many_requests", "request queue full")                            \
	_(CHOKED, "choked", "request while we choke the peer")                                     \
	_(CLOSED, "closed", "peer closed the channel")

enum seeder_reason {
#define SEEDER_REASON_ENUM(e, name, text) SEEDER_R_##e,
	SEEDER_REASONS(SEEDER_REASON_ENUM)
#undef SEEDER_REASON_ENUM
		SEEDER_R_COUNT,
};

/* The reason's text, for messages and summaries. */
const char *seeder_reason_name(enum seeder_reason r);
/* Its short name, a telemetry key: "out_of_range". */
const char *seeder_reason_key(enum seeder_reason r);

enum {
	SEEDER_REQ_MAX = 8,	/* queued request ranges */
	SEEDER_KNOWN_MAX = 4,	/* chunk ranges per "known" list */
	SEEDER_MSGS_MAX = 64,	/* messages decoded per incoming datagram */
	SEEDER_HAVE_BATCH = 64, /* new chunks of an ingesting store announced together */
};

enum seeder_state {
	SEEDER_ST_IDLE = 0,  /* waiting for the peer's handshake */
	SEEDER_ST_REPLY_DUE, /* handshake accepted, ours not sent yet */
	SEEDER_ST_OPEN,
	SEEDER_ST_CLOSED,
};

struct seeder_ranges {
	struct ppspp_range r[SEEDER_KNOWN_MAX];
	uint8_t n;
};

struct seeder_channel {
	const struct chunk_store *store;
	uint32_t local_id;  /* ours: the destination the peer writes */
	uint32_t peer_id;   /* the peer's: the destination we write */
	uint8_t state;	    /* enum seeder_state */
	uint8_t peaks_next; /* peaks already sent, left to right; all sent = store->n_peaks */
	/* The INTEGRITY for chunk integrity_for went out alone; its DATA follows bare. */
	bool integrity_ahead;
	uint64_t integrity_for;
	struct ppspp_ctx ctx; /* agreed with the peer's handshake */
	struct ppspp_range req[SEEDER_REQ_MAX];
	uint8_t n_req;
	struct seeder_ranges acked;	/* chunks the peer acknowledged (ACK) or announced (HAVE) */
	struct seeder_ranges sent;	/* chunks whose DATA we sent since the last re-request */
	struct seeder_ranges requested; /* every range asked for so far (merged) */
	struct seeder_ranges resent;	/* asked for again: never counted as known by sending */
	uint64_t chunks_sent;
	uint64_t bytes_sent;
	uint64_t refused[SEEDER_R_COUNT];
	struct ledbat cc; /* off unless seeder_congestion() turned it on */
	uint64_t now_us;  /* the caller's clock, from seeder_clock() or seeder_output() */
	uint64_t cc_held; /* seeder_output calls that held DATA back for the window */
	/* Chunks from the first announced to the peer with HAVE (all of a whole store at the
	 * handshake; an ingesting store's as they arrive, docs/dataplane.md). */
	uint64_t have_sent;
	/* The last seeder_output had nothing to send only because the store does not hold
	 * the chunks yet: call it again once chunk_store_avail() has grown. */
	bool starved;
	bool have_due;	  /* say again all that is in (the peer may have lost a HAVE) */
	bool partial;	  /* opened while the store was still arriving: HAVEs matter */
	bool choked;	  /* we choke the peer: its REQUESTs are refused */
	bool choke_due;	  /* CHOKE or UNCHOKE (per choked) still to send */
	/*
	 * The DATA of the datagram seeder_output returned last: chunk data_chunk, whose
	 * data_len bytes at data (in the store) are the datagram's last; data_len 0 when it
	 * held no DATA. With data_by_caller set, seeder_output leaves those bytes unwritten
	 * for the caller to fill: copied, or encrypted straight from the store into place.
	 */
	bool data_by_caller;
	uint32_t data_len;
	uint64_t data_chunk;
	const uint8_t *data;
};

/* A channel for store, answering to local_id (non-zero, chosen by the caller). */
void seeder_channel_init(
	struct seeder_channel *ch, const struct chunk_store *store, uint32_t local_id);

/*
 * One datagram that arrived for this channel (its destination is local_id, or 0 with a
 * handshake for a new channel). Returns SEEDER_R_OK or the reason it was refused, which is
 * also counted in ch->refused. A refused datagram changes nothing, except that a REQUEST
 * past the end is refused alone (the rest of the datagram is acted on).
 */
enum seeder_reason seeder_input(struct seeder_channel *ch, const uint8_t *dgram, size_t len);

/*
 * Choke (RFC 7574 8.10): the peer is told (CHOKE, in the next datagram sent) that its
 * requests will not be served; queued requests are dropped and new ones refused (CHOKED)
 * until seeder_choke(ch, false) sends UNCHOKE. For load shedding by the caller.
 */
void seeder_choke(struct seeder_channel *ch, bool choke);

/* LEDBAT on the DATA this channel sends (docs/serving.md); off after seeder_channel_init. */
void seeder_congestion(struct seeder_channel *ch, bool on);

/* Something to send now: requests queued, or HAVE owed (for a caller pausing output). */
static inline bool seeder_output_due(const struct seeder_channel *ch)
{
	return ch->n_req > 0 || ch->have_due ||
	       (ch->have_sent < ch->store->tree.n_chunks &&
		       chunk_store_avail(ch->store) > ch->have_sent);
}

/* The caller's clock (us) for what seeder_input does next (ACK delay bookkeeping). */
static inline void seeder_clock(struct seeder_channel *ch, uint64_t now_us)
{
	ch->now_us = now_us;
}

/*
 * The swarm ID in the handshake that opens a channel (destination channel 0), for a caller
 * serving several swarms to pick the store before seeder_channel_init. Its length (*id points
 * into dgram), or 0 when dgram is not such a handshake.
 */
size_t seeder_handshake_swarm(const uint8_t *dgram, size_t len, const uint8_t **id);

/*
 * Writes the next datagram to send into buf[0..cap) and returns its length; 0 when nothing is
 * due; -ENOSPC when cap cannot hold even one chunk with its header (a configuration error).
 * A store still being ingested (chunk_store_avail() below its chunk count) is served as far
 * as it goes: HAVE announces the chunks as they arrive (one datagram per 64, or at once
 * when the peer waits for them; each one from chunk 0, and said again after the peer sent
 * something while asking for nothing, so a lost HAVE costs no more than a keep-alive), a
 * requested chunk not in yet waits in the queue (the first range that has one is served),
 * and ch->starved says that only new chunks can make the channel send again.
 */
int seeder_output(struct seeder_channel *ch, uint8_t *buf, size_t cap, uint64_t now_us);

#endif
