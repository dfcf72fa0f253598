/* Startup for the qemu target (Cortex-M4, STM32F405): the vector table, the
 * reset handler (copy .data, zero .bss, enable the FPU, call main) and a
 * default handler that resets the core. */
#include <stdint.h>
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

typedef void (*fr_vector)(void);

#define SYSTEM_VECTORS 16u
__attribute__((section(".isr_vector"), used)) const fr_vector fr_vectors[SYSTEM_VECTORS + IRQ_COUNT] = {
  [0] = (fr_vector)(uintptr_t)&_stack_top,
  [1] = fr_reset_handler,
  [2] = fr_default_handler,  /* NMI */
  [3] = fr_default_handler,  /* HardFault */
  [4] = fr_default_handler,  /* MemManage */
  [5] = fr_default_handler,  /* BusFault */
  [6] = fr_default_handler,  /* UsageFault */
  [11] = fr_default_handler, /* SVCall */
  [14] = fr_default_handler, /* PendSV */
  [15] = fr_default_handler, /* SysTick */
  [SYSTEM_VECTORS + IRQ_TIM2] = fr_tim2_irq,
  [SYSTEM_VECTORS + IRQ_TIM3] = fr_tim3_irq,
  [SYSTEM_VECTORS + IRQ_USART1] = fr_usart1_irq,
};
