/* The acquisition hardware of the pyboard target, whose timers, ADC, DAC tables and edge
 * capture are set up, started and stopped together on one sample grid (hal_pyboard.c describes the
 * target): the sample clock (TIM2), the ADC scans (TIM3, DMA2 stream 0, fr_adcbuf), the LED DAC tables
 * (DMA1 streams 5 and 6, fr_drive), digital input capture (TIM12) and the sync output (TIM4). */
#include <string.h>

#include "fr_adcbuf.h"
#include "fr_drive.h"
#include "fr_hal.h"
#include "hal_pyboard.h"
#include "stm32f405_periph.h"

#define ADC_DMA_LEN 4096u /* conversions in both halves */
#define EDGE_QUEUE 64u
#define MIN_PASS_MS 2u /* a DAC table pass lasts at least this: time to refill the idle buffer */
#define NO_PASS UINT64_MAX

static const fr_dac_scale DAC_SCALE = {6.26, 38.15, 4095u};

/* the run: sample grid (TIM5 ticks) and the ADC hand-off */
static bool sampling;
static uint64_t run_start_ticks; /* TIM5 tick of sample 0's start */
static uint32_t ticks_per_sample;
static volatile uint16_t adc_dma[ADC_DMA_LEN];
static fr_adcbuf adc;

/* LED tables: [buffer][DAC channel][entry]; the DMA reads one buffer while the other waits */
static uint16_t dac_buf[2][2][FR_DRIVE_MAX_SAMPLES];
static uint16_t dac_staged[2][FR_DRIVE_MAX_SAMPLES];  /* a change, until its pass comes */
static uint16_t dac_scratch[2][FR_DRIVE_MAX_SAMPLES]; /* built here, outside the interrupt */
static uint16_t dac_preload[2];
static uint32_t pass_len;
static volatile uint64_t pass_playing;  /* the pass the DMA reads now (pass p drives samples p * pass_len + 1 .. (p + 1) * pass_len) */
static volatile uint64_t staged_pass;   /* the pass dac_staged is for, or NO_PASS */
static volatile bool refresh_idle;      /* a change just landed: copy it into the other buffer too */
static volatile bool dac_failed;       /* a DAC DMA underrun stopped the tables: LEDs dark, run halted */

/* digital input edges: 32-bit TIM5 tick and line (level after the edge) */
typedef struct {
  uint32_t ticks;
  uint8_t line;
  bool rising;
} fr_edge;
static volatile fr_edge edges[EDGE_QUEUE];
static volatile uint32_t edge_head, edge_tail, edges_lost;
static uint32_t edge_lines; /* bit per configured input line */

/* ------------------------------------------------------------ interrupts */

void fr_dma2_stream0_irq(void);
void fr_dma1_stream5_irq(void);
void fr_tim6_dac_irq(void);
void fr_tim12_irq(void);

void fr_dma2_stream0_irq(void) {
  uint32_t isr = DMA_LISR(DMA2_BASE);
  DMA_LIFCR(DMA2_BASE) = isr & DMA_S0_ALL;
  bool ht = (isr & DMA_S0_HTIF) != 0, tc = (isr & DMA_S0_TCIF) != 0;
  if (ht && tc) {
    /* late by a whole half: NDTR counts down over both halves, so it says which one the DMA is in */
    fr_adcbuf_isr_late(&adc, DMA_SNDTR(DMA2_BASE, 0) > adc.half_len ? 0u : 1u);
  } else if (ht) {
    fr_adcbuf_isr(&adc, 0);
  } else if (tc) {
    fr_adcbuf_isr(&adc, 1);
  }
}

/* DAC1's DMA finished a pass and went on to the other buffer (DAC2's stream
 * runs in step on the same trigger): the buffer it left is read again two
 * passes on, so fill it for that pass now, with a staged change if it is for
 * that pass, else with what plays now when a change has just landed. A
 * staged change also takes the last entry of the buffer now playing (read a
 * whole pass from now: it drives the first sample of the staged pass). */
