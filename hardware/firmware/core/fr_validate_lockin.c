/* Lock-in carrier rules (validate.ts LOCK_IN_RULES, carrierConflict): each
 * carrier above the minimum and below the Nyquist fraction, clear of the mains
 * harmonics, of the other carriers, of their 2nd and 3rd harmonics and of
 * their intermodulation products, all folded at the sample rate. */
#include <math.h>
#include <stdio.h>

#include "fr_validate.h"
#include "fr_validate_rules.h"

#define MIN_SPACING_HZ 40.0
#define MAINS_HARMONICS 6
#define MAINS_GUARD_HZ 10.0

static const char *const ORDINAL[] = {"", "1st", "2nd", "3rd", "4th", "5th", "6th"};

double fr_fold_hz(double f, double fs) {
  double x = f / fs;
  double r = floor(x + 0.5); /* JavaScript Math.round */
  return fabs(f - fs * r);
}

/* Rules 3-5 for carrier i against the carriers listed before it (validate.ts carrierConflict). */
bool fr_carrier_conflict(const double *carriers, uint32_t i, double fs, char *msg, unsigned size) {
  static const double MAINS[2] = {50.0, 60.0};
  static const int ORDERS[2] = {2, 3};
  char a1[24], a2[24], a3[24], a4[24], a5[24]; /* one buffer per number printed: fr_num writes into it */
  double f = carriers[i];
  for (int m = 0; m < 2; m++) {
    for (int k = 1; k <= MAINS_HARMONICS; k++) {
      double alias = fr_fold_hz(k * MAINS[m], fs);
      if (fabs(f - alias) < MAINS_GUARD_HZ) {
        snprintf(msg, size, "carrier %s Hz within %s Hz of mains %s Hz", fr_num(f, a1, sizeof a1),
                 fr_num(MAINS_GUARD_HZ, a2, sizeof a2), fr_num(k * MAINS[m], a3, sizeof a3));
        return true;
      }
    }
  }
#define NEAR(x, y) (fabs((x) - (y)) < MIN_SPACING_HZ)
  for (uint32_t j = 0; j < i; j++) {
    double g = carriers[j];
    if (NEAR(f, g)) {
      snprintf(msg, size, "carriers %s and %s Hz closer than %s Hz", fr_num(g, a1, sizeof a1), fr_num(f, a2, sizeof a2),
               fr_num(MIN_SPACING_HZ, a3, sizeof a3));
      return true;
    }
    for (int o = 0; o < 2; o++) {
      int k = ORDERS[o];
      if (NEAR(f, fr_fold_hz(k * g, fs))) {
        snprintf(msg, size, "carrier %s Hz within %s Hz of %s harmonic of %s Hz", fr_num(f, a1, sizeof a1),
                 fr_num(MIN_SPACING_HZ, a2, sizeof a2), ORDINAL[k], fr_num(g, a3, sizeof a3));
        return true;
      }
      if (NEAR(g, fr_fold_hz(k * f, fs))) {
        snprintf(msg, size, "%s harmonic of %s Hz within %s Hz of carrier %s Hz", ORDINAL[k], fr_num(f, a1, sizeof a1),
                 fr_num(MIN_SPACING_HZ, a2, sizeof a2), fr_num(g, a3, sizeof a3));
        return true;
      }
    }
  }
  for (uint32_t j = 0; j < i; j++) {
    for (uint32_t k = 0; k < i; k++) {
      if (k == j) continue;
      double a = carriers[j];
      double b = carriers[k];
      if (j < k) {
        double products[4] = {a + b, fabs(a - b), fabs(2 * a - b), fabs(2 * b - a)};
        for (int p = 0; p < 4; p++) {
          double q = fr_fold_hz(products[p], fs);
          if (NEAR(f, q)) {
            snprintf(msg, size, "carrier %s Hz within %s Hz of intermod %s Hz of %s/%s", fr_num(f, a1, sizeof a1),
                     fr_num(MIN_SPACING_HZ, a2, sizeof a2), fr_num(q, a3, sizeof a3), fr_num(a, a4, sizeof a4),
                     fr_num(b, a5, sizeof a5));
            return true;
          }
        }
      }
      double products[4] = {f + a, fabs(f - a), fabs(2 * f - a), fabs(2 * a - f)};
      for (int p = 0; p < 4; p++) {
        double q = fr_fold_hz(products[p], fs);
        if (NEAR(b, q)) {
          snprintf(msg, size, "intermod %s Hz of %s/%s within %s Hz of carrier %s Hz", fr_num(q, a1, sizeof a1),
                   fr_num(f, a2, sizeof a2), fr_num(a, a3, sizeof a3), fr_num(MIN_SPACING_HZ, a4, sizeof a4),
                   fr_num(b, a5, sizeof a5));
          return true;
        }
      }
    }
  }
#undef NEAR
  return false;
}

bool fr_check_carriers(const fr_norm_config *config, uint32_t fs, fr_issue *issue) {
  char f[112], msg[96];
  double carriers[FR_MAX_LEDS];
  char n1[24], n2[24];
  for (uint32_t i = 0; i < config->n_leds; i++) {
    double fc = config->leds[i].carrier_hz;
    carriers[i] = fc;
    snprintf(f, sizeof f, "config.leds[%u].carrier_hz", (unsigned)i);
    if (!isfinite(fc) || fc <= 0) {
      fr_issue_set(issue, E_INVALID, f, "LOCK_IN needs a carrier > 0 Hz");
      return false;
    }
    if (fc < MIN_CARRIER_HZ) {
      fr_issue_set(issue, E_INVALID, f, "carrier %s Hz below %s Hz", fr_num(fc, n1, sizeof n1), fr_num(MIN_CARRIER_HZ, n2, sizeof n2));
      return false;
    }
    if (fc > MAX_CARRIER_FRACTION * fs) {
      fr_issue_set(issue, E_INVALID, f, "carrier %s Hz above %s x %lu Hz (Nyquist)", fr_num(fc, n1, sizeof n1),
                   fr_num(MAX_CARRIER_FRACTION, n2, sizeof n2), (unsigned long)fs);
      return false;
    }
  }
  for (uint32_t i = 0; i < config->n_leds; i++) {
    if (fr_carrier_conflict(carriers, i, (double)fs, msg, sizeof msg)) {
      snprintf(f, sizeof f, "config.leds[%u].carrier_hz", (unsigned)i);
      fr_issue_set(issue, E_INVALID, f, "%s", msg);
      return false;
    }
  }
  return true;
}
