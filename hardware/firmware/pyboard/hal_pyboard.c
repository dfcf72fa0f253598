/* The pyboard target: the firmware core on a pyboard v1.1 (STM32F405RG) with
 * the pyPhotometry acquisition board (hardware/boards/pyboard.json).
 *  - Clocks: 12 MHz crystal (HSE) -> PLL (M 12, N 336, P 2, Q 7) -> 168 MHz
 *    SYSCLK, 48 MHz for USB; APB1 42 MHz (timers 84 MHz), APB2 84 MHz;
 *    flash 5 wait states, voltage scale 1.
 *  - Device clock: TIM5 (32-bit, 84 MHz) extended to 64 bits.
 *  - Sample clock: TIM2 (84 MHz / fs, exact: the validator only accepts
 *    rates that divide 84 MHz). Its update (TRGO) starts each sample; it
 *    triggers the DACs, starts TIM3 and clocks TIM4, so everything runs on
 *    the sample grid of one crystal.
 *  - Detectors: TIM3 (84 MHz / (fs x oversampling)) in PWM mode 2 gives a
 *    TRGO edge in the middle of each of a sample's `oversampling` slots;
 *    each edge starts an ADC1 scan of IN14 (X11, PC4) and IN15 (X12, PC5).
 *    DMA2 stream 0 writes the scans into a circular double buffer whose
 *    halves fr_adcbuf turns into oversampled 15-bit codes with their sample
 *    index (pyboard/fr_adcbuf.c); the core takes them when they are ready.
 *  - LEDs: DAC1 (X5, PA4) and DAC2 (X6, PA5), by the board's published
 *    scaling (code = 6.26 + 38.15 x mA). In a run each DAC plays its table
 *    (pyboard/fr_drive.c: DC, TDM slots or the exact-phase lock-in sine, one
 *    entry per sample) by double-buffered DMA (DMA1 streams 5 and 6,
 *    channel 7) on TIM2's trigger; a change is written into the idle buffer
 *    and lands on the first sample of a later pass, which the core reports.
 *    Outside a run the DACs hold DC levels.
 *  - Digital inputs: TIM12 input capture, both edges, on Y7 (PB14) and Y8
 *    (PB15); the captured count dates each edge to the 84 MHz tick, which
 *    puts it on the sample grid (DigitalEvent.subsample_ticks).
 *  - Sync output: TIM4 channel 1 on X9 (PB6) counts samples (external clock
 *    = TIM2's TRGO): high for pulse_samples of every period_samples.
 *  - Link: the pyboard's own USB connector as a CDC ACM virtual COM port
 *    (OTG_FS on PA11/PA12, pyboard/fr_usbd.c + fr_cdc.c; /dev/ttyACM0 on
 *    Linux) while a host program has it open (DTR), else USART6 on Y1 (TX,
 *    PC6) / Y2 (RX, PC7) at 921600 Bd 8N1 for a USB-serial adapter; both are
 *    interrupt driven and read all the time.
 *  - Non-volatile record: flash sectors 10 and 11 through fr_calsector
 *    (append-only, verified; the sectors take turns, so the newest record
 *    survives a power cut in an erase).
 *  - Serial number: from the chip's 96-bit unique id unless the build names
 *    one (make pyboard SERIAL=PYB-0042).
 *  - Watchdog: IWDG, ~4 s (longer than a sector erase), refreshed by the main loop.
 *  - EnterBootloader: a system reset into the ROM's USB DFU bootloader. */
#include <stdio.h>
#include <string.h>

#include "fr_adcbuf.h"
#include "fr_calsector.h"
#include "fr_core.h"
#include "fr_drive.h"
#include "fr_hal.h"
#include "fr_usbd.h"
#include "stm32f405_periph.h"

