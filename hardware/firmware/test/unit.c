/* C unit tests of the firmware core, on the host (ASan + UBSan): framing
 * vectors shared with protocol/src (CRC-32C check value, canonical COBS),
 * the frame decoder's counters, number formatting, exact lock-in periods,
 * and the ring buffer's overrun accounting through the whole core with a fake
 * HAL (a clock the test moves, a link the test can stall). The wire-visible
 * behaviour is covered by the conformance suite (test/conformance). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fiberrig.pb.h"
#include "fr_core.h"
#include "fr_frame.h"
#include "fr_hal.h"
#include "fr_schedule.h"
#include "fr_synth.h"
#include "fr_validate.h"
#include "pb_decode.h"
#include "pb_encode.h"

static int failures, checks;
#define CHECK(cond, ...)                                   \
  do {                                                     \
    checks++;                                              \
    if (!(cond)) {                                         \
      failures++;                                          \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
    }                                                      \
  } while (0)

/* ------------------------------------------------------------- fake HAL */

static uint64_t clock_ns;
static bool stalled;
static uint8_t in_buf[8192];
static size_t in_len, in_pos;
static uint8_t out_buf[1 << 20];
static size_t out_len;
static uint8_t nv[4096];
static size_t nv_len;

uint64_t fr_hal_time_ns(void) { return clock_ns; }
void fr_hal_sampling(uint32_t rate_hz) { (void)rate_hz; }
void fr_hal_detectors(uint64_t n, const float *led_ma, uint32_t oversampling, int32_t *codes) {
  (void)n;
  (void)oversampling;
  fr_synth_detectors(fr_board_this.n_detectors, fr_board_this.n_leds, led_ma, codes);
}
void fr_hal_aux(uint64_t k, uint64_t t_ns, int32_t *codes) {
  (void)k;
  fr_synth_aux(fr_board_this.n_aux, t_ns, codes);
}
void fr_hal_leds(const float *peak_ma, uint32_t n) {
  (void)peak_ma;
  (void)n;
}
size_t fr_hal_link_read(uint8_t *buf, size_t max) {
  size_t n = in_len - in_pos < max ? in_len - in_pos : max;
  memcpy(buf, in_buf + in_pos, n);
  in_pos += n;
  return n;
}
size_t fr_hal_link_write(const uint8_t *buf, size_t len) {
  if (stalled) return 0;
  if (out_len + len > sizeof out_buf) len = sizeof out_buf - out_len;
  memcpy(out_buf + out_len, buf, len);
  out_len += len;
  return len;
}
bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len) {
  size_t n = nv_len < max ? nv_len : max;
  memcpy(buf, nv, n);
  *len = n;
  return true;
}
bool fr_hal_nv_write(const uint8_t *buf, size_t len) {
  if (len > sizeof nv) return false;
  memcpy(nv, buf, len);
  nv_len = len;
  return true;
}
uint32_t fr_hal_resets(void) { return 0; }

/* ------------------------------------------------------------- helpers */

static fiberrig_v1_Envelope msg;

static void send(uint32_t id, pb_size_t tag) {
  static uint8_t payload[FR_MAX_MESSAGE_BYTES];
  msg.request_id = id;
  msg.which_body = tag;
  pb_ostream_t os = pb_ostream_from_buffer(payload, sizeof payload);
  if (!pb_encode(&os, fiberrig_v1_Envelope_fields, &msg)) abort();
  in_len += fr_frame_encode(payload, os.bytes_written, in_buf + in_len);
  memset(&msg, 0, sizeof msg);
}

static void run_for_ms(uint32_t ms) {
  for (uint32_t i = 0; i < ms; i++) {
    clock_ns += 1000000u;
    fr_core_poll();
  }
}

