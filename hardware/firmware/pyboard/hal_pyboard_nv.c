/* The pyboard's non-volatile record (hal_pyboard.c describes the target):
 * flash sectors 10 and 11 (pyboard/linker.ld keeps the image out of them)
 * through fr_calsector (append-only, verified, the sectors taking turns). */
#include <string.h>

#include "fr_calsector.h"
#include "fr_hal.h"
#include "hal_pyboard.h"
#include "stm32f405_periph.h"

static bool flash_wait(void) {
  while (FLASH_SR & FLASH_SR_BSY) {
  }
  bool ok = (FLASH_SR & FLASH_SR_ERRORS) == 0;
  FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
  return ok;
}

/* After an erase or a program the ART caches may still hold the old contents
 * of those lines (read before, e.g. by the blank check): reset them so the
 * read-back verify sees the flash itself. A cache is reset only while off. */
static void flash_caches_reset(void) {
  FLASH_ACR &= ~(FLASH_ACR_ICEN | FLASH_ACR_DCEN);
  FLASH_ACR |= FLASH_ACR_ICRST | FLASH_ACR_DCRST;
  FLASH_ACR &= ~(FLASH_ACR_ICRST | FLASH_ACR_DCRST);
  FLASH_ACR |= FLASH_ACR_ICEN | FLASH_ACR_DCEN;
}

static void flash_unlock(void) {
  if (FLASH_CR & FLASH_CR_LOCK) {
    FLASH_KEYR = FLASH_KEY1;
    FLASH_KEYR = FLASH_KEY2;
  }
}

/* the two calibration sectors (pyboard/linker.ld): number and address */
typedef struct {
  uint32_t number;
  uintptr_t base;
} calib_sector;
#define CALIB_SECTOR10 0x080C0000u
#define CALIB_SECTOR11 0x080E0000u
#define CALIB_SECTOR_BYTES (128u * 1024u)
static const calib_sector CALIB_SECTORS[FR_CAL_SECTORS] = {{10u, CALIB_SECTOR10}, {11u, CALIB_SECTOR11}};

static bool sector_erase(void *ctx) {
  const calib_sector *sec = ctx;
  pyb_watchdog_kick(); /* an erase takes 1-2 s, and the CPU waits for it (code runs from this flash bank) */
  flash_unlock();
  flash_wait();
  FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_SER | FLASH_CR_SNB(sec->number);
  FLASH_CR |= FLASH_CR_STRT;
  bool ok = flash_wait();
  FLASH_CR = FLASH_CR_LOCK;
  flash_caches_reset();
  pyb_watchdog_kick();
  return ok;
}

static bool sector_program(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len) {
  const calib_sector *sec = ctx;
  if (offset % 4u || len % 4u) return false;
  flash_unlock();
  flash_wait();
  FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_PG;
  bool ok = true;
  volatile uint32_t *dst = (volatile uint32_t *)(sec->base + offset);
  for (uint32_t i = 0; i < len && ok; i += 4u) {
    uint32_t w;
    memcpy(&w, data + i, 4);
    dst[i / 4u] = w;
    ok = flash_wait();
  }
  FLASH_CR = FLASH_CR_LOCK;
  flash_caches_reset();
  return ok;
}

static const fr_flash_ops calib[FR_CAL_SECTORS] = {
  {(const uint8_t *)CALIB_SECTOR10, CALIB_SECTOR_BYTES, sector_erase, sector_program, (void *)&CALIB_SECTORS[0]},
  {(const uint8_t *)CALIB_SECTOR11, CALIB_SECTOR_BYTES, sector_erase, sector_program, (void *)&CALIB_SECTORS[1]},
};

bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len) {
  fr_cal_status s = fr_cal_read(calib, buf, max, len);
  if (s == FR_CAL_EMPTY) {
    *len = 0;
    return true;
  }
  return s == FR_CAL_OK;
}

bool fr_hal_nv_write(const uint8_t *buf, size_t len) { return fr_cal_write(calib, buf, len, NULL) == FR_CAL_OK; }
