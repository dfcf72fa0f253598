/* STM32F405 registers the pyboard target adds to qemu/stm32f405.h, written
 * from the reference manual RM0090 (section numbers given per block): only
 * what this firmware touches. */
#ifndef FR_STM32F405_PERIPH_H
#define FR_STM32F405_PERIPH_H
#include "stm32f405.h"

/* RCC (RM0090 7.3) */
#define RCC_CR FR_REG(RCC_BASE + 0x00u)
#define RCC_PLLCFGR FR_REG(RCC_BASE + 0x04u)
#define RCC_CFGR FR_REG(RCC_BASE + 0x08u)
#define RCC_CSR FR_REG(RCC_BASE + 0x74u)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR_SRC_HSE (1u << 22)
#define RCC_CFGR_SW_PLL 2u
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13)
#define RCC_CSR_IWDGRSTF (1u << 29)
#define RCC_CSR_RMVF (1u << 24)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_AHB1ENR_GPIOBEN (1u << 1)
#define RCC_AHB1ENR_GPIOCEN (1u << 2)
#define RCC_AHB1ENR_DMA1EN (1u << 21)
#define RCC_AHB1ENR_DMA2EN (1u << 22)
#define RCC_APB1ENR_TIM4EN (1u << 2)
#define RCC_APB1ENR_TIM12EN (1u << 6)
#define RCC_APB1ENR_PWREN (1u << 28)
#define RCC_APB1ENR_DACEN (1u << 29)
#define RCC_AHB2ENR FR_REG(RCC_BASE + 0x34u)
#define RCC_AHB2ENR_OTGFSEN (1u << 7)
#define OTG_FS_BASE 0x50000000u
#define RCC_APB2ENR_USART6EN (1u << 5)
#define RCC_APB2ENR_ADC1EN (1u << 8)
#define RCC_APB2ENR_SYSCFGEN (1u << 14)

/* PWR (RM0090 5.4): voltage scale 1 for 168 MHz */
#define PWR_CR FR_REG(0x40007000u)
#define PWR_CR_VOS (1u << 14)

/* Flash interface (RM0090 3.9) */
#define FLASH_R_BASE 0x40023C00u
#define FLASH_ACR FR_REG(FLASH_R_BASE + 0x00u)
#define FLASH_KEYR FR_REG(FLASH_R_BASE + 0x04u)
#define FLASH_SR FR_REG(FLASH_R_BASE + 0x0Cu)
#define FLASH_CR FR_REG(FLASH_R_BASE + 0x10u)
#define FLASH_ACR_LATENCY_5WS 5u
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)
#define FLASH_ACR_ICRST (1u << 11)
#define FLASH_ACR_DCRST (1u << 12)
#define FLASH_KEY1 0x45670123u
#define FLASH_KEY2 0xCDEF89ABu
#define FLASH_SR_EOP (1u << 0)
#define FLASH_SR_ERRORS (0xF0u) /* WRPERR, PGAERR, PGPERR, PGSERR */
#define FLASH_SR_BSY (1u << 16)
#define FLASH_CR_PG (1u << 0)
#define FLASH_CR_SER (1u << 1)
#define FLASH_CR_SNB(n) ((uint32_t)(n) << 3)
#define FLASH_CR_PSIZE_X32 (2u << 8)
#define FLASH_CR_STRT (1u << 16)
#define FLASH_CR_LOCK (1u << 31)

/* GPIO (RM0090 8.4) */
#define GPIOA_BASE 0x40020000u
#define GPIOB_BASE 0x40020400u
#define GPIOC_BASE 0x40020800u
#define GPIO_MODER(b) FR_REG((b) + 0x00u)
#define GPIO_OSPEEDR(b) FR_REG((b) + 0x08u)
#define GPIO_PUPDR(b) FR_REG((b) + 0x0Cu)
#define GPIO_IDR(b) FR_REG((b) + 0x10u)
#define GPIO_AFR(b, pin) FR_REG((b) + 0x20u + 4u * ((pin) >> 3))
enum { GPIO_MODE_INPUT = 0, GPIO_MODE_OUTPUT = 1, GPIO_MODE_AF = 2, GPIO_MODE_ANALOG = 3 };