/* Decodes every frame sent so far; calls fn for each message. */
static void each_output(void (*fn)(const fiberrig_v1_Envelope *m, void *ctx), void *ctx) {
  static fr_frame_decoder d;
  static fiberrig_v1_Envelope m;
  fr_frame_decoder_init(&d, FR_MAX_MESSAGE_BYTES);
  for (size_t i = 0; i < out_len; i++) {
    long n = fr_frame_decoder_push(&d, out_buf[i]);
    if (n < 0) continue;
    pb_istream_t is = pb_istream_from_buffer(d.buf, (size_t)n);
    CHECK(pb_decode(&is, fiberrig_v1_Envelope_fields, &m), "device output decodes");
    fn(&m, ctx);
  }
  CHECK(d.counters.crc == 0 && d.counters.cobs == 0 && d.counters.oversize == 0, "device frames are well formed");
}

typedef struct {
  uint64_t next_index;
  uint32_t gaps;
  uint64_t gap_samples;
  uint64_t dropped_blocks, dropped_samples;
  uint32_t warn_logs;
} ring_seen;

static void collect(const fiberrig_v1_Envelope *m, void *ctx) {
  ring_seen *s = ctx;
  if (m->which_body == fiberrig_v1_Envelope_sample_block_tag &&
      m->body.sample_block.source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR) {
    const fiberrig_v1_SampleBlock *b = &m->body.sample_block;
    if (b->first_sample_index != s->next_index) {
      s->gaps++;
      s->gap_samples += b->first_sample_index - s->next_index;
    }
    s->next_index = b->first_sample_index + b->sample_count;
  } else if (m->which_body == fiberrig_v1_Envelope_status_tag) {
    s->dropped_blocks = m->body.status.blocks_dropped;
    s->dropped_samples = m->body.status.samples_dropped;
  } else if (m->which_body == fiberrig_v1_Envelope_log_tag && m->body.log.level == fiberrig_v1_LogLevel_LOG_LEVEL_WARN) {
    s->warn_logs++;
  }
}

/* --------------------------------------------------------------- tests */

static void test_framing(void) {
  CHECK(fr_crc32c((const uint8_t *)"123456789", 9) == 0xE3069283u, "CRC-32C check value");
  uint8_t src[600], enc[700], dec[700];
  /* a full 254-byte run at the end needs no trailing empty block (canonical COBS) */
  memset(src, 0x11, 254);
  size_t n = fr_cobs_encode(src, 254, enc);
  CHECK(n == 255 && enc[0] == 0xFF, "254 non-zero bytes encode to 255 bytes, got %zu", n);
  CHECK(fr_cobs_decode(enc, n, dec) == 254 && memcmp(dec, src, 254) == 0, "and decode back");
  const uint8_t z[] = {0x00};
  n = fr_cobs_encode(z, 1, enc);
  CHECK(n == 2 && enc[0] == 1 && enc[1] == 1, "a zero byte encodes to 01 01");
  const uint8_t bad[] = {0x05, 0x11};
  CHECK(fr_cobs_decode(bad, 2, dec) == -1, "a code past the end is invalid");
  for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * 7u);
  uint8_t frame[FR_COBS_MAX(600 + 4) + 1];
  size_t fl = fr_frame_encode(src, sizeof src, frame);
  fr_frame_decoder d;
  fr_frame_decoder_init(&d, FR_MAX_MESSAGE_BYTES);
  long got = -1;
  for (size_t i = 0; i < fl; i++) got = fr_frame_decoder_push(&d, frame[i]);
  CHECK(got == (long)sizeof src && memcmp(d.buf, src, sizeof src) == 0, "a frame round-trips");
  frame[3] ^= 0x01;
  for (size_t i = 0; i < fl; i++) fr_frame_decoder_push(&d, frame[i]);
  CHECK(d.counters.crc == 1, "a flipped bit is a CRC error");
  for (size_t i = 0; i < 5000; i++) fr_frame_decoder_push(&d, 0x41);
  fr_frame_decoder_push(&d, 0);
  CHECK(d.counters.oversize == 1, "an oversize frame is counted once");
  const uint8_t shortframe[] = {0x02, 0x11, 0x00};
  for (size_t i = 0; i < sizeof shortframe; i++) fr_frame_decoder_push(&d, shortframe[i]);
  CHECK(d.counters.cobs == 1, "a frame shorter than its CRC is a COBS error");
  fr_frame_decoder_push(&d, 0);
  CHECK(d.counters.frames == 1 && d.counters.cobs == 1, "idle delimiters are not errors");
}

