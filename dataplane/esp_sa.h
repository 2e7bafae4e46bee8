/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP security associations (RFC 4303 transport mode, AES-GCM per RFC 4106) and the
 * per-packet burst calls that use them. No DPDK: the data plane and the user-peer tool
 * (kernel sockets) run this same code. Wire layout: include/esp_wire.h; profile: docs/esp.md.
 *
 * Threading: an SA is owned by one thread at a time (inbound SAs follow RSS to one worker,
 * outbound SAs to the worker serving that peer). Nothing here takes a lock or uses atomics;
 * two threads must never pass the same SA to the burst calls at once.
 *
 * Time: the caller passes `now` in seconds on any monotonic clock of its choice, the same
 * clock for esp_sa_init and the bursts; the module itself never reads a clock (no syscalls
 * per packet).
 */
#ifndef SUPERPEER_ESP_SA_H
#define SUPERPEER_ESP_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "esp_wire.h"

/*
 * Every reason a packet is not delivered: (ENUM, short name for telemetry, description).
 * One list feeds enum esp_drop, the name tables and the per-SA counters; the data plane feeds
 * its per-lcore counters from the reason each packet comes back with.
 */
#define ESP_DROP_REASONS(_)                                                                        \
	_(NONE, "ok", "delivered")                                                                 \
	_(SHORT, "short", "shorter than header + IV + trailer + ICV")                              \
	_(KEEPALIVE, "keepalive", "UDP 4500 NAT keep-alive (RFC 3948 2.3), consumed")              \
	_(NON_ESP, "non_esp", "UDP 4500 non-ESP marker: IKE, not handled by the data plane")       \
	_(BAD_SPI, "bad_spi", "no SA for the SPI (the caller's lookup)")                           \
	_(BAD_DESC, "bad_desc", "descriptor the SA cannot take (direction, pointers)")             \
	_(HARD_EXPIRED, "hard_expired", "SA hard lifetime reached")                                \
	_(SEQ_ZERO, "seq_zero", "sequence number 0, which is never sent")                          \
	_(TOO_OLD, "too_old", "older than the anti-replay window")                                 \
	_(REPLAY, "replay", "duplicate inside the anti-replay window")                             \
	_(ICV, "icv", "ICV mismatch (forged, corrupted, wrong key or wrong ESN guess)")            \
	_(BAD_TRAILER, "bad_trailer", "pad length runs past the plaintext")                        \
	_(BAD_PAD, "bad_pad", "pad bytes not 1, 2, 3, ... (strict-pad SAs only)")                  \
	_(DUMMY, "dummy", "next header 59: a dummy (TFC) packet, RFC 4303 2.6")                    \
	_(SEQ_OVERFLOW, "seq_overflow", "outbound sequence numbers exhausted: rekey")              \
	_(NO_ROOM, "no_room", "output buffer too small for the sealed packet")

enum esp_drop {
#define ESP_DROP_ENUM(e, name, text) ESP_DROP_##e,
	ESP_DROP_REASONS(ESP_DROP_ENUM)
#undef ESP_DROP_ENUM
		ESP_DROP_COUNT,
};

/* "replay", "icv", ...; "?" for a value outside the list. */
const char *esp_drop_name(unsigned reason);
/* One-line description of a reason. */
const char *esp_drop_text(unsigned reason);

/*
 * Anti-replay window: 4096 packets. RFC 4303 asks for 32 at least and 64 by default; the
 * project asks for 1024 at least. 4096 tolerates the reordering a multi-queue sender and
 * RSS on our side produce at line rate (several 32..256-packet bursts in flight per peer,
 * ~4 ms at 1 Mpps per SA) while costing 512 bytes (8 cache lines) per inbound SA. The window
 * is a ring indexed by seq mod 4096, so advancing never shifts the bitmap: at most 65 words
 * are cleared on a jump, and a power of two makes the index a mask.
 */
enum {
	ESP_REPLAY_WINDOW = 4096,
	ESP_REPLAY_WORDS = ESP_REPLAY_WINDOW / 64,
};

/* Packets per chunk of a burst call (stack scratch); any n may be passed. */
enum {
	ESP_BURST_CHUNK = 64,
};

enum esp_sa_dir {
	ESP_SA_INBOUND = 0,
	ESP_SA_OUTBOUND = 1,
};

/* esp_sa.expired and the per-packet events bits. */
enum {
	ESP_EV_SOFT_EXPIRED = 1 << 0, /* tell control to rekey; the SA keeps working */
	ESP_EV_HARD_EXPIRED = 1 << 1, /* the SA refuses every further packet */
};

/*
 * Lifetime limits; 0 = no limit. Bytes count payload (the data before padding), the same
 * for both directions. Packets and bytes count only delivered (inbound: authenticated and
 * accepted) or sealed packets. A hard limit of N packets lets exactly N through; a byte
 * limit lets through the packet that crosses it and refuses the next one.
 */
struct esp_lifetime {
	uint64_t packets;
	uint64_t bytes;
	uint64_t seconds;
};

struct esp_sa_config {
	uint32_t spi; /* host order; 256 and up (RFC 4303 2.1) */
	enum esp_sa_dir dir;
	bool esn;	    /* RFC 4303 extended sequence numbers in the ICV */
	bool strict_pad;    /* refuse pad bytes other than 1, 2, 3, ... (Linux does not) */
	const uint8_t *key; /* 16 or 32 bytes: AES-128/256 */
	size_t key_len;
	const uint8_t *salt; /* ESP_SALT_LEN bytes */
	struct esp_lifetime soft;
	struct esp_lifetime hard;
	uint64_t now; /* seconds, the clock the bursts will be given */
};

