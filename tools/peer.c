/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `superpeer peer` — what a running data plane does with one peer address, through the key
 * ring (KR_PEER_POLICY): block its channels, choke them, or hold its DATA to a rate; `del`
 * returns it to the data plane's defaults. Applies to new channels at once and to open ones
 * within a second.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "tool.h"

static void peer_usage(FILE *f)
{
	fprintf(f, "usage: superpeer peer [--keyring NAME] set ADDR [rate BYTES/S] [block|allow]\n"
		   "                                      [choke|unchoke]\n"
		   "       superpeer peer [--keyring NAME] del ADDR\n\n"
		   "A policy for every channel from ADDR (IPv4 or IPv6), whatever its port: block\n"
		   "refuses them, choke chokes them (RFC 7574 CHOKE), rate holds their DATA to\n"
		   "BYTES/S (0: the data plane's peer-rate). del: back to the defaults.\n");
}

int tool_peer_main(int argc, char **argv)
{
	struct kr_msg m = {.type = KR_PEER_POLICY, .len = sizeof(struct kr_peer_policy)};
	struct kr_peer_policy *pp = &m.u.policy;
	struct keyring kr;
	char why[128];
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		peer_usage(stdout);
		return 0;
	}
	if (tool_keyring_open(&argc, &argv, &kr) != 0)
		return 1;
	if (argc < 3 || (strcmp(argv[1], "set") != 0 && strcmp(argv[1], "del") != 0)) {
		peer_usage(stderr);
		keyring_close(&kr);
		return 2;
	}
	if (tool_addr_parse(argv[2], pp->peer) != 0) {
		keyring_close(&kr);
		return tool_err("peer: '%s' is not an IPv4 or IPv6 address", argv[2]);
	}
	if (strcmp(argv[1], "del") == 0)
		m.flags = KR_F_DELETE;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "block") == 0) {
			pp->block = 1;
		} else if (strcmp(argv[i], "allow") == 0) {
			pp->block = 0;
		} else if (strcmp(argv[i], "choke") == 0) {
			pp->choke = 1;
		} else if (strcmp(argv[i], "unchoke") == 0) {
			pp->choke = 0;
		} else if (strcmp(argv[i], "rate") == 0 && i + 1 < argc) {
			char *end;

			errno = 0;
			pp->rate = strtoull(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || argv[i][0] == '-') {
				keyring_close(&kr);
				return tool_err("peer: rate '%s': bytes per second", argv[i]);
			}
		} else {
			keyring_close(&kr);
			return tool_err("peer: unexpected '%s'", argv[i]);
		}
	}
	rc = keyring_call(&kr, &m, NULL, 0, NULL, why, sizeof(why), 5000);
	keyring_close(&kr);
	return rc != 0 ? tool_err("peer: %s", why) : 0;
}
