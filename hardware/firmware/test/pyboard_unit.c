/* Host-build unit tests of the pyboard target's portable logic: the USB CDC
 * descriptors and state machine, the ADC/DMA double-buffer hand-off and the
 * two calibration sectors' write/verify/wear logic (fake flash that only
 * clears bits, counts erases, and can be cut off mid-erase or mid-write, or
 * corrupt on demand). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr_adcbuf.h"
#include "fr_calsector.h"
#include "fr_cdc.h"


#include "fr_check.h"

/* ------------------------------------------------------------------ CDC */

static fr_cdc_result req(fr_cdc *c, uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length, uint8_t *reply, size_t *n) {
  fr_usb_setup s = {type, request, value, index, length};
  return fr_cdc_control(c, &s, reply, 256, n);
}

static void test_cdc_descriptors(void) {
  fr_cdc c;
  fr_cdc_init(&c, "PYB-0001");
  uint8_t r[256];
  size_t n;
  CHECK(req(&c, 0x80, 0x06, 0x0100, 0, 64, r, &n) == FR_CDC_DATA_IN && n == 18, "device descriptor is 18 bytes (%zu)", n);
  CHECK(r[0] == 18 && r[1] == 1 && r[2] == 0x00 && r[3] == 0x02, "bLength, type, bcdUSB 2.00");
  CHECK(r[4] == 0xEF && r[5] == 0x02 && r[6] == 0x01, "IAD composite class triple");
  CHECK(r[7] == 64 && (r[8] | r[9] << 8) == FR_USB_VID && (r[10] | r[11] << 8) == FR_USB_PID && r[17] == 1, "EP0 64, VID/PID, one configuration");
  CHECK(req(&c, 0x80, 0x06, 0x0100, 0, 8, r, &n) == FR_CDC_DATA_IN && n == 8, "the first 8-byte request gets 8 bytes");

  CHECK(req(&c, 0x80, 0x06, 0x0200, 0, 9, r, &n) == FR_CDC_DATA_IN && n == 9, "configuration header alone");
  CHECK((r[2] | r[3] << 8) == FR_CDC_CONFIG_TOTAL && r[4] == 2, "wTotalLength 75, 2 interfaces");
  CHECK(req(&c, 0x80, 0x06, 0x0200, 0, 255, r, &n) == FR_CDC_DATA_IN && n == FR_CDC_CONFIG_TOTAL, "whole configuration");
  /* walk it: lengths chain to the total, the pieces a CDC ACM function needs are there */
  size_t off = 0;
  int interfaces = 0, endpoints = 0, cs = 0, iad = 0;
  uint8_t bulk_in = 0, bulk_out = 0, notify = 0, comm_class = 0, data_class = 0;
  while (off < n) {
    uint8_t len = r[off], type = r[off + 1];
    CHECK(len >= 2 && off + len <= n, "descriptor at %zu fits", off);
    if (len < 2) break;
    if (type == 0x04) {
      interfaces++;
      if (r[off + 5] == 0x02) comm_class = r[off + 6];
      if (r[off + 5] == 0x0A) data_class = 1;
    }
    if (type == 0x05) {
      endpoints++;
      if (r[off + 3] == 0x02 && (r[off + 2] & 0x80)) bulk_in = r[off + 2];
      if (r[off + 3] == 0x02 && !(r[off + 2] & 0x80)) bulk_out = r[off + 2];
      if (r[off + 3] == 0x03) notify = r[off + 2];
      CHECK((r[off + 4] | r[off + 5] << 8) <= 64, "full-speed packet sizes");
    }
    if (type == 0x24) cs++;
    if (type == 0x0B) iad++;
    off += len;
  }
  CHECK(off == FR_CDC_CONFIG_TOTAL, "descriptor lengths add up to wTotalLength (%zu)", off);
  CHECK(interfaces == 2 && endpoints == 3 && cs == 4 && iad == 1, "2 interfaces, 3 endpoints, 4 CDC functional descriptors, 1 IAD");
  CHECK(comm_class == 0x02 && data_class == 1, "communications interface is ACM, data interface is CDC data");
  CHECK(bulk_in == 0x81 && bulk_out == 0x01 && notify == 0x82, "endpoints 0x81 / 0x01 / 0x82");

  CHECK(req(&c, 0x80, 0x06, 0x0300, 0, 255, r, &n) == FR_CDC_DATA_IN && n == 4 && r[2] == 0x09 && r[3] == 0x04, "language id 0x0409");
  CHECK(req(&c, 0x80, 0x06, 0x0303, 0x0409, 255, r, &n) == FR_CDC_DATA_IN && n == 2 + 2 * 8 && r[2] == 'P' && r[3] == 0 && r[16] == '1',
        "serial string is UTF-16LE");
  CHECK(req(&c, 0x80, 0x06, 0x0302, 0x0409, 255, r, &n) == FR_CDC_DATA_IN && r[1] == 3, "product string");
  CHECK(req(&c, 0x80, 0x06, 0x0304, 0x0409, 255, r, &n) == FR_CDC_STALL, "unknown string stalls");
  CHECK(req(&c, 0x80, 0x06, 0x0600, 0, 10, r, &n) == FR_CDC_STALL, "device qualifier stalls (full speed only)");
}

