/* The link glue between the framing (fr_frame.h), the messages (nanopb) and
 * the core: the control queue, the stream (block ring + event ring), the
 * transmit pump and the receive loop. See fr_link.h for the ordering rules. */
#include "fr_link.h"

#include <stddef.h>
#include <string.h>

#include "fr_bounds.h"
#include "fr_command.h"
#include "fr_frame.h"
#include "fr_hal.h"
#include "fr_session.h"
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
#define FR_RX_CHUNK 64u
#define FR_RX_BYTES_PER_POLL 1024u
/* room the control queue must have before a command is read: the largest reply */
#define FR_CTRL_RESERVE (FR_COBS_MAX(fiberrig_v1_CalibrationTable_size + 16u + FR_CRC_BYTES) + 1u)
/* the largest HeartbeatAck frame (Envelope tag, length, request id; delimiter included) */
#define FR_HB_FRAME_MAX (FR_COBS_MAX(fiberrig_v1_HeartbeatAck_size + 16u + FR_CRC_BYTES) + 1u)

typedef enum { TX_NONE = 0, TX_CTRL, TX_STREAM } tx_source;

static struct {
  /* ring buffer and stream */
  uint32_t ring_head;
  uint32_t ring_count;
  uint64_t blocks_admitted;
  uint64_t blocks_sent;
  fr_event events[FR_EVENTS];
  uint32_t ev_head;
  uint32_t ev_count;
  uint32_t messages_dropped;

  /* input */
  fr_frame_decoder decoder;
  uint32_t decode_errors;
  uint8_t rx_chunk[FR_RX_CHUNK];
  uint32_t rx_pos, rx_len;

  /* output */
  uint8_t ctrl[FR_CTRL_BYTES];
  uint32_t ctrl_len, ctrl_sent;
  uint8_t tx_frame[FR_MAX_FRAME_BYTES + 1u];
  uint32_t tx_len, tx_sent;
  tx_source tx;
  bool tx_block; /* the stream frame in tx_frame is a sample block */

  /* A HeartbeatAck held back by the stream frame being written when its
   * Heartbeat arrived: encoded once that frame has left, so that it can say
   * how long it waited (reply_queued_us), and put into the control queue
   * where it would have been (hb_offset: the bytes queued before it). */
  bool hb_pending;
  uint32_t hb_request_id;
  uint32_t hb_offset;
  uint64_t hb_arrival_ns;
  fiberrig_v1_HeartbeatAck hb_ack;
} l;

/* (named `ring`: the pyboard's linker script places it in CCM by its section name) */
static FR_RING_SECTION fr_block ring[FR_RING_BLOCKS];
static fiberrig_v1_Envelope rx_msg;
static fiberrig_v1_Envelope tx_msg;
static uint8_t payload[FR_MAX_MESSAGE_BYTES];

void fr_link_init(uint32_t max_message_bytes) {
  memset(&l, 0, sizeof l);
  fr_frame_decoder_init(&l.decoder, max_message_bytes);
}

/* ---------------------------------------------------------- control queue */

/* room left, less what a held-back HeartbeatAck will take */
static uint32_t ctrl_free(void) { return FR_CTRL_BYTES - l.ctrl_len - (l.hb_pending ? FR_HB_FRAME_MAX : 0u); }

/* Encodes tx_msg; returns its payload length or 0 when it does not encode. */
static size_t encode_payload(void) {
  pb_ostream_t os = pb_ostream_from_buffer(payload, sizeof payload);
  if (!pb_encode(&os, fiberrig_v1_Envelope_fields, &tx_msg)) return 0;
  return os.bytes_written;
}

/* Queues tx_msg on the control queue. Unsolicited messages (request id 0) are
 * dropped and counted when there is no room; replies always have room (input
 * is only read while the largest reply fits). */
