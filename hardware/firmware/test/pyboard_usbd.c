/* Host-build tests of the pyboard's OTG_FS device driver (pyboard/fr_usbd.c)
 * against a model of the core. The model replaces the driver's register seam
 * (fr_usbd_reg_read / fr_usbd_reg_write) and keeps a fake register block
 * behind it with what the silicon adds to plain memory: the RX FIFO behind
 * GRXSTSP and the data windows (entries tagged status/data so a pop of the
 * wrong kind is caught), a TX FIFO per IN endpoint with its programmed depth,
 * write-1-to-clear interrupt registers, GINTSTS/DAINT summaries computed from
 * the endpoint interrupts, self-clearing reset and flush bits, the write-only
 * NAK/DATA0 bits of the endpoint control registers, EPENA cleared at transfer
 * completion, and EP0's STALL cleared by a SETUP. A "host" drives it packet
 * by packet (SETUP, OUT, IN tokens answered ACK/NAK/STALL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr_cdc.h"
#include "fr_usbd.h"
#include "fr_usbd_regs.h"

#include "fr_check.h"

/* ------------------------------------------------------- the core model */

#define REG_WORDS (0x20000u / 4u) /* the OTG_FS block and its FIFO windows */
#define FIFO_ENTRIES 1024u
#define EPS 4u
#define NAKSTS (1u << 17)
#define EPDISD (1u << 1)
#define GINTSTS_EVENTS (OTG_GINT_USBSUSP | OTG_GINT_USBRST | OTG_GINT_ENUMDNE | OTG_GINT_WKUPINT)

enum { ACK, NAK, STALL };

typedef struct {
  uint32_t word;
  bool status; /* a GRXSTSP entry (else a data word) */
} rx_entry;

static struct {
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
} core;

static fr_usbd usb;

#define REG(off) core.regs[(off) / 4u]

static void model_error(const char *what) {
  core.errors++;
  fprintf(stderr, "model: %s\n", what);
}

static uint32_t model_daint(void) {
  uint32_t d = 0;
  for (uint32_t ep = 0; ep < EPS; ep++) {
    if (REG(OTG_DIEPINT(ep)) & REG(OTG_DIEPMSK)) d |= OTG_DAINT_IN(ep);
    if (REG(OTG_DOEPINT(ep)) & REG(OTG_DOEPMSK)) d |= OTG_DAINT_OUT(ep);
  }
  return d;
}

static uint32_t model_gintsts(void) {
  uint32_t s = REG(OTG_GINTSTS) & GINTSTS_EVENTS;
  uint32_t d = model_daint() & REG(OTG_DAINTMSK);
  if (core.rx_head != core.rx_tail) s |= OTG_GINT_RXFLVL;
  if (d & 0xFFFFu) s |= OTG_GINT_IEPINT;
  if (d >> 16) s |= OTG_GINT_OEPINT;
  if (REG(OTG_GOTGINT)) s |= OTG_GINT_OTGINT;
  return s; /* CMOD 0: device mode */
}

static bool events_pending(void) { return (model_gintsts() & REG(OTG_GINTMSK)) != 0; }
static bool line_asserted(void) { return (REG(OTG_GAHBCFG) & OTG_GAHBCFG_GINTMSK) && events_pending(); }

static void rx_push(uint32_t word, bool status) {
  if (core.rx_head - core.rx_tail >= FIFO_ENTRIES) {
    model_error("RX FIFO overflow");
    return;
  }
  core.rx[core.rx_head++ % FIFO_ENTRIES] = (rx_entry){word, status};
}

static uint32_t rx_status(uint32_t ep, uint32_t count, uint32_t pktsts) { return ep | count << 4 | pktsts << 17; }

static void rx_push_packet(uint32_t ep, const uint8_t *data, size_t len, uint32_t pktsts) {
  rx_push(rx_status(ep, (uint32_t)len, pktsts), true);
  for (size_t i = 0; i < len; i += 4) {
    uint32_t w = 0;
    for (size_t b = 0; b < 4 && i + b < len; b++) w |= (uint32_t)data[i + b] << (8 * b);
    rx_push(w, false);
  }
}

static uint32_t rx_pop(bool want_status) {
  if (core.rx_head == core.rx_tail) {
    model_error("pop from an empty RX FIFO");
    return 0;
  }
  rx_entry e = core.rx[core.rx_tail++ % FIFO_ENTRIES];
  if (e.status != want_status) model_error(want_status ? "GRXSTSP read where packet data was due" : "data read where a status entry was due");
  if (e.status) {
    uint32_t ep = OTG_GRXSTSP_EPNUM(e.word);
    switch (OTG_GRXSTSP_PKTSTS(e.word)) {
      case OTG_PKTSTS_SETUP_DONE:
        REG(OTG_DOEPINT(0)) |= OTG_DOEPINT_STUP;
        break;
      case OTG_PKTSTS_OUT_DONE: /* the transfer completes when its entry is popped */
        REG(OTG_DOEPINT(ep)) |= OTG_EPINT_XFRC;
        REG(OTG_DOEPCTL(ep)) &= ~OTG_EPCTL_EPENA;
        core.out_nak[ep] = true;
        break;
      default:
        break;
    }
  }
  return e.word;
}

static uint32_t tx_depth(uint32_t ep) { return (ep == 0 ? REG(OTG_DIEPTXF0) : REG(OTG_DIEPTXF(ep))) >> 16; }

static void tx_push(uint32_t ep, uint32_t word) {
  if (ep >= EPS || core.tx_words[ep] >= tx_depth(ep)) {
    model_error("TX FIFO overflow");
    return;
  }
  core.tx[ep][core.tx_words[ep]++] = word;
}

