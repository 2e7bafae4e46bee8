/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `superpeer swarm` — the swarms a running data plane serves, through the key ring: add a
 * packed store (checked there against the provider's public key), del by swarm ID, list.
 */
#include <errno.h>
#include <libgen.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp_arg.h"
#include "keyring.h"
#include "manifest.h"
#include "tool.h"

enum { SWARM_TIMEOUT_MS = 30000 }; /* opening a large store maps and checks its tree */

static void swarm_usage(FILE *f)
{
	fprintf(f,
		"usage: superpeer swarm [--keyring NAME] COMMAND\n"
		"  add STORE-DIR --public PUBFILE [--open] [--id SWARM-ID]\n"
		"  del SWARM-ID\n"
		"  list\n"
		"  ingest MANIFEST --public PUBFILE --from ADDR:PORT [--from ...] [--esp-port N]\n"
		"         [--open] [--save DIR]\n"
		"  save SWARM-ID DIR [--when-complete]\n\n"
		"add: the data plane opens the packed store and checks its manifest against the\n"
		"provider's public key (and, with --id, that it is that swarm). Peers reach it\n"
		"through ESP; --open lets plain PPSPP fetch it too.\n"
		"ingest: the data plane fetches the swarm from the peer at ADDR:PORT (from up to\n"
		"4 at once with --from repeated; the same command again adds a source), verifies\n"
		"every chunk, and serves each one as it arrives; --save DIR writes it as a packed\n"
		"store to DIR once complete (as save --when-complete).\n"
		"save: the data plane writes a served swarm (an ingested one, say) as a packed\n"
		"store in the new directory DIR, in the background; `list` shows saving, saved\n"
		"or save-failed (the data plane's output says why). A swarm still being ingested\n"
		"is saved once complete with --when-complete (save-pending until then).\n");
}

static int swarm_add(struct keyring *kr, int argc, char **argv)
{
	struct kr_msg m = {.type = KR_SWARM_ADD, .len = sizeof(struct kr_swarm)};
	struct kr_swarm *sw = &m.u.swarm;
	const char *dir = NULL, *pub = NULL;
	char path[PATH_MAX], why[128];
	int rc, n;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--open") == 0) {
			sw->open = 1;
		} else if (strcmp(argv[i], "--public") == 0 && i + 1 < argc) {
			pub = argv[++i];
		} else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) {
			n = esp_arg_hex(argv[++i], sw->id, sizeof(sw->id));
			if (n != 20 && n != 32)
				return tool_err("add: --id: 40 or 64 hex digits");
			sw->id_len = (uint8_t)n;
		} else if (argv[i][0] != '-' && dir == NULL) {
			dir = argv[i];
		} else {
			return tool_err("add: unexpected '%s'", argv[i]);
		}
	}
	if (dir == NULL || pub == NULL)
		return tool_err("add: needs STORE-DIR and --public PUBFILE");
	if (tool_key_read(pub, sw->provider_pub, sizeof(sw->provider_pub)) != 0)
		return 1;
	/* The data plane runs elsewhere in the file system tree: send an absolute path. */
	if (realpath(dir, path) == NULL)
		return tool_err("add: %s: %s", dir, strerror(errno));
	if (strlen(path) >= sizeof(sw->store))
		return tool_err("add: %s: path longer than %zu bytes", path, sizeof(sw->store) - 1);
	memcpy(sw->store, path, strlen(path) + 1);
	rc = keyring_call(kr, &m, NULL, 0, NULL, why, sizeof(why), SWARM_TIMEOUT_MS);
	if (rc != 0)
		return tool_err("add: %s", why);
	return 0;
}

static void swarm_print_info(const void *entry)
{
	const struct kr_swarm_info *s = entry;
	char id[2 * KR_SWARM_ID_MAX + 1];

	tool_hex(s->id, s->id_len < KR_SWARM_ID_MAX ? s->id_len : KR_SWARM_ID_MAX, id);
	if (s->state == KR_SWARM_INGESTING) {
		char src[64], more[24] = "";

		tool_addr_format(s->source, src, sizeof(src));
		if (s->n_sources > 1)
			snprintf(more, sizeof(more), " and %u more", s->n_sources - 1u);
		/* Served as it arrives: its channels and what they were sent so far. */
		printf("%s %s %" PRIu64 " bytes ingesting %" PRIu64 " of %" PRIu64
		       " chunks from %s port %u%s servable %" PRIu64 " bad-chunks %" PRIu64
		       " channels %" PRIu64 " chunks-sent %" PRIu64 "%s\n",
			id, s->name, s->size, s->chunks_in, s->chunks, src, s->source_port, more,
			s->chunks_servable, s->bad_chunks, s->channels_opened, s->chunks_sent,
			s->save == KR_SAVE_PENDING ? " save-pending" : "");
		return;
	}
	printf("%s %s %" PRIu64 " bytes %" PRIu64 " chunks of %" PRIu64 " %s channels %" PRIu64
	       " chunks-sent %" PRIu64 " bytes-sent %" PRIu64 "%s\n",
		id, s->name, s->size, s->chunks, s->chunk_size, s->open ? "open" : "protected",
		s->channels_opened, s->chunks_sent, s->bytes_sent,
		s->save == KR_SAVE_RUNNING  ? " saving"
		: s->save == KR_SAVE_DONE   ? " saved"
		: s->save == KR_SAVE_FAILED ? " save-failed"
					    : "");
}

