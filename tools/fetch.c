/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer fetch: the user peer. Downloads a swarm over PPSPP from one peer on a kernel UDP
 * socket, plain or with ESP in UDP, verifies every chunk against the swarm ID of a manifest
 * signed by the provider, and writes the file (a temporary name until the last chunk is in).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer_net.h"
#include "ppspp_leecher.h"
#include "tool.h"

/* Datagrams taken from the socket per verification burst (multi-buffer leaf hashing). */
enum { FETCH_BURST = 32 };

static volatile sig_atomic_t fetch_stop;

/* Receive buffers of one burst: the chunks are verified in place before being written. */
static uint8_t rxbuf[FETCH_BURST][65536];

static void fetch_on_signal(int sig)
{
	(void)sig;
	fetch_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: superpeer fetch --manifest FILE --public PUBFILE --peer ADDR:PORT -o OUT\n"
		"                       [--sa-in SPI:0xKEYSALT --sa-out SPI:0xKEYSALT [--esn]]\n"
		"                       [--esp-port N] [--local-port N] [--keepalive SECONDS]\n"
		"                       [--nat-keepalive SECONDS]\n"
		"                       [--window CHUNKS] [--timeout SECONDS] [--cam 2|4]\n\n"
		"Downloads the swarm the manifest describes from the PPSPP peer ADDR:PORT,\n"
		"verifies every chunk against its swarm ID (the manifest must be signed by\n"
		"PUBFILE's key) and writes OUT (never overwritten; written under a temporary\n"
		"name until complete). --sa-in/--sa-out: ESP in UDP (RFC 3948) with AES-GCM,\n"
		"keys as `ip xfrm` writes them; the packets go to the peer's --esp-port\n"
		"(default 4500), PORT is the inner UDP port. --local-port: bind this UDP port.\n"
		"--keepalive: on an open channel, a PPSPP keep-alive after this many seconds\n"
		"in which nothing was sent, so the peer keeps the channel (default 60; the\n"
		"data plane drops a peer silent for its peer-timeout, 180 s unless set).\n"
		"--nat-keepalive: with ESP, a NAT keep-alive (RFC 3948) after this many seconds\n"
		"in which nothing was sent, so a NAT keeps the mapping (default 20; 0: never).\n"
		"--window: chunks requested ahead (default 256).\n"
		"--timeout: give up after this many seconds without progress (default 10).\n"
		"--cam: chunk addressing, 32-bit (2, default) or 64-bit (4) ranges.\n");
}

struct fetch_out {
	int fd;
	uint32_t chunk_size;
	int err;
};

static void fetch_deliver(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	struct fetch_out *o = ctx;
	off_t off = (off_t)(chunk * o->chunk_size);

	for (size_t done = 0; done < len && o->err == 0;) {
		ssize_t w = pwrite(o->fd, data + done, len - done, off + (off_t)done);

		if (w < 0 && errno != EINTR)
			o->err = errno;
		else if (w > 0)
			done += (size_t)w;
	}
}

static uint64_t fetch_last_send_us;

static int fetch_send(int fd, struct peer_esp *esp, struct crypto_engine *e, const uint8_t *d,
		      int len, uint16_t sport, uint16_t dport)
{
	uint8_t tx[65536];
	int w;

	if (len <= 0)
		return len;
	w = peer_esp_wrap(esp, e, d, (size_t)len, tx, sizeof(tx), sport, dport);
	if (w < 0)
		return -1;
	if (send(fd, tx, (size_t)w, 0) < 0 && errno != ECONNREFUSED && errno != ENOBUFS)
		return -1;
	fetch_last_send_us = peer_now_us();
	return 0;
}

