/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for superpeer-dataplane's INI config (dataplane/config.c on libinih): any
 * text is either taken or refused with one "LABEL:LINE: ..." message; nothing crashes, and
 * what is taken stays within the documented ranges.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dp_options o;
	char *text = malloc(size + 1);
	char err[512] = "";

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	dp_options_init(&o, "fuzz");
	if (dp_config_parse_string(&o, text, "fuzz.ini", err, sizeof(err)) != 0) {
		if (strncmp(err, "fuzz.ini:", 9) != 0 || memchr(err, '\n', strlen(err)) != NULL)
			abort();
	} else {
		dp_options_check(&o, err, sizeof(err));
	}
	if (o.mtu < 1280 || o.mtu > 9000 || o.udp_port == 0 || o.esp_port == 0 ||
		o.n_swarms > DP_MAX_SWARMS || o.max_sas < 2 ||
		memchr(o.keyring, '\0', sizeof(o.keyring)) == NULL)
		abort();
	free(text);
	return 0;
}
