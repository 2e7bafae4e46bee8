/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP (RFC 4303) with AES-GCM (RFC 4106), optionally in UDP (RFC 3948): every wire constant
 * and fixed layout the ESP module reads or writes. docs/esp.md is the prose version.
 *
 * A packet, transport mode, as it follows the IP header (or the UDP header on port 4500):
 *
 *   | SPI (4) | seq_lo (4) | IV (8) | payload | pad (0-255) | pad_len | next hdr | ICV (16) |
 *   '------ AAD ----------'          '------------- GCM plaintext -------------'
 *
 * With ESN the AAD is SPI || seq_hi || seq_lo (12 bytes); seq_hi is never sent. The GCM nonce
 * is salt (4, from the key material) || IV (8, sent). All integers are big-endian: the
 * structs below carry them as bytes so no field is ever read in host order by accident, and
 * because a packet may start at any offset (memcpy/byte access only).
 */
#ifndef SUPERPEER_ESP_WIRE_H
#define SUPERPEER_ESP_WIRE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

enum {
	ESP_HDR_LEN = 8,	 /* SPI + sequence number (low 32 bits) */
	ESP_IV_LEN = 8,		 /* RFC 4106 §3.1 explicit IV */
	ESP_SALT_LEN = 4,	 /* RFC 4106 §8.1: last 4 bytes of the key material */
	ESP_ICV_LEN = 16,	 /* RFC 4106 §6: the 16-byte ICV, the only one we use */
	ESP_TRAILER_LEN = 2,	 /* pad length + next header */
	ESP_PAD_ALIGN = 4,	 /* RFC 4303 §2.4: ciphertext ends on a 4-byte boundary */
	ESP_PAD_MAX = 255,	 /* the pad length field is one byte */
	ESP_AAD_LEN = 8,	 /* SPI || seq_lo */
	ESP_AAD_ESN_LEN = 12,	 /* SPI || seq_hi || seq_lo */
	/* Header + IV before the ciphertext. */
	ESP_PREFIX_LEN = ESP_HDR_LEN + ESP_IV_LEN,
	/* The shortest packet that can be valid: empty payload, no padding. */
	ESP_MIN_LEN = ESP_PREFIX_LEN + ESP_TRAILER_LEN + ESP_ICV_LEN,
	/* Bytes the ESP encapsulation adds beyond payload and padding. */
	ESP_OVERHEAD = ESP_PREFIX_LEN + ESP_TRAILER_LEN + ESP_ICV_LEN,
};

/* RFC 4303 §2.1: SPIs 1..255 are reserved by IANA, 0 is for local use and never sent. */
enum {
	ESP_SPI_RESERVED_MAX = 255,
};

/* Next header values the module itself interprets (IANA protocol numbers). */
enum {
	ESP_NH_UDP = 17,
	ESP_NH_NONE = 59, /* RFC 4303 §2.6: a dummy (TFC) packet, discarded by the receiver */
};

/* RFC 3948: UDP encapsulation. */
enum {
	ESP_UDP_PORT = 4500,
	ESP_UDP_KEEPALIVE_LEN = 1,	/* §2.3: one byte, 0xFF */
	ESP_UDP_KEEPALIVE_BYTE = 0xff,
	ESP_UDP_NON_ESP_MARKER_LEN = 4, /* §2.2: four zero bytes in front of an IKE message */
};

/* The first 8 bytes of every ESP packet (and the AAD without ESN). */
struct esp_hdr {
	uint8_t spi_be[4];
	uint8_t seq_be[4];
};

/* The two bytes at the end of the plaintext, just before the ICV. */
struct esp_trailer {
	uint8_t pad_len;
	uint8_t next_hdr;
};

/* The AAD with ESN (RFC 4106 §5): the high half of the sequence number sits in the middle. */
struct esp_aad_esn {
	uint8_t spi_be[4];
	uint8_t seq_hi_be[4];
	uint8_t seq_lo_be[4];
};

/* The GCM nonce (RFC 4106 §4). */
struct esp_nonce {
	uint8_t salt[ESP_SALT_LEN];
	uint8_t iv[ESP_IV_LEN];
};

static_assert(sizeof(struct esp_hdr) == ESP_HDR_LEN, "ESP header is 8 bytes");
static_assert(sizeof(struct esp_trailer) == ESP_TRAILER_LEN, "ESP trailer is 2 bytes");
static_assert(sizeof(struct esp_aad_esn) == ESP_AAD_ESN_LEN, "ESN AAD is 12 bytes");
static_assert(sizeof(struct esp_nonce) == 12, "GCM nonce is salt + IV, 12 bytes");
static_assert(ESP_MIN_LEN == 34, "header 8 + IV 8 + trailer 2 + ICV 16");

static inline uint32_t esp_be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void esp_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void esp_be64_put(uint8_t *p, uint64_t v)
{
	esp_be32_put(p, (uint32_t)(v >> 32));
	esp_be32_put(p + 4, (uint32_t)v);
}

/* SPI of a packet of at least ESP_HDR_LEN bytes, in host order: the caller's lookup key. */
static inline uint32_t esp_hdr_spi(const uint8_t *pkt)
{
	return esp_be32_get(pkt);
}

#endif
