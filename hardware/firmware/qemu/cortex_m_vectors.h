/* The Cortex-M4 system part of a vector table (entries 0..15), shared by the qemu and pyboard
 * images: the initial stack pointer, the reset handler, and one handler for every fault and
 * system exception. Each image lists its own peripheral IRQs after FR_SYSTEM_VECTORS. */
#ifndef FR_CORTEX_M_VECTORS_H
#define FR_CORTEX_M_VECTORS_H
#include <stdint.h>

typedef void (*fr_vector)(void);

#define FR_SYSTEM_VECTORS 16u

/* Designated initializers for entries 0..15 of `const fr_vector table[FR_SYSTEM_VECTORS + IRQ_COUNT]`. */
#define FR_CORTEX_M_SYSTEM_VECTORS(stack_top, reset, fault) \
  [0] = (fr_vector)(uintptr_t)&(stack_top),                 \
  [1] = (reset),                                            \
  [2] = (fault),  /* NMI */                                 \
  [3] = (fault),  /* HardFault */                           \
  [4] = (fault),  /* MemManage */                           \
  [5] = (fault),  /* BusFault */                            \
  [6] = (fault),  /* UsageFault */                          \
  [11] = (fault), /* SVCall */                              \
  [14] = (fault), /* PendSV */                              \
  [15] = (fault)  /* SysTick */

#endif
