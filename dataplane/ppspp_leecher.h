/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receiving side of one PPSPP channel (RFC 7574): handshake, REQUESTs kept within a
 * window, INTEGRITY collected, every DATA verified against the swarm ID before it is handed
 * on, ACK for each verified chunk. The only trust is the swarm ID and content length from a
 * signed manifest: peaks are checked against the root, each chunk against its uncles. Only
 * chunks the seeder announced with HAVE are asked for (RFC 7574 3.2), so a seeder that is
 * itself still receiving the content (the data plane serving an ingest) is followed. A chunk
 * that fails verification (or comes without the uncles to check it when asked again) is not
 * asked again of the seeder that sent it while another source can serve it; when none can,
 * it is asked again on a per-channel exponential backoff (ppspp_leecher_retry), so a one-off
 * corruption costs a second and a forger a few requests.
 *
 * A chunk lost on the way is asked again as soon as chunks asked after it arrive: seeders
 * answer REQUESTs in order, so once a chunk LEECHER_REORDER places later in this channel's
 * request order has arrived (or a chunk arrives without the uncles a lost datagram carried),
 * the ones before it still in flight are taken as lost (RFC 6675's reordering threshold, in
 * chunks). The caller's timeout (ppspp_leecher_timeout) is left for a seeder that goes
 * silent; without this a hole would stay open until the whole transfer stalled at its end,
 * and a caller serving the chunks held from the first (the data plane's ingest) would serve
 * nothing past it meanwhile.
 *
 * With several sources, a chunk is asked of one at a time, except in the end game: once the
 * chunks not held number at most the request window and a channel has nothing else to ask,
 * it asks for those in flight on another channel too (lowest first, within its window), so
 * the last chunks do not wait on a slow source that never times out. Whichever copy comes
 * first is delivered; it leaves every channel's window and the others send CANCEL for it
 * with their next REQUESTs. A copy that still comes later is UNWANTED and dropped, but ACKed
 * (the seeder's congestion window counts it in flight until then).
 *
 * No DPDK, no sockets, no clock: superpeer fetch drives it over kernel UDP, and the data
 * plane's ingest will drive it per peer. Memory: the Merkle verifier's node array (hash
 * length per bin: 64 MiB per GiB of content at 1 KiB chunks, SHA-256) plus two bitmaps.
 */
#ifndef SUPERPEER_PPSPP_LEECHER_H
#define SUPERPEER_PPSPP_LEECHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "ppspp_codec.h"

/* What happened to a datagram from the seeder: (enum, name). */
#define LEECHER_REASONS(_)                                                                         \
	_(OK, "ok")                                                                                \
	_(MALFORMED, "malformed datagram (codec)")                                                 \
	_(BAD_CHANNEL, "destination channel is not ours")                                          \
	_(BAD_HANDSHAKE, "seeder handshake for another swarm, hash or chunk size")                 \
	_(BAD_PEAKS, "peak hashes do not lead to the swarm ID")                                    \
	_(BAD_CHUNK, "chunk does not verify against the swarm ID")                                 \
	_(MISSING_UNCLES, "chunk arrived without the uncles to verify it")                         \
	_(UNWANTED, "DATA for a chunk already held or past the end")                               \
	_(CLOSED, "seeder closed the channel")

enum leecher_reason {
#define LEECHER_REASON_ENUM(e, text) LEECHER_R_##e,
	LEECHER_REASONS(LEECHER_REASON_ENUM)
#undef LEECHER_REASON_ENUM
	LEECHER_R_COUNT,
};

const char *leecher_reason_name(enum leecher_reason r);

enum {
	LEECHER_STASH = 256, /* recent INTEGRITY entries kept until their DATA arrives */
	LEECHER_MSGS_MAX = 64,
	LEECHER_BURST_MAX = 64,	     /* DATA messages verified per burst call */
	LEECHER_CHANNELS_MAX = 4,    /* sources of one swarm */
	LEECHER_RETRY_SHIFT_MAX = 6, /* refusals forgiven after 1 s, 2 s, ... at most 64 s */
	LEECHER_REQ_LOG = 128,	     /* request ranges remembered per channel, in order */
	LEECHER_REORDER = 3,	     /* chunks asked later that arrive before one is lost */
};

/* A range of one channel's requests still (partly) in flight; pos: the place of start in
 * the channel's request order (chunks asked of it before start). */
struct leecher_req {
	uint64_t start, end, pos;
};

/* One received datagram of a burst; reason is set by the call. */
struct leecher_rx {
	const uint8_t *buf;
	size_t len;
	enum leecher_reason reason;
};

struct leecher_stash_entry {
	uint64_t bin;
	uint8_t hash[HASH_MAX_LEN];
};

struct ppspp_leecher {
	struct merkle_verifier v;
	struct crypto_engine *e;
	struct ppspp_ctx ctx;
	uint8_t swarm_id[HASH_MAX_LEN];
	uint32_t local_id;
	uint32_t peer_id; /* 0 until the seeder's handshake */
	uint8_t cam;	  /* the chunk addressing we announce */
	bool peaks_ok;
	bool closed;
	uint64_t *have;	    /* bitmap: verified chunks (the swarm's, shared by its channels) */
	uint64_t *asked;    /* bitmap: in flight on any channel of the swarm (shared) */
	uint64_t *inflight; /* bitmap: requested on this channel, not arrived */
	uint64_t *peer_has; /* bitmap: chunks the seeder announced (HAVE); only those are asked */
	/* With several channels: chunks that timed out here, left to the others until this
	 * channel delivers again or another one times out on them too. */
	uint64_t *avoid;
	uint64_t n_avoid;
	/* Chunks whose copy from this seeder failed verification, or came without the uncles
	 * to check it twice in a row: not asked of it again, and masked out of its HAVE set
	 * whatever it announces later, until forgiven (ppspp_leecher_forgive, on the caller's
	 * backoff: ppspp_leecher_retry). */
	uint64_t *refused;
	uint64_t n_refused; /* bits set in refused */
	uint64_t refusals;  /* copies refused, in all (bad, or without uncles again) */
	uint64_t uncles_refused; /* of them: without their uncles again */
	uint64_t forgiven;  /* refused chunks made askable again, in all */
	/* ppspp_leecher_retry's backoff, in the caller's clock. */
	uint64_t retry_bad;	 /* refusals at its last look */
	uint64_t retry_at;	 /* armed: forgive no sooner than this */
	uint64_t retry_last_bad; /* when it last saw a new bad chunk */
	uint8_t retry_shift;	 /* the delay is 1 s << retry_shift */
	bool retry_armed;	 /* a chunk was refused since the last forgiveness */
	bool retry_forgiven;	 /* forgiven since the last bad chunk */
	bool have_seen; /* the seeder sent a HAVE (else see ppspp_leecher_peer_has_all) */
	uint64_t n_peer_has;
	uint64_t n_have;     /* the swarm's (a later channel's stays 0: read the first's) */
	uint64_t *n_have_p;  /* &first->n_have, or &n_have */
	uint64_t n_inflight; /* this channel's */
	/* End game: chunks in flight here that arrived on another channel, to be cancelled
	 * (CANCEL) with this channel's next requests; and how many chunks this channel asked
	 * while they were in flight elsewhere. */
	uint64_t *cancel;
	uint64_t n_cancel;
	uint64_t endgame_asked;
	/*
	 * Several sources for one swarm: the first channel owns the verifier, have, asked and
	 * n_have; each later one (ppspp_leecher_attach) shares them (its v is a copy of the
	 * first's struct, whose arrays are the state) and has its own in-flight and HAVE
	 * bitmaps, stash and counters. A chunk asked of one channel is not asked of another
	 * until that one times out, or in the end game; its arrival clears it on every linked
	 * channel. `asked` stays set while any channel has the chunk in flight.
	 */
	struct ppspp_leecher *first;
	struct ppspp_leecher *chans[LEECHER_CHANNELS_MAX]; /* on the first: linked, itself first */
	unsigned n_chans;
	uint64_t next_scan; /* where the request scan resumes */
	/* This channel's requests in the order asked, oldest first (reqs[req_tail % LOG] up to
	 * req_head): what arrives out of that order shows what was lost. req_pos counts the
	 * chunks ever asked here. relost: chunks asked again here after a loss or a timeout,
	 * whose late first copy says nothing of the order. lost: chunks taken as lost that way
	 * (those that came without their uncles are counted as LEECHER_R_MISSING_UNCLES). */
	struct leecher_req reqs[LEECHER_REQ_LOG];
	uint32_t req_head, req_tail;
	uint64_t req_pos;
	uint64_t *relost;
	/* Chunks whose last copy from this seeder came without the uncles to check it: the
	 * next such copy is refused (the seeder is not sending them). */
	uint64_t *bare;
	uint64_t lost;
	bool reask_due; /* chunks were given up since the last requests(): ask now */
	struct leecher_stash_entry stash[LEECHER_STASH];
	unsigned stash_next;
	uint64_t stash_added; /* entries ever stashed */
	uint64_t stash_tail;  /* stash_added before INTEGRITY that came after the last DATA */
	uint64_t counts[LEECHER_R_COUNT];
	/* The caller's clock (us) at the datagrams being input: each ACK then carries the
	 * one-way delay sample (now - the DATA's timestamp) the seeder's LEDBAT needs. 0 = none. */
	uint64_t now_us;
	bool choked; /* the seeder sent CHOKE: no requests until UNCHOKE */
};

/* Delivery of one verified chunk; data is valid only during the call. */
typedef void (*leecher_deliver_fn)(void *ctx, uint64_t chunk, const uint8_t *data, size_t len);

/* 0, -EINVAL (geometry), -ENOMEM. cam: PPSPP_CAM_CHUNK32 or PPSPP_CAM_CHUNK64. */
int ppspp_leecher_init(struct ppspp_leecher *l, struct crypto_engine *e, enum hash_alg alg,
		       uint32_t chunk_size, uint64_t content_len, const uint8_t *swarm_id,
		       uint32_t local_id, uint8_t cam);
void ppspp_leecher_fini(struct ppspp_leecher *l);
/*
 * Another source for first's swarm: l becomes a channel sharing first's verifier and have
 * state (first must be a first channel; only what never changes in it is read, so first may
 * be running on another thread). 0, -EINVAL, -ENOMEM. The caller sets l->e, and links it
 * (ppspp_leecher_link, on the thread that runs the channels: it writes first's channel
 * list) before it runs, so that a chunk arriving on another channel clears it here too. A
 * later channel is finished before its first.
 */
int ppspp_leecher_attach(struct ppspp_leecher *l, struct ppspp_leecher *first, uint32_t local_id);
int ppspp_leecher_link(struct ppspp_leecher *l);
bool ppspp_leecher_done(const struct ppspp_leecher *l);

/* Our handshake (resend it until the seeder answers). Length, or a negative errno. */
int ppspp_leecher_handshake(struct ppspp_leecher *l, uint8_t *buf, size_t cap);

/*
 * The channel closed at the seeder's end (a HANDSHAKE with source channel 0, RFC 7574 8.4):
 * done, it stops sending what it still had queued. Length, 0 when there is no open channel,
 * or a negative errno.
 */
int ppspp_leecher_close(const struct ppspp_leecher *l, uint8_t *buf, size_t cap);

/*
 * REQUESTs for chunks the seeder announced (HAVE) and neither held nor in flight, in order,
 * until `window` chunks are in flight or the datagram is full. With several channels, when
 * none is left and the chunks not held number at most `window` (the end game), also for
 * those in flight on another channel that this seeder offers (announced, neither refused nor
 * timed out here), lowest first. CANCELs for chunks in flight here that arrived elsewhere go
 * first (l->n_cancel > 0: call it even with a full window). Length (0: nothing to send), or a
 * negative errno.
 */
int ppspp_leecher_requests(struct ppspp_leecher *l, uint8_t *buf, size_t cap, uint64_t window);

/*
 * The seeder announced nothing (have_seen false) a while after its handshake: RFC 7574 does
 * not require HAVE, so everything is taken as announced, less what it sent bad (a seeder that
 * holds back what it lacks serves it as it comes). For the caller's timer; once.
 */
void ppspp_leecher_peer_has_all(struct ppspp_leecher *l);

/*
 * For a caller serving on what it receives (the data plane's ingest): the count of chunks held
 * from the first, continuing from `from` (a count known held), or 0 while any peak is not
 * trusted yet (a seeder sends every peak with its first DATA; a source that sends uncles up
 * to the root instead of the peaks has them trusted only as the chunks under them arrive).
 */
uint64_t ppspp_leecher_held_prefix(const struct ppspp_leecher *l, uint64_t from);

/* Nothing arrived for a while: what is in flight is asked for again by the next request. */
void ppspp_leecher_timeout(struct ppspp_leecher *l);

/*
 * Makes this channel's refused chunks askable of it again, those that are not held and that
 * no other linked channel can be asked for now (announced, not refused there, neither
 * timed out, choked nor closed there): the swarm cannot complete without them, and a copy
 * that failed may have been a one-off corruption in transit. Refused chunks another source
 * offers stay refused. Returns how many were forgiven (0: none needed it).
 */
uint64_t ppspp_leecher_forgive(struct ppspp_leecher *l);

/*
 * The caller's timer for refused chunks (no clock here: now is the caller's, per_s its units
 * per second, e.g. microseconds or TSC). A chunk refused since the last forgiveness arms it;
 * ppspp_leecher_forgive runs once the delay has passed (1 s at first; when not needed, or
 * while chunks another source offered stay refused, it is looked at again one delay later).
 * Each time the channel sends a bad chunk (or one without its uncles when asked again) after
 * a forgiveness the delay doubles, up to 64 s, so a source that always forges a chunk is asked
 * for it about log2(T) times in T seconds, then once a minute; after 128 s without a refusal
 * the delay is 1 s again. Call it on every tick of the channel. Returns the chunks forgiven
 * now.
 */
uint64_t ppspp_leecher_retry(struct ppspp_leecher *l, uint64_t now, uint64_t per_s);

/*
 * n datagrams from the seeder (n <= LEECHER_BURST_MAX DATA in all): handshakes and INTEGRITY
 * taken in order, then every chunk's leaf hashed in one multi-buffer burst and each chunk
 * checked against its uncles. Verified chunks go to deliver, in arrival order; one ACK
 * datagram for them goes to ack (*ack_len = 0 when none). Each rx[i].reason gets its
 * datagram's first problem. Returns the number of chunks delivered.
 */
unsigned ppspp_leecher_input_burst(struct ppspp_leecher *l, struct leecher_rx *rx, unsigned n,
				   leecher_deliver_fn deliver, void *ctx, uint8_t *ack,
				   size_t ack_cap, size_t *ack_len);

/*
 * One datagram from the seeder (a burst of one). Verified chunks go to deliver. ack/ack_cap: where an ACK
 * datagram for them is written; *ack_len = 0 when none. Returns the datagram's reason (the
 * first problem met; later messages are still acted on when the datagram decoded).
 */
enum leecher_reason ppspp_leecher_input(struct ppspp_leecher *l, const uint8_t *buf, size_t len,
					leecher_deliver_fn deliver, void *ctx, uint8_t *ack,
					size_t ack_cap, size_t *ack_len);

#endif
