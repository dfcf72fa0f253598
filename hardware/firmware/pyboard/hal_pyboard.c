/* The pyboard target: the firmware core on a pyboard v1.1 (STM32F405RG) with
 * the pyPhotometry acquisition board (hardware/boards/pyboard.json).
 *  - Clocks: 12 MHz crystal (HSE) -> PLL (M 12, N 336, P 2, Q 7) -> 168 MHz
 *    SYSCLK, 48 MHz for USB; APB1 42 MHz (timers 84 MHz), APB2 84 MHz;
 *    flash 5 wait states, voltage scale 1.
 *  - Clock: TIM5 (32-bit, 84 MHz) extended to 64 bits.
 *  - Detectors: ADC1 scans IN14 (X11, PC4) and IN15 (X12, PC5) on every TIM2
 *    update (TRGO), `oversampling` scans per sample; DMA2 stream 0 writes
 *    them into a circular double buffer whose halves fr_adcbuf hands to the
 *    main loop as oversampled 15-bit codes (pyboard/fr_adcbuf.c).
 *  - LEDs: DAC1 (X5, PA4) and DAC2 (X6, PA5) at DC levels by the board's
 *    published scaling (code = 6.26 + 38.15 x mA); fr_pyboard_lockin() plays a
 *    sine table (pyboard/fr_sine.c) by TIM6-triggered circular DMA (DMA1
 *    streams 5 and 6, channel 7).
 *  - Digital inputs: TIM12 input capture, both edges, on Y7 (PB14) and Y8
 *    (PB15): edge times in TIM5 ticks queue in fr_pyboard_edges.
 *  - Sync output: TIM4 channel 1 PWM on X9 (PB6).
 *  - Link: USART6 on Y1 (TX, PC6) / Y2 (RX, PC7) at 921600 Bd 8N1, interrupt
 *    driven both ways (a USB-serial adapter). The USB CDC logic
 *    (pyboard/fr_cdc.c) is not yet attached to the OTG_FS peripheral.
 *  - Non-volatile record: flash sector 11 through fr_calsector (append-only,
 *    verified, erased once per sector-full).
 *  - Watchdog: IWDG, ~4 s (longer than a sector erase), refreshed by the main loop.
 *  - EnterBootloader: a system reset into the ROM's USB DFU bootloader. */
#include <string.h>

#include "fr_adcbuf.h"
#include "fr_calsector.h"
#include "fr_core.h"
#include "fr_hal.h"
#include "fr_sine.h"
#include "stm32f405_periph.h"

#define HSE_HZ 12000000u
#define TIMER_HZ 84000000u
#define LINK_BAUD 921600u
#define RX_RING 1024u
#define TX_RING 2048u
#define ADC_DMA_LEN 4096u /* conversions in both halves */
#define SINE_POINTS 1024u
#define EDGE_QUEUE 64u
#define LED_OFFSET_CODES 6.26f
#define LED_CODES_PER_MA 38.15f

extern uint32_t _calib_start, _calib_size;
void fr_enter_bootloader(void);

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;
static volatile uint8_t tx_ring[TX_RING];
static volatile uint32_t tx_head, tx_tail;
static volatile uint16_t adc_dma[ADC_DMA_LEN];
static fr_adcbuf adc;
static int32_t last_codes[FR_ADCBUF_MAX_CH];
static uint32_t adc_underruns;
static uint16_t sine_table[2][SINE_POINTS];
static uint32_t clock_last;
static uint64_t clock_ticks;
static uint32_t resets;

/* edge timestamps of the digital inputs (TIM5 ticks at 84 MHz, line, level) */
typedef struct {
  uint32_t ticks;
  uint8_t line;
} fr_edge;
static volatile fr_edge edges[EDGE_QUEUE];
static volatile uint32_t edge_head, edge_tail, edges_lost;

/* ------------------------------------------------------------ interrupts */

void fr_usart6_irq(void);
void fr_dma2_stream0_irq(void);
void fr_tim12_irq(void);

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
  if (isr & DMA_S0_HTIF) fr_adcbuf_isr(&adc, 0);
  if (isr & DMA_S0_TCIF) fr_adcbuf_isr(&adc, 1);
}

static void edge(uint8_t line) {
  if (edge_head - edge_tail >= EDGE_QUEUE) {
    edges_lost++;
    return;
  }
  edges[edge_head % EDGE_QUEUE].ticks = TIM_CNT(TIM5_BASE);
  edges[edge_head % EDGE_QUEUE].line = line;
  edge_head++;
}

