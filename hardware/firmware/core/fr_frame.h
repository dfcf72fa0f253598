/* Framing, identical to protocol/src/frame.ts: payload || CRC-32C(payload)
 * as uint32 little-endian, COBS-encoded (canonical: no trailing empty block
 * after a full 254-byte run), then one 0x00 delimiter. */
#ifndef FR_FRAME_H
#define FR_FRAME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FR_MAX_MESSAGE_BYTES 4352u /* protocol/src/limits.ts MAX_MESSAGE_BYTES */
#define FR_CRC_BYTES 4u
#define FR_COBS_MAX(n) ((n) + ((n) + 253u) / 254u + 1u)
#define FR_MAX_FRAME_BYTES FR_COBS_MAX(FR_MAX_MESSAGE_BYTES + FR_CRC_BYTES) /* without the delimiter */

/* CRC-32C (Castagnoli, reflected, poly 0x82F63B78); crc32c("123456789") = 0xE3069283. */
uint32_t fr_crc32c(const uint8_t *data, size_t len);

/* COBS-encodes src into dst (room for FR_COBS_MAX(len)); returns the encoded length. */
size_t fr_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst);
/* Decodes src[0..len) into dst (dst may equal src); returns the length, or -1 if invalid. */
long fr_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst);

/* Encodes payload as a whole frame (delimiter included) into dst (room for
 * FR_COBS_MAX(len + 4) + 1). Returns the frame length. */
size_t fr_frame_encode(const uint8_t *payload, size_t len, uint8_t *dst);

typedef struct {
  uint32_t frames;
  uint32_t crc;      /* CRC mismatch */
  uint32_t oversize; /* longer than the largest frame */
  uint32_t cobs;     /* invalid COBS or too short */
} fr_frame_counters;

/* Streaming decoder: push bytes, get whole CRC-checked payloads. Never fails
 * on input; after an oversize frame it discards bytes up to the next delimiter. */
typedef struct {
  uint8_t buf[FR_MAX_FRAME_BYTES];
  size_t len;
  size_t max_frame;
  bool discarding;
  fr_frame_counters counters;
} fr_frame_decoder;

void fr_frame_decoder_init(fr_frame_decoder *d, size_t max_payload);
/* Pushes one byte. Returns the payload length (>= 0) when it completed a good
 * frame (the payload is at d->buf and valid until the next push), else -1. */
long fr_frame_decoder_push(fr_frame_decoder *d, uint8_t byte);

#endif