void fr_dma1_stream5_irq(void) {
  uint32_t isr = DMA_HISR(DMA1_BASE);
  DMA_HIFCR(DMA1_BASE) = isr & DMA_S5_ALL;
  if (!(isr & DMA_S5_TCIF)) return;
  pass_playing++;
  uint32_t reading = (DMA_SCR(DMA1_BASE, 5) & DMA_SCR_CT) ? 1u : 0u;
  uint32_t idle = reading ^ 1u;
  size_t bytes = pass_len * sizeof dac_buf[0][0][0];
  if (staged_pass == pass_playing + 1u) {
    memcpy(dac_buf[idle][0], dac_staged[0], bytes);
    memcpy(dac_buf[idle][1], dac_staged[1], bytes);
    dac_buf[reading][0][pass_len - 1u] = dac_staged[0][pass_len - 1u];
    dac_buf[reading][1][pass_len - 1u] = dac_staged[1][pass_len - 1u];
    staged_pass = NO_PASS;
    refresh_idle = true;
  } else if (refresh_idle) {
    memcpy(dac_buf[idle][0], dac_buf[reading][0], bytes);
    memcpy(dac_buf[idle][1], dac_buf[reading][1], bytes);
    refresh_idle = false;
  }
}

/* A DAC missed a DMA request (RM0090: the DAC then stops its DMA for good):
 * the tables no longer follow the schedule, so the LEDs go dark and the
 * sample clock stops. No further sample is delivered; the core reports the
 * front end stalled (an error Log) and the host sees the data end. */
void fr_tim6_dac_irq(void) {
  if (!(DAC_SR & (DAC_SR_DMAUDR(0) | DAC_SR_DMAUDR(1)))) return;
  DAC_SR = DAC_SR_DMAUDR(0) | DAC_SR_DMAUDR(1);
  TIM_CR1(TIM2_BASE) = 0;
  DAC_CR &= ~(DAC_CR_TEN(0) | DAC_CR_DMAEN(0) | DAC_CR_TEN(1) | DAC_CR_DMAEN(1));
  DAC_DHR12R1 = 0;
  DAC_DHR12R2 = 0;
  dac_failed = true;
}

/* An edge captured by TIM12 (16-bit, 84 MHz, like TIM5): date it on TIM5 by
 * how long ago TIM12 captured it (the interrupt runs well within TIM12's
 * 780 us wrap). */
static void edge(uint8_t line, uint32_t captured, uint32_t level_pin) {
  uint32_t now12 = TIM_CNT(TIM12_BASE);
  uint32_t now5 = TIM_CNT(TIM5_BASE);
  bool rising = (GPIO_IDR(GPIOB_BASE) & (1u << level_pin)) != 0;
  if (!(edge_lines & (1u << line))) return;
  if (edge_head - edge_tail >= EDGE_QUEUE) {
    edges_lost++;
    return;
  }
  volatile fr_edge *e = &edges[edge_head % EDGE_QUEUE];
  e->ticks = now5 - ((now12 - captured) & 0xFFFFu);
  e->line = line;
  e->rising = rising;
  edge_head++;
}

void fr_tim12_irq(void) {
  uint32_t sr = TIM_SR(TIM12_BASE);
  TIM_SR(TIM12_BASE) = ~(sr & (TIM_SR_CC1IF | TIM_SR_CC2IF | TIM_SR_CC1OF | TIM_SR_CC2OF));
  /* over-capture: an edge came before the last one was read; CCR holds the newer, the older is lost */
  if (sr & TIM_SR_CC1OF && edge_lines & 1u) edges_lost++;
  if (sr & TIM_SR_CC2OF && edge_lines & 2u) edges_lost++;
  if (sr & TIM_SR_CC1IF) edge(0, TIM_CCR1(TIM12_BASE), 14u);
  if (sr & TIM_SR_CC2IF) edge(1, TIM_CCR2(TIM12_BASE), 15u);
}

/* ----------------------------------------------------------------- setup */

