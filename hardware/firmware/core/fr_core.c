/* The firmware core. Behaviour follows firmware-sim/device/device.ts; the
 * comments name the simulator's rule where the C code implements one.
 *
 * Clocks: device time is fr_hal_time_ns() since boot. While running, detector
 * sample n is taken at start + (n + 1) / fs; a block [first, first + B) is
 * complete when its last sample is taken, and goes into the ring buffer (or is
 * dropped and counted when the ring is full: the sample index keeps counting so
 * the host sees the gap).
 *
 * Link: replies, Status and Log go out first (the control queue, encoded
 * frames); sample blocks, LedEvents and Stop's Ack go out in order behind them
 * (the stream: blocks in the ring, events tagged with the number of blocks
 * that must precede them). A frame is never interleaved with another. Input
 * is read only while the control queue has room for the largest reply, so a
 * flood of commands waits in the link instead of overflowing the device. */
#include "fr_core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fiberrig.pb.h"
#include "fr_bounds.h"
#include "fr_frame.h"
#include "fr_hal.h"
#include "fr_schedule.h"
#include "fr_validate.h"
#include "pb_decode.h"
#include "pb_encode.h"

#ifndef FR_RING_BLOCKS
#define FR_RING_BLOCKS 32u
#endif
#ifndef FR_RING_SECTION
#define FR_RING_SECTION
#endif
#define FR_CTRL_BYTES 8192u
#define FR_EVENTS 64u
#define FR_MAX_CHANGES 8u
#define FR_RX_CHUNK 64u
#define FR_RX_BYTES_PER_POLL 1024u
#define FR_PROTOCOL_MAJOR 1u
#define FR_PROTOCOL_MINOR 1u
#define NS_PER_S 1000000000ull
/* room the control queue must have before a command is read: the largest reply */
#define FR_CTRL_RESERVE (FR_COBS_MAX(fiberrig_v1_CalibrationTable_size + 16u + FR_CRC_BYTES) + 1u)
#define NV_MAGIC 0x564E5246u /* "FRNV" */
#define NV_HEADER 8u
#define NV_MAX (NV_HEADER + fiberrig_v1_CalibrationTable_size + 4u)

typedef struct {
  uint32_t source;
  uint32_t config_id;
  uint64_t first;
  uint32_t count;
  uint32_t n_channels;
  uint32_t channel_ids[FR_MAX_DETECTORS > FR_MAX_AUX ? FR_MAX_DETECTORS : FR_MAX_AUX];
  uint32_t format;
  uint16_t samples[FR_MAX_SAMPLE_BYTES / 2u];
} fr_block;

enum { EV_LED = 1, EV_STOP_ACK = 2, EV_DIGITAL = 3 };
typedef struct {
  uint8_t kind;
  uint64_t blocks_before; /* blocks admitted before it: it goes out after them */
  uint32_t a;             /* LED: channel; ACK: request id; DIGITAL: line */
  uint32_t config_id;
  uint32_t ticks; /* DIGITAL: subsample ticks */
  bool rising;    /* DIGITAL */
  float current_ma;
  float power_uw;
  uint64_t index;
  uint64_t time_us; /* ACK: device uptime of `index` (Ack.device_time_us) */
} fr_event;

typedef struct {
  uint64_t at;
  double peaks[FR_MAX_LEDS];
} fr_change;

typedef enum { TX_NONE = 0, TX_CTRL, TX_STREAM } tx_source;

static struct {
  const fr_board *board;
  uint64_t boot_ns;
  uint32_t resets;

  /* session */
  bool handshaken;
  bool bootloader;
  bool have_config;
  fr_norm_config config;
  uint32_t config_id;
  uint32_t next_config_id;
  double commanded_ma[FR_MAX_LEDS];
  bool commanded_has_uw[FR_MAX_LEDS];
  double commanded_uw[FR_MAX_LEDS];
  fr_calibration calibration;
  bool nv_has_calibration;
  bool nv_intact;
  bool nv_failed;

  /* run */
  bool running;
  uint64_t run_start_ns;
  uint64_t next_sample; /* next detector sample to take */
  uint64_t last_stop_index;
  uint64_t last_stop_us; /* uptime of last_stop_index (0 after boot) */
  fr_schedule schedule;
  double peaks[FR_MAX_LEDS];
  fr_change changes[FR_MAX_CHANGES];
  uint32_t n_changes;
  bool tripped;
  bool ever_tripped;
  uint64_t last_hb_ns;
  uint64_t blocks_dropped;
  uint64_t samples_dropped;
  bool overrun_logged;
  bool loss_logged;        /* a sample the front end lost was logged this run */
  bool stall_logged;       /* the front end falling a second behind was logged this run */
  uint32_t edges_lost;     /* digital edges dropped this run (target queue or event ring full) */
  bool edges_logged;
  fr_hal_edge edge_wait[8]; /* edges read from the target, out once their sample is taken */
  uint32_t n_edge_wait;
  uint64_t next_aux;
  bool status_armed;
  uint64_t next_status_ns;

  /* ring buffer and stream */
  uint32_t ring_head;
  uint32_t ring_count;
  uint64_t blocks_admitted;
  uint64_t blocks_sent;
  fr_event events[FR_EVENTS];
  uint32_t ev_head;
  uint32_t ev_count;
  uint32_t messages_dropped;

  /* link */
  fr_frame_decoder decoder;
  uint32_t decode_errors;
  uint8_t rx_chunk[FR_RX_CHUNK];
  uint32_t rx_pos, rx_len;
  uint8_t ctrl[FR_CTRL_BYTES];
  uint32_t ctrl_len, ctrl_sent;
  uint8_t tx_frame[FR_MAX_FRAME_BYTES + 1u];
  uint32_t tx_len, tx_sent;
  tx_source tx;
  bool tx_block; /* the stream frame in tx_frame is a sample block */
  fr_core_action pending_action;
} g;

static fr_block det_stage;
static fr_block aux_stage;
static FR_RING_SECTION fr_block ring[FR_RING_BLOCKS];
static fiberrig_v1_Envelope rx_msg;
static fiberrig_v1_Envelope tx_msg;
static uint8_t payload[FR_MAX_MESSAGE_BYTES];
static uint8_t nv_buf[NV_MAX];

/* ------------------------------------------------------------------ time */

/* Decimal text of v (newlib-nano's printf has no %llu). */
static const char *u64_text(uint64_t v, char *buf) {
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v);
  int j = 0;
  while (i) buf[j++] = tmp[--i];
  buf[j] = 0;
  return buf;
}

static uint64_t now_ns(void) { return fr_hal_time_ns() - g.boot_ns; }

/* floor(ns * fs / 1e9) without overflow */
static uint64_t samples_in(uint64_t ns, uint32_t fs) {
  return (ns / NS_PER_S) * fs + ((ns % NS_PER_S) * fs) / NS_PER_S;
}

