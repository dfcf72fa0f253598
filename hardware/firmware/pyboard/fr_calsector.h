/* Calibration storage in two reserved flash sectors, as an append-only log
 * of records (header: magic, sequence, length, CRC-32 of the payload;
 * payload padded to 4 bytes). A write appends after the newest record and
 * reads it back (verify). When that sector is full the record goes to the
 * other sector, which is erased first: the newest record in the full sector
 * stays intact through the erase and the write, so a power cut at any moment
 * leaves the previous calibration in force (a torn record fails its CRC and
 * is skipped). Wear: one erase per sector-full of writes. A read returns the
 * record with the highest sequence number in either sector. Flash semantics
 * (erase to 0xFF, programming only clears bits) sit behind fr_flash_ops so
 * the logic is unit-tested on the host with fake sectors. */
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

#define FR_CAL_SECTORS 2u

typedef struct {
  uint32_t records;     /* valid records in both sectors */
  uint32_t last_seq;    /* the newest record's sequence number */
  uint32_t sector;      /* the sector holding it (0 or 1) */
  uint32_t free_offset; /* where that sector's free space starts */
  uint32_t erases;      /* erases done by fr_cal_write (added to) */
} fr_cal_stats;

uint32_t fr_cal_crc32(const uint8_t *p, size_t n);
fr_cal_status fr_cal_read(const fr_flash_ops sectors[FR_CAL_SECTORS], uint8_t *buf, size_t max, size_t *len);
fr_cal_status fr_cal_write(const fr_flash_ops sectors[FR_CAL_SECTORS], const uint8_t *data, size_t len, fr_cal_stats *stats);
void fr_cal_scan(const fr_flash_ops sectors[FR_CAL_SECTORS], fr_cal_stats *stats);

#endif
