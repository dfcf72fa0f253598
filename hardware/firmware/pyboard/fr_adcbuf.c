#include "fr_adcbuf.h"

bool fr_adcbuf_init(fr_adcbuf *b, const volatile uint16_t *dma, uint32_t half_len, uint32_t n_ch, uint32_t oversampling, uint32_t extra_bits) {
  if (n_ch == 0 || n_ch > FR_ADCBUF_MAX_CH || oversampling == 0 || half_len == 0 || half_len % (n_ch * oversampling) != 0 || extra_bits > 8u) return false;
  *b = (fr_adcbuf){0};
  b->dma = dma;
  b->half_len = half_len;
  b->n_ch = n_ch;
  b->oversampling = oversampling;
  b->extra_bits = extra_bits;
  return true;
}

/* A half that was never handed over: its samples are lost (counted), indices move on. */
static void lose_half(fr_adcbuf *b) {
  uint32_t per_half = b->half_len / (b->n_ch * b->oversampling);
  b->half_slips++;
  b->lost_samples += per_half;
  b->samples += per_half;
  b->expect_half ^= 1u;
}

void fr_adcbuf_isr(fr_adcbuf *b, uint32_t half) {
  if (half != b->expect_half) lose_half(b); /* the other half was never handed over */
  uint32_t per_half = b->half_len / (b->n_ch * b->oversampling);
  b->expect_half = (half + 1u) & 1u;
  const volatile uint16_t *src = b->dma + (half & 1u) * b->half_len;
  for (uint32_t s = 0; s < per_half; s++) {
    uint64_t n = b->samples++;
    if (b->head - b->tail >= FR_ADCBUF_QUEUE) {
      b->lost_samples++;
      continue;
    }
    b->index[b->head % FR_ADCBUF_QUEUE] = n;
    int32_t *out = b->queue[b->head % FR_ADCBUF_QUEUE];
    const volatile uint16_t *base = src + s * b->n_ch * b->oversampling;
    for (uint32_t ch = 0; ch < b->n_ch; ch++) {
      uint32_t sum = 0;
      for (uint32_t r = 0; r < b->oversampling; r++) sum += base[r * b->n_ch + ch] & 0x0FFFu;
      /* mean with extra_bits of resolution, rounded */
      uint64_t scaled = ((uint64_t)sum << b->extra_bits);
      out[ch] = (int32_t)((scaled + b->oversampling / 2u) / b->oversampling);
    }
    b->head++;
  }
}

void fr_adcbuf_isr_late(fr_adcbuf *b, uint32_t writing) {
  for (int k = 0; k < 2; k++) {
    if (b->expect_half == (writing & 1u)) lose_half(b); /* the DMA is overwriting it */
    else fr_adcbuf_isr(b, b->expect_half);
  }
}

fr_adcbuf_result fr_adcbuf_take(fr_adcbuf *b, uint64_t n, int32_t *codes) {
  while (b->tail != b->head && b->index[b->tail % FR_ADCBUF_QUEUE] < n) b->tail++;
  if (b->tail != b->head && b->index[b->tail % FR_ADCBUF_QUEUE] == n) {
    const int32_t *q = b->queue[b->tail % FR_ADCBUF_QUEUE];
    for (uint32_t ch = 0; ch < b->n_ch; ch++) codes[ch] = q[ch];
    b->tail++;
    return FR_ADCBUF_OK;
  }
  /* the queue is empty or holds later samples: n was lost if it was converted */
  return n < b->samples ? FR_ADCBUF_LOST : FR_ADCBUF_NOT_YET;
}

uint32_t fr_adcbuf_pending(const fr_adcbuf *b) { return b->head - b->tail; }