static void test_cdc_state_machine(void) {
  fr_cdc c;
  fr_cdc_init(&c, "X");
  uint8_t r[256];
  size_t n;
  CHECK(req(&c, 0x21, 0x20, 0, 0, 7, r, &n) == FR_CDC_STALL, "class requests stall before SET_CONFIGURATION");
  CHECK(req(&c, 0x00, 0x05, 12, 0, 0, r, &n) == FR_CDC_STATUS && c.address == 12, "SET_ADDRESS");
  CHECK(req(&c, 0x00, 0x05, 200, 0, 0, r, &n) == FR_CDC_STALL, "address > 127 stalls");
  CHECK(req(&c, 0x00, 0x09, 2, 0, 0, r, &n) == FR_CDC_STALL, "no configuration 2");
  CHECK(req(&c, 0x00, 0x09, 1, 0, 0, r, &n) == FR_CDC_STATUS && c.configuration == 1, "SET_CONFIGURATION 1");
  CHECK(req(&c, 0x80, 0x08, 0, 0, 1, r, &n) == FR_CDC_DATA_IN && n == 1 && r[0] == 1, "GET_CONFIGURATION");
  CHECK(!fr_cdc_link_up(&c), "link down until DTR");

  CHECK(req(&c, 0xA1, 0x21, 0, 0, 7, r, &n) == FR_CDC_DATA_IN && n == 7 && (r[0] | r[1] << 8 | r[2] << 16) == 115200 && r[6] == 8,
        "GET_LINE_CODING default 115200 8N1");
  CHECK(req(&c, 0x21, 0x20, 0, 0, 7, r, &n) == FR_CDC_DATA_OUT, "SET_LINE_CODING asks for its data stage");
  const uint8_t lc[7] = {0x00, 0x10, 0x0E, 0x00, 0, 0, 8}; /* 921600 8N1 */
  CHECK(fr_cdc_control_data(&c, lc, 7) == FR_CDC_STATUS && c.coding.dte_rate == 921600u, "line coding stored");
  CHECK(req(&c, 0xA1, 0x21, 0, 0, 7, r, &n) == FR_CDC_DATA_IN && (r[0] | r[1] << 8 | r[2] << 16) == 921600, "and reported back");
  const uint8_t bad[7] = {0x00, 0x10, 0x0E, 0x00, 0, 9, 8};
  CHECK(req(&c, 0x21, 0x20, 0, 0, 7, r, &n) == FR_CDC_DATA_OUT && fr_cdc_control_data(&c, bad, 7) == FR_CDC_STALL && c.coding.dte_rate == 921600u,
        "an invalid parity stalls and keeps the old coding");
  CHECK(req(&c, 0x21, 0x20, 0, 0, 6, r, &n) == FR_CDC_STALL, "SET_LINE_CODING needs 7 bytes");
  CHECK(fr_cdc_control_data(&c, lc, 7) == FR_CDC_STALL, "data stage without its setup stalls");

  CHECK(req(&c, 0x21, 0x22, 0x3, 0, 0, r, &n) == FR_CDC_STATUS && c.dtr && c.rts && fr_cdc_link_up(&c), "DTR+RTS: link up");
  CHECK(req(&c, 0x21, 0x22, 0x2, 0, 0, r, &n) == FR_CDC_STATUS && !c.dtr && !fr_cdc_link_up(&c), "DTR dropped: link down");
  CHECK(req(&c, 0x21, 0x7F, 0, 0, 0, r, &n) == FR_CDC_STALL, "unknown class request stalls");

  /* bulk OUT: bytes in order, NAK (not loss) when the ring cannot take a packet */
  uint8_t pkt[64];
  for (int i = 0; i < 64; i++) pkt[i] = (uint8_t)i;
  int accepted = 0;
  while (fr_cdc_rx_ready(&c) && fr_cdc_rx_packet(&c, pkt, 64)) accepted++;
  CHECK(accepted == FR_CDC_RX_RING / 64, "the ring takes %d whole packets", accepted);
  CHECK(!fr_cdc_rx_ready(&c) && c.rx_dropped == 0, "then NAKs (nothing dropped)");
  uint8_t out[100];
  CHECK(fr_cdc_read(&c, out, 100) == 100 && out[63] == 63 && out[64] == 0 && out[99] == 35, "reads in order across packets");
  CHECK(fr_cdc_rx_ready(&c), "room again after a read");

  fr_cdc_bus_reset(&c);
  CHECK(c.configuration == 0 && c.address == 0 && !c.dtr && fr_cdc_read(&c, out, 100) == 0, "bus reset: unconfigured, ring empty");
  CHECK(!fr_cdc_rx_packet(&c, pkt, 10) && c.rx_dropped == 10, "data before configuration is dropped and counted");
}

