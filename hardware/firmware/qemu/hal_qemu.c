/* The qemu target: the firmware core on QEMU's netduinoplus2 machine
 * (STM32F405, Cortex-M4), bare metal. What the QEMU 7.2 model offers, and how
 * this HAL uses it:
 *  - USART1 is the link (the first -serial). The model sends each DR write at
 *    once and holds received bytes until DR is read, so RX with RXNEIE into a
 *    small ring is lossless (the interrupt is masked while the ring is full).
 *    Bytes that arrive before UE/RE are set are dropped: the firmware enables
 *    the USART first thing and announces itself (a 0x00 delimiter, then a Log).
 *  - RCC is not modelled: clock enables are written (harmless) but ready bits
 *    are never polled.
 *  - TIM2..TIM5 run on a 1 GHz clock; a non-zero prescaler can freeze QEMU,
 *    so every timer uses prescaler 0. QEMU 7.2's stm32f2xx_timer computes each
 *    next update as ARR + tick_offset ns after the last one, where tick_offset
 *    is the virtual time of the timer's last reset or CNT/PSC/EGR write: near 0
 *    only for the reset at power-on. So TIM2 is set up with ARR, DIER and CR1
 *    only (its PSC stays at its reset value 0), and the Reset command restarts
 *    the firmware in place (a warm restart through the reset handler) instead of
 *    a system reset, which would push TIM2's period out by the whole uptime.
 *    TIM5 (32-bit, ARR 0: no update events)
 *    is the free-running clock, extended to 64 bits here. TIM2 paces sampling:
 *    its update interrupt wakes the core once per sample period (1 kHz while
 *    stopped). In the model each update period is ARR + the emulator's timer
 *    latency (measured ~0.55 ms), so TIM2 wakes the core at most ~1.8 kHz and
 *    the core takes every sample due by the TIM5 clock at each wake-up, as it
 *    would read a DMA count on hardware. Writing TIM2's CNT while it runs
 *    delays its next update by hundreds of ms: only ARR is ever rewritten.
 *  - The ADC model never sets EOC and returns a sawtooth, and there is no DAC,
 *    DMA or USB: detector and aux codes come from the synthetic front end.
 *  - Flash is read-only: "non-volatile" storage is a .noinit RAM record that
 *    survives a restart (and a system reset) but not the end of QEMU. */
#include <string.h>

#include "fr_core.h"
#include "fr_hal.h"
#include "stm32f405.h"

#define RX_RING 512u
#define NV_BYTES 3072u
#define RETAINED_MAGIC 0x46524E56u

enum { BOOT_POWER_ON = 0, BOOT_RESET_COMMAND = 1 };

/* survives a system reset: RAM is not cleared and .noinit is not loaded */
static struct {
  uint32_t magic;
  uint32_t resets;
  uint32_t boot_reason;
  uint32_t nv_len;
  uint8_t nv[NV_BYTES];
} retained __attribute__((section(".noinit")));

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail; /* ISR writes head, main loop advances tail */
static volatile uint32_t wakeups;
static uint32_t clock_last;
static uint64_t clock_ns;

/* ------------------------------------------------------------ interrupts */

void fr_tim2_irq(void) {
  TIM_SR(TIM2_BASE) = ~TIM_SR_UIF;
  wakeups++;
}

void fr_tim3_irq(void) { TIM_SR(TIM3_BASE) = ~TIM_SR_UIF; }

void fr_usart1_irq(void) {
  uint32_t sr = USART_SR(USART1_BASE);
  if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
    if (rx_head - rx_tail >= RX_RING) {
      USART_CR1(USART1_BASE) &= ~USART_CR1_RXNEIE; /* full: leave the byte in DR until there is room */
      return;
    }
    rx_ring[rx_head % RX_RING] = (uint8_t)USART_DR(USART1_BASE);
    rx_head++;
  }
}

/* ------------------------------------------------------------------ HAL */

uint64_t fr_hal_time_ns(void) {
  uint32_t cnt = TIM_CNT(TIM5_BASE);
  clock_ns += (uint32_t)(cnt - clock_last); /* read far more often than every 4.29 s */
  clock_last = cnt;
  return clock_ns;
}

/* Writes ARR only: writing TIM2's CNT while it runs makes QEMU 7.2's model
 * schedule its next update far too late (measured: hundreds of ms). */
static void tim2_rate(uint32_t rate_hz) {
  if (rate_hz == 0) rate_hz = 1000;
  TIM_ARR(TIM2_BASE) = 1000000000u / rate_hz - 1u;
}

