/* Startup for the pyboard (STM32F405RG): the vector table and the reset
 * handler (bootloader request check, copy .data, zero .bss and CCM, enable
 * the FPU, call main). A bootloader request (EnterBootloader) is a word in
 * .noinit set before a system reset: the reset handler then jumps to the ROM
 * bootloader (USB DFU) with the chip in its reset state, as the ROM expects. */
#include <stdint.h>

#include "cortex_m_vectors.h"
#include "stm32f405_periph.h"

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _ccm_start, _ccm_end, _stack_top;
extern int main(void);

#define BOOTLOADER_MAGIC 0xB007DF11u
__attribute__((section(".noinit"))) volatile uint32_t fr_bootloader_request;

void fr_reset_handler(void);
void fr_default_handler(void);
void fr_usart6_irq(void);
void fr_dma2_stream0_irq(void);
void fr_dma1_stream5_irq(void);
void fr_tim12_irq(void);
void fr_tim6_dac_irq(void);
void fr_otg_fs_irq(void);

void fr_default_handler(void) {
  SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
  for (;;) {
  }
}

static void jump_to_rom_bootloader(void) {
  RCC_APB2ENR |= RCC_APB2ENR_SYSCFGEN;
  SYSCFG_MEMRMP = 1u; /* system memory at 0x00000000 */
  data_sync();
  uint32_t sp = *(volatile uint32_t *)SYSTEM_MEMORY_BASE;
  uint32_t pc = *(volatile uint32_t *)(SYSTEM_MEMORY_BASE + 4u);
  __asm__ volatile(
    "msr msp, %0\n"
    "bx %1\n" ::"r"(sp),
    "r"(pc)
    : "memory");
}

void fr_reset_handler(void) {
  if (fr_bootloader_request == BOOTLOADER_MAGIC) {
    fr_bootloader_request = 0;
    jump_to_rom_bootloader();
  }
  uint32_t *src = &_data_load;
  for (uint32_t *dst = &_data_start; dst < &_data_end;) *dst++ = *src++;
  for (uint32_t *dst = &_bss_start; dst < &_bss_end;) *dst++ = 0;
  for (uint32_t *dst = &_ccm_start; dst < &_ccm_end;) *dst++ = 0;
  SCB_CPACR |= 0xFu << 20; /* CP10, CP11: full access to the FPU */
  data_sync();
  __asm__ volatile("isb");
  (void)main();
  fr_default_handler();
}

/* Called by the HAL once EnterBootloader's ack has gone out. */
void fr_enter_bootloader(void);
void fr_enter_bootloader(void) {
  fr_bootloader_request = BOOTLOADER_MAGIC;
  data_sync();
  fr_default_handler(); /* system reset */
}

__attribute__((section(".isr_vector"), used)) const fr_vector fr_vectors[FR_SYSTEM_VECTORS + IRQ_COUNT] = {
  FR_CORTEX_M_SYSTEM_VECTORS(_stack_top, fr_reset_handler, fr_default_handler),
  [FR_SYSTEM_VECTORS + IRQ_DMA1_STREAM5] = fr_dma1_stream5_irq,
  [FR_SYSTEM_VECTORS + IRQ_DMA2_STREAM0] = fr_dma2_stream0_irq,
  [FR_SYSTEM_VECTORS + IRQ_TIM8_BRK_TIM12] = fr_tim12_irq,
  [FR_SYSTEM_VECTORS + IRQ_TIM6_DAC] = fr_tim6_dac_irq,
  [FR_SYSTEM_VECTORS + IRQ_OTG_FS] = fr_otg_fs_irq,
  [FR_SYSTEM_VECTORS + IRQ_USART6] = fr_usart6_irq,
};