static void model_core_reset(void) {
  memset(core.regs, 0, sizeof core.regs);
  core.rx_head = core.rx_tail = 0;
  memset(core.tx_words, 0, sizeof core.tx_words);
  core.core_resets++;
}

static void model_grstctl(uint32_t v) {
  if (v & OTG_GRSTCTL_CSRST) model_core_reset();
  if (v & OTG_GRSTCTL_TXFFLSH) {
    uint32_t n = (v >> 6) & 0x1Fu;
    if (n == OTG_TXFNUM_ALL) {
      memset(core.tx_words, 0, sizeof core.tx_words);
      core.tx_flushes[EPS]++;
    } else if (n < EPS) {
      core.tx_words[n] = 0;
      core.tx_flushes[n]++;
    } else {
      model_error("flush of a TX FIFO that does not exist");
    }
  }
  if (v & OTG_GRSTCTL_RXFFLSH) {
    core.rx_head = core.rx_tail = 0;
    core.rx_flushes++;
  }
}

/* DIEPCTLx / DOEPCTLx: CNAK, SNAK, SD0PID and EPDIS act and read as 0; EPENA
 * (and EP0's STALL) can only be set by software; NAKSTS is the core's. */
static void model_epctl(uint32_t ep, bool in, uint32_t v) {
  uint32_t *r = &REG(in ? OTG_DIEPCTL(ep) : OTG_DOEPCTL(ep));
  bool *nak = in ? &core.in_nak[ep] : &core.out_nak[ep];
  if (v & OTG_EPCTL_CNAK) *nak = false;
  if (v & OTG_EPCTL_SNAK) *nak = true;
  if (v & OTG_EPCTL_SD0PID) (in ? core.in_data0 : core.out_data0)[ep] = true;
  uint32_t set_only = OTG_EPCTL_EPENA | (ep == 0 ? OTG_EPCTL_STALL : 0u);
  uint32_t stored = (v & ~(OTG_EPCTL_CNAK | OTG_EPCTL_SNAK | OTG_EPCTL_SD0PID | OTG_EPCTL_EPDIS | NAKSTS)) | (*r & set_only);
  if (v & OTG_EPCTL_EPDIS) {
    if (stored & OTG_EPCTL_EPENA) REG(in ? OTG_DIEPINT(ep) : OTG_DOEPINT(ep)) |= EPDISD;
    stored &= ~OTG_EPCTL_EPENA;
  }
  *r = stored;
}

uint32_t fr_usbd_reg_read(volatile uint32_t *otg_base, uint32_t offset) {
  if (otg_base != core.regs || offset % 4u || offset >= sizeof core.regs) {
    model_error("read outside the block");
    return 0;
  }
  if (offset >= OTG_DFIFO(0) && offset < OTG_DFIFO(EPS)) return rx_pop(false);
  switch (offset) {
    case OTG_GINTSTS:
      return model_gintsts();
    case OTG_DAINT:
      return model_daint();
    case OTG_GRXSTSP:
      return rx_pop(true);
    case OTG_GRSTCTL:
      return OTG_GRSTCTL_AHBIDL; /* resets and flushes finish at once */
    default:
      break;
  }
  for (uint32_t ep = 0; ep < EPS; ep++) {
    if (offset == OTG_DIEPCTL(ep)) return REG(offset) | (core.in_nak[ep] ? NAKSTS : 0u);
    if (offset == OTG_DOEPCTL(ep)) return REG(offset) | (core.out_nak[ep] ? NAKSTS : 0u);
  }
  return REG(offset);
}

void fr_usbd_reg_write(volatile uint32_t *otg_base, uint32_t offset, uint32_t value) {
  if (otg_base != core.regs || offset % 4u || offset >= sizeof core.regs) {
    model_error("write outside the block");
    return;
  }
  if (offset >= OTG_DFIFO(0) && offset < OTG_DFIFO(EPS)) {
    tx_push(offset / 0x1000u - 1u, value);
    return;
  }
  switch (offset) {
    case OTG_GINTSTS:
    case OTG_GOTGINT:
      REG(offset) &= ~value;
      return;
    case OTG_GRSTCTL:
      model_grstctl(value);
      return;
    case OTG_DCTL:
      if ((REG(OTG_DCTL) & OTG_DCTL_SDIS) && !(value & OTG_DCTL_SDIS)) {
        core.connect_ready = REG(OTG_GRXFSIZ) != 0 && REG(OTG_GINTMSK) != 0 && (REG(OTG_GAHBCFG) & OTG_GAHBCFG_GINTMSK) &&
                             (REG(OTG_GCCFG) & OTG_GCCFG_PWRDWN);
      }
      REG(offset) = value;
      return;
    case OTG_GAHBCFG: {
      bool unmasked = REG(offset) & OTG_GAHBCFG_GINTMSK;
      REG(offset) = value;
      /* an interrupt already pending in the NVIC is taken right after the mask went down */
      if (unmasked && !(value & OTG_GAHBCFG_GINTMSK) && core.irq_target && events_pending()) {
        core.irqs_while_masked++;
        fr_usbd_irq(core.irq_target);
      }
      return;
    }
    default:
      break;
  }
  for (uint32_t ep = 0; ep < EPS; ep++) {
    if (offset == OTG_DIEPINT(ep) || offset == OTG_DOEPINT(ep)) {
      REG(offset) &= ~value;
      return;
    }
    if (offset == OTG_DIEPCTL(ep) || offset == OTG_DOEPCTL(ep)) {
      model_epctl(ep, offset == OTG_DIEPCTL(ep), value);
      return;
    }
  }
  REG(offset) = value;
}

/* --------------------------------------------------------- the host side */

/* The NVIC: the handler runs while the core's line is asserted. */
static int run_irq(void) {
  int n = 0;
  while (line_asserted() && n < 1000) {
    fr_usbd_irq(&usb);
    n++;
  }
  if (n >= 1000) model_error("interrupt line stuck");
  return n;
}

