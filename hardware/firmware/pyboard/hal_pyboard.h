/* Internal to the pyboard HAL (hal_pyboard*.c): what its files share. The
 * HAL's interface is core/fr_hal.h; hal_pyboard.c describes the whole target. */
#ifndef HAL_PYBOARD_H
#define HAL_PYBOARD_H
#include <stdbool.h>
#include <stdint.h>

#define TIMER_HZ 84000000u /* APB1 timers (TIM2..TIM5, TIM12) */

extern char fr_pyboard_serial[33]; /* pyboard/board_pyboard.c */

/* hal_pyboard.c: pins, the device clock (TIM5), the watchdog */
void pyb_gpio_mode(uint32_t port, uint32_t pin, uint32_t mode, uint32_t af);
/* TIM5 ticks since power on, 64-bit (main loop only: read far more often than
 * every 51 s); *raw (unless NULL): TIM5's 32-bit count at that tick. */
uint64_t pyb_ticks_now(uint32_t *raw);
uint64_t pyb_ticks_ns(uint64_t ticks);
void pyb_watchdog_kick(void);

/* hal_pyboard_acq.c: the acquisition hardware (sample clock, ADC, LED DAC tables, edges, sync output) */
void pyb_acq_init(void);
bool pyb_acq_idle(void); /* no ADC half waits for the main loop */

/* hal_pyboard_link.c: the USB CDC port and USART6 */
void pyb_usart_init(void);
void pyb_usb_init(void);
bool pyb_link_rx_idle(void); /* nothing received waits to be read */
/* Lets what was written leave (a Reset's Ack): the USART drained, USB up to 200 ms. */
void pyb_link_flush(void);

#endif
