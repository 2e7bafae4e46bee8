/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-dataplane's options: one setter per name shared by the command line and the INI
 * file, the file read with libinih. Setup code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

void dp_options_init(struct dp_options *o, const char *keyring)
{
	memset(o, 0, sizeof(*o));
	o->udp_port = 6778;
	o->esp_port = 4500;
	o->mtu = 1500;
	o->idle_polls = 256;
	o->idle_sleep_us = 200;
	o->max_sas = 65536;
	o->ledbat = true;
	o->peer_timeout_s = 180; /* RFC 7574 3.7: 3 minutes of silence */
	o->keepalive_s = 60;
	o->stats_interval_s = 10;
	o->neigh_reachable_s = 30; /* Linux's base_reachable_time */
	o->max_peers = 4096;
	o->mbufs = 8191;
	snprintf(o->keyring, sizeof(o->keyring), "%s", keyring);
}

/* "udp_port" and "udp-port" are the same key. */
static bool key_is(const char *key, const char *name)
{
	for (; *key != '\0' && *name != '\0'; key++, name++)
		if (*key != *name && !(*key == '_' && *name == '-'))
			return false;
	return *key == '\0' && *name == '\0';
}

static int num(const char *key, const char *value, unsigned long lo, unsigned long hi,
	unsigned long *out, char *err, size_t cap)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || v < lo || v > hi) {
		snprintf(err, cap, "%s '%.40s': a number from %lu to %lu", key, value, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int boolean(const char *key, const char *value, bool *out, char *err, size_t cap)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
		*out = false;
		return 0;
	}
	snprintf(err, cap, "%s '%.40s': yes or no", key, value);
	return -EINVAL;
}

static int path(const char *key, const char *value, char *out, size_t size, char *err, size_t cap)
{
	size_t n = strlen(value);

	if (n == 0 || n >= size) {
		snprintf(err, cap, "%s: a path of 1 to %zu bytes", key, size - 1);
		return -EINVAL;
	}
	memcpy(out, value, n + 1);
	return 0;
}

/*
 * ip = A.B.C.D[/N], ip6 = X:Y::Z[/N]. The prefix says which peers are on the link; without one
 * every peer is (the behaviour before gateways existed), and then no gateway may be set.
 */
static int addr_prefix(
	struct dp_options *o, const char *key, const char *value, char *err, size_t cap)
{
	bool v6 = key_is(key, "ip6");
	char text[INET6_ADDRSTRLEN + 4];
	char *slash;
	unsigned long plen = 0;
	size_t n = strlen(value);

	if (n >= sizeof(text))
		goto bad;
	memcpy(text, value, n + 1);
	slash = strchr(text, '/');
	if (slash != NULL) {
		char *end;

		*slash = '\0';
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno != 0 || end == slash + 1 || *end != '\0' || slash[1] == '-' ||
			plen == 0 || plen > (v6 ? 128u : 32u))
			goto bad;
	}
	if (v6) {
		if (inet_pton(AF_INET6, text, o->ip6) != 1 || o->ip6[0] == 0xff)
			goto bad;
		o->has_ip6 = true;
		o->prefix6 = (uint8_t)plen;
	} else {
		if (inet_pton(AF_INET, text, &o->ip4) != 1 || o->ip4 == 0)
			goto bad;
		o->prefix4 = (uint8_t)plen;
	}
	return 0;
bad:
	if (v6)
		snprintf(err, cap, "ip6 '%.50s': not a unicast IPv6 address (ADDR or ADDR/1-128)",
			value);
	else
		snprintf(err, cap, "ip '%.50s': not an IPv4 address (A.B.C.D or A.B.C.D/1-32)",
			value);
	return -EINVAL;
}

