/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Manifest parser and writer. The parser is strict on purpose: one spelling per manifest
 * means the bytes signed are the bytes any other implementation would write, and there is no
 * leniency an attacker can use to make two readers disagree about one file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

static const char *const manifest_keys[MANIFEST_LINES] = {
	MANIFEST_KEY_MAGIC,	     MANIFEST_KEY_SWARM_ID,	  MANIFEST_KEY_HASH,
	MANIFEST_KEY_CHUNK_SIZE,     MANIFEST_KEY_CONTENT_LENGTH, MANIFEST_KEY_NAME,
	MANIFEST_KEY_PROVIDER_KEY,   MANIFEST_KEY_SIGNATURE,
};

__attribute__((format(printf, 5, 6))) static int manifest_err(char *err, size_t cap,
							      const char *file, unsigned line,
							      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || cap == 0)
		return -EINVAL;
	if (line > 0)
		n = snprintf(err, cap, "%s:%u: ", file, line);
	else
		n = snprintf(err, cap, "%s: ", file);
	if (n >= 0 && (size_t)n < cap) {
		va_start(ap, fmt);
		vsnprintf(err + n, cap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Lowercase hex of exactly 2 * n digits. */
static bool manifest_unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return false;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return true;
}

static void manifest_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Decimal without sign, leading zero or overflow. */
static bool manifest_decimal(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static bool manifest_chunk_size_ok(uint64_t cs)
{
	return cs >= 512 && cs <= 8192 && (cs & (cs - 1)) == 0;
}

/* 32-bit chunk addressing: at most 2^32 chunks. */
static bool manifest_length_ok(uint64_t len, uint64_t cs)
{
	return len >= 1 && (len - 1) / cs < (UINT64_C(1) << 32);
}

static bool manifest_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > MANIFEST_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

int manifest_parse(struct manifest *m, const char *text, size_t len, const char *file,
		   char *err, size_t err_cap)
{
	const char *p = text, *end = text + len;
	size_t swarm_hex = 0;
	unsigned line;

	memset(m, 0, sizeof(*m));
	if (file == NULL)
		file = "manifest";
	if (len > MANIFEST_MAX_LEN)
		return manifest_err(err, err_cap, file, 0, "too long (%zu bytes, at most %d)", len,
				    MANIFEST_MAX_LEN);
	for (line = 1; line <= MANIFEST_LINES; line++) {
		const char *key = manifest_keys[line - 1];
		size_t klen = strlen(key), vlen;
		const char *nl, *v;
		uint64_t num;

		if (p == end)
			return manifest_err(err, err_cap, file, line, "missing '%s' line", key);
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return manifest_err(err, err_cap, file, line, "line does not end in LF");
		if (nl > p && nl[-1] == '\r')
			return manifest_err(err, err_cap, file, line,
					    "CR before LF (lines end in LF only)");
		if ((size_t)(nl - p) < klen + 2 || memcmp(p, key, klen) != 0 || p[klen] != ':' ||
		    p[klen + 1] != ' ')
			return manifest_err(err, err_cap, file, line, "expected '%s: '", key);
		v = p + klen + 2;
		vlen = (size_t)(nl - v);
		if (line == MANIFEST_LINES)
			m->signed_len = (size_t)(p - text);
		switch (line) {
		case 1:
			if (vlen != 1 || v[0] != '1')
				return manifest_err(err, err_cap, file, line,
						    "unsupported manifest version");
			break;
		case 2:
			/* Checked against the hash on line 3 below. */
			if ((vlen != 2 * HASH_SHA1_LEN && vlen != 2 * HASH_SHA256_LEN) ||
			    !manifest_unhex(v, vlen, m->swarm_id, vlen / 2))
				return manifest_err(err, err_cap, file, line, "bad swarm id");
			swarm_hex = vlen;
			break;
		case 3:
			/* Exact bytes: "sha1\0" must not pass as "sha1". */
			if (vlen == 4 && memcmp(v, "sha1", 4) == 0)
				m->hash = HASH_SHA1;
			else if (vlen == 6 && memcmp(v, "sha256", 6) == 0)
				m->hash = HASH_SHA256;
			else
				return manifest_err(err, err_cap, file, line, "bad hash");
			if (2 * hash_len(m->hash) != swarm_hex)
				return manifest_err(err, err_cap, file, line,
						    "swarm id length does not match hash %s",
						    hash_name(m->hash));
			break;
		case 4:
			if (!manifest_decimal(v, vlen, &num) || !manifest_chunk_size_ok(num))
				return manifest_err(err, err_cap, file, line, "bad chunk size");
			m->chunk_size = (uint32_t)num;
			break;
		case 5:
			if (!manifest_decimal(v, vlen, &num) ||
			    !manifest_length_ok(num, m->chunk_size))
				return manifest_err(err, err_cap, file, line, "bad content length");
			m->content_len = num;
			break;
		case 6:
			if (!manifest_name_ok(v, vlen))
				return manifest_err(err, err_cap, file, line, "bad name");
			memcpy(m->name, v, vlen);
			m->name[vlen] = '\0';
			break;
		case 7:
			if (!manifest_unhex(v, vlen, m->key_id, MANIFEST_KEY_ID_LEN))
				return manifest_err(err, err_cap, file, line, "bad provider key");
			break;
		case 8:
			if (!manifest_unhex(v, vlen, m->sig, MANIFEST_SIG_LEN))
				return manifest_err(err, err_cap, file, line, "bad signature");
			break;
		}
		p = nl + 1;
	}
	if (p != end)
		return manifest_err(err, err_cap, file, line,
				    "unexpected data after the signature");
	return 0;
}

void manifest_key_id(struct crypto_engine *e, const uint8_t pub[static ED25519_PUBLIC_LEN],
		     uint8_t id[static MANIFEST_KEY_ID_LEN])
{
	uint8_t h[HASH_SHA256_LEN];

	hash_oneshot(e, HASH_SHA256, pub, ED25519_PUBLIC_LEN, h);
	memcpy(id, h, MANIFEST_KEY_ID_LEN);
}

int manifest_format_body(const struct manifest *m, char *buf, size_t cap)
{
	char swarm[2 * MANIFEST_SWARM_ID_MAX + 1], kid[2 * MANIFEST_KEY_ID_LEN + 1];
	size_t hl = hash_len(m->hash);
	int n;

	if (hl == 0 || !manifest_chunk_size_ok(m->chunk_size) ||
	    !manifest_length_ok(m->content_len, m->chunk_size) ||
	    !manifest_name_ok(m->name, strnlen(m->name, sizeof(m->name))))
		return -EINVAL;
	manifest_hex(m->swarm_id, hl, swarm);
	manifest_hex(m->key_id, MANIFEST_KEY_ID_LEN, kid);
	n = snprintf(buf, cap,
		     MANIFEST_MAGIC_LINE "swarm-id: %s\nhash: %s\nchunk-size: %u\n"
					 "content-length: %llu\nname: %s\nprovider-key: %s\n",
		     swarm, hash_name(m->hash), m->chunk_size, (unsigned long long)m->content_len,
		     m->name, kid);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int manifest_sign(struct crypto_engine *e, struct manifest *m,
		  const uint8_t sec[static ED25519_SECRET_LEN], char *buf, size_t cap)
{
	uint8_t pub[ED25519_PUBLIC_LEN];
	char sig[2 * MANIFEST_SIG_LEN + 1];
	int n, rc, tail;

	rc = ed25519_public(sec, pub);
	if (rc != 0)
		return rc;
	manifest_key_id(e, pub, m->key_id);
	n = manifest_format_body(m, buf, cap);
	if (n < 0)
		return n;
	rc = ed25519_sign(sec, buf, (size_t)n, m->sig);
	if (rc != 0)
		return rc;
	m->signed_len = (size_t)n;
	manifest_hex(m->sig, MANIFEST_SIG_LEN, sig);
	tail = snprintf(buf + n, cap - (size_t)n, "signature: %s\n", sig);
	if (tail < 0 || (size_t)tail >= cap - (size_t)n)
		return -ENOSPC;
	return n + tail;
}

int manifest_verify(struct crypto_engine *e, const struct manifest *m, const char *text,
		    const uint8_t pub[static ED25519_PUBLIC_LEN])
{
	uint8_t id[MANIFEST_KEY_ID_LEN];

	manifest_key_id(e, pub, id);
	if (memcmp(id, m->key_id, sizeof(id)) != 0)
		return -EKEYREJECTED;
	return ed25519_verify(pub, text, m->signed_len, m->sig, MANIFEST_SIG_LEN) == 0 ? 0 :
										     -EBADMSG;
}

int manifest_load(const char *path, struct manifest *m, char *buf, size_t cap, char *err,
		  size_t err_cap)
{
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	if (cap < MANIFEST_MAX_LEN + 1)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		manifest_err(err, err_cap, path, 0, "%s", strerror(-rc));
		return rc;
	}
	/* Read one byte past the limit so an oversize file is caught, not cut. */
	while (len < MANIFEST_MAX_LEN + 1) {
		r = read(fd, buf + len, MANIFEST_MAX_LEN + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			close(fd);
			manifest_err(err, err_cap, path, 0, "%s", strerror(-rc));
			return rc;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	return manifest_parse(m, buf, len, path, err, err_cap);
}
