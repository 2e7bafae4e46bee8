/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-dataplane: the DPDK process around the DPDK-free modules (ESP, PPSPP seeder,
 * chunk store). One port; one RX/TX queue pair per worker lcore, RSS across them when the
 * device offers it; per worker its own crypto engine, peer table and counters, so the packet
 * path takes no lock. SAs and swarms live in tables the key ring changes while workers run
 * (sa_table.h, swarm_table.h). docs/dataplane.md.
 *
 *   dp_main.c    EAL, options, lcores, signals, exit summary
 *   dp_ctl.c     the key ring drained: SA and swarm changes, events, telemetry
 *   dp_port.c    port and queue setup (any PMD)
 *   dp_worker.c  the run-to-completion loop: rx burst -> classify -> act -> tx burst
 *   dp_net.c     per packet: Ethernet, ARP, IPv4/IPv6, ICMP/ICMPv6, ND
 *   dp_ppspp.c   per packet: UDP and ESP (raw or in UDP) to and from PPSPP channels
 */
#ifndef SUPERPEER_DP_H
#define SUPERPEER_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_config.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "chunk_store.h"
#include "esp_sa.h"
#include "manifest.h"
#include "ppspp_leecher.h"
#include "ppspp_seeder.h"
#include "sa_table.h"
#include "swarm_table.h"

/* Every packet that is not answered is dropped with one of these reasons. */
#define DP_DROP_REASONS(_)                                                                         \
	_(SHORT, "short", "frame shorter than its headers say")                                    \
	_(OVERSIZED, "oversized", "frame longer than the MTU allows, or in several segments")      \
	_(NOT_FOR_US, "not_for_us", "unicast to another MAC, or IPv4 to another address")          \
	_(ETHERTYPE, "ethertype", "neither ARP, IPv4 nor IPv6")                                    \
	_(VLAN, "vlan", "802.1Q tag of another VLAN, a tag when none is set, or none when one is") \
	_(ARP_OTHER, "arp_other", "ARP that is not a request for our address")                     \
	_(IP_BAD_HDR, "ip_bad_header", "IPv4 version, header length, total length or checksum")    \
	_(IP_FRAGMENT, "ip_fragment", "IPv4 fragment (not reassembled)")                           \
	_(IP_OPTIONS, "ip_options", "IPv4 with options")                                           \
	_(IP_PROTO, "ip_proto", "IP protocol other than ICMP, UDP and ESP")                        \
	_(ICMP_OTHER, "icmp_other", "ICMP other than echo request")                                \
	_(TOO_BIG, "too_big", "echo request whose reply would not fit our MTU")                    \
	_(IP6_BAD_HDR, "ip6_bad_header", "IPv6 version or payload length")                         \
	_(IP6_EXT, "ip6_ext_header", "IPv6 fragment, AH, routing left, option not to skip")        \
	_(ICMP6_CKSUM, "icmp6_checksum", "ICMPv6 checksum wrong")                                  \
	_(ICMP6_OTHER, "icmp6_other", "ICMPv6 other than echo request or a solicitation for us")   \
	_(ND_BAD, "nd_bad", "Neighbor Solicitation with hop limit != 255 or malformed")            \
	_(UDP_BAD, "udp_bad", "UDP length inconsistent with the IPv4 length")                      \
	_(UDP_PORT, "udp_port", "UDP to a port we do not serve")                                   \
	_(ESP, "esp", "ESP refused (reason counted apart and per SA)")                             \
	_(SA_OWNER, "sa_owner", "SA in use by another worker (the peer's flow changed queue)")     \
	_(SA_PEER, "sa_peer", "inbound SA used from an address other than its peer's")             \
	_(NO_OUT_SA, "no_out_sa", "no outbound SA towards the peer: the reply is not sent")        \
	_(INNER_BAD, "inner_bad", "ESP payload is not a UDP datagram of the right length")         \
	_(NO_SWARM, "no_swarm", "handshake for a swarm this data plane does not serve")            \
	_(SWARM_PROTECTED, "swarm_protected", "plain PPSPP for a swarm served only through ESP")   \
	_(SWARM_GONE, "swarm_gone", "datagram on a channel whose swarm was removed")               \
	_(PPSPP, "ppspp", "PPSPP datagram refused by the channel (reason in the summary)")         \
	_(BAD_CHUNK, "bad_chunk",                                                                  \
		"ingested chunk failed Merkle verification (counted per source)")                  \
	_(INGEST_REFUSED, "ingest_refused", "datagram from an ingest source the leecher refused")  \
	_(PEER_BLOCKED, "peer_blocked", "datagram from an address a peer policy blocks")           \
	_(PEERS_FULL, "peers_full", "no room for another peer on this worker")                     \
	_(TX_FULL, "tx_full", "transmit queue full")                                               \
	_(STEER_FULL, "steer_full", "an ingest source's frame for a worker whose queue was full")  \
	_(NO_MBUF, "no_mbuf", "mbuf pool exhausted")

