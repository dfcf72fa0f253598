#include "fr_drive.h"

#include "fr_schedule.h"

uint32_t fr_drive_pass_samples(const fr_norm_config *c, uint32_t min_samples, uint32_t max_samples) {
  uint64_t period = 1;
  if (c->time_division) period = c->cycle_samples;
  if (c->mode == fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN) {
    for (uint32_t k = 0; k < c->n_leds; k++) {
      uint64_t p = fr_carrier_period((float)c->leds[k].carrier_hz, c->sample_rate_hz, NULL);
      if (p == 0 || p > max_samples) return 0;
      period = period / fr_gcd(period, p) * p;
      if (period > max_samples) return 0;
    }
  }
  if (period == 0 || period > max_samples) return 0;
  uint64_t pass = period;
  while (pass < min_samples && pass + period <= max_samples) pass += period;
  return (uint32_t)pass;
}

uint16_t fr_drive_code(const fr_dac_scale *scale, double ma) {
  if (!(ma > 0)) return 0;
  double code = scale->offset_codes + scale->codes_per_ma * ma;
  if (code >= scale->max_code) return (uint16_t)scale->max_code;
  return (uint16_t)(code + 0.5);
}

void fr_drive_fill(const fr_norm_config *c, const double *peaks_ma, const fr_dac_scale *scale, uint32_t n_board_leds,
                   uint64_t first_sample, uint32_t pass_samples, uint16_t *tables, uint32_t stride) {
  for (uint32_t b = 0; b < n_board_leds; b++) {
    for (uint32_t i = 0; i < pass_samples; i++) tables[b * stride + i] = 0;
  }
  fr_schedule s;
  fr_schedule_init(&s, c, first_sample);
  float ma[FR_MAX_LEDS];
  for (uint32_t i = 0; i < pass_samples; i++) {
    fr_schedule_next(&s, peaks_ma, ma);
    for (uint32_t k = 0; k < c->n_leds; k++) {
      uint32_t b = c->leds[k].board_index;
      if (b < n_board_leds) tables[b * stride + i] = fr_drive_code(scale, ma[k]);
    }
  }
}

uint64_t fr_drive_landing(uint64_t from, uint64_t playing, uint32_t pass_samples, uint32_t block_samples, bool on_block, uint64_t *pass) {
  uint64_t q = playing + 2u;
  uint64_t wanted = (from + pass_samples - 1u) / pass_samples;
  if (wanted > q) q = wanted;
  if (on_block && block_samples > 0) {
    /* every m-th pass start is a block boundary */
    uint64_t m = block_samples / fr_gcd(pass_samples, block_samples);
    uint64_t aligned = (q + m - 1u) / m * m;
    if ((aligned - q) * pass_samples <= (uint64_t)FR_DRIVE_ALIGN_BLOCKS * block_samples) q = aligned;
  }
  *pass = q;
  return q * pass_samples;
}
