/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `superpeer sa` — SAs of a running data plane through the key ring, the way `ip xfrm
 * state` handles the kernel's: add (or replace without a gap), del, show (also as the
 * equivalent `ip xfrm state add` line or a Wireshark esp_sa entry, to decrypt captures),
 * list, flush. The syntax follows ip-xfrm's keywords. docs/keyring.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp_arg.h"
#include "keyring.h"
#include "tool.h"

enum { SA_TIMEOUT_MS = 5000 };

static void sa_usage(FILE *f)
{
	fprintf(f,
		"usage: superpeer sa [--keyring NAME] COMMAND\n"
		"  add in  spi SPI [peer ADDR] [encap] aead KEYSALT|- [esn] [replace] [LIMITS]\n"
		"  add out spi SPI peer ADDR [encap PORT] aead KEYSALT|- [esn] [replace] [LIMITS]\n"
		"  del  in SPI | out ADDR [encap PORT]\n"
		"  batch FILE|-   (an add or del per line; stops at the first that fails)\n"
		"  show in SPI | out ADDR [encap PORT] [--xfrm | --wireshark]\n"
		"  list\n"
		"  flush\n\n"
		"Inbound SAs are found by the SPI we chose, outbound ones by the peer (address, "
		"and\n"
		"its UDP port for ESP in UDP; without encap: raw ESP, IP protocol 50). An inbound\n"
		"SA with a peer accepts packets from that address only. KEYSALT: 0x + the 16- or\n"
		"32-byte AES-GCM key and the 4-byte salt, as `ip xfrm ... aead "
		"'rfc4106(gcm(aes))'`\n"
		"takes it; '-' reads it from standard input (keeps it out of the process list).\n"
		"LIMITS: soft-packets N hard-packets N soft-bytes N hard-bytes N soft-seconds N\n"
		"hard-seconds N (0 = none). replace: swap an existing SA without a gap.\n"
		"Numbers are decimal, or hex after 0x (SPIs as `sa list` prints them).\n"
		"The key ring: --keyring, else $SUPERPEER_KEYRING, else 'superpeer'.\n");
}

