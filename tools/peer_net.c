/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp_arg.h"
#include "peer_net.h"
#include "tool.h"

int peer_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		colon = rb + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || colon[1] == '\0' || port > 65535)
		return -EINVAL;
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

uint16_t peer_addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

void peer_addr_format(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
		snprintf(buf, cap, "[%s]:%u", host, ntohs(v6->sin6_port));
	} else {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
		snprintf(buf, cap, "%s:%u", host, ntohs(v4->sin_port));
	}
}

void peer_socket_buffers(int fd)
{
	int sz = 8 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

uint64_t peer_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t peer_now_s(void)
{
	return peer_now_us() / 1000000u;
}

static int peer_sa_make(struct crypto_engine *e, struct esp_sa **out, const char *arg,
			enum esp_sa_dir dir, bool esn, const char *opt)
{
	char err[160];

	if (esp_arg_sa_new(e, arg, dir, esn, peer_now_s(), out, err, sizeof(err)) != 0)
		return tool_err("%s: %s", opt, err);
	return 0;
}

int peer_esp_init(struct peer_esp *p, struct crypto_engine *e, const char *in_arg,
		  const char *out_arg, bool esn)
{
	memset(p, 0, sizeof(*p));
	if (in_arg == NULL && out_arg == NULL)
		return 0;
	if (in_arg == NULL || out_arg == NULL)
		return tool_err("ESP needs both --sa-in and --sa-out");
	if (peer_sa_make(e, &p->in, in_arg, ESP_SA_INBOUND, esn, "--sa-in") != 0 ||
	    peer_sa_make(e, &p->out, out_arg, ESP_SA_OUTBOUND, esn, "--sa-out") != 0) {
		peer_esp_fini(p);
		return 1;
	}
	p->on = true;
	return 0;
}

void peer_esp_fini(struct peer_esp *p)
{
	esp_arg_sa_free(p->in);
	esp_arg_sa_free(p->out);
	memset(p, 0, sizeof(*p));
}

int peer_esp_wrap(struct peer_esp *p, struct crypto_engine *e, const uint8_t *dgram, size_t len,
		  uint8_t *out, size_t cap, uint16_t sport, uint16_t dport)
{
	uint8_t inner[65536];
	struct esp_seal_pkt pkt;

	if (!p->on) {
		if (len > cap)
			return -1;
		memcpy(out, dgram, len);
		return (int)len;
	}
	if (len + 8 > sizeof(inner))
		return -1;
	/* inner UDP header: ports, length, checksum 0 (the ICV covers it) */
	inner[0] = (uint8_t)(sport >> 8);
	inner[1] = (uint8_t)sport;
	inner[2] = (uint8_t)(dport >> 8);
	inner[3] = (uint8_t)dport;
	inner[4] = (uint8_t)((len + 8) >> 8);
	inner[5] = (uint8_t)(len + 8);
	inner[6] = 0;
	inner[7] = 0;
	memcpy(inner + 8, dgram, len);
	pkt = (struct esp_seal_pkt){ .sa = p->out, .src = inner, .out = out,
				     .len = (uint32_t)(len + 8), .out_cap = (uint32_t)cap,
				     .next_hdr = ESP_NH_UDP };
	if (esp_seal_burst(e, &pkt, 1, peer_now_s()) != 1) {
		p->drops[pkt.reason]++;
		return -1;
	}
	return (int)pkt.out_len;
}

int peer_esp_unwrap(struct peer_esp *p, struct crypto_engine *e, uint8_t *pkt, size_t len,
	const uint8_t **dgram, size_t *dlen, uint16_t *inner_sport)
{
	struct esp_open_pkt o;
	enum esp_drop why;
	const uint8_t *inner;

	if (inner_sport != NULL)
		*inner_sport = 0;
	if (!p->on) {
		*dgram = pkt;
		*dlen = len;
		return 0;
	}
	why = esp_udp_classify(pkt, (uint32_t)len);
	if (why != ESP_DROP_NONE) {
		p->drops[why]++;
		return -1;
	}
	o = (struct esp_open_pkt){ .sa = p->in, .data = pkt, .len = (uint32_t)len };
	if (memcmp(pkt, p->in->spi_be, 4) != 0)
		o.sa = NULL; /* not our SPI: counted as bad_spi by the burst */
	if (esp_open_burst(e, &o, 1, peer_now_s()) != 1) {
		p->drops[o.reason]++;
		return -1;
	}
	inner = pkt + ESP_PREFIX_LEN;
	if (o.next_hdr != ESP_NH_UDP || o.payload_len < 8 ||
	    (size_t)(inner[4] << 8 | inner[5]) != o.payload_len) {
		p->drops[ESP_DROP_BAD_TRAILER]++;
		return -1;
	}
	*dgram = inner + 8;
	*dlen = o.payload_len - 8;
	if (inner_sport != NULL)
		*inner_sport = (uint16_t)(inner[0] << 8 | inner[1]);
	return 0;
}

int peer_esp_keepalive(int fd)
{
	static const uint8_t ka[ESP_UDP_KEEPALIVE_LEN] = {ESP_UDP_KEEPALIVE_BYTE};

	return send(fd, ka, sizeof(ka), 0) == (ssize_t)sizeof(ka) ? 0 : -1;
}