static void host_bus_reset(void) {
  REG(OTG_GINTSTS) |= OTG_GINT_USBRST;
  run_irq();
  REG(OTG_DSTS) = 3u << 1; /* ENUMSPD: full speed, 48 MHz PHY clock */
  REG(OTG_GINTSTS) |= OTG_GINT_ENUMDNE;
  run_irq();
}

static void host_setup(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length) {
  const uint8_t s[8] = {type, request, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index, (uint8_t)(index >> 8), (uint8_t)length, (uint8_t)(length >> 8)};
  rx_push_packet(0, s, 8, OTG_PKTSTS_SETUP_DATA);
  rx_push(rx_status(0, 0, OTG_PKTSTS_SETUP_DONE), true);
  /* a SETUP is always taken; it ends a stall of EP0 and NAKs EP0 OUT */
  REG(OTG_DIEPCTL(0)) &= ~OTG_EPCTL_STALL;
  REG(OTG_DOEPCTL(0)) &= ~OTG_EPCTL_STALL;
  core.out_nak[0] = true;
}

/* An OUT token with `len` bytes: ACK (queued in the RX FIFO), NAK or STALL. */
static int host_out(uint32_t ep, const uint8_t *data, size_t len) {
  uint32_t ctl = REG(OTG_DOEPCTL(ep)), tsiz = REG(OTG_DOEPTSIZ(ep));
  if (ctl & OTG_EPCTL_STALL) return STALL;
  uint32_t packets = (tsiz >> 19) & (ep == 0 ? 1u : 0x3FFu), room = tsiz & (ep == 0 ? 0x7Fu : 0x7FFFFu);
  if (!(ctl & OTG_EPCTL_EPENA) || core.out_nak[ep] || packets == 0) return NAK;
  if (packets != 1 || len > room || len > 64) {
    model_error("OUT packet does not fit the programmed transfer");
    return NAK;
  }
  rx_push_packet(ep, data, len, OTG_PKTSTS_OUT_DATA);
  rx_push(rx_status(ep, 0, OTG_PKTSTS_OUT_DONE), true);
  REG(OTG_DOEPTSIZ(ep)) = tsiz & ~((0x3FFu << 19) | 0x7FFFFu); /* PKTCNT and XFRSIZ used up, STUPCNT kept */
  return ACK;
}

/* An IN token: ACK with the packet, NAK or STALL. The packet is XFRSIZ
 * bytes taken from the endpoint's TX FIFO, which must hold exactly it. */
static int host_in(uint32_t ep, uint8_t *out, size_t *len) {
  uint32_t ctl = REG(OTG_DIEPCTL(ep)), tsiz = REG(OTG_DIEPTSIZ(ep));
  *len = 0;
  if (ctl & OTG_EPCTL_STALL) return STALL;
  if (!(ctl & OTG_EPCTL_EPENA) || core.in_nak[ep]) return NAK;
  uint32_t packets = (tsiz >> 19) & (ep == 0 ? 3u : 0x3FFu), n = tsiz & (ep == 0 ? 0x7Fu : 0x7FFFFu);
  uint32_t max_packet = ep == 0 ? 64u >> (ctl & 3u) : ctl & OTG_EPCTL_MPSIZ_MASK;
  size_t words = (n + 3u) / 4u;
  if (packets != 1 || n > max_packet) {
    model_error("IN transfer programmed with other than one packet");
    return NAK;
  }
  if (core.tx_words[ep] != words) {
    model_error("TX FIFO does not hold exactly the packet");
    return NAK;
  }
  memcpy(core.last_in, core.tx[ep], words * 4u);
  core.last_in_words = words;
  core.tx_words[ep] = 0;
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(core.last_in[i / 4] >> (8 * (i % 4)));
  *len = n;
  REG(OTG_DIEPTSIZ(ep)) = 0;
  REG(OTG_DIEPCTL(ep)) &= ~OTG_EPCTL_EPENA;
  REG(OTG_DIEPINT(ep)) |= OTG_EPINT_XFRC;
  return ACK;
}

typedef struct {
  uint8_t data[512];
  size_t len;
  int packets;
  size_t last_packet;
} ctrl_reply;

/* A control read: SETUP, IN packets until a short one or wLength bytes, then
 * the zero-length status OUT. Returns the first non-ACK handshake, or ACK. */
static int ctrl_read(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length, ctrl_reply *r) {
  memset(r, 0, sizeof *r);
  host_setup(type, request, value, index, length);
  run_irq();
  for (;;) {
    uint8_t packet[64];
    size_t n;
    int hs = host_in(0, packet, &n);
    run_irq();
    if (hs != ACK) return hs;
    memcpy(r->data + r->len, packet, n);
    r->len += n;
    r->packets++;
    r->last_packet = n;
    if (n < 64 || r->len >= length || r->packets > 8) break;
  }
  int hs = host_out(0, NULL, 0);
  run_irq();
  return hs;
}

/* A control write, with an OUT data stage when len > 0: returns the status stage's handshake. */
static int ctrl_write(uint8_t type, uint8_t request, uint16_t value, uint16_t index, const uint8_t *data, uint16_t len) {
  host_setup(type, request, value, index, len);
  run_irq();
  if (len > 0) {
    int hs = host_out(0, data, len);
    run_irq();
    if (hs != ACK) return hs;
  }
  uint8_t packet[64];
  size_t n;
  int hs = host_in(0, packet, &n);
  run_irq();
  if (hs == ACK && n != 0) model_error("status stage with data");
  return hs;
}

static bool ep0_in_quiet(void) {
  uint8_t packet[64];
  size_t n;
  return host_in(0, packet, &n) == NAK;
}

static const uint8_t line_coding_921600[7] = {0x00, 0x10, 0x0E, 0x00, 0, 0, 8};

