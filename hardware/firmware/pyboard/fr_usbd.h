/* USB device driver for the STM32F405's OTG_FS core (device mode, full speed,
 * embedded PHY): the pyboard's own micro-USB connector as a CDC ACM virtual
 * COM port (VID 0x0483 / PID 0x5740; Linux: /dev/ttyACMn) carrying the
 * firmware's byte stream. The USB logic (descriptors, requests, packetising,
 * RX ring) is fr_cdc; this file moves its packets through the peripheral.
 * Pure C11 without vendor headers; the host tests (test/pyboard_usbd.c) run
 * it against a model of the core.
 *
 * Wiring, for the HAL (pyboard v1.1, RM0090 / STM32F405 datasheet):
 *  - Clock: the PLL's Q output must be 48 MHz (12 MHz HSE, M 12, N 336, Q 7,
 *    as clocks_init() sets it); enable the core with RCC_AHB2ENR bit 7
 *    (OTGFSEN, RCC base 0x4002 3800 + 0x34) before fr_usbd_init().
 *  - Pins: PA11 = OTG_FS_DM, PA12 = OTG_FS_DP, alternate function AF10, high
 *    speed. PA9 = VBUS: leave it an input (its reset state); the VBUS
 *    comparator is an additional function, not an AF, and the driver enables
 *    it (GCCFG.VBUSBSEN). PA10 (OTG_FS_ID on the pyboard) stays a plain GPIO:
 *    the driver forces device mode, the ID pin is not used.
 *  - Interrupt: OTG_FS global interrupt, NVIC position 67; its handler calls
 *    fr_usbd_irq(). (OTG_FS_WKUP, EXTI line 18, position 42, is not needed.)
 *  - Call order: clocks, pins, fr_usbd_init(&usb, (volatile uint32_t *)0x50000000u,
 *    serial), then enable IRQ 67. fr_usbd_read / fr_usbd_write from the main
 *    loop only.
 *
 * Concurrency: the interrupt handler and the main loop share the state below.
 * The main-loop calls (read, write, connected, tx_idle) mask the core's
 * interrupt line with GAHBCFG.GINTMSK around their work and fr_usbd_irq()
 * returns at once if it finds that mask cleared, so an interrupt that was
 * already pending in the NVIC when the mask went down cannot touch the state
 * either; events wait in the core's status registers and raise the line again
 * when the mask is set. No NVIC access is needed for this. */
#ifndef FR_USBD_H
#define FR_USBD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fr_cdc.h"

#define FR_USBD_TX_RING 2048u /* bulk IN queue, bytes (a power of two) */

/* The 1.25 KB (320-word) FIFO RAM of OTG_FS, in 32-bit words. */
#define FR_USBD_RX_FIFO_WORDS 160u /* shared RX FIFO: SETUPs, EP0 OUT, bulk OUT */
#define FR_USBD_EP0_FIFO_WORDS 16u /* EP0 IN: one 64-byte packet at a time */
#define FR_USBD_BULK_FIFO_WORDS 128u /* EP1 IN (CDC data) */
#define FR_USBD_NOTIFY_FIFO_WORDS 16u /* EP2 IN (CDC notifications): the minimum depth */
#define FR_USBD_FIFO_RAM_WORDS 320u

typedef enum {
  FR_USBD_EP0_IDLE,     /* waiting for a SETUP */
  FR_USBD_EP0_DATA_IN,  /* sending the reply of a control read */
  FR_USBD_EP0_DATA_OUT, /* collecting the data stage of a control write */
} fr_usbd_ep0_state;

typedef struct {
  volatile uint32_t *regs; /* the OTG_FS block; the FIFO windows follow at +0x1000 per endpoint */
  fr_cdc cdc;

  /* EP0 */
  fr_usbd_ep0_state ep0;
  uint8_t setup[8];                  /* the latest SETUP packet, as received */
  uint8_t ep0_buf[FR_CDC_REPLY_MAX]; /* reply being sent, or OUT data being collected */
  size_t ep0_len;                    /* OUT data stage: bytes expected (wLength) */
  size_t ep0_got;                    /* OUT data stage: bytes collected */
  fr_cdc_tx ep0_tx;                  /* IN data stage: packets of the reply */

  /* CDC data, bulk IN (EP1): a ring the main loop fills; each transfer takes
   * what is queued when it starts and is sent one packet at a time. */
  uint8_t tx[FR_USBD_TX_RING];
  uint32_t tx_head, tx_tail; /* free-running byte counts */
  fr_cdc_tx tx_xfer;
  size_t tx_packet_len; /* the packet in flight, at tx_tail */
  bool tx_busy;         /* a transfer is in flight */
  uint32_t tx_dropped;  /* bytes written while no host program had the port open */

  /* CDC data, bulk OUT (EP1) */
  bool out_parked; /* OUT endpoint left disabled (NAKing) until the RX ring has room */

  bool suspended;
} fr_usbd;

/* Resets and configures the core and connects (D+ pull-up, once VBUS is
 * seen). `serial` is the USB serial-number string (kept by pointer). */
void fr_usbd_init(fr_usbd *u, volatile uint32_t *otg_base, const char *serial);
/* The body of the OTG_FS interrupt handler. */
void fr_usbd_irq(fr_usbd *u);
/* Bytes the host sent (0..max), oldest first; never blocks. */
size_t fr_usbd_read(fr_usbd *u, uint8_t *buf, size_t max);
/* Queues bytes for the host; never blocks. Connected: returns how many fitted
 * in the TX ring (0 when it is full). Not connected: the bytes are dropped,
 * counted in tx_dropped, and reported as taken (returns len) so the caller's
 * stream does not stall on a closed port. */
size_t fr_usbd_write(fr_usbd *u, const uint8_t *buf, size_t len);
/* Bytes from the host wait for fr_usbd_read (the main loop must not sleep). */
bool fr_usbd_rx_pending(const fr_usbd *u);
/* Configured by the host, not suspended, and DTR set (a program has the port open). */
bool fr_usbd_connected(const fr_usbd *u);
/* Nothing queued and nothing in flight: what was written has reached the host.
 * Data queued before the host closed the port waits for the next open (the
 * host is not reading), so flush with
 * `while (!fr_usbd_tx_idle(u) && fr_usbd_connected(u))`. */
bool fr_usbd_tx_idle(const fr_usbd *u);

/* The register seam. Every access the driver makes to the core goes through
 * these two, with byte offsets into the block (fr_usbd_regs.h). The firmware
 * uses the definitions in fr_usbd.c, a volatile load or store at
 * otg_base + offset; they are weak so that the host test can link its own,
 * which model what the silicon does on an access (FIFO pops and pushes,
 * write-1-to-clear and self-clearing bits). */
uint32_t fr_usbd_reg_read(volatile uint32_t *otg_base, uint32_t offset);
void fr_usbd_reg_write(volatile uint32_t *otg_base, uint32_t offset, uint32_t value);

#endif
