/* Startup for the qemu target (Cortex-M4, STM32F405): the vector table, the
 * reset handler (copy .data, zero .bss, enable the FPU, call main) and a
 * default handler that resets the core. */
#include <stdint.h>
#include "cortex_m_vectors.h"
#include "stm32f405.h"

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _stack_top;
extern int main(void);

void fr_reset_handler(void);
void fr_default_handler(void);
void fr_tim2_irq(void);
void fr_tim3_irq(void);
void fr_usart1_irq(void);

void fr_default_handler(void) {
  SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
  for (;;) {
  }
}

void fr_reset_handler(void) {
  uint32_t *src = &_data_load;
  for (uint32_t *dst = &_data_start; dst < &_data_end;) *dst++ = *src++;
  for (uint32_t *dst = &_bss_start; dst < &_bss_end;) *dst++ = 0;
  SCB_CPACR |= 0xFu << 20; /* CP10, CP11: full access to the FPU */
  data_sync();
  __asm__ volatile("isb");
  (void)main();
  fr_default_handler();
}

__attribute__((section(".isr_vector"), used)) const fr_vector fr_vectors[FR_SYSTEM_VECTORS + IRQ_COUNT] = {
  FR_CORTEX_M_SYSTEM_VECTORS(_stack_top, fr_reset_handler, fr_default_handler),
  [FR_SYSTEM_VECTORS + IRQ_TIM2] = fr_tim2_irq,
  [FR_SYSTEM_VECTORS + IRQ_TIM3] = fr_tim3_irq,
  [FR_SYSTEM_VECTORS + IRQ_USART1] = fr_usart1_irq,
};