enum dp_drop {
#define DP_DROP_ENUM(e, name, text) DP_DROP_##e,
	DP_DROP_REASONS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
		DP_DROP_COUNT,
};

extern const char *const dp_drop_names[DP_DROP_COUNT];

enum {
	DP_BURST = 32,
	DP_PEERS = 4096,      /* per worker, open addressing, unless max-peers says otherwise */
	DP_PEER_PROBES = 256, /* slots a peer's hash may take, from its home slot on */
	DP_MAX_WORKERS = 16,
	/*
	 * Frames queued for the port. What the port does not take stays queued (not dropped);
	 * DATA output pauses while fewer than DP_SEAL_ROOM slots are free, and the peers it
	 * paused resume in turn as the port drains (docs/dataplane.md, "Transmit backpressure").
	 */
	DP_TX_MAX = 512,
	DP_STEER_SLOTS = 1024, /* frames waiting in a worker's steer ring */
	DP_SEAL_ROOM = 32,
	DP_BLOCKED_MAX = 256,
	/*
	 * A loop pass reads up to DP_RX_BURSTS bursts while the port hands over full ones, then
	 * builds up to DP_OUT_BUDGET datagrams for the peers with output due, in turn. Input is
	 * read at twice the rate output is built even if every datagram drew a reply, so a
	 * saturated worker keeps its receive ring drained and its peers' ACKs and REQUESTs are
	 * not lost in it (docs/dataplane.md, "Pacing, limits and timers").
	 */
	DP_RX_BURSTS = 8,
	DP_OUT_BUDGET = 128,
};

struct dp_config {
	uint16_t port_id;
	uint32_t ip4;	 /* network order */
	uint8_t ip6[16]; /* all zero: no IPv6 */
	bool has_ip6;
	uint8_t prefix4, prefix6; /* on-link prefix lengths; 0 = every peer is on the link */
	uint32_t gw4;		  /* next hop to off-link IPv4 peers (network order); 0 = none */
	uint8_t gw6[16];	  /* next hop to off-link IPv6 peers, if has_gw6 */
	bool has_gw6;
	uint16_t udp_port;   /* plain PPSPP, and the inner port of ESP; host order */
	uint16_t esp_port;   /* ESP in UDP (RFC 3948); host order */
	const char *spread;  /* with several workers: what spreads flows over their queues */
	uint32_t idle_polls; /* empty polls before sleeping */
	uint32_t idle_sleep_us;
	uint16_t mtu;		 /* largest IP packet sent */
	uint16_t vlan_id;	 /* 802.1Q VLAN of every frame, 1..4094; 0 = untagged */
	bool vlan_tx_hw;	 /* the port inserts the tag (RTE_ETH_TX_OFFLOAD_VLAN_INSERT) */
	uint32_t max_channels;	 /* per worker; more are choked until room frees; 0 = no limit */
	uint32_t max_peers;	 /* peer table slots per worker (power of two); 0 = DP_PEERS */
	bool ledbat;		 /* LEDBAT on the DATA each channel sends */
	uint32_t peer_timeout_s; /* a peer silent this long is dropped (its channel closed) */
	uint32_t keepalive_s;	 /* an open channel idle this long gets a keep-alive */
	uint32_t neigh_reachable_s; /* a neighbour unconfirmed this long is probed again */
	uint64_t peer_rate;	 /* bytes/s of DATA per peer; 0 = no limit */
	uint64_t swarm_rate;	 /* bytes/s of DATA per swarm on each worker; 0 = no limit */
	struct sa_table *sas;
	struct swarm_table *swarms;
	/* Every worker by lcore (NULL elsewhere), for frames steered to an ingest's owner. */
	struct dp_worker *by_lcore[RTE_MAX_LCORE];
	unsigned n_workers;
	struct rte_hash *policies; /* peer address -> DP_POL_* value (dp_ctl.c); may be NULL */
	struct rte_ether_addr mac;
};

