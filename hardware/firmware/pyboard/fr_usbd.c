/* One unit: one driver of one peripheral (OTG_FS), whose interrupt handler and endpoint state machines share every register. */
/* OTG_FS device driver: see fr_usbd.h. The programming model (core and
 * device initialisation, reset and enumeration handling, packet read from the
 * RX FIFO, packet write into a TX FIFO, endpoint activation) follows RM0090
 * chapter 34; registers are in fr_usbd_regs.h.
 *
 * Every transfer this driver programs is a single packet (PKTCNT 1): the
 * interrupt of one packet's completion starts the next. That keeps each TX
 * FIFO at most one packet full, so a packet is written without checking the
 * FIFO's free space, and no TX-FIFO-empty interrupts are needed. */
#include "fr_usbd.h"

#include <stdatomic.h>
#include <string.h>

#include "fr_usbd_regs.h"

#define EP0 0u
#define EP_DATA (FR_CDC_IN_EP & 0x7Fu) /* bulk IN and bulk OUT share endpoint number 1 */
#define EP_NOTIFY (FR_CDC_NOTIFY_EP & 0x7Fu)
#define REQ_TYPE_MASK 0x60u /* bmRequestType bits 6:5: standard, class, vendor */
#define REQ_TYPE_STANDARD 0x00u
#define REQ_RECIPIENT_MASK 0x1Fu
#define REQ_RECIPIENT_ENDPOINT 0x02u
#define REQ_CLEAR_FEATURE 0x01u
#define FEATURE_ENDPOINT_HALT 0x00u
#define REQ_SET_ADDRESS 0x05u
#define REQ_SET_CONFIGURATION 0x09u
#define TRDT_AHB_ABOVE_32MHZ 6u /* RM0090's TRDT table; the pyboard's AHB runs at 168 MHz */
#define SPIN_LIMIT (1u << 20)   /* bound of every busy wait: tens of ms, far above what the core needs */
/* EP0 OUT ready for one packet of up to 64 bytes and (STUPCNT) three back-to-back SETUPs */
#define EP0_OUT_TSIZ (OTG_DOEPTSIZ0_STUPCNT(3u) | OTG_TSIZ_PKTCNT(1u) | OTG_TSIZ_XFRSIZ(FR_CDC_EP0_SIZE))

_Static_assert((FR_CDC_OUT_EP & 0x7Fu) == EP_DATA, "bulk OUT and bulk IN share one endpoint number");
_Static_assert(FR_USBD_RX_FIFO_WORDS + FR_USBD_EP0_FIFO_WORDS + FR_USBD_BULK_FIFO_WORDS + FR_USBD_NOTIFY_FIFO_WORDS <= FR_USBD_FIFO_RAM_WORDS,
               "the FIFOs fit the 1.25 KB FIFO RAM");
_Static_assert((FR_USBD_TX_RING & (FR_USBD_TX_RING - 1u)) == 0, "ring indices wrap with the free-running counters");

/* ------------------------------------------------------ register seam */

__attribute__((weak)) uint32_t fr_usbd_reg_read(volatile uint32_t *otg_base, uint32_t offset) { return otg_base[offset / 4u]; }

__attribute__((weak)) void fr_usbd_reg_write(volatile uint32_t *otg_base, uint32_t offset, uint32_t value) {
  otg_base[offset / 4u] = value;
}

static uint32_t rd(const fr_usbd *u, uint32_t offset) { return fr_usbd_reg_read(u->regs, offset); }
static void wr(const fr_usbd *u, uint32_t offset, uint32_t value) { fr_usbd_reg_write(u->regs, offset, value); }
static void set_bits(const fr_usbd *u, uint32_t offset, uint32_t bits) { wr(u, offset, rd(u, offset) | bits); }

/* Waits until (reg & mask) == want, or gives up after SPIN_LIMIT reads: a
 * core without its 48 MHz clock never finishes a reset or flush, and the
 * firmware must keep running (without USB) rather than hang. */
static void wait_for(const fr_usbd *u, uint32_t offset, uint32_t mask, uint32_t want) {
  for (uint32_t i = 0; i < SPIN_LIMIT && (rd(u, offset) & mask) != want; i++) {
  }
}

static void flush_tx_fifo(const fr_usbd *u, uint32_t txfnum) {
  wr(u, OTG_GRSTCTL, OTG_GRSTCTL_TXFNUM(txfnum) | OTG_GRSTCTL_TXFFLSH);
  wait_for(u, OTG_GRSTCTL, OTG_GRSTCTL_TXFFLSH, 0);
}