/* ceil(ns * fs / 1e9) */
static uint64_t samples_in_ceil(uint64_t ns, uint32_t fs) {
  return (ns / NS_PER_S) * fs + ((ns % NS_PER_S) * fs + NS_PER_S - 1u) / NS_PER_S;
}

/* device time of the end of sample n's period, relative to the run start */
static uint64_t sample_time_ns(uint64_t n, uint32_t fs) { return (n / fs) * NS_PER_S + ((n % fs) * NS_PER_S) / fs; }

static uint64_t samples_taken(uint64_t t_ns) {
  if (!g.running || t_ns < g.run_start_ns) return 0;
  return samples_in(t_ns - g.run_start_ns, g.config.sample_rate_hz);
}

/* ------------------------------------------------------------------ link */

static uint32_t ctrl_free(void) { return FR_CTRL_BYTES - g.ctrl_len; }

/* Encodes tx_msg as a frame; returns its payload length or 0 when it does not encode. */
static size_t encode_payload(void) {
  pb_ostream_t os = pb_ostream_from_buffer(payload, sizeof payload);
  if (!pb_encode(&os, fiberrig_v1_Envelope_fields, &tx_msg)) return 0;
  return os.bytes_written;
}

/* Queues tx_msg on the control queue. Unsolicited messages (request id 0) are
 * dropped and counted when there is no room; replies always have room (input
 * is only read while the largest reply fits). */
static void ctrl_send(void) {
  size_t len = encode_payload();
  if (len == 0) {
    g.messages_dropped++;
    return;
  }
  size_t need = FR_COBS_MAX(len + FR_CRC_BYTES) + 1u;
  if (need > ctrl_free()) {
    g.messages_dropped++;
    return;
  }
  g.ctrl_len += (uint32_t)fr_frame_encode(payload, len, g.ctrl + g.ctrl_len);
}

static void begin(uint32_t request_id, pb_size_t body) {
  memset(&tx_msg, 0, sizeof tx_msg);
  tx_msg.request_id = request_id;
  tx_msg.which_body = body;
}

static void copy_str(char *dst, size_t size, const char *src) {
  if (size == 0) return;
  size_t n = src ? strlen(src) : 0;
  if (n >= size) n = size - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = 0;
}

static void send_error(uint32_t request_id, const fr_issue *issue) {
  begin(request_id, fiberrig_v1_Envelope_error_tag);
  tx_msg.body.error.code = (fiberrig_v1_ErrorCode)issue->code;
  copy_str(tx_msg.body.error.message, sizeof tx_msg.body.error.message, issue->message);
  copy_str(tx_msg.body.error.field, sizeof tx_msg.body.error.field, issue->field);
  ctrl_send();
}

static void send_issue(uint32_t request_id, uint32_t code, const char *field, const char *message) {
  fr_issue issue;
  fr_issue_set(&issue, code, field, "%s", message);
  send_error(request_id, &issue);
}

/* An Ack; device_time_us is the uptime of sample_index (Start, Stop), else 0. */
static void send_ack_at(uint32_t request_id, uint64_t sample_index, uint64_t device_time_us) {
  begin(request_id, fiberrig_v1_Envelope_ack_tag);
  tx_msg.body.ack.config_id = g.config_id;
  tx_msg.body.ack.sample_index = sample_index;
  tx_msg.body.ack.device_time_us = device_time_us;
  ctrl_send();
}

static void send_ack(uint32_t request_id, uint64_t sample_index) { send_ack_at(request_id, sample_index, 0); }

static void log_message(fiberrig_v1_LogLevel level, const char *text) {
  begin(0, fiberrig_v1_Envelope_log_tag);
  tx_msg.body.log.level = level;
  copy_str(tx_msg.body.log.message, sizeof tx_msg.body.log.message, text);
  tx_msg.body.log.device_time_us = now_ns() / 1000u;
  ctrl_send();
}

/* Queues a stream event; false (counted in messages_dropped) when the ring is full. */
static bool push_event(const fr_event *e) {
  if (g.ev_count >= FR_EVENTS - (e->kind == EV_STOP_ACK ? 0u : 1u)) {
    g.messages_dropped++;
    return false;
  }
  fr_event *slot = &g.events[(g.ev_head + g.ev_count) % FR_EVENTS];
  *slot = *e;
  slot->blocks_before = g.blocks_admitted;
  g.ev_count++;
  return true;
}

/* Encodes the next stream item (an event due now, else the oldest block) into tx_frame. */
static bool next_stream_frame(void) {
  g.tx_block = false;
  if (g.ev_count > 0 && g.events[g.ev_head].blocks_before <= g.blocks_sent) {
    const fr_event *e = &g.events[g.ev_head];
    if (e->kind == EV_LED) {
      begin(0, fiberrig_v1_Envelope_led_event_tag);
      tx_msg.body.led_event.channel = e->a;
      tx_msg.body.led_event.current_ma = e->current_ma;
      tx_msg.body.led_event.power_uw = e->power_uw;
      tx_msg.body.led_event.sample_index = e->index;
      tx_msg.body.led_event.config_id = e->config_id;
    } else if (e->kind == EV_DIGITAL) {
      begin(0, fiberrig_v1_Envelope_digital_event_tag);
      tx_msg.body.digital_event.line = e->a;
      tx_msg.body.digital_event.edge = e->rising ? fiberrig_v1_Edge_EDGE_RISING : fiberrig_v1_Edge_EDGE_FALLING;
      tx_msg.body.digital_event.sample_index = e->index;
      tx_msg.body.digital_event.subsample_ticks = e->ticks;
      tx_msg.body.digital_event.config_id = e->config_id;
    } else {
      begin(e->a, fiberrig_v1_Envelope_ack_tag);
      tx_msg.body.ack.config_id = e->config_id;
      tx_msg.body.ack.sample_index = e->index;
      tx_msg.body.ack.device_time_us = e->time_us;
    }
    g.ev_head = (g.ev_head + 1u) % FR_EVENTS;
    g.ev_count--;
  } else if (g.ring_count > 0) {
    const fr_block *b = &ring[g.ring_head];
    begin(0, fiberrig_v1_Envelope_sample_block_tag);
    fiberrig_v1_SampleBlock *sb = &tx_msg.body.sample_block;
    sb->config_id = b->config_id;
    sb->source = (fiberrig_v1_SampleSource)b->source;
    sb->first_sample_index = b->first;
    sb->sample_count = b->count;
    sb->channel_ids_count = (pb_size_t)b->n_channels;
    for (uint32_t i = 0; i < b->n_channels; i++) sb->channel_ids[i] = b->channel_ids[i];
    sb->format = (fiberrig_v1_SampleFormat)b->format;
    uint32_t n = b->count * b->n_channels;
    for (uint32_t i = 0; i < n; i++) {
      sb->samples.bytes[2u * i] = (uint8_t)(b->samples[i] & 0xFFu);
      sb->samples.bytes[2u * i + 1u] = (uint8_t)(b->samples[i] >> 8);
    }
    sb->samples.size = (pb_size_t)(2u * n);
    g.ring_head = (g.ring_head + 1u) % FR_RING_BLOCKS;
    g.ring_count--;
    g.blocks_sent++;
    g.tx_block = true;
  } else {
    return false;
  }
  size_t len = encode_payload();
  if (len == 0) {
    g.messages_dropped++;
    return false;
  }
  g.tx_len = (uint32_t)fr_frame_encode(payload, len, g.tx_frame);
  g.tx_sent = 0;
  return true;
}

