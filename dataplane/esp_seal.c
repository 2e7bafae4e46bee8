/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP outbound, per packet, in bursts: sequence number, header, IV, padding, trailer, then
 * one AES-GCM seal burst in place.
 *
 * Padding is what Linux's esp4/esp6 write for rfc4106(gcm(aes)): the cipher's block size is
 * 1, aligned up to 4, so payload + 2 is padded to a multiple of 4 with bytes 1, 2, 3, ...
 * (RFC 4303 §2.4 default). 0..3 pad bytes; no TFC padding.
 *
 * IV: the 64-bit sequence number, big-endian. RFC 4106 §3.1 requires only that an IV never
 * repeats under one key; the sequence number of an SA never repeats (it only goes up, and
 * the SA refuses to send once it would wrap), so neither does the IV, and it costs no
 * random bytes per packet. Linux sends seq XOR a per-SA random value; the receiver cannot
 * tell the difference.
 *
 * Out of place: src (the headers a caller built) is moved into the packet when it is not
 * there already; ext (a chunk in the mapped store) is encrypted straight into the packet by
 * one gathered AES-GCM op (ipsec-mb SGL): headers in place, chunk from the store, trailer in
 * place. The chunk is read once and its plaintext never lands in the packet.
 */
#include <string.h>

#include "esp_sa.h"

/* Payload lengths above this would overflow the 32-bit sealed length. */
#define ESP_SEAL_LEN_MAX (UINT32_MAX - ESP_OVERHEAD - ESP_PAD_ALIGN)

/* Everything that can refuse a packet, then the sequence number and the lifetime count. */
static enum esp_drop esp_seal_precheck(struct esp_seal_pkt *p, uint64_t now)
{
	struct esp_sa *sa = p->sa;
	uint64_t seq_max;

	if (sa == NULL || sa->dir != ESP_SA_OUTBOUND || p->out == NULL ||
		(p->src == NULL && p->len > 0) || (p->ext == NULL && p->ext_len > 0))
		return ESP_DROP_BAD_DESC;
	if (p->len > ESP_SEAL_LEN_MAX || p->ext_len > ESP_SEAL_LEN_MAX - p->len ||
		esp_sealed_len(p->len + p->ext_len) > p->out_cap)
		return ESP_DROP_NO_ROOM;
	if (now >= sa->next_time)
		p->events |= (uint8_t)esp_sa_lifetime_check(sa, now);
	if (sa->expired & ESP_EV_HARD_EXPIRED)
		return ESP_DROP_HARD_EXPIRED;
	/* RFC 4303 §3.3.3: a sequence number never cycles; without ESN the space is 32 bits. */
	seq_max = sa->esn ? UINT64_MAX : UINT32_MAX;
	if (sa->seq >= seq_max) {
		p->events |= (uint8_t)(ESP_EV_HARD_EXPIRED | ESP_EV_SOFT_EXPIRED) & ~sa->expired;
		sa->expired |= ESP_EV_HARD_EXPIRED | ESP_EV_SOFT_EXPIRED;
		return ESP_DROP_SEQ_OVERFLOW;
	}
	p->seq = ++sa->seq;
	sa->packets++;
	sa->bytes += p->len + p->ext_len;
	if (sa->packets >= sa->next_packets || sa->bytes >= sa->next_bytes)
		p->events |= (uint8_t)esp_sa_lifetime_check(sa, now);
	return ESP_DROP_NONE;
}

/* Payload, header, IV and trailer into p->out; returns the ciphertext length. */
static uint32_t esp_seal_layout(const struct esp_seal_pkt *p)
{
	uint8_t *o = p->out;
	uint8_t *pt = o + ESP_PREFIX_LEN;
	uint32_t ct_len = p->out_len - ESP_PREFIX_LEN - ESP_ICV_LEN;
	uint32_t len = p->len + p->ext_len;
	unsigned pad = ct_len - len - ESP_TRAILER_LEN;

	/* First, so a source that overlaps the header room is read before it is overwritten. */
	if (p->src != pt && p->len > 0)
		memmove(pt, p->src, p->len);
	memcpy(o, p->sa->spi_be, 4);
	esp_be32_put(o + 4, (uint32_t)p->seq);
	esp_be64_put(o + ESP_HDR_LEN, p->seq);
	for (unsigned k = 0; k < pad; k++)
		pt[len + k] = (uint8_t)(k + 1);
	pt[ct_len - 2] = (uint8_t)pad;
	pt[ct_len - 1] = p->next_hdr;
	return ct_len;
}

