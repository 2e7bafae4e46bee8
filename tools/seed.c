/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer seed: serves one packed store over PPSPP on a kernel UDP socket, plain or with
 * ESP in UDP, to any number of peers (one seeder channel per peer address). The user-peer
 * counterpart of the data plane, and what superpeer fetch is tested against.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer_net.h"
#include "ppspp_seeder.h"
#include "tool.h"

enum { SEED_PEERS_MAX = 64 };

struct seed_peer {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint16_t inner_port; /* ESP: the inner UDP source port of its last datagram */
	struct seeder_channel ch;
	bool used;
};

static volatile sig_atomic_t seed_stop;

static void seed_on_signal(int sig)
{
	(void)sig;
	seed_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: superpeer seed --public PUBFILE [--listen ADDR:PORT] [--mtu BYTES]\n"
		"                      [--sa-in SPI:0xKEYSALT --sa-out SPI:0xKEYSALT [--esn]]\n"
		"                      STOREDIR\n\n"
		"Serves the packed store STOREDIR over PPSPP (RFC 7574) on UDP until SIGINT or\n"
		"SIGTERM. The manifest must be signed by PUBFILE's key. ADDR:PORT defaults to\n"
		"0.0.0.0:6778 (port 0: any free port); the address bound is printed first.\n"
		"With --sa-in/--sa-out every datagram travels as ESP in UDP (RFC 3948, AES-GCM,\n"
		"keys as `ip xfrm` writes them) and only that SA's peer is served.\n"
		"--mtu: largest UDP payload sent (default 1472 on IPv4, 1452 on IPv6:\n"
		"  a 1500-byte IP packet).\n"
		"--corrupt-once CHUNK (for tests): the first copy of CHUNK sent goes out with\n"
		"  its last byte flipped, as a corruption in transit would.\n"
		"--lose-once CHUNK (for tests): the first datagram with CHUNK is not sent, as\n"
		"  if lost on the way.\n");
}

static struct seed_peer *seed_peer_find(struct seed_peer *peers, const struct sockaddr_storage *a,
					socklen_t len)
{
	struct seed_peer *free_slot = NULL;

	for (unsigned i = 0; i < SEED_PEERS_MAX; i++) {
		if (!peers[i].used || peers[i].ch.state == SEEDER_ST_CLOSED) {
			if (free_slot == NULL)
				free_slot = &peers[i];
			continue;
		}
		if (peers[i].addr_len == len && memcmp(&peers[i].addr, a, len) == 0)
			return &peers[i];
	}
	return free_slot;
}

