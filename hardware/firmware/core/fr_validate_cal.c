/* Calibration tables: the rules a stored table must pass (calibration.ts)
 * and the conversions mA <-> uW through a validated table. */
#include <math.h>
#include <stdio.h>

#include "fr_validate.h"
#include "fr_validate_rules.h"

const fiberrig_v1_LedCalibration *fr_cal_find(const fr_calibration *cal, uint32_t channel) {
  if (!cal) return NULL;
  for (pb_size_t i = 0; i < cal->table.leds_count; i++) {
    if (cal->table.leds[i].channel == channel) return &cal->table.leds[i];
  }
  return NULL;
}

bool fr_cal_has(const fr_calibration *cal, uint32_t channel) { return fr_cal_find(cal, channel) != NULL; }

bool fr_cal_current_for_power(const fr_calibration *cal, uint32_t channel, double power_uw, double *ma) {
  const fiberrig_v1_LedCalibration *c = fr_cal_find(cal, channel);
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
  const fiberrig_v1_LedCalibration *c = fr_cal_find(cal, channel);
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
