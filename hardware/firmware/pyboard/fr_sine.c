#include "fr_sine.h"

#include <math.h>

bool fr_sine_plan_for(uint32_t timer_clock_hz, double carrier_hz, uint32_t min_points, uint32_t max_points, uint32_t min_period, fr_sine_plan *plan) {
  if (!(carrier_hz > 0) || timer_clock_hz == 0 || min_points < 4u || max_points < min_points) return false;
  bool found = false;
  for (uint32_t points = max_points - max_points % 4u; points >= min_points; points -= 4u) {
    double ideal = (double)timer_clock_hz / (carrier_hz * (double)points);
    if (ideal > 4294967295.0) continue;
    uint32_t period = (uint32_t)llround(ideal);
    if (period < min_period || period == 0) continue;
    double actual = (double)timer_clock_hz / ((double)points * (double)period);
    double err = actual - carrier_hz;
    /* prefer the smaller error; among equals, the longer table (less distortion) */
    if (!found || fabs(err) < fabs(plan->error_hz) - 1e-12) {
      *plan = (fr_sine_plan){points, period, actual, err};
      found = true;
    }
    if (points < 8u) break;
  }
  return found;
}

uint32_t fr_sine_fill(uint16_t *table, uint32_t points, double offset_codes, double amplitude_codes, uint32_t dac_max) {
  const double two_pi = 6.283185307179586;
  uint32_t clipped = 0;
  for (uint32_t i = 0; i < points; i++) {
    double v = offset_codes + amplitude_codes * sin(two_pi * (double)i / (double)points);
    long code = lround(v);
    if (code < 0) {
      code = 0;
      clipped++;
    } else if (code > (long)dac_max) {
      code = (long)dac_max;
      clipped++;
    }
    table[i] = (uint16_t)code;
  }
  return clipped;
}
