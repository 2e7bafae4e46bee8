/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-loadgen: N simulated PPSPP peers on one DPDK port, leeching one swarm from
 * superpeer-dataplane, plain or through ESP in UDP (RFC 3948) under one SA pair. With
 * --queues Q the peers are split into Q blocks, each run by its own loop (a struct lg) on its
 * own lcore and RX/TX queue: a peer's frames always leave on its block's queue, so a data
 * plane worker per queue (net_memif: the queue is the ring pair) sees all of that peer.
 *
 *   loadgen.c       EAL, options, port, the run-to-completion loop, reports, flood/reflect
 *   loadgen_peer.c  per packet: frames in, ESP open, PPSPP per peer, ACK/REQUEST out, seal
 *   loadgen_seed.c  --seed: one peer serving a packed store to the data plane's ingest
 *
 * Each peer has its own IPv4 address and UDP port (consecutive from --ip and --peer-port: the
 * data plane's peer table spreads peers by port as much as by address) and runs one channel:
 * handshake, REQUESTs that keep `window` chunks asked for, one ACK per run of chunks that
 * arrived in an rx burst (with the one-way delay sample the seeder's LEDBAT needs), chunks
 * the seeder skipped asked for again, a new channel once the whole swarm has arrived.
 *
 * What it checks and what it does not, so that it is not the bottleneck: every ESP packet
 * is opened (authenticated and decrypted, anti-replay included) and every datagram decoded
 * by the project's codec; a chunk counts only as a DATA message on the peer's current
 * channel, by its payload bytes. It does not verify chunks against the Merkle tree (it
 * hashes nothing), check IPv4 or UDP checksums, or keep the content.
 *
 * No lock, no allocation and no system call in the packet loop: peers are one array made at
 * start, mbufs come from two pools, every batch is a fixed array in struct lg.
 */
#ifndef SUPERPEER_LOADGEN_H
#define SUPERPEER_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "chunk_store.h"
#include "crypto.h"
#include "esp_sa.h"
#include "ppspp_codec.h"
#include "ppspp_seeder.h"

enum {
	LG_BURST = 32,	     /* frames per rx burst */
	LG_TX_MAX = 1024,    /* frames waiting for the port */
	LG_SEAL_MAX = 64,    /* datagrams sealed per esp_seal_burst */
	LG_TICK_SLICES = 10, /* timer passes per 10 ms, in which each peer is visited once */
	LG_ACKS = 4,	     /* ACK ranges a peer gathers before it must send */
	LG_REREQ = 4,	     /* ranges a peer asks for again in its next datagram */
	LG_MSGS_MAX = 64,    /* messages decoded per datagram (peaks + uncles + DATA) */
	LG_HDRS = RTE_ETHER_HDR_LEN + 20 + 8, /* Ethernet, IPv4 without options, UDP */
	LG_DGRAM_CAP = 1024,		      /* bytes of PPSPP a datagram from a peer may hold */
	LG_SEEDS_MAX = 4,		      /* --seeds: the data plane's sources of one swarm */
	LG_QUEUES_MAX = 16,		      /* --queues: loops, each its own lcore and queue */
};

/* --seed: one seeding peer's channel to the data plane's ingest (loadgen_seed.c). */
struct lg_seeder {
	struct seeder_channel sch;
	uint32_t id;   /* our channel */
	bool open;     /* a channel of the current run */
	bool due;      /* it may have more to send */
	uint64_t sent; /* chunks sent in the current run */
};

/* What the loadgen refused or noticed: (enum, name, description). One list, one array. */
#define LG_COUNTERS(_)                                                                             \
	_(NOT_OURS, "not_ours", "frame not IPv4/UDP to one of our peers from the target")          \
	_(MULTISEG, "multiseg", "frame in more than one segment")                                  \
	_(ESP, "esp", "ESP packet refused (reason counted apart)")                                 \
	_(INNER_BAD, "inner_bad", "ESP payload not a UDP datagram to the peer's port")             \
	_(PPSPP_BAD, "ppspp_bad", "datagram the PPSPP codec refused")                              \
	_(STALE, "stale", "datagram for a channel the peer no longer runs")                        \
	_(BAD_HANDSHAKE, "bad_handshake", "handshake reply for another swarm")                     \
	_(LOST, "chunks_lost", "chunks skipped in the seeder's order, asked for again")            \
	_(REASKS, "reasks", "peer without DATA for 300 ms with chunks asked for: asked again")     \
	_(STALLS, "stalls", "peer without DATA for 1 s with chunks asked for: new channel")        \
	_(HS_RETRIES, "hs_retries", "handshake unanswered for 100 ms: sent again")                 \
	_(SEAL, "seal", "datagram ESP refused to seal")                                            \
	_(TX_FULL, "tx_full", "frame dropped: the port took nothing for LG_TX_MAX frames")         \
	_(TICK_HELD, "tick_held", "timer pass stopped with the port full: the rest visited later") \
	_(NO_MBUF, "no_mbuf", "tx mbuf pool exhausted")                                            \
	_(SEED_REFUSED, "seed_refused", "--seed: datagram the seeder refused (reason per channel)")

enum lg_counter {
#define LG_COUNTER_ENUM(e, name, text) LG_C_##e,
	LG_COUNTERS(LG_COUNTER_ENUM)
#undef LG_COUNTER_ENUM
		LG_C_COUNT,
};

extern const char *const lg_counter_names[LG_C_COUNT];

enum lg_peer_state {
	LG_PEER_IDLE = 0,
	LG_PEER_HS_SENT, /* handshake sent, no answer yet */
	LG_PEER_OPEN,
};

struct lg_peer {
	uint32_t ip;   /* network order */
	uint16_t port; /* host order: its UDP port, outer and inner */
	uint8_t state; /* enum lg_peer_state */
	bool choked;   /* the seeder sent CHOKE */
	bool touched;  /* on the burst's list of peers with something to send */
	uint8_t n_acks;
	uint8_t n_rereq;
	uint32_t local_id; /* our channel: what the seeder writes to */
	uint32_t peer_id;  /* the seeder's channel, once it answered */
	uint64_t next_req; /* first chunk not yet asked for on this channel */
	uint64_t expect;   /* next chunk in the seeder's order */
	uint64_t inflight; /* asked for and neither arrived nor given up */
	struct ppspp_range acks[LG_ACKS];
	uint64_t ack_ts[LG_ACKS]; /* the seeder's timestamp of the newest DATA in each range */
	struct ppspp_range rereq[LG_REREQ];
	uint64_t last_data_tsc;	    /* DATA arrived, or what is in flight was asked again */
	uint64_t last_progress_tsc; /* DATA arrived */
	uint64_t last_hs_tsc;
	uint64_t chunks;
	struct esp_sa *sa_out, *sa_in; /* --sa-per-peer: this peer's own pair, else NULL */
};

/* The counters a report shows, taken together (one loop's). */
struct lg_snap {
	uint64_t tsc, busy, rx, tx, chunks, bytes, drops, lost, port_missed;
};

/* One datagram waiting for the burst's esp_seal_burst. */
struct lg_seal {
	struct rte_mbuf *m;
	const struct lg_peer *p;
};

/* One received ESP packet waiting for the burst's esp_open_burst. */
struct lg_open {
	struct lg_peer *p;
};

struct lg {
	/* ---- configuration ---- */
	uint16_t port_id;
	uint16_t queue;	   /* this loop's RX/TX queue (--queues: one loop per queue and lcore) */
	uint16_t n_queues; /* loops in all: reports name the queue when there are several */
	struct rte_mempool *rx_pool, *tx_pool;
	struct rte_ether_addr mac, dst_mac;
	uint32_t dst_ip;    /* network order */
	uint32_t base_ip;   /* host order: peer i is base_ip + i */
	uint16_t peer_port; /* host order: peer i's UDP port is peer_port + i (wrapping) */
	uint16_t udp_port;  /* the data plane's PPSPP port */
	uint16_t esp_port;  /* the data plane's ESP-in-UDP port */
	uint8_t swarm_id[HASH_MAX_LEN];
	uint8_t swarm_id_len; /* 20: SHA-1, 32: SHA-256 */
	uint32_t chunk_size;
	uint64_t n_chunks; /* from the manifest, else the seeder's first HAVE */
	uint32_t window;   /* chunks asked for ahead, per peer */
	uint64_t hold;	   /* --hold: chunks each peer asks for, then its channel idles; 0: all */
	uint32_t link_wait_s; /* how long the link may take to come up (--link-wait) */
	uint32_t mtu;	      /* largest IP packet sent (--mtu): caps a seeder's datagrams */
	struct ppspp_ctx ctx;
	struct esp_sa *sa_out, *sa_in; /* both NULL: plain; with --sa-per-peer the peers' own */
	struct crypto_engine eng;
	struct lg_peer *peers;
	uint32_t n_peers;
	uint32_t next_id;
	uint32_t tick_cursor; /* the next peer the timer pass visits */
	uint32_t tick_owed;   /* peers the timer passes still have to visit */
	uint64_t tick_tsc;    /* when the timer pass last counted what it owes */
	uint64_t tick_rem;    /* what it owes short of one visit, in TSC cycles x peers */
	uint64_t tsc_hz, tsc_per_us;
	uint64_t now_tsc, now_us, now_s; /* at the start of the current loop pass */
	/* ---- counters (the loop's only writer) ---- */
	uint64_t rx_pkts, tx_pkts, chunks, chunk_bytes, channels;
	unsigned run_seconds, run_warmup;  /* --seconds, --warmup */
	struct lg_snap run_start, run_end; /* the measured part of the run, for the summary */
	uint64_t count[LG_C_COUNT];
	uint64_t esp_drops[ESP_DROP_COUNT];
	/* ---- batches of one loop pass ---- */
	struct lg_peer *touched[LG_BURST * 2];
	unsigned n_touched;
	struct esp_open_pkt open[LG_BURST];
	struct lg_open open_meta[LG_BURST];
	unsigned n_open;
	struct esp_seal_pkt seal[LG_SEAL_MAX];
	struct lg_seal seal_meta[LG_SEAL_MAX];
	unsigned n_seal;
	struct rte_mbuf *tx[LG_TX_MAX];
	unsigned n_tx;
	/* ---- --seed (loadgen_seed.c): peers 0.. serve this store to the data plane's ingest ----
	 */
	struct chunk_store *store; /* NULL: the peers leech */
	struct lg_seeder seeds[LG_SEEDS_MAX]; /* one per peer (--seeds), the data plane's sources */
	bool seed_running;		      /* a run is on: not every chunk is acknowledged */
	bool seed_due;			      /* a seeder may have more to send */
	uint8_t *seed_acked; /* a bit per chunk the data plane acknowledged (verified) */
	uint64_t seed_n_acked;
	uint64_t seed_start_tsc; /* the run's first REQUEST */
	unsigned seed_runs;	 /* complete runs, and their totals */
	uint64_t seed_run_chunks, seed_run_bytes, seed_run_tsc;
};

/* loadgen_peer.c: the frames of one rx burst (consumed), then what the peers have to send. */
void lg_rx_burst(struct lg *g, struct rte_mbuf **pkts, unsigned n);
/* loadgen_peer.c: a new channel for p (its handshake queued). */
void lg_channel_new(struct lg *g, struct lg_peer *p);
/* loadgen_peer.c: every millisecond, a tenth of the peers (each peer every 10 ms):
 * unanswered handshakes, stalled peers, idle windows. */
void lg_tick(struct lg *g);
/* --hold: peers whose chunks are all in (their channels idle); *open: channels open. */
uint32_t lg_holding(const struct lg *g, uint32_t *open);
/* loadgen_peer.c: sealed the batch, queued it, and handed the port what it takes. */
void lg_flush(struct lg *g);
/* loadgen_peer.c: m (a finished frame) onto the tx array. */
void lg_tx_queue(struct lg *g, struct rte_mbuf *m);
/* loadgen_peer.c: a frame for a datagram from a peer; *d is where the datagram goes. */
struct rte_mbuf *lg_dgram_begin(struct lg *g, uint8_t **d);
/* loadgen_peer.c: n bytes of datagram written at d: queued (plain) or batched for sealing. */
void lg_dgram_send(struct lg *g, const struct lg_peer *p, struct rte_mbuf *m, int n);

/* loadgen_seed.c: --seed DIR --public FILE: the store, its swarm as the loadgen's. 0 or -1. */
int lg_seed_open(struct lg *g, const char *dir, const char *pub_path);
/* The largest PPSPP datagram a seeder sends in an IPv4 packet of --mtu bytes, esp or not. */
uint32_t lg_seed_cap(const struct lg *g, bool esp);
void lg_seed_close(struct lg *g);
/* loadgen_seed.c: one datagram from the data plane's ingest to seeder peer p. */
void lg_seed_input(struct lg *g, struct lg_peer *p, const uint8_t *d, size_t len);
void lg_seed_output(struct lg *g);

#endif
