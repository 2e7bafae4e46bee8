/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer crypto: one small library used by both processes and the tools.
 *
 * Fast paths (AES-GCM, SHA-1/SHA-256) run on Intel ipsec-mb; everything that is not per
 * packet (HKDF, Ed25519, randomness, Milenage's AES) runs on OpenSSL 3. No DPDK here.
 *
 * Conventions: functions return 0 or a negative errno; burst calls return the number of
 * items that succeeded and set a status per item. Misuse that can only be a programming
 * error (NULL engine, impossible algorithm) aborts; bad input returns -EINVAL.
 */
#ifndef SUPERPEER_CRYPTO_H
#define SUPERPEER_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

/* ---- engine: one per thread (an IMB_MGR is not thread-safe) ------------------------- */

struct evp_md_ctx_st;
struct evp_md_st;

/*
 * bulk: the manager init_mb_mgr_auto() picks (widest SIMD), used for every burst.
 * md_ctx, md_sha1, md_sha256: OpenSSL digests for single hashes. A lone SHA job costs all 16 lanes
 * on the AVX-512 manager (performance-anchors.md, trap 1), and on this project's machines a lone
 * job on the SSE (SHA-NI) manager was still 1.4-1.6x slower than OpenSSL's SHA-NI code
 * (docs/performance.md), so single hashes go to OpenSSL with digests fetched once here.
 */
struct crypto_engine {
	IMB_MGR *bulk;
	IMB_ARCH arch;
	struct evp_md_ctx_st *md_ctx;
	struct evp_md_st *md_sha1;
	struct evp_md_st *md_sha256;
};

/* 0 or -ENOMEM / -ENOTSUP (CPU without AES-NI). */
int crypto_engine_init(struct crypto_engine *e);
void crypto_engine_fini(struct crypto_engine *e);
/* "sse", "avx2", "avx512": the arch ipsec-mb chose for bursts. */
const char *crypto_engine_arch_name(const struct crypto_engine *e);

/* ---- secrets ------------------------------------------------------------------------ */

/* Zeroes memory in a way the compiler cannot elide. */
void crypto_wipe(void *p, size_t len);
/* Constant-time compare: true when equal. Time depends on len only. */
bool crypto_ct_equal(const void *a, const void *b, size_t len);
/* Cryptographically secure random bytes (OpenSSL DRBG seeded from getrandom). 0 or -EIO. */
int crypto_random(void *buf, size_t len);

/* ---- AES-GCM (RFC 4106 profile: 12-byte nonce, 16-byte tag) ------------------------- */

enum {
	AEAD_KEY_LEN_128 = 16,
	AEAD_KEY_LEN_256 = 32,
	AEAD_IV_LEN = 12,  /* 4-byte salt + 8-byte explicit IV in ESP */
	AEAD_TAG_LEN = 16, /* the ICV length the project uses */
	AEAD_AAD_MAX =
		1024, /* ESP uses 8 or 12; other users of GCM may need more; larger is refused */
};

/*
 * Expanded key: the AES round keys and GHASH tables, computed once at key install
 * (aead_key_init), never per packet. Embeddable in per-SA structs; wipe with aead_key_wipe.
 */
struct aead_key {
	struct gcm_key_data gkd;
	uint32_t key_len; /* 16 or 32 */
} __attribute__((aligned(64)));

/* 0, or -EINVAL when key_len is not 16 or 32. */
int aead_key_init(struct crypto_engine *e, struct aead_key *k, const uint8_t *key, size_t key_len);
void aead_key_wipe(struct aead_key *k);

/*
 * Seal len bytes from src into dst (src == dst is in place; otherwise the buffers must not
 * overlap), writing tag_len bytes of tag. iv_len must be AEAD_IV_LEN and tag_len
 * AEAD_TAG_LEN: other sizes return -EINVAL. aad_len <= AEAD_AAD_MAX.
 */
int aead_seal(struct crypto_engine *e, const struct aead_key *k, const uint8_t *iv, size_t iv_len,
	const uint8_t *aad, size_t aad_len, const uint8_t *src, uint8_t *dst, size_t len,
	uint8_t *tag, size_t tag_len);
/*
 * Open: decrypts src into dst and checks the tag in constant time. 0, -EBADMSG on a tag
 * mismatch (dst is wiped), -EINVAL on unsupported sizes.
 */
int aead_open(struct crypto_engine *e, const struct aead_key *k, const uint8_t *iv, size_t iv_len,
	const uint8_t *aad, size_t aad_len, const uint8_t *src, uint8_t *dst, size_t len,
	const uint8_t *tag, size_t tag_len);

/*
 * A message in pieces (gather/scatter): ipsec-mb's own segment type, { in, out, len }: len
 * bytes read at in and written at out (in == out is in place; otherwise they must not
 * overlap). The pieces are one message in order: ESP seals a packet's headers in place and
 * the chunk straight from the store into the packet with one op.
 */
typedef struct IMB_SGL_IOV aead_seg;

enum { AEAD_SEGS_MAX = 4 };

/*
 * One packet of a burst. iv is AEAD_IV_LEN bytes, tag AEAD_TAG_LEN bytes. The message is
 * src/dst/len, or, when n_segs > 0, the n_segs (at most AEAD_SEGS_MAX) pieces at segs, each
 * with non-NULL pointers (src, dst and len are then not read).
 */
struct aead_op {
	const struct aead_key *key;
	const uint8_t *iv;
	const uint8_t *aad;
	const uint8_t *src;
	uint8_t *dst;
	uint8_t *tag; /* seal: written; open: the received tag (read) */
	const aead_seg *segs;
	uint32_t len;
	uint16_t aad_len;
	uint8_t n_segs;
	int16_t status; /* out: 0, -EBADMSG, -EINVAL (a failed open wipes every output) */
};

/* Seal/open n ops through the ipsec-mb job API. Returns how many have status 0. */
unsigned aead_seal_burst(struct crypto_engine *e, struct aead_op *ops, unsigned n);
unsigned aead_open_burst(struct crypto_engine *e, struct aead_op *ops, unsigned n);

/* ---- hashes ------------------------------------------------------------------------- */

/* Values are the PPSPP "Merkle hash function" option codes (RFC 7574 §7.5). */
enum hash_alg {
	HASH_SHA1 = 0,
	HASH_SHA256 = 2,
};

enum {
	HASH_SHA1_LEN = 20,
	HASH_SHA256_LEN = 32,
	HASH_MAX_LEN = 32,
};

/* 20, 32, or 0 for an unknown value. */
size_t hash_len(enum hash_alg alg);
/* "sha1", "sha256", or NULL. */
const char *hash_name(enum hash_alg alg);
/* Parses "sha1" / "sha256": 0 or -EINVAL. */
int hash_from_name(const char *name, enum hash_alg *alg);

/* One hash, on OpenSSL (SHA-NI where the CPU has it). */
void hash_oneshot(
	struct crypto_engine *e, enum hash_alg alg, const void *data, size_t len, uint8_t *out);

struct hash_op {
	const void *src;
	uint8_t *out; /* hash_len(alg) bytes */
	uint32_t len;
};

/* n hashes at once on the bulk (multi-buffer) manager. Any n; all complete on return. */
void hash_burst(struct crypto_engine *e, enum hash_alg alg, struct hash_op *ops, unsigned n);

/* ---- HKDF-SHA-256 (RFC 5869), OpenSSL ----------------------------------------------- */

/* out_len <= 255*32. 0 or -EINVAL / -EIO. salt may be NULL with salt_len 0. */
int crypto_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
	const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* ---- Ed25519 (RFC 8032), OpenSSL ---------------------------------------------------- */

enum {
	ED25519_PUBLIC_LEN = 32,
	ED25519_SECRET_LEN = 32,
	ED25519_SIG_LEN = 64,
};

int ed25519_keygen(uint8_t pub[static ED25519_PUBLIC_LEN], uint8_t sec[static ED25519_SECRET_LEN]);
/* Derives the public key of a secret seed. */
int ed25519_public(
	const uint8_t sec[static ED25519_SECRET_LEN], uint8_t pub[static ED25519_PUBLIC_LEN]);
int ed25519_sign(const uint8_t sec[static ED25519_SECRET_LEN], const void *msg, size_t len,
	uint8_t sig[static ED25519_SIG_LEN]);
/* 0 when valid, -EBADMSG when not (including a signature of the wrong length). */
int ed25519_verify(const uint8_t pub[static ED25519_PUBLIC_LEN], const void *msg, size_t len,
	const uint8_t *sig, size_t sig_len);

/* ---- Milenage (3GPP TS 35.206) ------------------------------------------------------ */

enum {
	MILENAGE_K_LEN = 16,
	MILENAGE_RAND_LEN = 16,
	MILENAGE_SQN_LEN = 6,
	MILENAGE_AMF_LEN = 2,
	MILENAGE_MAC_LEN = 8,
	MILENAGE_RES_LEN = 8,
	MILENAGE_CK_LEN = 16,
	MILENAGE_IK_LEN = 16,
	MILENAGE_AK_LEN = 6,
};

/* OPc = OP xor E_K(OP). */
int milenage_opc(const uint8_t k[static 16], const uint8_t op[static 16], uint8_t opc[static 16]);
/* f1 (MAC-A) and f1* (MAC-S). Either output may be NULL. */
int milenage_f1(const uint8_t k[static 16], const uint8_t opc[static 16],
	const uint8_t rand[static 16], const uint8_t sqn[static 6], const uint8_t amf[static 2],
	uint8_t *mac_a, uint8_t *mac_s);
/* f2 (RES), f3 (CK), f4 (IK), f5 (AK), f5* (AK for resync). Any output may be NULL. */
int milenage_f2345(const uint8_t k[static 16], const uint8_t opc[static 16],
	const uint8_t rand[static 16], uint8_t *res, uint8_t *ck, uint8_t *ik, uint8_t *ak,
	uint8_t *ak_star);

#endif