/* ------------------------------------------------------------ FIFOs */

/* Pops a received packet of `count` bytes, keeping the first `room`. The
 * FIFO is word-wide: bytes are packed little-endian, the last word padded. */
static void fifo_read(const fr_usbd *u, uint8_t *dst, size_t room, size_t count) {
  for (size_t i = 0; i < count; i += 4u) {
    uint32_t word = rd(u, OTG_DFIFO(EP0)); /* any window pops the shared RX FIFO */
    for (size_t b = 0; b < 4u && i + b < count; b++) {
      if (i + b < room) dst[i + b] = (uint8_t)(word >> (8u * b));
    }
  }
}

static void fifo_write(const fr_usbd *u, uint32_t ep, const uint8_t *src, size_t count) {
  for (size_t i = 0; i < count; i += 4u) {
    uint32_t word = 0;
    for (size_t b = 0; b < 4u && i + b < count; b++) word |= (uint32_t)src[i + b] << (8u * b);
    wr(u, OTG_DFIFO(ep), word);
  }
}

/* One IN packet (len 0: a zero-length packet): size first, then enable, then
 * the data, in the order RM0090 gives for IN transfers. */
static void in_packet(const fr_usbd *u, uint32_t ep, const uint8_t *data, size_t len) {
  wr(u, OTG_DIEPTSIZ(ep), OTG_TSIZ_PKTCNT(1u) | OTG_TSIZ_XFRSIZ(len));
  set_bits(u, OTG_DIEPCTL(ep), OTG_EPCTL_EPENA | OTG_EPCTL_CNAK);
  fifo_write(u, ep, data, len);
}

/* ----------------------------------------------------- shared state */

/* The main loop's critical section (see fr_usbd.h): the core's interrupt line
 * is masked at the source and fr_usbd_irq() ignores an entry that raced with
 * the mask. The fences keep the compiler from moving state accesses across. */
static void irq_mask(const fr_usbd *u) {
  wr(u, OTG_GAHBCFG, rd(u, OTG_GAHBCFG) & ~OTG_GAHBCFG_GINTMSK);
  atomic_signal_fence(memory_order_seq_cst);
}

static void irq_unmask(const fr_usbd *u) {
  atomic_signal_fence(memory_order_seq_cst);
  set_bits(u, OTG_GAHBCFG, OTG_GAHBCFG_GINTMSK);
}

static bool link_up(const fr_usbd *u) { return fr_cdc_link_up(&u->cdc) && !u->suspended; }

/* ---------------------------------------------------- data endpoints */

static void arm_bulk_out(const fr_usbd *u) {
  wr(u, OTG_DOEPTSIZ(EP_DATA), OTG_TSIZ_PKTCNT(1u) | OTG_TSIZ_XFRSIZ(FR_CDC_BULK_SIZE));
  set_bits(u, OTG_DOEPCTL(EP_DATA), OTG_EPCTL_EPENA | OTG_EPCTL_CNAK);
}

/* After an OUT packet: take the next one only if the RX ring has room for a
 * whole packet; otherwise the endpoint stays disabled, so the core NAKs and
 * the host retries, until fr_usbd_read() has made room. */
static void bulk_out_done(fr_usbd *u) {
  if (fr_cdc_rx_ready(&u->cdc)) arm_bulk_out(u);
  else u->out_parked = true;
}

static void bulk_in_start(fr_usbd *u);

/* The next packet of the bulk IN transfer, or the next transfer. Packets
 * leave the ring as they complete (tx_tail), so the transfer's packet at
 * offset `off` starts at the ring's tail. */
static void bulk_in_next(fr_usbd *u) {
  size_t off, len;
  if (!fr_cdc_tx_next(&u->tx_xfer, &off, &len)) {
    bulk_in_start(u);
    return;
  }
  uint8_t packet[FR_CDC_BULK_SIZE];
  for (size_t i = 0; i < len; i++) packet[i] = u->tx[(u->tx_tail + i) % FR_USBD_TX_RING];
  u->tx_packet_len = len;
  in_packet(u, EP_DATA, packet, len);
}

/* A transfer takes whatever is queued now; what is written meanwhile goes
 * into the next one. */
