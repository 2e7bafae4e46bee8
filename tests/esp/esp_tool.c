/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test driver for the interop scripts: runs the ESP module on hex packets read from stdin,
 * so an independent implementation (scapy, tshark) can be set against it.
 *
 *   esp_tool --key HEX --salt HEX --spi N [--esn]
 *
 * One command per line, one answer per line:
 *   seal SEQ NH PAYLOAD_HEX  ->  ok ESP_HEX              (ESP header to ICV; SEQ is 64-bit)
 *   open TOP ESP_HEX         ->  ok SEQ NH PAYLOAD_HEX   (window top set to TOP first)
 *   udp TOP UDP_PAYLOAD_HEX  ->  as open, after esp_udp_classify (keepalive, non_esp, ...)
 * or "drop REASON". Exit status 2 on a usage error. Never used with real keys.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "esp_sa.h"

enum { TOOL_BUF = 70000 };

static struct esp_sa sa_in, sa_out;
static uint8_t pkt[TOOL_BUF], payload[TOOL_BUF];
static char line[2 * TOOL_BUF + 64], hex[2 * TOOL_BUF + 1];

static void usage(void)
{
	fprintf(stderr, "usage: esp_tool --key HEX --salt HEX --spi N [--esn] < commands\n");
	exit(2);
}

static void tool_seal(struct crypto_engine *e, uint64_t seq, unsigned nh, const char *phex)
{
	long n = check_unhex(phex, payload, sizeof(payload) - 100);
	struct esp_seal_pkt p = { .sa = &sa_out, .src = payload, .out = pkt, .out_cap = TOOL_BUF,
				  .next_hdr = (uint8_t)nh };

	if (n < 0 || seq == 0) {
		printf("error bad input\n");
		return;
	}
	p.len = (uint32_t)n;
	sa_out.seq = seq - 1;
	if (esp_seal_burst(e, &p, 1, 0) != 1) {
		printf("drop %s\n", esp_drop_name(p.reason));
		return;
	}
	printf("ok %s\n", check_hex(pkt, p.out_len, hex));
}

static void tool_open(struct crypto_engine *e, uint64_t top, const char *phex, bool udp)
{
	long n = check_unhex(phex, pkt, sizeof(pkt));
	struct esp_open_pkt p = { .sa = &sa_in, .data = pkt };

	if (n < 0) {
		printf("error bad input\n");
		return;
	}
	if (udp) {
		enum esp_drop r = esp_udp_classify(pkt, (uint32_t)n);

		if (r != ESP_DROP_NONE) {
			printf("drop %s\n", esp_drop_name(r));
			return;
		}
	}
	sa_in.seq = top;
	memset(sa_in.replay, 0, sizeof(sa_in.replay));
	p.len = (uint32_t)n;
	if (esp_open_burst(e, &p, 1, 0) != 1) {
		printf("drop %s\n", esp_drop_name(p.reason));
		return;
	}
	printf("ok %" PRIu64 " %u %s\n", p.seq, p.next_hdr,
	       check_hex(pkt + ESP_PREFIX_LEN, p.payload_len, hex));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "salt", required_argument, NULL, 's' },
		{ "spi", required_argument, NULL, 'p' },
		{ "esn", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct esp_sa_config c = { .dir = ESP_SA_INBOUND };
	struct crypto_engine e;
	uint8_t key[32], salt[4];
	long key_len = -1;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			key_len = check_unhex(optarg, key, sizeof(key));
			break;
		case 's':
			if (check_unhex(optarg, salt, sizeof(salt)) != 4)
				usage();
			c.salt = salt;
			break;
		case 'p':
			c.spi = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'e':
			c.esn = true;
			break;
		default:
			usage();
		}
	}
	if (key_len < 0 || c.salt == NULL)
		usage();
	if (crypto_engine_init(&e) != 0) {
		fprintf(stderr, "no AES-NI: cannot run ipsec-mb\n");
		return 77;
	}
	c.key = key;
	c.key_len = (size_t)key_len;
	if (esp_sa_init(&e, &sa_in, &c) != 0)
		usage();
	c.dir = ESP_SA_OUTBOUND;
	if (esp_sa_init(&e, &sa_out, &c) != 0)
		usage();
	crypto_wipe(key, sizeof(key));
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char cmd[8], arg[2 * TOOL_BUF + 1];
		unsigned long long num;
		unsigned nh;

		line[strcspn(line, "\r\n")] = '\0';
		arg[0] = '\0';
		if (sscanf(line, "seal %llu %u %140000s", &num, &nh, arg) >= 2)
			tool_seal(&e, num, nh, arg);
		else if (sscanf(line, "%7s %llu %140000s", cmd, &num, arg) == 3 &&
			 (strcmp(cmd, "open") == 0 || strcmp(cmd, "udp") == 0))
			tool_open(&e, num, arg, cmd[0] == 'u');
		else
			printf("error bad command\n");
	}
	esp_sa_destroy(&sa_in);
	esp_sa_destroy(&sa_out);
	crypto_engine_fini(&e);
	return 0;
}