void fr_tim12_irq(void) {
  uint32_t sr = TIM_SR(TIM12_BASE);
  TIM_SR(TIM12_BASE) = ~(sr & (TIM_SR_CC1IF | TIM_SR_CC2IF));
  if (sr & TIM_SR_CC1IF) {
    (void)TIM_CCR1(TIM12_BASE);
    edge(0);
  }
  if (sr & TIM_SR_CC2IF) {
    (void)TIM_CCR2(TIM12_BASE);
    edge(1);
  }
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
  RCC_APB1ENR |= RCC_APB1ENR_TIM2EN | RCC_APB1ENR_TIM4EN | RCC_APB1ENR_TIM5EN | RCC_APB1ENR_TIM6EN | RCC_APB1ENR_TIM12EN | RCC_APB1ENR_DACEN;
  /* TIM5: free-running 32-bit clock at 84 MHz */
  TIM_PSC(TIM5_BASE) = 0;
  TIM_ARR(TIM5_BASE) = 0xFFFFFFFFu;
  TIM_EGR(TIM5_BASE) = TIM_EGR_UG;
  TIM_CR1(TIM5_BASE) = TIM_CR1_CEN;
  clock_last = TIM_CNT(TIM5_BASE);
  clock_ticks = 0;
  /* TIM12: input capture on both edges of CH1 and CH2 */
  TIM_PSC(TIM12_BASE) = 0;
  TIM_ARR(TIM12_BASE) = 0xFFFFu;
  TIM_CCMR1(TIM12_BASE) = TIM_CCMR1_CC1S_TI1 | TIM_CCMR1_CC2S_TI2;
  TIM_CCER(TIM12_BASE) = TIM_CCER_CC1E | TIM_CCER_CC1_BOTH | TIM_CCER_CC2E | TIM_CCER_CC2_BOTH;
  TIM_DIER(TIM12_BASE) = TIM_DIER_CC1IE | TIM_DIER_CC2IE;
  TIM_CR1(TIM12_BASE) = TIM_CR1_CEN;
  nvic_enable(IRQ_TIM8_BRK_TIM12);
  /* TIM4 CH1: sync output, 1 Hz, 10 ms high (84 MHz / 8400 = 10 kHz ticks) */
  TIM_PSC(TIM4_BASE) = 8400u - 1u;
  TIM_ARR(TIM4_BASE) = 10000u - 1u;
  TIM_CCR1(TIM4_BASE) = 100u;
  TIM_CCMR1(TIM4_BASE) = TIM_CCMR1_OC1M_PWM1 | TIM_CCMR1_OC1PE;
  TIM_CCER(TIM4_BASE) = TIM_CCER_CC1E;
  TIM_EGR(TIM4_BASE) = TIM_EGR_UG;
  TIM_CR1(TIM4_BASE) = TIM_CR1_CEN;
}

static void dac_init(void) {
  DAC_CR = DAC_CR_EN(0) | DAC_CR_EN(1);
  DAC_DHR12R1 = 0;
  DAC_DHR12R2 = 0;
}

static void watchdog_init(void) {
  IWDG_KR = 0x5555u; /* unlock PR and RLR */
  IWDG_PR = 4u;      /* LSI / 64: ~500 Hz */
  IWDG_RLR = 2000u;  /* ~4 s */
  IWDG_KR = 0xCCCCu; /* start */
}

static void watchdog_kick(void) { IWDG_KR = 0xAAAAu; }

/* --------------------------------------------------- sampling (ADC + DMA) */

static uint32_t oversampling_for(uint32_t rate_hz) {
  uint32_t os = 64u; /* as pyPhotometry: 64 x 12-bit -> 15 bits */
  /* a 2-channel scan takes 2 x (28 + 12) ADC cycles at 21 MHz = 3.8 us: stay under 200 k scans/s */
  while (os > 1u && (uint64_t)rate_hz * os > 200000u) os /= 2u;
  return os;
}

