#include "fr_validate.h"
#include "fr_schedule.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define E_INVALID fiberrig_v1_ErrorCode_ERROR_CODE_INVALID_CONFIG
#define E_LIMIT fiberrig_v1_ErrorCode_ERROR_CODE_LIMIT_EXCEEDED
#define E_UNSUPPORTED fiberrig_v1_ErrorCode_ERROR_CODE_UNSUPPORTED
#define E_UNKNOWN_CHANNEL fiberrig_v1_ErrorCode_ERROR_CODE_UNKNOWN_CHANNEL
#define E_NOT_CALIBRATED fiberrig_v1_ErrorCode_ERROR_CODE_NOT_CALIBRATED
#define E_NOT_CONFIGURED fiberrig_v1_ErrorCode_ERROR_CODE_NOT_CONFIGURED

/* Lock-in carrier rules (validate.ts LOCK_IN_RULES) */
#define MIN_SPACING_HZ 40.0
#define MIN_CARRIER_HZ 40.0
#define MAX_CARRIER_FRACTION 0.45
#define MAINS_HARMONICS 6
#define MAINS_GUARD_HZ 10.0
#define HEARTBEAT_MIN_MS 100u
#define HEARTBEAT_MAX_MS 60000u
#define STATUS_MIN_MS 50u
#define STATUS_MAX_MS 60000u

static const char *const ORDINAL[] = {"", "1st", "2nd", "3rd", "4th", "5th", "6th"};

void fr_issue_set(fr_issue *out, uint32_t code, const char *field, const char *fmt, ...) {
  out->code = code;
  snprintf(out->field, sizeof out->field, "%s", field);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->message, sizeof out->message, fmt, ap);
  va_end(ap);
}