/* Moves output to the link: control frames first, a stream frame only when no
 * control frame waits, never one frame inside another. */
static void pump_output(bool allow_stream) {
  for (int guard = 0; guard < 64; guard++) {
    if (g.tx == TX_NONE) {
      if (g.ctrl_len > g.ctrl_sent) {
        g.tx = TX_CTRL;
      } else if (allow_stream && next_stream_frame()) {
        g.tx = TX_STREAM;
      } else {
        return;
      }
    }
    if (g.tx == TX_CTRL) {
      size_t n = fr_hal_link_write(g.ctrl + g.ctrl_sent, g.ctrl_len - g.ctrl_sent);
      g.ctrl_sent += (uint32_t)n;
      if (g.ctrl_sent == g.ctrl_len) {
        g.ctrl_len = g.ctrl_sent = 0;
        g.tx = TX_NONE;
      } else {
        /* keep the queue compact so new replies always find their room */
        if (g.ctrl_sent > 0) {
          memmove(g.ctrl, g.ctrl + g.ctrl_sent, g.ctrl_len - g.ctrl_sent);
          g.ctrl_len -= g.ctrl_sent;
          g.ctrl_sent = 0;
        }
        return; /* link busy; the rest of this control data stays first in line */
      }
    } else {
      size_t n = fr_hal_link_write(g.tx_frame + g.tx_sent, g.tx_len - g.tx_sent);
      g.tx_sent += (uint32_t)n;
      if (g.tx_sent < g.tx_len) return;
      g.tx = TX_NONE;
    }
  }
}

/* ---------------------------------------------------------- calibration NV */