/*
 * The SA. The first cache line is everything the packet path reads and writes besides the
 * key and the window; limits and drop counters sit in the cold tail. Lifetime checks are one
 * compare each: next_* hold the lowest soft or hard limit not yet crossed, and the slow path
 * (esp_sa_lifetime_check) runs only when one is reached.
 */
struct esp_sa {
	/* ---- hot: one cache line ---- */
	uint8_t spi_be[4];
	uint8_t salt[ESP_SALT_LEN];
	uint32_t spi;
	uint8_t dir; /* enum esp_sa_dir */
	uint8_t esn;
	uint8_t strict_pad;
	uint8_t expired; /* ESP_EV_* bits already reached */
	/* outbound: the last sequence number sent (0: none yet); inbound: the window's top. */
	uint64_t seq;
	uint64_t packets;
	uint64_t bytes;
	uint64_t next_packets;
	uint64_t next_bytes;
	uint64_t next_time;
	/* ---- the expanded key: round keys and GHASH tables ---- */
	struct aead_key key;
	/* ---- inbound anti-replay window: bit (seq mod 4096) set = seen ---- */
	uint64_t replay[ESP_REPLAY_WORDS] __attribute__((aligned(64)));
	/* ---- cold ---- */
	struct esp_lifetime soft __attribute__((aligned(64)));
	struct esp_lifetime hard;
	uint64_t created;
	uint64_t drops[ESP_DROP_COUNT]; /* per-SA refusals by reason */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct esp_sa, key) == 64, "the hot part of an SA is one cache line");

/*
 * Expands the key into sa (the key bytes are not kept) and sets the counters. sa may be any
 * 64-byte-aligned storage. 0, or -EINVAL (key length, salt, reserved SPI, direction).
 */
int esp_sa_init(struct crypto_engine *e, struct esp_sa *sa, const struct esp_sa_config *cfg);
/* Wipes the whole SA, key schedule included. */
void esp_sa_destroy(struct esp_sa *sa);

/*
 * Lifetime slow path, called by the bursts when a next_* threshold is reached: sets the
 * expired bits, moves the thresholds on, and returns the ESP_EV_* bits newly reached.
 */
unsigned esp_sa_lifetime_check(struct esp_sa *sa, uint64_t now);

/* Length of the sealed packet (ESP header to ICV) for a payload of len bytes. */
static inline uint32_t esp_sealed_len(uint32_t len)
{
	uint32_t ct = (len + ESP_TRAILER_LEN + ESP_PAD_ALIGN - 1) & ~(uint32_t)(ESP_PAD_ALIGN - 1);

	return ESP_PREFIX_LEN + ct + ESP_ICV_LEN;
}

/* ---- inbound (esp_open.c) ----------------------------------------------------------- */

/*
 * Classifies the payload of a UDP datagram to port 4500 (RFC 3948): ESP_DROP_NONE for ESP
 * (hand it to esp_open_burst), ESP_DROP_KEEPALIVE for the one-byte 0xFF keep-alive,
 * ESP_DROP_NON_ESP for the four-zero-byte marker of IKE, ESP_DROP_SHORT otherwise.
 */
enum esp_drop esp_udp_classify(const uint8_t *payload, uint32_t len);

/* One received packet. */
struct esp_open_pkt {
	struct esp_sa *sa;    /* in: the caller's lookup by SPI; NULL counts as bad_spi */
	uint8_t *data;	      /* in: the ESP header; decrypted in place */
	uint32_t len;	      /* in: bytes from the ESP header to the end of the ICV */
	uint32_t payload_len; /* out: payload at data + ESP_PREFIX_LEN */
	uint64_t seq;	      /* out: the full 64-bit sequence number, once inferred */
	uint8_t next_hdr;     /* out: from the trailer */
	uint8_t reason;	      /* out: enum esp_drop; ESP_DROP_NONE = deliver */
	uint8_t events;	      /* out: ESP_EV_* reached while handling this packet */
};

/*
 * Opens n packets in place: length checks, lifetime, anti-replay check, one AES-GCM burst,
 * then (authenticated packets only) trailer check and window update. A refused packet's
 * plaintext is wiped. Returns the number delivered (reason ESP_DROP_NONE).
 */
unsigned esp_open_burst(
	struct crypto_engine *e, struct esp_open_pkt *pkts, unsigned n, uint64_t now);

/* ---- outbound (esp_seal.c) ---------------------------------------------------------- */

/* One packet to send. */
struct esp_seal_pkt {
	struct esp_sa *sa;  /* in: an outbound SA */
	const uint8_t *src; /* in: payload; out + ESP_PREFIX_LEN for in place; may overlap */
	uint8_t *out;	    /* in: where the ESP header goes */
	uint32_t len;	    /* in: payload length (of src) */
	/*
	 * in: ext_len more payload bytes after src's, read at ext (outside the packet, e.g. a
	 * chunk in the mapped store) and encrypted straight into place: never copied in clear.
	 */
	uint32_t ext_len;
	const uint8_t *ext;
	uint32_t out_cap; /* in: bytes available at out (esp_sealed_len(len) needed) */
	uint32_t out_len; /* out: esp_sealed_len(len) when sealed */
	uint64_t seq;	  /* out: the sequence number used (also the IV) */
	uint8_t next_hdr; /* in: e.g. ESP_NH_UDP */
	uint8_t reason;	  /* out: enum esp_drop */
	uint8_t events;	  /* out: ESP_EV_* */
};

/*
 * Seals n packets: ESP header, IV = the 64-bit sequence number, padding as Linux writes it
 * for rfc4106(gcm(aes)), trailer, ICV. Returns the number sealed.
 */
unsigned esp_seal_burst(
	struct crypto_engine *e, struct esp_seal_pkt *pkts, unsigned n, uint64_t now);

#endif