static void timers_init(void) {
  RCC_APB1ENR |= RCC_APB1ENR_TIM2EN | RCC_APB1ENR_TIM3EN | RCC_APB1ENR_TIM4EN | RCC_APB1ENR_TIM12EN | RCC_APB1ENR_DACEN;
  RCC_APB2ENR |= RCC_APB2ENR_ADC1EN;
  /* TIM12: input capture on both edges of CH1 and CH2, free-running at 84 MHz */
  TIM_PSC(TIM12_BASE) = 0;
  TIM_ARR(TIM12_BASE) = 0xFFFFu;
  TIM_CCMR1(TIM12_BASE) = TIM_CCMR1_CC1S_TI1 | TIM_CCMR1_CC2S_TI2;
  TIM_CCER(TIM12_BASE) = TIM_CCER_CC1E | TIM_CCER_CC1_BOTH | TIM_CCER_CC2E | TIM_CCER_CC2_BOTH;
  TIM_DIER(TIM12_BASE) = TIM_DIER_CC1IE | TIM_DIER_CC2IE;
  TIM_CR1(TIM12_BASE) = TIM_CR1_CEN;
  nvic_enable(IRQ_TIM8_BRK_TIM12);
  /* TIM4 CH1: sync output, low until a run enables it */
  TIM_CCMR1(TIM4_BASE) = TIM_CCMR1_OC1M_PWM1;
  TIM_CCR1(TIM4_BASE) = 0;
  TIM_CCER(TIM4_BASE) = TIM_CCER_CC1E;
  nvic_enable(IRQ_DMA2_STREAM0);
  nvic_enable(IRQ_DMA1_STREAM5);
  /* edge capture and the DAC's underrun guard first; the data paths (ADC, DAC tables, links) after */
  NVIC_IPR(IRQ_DMA2_STREAM0) = 0x40u;
  NVIC_IPR(IRQ_DMA1_STREAM5) = 0x40u;
  NVIC_IPR(IRQ_OTG_FS) = 0x40u;
  NVIC_IPR(IRQ_USART6) = 0x40u;
}

static void dac_init(void) {
  DAC_CR = DAC_CR_TSEL_TIM2(0) | DAC_CR_TSEL_TIM2(1); /* TSEL may only change while a channel is off */
  DAC_CR |= DAC_CR_EN(0) | DAC_CR_EN(1);
  DAC_DHR12R1 = 0;
  DAC_DHR12R2 = 0;
  nvic_enable(IRQ_TIM6_DAC);
}

/* After the device clock (TIM5, hal_pyboard.c) runs. */
void pyb_acq_init(void) {
  timers_init();
  dac_init();
}

bool pyb_acq_idle(void) { return fr_adcbuf_pending(&adc) == 0; }

/* --------------------------------------------------------------- sampling */

static void sampling_stop(void) {
  ADC_CR2(ADC1_BASE) = 0; /* disarmed first: no stray scan while the timers are set up again */
  TIM_CR1(TIM2_BASE) = 0;
  TIM_CR1(TIM3_BASE) = 0;
  TIM_CNT(TIM3_BASE) = 0;
  TIM_CR1(TIM4_BASE) = 0;
  TIM_SMCR(TIM3_BASE) = 0;
  TIM_SMCR(TIM4_BASE) = 0;
  TIM_CCR1(TIM4_BASE) = 0; /* sync output low */
  TIM_CNT(TIM4_BASE) = 0;
  for (uint32_t st = 5; st <= 6; st++) {
    DMA_SCR(DMA1_BASE, st) = 0;
    while (DMA_SCR(DMA1_BASE, st) & DMA_SCR_EN) {
    }
  }
  DMA_SCR(DMA2_BASE, 0) = 0;
  while (DMA_SCR(DMA2_BASE, 0) & DMA_SCR_EN) {
  }
  DAC_CR &= ~(DAC_CR_TEN(0) | DAC_CR_DMAEN(0) | DAC_CR_TEN(1) | DAC_CR_DMAEN(1)); /* DC levels again (fr_hal_leds) */
  edge_lines = 0;
  sampling = false;
}