/* How a peer's datagrams travel. */
enum dp_mode {
	DP_MODE_PLAIN = 0, /* PPSPP in UDP to udp_port */
	DP_MODE_ESP_UDP,   /* ESP in UDP to esp_port, inner UDP to udp_port */
	DP_MODE_ESP_RAW,   /* ESP as IP protocol 50, inner UDP to udp_port */
};

enum dp_role {
	DP_ROLE_SEEDER = 0, /* a peer fetching from us: the seeder channel below */
	DP_ROLE_INGEST,	    /* the source of an ingest: its datagrams go to swarm->ingest */
};

/*
 * An ingest source's entry keeps the datagram that closes the source's channel (RFC 7574 8.4),
 * made by the ingest's owner once the channel is open: a worker can still send it after the
 * ingest, and the leecher that knew the channel, is gone (cancelled: dp_ingest_close_gone).
 */
struct dp_ingest_close {
	uint32_t chan; /* the source's channel the datagram closes; 0: none */
	uint8_t len;   /* 0: nothing to send (not open yet, closed by the source, or sent) */
	uint8_t dgram[16];
};

struct dp_peer {
	uint8_t addr[16];    /* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	uint16_t port;	     /* the peer's PPSPP (inner) UDP port */
	uint16_t encap_port; /* ESP in UDP: the peer's outer UDP port; else 0 */
	uint8_t mode;	     /* enum dp_mode */
	uint8_t role;	     /* enum dp_role */
	bool used;
	bool v6;
	uint8_t swarm;	    /* slot in the swarm table, valid while swarm_gen matches */
	bool blocked;	    /* on the worker's list of peers held back by a rate limit */
	bool tx_wait;	    /* on the worker's queue of peers with output due */
	bool avail_wait;    /* on the worker's queue of peers waiting for an ingest's chunks */
	bool policy_choked; /* choked by a peer policy (not by the channel limit) */
	bool counted;	    /* an open, unchoked channel in the worker's n_channels */
	uint32_t swarm_gen;
	uint32_t last_rx_s, last_tx_s; /* dp_now_s of the last datagram from / to the peer */
	uint64_t tokens, refill_us;    /* the peer's rate limit bucket (bytes) */
	uint64_t rate;		       /* a peer policy's rate, bytes/s; 0 = cfg->peer_rate */
	struct rte_ether_addr mac;     /* replies go back to the MAC the peer's packets came from */
	union {
		struct seeder_channel ch;   /* role SEEDER */
		struct dp_ingest_close ing; /* role INGEST */
	};
};

/* A peer policy as the value of the policy hash (KR_PEER_POLICY): flags and a rate. */
#define DP_POL_BLOCK (UINT64_C(1) << 62)
#define DP_POL_CHOKE (UINT64_C(1) << 61)
#define DP_POL_RATE_MASK ((UINT64_C(1) << 48) - 1)