static void tx_sequence(size_t len, size_t *lens, size_t *count) {
  fr_cdc_tx t;
  size_t off, n;
  fr_cdc_tx_start(&t, len);
  *count = 0;
  size_t expect_off = 0;
  while (fr_cdc_tx_next(&t, &off, &n)) {
    CHECK(off == expect_off, "packets are contiguous");
    expect_off += n;
    lens[(*count)++] = n;
    if (*count > 100) break;
  }
}

static void test_cdc_packetisation(void) {
  size_t lens[128], count;
  tx_sequence(100, lens, &count);
  CHECK(count == 2 && lens[0] == 64 && lens[1] == 36, "100 bytes: 64 + 36, a short packet ends it");
  tx_sequence(128, lens, &count);
  CHECK(count == 3 && lens[0] == 64 && lens[1] == 64 && lens[2] == 0, "128 bytes: 64 + 64 + ZLP");
  tx_sequence(64, lens, &count);
  CHECK(count == 2 && lens[0] == 64 && lens[1] == 0, "64 bytes: 64 + ZLP");
  tx_sequence(63, lens, &count);
  CHECK(count == 1 && lens[0] == 63, "63 bytes: one short packet, no ZLP");
  tx_sequence(0, lens, &count);
  CHECK(count == 1 && lens[0] == 0, "an empty transfer is one ZLP");
  tx_sequence(4352, lens, &count);
  CHECK(count == 69 && lens[68] == 0, "a maximum frame (4352 = 68 x 64) ends with a ZLP");
}

/* ------------------------------------------------------------ ADC / DMA */

