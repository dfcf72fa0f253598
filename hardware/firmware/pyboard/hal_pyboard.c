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
 *  - EnterBootloader: a system reset into the ROM's USB DFU bootloader.
 * This file: bring-up (clocks, pins, watchdog), the device clock, resets and
 * the main loop; hal_pyboard_acq.c: sampling, detectors, LEDs, edges, sync;
 * hal_pyboard_link.c: USB and USART; hal_pyboard_nv.c: the calibration sectors. */
#include <stdio.h>

#include "fr_core.h"
#include "fr_hal.h"
#include "hal_pyboard.h"
#include "stm32f405_periph.h"

void fr_enter_bootloader(void);

static uint32_t clock_last;
static uint64_t clock_ticks;
static uint32_t resets;

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

void pyb_gpio_mode(uint32_t port, uint32_t pin, uint32_t mode, uint32_t af) {
  GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (mode << (2u * pin));
  if (mode == GPIO_MODE_AF) {
    uint32_t shift = 4u * (pin & 7u);
    GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << shift)) | (af << shift);
    GPIO_OSPEEDR(port) |= 2u << (2u * pin);
  }
}

static void gpio_init(void) {
  RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_GPIOBEN | RCC_AHB1ENR_GPIOCEN | RCC_AHB1ENR_DMA1EN | RCC_AHB1ENR_DMA2EN;
  pyb_gpio_mode(GPIOA_BASE, 4, GPIO_MODE_ANALOG, 0);  /* X5: DAC1, LED1 */
  pyb_gpio_mode(GPIOA_BASE, 5, GPIO_MODE_ANALOG, 0);  /* X6: DAC2, LED2 */
  pyb_gpio_mode(GPIOC_BASE, 4, GPIO_MODE_ANALOG, 0);  /* X11: ADC12_IN14, analog_1 */
  pyb_gpio_mode(GPIOC_BASE, 5, GPIO_MODE_ANALOG, 0);  /* X12: ADC12_IN15, analog_2 */
  pyb_gpio_mode(GPIOC_BASE, 6, GPIO_MODE_AF, 8);      /* Y1: USART6_TX */
  pyb_gpio_mode(GPIOC_BASE, 7, GPIO_MODE_AF, 8);      /* Y2: USART6_RX */
  GPIO_PUPDR(GPIOC_BASE) |= 1u << (2u * 7u);          /* RX idles high when no adapter is attached */
  pyb_gpio_mode(GPIOB_BASE, 14, GPIO_MODE_AF, 9);     /* Y7: TIM12_CH1, digital_1 */
  pyb_gpio_mode(GPIOB_BASE, 15, GPIO_MODE_AF, 9);     /* Y8: TIM12_CH2, digital_2 */
  pyb_gpio_mode(GPIOB_BASE, 6, GPIO_MODE_AF, 2);      /* X9: TIM4_CH1, sync_out */
}

/* TIM5: free-running 32-bit device clock at 84 MHz */
static void clock_init(void) {
  RCC_APB1ENR |= RCC_APB1ENR_TIM5EN;
  (void)RCC_APB1ENR; /* read back: TIM5's clock is on before its registers are written */
  TIM_PSC(TIM5_BASE) = 0;
  TIM_ARR(TIM5_BASE) = 0xFFFFFFFFu;
  TIM_EGR(TIM5_BASE) = TIM_EGR_UG;
  TIM_CR1(TIM5_BASE) = TIM_CR1_CEN;
  clock_last = TIM_CNT(TIM5_BASE);
  clock_ticks = 0;
}

static void watchdog_init(void) {
  IWDG_KR = 0x5555u; /* unlock PR and RLR */
  IWDG_PR = 4u;      /* LSI / 64: ~500 Hz */
  IWDG_RLR = 2000u;  /* ~4 s */
  IWDG_KR = 0xCCCCu; /* start */
}

void pyb_watchdog_kick(void) { IWDG_KR = 0xAAAAu; }

/* ------------------------------------------------------------------ clock */

uint64_t pyb_ticks_now(uint32_t *raw) {
  uint32_t cnt = TIM_CNT(TIM5_BASE);
  clock_ticks += (uint32_t)(cnt - clock_last);
  clock_last = cnt;
  if (raw) *raw = cnt;
  return clock_ticks;
}

uint64_t pyb_ticks_ns(uint64_t t) { return (t / 84u) * 1000u + ((t % 84u) * 1000u) / 84u; }

uint64_t fr_hal_time_ns(void) { return pyb_ticks_ns(pyb_ticks_now(NULL)); }

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
  pyb_usart_init();
  pyb_usb_init();
  clock_init();
  pyb_acq_init();
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
    pyb_watchdog_kick();
    fr_core_action action = fr_core_poll();
    if (action == FR_CORE_REBOOT || action == FR_CORE_BOOTLOADER) {
      pyb_link_flush();
      if (action == FR_CORE_BOOTLOADER) fr_enter_bootloader();
      SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
      for (;;) {
      }
    }
    irq_disable_all();
    if (!fr_core_busy() && pyb_link_rx_idle() && pyb_acq_idle()) wait_for_interrupt();
    irq_enable_all();
  }
}