static void bulk_in_start(fr_usbd *u) {
  size_t queued = u->tx_head - u->tx_tail;
  u->tx_busy = queued != 0;
  if (!u->tx_busy) return;
  fr_cdc_tx_start(&u->tx_xfer, queued);
  bulk_in_next(u);
}

static void bulk_in_done(fr_usbd *u) {
  u->tx_tail += (uint32_t)u->tx_packet_len;
  bulk_in_next(u);
}

/* Endpoint activation (RM0090 "Endpoint activation"): type, maximum packet,
 * TX FIFO number, active, DATA0 toggle; SET_CONFIGURATION resets toggles. */
static void data_endpoints_on(fr_usbd *u) {
  wr(u, OTG_DIEPCTL(EP_DATA),
     OTG_EPCTL_MPSIZ(FR_CDC_BULK_SIZE) | OTG_EPCTL_USBAEP | OTG_EPCTL_EPTYP(OTG_EPTYP_BULK) | OTG_EPCTL_TXFNUM(EP_DATA) |
       OTG_EPCTL_SD0PID | OTG_EPCTL_SNAK);
  wr(u, OTG_DIEPCTL(EP_NOTIFY),
     OTG_EPCTL_MPSIZ(FR_CDC_NOTIFY_SIZE) | OTG_EPCTL_USBAEP | OTG_EPCTL_EPTYP(OTG_EPTYP_INTERRUPT) |
       OTG_EPCTL_TXFNUM(EP_NOTIFY) | OTG_EPCTL_SD0PID | OTG_EPCTL_SNAK);
  wr(u, OTG_DOEPCTL(EP_DATA),
     OTG_EPCTL_MPSIZ(FR_CDC_BULK_SIZE) | OTG_EPCTL_USBAEP | OTG_EPCTL_EPTYP(OTG_EPTYP_BULK) | OTG_EPCTL_SD0PID | OTG_EPCTL_SNAK);
  set_bits(u, OTG_DAINTMSK, OTG_DAINT_IN(EP_DATA) | OTG_DAINT_OUT(EP_DATA));
  arm_bulk_out(u);
}

/* Deactivates EP1 and EP2 and forgets queued data: on a bus reset, a session
 * end, and before every SET_CONFIGURATION. An enabled endpoint gets EPDIS
 * (the core finishes the disable by itself; nothing waits for EPDISD); its
 * FIFO is then flushed, the host is not polling it meanwhile. */
static void data_endpoints_off(fr_usbd *u) {
  const uint32_t in_eps[2] = {EP_DATA, EP_NOTIFY};
  for (size_t i = 0; i < 2u; i++) {
    uint32_t ep = in_eps[i];
    wr(u, OTG_DIEPCTL(ep), OTG_EPCTL_SNAK | ((rd(u, OTG_DIEPCTL(ep)) & OTG_EPCTL_EPENA) ? OTG_EPCTL_EPDIS : 0u));
    flush_tx_fifo(u, ep);
    wr(u, OTG_DIEPINT(ep), 0xFFFFFFFFu);
  }
  wr(u, OTG_DOEPCTL(EP_DATA), OTG_EPCTL_SNAK | ((rd(u, OTG_DOEPCTL(EP_DATA)) & OTG_EPCTL_EPENA) ? OTG_EPCTL_EPDIS : 0u));
  wr(u, OTG_DOEPINT(EP_DATA), 0xFFFFFFFFu);
  wr(u, OTG_DAINTMSK, rd(u, OTG_DAINTMSK) & ~(OTG_DAINT_IN(EP_DATA) | OTG_DAINT_OUT(EP_DATA)));
  u->tx_head = u->tx_tail = 0;
  u->tx_busy = false;
  u->out_parked = false;
}

/* ------------------------------------------------------------- EP0 */

/* EP0 OUT takes one packet: an OUT data stage's, or the zero-length status
 * packet that ends a control read. Its size is left alone while a previous
 * arming is still pending (RM0090: DOEPTSIZ is written only while the
 * endpoint is disabled); CNAK is always needed, the core sets NAK on EP0 OUT
 * when a SETUP arrives. */
static void ep0_arm_out(const fr_usbd *u) {
  if (!(rd(u, OTG_DOEPCTL(EP0)) & OTG_EPCTL_EPENA)) wr(u, OTG_DOEPTSIZ(EP0), EP0_OUT_TSIZ);
  set_bits(u, OTG_DOEPCTL(EP0), OTG_EPCTL_EPENA | OTG_EPCTL_CNAK);
}

