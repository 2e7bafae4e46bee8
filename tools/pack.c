/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer pack: content file -> chunk store (docs/store-format.md).
 *
 * Everything is written into a fresh temporary directory beside OUTDIR and renamed onto OUTDIR
 * only when complete and synced, so OUTDIR either does not exist or is a whole store; any
 * failure (or SIGINT/SIGTERM) removes the temporary directory. Memory stays bounded: the
 * content is streamed in 4 MiB reads and the tree nodes go straight to the tree file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static volatile int pack_stop;

static void pack_on_signal(int sig)
{
	(void)sig;
	pack_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: superpeer pack [--hash sha256|sha1] [--chunk-size N] [--name NAME]\n"
		"                      --key SECRETFILE -o OUTDIR CONTENTFILE\n\n"
		"Packs CONTENTFILE into the chunk store OUTDIR (which must not exist): the\n"
		"chunks, the full Merkle tree (RFC 7574 section 5) and a manifest signed with\n"
		"the provider key SECRETFILE (from superpeer keygen). Prints the swarm ID (the\n"
		"Merkle root) as lowercase hex on the last line of stdout. Progress is shown\n"
		"when stderr is a terminal.\n\n"
		"  --hash H          Merkle hash: sha256 (default) or sha1\n"
		"  --chunk-size N    power of two from 512 to 8192 (default 1024)\n"
		"  --name NAME       content name in the manifest (default: the file's base name)\n"
		"  --key FILE        provider secret key\n"
		"  -o, --output DIR  the store to create\n");
}

/* Tree nodes go to their place in the tree file; bins never written stay zero (sparse). */
struct pack_tree_sink {
	int fd;
	uint32_t hl;
};

