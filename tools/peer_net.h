/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What superpeer fetch and seed share on kernel UDP sockets: addresses, and ESP in UDP
 * (RFC 3948) with the project's own ESP (dataplane/esp_*.c) for hosts whose kernel does not
 * protect the traffic itself. In ESP mode a UDP datagram carries ESP in transport mode whose
 * payload is the inner UDP header (ports, length, checksum 0: the ICV already covers it) and
 * the PPSPP datagram; next header 17.
 */
#ifndef SUPERPEER_PEER_NET_H
#define SUPERPEER_PEER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto.h"
#include "esp_sa.h"

/* "1.2.3.4:PORT" or "[::1]:PORT" (numeric only). 0 or -EINVAL. */
int peer_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);
/* Port of an AF_INET or AF_INET6 address, host order. */
uint16_t peer_addr_port(const struct sockaddr_storage *ss);
/* "1.2.3.4:5678" / "[::1]:5678" into buf. */
void peer_addr_format(const struct sockaddr_storage *ss, char *buf, size_t cap);

struct peer_esp {
	bool on;
	struct esp_sa *in;  /* 64-byte aligned allocations */
	struct esp_sa *out;
	uint64_t drops[ESP_DROP_COUNT];
};

/*
 * SAs from "SPI:KEYSALT" arguments as `ip xfrm state ... aead 'rfc4106(gcm(aes))' KEYSALT 128`
 * writes them: SPI in decimal or 0x-hex, KEYSALT 0x-hex of the 16- or 32-byte key followed by
 * the 4-byte salt. Both NULL: ESP off. 0, or 1 after printing the problem.
 */
int peer_esp_init(struct peer_esp *p, struct crypto_engine *e, const char *in_arg,
		  const char *out_arg, bool esn);
void peer_esp_fini(struct peer_esp *p);

/*
 * The UDP payload for a PPSPP datagram: itself when ESP is off, else sealed (with the inner
 * UDP header from sport to dport). Length, or -1 (sequence numbers exhausted, no room).
 */
int peer_esp_wrap(struct peer_esp *p, struct crypto_engine *e, const uint8_t *dgram, size_t len,
		  uint8_t *out, size_t cap, uint16_t sport, uint16_t dport);
/*
 * The PPSPP datagram in a received UDP payload (decrypted in place). 0, or -1 with the reason
 * counted in p->drops (keep-alives count as ESP_DROP_KEEPALIVE). With ESP, *inner_sport (if
 * not NULL) is the inner UDP header's source port, which an answer must go to: it need not
 * be the outer one (a data plane sends from 4500, its PPSPP port inside); without, 0.
 */
int peer_esp_unwrap(struct peer_esp *p, struct crypto_engine *e, uint8_t *pkt, size_t len,
	const uint8_t **dgram, size_t *dlen, uint16_t *inner_sport);

/*
 * RFC 3948 2.3: a NAT keep-alive, the one octet 0xFF, on a connected ESP-in-UDP socket. A NAT
 * between us and the peer keeps our UDP mapping only while something goes out through it;
 * the peer consumes the keep-alive before ESP (esp_udp_classify). 0, or -1 with errno set.
 */
int peer_esp_keepalive(int fd);

/* Bytes ESP in UDP adds to a PPSPP datagram at most (header, IV, inner UDP, pad, ICV). */
enum { PEER_ESP_OVERHEAD = ESP_OVERHEAD + 8 + 3 };

/*
 * Large socket buffers (8 MiB; beyond rmem_max/wmem_max when allowed): without LEDBAT yet,
 * a window of chunks arrives as one burst, and a default 208 KiB buffer drops most of it.
 */
void peer_socket_buffers(int fd);

/* Monotonic seconds and microseconds. */
uint64_t peer_now_s(void);
uint64_t peer_now_us(void);

#endif