/* A neighbour reply passed between workers (dp_neigh.c). */
struct dp_neigh_news {
	uint8_t addr[16];
	struct rte_ether_addr mac;
	uint8_t pad[2];
};
enum { DP_NEIGH_NEWS_SLOTS = 256 };

/* A neighbour (dp_neigh.c): IPv4-mapped or IPv6 address -> MAC, per worker. */
enum { DP_NEIGH = 256 };
enum { DP_NEIGH_FREE = 0, DP_NEIGH_ASKED, DP_NEIGH_KNOWN };
struct dp_neigh {
	uint8_t addr[16];
	struct rte_ether_addr mac;
	uint8_t state;
	uint64_t asked_tsc;
	uint64_t confirmed_tsc; /* last reply, request or solicitation from it (KNOWN) */
};

enum { DP_INGEST_SOURCES = LEECHER_CHANNELS_MAX };

/* One source of an ingest: a PPSPP channel to a peer that serves the swarm (dp_ingest.c). */
struct dp_ingest_src {
	/* src[0]'s owns the swarm's verifier and have state; later ones share it. */
	struct ppspp_leecher l;
	uint8_t peer[16];
	bool v6;
	bool linked; /* owner: l is linked into src[0].l's channels (ppspp_leecher_link) */
	uint16_t port, encap_port;
	struct dp_peer *p; /* the owner's peer entry for the source */
	uint64_t t_hs, t_req, t_progress, have_at_progress;
	uint64_t t_sent;      /* TSC of the last datagram to the source (keep-alives when idle) */
	uint64_t t_open;      /* TSC when the source's handshake was first seen answered */
	uint64_t chunks_from; /* verified chunks it sent (its progress) */
	uint64_t bad_chunks, refused;
	uint64_t bad_reported; /* key-ring lcore: bad chunks already reported */
};

/*
 * A swarm being fetched into the data plane from one or more source peers (dp_ingest.c).
 * Made by the key-ring lcore (KR_SWARM_INGEST; the same swarm again adds a source, up to
 * DP_INGEST_SOURCES) and hung on a swarm slot; run by the one worker that claims it (all its
 * sources); handed back (done) once every chunk is verified and stored. Served as it arrives.
 */
struct dp_ingest {
	struct manifest m;
	char *manifest_text; /* the signed text of m (malloc'd), for `swarm save` */
	size_t manifest_len;
	uint8_t *content; /* m.content_len bytes (anonymous mapping), verified chunks only */
	size_t map_len;
	uint8_t open;	/* serve as open */
	uint16_t owner; /* lcore, DP_SA_NO_OWNER until claimed */
	uint8_t done;	/* set (release) by the owner when complete */
	uint8_t ready;	/* set (release) by the key-ring lcore once its buffers are faulted in */
	uint32_t gen;	/* the swarm slot's generation when it was made */
	uint32_t window;
	uint64_t chunks_in;
	uint64_t *avail; /* the slot's count of chunks in from the first, raised (release) */
	/* Sources: n_src published (release) by the key-ring lcore after src[n_src - 1] is
	 * made; the owner reads it (acquire) each tick. */
	unsigned n_src;
	struct dp_ingest_src src[DP_INGEST_SOURCES];
};

/* One datagram from an ingest source, kept until the end of the rx burst (multi-buffer). */
struct dp_ingest_rx {
	struct dp_ingest *ing;
	unsigned src; /* which of its sources */
	struct rte_mbuf *m;
	const uint8_t *dgram;
	size_t len;
};

/* An ESP packet waiting for the rx burst's one esp_open_burst call. */
struct dp_esp_rx {
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	uint8_t src[16];
	bool v6;
	uint16_t encap_port; /* 0: raw ESP */
};

/* The seconds clock the ESP lifetimes run on, kept by the key-ring lcore. */
extern volatile uint64_t dp_now_s;