/* ADC1 scans IN14 and IN15 on each TIM3 TRGO; DMA2 stream 0 fills both halves of adc_dma. */
static void adc_start(uint32_t rate_hz, uint32_t os) {
  uint32_t per_sample = 2u * os;
  uint32_t samples_per_half = rate_hz / 1000u; /* about one half per ms */
  if (samples_per_half == 0) samples_per_half = 1;
  while (samples_per_half > 1u && 2u * samples_per_half * per_sample > ADC_DMA_LEN) samples_per_half--;
  uint32_t half = samples_per_half * per_sample;
  /* codes are always 15-bit (the mean x 8), so volts per code do not change with oversampling */
  (void)fr_adcbuf_init(&adc, adc_dma, half, 2u, os, 3u);
  ADC_CCR = ADC_CCR_ADCPRE_DIV4;
  ADC_SMPR1(ADC1_BASE) = (2u << 12) | (2u << 15); /* IN14, IN15: 28-cycle sampling */
  ADC_SQR1(ADC1_BASE) = 1u << 20;                   /* 2 conversions */
  ADC_SQR3(ADC1_BASE) = 14u | (15u << 5);
  ADC_CR1(ADC1_BASE) = ADC_CR1_SCAN;
  ADC_CR2(ADC1_BASE) = ADC_CR2_ADON | ADC_CR2_DMA | ADC_CR2_DDS | ADC_CR2_EXTSEL_TIM3_TRGO | ADC_CR2_EXTEN_RISING;
  DMA_LIFCR(DMA2_BASE) = DMA_S0_ALL;
  DMA_SPAR(DMA2_BASE, 0) = ADC1_BASE + 0x4Cu;
  DMA_SM0AR(DMA2_BASE, 0) = (uint32_t)(uintptr_t)adc_dma;
  DMA_SNDTR(DMA2_BASE, 0) = 2u * half;
  DMA_SCR(DMA2_BASE, 0) = DMA_SCR_CHSEL(0) | DMA_SCR_MSIZE_16 | DMA_SCR_PSIZE_16 | DMA_SCR_MINC | DMA_SCR_CIRC | DMA_SCR_HTIE |
                          DMA_SCR_TCIE | DMA_SCR_EN;
}

/* DAC channel ch plays buffers 0 and 1 in turn on TIM2's TRGO (DMA1 stream 5 + ch, channel 7). */
static void dac_start(void) {
  DAC_DHR12R1 = dac_preload[0]; /* TEN is off: the output takes sample 0's level now */
  DAC_DHR12R2 = dac_preload[1];
  DMA_HIFCR(DMA1_BASE) = DMA_S5_ALL | DMA_S6_ALL;
  for (uint32_t ch = 0; ch < 2u; ch++) {
    uint32_t st = 5u + ch;
    DMA_SPAR(DMA1_BASE, st) = ch == 0 ? DAC_DHR12R1_ADDR : DAC_DHR12R2_ADDR;
    DMA_SM0AR(DMA1_BASE, st) = (uint32_t)(uintptr_t)dac_buf[0][ch];
    DMA_SM1AR(DMA1_BASE, st) = (uint32_t)(uintptr_t)dac_buf[1][ch];
    DMA_SNDTR(DMA1_BASE, st) = pass_len;
    DMA_SCR(DMA1_BASE, st) = DMA_SCR_CHSEL(7) | DMA_SCR_MSIZE_16 | DMA_SCR_PSIZE_16 | DMA_SCR_MINC | DMA_SCR_DBM | DMA_SCR_DIR_M2P |
                             (ch == 0 ? DMA_SCR_TCIE : 0u) | DMA_SCR_EN;
  }
  /* TSEL (TIM2 TRGO) was set while the channels were off (dac_init): the first trigger (sample 0)
   * moves the preload to the output again, then the DMA refills DHR for sample 1 */
  DAC_SR = DAC_SR_DMAUDR(0) | DAC_SR_DMAUDR(1);
  DAC_CR |= DAC_CR_TEN(0) | DAC_CR_DMAEN(0) | DAC_CR_DMAUDRIE(0) | DAC_CR_TEN(1) | DAC_CR_DMAEN(1) | DAC_CR_DMAUDRIE(1);
}