/* ADDR (IPv4 or IPv6) into the ring's form: IPv6, or IPv4-mapped. */
int tool_addr_parse(const char *s, uint8_t out[16])
{
	struct in_addr a4;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

static bool tool_addr_v4(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	return memcmp(a, mapped, 12) == 0;
}

static bool tool_addr_any(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

void tool_addr_format(const uint8_t a[16], char *out, size_t cap)
{
	if (tool_addr_any(a))
		snprintf(out, cap, "any");
	else if (tool_addr_v4(a))
		inet_ntop(AF_INET, a + 12, out, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, a, out, (socklen_t)cap);
}

/* "in SPI" or "out ADDR [encap PORT]" from argv[*i]. */
static int sa_id_parse(int argc, char **argv, int *i, struct kr_sa_id *id)
{
	uint64_t v;

	memset(id, 0, sizeof(*id));
	if (*i >= argc)
		return tool_err("expected 'in SPI' or 'out ADDR'");
	if (strcmp(argv[*i], "in") == 0) {
		id->dir = KR_DIR_IN;
		if (*i + 1 >= argc || tool_num("SPI", argv[*i + 1], 0, UINT32_MAX, &v) != 0)
			return *i + 1 >= argc ? tool_err("'in' needs an SPI") : 1;
		id->spi = (uint32_t)v;
		*i += 2;
		return 0;
	}
	if (strcmp(argv[*i], "out") != 0)
		return tool_err("expected 'in' or 'out', not '%s'", argv[*i]);
	id->dir = KR_DIR_OUT;
	if (*i + 1 >= argc || tool_addr_parse(argv[*i + 1], id->peer) != 0)
		return tool_err("'out' needs the peer's IPv4 or IPv6 address");
	*i += 2;
	if (*i + 1 < argc && strcmp(argv[*i], "encap") == 0) {
		if (tool_num("encap port", argv[*i + 1], 0, 65535, &v) != 0 || v == 0)
			return v == 0 ? tool_err("encap port must be 1..65535") : 1;
		id->peer_port = (uint16_t)v;
		*i += 2;
	}
	return 0;
}

/* A word to quote in an error: itself, unless it could be key material (a long run of hex
 * digits, as a mistyped line's key would be), which is never echoed. */
static const char *sa_word(const char *w)
{
	size_t n = strspn(w + (strncmp(w, "0x", 2) == 0 ? 2 : 0), "0123456789abcdefABCDEF");

	return n >= 16 ? "(a long hex word, not shown: a key?)" : w;
}

static int sa_keysalt(const char *arg, struct kr_sa *sa)
{
	char line[160], err[128];
	int rc;

	if (strcmp(arg, "-") == 0) {
		size_t n;

		if (fgets(line, sizeof(line), stdin) == NULL)
			return tool_err("no key on standard input");
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		arg = line;
	}
	rc = esp_arg_keysalt(arg, sa->key, &sa->key_len, sa->salt, err, sizeof(err));
	crypto_wipe(line, sizeof(line));
	return rc != 0 ? tool_err("aead: %s", err) : 0;
}

/* "add in|out ..." from argv[i] into *m (which then holds the key). 0, or 1 with a message. */
static int sa_add_parse(int argc, char **argv, int i, struct kr_msg *mp)
{
	struct kr_msg m = {.type = KR_SA_ADD, .len = sizeof(struct kr_sa)};
	struct kr_sa *sa = &m.u.sa;
	bool have_key = false, have_spi = false, encap = false;
	uint64_t v;
	int rc = 1;

	if (i >= argc || (strcmp(argv[i], "in") != 0 && strcmp(argv[i], "out") != 0))
		return tool_err("add: 'in' or 'out' first");
	sa->id.dir = strcmp(argv[i], "in") == 0 ? KR_DIR_IN : KR_DIR_OUT;
	for (i++; i < argc; i++) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		struct {
			const char *name;
			uint64_t *dst;
		} limits[] = {
			{"soft-packets", &sa->soft.packets},
			{"hard-packets", &sa->hard.packets},
			{"soft-bytes", &sa->soft.bytes},
			{"hard-bytes", &sa->hard.bytes},
			{"soft-seconds", &sa->soft.seconds},
			{"hard-seconds", &sa->hard.seconds},
		};
		bool limit = false;

		if (strcmp(k, "esn") == 0) {
			sa->flags |= KR_SA_F_ESN;
			continue;
		}
		if (strcmp(k, "replace") == 0) {
			m.flags |= KR_F_REPLACE;
			continue;
		}
		if (strcmp(k, "encap") == 0) {
			encap = true;
			sa->flags |= KR_SA_F_UDP_ENCAP;
			if (sa->id.dir == KR_DIR_IN)
				continue;
		}
		if (val == NULL) {
			tool_err("add: '%s' needs a value", sa_word(k));
			goto out;
		}
		for (size_t j = 0; j < sizeof(limits) / sizeof(limits[0]); j++)
			if (strcmp(k, limits[j].name) == 0) {
				if (tool_num(k, val, 0, UINT64_MAX, limits[j].dst) != 0)
					goto out;
				limit = true;
			}
		if (limit) {
		} else if (strcmp(k, "spi") == 0) {
			if (tool_num("SPI", val, 0, UINT32_MAX, &v) != 0)
				goto out;
			sa->id.spi = (uint32_t)v;
			have_spi = true;
		} else if (strcmp(k, "peer") == 0) {
			if (tool_addr_parse(val, sa->id.peer) != 0) {
				tool_err("add: peer '%s' is not an IPv4 or IPv6 address",
					sa_word(val));
				goto out;
			}
		} else if (strcmp(k, "encap") == 0) {
			if (tool_num("encap port", val, 0, 65535, &v) != 0 || v == 0) {
				if (v == 0)
					tool_err("add: encap port must be 1..65535");
				goto out;
			}
			sa->id.peer_port = (uint16_t)v;
		} else if (strcmp(k, "aead") == 0) {
			if (sa_keysalt(val, sa) != 0)
				goto out;
			have_key = true;
		} else {
			tool_err("add: unknown keyword '%s'", sa_word(k));
			goto out;
		}
		i++;
	}
	if (!have_spi || !have_key) {
		tool_err("add: needs spi SPI and aead KEYSALT");
		goto out;
	}
	if (sa->id.dir == KR_DIR_OUT && tool_addr_any(sa->id.peer)) {
		tool_err("add out: needs peer ADDR");
		goto out;
	}
	(void)encap;
	*mp = m;
	rc = 0;
out:
	crypto_wipe(&m, sizeof(m));
	return rc;
}

static int sa_add(struct keyring *kr, int argc, char **argv, int i)
{
	struct kr_msg m;
	char why[128];
	int rc = sa_add_parse(argc, argv, i, &m);

	if (rc == 0 &&
		(rc = keyring_call(kr, &m, NULL, 0, NULL, why, sizeof(why), SA_TIMEOUT_MS)) != 0)
		rc = tool_err("add: %s (%s)", why[0] ? why : "refused", strerror(-rc));
	crypto_wipe(&m, sizeof(m));
	return rc;
}

/* "del in SPI | out ADDR [encap PORT]" from argv[i] into *m. 0, or 1 with a message. */
static int sa_del_parse(int argc, char **argv, int i, struct kr_msg *m)
{
	int rc;

	*m = (struct kr_msg){.type = KR_SA_DEL, .len = sizeof(struct kr_sa_id)};
	rc = sa_id_parse(argc, argv, &i, &m->u.sa_id);
	if (rc == 0 && i != argc)
		rc = tool_err("del: unexpected '%s'", argv[i]);
	return rc;
}

static int sa_del(struct keyring *kr, int argc, char **argv, int i)
{
	struct kr_msg m;
	char why[128];
	int rc = sa_del_parse(argc, argv, i, &m);

	if (rc == 0 && keyring_call(kr, &m, NULL, 0, NULL, why, sizeof(why), SA_TIMEOUT_MS) != 0)
		rc = tool_err("del: %s", why);
	return rc;
}

enum { SA_BATCH_CHUNK = 4096 }; /* commands parsed, then sent as one key ring batch */

/* One parsed line of a batch: its command and where it came from. */
struct sa_batch_cmd {
	struct kr_msg m;
	uint32_t line;
};

/*
 * Sends cmds[0..n) as one key ring batch. 0; or 1 after naming the line that failed (the data
 * plane's refusal, or a failure to send) as "CMD: FILE:LINE: add|del: reason".
 */
static int sa_batch_send(struct keyring *kr, const struct sa_batch_cmd *cmds, size_t n,
	const char *cmd_was, const char *name, size_t *applied)
{
	char why[160], where[PATH_MAX + 64];
	const struct sa_batch_cmd *c;
	size_t sent = 0;
	uint64_t first, failed = 0;
	bool refused;
	int rs = 0, re;

	if (keyring_batch_begin(kr, why, sizeof(why), SA_TIMEOUT_MS) != 0)
		return tool_err("batch: %s", why);
	first = kr->h->batch_from;
	for (; sent < n; sent++) {
		struct kr_msg m = cmds[sent].m;

		rs = keyring_batch_send(kr, &m, why, sizeof(why), SA_TIMEOUT_MS);
		crypto_wipe(&m, sizeof(m));
		if (rs != 0)
			break; /* -ECANCELED: an earlier one failed, keyring_batch_end says which */
	}
	re = keyring_batch_end(kr, &failed, why, sizeof(why), SA_TIMEOUT_MS);
	if (rs == 0 && re == 0) {
		*applied += n;
		return 0;
	}
	/* The command the data plane refused, else the one that could not be sent. */
	refused = re != 0 && failed >= first && failed - first < sent;
	c = &cmds[refused ? failed - first : sent < n ? sent : n - 1];
	snprintf(where, sizeof(where), "%s: %s:%u", cmd_was, name, c->line);
	tool_cmd = where;
	if (refused)
		re = tool_err("%s: %s (%s)", c->m.type == KR_SA_DEL ? "del" : "add",
			why[0] ? why : "refused", strerror(-re));
	else
		re = tool_err("%s", why[0] ? why : strerror(-(rs != 0 ? rs : re)));
	tool_cmd = cmd_was;
	return re;
}

/*
 * batch FILE|-: an add or del per line (words as on the command line; '#' starts a comment),
 * in order, as `ip -batch` does for ip commands. Up to SA_BATCH_CHUNK lines are parsed, then
 * sent as one key ring batch (keyring_batch_*: without waiting for each), so the producer lock
 * is never held while reading. Stops at the first line that fails and names it; what came
 * before stays applied. A line that does not parse is reported only once the lines before it
 * are in (one of them the data plane refused is the first failure then). Keys are in the
 * lines, so aead '-' is refused; the stdio buffer, lines and commands are wiped once used.
 */
static int sa_batch(struct keyring *kr, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	const char *cmd_was = tool_cmd, *name = f == stdin ? "stdin" : path;
	static char iobuf[1 << 16];
	char line[1024], where[PATH_MAX + 64], parse_err[PATH_MAX + 256] = "";
	struct sa_batch_cmd *cmds;
	size_t n_cmds = 0, applied = 0;
	unsigned n = 0;
	bool eof = false;
	int rc = 0;

	if (f == NULL)
		return tool_err("batch: cannot open %s: %s", path, strerror(errno));
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf)); /* ours, so that it can be wiped */
	cmds = calloc(SA_BATCH_CHUNK, sizeof(*cmds));
	if (cmds == NULL) {
		if (f != stdin)
			fclose(f);
		return tool_err("out of memory");
	}
	while (rc == 0 && !eof) {
		/* Parse a chunk; a line that does not parse ends it, its message kept for later. */
		while (n_cmds < SA_BATCH_CHUNK && parse_err[0] == '\0') {
			char *argv[64], *save = NULL;
			int argc = 1, bad = 0;

			if (fgets(line, sizeof(line), f) == NULL) {
				eof = true;
				break;
			}
			n++;
			snprintf(where, sizeof(where), "%s: %s:%u", cmd_was, name, n);
			tool_cmd = where;
			tool_err_capture(parse_err, sizeof(parse_err));
			if (strchr(line, '\n') == NULL && !feof(f))
				bad = tool_err("line longer than %zu bytes", sizeof(line) - 2);
			argv[0] = "batch";
			for (char *w = strtok_r(line, " \t\r\n", &save);
				!bad && w != NULL && w[0] != '#';
				w = strtok_r(NULL, " \t\r\n", &save)) {
				if (argc == 64)
					bad = tool_err("more than 63 words");
				else
					argv[argc++] = w;
			}
			for (int k = 2; !bad && k + 1 < argc; k++)
				if (strcmp(argv[k], "aead") == 0 && strcmp(argv[k + 1], "-") == 0)
					bad = tool_err("aead -: in a batch the key is on the line");
			if (!bad && argc > 1) {
				struct sa_batch_cmd *c = &cmds[n_cmds];

				if (strcmp(argv[1], "add") == 0)
					bad = sa_add_parse(argc, argv, 2, &c->m);
				else if (strcmp(argv[1], "del") == 0 ||
					 strcmp(argv[1], "delete") == 0)
					bad = sa_del_parse(argc, argv, 2, &c->m);
				else
					bad = tool_err("add or del, not '%s'", argv[1]);
				if (!bad)
					c->line = n, n_cmds++;
			}
			tool_err_capture(NULL, 0);
			tool_cmd = cmd_was;
			crypto_wipe(line, sizeof(line));
		}
		if (n_cmds > 0)
			rc = sa_batch_send(kr, cmds, n_cmds, cmd_was, name, &applied);
		crypto_wipe(cmds, n_cmds * sizeof(*cmds));
		n_cmds = 0;
		if (rc == 0 && parse_err[0] != '\0') {
			fprintf(stderr, "%s\n", parse_err);
			rc = 1;
		}
	}
	if (rc == 0 && ferror(f))
		rc = tool_err("batch: reading %s: %s", name, strerror(errno));
	free(cmds);
	if (f != stdin)
		fclose(f);
	crypto_wipe(iobuf, sizeof(iobuf)); /* stdin keeps it, unread from here on */
	crypto_wipe(line, sizeof(line));
	if (rc == 0)
		printf("%zu commands applied\n", applied);
	return rc;
}

