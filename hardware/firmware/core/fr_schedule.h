/* THE modulation schedule (the C twin of firmware-sim/device/schedule.ts):
 * each configured LED's current as a pure function of the configuration and
 * the detector sample index n.
 *   CONTINUOUS     i_k(n) = peak_k
 *   TIME_DIVISION  i_k(n) = peak_k when k*slot <= (n mod cycle) < k*slot + on, else 0
 *   LOCK_IN        i_k(n) = peak_k * (1 + sin(2*pi*u_k(n))) / 2,  u_k(n) = frac(f_k * n / fs)
 * The lock-in phase is exact for any n: a float32 carrier is F / 2^e, so
 * u(n) = ((F/g * n) mod P) / P with P = fs * 2^e / g, kept as an integer
 * residue that advances by F/g per sample. The sine comes from a table with
 * linear interpolation (error < 5e-6 of the peak). */
#ifndef FR_SCHEDULE_H
#define FR_SCHEDULE_H
#include <stdbool.h>
#include <stdint.h>
#include "fr_board.h"
#include "fr_validate.h"

typedef struct {
  uint64_t step;   /* F/g mod P */
  uint64_t period; /* P */
  uint64_t residue; /* (step * n) mod P for the cursor's n */
} fr_lockin_track;

typedef struct {
  uint32_t mode;
  uint32_t n_leds;
  uint32_t slot_samples, on_samples, cycle_samples;
  uint32_t cycle_pos; /* n mod cycle for the cursor's n */
  uint64_t n;         /* the cursor: next sample index */
  fr_lockin_track tracks[FR_MAX_LEDS];
} fr_schedule;

/* Compiles the schedule and puts its cursor at sample `first`. */
void fr_schedule_init(fr_schedule *s, const fr_norm_config *config, uint64_t first);
/* Writes the currents (mA) of sample s->n for peaks `peak_ma` (configuration order) and advances the cursor. */
void fr_schedule_next(fr_schedule *s, const double *peak_ma, float *out_ma);
/* Waveform value in [0, 1] at phase u in [0, 1): (1 + sin(2 pi u)) / 2. */
double fr_lockin_wave(double u);
/* Greatest common divisor (fr_gcd(0, 0) = 0). */
uint64_t fr_gcd(uint64_t a, uint64_t b);
/* Exact period in samples of a float32 carrier at fs (0 when the carrier is not > 0). */
uint64_t fr_carrier_period(float carrier_hz, uint32_t fs, uint64_t *step);

#endif