/*
 * save SWARM-ID DIR: DIR made absolute (its parent must exist; the data plane checks DIR);
 * with when_complete, a swarm being ingested is saved once complete.
 */
static int swarm_save(
	struct keyring *kr, const uint8_t *id, size_t id_len, const char *dir, bool when_complete)
{
	struct kr_msg m = {.type = KR_SWARM_SAVE, .len = sizeof(struct kr_swarm_save)};
	struct kr_swarm_save *sv = &m.u.save;
	char parent[PATH_MAX], base[PATH_MAX], abs[PATH_MAX], why[256];
	int rc;

	memcpy(sv->id, id, id_len);
	sv->id_len = (uint8_t)id_len;
	sv->when_complete = when_complete;
	snprintf(parent, sizeof(parent), "%s", dir);
	snprintf(base, sizeof(base), "%s", dir);
	if (realpath(dirname(parent), abs) == NULL)
		return tool_err("save: the parent of %s: %s", dir, strerror(errno));
	if (strcmp(basename(base), ".") == 0 || strcmp(basename(base), "..") == 0 ||
		strcmp(basename(base), "/") == 0)
		return tool_err("save: %s: name a new directory", dir);
	if ((size_t)snprintf(sv->dir, sizeof(sv->dir), "%s/%s", strcmp(abs, "/") == 0 ? "" : abs,
		    basename(base)) >= sizeof(sv->dir))
		return tool_err("save: %s: path longer than %zu bytes", dir, sizeof(sv->dir) - 1);
	rc = keyring_call(kr, &m, NULL, 0, NULL, why, sizeof(why), SWARM_TIMEOUT_MS);
	if (rc != 0)
		return tool_err("save: %s", why);
	return 0;
}

/* One --from ADDR:PORT into the peer fields of in. 0, or an error said. */
static int swarm_ingest_from(const char *from, struct kr_ingest *in)
{
	const char *colon = strrchr(from, ':');
	char host[64];
	uint64_t port;

	if (colon == NULL || colon == from || (size_t)(colon - from) >= sizeof(host))
		return tool_err("ingest: --from %s: expected ADDR:PORT or [ADDR6]:PORT", from);
	memcpy(host, from, (size_t)(colon - from));
	host[colon - from] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (tool_addr_parse(host, in->peer) != 0)
		return tool_err("ingest: --from %s: expected ADDR:PORT or [ADDR6]:PORT", from);
	if (tool_num("ingest: --from's port", colon + 1, 1, 65535, &port) != 0)
		return 1;
	in->peer_port = (uint16_t)port;
	return 0;
}

enum { SWARM_SOURCES_MAX = 4 };

/*
 * ingest MANIFEST --public PUBFILE --from ADDR:PORT [--from ...]: one KR_SWARM_INGEST per
 * source, the first starting the ingest and the others adding sources to it.
 */
