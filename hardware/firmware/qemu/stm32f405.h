/* STM32F405 register definitions used by the qemu target, written from the
 * reference manual (RM0090) and the Cortex-M4 architecture (ARMv7-M):
 * only what this firmware touches. Addresses are physical; every register is
 * 32 bits wide and accessed as volatile. */
#ifndef FR_STM32F405_H
#define FR_STM32F405_H
#include <stdint.h>

#define FR_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Memory map (RM0090 section 2.3) */
#define FLASH_BASE_ADDR 0x08000000u
#define SRAM_BASE_ADDR 0x20000000u /* SRAM1 112 KiB + SRAM2 16 KiB, contiguous */
#define CCM_BASE_ADDR 0x10000000u  /* 64 KiB core-coupled RAM (no DMA) */

/* RCC (RM0090 section 7.3); the QEMU model does not implement it: writes are
 * harmless, reads return 0, so never wait on a ready bit. */
#define RCC_BASE 0x40023800u
#define RCC_AHB1ENR FR_REG(RCC_BASE + 0x30u)
#define RCC_APB1ENR FR_REG(RCC_BASE + 0x40u)
#define RCC_APB2ENR FR_REG(RCC_BASE + 0x44u)
#define RCC_APB1ENR_TIM2EN (1u << 0)
#define RCC_APB1ENR_TIM3EN (1u << 1)
#define RCC_APB1ENR_TIM5EN (1u << 3)
#define RCC_APB2ENR_USART1EN (1u << 4)

/* USART1 (RM0090 section 30.6), on APB2 */
#define USART1_BASE 0x40011000u
#define USART_SR(b) FR_REG((b) + 0x00u)
#define USART_DR(b) FR_REG((b) + 0x04u)
#define USART_BRR(b) FR_REG((b) + 0x08u)
#define USART_CR1(b) FR_REG((b) + 0x0Cu)
#define USART_CR2(b) FR_REG((b) + 0x10u)
#define USART_CR3(b) FR_REG((b) + 0x14u)
#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TC (1u << 6)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_UE (1u << 13)

/* General-purpose timers TIM2..TIM5 (RM0090 section 18.4); TIM2 and TIM5 are 32-bit */
#define TIM2_BASE 0x40000000u
#define TIM3_BASE 0x40000400u
#define TIM5_BASE 0x40000C00u
#define TIM_CR1(b) FR_REG((b) + 0x00u)
#define TIM_DIER(b) FR_REG((b) + 0x0Cu)
#define TIM_SR(b) FR_REG((b) + 0x10u)
#define TIM_EGR(b) FR_REG((b) + 0x14u)
#define TIM_CNT(b) FR_REG((b) + 0x24u)
#define TIM_PSC(b) FR_REG((b) + 0x28u)
#define TIM_ARR(b) FR_REG((b) + 0x2Cu)
#define TIM_CR1_CEN (1u << 0)
#define TIM_DIER_UIE (1u << 0)
#define TIM_SR_UIF (1u << 0)
#define TIM_EGR_UG (1u << 0)

/* Interrupt numbers (RM0090 table 61) */
#define IRQ_TIM2 28u
#define IRQ_TIM3 29u
#define IRQ_USART1 37u
#define IRQ_TIM5 50u
#define IRQ_COUNT 82u

/* Cortex-M4 system control space (ARMv7-M ARM B3.2) */
#define NVIC_ISER(n) FR_REG(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) FR_REG(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n) FR_REG(0xE000E280u + 4u * (n))
#define SCB_VTOR FR_REG(0xE000ED08u)
#define SCB_AIRCR FR_REG(0xE000ED0Cu)
#define SCB_CPACR FR_REG(0xE000ED88u)
#define SCB_AIRCR_VECTKEY (0x05FAu << 16)
#define SCB_AIRCR_SYSRESETREQ (1u << 2)

static inline void nvic_enable(uint32_t irq) { NVIC_ISER(irq >> 5) = 1u << (irq & 31u); }
static inline void irq_disable_all(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void irq_enable_all(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void wait_for_interrupt(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void data_sync(void) { __asm__ volatile("dsb" ::: "memory"); }

#endif