void fr_hal_sampling(uint32_t rate_hz) {
  TIM_CR1(TIM2_BASE) = 0;
  DMA_SCR(DMA2_BASE, 0) = 0;
  while (DMA_SCR(DMA2_BASE, 0) & DMA_SCR_EN) {
  }
  ADC_CR2(ADC1_BASE) = 0;
  if (rate_hz == 0) return;
  uint32_t os = oversampling_for(rate_hz);
  uint32_t per_sample = 2u * os;
  uint32_t samples_per_half = rate_hz / 1000u; /* about one half per ms */
  if (samples_per_half == 0) samples_per_half = 1;
  while (samples_per_half > 1u && 2u * samples_per_half * per_sample > ADC_DMA_LEN) samples_per_half--;
  uint32_t half = samples_per_half * per_sample;
  /* codes are always 15-bit (the mean x 8), so volts per code do not change with the rate;
   * 64x oversampling (rates up to ~3 kHz) makes those bits real, as in pyPhotometry */
  (void)fr_adcbuf_init(&adc, adc_dma, half, 2u, os, 3u);
  ADC_CCR = ADC_CCR_ADCPRE_DIV4;
  ADC_SMPR1(ADC1_BASE) = (2u << 12) | (2u << 15); /* IN14, IN15: 28-cycle sampling */
  ADC_SQR1(ADC1_BASE) = 1u << 20;                   /* 2 conversions */
  ADC_SQR3(ADC1_BASE) = 14u | (15u << 5);
  ADC_CR1(ADC1_BASE) = ADC_CR1_SCAN;
  ADC_CR2(ADC1_BASE) = ADC_CR2_ADON | ADC_CR2_DMA | ADC_CR2_DDS | ADC_CR2_EXTSEL_TIM2_TRGO | ADC_CR2_EXTEN_RISING;
  DMA_LIFCR(DMA2_BASE) = DMA_S0_ALL;
  DMA_SPAR(DMA2_BASE, 0) = ADC1_BASE + 0x4Cu;
  DMA_SM0AR(DMA2_BASE, 0) = (uint32_t)(uintptr_t)adc_dma;
  DMA_SNDTR(DMA2_BASE, 0) = 2u * half;
  DMA_SCR(DMA2_BASE, 0) = DMA_SCR_CHSEL(0) | DMA_SCR_MSIZE_16 | DMA_SCR_PSIZE_16 | DMA_SCR_MINC | DMA_SCR_CIRC | DMA_SCR_HTIE | DMA_SCR_TCIE | DMA_SCR_EN;
  nvic_enable(IRQ_DMA2_STREAM0);
  TIM_PSC(TIM2_BASE) = 0;
  TIM_ARR(TIM2_BASE) = TIMER_HZ / (rate_hz * os) - 1u;
  TIM_CR2(TIM2_BASE) = TIM_CR2_MMS_UPDATE;
  TIM_EGR(TIM2_BASE) = TIM_EGR_UG;
  TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
}

/* ------------------------------------------------------------------ HAL */

uint64_t fr_hal_time_ns(void) {
  uint32_t cnt = TIM_CNT(TIM5_BASE);
  clock_ticks += (uint32_t)(cnt - clock_last); /* read far more often than every 51 s */
  clock_last = cnt;
  return (clock_ticks / 84u) * 1000u + ((clock_ticks % 84u) * 1000u) / 84u;
}

void fr_hal_detectors(uint64_t n, const float *led_ma, uint32_t oversampling, int32_t *codes) {
  (void)n;
  (void)led_ma;
  (void)oversampling; /* the hardware oversampling follows the rate (fr_hal_sampling) */
  int32_t got[FR_ADCBUF_MAX_CH];
  if (fr_adcbuf_take(&adc, got)) memcpy(last_codes, got, sizeof got);
  else adc_underruns++; /* the clock ran ahead of the ADC: repeat the last conversion */
  for (uint32_t d = 0; d < fr_board_this.n_detectors && d < FR_ADCBUF_MAX_CH; d++) codes[d] = last_codes[d];
}

void fr_hal_aux(uint64_t k, uint64_t t_ns, int32_t *codes) {
  (void)k;
  (void)t_ns;
  (void)codes; /* the pyPhotometry board has no aux inputs */
}

static uint32_t dac_code(float ma) {
  if (!(ma > 0.0f)) return 0;
  float code = LED_OFFSET_CODES + LED_CODES_PER_MA * ma;
  return code >= 4095.0f ? 4095u : (uint32_t)(code + 0.5f);
}

void fr_hal_leds(const float *peak_ma, uint32_t n) {
  if (DAC_CR & (DAC_CR_DMAEN(0) | DAC_CR_DMAEN(1))) return; /* lock-in sine playing */
  if (n > 0) DAC_DHR12R1 = dac_code(peak_ma[0]);
  if (n > 1) DAC_DHR12R2 = dac_code(peak_ma[1]);
}

/* Lock-in drive: both LEDs play sines (offset = amplitude = peak/2) at their carriers from one TIM6 rate
 * (the carriers must share a table rate); returns false when no plan reaches the carriers. */
