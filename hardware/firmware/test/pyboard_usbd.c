/* Host-build tests of the pyboard's OTG_FS device driver (pyboard/fr_usbd.c)
 * against the model of the core in usbd_model.c: enumeration, control
 * transfers, CDC requests, bulk OUT flow control, bulk IN packets and
 * zero-length packets, stalls, bus reset and unplug, and the main loop's
 * critical section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr_cdc.h"
#include "fr_usbd.h"
#include "fr_usbd_regs.h"
#include "usbd_model.h"

#include "fr_check.h"

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