void fr_link_send(void) {
  size_t len = encode_payload();
  if (len == 0) {
    l.messages_dropped++;
    return;
  }
  size_t need = FR_COBS_MAX(len + FR_CRC_BYTES) + 1u;
  if (need > ctrl_free()) {
    l.messages_dropped++;
    return;
  }
  l.ctrl_len += (uint32_t)fr_frame_encode(payload, len, l.ctrl + l.ctrl_len);
}

fiberrig_v1_Envelope *fr_link_begin(uint32_t request_id, pb_size_t body) {
  memset(&tx_msg, 0, sizeof tx_msg);
  tx_msg.request_id = request_id;
  tx_msg.which_body = body;
  return &tx_msg;
}

void fr_link_error(uint32_t request_id, const fr_issue *issue) {
  fr_link_begin(request_id, fiberrig_v1_Envelope_error_tag);
  tx_msg.body.error.code = (fiberrig_v1_ErrorCode)issue->code;
  fr_copy_str(tx_msg.body.error.message, sizeof tx_msg.body.error.message, issue->message);
  fr_copy_str(tx_msg.body.error.field, sizeof tx_msg.body.error.field, issue->field);
  fr_link_send();
}

void fr_link_issue(uint32_t request_id, uint32_t code, const char *field, const char *message) {
  fr_issue issue;
  fr_issue_set(&issue, code, field, "%s", message);
  fr_link_error(request_id, &issue);
}

void fr_link_ack_at(uint32_t request_id, uint64_t sample_index, uint64_t device_time_us) {
  fr_link_begin(request_id, fiberrig_v1_Envelope_ack_tag);
  tx_msg.body.ack.config_id = fr_session.config_id;
  tx_msg.body.ack.sample_index = sample_index;
  tx_msg.body.ack.device_time_us = device_time_us;
  fr_link_send();
}

void fr_link_ack(uint32_t request_id, uint64_t sample_index) { fr_link_ack_at(request_id, sample_index, 0); }

/* Encodes the held-back HeartbeatAck, waited until now, into the control queue at its place. */
static void release_heartbeat_ack(void) {
  if (!l.hb_pending) return;
  l.hb_pending = false;
  fiberrig_v1_Envelope *m = fr_link_begin(l.hb_request_id, fiberrig_v1_Envelope_heartbeat_ack_tag);
  m->body.heartbeat_ack = l.hb_ack;
  uint64_t waited_us = (fr_now_ns() - l.hb_arrival_ns) / 1000u;
  m->body.heartbeat_ack.reply_queued_us = waited_us > UINT32_MAX ? UINT32_MAX : (uint32_t)waited_us;
  size_t len = encode_payload();
  static uint8_t frame[FR_HB_FRAME_MAX];
  if (len == 0 || FR_COBS_MAX(len + FR_CRC_BYTES) + 1u > sizeof frame) { /* cannot happen: bounded fields */
    l.messages_dropped++;
    return;
  }
  size_t n = fr_frame_encode(payload, len, frame);
  uint32_t at = l.hb_offset < l.ctrl_len ? l.hb_offset : l.ctrl_len;
  memmove(l.ctrl + at + n, l.ctrl + at, l.ctrl_len - at);
  memcpy(l.ctrl + at, frame, n);
  l.ctrl_len += (uint32_t)n;
}

void fr_link_heartbeat_ack(uint32_t request_id, const fiberrig_v1_HeartbeatAck *ack, uint64_t arrival_ns) {
  release_heartbeat_ack(); /* an earlier one still held back goes first */
  l.hb_request_id = request_id;
  l.hb_ack = *ack;
  l.hb_arrival_ns = arrival_ns;
  l.hb_offset = l.ctrl_len;
  l.hb_pending = true;
  /* only a stream frame on its way holds a reply back: else it is queued now */
  if (!(l.tx == TX_STREAM && l.tx_sent < l.tx_len)) release_heartbeat_ack();
}

void fr_link_log(fiberrig_v1_LogLevel level, const char *text) {
  fr_link_begin(0, fiberrig_v1_Envelope_log_tag);
  tx_msg.body.log.level = level;
  fr_copy_str(tx_msg.body.log.message, sizeof tx_msg.body.log.message, text);
  tx_msg.body.log.device_time_us = fr_now_ns() / 1000u;
  fr_link_send();
}