static void test_num(void) {
  char b[32];
  const struct {
    double v;
    const char *s;
  } cases[] = {{50, "50"}, {50.29999923706055, "50.3"}, {0.45, "0.45"}, {1e-7, "1e-7"}, {-2.5, "-2.5"}, {1234567, "1234570"}, {211.3, "211.3"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK(strcmp(fr_num(cases[i].v, b, sizeof b), cases[i].s) == 0, "fr_num(%g) = %s, expected %s", cases[i].v, b, cases[i].s);
  }
}

static void test_schedule(void) {
  uint64_t step = 0;
  CHECK(fr_carrier_period(211.0f, 10000, &step) == 10000 && step == 211, "211 Hz at 10 kHz: period 10000 samples");
  CHECK(fr_carrier_period(137.25f, 1000, &step) == 4000 && step == 549, "137.25 Hz at 1 kHz: period 4000, step 549");
  CHECK(fabs(fr_lockin_wave(0.25) - 1.0) < 1e-6 && fabs(fr_lockin_wave(0.75)) < 1e-6 && fabs(fr_lockin_wave(0) - 0.5) < 1e-6, "waveform extremes");
  double worst = 0;
  for (int i = 0; i < 10000; i++) {
    double u = i / 10000.0;
    double e = fabs(fr_lockin_wave(u) - (1 + sin(2 * 3.14159265358979323846 * u)) / 2);
    if (e > worst) worst = e;
  }
  CHECK(worst < 5e-6, "sine table error %g", worst);
}

static void test_ring_overrun(void) {
  clock_ns = 1000;
  in_len = in_pos = out_len = 0;
  stalled = false;
  fr_core_boot(&fr_board_this, "unit test");
  msg.body.hello.has_protocol = true;
  msg.body.hello.protocol.major = 1;
  send(1, fiberrig_v1_Envelope_hello_tag);
  fiberrig_v1_AcquisitionConfig *c = &msg.body.configure.config;
  msg.body.configure.has_config = true;
  c->mode = fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS;
  c->sample_rate_hz = 1000;
  c->detector_ids_count = 1;
  c->detector_ids[0] = 0;
  c->oversampling = 1;
  c->block_samples = 10;
  c->heartbeat_timeout_ms = 60000;
  c->status_interval_ms = 50;
  send(2, fiberrig_v1_Envelope_configure_tag);
  send(3, fiberrig_v1_Envelope_start_tag);
  run_for_ms(100);
  /* the host stops reading: the ring (FR_BUFFER_BLOCKS = 4 here) fills, then new blocks are dropped */
  stalled = true;
  run_for_ms(200);
  stalled = false;
  run_for_ms(200);
  send(4, fiberrig_v1_Envelope_stop_tag);
  run_for_ms(100);
  ring_seen s = {0};
  each_output(collect, &s);
  CHECK(s.dropped_blocks > 0, "a stalled link overruns the ring");
  CHECK(s.dropped_samples == s.dropped_blocks * 10u, "samples_dropped = blocks_dropped x block_samples (%llu, %llu)",
        (unsigned long long)s.dropped_samples, (unsigned long long)s.dropped_blocks);
  CHECK(s.gaps == 1 && s.gap_samples == s.dropped_samples, "the host sees one gap of exactly the dropped samples (%u gaps, %llu samples)",
        s.gaps, (unsigned long long)s.gap_samples);
  CHECK(s.warn_logs == 1, "one overrun episode logs one warning (%u)", s.warn_logs);
  CHECK(s.next_index >= 490, "the sample index kept counting through the overrun (%llu)", (unsigned long long)s.next_index);
}

int main(void) {
  test_framing();
  test_num();
  test_schedule();
  test_ring_overrun();
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