static bool nv_load(fiberrig_v1_CalibrationTable *table, bool *present, const char **why) {
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

static void load_calibration(void) {
  const char *why = "";
  bool present = false;
  bool ok = nv_load(&g.calibration.table, &present, &why);
  g.nv_failed = !ok && strcmp(why, "flash read failed") == 0;
  g.nv_has_calibration = present;
  g.nv_intact = ok || g.nv_failed;
  if (!ok) memset(&g.calibration.table, 0, sizeof g.calibration.table);
}

/* ------------------------------------------------------------------- run */

static void drive_leds(const double *peaks_config_order) {
  float board_ma[FR_MAX_LEDS] = {0};
  if (g.running && g.have_config) {
    for (uint32_t k = 0; k < g.config.n_leds; k++) board_ma[g.config.leds[k].board_index] = (float)peaks_config_order[k];
  }
  fr_hal_leds(board_ma, g.board->n_leds);
}

static void stage_reset(fr_block *b, uint32_t source, uint64_t first) {
  b->source = source;
  b->config_id = g.config_id;
  b->first = first;
  b->count = 0;
  if (source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR) {
    b->n_channels = g.config.n_detectors;
    for (uint32_t i = 0; i < b->n_channels; i++) b->channel_ids[i] = g.config.detector_ids[i];
    b->format = fiberrig_v1_SampleFormat_SAMPLE_FORMAT_UINT16_LE;
  } else {
    b->n_channels = g.config.n_aux;
    for (uint32_t i = 0; i < b->n_channels; i++) b->channel_ids[i] = g.config.aux_ids[i];
    b->format = fiberrig_v1_SampleFormat_SAMPLE_FORMAT_INT16_LE;
  }
}

/* Blocks the device holds for the host: the ring, and a block framed for the link of which no byte has
 * left yet (a stalled link); buffer_blocks bounds them all, as the simulator's queue does. */
static uint32_t blocks_held(void) {
  return g.ring_count + (g.tx == TX_STREAM && g.tx_block && g.tx_sent == 0 ? 1u : 0u);
}

/* The ring buffer: a full ring drops the new block and counts it (device.ts admitBlock). */
static void admit(fr_block *b) {
  if (b->count == 0) return;
  if (blocks_held() < g.board->buffer_blocks && g.ring_count < FR_RING_BLOCKS) {
    fr_block *slot = &ring[(g.ring_head + g.ring_count) % FR_RING_BLOCKS];
    size_t head = offsetof(fr_block, samples);
    memcpy(slot, b, head + (size_t)b->count * b->n_channels * sizeof b->samples[0]);
    g.ring_count++;
    g.blocks_admitted++;
    g.overrun_logged = false;
    return;
  }
  g.blocks_dropped++;
  if (b->source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR) g.samples_dropped += b->count;
  if (!g.overrun_logged) {
    char text[96], num[24];
    snprintf(text, sizeof text, "ring buffer overrun at %s sample %s",
             b->source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR ? "detector" : "aux", u64_text(b->first, num));
    log_message(fiberrig_v1_LogLevel_LOG_LEVEL_WARN, text);
    g.overrun_logged = true;
  }
}

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The front end lost detector sample n: the block ends before it and the
 * next one starts after it (and ends on the usual block boundary), so the host
 * sees a gap of exactly the lost samples; counted with the dropped samples. */
static void frontend_lost(uint64_t n) {
  admit(&det_stage);
  stage_reset(&det_stage, fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR, n + 1u);
  g.samples_dropped++;
  if (!g.loss_logged) {
    char text[96], num[24];
    snprintf(text, sizeof text, "front end lost detector sample %s (counted in samples_dropped)", u64_text(n, num));
    log_message(fiberrig_v1_LogLevel_LOG_LEVEL_ERROR, text);
    g.loss_logged = true;
  }
}

/* Takes detector sample n = g.next_sample (and the aux sample that goes with it). */
static void take_sample(void) {
  const fr_norm_config *c = &g.config;
  uint64_t n = g.next_sample;
  bool changed = false;
  while (g.n_changes > 0 && g.changes[0].at <= n) {
    memcpy(g.peaks, g.changes[0].peaks, sizeof g.peaks);
    memmove(&g.changes[0], &g.changes[1], (g.n_changes - 1u) * sizeof g.changes[0]);
    g.n_changes--;
    changed = true;
  }
  if (changed) drive_leds(g.peaks);
  float cfg_ma[FR_MAX_LEDS];
  float board_ma[FR_MAX_LEDS] = {0};
  fr_schedule_next(&g.schedule, g.peaks, cfg_ma);
  for (uint32_t k = 0; k < c->n_leds; k++) board_ma[c->leds[k].board_index] = cfg_ma[k];
  int32_t codes[FR_MAX_DETECTORS] = {0};
  fr_block *d = &det_stage;
  if (fr_hal_detectors(n, board_ma, codes)) {
    uint32_t nc = c->n_detectors;
    for (uint32_t ch = 0; ch < nc; ch++) {
      const fr_detector_def *def = &g.board->detectors[c->detector_board_index[ch]];
      int32_t max = (int32_t)((1u << def->adc_bits) - 1u);
      d->samples[d->count * nc + ch] = (uint16_t)clamp(codes[c->detector_board_index[ch]], 0, max);
    }
    d->count++;
  } else {
    frontend_lost(n); /* the aux input is a front end of its own: it goes on below */
  }
  bool aux_done = false;
  if (c->n_aux > 0 && n % c->aux_divider == 0) {
    int32_t acodes[FR_MAX_AUX] = {0};
    /* on the HAL clock, not uptime: what the input measures goes on through a Reset (as the simulator's world time does) */
    fr_hal_aux(n / c->aux_divider, g.boot_ns + g.run_start_ns + sample_time_ns(n, c->sample_rate_hz), acodes);
    fr_block *a = &aux_stage;
    uint32_t na = c->n_aux;
    for (uint32_t ch = 0; ch < na; ch++) {
      const fr_aux_def *def = &g.board->aux[c->aux_board_index[ch]];
      int32_t half = (int32_t)(1u << (def->adc_bits - 1u));
      a->samples[a->count * na + ch] = (uint16_t)(int16_t)clamp(acodes[c->aux_board_index[ch]], -half, half - 1);
    }
    a->count++;
    g.next_aux++;
    aux_done = a->count == c->block_samples;
  }
  g.next_sample++;
  if (d->count > 0 && g.next_sample % c->block_samples == 0) { /* blocks end on multiples of block_samples */
    admit(d);
    stage_reset(d, fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR, g.next_sample);
  }
  if (aux_done) {
    admit(&aux_stage);
    stage_reset(&aux_stage, fiberrig_v1_SampleSource_SAMPLE_SOURCE_AUX, g.next_aux);
  }
}

static void take_samples_until(uint64_t t_ns) {
  if (!g.running) return;
  uint64_t due = samples_taken(t_ns);
  uint64_t ready = fr_hal_detectors_ready();
  uint64_t target = due < ready ? due : ready;
  while (g.next_sample < target) take_sample();
  if (due > g.next_sample + g.config.sample_rate_hz && !g.stall_logged) {
    char text[96], num[24];
    snprintf(text, sizeof text, "front end stalled: %s samples behind the clock", u64_text(due - g.next_sample, num));
    log_message(fiberrig_v1_LogLevel_LOG_LEVEL_ERROR, text);
    g.stall_logged = true;
  }
}

/* Digital edges: out as DigitalEvents once the sample they fall in is taken
 * (never ahead of the data they belong to). */
static void forward_edges(void) {
  if (!g.running) return;
  uint32_t lost = 0;
  uint32_t room = (uint32_t)(sizeof g.edge_wait / sizeof g.edge_wait[0]) - g.n_edge_wait;
  if (room > 0) g.n_edge_wait += fr_hal_edges(&g.edge_wait[g.n_edge_wait], room, &lost);
  g.edges_lost += lost;
  uint32_t kept = 0;
  for (uint32_t i = 0; i < g.n_edge_wait; i++) {
    const fr_hal_edge *e = &g.edge_wait[i];
    if (e->sample_index >= g.next_sample) {
      g.edge_wait[kept++] = *e;
      continue;
    }
    fr_event ev = {.kind = EV_DIGITAL, .a = e->line, .config_id = g.config_id, .index = e->sample_index,
                   .ticks = e->subsample_ticks, .rising = e->rising};
    if (!push_event(&ev)) g.edges_lost++;
  }
  g.n_edge_wait = kept;
  if (g.edges_lost > 0 && !g.edges_logged) {
    char text[96];
    snprintf(text, sizeof text, "%lu digital edges lost (too many too fast)", (unsigned long)g.edges_lost);
    log_message(fiberrig_v1_LogLevel_LOG_LEVEL_WARN, text);
    g.edges_logged = true;
  }
}

/* Peaks in force at sample n (changes scheduled at or before n applied). */
static const double *peaks_at(uint64_t n) {
  const double *p = g.peaks;
  for (uint32_t i = 0; i < g.n_changes; i++) {
    if (g.changes[i].at <= n) p = g.changes[i].peaks;
  }
  return p;
}

/* Schedules new peaks from sample `at` (not before the last scheduled change);
 * on_block: `at` is a block boundary and the change should land on one. */
static uint64_t schedule_change(uint64_t at, const double *peaks, bool on_block) {
  if (g.n_changes > 0 && g.changes[g.n_changes - 1u].at > at) at = g.changes[g.n_changes - 1u].at;
  at = fr_hal_drive(&g.config, peaks, at, on_block); /* a real board may only switch later, never earlier */
  if (g.n_changes > 0 && g.changes[g.n_changes - 1u].at == at) {
    memcpy(g.changes[g.n_changes - 1u].peaks, peaks, sizeof g.changes[0].peaks);
    return at;
  }
  if (g.n_changes == FR_MAX_CHANGES) {
    /* cannot happen (one change per block boundary at most); merge into the last */
    memcpy(g.changes[g.n_changes - 1u].peaks, peaks, sizeof g.changes[0].peaks);
    return g.changes[g.n_changes - 1u].at;
  }
  g.changes[g.n_changes].at = at;
  memcpy(g.changes[g.n_changes].peaks, peaks, sizeof g.changes[0].peaks);
  g.n_changes++;
  return at;
}

static void emit_led_event(uint32_t k, double current_ma, uint64_t at) {
  const fr_norm_led *led = &g.config.leds[k];
  double power = 0;
  if (current_ma != 0) {
    power = g.commanded_has_uw[k] ? g.commanded_uw[k] : fr_cal_power_for_current(&g.calibration, led->channel, current_ma);
  }
  fr_event e = {.kind = EV_LED, .a = led->channel, .config_id = g.config_id, .current_ma = (float)current_ma,
                .power_uw = (float)power, .index = at};
  push_event(&e);
}

/* The heartbeat watchdog: LEDs dark from the first sample at or after the deadline. */
static void trip_watchdog(uint64_t deadline_ns) {
  const fr_norm_config *c = &g.config;
  uint64_t rel = deadline_ns > g.run_start_ns ? deadline_ns - g.run_start_ns : 0;
  uint64_t at = samples_in_ceil(rel, c->sample_rate_hz);
  if (at < g.next_sample) at = g.next_sample;
  double zeros[FR_MAX_LEDS] = {0};
  at = schedule_change(at, zeros, false);
  g.tripped = true;
  g.ever_tripped = true;
  for (uint32_t k = 0; k < c->n_leds; k++) emit_led_event(k, 0, at);
  char text[96], num[24];
  snprintf(text, sizeof text, "heartbeat timeout (%lu ms): LEDs dark from sample %s", (unsigned long)c->heartbeat_timeout_ms,
           u64_text(at, num));
  log_message(fiberrig_v1_LogLevel_LOG_LEVEL_WARN, text);
}

static void check_watchdog(uint64_t t_ns) {
  if (!g.running || g.tripped) return;
  uint64_t timeout = (uint64_t)g.config.heartbeat_timeout_ms * 1000000u;
  if (t_ns > g.last_hb_ns + timeout) trip_watchdog(g.last_hb_ns + timeout);
}

/* ---------------------------------------------------------------- status */

static void fill_status(fiberrig_v1_Status *s, uint64_t t_ns) {
  uint64_t taken = samples_taken(t_ns);
  s->sample_index = g.running ? taken : 0;
  s->device_time_us = t_ns / 1000u;
  s->running = g.running;
  s->config_id = g.config_id;
  s->buffer_fill = (float)blocks_held() / (float)g.board->buffer_blocks;
  s->blocks_dropped = g.blocks_dropped;
  s->samples_dropped = g.samples_dropped;
  s->has_frames_rejected = true;
  s->frames_rejected.crc = g.decoder.counters.crc;
  s->frames_rejected.oversize = g.decoder.counters.oversize;
  s->frames_rejected.cobs = g.decoder.counters.cobs;
  s->frames_rejected.decode = g.decode_errors;
  double now_ma[FR_MAX_LEDS] = {0};
  if (g.running && g.have_config) {
    const double *p = peaks_at(taken);
    for (uint32_t k = 0; k < g.config.n_leds; k++) now_ma[g.config.leds[k].board_index] = p[k];
  }
  double sum = 0;
  s->leds_count = (pb_size_t)g.board->n_leds;
  for (uint32_t i = 0; i < g.board->n_leds; i++) {
    s->leds[i].channel = g.board->leds[i].id;
    s->leds[i].current_ma = (float)now_ma[i];
    s->leds[i].power_uw = (float)fr_cal_power_for_current(&g.calibration, g.board->leds[i].id, now_ma[i]);
    sum += now_ma[i];
  }
  s->temperature_c = (float)((double)g.board->ambient_temperature_c + 0.05 * sum);
  uint64_t age_ns = t_ns > g.last_hb_ns ? t_ns - g.last_hb_ns : 0;
  s->heartbeat_age_ms = (uint32_t)((age_ns + 500000u) / 1000000u);
  s->dark_reason = !g.running ? fiberrig_v1_DarkReason_DARK_REASON_STOPPED
                   : g.tripped ? fiberrig_v1_DarkReason_DARK_REASON_HEARTBEAT_TIMEOUT
                               : fiberrig_v1_DarkReason_DARK_REASON_NONE;
  s->resets = g.resets;
}

static uint64_t status_interval_ns(void) {
  uint32_t ms = g.have_config ? g.config.status_interval_ms : g.board->default_status_interval_ms;
  return (uint64_t)ms * 1000000u;
}

static void status_tick(uint64_t t_ns) {
  if (!g.status_armed || t_ns < g.next_status_ns) return;
  g.next_status_ns += status_interval_ns();
  if (g.next_status_ns <= t_ns) g.next_status_ns = t_ns + status_interval_ns();
  begin(0, fiberrig_v1_Envelope_status_tag);
  fill_status(&tx_msg.body.status, t_ns);
  ctrl_send();
}

/* -------------------------------------------------------------- commands */

static void fill_device_info(fiberrig_v1_DeviceInfo *info) {
  const fr_board *b = g.board;
  info->has_protocol = true;
  info->protocol.major = FR_PROTOCOL_MAJOR;
  info->protocol.minor = FR_PROTOCOL_MINOR;
  copy_str(info->firmware_name, sizeof info->firmware_name, b->firmware_name);
  copy_str(info->firmware_version, sizeof info->firmware_version, b->firmware_version);
  copy_str(info->build_id, sizeof info->build_id, b->build_id);
  copy_str(info->board_model, sizeof info->board_model, b->model);
  copy_str(info->serial_number, sizeof info->serial_number, b->serial_number);
  bool any = false;
  info->leds_count = (pb_size_t)b->n_leds;
  for (uint32_t i = 0; i < b->n_leds; i++) {
    fiberrig_v1_LedChannelInfo *l = &info->leds[i];
    l->id = b->leds[i].id;
    l->wavelength_nm = b->leds[i].wavelength_nm;
    l->max_current_continuous_ma = b->leds[i].max_current_continuous_ma;
    l->max_current_pulsed_ma = b->leds[i].max_current_pulsed_ma;
    l->driver = (fiberrig_v1_LedDriverKind)b->leds[i].driver;
    l->dac_bits = b->leds[i].dac_bits;
    l->calibrated = fr_cal_has(&g.calibration, b->leds[i].id);
    any = any || l->calibrated;
  }
  info->detectors_count = (pb_size_t)b->n_detectors;
  for (uint32_t i = 0; i < b->n_detectors; i++) {
    fiberrig_v1_DetectorInfo *d = &info->detectors[i];
    d->id = b->detectors[i].id;
    d->adc_bits = b->detectors[i].adc_bits;
    d->full_scale_v = b->detectors[i].full_scale_v;
    d->max_rate_hz = b->detectors[i].max_rate_hz;
    copy_str(d->label, sizeof d->label, b->detectors[i].label);
  }
  info->aux_inputs_count = (pb_size_t)b->n_aux;
  for (uint32_t i = 0; i < b->n_aux; i++) {
    fiberrig_v1_AuxInputInfo *a = &info->aux_inputs[i];
    a->id = b->aux[i].id;
    copy_str(a->label, sizeof a->label, b->aux[i].label);
    a->adc_bits = b->aux[i].adc_bits;
    a->full_scale_v = b->aux[i].full_scale_v;
    a->max_rate_hz = b->aux[i].max_rate_hz;
    /* the same double arithmetic as the simulator's auxElectrodeVoltsPerCode (3.3f widened first) */
    a->electrode_volts_per_code = (double)b->aux[i].full_scale_v / (double)(1ull << b->aux[i].adc_bits) / b->aux[i].gain_v_per_v;
  }
  info->digital_lines_count = (pb_size_t)b->n_digital;
  for (uint32_t i = 0; i < b->n_digital; i++) {
    info->digital_lines[i].id = b->digital[i].id;
    info->digital_lines[i].direction = b->digital[i].output ? fiberrig_v1_DigitalDirection_DIGITAL_DIRECTION_OUTPUT
                                                            : fiberrig_v1_DigitalDirection_DIGITAL_DIRECTION_INPUT;
    copy_str(info->digital_lines[i].label, sizeof info->digital_lines[i].label, b->digital[i].label);
  }
  info->modes_count = (pb_size_t)b->n_modes;
  for (uint32_t i = 0; i < b->n_modes; i++) info->modes[i] = (fiberrig_v1_ModulationMode)b->modes[i];
  info->max_frame_bytes = (uint32_t)FR_COBS_MAX(b->max_message_bytes + FR_CRC_BYTES);
  info->max_message_bytes = b->max_message_bytes;
  info->calibration_stored = any;
  info->max_sample_rate_hz = b->max_sample_rate_hz;
  info->timer_clock_hz = b->timer_clock_hz;
  info->max_block_samples = b->max_block_samples;
  info->buffer_blocks = b->buffer_blocks;
}

static void reply_device_info(uint32_t id) {
  begin(id, fiberrig_v1_Envelope_device_info_tag);
  fill_device_info(&tx_msg.body.device_info);
  ctrl_send();
}

static void on_hello(uint32_t id, const fiberrig_v1_Hello *hello) {
  if (!hello->has_protocol || hello->protocol.major != FR_PROTOCOL_MAJOR) {
    fr_issue issue;
    if (hello->has_protocol) {
      fr_issue_set(&issue, fiberrig_v1_ErrorCode_ERROR_CODE_VERSION_MISMATCH, "hello.protocol", "host speaks %lu.%lu, device speaks %u.%u",
                   (unsigned long)hello->protocol.major, (unsigned long)hello->protocol.minor, FR_PROTOCOL_MAJOR, FR_PROTOCOL_MINOR);
    } else {
      fr_issue_set(&issue, fiberrig_v1_ErrorCode_ERROR_CODE_VERSION_MISMATCH, "hello.protocol", "host speaks none, device speaks %u.%u",
                   FR_PROTOCOL_MAJOR, FR_PROTOCOL_MINOR);
    }
    send_error(id, &issue);
    return;
  }
  g.handshaken = true;
  if (!g.status_armed) {
    g.status_armed = true;
    g.next_status_ns = now_ns() + status_interval_ns();
  }
  reply_device_info(id);
}

static void on_configure(uint32_t id, const fiberrig_v1_Configure *configure) {
  if (g.running) {
    send_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_BUSY, "configure", "Stop before Configure");
    return;
  }
  static fr_norm_config candidate;
  fr_issue issue;
  if (!fr_validate_config(configure, g.board, &g.calibration, &candidate, &issue)) {
    send_error(id, &issue);
    return;
  }
  g.config = candidate;
  g.have_config = true;
  g.config_id = g.next_config_id++;
  for (uint32_t k = 0; k < FR_MAX_LEDS; k++) {
    g.commanded_ma[k] = k < g.config.n_leds ? g.config.leds[k].peak_ma : 0;
    g.commanded_has_uw[k] = k < g.config.n_leds && g.config.leds[k].has_power;
    g.commanded_uw[k] = k < g.config.n_leds ? g.config.leds[k].power_uw : 0;
  }
  uint64_t next = now_ns() + (uint64_t)g.config.status_interval_ms * 1000000u;
  if (g.status_armed && next < g.next_status_ns) g.next_status_ns = next;
  send_ack(id, 0);
}

