/* The OTG_FS core model and the host that drives it (see usbd_model.h). */
#include "usbd_model.h"

#include <stdio.h>
#include <string.h>

#include "fr_cdc.h"
#include "fr_usbd_regs.h"

/* ------------------------------------------------------- the core model */

#define NAKSTS (1u << 17)
#define EPDISD (1u << 1)
#define GINTSTS_EVENTS (OTG_GINT_USBSUSP | OTG_GINT_USBRST | OTG_GINT_ENUMDNE | OTG_GINT_WKUPINT)

usbd_model core;
fr_usbd usb;

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

int run_irq(void) {
  int n = 0;
  while (line_asserted() && n < 1000) {
    fr_usbd_irq(&usb);
    n++;
  }
  if (n >= 1000) model_error("interrupt line stuck");
  return n;
}

void host_bus_reset(void) {
  REG(OTG_GINTSTS) |= OTG_GINT_USBRST;
  run_irq();
  REG(OTG_DSTS) = 3u << 1; /* ENUMSPD: full speed, 48 MHz PHY clock */
  REG(OTG_GINTSTS) |= OTG_GINT_ENUMDNE;
  run_irq();
}

void host_setup(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length) {
  const uint8_t s[8] = {type, request, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index, (uint8_t)(index >> 8), (uint8_t)length, (uint8_t)(length >> 8)};
  rx_push_packet(0, s, 8, OTG_PKTSTS_SETUP_DATA);
  rx_push(rx_status(0, 0, OTG_PKTSTS_SETUP_DONE), true);
  /* a SETUP is always taken; it ends a stall of EP0 and NAKs EP0 OUT */
  REG(OTG_DIEPCTL(0)) &= ~OTG_EPCTL_STALL;
  REG(OTG_DOEPCTL(0)) &= ~OTG_EPCTL_STALL;
  core.out_nak[0] = true;
}

int host_out(uint32_t ep, const uint8_t *data, size_t len) {
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
int host_in(uint32_t ep, uint8_t *out, size_t *len) {
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

int ctrl_read(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length, ctrl_reply *r) {
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

int ctrl_write(uint8_t type, uint8_t request, uint16_t value, uint16_t index, const uint8_t *data, uint16_t len) {
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

bool ep0_in_quiet(void) {
  uint8_t packet[64];
  size_t n;
  return host_in(0, packet, &n) == NAK;
}

const uint8_t line_coding_921600[7] = {0x00, 0x10, 0x0E, 0x00, 0, 0, 8};

void start(const char *serial) {
  memset(&core, 0, sizeof core);
  fr_usbd_init(&usb, core.regs, serial);
}

bool open_port(const char *serial) {
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
