/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal header of the `superpeer` command: one subcommand per file, shared helpers for
 * messages, key files and hex. Every error is one line on stderr, "superpeer CMD: message".
 */
#ifndef SUPERPEER_TOOL_H
#define SUPERPEER_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto.h"
#include "manifest.h"
#include "merkle.h"
#include "store_format.h"
#include "chunk_store.h"

/* The subcommand being run, for messages. */
extern const char *tool_cmd;

int tool_keygen_main(int argc, char **argv);
int tool_pack_main(int argc, char **argv);
int tool_verify_main(int argc, char **argv);
int tool_seed_main(int argc, char **argv);
int tool_fetch_main(int argc, char **argv);
int tool_sa_main(int argc, char **argv);
int tool_swarm_main(int argc, char **argv);
int tool_stats_main(int argc, char **argv);
int tool_peer_main(int argc, char **argv);
int tool_monitor_main(int argc, char **argv);

struct keyring;
/*
 * Opens the key ring named by a leading "--keyring NAME" in argv (taken out of argc/argv),
 * else $SUPERPEER_KEYRING, else "superpeer". 0, or 1 after printing the problem.
 */
int tool_keyring_open(int *argc, char ***argv, struct keyring *kr);
/* Every entry of a KR_*_LIST command, page by page, each to print. 0, or 1 after a message. */
int tool_keyring_list(struct keyring *kr, uint16_t type, size_t esize,
		      void (*print)(const void *entry), unsigned timeout_ms);
/* IPv4 or IPv6 text into an IPv6 or IPv4-mapped address. 0 or -1. */
int tool_addr_parse(const char *s, uint8_t out[16]);
/* The reverse ("any" for all zeros). */
void tool_addr_format(const uint8_t a[16], char *out, size_t cap);

/* Prints "superpeer CMD: message" and returns 1 (the exit status of a failed command). */
__attribute__((format(printf, 1, 2))) int tool_err(const char *fmt, ...);
/* From now on tool_err writes its line (the last one) into buf instead; NULL: stderr again. */
void tool_err_capture(char *buf, size_t cap);
/*
 * The whole of s as a number from lo to hi (decimal, or hex after 0x) into *out: 0, or 1
 * after printing "WHAT 'S': a number from LO to HI" (no sign, space or trailing text).
 */
int tool_num(const char *what, const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void tool_hex(const uint8_t *in, size_t n, char *out);

/*
 * Key files hold the key as 2 * len lowercase or uppercase hex digits and an optional LF.
 * read: 0, or 1 after printing the problem. The buffer is wiped on every path.
 */
int tool_key_read(const char *path, uint8_t *key, size_t len);
/* Creates path (never overwrites) with the given mode. 0, or 1 after printing the problem. */
int tool_key_write(const char *path, const uint8_t *key, size_t len, mode_t mode);

/* ---- store (store.c) ---------------------------------------------------------------- */

/*
 * Feeds a file's first len bytes to a builder in large reads; copy_fd (or -1) receives the
 * same bytes. progress: show a percentage on stderr. 0; 1 after printing the problem; 2 when
 * the builder's sink refused a node with -EBADMSG (the caller reports what it found).
 */
int store_stream(int fd, const char *path, uint64_t len, struct merkle_builder *b, int copy_fd,
		 const char *copy_path, bool progress, volatile int *stop);

#endif
