/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-dataplane's INI config and options (dataplane/config.c), as a table: each text is
 * taken with the fields it sets, or refused with exactly the one-line message (file and line)
 * the operator sees.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"

static const struct {
	const char *text;
	const char *err; /* NULL: taken */
} cases[] = {
	{"[dataplane]\nip = 10.0.0.1\n", NULL},
	{"; comment\n[dataplane]\nip=10.0.0.1\nip6 = fd00::1\nudp-port = 7000\nesp_port = 4501\n"
	 "mtu = 9000\nmax_sas = 1000000\nidle-polls = 0\nidle_sleep_us = 0\nkeyring = a.b-c_d\n",
		NULL},
	{"[dataplane]\nip = 10.0.0.1\n[swarm a]\nstore = /s\npublic = /p\nopen = yes\n", NULL},
	{"[dataplane]\nip = 10.0.0.1\nmtu = 1279\n",
		"t.ini:3: mtu '1279': a number from 1280 to 9000"},
	{"[dataplane]\nip = 10.0.0.256\n",
		"t.ini:2: ip '10.0.0.256': not an IPv4 address (A.B.C.D or A.B.C.D/1-32)"},
	{"[dataplane]\nip6 = ff02::1\n",
		"t.ini:2: ip6 'ff02::1': not a unicast IPv6 address (ADDR or ADDR/1-128)"},
	{"[dataplane]\nudp_port = 0\n", "t.ini:2: udp_port '0': a number from 1 to 65535"},
	{"[dataplane]\nudp_port = -5\n", "t.ini:2: udp_port '-5': a number from 1 to 65535"},
	{"[dataplane]\nmtu = 1500x\n", "t.ini:2: mtu '1500x': a number from 1280 to 9000"},
	{"[dataplane]\ncolour = blue\n", "t.ini:2: unknown option 'colour'"},
	{"[dataplane]\nmax-peers = 1000\n", "t.ini:2: max-peers '1000': a power of two"},
	{"[dataplane]\nmax-peers = 131072\nmax-channels = 100000\nledbat = no\n"
	 "peer-rate = 1000000\nswarm-rate = 0\npeer-timeout = 5\nkeepalive = 2\n",
		NULL},
	{"[dataplane]\nmbufs = 65535\n", NULL},
	{"[dataplane]\nmbufs = 1000\n", "t.ini:2: mbufs '1000': a number from 2047 to 1048576"},
	{"[dataplane]\nledbat = perhaps\n", "t.ini:2: ledbat 'perhaps': yes or no"},
	{"[nope]\nip = 10.0.0.1\n", "t.ini:2: unknown section [nope] (dataplane or swarm NAME)"},
	{"[dataplane]\nip = 10.0.0.1\njust words\n",
		"t.ini:3: not a section, key = value or comment"},
	{"[swarm a]\nopen = maybe\n", "t.ini:2: open 'maybe': yes or no"},
	{"[swarm a]\nsize = 3\n", "t.ini:2: unknown key 'size' in [swarm a]"},
	{"[dataplane]\nip = 10.0.0.1/24\ngateway = 10.0.0.254\nip6 = fd00::1/64\n"
	 "gateway6 = fe80::1\n",
		NULL},
	{"[dataplane]\nip = 10.0.0.1/33\n",
		"t.ini:2: ip '10.0.0.1/33': not an IPv4 address (A.B.C.D or A.B.C.D/1-32)"},
	{"[dataplane]\nip = 10.0.0.1/\n",
		"t.ini:2: ip '10.0.0.1/': not an IPv4 address (A.B.C.D or A.B.C.D/1-32)"},
	{"[dataplane]\nip = 10.0.0.1/0\n",
		"t.ini:2: ip '10.0.0.1/0': not an IPv4 address (A.B.C.D or A.B.C.D/1-32)"},
	{"[dataplane]\nip = 10.0.0.1/-8\n",
		"t.ini:2: ip '10.0.0.1/-8': not an IPv4 address (A.B.C.D or A.B.C.D/1-32)"},
	{"[dataplane]\nip6 = fd00::1/129\n",
		"t.ini:2: ip6 'fd00::1/129': not a unicast IPv6 address (ADDR or ADDR/1-128)"},
	{"[dataplane]\ngateway = 224.0.0.1\n",
		"t.ini:2: gateway '224.0.0.1': not a unicast IPv4 address"},
	{"[dataplane]\ngateway6 = ::\n", "t.ini:2: gateway6 '::': not a unicast IPv6 address"},
	{"[dataplane]\nip = 10.0.0.1\nneigh-reachable = 0\nneigh_reachable = 3600\n", NULL},
	{"[dataplane]\nip = 10.0.0.1\nvlan = 4094\n", NULL},
	{"[dataplane]\nvlan = 4095\n", "t.ini:2: vlan '4095': a number from 0 to 4094"},
	{"[dataplane]\nneigh-reachable = 3601\n",
		"t.ini:2: neigh-reachable '3601': a number from 0 to 3600"},
	{"[dataplane]\nstats-interval = 0\nstats_interval = 3600\n", NULL},
	{"[dataplane]\nstats-interval = 1h\n",
		"t.ini:2: stats-interval '1h': a number from 0 to 3600"},
	/* The first error wins; later ones are not reported. */
	{"[dataplane]\nmtu = 1\nmtu = 2\n", "t.ini:2: mtu '1': a number from 1280 to 9000"},
};

