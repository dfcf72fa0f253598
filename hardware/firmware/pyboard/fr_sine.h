/* The lock-in LED waveform: a sine table the DAC plays by timer-triggered
 * circular DMA. fr_sine_plan picks the table length and timer period that
 * come closest to the requested carrier; fr_sine_fill writes the table
 * (offset + amplitude * sin, clipped to the DAC range). Pure C, unit-tested
 * on the host (amplitude and frequency error). */
#ifndef FR_SINE_H
#define FR_SINE_H
#include <stdbool.h>
#include <stdint.h>

typedef struct {
  uint32_t points;       /* table length */
  uint32_t timer_period; /* timer ticks per DAC update (ARR + 1) */
  double actual_hz;      /* timer_clock / (points * timer_period) */
  double error_hz;       /* actual - requested */
} fr_sine_plan;

/* Table lengths from min_points to max_points (multiples of 4 keep the
 * extremes on table entries); the timer period at least min_period ticks. */
bool fr_sine_plan_for(uint32_t timer_clock_hz, double carrier_hz, uint32_t min_points, uint32_t max_points, uint32_t min_period, fr_sine_plan *plan);
/* Returns the number of entries clipped to [0, dac_max]. */
uint32_t fr_sine_fill(uint16_t *table, uint32_t points, double offset_codes, double amplitude_codes, uint32_t dac_max);

#endif