int tool_seed_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"public", required_argument, NULL, 'p'},
		{"listen", required_argument, NULL, 'l'},
		{"mtu", required_argument, NULL, 'm'},
		{"sa-in", required_argument, NULL, 'i'},
		{"sa-out", required_argument, NULL, 'o'},
		{"esn", no_argument, NULL, 'E'},
		{"corrupt-once", required_argument, NULL, 'C'},
		{"lose-once", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *pub_path = NULL, *listen_arg = "0.0.0.0:6778", *sa_in = NULL, *sa_out = NULL;
	struct sockaddr_storage local, from;
	socklen_t local_len, from_len;
	struct sigaction sa = { .sa_handler = seed_on_signal };
	uint8_t pub[ED25519_PUBLIC_LEN], rx[65536], dgram[65536], tx[65536];
	struct crypto_engine e;
	struct chunk_store store;
	struct peer_esp esp;
	struct seed_peer *peers = NULL;
	uint64_t mtu = 0;	       /* not given: what fits a 1500-byte IP packet */
	uint64_t corrupt = UINT64_MAX; /* --corrupt-once: none */
	uint64_t lose = UINT64_MAX;    /* --lose-once: none */
	uint64_t served = 0, refused = 0, bad_esp = 0;
	char err[512], addr[80];
	bool esn = false, have_engine = false, have_store = false;
	int c, fd = -1, rc = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pub_path = optarg;
			break;
		case 'l':
			listen_arg = optarg;
			break;
		case 'm':
			if (tool_num("--mtu", optarg, 0, 65507, &mtu) != 0)
				return 1;
			if (mtu != 0 && mtu < 600)
				return tool_err(
					"--mtu '%s': 0 (the default) or 600 to 65507", optarg);
			break;
		case 'i':
			sa_in = optarg;
			break;
		case 'o':
			sa_out = optarg;
			break;
		case 'E':
			esn = true;
			break;
		case 'C':
			if (tool_num("--corrupt-once", optarg, 0, UINT64_MAX - 1, &corrupt) != 0)
				return 1;
			break;
		case 'L':
			if (tool_num("--lose-once", optarg, 0, UINT64_MAX - 1, &lose) != 0)
				return 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || pub_path == NULL)
		return tool_err("need --public PUBFILE and one STOREDIR (see --help)");
	if (peer_addr_parse(listen_arg, &local, &local_len) != 0)
		return tool_err("--listen %s: expected ADDR:PORT or [ADDR6]:PORT", listen_arg);
	/* IPv6's header is 20 bytes longer: 1472 would make every full datagram a fragment. */
	if (mtu == 0)
		mtu = local.ss_family == AF_INET6 ? 1452 : 1472;
	if (tool_key_read(pub_path, pub, sizeof(pub)) != 0)
		return 1;
	if (crypto_engine_init(&e) != 0)
		return tool_err("this CPU lacks AES-NI: cannot run the crypto engine");
	have_engine = true;
	if (peer_esp_init(&esp, &e, sa_in, sa_out, esn) != 0)
		goto out;
	if (chunk_store_open(&store, &e, argv[optind], pub, err, sizeof(err)) != 0) {
		tool_err("%s", err);
		goto out;
	}
	have_store = true;
	if (mtu - (esp.on ? PEER_ESP_OVERHEAD : 0) < store.m.chunk_size + 64u) {
		tool_err("--mtu %" PRIu64 " cannot carry a %u-byte chunk%s", mtu,
			store.m.chunk_size, esp.on ? " in ESP" : "");
		goto out;
	}
	peers = calloc(SEED_PEERS_MAX, sizeof(*peers));
	fd = socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (peers == NULL || fd < 0 || bind(fd, (struct sockaddr *)&local, local_len) != 0) {
		tool_err("cannot listen on %s: %s", listen_arg, strerror(errno));
		goto out;
	}
	peer_socket_buffers(fd);
	getsockname(fd, (struct sockaddr *)&local, &local_len);
	peer_addr_format(&local, addr, sizeof(addr));
	printf("listening on %s, swarm %s\n", addr, store.m.name);
	fflush(stdout);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!seed_stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		const uint8_t *d;
		size_t dlen;
		uint16_t inner_port;
		ssize_t n;
		int k;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		from_len = sizeof(from);
		n = recvfrom(fd, rx, sizeof(rx), 0, (struct sockaddr *)&from, &from_len);
		if (n <= 0)
			continue;
		if (peer_esp_unwrap(&esp, &e, rx, (size_t)n, &d, &dlen, &inner_port) != 0) {
			bad_esp++;
			continue;
		}
		struct seed_peer *p = seed_peer_find(peers, &from, from_len);

		if (p == NULL) {
			refused++; /* table full */
			continue;
		}
		p->inner_port = inner_port;
		if (!p->used || p->ch.state == SEEDER_ST_CLOSED) {
			uint32_t id = 0;

			while (id == 0)
				crypto_random(&id, sizeof(id));
			seeder_channel_init(&p->ch, &store, id);
			seeder_congestion(&p->ch, true);
			memcpy(&p->addr, &from, from_len);
			p->addr_len = from_len;
			p->used = true;
		}
		enum seeder_reason why;

		seeder_clock(&p->ch, peer_now_us());
		why = seeder_input(&p->ch, d, dlen);

		if (why != SEEDER_R_OK && why != SEEDER_R_CLOSED) {
			refused++;
			if (p->ch.state == SEEDER_ST_IDLE)
				p->used = false;
		}
		if (why == SEEDER_R_CLOSED && p->ch.state == SEEDER_ST_CLOSED) {
			/* The peer is done (RFC 7574 8.4): its slot is free, its count kept. */
			printf("seed: a peer closed its channel after %llu chunks\n",
				(unsigned long long)p->ch.chunks_sent);
			fflush(stdout);
			served += p->ch.chunks_sent;
			p->ch.chunks_sent = 0;
			p->used = false;
			continue;
		}
		while ((k = seeder_output(&p->ch, dgram,
					  mtu - (esp.on ? PEER_ESP_OVERHEAD : 0),
					  peer_now_us())) > 0) {
			/* The chunk's bytes end the datagram (seeder_channel.data_len). */
			if (p->ch.data_len > 0 && p->ch.data_chunk == corrupt) {
				dgram[k - 1] ^= 1;
				printf("seed: chunk %llu sent altered (--corrupt-once)\n",
					(unsigned long long)corrupt);
				fflush(stdout);
				corrupt = UINT64_MAX;
			}
			if (p->ch.data_len > 0 && p->ch.data_chunk == lose) {
				printf("seed: chunk %llu not sent (--lose-once)\n",
					(unsigned long long)lose);
				fflush(stdout);
				lose = UINT64_MAX;
				continue;
			}
			/* Inner ports: to the one the peer sent from inside ESP (a data plane's
			 * PPSPP port, while its ESP comes from 4500). */
			int w = peer_esp_wrap(&esp, &e, dgram, (size_t)k, tx, sizeof(tx),
				peer_addr_port(&local),
				p->inner_port != 0 ? p->inner_port : peer_addr_port(&p->addr));

			if (w < 0)
				break;
			if (sendto(fd, tx, (size_t)w, 0, (struct sockaddr *)&p->addr,
				   p->addr_len) < 0 && errno != ENOBUFS && errno != EAGAIN)
				break;
		}
	}
	for (unsigned i = 0; i < SEED_PEERS_MAX; i++)
		served += peers[i].ch.chunks_sent;
	printf("seed: stopped; %llu chunks sent, %llu datagrams refused, %llu failed ESP\n",
	       (unsigned long long)served, (unsigned long long)refused,
	       (unsigned long long)bad_esp);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(peers);
	if (have_store)
		chunk_store_close(&store);
	peer_esp_fini(&esp);
	if (have_engine)
		crypto_engine_fini(&e);
	crypto_wipe(pub, sizeof(pub));
	return rc;
}
