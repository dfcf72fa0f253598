/* One unit: one test program of the core through its public API, sharing one fake HAL (clock, link, NV) across its cases. */
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
#include "fr_bounds.h"
#include "fr_core.h"
#include "fr_frame.h"
#include "fr_hal.h"
#include "fr_schedule.h"
#include "fr_synth.h"
#include "fr_validate.h"
#include "pb_decode.h"
#include "pb_encode.h"

#include "fr_check.h"

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
/* the real-front-end side of the contract, as knobs: samples delivered so
 * far, one sample the front end loses, LED changes that land only on
 * multiples of a switch quantum, and digital edges waiting to be read */
static uint64_t ready_limit = UINT64_MAX;
static uint64_t lose_sample = UINT64_MAX;
static uint64_t switch_quantum = 1;
static fr_hal_edge edge_queue[32];
static uint32_t edges_queued, edges_dropped;
uint64_t fr_hal_sampling(const fr_norm_config *config) { return config ? clock_ns : 0; }
uint64_t fr_hal_detectors_ready(void) { return ready_limit; }
bool fr_hal_detectors(uint64_t n, const float *led_ma, int32_t *codes) {
  fr_synth_detectors(fr_board_this.n_detectors, fr_board_this.n_leds, led_ma, codes);
  return n != lose_sample;
}
uint64_t fr_hal_drive(const fr_norm_config *config, const double *peaks_ma, uint64_t from, bool on_block) {
  (void)config;
  (void)peaks_ma;
  (void)on_block;
  return (from + switch_quantum - 1u) / switch_quantum * switch_quantum;
}
uint32_t fr_hal_edges(fr_hal_edge *out, uint32_t max, uint32_t *lost) {
  uint32_t n = edges_queued < max ? edges_queued : max;
  memcpy(out, edge_queue, n * sizeof out[0]);
  memmove(edge_queue, edge_queue + n, (edges_queued - n) * sizeof edge_queue[0]);
  edges_queued -= n;
  *lost += edges_dropped;
  edges_dropped = 0;
  return n;
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

typedef struct {
  ring_seen ring;
  uint32_t error_logs, warn_logs;
  uint32_t led_events;
  uint64_t led_index, ack_index; /* LedEvent.sample_index (the last), SetLed's Ack.sample_index */
  uint64_t led_first_index;        /* the first LedEvent's sample_index (Start's) */
  float led_first_ma;
  uint32_t digital;
  fiberrig_v1_DigitalEvent last_digital;
  uint32_t n_blocks;
  uint64_t block_first[64], block_end[64]; /* detector blocks [first, end) */
} frontend_seen;

static void collect_frontend(const fiberrig_v1_Envelope *m, void *ctx) {
  frontend_seen *s = ctx;
  collect(m, &s->ring);
  if (m->which_body == fiberrig_v1_Envelope_sample_block_tag && s->n_blocks < 64 &&
      m->body.sample_block.source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR) {
    s->block_first[s->n_blocks] = m->body.sample_block.first_sample_index;
    s->block_end[s->n_blocks] = m->body.sample_block.first_sample_index + m->body.sample_block.sample_count;
    s->n_blocks++;
  }
  if (m->which_body == fiberrig_v1_Envelope_log_tag) {
    if (m->body.log.level == fiberrig_v1_LogLevel_LOG_LEVEL_ERROR) s->error_logs++;
    if (m->body.log.level == fiberrig_v1_LogLevel_LOG_LEVEL_WARN) s->warn_logs++;
  } else if (m->which_body == fiberrig_v1_Envelope_led_event_tag) {
    if (s->led_events == 0) {
      s->led_first_index = m->body.led_event.sample_index;
      s->led_first_ma = m->body.led_event.current_ma;
    }
    s->led_events++;
    s->led_index = m->body.led_event.sample_index;
  } else if (m->which_body == fiberrig_v1_Envelope_ack_tag && m->request_id == 5) {
    s->ack_index = m->body.ack.sample_index;
  } else if (m->which_body == fiberrig_v1_Envelope_digital_event_tag) {
    s->digital++;
    s->last_digital = m->body.digital_event;
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

/* A fresh core with one run started: CONTINUOUS, 1 kHz, blocks of 10, one LED at 10 mA. */
static void start_continuous(uint32_t digital_inputs) {
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
  c->leds_count = 1;
  c->leds[0].channel = 0;
  c->leds[0].which_drive = fiberrig_v1_LedDrive_current_ma_tag;
  c->leds[0].drive.current_ma = 10;
  c->oversampling = 1;
  c->block_samples = 10;
  c->heartbeat_timeout_ms = 60000;
  c->status_interval_ms = 50;
  c->digital_input_ids_count = digital_inputs ? 1 : 0;
  send(2, fiberrig_v1_Envelope_configure_tag);
  send(3, fiberrig_v1_Envelope_start_tag);
}

static void test_ring_overrun(void) {
  start_continuous(0);
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

/* A real front end: samples arrive late and in batches; one is lost. */
static void test_frontend_batches_and_loss(void) {
  ready_limit = 0;
  lose_sample = 123;
  start_continuous(0);
  run_for_ms(15);
  frontend_seen early = {0};
  each_output(collect_frontend, &early);
  CHECK(early.ring.next_index == 0, "no sample is taken before the front end delivers it (%llu)", (unsigned long long)early.ring.next_index);
  ready_limit = 20; /* a batch: the core takes it, and nothing beyond, though the clock is past 20 */
  run_for_ms(15);
  each_output(collect_frontend, &early);
  CHECK(early.ring.next_index == 20, "a batch of 20 is taken whole (%llu)", (unsigned long long)early.ring.next_index);
  ready_limit = UINT64_MAX;
  run_for_ms(200);
  send(4, fiberrig_v1_Envelope_stop_tag);
  run_for_ms(20);
  frontend_seen s = {0};
  each_output(collect_frontend, &s);
  CHECK(s.ring.gaps == 1 && s.ring.gap_samples == 1, "a lost sample is one gap of one sample (%u gaps, %llu samples)", s.ring.gaps,
        (unsigned long long)s.ring.gap_samples);
  CHECK(s.ring.dropped_samples == 1, "the lost sample is counted in samples_dropped (%llu)", (unsigned long long)s.ring.dropped_samples);
  CHECK(s.error_logs == 1, "the loss is logged once as an error (%u)", s.error_logs);
  CHECK(s.ring.next_index >= 200, "sampling went on after the loss (%llu)", (unsigned long long)s.ring.next_index);
  uint32_t unaligned = 0;
  bool realigned = false;
  for (uint32_t i = 0; i + 1 < s.n_blocks; i++) {
    if (s.block_end[i] % 10 != 0) unaligned++;
    if (s.block_end[i] == 123 && s.block_first[i + 1] == 124 && s.block_end[i + 1] == 130) realigned = true;
  }
  CHECK(realigned, "the loss cuts the block at 123 and a short block 124..130 follows");
  CHECK(unaligned == 1, "only the block the loss cut ends off a block boundary (%u)", unaligned);
  ready_limit = UINT64_MAX;
  lose_sample = UINT64_MAX;
}

/* A front end that stops delivering is reported, not papered over. */
static void test_frontend_stall(void) {
  ready_limit = 40;
  start_continuous(0);
  run_for_ms(1500);
  frontend_seen s = {0};
  each_output(collect_frontend, &s);
  CHECK(s.ring.next_index <= 40, "nothing past what the front end delivered (%llu)", (unsigned long long)s.ring.next_index);
  CHECK(s.error_logs == 1, "a stall of over a second is logged once (%u)", s.error_logs);
  ready_limit = UINT64_MAX;
}

/* The hardware decides when an LED change lands; the LedEvent and the Ack say that sample. */
static void test_drive_lands_late(void) {
  switch_quantum = 64;
  start_continuous(0);
  run_for_ms(35);
  msg.body.set_led.channel = 0;
  msg.body.set_led.which_drive = fiberrig_v1_SetLed_current_ma_tag;
  msg.body.set_led.drive.current_ma = 20;
  send(5, fiberrig_v1_Envelope_set_led_tag);
  run_for_ms(100);
  frontend_seen s = {0};
  each_output(collect_frontend, &s);
  CHECK(s.led_events == 2 && s.led_first_index == 0, "Start announces its LED's drive at sample 0 (%u events, first at sample %llu)",
        s.led_events, (unsigned long long)s.led_first_index);
  CHECK(s.led_first_ma == 10.0f, "Start's LedEvent carries the configured drive (%g mA)", (double)s.led_first_ma);
  CHECK(s.led_index == 64, "the SetLed's LedEvent names the sample the hardware switched at (sample %llu)", (unsigned long long)s.led_index);
  CHECK(s.ack_index == 64, "SetLed's Ack names it too (%llu)", (unsigned long long)s.ack_index);
  switch_quantum = 1;
}

/* Digital edges go out once their sample is taken; lost ones are counted and logged. */
static void test_digital_edges(void) {
  start_continuous(1);
  run_for_ms(20);
  edge_queue[0] = (fr_hal_edge){.line = 0, .rising = true, .sample_index = 25, .subsample_ticks = 1234};
  edges_queued = 1;
  run_for_ms(3); /* sample 25 is not taken yet: the edge waits */
  frontend_seen before = {0};
  each_output(collect_frontend, &before);
  CHECK(before.digital == 0, "an edge waits for its sample (%u events)", before.digital);
  edges_dropped = 3;
  run_for_ms(20);
  frontend_seen s = {0};
  each_output(collect_frontend, &s);
  CHECK(s.digital == 1 && s.last_digital.sample_index == 25 && s.last_digital.subsample_ticks == 1234 &&
          s.last_digital.edge == fiberrig_v1_Edge_EDGE_RISING && s.last_digital.line == 0,
        "the DigitalEvent carries line, edge, sample and ticks (%u events)", s.digital);
  CHECK(s.warn_logs == 1, "dropped edges are logged (%u warnings)", s.warn_logs);
}

/* A real front end's timing rules (board.sample_clock_hz set): exact sample clock, table-sized waveforms. */
static bool validate_on(const fr_board *b, const fiberrig_v1_AcquisitionConfig *ac, fr_issue *issue) {
  static fiberrig_v1_Configure cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.has_config = true;
  cfg.config = *ac;
  static fr_calibration cal;
  static fr_norm_config out;
  memset(issue, 0, sizeof *issue);
  return fr_validate_config(&cfg, b, &cal, &out, issue);
}

static void test_hardware_timing(void) {
  fr_board b = fr_board_this;
  b.sample_clock_hz = 84000000u;
  b.max_drive_period_samples = 2048u;
  b.max_sync_period_samples = 65536u;
  fiberrig_v1_AcquisitionConfig c = {0};
  c.mode = fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS;
  c.sample_rate_hz = 1000;
  c.detector_ids_count = 1;
  c.leds_count = 1;
  c.leds[0].which_drive = fiberrig_v1_LedDrive_current_ma_tag;
  c.leds[0].drive.current_ma = 10;
  c.oversampling = 60;
  c.block_samples = 10;
  fr_issue issue;
  CHECK(validate_on(&b, &c, &issue), "1000 Hz x 60 divides 84 MHz: accepted (%s)", issue.message);
  c.sample_rate_hz = 130;
  c.oversampling = 1;
  CHECK(!validate_on(&b, &c, &issue) && issue.code == fiberrig_v1_ErrorCode_ERROR_CODE_UNSUPPORTED &&
          strcmp(issue.field, "config.sample_rate_hz") == 0 && strstr(issue.message, "try 128 or 140 Hz"),
        "130 Hz does not divide 84 MHz: rejected with the nearest rates (%s)", issue.message);
  CHECK(validate_on(&fr_board_this, &c, &issue), "the host board (no sample clock) takes 130 Hz (%s)", issue.message);
  c.sample_rate_hz = 1000;
  c.oversampling = 64;
  CHECK(!validate_on(&b, &c, &issue) && strcmp(issue.field, "config.oversampling") == 0 && strstr(issue.message, "try oversampling 60"),
        "1000 Hz x 64 does not divide 84 MHz: oversampling 60 suggested (%s)", issue.message);
  c.oversampling = 1;
  c.mode = fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN;
  c.sample_rate_hz = 10000;
  c.leds[0].carrier_hz = 531.0f;
  CHECK(!validate_on(&b, &c, &issue) && strcmp(issue.field, "config.leds[0].carrier_hz") == 0 && strstr(issue.message, "period 10000 >"),
        "531 Hz repeats every 10000 samples at 10 kHz: rejected (%s)", issue.message);
  const char *try_at = strstr(issue.message, "try ");
  double suggested = try_at ? atof(try_at + 4) : 0;
  CHECK(fabs(suggested - 531.0) < 1.0, "a carrier within 1 Hz is suggested (%s)", issue.message);
  c.leds[0].carrier_hz = (float)suggested;
  CHECK(validate_on(&b, &c, &issue), "the suggested carrier is accepted (%s)", issue.message);
  c.leds[0].carrier_hz = 531.25f;
  CHECK(validate_on(&b, &c, &issue), "531.25 Hz (period 320 samples) accepted (%s)", issue.message);
  c.leds_count = 2;
  c.leds[1] = c.leds[0];
  c.leds[1].channel = 1;
  c.leds[1].carrier_hz = 1234.375f; /* period 320 alone, but 531.25 + 1234.375 repeat together every 320: fine */
  CHECK(validate_on(&b, &c, &issue), "carriers with a common period that fits are accepted (%s)", issue.message);
  c.leds[1].carrier_hz = 1237.0f; /* period 10000: rejected, with a carrier that fits alongside 531.25 */
  CHECK(!validate_on(&b, &c, &issue) && strcmp(issue.field, "config.leds[1].carrier_hz") == 0, "the second carrier is the one rejected (%s)",
        issue.message);
  try_at = strstr(issue.message, "try ");
  c.leds[1].carrier_hz = try_at ? (float)atof(try_at + 4) : 0.0f;
  CHECK(validate_on(&b, &c, &issue), "its suggestion fits with the first (%s)", issue.message);

  /* a sweep: every rejection message is whole, and every offered carrier is accepted */
  static const uint32_t rates[] = {1000, 1200, 2000, 3000, 5000, 6000, 10000};
  uint32_t rejected = 0, offered = 0, cut = 0, refused = 0;
  for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
    for (int two = 0; two < 2; two++) {
      for (double fc = 41.3; fc < 0.45 * rates[r]; fc += 0.37 * rates[r] / 40.0) {
        c.sample_rate_hz = rates[r];
        c.leds_count = two ? 2 : 1;
        c.leds[0].carrier_hz = two ? (float)(rates[r] / 16.0) : (float)fc; /* period 16 */
        c.leds[1].carrier_hz = (float)fc;
        if (validate_on(&b, &c, &issue) || issue.code != fiberrig_v1_ErrorCode_ERROR_CODE_UNSUPPORTED) continue;
        rejected++;
        size_t len = strlen(issue.message);
        if (len + 1 >= sizeof issue.message || strcmp(issue.message + len - 3, " Hz") != 0) cut++;
        const char *at = strstr(issue.message, "try ");
        if (!at) continue;
        offered++;
        c.leds[two ? 1 : 0].carrier_hz = (float)atof(at + 4);
        if (!validate_on(&b, &c, &issue)) refused++;
      }
    }
  }
  CHECK(rejected > 100 && offered * 10 >= rejected * 9, "the sweep rejected %u carriers, %u with a suggestion", rejected, offered);
  CHECK(cut == 0, "no rejection message is cut short (%u of %u)", cut, rejected);
  CHECK(refused == 0, "every offered carrier is accepted (%u of %u refused)", refused, offered);
}


/* ---------------------------------------------------------- field bounds */

static size_t hello_with_name(uint8_t *buf, size_t name_len, bool id_first, uint8_t id) {
  size_t n = 0;
  if (id_first) { buf[n++] = 0x08; buf[n++] = id; }
  buf[n++] = 0x52; /* Envelope.hello (10), length-delimited */
  buf[n++] = (uint8_t)(2u + name_len);
  buf[n++] = 0x12; /* Hello.host_name (2) */
  buf[n++] = (uint8_t)name_len;
  memset(buf + n, 'x', name_len);
  n += name_len;
  if (!id_first) { buf[n++] = 0x08; buf[n++] = id; }
  return n;
}

typedef struct {
  uint32_t request_id;
  uint32_t code;
  char field[48];
  int errors;
} error_seen;

static void collect_error(const fiberrig_v1_Envelope *m, void *ctx) {
  error_seen *e = ctx;
  if (m->which_body != fiberrig_v1_Envelope_error_tag) return;
  e->errors++;
  e->request_id = m->request_id;
  e->code = m->body.error.code;
  snprintf(e->field, sizeof e->field, "%s", m->body.error.field);
}

static void test_field_bounds(void) {
  static fiberrig_v1_Envelope scratch;
  fr_bounds_scan scan;
  uint8_t buf[256];

  size_t n = hello_with_name(buf, 48, true, 7);
  fr_bounds_scan_envelope(buf, n, &scratch, &scan);
  CHECK(scan.overflow && strcmp(scan.field, "host_name") == 0 && scan.request_id == 7, "48-byte host_name: field %s, id %u", scan.field, (unsigned)scan.request_id);
  CHECK(strcmp(scan.message, "host_name: 48 bytes, at most 47") == 0, "message: %s", scan.message);
  n = hello_with_name(buf, 48, false, 9);
  fr_bounds_scan_envelope(buf, n, &scratch, &scan);
  CHECK(scan.overflow && scan.request_id == 9, "the request id after the body is still read (%u)", (unsigned)scan.request_id);
  n = hello_with_name(buf, 47, true, 7);
  fr_bounds_scan_envelope(buf, n, &scratch, &scan);
  CHECK(!scan.overflow && scan.request_id == 7, "47 bytes fit");

  /* Configure with nine LedDrives (bound 8) */
  n = 0;
  buf[n++] = 0x08; buf[n++] = 3;
  buf[n++] = 0x62; buf[n++] = 20; /* Envelope.configure (12) */
  buf[n++] = 0x0a; buf[n++] = 18; /* Configure.config (1) */
  for (int i = 0; i < 9; i++) { buf[n++] = 0x1a; buf[n++] = 0; } /* AcquisitionConfig.leds (3) */
  fr_bounds_scan_envelope(buf, n, &scratch, &scan);
  CHECK(scan.overflow && strcmp(scan.field, "config.leds") == 0 && scan.request_id == 3, "nine LEDs: %s", scan.field);
  CHECK(strcmp(scan.message, "config.leds: more than 8 entries") == 0, "message: %s", scan.message);

  /* five packed detector ids (bound 4) */
  const uint8_t packed[] = {0x08, 4, 0x62, 9, 0x0a, 7, 0x22, 5, 0, 1, 0, 1, 0};
  fr_bounds_scan_envelope(packed, sizeof packed, &scratch, &scan);
  CHECK(scan.overflow && strcmp(scan.field, "config.detector_ids") == 0 && scan.request_id == 4, "five packed detector ids: %s", scan.field);

  /* not an Envelope: no request id can be read */
  const uint8_t junk[] = {0x0f, 0xff, 0xff, 0xff};
  fr_bounds_scan_envelope(junk, sizeof junk, &scratch, &scan);
  CHECK(!scan.overflow && scan.request_id == 0, "junk: no overflow, request id 0");

  /* through the core: Error(FIELD_TOO_LONG, "host_name") under request id 7, not a FRAME_ERROR */
  clock_ns = 1000;
  in_len = in_pos = out_len = 0;
  stalled = false;
  fr_core_boot(&fr_board_this, "unit test");
  n = hello_with_name(buf, 100, true, 7);
  in_len += fr_frame_encode(buf, n, in_buf + in_len);
  run_for_ms(5);
  error_seen e = {0};
  each_output(collect_error, &e);
  CHECK(e.errors == 1 && e.request_id == 7 && e.code == fiberrig_v1_ErrorCode_ERROR_CODE_FIELD_TOO_LONG && strcmp(e.field, "host_name") == 0,
        "core answers FIELD_TOO_LONG (%u, %s) under request id %u", (unsigned)e.code, e.field, (unsigned)e.request_id);
}

int main(void) {
  test_hardware_timing();
  test_frontend_batches_and_loss();
  test_frontend_stall();
  test_drive_lands_late();
  test_digital_edges();
  test_framing();
  test_num();
  test_schedule();
  test_ring_overrun();
  test_field_bounds();
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
