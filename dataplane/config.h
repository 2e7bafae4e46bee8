/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-dataplane's own options, from the command line and from an INI file (libinih),
 * with the same names in both. Setup code. docs/dataplane.md has the file's form:
 *
 *   [dataplane]            ip, ip6, udp-port, esp-port, mtu, keyring, max-sas,
 *                          idle-polls, idle-sleep-us, ledbat, peer-timeout, keepalive,
 *                          stats-interval,
 *                          peer-rate, swarm-rate, max-channels, max-peers, mbufs
 *   [swarm NAME]           store, public, open          (one section per swarm)
 *
 * Every problem is one line: "FILE:LINE: ..." for the file, "--OPTION VALUE: ..." otherwise.
 */
#ifndef SUPERPEER_DP_CONFIG_H
#define SUPERPEER_DP_CONFIG_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyring_abi.h"
#include "swarm_table.h"

struct dp_swarm_opt {
	char name[64];
	char store[KR_PATH_MAX];
	char pub[KR_PATH_MAX];
	bool open;
};

struct dp_options {
	uint32_t ip4; /* network order; 0 = not given */
	uint8_t ip6[16];
	bool has_ip6;
	uint8_t prefix4, prefix6; /* on-link prefix lengths; 0 = every peer is on the link */
	uint32_t gw4;		  /* next hop for off-link IPv4 peers, network order; 0 = none */
	uint8_t gw6[16];	  /* next hop for off-link IPv6 peers, if has_gw6 */
	bool has_gw6;
	uint16_t udp_port, esp_port, mtu;
	uint32_t idle_polls, idle_sleep_us, max_sas;
	uint32_t peer_timeout_s, keepalive_s; /* a silent peer is dropped; idle channels kept */
	uint32_t neigh_reachable_s;	      /* neighbours re-confirmed after this; 0 = never */
	uint32_t stats_interval_s;	      /* KR_EV_STATS every so many seconds; 0 = never */
	uint16_t vlan_id;		      /* 802.1Q VLAN, 1..4094; 0 = untagged */
	uint64_t peer_rate, swarm_rate;	      /* bytes/s per peer, per swarm per worker; 0 = none */
	uint32_t max_channels;		      /* per worker, more are choked; 0 = none */
	uint32_t max_peers;		      /* peer table per worker, a power of two */
	uint32_t mbufs;			      /* packet buffers per worker */
	bool ledbat;
	char keyring[KR_NAME_MAX];
	struct dp_swarm_opt swarms[DP_MAX_SWARMS];
	unsigned n_swarms;
};

/* Whether a and b (IPv4, network order) share their first plen bits; plen 1..32. */
static inline bool dp_same_prefix4(uint32_t a, uint32_t b, unsigned plen)
{
	uint32_t mask = plen >= 32 ? UINT32_MAX : ~(UINT32_MAX >> plen);

	return ((ntohl(a) ^ ntohl(b)) & mask) == 0;
}

/* The same for IPv6 addresses; plen 1..128. */
static inline bool dp_same_prefix6(const uint8_t a[16], const uint8_t b[16], unsigned plen)
{
	for (unsigned i = 0; i < 16 && plen > 0; i++, plen = plen > 8 ? plen - 8 : 0) {
		uint8_t mask = plen >= 8 ? 0xff : (uint8_t)(0xff << (8 - plen));

		if (((a[i] ^ b[i]) & mask) != 0)
			return false;
	}
	return true;
}

/* The defaults: ports 6778 and 4500, MTU 1500, 256 polls, 200 us, 65536 SAs. */
void dp_options_init(struct dp_options *o, const char *keyring);

/*
 * One option of [dataplane] (or the command line's long option of that name; '_' and '-'
 * are the same). 0, or -EINVAL / -ENOENT (unknown) with the problem in err.
 */
int dp_options_set(struct dp_options *o, const char *key, const char *value, char *err, size_t cap);
/* One key of a swarm section; the swarm is created by its first key. */
int dp_options_swarm_set(struct dp_options *o, const char *name, const char *key, const char *value,
	char *err, size_t cap);

/* Reads an INI file into o (later keys override earlier ones). 0, or -1 with "FILE:LINE: ...". */
int dp_config_load(struct dp_options *o, const char *path, char *err, size_t cap);
/* The same from a string (label names it in messages). */
int dp_config_parse_string(
	struct dp_options *o, const char *text, const char *label, char *err, size_t cap);

/* Checks the whole (ranges, ports distinct, an address, each swarm complete). 0 or -1 + err. */
int dp_options_check(const struct dp_options *o, char *err, size_t cap);

#endif
