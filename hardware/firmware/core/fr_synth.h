/* The synthetic analog front end of the host and qemu targets: the
 * simulator's noise-free "linear" world (firmware-sim/device/linear-world.ts),
 * so the same analog checks hold for both: detector d (board position) reads
 * round(1000 + sum over LEDs l (board order) of 100 / (1 + d + l) * I_l[mA]);
 * aux input a carries round(1000 * sin(2 pi * 10 * (a + 1) * t)). QEMU's ADC
 * model is useless (EOC never set, a fake sawtooth), so the qemu target uses
 * this too. */
#ifndef FR_SYNTH_H
#define FR_SYNTH_H
#include <stdint.h>

void fr_synth_detectors(uint32_t n_detectors, uint32_t n_leds, const float *led_ma, int32_t *codes);
void fr_synth_aux(uint32_t n_aux, uint64_t t_ns, int32_t *codes);

#endif
