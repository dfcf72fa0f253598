/* The pyboard's LED waveforms as DAC tables. Each DAC channel plays a table
 * by circular double-buffered DMA, one entry per sample, triggered by the
 * sample clock, so the LED current follows the core's modulation schedule
 * (core/fr_schedule.h) sample for sample: DC levels for continuous drive,
 * on/off slots for time division, the exact-phase sine for lock-in.
 *
 * A pass is one play of a buffer: pass_samples entries, the fewest whole
 * waveform periods (the lock-in carriers' common period, the TDM cycle, 1 for
 * DC) that last long enough to refill the idle buffer while the other plays
 * (short passes: a change or the watchdog's darkness waits at most two). The DAC takes an entry one sample after the DMA writes it,
 * so entry i of pass p drives sample p * pass_samples + i + FR_DRIVE_LEAD,
 * and sample 0 is preloaded. A change for pass q is written into the idle
 * buffer (pass q) and into the last entry of the buffer playing (pass q - 1),
 * so it lands on sample q * pass_samples: fr_drive_landing says which.
 * Pure C, unit-tested on the host (test/pyboard_drive.c). */
#ifndef FR_DRIVE_H
#define FR_DRIVE_H
#include <stdbool.h>
#include <stdint.h>

#include "fr_validate.h"

#define FR_DRIVE_MAX_SAMPLES 1024u /* per buffer and channel: fr_board.max_drive_period_samples */
#define FR_DRIVE_LEAD 1u           /* entry i drives sample i + 1 (sample 0 is preloaded) */

typedef struct {
  double offset_codes; /* DAC code = offset + codes_per_ma x mA (0 mA = code 0) */
  double codes_per_ma;
  uint32_t max_code;
} fr_dac_scale;

/* Samples per pass: the least common multiple of the LEDs' periods, repeated
 * to at least min_samples; 0 when the periods exceed max_samples. */
uint32_t fr_drive_pass_samples(const fr_norm_config *c, uint32_t min_samples, uint32_t max_samples);

/* DAC code for a current; clipped to the DAC's range. */
uint16_t fr_drive_code(const fr_dac_scale *scale, double ma);

/* Fills one pass for every board LED: tables[b * stride + i] is the code for
 * sample i + first_sample of board LED b (peaks in configuration order;
 * board LEDs the configuration does not use stay at 0). first_sample is
 * FR_DRIVE_LEAD for a pass (the waveform repeats every pass), or 0 for the
 * preload value (pass_samples 1). */
void fr_drive_fill(const fr_norm_config *c, const double *peaks_ma, const fr_dac_scale *scale, uint32_t n_board_leds,
                   uint64_t first_sample, uint32_t pass_samples, uint16_t *tables, uint32_t stride);

/* The first sample a change wanted from sample `from` can drive, with pass
 * `playing` being read by the DMA now: the buffer of the next pass is already
 * committed, so the earliest is the start of pass playing + 2. With on_block
 * (SetLed) the landing sample is also a block boundary, as in the simulator,
 * when a pass start falls on one within FR_DRIVE_ALIGN_BLOCKS blocks of the
 * earliest (else the earliest pass start); without (a watchdog deadline) it
 * is the earliest pass start. *pass gets the pass number. */
#define FR_DRIVE_ALIGN_BLOCKS 4u
uint64_t fr_drive_landing(uint64_t from, uint64_t playing, uint32_t pass_samples, uint32_t block_samples, bool on_block, uint64_t *pass);

#endif
