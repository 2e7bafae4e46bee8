/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PPSPP over UDP (RFC 7574): every wire constant and fixed layout, in one place. The codec
 * (dataplane/ppspp_codec.[ch]) is the only code that reads or writes these bytes;
 * docs/wire-format.md is the prose version of this header.
 *
 * A datagram is [destination channel, 4 bytes][message][message]... Messages carry no length
 * field: their sizes follow from the message type and the negotiated context (chunk
 * addressing method, hash length, chunk size, signature length). All integers are big-endian;
 * the structs below are layouts for sizes and offsets, the codec reads them byte-wise with
 * memcpy because a message may start at any offset.
 */
#ifndef SUPERPEER_PPSPP_WIRE_H
#define SUPERPEER_PPSPP_WIRE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Message type codes (§8.2 Table 7, IANA "PPSP Peer Protocol Message Types"). */
enum ppspp_msg_type {
	PPSPP_MSG_HANDSHAKE = 0,
	PPSPP_MSG_DATA = 1,
	PPSPP_MSG_ACK = 2,
	PPSPP_MSG_HAVE = 3,
	PPSPP_MSG_INTEGRITY = 4,
	PPSPP_MSG_PEX_RESV4 = 5,
	PPSPP_MSG_PEX_REQ = 6,
	PPSPP_MSG_SIGNED_INTEGRITY = 7,
	PPSPP_MSG_REQUEST = 8,
	PPSPP_MSG_CANCEL = 9,
	PPSPP_MSG_CHOKE = 10,
	PPSPP_MSG_UNCHOKE = 11,
	PPSPP_MSG_PEX_RESV6 = 12,
	PPSPP_MSG_PEX_RESCERT = 13,
	PPSPP_MSG_TYPE_COUNT = 14, /* 14..254 unassigned: a datagram carrying one is dropped */
	PPSPP_MSG_RESERVED = 255,
};

/*
 * HANDSHAKE option codes (§7, IANA "PPSP Peer Protocol Option Types"). Options come in
 * strictly ascending code order and the list ends with PPSPP_OPT_END, which has no value.
 * There is no length field, so an unknown code cannot be skipped: the handshake fails.
 */
enum ppspp_opt {
	PPSPP_OPT_VERSION = 0,		    /* 1 byte */
	PPSPP_OPT_MIN_VERSION = 1,	    /* 1 byte */
	PPSPP_OPT_SWARM_ID = 2,		    /* 2-byte length, then the ID */
	PPSPP_OPT_CIPM = 3,		    /* 1 byte, enum ppspp_cipm */
	PPSPP_OPT_MERKLE_HASH_FUNC = 4,	    /* 1 byte, enum ppspp_mhf */
	PPSPP_OPT_LIVE_SIG_ALG = 5,	    /* 1 byte, DNSSEC algorithm number */
	PPSPP_OPT_CAM = 6,		    /* 1 byte, enum ppspp_cam */
	PPSPP_OPT_LIVE_DISCARD_WINDOW = 7,  /* 4 bytes (32-bit CAMs) or 8 bytes (64-bit CAMs) */
	PPSPP_OPT_SUPPORTED_MSGS = 8,	    /* 1 length byte, then a bitmap, MSB = type 0 */
	PPSPP_OPT_CHUNK_SIZE = 9,	    /* 4 bytes; PPSPP_CHUNK_SIZE_VARIABLE = variable */
	PPSPP_OPT_COUNT = 10,		    /* 10..254 unassigned */
	PPSPP_OPT_END = 255,
};

/* Chunk addressing methods (§4, §7.8). Only the two chunk-range methods are implemented. */
enum ppspp_cam {
	PPSPP_CAM_BIN32 = 0,
	PPSPP_CAM_BYTE64 = 1,
	PPSPP_CAM_CHUNK32 = 2, /* the default */
	PPSPP_CAM_BIN64 = 3,
	PPSPP_CAM_CHUNK64 = 4,
	PPSPP_CAM_COUNT = 5,
};

/* Content integrity protection methods (§7.5). 0 "none" was removed by erratum 4880. */
enum ppspp_cipm {
	PPSPP_CIPM_MERKLE = 1,
	PPSPP_CIPM_SIGN_ALL = 2,
	PPSPP_CIPM_UNIFIED_MERKLE = 3,
};

/* Merkle hash functions (§7.6). SHA-1 and SHA-256 are mandatory and the only ones we run. */
enum ppspp_mhf {
	PPSPP_MHF_SHA1 = 0,
	PPSPP_MHF_SHA224 = 1,
	PPSPP_MHF_SHA256 = 2, /* the default */
	PPSPP_MHF_SHA384 = 3,
	PPSPP_MHF_SHA512 = 4,
	PPSPP_MHF_COUNT = 5,
};

/* Live signature algorithms (§7.7): DNSSEC algorithm numbers (RFC 4034 App. A.1). */
enum ppspp_live_sig {
	PPSPP_LIVE_SIG_RSASHA1 = 5,
	PPSPP_LIVE_SIG_RSASHA256 = 8,
	PPSPP_LIVE_SIG_ECDSAP256SHA256 = 13, /* the default */
	PPSPP_LIVE_SIG_ECDSAP384SHA384 = 14,
};

/* Protocol version carried in PPSPP_OPT_VERSION / PPSPP_OPT_MIN_VERSION. */
enum {
	PPSPP_VERSION_1 = 1, /* RFC 7574 */
};