uint64_t fr_hal_sampling(const fr_norm_config *config) {
  sampling_stop();
  if (!config) return 0;
  uint32_t fs = config->sample_rate_hz, os = config->oversampling;
  ticks_per_sample = TIMER_HZ / fs; /* exact: the validator only accepts rates that divide 84 MHz */
  uint32_t slot = ticks_per_sample / os;
  /* TIM3 (16-bit): os slots per sample, prescaled by a divisor of the slot when it exceeds 65536 ticks;
   * PWM mode 2 rises mid-slot and the ADC starts on that edge (after the LEDs settle). Set up (counter
   * at 0, output low) before the ADC is armed, so no stale edge starts a scan. */
  uint32_t prescale = 1;
  while (slot / prescale > 65536u || slot % prescale != 0) prescale++;
  uint32_t period = slot / prescale;
  TIM_PSC(TIM3_BASE) = prescale - 1u;
  TIM_ARR(TIM3_BASE) = period - 1u;
  TIM_CCR1(TIM3_BASE) = period / 2u;
  TIM_CCMR1(TIM3_BASE) = TIM_CCMR1_OC1M_PWM2;
  TIM_CR2(TIM3_BASE) = TIM_CR2_MMS_OC1REF;
  TIM_CNT(TIM3_BASE) = 0;
  TIM_EGR(TIM3_BASE) = TIM_EGR_UG; /* loads PSC (the counter was stopped: no TRGO edge, the ADC is not armed yet) */
  TIM_SR(TIM3_BASE) = 0;
  TIM_SMCR(TIM3_BASE) = TIM_SMCR_TS_ITR1 | TIM_SMCR_SMS_TRIGGER; /* starts on sample 0's TRGO */
  adc_start(fs, os);
  dac_failed = false;
  dac_start();
  /* TIM4: counts samples; CH1 high for the first pulse_samples of every period */
  if (config->sync_out) {
    TIM_PSC(TIM4_BASE) = 0;
    TIM_ARR(TIM4_BASE) = config->sync_period_samples - 1u;
    TIM_CNT(TIM4_BASE) = config->sync_period_samples - 1u; /* sample 0's TRGO wraps it to 0 */
    TIM_CCR1(TIM4_BASE) = config->sync_pulse_samples;
    TIM_SMCR(TIM4_BASE) = TIM_SMCR_TS_ITR1 | TIM_SMCR_SMS_EXT_CLOCK;
    TIM_CR1(TIM4_BASE) = TIM_CR1_CEN;
  }
  edge_lines = 0;
  for (uint32_t i = 0; i < config->n_digital_inputs; i++) edge_lines |= 1u << config->digital_input_ids[i];
  edge_tail = edge_head;
  edges_lost = 0;
  /* TIM2: the sample clock; CNT = ARR makes sample 0 start on the next tick */
  TIM_PSC(TIM2_BASE) = 0;
  TIM_ARR(TIM2_BASE) = ticks_per_sample - 1u;
  TIM_CNT(TIM2_BASE) = ticks_per_sample - 1u;
  TIM_CR2(TIM2_BASE) = TIM_CR2_MMS_UPDATE;
  irq_disable_all();
  uint64_t t = pyb_ticks_now(NULL);
  TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
  irq_enable_all();
  run_start_ticks = t + 1u;
  sampling = true;
  return pyb_ticks_ns(run_start_ticks);
}

/* ------------------------------------------------------------ front end */

uint64_t fr_hal_detectors_ready(void) {
  irq_disable_all(); /* a 64-bit count the ADC interrupt writes */
  uint64_t n = adc.samples;
  irq_enable_all();
  return n;
}

bool fr_hal_detectors(uint64_t n, const float *led_ma, int32_t *codes) {
  (void)led_ma; /* the LEDs are driven by the DAC tables; the ADC measures what they did */
  int32_t got[FR_ADCBUF_MAX_CH];
  irq_disable_all();
  fr_adcbuf_result r = fr_adcbuf_take(&adc, n, got);
  irq_enable_all();
  if (r != FR_ADCBUF_OK) return false; /* the core only asks for ready samples: NOT_YET cannot happen */
  for (uint32_t d = 0; d < fr_board_this.n_detectors && d < FR_ADCBUF_MAX_CH; d++) codes[d] = got[d];
  return true;
}