static void esp_seal_chunk(
	struct crypto_engine *e, struct esp_seal_pkt *pkts, unsigned n, uint64_t now)
{
	struct aead_op ops[ESP_BURST_CHUNK];
	struct esp_nonce nonce[ESP_BURST_CHUNK];
	struct esp_aad_esn aad[ESP_BURST_CHUNK];
	aead_seg segs[ESP_BURST_CHUNK][3];
	uint8_t which[ESP_BURST_CHUNK];
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++) {
		struct esp_seal_pkt *p = &pkts[i];
		struct aead_op *op = &ops[m];
		struct esp_sa *sa = p->sa;

		p->events = 0;
		p->out_len = 0;
		p->seq = 0;
		p->reason = (uint8_t)esp_seal_precheck(p, now);
		if (p->reason != ESP_DROP_NONE) {
			if (sa != NULL)
				sa->drops[p->reason]++;
			continue;
		}
		p->out_len = esp_sealed_len(p->len + p->ext_len);
		op->len = esp_seal_layout(p);
		memcpy(nonce[m].salt, sa->salt, ESP_SALT_LEN);
		memcpy(nonce[m].iv, p->out + ESP_HDR_LEN, ESP_IV_LEN);
		if (sa->esn) {
			memcpy(aad[m].spi_be, sa->spi_be, 4);
			esp_be32_put(aad[m].seq_hi_be, (uint32_t)(p->seq >> 32));
			esp_be32_put(aad[m].seq_lo_be, (uint32_t)p->seq);
			op->aad = (const uint8_t *)&aad[m];
			op->aad_len = ESP_AAD_ESN_LEN;
		} else {
			op->aad = p->out; /* SPI || seq_lo, exactly the ESP header */
			op->aad_len = ESP_AAD_LEN;
		}
		op->key = &sa->key;
		op->iv = (const uint8_t *)&nonce[m];
		op->src = p->out + ESP_PREFIX_LEN;
		op->dst = p->out + ESP_PREFIX_LEN;
		op->tag = p->out + ESP_PREFIX_LEN + op->len;
		op->segs = NULL;
		op->n_segs = 0;
		if (p->ext_len > 0) {
			/* Headers in place, the chunk from outside, the trailer in place. */
			uint8_t *pt = p->out + ESP_PREFIX_LEN, k = 0;

			if (p->len > 0)
				segs[m][k++] = (aead_seg){pt, pt, p->len};
			segs[m][k++] = (aead_seg){p->ext, pt + p->len, p->ext_len};
			segs[m][k] = (aead_seg){pt + p->len + p->ext_len, pt + p->len + p->ext_len,
				op->len - p->len - p->ext_len};
			op->segs = segs[m];
			op->n_segs = (uint8_t)(k + 1);
		}
		which[m++] = (uint8_t)i;
	}
	if (m == 0)
		return;
	aead_seal_burst(e, ops, m);
	for (unsigned j = 0; j < m; j++) {
		struct esp_seal_pkt *p = &pkts[which[j]];

		if (ops[j].status == 0)
			continue;
		/* Cannot happen with the checks above; never let plaintext out if it does. */
		crypto_wipe(p->out, p->out_len);
		p->out_len = 0;
		p->reason = ESP_DROP_BAD_DESC;
		p->sa->drops[p->reason]++;
	}
	crypto_wipe(nonce, m * sizeof(nonce[0]));
}

unsigned esp_seal_burst(
	struct crypto_engine *e, struct esp_seal_pkt *pkts, unsigned n, uint64_t now)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i += ESP_BURST_CHUNK) {
		unsigned m = n - i < ESP_BURST_CHUNK ? n - i : ESP_BURST_CHUNK;

		esp_seal_chunk(e, pkts + i, m, now);
	}
	for (unsigned i = 0; i < n; i++)
		ok += pkts[i].reason == ESP_DROP_NONE;
	return ok;
}