int tool_fetch_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"manifest", required_argument, NULL, 'M'},
		{"public", required_argument, NULL, 'p'},
		{"peer", required_argument, NULL, 'P'},
		{"output", required_argument, NULL, 'o'},
		{"sa-in", required_argument, NULL, 'i'},
		{"sa-out", required_argument, NULL, 'O'},
		{"esn", no_argument, NULL, 'E'},
		{"window", required_argument, NULL, 'w'},
		{"timeout", required_argument, NULL, 't'},
		{"cam", required_argument, NULL, 'c'},
		{"esp-port", required_argument, NULL, 'X'},
		{"local-port", required_argument, NULL, 'L'},
		{"keepalive", required_argument, NULL, 'k'},
		{"nat-keepalive", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *man_path = NULL, *pub_path = NULL, *peer_arg = NULL, *out_path = NULL;
	const char *sa_in = NULL, *sa_out = NULL;
	uint64_t window = 256, timeout = 10, cam = 2, esp_port = 4500, local_port = 0;
	uint64_t keepalive = 60, nat_ka = 20, nat_ka_sent = 0, t_nat_ka;
	uint16_t ppspp_port;
	struct sigaction sa = { .sa_handler = fetch_on_signal };
	struct sockaddr_storage peer, local;
	socklen_t peer_len, local_len = sizeof(local);
	uint8_t pub[ED25519_PUBLIC_LEN], buf[65536], ack[2048], out[65536];
	char text[MANIFEST_MAX_LEN + 1], err[512], tmp[4096], swarm_hex[2 * HASH_MAX_LEN + 1];
	struct manifest m;
	struct crypto_engine e;
	struct peer_esp esp = { 0 };
	struct ppspp_leecher l;
	struct fetch_out fo = { .fd = -1 };
	bool have_engine = false, have_leecher = false, esn = false;
	bool tty = isatty(STDERR_FILENO);
	uint64_t t_start, t_progress, t_hs = 0, t_req = 0, t_shown = 0, t_open = 0;
	uint32_t local_id = 0;
	int c, fd = -1, rc = 1, n;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'M':
			man_path = optarg;
			break;
		case 'p':
			pub_path = optarg;
			break;
		case 'P':
			peer_arg = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'i':
			sa_in = optarg;
			break;
		case 'O':
			sa_out = optarg;
			break;
		case 'E':
			esn = true;
			break;
		case 'w':
			if (tool_num("--window", optarg, 1, 1u << 20, &window) != 0)
				return 1;
			break;
		case 't':
			if (tool_num("--timeout", optarg, 1, 86400, &timeout) != 0)
				return 1;
			break;
		case 'c':
			if (tool_num("--cam", optarg, 2, 4, &cam) != 0)
				return 1;
			if (cam == 3)
				return tool_err("--cam '3': 2 or 4");
			break;
		case 'X':
			if (tool_num("--esp-port", optarg, 1, 65535, &esp_port) != 0)
				return 1;
			break;
		case 'L':
			if (tool_num("--local-port", optarg, 0, 65535, &local_port) != 0)
				return 1;
			break;
		case 'k':
			if (tool_num("--keepalive", optarg, 1, 3600, &keepalive) != 0)
				return 1;
			break;
		case 'K':
			if (tool_num("--nat-keepalive", optarg, 0, 3600, &nat_ka) != 0)
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
	if (optind != argc || man_path == NULL || pub_path == NULL || peer_arg == NULL ||
	    out_path == NULL)
		return tool_err("need --manifest, --public, --peer and -o (see --help)");
	if (peer_addr_parse(peer_arg, &peer, &peer_len) != 0)
		return tool_err("--peer %s: expected ADDR:PORT or [ADDR6]:PORT", peer_arg);
	/* PPSPP talks to PORT; with ESP the packets go to the peer's ESP-in-UDP port and
	 * PORT is the inner UDP header's, as with a kernel XFRM SA with encap espinudp. */
	ppspp_port = peer_addr_port(&peer);
	if (sa_in != NULL || sa_out != NULL) {
		if (peer.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&peer)->sin6_port = htons((uint16_t)esp_port);
		else
			((struct sockaddr_in *)&peer)->sin_port = htons((uint16_t)esp_port);
	}
	if (access(out_path, F_OK) == 0)
		return tool_err("%s exists; not overwritten", out_path);
	if (tool_key_read(pub_path, pub, sizeof(pub)) != 0)
		return 1;
	if (crypto_engine_init(&e) != 0)
		return tool_err("this CPU lacks AES-NI: cannot run the crypto engine");
	have_engine = true;
	if (manifest_load(man_path, &m, text, sizeof(text), err, sizeof(err)) != 0) {
		tool_err("%s", err);
		goto out;
	}
	if (manifest_verify(&e, &m, text, pub) != 0) {
		tool_err("%s: not signed by the key in %s", man_path, pub_path);
		goto out;
	}
	if (peer_esp_init(&esp, &e, sa_in, sa_out, esn) != 0)
		goto out;
	while (local_id == 0)
		crypto_random(&local_id, sizeof(local_id));
	if (ppspp_leecher_init(&l, &e, m.hash, m.chunk_size, m.content_len, m.swarm_id, local_id,
			       (uint8_t)cam) != 0) {
		tool_err("cannot set up the Merkle verifier (out of memory?)");
		goto out;
	}
	have_leecher = true;

	/* The file grows under a temporary name beside OUT. */
	{
		char dcopy[4096];

		snprintf(dcopy, sizeof(dcopy), "%s", out_path);
		snprintf(tmp, sizeof(tmp), "%s/.fetch-XXXXXX", dirname(dcopy));
	}
	fo.fd = mkstemp(tmp);
	fo.chunk_size = m.chunk_size;
	if (fo.fd < 0 || ftruncate(fo.fd, (off_t)m.content_len) != 0) {
		tool_err("cannot create a file beside %s: %s", out_path, strerror(errno));
		if (fo.fd >= 0) {
			unlink(tmp);
			close(fo.fd);
			fo.fd = -1;
		}
		goto out;
	}
	fd = socket(peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && local_port != 0) {
		struct sockaddr_storage any = { .ss_family = peer.ss_family };

		if (peer.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&any)->sin6_port = htons((uint16_t)local_port);
		else
			((struct sockaddr_in *)&any)->sin_port = htons((uint16_t)local_port);
		if (bind(fd, (struct sockaddr *)&any, peer_len) != 0) {
			tool_err("--local-port %" PRIu64 ": %s", local_port, strerror(errno));
			goto fail;
		}
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&peer, peer_len) != 0) {
		tool_err("cannot reach %s: %s", peer_arg, strerror(errno));
		goto fail;
	}
	peer_socket_buffers(fd);
	getsockname(fd, (struct sockaddr *)&local, &local_len);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	t_start = t_progress = t_nat_ka = peer_now_us();
	while (!ppspp_leecher_done(&l)) {
		uint64_t now = peer_now_us();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (fetch_stop) {
			tool_err("interrupted");
			goto fail;
		}
		if (now - t_progress > timeout * 1000000u) {
			if (l.peer_id == 0)
				tool_err("no answer from %s%s", peer_arg,
					 esp.on ? " (or ESP keys that do not match)" : "");
			else
				tool_err("stalled at %llu of %llu chunks (%llu did not verify, "
					 "%llu without uncles, %llu malformed)",
					 (unsigned long long)l.n_have,
					 (unsigned long long)l.v.n_chunks,
					 (unsigned long long)l.counts[LEECHER_R_BAD_CHUNK],
					 (unsigned long long)l.counts[LEECHER_R_MISSING_UNCLES],
					 (unsigned long long)l.counts[LEECHER_R_MALFORMED]);
			goto fail;
		}
		if (l.peer_id == 0 && now - t_hs > 250000) {
			n = ppspp_leecher_handshake(&l, buf, sizeof(buf));
			fetch_send(fd, &esp, &e, buf, n, peer_addr_port(&local),
				   ppspp_port);
			t_hs = now;
		}
		if (l.peer_id != 0 && now - fetch_last_send_us >= keepalive * 1000000u) {
			/* Idle (choked, or waiting): a keep-alive, the channel ID alone (RFC 7574
			 * 3.7), so the peer does not take us for dead. */
			const uint8_t ka[4] = { (uint8_t)(l.peer_id >> 24), (uint8_t)(l.peer_id >> 16),
						(uint8_t)(l.peer_id >> 8), (uint8_t)l.peer_id };

			fetch_send(fd, &esp, &e, ka, 4, peer_addr_port(&local), ppspp_port);
		}
		/*
		 * ESP in UDP from behind a NAT (RFC 3948 2.3): after nat_ka seconds in which
		 * nothing went out on the socket, the one-byte keep-alive, or the NAT may drop our
		 * mapping and with it the peer's ESP. It only fills silence: after this pass's
		 * handshake or PPSPP keep-alive, and never while we send. The peer drops it before
		 * PPSPP, so it does not keep the channel: the PPSPP keep-alive above keeps its own
		 * clock (fetch_last_send_us, which this one does not move).
		 */
		if (esp.on && nat_ka != 0) {
			uint64_t t_quiet =
				fetch_last_send_us > t_nat_ka ? fetch_last_send_us : t_nat_ka;

			if (now >= t_quiet && now - t_quiet >= nat_ka * 1000000u) {
				if (peer_esp_keepalive(fd) == 0)
					nat_ka_sent++;
				t_nat_ka = now;
			}
		}
		if (l.peer_id != 0 && t_open == 0)
			t_open = now;
		/* A seeder that has announced nothing a second after its handshake may never
		 * send HAVE (RFC 7574 does not require it): everything is asked for. */
		if (l.peer_id != 0 && !l.have_seen && now - t_open > 1000000)
			ppspp_leecher_peer_has_all(&l);
		/* A chunk that failed verification is asked again after 1 s, then after 2, 4 ...
		 * 64 s if it keeps failing: one corruption in transit is not a stall for good. */
		ppspp_leecher_retry(&l, now, 1000000);
		if (l.peer_id != 0) {
			/*
			 * Nothing verified for 300 ms since the last chunk or request: what is
			 * in flight was lost (datagrams or the uncles they carried); ask again.
			 */
			if (l.n_inflight > 0 && now - (t_req > t_progress ? t_req : t_progress) >
							300000)
				ppspp_leecher_timeout(&l);
			if (l.n_inflight <= window / 2 || l.reask_due) {
				n = ppspp_leecher_requests(&l, buf, sizeof(buf), window);
				if (n > 0) {
					fetch_send(fd, &esp, &e, buf, n, peer_addr_port(&local),
						   ppspp_port);
					t_req = now;
				}
			}
		}
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		/* Up to FETCH_BURST datagrams, then one verification burst over all of them. */
		for (;;) {
			struct leecher_rx rx[FETCH_BURST];
			unsigned nrx = 0;
			size_t ack_len;

			while (nrx < FETCH_BURST) {
				const uint8_t *d;
				size_t dlen;
				ssize_t r = recv(fd, rxbuf[nrx], sizeof(rxbuf[nrx]), MSG_DONTWAIT);

				if (r <= 0)
					break;
				if (peer_esp_unwrap(
					    &esp, &e, rxbuf[nrx], (size_t)r, &d, &dlen, NULL) != 0)
					continue;
				rx[nrx++] = (struct leecher_rx){ .buf = d, .len = dlen };
			}
			if (nrx == 0)
				break;
			uint64_t before = l.n_have;

			l.now_us = peer_now_us();
			ppspp_leecher_input_burst(&l, rx, nrx, fetch_deliver, &fo, ack, sizeof(ack),
						  &ack_len);
			if (fo.err != 0) {
				tool_err("cannot write %s: %s", tmp, strerror(fo.err));
				goto fail;
			}
			if (ack_len > 0)
				fetch_send(fd, &esp, &e, ack, (int)ack_len,
					   peer_addr_port(&local), ppspp_port);
			/* a verified chunk, or the handshake answer, is progress */
			if (l.n_have != before || (l.peer_id != 0 && t_req == 0))
				t_progress = peer_now_us();
			if (nrx < FETCH_BURST)
				break;
		}
		if (tty && peer_now_us() - t_shown > 250000) {
			t_shown = peer_now_us();
			fprintf(stderr, "\rsuperpeer fetch: %3u%% (%llu / %llu chunks)",
				(unsigned)(l.n_have * 100 / l.v.n_chunks),
				(unsigned long long)l.n_have, (unsigned long long)l.v.n_chunks);
		}
	}
	if (tty)
		fputc('\n', stderr);
	/* Tell the seeder we are done: a handshake with source channel 0 closes the channel. */
	if ((n = ppspp_leecher_close(&l, out, sizeof(out))) > 0)
		fetch_send(fd, &esp, &e, out, n, peer_addr_port(&local), ppspp_port);
	if (fsync(fo.fd) != 0 || renameat2(AT_FDCWD, tmp, AT_FDCWD, out_path,
					     RENAME_NOREPLACE) != 0) {
		tool_err("cannot put %s in place: %s", out_path, strerror(errno));
		goto fail;
	}
	double secs = (double)(peer_now_us() - t_start) / 1e6;

	tool_hex(m.swarm_id, hash_len(m.hash), swarm_hex);
	printf("ok: %s, %llu bytes, %llu chunks verified in %.2f s (%.1f MiB/s)%s\n", m.name,
	       (unsigned long long)m.content_len, (unsigned long long)l.v.n_chunks, secs,
	       (double)m.content_len / (1 << 20) / (secs > 0 ? secs : 1e-9),
	       esp.on ? ", ESP" : "");
	if (l.counts[LEECHER_R_BAD_CHUNK] > 0)
		printf("refused %llu chunks that did not verify (%llu asked again)\n",
			(unsigned long long)l.counts[LEECHER_R_BAD_CHUNK],
			(unsigned long long)l.forgiven);
	if (l.lost > 0 || l.counts[LEECHER_R_MISSING_UNCLES] > 0)
		printf("asked again: %llu chunks lost on the way, %llu that came without their "
		       "uncles\n",
			(unsigned long long)l.lost,
			(unsigned long long)l.counts[LEECHER_R_MISSING_UNCLES]);
	if (l.uncles_refused > 0)
		printf("refused %llu copies that came without their uncles when asked again (asked "
		       "again later: the peer may not send uncles)\n",
			(unsigned long long)l.uncles_refused);
	if (nat_ka_sent > 0)
		printf("sent %llu NAT keep-alives while idle (--nat-keepalive %llu)\n",
			(unsigned long long)nat_ka_sent, (unsigned long long)nat_ka);
	printf("%s\n", swarm_hex);
	rc = 0;
	goto out;
fail:
	if (fo.fd >= 0)
		unlink(tmp);
out:
	if (fo.fd >= 0)
		close(fo.fd);
	if (fd >= 0)
		close(fd);
	if (have_leecher)
		ppspp_leecher_fini(&l);
	peer_esp_fini(&esp);
	if (have_engine)
		crypto_engine_fini(&e);
	return rc;
}