/* Field sizes in bytes. */
enum {
	PPSPP_CHANNEL_LEN = 4,
	PPSPP_TYPE_LEN = 1,
	PPSPP_TIMESTAMP_LEN = 8, /* DATA sender clock (us), ACK delay (us), NTP timestamp */
	PPSPP_CHUNK32_SPEC_LEN = 8,  /* CAM 2: start, end (inclusive), 32 bits each */
	PPSPP_CHUNK64_SPEC_LEN = 16, /* CAM 4: start, end (inclusive), 64 bits each */
	PPSPP_SHA1_LEN = 20,
	PPSPP_SHA256_LEN = 32,
	PPSPP_HASH_MAX_LEN = 64, /* SHA-512 */
	PPSPP_IPV4_LEN = 4,
	PPSPP_IPV6_LEN = 16,
	PPSPP_PORT_LEN = 2,
	PPSPP_PEX_RESV4_LEN = PPSPP_IPV4_LEN + PPSPP_PORT_LEN,
	PPSPP_PEX_RESV6_LEN = PPSPP_IPV6_LEN + PPSPP_PORT_LEN,
	PPSPP_CERT_LEN_LEN = 2,		/* PEX_REScert length prefix */
	PPSPP_SWARM_ID_LEN_LEN = 2,	/* option 2 length prefix */
	PPSPP_SUPPORTED_MSGS_LEN_LEN = 1, /* option 8 length prefix */
	/* A bitmap of every possible type code (0..255) is 32 bytes; longer is malformed. */
	PPSPP_SUPPORTED_MSGS_MAX_LEN = 32,
	PPSPP_OPT_U8_LEN = 1,
	PPSPP_OPT_CHUNK_SIZE_LEN = 4,
	PPSPP_DISCARD_WINDOW32_LEN = 4,
	PPSPP_DISCARD_WINDOW64_LEN = 8,
	PPSPP_CHUNK_SIZE_DEFAULT = 1024, /* §8.1; libswift never sends option 9 */
	/* A HANDSHAKE with source channel 0 closes the channel (§8.4). */
	PPSPP_CHANNEL_CLOSE = 0,
	/* Only the first datagram of a handshake is sent to channel 0. */
	PPSPP_CHANNEL_INITIAL = 0,
	/* Largest UDP payload: 65535 - 8 (UDP) - 20 (IPv4). */
	PPSPP_DATAGRAM_MAX_LEN = 65507,
};

/*
 * Option 9 value meaning "chunks have variable size": a #define, because 0xffffffff does
 * not fit the int that C11 enum constants are.
 */
#define PPSPP_CHUNK_SIZE_VARIABLE UINT32_C(0xffffffff)
/* Live discard window "keep everything" is all-ones in the window's width. */
#define PPSPP_DISCARD_WINDOW_ALL32 UINT32_C(0xffffffff)
#define PPSPP_DISCARD_WINDOW_ALL64 UINT64_C(0xffffffffffffffff)

/* ---- layouts (big-endian fields, for sizes and offsets) ------------------------------ */

struct ppspp_datagram_header {
	uint32_t dest_channel_be;
};

struct ppspp_chunk32_spec {
	uint32_t start_be;
	uint32_t end_be; /* inclusive */
};

struct ppspp_chunk64_spec {
	uint64_t start_be;
	uint64_t end_be; /* inclusive */
};

/* HANDSHAKE fixed part after the type byte; the option list follows. */
struct ppspp_handshake_fixed {
	uint32_t src_channel_be;
};

struct ppspp_pex_resv4 {
	uint8_t addr[PPSPP_IPV4_LEN];
	uint16_t port_be;
} __attribute__((packed));

struct ppspp_pex_resv6 {
	uint8_t addr[PPSPP_IPV6_LEN];
	uint16_t port_be;
} __attribute__((packed));

static_assert(sizeof(struct ppspp_datagram_header) == PPSPP_CHANNEL_LEN, "channel size");
static_assert(sizeof(struct ppspp_handshake_fixed) == PPSPP_CHANNEL_LEN, "handshake size");
static_assert(sizeof(struct ppspp_chunk32_spec) == PPSPP_CHUNK32_SPEC_LEN, "cam 2 spec size");
static_assert(sizeof(struct ppspp_chunk64_spec) == PPSPP_CHUNK64_SPEC_LEN, "cam 4 spec size");
static_assert(offsetof(struct ppspp_chunk64_spec, end_be) == 8, "cam 4 end offset");
static_assert(sizeof(struct ppspp_pex_resv4) == PPSPP_PEX_RESV4_LEN, "PEX_RESv4 size");
static_assert(sizeof(struct ppspp_pex_resv6) == PPSPP_PEX_RESV6_LEN, "PEX_RESv6 size");
static_assert(offsetof(struct ppspp_pex_resv6, port_be) == PPSPP_IPV6_LEN, "v6 port offset");
static_assert(sizeof(uint64_t) == PPSPP_TIMESTAMP_LEN, "timestamp size");
static_assert(PPSPP_MSG_TYPE_COUNT <= 8 * PPSPP_SUPPORTED_MSGS_MAX_LEN, "bitmap covers types");
static_assert(PPSPP_OPT_COUNT <= 32, "option presence fits a uint32_t bitmask");
static_assert(PPSPP_HASH_MAX_LEN >= PPSPP_SHA256_LEN, "hash buffers hold SHA-256");

#endif