static void on_start(uint32_t id) {
  if (g.running) {
    send_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_BUSY, "start", "already running");
    return;
  }
  if (!g.have_config) {
    send_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_NOT_CONFIGURED, "start", "Start needs an accepted Configure");
    return;
  }
  uint64_t t = now_ns();
  g.running = true;
  g.last_stop_index = 0;
  g.last_stop_us = 0;
  g.next_sample = 0;
  g.next_aux = 0;
  memcpy(g.peaks, g.commanded_ma, sizeof g.peaks);
  g.n_changes = 0;
  g.tripped = false;
  g.ever_tripped = false;
  g.last_hb_ns = t;
  g.blocks_dropped = 0;
  g.samples_dropped = 0;
  g.overrun_logged = false;
  g.loss_logged = false;
  g.stall_logged = false;
  g.edges_lost = 0;
  g.edges_logged = false;
  g.n_edge_wait = 0;
  fr_schedule_init(&g.schedule, &g.config, 0);
  stage_reset(&det_stage, fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR, 0);
  stage_reset(&aux_stage, fiberrig_v1_SampleSource_SAMPLE_SOURCE_AUX, 0);
  (void)fr_hal_drive(&g.config, g.peaks, 0, false); /* the waveform is in place before the clock starts */
  g.run_start_ns = fr_hal_sampling(&g.config) - g.boot_ns; /* sample 0 starts when the hardware says */
  drive_leds(g.peaks);
  send_ack_at(id, 0, g.run_start_ns / 1000u);
  /* the drive applied from sample 0 is part of the record: one LedEvent per configured LED */
  for (uint32_t k = 0; k < g.config.n_leds; k++) emit_led_event(k, g.peaks[k], 0);
}

