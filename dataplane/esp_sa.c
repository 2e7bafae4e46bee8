/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP SA setup, teardown, lifetime bookkeeping and the drop-reason names. Nothing here runs
 * per packet except esp_sa_lifetime_check, which runs only when a limit is reached.
 */
#include <errno.h>
#include <string.h>

#include "esp_sa.h"

static const char *const esp_drop_names[] = {
#define ESP_DROP_NAME(e, name, text) [ESP_DROP_##e] = name,
	ESP_DROP_REASONS(ESP_DROP_NAME)
#undef ESP_DROP_NAME
};

static const char *const esp_drop_texts[] = {
#define ESP_DROP_TEXT(e, name, text) [ESP_DROP_##e] = text,
	ESP_DROP_REASONS(ESP_DROP_TEXT)
#undef ESP_DROP_TEXT
};

const char *esp_drop_name(unsigned reason)
{
	return reason < ESP_DROP_COUNT ? esp_drop_names[reason] : "?";
}

const char *esp_drop_text(unsigned reason)
{
	return reason < ESP_DROP_COUNT ? esp_drop_texts[reason] : "?";
}

/* base + d, where d == 0 means "no limit" and an overflow is as good as no limit. */
static uint64_t esp_deadline(uint64_t base, uint64_t d)
{
	if (d == 0 || base > UINT64_MAX - d)
		return UINT64_MAX;
	return base + d;
}

/* The lower of the limits not yet reached (0 = none), or UINT64_MAX. */
static uint64_t esp_next_limit(uint64_t soft, bool soft_done, uint64_t hard, bool hard_done)
{
	uint64_t next = UINT64_MAX;

	if (soft != 0 && !soft_done)
		next = soft;
	if (hard != 0 && !hard_done && hard < next)
		next = hard;
	return next;
}

static bool esp_lifetime_reached(const struct esp_sa *sa, const struct esp_lifetime *l,
				 uint64_t now)
{
	if (l->packets != 0 && sa->packets >= l->packets)
		return true;
	if (l->bytes != 0 && sa->bytes >= l->bytes)
		return true;
	return l->seconds != 0 && now >= esp_deadline(sa->created, l->seconds);
}

static void esp_sa_thresholds_set(struct esp_sa *sa)
{
	bool soft_done = sa->expired & ESP_EV_SOFT_EXPIRED;
	bool hard_done = sa->expired & ESP_EV_HARD_EXPIRED;
	uint64_t st = esp_deadline(sa->created, sa->soft.seconds);
	uint64_t ht = esp_deadline(sa->created, sa->hard.seconds);

	sa->next_packets = esp_next_limit(sa->soft.packets, soft_done, sa->hard.packets, hard_done);
	sa->next_bytes = esp_next_limit(sa->soft.bytes, soft_done, sa->hard.bytes, hard_done);
	/* UINT64_MAX stands for "none" here, as a deadline can be that far only by saturation. */
	sa->next_time = esp_next_limit(st == UINT64_MAX ? 0 : st, soft_done,
				       ht == UINT64_MAX ? 0 : ht, hard_done);
}

unsigned esp_sa_lifetime_check(struct esp_sa *sa, uint64_t now)
{
	unsigned ev = 0;

	if (!(sa->expired & ESP_EV_HARD_EXPIRED) && esp_lifetime_reached(sa, &sa->hard, now))
		ev |= ESP_EV_HARD_EXPIRED;
	/* Reaching the hard limit implies the soft one: control always sees "rekey" first. */
	if (!(sa->expired & ESP_EV_SOFT_EXPIRED) &&
	    (ev != 0 || esp_lifetime_reached(sa, &sa->soft, now)))
		ev |= ESP_EV_SOFT_EXPIRED;
	sa->expired |= (uint8_t)ev;
	esp_sa_thresholds_set(sa);
	return ev;
}

int esp_sa_init(struct crypto_engine *e, struct esp_sa *sa, const struct esp_sa_config *cfg)
{
	int ret;

	if (cfg->key == NULL || cfg->salt == NULL)
		return -EINVAL;
	if (cfg->spi <= ESP_SPI_RESERVED_MAX)
		return -EINVAL;
	if (cfg->dir != ESP_SA_INBOUND && cfg->dir != ESP_SA_OUTBOUND)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	ret = aead_key_init(e, &sa->key, cfg->key, cfg->key_len);
	if (ret != 0) {
		crypto_wipe(sa, sizeof(*sa));
		return ret;
	}
	sa->spi = cfg->spi;
	esp_be32_put(sa->spi_be, cfg->spi);
	memcpy(sa->salt, cfg->salt, ESP_SALT_LEN);
	sa->dir = (uint8_t)cfg->dir;
	sa->esn = cfg->esn;
	sa->strict_pad = cfg->strict_pad;
	sa->soft = cfg->soft;
	sa->hard = cfg->hard;
	sa->created = cfg->now;
	esp_sa_thresholds_set(sa);
	return 0;
}

void esp_sa_destroy(struct esp_sa *sa)
{
	/* Key schedule, salt and window alike: nothing of an SA outlives it. */
	crypto_wipe(sa, sizeof(*sa));
}