int main(void)
{
	struct dp_options o;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		dp_options_init(&o, "superpeer");
		err[0] = '\0';
		rc = dp_config_parse_string(&o, cases[i].text, "t.ini", err, sizeof(err));
		if (cases[i].err == NULL)
			CHECKF(rc == 0, "case %zu: refused: %s", i + 1, err);
		else
			CHECKF(rc != 0 && strcmp(err, cases[i].err) == 0, "case %zu: got '%s'",
				i + 1, rc != 0 ? err : "(taken)");
	}

	/* What the second case set. */
	dp_options_init(&o, "superpeer");
	CHECK(dp_config_parse_string(&o, cases[1].text, "t.ini", err, sizeof(err)) == 0);
	CHECK(o.udp_port == 7000 && o.esp_port == 4501 && o.mtu == 9000 && o.max_sas == 1000000);
	CHECK(o.idle_polls == 0 && o.idle_sleep_us == 0 && o.has_ip6 && o.ip6[0] == 0xfd);
	CHECK(strcmp(o.keyring, "a.b-c_d") == 0 && o.ip4 == 0x0100000a);
	CHECK(dp_options_check(&o, err, sizeof(err)) == 0);
	CHECK(o.stats_interval_s == 10); /* the default */
	CHECK(dp_options_set(&o, "stats-interval", "0", err, sizeof(err)) == 0 &&
		o.stats_interval_s == 0);

	/* Swarms: sections of one name merge; each must be complete; at most 64. */
	dp_options_init(&o, "superpeer");
	CHECK(dp_config_parse_string(&o,
		      "[dataplane]\nip=1.2.3.4\n[swarm a]\nstore=/s\n"
		      "[swarm b]\nstore=/t\npublic=/q\n[swarm a]\npublic=/p\n",
		      "t.ini", err, sizeof(err)) == 0);
	CHECK(o.n_swarms == 2 && strcmp(o.swarms[0].pub, "/p") == 0 && !o.swarms[0].open);
	CHECK(dp_options_check(&o, err, sizeof(err)) == 0);
	CHECK(dp_options_swarm_set(&o, "c", "store", "/u", err, sizeof(err)) == 0);
	CHECK(dp_options_check(&o, err, sizeof(err)) != 0 &&
		strcmp(err, "swarm c: needs store and public") == 0);
	for (unsigned i = o.n_swarms; i < DP_MAX_SWARMS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%u", i);
		CHECK(dp_options_swarm_set(&o, name, "store", "/x", err, sizeof(err)) == 0);
	}
	CHECK(dp_options_swarm_set(&o, "one-more", "store", "/x", err, sizeof(err)) != 0);

	/* Ports must differ; an address is needed. */
	dp_options_init(&o, "superpeer");
	CHECK(dp_options_check(&o, err, sizeof(err)) != 0 && strstr(err, "IPv4") != NULL);
	CHECK(dp_options_set(&o, "ip", "10.0.0.1", err, sizeof(err)) == 0);
	CHECK(dp_options_set(&o, "esp-port", "6778", err, sizeof(err)) == 0);
	CHECK(dp_options_check(&o, err, sizeof(err)) != 0 && strstr(err, "differ") != NULL);

	/* On-link prefixes and gateways: what they set, and what the whole must satisfy. */
	{
		static const struct {
			const char *text, *err; /* err: what dp_options_check says; NULL: fine */
		} gw[] = {
			{"[dataplane]\nip = 10.0.0.1/24\ngateway = 10.0.0.254\n", NULL},
			{"[dataplane]\nip = 10.0.0.1\ngateway = 10.0.0.254\n",
				"gateway: needs ip = A.B.C.D/N with the gateway inside that prefix "
				"(on "
				"the link)"},
			{"[dataplane]\nip = 10.0.0.1/24\ngateway = 10.0.1.254\n",
				"gateway: needs ip = A.B.C.D/N with the gateway inside that prefix "
				"(on "
				"the link)"},
			{"[dataplane]\nip = 10.0.0.1\nip6 = fd00::1/64\ngateway6 = fd00::fe\n",
				NULL},
			{"[dataplane]\nip = 10.0.0.1\nip6 = fd00::1/64\ngateway6 = fe80::1\n",
				NULL},
			{"[dataplane]\nip = 10.0.0.1\nip6 = fd00::1/64\ngateway6 = fd01::fe\n",
				"gateway6: needs ip6 = ADDR/N, and a gateway that is link-local "
				"(fe80::/10) or inside that prefix"},
			{"[dataplane]\nip = 10.0.0.1\nip6 = fd00::1\ngateway6 = fe80::1\n",
				"gateway6: needs ip6 = ADDR/N, and a gateway that is link-local "
				"(fe80::/10) or inside that prefix"},
			{"[dataplane]\nip = 10.0.0.1\ngateway6 = fe80::1\n",
				"gateway6: needs ip6 = ADDR/N, and a gateway that is link-local "
				"(fe80::/10) or inside that prefix"},
		};

		for (size_t i = 0; i < sizeof(gw) / sizeof(gw[0]); i++) {
			dp_options_init(&o, "superpeer");
			CHECKF(dp_config_parse_string(&o, gw[i].text, "t.ini", err, sizeof(err)) ==
					0,
				"gateway case %zu: %s", i + 1, err);
			err[0] = '\0';
			if (gw[i].err == NULL)
				CHECKF(dp_options_check(&o, err, sizeof(err)) == 0,
					"gateway case %zu: %s", i + 1, err);
			else
				CHECKF(dp_options_check(&o, err, sizeof(err)) != 0 &&
						strcmp(err, gw[i].err) == 0,
					"gateway case %zu: got '%s'", i + 1, err);
		}
		dp_options_init(&o, "superpeer");
		CHECK(dp_config_parse_string(&o,
			      "[dataplane]\nip = 10.0.0.1/24\ngateway = 10.0.0.254\n"
			      "ip6 = fd00::1/64\ngateway6 = fe80::1\n",
			      "t.ini", err, sizeof(err)) == 0);
	}
	CHECK(o.prefix4 == 24 && o.gw4 == htonl(0x0a0000fe) && o.prefix6 == 64 && o.has_gw6 &&
		o.gw6[0] == 0xfe && o.gw6[15] == 1);
	CHECK(dp_same_prefix4(htonl(0x0a000001), htonl(0x0a0000fe), 24));
	CHECK(!dp_same_prefix4(htonl(0x0a000001), htonl(0x0a0001fe), 24));
	CHECK(dp_same_prefix4(htonl(0x0a000001), htonl(0x0a000001), 32));
	CHECK(!dp_same_prefix4(htonl(0x0a000001), htonl(0x0a000002), 32));
	CHECK(dp_same_prefix4(htonl(0x0a000001), htonl(0x0bffffff), 4));
	CHECK(!dp_same_prefix4(htonl(0x0a000001), htonl(0x8a000001), 1));
	{
		uint8_t a[16] = {0xfd, 0, [15] = 1}, b[16] = {0xfd, 0, [7] = 0x80, [15] = 2};

		CHECK(dp_same_prefix6(a, b, 56) && !dp_same_prefix6(a, b, 57));
		CHECK(!dp_same_prefix6(a, b, 128) && dp_same_prefix6(a, a, 128));
		b[7] = 0;
		CHECK(dp_same_prefix6(a, b, 126) && !dp_same_prefix6(a, b, 127));
	}

	/* A file that cannot be read. */
	CHECK(dp_config_load(&o, "/nonexistent/dp.ini", err, sizeof(err)) != 0 &&
		strcmp(err, "/nonexistent/dp.ini: cannot read") == 0);
	return check_exit();
}
