/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the ESP inbound path: UDP 4500 classification, then esp_open_burst
 * with a fixed SA. Input: a flags byte, the window top (8 bytes, big-endian), the packet.
 *   bit 0  ESN                     bit 1  AES-256 (else AES-128)
 *   bit 2  the packet is a UDP 4500 payload: classify first
 *   bit 3  strict-pad SA
 *   bit 4  round trip: the packet is [next header][payload]; it is sealed at top + 1 with the
 *          same key and must open to exactly the same bytes (abort otherwise)
 * The key is fixed (bytes 0..31, salt "fuzz", SPI 0x1000a5c3) so the seed corpus can hold
 * real sealed packets (tests/esp/make_fuzz_seeds.py) that reach the trailer checks. The
 * packet is opened twice in one burst, from two exact-size heap copies, which also drives
 * the in-burst duplicate path; any verdict must be a named reason and a delivered payload
 * must lie inside the packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp_sa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FUZZ_SPI = 0x1000a5c3,
	FUZZ_HDR = 9,
};

static struct crypto_engine eng;
static bool eng_ready;
static struct esp_sa sa_in, sa_out;

static void fuzz_sa(struct esp_sa *sa, enum esp_sa_dir dir, uint8_t flags)
{
	static const uint8_t salt[4] = { 'f', 'u', 'z', 'z' };
	uint8_t key[32];
	struct esp_sa_config c = {
		.spi = FUZZ_SPI, .dir = dir, .esn = flags & 1, .strict_pad = (flags >> 3) & 1,
		.key = key, .key_len = (flags & 2) ? 32 : 16, .salt = salt,
	};

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	if (esp_sa_init(&eng, sa, &c) != 0)
		abort();
}

static void fuzz_round_trip(const uint8_t *in, size_t len, uint64_t top)
{
	uint32_t plen = (uint32_t)len - 1;
	uint32_t cap = esp_sealed_len(plen);
	uint8_t *buf = malloc(cap);
	struct esp_seal_pkt s = { .sa = &sa_out, .src = in + 1, .len = plen, .out_cap = cap,
				  .next_hdr = in[0] };
	struct esp_open_pkt o = { .sa = &sa_in };

	if (buf == NULL)
		abort();
	s.out = buf;
	sa_out.seq = top;
	if (esp_seal_burst(&eng, &s, 1, 0) != 1) {
		/* Only the end of the sequence space may refuse. */
		if (s.reason != ESP_DROP_SEQ_OVERFLOW)
			abort();
		free(buf);
		return;
	}
	o.data = buf;
	o.len = s.out_len;
	esp_open_burst(&eng, &o, 1, 0);
	if (in[0] == ESP_NH_NONE) {
		if (o.reason != ESP_DROP_DUMMY)
			abort();
	} else if (o.reason != ESP_DROP_NONE || o.seq != top + 1 || o.payload_len != plen ||
		   o.next_hdr != in[0] || memcmp(buf + ESP_PREFIX_LEN, in + 1, plen) != 0) {
		abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct esp_open_pkt p[2];
	uint8_t *copy[2];
	uint64_t top = 0;
	uint8_t flags;
	size_t len;

	if (!eng_ready) {
		if (crypto_engine_init(&eng) != 0)
			abort();
		eng_ready = true;
	}
	if (size < FUZZ_HDR)
		return 0;
	flags = data[0];
	for (int i = 1; i < FUZZ_HDR; i++)
		top = top << 8 | data[i];
	data += FUZZ_HDR;
	len = size - FUZZ_HDR;
	if (len > 65535)
		return 0;
	fuzz_sa(&sa_in, ESP_SA_INBOUND, flags);
	sa_in.seq = top;
	if (flags & 0x10) {
		if (len >= 1 && top < UINT64_MAX) {
			fuzz_sa(&sa_out, ESP_SA_OUTBOUND, flags);
			fuzz_round_trip(data, len, top);
			esp_sa_destroy(&sa_out);
		}
		esp_sa_destroy(&sa_in);
		return 0;
	}
	if (flags & 4) {
		enum esp_drop r = esp_udp_classify(data, (uint32_t)len);

		if (r >= ESP_DROP_COUNT)
			abort();
		if (r != ESP_DROP_NONE) {
			esp_sa_destroy(&sa_in);
			return 0;
		}
	}
	for (int i = 0; i < 2; i++) {
		/* Exact-size heap copies so ASan sees any access past the packet. */
		copy[i] = malloc(len > 0 ? len : 1);
		if (copy[i] == NULL)
			abort();
		memcpy(copy[i], data, len);
		p[i] = (struct esp_open_pkt){ .sa = &sa_in, .data = copy[i], .len = (uint32_t)len };
	}
	esp_open_burst(&eng, p, 2, 0);
	for (int i = 0; i < 2; i++) {
		if (p[i].reason >= ESP_DROP_COUNT)
			abort();
		if (p[i].reason == ESP_DROP_NONE &&
		    (size_t)p[i].payload_len + ESP_OVERHEAD > len)
			abort();
		free(copy[i]);
	}
	/* The same packet twice in one burst: never both delivered. */
	if (p[0].reason == ESP_DROP_NONE && p[1].reason == ESP_DROP_NONE)
		abort();
	esp_sa_destroy(&sa_in);
	return 0;
}