/* Both directions: the host's next IN or OUT of this control transfer gets a
 * STALL handshake; the core clears EP0's STALL bits on the next SETUP. */
static void ep0_stall(fr_usbd *u) {
  set_bits(u, OTG_DIEPCTL(EP0), OTG_EPCTL_STALL);
  set_bits(u, OTG_DOEPCTL(EP0), OTG_EPCTL_STALL);
  u->ep0 = FR_USBD_EP0_IDLE;
}

/* Status stage of a request without data stage, or after an OUT data stage. */
static void ep0_status_in(fr_usbd *u) {
  u->ep0 = FR_USBD_EP0_IDLE;
  in_packet(u, EP0, u->ep0_buf, 0);
}

static void ep0_in_next(fr_usbd *u) {
  size_t off, len;
  if (!fr_cdc_tx_next(&u->ep0_tx, &off, &len)) {
    u->ep0 = FR_USBD_EP0_IDLE; /* the host's status OUT lands in the armed EP0 OUT */
    return;
  }
  in_packet(u, EP0, u->ep0_buf + off, len);
}

/* The side effects of a standard request that fr_cdc accepted, before its
 * status stage goes out. */
static void ep0_apply(fr_usbd *u, const fr_usb_setup *s) {
  if ((s->bm_request_type & REQ_TYPE_MASK) != REQ_TYPE_STANDARD) return; /* class requests: nothing for the core */
  if (s->b_request == REQ_SET_ADDRESS) {
    /* RM0090's SetAddress sequence: program DCFG.DAD with the new address,
     * then send the status IN. Unlike cores that must wait for the status
     * stage to finish, this one takes the address now and still answers the
     * status stage's IN token at the old address 0 itself. */
    wr(u, OTG_DCFG, (rd(u, OTG_DCFG) & ~OTG_DCFG_DAD_MASK) | ((uint32_t)u->cdc.address << OTG_DCFG_DAD_SHIFT));
  } else if (s->b_request == REQ_SET_CONFIGURATION) {
    data_endpoints_off(u);
    if (u->cdc.configuration != 0) data_endpoints_on(u);
  } else if (s->b_request == REQ_CLEAR_FEATURE && (s->bm_request_type & REQ_RECIPIENT_MASK) == REQ_RECIPIENT_ENDPOINT &&
             s->w_value == FEATURE_ENDPOINT_HALT && u->cdc.configuration != 0) {
    /* USB 2.0 9.4.5: the endpoint's data toggle restarts at DATA0, halted or
     * not (hosts send this when they reset a pipe) */
    if (s->w_index == FR_CDC_IN_EP || s->w_index == FR_CDC_NOTIFY_EP) set_bits(u, OTG_DIEPCTL(s->w_index & 0x7Fu), OTG_EPCTL_SD0PID);
    if (s->w_index == FR_CDC_OUT_EP) set_bits(u, OTG_DOEPCTL(EP_DATA), OTG_EPCTL_SD0PID);
  }
}

static void ep0_setup(fr_usbd *u) {
  const uint8_t *p = u->setup;
  fr_usb_setup s = {p[0], p[1], (uint16_t)(p[2] | p[3] << 8), (uint16_t)(p[4] | p[5] << 8), (uint16_t)(p[6] | p[7] << 8)};
  size_t reply_len = 0;
  /* a SETUP ends whatever control transfer was in progress */
  u->ep0 = FR_USBD_EP0_IDLE;
  switch (fr_cdc_control(&u->cdc, &s, u->ep0_buf, sizeof u->ep0_buf, &reply_len)) {
    case FR_CDC_STALL:
      ep0_stall(u);
      return;
    case FR_CDC_STATUS:
      ep0_apply(u, &s);
      ep0_status_in(u);
      return;
    case FR_CDC_DATA_IN:
      u->ep0 = FR_USBD_EP0_DATA_IN;
      fr_cdc_tx_start_control(&u->ep0_tx, reply_len, s.w_length);
      ep0_arm_out(u);
      ep0_in_next(u);
      return;
    case FR_CDC_DATA_OUT:
      if (s.w_length > sizeof u->ep0_buf) {
        ep0_stall(u);
        return;
      }
      u->ep0 = FR_USBD_EP0_DATA_OUT;
      u->ep0_len = s.w_length;
      u->ep0_got = 0;
      ep0_arm_out(u);
      return;
  }
}