static void test_adcbuf(void) {
  static uint16_t dma[2 * 2 * 64 * 4]; /* 2 halves x (2 channels x 64 rounds x 4 samples) */
  fr_adcbuf b;
  CHECK(!fr_adcbuf_init(&b, dma, 100, 2, 64, 3), "half length must hold whole samples");
  CHECK(fr_adcbuf_init(&b, dma, 2 * 64 * 4, 2, 64, 3), "init");
  for (uint32_t half = 0; half < 2; half++)
    for (uint32_t s = 0; s < 4; s++)
      for (uint32_t r = 0; r < 64; r++) {
        uint16_t *p = dma + half * 512 + s * 128 + r * 2;
        p[0] = (uint16_t)(1000 + half * 4 + s + (r & 1)); /* ch0: mean value + 0.5 */
        p[1] = (uint16_t)(4095 - (r % 2));                 /* ch1: near full scale */
      }
  int32_t codes[2];
  CHECK(fr_adcbuf_take(&b, 0, codes) == FR_ADCBUF_NOT_YET, "nothing before the first half");
  fr_adcbuf_isr(&b, 0);
  CHECK(fr_adcbuf_pending(&b) == 4 && b.samples == 4, "a half hands over 4 samples");
  CHECK(fr_adcbuf_take(&b, 0, codes) == FR_ADCBUF_OK && codes[0] == 8004 && codes[1] == 32756,
        "64x oversampled to 15 bits: (1000.5 x 8, 4094.5 x 8) = (%d, %d)", codes[0], codes[1]);
  for (uint64_t n = 1; n < 4; n++) CHECK(fr_adcbuf_take(&b, n, codes) == FR_ADCBUF_OK, "sample %llu", (unsigned long long)n);
  CHECK(codes[0] == 8028, "samples in order within the half (%d)", codes[0]);
  CHECK(fr_adcbuf_take(&b, 4, codes) == FR_ADCBUF_NOT_YET, "sample 4 is not converted yet");
  fr_adcbuf_isr(&b, 1);
  CHECK(fr_adcbuf_take(&b, 4, codes) == FR_ADCBUF_OK && codes[0] == 8036, "the second half follows the first (%d)", codes[0]);
  CHECK(b.half_slips == 0 && b.lost_samples == 0, "no loss in turn");
  for (uint64_t n = 5; n < 8; n++) (void)fr_adcbuf_take(&b, n, codes);
  fr_adcbuf_isr(&b, 1); /* half 0 never came: the ISR was a whole half late */
  CHECK(b.half_slips == 1 && b.lost_samples == 4, "a half out of turn is counted as lost samples");
  CHECK(fr_adcbuf_take(&b, 8, codes) == FR_ADCBUF_LOST, "its samples (8..11) are reported lost");
  CHECK(fr_adcbuf_take(&b, 12, codes) == FR_ADCBUF_OK && codes[0] == 8036, "the late half is samples 12..15 (%d)", codes[0]);
  for (uint64_t n = 13; n < 16; n++) (void)fr_adcbuf_take(&b, n, codes);
  for (int i = 0; i < 80; i++) fr_adcbuf_isr(&b, (uint32_t)(i & 1));
  CHECK(fr_adcbuf_pending(&b) == FR_ADCBUF_QUEUE, "the queue fills");
  CHECK(b.lost_samples == 4 + (80 * 4 - FR_ADCBUF_QUEUE), "and a full queue counts what it could not take (%u)", b.lost_samples);
  CHECK(b.samples == 16 + 80 * 4, "every converted sample is counted (%llu)", (unsigned long long)b.samples);
  CHECK(fr_adcbuf_take(&b, 16, codes) == FR_ADCBUF_OK, "the queued ones are the oldest: sample 16 is there");
  CHECK(fr_adcbuf_take(&b, 16 + FR_ADCBUF_QUEUE, codes) == FR_ADCBUF_LOST, "the first one past the full queue is lost");
  CHECK(fr_adcbuf_pending(&b) == 0, "taking a lost sample discards the older ones");
}

/* The DMA interrupt was a whole half late: both halves finished and the DMA writes one of them again. */
static void test_adcbuf_late(void) {
  static uint16_t dma[2 * 2 * 4]; /* 2 halves x (2 channels x 1 round x 4 samples); ch0 = half x 100 + sample */
  for (uint32_t h = 0; h < 2; h++)
    for (uint32_t s = 0; s < 4; s++) dma[h * 8 + s * 2] = (uint16_t)(h * 100 + s);
  fr_adcbuf b;
  CHECK(fr_adcbuf_init(&b, dma, 8, 2, 1, 0), "init");
  int32_t codes[2];
  fr_adcbuf_isr_late(&b, 0); /* half 0 is being overwritten: lost; half 1 is whole */
  CHECK(fr_adcbuf_take(&b, 0, codes) == FR_ADCBUF_LOST, "samples 0..3 (the half being overwritten) are lost");
  CHECK(fr_adcbuf_take(&b, 4, codes) == FR_ADCBUF_OK && codes[0] == 100, "samples 4..7 come from half 1 (%d)", codes[0]);
  fr_adcbuf_isr_late(&b, 1); /* now half 0 is whole and half 1 is being overwritten */
  CHECK(fr_adcbuf_take(&b, 8, codes) == FR_ADCBUF_OK && codes[0] == 0, "samples 8..11 come from half 0 (%d)", codes[0]);
  CHECK(fr_adcbuf_take(&b, 12, codes) == FR_ADCBUF_LOST, "samples 12..15 are lost");
  CHECK(b.samples == 16 && b.lost_samples == 8 && b.half_slips == 2, "indices stay on the grid: %llu samples, %u lost",
        (unsigned long long)b.samples, b.lost_samples);
  fr_adcbuf_isr(&b, 0);
  CHECK(fr_adcbuf_take(&b, 16, codes) == FR_ADCBUF_OK && codes[0] == 0, "and the next half in turn is sample 16 on (%d)", codes[0]);
}