static int pack_tree_write(void *ctx, uint64_t first_bin, const uint8_t *nodes, uint64_t count)
{
	struct pack_tree_sink *s = ctx;
	size_t len = count * s->hl, done = 0;
	off_t off = STORE_TREE_HEADER_LEN + (off_t)(first_bin * s->hl);

	while (done < len) {
		ssize_t r = pwrite(s->fd, nodes + done, len - done, off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		done += (size_t)r;
	}
	return 0;
}

static int pack_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Removes what pack put in the temporary directory, then the directory. */
static void pack_cleanup(const char *tmp)
{
	static const char *const files[] = { STORE_CHUNKS_FILE, STORE_TREE_FILE,
					     STORE_MANIFEST_FILE };
	char p[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (snprintf(p, sizeof(p), "%s/%s", tmp, files[i]) < (int)sizeof(p))
			unlink(p);
	}
	rmdir(tmp);
}

static int pack_open_new(const char *dir, const char *name, char *path, size_t cap)
{
	if (snprintf(path, cap, "%s/%s", dir, name) >= (int)cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
}

int tool_pack_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hash", required_argument, NULL, 'H' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *content_path, *name = NULL;
	char out[PATH_MAX], tmp[PATH_MAX], parent[PATH_MAX], base[PATH_MAX];
	char chunks_path[PATH_MAX], tree_path[PATH_MAX], man_path[PATH_MAX];
	char text[MANIFEST_MAX_LEN + 1], hex[2 * HASH_MAX_LEN + 1];
	uint8_t sec[ED25519_SECRET_LEN], pub[ED25519_PUBLIC_LEN], root[HASH_MAX_LEN];
	enum hash_alg alg = HASH_SHA256;
	unsigned long chunk_size = 1024;
	struct merkle_builder *b = NULL;
	struct pack_tree_sink sink = { .fd = -1 };
	struct store_tree_header hdr;
	struct crypto_engine e = { 0 };
	struct manifest m = { 0 };
	struct sigaction sa = { .sa_handler = pack_on_signal };
	int content_fd = -1, chunks_fd = -1, man_fd = -1, dir_fd = -1, c, rc = 1, n;
	bool have_tmp = false, have_engine = false;
	struct stat st;
	char *end;

	out[0] = '\0';
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (hash_from_name(optarg, &alg) != 0)
				return tool_err("bad --hash '%s' (sha256 or sha1)", optarg);
			break;
		case 'c':
			errno = 0;
			chunk_size = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || chunk_size > UINT32_MAX ||
			    !merkle_chunk_size_valid((uint32_t)chunk_size))
				return tool_err("bad --chunk-size '%s' (a power of two, 512..8192)",
						optarg);
			break;
		case 'n':
			name = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'o':
			if (snprintf(out, sizeof(out), "%s", optarg) >= (int)sizeof(out))
				return tool_err("output path too long");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || key_path == NULL || out[0] == '\0') {
		tool_err("need --key SECRETFILE, -o OUTDIR and one CONTENTFILE (see --help)");
		return 2;
	}
	content_path = argv[optind];

	/* Strip trailing slashes so "out/" renames like "out". */
	for (size_t l = strlen(out); l > 1 && out[l - 1] == '/'; l--)
		out[l - 1] = '\0';
	{
		/* dirname(3) and basename(3) may modify their argument: work on copies. */
		char d[PATH_MAX], bn[PATH_MAX];

		memcpy(d, out, sizeof(d));
		memcpy(bn, out, sizeof(bn));
		if (snprintf(parent, sizeof(parent), "%s", dirname(d)) >= (int)sizeof(parent) ||
		    snprintf(base, sizeof(base), "%s", basename(bn)) >= (int)sizeof(base))
			return tool_err("output path too long");
	}
	if (strcmp(base, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return tool_err("bad output directory '%s'", out);
	if (lstat(out, &st) == 0)
		return tool_err("output %s already exists", out);

	if (tool_key_read(key_path, sec, sizeof(sec)) != 0)
		return 1;
	if (ed25519_public(sec, pub) != 0) {
		tool_err("key file %s: not a usable Ed25519 secret key", key_path);
		goto out;
	}

	content_fd = open(content_path, O_RDONLY | O_CLOEXEC);
	if (content_fd < 0) {
		tool_err("cannot open %s: %s", content_path, strerror(errno));
		goto out;
	}
	if (fstat(content_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		tool_err("%s is not a regular file", content_path);
		goto out;
	}
	if (st.st_size == 0) {
		tool_err("%s is empty: there is nothing to pack", content_path);
		goto out;
	}
	if (merkle_height(merkle_chunk_count((uint64_t)st.st_size, (uint32_t)chunk_size)) >
	    MERKLE_MAX_HEIGHT) {
		tool_err("%s is too large for 32-bit chunk addressing at chunk size %lu",
			 content_path, chunk_size);
		goto out;
	}
	m.hash = alg;
	m.chunk_size = (uint32_t)chunk_size;
	m.content_len = (uint64_t)st.st_size;
	if (name == NULL) {
		char tmpname[PATH_MAX];

		snprintf(tmpname, sizeof(tmpname), "%s", content_path);
		snprintf(m.name, sizeof(m.name), "%s", basename(tmpname));
	} else if (snprintf(m.name, sizeof(m.name), "%s", name) >= (int)sizeof(m.name)) {
		tool_err("--name is longer than %d bytes", MANIFEST_NAME_MAX);
		goto out;
	}
	if (manifest_format_body(&m, text, sizeof(text)) < 0) {
		tool_err("content name '%s' is not allowed (1..%d bytes, no control characters)",
			 m.name, MANIFEST_NAME_MAX);
		goto out;
	}

	if (crypto_engine_init(&e) != 0) {
		tool_err("cannot start the crypto engine");
		goto out;
	}
	have_engine = true;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", parent, base) >= (int)sizeof(tmp) ||
	    mkdtemp(tmp) == NULL) {
		tool_err("cannot create a temporary directory in %s: %s", parent, strerror(errno));
		goto out;
	}
	have_tmp = true;
	chunks_fd = pack_open_new(tmp, STORE_CHUNKS_FILE, chunks_path, sizeof(chunks_path));
	sink.fd = pack_open_new(tmp, STORE_TREE_FILE, tree_path, sizeof(tree_path));
	sink.hl = (uint32_t)hash_len(alg);
	if (chunks_fd < 0 || sink.fd < 0) {
		tool_err("cannot create files in %s: %s", tmp, strerror(errno));
		goto out;
	}
	store_tree_header_fill(&hdr, alg, m.chunk_size, m.content_len);
	if (ftruncate(sink.fd, STORE_TREE_HEADER_LEN +
				       (off_t)(store_le64(hdr.node_count_le) * sink.hl)) != 0 ||
	    pwrite(sink.fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		tool_err("cannot write %s: %s", tree_path, strerror(errno));
		goto out;
	}
	n = merkle_builder_new(&b, &e, alg, m.chunk_size, m.content_len, pack_tree_write, &sink);
	if (n != 0) {
		tool_err("cannot start the Merkle tree: %s", strerror(-n));
		goto out;
	}
	if (store_stream(content_fd, content_path, m.content_len, b, chunks_fd, chunks_path,
			 isatty(STDERR_FILENO), &pack_stop) != 0)
		goto out;
	n = merkle_builder_finish(b, root);
	if (n != 0) {
		tool_err("cannot finish the Merkle tree: %s", strerror(-n));
		goto out;
	}
	memcpy(m.swarm_id, root, sink.hl);
	n = manifest_sign(&e, &m, sec, text, sizeof(text));
	if (n < 0) {
		tool_err("cannot sign the manifest: %s", strerror(-n));
		goto out;
	}
	man_fd = pack_open_new(tmp, STORE_MANIFEST_FILE, man_path, sizeof(man_path));
	if (man_fd < 0 || pack_write_all(man_fd, text, (size_t)n) != 0) {
		tool_err("cannot write %s: %s", man_path, strerror(errno));
		goto out;
	}
	/* Data first, then the name: a crash must not leave a complete-looking store. */
	if (fsync(chunks_fd) != 0 || fsync(sink.fd) != 0 || fsync(man_fd) != 0) {
		tool_err("cannot sync the store in %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (pack_stop) {
		tool_err("interrupted");
		goto out;
	}
	/* mkdtemp made the directory 0700; give the store the mode mkdir would have. */
	{
		mode_t um = umask(0);

		umask(um);
		chmod(tmp, 0777 & ~um);
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) != 0) {
		tool_err("cannot rename the store to %s: %s", out, strerror(errno));
		goto out;
	}
	have_tmp = false;
	dir_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd >= 0)
		fsync(dir_fd);
	tool_hex(root, sink.hl, hex);
	printf("%s\n", hex);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	crypto_wipe(sec, sizeof(sec));
	merkle_builder_free(b);
	if (have_engine)
		crypto_engine_fini(&e);
	if (content_fd >= 0)
		close(content_fd);
	if (chunks_fd >= 0)
		close(chunks_fd);
	if (sink.fd >= 0)
		close(sink.fd);
	if (man_fd >= 0)
		close(man_fd);
	if (dir_fd >= 0)
		close(dir_fd);
	if (have_tmp)
		pack_cleanup(tmp);
	return rc;
}