/* An EP0 OUT packet of `count` bytes: data-stage bytes are collected; the
 * stage ends with wLength bytes or a short packet. Anything else (the status
 * stage's zero-length packet) is only popped. */
static void ep0_out_packet(fr_usbd *u, size_t count) {
  if (u->ep0 != FR_USBD_EP0_DATA_OUT) {
    fifo_read(u, u->ep0_buf, 0, count);
    return;
  }
  size_t room = u->ep0_len - u->ep0_got;
  fifo_read(u, u->ep0_buf + u->ep0_got, room, count);
  u->ep0_got += count < room ? count : room;
  if (u->ep0_got < u->ep0_len && count == FR_CDC_EP0_SIZE) return; /* more packets: re-armed on XFRC */
  if (fr_cdc_control_data(&u->cdc, u->ep0_buf, u->ep0_got) == FR_CDC_STATUS) ep0_status_in(u);
  else ep0_stall(u);
}

/* --------------------------------------------------------- interrupt */

/* RM0090 "Initialization on USB reset": NAK on the OUT endpoints, unmask
 * EP0's interrupts, make EP0 ready for SETUP packets; plus our own: address
 * 0, data endpoints off, TX FIFOs empty, fr_cdc back to its default state. */
static void bus_reset(fr_usbd *u) {
  fr_cdc_bus_reset(&u->cdc);
  u->ep0 = FR_USBD_EP0_IDLE;
  u->suspended = false;
  data_endpoints_off(u);
  flush_tx_fifo(u, EP0);
  wr(u, OTG_DOEPCTL(EP0), OTG_EPCTL_SNAK);
  wr(u, OTG_DCFG, rd(u, OTG_DCFG) & ~OTG_DCFG_DAD_MASK);
  wr(u, OTG_DAINTMSK, OTG_DAINT_IN(EP0) | OTG_DAINT_OUT(EP0));
  wr(u, OTG_DOEPMSK, OTG_EPINT_XFRC | OTG_DOEPINT_STUP);
  wr(u, OTG_DIEPMSK, OTG_EPINT_XFRC);
  wr(u, OTG_DOEPTSIZ(EP0), EP0_OUT_TSIZ);
}

/* One RX FIFO entry per call: while entries remain RXFLVL keeps the line
 * asserted and the handler runs again. */
static void rx_fifo_entry(fr_usbd *u) {
  uint32_t status = rd(u, OTG_GRXSTSP);
  uint32_t ep = OTG_GRXSTSP_EPNUM(status);
  size_t count = OTG_GRXSTSP_BCNT(status);
  switch (OTG_GRXSTSP_PKTSTS(status)) {
    case OTG_PKTSTS_SETUP_DATA:
      /* kept until SETUP_DONE raises STUP: of back-to-back SETUPs the last one counts */
      fifo_read(u, u->setup, sizeof u->setup, count);
      break;
    case OTG_PKTSTS_OUT_DATA:
      if (ep == EP0) {
        ep0_out_packet(u, count);
      } else {
        uint8_t packet[FR_CDC_BULK_SIZE];
        fifo_read(u, packet, sizeof packet, count);
        if (ep == EP_DATA) (void)fr_cdc_rx_packet(&u->cdc, packet, count); /* a packet that cannot fit is counted by fr_cdc */
      }
      break;
    default:
      break; /* transfer / SETUP complete: no data, their endpoint interrupts follow */
  }
}

static void out_endpoints(fr_usbd *u) {
  uint32_t pending = rd(u, OTG_DAINT) & rd(u, OTG_DAINTMSK);
  if (pending & OTG_DAINT_OUT(EP0)) {
    uint32_t events = rd(u, OTG_DOEPINT(EP0));
    wr(u, OTG_DOEPINT(EP0), events);
    if ((events & OTG_EPINT_XFRC) && u->ep0 == FR_USBD_EP0_DATA_OUT) ep0_arm_out(u);
    if (events & OTG_DOEPINT_STUP) ep0_setup(u);
  }
  if (pending & OTG_DAINT_OUT(EP_DATA)) {
    uint32_t events = rd(u, OTG_DOEPINT(EP_DATA));
    wr(u, OTG_DOEPINT(EP_DATA), events);
    if (events & OTG_EPINT_XFRC) bulk_out_done(u);
  }
}