static void stop_run(uint64_t t_ns, uint32_t id, bool ack) {
  take_samples_until(t_ns);
  forward_edges();
  uint64_t next = g.next_sample;
  g.last_stop_index = next;
  g.last_stop_us = (g.run_start_ns + sample_time_ns(next, g.config.sample_rate_hz)) / 1000u;
  admit(&det_stage); /* the partial last block(s) */
  admit(&aux_stage);
  det_stage.count = 0;
  aux_stage.count = 0;
  g.running = false;
  g.n_changes = 0;
  g.tripped = false;
  fr_hal_sampling(NULL);
  drive_leds(g.peaks);
  if (ack) {
    fr_event e = {.kind = EV_STOP_ACK, .a = id, .config_id = g.config_id, .index = next, .time_us = g.last_stop_us};
    push_event(&e);
  }
}

static void on_stop(uint32_t id) {
  if (!g.running) {
    send_ack_at(id, g.last_stop_index, g.last_stop_us); /* idempotent: a repeated Stop gets the same answer */
    return;
  }
  stop_run(now_ns(), id, true);
}

static void on_set_led(uint32_t id, const fiberrig_v1_SetLed *set_led) {
  fr_set_led_result r;
  fr_issue issue;
  if (!fr_validate_set_led(set_led, g.board, g.have_config ? &g.config : NULL, &g.calibration, &r, &issue)) {
    send_error(id, &issue);
    return;
  }
  g.commanded_ma[r.led_index] = r.current_ma;
  g.commanded_has_uw[r.led_index] = r.has_power;
  g.commanded_uw[r.led_index] = r.power_uw;
  if (!g.running) {
    send_ack(id, 0);
    return;
  }
  /* the change takes effect at the next block boundary */
  uint32_t b = g.config.block_samples;
  uint64_t in_block = det_stage.count;
  uint64_t at = in_block == 0 ? g.next_sample : g.next_sample - in_block + b;
  bool restore = g.tripped;
  double peaks[FR_MAX_LEDS];
  if (restore) {
    memcpy(peaks, g.commanded_ma, sizeof peaks);
  } else {
    memcpy(peaks, g.n_changes > 0 ? g.changes[g.n_changes - 1u].peaks : g.peaks, sizeof peaks);
  }
  peaks[r.led_index] = r.current_ma;
  at = schedule_change(at, peaks, true);
  if (restore) {
    g.tripped = false;
    g.last_hb_ns = now_ns(); /* re-arming proves the host is there: the watchdog restarts */
  }
  for (uint32_t k = 0; k < g.config.n_leds; k++) {
    if (!restore && k != r.led_index) continue;
    emit_led_event(k, peaks[k], at);
  }
  send_ack(id, at);
}

