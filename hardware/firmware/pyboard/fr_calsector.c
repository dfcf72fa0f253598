#include "fr_calsector.h"

#include <string.h>

uint32_t fr_cal_crc32(const uint8_t *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static uint32_t padded(uint32_t len) { return (len + 3u) & ~3u; }

static bool blank(const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (p[i] != 0xFFu) return false;
  return true;
}

/* Walks one sector's log: its newest valid record (offset, length, sequence)
 * and where its free space starts. */
typedef struct {
  uint32_t records, last_seq, free_offset;
  int64_t newest_off;
  uint32_t newest_len;
} sector_log;

static void walk(const fr_flash_ops *f, sector_log *log) {
  uint32_t off = 0;
  *log = (sector_log){.newest_off = -1};
  while (off + FR_CAL_HEADER <= f->size) {
    const uint8_t *h = f->base + off;
    if (blank(h, FR_CAL_HEADER)) break; /* free space */
    uint32_t len = rd32(h + 8);
    if (rd32(h) != FR_CAL_MAGIC || len > f->size - off - FR_CAL_HEADER) {
      off = f->size; /* garbage: nothing after it can be trusted to be free */
      break;
    }
    uint32_t seq = rd32(h + 4);
    if (fr_cal_crc32(h + FR_CAL_HEADER, len) == rd32(h + 12) && (log->records == 0 || seq > log->last_seq)) {
      log->records++;
      log->last_seq = seq;
      log->newest_off = off;
      log->newest_len = len;
    }
    off += FR_CAL_HEADER + padded(len); /* a torn record is skipped, not reused */
  }
  log->free_offset = off > f->size ? f->size : off;
}

/* Both sectors: which holds the newest record (sector 0 when neither does). */
static uint32_t walk_all(const fr_flash_ops *sectors, sector_log logs[FR_CAL_SECTORS], fr_cal_stats *st) {
  uint32_t newest = 0;
  st->records = 0;
  for (uint32_t i = 0; i < FR_CAL_SECTORS; i++) {
    walk(&sectors[i], &logs[i]);
    st->records += logs[i].records;
    if (logs[i].newest_off >= 0 && (logs[newest].newest_off < 0 || logs[i].last_seq > logs[newest].last_seq)) newest = i;
  }
  st->sector = newest;
  st->last_seq = logs[newest].newest_off >= 0 ? logs[newest].last_seq : 0;
  st->free_offset = logs[newest].free_offset;
  return newest;
}

void fr_cal_scan(const fr_flash_ops sectors[FR_CAL_SECTORS], fr_cal_stats *stats) {
  sector_log logs[FR_CAL_SECTORS];
  (void)walk_all(sectors, logs, stats);
}

fr_cal_status fr_cal_read(const fr_flash_ops sectors[FR_CAL_SECTORS], uint8_t *buf, size_t max, size_t *len) {
  fr_cal_stats st = {0};
  sector_log logs[FR_CAL_SECTORS];
  uint32_t i = walk_all(sectors, logs, &st);
  *len = 0;
  if (logs[i].newest_off < 0) return FR_CAL_EMPTY;
  if (logs[i].newest_len > max) return FR_CAL_TOO_BIG;
  memcpy(buf, sectors[i].base + logs[i].newest_off + FR_CAL_HEADER, logs[i].newest_len);
  *len = logs[i].newest_len;
  return FR_CAL_OK;
}

fr_cal_status fr_cal_write(const fr_flash_ops sectors[FR_CAL_SECTORS], const uint8_t *data, size_t len, fr_cal_stats *stats) {
  uint32_t need = FR_CAL_HEADER + padded((uint32_t)len);
  for (uint32_t i = 0; i < FR_CAL_SECTORS; i++) {
    if (len > sectors[i].size || need > sectors[i].size) return FR_CAL_TOO_BIG;
  }
  fr_cal_stats st = {0};
  sector_log logs[FR_CAL_SECTORS];
  uint32_t s = walk_all(sectors, logs, &st);
  uint32_t seq = st.last_seq + 1u;
  uint32_t off = logs[s].free_offset;
  if (off + need > sectors[s].size || !blank(sectors[s].base + off, need)) {
    /* full: the other sector, erased first (the newest record stays where it is meanwhile) */
    s = (s + 1u) % FR_CAL_SECTORS;
    off = 0;
    if (!blank(sectors[s].base, sectors[s].size)) {
      if (!sectors[s].erase(sectors[s].ctx)) return FR_CAL_FLASH;
      if (stats) stats->erases++;
    }
  }
  const fr_flash_ops *f = &sectors[s];
  uint8_t h[FR_CAL_HEADER];
  wr32(h, FR_CAL_MAGIC);
  wr32(h + 4, seq);
  wr32(h + 8, (uint32_t)len);
  wr32(h + 12, fr_cal_crc32(data, len));
  /* header first: a write cut short leaves a record whose CRC fails, which the
   * walk skips by its length (the previous record stays in force) */
  if (!f->program(f->ctx, off, h, FR_CAL_HEADER)) return FR_CAL_FLASH;
  uint32_t whole = (uint32_t)len & ~3u;
  if (whole && !f->program(f->ctx, off + FR_CAL_HEADER, data, whole)) return FR_CAL_FLASH;
  if (whole < len) {
    uint8_t tailw[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    memcpy(tailw, data + whole, len - whole);
    if (!f->program(f->ctx, off + FR_CAL_HEADER + whole, tailw, 4)) return FR_CAL_FLASH;
  }
  if (memcmp(f->base + off, h, FR_CAL_HEADER) != 0 || memcmp(f->base + off + FR_CAL_HEADER, data, len) != 0) return FR_CAL_VERIFY;
  if (stats) {
    stats->records = st.records + 1u;
    stats->last_seq = seq;
    stats->sector = s;
    stats->free_offset = off + need;
  }
  return FR_CAL_OK;
}