#define TIMER_HZ 84000000u
#define RX_RING 1024u
#define TX_RING 2048u
#define ADC_DMA_LEN 4096u /* conversions in both halves */
#define EDGE_QUEUE 64u
#define MIN_PASS_MS 2u /* a DAC table pass lasts at least this: time to refill the idle buffer */
#define NO_PASS UINT64_MAX

void fr_enter_bootloader(void);
extern char fr_pyboard_serial[33]; /* pyboard/board_pyboard.c */

static const fr_dac_scale DAC_SCALE = {6.26, 38.15, 4095u};

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;
static volatile uint8_t tx_ring[TX_RING];
static volatile uint32_t tx_head, tx_tail;
static fr_usbd usb;
static uint32_t clock_last;
static uint64_t clock_ticks;
static uint32_t resets;

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

void fr_usart6_irq(void);
void fr_dma2_stream0_irq(void);
void fr_dma1_stream5_irq(void);
void fr_tim6_dac_irq(void);
void fr_tim12_irq(void);
void fr_otg_fs_irq(void);

void fr_otg_fs_irq(void) { fr_usbd_irq(&usb); }

void fr_usart6_irq(void) {
  uint32_t sr = USART_SR(USART6_BASE);
  if (sr & USART_SR_RXNE_ORE) {
    uint8_t byte = (uint8_t)USART_DR(USART6_BASE);
    if (rx_head - rx_tail < RX_RING) rx_ring[rx_head++ % RX_RING] = byte; /* else lost: the frame CRC catches it */
  }
  if ((sr & USART_SR_TXE) && (USART_CR1(USART6_BASE) & USART_CR1_TXEIE)) {
    if (tx_tail != tx_head) USART_DR(USART6_BASE) = tx_ring[tx_tail++ % TX_RING];
    else USART_CR1(USART6_BASE) &= ~USART_CR1_TXEIE;
  }
}

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

static void clocks_init(void) {
  RCC_APB1ENR |= RCC_APB1ENR_PWREN;
  PWR_CR |= PWR_CR_VOS;
  RCC_CR |= RCC_CR_HSEON;
  while (!(RCC_CR & RCC_CR_HSERDY)) {
  }
  /* 12 MHz / 12 = 1 MHz into the VCO, x 336 = 336 MHz, / 2 = 168 MHz, / 7 = 48 MHz (USB) */
  RCC_PLLCFGR = 12u | (336u << 6) | (0u << 16) | RCC_PLLCFGR_SRC_HSE | (7u << 24);
  RCC_CR |= RCC_CR_PLLON;
  while (!(RCC_CR & RCC_CR_PLLRDY)) {
  }
  FLASH_ACR = FLASH_ACR_LATENCY_5WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
  RCC_CFGR = RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2 | RCC_CFGR_SW_PLL;
  while ((RCC_CFGR & RCC_CFGR_SWS_MASK) != RCC_CFGR_SWS_PLL) {
  }
}

static void gpio_mode(uint32_t port, uint32_t pin, uint32_t mode, uint32_t af) {
  GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (mode << (2u * pin));
  if (mode == GPIO_MODE_AF) {
    uint32_t shift = 4u * (pin & 7u);
    GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << shift)) | (af << shift);
    GPIO_OSPEEDR(port) |= 2u << (2u * pin);
  }
}

