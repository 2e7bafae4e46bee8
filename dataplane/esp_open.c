/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP inbound, per packet, in bursts: classify (UDP 4500), length and lifetime checks, the
 * anti-replay check with ESN inference (RFC 4303 Appendix A2), one AES-GCM open burst in
 * place, then for authenticated packets only: trailer check, window update, lifetime count.
 *
 * No allocation, no syscalls, no locks: scratch lives on the stack, one chunk at a time.
 *
 * Padding: the pad bytes are not checked unless the SA asks for it (strict_pad). Linux's
 * esp4/esp6 never look at them, and they are covered by the ICV, so checking buys no
 * security; RFC 4303 §2.4 leaves the check to the receiver. The pad length is always
 * checked against the plaintext length, as Linux does.
 */
#include <string.h>

#include "esp_sa.h"

enum { ESP_WORD_BITS = 64 };

enum esp_drop esp_udp_classify(const uint8_t *payload, uint32_t len)
{
	if (len == ESP_UDP_KEEPALIVE_LEN && payload[0] == ESP_UDP_KEEPALIVE_BYTE)
		return ESP_DROP_KEEPALIVE;
	/* RFC 3948 §2.2: an SPI is never 0, so four zero bytes can only be the IKE marker. */
	if (len >= ESP_UDP_NON_ESP_MARKER_LEN && esp_be32_get(payload) == 0)
		return ESP_DROP_NON_ESP;
	if (len < ESP_MIN_LEN)
		return ESP_DROP_SHORT;
	return ESP_DROP_NONE;
}

static bool esp_replay_seen(const struct esp_sa *sa, uint64_t seq)
{
	uint64_t bit = seq % ESP_REPLAY_WINDOW;

	return (sa->replay[bit / ESP_WORD_BITS] >> (bit % ESP_WORD_BITS)) & 1;
}

/*
 * The full sequence number of a received seq_lo, and whether the window still admits it.
 * With ESN the high half is inferred as in RFC 4303 Appendix A2.2: the window [Tl, Th] lies
 * either within one 2^32 subspace (case A) or straddles two (case B).
 */
static enum esp_drop esp_replay_check(const struct esp_sa *sa, uint32_t seq_lo, uint64_t *seq)
{
	uint64_t top = sa->seq;
	uint64_t s;

	if (sa->esn) {
		uint32_t th = (uint32_t)top;
		uint32_t hi = (uint32_t)(top >> 32);
		uint32_t tl = th - (ESP_REPLAY_WINDOW - 1); /* mod 2^32, as the RFC means it */

		if (th >= ESP_REPLAY_WINDOW - 1) {
			/* Case A: below Tl can only be the next subspace. */
			if (seq_lo < tl) {
				if (hi == UINT32_MAX)
					return ESP_DROP_TOO_OLD; /* past 2^64: never sent */
				hi++;
			}
		} else if (seq_lo >= tl) {
			/* Case B: at or above Tl is the previous subspace. */
			if (hi == 0)
				return ESP_DROP_TOO_OLD; /* before the first subspace */
			hi--;
		}
		s = (uint64_t)hi << 32 | seq_lo;
	} else {
		s = seq_lo;
	}
	*seq = s;
	if (s == 0)
		return ESP_DROP_SEQ_ZERO;
	if (s > top)
		return ESP_DROP_NONE;
	if (top - s >= ESP_REPLAY_WINDOW)
		return ESP_DROP_TOO_OLD;
	if (esp_replay_seen(sa, s))
		return ESP_DROP_REPLAY;
	return ESP_DROP_NONE;
}

/* Clears the window bits of n sequence numbers from `from` on (n < ESP_REPLAY_WINDOW). */
static void esp_replay_clear(uint64_t *bm, uint64_t from, uint64_t n)
{
	while (n > 0) {
		unsigned off = (unsigned)(from % ESP_WORD_BITS);
		uint64_t k = ESP_WORD_BITS - off;
		uint64_t mask;

		if (k > n)
			k = n;
		mask = (k == ESP_WORD_BITS ? UINT64_MAX : (UINT64_C(1) << k) - 1) << off;
		bm[(from / ESP_WORD_BITS) % ESP_REPLAY_WORDS] &= ~mask;
		from += k;
		n -= k;
	}
}

/*
 * Records an authenticated sequence number. The check runs again because an earlier packet
 * of the same burst may have moved the window or carried the same number.
 */
static enum esp_drop esp_replay_update(struct esp_sa *sa, uint64_t seq)
{
	uint64_t bit = seq % ESP_REPLAY_WINDOW;

	if (seq > sa->seq) {
		uint64_t d = seq - sa->seq;

		if (d >= ESP_REPLAY_WINDOW)
			memset(sa->replay, 0, sizeof(sa->replay));
		else
			esp_replay_clear(sa->replay, sa->seq + 1, d);
		sa->seq = seq;
	} else if (sa->seq - seq >= ESP_REPLAY_WINDOW) {
		return ESP_DROP_TOO_OLD;
	} else if (esp_replay_seen(sa, seq)) {
		return ESP_DROP_REPLAY;
	}
	sa->replay[bit / ESP_WORD_BITS] |= UINT64_C(1) << (bit % ESP_WORD_BITS);
	return ESP_DROP_NONE;
}

/* Everything that can refuse a packet before decryption. */
static enum esp_drop esp_open_precheck(struct esp_open_pkt *p, uint64_t now)
{
	struct esp_sa *sa = p->sa;

