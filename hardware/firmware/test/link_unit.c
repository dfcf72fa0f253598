/* C unit tests of protocol 1.2 in the firmware core, through its public API
 * with a fake HAL whose link is paced (a byte budget per millisecond, like a
 * UART or a USB endpoint): HeartbeatAck.reply_queued_us (the time a reply
 * waited behind the sample block frame being written) and aux blocks of their
 * own size (AuxConfig.block_samples). The simulator's side is
 * test/firmware-sim/device/wire-1-2.test.ts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fiberrig.pb.h"
#include "fr_core.h"
#include "fr_frame.h"
#include "fr_hal.h"
#include "fr_synth.h"
#include "pb_decode.h"
#include "pb_encode.h"

#include "fr_check.h"

/* ------------------------------------------------------------- fake HAL */

static uint64_t clock_ns;
static uint32_t pace_bytes_per_ms; /* 0: every byte leaves at once */
static uint32_t budget;            /* bytes the link still takes this millisecond */
static uint8_t in_buf[4096];
static size_t in_len, in_pos;
static uint8_t out_buf[1 << 20];
static size_t out_len;
/* where each output frame started: the millisecond its first byte was taken */
static uint64_t out_frame_ms[4096];
static size_t out_frames;
static bool frame_open;

uint64_t fr_hal_time_ns(void) { return clock_ns; }
uint64_t fr_hal_sampling(const fr_norm_config *config) { return config ? clock_ns : 0; }
uint64_t fr_hal_detectors_ready(void) { return UINT64_MAX; }
bool fr_hal_detectors(uint64_t n, const float *led_ma, int32_t *codes) {
  (void)n;
  fr_synth_detectors(fr_board_this.n_detectors, fr_board_this.n_leds, led_ma, codes);
  return true;
}
uint64_t fr_hal_drive(const fr_norm_config *config, const double *peaks_ma, uint64_t from, bool on_block) {
  (void)config;
  (void)peaks_ma;
  (void)on_block;
  return from;
}
uint32_t fr_hal_edges(fr_hal_edge *out, uint32_t max, uint32_t *lost) {
  (void)out;
  (void)max;
  (void)lost;
  return 0;
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
  if (pace_bytes_per_ms > 0 && len > budget) len = budget;
  if (out_len + len > sizeof out_buf) len = sizeof out_buf - out_len;
  for (size_t i = 0; i < len; i++) {
    if (!frame_open && out_frames < sizeof out_frame_ms / sizeof out_frame_ms[0]) out_frame_ms[out_frames++] = clock_ns / 1000000u;
    frame_open = buf[i] != 0;
    out_buf[out_len++] = buf[i];
  }
  if (pace_bytes_per_ms > 0) budget -= (uint32_t)len;
  return len;
}
bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len) {
  (void)buf;
  (void)max;
  *len = 0;
  return true;
}
bool fr_hal_nv_write(const uint8_t *buf, size_t len) {
  (void)buf;
  (void)len;
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
    budget = pace_bytes_per_ms;
    fr_core_poll();
  }
}

typedef struct {
  uint32_t det_blocks, aux_blocks, det_count_other, aux_count_other;
  uint64_t det_next, aux_next;
  bool contiguous;
  uint32_t hb_acks;
  fiberrig_v1_HeartbeatAck hb[4];
  uint64_t hb_frame_ms[4];
  uint64_t first_det_frame_ms;
} seen_t;

static void collect(seen_t *s) {
  static fr_frame_decoder d;
  static fiberrig_v1_Envelope m;
  memset(s, 0, sizeof *s);
  s->contiguous = true;
  s->first_det_frame_ms = UINT64_MAX;
  fr_frame_decoder_init(&d, FR_MAX_MESSAGE_BYTES);
  size_t frame = 0;
  for (size_t i = 0; i < out_len; i++) {
    long n = fr_frame_decoder_push(&d, out_buf[i]);
    if (out_buf[i] == 0) frame++;
    if (n < 0) continue;
    pb_istream_t is = pb_istream_from_buffer(d.buf, (size_t)n);
    CHECK(pb_decode(&is, fiberrig_v1_Envelope_fields, &m), "device output decodes");
    uint64_t started_ms = out_frame_ms[frame - 1u];
    if (m.which_body == fiberrig_v1_Envelope_sample_block_tag) {
      const fiberrig_v1_SampleBlock *b = &m.body.sample_block;
      bool det = b->source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR;
      uint64_t *next = det ? &s->det_next : &s->aux_next;
      if (b->first_sample_index != *next) s->contiguous = false;
      *next = b->first_sample_index + b->sample_count;
      if (det) {
        s->det_blocks++;
        if (b->sample_count != 1000u) s->det_count_other++;
        if (s->first_det_frame_ms == UINT64_MAX) s->first_det_frame_ms = started_ms;
      } else {
        s->aux_blocks++;
        if (b->sample_count != 250u) s->aux_count_other++;
      }
    } else if (m.which_body == fiberrig_v1_Envelope_heartbeat_ack_tag && s->hb_acks < 4) {
      s->hb_frame_ms[s->hb_acks] = started_ms;
      s->hb[s->hb_acks++] = m.body.heartbeat_ack;
    }
  }
}