uint64_t fr_hal_sampling(const fr_norm_config *config) {
  tim2_rate(config ? config->sample_rate_hz : 0);
  return config ? fr_hal_time_ns() : 0;
}

/* the front end (detectors, aux, LEDs, digital inputs): synth/hal_synth.c */

size_t fr_hal_link_read(uint8_t *buf, size_t max) {
  size_t n = 0;
  while (n < max && rx_tail != rx_head) {
    buf[n++] = rx_ring[rx_tail % RX_RING];
    rx_tail++;
  }
  USART_CR1(USART1_BASE) |= USART_CR1_RXNEIE; /* room again */
  return n;
}

size_t fr_hal_link_write(const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    while (!(USART_SR(USART1_BASE) & USART_SR_TXE)) {
    }
    USART_DR(USART1_BASE) = buf[i];
  }
  return len;
}

bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len) {
  size_t n = retained.nv_len < max ? retained.nv_len : max;
  memcpy(buf, retained.nv, n);
  *len = n;
  return true;
}

bool fr_hal_nv_write(const uint8_t *buf, size_t len) {
  if (len > NV_BYTES) return false;
  memcpy(retained.nv, buf, len);
  retained.nv_len = (uint32_t)len;
  return true;
}

uint32_t fr_hal_resets(void) { return retained.resets; }

/* No heap: newlib-nano's printf links malloc for a path snprintf never takes. */
void *_sbrk(int incr);
void *_sbrk(int incr) {
  (void)incr;
  return (void *)-1;
}

/* ----------------------------------------------------------------- main */

static void usart_init(void) {
  RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
  USART_BRR(USART1_BASE) = 0x2D9u; /* 115200 Bd at 84 MHz (ignored by the model) */
  USART_CR1(USART1_BASE) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
  static const uint8_t idle = 0;
  fr_hal_link_write(&idle, 1); /* a delimiter: whatever the host buffered before is a frame of its own */
}

static void timers_init(void) {
  RCC_APB1ENR |= RCC_APB1ENR_TIM2EN | RCC_APB1ENR_TIM5EN;
  TIM_PSC(TIM5_BASE) = 0;
  TIM_ARR(TIM5_BASE) = 0;
  TIM_CR1(TIM5_BASE) = TIM_CR1_CEN;
  TIM_CNT(TIM5_BASE) = 0;
  clock_last = 0;
  clock_ns = 0;
  tim2_rate(0); /* PSC stays 0: see the header comment */
  TIM_DIER(TIM2_BASE) = TIM_DIER_UIE;
  TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
}

extern uint32_t _stack_top;
void fr_reset_handler(void);

/* Restarts the firmware from its reset handler (.data reloaded, .bss cleared),
 * leaving the peripherals' QEMU state alone: the Reset command on this target. */
static void warm_restart(void) {
  irq_disable_all();
  TIM_DIER(TIM2_BASE) = 0;
  TIM_SR(TIM2_BASE) = 0;
  USART_CR1(USART1_BASE) &= ~USART_CR1_RXNEIE;
  for (uint32_t i = 0; i < (IRQ_COUNT + 31u) / 32u; i++) {
    NVIC_ICER(i) = 0xFFFFFFFFu;
    NVIC_ICPR(i) = 0xFFFFFFFFu;
  }
  data_sync();
  __asm__ volatile(
    "msr msp, %0\n"
    "cpsie i\n"
    "bx %1\n" ::"r"(&_stack_top),
    "r"(fr_reset_handler)
    : "memory");
  for (;;) {
  }
}

int main(void) {
  usart_init();
  const char *reason = "power on";
  if (retained.magic != RETAINED_MAGIC) {
    memset(&retained, 0, sizeof retained);
    retained.magic = RETAINED_MAGIC;
  } else {
    reason = retained.boot_reason == BOOT_RESET_COMMAND ? "reset (command)" : "reset (fault)";
  }
  retained.boot_reason = BOOT_POWER_ON;
  timers_init();
  nvic_enable(IRQ_TIM2);
  nvic_enable(IRQ_USART1);
  irq_enable_all();
  fr_core_boot(&fr_board_this, reason);
  for (;;) {
    if (fr_core_poll() == FR_CORE_REBOOT) {
      retained.resets++;
      retained.boot_reason = BOOT_RESET_COMMAND;
      warm_restart();
    }
    irq_disable_all();
    if (!fr_core_busy() && rx_tail == rx_head) wait_for_interrupt(); /* a pending interrupt still ends WFI */
    irq_enable_all();
  }
}
