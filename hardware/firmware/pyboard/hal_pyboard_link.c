/* The pyboard's link (hal_pyboard.c describes the target): the board's own
 * USB connector as a CDC ACM port (fr_usbd.c, fr_cdc.c) while a host program
 * has it open, else USART6 at 921600 Bd; both interrupt driven. */
#include "fr_hal.h"
#include "fr_usbd.h"
#include "hal_pyboard.h"
#include "stm32f405_periph.h"

#define RX_RING 1024u
#define TX_RING 2048u

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;
static volatile uint8_t tx_ring[TX_RING];
static volatile uint32_t tx_head, tx_tail;
static fr_usbd usb;

void fr_usart6_irq(void);
void fr_otg_fs_irq(void);

void fr_otg_fs_irq(void) { fr_usbd_irq(&usb); }

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

void pyb_usart_init(void) {
  RCC_APB2ENR |= RCC_APB2ENR_USART6EN;
  /* APB2 84 MHz, 16x oversampling: 84e6 / (16 x 921600) = 5.697 -> mantissa 5, fraction 11/16 */
  USART_BRR(USART6_BASE) = (5u << 4) | 11u;
  USART_CR1(USART6_BASE) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
  nvic_enable(IRQ_USART6);
}

void pyb_usb_init(void) {
  RCC_AHB2ENR |= RCC_AHB2ENR_OTGFSEN;
  pyb_gpio_mode(GPIOA_BASE, 11, GPIO_MODE_AF, 10); /* OTG_FS_DM */
  pyb_gpio_mode(GPIOA_BASE, 12, GPIO_MODE_AF, 10); /* OTG_FS_DP; PA9 (VBUS) stays an input */
  fr_usbd_init(&usb, (volatile uint32_t *)OTG_FS_BASE, fr_pyboard_serial);
  nvic_enable(IRQ_OTG_FS);
}

/* USB while a host program has the port open, else the USART. */
size_t fr_hal_link_read(uint8_t *buf, size_t max) {
  size_t n = fr_usbd_read(&usb, buf, max);
  if (n > 0) return n;
  while (n < max && rx_tail != rx_head) buf[n++] = rx_ring[rx_tail++ % RX_RING];
  return n;
}

size_t fr_hal_link_write(const uint8_t *buf, size_t len) {
  if (fr_usbd_connected(&usb)) return fr_usbd_write(&usb, buf, len);
  size_t n = 0;
  while (n < len && tx_head - tx_tail < TX_RING) tx_ring[tx_head++ % TX_RING] = buf[n++];
  if (n) USART_CR1(USART6_BASE) |= USART_CR1_TXEIE;
  return n;
}

bool pyb_link_rx_idle(void) { return rx_tail == rx_head && !fr_usbd_rx_pending(&usb); }

void pyb_link_flush(void) {
  while (tx_tail != tx_head || !(USART_SR(USART6_BASE) & USART_SR_TC)) {
  }
  /* the ack reaches the host unless it stopped reading: then give up after 200 ms */
  uint64_t give_up = pyb_ticks_now(NULL) + TIMER_HZ / 5u;
  while (fr_usbd_connected(&usb) && !fr_usbd_tx_idle(&usb) && pyb_ticks_now(NULL) < give_up) {
  }
}
