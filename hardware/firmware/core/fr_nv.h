/* Internal to the core: the calibration table in non-volatile storage, one
 * record of a header ("FRNV" magic, body length), the encoded
 * CalibrationTable and its CRC-32C (the target stores the bytes: fr_hal.h). */
#ifndef FR_NV_H
#define FR_NV_H
#include <stdbool.h>

#include "fiberrig.pb.h"
#include "fr_validate.h"

/* What the last load or write found, for SelfTest. */
typedef struct {
  bool has_calibration; /* a record is stored */
  bool intact;          /* ... and it matches its CRC and decodes (or the storage could not be read) */
  bool failed;          /* the storage itself failed */
} fr_nv_health;

/* Reads the stored table; *present: a record is there (not erased). False
 * with *why when the storage fails or the record is damaged. */
bool fr_nv_load(fiberrig_v1_CalibrationTable *table, bool *present, const char **why);
/* Boot: loads the stored table into cal (an empty table when there is none or it is damaged). */
void fr_nv_boot(fr_calibration *cal);
/* Stores a validated table; false when the storage fails. */
bool fr_nv_write(const fiberrig_v1_CalibrationTable *table);
const fr_nv_health *fr_nv_health_now(void);

#endif