/* Per worker lcore: everything the loop touches, nothing shared. */
struct dp_worker {
	unsigned lcore;
	uint16_t queue;
	const struct dp_config *cfg;
	struct rte_mempool *pool;
	struct crypto_engine eng;
	unsigned tid;	 /* QSBR thread id (worker index) */
	uint64_t now_us; /* TSC in microseconds, at the start of this loop pass */
	uint64_t tsc_per_us;
	struct dp_peer *peers;
	/* A second hash of each slot's peer (odd; 0: free), so that a lookup reads 4 bytes per
	 * slot it passes, not the peer. A slot freed elsewhere keeps its tag until the sweep or
	 * an insert looking for room clears it. */
	uint32_t *peer_tags;
	uint32_t peers_mask; /* the table holds peers_mask + 1 (a power of two) */
	struct dp_neigh *neigh;
	uint64_t neigh_learned;
	uint64_t neigh_probes; /* requests re-confirming a stale neighbour */
	/* Frames of an ingest source that RSS brought here while another worker owns the
	 * ingest: handed to it through its steer ring (multi-producer, drained by its owner). */
	struct rte_ring *steer;
	uint64_t steered;
	/* Neighbour replies (ARP reply, Neighbor Advertisement) another worker received, which
	 * may answer this worker's request: the port spreads them by its own rules, not to the
	 * worker that asked (struct dp_neigh_news; multi-producer, drained by this worker). */
	struct rte_ring *neigh_news;
	uint64_t neigh_handed; /* replies this worker passed to the others */
	/* Per neighbour cache slot, the tag (dp_neigh.c) of the address this worker has asked
	 * for there, while the slot holds it; 0: none. Read by the other workers (relaxed) to
	 * know whom to hand a reply to. */
	uint32_t neigh_asking[DP_NEIGH];
	uint32_t next_channel;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, chunks_sent;
	uint64_t chunk_bytes_sent; /* every swarm's, also those since removed */
	uint64_t drops[DP_DROP_COUNT];
	uint64_t ppspp_refused[SEEDER_R_COUNT];
	uint64_t esp_drops[ESP_DROP_COUNT];
	uint64_t swarm_chunks[DP_MAX_SWARMS], swarm_bytes[DP_MAX_SWARMS];
	uint64_t swarm_tokens[DP_MAX_SWARMS], swarm_refill_us[DP_MAX_SWARMS];
	struct dp_peer *blocked[DP_BLOCKED_MAX]; /* held back by a rate limit, resumed by tick */
	unsigned n_blocked;
	unsigned n_channels; /* open unchoked channels (recounted every second) */
	/* Open channels, choked or not, at the last sweep, and the most seen at one. */
	uint64_t channels_open, channels_peak;
	uint64_t ingest_sources; /* peer entries of ingest sources, at the last sweep */
	uint32_t last_sweep_s;
	uint64_t peers_timed_out, keepalives_sent, rate_held, channels_choked, channels_unchoked;
	uint64_t peers_blocked;
	uint64_t swarm_channels[DP_MAX_SWARMS];
	/* The key ring drained from this worker's loop (single-lcore runs), else NULL. */
	struct dp_ctl *ctl;
	struct rte_mbuf *tx[DP_TX_MAX];
	unsigned n_tx;
	/* Peers with output due, served in turn: input queues them, and so do a pass budget
	 * spent and a full transmit queue. A FIFO of 2 * (peers_mask + 1) entries. */
	struct dp_peer **tx_wait;
	uint32_t tx_wait_head, tx_wait_n, tx_wait_cap;
	uint64_t tx_held; /* times a peer's output paused for transmit room */
	/* Peers served a swarm still being ingested that wait for more of it (a FIFO of
	 * 2 * (peers_mask + 1) entries), and swarms->avail_events when it was last looked at. */
	struct dp_peer **avail_wait;
	uint32_t avail_wait_head, avail_wait_n, avail_wait_cap;
	uint64_t avail_seen;
	uint64_t cc_held; /* times LEDBAT's window held a peer's DATA back */
	/* TSC cycles in loop passes that had packets or frames to handle, and since start: their
	 * ratio is the worker's load (it polls all the time, so CPU use says nothing). */
	uint64_t busy_tsc, start_tsc, stop_tsc;
	struct dp_esp_rx esp_rx[DP_BURST];
	struct esp_open_pkt esp_open[DP_BURST];
	unsigned n_esp_rx;
	struct dp_ingest_rx ing_rx[DP_BURST];
	unsigned n_ing_rx;
	uint64_t chunks_ingested;
	uint64_t ingest_lost; /* chunks an ingest took as lost on the way and asked again */
	uint64_t ingest_closed; /* channels of cancelled ingests closed at their source */
} __rte_cache_aligned;

