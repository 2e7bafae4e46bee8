/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-dataplane, first slice: the DPDK process around the DPDK-free modules (ESP,
 * PPSPP seeder, chunk store). One port; one RX/TX queue pair per worker lcore, RSS across
 * them when the device offers it; per worker its own crypto engine, peer table and counters,
 * so the packet path takes no lock. IPv4: ARP and ICMP echo answered, PPSPP over UDP plain
 * or as ESP in UDP (RFC 3948) with one SA pair given at start. docs/dataplane.md.
 *
 *   dp_main.c    EAL, options, store, lcores, signals, exit summary
 *   dp_port.c    port and queue setup (any PMD)
 *   dp_worker.c  the run-to-completion loop: rx burst -> classify -> act -> tx burst
 *   dp_net.c     per packet: Ethernet, ARP, IPv4, ICMP, UDP parse and build
 */
#ifndef SUPERPEER_DP_H
#define SUPERPEER_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "chunk_store.h"
#include "esp_sa.h"
#include "ppspp_seeder.h"

/* Every packet that is not answered is dropped with one of these reasons. */
#define DP_DROP_REASONS(_)                                                                         \
	_(SHORT, "short", "frame shorter than its headers say")                                    \
	_(NOT_FOR_US, "not_for_us", "unicast to another MAC, or IPv4 to another address")          \
	_(ETHERTYPE, "ethertype", "neither ARP, IPv4 nor IPv6 (VLAN: not in this slice)")          \
	_(ARP_OTHER, "arp_other", "ARP that is not a request for our address")                     \
	_(IP_BAD_HDR, "ip_bad_header", "IPv4 version, header length, total length or checksum")    \
	_(IP_FRAGMENT, "ip_fragment", "IPv4 fragment (not reassembled)")                           \
	_(IP_OPTIONS, "ip_options", "IPv4 with options")                                           \
	_(IP_PROTO, "ip_proto", "IPv4 protocol other than ICMP and UDP")                           \
	_(ICMP_OTHER, "icmp_other", "ICMP other than echo request")                                \
	_(IP6_BAD_HDR, "ip6_bad_header", "IPv6 version or payload length")                         \
	_(IP6_EXT, "ip6_ext_header", "IPv6 extension header (not parsed in this slice)")           \
	_(ICMP6_CKSUM, "icmp6_checksum", "ICMPv6 checksum wrong")                                  \
	_(ICMP6_OTHER, "icmp6_other", "ICMPv6 other than echo request or a solicitation for us")   \
	_(ND_BAD, "nd_bad", "Neighbor Solicitation with hop limit != 255 or malformed")            \
	_(UDP_BAD, "udp_bad", "UDP length inconsistent with the IPv4 length")                      \
	_(UDP_PORT, "udp_port", "UDP to a port we do not serve")                                   \
	_(ESP, "esp", "ESP in UDP refused (reason counted per SA)")                                \
	_(ESP_NOT_CONFIGURED, "esp_not_configured", "ESP in UDP without an SA, or plain with one") \
	_(INNER_BAD, "inner_bad", "ESP payload is not a UDP datagram of the right length")         \
	_(PPSPP, "ppspp", "PPSPP datagram refused by the channel (reason in the summary)")         \
	_(PEERS_FULL, "peers_full", "no room for another peer on this worker")                     \
	_(TX_FULL, "tx_full", "transmit queue full")                                               \
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
	DP_PEERS = 4096,   /* per worker, open addressing */
	DP_MAX_WORKERS = 16,
	DP_TX_MAX = 512,   /* datagrams one received packet may trigger (one REQUEST window) */
};

struct dp_config {
	uint16_t port_id;
	uint32_t ip4;	      /* network order */
	uint8_t ip6[16];      /* all zero: no IPv6 */
	bool has_ip6;
	uint16_t udp_port;    /* host order */
	uint32_t idle_polls;  /* empty polls before sleeping */
	uint32_t idle_sleep_us;
	uint16_t mtu;	      /* largest IPv4 packet sent */
	bool esp;	      /* peers must use ESP in UDP with the SA pair below */
	struct esp_sa *sa_in; /* read-only template; each worker keeps its own copy */
	struct esp_sa *sa_out;
	const struct chunk_store *store;
	struct rte_ether_addr mac;
};

struct dp_peer {
	uint8_t addr[16]; /* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	uint16_t port;
	bool used;
	bool v6;
	struct rte_ether_addr mac; /* replies go back to the MAC the peer's packets came from */
	struct seeder_channel ch;
};

/* Per worker lcore: everything the loop touches, nothing shared. */
struct dp_worker {
	unsigned lcore;
	uint16_t queue;
	const struct dp_config *cfg;
	struct rte_mempool *pool;
	struct crypto_engine eng;
	struct esp_sa *sa_in; /* this worker's copies (anti-replay state is per worker) */
	struct esp_sa *sa_out;
	struct dp_peer *peers;
	uint32_t next_channel;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, chunks_sent;
	uint64_t drops[DP_DROP_COUNT];
	uint64_t ppspp_refused[SEEDER_R_COUNT];
	uint64_t esp_drops[ESP_DROP_COUNT];
	struct rte_mbuf *tx[DP_TX_MAX];
	unsigned n_tx;
} __rte_cache_aligned;

extern volatile bool dp_stop;

int dp_port_init(struct dp_config *cfg, unsigned n_queues, struct rte_mempool *pool);
void dp_port_fini(uint16_t port_id);

int dp_worker_loop(void *arg);

/* dp_net.c: one received frame; queues answers in w->tx. The mbuf is consumed. */
void dp_net_input(struct dp_worker *w, struct rte_mbuf *m);

#endif
