/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer: one command with subcommands, like ip(8) or wg(8). This file dispatches and
 * holds the helpers the subcommands share.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

const char *tool_cmd = "superpeer";

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *what;
} tool_cmds[] = {
	{"keygen", tool_keygen_main, "make an Ed25519 content-provider key pair"},
	{"pack", tool_pack_main, "content file -> chunk store (chunks, Merkle tree, manifest)"},
	{"verify", tool_verify_main, "check a chunk store against a provider public key"},
	{"seed", tool_seed_main, "serve a chunk store over PPSPP on UDP (plain or ESP in UDP)"},
	{"fetch", tool_fetch_main, "download and verify a swarm from a PPSPP peer"},
	{"sa", tool_sa_main, "SAs of a running data plane: add, del, show, list, flush"},
	{"swarm", tool_swarm_main, "swarms a running data plane serves: add, del, list"},
	{"peer", tool_peer_main,
		"a peer address's policy on a running data plane: block, choke, rate"},
	{"stats", tool_stats_main, "a running data plane's counters (DPDK telemetry)"},
	{"monitor", tool_monitor_main, "a running data plane's events: expiry, alarms, stats"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: superpeer COMMAND [OPTIONS] [ARGS]\n"
		   "       superpeer COMMAND --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(tool_cmds) / sizeof(tool_cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", tool_cmds[i].name, tool_cmds[i].what);
}

static char *tool_err_buf;
static size_t tool_err_cap;

void tool_err_capture(char *buf, size_t cap)
{
	tool_err_buf = buf;
	tool_err_cap = cap;
	if (buf != NULL && cap > 0)
		buf[0] = '\0';
}

int tool_err(const char *fmt, ...)
{
	va_list ap;

	if (tool_err_buf != NULL) {
		int n = snprintf(tool_err_buf, tool_err_cap, "%s: ", tool_cmd);

		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < tool_err_cap)
			vsnprintf(tool_err_buf + n, tool_err_cap - (size_t)n, fmt, ap);
		va_end(ap);
		return 1;
	}
	fprintf(stderr, "%s: ", tool_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int tool_num(const char *what, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, hex ? 16 : 10);
	if (!(hex ? isxdigit((unsigned char)s[2]) : isdigit((unsigned char)s[0])) || errno != 0 ||
		*end != '\0' || v < lo || v > hi)
		return tool_err("%s '%s': a number from %" PRIu64 " to %" PRIu64, what, s, lo, hi);
	*out = v;
	return 0;
}

void tool_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int tool_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tool_key_read(const char *path, uint8_t *key, size_t len)
{
	char buf[2 * 64 + 3];
	ssize_t n = 0, r;
	int fd, rc = 1;

	if (2 * len + 2 > sizeof(buf))
		abort();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tool_err("cannot open key file %s: %s", path, strerror(errno));
	while (n < (ssize_t)(2 * len + 2)) {
		r = read(fd, buf + n, 2 * len + 2 - (size_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			tool_err("cannot read key file %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n == (ssize_t)(2 * len + 1) && buf[2 * len] == '\n')
		n--;
	if (n != (ssize_t)(2 * len)) {
		tool_err("key file %s: expected %zu hex digits and an optional newline", path,
			 2 * len);
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		int hi = tool_nibble(buf[2 * i]), lo = tool_nibble(buf[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			tool_err("key file %s: not hex", path);
			goto out;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	rc = 0;
out:
	if (rc != 0)
		crypto_wipe(key, len);
	crypto_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}

int tool_key_write(const char *path, const uint8_t *key, size_t len, mode_t mode)
{
	char buf[2 * 64 + 2];
	size_t n = 2 * len + 1;
	int fd, rc = 1;

	if (n + 1 > sizeof(buf))
		abort();
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return tool_err("cannot create %s: %s", path, strerror(errno));
	/* The umask may have cleared bits; it must not have added any. */
	if (fchmod(fd, mode) != 0) {
		tool_err("cannot set mode of %s: %s", path, strerror(errno));
		goto out;
	}
	tool_hex(key, len, buf);
	buf[2 * len] = '\n';
	if (write(fd, buf, n) != (ssize_t)n || fsync(fd) != 0) {
		tool_err("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	crypto_wipe(buf, sizeof(buf));
	close(fd);
	if (rc != 0)
		unlink(path);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(tool_cmds) / sizeof(tool_cmds[0]); i++) {
		if (strcmp(argv[1], tool_cmds[i].name) == 0) {
			static char cmd[32];

			snprintf(cmd, sizeof(cmd), "superpeer %s", tool_cmds[i].name);
			tool_cmd = cmd;
			return tool_cmds[i].main(argc - 1, argv + 1);
		}
	}
	tool_err("unknown command '%s' (try superpeer --help)", argv[1]);
	return 2;
}