static void sa_print_info(const void *entry)
{
	const struct kr_sa_info *s = entry;

	char peer[INET6_ADDRSTRLEN];

	tool_addr_format(s->id.peer, peer, sizeof(peer));
	printf("%-3s spi 0x%08x peer %s", s->id.dir == KR_DIR_IN ? "in" : "out", s->id.spi, peer);
	if (s->flags & KR_SA_F_UDP_ENCAP) {
		if (s->id.peer_port != 0)
			printf(" encap %u", s->id.peer_port);
		else
			printf(" encap");
	}
	printf(" aes-%u-gcm%s seq %" PRIu64 " packets %" PRIu64 " bytes %" PRIu64 " drops %" PRIu64
	       " age %" PRIu64 "s%s%s\n",
		s->key_len * 8, (s->flags & KR_SA_F_ESN) ? " esn" : "", s->seq, s->packets,
		s->bytes, s->drops, s->age_s, (s->expired & 1) ? " soft-expired" : "",
		(s->expired & 2) ? " hard-expired" : "");
}

int tool_keyring_list(struct keyring *kr, uint16_t type, size_t esize,
		      void (*print)(const void *entry), unsigned timeout_ms)
{
	size_t cap = sizeof(struct kr_list_reply) + KR_LIST_MAX * esize;
	uint8_t *buf = malloc(cap);
	struct kr_msg m = {.type = type, .len = sizeof(struct kr_list_req)};
	char why[128];
	int rc = 0;

	if (buf == NULL)
		return tool_err("out of memory");
	do {
		const struct kr_list_reply *r = (const struct kr_list_reply *)buf;
		size_t got;

		m.u.list.max = KR_LIST_MAX;
		rc = keyring_call(kr, &m, buf, cap, &got, why, sizeof(why), timeout_ms);
		if (rc != 0 || got < sizeof(*r) || r->count > KR_LIST_MAX ||
		    got < sizeof(*r) + (size_t)r->count * esize) {
			rc = tool_err("list: %s", rc != 0 ? why : "short reply");
			break;
		}
		for (uint32_t k = 0; k < r->count; k++)
			print((const uint8_t *)(r + 1) + k * esize);
		m.u.list.start = r->next;
	} while (m.u.list.start != 0);
	free(buf);
	return rc;
}

