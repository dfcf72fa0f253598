/* Internal to the validation (fr_validate*.c, one file per rule family): the
 * error codes' short names, the lock-in carrier limits, and the rules one
 * family lends another. The public interface is fr_validate.h. */
#ifndef FR_VALIDATE_RULES_H
#define FR_VALIDATE_RULES_H
#include <stdbool.h>
#include <stdint.h>

#include "fiberrig.pb.h"
#include "fr_board.h"
#include "fr_validate.h"

#define E_INVALID fiberrig_v1_ErrorCode_ERROR_CODE_INVALID_CONFIG
#define E_LIMIT fiberrig_v1_ErrorCode_ERROR_CODE_LIMIT_EXCEEDED
#define E_UNSUPPORTED fiberrig_v1_ErrorCode_ERROR_CODE_UNSUPPORTED
#define E_UNKNOWN_CHANNEL fiberrig_v1_ErrorCode_ERROR_CODE_UNKNOWN_CHANNEL
#define E_NOT_CALIBRATED fiberrig_v1_ErrorCode_ERROR_CODE_NOT_CALIBRATED
#define E_NOT_CONFIGURED fiberrig_v1_ErrorCode_ERROR_CODE_NOT_CONFIGURED

/* Lock-in carrier limits (validate.ts LOCK_IN_RULES) */
#define MIN_CARRIER_HZ 40.0
#define MAX_CARRIER_FRACTION 0.45

/* Calibration (fr_validate_cal.c): the table's entry for an LED channel, or NULL. */
const fiberrig_v1_LedCalibration *fr_cal_find(const fr_calibration *cal, uint32_t channel);

/* LED drive (fr_validate_led.c): the board's LED `id` (and its board index), or NULL. */
const fr_led_def *fr_led_find(const fr_board *board, uint32_t id, uint32_t *index);
/* Resolves a oneof drive (current_ma | power_uw) against the LED limits and
 * the calibration: validate.ts resolveDrive. which: DRIVE_NONE, DRIVE_CURRENT
 * or DRIVE_POWER. */
enum { DRIVE_NONE = 0, DRIVE_CURRENT = 1, DRIVE_POWER = 2 };
bool fr_resolve_drive(const fr_board *board, const fr_calibration *cal, uint32_t channel, int which, float current_ma,
                      float power_uw, uint32_t mode, double duty, const char *root, double *out_ma, bool *has_power,
                      double *out_uw, fr_issue *issue);

/* Lock-in carriers (fr_validate_lockin.c): rules 3-5 for carrier i against
 * the carriers before it (true = a conflict, described in msg); and all the
 * carrier rules for a LOCK_IN configuration's LEDs at fs. */
bool fr_carrier_conflict(const double *carriers, uint32_t i, double fs, char *msg, unsigned size);
bool fr_check_carriers(const fr_norm_config *config, uint32_t fs, fr_issue *issue);

/* Hardware timing (fr_validate_timing.c): a real front end's sample clock and
 * LED tables; checked last, after the simulator's rules. */
bool fr_check_hardware_timing(const fr_norm_config *c, const fr_board *board, fr_issue *issue);

#endif