/*
 * TSC cycles worker w has run by now: 0 before it started, or when now (read on another
 * core) is still behind its start.
 */
static inline uint64_t dp_worker_run_tsc(const struct dp_worker *w, uint64_t now)
{
	return w->start_tsc != 0 && w->start_tsc < now ? now - w->start_tsc : 0;
}

/* busy over run cycles in tenths of a percent, at most 1000 (in double: no overflow). */
static inline uint32_t dp_permille(uint64_t busy, uint64_t run)
{
	double v = run != 0 ? (double)busy * 1000.0 / (double)run : 0.0;

	return v > 1000.0 ? 1000 : (uint32_t)v;
}

extern volatile bool dp_stop;

int dp_port_init(struct dp_config *cfg, unsigned n_queues, struct rte_mempool *pool);
void dp_port_fini(uint16_t port_id);

/* dp_worker.c: a worker for queue `queue` on `lcore`, its tables on the lcore's socket
 * (max_peers from cfg), or NULL. dp_worker_free undoes it. */
struct dp_worker *dp_worker_new(
	struct dp_config *cfg, struct rte_mempool *pool, unsigned lcore, uint16_t queue);
void dp_worker_free(struct dp_worker *w);
int dp_worker_loop(void *arg);

/* dp_net.c: one received frame; queues answers in w->tx. The mbuf is consumed. */
void dp_net_input(struct dp_worker *w, struct rte_mbuf *m);
/* dp_net.c: counts the drop and frees m. */
void dp_net_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop why);
/* dp_net.c: queues m for transmission. */
void dp_net_tx(struct dp_worker *w, struct rte_mbuf *m);

/* dp_ppspp.c: the peer entry for (addr, port, encap, mode): found, or claimed (fresh). */
struct dp_peer *dp_peer_get(struct dp_worker *w, const uint8_t addr[16], bool v6, uint16_t port,
	uint16_t encap_port, enum dp_mode mode, bool *fresh);
/* dp_ppspp.c: the outbound SA for an ESP peer, claimed; NULL (counted) when none. */
struct dp_sa *dp_dgram_sa(struct dp_worker *w, const struct dp_peer *p);
/* dp_ppspp.c: a packet to p with its headers; the datagram goes at *d, up to *cap bytes. */
struct rte_mbuf *dp_dgram_begin(
	struct dp_worker *w, const struct dp_peer *p, bool esp, uint8_t **d, uint32_t *cap);
/* dp_ppspp.c: n datagram bytes written: sealed under sa (NULL: plain), lengths, queued. */
void dp_dgram_finish(struct dp_worker *w, const struct dp_peer *p, struct dp_sa *sa,
	struct rte_mbuf *m, uint32_t n);

/* dp_ingest.c: a datagram from p, an ingest source: kept for the burst's end (true). */
bool dp_ingest_input(struct dp_worker *w, struct dp_peer *p, struct rte_mbuf *m,
	const uint8_t *dgram, size_t len);
/* dp_ingest.c: p, an ingest source's entry, belongs to no live ingest (it was cancelled). */
bool dp_ingest_source_gone(struct dp_worker *w, const struct dp_peer *p);
/* dp_ingest.c: the channel at p, the source of an ingest that is gone, closed (once). */
void dp_ingest_close_gone(struct dp_worker *w, struct dp_peer *p);
/* dp_ingest.c: the kept datagrams verified in one multi-buffer pass; acks, requests. */
void dp_ingest_flush(struct dp_worker *w);
/* dp_ingest.c: timers of the ingests this worker runs (or claims); once a millisecond. */
void dp_ingest_tick(struct dp_worker *w);