int dp_options_set(struct dp_options *o, const char *key, const char *value, char *err, size_t cap)
{
	unsigned long v;
	int rc;

	if (key_is(key, "ip") || key_is(key, "ip6"))
		return addr_prefix(o, key, value, err, cap);
	if (key_is(key, "gateway")) {
		if (inet_pton(AF_INET, value, &o->gw4) != 1 || o->gw4 == 0 ||
			(ntohl(o->gw4) >> 28) >= 14) {
			snprintf(err, cap, "gateway '%.40s': not a unicast IPv4 address", value);
			return -EINVAL;
		}
		return 0;
	}
	if (key_is(key, "gateway6")) {
		static const uint8_t zero[16];

		if (inet_pton(AF_INET6, value, o->gw6) != 1 || o->gw6[0] == 0xff ||
			memcmp(o->gw6, zero, 16) == 0) {
			snprintf(err, cap, "gateway6 '%.40s': not a unicast IPv6 address", value);
			return -EINVAL;
		}
		o->has_gw6 = true;
		return 0;
	}
	if (key_is(key, "keyring")) {
		size_t n = strlen(value);

		if (n == 0 || n >= sizeof(o->keyring)) {
			snprintf(err, cap, "keyring: a name of 1 to %zu characters",
				sizeof(o->keyring) - 1);
			return -EINVAL;
		}
		memcpy(o->keyring, value, n + 1);
		return 0;
	}
	if (key_is(key, "udp-port") || key_is(key, "esp-port")) {
		if ((rc = num(key, value, 1, 65535, &v, err, cap)) != 0)
			return rc;
		*(key_is(key, "udp-port") ? &o->udp_port : &o->esp_port) = (uint16_t)v;
		return 0;
	}
	if (key_is(key, "mtu")) {
		if ((rc = num(key, value, 1280, 9000, &v, err, cap)) != 0)
			return rc;
		o->mtu = (uint16_t)v;
		return 0;
	}
	if (key_is(key, "max-sas")) {
		if ((rc = num(key, value, 2, 1ul << 24, &v, err, cap)) != 0)
			return rc;
		o->max_sas = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "idle-polls") || key_is(key, "idle-sleep-us")) {
		if ((rc = num(key, value, 0, 1000000, &v, err, cap)) != 0)
			return rc;
		*(key_is(key, "idle-polls") ? &o->idle_polls : &o->idle_sleep_us) = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "vlan")) {
		if ((rc = num(key, value, 0, 4094, &v, err, cap)) != 0)
			return rc;
		o->vlan_id = (uint16_t)v;
		return 0;
	}
	if (key_is(key, "stats-interval")) {
		if ((rc = num(key, value, 0, 3600, &v, err, cap)) != 0)
			return rc;
		o->stats_interval_s = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "neigh-reachable")) {
		if ((rc = num(key, value, 0, 3600, &v, err, cap)) != 0)
			return rc;
		o->neigh_reachable_s = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "ledbat"))
		return boolean(key, value, &o->ledbat, err, cap);
	if (key_is(key, "peer-timeout") || key_is(key, "keepalive")) {
		if ((rc = num(key, value, 1, 86400, &v, err, cap)) != 0)
			return rc;
		*(key_is(key, "keepalive") ? &o->keepalive_s : &o->peer_timeout_s) = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "max-peers")) {
		if ((rc = num(key, value, 64, 1ul << 22, &v, err, cap)) != 0)
			return rc;
		if ((v & (v - 1)) != 0) {
			snprintf(err, cap, "max-peers '%.40s': a power of two", value);
			return -EINVAL;
		}
		o->max_peers = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "mbufs")) {
		if ((rc = num(key, value, 2047, 1u << 20, &v, err, cap)) != 0)
			return rc;
		o->mbufs = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "max-channels")) {
		if ((rc = num(key, value, 0, 1u << 20, &v, err, cap)) != 0)
			return rc;
		o->max_channels = (uint32_t)v;
		return 0;
	}
	if (key_is(key, "peer-rate") || key_is(key, "swarm-rate")) {
		if ((rc = num(key, value, 0, 1ul << 40, &v, err, cap)) != 0)
			return rc;
		*(key_is(key, "peer-rate") ? &o->peer_rate : &o->swarm_rate) = v;
		return 0;
	}
	snprintf(err, cap, "unknown option '%.40s'", key);
	return -ENOENT;
}