static void start(const char *serial) {
  memset(&core, 0, sizeof core);
  fr_usbd_init(&usb, core.regs, serial);
}

/* init, reset, address, configuration, line coding and DTR: a terminal program opened the port */
static bool open_port(const char *serial) {
  ctrl_reply r;
  start(serial);
  host_bus_reset();
  bool ok = ctrl_read(0x80, 0x06, 0x0100, 0, 64, &r) == ACK && r.len == 18;
  ok = ok && ctrl_write(0x00, 0x05, 9, 0, NULL, 0) == ACK;
  ok = ok && ctrl_read(0x80, 0x06, 0x0200, 0, 255, &r) == ACK && r.len == FR_CDC_CONFIG_TOTAL;
  ok = ok && ctrl_write(0x00, 0x09, 1, 0, NULL, 0) == ACK;
  ok = ok && ctrl_write(0x21, 0x20, 0, 0, line_coding_921600, 7) == ACK;
  ok = ok && ctrl_write(0x21, 0x22, 0x3, 0, NULL, 0) == ACK;
  return ok && fr_usbd_connected(&usb);
}

/* ------------------------------------------------------------------ tests */

static void test_init(void) {
  start("PYB-0042");
  CHECK(core.core_resets == 1, "one core soft reset (%d)", core.core_resets);
  uint32_t usbcfg = REG(OTG_GUSBCFG);
  CHECK((usbcfg & OTG_GUSBCFG_FDMOD) && !(usbcfg & (1u << 29)) && (usbcfg & OTG_GUSBCFG_PHYSEL), "device mode forced, FS transceiver");
  CHECK(((usbcfg >> 10) & 0xFu) == 6u, "TRDT 6 for a 168 MHz AHB (%u)", (usbcfg >> 10) & 0xFu);
  CHECK(REG(OTG_GCCFG) == (OTG_GCCFG_PWRDWN | OTG_GCCFG_VBUSBSEN), "transceiver on, VBUS sensed on PA9, NOVBUSSENS clear (%08x)", REG(OTG_GCCFG));
  CHECK((REG(OTG_DCFG) & 3u) == 3u, "full speed");
  CHECK(REG(OTG_GRXFSIZ) == 160u, "RX FIFO 160 words");
  CHECK(REG(OTG_DIEPTXF0) == (160u | 16u << 16), "EP0 TX FIFO: 16 words after the RX FIFO (%08x)", REG(OTG_DIEPTXF0));
  CHECK(REG(OTG_DIEPTXF(1)) == (176u | 128u << 16), "EP1 TX FIFO: 128 words at 176 (%08x)", REG(OTG_DIEPTXF(1)));
  CHECK(REG(OTG_DIEPTXF(2)) == (304u | 16u << 16), "EP2 TX FIFO: 16 words at 304 (%08x)", REG(OTG_DIEPTXF(2)));
  CHECK((REG(OTG_DIEPTXF(2)) & 0xFFFFu) + (REG(OTG_DIEPTXF(2)) >> 16) <= 320u, "all within the 320-word FIFO RAM");
  CHECK(core.tx_flushes[EPS] == 1 && core.rx_flushes == 1, "FIFOs flushed after sizing");
  uint32_t need = OTG_GINT_USBRST | OTG_GINT_ENUMDNE | OTG_GINT_RXFLVL | OTG_GINT_IEPINT | OTG_GINT_OEPINT;
  CHECK((REG(OTG_GINTMSK) & need) == need, "reset, enumeration, RX FIFO and endpoint interrupts unmasked");
  CHECK(REG(OTG_GAHBCFG) & OTG_GAHBCFG_GINTMSK, "interrupt line enabled");
  CHECK(!(REG(OTG_DCTL) & OTG_DCTL_SDIS) && core.connect_ready, "soft connect last, after the FIFOs and interrupts");
  CHECK(!fr_usbd_connected(&usb) && fr_usbd_tx_idle(&usb), "not connected, nothing queued");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

static void test_enumeration(void) {
  fr_cdc ref;
  fr_cdc_init(&ref, "PYB-0042");
  uint8_t want[256];
  ctrl_reply r;
  start("PYB-0042");

  REG(OTG_DCFG) |= 0x55u << OTG_DCFG_DAD_SHIFT; /* a stale address */
  int flushes = core.tx_flushes[0];
  REG(OTG_GINTSTS) |= OTG_GINT_USBRST;
  run_irq();
  CHECK(!(REG(OTG_GINTSTS) & OTG_GINT_USBRST), "USBRST acknowledged (write 1 to clear)");
  CHECK((REG(OTG_DCFG) & OTG_DCFG_DAD_MASK) == 0, "bus reset: address 0");
  CHECK(REG(OTG_DAINTMSK) == (OTG_DAINT_IN(0) | OTG_DAINT_OUT(0)), "bus reset: EP0 interrupts only (%08x)", REG(OTG_DAINTMSK));
  CHECK((REG(OTG_DOEPMSK) & (OTG_DOEPINT_STUP | OTG_EPINT_XFRC)) == (OTG_DOEPINT_STUP | OTG_EPINT_XFRC) && (REG(OTG_DIEPMSK) & OTG_EPINT_XFRC),
        "SETUP-done and transfer-complete interrupts");
  CHECK((REG(OTG_DOEPTSIZ(0)) >> 29) == 3u, "EP0 takes 3 back-to-back SETUPs (STUPCNT)");
  CHECK(core.out_nak[0] && core.tx_flushes[0] == flushes + 1, "EP0 OUT NAKed, EP0 TX FIFO flushed");

  REG(OTG_DIEPCTL(0)) |= 3u; /* MPSIZ 8 bytes until enumeration says otherwise */
  REG(OTG_DSTS) = 3u << 1;
  REG(OTG_GINTSTS) |= OTG_GINT_ENUMDNE;
  run_irq();
  CHECK((REG(OTG_DIEPCTL(0)) & 3u) == 0 && !(REG(OTG_GINTSTS) & OTG_GINT_ENUMDNE), "enumeration done: EP0 max packet 64");

  /* the device descriptor as Linux and Windows ask for it: wLength 64 first */
  CHECK(ctrl_read(0x80, 0x06, 0x0100, 0, 64, &r) == ACK, "GET_DESCRIPTOR(device, 64) and its status stage");
  size_t n = fr_cdc_descriptor(&ref, 0x0100, want, sizeof want);
  CHECK(r.len == 18 && r.packets == 1 && memcmp(r.data, want, n) == 0, "18-byte device descriptor in one short packet (%zu)", r.len);
  CHECK(r.data[7] == 64 && (r.data[8] | r.data[9] << 8) == 0x0483 && (r.data[10] | r.data[11] << 8) == 0x5740, "EP0 64, VID 0483, PID 5740");
  CHECK(ep0_in_quiet(), "nothing after the short packet");

  host_setup(0x00, 0x05, 9, 0, 0);
  run_irq();
  CHECK((REG(OTG_DCFG) & OTG_DCFG_DAD_MASK) >> OTG_DCFG_DAD_SHIFT == 9u, "SET_ADDRESS: DCFG.DAD = 9 before the status stage");
  uint8_t packet[64];
  CHECK(host_in(0, packet, &n) == ACK && n == 0, "then the zero-length status IN");
  run_irq();

  CHECK(ctrl_read(0x80, 0x06, 0x0100, 0, 18, &r) == ACK && r.len == 18 && r.packets == 1 && ep0_in_quiet(), "GET_DESCRIPTOR(device, 18): exactly 18, no ZLP");
  CHECK(ctrl_read(0x80, 0x06, 0x0200, 0, 9, &r) == ACK && r.len == 9 && (r.data[2] | r.data[3] << 8) == FR_CDC_CONFIG_TOTAL,
        "configuration header (wTotalLength 75)");
  n = fr_cdc_descriptor(&ref, 0x0200, want, sizeof want);
  CHECK(ctrl_read(0x80, 0x06, 0x0200, 0, 75, &r) == ACK && r.len == 75 && r.packets == 2 && r.last_packet == 11, "75 bytes as 64 + 11 (%zu, %d)",
        r.len, r.packets);
  CHECK(n == 75 && memcmp(r.data, want, 75) == 0 && ep0_in_quiet(), "the configuration bytes are fr_cdc's, no ZLP");
  CHECK(ctrl_read(0x80, 0x06, 0x0200, 0, 255, &r) == ACK && r.len == 75 && r.packets == 2, "wLength 255 (Windows): the short packet ends it");

  CHECK(ctrl_read(0x80, 0x06, 0x0300, 0, 255, &r) == ACK && r.len == 4 && r.data[2] == 0x09 && r.data[3] == 0x04, "language ids");
  CHECK(ctrl_read(0x80, 0x06, 0x0303, 0x0409, 255, &r) == ACK && r.len == 18 && r.data[2] == 'P' && r.data[3] == 0 && r.data[16] == '2',
        "serial string PYB-0042 in UTF-16LE");
  n = fr_cdc_descriptor(&ref, 0x0302, want, sizeof want);
  CHECK(ctrl_read(0x80, 0x06, 0x0302, 0x0409, 255, &r) == ACK && r.len == n && memcmp(r.data, want, n) == 0, "product string");
  CHECK(ctrl_read(0x80, 0x06, 0x0600, 0, 10, &r) == STALL, "device qualifier stalls: full speed only");

  CHECK(ctrl_write(0x00, 0x09, 1, 0, NULL, 0) == ACK && usb.cdc.configuration == 1, "SET_CONFIGURATION 1");
  uint32_t in1 = REG(OTG_DIEPCTL(1)), in2 = REG(OTG_DIEPCTL(2)), out1 = REG(OTG_DOEPCTL(1));
  CHECK((in1 & OTG_EPCTL_USBAEP) && (in1 & OTG_EPCTL_EPTYP_MASK) == OTG_EPCTL_EPTYP(OTG_EPTYP_BULK) && (in1 & OTG_EPCTL_MPSIZ_MASK) == 64 &&
          (in1 & OTG_EPCTL_TXFNUM_MASK) == OTG_EPCTL_TXFNUM(1),
        "EP1 IN: active bulk, 64 bytes, TX FIFO 1 (%08x)", in1);
  CHECK((in2 & OTG_EPCTL_USBAEP) && (in2 & OTG_EPCTL_EPTYP_MASK) == OTG_EPCTL_EPTYP(OTG_EPTYP_INTERRUPT) && (in2 & OTG_EPCTL_MPSIZ_MASK) == 8 &&
          (in2 & OTG_EPCTL_TXFNUM_MASK) == OTG_EPCTL_TXFNUM(2),
        "EP2 IN: active interrupt, 8 bytes, TX FIFO 2 (%08x)", in2);
  CHECK((out1 & OTG_EPCTL_USBAEP) && (out1 & OTG_EPCTL_EPTYP_MASK) == OTG_EPCTL_EPTYP(OTG_EPTYP_BULK) && (out1 & OTG_EPCTL_MPSIZ_MASK) == 64,
        "EP1 OUT: active bulk, 64 bytes (%08x)", out1);
  CHECK(core.in_data0[1] && core.in_data0[2] && core.out_data0[1], "data toggles reset to DATA0");
  CHECK((out1 & OTG_EPCTL_EPENA) && !core.out_nak[1] && REG(OTG_DOEPTSIZ(1)) == ((1u << 19) | 64u), "EP1 OUT armed for one 64-byte packet");
  CHECK((REG(OTG_DAINTMSK) & (OTG_DAINT_IN(1) | OTG_DAINT_OUT(1))) == (OTG_DAINT_IN(1) | OTG_DAINT_OUT(1)), "EP1 interrupts unmasked");
  CHECK(ctrl_read(0x80, 0x08, 0, 0, 1, &r) == ACK && r.len == 1 && r.data[0] == 1, "GET_CONFIGURATION");

  memset(core.in_data0, 0, sizeof core.in_data0);
  memset(core.out_data0, 0, sizeof core.out_data0);
  CHECK(ctrl_write(0x02, 0x01, 0, 0x81, NULL, 0) == ACK && core.in_data0[1] && !core.out_data0[1], "CLEAR_FEATURE(HALT, 0x81): EP1 IN back to DATA0");
  CHECK(ctrl_write(0x02, 0x01, 0, 0x01, NULL, 0) == ACK && core.out_data0[1] && (REG(OTG_DOEPCTL(1)) & OTG_EPCTL_EPENA) && !core.out_nak[1],
        "CLEAR_FEATURE(HALT, 0x01): EP1 OUT back to DATA0, still armed");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

/* the ZLP rule of control reads: a reply that is a multiple of 64 but shorter than wLength ends with a ZLP */
static void test_control_zlp(void) {
  static const char serial31[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"; /* 2 + 2 x 31 = 64-byte descriptor */
  ctrl_reply r;
  start(serial31);
  host_bus_reset();
  CHECK(ctrl_read(0x80, 0x06, 0x0303, 0x0409, 255, &r) == ACK && r.len == 64 && r.packets == 2 && r.last_packet == 0,
        "64 bytes of 255 asked: 64 + ZLP (%zu bytes, %d packets)", r.len, r.packets);
  CHECK(ctrl_read(0x80, 0x06, 0x0303, 0x0409, 64, &r) == ACK && r.len == 64 && r.packets == 1 && ep0_in_quiet(), "64 of 64 asked: no ZLP");
  CHECK(ctrl_read(0x80, 0x06, 0x0303, 0x0409, 0, &r) == ACK && r.len == 0 && r.packets == 1, "wLength 0: just the zero-length status IN");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

static void test_cdc_requests(void) {
  ctrl_reply r;
  start("PYB-0042");
  host_bus_reset();
  CHECK(ctrl_write(0x21, 0x20, 0, 0, line_coding_921600, 7) == STALL, "class requests stall before SET_CONFIGURATION");
  CHECK(ctrl_write(0x00, 0x09, 1, 0, NULL, 0) == ACK, "configured");
  CHECK(ctrl_write(0x21, 0x20, 0, 0, line_coding_921600, 7) == ACK && usb.cdc.coding.dte_rate == 921600u, "SET_LINE_CODING with its OUT data stage");
  CHECK(ctrl_read(0xA1, 0x21, 0, 0, 7, &r) == ACK && r.len == 7 && memcmp(r.data, line_coding_921600, 7) == 0, "GET_LINE_CODING reports it back");
  const uint8_t bad[7] = {0x00, 0x10, 0x0E, 0x00, 0, 9, 8};
  CHECK(ctrl_write(0x21, 0x20, 0, 0, bad, 7) == STALL && usb.cdc.coding.parity == 0, "an invalid parity: status stage stalls, coding kept");
  CHECK(!fr_usbd_connected(&usb), "configured but no DTR: not connected");
  CHECK(ctrl_write(0x21, 0x22, 0x1, 0, NULL, 0) == ACK && fr_usbd_connected(&usb), "SET_CONTROL_LINE_STATE DTR: connected");
  CHECK(ctrl_write(0x21, 0x22, 0x0, 0, NULL, 0) == ACK && !fr_usbd_connected(&usb), "DTR dropped: port closed");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

static void test_bulk_out(void) {
  CHECK(open_port("PYB-0042"), "port open");
  uint8_t pkt[64], got[2048];
  uint8_t next_out = 0, next_in = 0;
  for (int i = 0; i < 10; i++) pkt[i] = next_out++;
  CHECK(host_out(1, pkt, 10) == ACK, "a 10-byte packet");
  run_irq();
  for (int i = 0; i < 64; i++) pkt[i] = next_out++;
  CHECK(host_out(1, pkt, 64) == ACK, "a 64-byte packet");
  run_irq();
  CHECK(fr_usbd_rx_pending(&usb), "received bytes are pending");
  size_t n = fr_usbd_read(&usb, got, sizeof got);
  bool in_order = n == 74;
  for (size_t i = 0; i < n; i++) in_order = in_order && got[i] == next_in++;
  CHECK(in_order, "74 bytes read back in order (%zu)", n);
  CHECK(!fr_usbd_rx_pending(&usb), "nothing pending once read");

  /* flow control: the 1 KB ring takes 16 packets, then the endpoint stays NAKed */
  int accepted = 0;
  for (int k = 0; k < 40; k++) {
    for (int i = 0; i < 64; i++) pkt[i] = (uint8_t)(next_out + i);
    if (host_out(1, pkt, 64) != ACK) break;
    next_out = (uint8_t)(next_out + 64);
    run_irq();
    accepted++;
  }
  CHECK(accepted == FR_CDC_RX_RING / 64, "the ring takes %d packets", accepted);
  CHECK(!(REG(OTG_DOEPCTL(1)) & OTG_EPCTL_EPENA) && usb.out_parked && usb.cdc.rx_dropped == 0, "then EP1 OUT is left disabled: NAK, nothing lost");
  n = fr_usbd_read(&usb, got, 10);
  CHECK(n == 10 && host_out(1, pkt, 64) == NAK, "10 bytes read: still no room for a packet");
  n += fr_usbd_read(&usb, got + 10, 60);
  CHECK(n == 70 && (REG(OTG_DOEPCTL(1)) & OTG_EPCTL_EPENA) && !core.out_nak[1], "70 read: re-armed with CNAK");
  for (int i = 0; i < 64; i++) pkt[i] = (uint8_t)(next_out + i);
  CHECK(host_out(1, pkt, 64) == ACK, "and the host's retry goes through");
  next_out = (uint8_t)(next_out + 64);
  run_irq();
  n += fr_usbd_read(&usb, got + 70, sizeof got - 70);
  in_order = n == (size_t)(accepted + 1) * 64u;
  for (size_t i = 0; i < n; i++) in_order = in_order && got[i] == next_in++;
  CHECK(in_order, "all %zu bytes in order across the stall", n);

  host_bus_reset();
  CHECK(host_out(1, pkt, 64) == NAK && fr_usbd_read(&usb, got, sizeof got) == 0, "after a bus reset EP1 OUT takes nothing");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

/* drains bulk IN until NAK; returns the bytes, records the packet lengths */
static size_t drain_in(uint8_t *out, size_t max, size_t *lens, int *count) {
  size_t total = 0;
  *count = 0;
  for (int guard = 0; guard < 200; guard++) {
    uint8_t pkt[64];
    size_t n;
    if (host_in(1, pkt, &n) != ACK) break;
    run_irq();
    if (total + n <= max) memcpy(out + total, pkt, n);
    total += n;
    if (lens) lens[*count] = n;
    (*count)++;
  }
  return total;
}

static void test_bulk_in(void) {
  CHECK(open_port("PYB-0042"), "port open");
  uint8_t data[4096], got[4096];
  size_t lens[256];
  int count;
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)i;

  CHECK(fr_usbd_write(&usb, data, 64) == 64 && !fr_usbd_tx_idle(&usb), "64 bytes queued and in flight");
  size_t n = drain_in(got, sizeof got, lens, &count);
  CHECK(n == 64 && count == 2 && lens[0] == 64 && lens[1] == 0 && memcmp(got, data, 64) == 0, "64 bytes: one full packet, then a ZLP (%d packets)",
        count);
  CHECK(fr_usbd_tx_idle(&usb), "idle once sent");

  CHECK(fr_usbd_write(&usb, data, 130) == 130, "130 bytes");
  n = drain_in(got, sizeof got, lens, &count);
  CHECK(n == 130 && count == 3 && lens[0] == 64 && lens[1] == 64 && lens[2] == 2 && memcmp(got, data, 130) == 0, "130 bytes: 64 + 64 + 2, no ZLP");
  CHECK(core.last_in_words == 1 && core.last_in[0] == 0x00008180u, "the 2-byte packet is one word, little-endian, zero-padded (%08x)", core.last_in[0]);

  CHECK(fr_usbd_write(&usb, data, 5) == 5, "5 bytes");
  uint8_t pkt[64];
  CHECK(host_in(1, pkt, &n) == ACK && n == 5 && core.last_in_words == 2 && core.last_in[0] == 0x03020100u && core.last_in[1] == 0x04u,
        "5 bytes pushed as 03020100 00000004");
  run_irq();

  /* bytes written while a transfer is in flight form the next transfer */
  CHECK(fr_usbd_write(&usb, data, 10) == 10 && fr_usbd_write(&usb, data + 10, 20) == 20, "10 then 20 bytes");
  n = drain_in(got, sizeof got, lens, &count);
  CHECK(n == 30 && count == 2 && lens[0] == 10 && lens[1] == 20 && memcmp(got, data, 30) == 0, "sent as 10, then 20");

  /* a full ring: writes take what fits and the rest waits for the host */
  CHECK(fr_usbd_write(&usb, data, 3000) == FR_USBD_TX_RING && fr_usbd_write(&usb, data, 1) == 0, "2048 of 3000 taken, then none");
  CHECK(host_in(1, pkt, &n) == ACK && n == 64, "the host reads a packet");
  run_irq();
  CHECK(fr_usbd_write(&usb, data + 2048, 100) == 64, "which frees 64 bytes");
  n = drain_in(got + 64, sizeof got - 64, lens, &count);
  memcpy(got, pkt, 64);
  CHECK(n + 64 == 2112 && memcmp(got, data, 2112) == 0 && count > 0 && lens[count - 1] < 64, "2112 bytes in order, ended by a short packet or ZLP");

  /* random writes and host reads: the byte stream survives the ring's wrap, and
   * whenever the device runs dry the last packet was short (the host's read completes) */
  uint32_t seed = 12345, written = 0, received = 0;
  bool intact = true, ends_short = true;
  uint8_t last = 64;
  for (int round = 0; round < 3000; round++) {
    seed = seed * 1103515245u + 12345u;
    size_t want = (seed >> 16) % 300u;
    if ((seed >> 4) % 4u == 0) want = 64u * (1u + (seed >> 12) % 4u); /* often a whole number of packets */
    uint8_t chunk[300];
    for (size_t i = 0; i < want; i++) chunk[i] = (uint8_t)(written + i);
    written += (uint32_t)fr_usbd_write(&usb, chunk, want);
    int reads = (int)((seed >> 8) % 6u);
    for (int k = 0; k < reads; k++) {
      int hs = host_in(1, pkt, &n);
      if (hs != ACK) {
        ends_short = ends_short && last < 64;
        break;
      }
      run_irq();
      for (size_t i = 0; i < n; i++) intact = intact && pkt[i] == (uint8_t)(received + i);
      received += (uint32_t)n;
      last = (uint8_t)n;
    }
  }
  n = drain_in(got, sizeof got, lens, &count);
  for (size_t i = 0; i < n; i++) intact = intact && got[i] == (uint8_t)(received + i);
  received += (uint32_t)n;
  CHECK(intact && received == written && written > 100000u, "%u bytes written, %u received, in order", written, received);
  CHECK(ends_short && (count == 0 || lens[count - 1] < 64), "every time the device ran dry, the transfer had ended with a short packet or ZLP");
  CHECK(fr_usbd_tx_idle(&usb), "idle at the end");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

static void test_not_connected(void) {
  CHECK(open_port("PYB-0042"), "port open");
  uint8_t data[100] = {0}, pkt[64];
  size_t n;
  CHECK(ctrl_write(0x21, 0x22, 0x0, 0, NULL, 0) == ACK, "DTR dropped");
  uint32_t dropped = usb.tx_dropped;
  CHECK(fr_usbd_write(&usb, data, 100) == 100 && usb.tx_dropped == dropped + 100, "a write to the closed port is taken, dropped and counted");
  CHECK(host_in(1, pkt, &n) == NAK && fr_usbd_tx_idle(&usb), "nothing goes out");

  CHECK(ctrl_write(0x21, 0x22, 0x1, 0, NULL, 0) == ACK && fr_usbd_connected(&usb), "DTR again");
  REG(OTG_GINTSTS) |= OTG_GINT_USBSUSP;
  run_irq();
  CHECK(!fr_usbd_connected(&usb) && fr_usbd_write(&usb, data, 10) == 10 && usb.tx_dropped == dropped + 110, "suspended: not connected, writes dropped");
  REG(OTG_GINTSTS) |= OTG_GINT_WKUPINT;
  run_irq();
  CHECK(fr_usbd_connected(&usb) && fr_usbd_write(&usb, data, 10) == 10 && usb.tx_dropped == dropped + 110, "resumed: connected again");
  CHECK(host_in(1, pkt, &n) == ACK && n == 10, "and the bytes go out");
  run_irq();
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

static void test_stall(void) {
  ctrl_reply r;
  start("PYB-0042");
  host_bus_reset();
  host_setup(0x40, 0x01, 0, 0, 0); /* a vendor request */
  run_irq();
  CHECK((REG(OTG_DIEPCTL(0)) & OTG_EPCTL_STALL) && (REG(OTG_DOEPCTL(0)) & OTG_EPCTL_STALL), "unknown request: STALL on EP0 IN and OUT");
  uint8_t pkt[64];
  size_t n;
  CHECK(host_in(0, pkt, &n) == STALL, "the status stage gets STALL");
  CHECK(ctrl_read(0x80, 0x00, 0, 0, 2, &r) == ACK && r.len == 2, "the next SETUP clears it: GET_STATUS works");
  CHECK(ctrl_read(0x82, 0x0C, 0, 0x81, 2, &r) == STALL, "SYNCH_FRAME stalls in its data stage");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

static void test_reset_and_unplug(void) {
  CHECK(open_port("PYB-0042"), "port open");
  uint8_t data[100] = {1, 2, 3}, pkt[64];
  size_t n;
  int flushes = core.tx_flushes[1];
  CHECK(fr_usbd_write(&usb, data, 100) == 100 && !fr_usbd_tx_idle(&usb), "a transfer in flight");
  REG(OTG_GINTSTS) |= OTG_GINT_USBRST;
  run_irq();
  CHECK(usb.cdc.configuration == 0 && !fr_usbd_connected(&usb) && fr_usbd_tx_idle(&usb), "bus reset: unconfigured, queue dropped");
  CHECK(!(REG(OTG_DIEPCTL(1)) & (OTG_EPCTL_USBAEP | OTG_EPCTL_EPENA)) && !(REG(OTG_DOEPCTL(1)) & (OTG_EPCTL_USBAEP | OTG_EPCTL_EPENA)),
        "EP1 deactivated and disabled");
  CHECK(core.tx_flushes[1] == flushes + 1 && core.tx_words[1] == 0, "EP1's TX FIFO flushed");
  CHECK(host_in(1, pkt, &n) == NAK, "nothing more on EP1 IN");

  CHECK(open_port("PYB-0042"), "open again");
  REG(OTG_GOTGINT) |= OTG_GOTGINT_SEDET;
  run_irq();
  CHECK(REG(OTG_GOTGINT) == 0 && usb.cdc.configuration == 0 && !fr_usbd_connected(&usb), "cable pulled (session end): port down");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

/* An interrupt that fires while the main loop holds the state (the NVIC had it
 * pending when GAHBCFG.GINTMSK went down) must leave everything alone. */
static void test_critical_section(void) {
  CHECK(open_port("PYB-0042"), "port open");
  uint8_t data[10] = {0};
  core.irq_target = &usb;
  REG(OTG_GINTSTS) |= OTG_GINT_USBRST; /* pending, line asserted */
  uint32_t dropped = usb.tx_dropped;
  size_t n = fr_usbd_write(&usb, data, 10);
  CHECK(core.irqs_while_masked == 1, "the handler ran inside the write (%d)", core.irqs_while_masked);
  CHECK(n == 10 && usb.tx_dropped == dropped && !fr_usbd_tx_idle(&usb), "the write went through as if connected");
  CHECK((REG(OTG_GINTSTS) & OTG_GINT_USBRST) && usb.cdc.configuration == 1, "the reset was left pending");
  core.irq_target = NULL;
  run_irq();
  CHECK(usb.cdc.configuration == 0 && fr_usbd_tx_idle(&usb), "and handled once the line was unmasked");
  CHECK(core.errors == 0, "model errors: %d", core.errors);
}

int main(void) {
  test_init();
  test_enumeration();
  test_control_zlp();
  test_cdc_requests();
  test_bulk_out();
  test_bulk_in();
  test_not_connected();
  test_stall();
  test_reset_and_unplug();
  test_critical_section();
  printf("pyboard usbd: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