static void on_heartbeat(uint32_t id, const fiberrig_v1_Heartbeat *hb) {
  uint64_t t = now_ns();
  g.last_hb_ns = t;
  begin(id, fiberrig_v1_Envelope_heartbeat_ack_tag);
  tx_msg.body.heartbeat_ack.host_time_us = hb->host_time_us;
  tx_msg.body.heartbeat_ack.sample_index = samples_taken(t);
  tx_msg.body.heartbeat_ack.device_time_us = t / 1000u;
  tx_msg.body.heartbeat_ack.running = g.running;
  ctrl_send();
}

static void add_item(fiberrig_v1_SelfTestReport *r, const char *name, fiberrig_v1_SelfTestOutcome outcome, const char *detail,
                     double value, const char *unit) {
  if (r->items_count >= sizeof r->items / sizeof r->items[0]) return;
  fiberrig_v1_SelfTestItem *it = &r->items[r->items_count++];
  copy_str(it->name, sizeof it->name, name);
  it->outcome = outcome;
  copy_str(it->detail, sizeof it->detail, detail);
  it->value = value;
  copy_str(it->unit, sizeof it->unit, unit);
}

static void on_self_test(uint32_t id) {
  begin(id, fiberrig_v1_Envelope_self_test_report_tag);
  fiberrig_v1_SelfTestReport *r = &tx_msg.body.self_test_report;
  char text[64];
  uint32_t rejected = g.decoder.counters.crc + g.decoder.counters.oversize + g.decoder.counters.cobs + g.decode_errors;
  snprintf(text, sizeof text, "%s %s", g.board->firmware_name, g.board->firmware_version);
  add_item(r, "firmware", fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS, text, 0, "");
  add_item(r, "led_driver", fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_NOT_APPLICABLE, "synthetic driver: no current sense", 0, "");
  add_item(r, "adc", fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_NOT_APPLICABLE, "synthetic front end: no reference input",
           g.board->detectors[0].adc_bits, "bit");
  if (g.blocks_dropped > 0) {
    char num[24];
    snprintf(text, sizeof text, "%s blocks dropped this run", u64_text(g.blocks_dropped, num));
  } else {
    snprintf(text, sizeof text, "%lu blocks, none dropped", (unsigned long)g.board->buffer_blocks);
  }
  add_item(r, "buffer", g.blocks_dropped > 0 ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_WARN : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS,
           text, (double)g.blocks_dropped, "blocks");
  add_item(r, "calibration_crc",
           !g.nv_has_calibration ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_WARN
           : g.nv_intact         ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS
                                 : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_FAIL,
           !g.nv_has_calibration ? "no calibration stored: power_uw unavailable"
           : g.nv_intact         ? "stored table matches its CRC"
                                 : "stored table fails its CRC",
           0, "");
  snprintf(text, sizeof text, "resets %lu", (unsigned long)g.resets);
  add_item(r, "nv_storage", g.nv_failed ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_FAIL : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS,
           g.nv_failed ? "flash access fails" : text, g.resets, "");
  uint32_t hb_ms = g.have_config ? g.config.heartbeat_timeout_ms : g.board->default_heartbeat_timeout_ms;
  add_item(r, "watchdog", g.ever_tripped ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_WARN : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS,
           g.ever_tripped ? "heartbeat timeout tripped this run" : "heartbeat watchdog armed", hb_ms, "ms");
  if (rejected > 0) {
    snprintf(text, sizeof text, "%lu frames rejected", (unsigned long)rejected);
  } else {
    snprintf(text, sizeof text, "no frames rejected");
  }
  add_item(r, "link", rejected > 0 ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_WARN : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS,
           text, rejected, "frames");
  static fiberrig_v1_Status st;
  memset(&st, 0, sizeof st);
  fill_status(&st, now_ns());
  add_item(r, "temperature", fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS, "board sensor", st.temperature_c, "C");
  ctrl_send();
}

static void on_read_calibration(uint32_t id) {
  begin(id, fiberrig_v1_Envelope_calibration_table_tag);
  bool present = false;
  const char *why = "";
  if (!nv_load(&tx_msg.body.calibration_table, &present, &why)) {
    char text[96];
    snprintf(text, sizeof text, "calibration read failed: %s", why);
    send_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_STORAGE, "read_calibration", text);
    return;
  }
  ctrl_send();
}

static void on_write_calibration(uint32_t id, const fiberrig_v1_WriteCalibration *w) {
  if (g.running) {
    send_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_BUSY, "write_calibration", "Stop before writing calibration");
    return;
  }
  static const fiberrig_v1_CalibrationTable empty = fiberrig_v1_CalibrationTable_init_zero;
  const fiberrig_v1_CalibrationTable *table = w->has_table ? &w->table : &empty;
  fr_issue issue;
  if (!fr_validate_calibration(table, g.board, &issue)) {
    send_error(id, &issue);
    return;
  }
  if (!nv_store(table)) {
    send_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_STORAGE, "write_calibration", "calibration write failed: flash write failed");
    return;
  }
  g.calibration.table = *table;
  g.nv_has_calibration = true;
  g.nv_intact = true;
  g.nv_failed = false;
  send_ack(id, 0);
}

static const char *body_name(pb_size_t tag) {
  switch (tag) {
    case fiberrig_v1_Envelope_ack_tag: return "ack";
    case fiberrig_v1_Envelope_error_tag: return "error";
    case fiberrig_v1_Envelope_device_info_tag: return "device_info";
    case fiberrig_v1_Envelope_heartbeat_ack_tag: return "heartbeat_ack";
    case fiberrig_v1_Envelope_self_test_report_tag: return "self_test_report";
    case fiberrig_v1_Envelope_calibration_table_tag: return "calibration_table";
    case fiberrig_v1_Envelope_sample_block_tag: return "sample_block";
    case fiberrig_v1_Envelope_digital_event_tag: return "digital_event";
    case fiberrig_v1_Envelope_led_event_tag: return "led_event";
    case fiberrig_v1_Envelope_status_tag: return "status";
    case fiberrig_v1_Envelope_log_tag: return "log";
    default: return "";
  }
}