/* USART6 (RM0090 30.6), on APB2; register layout as USART1 */
#define USART6_BASE 0x40011400u
#define USART_SR_RXNE_ORE (USART_SR_RXNE | USART_SR_ORE)
#define USART_CR1_TXEIE (1u << 7)

/* ADC (RM0090 13.13) */
#define ADC1_BASE 0x40012000u
#define ADC_SR(b) FR_REG((b) + 0x00u)
#define ADC_CR1(b) FR_REG((b) + 0x04u)
#define ADC_CR2(b) FR_REG((b) + 0x08u)
#define ADC_SMPR1(b) FR_REG((b) + 0x0Cu)
#define ADC_SQR1(b) FR_REG((b) + 0x2Cu)
#define ADC_SQR3(b) FR_REG((b) + 0x34u)
#define ADC_DR(b) FR_REG((b) + 0x4Cu)
#define ADC_CCR FR_REG(0x40012300u + 0x04u)
#define ADC_CR1_SCAN (1u << 8)
#define ADC_CR2_ADON (1u << 0)
#define ADC_CR2_DMA (1u << 8)
#define ADC_CR2_DDS (1u << 9)
#define ADC_CR2_EXTSEL_TIM3_TRGO (8u << 24)
#define ADC_CR2_EXTEN_RISING (1u << 28)
#define ADC_CCR_ADCPRE_DIV4 (1u << 16) /* 84 MHz / 4 = 21 MHz ADC clock */

/* DMA (RM0090 10.5) */
#define DMA1_BASE 0x40026000u
#define DMA2_BASE 0x40026400u
#define DMA_LISR(b) FR_REG((b) + 0x00u)
#define DMA_HISR(b) FR_REG((b) + 0x04u)
#define DMA_LIFCR(b) FR_REG((b) + 0x08u)
#define DMA_HIFCR(b) FR_REG((b) + 0x0Cu)
#define DMA_SCR(b, s) FR_REG((b) + 0x10u + 0x18u * (s))
#define DMA_SNDTR(b, s) FR_REG((b) + 0x14u + 0x18u * (s))
#define DMA_SPAR(b, s) FR_REG((b) + 0x18u + 0x18u * (s))
#define DMA_SM0AR(b, s) FR_REG((b) + 0x1Cu + 0x18u * (s))
#define DMA_SM1AR(b, s) FR_REG((b) + 0x20u + 0x18u * (s))
#define DMA_SCR_DBM (1u << 18) /* double buffer: M0AR and M1AR in turn */
#define DMA_SCR_CT (1u << 19)  /* the buffer being read: 0 = M0AR, 1 = M1AR */
#define DMA_SCR_EN (1u << 0)
#define DMA_SCR_HTIE (1u << 3)
#define DMA_SCR_TCIE (1u << 4)
#define DMA_SCR_DIR_M2P (1u << 6)
#define DMA_SCR_CIRC (1u << 8)
#define DMA_SCR_MINC (1u << 10)
#define DMA_SCR_PSIZE_16 (1u << 11)
#define DMA_SCR_MSIZE_16 (1u << 13)
#define DMA_SCR_CHSEL(n) ((uint32_t)(n) << 25)
/* stream 0 flags in LISR/LIFCR; streams 5 and 6 in HISR/HIFCR */
#define DMA_S0_HTIF (1u << 4)
#define DMA_S0_TCIF (1u << 5)
#define DMA_S0_ALL (0x3Du << 0)
#define DMA_S5_ALL (0x3Du << 6)
#define DMA_S5_TCIF (1u << 11)
#define DMA_S5_TEIF (1u << 9)
#define DMA_S6_ALL (0x3Du << 16)

