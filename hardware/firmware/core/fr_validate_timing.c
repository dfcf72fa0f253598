/* Hardware timing rules of a real front end (board->sample_clock_hz != 0):
 * rates that divide its sample clock, lock-in carriers whose joint period fits
 * the LED tables (with a suggested carrier that does), TDM cycles and sync
 * periods within what the tables and timers hold. */
#include <math.h>
#include <stdio.h>

#include "fr_schedule.h"
#include "fr_validate.h"
#include "fr_validate_rules.h"

/* The nearest rate at or below/above fs that divides clock (0 when none). */
static uint32_t dividing_rate(uint32_t clock, uint32_t fs, int dir) {
  for (uint32_t r = fs; r > 0 && r <= 2u * fs + 1u; r = dir < 0 ? r - 1u : r + 1u) {
    if (clock % r == 0) return r;
  }
  return 0;
}

/* Real front ends only (board->sample_clock_hz != 0): what its timers and DAC
 * tables can do exactly. Checked after the simulator's rules, so every
 * config the simulator rejects is rejected here for the same reason first. */
bool fr_check_hardware_timing(const fr_norm_config *c, const fr_board *board, fr_issue *issue) {
  uint32_t clock = board->sample_clock_hz;
  if (clock == 0) return true;
  uint32_t fs = c->sample_rate_hz;
  char n1[24];
  if (clock % fs != 0) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.sample_rate_hz", "%lu Hz does not divide the %s MHz sample clock: try %lu or %lu Hz",
                 (unsigned long)fs, fr_num(clock / 1e6, n1, sizeof n1), (unsigned long)dividing_rate(clock, fs, -1),
                 (unsigned long)dividing_rate(clock, fs, +1));
    return false;
  }
  if ((clock / fs) % c->oversampling != 0) {
    uint32_t os = c->oversampling;
    while (os > 1u && (clock / fs) % os != 0) os--;
    fr_issue_set(issue, E_UNSUPPORTED, "config.oversampling", "%lu Hz x %lu does not divide the %s MHz sample clock: try oversampling %lu",
                 (unsigned long)fs, (unsigned long)c->oversampling, fr_num(clock / 1e6, n1, sizeof n1), (unsigned long)os);
    return false;
  }
  uint32_t max_period = board->max_drive_period_samples;
  if (max_period > 0 && c->mode == fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN) {
    /* all LEDs' tables play in step, so their carriers' periods must fit together: lcm <= max */
    uint64_t together = 1;
    for (uint32_t i = 0; i < c->n_leds; i++) {
      double fc = c->leds[i].carrier_hz;
      uint64_t period = fr_carrier_period((float)fc, fs, NULL);
      uint64_t joint = period ? together / fr_gcd(together, period) * period : 0;
      if (joint > 0 && joint <= max_period) {
        together = joint;
        continue;
      }
      /* suggest the nearest carrier that fits with the ones before (k x fs / N, N a multiple of their
       * joint period) and passes every carrier rule with the others */
      double carriers[FR_MAX_LEDS];
      for (uint32_t j = 0; j < c->n_leds; j++) carriers[j] = c->leds[j].carrier_hz;
      double best = 0;
      for (uint64_t n = max_period - max_period % together; n >= together && n > 0 && n + 256u * together > max_period; n -= together) {
        double k = floor(fc * (double)n / fs + 0.5);
        float cand = (float)(k * fs / (double)n);
        uint64_t p = fr_carrier_period(cand, fs, NULL);
        if (k < 1 || p == 0 || together / fr_gcd(together, p) * p > max_period) continue;
        if (cand < MIN_CARRIER_HZ || cand > MAX_CARRIER_FRACTION * fs) continue;
        if (best != 0 && fabs(cand - fc) >= fabs(best - fc)) continue;
        carriers[i] = cand;
        char why[96];
        bool clash = false;
        for (uint32_t j = 0; j < c->n_leds && !clash; j++) clash = fr_carrier_conflict(carriers, j, (double)fs, why, sizeof why);
        if (!clash) best = cand;
      }
      char f[40], tried[32] = "";
      if (best > 0) snprintf(tried, sizeof tried, "; try %.9g Hz", best);
      snprintf(f, sizeof f, "config.leds[%u].carrier_hz", (unsigned)i);
      fr_issue_set(issue, E_UNSUPPORTED, f, "carrier %s Hz: period %llu > %lu samples at %lu Hz%s", fr_num(fc, n1, sizeof n1),
                   (unsigned long long)(joint ? joint : period), (unsigned long)max_period, (unsigned long)fs, tried);
      return false;
    }
  }
  if (max_period > 0 && c->time_division && c->cycle_samples > max_period) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.time_division.slot_samples", "a TDM cycle of %lu samples exceeds the %lu the LED tables hold",
                 (unsigned long)c->cycle_samples, (unsigned long)max_period);
    return false;
  }
  if (c->sync_out && board->max_sync_period_samples > 0 && c->sync_period_samples > board->max_sync_period_samples) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.sync_out.period_samples", "period %lu exceeds this board's %lu samples",
                 (unsigned long)c->sync_period_samples, (unsigned long)board->max_sync_period_samples);
    return false;
  }
  return true;
}