static void in_endpoints(fr_usbd *u) {
  uint32_t pending = rd(u, OTG_DAINT) & rd(u, OTG_DAINTMSK);
  if (pending & OTG_DAINT_IN(EP0)) {
    uint32_t events = rd(u, OTG_DIEPINT(EP0));
    wr(u, OTG_DIEPINT(EP0), events);
    if ((events & OTG_EPINT_XFRC) && u->ep0 == FR_USBD_EP0_DATA_IN) ep0_in_next(u);
  }
  if (pending & OTG_DAINT_IN(EP_DATA)) {
    uint32_t events = rd(u, OTG_DIEPINT(EP_DATA));
    wr(u, OTG_DIEPINT(EP_DATA), events);
    if ((events & OTG_EPINT_XFRC) && u->tx_busy) bulk_in_done(u);
  }
}

void fr_usbd_irq(fr_usbd *u) {
  if (!(rd(u, OTG_GAHBCFG) & OTG_GAHBCFG_GINTMSK)) return; /* taken during the main loop's critical section */
  uint32_t events = rd(u, OTG_GINTSTS) & rd(u, OTG_GINTMSK);
  /* suspend and resume first: a reset in the same pass comes after them */
  if (events & OTG_GINT_USBSUSP) {
    wr(u, OTG_GINTSTS, OTG_GINT_USBSUSP);
    u->suspended = true;
  }
  if (events & OTG_GINT_WKUPINT) {
    wr(u, OTG_GINTSTS, OTG_GINT_WKUPINT);
    u->suspended = false;
  }
  if (events & OTG_GINT_USBRST) {
    wr(u, OTG_GINTSTS, OTG_GINT_USBRST);
    bus_reset(u);
  }
  if (events & OTG_GINT_ENUMDNE) {
    /* RM0090 "Initialization on enumeration completion": full speed is the
     * only speed of this core, so EP0's maximum packet is 64 (MPSIZ 00). */
    wr(u, OTG_GINTSTS, OTG_GINT_ENUMDNE);
    wr(u, OTG_DIEPCTL(EP0), rd(u, OTG_DIEPCTL(EP0)) & ~OTG_EPCTL_MPSIZ_MASK);
  }
  if (events & OTG_GINT_OTGINT) {
    uint32_t otg = rd(u, OTG_GOTGINT);
    wr(u, OTG_GOTGINT, otg);
    if (otg & OTG_GOTGINT_SEDET) bus_reset(u); /* cable pulled: VBUS gone, the core has dropped the pull-up */
  }
  if (events & OTG_GINT_RXFLVL) rx_fifo_entry(u);
  if (events & OTG_GINT_OEPINT) out_endpoints(u);
  if (events & OTG_GINT_IEPINT) in_endpoints(u);
}

/* ------------------------------------------------------------ setup */