static void gpio_init(void) {
  RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_GPIOBEN | RCC_AHB1ENR_GPIOCEN | RCC_AHB1ENR_DMA1EN | RCC_AHB1ENR_DMA2EN;
  gpio_mode(GPIOA_BASE, 4, GPIO_MODE_ANALOG, 0);  /* X5: DAC1, LED1 */
  gpio_mode(GPIOA_BASE, 5, GPIO_MODE_ANALOG, 0);  /* X6: DAC2, LED2 */
  gpio_mode(GPIOC_BASE, 4, GPIO_MODE_ANALOG, 0);  /* X11: ADC12_IN14, analog_1 */
  gpio_mode(GPIOC_BASE, 5, GPIO_MODE_ANALOG, 0);  /* X12: ADC12_IN15, analog_2 */
  gpio_mode(GPIOC_BASE, 6, GPIO_MODE_AF, 8);      /* Y1: USART6_TX */
  gpio_mode(GPIOC_BASE, 7, GPIO_MODE_AF, 8);      /* Y2: USART6_RX */
  GPIO_PUPDR(GPIOC_BASE) |= 1u << (2u * 7u);      /* RX idles high when no adapter is attached */
  gpio_mode(GPIOB_BASE, 14, GPIO_MODE_AF, 9);     /* Y7: TIM12_CH1, digital_1 */
  gpio_mode(GPIOB_BASE, 15, GPIO_MODE_AF, 9);     /* Y8: TIM12_CH2, digital_2 */
  gpio_mode(GPIOB_BASE, 6, GPIO_MODE_AF, 2);      /* X9: TIM4_CH1, sync_out */
}

static void usart_init(void) {
  RCC_APB2ENR |= RCC_APB2ENR_USART6EN;
  /* APB2 84 MHz, 16x oversampling: 84e6 / (16 x 921600) = 5.697 -> mantissa 5, fraction 11/16 */
  USART_BRR(USART6_BASE) = (5u << 4) | 11u;
  USART_CR1(USART6_BASE) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
  nvic_enable(IRQ_USART6);
}

static void timers_init(void) {
  RCC_APB1ENR |= RCC_APB1ENR_TIM2EN | RCC_APB1ENR_TIM3EN | RCC_APB1ENR_TIM4EN | RCC_APB1ENR_TIM5EN | RCC_APB1ENR_TIM12EN |
                 RCC_APB1ENR_DACEN;
  RCC_APB2ENR |= RCC_APB2ENR_ADC1EN;
  /* TIM5: free-running 32-bit device clock at 84 MHz */
  TIM_PSC(TIM5_BASE) = 0;
  TIM_ARR(TIM5_BASE) = 0xFFFFFFFFu;
  TIM_EGR(TIM5_BASE) = TIM_EGR_UG;
  TIM_CR1(TIM5_BASE) = TIM_CR1_CEN;
  clock_last = TIM_CNT(TIM5_BASE);
  clock_ticks = 0;
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

static void watchdog_init(void) {
  IWDG_KR = 0x5555u; /* unlock PR and RLR */
  IWDG_PR = 4u;      /* LSI / 64: ~500 Hz */
  IWDG_RLR = 2000u;  /* ~4 s */
  IWDG_KR = 0xCCCCu; /* start */
}

static void watchdog_kick(void) { IWDG_KR = 0xAAAAu; }

/* ------------------------------------------------------------------ clock */

/* TIM5 ticks since power on, 64-bit (main loop only: read far more often than every 51 s) */
static uint64_t ticks_now(void) {
  uint32_t cnt = TIM_CNT(TIM5_BASE);
  clock_ticks += (uint32_t)(cnt - clock_last);
  clock_last = cnt;
  return clock_ticks;
}

static uint64_t ticks_ns(uint64_t t) { return (t / 84u) * 1000u + ((t % 84u) * 1000u) / 84u; }

uint64_t fr_hal_time_ns(void) { return ticks_ns(ticks_now()); }

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
  uint64_t t = ticks_now();
  TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
  irq_enable_all();
  run_start_ticks = t + 1u;
  sampling = true;
  return ticks_ns(run_start_ticks);
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
    watchdog_kick();
  }
}

/* --------------------------------------------------------- digital edges */

