/* ADC/DMA double-buffer hand-off: DMA fills a circular buffer of
 * conversions (channels interleaved, `oversampling` rounds per sample); its
 * half-transfer and transfer-complete interrupts hand each finished half to
 * fr_adcbuf_isr(), which averages every sample's rounds into oversampled codes
 * and queues them; the main loop takes them in order with fr_adcbuf_take().
 * A half that arrives out of turn (the ISR was late by a whole half) and a
 * full queue are counted, never silently papered over. Pure C, unit-tested on
 * the host. */
#ifndef FR_ADCBUF_H
#define FR_ADCBUF_H
#include <stdbool.h>
#include <stdint.h>

#define FR_ADCBUF_MAX_CH 2u
#define FR_ADCBUF_QUEUE 256u /* 25 ms at 10 kHz: how long the main loop may be away */

typedef struct {
  const volatile uint16_t *dma; /* 2 halves of half_len conversions */
  uint32_t half_len;
  uint32_t n_ch;
  uint32_t oversampling;
  uint32_t extra_bits; /* output bits beyond the ADC's 12: 64x oversampling -> 15-bit codes with 3 */
  int32_t queue[FR_ADCBUF_QUEUE][FR_ADCBUF_MAX_CH];
  uint64_t index[FR_ADCBUF_QUEUE]; /* each queued sample's index in the run */
  volatile uint32_t head, tail;    /* ISR advances head, main loop advances tail */
  uint32_t expect_half;
  volatile uint64_t samples; /* converted so far (lost ones included): the next sample's index */
  uint32_t lost_samples;   /* queue full or halves skipped */
  uint32_t half_slips;     /* halves delivered out of turn */
} fr_adcbuf;

/* half_len must be a non-zero multiple of n_ch * oversampling. */
bool fr_adcbuf_init(fr_adcbuf *b, const volatile uint16_t *dma, uint32_t half_len, uint32_t n_ch, uint32_t oversampling, uint32_t extra_bits);
/* From the DMA interrupt: half 0 (half transfer) or 1 (transfer complete) is ready. */
void fr_adcbuf_isr(fr_adcbuf *b, uint32_t half);
/* From the DMA interrupt when it was so late that both halves finished and
 * the DMA is writing into `writing` again: the expected half is handed over
 * unless it is the one being overwritten (then its samples count as lost),
 * and so is the other; indices stay on the sample grid. */
void fr_adcbuf_isr_late(fr_adcbuf *b, uint32_t writing);
typedef enum {
  FR_ADCBUF_OK = 0,      /* codes hold sample n */
  FR_ADCBUF_NOT_YET = 1, /* sample n is not converted yet */
  FR_ADCBUF_LOST = 2,    /* sample n was converted but lost (queue full, half out of turn) */
} fr_adcbuf_result;

/* Sample n's codes (n_ch of them); queued samples before n are discarded. */
fr_adcbuf_result fr_adcbuf_take(fr_adcbuf *b, uint64_t n, int32_t *codes);
uint32_t fr_adcbuf_pending(const fr_adcbuf *b);

#endif