void fr_usbd_init(fr_usbd *u, volatile uint32_t *otg_base, const char *serial) {
  memset(u, 0, sizeof *u);
  u->regs = otg_base;
  fr_cdc_init(&u->cdc, serial);
  wr(u, OTG_GAHBCFG, 0); /* line masked until the core is set up */

  /* core soft reset: wait for the AHB master to be idle, reset, wait for the self-clear */
  wait_for(u, OTG_GRSTCTL, OTG_GRSTCTL_AHBIDL, OTG_GRSTCTL_AHBIDL);
  wr(u, OTG_GRSTCTL, OTG_GRSTCTL_CSRST);
  wait_for(u, OTG_GRSTCTL, OTG_GRSTCTL_CSRST, 0);
  wait_for(u, OTG_GRSTCTL, OTG_GRSTCTL_AHBIDL, OTG_GRSTCTL_AHBIDL);

  /* Device mode whatever the ID pin says. RM0090 gives a forced mode up to
   * 25 ms to take effect; GINTSTS.CMOD reads 0 once the core is a device. */
  wr(u, OTG_GUSBCFG, OTG_GUSBCFG_PHYSEL | OTG_GUSBCFG_TRDT(TRDT_AHB_ABOVE_32MHZ) | OTG_GUSBCFG_FDMOD);
  wait_for(u, OTG_GINTSTS, OTG_GINT_CMOD, 0);
  wr(u, OTG_DCTL, OTG_DCTL_SDIS); /* stay off the bus until everything below is set */

  /* VBUSBSEN, not NOVBUSSENS: the pyboard wires VBUS to PA9, so the core can
   * see the host. The pull-up on D+ is then only applied while VBUS is
   * valid (no back-powering the host's D+ when the board runs from VIN or a
   * battery), and unplugging raises a session-end interrupt (GOTGINT.SEDET)
   * that takes the port down at once. */
  wr(u, OTG_GCCFG, OTG_GCCFG_PWRDWN | OTG_GCCFG_VBUSBSEN);
  wr(u, OTG_DCFG, OTG_DCFG_DSPD_FS);

  /* FIFO RAM, in words (fr_usbd.h): RX 160 = SETUPs (5 x 1 control endpoint + 8)
   * + global OUT NAK (1) + transfer-complete entries (2 x 2 OUT endpoints) + eight
   * 64-byte packets with their status words (8 x 17) = 154, rounded up; then the
   * TX FIFOs of EP0 (16), EP1 (128), EP2 (16): 320 words, all of it. */
  wr(u, OTG_GRXFSIZ, FR_USBD_RX_FIFO_WORDS);
  wr(u, OTG_DIEPTXF0, OTG_TXF(FR_USBD_RX_FIFO_WORDS, FR_USBD_EP0_FIFO_WORDS));
  wr(u, OTG_DIEPTXF(EP_DATA), OTG_TXF(FR_USBD_RX_FIFO_WORDS + FR_USBD_EP0_FIFO_WORDS, FR_USBD_BULK_FIFO_WORDS));
  wr(u, OTG_DIEPTXF(EP_NOTIFY),
     OTG_TXF(FR_USBD_RX_FIFO_WORDS + FR_USBD_EP0_FIFO_WORDS + FR_USBD_BULK_FIFO_WORDS, FR_USBD_NOTIFY_FIFO_WORDS));
  flush_tx_fifo(u, OTG_TXFNUM_ALL);
  wr(u, OTG_GRSTCTL, OTG_GRSTCTL_RXFFLSH);
  wait_for(u, OTG_GRSTCTL, OTG_GRSTCTL_RXFFLSH, 0);

  wr(u, OTG_GOTGINT, 0xFFFFFFFFu);
  wr(u, OTG_GINTSTS, 0xFFFFFFFFu);
  wr(u, OTG_GINTMSK,
     OTG_GINT_OTGINT | OTG_GINT_RXFLVL | OTG_GINT_USBSUSP | OTG_GINT_USBRST | OTG_GINT_ENUMDNE | OTG_GINT_IEPINT | OTG_GINT_OEPINT |
       OTG_GINT_WKUPINT);
  wr(u, OTG_GAHBCFG, OTG_GAHBCFG_GINTMSK);
  wr(u, OTG_DCTL, 0); /* soft connect: the host sees us once VBUS is valid */
}

/* ------------------------------------------------------ main loop side */

size_t fr_usbd_read(fr_usbd *u, uint8_t *buf, size_t max) {
  irq_mask(u);
  size_t n = fr_cdc_read(&u->cdc, buf, max);
  if (u->out_parked && fr_cdc_rx_ready(&u->cdc)) {
    u->out_parked = false;
    arm_bulk_out(u);
  }
  irq_unmask(u);
  return n;
}

size_t fr_usbd_write(fr_usbd *u, const uint8_t *buf, size_t len) {
  irq_mask(u);
  size_t n = len;
  if (!link_up(u)) {
    u->tx_dropped += (uint32_t)len;
  } else {
    size_t room = FR_USBD_TX_RING - (u->tx_head - u->tx_tail);
    if (n > room) n = room;
    for (size_t i = 0; i < n; i++) u->tx[(u->tx_head + i) % FR_USBD_TX_RING] = buf[i];
    u->tx_head += (uint32_t)n;
    if (!u->tx_busy) bulk_in_start(u);
  }
  irq_unmask(u);
  return n;
}

bool fr_usbd_connected(const fr_usbd *u) {
  irq_mask(u);
  bool up = link_up(u);
  irq_unmask(u);
  return up;
}

bool fr_usbd_rx_pending(const fr_usbd *u) {
  irq_mask(u);
  bool pending = u->cdc.rx_head != u->cdc.rx_tail;
  irq_unmask(u);
  return pending;
}

bool fr_usbd_tx_idle(const fr_usbd *u) {
  irq_mask(u);
  bool idle = !u->tx_busy && u->tx_head == u->tx_tail;
  irq_unmask(u);
  return idle;
}
