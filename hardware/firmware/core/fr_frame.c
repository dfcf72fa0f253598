#include "fr_frame.h"

static uint32_t crc_table[256];
static bool crc_ready;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256u; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    crc_table[i] = c;
  }
  crc_ready = true;
}

uint32_t fr_crc32c(const uint8_t *data, size_t len) {
  if (!crc_ready) crc_init();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++) c = crc_table[(c ^ data[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

/* A COBS encoder fed one byte at a time, so a frame (payload, then CRC) is
 * encoded as one stream without copying it together first. */
typedef struct {
  uint8_t *dst;
  size_t code_at;
  size_t out;
  uint8_t code;
  bool closed_full_block;
} cobs_writer;

static void cobs_begin(cobs_writer *w, uint8_t *dst) {
  *w = (cobs_writer){dst, 0, 1, 1, false};
}

static void cobs_put(cobs_writer *w, uint8_t byte) {
  w->closed_full_block = false;
  if (byte == 0) {
    w->dst[w->code_at] = w->code;
    w->code_at = w->out++;
    w->code = 1;
    return;
  }
  w->dst[w->out++] = byte;
  if (++w->code == 0xFF) {
    w->dst[w->code_at] = w->code;
    w->code_at = w->out++;
    w->code = 1;
    w->closed_full_block = true;
  }
}

/* Returns the encoded length. Canonical form: a stream ending with a full
 * 254-byte block needs no trailing empty block. */
static size_t cobs_end(cobs_writer *w) {
  if (w->closed_full_block) return w->out - 1;
  w->dst[w->code_at] = w->code;
  return w->out;
}

size_t fr_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst) {
  cobs_writer w;
  cobs_begin(&w, dst);
  for (size_t i = 0; i < len; i++) cobs_put(&w, src[i]);
  return cobs_end(&w);
}

long fr_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst) {
  size_t read = 0;
  size_t write = 0;
  while (read < len) {
    uint8_t code = src[read];
    if (code == 0) return -1;
    size_t block_end = read + code;
    if (block_end > len) return -1;
    read++;
    while (read < block_end) {
      uint8_t byte = src[read++];
      if (byte == 0) return -1;
      dst[write++] = byte;
    }
    if (code != 0xFF && read < len) dst[write++] = 0;
  }
  return (long)write;
}

size_t fr_frame_encode(const uint8_t *payload, size_t len, uint8_t *dst) {
  uint32_t crc = fr_crc32c(payload, len);
  cobs_writer w;
  cobs_begin(&w, dst);
  for (size_t i = 0; i < len; i++) cobs_put(&w, payload[i]);
  for (unsigned k = 0; k < FR_CRC_BYTES; k++) cobs_put(&w, (uint8_t)(crc >> (8u * k)));
  size_t out = cobs_end(&w);
  dst[out++] = 0;
  return out;
}

void fr_frame_decoder_init(fr_frame_decoder *d, size_t max_payload) {
  d->len = 0;
  d->discarding = false;
  d->max_frame = FR_COBS_MAX(max_payload + FR_CRC_BYTES);
  if (d->max_frame > sizeof d->buf) d->max_frame = sizeof d->buf;
  d->counters = (fr_frame_counters){0, 0, 0, 0};
}

long fr_frame_decoder_push(fr_frame_decoder *d, uint8_t byte) {
  if (byte != 0) {
    if (d->discarding) return -1;
    if (d->len >= d->max_frame) {
      d->discarding = true;
      d->len = 0;
      return -1;
    }
    d->buf[d->len++] = byte;
    return -1;
  }
  if (d->discarding) {
    d->discarding = false;
    d->counters.oversize++;
    return -1;
  }
  size_t n = d->len;
  d->len = 0;
  if (n == 0) return -1; /* back-to-back delimiters: an idle line, not an error */
  long decoded = fr_cobs_decode(d->buf, n, d->buf);
  if (decoded < (long)FR_CRC_BYTES) {
    d->counters.cobs++;
    return -1;
  }
  size_t payload = (size_t)decoded - FR_CRC_BYTES;
  const uint8_t *t = d->buf + payload;
  uint32_t expected = (uint32_t)t[0] | ((uint32_t)t[1] << 8) | ((uint32_t)t[2] << 16) | ((uint32_t)t[3] << 24);
  if (fr_crc32c(d->buf, payload) != expected) {
    d->counters.crc++;
    return -1;
  }
  d->counters.frames++;
  return (long)payload;
}