/* The data plane's own address in the peer's family, for the xfrm and Wireshark forms. */
static void sa_local_addr(const struct keyring *kr, const uint8_t peer[16], char *out, size_t cap)
{
	if (tool_addr_any(peer) || tool_addr_v4(peer))
		inet_ntop(AF_INET, kr->h->ip4, out, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, kr->h->ip6, out, (socklen_t)cap);
}

static int sa_show(struct keyring *kr, const struct kr_sa_id *id, int form)
{
	struct kr_msg m = {.type = KR_SA_GET, .len = sizeof(struct kr_sa_id)};
	char why[128], peer[INET6_ADDRSTRLEN], us[INET6_ADDRSTRLEN];
	char km[2 * (KR_KEY_MAX + KR_SALT_LEN) + 1];
	const char *src, *dst;
	struct kr_sa sa;
	size_t got;
	int rc;

	m.u.sa_id = *id;
	rc = keyring_call(kr, &m, &sa, sizeof(sa), &got, why, sizeof(why), SA_TIMEOUT_MS);
	if (rc != 0 || got != sizeof(sa)) {
		crypto_wipe(&sa, sizeof(sa));
		return tool_err("show: %s", rc != 0 ? why : "short reply");
	}
	if (tool_addr_any(sa.id.peer))
		snprintf(peer, sizeof(peer), "0.0.0.0"); /* an SA for any peer */
	else
		tool_addr_format(sa.id.peer, peer, sizeof(peer));
	sa_local_addr(kr, sa.id.peer, us, sizeof(us));
	/* Inbound to us: the peer sends; outbound: we do. */
	src = sa.id.dir == KR_DIR_IN ? peer : us;
	dst = sa.id.dir == KR_DIR_IN ? us : peer;
	tool_hex(sa.key, sa.key_len, km);
	tool_hex(sa.salt, KR_SALT_LEN, km + 2 * sa.key_len);
	if (form == 1) {
		printf("ip xfrm state add src %s dst %s proto esp spi 0x%08x mode transport "
		       "aead 'rfc4106(gcm(aes))' 0x%s 128",
			src, dst, sa.id.spi, km);
		if (sa.flags & KR_SA_F_UDP_ENCAP) {
			unsigned sport = sa.id.dir == KR_DIR_IN ? sa.id.peer_port : kr->h->esp_port;
			unsigned dport = sa.id.dir == KR_DIR_IN ? kr->h->esp_port : sa.id.peer_port;

			printf(" encap espinudp %u %u 0.0.0.0", sport ? sport : 4500,
				dport ? dport : 4500);
		}
		if (sa.flags & KR_SA_F_ESN)
			printf(" flag esn replay-window 4096");
		if (sa.soft.packets || sa.hard.packets || sa.soft.bytes || sa.hard.bytes ||
			sa.soft.seconds || sa.hard.seconds)
			printf(" limit packet-soft %" PRIu64 " packet-hard %" PRIu64
			       " byte-soft %" PRIu64 " byte-hard %" PRIu64 " time-soft %" PRIu64
			       " time-hard %" PRIu64,
				sa.soft.packets, sa.hard.packets, sa.soft.bytes, sa.hard.bytes,
				sa.soft.seconds, sa.hard.seconds);
		printf("\n");
	} else if (form == 2) {
		printf("\"%s\",\"%s\",\"%s\",\"0x%08x\",\"AES-GCM with 16 octet ICV [RFC4106]\","
		       "\"0x%s\",\"NULL\",\"\"\n",
			tool_addr_v4(sa.id.peer) || tool_addr_any(sa.id.peer) ? "IPv4" : "IPv6",
			tool_addr_any(sa.id.peer) ? "*" : src,
			tool_addr_any(sa.id.peer) ? "*" : dst, sa.id.spi, km);
	} else {
		printf("%s spi 0x%08x src %s dst %s aes-%u-gcm%s%s\n",
			sa.id.dir == KR_DIR_IN ? "in" : "out", sa.id.spi, src, dst, sa.key_len * 8,
			(sa.flags & KR_SA_F_ESN) ? " esn" : "",
			(sa.flags & KR_SA_F_UDP_ENCAP) ? " encap" : "");
	}
	fflush(stdout);
	crypto_wipe(km, sizeof(km));
	crypto_wipe(&sa, sizeof(sa));
	return 0;
}