/* ----------------------------------------------------------------- stream */

bool fr_link_push_event(const fr_event *e) {
  if (l.ev_count >= FR_EVENTS - (e->kind == FR_EV_STOP_ACK ? 0u : 1u)) {
    l.messages_dropped++;
    return false;
  }
  fr_event *slot = &l.events[(l.ev_head + l.ev_count) % FR_EVENTS];
  *slot = *e;
  slot->blocks_before = l.blocks_admitted;
  l.ev_count++;
  return true;
}

uint32_t fr_link_blocks_held(void) {
  return l.ring_count + (l.tx == TX_STREAM && l.tx_block && l.tx_sent == 0 ? 1u : 0u);
}

bool fr_link_put_block(const fr_block *b) {
  if (fr_link_blocks_held() >= fr_session.board->buffer_blocks || l.ring_count >= FR_RING_BLOCKS) return false;
  fr_block *slot = &ring[(l.ring_head + l.ring_count) % FR_RING_BLOCKS];
  size_t head = offsetof(fr_block, samples);
  memcpy(slot, b, head + (size_t)b->count * b->n_channels * sizeof b->samples[0]);
  l.ring_count++;
  l.blocks_admitted++;
  return true;
}

void fr_link_drop_stream(void) {
  l.ring_count = 0;
  l.ev_count = 0;
}

/* Encodes the next stream item (an event due now, else the oldest block) into tx_frame. */
static bool next_stream_frame(void) {
  l.tx_block = false;
  if (l.ev_count > 0 && l.events[l.ev_head].blocks_before <= l.blocks_sent) {
    const fr_event *e = &l.events[l.ev_head];
    if (e->kind == FR_EV_LED) {
      fr_link_begin(0, fiberrig_v1_Envelope_led_event_tag);
      tx_msg.body.led_event.channel = e->a;
      tx_msg.body.led_event.current_ma = e->current_ma;
      tx_msg.body.led_event.power_uw = e->power_uw;
      tx_msg.body.led_event.sample_index = e->index;
      tx_msg.body.led_event.config_id = e->config_id;
    } else if (e->kind == FR_EV_DIGITAL) {
      fr_link_begin(0, fiberrig_v1_Envelope_digital_event_tag);
      tx_msg.body.digital_event.line = e->a;
      tx_msg.body.digital_event.edge = e->rising ? fiberrig_v1_Edge_EDGE_RISING : fiberrig_v1_Edge_EDGE_FALLING;
      tx_msg.body.digital_event.sample_index = e->index;
      tx_msg.body.digital_event.subsample_ticks = e->ticks;
      tx_msg.body.digital_event.config_id = e->config_id;
    } else {
      fr_link_begin(e->a, fiberrig_v1_Envelope_ack_tag);
      tx_msg.body.ack.config_id = e->config_id;
      tx_msg.body.ack.sample_index = e->index;
      tx_msg.body.ack.device_time_us = e->time_us;
    }
    l.ev_head = (l.ev_head + 1u) % FR_EVENTS;
    l.ev_count--;
  } else if (l.ring_count > 0) {
    const fr_block *b = &ring[l.ring_head];
    fr_link_begin(0, fiberrig_v1_Envelope_sample_block_tag);
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
    l.ring_head = (l.ring_head + 1u) % FR_RING_BLOCKS;
    l.ring_count--;
    l.blocks_sent++;
    l.tx_block = true;
  } else {
    return false;
  }
  size_t len = encode_payload();
  if (len == 0) {
    l.messages_dropped++;
    return false;
  }
  l.tx_len = (uint32_t)fr_frame_encode(payload, len, l.tx_frame);
  l.tx_sent = 0;
  return true;
}

/* ------------------------------------------------------------- moving bytes */