/* Hello, then a lock-in-sized CONTINUOUS run: 2 detectors at 10 kS/s in 1000-sample blocks (4000 B),
 * both aux inputs at 1 kS/s in blocks of 250. */
static void start_big_blocks(void) {
  clock_ns = 0; /* uptime = the fake clock: frame times and device_time_us compare */
  fr_core_boot(&fr_board_this, "link unit test");
  out_len = out_frames = 0;
  frame_open = false;
  in_len = in_pos = 0;
  msg.body.hello.has_protocol = true;
  msg.body.hello.protocol.major = 1;
  send(1, fiberrig_v1_Envelope_hello_tag);
  fiberrig_v1_AcquisitionConfig *c = &msg.body.configure.config;
  msg.body.configure.has_config = true;
  c->mode = fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS;
  c->sample_rate_hz = 10000;
  c->detector_ids_count = 2;
  c->detector_ids[0] = 0;
  c->detector_ids[1] = 1;
  c->leds_count = 1;
  c->leds[0].channel = 0;
  c->leds[0].which_drive = fiberrig_v1_LedDrive_current_ma_tag;
  c->leds[0].drive.current_ma = 10;
  c->oversampling = 1;
  c->block_samples = 1000;
  c->has_aux = true;
  c->aux.input_ids_count = 2;
  c->aux.input_ids[0] = 0;
  c->aux.input_ids[1] = 1;
  c->aux.rate_hz = 1000;
  c->aux.block_samples = 250;
  c->heartbeat_timeout_ms = 60000;
  c->status_interval_ms = 60000;
  send(2, fiberrig_v1_Envelope_configure_tag);
  send(3, fiberrig_v1_Envelope_start_tag);
}

/* --------------------------------------------------------------- tests */

static void test_aux_block_size(void) {
  pace_bytes_per_ms = 0;
  start_big_blocks();
  run_for_ms(2000);
  send(4, fiberrig_v1_Envelope_stop_tag);
  run_for_ms(50);
  seen_t s;
  collect(&s);
  CHECK(s.det_blocks == 20 && s.det_count_other == 0, "2 s in 1000-sample detector blocks (%u blocks, %u of another size)", s.det_blocks,
        s.det_count_other);
  CHECK(s.aux_blocks == 8 && s.aux_count_other == 0, "2 s in 250-sample aux blocks (%u blocks, %u of another size)", s.aux_blocks,
        s.aux_count_other);
  CHECK(s.contiguous && s.det_next == 20000u && s.aux_next == 2000u, "both streams contiguous (det to %llu, aux to %llu)",
        (unsigned long long)s.det_next, (unsigned long long)s.aux_next);
}

static void test_heartbeat_reply_queued(void) {
  pace_bytes_per_ms = 100; /* 100 kB/s: a 4 KB block frame takes ~41 ms */
  start_big_blocks();
  run_for_ms(50); /* the link is idle: the first block completes at 100 ms */
  msg.body.heartbeat.host_time_us = 1;
  send(10, fiberrig_v1_Envelope_heartbeat_tag);
  run_for_ms(55); /* the first block goes out from ~101 ms */
  msg.body.heartbeat.host_time_us = 2;
  send(11, fiberrig_v1_Envelope_heartbeat_tag);
  run_for_ms(100);
  seen_t s;
  collect(&s);
  CHECK(s.hb_acks == 2, "both heartbeats answered (%u)", s.hb_acks);
  CHECK(s.hb[0].reply_queued_us == 0, "an idle link: no wait (%lu us)", (unsigned long)s.hb[0].reply_queued_us);
  /* the second arrived at 106 ms with the block on its way since 101 ms: it waits until the block's last byte is taken */
  uint64_t arrival_ms = s.hb[1].device_time_us / 1000u;
  uint64_t waited_ms = s.hb_frame_ms[1] - arrival_ms;
  CHECK(s.first_det_frame_ms < arrival_ms && s.hb_frame_ms[1] > s.first_det_frame_ms, "the ack went out after the block that held it back");
  CHECK(waited_ms >= 30 && s.hb[1].reply_queued_us / 1000u + 1u >= waited_ms && s.hb[1].reply_queued_us / 1000u <= waited_ms,
        "reply_queued_us %lu us = the wait from arrival to the ack's first byte (%llu ms)", (unsigned long)s.hb[1].reply_queued_us,
        (unsigned long long)waited_ms);
}

int main(void) {
  test_aux_block_size();
  test_heartbeat_reply_queued();
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
