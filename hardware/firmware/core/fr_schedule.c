#include "fr_schedule.h"
#include <math.h>

#define SINE_TABLE_BITS 10u
#define SINE_TABLE_SIZE (1u << SINE_TABLE_BITS)
static float sine_table[SINE_TABLE_SIZE + 1];
static bool sine_ready;

static void sine_init(void) {
  for (uint32_t i = 0; i <= SINE_TABLE_SIZE; i++) {
    sine_table[i] = (float)((1.0 + sin(2.0 * 3.14159265358979323846 * (double)i / SINE_TABLE_SIZE)) / 2.0);
  }
  sine_ready = true;
}

double fr_lockin_wave(double u) {
  if (!sine_ready) sine_init();
  double x = u * SINE_TABLE_SIZE;
  uint32_t i = (uint32_t)x;
  if (i >= SINE_TABLE_SIZE) i = SINE_TABLE_SIZE - 1;
  double frac = x - (double)i;
  return (double)sine_table[i] + frac * ((double)sine_table[i + 1] - (double)sine_table[i]);
}

uint64_t fr_gcd(uint64_t a, uint64_t b) {
  while (b != 0) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

uint64_t fr_carrier_period(float carrier_hz, uint32_t fs, uint64_t *step) {
  double scaled = fabs((double)carrier_hz);
  if (!(scaled > 0) || !isfinite(scaled) || fs == 0) return 0;
  unsigned e = 0;
  while (scaled != floor(scaled) && e < 40) {
    scaled *= 2; /* exact: only the exponent changes */
    e++;
  }
  if (scaled >= 9007199254740992.0 || e >= 40) return 0;
  uint64_t F = (uint64_t)scaled;
  uint64_t D = (uint64_t)fs << e;
  uint64_t g = fr_gcd(F, D);
  if (g == 0) g = 1;
  uint64_t P = D / g;
  if (step) *step = (F / g) % P;
  return P;
}

/* (a * b) mod m without overflow, for m < 2^63 */
static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) {
  uint64_t r = 0;
  a %= m;
  while (b) {
    if (b & 1u) {
      r += a;
      if (r >= m) r -= m;
    }
    a <<= 1;
    if (a >= m) a -= m;
    b >>= 1;
  }
  return r;
}

void fr_schedule_init(fr_schedule *s, const fr_norm_config *config, uint64_t first) {
  s->mode = config->mode;
  s->n_leds = config->n_leds;
  s->slot_samples = config->slot_samples;
  s->on_samples = config->on_samples;
  s->cycle_samples = config->cycle_samples;
  s->cycle_pos = s->cycle_samples ? (uint32_t)(first % s->cycle_samples) : 0;
  s->n = first;
  for (uint32_t k = 0; k < config->n_leds; k++) {
    fr_lockin_track *t = &s->tracks[k];
    t->step = 0;
    t->period = 0;
    t->residue = 0;
    if (config->mode == fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN) {
      t->period = fr_carrier_period((float)config->leds[k].carrier_hz, config->sample_rate_hz, &t->step);
      if (t->period) t->residue = mulmod(t->step, first, t->period);
    }
  }
}

void fr_schedule_next(fr_schedule *s, const double *peak_ma, float *out_ma) {
  for (uint32_t k = 0; k < s->n_leds; k++) {
    double peak = peak_ma[k];
    switch (s->mode) {
      case fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS:
        out_ma[k] = (float)peak;
        break;
      case fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION: {
        uint32_t start = k * s->slot_samples;
        out_ma[k] = (s->cycle_pos >= start && s->cycle_pos < start + s->on_samples) ? (float)peak : 0.0f;
        break;
      }
      case fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN: {
        fr_lockin_track *t = &s->tracks[k];
        if (peak == 0 || t->period == 0) {
          out_ma[k] = (float)peak;
        } else {
          out_ma[k] = (float)(peak * fr_lockin_wave((double)t->residue / (double)t->period));
        }
        break;
      }
      default:
        out_ma[k] = 0.0f;
        break;
    }
  }
  /* advance the cursor */
  s->n++;
  if (s->cycle_samples && ++s->cycle_pos == s->cycle_samples) s->cycle_pos = 0;
  for (uint32_t k = 0; k < s->n_leds; k++) {
    fr_lockin_track *t = &s->tracks[k];
    if (!t->period) continue;
    t->residue += t->step;
    if (t->residue >= t->period) t->residue -= t->period;
  }
}
