/* The front-end half of the HAL for targets with the synthetic front end
 * (host and qemu): detector and aux codes come from fr_synth (the
 * simulator's noise-free linear world) for the currents the core hands over
 * sample by sample, so every sample is ready when due, LED changes land where
 * the core asks, and there are no LEDs, DACs or digital inputs to drive. */
#include "fr_board.h"
#include "fr_hal.h"
#include "fr_synth.h"

bool fr_hal_detectors(uint64_t n, const float *led_ma, int32_t *codes) {
  (void)n; /* noise-free: oversampling changes nothing */
  fr_synth_detectors(fr_board_this.n_detectors, fr_board_this.n_leds, led_ma, codes);
  return true;
}

uint64_t fr_hal_detectors_ready(void) { return UINT64_MAX; }

void fr_hal_aux(uint64_t k, uint64_t t_ns, int32_t *codes) {
  (void)k;
  fr_synth_aux(fr_board_this.n_aux, t_ns, codes);
}

void fr_hal_leds(const float *peak_ma, uint32_t n) {
  (void)peak_ma;
  (void)n;
}

uint64_t fr_hal_drive(const fr_norm_config *config, const double *peaks_ma, uint64_t from, bool on_block) {
  (void)config;
  (void)peaks_ma;
  (void)on_block;
  return from;
}

uint32_t fr_hal_edges(fr_hal_edge *out, uint32_t max, uint32_t *lost) {
  (void)out;
  (void)max;
  (void)lost;
  return 0;
}
