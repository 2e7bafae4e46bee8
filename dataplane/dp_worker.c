/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The run-to-completion loop of one worker lcore: rx bursts -> dp_net_input per packet ->
 * output of the peers it made due, in turn -> tx burst. No lock, syscall or allocation on
 * the way (mbufs come from the pool). An idle worker backs off: after idle_polls empty
 * polls it sleeps, doubling from 1 us up to idle_sleep_us, so an idle server or a 2-core
 * test machine is not starved. Every pass reports a quiescent state (the SA and swarm
 * tables free nothing a worker may hold before each worker has done so). Once a millisecond
 * between bursts: the ingest timers and, in a single-lcore run where the only worker also
 * drains the key ring, the ring.
 */
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp.h"
#include "dp_ctl.h"

volatile bool dp_stop;

struct dp_worker *dp_worker_new(
	struct dp_config *cfg, struct rte_mempool *pool, unsigned lcore, uint16_t queue)
{
	struct dp_worker *w = rte_zmalloc_socket(
		"dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));

	if (w == NULL)
		return NULL;
	w->lcore = lcore;
	w->queue = queue;
	w->tid = queue;
	w->cfg = cfg;
	w->pool = pool;
	w->next_channel = (uint32_t)lcore * 7919u + (uint32_t)time(NULL);
	w->peers_mask = (cfg->max_peers != 0 ? cfg->max_peers : DP_PEERS) - 1;
	w->peers = rte_zmalloc_socket("dp_peers", sizeof(*w->peers) * (w->peers_mask + 1u),
		RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
	w->peer_tags =
		rte_zmalloc_socket("dp_peer_tags", sizeof(*w->peer_tags) * (w->peers_mask + 1u),
			RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
	w->neigh = rte_zmalloc_socket("dp_neigh", sizeof(*w->neigh) * DP_NEIGH, RTE_CACHE_LINE_SIZE,
		(int)rte_lcore_to_socket_id(lcore));
	w->tx_wait_cap = 2 * (w->peers_mask + 1u);
	w->tx_wait = rte_zmalloc_socket("dp_tx_wait", sizeof(*w->tx_wait) * w->tx_wait_cap,
		RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
	w->avail_wait_cap = w->tx_wait_cap;
	w->avail_wait =
		rte_zmalloc_socket("dp_avail_wait", sizeof(*w->avail_wait) * w->avail_wait_cap,
			RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
	{
		static unsigned made; /* ring names are unique per process */
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "dp_steer%u_%u", lcore,
			__atomic_fetch_add(&made, 1, __ATOMIC_RELAXED));
		w->steer = rte_ring_create(
			name, DP_STEER_SLOTS, (int)rte_lcore_to_socket_id(lcore), RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "dp_neigh%u_%u", lcore,
			__atomic_fetch_add(&made, 1, __ATOMIC_RELAXED));
		w->neigh_news = rte_ring_create_elem(name, sizeof(struct dp_neigh_news),
			DP_NEIGH_NEWS_SLOTS, (int)rte_lcore_to_socket_id(lcore), RING_F_SC_DEQ);
	}
	if (w->peers == NULL || w->peer_tags == NULL || w->neigh == NULL || w->tx_wait == NULL ||
		w->avail_wait == NULL || w->steer == NULL || w->neigh_news == NULL ||
		crypto_engine_init(&w->eng) != 0) {
		/* crypto_engine_init is last: nothing of the engine to undo here. */
		rte_ring_free(w->steer);
		rte_ring_free(w->neigh_news);
		rte_free(w->peers);
		rte_free(w->peer_tags);
		rte_free(w->neigh);
		rte_free(w->tx_wait);
		rte_free(w->avail_wait);
		rte_free(w);
		return NULL;
	}
	return w;
}

void dp_worker_free(struct dp_worker *w)
{
	if (w == NULL)
		return;
	crypto_engine_fini(&w->eng);
	if (w->steer != NULL) {
		struct rte_mbuf *m;

		while (rte_ring_dequeue(w->steer, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(w->steer);
	}
	rte_ring_free(w->neigh_news);
	rte_free(w->peers);
	rte_free(w->peer_tags);
	rte_free(w->neigh);
	rte_free(w->tx_wait);
	rte_free(w->avail_wait);
	rte_free(w);
}

/*
 * Hands the port what it takes of the queued frames (a few tries); the rest stays queued, in
 * order, for the next call: a full transmit ring slows the sender down, it loses nothing.
 */
void dp_tx_flush(struct dp_worker *w)
{
	unsigned sent = 0, tries = 0;

	while (sent < w->n_tx && tries++ < 4) {
		uint16_t k = rte_eth_tx_burst(
			w->cfg->port_id, w->queue, w->tx + sent, (uint16_t)(w->n_tx - sent));

		for (uint16_t i = 0; i < k; i++)
			w->tx_bytes += rte_pktmbuf_pkt_len(w->tx[sent + i]);
		sent += k;
	}
	w->tx_pkts += sent;
	if (sent > 0 && sent < w->n_tx)
		memmove(w->tx, w->tx + sent, (w->n_tx - sent) * sizeof(w->tx[0]));
	w->n_tx -= sent;
}

int dp_worker_loop(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_rcu_qsbr *qsbr = w->cfg->sas->qsbr;
	struct rte_mbuf *pkts[DP_BURST];
	uint32_t idle = 0, sleep_us = 1;
	uint64_t hk_interval = rte_get_tsc_hz() / 1000, hk_next = 0;

	w->tsc_per_us = rte_get_tsc_hz() / 1000000 ? rte_get_tsc_hz() / 1000000 : 1;
	rte_rcu_qsbr_thread_register(qsbr, w->tid);
	rte_rcu_qsbr_thread_online(qsbr, w->tid);
	w->start_tsc = rte_rdtsc();
	while (!dp_stop) {
		uint64_t t0 = rte_rdtsc();
		uint16_t n;

		rte_rcu_qsbr_quiescent(qsbr, w->tid);
		w->now_us = t0 / w->tsc_per_us;
		if (t0 >= hk_next) {
			if (w->ctl != NULL)
				dp_ctl_poll(w->ctl);
			if (!rte_ring_empty(w->neigh_news))
				dp_neigh_news_take(w);
			dp_ingest_tick(w);
			dp_ppspp_resume(w);
			dp_ppspp_avail_resume(w);
			if (w->last_sweep_s != (uint32_t)dp_now_s) {
				w->last_sweep_s = (uint32_t)dp_now_s;
				dp_ppspp_sweep(w);
			}
			if (w->n_tx > 0)
				dp_tx_flush(w);
			{
				uint64_t t1 = rte_rdtsc();

				hk_next = t1 + hk_interval;
				w->busy_tsc += t1 - t0; /* housekeeping is work too */
				t0 = t1;
			}
		}
		/* Frames other workers steered here (an ingest this worker owns) first: a port
		 * handing over full bursts pass after pass must not leave them unread. */
		n = rte_ring_empty(w->steer) ? 0
					     : (uint16_t)rte_ring_sc_dequeue_burst(
						       w->steer, (void **)pkts, DP_BURST, NULL);
		n += rte_eth_rx_burst(
			w->cfg->port_id, w->queue, pkts + n, (uint16_t)(DP_BURST - n));
		if (n == 0 && (w->n_tx > 0 || w->tx_wait_n > 0)) {
			/* Nothing came in, but frames or peers wait for the port: not idle. */
			dp_tx_flush(w);
			if (w->tx_wait_n > 0)
				dp_ppspp_out_turn(w);
			w->busy_tsc += rte_rdtsc() - t0;
			continue;
		}
		if (n == 0) {
			if (++idle > w->cfg->idle_polls && w->cfg->idle_sleep_us > 0) {
				rte_delay_us_sleep(sleep_us);
				if (sleep_us < w->cfg->idle_sleep_us)
					sleep_us *= 2;
			}
			continue;
		}
		idle = 0;
		sleep_us = 1;
		/* Input first: more bursts while the port hands over full ones; the output it
		 * makes due is built after, DP_OUT_BUDGET datagrams at most (dp.h). */
		for (unsigned b = 1;; b++) {
			for (uint16_t i = 0; i < n; i++)
				dp_net_input(w, pkts[i]);
			if (w->n_esp_rx > 0)
				dp_esp_flush(w);
			if (w->n_ing_rx > 0)
				dp_ingest_flush(w);
			/* What input answers at once (an ingest's ACKs and next REQUESTs, ARP,
			 * echo) goes out now: held through the pass's other bursts, an ingest's
			 * requests came late and its source sat idle (8 KiB ingest 30 % slower). */
			if (w->n_tx > 0)
				dp_tx_flush(w);
			if (n < DP_BURST || b == DP_RX_BURSTS)
				break;
			n = rte_eth_rx_burst(w->cfg->port_id, w->queue, pkts, DP_BURST);
			if (n == 0)
				break;
		}
		if (w->tx_wait_n > 0)
			dp_ppspp_out_turn(w);
		w->busy_tsc += rte_rdtsc() - t0;
	}
	w->stop_tsc = rte_rdtsc();
	rte_rcu_qsbr_thread_offline(qsbr, w->tid);
	rte_rcu_qsbr_thread_unregister(qsbr, w->tid);
	return 0;
}
