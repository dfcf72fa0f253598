#include "fr_synth.h"
#include <math.h>

#define OFFSET_CODE 1000.0
#define AUX_AMPLITUDE 1000.0
#define AUX_FREQUENCY_HZ 10.0

void fr_synth_detectors(uint32_t n_detectors, uint32_t n_leds, const float *led_ma, int32_t *codes) {
  for (uint32_t d = 0; d < n_detectors; d++) {
    double acc = OFFSET_CODE; /* same summation order as LinearWorld: offset, then LEDs in board order */
    for (uint32_t l = 0; l < n_leds; l++) acc += (100.0 / (double)(1u + d + l)) * (double)led_ma[l];
    codes[d] = (int32_t)floor(acc + 0.5);
  }
}

void fr_synth_aux(uint32_t n_aux, uint64_t t_ns, int32_t *codes) {
  double t = (double)(t_ns / 1000000000u) + (double)(t_ns % 1000000000u) * 1e-9;
  for (uint32_t a = 0; a < n_aux; a++) {
    /* reduce the phase first: t may be hours */
    double cycles = AUX_FREQUENCY_HZ * (double)(a + 1) * t;
    cycles -= floor(cycles);
    codes[a] = (int32_t)floor(AUX_AMPLITUDE * sin(2.0 * 3.14159265358979323846 * cycles) + 0.5);
  }
}
