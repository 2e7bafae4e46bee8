/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer keygen: an Ed25519 key pair for a content provider, which signs manifests.
 * Both files hold hex and a newline (docs/store-format.md); the secret one is mode 0600 and is
 * never overwritten.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: superpeer keygen -o DIR\n"
		   "       superpeer keygen --secret FILE --public FILE\n\n"
		   "Makes an Ed25519 content-provider key pair. With -o, writes DIR/provider.key\n"
		   "(secret, mode 0600) and DIR/provider.pub, creating DIR (mode 0700) if needed.\n"
		   "Files hold 64 hex digits and a newline. Existing files are never overwritten.\n"
		   "Prints the public key and its provider key ID.\n");
}

int tool_keygen_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "secret", required_argument, NULL, 's' },
		{ "public", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *sec_path = NULL, *pub_path = NULL;
	char sec_buf[4096], pub_buf[4096], hex[2 * ED25519_PUBLIC_LEN + 1];
	char kid_hex[2 * MANIFEST_KEY_ID_LEN + 1];
	uint8_t pub[ED25519_PUBLIC_LEN], sec[ED25519_SECRET_LEN], kid[MANIFEST_KEY_ID_LEN];
	struct crypto_engine e;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case 's':
			sec_path = optarg;
			break;
		case 'p':
			pub_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (dir != NULL) == (sec_path != NULL || pub_path != NULL) ||
	    (dir == NULL && (sec_path == NULL || pub_path == NULL))) {
		tool_err("give either -o DIR or both --secret FILE and --public FILE");
		return 2;
	}
	if (dir != NULL) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return tool_err("cannot create %s: %s", dir, strerror(errno));
		snprintf(sec_buf, sizeof(sec_buf), "%s/provider.key", dir);
		snprintf(pub_buf, sizeof(pub_buf), "%s/provider.pub", dir);
		sec_path = sec_buf;
		pub_path = pub_buf;
	}
	if (access(sec_path, F_OK) == 0 || access(pub_path, F_OK) == 0)
		return tool_err("%s already exists: not overwriting a key",
				access(sec_path, F_OK) == 0 ? sec_path : pub_path);
	if (crypto_engine_init(&e) != 0)
		return tool_err("cannot start the crypto engine");
	if (ed25519_keygen(pub, sec) != 0) {
		tool_err("key generation failed");
		goto out;
	}
	if (tool_key_write(sec_path, sec, sizeof(sec), 0600) != 0)
		goto out;
	if (tool_key_write(pub_path, pub, sizeof(pub), 0644) != 0) {
		unlink(sec_path);
		goto out;
	}
	manifest_key_id(&e, pub, kid);
	tool_hex(pub, sizeof(pub), hex);
	tool_hex(kid, sizeof(kid), kid_hex);
	printf("public key: %s\nprovider key id: %s\n", hex, kid_hex);
	rc = 0;
out:
	crypto_wipe(sec, sizeof(sec));
	crypto_engine_fini(&e);
	return rc;
}