bool fr_pyboard_lockin(const float *peak_ma, const double *carrier_hz, uint32_t n);
bool fr_pyboard_lockin(const float *peak_ma, const double *carrier_hz, uint32_t n) {
  DAC_CR &= ~(DAC_CR_DMAEN(0) | DAC_CR_DMAEN(1) | DAC_CR_TEN(0) | DAC_CR_TEN(1));
  DMA_SCR(DMA1_BASE, 5) = 0;
  DMA_SCR(DMA1_BASE, 6) = 0;
  TIM_CR1(TIM6_BASE) = 0;
  if (n == 0) return true;
  fr_sine_plan plan;
  if (!fr_sine_plan_for(TIMER_HZ, carrier_hz[0], 32u, SINE_POINTS, 84u, &plan)) return false;
  for (uint32_t ch = 0; ch < n && ch < 2u; ch++) {
    float peak = (float)dac_code(peak_ma[ch]);
    (void)fr_sine_fill(sine_table[ch], plan.points, peak / 2.0, peak / 2.0, 4095u);
    uint32_t stream = 5u + ch;
    DMA_HIFCR(DMA1_BASE) = ch == 0 ? DMA_S5_ALL : DMA_S6_ALL;
    DMA_SPAR(DMA1_BASE, stream) = ch == 0 ? DAC_DHR12R1_ADDR : DAC_DHR12R2_ADDR;
    DMA_SM0AR(DMA1_BASE, stream) = (uint32_t)(uintptr_t)sine_table[ch];
    DMA_SNDTR(DMA1_BASE, stream) = plan.points;
    DMA_SCR(DMA1_BASE, stream) = DMA_SCR_CHSEL(7) | DMA_SCR_MSIZE_16 | DMA_SCR_PSIZE_16 | DMA_SCR_MINC | DMA_SCR_CIRC | DMA_SCR_DIR_M2P | DMA_SCR_EN;
    DAC_CR |= DAC_CR_TSEL_TIM6(ch) | DAC_CR_TEN(ch) | DAC_CR_DMAEN(ch);
  }
  TIM_PSC(TIM6_BASE) = 0;
  TIM_ARR(TIM6_BASE) = plan.timer_period - 1u;
  TIM_CR2(TIM6_BASE) = TIM_CR2_MMS_UPDATE;
  TIM_EGR(TIM6_BASE) = TIM_EGR_UG;
  TIM_CR1(TIM6_BASE) = TIM_CR1_CEN;
  return true;
}

/* Digital input edges since the last call (TIM5 ticks, line); returns how many. */
uint32_t fr_pyboard_edges(uint32_t *ticks, uint8_t *lines, uint32_t max);
uint32_t fr_pyboard_edges(uint32_t *ticks, uint8_t *lines, uint32_t max) {
  uint32_t n = 0;
  while (n < max && edge_tail != edge_head) {
    ticks[n] = edges[edge_tail % EDGE_QUEUE].ticks;
    lines[n] = edges[edge_tail % EDGE_QUEUE].line;
    edge_tail++;
    n++;
  }
  return n;
}

size_t fr_hal_link_read(uint8_t *buf, size_t max) {
  size_t n = 0;
  while (n < max && rx_tail != rx_head) buf[n++] = rx_ring[rx_tail++ % RX_RING];
  return n;
}

size_t fr_hal_link_write(const uint8_t *buf, size_t len) {
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

static void flash_unlock(void) {
  if (FLASH_CR & FLASH_CR_LOCK) {
    FLASH_KEYR = FLASH_KEY1;
    FLASH_KEYR = FLASH_KEY2;
  }
}

static bool sector11_erase(void *ctx) {
  (void)ctx;
  watchdog_kick(); /* an erase takes 1-2 s */
  flash_unlock();
  flash_wait();
  FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_SER | FLASH_CR_SNB(11);
  FLASH_CR |= FLASH_CR_STRT;
  bool ok = flash_wait();
  FLASH_CR = FLASH_CR_LOCK;
  watchdog_kick();
  return ok;
}

static bool sector11_program(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len) {
  (void)ctx;
  if (offset % 4u || len % 4u) return false;
  flash_unlock();
  flash_wait();
  FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_PG;
  bool ok = true;
  volatile uint32_t *dst = (volatile uint32_t *)((uintptr_t)&_calib_start + offset);
  for (uint32_t i = 0; i < len && ok; i += 4u) {
    uint32_t w;
    memcpy(&w, data + i, 4);
    dst[i / 4u] = w;
    ok = flash_wait();
  }
  FLASH_CR = FLASH_CR_LOCK;
  return ok;
}

static const fr_flash_ops calib = {
  (const uint8_t *)&_calib_start, 128u * 1024u, sector11_erase, sector11_program, NULL,
};

bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len) {
  fr_cal_status s = fr_cal_read(&calib, buf, max, len);
  if (s == FR_CAL_EMPTY) {
    *len = 0;
    return true;
  }
  return s == FR_CAL_OK;
}

bool fr_hal_nv_write(const uint8_t *buf, size_t len) { return fr_cal_write(&calib, buf, len, NULL) == FR_CAL_OK; }

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

int main(void) {
  clocks_init();
  gpio_init();
  usart_init();
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
      if (action == FR_CORE_BOOTLOADER) fr_enter_bootloader();
      SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
      for (;;) {
      }
    }
    irq_disable_all();
    if (!fr_core_busy() && rx_tail == rx_head && fr_adcbuf_pending(&adc) == 0) wait_for_interrupt();
    irq_enable_all();
  }
}
