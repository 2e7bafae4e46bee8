/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key ring: the one boundary between superpeer-control (or the `superpeer sa|swarm`
 * tools) and superpeer-dataplane. A POSIX shared-memory segment, mode 0600, created by the
 * data plane at start (/dev/shm/superpeer-NAME.keyring), laid out as:
 *
 *   offset 0             struct kr_header (one page): magic, ABI version, layout, who the
 *                        data plane is, the acknowledgement of the last command
 *   c2d_off              DPDK rte_ring of struct kr_msg, single producer / single consumer:
 *                        commands, control -> data plane
 *   d2c_off              the same, events, data plane -> control
 *   reply_off            reply_cap bytes: the reply to the last command (lists, one SA)
 *
 * The rings are rte_ring (lib/ring) initialised in place: index-based, so both processes
 * may map the segment at different addresses. The producer side needs no EAL.
 *
 * Producers: one at a time. A producer holds an open-file-description write lock
 * (fcntl F_OFD_SETLK) on byte 0 of the segment from enqueueing a command until it has read
 * the command's acknowledgement (done_seq == its seq), so the control daemon and a
 * `superpeer sa` run by hand never interleave. A batch (since ABI 8) keeps the lock over
 * many commands sent without waiting for each: the producer writes batch_from (the first
 * command's seq) before sending, marks each KR_F_AFTER_OK, and waits once for the last; the
 * data plane records the batch's first failure in fail_seq/fail_status/fail_msg and
 * answers the commands after it -ECANCELED without applying them. The one consumer of events holds
 * the same kind of lock on byte 1. The data plane never takes a lock.
 *
 * Secrets: SA keys travel in kr_sa.key/salt. The data plane copies a command out of its ring
 * slot with the zero-copy dequeue API and wipes the slot before releasing it; it wipes its
 * own copy once the key is expanded. A KR_SA_GET reply carries the key (for `superpeer sa show
 * --xfrm`) in the reply area; the reader wipes it. Nothing here is ever written to disk.
 *
 * Versioning: magic and abi_version are checked by both sides; any layout change bumps
 * KR_ABI_VERSION. Every size below is fixed by a static assertion. Integers are in the host
 * byte order (both processes run on the same host); addresses are network order bytes.
 */
#ifndef SUPERPEER_KEYRING_ABI_H
#define SUPERPEER_KEYRING_ABI_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define KR_MAGIC 0x31474e49524b5053ull /* "SPKRING1" little-endian */
#define KR_ABI_VERSION 9u

enum {
	KR_HEADER_SIZE = 4096,
	KR_MSG_SIZE = 512, /* one ring element */
	KR_MSG_BODY = KR_MSG_SIZE - 16,
	KR_RING_SLOTS = 1024,	/* per direction; rte_ring with RING_F_EXACT_SZ */
	KR_REPLY_CAP = 1 << 20, /* bytes of reply area */
	KR_NAME_MAX = 64,	/* keyring name: [A-Za-z0-9_.-]{1,63} */
	KR_PATH_MAX = 256,	/* store directory in KR_SWARM_ADD */
	KR_KEY_MAX = 32,
	KR_SALT_LEN = 4,
	KR_SWARM_ID_MAX = 32,
	KR_LIST_MAX = 1024, /* entries in one list reply */
};

/* Commands, control -> data plane. */
enum kr_cmd {
	KR_SA_ADD = 1,	    /* body: kr_sa; EEXIST unless KR_F_REPLACE */
	KR_SA_DEL = 2,	    /* body: kr_sa_id */
	KR_SA_FLUSH = 3,    /* no body: every SA */
	KR_SA_GET = 4,	    /* body: kr_sa_id; reply: one kr_sa (with key) */
	KR_SA_LIST = 5,	    /* body: kr_list_req; reply: kr_list_reply of kr_sa_info */
	KR_SWARM_ADD = 6,   /* body: kr_swarm */
	KR_SWARM_DEL = 7,   /* body: kr_swarm (id only) */
	KR_SWARM_LIST = 8,  /* body: kr_list_req; reply: kr_list_reply of kr_swarm_info */
	KR_RESYNC_DONE = 9, /* no body: control has replayed its state after KR_EV_RESYNC */
	KR_SWARM_INGEST = 10, /* body: kr_ingest; the swarm is served once complete */
	KR_PEER_POLICY = 11,  /* body: kr_peer_policy; set (or, with KR_F_DELETE, drop) */
	KR_SWARM_SAVE = 12,   /* body: kr_swarm_save; a served swarm written as a packed store */
};

/* Events, data plane -> control. */
enum kr_event {
	KR_EV_RESYNC = 100,	/* the data plane (re)started with no SA: replay everything */
	KR_EV_SA_SOFT = 101,	/* body: kr_sa_id; soft lifetime reached: rekey */
	KR_EV_SA_HARD = 102,	/* body: kr_sa_id; hard lifetime reached: SA refuses all */
	KR_EV_PEER_ALARM = 103, /* body: kr_alarm */
	KR_EV_STATS = 104,	/* body: kr_stats; every stats-interval seconds (ABI 9) */
};

/* kr_msg.flags */
enum {
	KR_F_REPLACE = 1 << 0,	/* KR_SA_ADD: replace an SA with the same id without a gap */
	KR_F_DELETE = 1 << 1,	/* KR_PEER_POLICY: back to the data plane's defaults */
	KR_F_AFTER_OK = 1 << 2, /* a batch's: -ECANCELED, not applied, once one of it failed */
};

/* kr_sa.flags */
enum {
	KR_SA_F_ESN = 1 << 0,	    /* 64-bit extended sequence numbers */
	KR_SA_F_UDP_ENCAP = 1 << 1, /* ESP in UDP (RFC 3948) to/from peer_port; else IP proto 50 */
};

enum kr_dir {
	KR_DIR_IN = 0,
	KR_DIR_OUT = 1,
};

/*
 * Which SA: inbound SAs are found by SPI (which the data plane's side chose), outbound SAs by
 * peer: address, and the peer's UDP port for ESP in UDP (0 for raw ESP). Addresses are IPv6,
 * or IPv4-mapped (::ffff:a.b.c.d).
 */
struct kr_sa_id {
	uint32_t spi; /* inbound: the key; outbound: informative (0 = any) */
	uint8_t dir;  /* enum kr_dir */
	uint8_t pad[1];
	uint16_t peer_port; /* outbound ESP in UDP: the peer's port; else 0 */
	uint8_t peer[16];
};
static_assert(sizeof(struct kr_sa_id) == 24, "kr_sa_id layout");

struct kr_lifetime {
	uint64_t packets, bytes, seconds; /* 0 = no limit */
};
static_assert(sizeof(struct kr_lifetime) == 24, "kr_lifetime layout");

struct kr_sa {
	struct kr_sa_id id;
	uint8_t flags;	 /* KR_SA_F_* */
	uint8_t key_len; /* 16 or 32 */
	uint8_t pad[6];
	uint8_t key[KR_KEY_MAX];
	uint8_t salt[KR_SALT_LEN];
	uint8_t pad2[4];
	struct kr_lifetime soft, hard;
};
static_assert(sizeof(struct kr_sa) == 120, "kr_sa layout");

/* One SA in a list: everything but the key. */
struct kr_sa_info {
	struct kr_sa_id id;
	uint8_t flags;
	uint8_t key_len;
	uint8_t expired; /* bit 0 soft, bit 1 hard */
	uint8_t pad[5];
	uint64_t seq; /* outbound: last sent; inbound: highest accepted */
	uint64_t packets, bytes;
	uint64_t drops; /* inbound: refused packets, every reason */
	uint64_t age_s;
	struct kr_lifetime soft, hard;
};
static_assert(sizeof(struct kr_sa_info) == 120, "kr_sa_info layout");

struct kr_swarm {
	uint8_t id[KR_SWARM_ID_MAX]; /* swarm ID (Merkle root); id_len bytes used */
	uint8_t id_len;		     /* 20 (SHA-1) or 32 (SHA-256) */
	uint8_t open;		     /* 1: plain PPSPP allowed; 0: only through ESP */
	uint8_t pad[6];
	uint8_t provider_pub[32]; /* Ed25519 key the store's manifest must verify with */
	char store[KR_PATH_MAX];  /* packed store directory, NUL-terminated */
};
static_assert(sizeof(struct kr_swarm) == 328, "kr_swarm layout");

enum kr_swarm_state {
	KR_SWARM_SERVING = 0,
	KR_SWARM_INGESTING = 1, /* chunks coming in from a peer, served as they arrive */
};

struct kr_swarm_info {
	uint8_t id[KR_SWARM_ID_MAX];
	uint8_t id_len;
	uint8_t open;
	uint8_t state; /* enum kr_swarm_state */
	uint8_t save;  /* enum kr_save_state: the last KR_SWARM_SAVE of this swarm */
	uint8_t n_sources; /* ingest: sources (source below is the first) */
	uint8_t pad[3];
	uint64_t chunks, chunk_size, size;
	uint64_t channels_opened; /* handshakes accepted since the swarm was added */
	uint64_t chunks_sent, bytes_sent;
	char name[64]; /* content name from the manifest */
	/* ingest: chunks verified and stored, chunks refused by the Merkle check (all sources),
	 * the first source */
	uint64_t chunks_in, bad_chunks;
	uint8_t source[16];
	uint16_t source_port;
	uint8_t pad2[6];
	/* What leechers can be sent now: the chunks held from the first (all of them once
	 * complete; while ingesting, chunks_in less those past the first one still missing). */
	uint64_t chunks_servable;
};
static_assert(sizeof(struct kr_swarm_info) == 200, "kr_swarm_info layout");

enum kr_save_state {
	KR_SAVE_NONE = 0,
	KR_SAVE_RUNNING = 1,
	KR_SAVE_DONE = 2,
	KR_SAVE_FAILED = 3, /* the data plane's output says why */
	KR_SAVE_PENDING = 4, /* asked for while ingesting: starts when the ingest completes */
};

/*
 * Write a served swarm (an ingested one, typically) to dir as a packed store
 * (include/store_format.h): dir, absolute, must not exist; its parent must. The data plane
 * writes it in a thread of its own while it goes on serving; kr_swarm_info.save tells how it
 * went. A `swarm del` waits for a running save. A swarm still being ingested is refused,
 * unless when_complete: then the save starts when the ingest completes (KR_SAVE_PENDING
 * until then; a cancelled ingest saves nothing).
 */
struct kr_swarm_save {
	uint8_t id[KR_SWARM_ID_MAX];
	uint8_t id_len;
	uint8_t when_complete;
	uint8_t pad[6];
	char dir[KR_PATH_MAX];
};
static_assert(sizeof(struct kr_swarm_save) == 296, "kr_swarm_save layout");

/*
 * Fetch a swarm from a peer into the data plane: the manifest (checked against the provider
 * key), the peer's address and PPSPP port, and encap_port: 0 for plain PPSPP, else ESP in UDP
 * to that port of the peer (SAs for the peer added as for any other). Every chunk is verified
 * against the swarm ID before it is stored; the swarm is served (open or not) as it arrives,
 * each chunk once verified. The same swarm again, while it is being ingested, adds the peer as
 * another source (up to 4; open is then ignored).
 */
struct kr_ingest {
	uint8_t peer[16];
	uint16_t peer_port;
	uint16_t encap_port;
	uint8_t open;
	uint8_t pad[3];
	uint8_t provider_pub[32];
	char manifest[KR_PATH_MAX];
};
static_assert(sizeof(struct kr_ingest) == 312, "kr_ingest layout");

struct kr_alarm {
	uint8_t peer[16];
	uint16_t peer_port;
	uint8_t reason; /* enum kr_alarm_reason */
	uint8_t pad[5];
	uint32_t spi; /* SA it came under, 0 for plain */
	uint32_t pad2;
	uint64_t count; /* occurrences so far from this peer */
};
static_assert(sizeof(struct kr_alarm) == 40, "kr_alarm layout");

enum kr_alarm_reason {
	KR_ALARM_REPLAY = 1,	/* replayed or far-old sequence numbers */
	KR_ALARM_ICV = 2,	/* forged or corrupted ESP */
	KR_ALARM_BAD_CHUNK = 3, /* a chunk failed Merkle verification */
};

/*
 * The data plane's counters, all workers summed, posted every stats-interval seconds while
 * the event ring is less than half full (room is kept for expiry and alarms). Counters count
 * from the start, so a lost event loses no count; busy_permille covers the time since the
 * previous stats event.
 */
struct kr_stats {
	uint64_t uptime_s; /* since the data plane started */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t chunks_sent, chunk_bytes_sent, chunks_ingested;
	uint64_t drops;		  /* every reason */
	uint64_t bad_chunks;	  /* ingested chunks that failed Merkle verification */
	uint64_t channels_open;	  /* now */
	uint64_t peers_timed_out; /* peers dropped after peer-timeout of silence */
	uint32_t sas, swarms;	  /* installed now (swarms: ingests included) */
	uint32_t workers;
	uint32_t busy_permille; /* the workers' load since the previous stats event */
	uint32_t interval_s;	/* stats-interval */
	uint32_t pad;
};
static_assert(sizeof(struct kr_stats) == 120, "kr_stats layout");

/*
 * What the data plane does with one peer address, whatever its port: refuse its channels
 * (block), choke them, or hold its DATA to a rate. A policy applies to channels opened after
 * it and, within a second, to those already open.
 */
struct kr_peer_policy {
	uint8_t peer[16];
	uint64_t rate;	/* bytes/s of DATA; 0 = the data plane's peer-rate */
	uint8_t block;	/* 1: no channel from this address */
	uint8_t choke;	/* 1: its channels are choked */
	uint8_t pad[6];
};
static_assert(sizeof(struct kr_peer_policy) == 32, "kr_peer_policy layout");

struct kr_list_req {
	uint32_t start; /* index to start from (0, then kr_list_reply.next) */
	uint32_t max;	/* entries wanted, <= KR_LIST_MAX */
};

/* Reply area of a list: header, then count entries of the listed type. */
struct kr_list_reply {
	uint32_t count;
	uint32_t next; /* start of the next page; 0 = no more */
	uint64_t total;
};
static_assert(sizeof(struct kr_list_reply) == 16, "kr_list_reply layout");

struct kr_msg {
	uint16_t type;	/* enum kr_cmd or kr_event */
	uint16_t flags; /* KR_F_* */
	uint32_t len;	/* body bytes used */
	uint64_t seq;	/* commands: the producer's number, acknowledged in done_seq */
	union {
		struct kr_sa sa;
		struct kr_sa_id sa_id;
		struct kr_swarm swarm;
		struct kr_ingest ingest;
		struct kr_swarm_save save;
		struct kr_peer_policy policy;
		struct kr_list_req list;
		struct kr_alarm alarm;
		struct kr_stats stats;
		uint8_t raw[KR_MSG_BODY];
	} u;
};
static_assert(sizeof(struct kr_msg) == KR_MSG_SIZE, "kr_msg layout");

struct kr_header {
	uint64_t magic;	      /* KR_MAGIC, written last by the data plane */
	uint32_t abi_version; /* KR_ABI_VERSION */
	uint32_t header_size; /* KR_HEADER_SIZE */
	uint32_t msg_size;    /* KR_MSG_SIZE */
	uint32_t ring_slots;  /* KR_RING_SLOTS */
	uint64_t c2d_off, d2c_off, reply_off, total_size;
	uint32_t reply_cap;
	int32_t dp_pid; /* the data plane that owns the segment */
	uint64_t epoch; /* random, new at every data plane start */
	/* Who the data plane is, for the tools (`sa show --xfrm`, `stats`). */
	uint8_t ip4[4];
	uint8_t ip6[16];
	uint8_t has_ip6;
	uint8_t pad[1];
	uint16_t udp_port; /* plain PPSPP */
	uint16_t esp_port; /* ESP in UDP (RFC 3948) */
	uint16_t pad2;
	char telemetry[108]; /* the DPDK telemetry socket path */
	/* ---- written by producers (under the lock) ---- */
	uint64_t cmd_seq __attribute__((aligned(64))); /* last seq handed out */
	uint64_t batch_from;			       /* the current batch's first seq (ABI 8) */
	/* ---- written by the data plane ---- */
	uint64_t done_seq __attribute__((aligned(64))); /* last command applied (release) */
	int32_t done_status;				/* 0 or -errno for done_seq */
	uint32_t reply_len;				/* bytes of reply for done_seq */
	char done_msg[120];   /* why, when done_status != 0 (never secret) */
	uint64_t heartbeat;   /* data plane's ring polls, for liveness */
	uint64_t events_lost; /* events not queued because d2c was full */
	uint64_t cmds_applied;
	/* The first command at or after batch_from that failed (ABI 8), and why. */
	uint64_t fail_seq;
	int32_t fail_status;
	char fail_msg[120];
};
static_assert(sizeof(struct kr_header) <= KR_HEADER_SIZE, "kr_header fits its page");

#endif