void fr_hal_aux(uint64_t k, uint64_t t_ns, int32_t *codes) {
  (void)k;
  (void)t_ns;
  (void)codes; /* the pyPhotometry board has no aux inputs */
}

/* ------------------------------------------------------------------ LEDs */

void fr_hal_leds(const float *peak_ma, uint32_t n) {
  if (sampling) return; /* in a run the tables drive the DACs */
  if (n > 0) DAC_DHR12R1 = fr_drive_code(&DAC_SCALE, peak_ma[0]);
  if (n > 1) DAC_DHR12R2 = fr_drive_code(&DAC_SCALE, peak_ma[1]);
}

uint64_t fr_hal_drive(const fr_norm_config *config, const double *peaks_ma, uint64_t from, bool on_block) {
  const uint32_t stride = FR_DRIVE_MAX_SAMPLES;
  if (!sampling) {
    /* before the run: both buffers and the preload, pass 0 first */
    uint32_t min_pass = config->sample_rate_hz * MIN_PASS_MS / 1000u;
    pass_len = fr_drive_pass_samples(config, min_pass ? min_pass : 1u, FR_DRIVE_MAX_SAMPLES);
    if (pass_len == 0) pass_len = 1; /* cannot happen: the validator checked the periods */
    fr_drive_fill(config, peaks_ma, &DAC_SCALE, 2, FR_DRIVE_LEAD, pass_len, dac_buf[0][0], stride);
    memcpy(dac_buf[1], dac_buf[0], sizeof dac_buf[0]);
    fr_drive_fill(config, peaks_ma, &DAC_SCALE, 2, 0, 1, dac_preload, 1);
    pass_playing = 0;
    staged_pass = NO_PASS;
    refresh_idle = false;
    return from;
  }
  fr_drive_fill(config, peaks_ma, &DAC_SCALE, 2, FR_DRIVE_LEAD, pass_len, dac_scratch[0], stride);
  for (;;) {
    irq_disable_all();
    uint64_t pass;
    uint64_t at = fr_drive_landing(from, pass_playing, pass_len, config->block_samples, on_block, &pass);
    if (dac_failed) { /* the tables stopped (fr_tim6_dac_irq): nothing plays any more */
      irq_enable_all();
      return at;
    }
    if (staged_pass == NO_PASS || staged_pass == pass) {
      /* a change for the same pass replaces the one staged (the core merged them too) */
      memcpy(dac_staged, dac_scratch, sizeof dac_staged);
      staged_pass = pass;
      irq_enable_all();
      return at;
    }
    irq_enable_all();
    /* an earlier change is still waiting for its pass (at most two passes): let it land first */
    pyb_watchdog_kick();
  }
}

/* --------------------------------------------------------- digital edges */

uint32_t fr_hal_edges(fr_hal_edge *out, uint32_t max, uint32_t *lost) {
  uint32_t n = 0;
  if (!sampling) return 0;
  irq_disable_all(); /* every queued edge was captured before `now` */
  uint32_t now32;
  uint64_t now = pyb_ticks_now(&now32);
  *lost += edges_lost;
  edges_lost = 0;
  while (n < max && edge_tail != edge_head) {
    fr_edge e = {edges[edge_tail % EDGE_QUEUE].ticks, edges[edge_tail % EDGE_QUEUE].line, edges[edge_tail % EDGE_QUEUE].rising};
    edge_tail++;
    uint64_t t = now - (uint32_t)(now32 - e.ticks);
    if (t < run_start_ticks) continue; /* before sample 0 */
    uint64_t since = t - run_start_ticks;
    out[n].line = e.line;
    out[n].rising = e.rising;
    out[n].sample_index = since / ticks_per_sample;
    out[n].subsample_ticks = (uint32_t)(since % ticks_per_sample);
    n++;
  }
  irq_enable_all();
  return n;
}
