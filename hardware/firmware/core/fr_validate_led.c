/* LED drive rules: a drive given as current_ma or power_uw (through the
 * calibration) within the LED's continuous and pulsed limits, for Configure's
 * LEDs and for SetLed (validate.ts resolveDrive, validateSetLed). */
#include <math.h>
#include <stdio.h>

#include "fr_validate.h"
#include "fr_validate_rules.h"

const fr_led_def *fr_led_find(const fr_board *board, uint32_t id, uint32_t *index) {
  for (uint32_t i = 0; i < board->n_leds; i++) {
    if (board->leds[i].id == id) {
      if (index) *index = i;
      return &board->leds[i];
    }
  }
  return NULL;
}

static bool check_current(const fr_board *board, uint32_t channel, double ma, uint32_t mode, double duty,
                          const char *field, fr_issue *issue) {
  const fr_led_def *def = fr_led_find(board, channel, NULL);
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

bool fr_resolve_drive(const fr_board *board, const fr_calibration *cal, uint32_t channel, int which, float current_ma,
                      float power_uw, uint32_t mode, double duty, const char *root, double *out_ma, bool *has_power,
                      double *out_uw, fr_issue *issue) {
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
      const fiberrig_v1_LedCalibration *c = fr_cal_find(cal, channel);
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

bool fr_validate_set_led(const fiberrig_v1_SetLed *set_led, const fr_board *board, const fr_norm_config *config,
                         const fr_calibration *cal, fr_set_led_result *out, fr_issue *issue) {
  uint32_t channel = set_led->channel;
  if (!fr_led_find(board, channel, NULL)) {
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
  return fr_resolve_drive(board, cal, channel, which, set_led->drive.current_ma, set_led->drive.power_uw,
                          config->mode, duty, "set_led", &out->current_ma, &out->has_power, &out->power_uw, issue);
}