/* DAC (RM0090 14.5) */
#define DAC_BASE 0x40007400u
#define DAC_CR FR_REG(DAC_BASE + 0x00u)
#define DAC_DHR12R1 FR_REG(DAC_BASE + 0x08u)
#define DAC_DHR12R2 FR_REG(DAC_BASE + 0x14u)
#define DAC_DHR12R1_ADDR (DAC_BASE + 0x08u)
#define DAC_DHR12R2_ADDR (DAC_BASE + 0x14u)
#define DAC_CR_EN(ch) (1u << (16u * (ch)))
#define DAC_CR_TEN(ch) (1u << (2u + 16u * (ch)))
#define DAC_CR_TSEL_TIM2(ch) (4u << (3u + 16u * (ch))) /* TIM2 TRGO */
#define DAC_SR FR_REG(DAC_BASE + 0x34u)
#define DAC_SR_DMAUDR(ch) (1u << (13u + 16u * (ch)))
#define DAC_CR_DMAEN(ch) (1u << (12u + 16u * (ch)))
#define DAC_CR_DMAUDRIE(ch) (1u << (13u + 16u * (ch)))

/* More timers (RM0090 17.4, 18.4, 19.4, 20.4) */
#define TIM4_BASE 0x40000800u
#define TIM3_BASE 0x40000400u
#define TIM12_BASE 0x40001800u
#define TIM_CR2(b) FR_REG((b) + 0x04u)
#define TIM_SMCR(b) FR_REG((b) + 0x08u)
#define TIM_CCMR1(b) FR_REG((b) + 0x18u)
#define TIM_CCER(b) FR_REG((b) + 0x20u)
#define TIM_CCR1(b) FR_REG((b) + 0x34u)
#define TIM_CCR2(b) FR_REG((b) + 0x38u)
#define TIM_CR2_MMS_UPDATE (2u << 4)
#define TIM_CR2_MMS_OC1REF (4u << 4)
#define TIM_SMCR_TS_ITR1 (1u << 4) /* TIM3, TIM4: ITR1 is TIM2's TRGO */
#define TIM_SMCR_SMS_TRIGGER 6u    /* the counter starts on the trigger */
#define TIM_SMCR_SMS_EXT_CLOCK 7u  /* the counter counts trigger edges */
#define TIM_DIER_CC1IE (1u << 1)
#define TIM_DIER_CC2IE (1u << 2)
#define TIM_SR_CC1IF (1u << 1)
#define TIM_SR_CC2IF (1u << 2)
#define TIM_SR_CC1OF (1u << 9)
#define TIM_SR_CC2OF (1u << 10)
#define TIM_CCMR1_CC1S_TI1 (1u << 0)
#define TIM_CCMR1_CC2S_TI2 (1u << 8)
#define TIM_CCMR1_OC1M_PWM1 (6u << 4) /* high while CNT < CCR1 */
#define TIM_CCMR1_OC1M_PWM2 (7u << 4) /* high while CNT >= CCR1 */
#define TIM_CCMR1_OC1PE (1u << 3)
#define TIM_CCER_CC1E (1u << 0)
#define TIM_CCER_CC1_BOTH ((1u << 1) | (1u << 3)) /* CC1P + CC1NP: both edges */
#define TIM_CCER_CC2E (1u << 4)
#define TIM_CCER_CC2_BOTH ((1u << 5) | (1u << 7))

/* Independent watchdog (RM0090 21.4), LSI ~32 kHz */
#define IWDG_KR FR_REG(0x40003000u)
#define IWDG_PR FR_REG(0x40003004u)
#define IWDG_RLR FR_REG(0x40003008u)
#define IWDG_SR FR_REG(0x4000300Cu)

/* SYSCFG (RM0090 9.2): memory remap for the ROM bootloader */
#define SYSCFG_MEMRMP FR_REG(0x40013800u)
#define SYSTEM_MEMORY_BASE 0x1FFF0000u

/* Interrupt numbers (RM0090 table 61) */
#define IRQ_DMA1_STREAM5 16u
#define IRQ_TIM8_BRK_TIM12 43u
#define IRQ_TIM6_DAC 54u
#define IRQ_DMA2_STREAM0 56u
#define IRQ_USART6 71u
#define IRQ_OTG_FS 67u

/* Unique device id (RM0090 39.1): 96 bits */
#define UID_BASE 0x1FFF7A10u

/* NVIC priority, one byte per interrupt; the STM32F4 implements the top 4 bits (0 = most urgent) */
#define NVIC_IPR(irq) (*(volatile uint8_t *)(0xE000E400u + (irq)))

#endif
