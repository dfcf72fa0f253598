/* Validation of AcquisitionConfig, SetLed and CalibrationTable against a
 * board: the C twin of firmware-sim/device/validate.ts and calibration.ts.
 * Same rules, same order, same ErrorCodes, same dotted field paths; the first
 * violation is reported. */
#ifndef FR_VALIDATE_H
#define FR_VALIDATE_H
#include <stdbool.h>
#include <stdint.h>
#include "fiberrig.pb.h"
#include "fr_board.h"

/* A rejected command, as the device reports it (Error.code / field / message). */
typedef struct {
  uint32_t code; /* fiberrig_v1_ErrorCode; 0 = no issue */
  char field[48];
  char message[96];
} fr_issue;

void fr_issue_set(fr_issue *out, uint32_t code, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* Formats a number like the simulator's num(): 6 significant digits, no float noise. */
const char *fr_num(double value, char *buf, unsigned size);

typedef struct {
  uint32_t channel;
  uint32_t board_index;
  double peak_ma; /* CONTINUOUS level, TDM pulse or LOCK_IN peak */
  bool has_power;
  double power_uw; /* requested power when given as power_uw */
  double carrier_hz;
} fr_norm_led;

typedef struct {
  uint32_t mode;
  uint32_t sample_rate_hz;
  uint32_t n_leds;
  fr_norm_led leds[FR_MAX_LEDS];
  uint32_t n_detectors;
  uint32_t detector_ids[FR_MAX_DETECTORS];
  uint32_t detector_board_index[FR_MAX_DETECTORS];
  uint32_t oversampling;
  bool time_division;
  uint32_t slot_samples, on_samples, settle_samples, window_samples, cycle_samples;
  bool dark_slot;
  uint32_t n_aux; /* 0 = no aux */
  uint32_t aux_ids[FR_MAX_AUX];
  uint32_t aux_board_index[FR_MAX_AUX];
  uint32_t aux_rate_hz, aux_divider;
  uint32_t aux_block_samples; /* aux samples per aux block (AuxConfig.block_samples, or block_samples when 0) */
  uint32_t n_digital_inputs;
  uint32_t digital_input_ids[FR_MAX_DIGITAL];
  bool sync_out;
  uint32_t sync_line, sync_period_samples, sync_pulse_samples;
  uint32_t block_samples;
  uint32_t heartbeat_timeout_ms;
  uint32_t status_interval_ms;
} fr_norm_config;

/* Calibration conversions through a validated table. */
typedef struct {
  fiberrig_v1_CalibrationTable table;
} fr_calibration;

bool fr_cal_has(const fr_calibration *cal, uint32_t channel);
/* Current for power_uw; false when uncalibrated or outside the table. */
bool fr_cal_current_for_power(const fr_calibration *cal, uint32_t channel, double power_uw, double *ma);
/* Power at current_ma; 0 when uncalibrated or outside the table. */
double fr_cal_power_for_current(const fr_calibration *cal, uint32_t channel, double current_ma);

bool fr_validate_config(const fiberrig_v1_Configure *configure, const fr_board *board, const fr_calibration *cal,
                        fr_norm_config *out, fr_issue *issue);

typedef struct {
  uint32_t led_index; /* position in the configuration */
  double current_ma;
  bool has_power;
  double power_uw;
} fr_set_led_result;

bool fr_validate_set_led(const fiberrig_v1_SetLed *set_led, const fr_board *board, const fr_norm_config *config,
                         const fr_calibration *cal, fr_set_led_result *out, fr_issue *issue);

bool fr_validate_calibration(const fiberrig_v1_CalibrationTable *table, const fr_board *board, fr_issue *issue);

/* Alias frequency of f in [0, fs/2] (folding at the sample rate). */
double fr_fold_hz(double f, double fs);

#endif