void fr_link_pump(bool allow_stream) {
  for (int guard = 0; guard < 64; guard++) {
    if (l.tx == TX_NONE) {
      release_heartbeat_ack(); /* the stream frame that held it back has left */
      if (l.ctrl_len > l.ctrl_sent) {
        l.tx = TX_CTRL;
      } else if (allow_stream && next_stream_frame()) {
        l.tx = TX_STREAM;
      } else {
        return;
      }
    }
    if (l.tx == TX_CTRL) {
      size_t n = fr_hal_link_write(l.ctrl + l.ctrl_sent, l.ctrl_len - l.ctrl_sent);
      l.ctrl_sent += (uint32_t)n;
      if (l.ctrl_sent == l.ctrl_len) {
        l.ctrl_len = l.ctrl_sent = 0;
        l.tx = TX_NONE;
      } else {
        /* keep the queue compact so new replies always find their room */
        if (l.ctrl_sent > 0) {
          memmove(l.ctrl, l.ctrl + l.ctrl_sent, l.ctrl_len - l.ctrl_sent);
          l.ctrl_len -= l.ctrl_sent;
          l.ctrl_sent = 0;
        }
        return; /* link busy; the rest of this control data stays first in line */
      }
    } else {
      size_t n = fr_hal_link_write(l.tx_frame + l.tx_sent, l.tx_len - l.tx_sent);
      l.tx_sent += (uint32_t)n;
      if (l.tx_sent < l.tx_len) return;
      l.tx = TX_NONE;
    }
  }
}

static void on_frame(size_t len) {
  pb_istream_t is = pb_istream_from_buffer(l.decoder.buf, len);
  if (!pb_decode(&is, fiberrig_v1_Envelope_fields, &rx_msg)) {
    /* why: a field beyond the nanopb bounds is answered naming it, with the
     * command's request id (firmware-sim/device/bounds.ts); anything else is
     * a FRAME_ERROR, with the request id if one was read */
    static fr_bounds_scan scan;
    fr_bounds_scan_envelope(l.decoder.buf, len, &rx_msg, &scan);
    if (scan.overflow) {
      fr_link_issue(scan.request_id, fiberrig_v1_ErrorCode_ERROR_CODE_FIELD_TOO_LONG, scan.field, scan.message);
      return;
    }
    l.decode_errors++;
    fr_link_issue(scan.request_id, fiberrig_v1_ErrorCode_ERROR_CODE_FRAME_ERROR, "", "frame CRC ok but not a fiberrig.v1 Envelope");
    return;
  }
  fr_command_dispatch(&rx_msg);
}

void fr_link_read(void) {
  uint32_t budget = FR_RX_BYTES_PER_POLL;
  while (budget > 0 && fr_session.pending_action == FR_CORE_RUN && ctrl_free() >= FR_CTRL_RESERVE) {
    if (l.rx_pos == l.rx_len) {
      l.rx_pos = 0;
      l.rx_len = (uint32_t)fr_hal_link_read(l.rx_chunk, sizeof l.rx_chunk);
      if (l.rx_len == 0) return;
    }
    while (l.rx_pos < l.rx_len && budget > 0) {
      budget--;
      long n = fr_frame_decoder_push(&l.decoder, l.rx_chunk[l.rx_pos++]);
      if (n >= 0) {
        if (!fr_session.bootloader) on_frame((size_t)n);
        break; /* re-check room for the next reply */
      }
    }
  }
}

bool fr_link_flushed(void) { return l.tx == TX_NONE && l.ctrl_len == 0 && !l.hb_pending; }

bool fr_link_busy(void) {
  return l.tx != TX_NONE || l.ctrl_len > 0 || l.hb_pending || l.rx_pos < l.rx_len || l.ring_count > 0 || l.ev_count > 0;
}

fr_link_rejects fr_link_rejected(void) {
  fr_link_rejects r = {l.decoder.counters.crc, l.decoder.counters.oversize, l.decoder.counters.cobs, l.decode_errors};
  return r;
}