static int swarm_ingest(struct keyring *kr, int argc, char **argv)
{
	struct kr_msg m = {.type = KR_SWARM_INGEST, .len = sizeof(struct kr_ingest)};
	struct kr_ingest *in = &m.u.ingest;
	const char *man = NULL, *pub = NULL, *from[SWARM_SOURCES_MAX], *save = NULL;
	char path[PATH_MAX], why[128], text[MANIFEST_MAX_LEN + 1], err[256];
	struct manifest mf;
	uint64_t esp_port = 0;
	unsigned n_from = 0;
	int rc = 0;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--open") == 0)
			in->open = 1;
		else if (strcmp(argv[i], "--public") == 0 && i + 1 < argc)
			pub = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			if (n_from == SWARM_SOURCES_MAX)
				return tool_err("ingest: at most %d sources", SWARM_SOURCES_MAX);
			from[n_from++] = argv[++i];
		} else if (strcmp(argv[i], "--esp-port") == 0 && i + 1 < argc) {
			if (tool_num("ingest: --esp-port", argv[++i], 0, 65535, &esp_port) != 0)
				return 1;
		} else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
			save = argv[++i];
		else if (argv[i][0] != '-' && man == NULL)
			man = argv[i];
		else
			return tool_err("ingest: unexpected '%s'", argv[i]);
	}
	if (man == NULL || pub == NULL || n_from == 0)
		return tool_err("ingest: needs MANIFEST, --public PUBFILE and --from ADDR:PORT");
	for (unsigned k = 0; k < n_from; k++) { /* every one checked before anything starts */
		if (swarm_ingest_from(from[k], in) != 0)
			return 1;
		for (unsigned i = 0; i < k; i++)
			if (strcmp(from[i], from[k]) == 0)
				return tool_err("ingest: --from %s given twice", from[k]);
	}
	in->encap_port = (uint16_t)esp_port;
	if (tool_key_read(pub, in->provider_pub, sizeof(in->provider_pub)) != 0)
		return 1;
	if (realpath(man, path) == NULL)
		return tool_err("ingest: %s: %s", man, strerror(errno));
	if (strlen(path) >= sizeof(in->manifest))
		return tool_err("ingest: %s: path too long", path);
	memcpy(in->manifest, path, strlen(path) + 1);
	if (save != NULL) { /* so that no ingest starts unsaveable */
		if (manifest_load(path, &mf, text, sizeof(text), err, sizeof(err)) != 0)
			return tool_err("ingest: %s", err);
		if (access(save, F_OK) == 0)
			return tool_err("ingest: --save %s: exists already", save);
	}
	for (unsigned k = 0; k < n_from; k++) {
		swarm_ingest_from(from[k], in);
		if (keyring_call(kr, &m, NULL, 0, NULL, why, sizeof(why), SWARM_TIMEOUT_MS) != 0) {
			if (k == 0)
				return tool_err("ingest: %s", why);
			/* The ingest runs on with the sources it has (and its save, if any). */
			tool_err("ingest: started, but source %s not added: %s", from[k], why);
			rc = 1;
			continue;
		}
		/* The save is asked for with the first source, before any can complete it. */
		if (k == 0 && save != NULL &&
			swarm_save(kr, mf.swarm_id, hash_len(mf.hash), save, true) != 0) {
			tool_err("ingest: started, but it will not be saved (above)");
			rc = 1;
		}
	}
	return rc;
}

int tool_swarm_main(int argc, char **argv)
{
	struct keyring kr;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		swarm_usage(stdout);
		return 0;
	}
	if (tool_keyring_open(&argc, &argv, &kr) != 0)
		return 1;
	if (argc < 2) {
		swarm_usage(stderr);
		keyring_close(&kr);
		return 2;
	}
	if (strcmp(argv[1], "add") == 0) {
		rc = swarm_add(&kr, argc, argv);
	} else if (strcmp(argv[1], "del") == 0 && argc == 3) {
		struct kr_msg m = {.type = KR_SWARM_DEL, .len = sizeof(struct kr_swarm)};
		char why[128];
		int n = esp_arg_hex(argv[2], m.u.swarm.id, sizeof(m.u.swarm.id));

		if (n != 20 && n != 32) {
			rc = tool_err("del: the swarm ID is 40 or 64 hex digits");
		} else {
			m.u.swarm.id_len = (uint8_t)n;
			rc = keyring_call(
				&kr, &m, NULL, 0, NULL, why, sizeof(why), SWARM_TIMEOUT_MS);
			if (rc != 0)
				rc = tool_err("del: %s", why);
		}
	} else if (strcmp(argv[1], "ingest") == 0) {
		rc = swarm_ingest(&kr, argc, argv);
	} else if (strcmp(argv[1], "save") == 0 &&
		   (argc == 4 || (argc == 5 && strcmp(argv[4], "--when-complete") == 0))) {
		uint8_t id[KR_SWARM_ID_MAX];
		int n = esp_arg_hex(argv[2], id, sizeof(id));

		rc = n != 20 && n != 32 ? tool_err("save: the swarm ID is 40 or 64 hex digits")
					: swarm_save(&kr, id, (size_t)n, argv[3], argc == 5);
	} else if (strcmp(argv[1], "list") == 0) {
		rc = tool_keyring_list(&kr, KR_SWARM_LIST, sizeof(struct kr_swarm_info),
				       swarm_print_info, SWARM_TIMEOUT_MS);
	} else {
		swarm_usage(stderr);
		rc = 2;
	}
	keyring_close(&kr);
	return rc < 0 ? 1 : rc;
}