uint32_t fr_hal_edges(fr_hal_edge *out, uint32_t max, uint32_t *lost) {
  uint32_t n = 0;
  if (!sampling) return 0;
  irq_disable_all(); /* every queued edge was captured before `now` */
  uint64_t now = ticks_now();
  uint32_t now32 = clock_last;
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

static void usb_init(void) {
  RCC_AHB2ENR |= RCC_AHB2ENR_OTGFSEN;
  gpio_mode(GPIOA_BASE, 11, GPIO_MODE_AF, 10); /* OTG_FS_DM */
  gpio_mode(GPIOA_BASE, 12, GPIO_MODE_AF, 10); /* OTG_FS_DP; PA9 (VBUS) stays an input */
  fr_usbd_init(&usb, (volatile uint32_t *)OTG_FS_BASE, fr_pyboard_serial);
  nvic_enable(IRQ_OTG_FS);
}

/* USB while a host program has the port open, else the USART. */
size_t fr_hal_link_read(uint8_t *buf, size_t max) {
  size_t n = fr_usbd_read(&usb, buf, max);
  if (n > 0) return n;
  while (n < max && rx_tail != rx_head) buf[n++] = rx_ring[rx_tail++ % RX_RING];
  return n;
}

size_t fr_hal_link_write(const uint8_t *buf, size_t len) {
  if (fr_usbd_connected(&usb)) return fr_usbd_write(&usb, buf, len);
  size_t n = 0;
  while (n < len && tx_head - tx_tail < TX_RING) tx_ring[tx_head++ % TX_RING] = buf[n++];
  if (n) USART_CR1(USART6_BASE) |= USART_CR1_TXEIE;
  return n;
}

/* ---------------------------------------------------- calibration flash */

static bool flash_wait(void) {
  while (FLASH_SR & FLASH_SR_BSY) {
  }
  bool ok = (FLASH_SR & FLASH_SR_ERRORS) == 0;
  FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
  return ok;
}

/* After an erase or a program the ART caches may still hold the old contents
 * of those lines (read before, e.g. by the blank check): reset them so the
 * read-back verify sees the flash itself. A cache is reset only while off. */
static void flash_caches_reset(void) {
  FLASH_ACR &= ~(FLASH_ACR_ICEN | FLASH_ACR_DCEN);
  FLASH_ACR |= FLASH_ACR_ICRST | FLASH_ACR_DCRST;
  FLASH_ACR &= ~(FLASH_ACR_ICRST | FLASH_ACR_DCRST);
  FLASH_ACR |= FLASH_ACR_ICEN | FLASH_ACR_DCEN;
}

static void flash_unlock(void) {
  if (FLASH_CR & FLASH_CR_LOCK) {
    FLASH_KEYR = FLASH_KEY1;
    FLASH_KEYR = FLASH_KEY2;
  }
}

/* the two calibration sectors (pyboard/linker.ld): number and address */
typedef struct {
  uint32_t number;
  uintptr_t base;
} calib_sector;
#define CALIB_SECTOR10 0x080C0000u
#define CALIB_SECTOR11 0x080E0000u
#define CALIB_SECTOR_BYTES (128u * 1024u)
static const calib_sector CALIB_SECTORS[FR_CAL_SECTORS] = {{10u, CALIB_SECTOR10}, {11u, CALIB_SECTOR11}};

static bool sector_erase(void *ctx) {
  const calib_sector *sec = ctx;
  watchdog_kick(); /* an erase takes 1-2 s, and the CPU waits for it (code runs from this flash bank) */
  flash_unlock();
  flash_wait();
  FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_SER | FLASH_CR_SNB(sec->number);
  FLASH_CR |= FLASH_CR_STRT;
  bool ok = flash_wait();
  FLASH_CR = FLASH_CR_LOCK;
  flash_caches_reset();
  watchdog_kick();
  return ok;
}

static bool sector_program(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len) {
  const calib_sector *sec = ctx;
  if (offset % 4u || len % 4u) return false;
  flash_unlock();
  flash_wait();
  FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_PG;
  bool ok = true;
  volatile uint32_t *dst = (volatile uint32_t *)(sec->base + offset);
  for (uint32_t i = 0; i < len && ok; i += 4u) {
    uint32_t w;
    memcpy(&w, data + i, 4);
    dst[i / 4u] = w;
    ok = flash_wait();
  }
  FLASH_CR = FLASH_CR_LOCK;
  flash_caches_reset();
  return ok;
}

static const fr_flash_ops calib[FR_CAL_SECTORS] = {
  {(const uint8_t *)CALIB_SECTOR10, CALIB_SECTOR_BYTES, sector_erase, sector_program, (void *)&CALIB_SECTORS[0]},
  {(const uint8_t *)CALIB_SECTOR11, CALIB_SECTOR_BYTES, sector_erase, sector_program, (void *)&CALIB_SECTORS[1]},
};

bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len) {
  fr_cal_status s = fr_cal_read(calib, buf, max, len);
  if (s == FR_CAL_EMPTY) {
    *len = 0;
    return true;
  }
  return s == FR_CAL_OK;
}

