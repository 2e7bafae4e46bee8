/* SPDX-License-Identifier: BSD-3-Clause */
/* Port setup on any PMD: one RX/TX queue pair per worker, RSS when the device offers it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp.h"

int dp_port_init(struct dp_config *cfg, unsigned n_queues, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t port = cfg->port_id;
	bool af_packet, memif, tap;
	int rc;

	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return rc;
	af_packet = info.driver_name != NULL && strcmp(info.driver_name, "net_af_packet") == 0;
	memif = info.driver_name != NULL && strcmp(info.driver_name, "net_memif") == 0;
	tap = info.driver_name != NULL && strcmp(info.driver_name, "net_tap") == 0;
	/* af_packet opens all its qpairs sockets in one fanout group at probe: a socket no
	 * worker reads would take its share of the flows (and, by its hash, perhaps every
	 * ARP reply) and hold it. */
	if (af_packet && info.max_rx_queues != n_queues) {
		fprintf(stderr,
			"superpeer-dataplane: port %u (af_packet) has qpairs=%u sockets for %u "
			"worker%s: give qpairs=%u\n",
			port, info.max_rx_queues, n_queues, n_queues == 1 ? "" : "s", n_queues);
		return -EINVAL;
	}
	if (n_queues > info.max_rx_queues || n_queues > info.max_tx_queues) {
		fprintf(stderr, "superpeer-dataplane: port %u has %u/%u queues, %u workers asked\n",
			port, info.max_rx_queues, info.max_tx_queues, n_queues);
		return -EINVAL;
	}
	if (n_queues > 1) {
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;

		if (tap) {
			/* The tap PMD's RSS is an rte_flow rule (eBPF) we do not install: the
			 * kernel picks one of the device's queues per flow (tun's flow hash), and
			 * the DPDK queues are those. */
			cfg->spread = "the kernel's tun queue choice (flow hash)";
		} else if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
			cfg->spread = "RSS";
		} else if (af_packet) {
			/* One socket per queue in a PACKET_FANOUT_HASH group: the kernel spreads
			 * flows by their hash, RSS in software (docs/dataplane.md, "Workers"). */
			cfg->spread = "the kernel's packet fanout (flow hash)";
		} else if (memif) {
			/* A ring pair per queue: the peer application picks the ring of each
			 * frame, and must keep a flow on one and open a ring pair per worker,
			 * which nothing here can check (docs/dataplane.md, "Workers"). */
			static char spread[96];

			snprintf(spread, sizeof(spread),
				"the memif peer (its choice of ring; it must open %u each way)",
				n_queues);
			cfg->spread = spread;
		} else {
			fprintf(stderr, "superpeer-dataplane: port %u has no RSS: run one worker\n",
				port);
			return -EINVAL;
		}
	}
	/* A VLAN: the port strips and inserts the tag where it can; dp_net.c does it otherwise. */
	if (cfg->vlan_id != 0) {
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP)
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
		if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT) {
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
			cfg->vlan_tx_hw = true;
		}
	}
	rc = rte_eth_dev_configure(port, (uint16_t)n_queues, (uint16_t)n_queues, &conf);
	if (rc != 0)
		return rc;
	/*
	 * The port takes frames of our MTU: a NIC left at its default (1500) would drop a jumbo
	 * peer's frames before any worker counted them. A port with no MTU of its own (memif,
	 * ring, null, pcap: no mtu_set) passes any frame, and dp_net.c's oversized check holds
	 * the limit. Not af_packet: its mtu_set is the MTU of the kernel interface it shares
	 * (eth0, say), the host's to set, never put back here. A port that refuses the MTU is
	 * warned about, not refused.
	 */
	rc = af_packet ? -ENOTSUP : rte_eth_dev_set_mtu(port, cfg->mtu);
	if (rc != 0 && rc != -ENOTSUP)
		fprintf(stderr,
			"superpeer-dataplane: warning: port %u (%s) refused MTU %u (%s; it says "
			"frames of at most %u bytes): longer frames may be lost in the port\n",
			port, info.driver_name, cfg->mtu, rte_strerror(-rc), info.max_rx_pktlen);
	for (unsigned q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port, (uint16_t)q, 1024, rte_eth_dev_socket_id(port),
					    NULL, pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, (uint16_t)q, 1024,
						    rte_eth_dev_socket_id(port), NULL);
		if (rc != 0)
			return rc;
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		return rc;
	return rte_eth_macaddr_get(port, &cfg->mac);
}

void dp_port_fini(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}
