/* Internal to the core: the link. Replies, Status and Log go out first (the
 * control queue, encoded frames); sample blocks, LedEvents, DigitalEvents and
 * Stop's Ack go out in order behind them (the stream: blocks in the ring,
 * events tagged with the number of blocks that must precede them). A frame is
 * never interleaved with another. Input is read only while the control queue
 * has room for the largest reply, so a flood of commands waits in the link
 * instead of overflowing the device; each decoded Envelope goes to
 * fr_command_dispatch (fr_command.h). */
#ifndef FR_LINK_H
#define FR_LINK_H
#include <stdbool.h>
#include <stdint.h>

#include "fiberrig.pb.h"
#include "fr_board.h"
#include "fr_validate.h"

/* A SampleBlock before it is encoded: samples as 16-bit codes, channel-interleaved. */
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

enum { FR_EV_LED = 1, FR_EV_STOP_ACK = 2, FR_EV_DIGITAL = 3 };
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

/* Empties every queue and the decoder (boot). */
void fr_link_init(uint32_t max_message_bytes);

/* The control queue: begin a message (cleared, with its request id and body
 * tag), fill the returned envelope, send it. Unsolicited messages (request id
 * 0) are dropped and counted when there is no room; replies always have room. */
fiberrig_v1_Envelope *fr_link_begin(uint32_t request_id, pb_size_t body);
void fr_link_send(void);
void fr_link_error(uint32_t request_id, const fr_issue *issue);
void fr_link_issue(uint32_t request_id, uint32_t code, const char *field, const char *message);
/* An Ack; device_time_us is the uptime of sample_index (Start, Stop), else 0. */
void fr_link_ack_at(uint32_t request_id, uint64_t sample_index, uint64_t device_time_us);
void fr_link_ack(uint32_t request_id, uint64_t sample_index);
void fr_link_log(fiberrig_v1_LogLevel level, const char *text);
/* A HeartbeatAck for a Heartbeat that arrived at uptime arrival_ns. Its
 * reply_queued_us is filled when it is queued: at once, unless a stream frame
 * is being written to the link, which it then waits for (it keeps its place
 * among the control replies). So on every target reply_queued_us is the time
 * the stream frame on its way held the reply back, up to when the HAL took
 * that frame's last byte; what the transport buffers after the HAL (a USB or
 * pty buffer, QEMU's serial backend) is not seen (protocol/README.md). */
void fr_link_heartbeat_ack(uint32_t request_id, const fiberrig_v1_HeartbeatAck *ack, uint64_t arrival_ns);

/* The stream. An event goes out once the blocks admitted before it have;
 * false (counted in messages_dropped) when the event ring is full. */
bool fr_link_push_event(const fr_event *e);
/* Blocks the device holds for the host: the ring, and a block framed for the
 * link of which no byte has left yet (a stalled link); the board's
 * buffer_blocks bounds them all, as the simulator's queue does. */
uint32_t fr_link_blocks_held(void);
/* Copies a block into the ring; false when the ring is full (the caller counts the drop). */
bool fr_link_put_block(const fr_block *b);
/* Drops the queued stream (a Reset: lost, as on a real reset). */
void fr_link_drop_stream(void);

/* Reads and handles commands (a budget per call). */
void fr_link_read(void);
/* Moves output to the link: control frames first, a stream frame only when
 * allowed and no control frame waits. */
void fr_link_pump(bool allow_stream);
/* No control frame waiting or being written and no frame half sent. */
bool fr_link_flushed(void);
/* Output waiting for the link or input waiting for room. */
bool fr_link_busy(void);

/* Frames the link rejected: decoder counters and CRC-good frames that were not an Envelope. */
typedef struct {
  uint32_t crc, oversize, cobs, decode;
} fr_link_rejects;
fr_link_rejects fr_link_rejected(void);

#endif