int dp_options_swarm_set(struct dp_options *o, const char *name, const char *key, const char *value,
	char *err, size_t cap)
{
	struct dp_swarm_opt *s = NULL;

	for (unsigned i = 0; i < o->n_swarms; i++)
		if (strcmp(o->swarms[i].name, name) == 0)
			s = &o->swarms[i];
	if (s == NULL) {
		if (o->n_swarms == DP_MAX_SWARMS) {
			snprintf(err, cap, "more than %d swarms", DP_MAX_SWARMS);
			return -EINVAL;
		}
		if (strlen(name) >= sizeof(s->name)) {
			snprintf(err, cap, "swarm name longer than %zu", sizeof(s->name) - 1);
			return -EINVAL;
		}
		s = &o->swarms[o->n_swarms++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", name);
	}
	if (key_is(key, "store"))
		return path(key, value, s->store, sizeof(s->store), err, cap);
	if (key_is(key, "public"))
		return path(key, value, s->pub, sizeof(s->pub), err, cap);
	if (key_is(key, "open"))
		return boolean(key, value, &s->open, err, cap);
	snprintf(err, cap, "unknown key '%.40s' in [swarm %.40s]", key, name);
	return -ENOENT;
}

struct ini_ctx {
	struct dp_options *o;
	char msg[200];
};

static int config_ini_handler(void *user, const char *section, const char *key, const char *value)
{
	struct ini_ctx *c = user;
	char err[200];
	int rc;

	if (strcmp(section, "dataplane") == 0)
		rc = dp_options_set(c->o, key, value, err, sizeof(err));
	else if (strncmp(section, "swarm ", 6) == 0 && section[6] != '\0')
		rc = dp_options_swarm_set(c->o, section + 6, key, value, err, sizeof(err));
	else {
		snprintf(err, sizeof(err), "unknown section [%.40s] (dataplane or swarm NAME)",
			section);
		rc = -ENOENT;
	}
	/* libinih returns the first failing line; keep that line's message. */
	if (rc != 0 && c->msg[0] == '\0')
		snprintf(c->msg, sizeof(c->msg), "%s", err);
	return rc == 0;
}

static int config_result(int line, struct ini_ctx *c, const char *label, char *err, size_t cap)
{
	if (line == 0)
		return 0;
	if (line < 0)
		snprintf(err, cap, "%s: cannot read", label);
	else
		snprintf(err, cap, "%s:%d: %s", label, line,
			c->msg[0] != '\0' ? c->msg : "not a section, key = value or comment");
	return -1;
}

int dp_config_load(struct dp_options *o, const char *file, char *err, size_t cap)
{
	struct ini_ctx c = {.o = o};

	return config_result(ini_parse(file, config_ini_handler, &c), &c, file, err, cap);
}

int dp_config_parse_string(
	struct dp_options *o, const char *text, const char *label, char *err, size_t cap)
{
	struct ini_ctx c = {.o = o};

	return config_result(ini_parse_string(text, config_ini_handler, &c), &c, label, err, cap);
}

int dp_options_check(const struct dp_options *o, char *err, size_t cap)
{
	if (o->ip4 == 0) {
		snprintf(err, cap, "no IPv4 address (--ip, or ip = in [dataplane])");
		return -1;
	}
	if (o->gw4 != 0 && (o->prefix4 == 0 || !dp_same_prefix4(o->gw4, o->ip4, o->prefix4))) {
		snprintf(err, cap,
			"gateway: needs ip = A.B.C.D/N with the gateway inside that "
			"prefix (on the link)");
		return -1;
	}
	if (o->has_gw6 &&
		(o->prefix6 == 0 || (!(o->gw6[0] == 0xfe && (o->gw6[1] & 0xc0) == 0x80) &&
					    !dp_same_prefix6(o->gw6, o->ip6, o->prefix6)))) {
		snprintf(err, cap,
			"gateway6: needs ip6 = ADDR/N, and a gateway that is link-local "
			"(fe80::/10) or inside that prefix");
		return -1;
	}
	if (o->udp_port == o->esp_port) {
		snprintf(err, cap, "udp-port and esp-port must differ");
		return -1;
	}
	for (unsigned i = 0; i < o->n_swarms; i++) {
		const struct dp_swarm_opt *s = &o->swarms[i];

		if (s->store[0] == '\0' || s->pub[0] == '\0') {
			snprintf(err, cap, "swarm %s: needs store and public", s->name);
			return -1;
		}
	}
	return 0;
}