	if (sa == NULL)
		return ESP_DROP_BAD_SPI;
	if (sa->dir != ESP_SA_INBOUND || p->data == NULL)
		return ESP_DROP_BAD_DESC;
	if (p->len < ESP_MIN_LEN)
		return ESP_DROP_SHORT;
	if (now >= sa->next_time)
		p->events |= (uint8_t)esp_sa_lifetime_check(sa, now);
	if (sa->expired & ESP_EV_HARD_EXPIRED)
		return ESP_DROP_HARD_EXPIRED;
	return esp_replay_check(sa, esp_be32_get(p->data + 4), &p->seq);
}

/* Pad bytes 1, 2, 3, ... (RFC 4303 §2.4 default), for strict-pad SAs. */
static bool esp_pad_default(const uint8_t *pad, unsigned pad_len)
{
	uint8_t diff = 0;

	for (unsigned k = 0; k < pad_len; k++)
		diff |= (uint8_t)(pad[k] ^ (k + 1));
	return diff == 0;
}

/* Everything after the ICV check. The plaintext is ct_len bytes at data + ESP_PREFIX_LEN. */
static enum esp_drop esp_open_finish(struct esp_open_pkt *p, const struct aead_op *op, uint64_t now)
{
	struct esp_sa *sa = p->sa;
	uint8_t *pt = op->dst;
	uint32_t ct_len = op->len;
	enum esp_drop r;
	unsigned pad;

	if (op->status != 0)
		return ESP_DROP_ICV; /* aead_open_burst has wiped the plaintext */
	pad = pt[ct_len - 2];
	if (sa->expired & ESP_EV_HARD_EXPIRED) {
		/* An earlier packet of this burst reached the hard limit. */
		r = ESP_DROP_HARD_EXPIRED;
	} else if (pad + ESP_TRAILER_LEN > ct_len) {
		r = ESP_DROP_BAD_TRAILER;
	} else if (sa->strict_pad && !esp_pad_default(pt + ct_len - ESP_TRAILER_LEN - pad, pad)) {
		r = ESP_DROP_BAD_PAD;
	} else {
		r = esp_replay_update(sa, p->seq);
	}
	if (r != ESP_DROP_NONE) {
		crypto_wipe(pt, ct_len);
		return r;
	}
	p->next_hdr = pt[ct_len - 1];
	p->payload_len = ct_len - ESP_TRAILER_LEN - pad;
	sa->packets++;
	sa->bytes += p->payload_len;
	if (sa->packets >= sa->next_packets || sa->bytes >= sa->next_bytes)
		p->events |= (uint8_t)esp_sa_lifetime_check(sa, now);
	/* RFC 4303 §2.6: authenticated, counted and in the window, but never delivered. */
	if (p->next_hdr == ESP_NH_NONE) {
		crypto_wipe(pt, ct_len);
		return ESP_DROP_DUMMY;
	}
	return ESP_DROP_NONE;
}

static void esp_open_chunk(
	struct crypto_engine *e, struct esp_open_pkt *pkts, unsigned n, uint64_t now)
{
	struct aead_op ops[ESP_BURST_CHUNK];
	struct esp_nonce nonce[ESP_BURST_CHUNK];
	struct esp_aad_esn aad[ESP_BURST_CHUNK];
	uint8_t which[ESP_BURST_CHUNK];
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++) {
		struct esp_open_pkt *p = &pkts[i];
		struct aead_op *op = &ops[m];
		struct esp_sa *sa = p->sa;

		p->events = 0;
		p->payload_len = 0;
		p->next_hdr = 0;
		p->seq = 0;
		p->reason = (uint8_t)esp_open_precheck(p, now);
		if (p->reason != ESP_DROP_NONE) {
			if (sa != NULL)
				sa->drops[p->reason]++;
			continue;
		}
		memcpy(nonce[m].salt, sa->salt, ESP_SALT_LEN);
		memcpy(nonce[m].iv, p->data + ESP_HDR_LEN, ESP_IV_LEN);
		if (sa->esn) {
			/* The SPI as received: the AAD authenticates the wire bytes. */
			memcpy(aad[m].spi_be, p->data, 4);
			esp_be32_put(aad[m].seq_hi_be, (uint32_t)(p->seq >> 32));
			memcpy(aad[m].seq_lo_be, p->data + 4, 4);
			op->aad = (const uint8_t *)&aad[m];
			op->aad_len = ESP_AAD_ESN_LEN;
		} else {
			op->aad = p->data; /* SPI || seq_lo, exactly the ESP header */
			op->aad_len = ESP_AAD_LEN;
		}
		op->key = &sa->key;
		op->segs = NULL;
		op->n_segs = 0;
		op->iv = (const uint8_t *)&nonce[m];
		op->src = p->data + ESP_PREFIX_LEN;
		op->dst = p->data + ESP_PREFIX_LEN;
		op->len = p->len - ESP_PREFIX_LEN - ESP_ICV_LEN;
		op->tag = p->data + p->len - ESP_ICV_LEN;
		which[m++] = (uint8_t)i;
	}
	if (m == 0)
		return;
	aead_open_burst(e, ops, m);
	for (unsigned j = 0; j < m; j++) {
		struct esp_open_pkt *p = &pkts[which[j]];

		p->reason = (uint8_t)esp_open_finish(p, &ops[j], now);
		if (p->reason != ESP_DROP_NONE)
			p->sa->drops[p->reason]++;
	}
	/* The nonces hold the salt, which is key material. */
	crypto_wipe(nonce, m * sizeof(nonce[0]));
}

unsigned esp_open_burst(
	struct crypto_engine *e, struct esp_open_pkt *pkts, unsigned n, uint64_t now)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i += ESP_BURST_CHUNK) {
		unsigned m = n - i < ESP_BURST_CHUNK ? n - i : ESP_BURST_CHUNK;

		esp_open_chunk(e, pkts + i, m, now);
	}
	for (unsigned i = 0; i < n; i++)
		ok += pkts[i].reason == ESP_DROP_NONE;
	return ok;
}
