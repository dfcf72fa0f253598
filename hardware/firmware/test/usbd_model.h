/* A model of the STM32F405's OTG_FS core for the host-build tests of the
 * pyboard's USB device driver (pyboard/fr_usbd.c; the tests: pyboard_usbd.c).
 * The model replaces the driver's register seam (fr_usbd_reg_read /
 * fr_usbd_reg_write) and keeps a fake register block behind it with what the
 * silicon adds to plain memory: the RX FIFO behind GRXSTSP and the data
 * windows (entries tagged status/data so a pop of the wrong kind is caught), a
 * TX FIFO per IN endpoint with its programmed depth, write-1-to-clear
 * interrupt registers, GINTSTS/DAINT summaries computed from the endpoint
 * interrupts, self-clearing reset and flush bits, the write-only NAK/DATA0
 * bits of the endpoint control registers, EPENA cleared at transfer
 * completion, and EP0's STALL cleared by a SETUP. A "host" drives it packet by
 * packet (SETUP, OUT, IN tokens answered ACK/NAK/STALL). An access the
 * silicon would not make sense of is counted in core.errors. */
#ifndef USBD_MODEL_H
#define USBD_MODEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fr_usbd.h"

#define REG_WORDS (0x20000u / 4u) /* the OTG_FS block and its FIFO windows */
#define FIFO_ENTRIES 1024u
#define EPS 4u

/* host handshakes */
enum { ACK, NAK, STALL };

typedef struct {
  uint32_t word;
  bool status; /* a GRXSTSP entry (else a data word) */
} rx_entry;

typedef struct {
  uint32_t regs[REG_WORDS];
  rx_entry rx[FIFO_ENTRIES];
  size_t rx_head, rx_tail;
  uint32_t tx[EPS][FIFO_ENTRIES];
  size_t tx_words[EPS];
  uint32_t last_in[16]; /* the FIFO words of the last IN packet sent */
  size_t last_in_words;
  bool in_nak[EPS], out_nak[EPS], in_data0[EPS], out_data0[EPS];
  int core_resets, rx_flushes, tx_flushes[EPS + 1]; /* [EPS]: all at once */
  bool connect_ready;                               /* everything set up when SDIS went down */
  int errors;                                       /* accesses the silicon would not make sense of */
  fr_usbd *irq_target;                              /* set: clearing GAHBCFG.GINTMSK takes a pending interrupt */
  int irqs_while_masked;
} usbd_model;

extern usbd_model core; /* the model's state */
extern fr_usbd usb;     /* the driver under test, on core.regs */

#define REG(off) core.regs[(off) / 4u]

/* The NVIC: runs the handler while the core's line is asserted; returns how often. */
int run_irq(void);
/* A bus reset, then enumeration at full speed. */
void host_bus_reset(void);
/* A SETUP packet (it is always taken). */
void host_setup(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length);
/* An OUT token with `len` bytes: ACK (queued in the RX FIFO), NAK or STALL. */
int host_out(uint32_t ep, const uint8_t *data, size_t len);
/* An IN token: ACK with the packet (into out, *len bytes), NAK or STALL. */
int host_in(uint32_t ep, uint8_t *out, size_t *len);

typedef struct {
  uint8_t data[512];
  size_t len;
  int packets;
  size_t last_packet;
} ctrl_reply;

/* A control read: SETUP, IN packets until a short one or wLength bytes, then
 * the zero-length status OUT. Returns the first non-ACK handshake, or ACK. */
int ctrl_read(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length, ctrl_reply *r);
/* A control write, with an OUT data stage when len > 0: returns the status stage's handshake. */
int ctrl_write(uint8_t type, uint8_t request, uint16_t value, uint16_t index, const uint8_t *data, uint16_t len);
/* EP0 IN answers NAK (nothing queued). */
bool ep0_in_quiet(void);

/* SET_LINE_CODING's data for 921600 Bd 8N1 */
extern const uint8_t line_coding_921600[7];

/* A fresh model and the driver initialised on it. */
void start(const char *serial);
/* start, bus reset, address, configuration, line coding and DTR: a terminal program opened the port */
bool open_port(const char *serial);

#endif