static bool is_command(pb_size_t tag) { return tag >= fiberrig_v1_Envelope_hello_tag && tag <= fiberrig_v1_Envelope_enter_bootloader_tag; }

static bool allowed_before_hello(pb_size_t tag) {
  return tag == fiberrig_v1_Envelope_hello_tag || tag == fiberrig_v1_Envelope_get_info_tag || tag == fiberrig_v1_Envelope_heartbeat_tag ||
         tag == fiberrig_v1_Envelope_reset_tag || tag == fiberrig_v1_Envelope_enter_bootloader_tag;
}

static void dispatch(const fiberrig_v1_Envelope *m) {
  uint32_t id = m->request_id;
  pb_size_t tag = m->which_body;
  if (!is_command(tag)) {
    char text[96];
    const char *name = body_name(tag);
    if (name[0]) {
      snprintf(text, sizeof text, "%s is not a command", name);
    } else {
      snprintf(text, sizeof text, "envelope has no body this device knows");
    }
    send_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_UNKNOWN_COMMAND, name, text);
    return;
  }
  if (!g.handshaken && !allowed_before_hello(tag)) {
    send_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_NOT_CONFIGURED, "hello", "send Hello first (device restarted or new session)");
    return;
  }
  switch (tag) {
    case fiberrig_v1_Envelope_hello_tag: on_hello(id, &m->body.hello); break;
    case fiberrig_v1_Envelope_get_info_tag: reply_device_info(id); break;
    case fiberrig_v1_Envelope_configure_tag: on_configure(id, &m->body.configure); break;
    case fiberrig_v1_Envelope_start_tag: on_start(id); break;
    case fiberrig_v1_Envelope_stop_tag: on_stop(id); break;
    case fiberrig_v1_Envelope_set_led_tag: on_set_led(id, &m->body.set_led); break;
    case fiberrig_v1_Envelope_heartbeat_tag: on_heartbeat(id, &m->body.heartbeat); break;
    case fiberrig_v1_Envelope_self_test_tag: on_self_test(id); break;
    case fiberrig_v1_Envelope_read_calibration_tag: on_read_calibration(id); break;
    case fiberrig_v1_Envelope_write_calibration_tag: on_write_calibration(id, &m->body.write_calibration); break;
    case fiberrig_v1_Envelope_reset_tag:
    case fiberrig_v1_Envelope_enter_bootloader_tag:
      send_ack(id, samples_taken(now_ns()));
      /* queued stream output is lost, as on a real reset */
      g.ring_count = 0;
      g.ev_count = 0;
      g.running = false;
      fr_hal_sampling(NULL);
      g.pending_action = tag == fiberrig_v1_Envelope_reset_tag ? FR_CORE_REBOOT : FR_CORE_BOOTLOADER;
      break;
    default: break;
  }
}

static void on_frame(size_t len) {
  pb_istream_t is = pb_istream_from_buffer(g.decoder.buf, len);
  if (!pb_decode(&is, fiberrig_v1_Envelope_fields, &rx_msg)) {
    /* why: a field beyond the nanopb bounds is answered naming it, with the
     * command's request id (firmware-sim/device/bounds.ts); anything else is
     * a FRAME_ERROR, with the request id if one was read */
    static fr_bounds_scan scan;
    fr_bounds_scan_envelope(g.decoder.buf, len, &rx_msg, &scan);
    if (scan.overflow) {
      send_issue(scan.request_id, fiberrig_v1_ErrorCode_ERROR_CODE_FIELD_TOO_LONG, scan.field, scan.message);
      return;
    }
    g.decode_errors++;
    send_issue(scan.request_id, fiberrig_v1_ErrorCode_ERROR_CODE_FRAME_ERROR, "", "frame CRC ok but not a fiberrig.v1 Envelope");
    return;
  }
  dispatch(&rx_msg);
}

static void read_input(void) {
  uint32_t budget = FR_RX_BYTES_PER_POLL;
  while (budget > 0 && g.pending_action == FR_CORE_RUN && ctrl_free() >= FR_CTRL_RESERVE) {
    if (g.rx_pos == g.rx_len) {
      g.rx_pos = 0;
      g.rx_len = (uint32_t)fr_hal_link_read(g.rx_chunk, sizeof g.rx_chunk);
      if (g.rx_len == 0) return;
    }
    while (g.rx_pos < g.rx_len && budget > 0) {
      budget--;
      long n = fr_frame_decoder_push(&g.decoder, g.rx_chunk[g.rx_pos++]);
      if (n >= 0) {
        if (!g.bootloader) on_frame((size_t)n);
        break; /* re-check room for the next reply */
      }
    }
  }
}

/* ------------------------------------------------------------------ API */

void fr_core_boot(const fr_board *board, const char *reason) {
  memset(&g, 0, sizeof g);
  g.board = board;
  g.boot_ns = fr_hal_time_ns();
  g.resets = fr_hal_resets();
  g.next_config_id = 1;
  fr_frame_decoder_init(&g.decoder, board->max_message_bytes);
  load_calibration();
  fr_hal_sampling(NULL);
  const float dark[FR_MAX_LEDS] = {0};
  fr_hal_leds(dark, board->n_leds);
  char text[96];
  snprintf(text, sizeof text, "%s: %s %s (%s) on %s", reason, board->firmware_name, board->firmware_version, board->build_id,
           board->model);
  log_message(fiberrig_v1_LogLevel_LOG_LEVEL_INFO, text);
}

fr_core_action fr_core_poll(void) {
  if (g.pending_action != FR_CORE_RUN) {
    pump_output(false);
    if (g.tx == TX_NONE && g.ctrl_len == 0) {
      fr_core_action a = g.pending_action;
      if (a == FR_CORE_BOOTLOADER) {
        g.bootloader = true;
        g.pending_action = FR_CORE_RUN;
      } else {
        g.pending_action = FR_CORE_RUN;
      }
      return a;
    }
    return FR_CORE_RUN;
  }
  uint64_t t = now_ns();
  if (!g.bootloader) {
    check_watchdog(t);
    take_samples_until(t);
    forward_edges();
    status_tick(t);
  }
  read_input();
  pump_output(g.pending_action == FR_CORE_RUN);
  return FR_CORE_RUN;
}

bool fr_core_busy(void) {
  return g.tx != TX_NONE || g.ctrl_len > 0 || g.rx_pos < g.rx_len || g.ring_count > 0 || g.ev_count > 0 ||
         g.pending_action != FR_CORE_RUN;
}
