/* The calibration record in non-volatile storage (see fr_nv.h). */
#include "fr_nv.h"

#include <string.h>

#include "fr_frame.h"
#include "fr_hal.h"
#include "pb_decode.h"
#include "pb_encode.h"

#define NV_MAGIC 0x564E5246u /* "FRNV" */
#define NV_HEADER 8u
#define NV_MAX (NV_HEADER + fiberrig_v1_CalibrationTable_size + 4u)

static uint8_t nv_buf[NV_MAX];
static fr_nv_health health;

bool fr_nv_load(fiberrig_v1_CalibrationTable *table, bool *present, const char **why) {
  size_t len = 0;
  *present = false;
  memset(table, 0, sizeof *table);
  if (!fr_hal_nv_read(nv_buf, sizeof nv_buf, &len)) {
    *why = "flash read failed";
    return false;
  }
  if (len < NV_HEADER) return true;
  uint32_t magic = (uint32_t)nv_buf[0] | ((uint32_t)nv_buf[1] << 8) | ((uint32_t)nv_buf[2] << 16) | ((uint32_t)nv_buf[3] << 24);
  uint32_t body = (uint32_t)nv_buf[4] | ((uint32_t)nv_buf[5] << 8) | ((uint32_t)nv_buf[6] << 16) | ((uint32_t)nv_buf[7] << 24);
  if (magic != NV_MAGIC) return true; /* erased or never written */
  *present = true;
  if (body > fiberrig_v1_CalibrationTable_size || NV_HEADER + body + 4u > len) {
    *why = "calibration CRC mismatch";
    return false;
  }
  const uint8_t *t = nv_buf + NV_HEADER + body;
  uint32_t crc = (uint32_t)t[0] | ((uint32_t)t[1] << 8) | ((uint32_t)t[2] << 16) | ((uint32_t)t[3] << 24);
  if (fr_crc32c(nv_buf + NV_HEADER, body) != crc) {
    *why = "calibration CRC mismatch";
    return false;
  }
  pb_istream_t is = pb_istream_from_buffer(nv_buf + NV_HEADER, body);
  if (!pb_decode(&is, fiberrig_v1_CalibrationTable_fields, table)) {
    *why = "stored table does not decode";
    return false;
  }
  return true;
}

static bool nv_store(const fiberrig_v1_CalibrationTable *table) {
  pb_ostream_t os = pb_ostream_from_buffer(nv_buf + NV_HEADER, fiberrig_v1_CalibrationTable_size);
  if (!pb_encode(&os, fiberrig_v1_CalibrationTable_fields, table)) return false;
  uint32_t body = (uint32_t)os.bytes_written;
  uint32_t crc = fr_crc32c(nv_buf + NV_HEADER, body);
  uint32_t words[2] = {NV_MAGIC, body};
  for (int w = 0; w < 2; w++) {
    for (int b = 0; b < 4; b++) nv_buf[4 * w + b] = (uint8_t)(words[w] >> (8 * b));
  }
  uint8_t *t = nv_buf + NV_HEADER + body;
  for (int b = 0; b < 4; b++) t[b] = (uint8_t)(crc >> (8 * b));
  return fr_hal_nv_write(nv_buf, NV_HEADER + body + 4u);
}

void fr_nv_boot(fr_calibration *cal) {
  const char *why = "";
  bool present = false;
  bool ok = fr_nv_load(&cal->table, &present, &why);
  health.failed = !ok && strcmp(why, "flash read failed") == 0;
  health.has_calibration = present;
  health.intact = ok || health.failed;
  if (!ok) memset(&cal->table, 0, sizeof cal->table);
}

bool fr_nv_write(const fiberrig_v1_CalibrationTable *table) {
  if (!nv_store(table)) return false;
  health.has_calibration = true;
  health.intact = true;
  health.failed = false;
  return true;
}

const fr_nv_health *fr_nv_health_now(void) { return &health; }