/* ------------------------------------------------- calibration sectors */

#define SECTOR 4096u
typedef struct {
  uint8_t mem[SECTOR];
  uint32_t erases, programs;
  int fail_program_after; /* -1: never */
  bool fail_erase;        /* a power cut in the middle of the erase */
  bool corrupt;
} fake_flash;

static bool ff_erase(void *ctx) {
  fake_flash *f = ctx;
  if (f->fail_erase) {
    memset(f->mem, 0xFF, SECTOR / 3u); /* part erased, the rest as it was */
    return false;
  }
  memset(f->mem, 0xFF, SECTOR);
  f->erases++;
  return true;
}

static bool ff_program(void *ctx, uint32_t off, const uint8_t *data, uint32_t len) {
  fake_flash *f = ctx;
  if (off % 4u || len % 4u || off + len > SECTOR) return false;
  for (uint32_t i = 0; i < len; i++) {
    if (f->fail_program_after == 0) return false; /* power cut: the rest is never written */
    if (f->fail_program_after > 0) f->fail_program_after--;
    f->mem[off + i] &= data[i]; /* flash can only clear bits */
  }
  if (f->corrupt) f->mem[off] ^= 0x01;
  f->programs++;
  return true;
}

static void test_calsector(void) {
  static fake_flash ff[2];
  for (int i = 0; i < 2; i++) {
    memset(ff[i].mem, 0xFF, SECTOR);
    ff[i].fail_program_after = -1;
  }
  const fr_flash_ops ops[FR_CAL_SECTORS] = {
    {ff[0].mem, SECTOR, ff_erase, ff_program, &ff[0]},
    {ff[1].mem, SECTOR, ff_erase, ff_program, &ff[1]},
  };
  uint8_t buf[1024], rec[300];
  size_t len;
  fr_cal_stats st = {0};
  CHECK(fr_cal_read(ops, buf, sizeof buf, &len) == FR_CAL_EMPTY, "erased sectors hold no calibration");

  for (int i = 0; i < 300; i++) rec[i] = (uint8_t)(i * 7);
  CHECK(fr_cal_write(ops, rec, 299, &st) == FR_CAL_OK && st.last_seq == 1 && st.sector == 0 && st.erases == 0, "first write: sector 0, no erase");
  CHECK(fr_cal_read(ops, buf, sizeof buf, &len) == FR_CAL_OK && len == 299 && memcmp(buf, rec, 299) == 0, "reads back (odd length)");

  /* fill sector 0: the next record goes to sector 1 (blank: no erase), sector 0 is left as it is */
  uint32_t per_sector = SECTOR / (FR_CAL_HEADER + 300u);
  int written = 1;
  while (st.sector == 0) {
    rec[0] = (uint8_t)written;
    CHECK(fr_cal_write(ops, rec, 300, &st) == FR_CAL_OK, "write %d", written);
    written++;
  }
  CHECK(written == (int)per_sector + 1 && st.erases == 0, "sector 0 took %d records, then sector 1 without an erase (%u erases)", written - 1,
        st.erases);
  uint8_t sector0[SECTOR];
  memcpy(sector0, ff[0].mem, SECTOR);
  for (int i = 0; i < 3; i++, written++) {
    rec[0] = (uint8_t)written;
    CHECK(fr_cal_write(ops, rec, 300, &st) == FR_CAL_OK && st.sector == 1, "write %d to sector 1", written);
  }
  CHECK(memcmp(ff[0].mem, sector0, SECTOR) == 0, "sector 0 (with the previous records) is untouched while sector 1 fills");

  /* wear: one erase per sector-full of writes, the sectors in turn */
  for (int i = 0; i < 60; i++, written++) {
    rec[0] = (uint8_t)written;
    CHECK(fr_cal_write(ops, rec, 300, &st) == FR_CAL_OK, "write %d", written);
  }
  uint32_t total = (uint32_t)written;
  CHECK(st.erases == total / per_sector - 1u, "%u erases for %u writes of %u per sector", st.erases, total, per_sector);
  CHECK(fr_cal_read(ops, buf, sizeof buf, &len) == FR_CAL_OK && buf[0] == (uint8_t)(written - 1) && len == 300, "the newest record wins (%u)",
        buf[0]);
  CHECK(st.last_seq == total, "sequence numbers keep counting across sectors (%u)", st.last_seq);
  CHECK(ff[0].erases + ff[1].erases == st.erases && ff[0].erases > 0 && ff[1].erases > 0, "both sectors take erases (%u, %u)", ff[0].erases,
        ff[1].erases);

  /* fill the current sector to its last record, then cut the power in the erase of the other: the newest record survives */
  while (st.free_offset + FR_CAL_HEADER + 300u <= SECTOR) {
    rec[0] = (uint8_t)written++;
    CHECK(fr_cal_write(ops, rec, 300, &st) == FR_CAL_OK, "write %d", written - 1);
  }
  uint8_t before = rec[0];
  uint32_t other = (st.sector + 1u) % 2u;
  ff[other].fail_erase = true;
  rec[0] = 0xEE;
  CHECK(fr_cal_write(ops, rec, 300, &st) == FR_CAL_FLASH, "an erase cut short is reported");
  ff[other].fail_erase = false;
  CHECK(fr_cal_read(ops, buf, sizeof buf, &len) == FR_CAL_OK && buf[0] == before, "the newest record survives a cut erase (%u vs %u)", buf[0],
        before);
  CHECK(fr_cal_write(ops, rec, 300, &st) == FR_CAL_OK && st.sector == other && fr_cal_read(ops, buf, sizeof buf, &len) == FR_CAL_OK &&
          buf[0] == 0xEE,
        "the next write erases again and lands");

  /* a write torn by a power cut leaves the previous calibration in force */
  ff[other].fail_program_after = FR_CAL_HEADER + 50;
  rec[0] = 0xAA;
  CHECK(fr_cal_write(ops, rec, 300, &st) == FR_CAL_FLASH, "the cut is reported");
  ff[other].fail_program_after = -1;
  CHECK(fr_cal_read(ops, buf, sizeof buf, &len) == FR_CAL_OK && buf[0] == 0xEE, "the torn record is ignored: previous value (%u)", buf[0]);
  rec[0] = 0xBB;
  CHECK(fr_cal_write(ops, rec, 300, &st) == FR_CAL_OK && fr_cal_read(ops, buf, sizeof buf, &len) == FR_CAL_OK && buf[0] == 0xBB,
        "the next write lands after the torn record");

  /* verify: a read-back mismatch is an error, not a silent success */
  ff[st.sector].corrupt = true;
  CHECK(fr_cal_write(ops, rec, 64, &st) == FR_CAL_VERIFY, "a corrupted program fails verify");
  ff[0].corrupt = ff[1].corrupt = false;
  CHECK(fr_cal_read(ops, buf, sizeof buf, &len) == FR_CAL_OK && buf[0] == 0xBB, "and the last good record stays");

  CHECK(fr_cal_write(ops, buf, SECTOR, &st) == FR_CAL_TOO_BIG, "a record larger than a sector is refused");
  CHECK(fr_cal_read(ops, buf, 10, &len) == FR_CAL_TOO_BIG, "a buffer too small is refused");
  CHECK(fr_cal_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u, "CRC-32 check value");
}

int main(void) {
  test_cdc_descriptors();
  test_cdc_state_machine();
  test_cdc_packetisation();
  test_adcbuf();
  test_adcbuf_late();
  test_calsector();
  printf("pyboard unit: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