int tool_keyring_open(int *argc, char ***argv, struct keyring *kr)
{
	const char *name = keyring_default_name();
	char err[256];

	if (*argc >= 3 && strcmp((*argv)[1], "--keyring") == 0) {
		name = (*argv)[2];
		*argc -= 2;
		*argv += 2;
	}
	if (keyring_open(kr, name, err, sizeof(err)) != 0)
		return tool_err("%s", err);
	return 0;
}

int tool_sa_main(int argc, char **argv)
{
	struct keyring kr;
	struct kr_sa_id id;
	int i = 2, rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		sa_usage(stdout);
		return 0;
	}
	if (tool_keyring_open(&argc, &argv, &kr) != 0)
		return 1;
	if (argc < 2) {
		sa_usage(stderr);
		keyring_close(&kr);
		return 2;
	}
	if (strcmp(argv[1], "add") == 0) {
		rc = sa_add(&kr, argc, argv, 2);
	} else if (strcmp(argv[1], "del") == 0 || strcmp(argv[1], "delete") == 0) {
		rc = sa_del(&kr, argc, argv, 2);
	} else if (strcmp(argv[1], "batch") == 0) {
		rc = argc == 3 ? sa_batch(&kr, argv[2]) : tool_err("batch FILE|-");
	} else if (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "get") == 0) {
		int form = 0;

		rc = sa_id_parse(argc, argv, &i, &id);
		for (; rc == 0 && i < argc; i++) {
			if (strcmp(argv[i], "--xfrm") == 0)
				form = 1;
			else if (strcmp(argv[i], "--wireshark") == 0)
				form = 2;
			else
				rc = tool_err("show: unexpected '%s'", argv[i]);
		}
		if (rc == 0)
			rc = sa_show(&kr, &id, form);
	} else if (strcmp(argv[1], "list") == 0) {
		rc = tool_keyring_list(&kr, KR_SA_LIST, sizeof(struct kr_sa_info), sa_print_info,
				       SA_TIMEOUT_MS);
	} else if (strcmp(argv[1], "flush") == 0) {
		struct kr_msg m = {.type = KR_SA_FLUSH};
		char why[128];

		rc = keyring_call(&kr, &m, NULL, 0, NULL, why, sizeof(why), SA_TIMEOUT_MS);
		if (rc != 0)
			rc = tool_err("flush: %s", why);
	} else {
		sa_usage(stderr);
		rc = 2;
	}
	keyring_close(&kr);
	return rc < 0 ? 1 : rc;
}