const char *fr_num(double value, char *buf, unsigned size) {
  if (size < 2) return "";
  if (isnan(value)) {
    snprintf(buf, size, "NaN");
    return buf;
  }
  if (isinf(value)) {
    snprintf(buf, size, value > 0 ? "Infinity" : "-Infinity");
    return buf;
  }
  if (value == 0) {
    snprintf(buf, size, "0");
    return buf;
  }
  const char *sign = value < 0 ? "-" : "";
  double a = fabs(value);
  int e = (int)floor(log10(a));
  double scaled = floor(a / pow(10.0, e - 5) + 0.5); /* 6 significant digits */
  if (scaled >= 1e6) {
    scaled = floor(scaled / 10.0 + 0.5);
    e++;
  }
  unsigned long digits = (unsigned long)scaled;
  if (e >= 21 || e < -6) {
    /* exponent form d.ddddde+X, trailing zeros trimmed */
    char m[16];
    snprintf(m, sizeof m, "%lu", digits);
    int len = (int)strlen(m);
    while (len > 1 && m[len - 1] == '0') m[--len] = 0;
    if (len > 1) {
      snprintf(buf, size, "%s%c.%se%c%d", sign, m[0], m + 1, e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else {
      snprintf(buf, size, "%s%ce%c%d", sign, m[0], e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    return buf;
  }
  if (e >= 5) {
    /* an integer: the 6 digits followed by e-5 zeros */
    char zeros[24] = {0};
    for (int i = 0; i < e - 5 && i < 22; i++) zeros[i] = '0';
    snprintf(buf, size, "%s%lu%s", sign, digits, zeros);
    return buf;
  }
  /* decimal: 6 digits with the point after (e + 1) digits */
  char d[8];
  snprintf(d, sizeof d, "%06lu", digits);
  char tmp[40];
  int pos = 0;
  if (e < 0) {
    tmp[pos++] = '0';
    tmp[pos++] = '.';
    for (int i = 0; i < -e - 1; i++) tmp[pos++] = '0';
    for (int i = 0; i < 6; i++) tmp[pos++] = d[i];
  } else {
    for (int i = 0; i < 6; i++) {
      tmp[pos++] = d[i];
      if (i == e) tmp[pos++] = '.';
    }
  }
  tmp[pos] = 0;
  /* trim trailing zeros after the point, then a bare point */
  if (strchr(tmp, '.')) {
    while (pos > 0 && tmp[pos - 1] == '0') tmp[--pos] = 0;
    if (pos > 0 && tmp[pos - 1] == '.') tmp[--pos] = 0;
  }
  snprintf(buf, size, "%s%s", sign, tmp);
  return buf;
}

double fr_fold_hz(double f, double fs) {
  double x = f / fs;
  double r = floor(x + 0.5); /* JavaScript Math.round */
  return fabs(f - fs * r);
}

/* ------------------------------------------------------------ calibration */

static const fiberrig_v1_LedCalibration *cal_find(const fr_calibration *cal, uint32_t channel) {
  if (!cal) return NULL;
  for (pb_size_t i = 0; i < cal->table.leds_count; i++) {
    if (cal->table.leds[i].channel == channel) return &cal->table.leds[i];
  }
  return NULL;
}

bool fr_cal_has(const fr_calibration *cal, uint32_t channel) { return cal_find(cal, channel) != NULL; }

bool fr_cal_current_for_power(const fr_calibration *cal, uint32_t channel, double power_uw, double *ma) {
  const fiberrig_v1_LedCalibration *c = cal_find(cal, channel);
  if (!c || !isfinite(power_uw) || c->points_count == 0) return false;
  pb_size_t n = c->points_count;
  if (power_uw < (double)c->points[0].power_uw || power_uw > (double)c->points[n - 1].power_uw) return false;
  for (pb_size_t i = 0; i + 1 < n; i++) {
    double p0 = c->points[i].power_uw;
    double p1 = c->points[i + 1].power_uw;
    if (power_uw == p0) {
      *ma = c->points[i].current_ma;
      return true;
    }
    if (power_uw > p0 && power_uw <= p1) {
      double i0 = c->points[i].current_ma;
      double i1 = c->points[i + 1].current_ma;
      *ma = i0 + ((power_uw - p0) / (p1 - p0)) * (i1 - i0);
      return true;
    }
  }
  *ma = c->points[n - 1].current_ma;
  return true;
}

double fr_cal_power_for_current(const fr_calibration *cal, uint32_t channel, double current_ma) {
  const fiberrig_v1_LedCalibration *c = cal_find(cal, channel);
  if (!c || !(current_ma > 0) || c->points_count == 0) return 0;
  pb_size_t n = c->points_count;
  if (current_ma < (double)c->points[0].current_ma || current_ma > (double)c->points[n - 1].current_ma) return 0;
  for (pb_size_t i = 0; i + 1 < n; i++) {
    double i0 = c->points[i].current_ma;
    double i1 = c->points[i + 1].current_ma;
    if (current_ma >= i0 && current_ma <= i1) {
      double p0 = c->points[i].power_uw;
      return p0 + ((current_ma - i0) / (i1 - i0)) * ((double)c->points[i + 1].power_uw - p0);
    }
  }
  return 0;
}

bool fr_validate_calibration(const fiberrig_v1_CalibrationTable *table, const fr_board *board, fr_issue *issue) {
  char at[64], pa[80], f[112], n1[24], n2[24];
  uint32_t seen[FR_MAX_LEDS];
  uint32_t n_seen = 0;
  for (pb_size_t i = 0; i < table->leds_count; i++) {
    const fiberrig_v1_LedCalibration *led = &table->leds[i];
    snprintf(at, sizeof at, "table.leds[%u]", (unsigned)i);
    const fr_led_def *def = NULL;
    for (uint32_t k = 0; k < board->n_leds; k++) {
      if (board->leds[k].id == led->channel) def = &board->leds[k];
    }
    if (!def) {
      snprintf(f, sizeof f, "%s.channel", at);
      fr_issue_set(issue, E_UNKNOWN_CHANNEL, f, "no LED channel %lu on this board", (unsigned long)led->channel);
      return false;
    }
    for (uint32_t k = 0; k < n_seen; k++) {
      if (seen[k] == led->channel) {
        snprintf(f, sizeof f, "%s.channel", at);
        fr_issue_set(issue, E_INVALID, f, "LED %lu appears twice", (unsigned long)led->channel);
        return false;
      }
    }
    if (n_seen < FR_MAX_LEDS) seen[n_seen++] = led->channel;
    if (led->wavelength_nm != 0 && led->wavelength_nm != def->wavelength_nm) {
      snprintf(f, sizeof f, "%s.wavelength_nm", at);
      fr_issue_set(issue, E_INVALID, f, "LED %lu is %lu nm, table says %lu nm", (unsigned long)led->channel,
                   (unsigned long)def->wavelength_nm, (unsigned long)led->wavelength_nm);
      return false;
    }
    pb_size_t np = led->points_count;
    if (np < 2) {
      snprintf(f, sizeof f, "%s.points", at);
      fr_issue_set(issue, E_INVALID, f, "LED %lu needs at least 2 calibration points", (unsigned long)led->channel);
      return false;
    }
    if (np > FR_MAX_CAL_POINTS) {
      snprintf(f, sizeof f, "%s.points", at);
      fr_issue_set(issue, E_INVALID, f, "at most %u points per LED", (unsigned)FR_MAX_CAL_POINTS);
      return false;
    }
    for (pb_size_t j = 0; j < np; j++) {
      double ma = led->points[j].current_ma;
      double uw = led->points[j].power_uw;
      snprintf(pa, sizeof pa, "%s.points[%u]", at, (unsigned)j);
      if (!isfinite(ma) || ma < 0) {
        snprintf(f, sizeof f, "%s.current_ma", pa);
        fr_issue_set(issue, E_INVALID, f, "current %s mA is not a finite value >= 0", fr_num(ma, n1, sizeof n1));
        return false;
      }
      if (ma > (double)def->max_current_pulsed_ma) {
        snprintf(f, sizeof f, "%s.current_ma", pa);
        fr_issue_set(issue, E_LIMIT, f, "%s mA exceeds LED %lu limit %s mA", fr_num(ma, n1, sizeof n1),
                     (unsigned long)led->channel, fr_num(def->max_current_pulsed_ma, n2, sizeof n2));
        return false;
      }
      if (!isfinite(uw) || uw < 0) {
        snprintf(f, sizeof f, "%s.power_uw", pa);
        fr_issue_set(issue, E_INVALID, f, "power %s uW is not a finite value >= 0", fr_num(uw, n1, sizeof n1));
        return false;
      }
      if (j > 0) {
        if (ma <= (double)led->points[j - 1].current_ma) {
          snprintf(f, sizeof f, "%s.current_ma", pa);
          fr_issue_set(issue, E_INVALID, f, "points must be sorted by strictly increasing current");
          return false;
        }
        if (uw < (double)led->points[j - 1].power_uw) {
          snprintf(f, sizeof f, "%s.power_uw", pa);
          fr_issue_set(issue, E_INVALID, f, "power must not decrease with current");
          return false;
        }
      }
    }
    if (led->points[np - 1].power_uw <= led->points[0].power_uw) {
      snprintf(f, sizeof f, "%s.points", at);
      fr_issue_set(issue, E_INVALID, f, "LED %lu power never increases", (unsigned long)led->channel);
      return false;
    }
  }
  return true;
}

/* ----------------------------------------------------------------- config */

static const fr_led_def *led_def(const fr_board *board, uint32_t id, uint32_t *index) {
  for (uint32_t i = 0; i < board->n_leds; i++) {
    if (board->leds[i].id == id) {
      if (index) *index = i;
      return &board->leds[i];
    }
  }
  return NULL;
}

typedef bool (*known_fn)(const fr_board *board, uint32_t id);
static bool known_detector(const fr_board *b, uint32_t id) {
  for (uint32_t i = 0; i < b->n_detectors; i++) if (b->detectors[i].id == id) return true;
  return false;
}
static bool known_led(const fr_board *b, uint32_t id) { return led_def(b, id, NULL) != NULL; }
static bool known_aux(const fr_board *b, uint32_t id) {
  for (uint32_t i = 0; i < b->n_aux; i++) if (b->aux[i].id == id) return true;
  return false;
}
static bool known_digital(const fr_board *b, uint32_t id) {
  for (uint32_t i = 0; i < b->n_digital; i++) if (b->digital[i].id == id) return true;
  return false;
}

/* Unknown id -> UNKNOWN_CHANNEL, repeated id -> INVALID_CONFIG, at "field[i]" + suffix. */
static bool check_ids(const uint32_t *ids, uint32_t n, const fr_board *board, known_fn known, const char *field,
                      const char *suffix, const char *what, fr_issue *issue) {
  char f[112];
  for (uint32_t i = 0; i < n; i++) {
    if (!known(board, ids[i])) {
      snprintf(f, sizeof f, "%s[%u]%s", field, (unsigned)i, suffix);
      fr_issue_set(issue, E_UNKNOWN_CHANNEL, f, "no %s %lu on this board", what, (unsigned long)ids[i]);
      return false;
    }
    for (uint32_t j = 0; j < i; j++) {
      if (ids[j] == ids[i]) {
        snprintf(f, sizeof f, "%s[%u]%s", field, (unsigned)i, suffix);
        fr_issue_set(issue, E_INVALID, f, "%s %lu listed twice", what, (unsigned long)ids[i]);
        return false;
      }
    }
  }
  return true;
}

static unsigned varint_len(uint64_t v) {
  unsigned n = 1;
  while (v >= 0x80u) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Largest SampleBlock envelope for the given shape (worst-case varints), as validate.ts computes it. */
static uint32_t sample_block_envelope_bytes(uint32_t samples, const uint32_t *ids, uint32_t n_ids, uint32_t sample_bytes) {
  uint64_t inner = 0;
  inner += 1 + varint_len(0xFFFFFFFFu);             /* config_id */
  inner += 2;                                       /* source */
  inner += 1 + varint_len((1ull << 53) - 1);        /* first_sample_index */
  if (samples) inner += 1 + varint_len(samples);    /* sample_count */
  if (n_ids) {
    uint64_t packed = 0;
    for (uint32_t i = 0; i < n_ids; i++) packed += varint_len(ids[i]);
    inner += 1 + varint_len(packed) + packed;       /* channel_ids */
  }
  inner += 2;                                       /* format */
  if (sample_bytes) inner += 1 + varint_len(sample_bytes) + sample_bytes;
  return (uint32_t)(varint_len((60u << 3) | 2u) + varint_len(inner) + inner);
}

static bool check_block_size(const fr_board *board, uint32_t samples, const uint32_t *ids, uint32_t n_ids,
                             const char *what, fr_issue *issue) {
  uint64_t bytes = (uint64_t)samples * n_ids * 2u;
  if (bytes > board->max_sample_bytes) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.block_samples", "%s block of %lu sample bytes exceeds %lu", what,
                 (unsigned long)bytes, (unsigned long)board->max_sample_bytes);
    return false;
  }
  uint32_t envelope = sample_block_envelope_bytes(samples, ids, n_ids, (uint32_t)bytes);
  if (envelope > board->max_message_bytes) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.block_samples", "%s block message of %lu B exceeds %lu B", what,
                 (unsigned long)envelope, (unsigned long)board->max_message_bytes);
    return false;
  }
  return true;
}

static bool check_current(const fr_board *board, uint32_t channel, double ma, uint32_t mode, double duty,
                          const char *field, fr_issue *issue) {
  const fr_led_def *def = led_def(board, channel, NULL);
  char n1[24], n2[24];
  if (mode == fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION) {
    if (ma > (double)def->max_current_pulsed_ma) {
      fr_issue_set(issue, E_LIMIT, field, "%s mA exceeds LED %lu pulsed limit %s mA", fr_num(ma, n1, sizeof n1),
                   (unsigned long)channel, fr_num(def->max_current_pulsed_ma, n2, sizeof n2));
      return false;
    }
    if (ma * duty > (double)def->max_current_continuous_ma) {
      fr_issue_set(issue, E_LIMIT, field, "average %s mA exceeds LED %lu limit %s mA", fr_num(ma * duty, n1, sizeof n1),
                   (unsigned long)channel, fr_num(def->max_current_continuous_ma, n2, sizeof n2));
      return false;
    }
    return true;
  }
  if (ma > (double)def->max_current_continuous_ma) {
    fr_issue_set(issue, E_LIMIT, field, "%s mA exceeds LED %lu limit %s mA", fr_num(ma, n1, sizeof n1),
                 (unsigned long)channel, fr_num(def->max_current_continuous_ma, n2, sizeof n2));
    return false;
  }
  return true;
}

/* Resolves a oneof drive (current_ma | power_uw): validate.ts resolveDrive.
 * which: DRIVE_NONE, DRIVE_CURRENT or DRIVE_POWER. */
enum { DRIVE_NONE = 0, DRIVE_CURRENT = 1, DRIVE_POWER = 2 };
static bool resolve_drive(const fr_board *board, const fr_calibration *cal, uint32_t channel, int which,
                          float current_ma, float power_uw, uint32_t mode, double duty, const char *root,
                          double *out_ma, bool *has_power, double *out_uw, fr_issue *issue) {
  char f[112], n1[24], n2[24];
  *has_power = false;
  *out_uw = 0;
  if (which == DRIVE_CURRENT) {
    double ma = current_ma;
    snprintf(f, sizeof f, "%s.current_ma", root);
    if (!isfinite(ma) || ma < 0) {
      fr_issue_set(issue, E_INVALID, f, "current %s mA is not a finite value >= 0", fr_num(ma, n1, sizeof n1));
      return false;
    }
    if (!check_current(board, channel, ma, mode, duty, f, issue)) return false;
    *out_ma = ma;
    return true;
  }
  if (which == DRIVE_POWER) {
    double uw = power_uw;
    snprintf(f, sizeof f, "%s.power_uw", root);
    if (!isfinite(uw) || uw < 0) {
      fr_issue_set(issue, E_INVALID, f, "power %s uW is not a finite value >= 0", fr_num(uw, n1, sizeof n1));
      return false;
    }
    if (!fr_cal_has(cal, channel)) {
      fr_issue_set(issue, E_NOT_CALIBRATED, f, "LED %lu has no stored calibration", (unsigned long)channel);
      return false;
    }
    double ma = 0;
    if (uw != 0 && !fr_cal_current_for_power(cal, channel, uw, &ma)) {
      const fiberrig_v1_LedCalibration *c = cal_find(cal, channel);
      fr_issue_set(issue, E_NOT_CALIBRATED, f, "%s uW outside LED %lu calibration %s..%s uW", fr_num(uw, n1, sizeof n1),
                   (unsigned long)channel, fr_num(c->points[0].power_uw, n2, sizeof n2),
                   fr_num(c->points[c->points_count - 1].power_uw, f, sizeof f));
      snprintf(issue->field, sizeof issue->field, "%s.power_uw", root);
      return false;
    }
    if (!check_current(board, channel, ma, mode, duty, f, issue)) return false;
    *out_ma = ma;
    *has_power = true;
    *out_uw = uw;
    return true;
  }
  snprintf(f, sizeof f, "%s.current_ma", root);
  fr_issue_set(issue, E_INVALID, f, "needs current_ma or power_uw");
  return false;
}

/* Rules 3-5 for carrier i against the carriers listed before it (validate.ts carrierConflict). */
static bool carrier_conflict(const double *carriers, uint32_t i, double fs, char *msg, unsigned size) {
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

static bool hardware_timing(const fr_norm_config *c, const fr_board *board, fr_issue *issue);

bool fr_validate_config(const fiberrig_v1_Configure *configure, const fr_board *board, const fr_calibration *cal,
                        fr_norm_config *out, fr_issue *issue) {
  char f[112], root[64], msg[96];
  memset(out, 0, sizeof *out);
  if (!configure->has_config) {
    fr_issue_set(issue, E_INVALID, "config", "Configure carries no config");
    return false;
  }
  const fiberrig_v1_AcquisitionConfig *c = &configure->config;

  /* mode */
  uint32_t mode = (uint32_t)c->mode;
  if (mode == fiberrig_v1_ModulationMode_MODULATION_MODE_UNSPECIFIED) {
    fr_issue_set(issue, E_INVALID, "config.mode", "mode is unspecified");
    return false;
  }
  bool mode_ok = false;
  for (uint32_t i = 0; i < board->n_modes; i++) mode_ok = mode_ok || board->modes[i] == mode;
  if (!mode_ok) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.mode", "mode %ld is not supported by this board", (long)(int32_t)mode);
    return false;
  }

  /* detectors (before the rate: the rate limit is per detector) */
  if (c->detector_ids_count == 0) {
    fr_issue_set(issue, E_INVALID, "config.detector_ids", "at least one detector is needed");
    return false;
  }
  if (!check_ids(c->detector_ids, c->detector_ids_count, board, known_detector, "config.detector_ids", "", "detector", issue)) {
    return false;
  }
  out->n_detectors = c->detector_ids_count;
  uint32_t max_rate = board->max_sample_rate_hz;
  for (uint32_t i = 0; i < out->n_detectors; i++) {
    out->detector_ids[i] = c->detector_ids[i];
    for (uint32_t b = 0; b < board->n_detectors; b++) {
      if (board->detectors[b].id == c->detector_ids[i]) {
        out->detector_board_index[i] = b;
        if (board->detectors[b].max_rate_hz < max_rate) max_rate = board->detectors[b].max_rate_hz;
      }
    }
  }

  /* sample rate */
  uint32_t fs = c->sample_rate_hz;
  if (!(fs > 0)) {
    fr_issue_set(issue, E_INVALID, "config.sample_rate_hz", "sample rate must be > 0");
    return false;
  }
  if (fs > max_rate) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.sample_rate_hz", "%lu Hz exceeds the %lu Hz maximum", (unsigned long)fs,
                 (unsigned long)max_rate);
    return false;
  }

  /* oversampling */
  uint32_t os = c->oversampling;
  if (os < 1) {
    fr_issue_set(issue, E_INVALID, "config.oversampling", "oversampling must be >= 1");
    return false;
  }
  if (os > board->max_oversampling) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.oversampling", "oversampling %lu exceeds %lu", (unsigned long)os,
                 (unsigned long)board->max_oversampling);
    return false;
  }
  if ((uint64_t)fs * os > board->max_conversion_rate_hz) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.oversampling", "%lu Hz x %lu exceeds %lu conversions/s", (unsigned long)fs,
                 (unsigned long)os, (unsigned long)board->max_conversion_rate_hz);
    return false;
  }

  /* LEDs: ids and drives present */
  if (c->leds_count == 0 && mode != fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS) {
    fr_issue_set(issue, E_INVALID, "config.leds", "this mode needs at least one LED");
    return false;
  }
  uint32_t led_ids[FR_MAX_LEDS];
  for (pb_size_t i = 0; i < c->leds_count; i++) led_ids[i] = c->leds[i].channel;
  if (!check_ids(led_ids, c->leds_count, board, known_led, "config.leds", ".channel", "LED", issue)) return false;

  /* time-division timing (needed for the pulse limits) */
  double duty = 1;
  if (mode == fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION) {
    if (!c->has_time_division) {
      fr_issue_set(issue, E_INVALID, "config.time_division", "TIME_DIVISION needs time_division timing");
      return false;
    }
    const fiberrig_v1_TimeDivisionTiming *td = &c->time_division;
    uint32_t slot = td->slot_samples, on = td->on_samples, settle = td->settle_samples, window = td->window_samples;
    if (slot < 1) {
      fr_issue_set(issue, E_INVALID, "config.time_division.slot_samples", "slot_samples must be >= 1");
      return false;
    }
    if (on < 1) {
      fr_issue_set(issue, E_INVALID, "config.time_division.on_samples", "on_samples must be >= 1");
      return false;
    }
    if (on > slot) {
      fr_issue_set(issue, E_INVALID, "config.time_division.on_samples", "on_samples %lu exceeds slot_samples %lu",
                   (unsigned long)on, (unsigned long)slot);
      return false;
    }
    if (window < 1) {
      fr_issue_set(issue, E_INVALID, "config.time_division.window_samples", "window_samples must be >= 1");
      return false;
    }
    if ((uint64_t)settle + window > on) {
      fr_issue_set(issue, E_INVALID, "config.time_division.window_samples", "settle %lu + window %lu exceeds on_samples %lu",
                   (unsigned long)settle, (unsigned long)window, (unsigned long)on);
      return false;
    }
    uint32_t slots = c->leds_count + (td->dark_slot ? 1u : 0u);
    uint64_t cycle = (uint64_t)slots * slot;
    if (cycle > fs) {
      fr_issue_set(issue, E_INVALID, "config.time_division.slot_samples", "%lu slots x %lu samples exceed one second (%lu samples)",
                   (unsigned long)slots, (unsigned long)slot, (unsigned long)fs);
      return false;
    }
    out->time_division = true;
    out->slot_samples = slot;
    out->on_samples = on;
    out->settle_samples = settle;
    out->window_samples = window;
    out->dark_slot = td->dark_slot;
    out->cycle_samples = (uint32_t)cycle;
    duty = (double)on / (double)cycle;
  }

  /* LED drives and limits */
  out->n_leds = c->leds_count;
  for (pb_size_t i = 0; i < c->leds_count; i++) {
    const fiberrig_v1_LedDrive *l = &c->leds[i];
    fr_norm_led *n = &out->leds[i];
    snprintf(root, sizeof root, "config.leds[%u]", (unsigned)i);
    int which = l->which_drive == fiberrig_v1_LedDrive_current_ma_tag ? DRIVE_CURRENT
                : l->which_drive == fiberrig_v1_LedDrive_power_uw_tag  ? DRIVE_POWER
                                                                        : DRIVE_NONE;
    if (!resolve_drive(board, cal, l->channel, which, l->drive.current_ma, l->drive.power_uw, mode, duty, root,
                       &n->peak_ma, &n->has_power, &n->power_uw, issue)) {
      return false;
    }
    n->channel = l->channel;
    led_def(board, l->channel, &n->board_index);
    n->carrier_hz = mode == fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN ? (double)l->carrier_hz : 0.0;
  }

  /* lock-in carriers */
  if (mode == fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN) {
    double carriers[FR_MAX_LEDS];
    char n1[24], n2[24];
    for (uint32_t i = 0; i < out->n_leds; i++) {
      double fc = out->leds[i].carrier_hz;
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
    for (uint32_t i = 0; i < out->n_leds; i++) {
      if (carrier_conflict(carriers, i, (double)fs, msg, sizeof msg)) {
        snprintf(f, sizeof f, "config.leds[%u].carrier_hz", (unsigned)i);
        fr_issue_set(issue, E_INVALID, f, "%s", msg);
        return false;
      }
    }
  }

  /* block size */
  uint32_t block = c->block_samples;
  if (block < 1) {
    fr_issue_set(issue, E_INVALID, "config.block_samples", "block_samples must be >= 1");
    return false;
  }
  if (block > board->max_block_samples) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.block_samples", "block_samples %lu exceeds %lu", (unsigned long)block,
                 (unsigned long)board->max_block_samples);
    return false;
  }
  if (!check_block_size(board, block, out->detector_ids, out->n_detectors, "detector", issue)) return false;

  /* aux inputs */
  uint32_t aux_n = c->has_aux ? c->aux.input_ids_count : 0;
  uint32_t aux_rate = c->has_aux ? c->aux.rate_hz : 0;
  if (aux_n > 0) {
    if (!check_ids(c->aux.input_ids, aux_n, board, known_aux, "config.aux.input_ids", "", "aux input", issue)) return false;
    uint32_t aux_max = UINT32_MAX;
    for (uint32_t i = 0; i < aux_n; i++) {
      for (uint32_t b = 0; b < board->n_aux; b++) {
        if (board->aux[b].id == c->aux.input_ids[i]) {
          out->aux_board_index[i] = b;
          if (board->aux[b].max_rate_hz < aux_max) aux_max = board->aux[b].max_rate_hz;
        }
      }
      out->aux_ids[i] = c->aux.input_ids[i];
    }
    if (aux_rate < 1) {
      fr_issue_set(issue, E_INVALID, "config.aux.rate_hz", "aux rate must be > 0");
      return false;
    }
    if (aux_rate > aux_max) {
      fr_issue_set(issue, E_UNSUPPORTED, "config.aux.rate_hz", "aux rate %lu Hz exceeds %lu Hz", (unsigned long)aux_rate,
                   (unsigned long)aux_max);
      return false;
    }
    if (fs % aux_rate != 0) {
      fr_issue_set(issue, E_INVALID, "config.aux.rate_hz", "aux rate %lu Hz does not divide %lu Hz", (unsigned long)aux_rate,
                   (unsigned long)fs);
      return false;
    }
    if (!check_block_size(board, block, out->aux_ids, aux_n, "aux", issue)) return false;
    out->n_aux = aux_n;
    out->aux_rate_hz = aux_rate;
    out->aux_divider = fs / aux_rate;
  } else if (aux_rate != 0) {
    fr_issue_set(issue, E_INVALID, "config.aux.input_ids", "aux rate given but no aux inputs");
    return false;
  }

  /* digital inputs */
  if (!check_ids(c->digital_input_ids, c->digital_input_ids_count, board, known_digital, "config.digital_input_ids", "",
                 "digital line", issue)) {
    return false;
  }
  for (pb_size_t i = 0; i < c->digital_input_ids_count; i++) {
    for (uint32_t b = 0; b < board->n_digital; b++) {
      if (board->digital[b].id == c->digital_input_ids[i] && board->digital[b].output) {
        snprintf(f, sizeof f, "config.digital_input_ids[%u]", (unsigned)i);
        fr_issue_set(issue, E_INVALID, f, "line %lu is an output", (unsigned long)board->digital[b].id);
        return false;
      }
    }
    out->digital_input_ids[i] = c->digital_input_ids[i];
  }
  out->n_digital_inputs = c->digital_input_ids_count;

  /* sync output */
  if (c->has_sync_out && c->sync_out.enabled) {
    const fiberrig_v1_SyncOutConfig *s = &c->sync_out;
    const fr_digital_def *def = NULL;
    for (uint32_t b = 0; b < board->n_digital; b++) {
      if (board->digital[b].id == s->line) def = &board->digital[b];
    }
    if (!def) {
      fr_issue_set(issue, E_UNKNOWN_CHANNEL, "config.sync_out.line", "no digital line %lu on this board", (unsigned long)s->line);
      return false;
    }
    if (!def->output) {
      fr_issue_set(issue, E_INVALID, "config.sync_out.line", "line %lu is not an output", (unsigned long)s->line);
      return false;
    }
    if (s->period_samples < 2) {
      fr_issue_set(issue, E_INVALID, "config.sync_out.period_samples", "period_samples must be >= 2");
      return false;
    }
    if (s->pulse_samples < 1 || s->pulse_samples >= s->period_samples) {
      fr_issue_set(issue, E_INVALID, "config.sync_out.pulse_samples", "pulse_samples must be 1..%lu",
                   (unsigned long)(s->period_samples - 1));
      return false;
    }
    out->sync_out = true;
    out->sync_line = s->line;
    out->sync_period_samples = s->period_samples;
    out->sync_pulse_samples = s->pulse_samples;
  }

  /* heartbeat watchdog and status cadence (0 = device default) */
  uint32_t hb = c->heartbeat_timeout_ms ? c->heartbeat_timeout_ms : board->default_heartbeat_timeout_ms;
  if (hb < HEARTBEAT_MIN_MS || hb > HEARTBEAT_MAX_MS) {
    fr_issue_set(issue, E_INVALID, "config.heartbeat_timeout_ms", "heartbeat timeout must be %u..%u ms", HEARTBEAT_MIN_MS,
                 HEARTBEAT_MAX_MS);
    return false;
  }
  uint32_t st = c->status_interval_ms ? c->status_interval_ms : board->default_status_interval_ms;
  if (st < STATUS_MIN_MS || st > STATUS_MAX_MS) {
    fr_issue_set(issue, E_INVALID, "config.status_interval_ms", "status interval must be %u..%u ms", STATUS_MIN_MS,
                 STATUS_MAX_MS);
    return false;
  }
  out->mode = mode;
  out->sample_rate_hz = fs;
  out->oversampling = os;
  out->block_samples = block;
  out->heartbeat_timeout_ms = hb;
  out->status_interval_ms = st;
  return hardware_timing(out, board, issue);
}

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
static bool hardware_timing(const fr_norm_config *c, const fr_board *board, fr_issue *issue) {
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
        for (uint32_t j = 0; j < c->n_leds && !clash; j++) clash = carrier_conflict(carriers, j, (double)fs, why, sizeof why);
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

bool fr_validate_set_led(const fiberrig_v1_SetLed *set_led, const fr_board *board, const fr_norm_config *config,
                         const fr_calibration *cal, fr_set_led_result *out, fr_issue *issue) {
  uint32_t channel = set_led->channel;
  if (!known_led(board, channel)) {
    fr_issue_set(issue, E_UNKNOWN_CHANNEL, "set_led.channel", "no LED channel %lu on this board", (unsigned long)channel);
    return false;
  }
  if (!config) {
    fr_issue_set(issue, E_NOT_CONFIGURED, "set_led", "SetLed needs an accepted Configure");
    return false;
  }
  uint32_t index = UINT32_MAX;
  for (uint32_t i = 0; i < config->n_leds; i++) {
    if (config->leds[i].channel == channel) {
      index = i;
      break;
    }
  }
  if (index == UINT32_MAX) {
    fr_issue_set(issue, E_INVALID, "set_led.channel", "LED %lu is not in the configuration", (unsigned long)channel);
    return false;
  }
  double duty = config->time_division ? (double)config->on_samples / (double)config->cycle_samples : 1.0;
  out->led_index = index;
  int which = set_led->which_drive == fiberrig_v1_SetLed_current_ma_tag ? DRIVE_CURRENT
              : set_led->which_drive == fiberrig_v1_SetLed_power_uw_tag  ? DRIVE_POWER
                                                                          : DRIVE_NONE;
  return resolve_drive(board, cal, channel, which, set_led->drive.current_ma, set_led->drive.power_uw,
                       config->mode, duty, "set_led", &out->current_ma, &out->has_power, &out->power_uw, issue);
}