bool fr_hal_nv_write(const uint8_t *buf, size_t len) { return fr_cal_write(calib, buf, len, NULL) == FR_CAL_OK; }

/* resets since power on: kept in .noinit, trusted only after a software or watchdog reset */
__attribute__((section(".noinit"))) static uint32_t retained_resets, retained_magic;
uint32_t fr_hal_resets(void) { return resets; }

/* No heap: newlib-nano's printf links malloc for a path snprintf never takes. */
void *_sbrk(int incr);
void *_sbrk(int incr) {
  (void)incr;
  return (void *)-1;
}

/* ----------------------------------------------------------------- main */

/* The serial number: the build's (SERIAL=...), else from the chip's unique id. */
static void serial_init(void) {
  if (fr_pyboard_serial[0] != '\0') return;
  const volatile uint32_t *uid = (const volatile uint32_t *)UID_BASE;
  snprintf(fr_pyboard_serial, sizeof fr_pyboard_serial, "PYB-%08lX%08lX%08lX", (unsigned long)uid[2], (unsigned long)uid[1],
           (unsigned long)uid[0]);
}

int main(void) {
  serial_init();
  clocks_init();
  gpio_init();
  usart_init();
  usb_init();
  timers_init();
  dac_init();
  const char *reason = "power on";
  uint32_t csr = RCC_CSR;
  if (retained_magic == 0x46524E56u && !(csr & (1u << 27))) { /* not PORRSTF: RAM kept */
    retained_resets++;
    reason = (csr & RCC_CSR_IWDGRSTF) ? "reset (watchdog)" : "reset (command)";
  } else {
    retained_magic = 0x46524E56u;
    retained_resets = 0;
  }
  RCC_CSR |= RCC_CSR_RMVF;
  resets = retained_resets;
  watchdog_init();
  irq_enable_all();
  static const uint8_t idle = 0;
  (void)fr_hal_link_write(&idle, 1); /* a delimiter: whatever the host sent before is a frame of its own */
  fr_core_boot(&fr_board_this, reason);
  for (;;) {
    watchdog_kick();
    fr_core_action action = fr_core_poll();
    if (action == FR_CORE_REBOOT || action == FR_CORE_BOOTLOADER) {
      while (tx_tail != tx_head || !(USART_SR(USART6_BASE) & USART_SR_TC)) {
      }
      /* the ack reaches the host unless it stopped reading: then give up after 200 ms */
      uint64_t give_up = ticks_now() + TIMER_HZ / 5u;
      while (fr_usbd_connected(&usb) && !fr_usbd_tx_idle(&usb) && ticks_now() < give_up) {
      }
      if (action == FR_CORE_BOOTLOADER) fr_enter_bootloader();
      SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
      for (;;) {
      }
    }
    irq_disable_all();
    if (!fr_core_busy() && rx_tail == rx_head && !fr_usbd_rx_pending(&usb) && fr_adcbuf_pending(&adc) == 0) wait_for_interrupt();
    irq_enable_all();
  }
}
