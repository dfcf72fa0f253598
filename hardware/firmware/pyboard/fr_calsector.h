/* Calibration storage in a reserved flash sector, as an append-only log of
 * records (header: magic, sequence, length, CRC-32 of the payload; payload
 * padded to 4 bytes). A write appends after the last record and reads it back
 * (verify); only when the sector is full is it erased (wear levelling: one
 * erase per sector-full of writes, not one per write). A read returns the
 * newest record whose CRC holds, so a write torn by a power cut leaves the
 * previous calibration in force. The erase comes before the new record is
 * written: a power cut in that window (1-2 s on sector 11) loses the stored
 * calibration; a two-sector scheme would close it. Flash semantics (erase to 0xFF, programming
 * only clears bits) sit behind fr_flash_ops so the logic is unit-tested on
 * the host with a fake sector. */
#ifndef FR_CALSECTOR_H
#define FR_CALSECTOR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FR_CAL_MAGIC 0x4C435246u /* "FRCL" */
#define FR_CAL_HEADER 16u

typedef struct {
  const uint8_t *base; /* memory-mapped sector contents */
  uint32_t size;
  bool (*erase)(void *ctx);
  bool (*program)(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len); /* word aligned */
  void *ctx;
} fr_flash_ops;

typedef enum {
  FR_CAL_OK = 0,
  FR_CAL_EMPTY = 1,     /* no valid record */
  FR_CAL_TOO_BIG = 2,   /* record larger than the sector or the caller's buffer */
  FR_CAL_FLASH = 3,     /* erase or program reported an error */
  FR_CAL_VERIFY = 4,    /* read-back differs from what was written */
} fr_cal_status;

typedef struct {
  uint32_t records; /* valid records in the sector */
  uint32_t last_seq;
  uint32_t free_offset;
  uint32_t erases; /* erases done by this driver since init */
} fr_cal_stats;

uint32_t fr_cal_crc32(const uint8_t *p, size_t n);
fr_cal_status fr_cal_read(const fr_flash_ops *f, uint8_t *buf, size_t max, size_t *len);
fr_cal_status fr_cal_write(const fr_flash_ops *f, const uint8_t *data, size_t len, fr_cal_stats *stats);
void fr_cal_scan(const fr_flash_ops *f, fr_cal_stats *stats);

#endif