/* dp_ppspp.c: once a millisecond: peers held back by a rate limit send what is due. */
void dp_ppspp_resume(struct dp_worker *w);
/* dp_worker.c: queued frames to the port; what it does not take stays queued. */
void dp_tx_flush(struct dp_worker *w);
/* dp_ppspp.c: once a millisecond: peers waiting for an ingest's chunks go on if more came. */
void dp_ppspp_avail_resume(struct dp_worker *w);
/* dp_ppspp.c: peers with output due send, in turn, up to DP_OUT_BUDGET datagrams in all,
 * while the transmit queue has room; what they built goes to the port. */
void dp_ppspp_out_turn(struct dp_worker *w);
/* dp_ppspp.c: once a second: silent peers dropped, keep-alives, choked channels let in. */
void dp_ppspp_sweep(struct dp_worker *w);

/* dp_ppspp.c: UDP to us (after IPv4/IPv6); src is the peer (IPv4-mapped for IPv4). */
/*
 * dp_ingest.c: with several workers, a frame from the source of an ingest another worker owns
 * goes to that worker (true: m is no longer the caller's). src: the peer's address (IPv6 or
 * IPv4-mapped), sport its UDP port, dport ours.
 */
bool dp_ingest_steer(struct dp_worker *w, struct rte_mbuf *m, const uint8_t src[16], uint16_t sport,
	uint16_t dport);
void dp_udp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
	struct rte_udp_hdr *udp, uint32_t l4len, const uint8_t src[16], bool v6);
/* dp_ppspp.c: the rx burst's ESP packets opened in one burst, then on to PPSPP. */
void dp_esp_flush(struct dp_worker *w);
/* dp_ppspp.c: raw ESP (IP protocol 50) to us. */
void dp_esp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth, uint8_t *esp,
	uint32_t len, const uint8_t src[16], bool v6);

/*
 * dp_neigh.c: a's MAC from a reply (ARP reply, Neighbor Advertisement), kept if this worker
 * has asked for a (or knows it); with several workers also handed to those asking for a,
 * which keep it on the same terms (dp_neigh_news_take). False when it was neither kept nor
 * handed over: a reply nobody asked for.
 */
bool dp_neigh_reply(struct dp_worker *w, const uint8_t a[16], const struct rte_ether_addr *mac);
/* dp_neigh.c: the replies other workers handed over, learned where this worker asked. */
void dp_neigh_news_take(struct dp_worker *w);
/* dp_neigh.c: learn a's MAC (solicited_only: only if a is being asked for). True if kept. */
bool dp_neigh_learn(struct dp_worker *w, const uint8_t a[16], const struct rte_ether_addr *mac,
	bool solicited_only);
/*
 * dp_neigh.c: the address whose MAC frames to peer a go to: a itself when it is on the link
 * (inside ip/prefix, IPv6 link-local, or no prefix configured), else the gateway. False when
 * a is off the link and there is no gateway of its family.
 */
bool dp_neigh_next_hop(const struct dp_config *cfg, const uint8_t a[16], bool v6, uint8_t nh[16]);
/*
 * dp_neigh.c: a's MAC, or NULL while unknown (an ARP request / NS is sent, rate-limited).
 * An entry unconfirmed for neigh_reachable_s is still used but probed once a second; after
 * three unanswered probes it is unknown again (RFC 4861 7.3's STALE/PROBE, for ARP too).
 */
const struct rte_ether_addr *dp_neigh_resolve(struct dp_worker *w, const uint8_t a[16], bool v6);

/* dp_ctl.c */
struct dp_ctl;
/* Drains the key ring, runs the periodic scans; from the key-ring lcore's loop. */
void dp_ctl_poll(struct dp_ctl *c);

#endif
