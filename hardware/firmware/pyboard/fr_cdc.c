/* USB CDC ACM logic: see fr_cdc.h. Descriptor layouts from the USB 2.0
 * specification (chapter 9), the CDC 1.2 and PSTN 1.2 class specifications
 * and the IAD ECN. */
#include "fr_cdc.h"

#include <string.h>

enum {
  REQ_GET_STATUS = 0x00,
  REQ_CLEAR_FEATURE = 0x01,
  REQ_SET_FEATURE = 0x03,
  REQ_SET_ADDRESS = 0x05,
  REQ_GET_DESCRIPTOR = 0x06,
  REQ_GET_CONFIGURATION = 0x08,
  REQ_SET_CONFIGURATION = 0x09,
  REQ_GET_INTERFACE = 0x0A,
  REQ_SET_INTERFACE = 0x0B,
  CDC_SET_LINE_CODING = 0x20,
  CDC_GET_LINE_CODING = 0x21,
  CDC_SET_CONTROL_LINE_STATE = 0x22,
  CDC_SEND_BREAK = 0x23,
};
enum { DESC_DEVICE = 1, DESC_CONFIGURATION = 2, DESC_STRING = 3 };
#define TYPE_MASK 0x60u
#define TYPE_STANDARD 0x00u
#define TYPE_CLASS 0x20u
#define DIR_IN 0x80u

#define LO(x) ((uint8_t)((x) & 0xFFu))
#define HI(x) ((uint8_t)(((x) >> 8) & 0xFFu))

static const uint8_t device_desc[18] = {
  18, DESC_DEVICE, 0x00, 0x02, /* USB 2.0 */
  0xEF, 0x02, 0x01,            /* miscellaneous / common class / IAD: composite CDC */
  FR_CDC_EP0_SIZE, LO(FR_USB_VID), HI(FR_USB_VID), LO(FR_USB_PID), HI(FR_USB_PID),
  0x00, 0x02, /* bcdDevice 2.00 */
  1, 2, 3,    /* manufacturer, product, serial strings */
  1,          /* one configuration */
};

static const uint8_t config_desc[FR_CDC_CONFIG_TOTAL] = {
  /* configuration: 2 interfaces, bus powered, 100 mA */
  9, DESC_CONFIGURATION, LO(FR_CDC_CONFIG_TOTAL), HI(FR_CDC_CONFIG_TOTAL), 2, 1, 0, 0x80, 50,
  /* interface association: interfaces 0-1 are one CDC ACM function */
  8, 0x0B, 0, 2, 0x02, 0x02, 0x01, 0,
  /* interface 0: communications, ACM, AT commands (V.250) */
  9, 0x04, 0, 0, 1, 0x02, 0x02, 0x01, 0,
  /* CDC header functional descriptor, CDC 1.10 */
  5, 0x24, 0x00, 0x10, 0x01,
  /* call management: no call management, data interface 1 */
  5, 0x24, 0x01, 0x00, 1,
  /* ACM: supports Set/Get_Line_Coding, Set_Control_Line_State, Serial_State */
  4, 0x24, 0x02, 0x02,
  /* union: control interface 0, subordinate interface 1 */
  5, 0x24, 0x06, 0, 1,
  /* notification endpoint: interrupt IN, 8 bytes, every 16 ms */
  7, 0x05, FR_CDC_NOTIFY_EP, 0x03, FR_CDC_NOTIFY_SIZE, 0, 16,
  /* interface 1: CDC data */
  9, 0x04, 1, 0, 2, 0x0A, 0x00, 0x00, 0,
  /* bulk OUT and bulk IN, 64 bytes */
  7, 0x05, FR_CDC_OUT_EP, 0x02, FR_CDC_BULK_SIZE, 0, 0,
  7, 0x05, FR_CDC_IN_EP, 0x02, FR_CDC_BULK_SIZE, 0, 0,
};

static const char *const strings[] = {NULL, "fiberrig", "fiberrig pyboard photometry"};

void fr_cdc_init(fr_cdc *c, const char *serial) {
  memset(c, 0, sizeof *c);
  c->serial = serial;
  c->coding = (fr_cdc_line_coding){115200u, 0, 0, 8};
}

void fr_cdc_bus_reset(fr_cdc *c) {
  c->address = 0;
  c->configuration = 0;
  c->dtr = c->rts = false;
  c->rx_head = c->rx_tail = 0;
}

bool fr_cdc_link_up(const fr_cdc *c) { return c->configuration != 0 && c->dtr; }

static size_t string_desc(const char *s, uint8_t *out, size_t max) {
  size_t n = strlen(s);
  if (n > 126u) n = 126u;
  size_t total = 2u + 2u * n;
  if (total > max) return 0;
  out[0] = (uint8_t)total;
  out[1] = DESC_STRING;
  for (size_t i = 0; i < n; i++) {
    out[2 + 2 * i] = (uint8_t)s[i]; /* ASCII to UTF-16LE */
    out[3 + 2 * i] = 0;
  }
  return total;
}

size_t fr_cdc_descriptor(const fr_cdc *c, uint16_t w_value, uint8_t *out, size_t max) {
  uint8_t type = HI(w_value), index = LO(w_value);
  if (type == DESC_DEVICE && index == 0 && max >= sizeof device_desc) {
    memcpy(out, device_desc, sizeof device_desc);
    return sizeof device_desc;
  }
  if (type == DESC_CONFIGURATION && index == 0 && max >= sizeof config_desc) {
    memcpy(out, config_desc, sizeof config_desc);
    return sizeof config_desc;
  }
  if (type == DESC_STRING) {
    if (index == 0 && max >= 4) {
      const uint8_t langs[4] = {4, DESC_STRING, 0x09, 0x04}; /* English (US) */
      memcpy(out, langs, 4);
      return 4;
    }
    if (index == 1 || index == 2) return string_desc(strings[index], out, max);
    if (index == 3) return string_desc(c->serial ? c->serial : "0", out, max);
  }
  return 0;
}

static fr_cdc_result data_in(const uint8_t *src, size_t n, const fr_usb_setup *s, uint8_t *reply, size_t reply_max, size_t *reply_len) {
  if (n > s->w_length) n = s->w_length; /* the host asks for at most wLength: a short reply ends the stage */
  if (n > reply_max) return FR_CDC_STALL;
  if (src != reply) memcpy(reply, src, n);
  *reply_len = n;
  return FR_CDC_DATA_IN;
}

fr_cdc_result fr_cdc_control(fr_cdc *c, const fr_usb_setup *s, uint8_t *reply, size_t reply_max, size_t *reply_len) {
  *reply_len = 0;
  uint8_t type = s->bm_request_type & TYPE_MASK;
  bool in = (s->bm_request_type & DIR_IN) != 0;
  if (type == TYPE_STANDARD) {
    switch (s->b_request) {
      case REQ_GET_DESCRIPTOR: {
        uint8_t buf[FR_CDC_REPLY_MAX];
        size_t n = fr_cdc_descriptor(c, s->w_value, buf, sizeof buf);
        if (n == 0 || !in) return FR_CDC_STALL;
        return data_in(buf, n, s, reply, reply_max, reply_len);
      }
      case REQ_SET_ADDRESS:
        if (s->w_value > 127u || in) return FR_CDC_STALL;
        c->address = (uint8_t)s->w_value;
        return FR_CDC_STATUS;
      case REQ_SET_CONFIGURATION:
        if (s->w_value > 1u) return FR_CDC_STALL;
        c->configuration = (uint8_t)s->w_value;
        if (c->configuration == 0) c->dtr = c->rts = false;
        return FR_CDC_STATUS;
      case REQ_GET_CONFIGURATION: {
        uint8_t v = c->configuration;
        return data_in(&v, 1, s, reply, reply_max, reply_len);
      }
      case REQ_GET_STATUS: {
        const uint8_t v[2] = {0, 0}; /* bus powered, no remote wakeup, endpoints not halted */
        return data_in(v, 2, s, reply, reply_max, reply_len);
      }
      case REQ_GET_INTERFACE: {
        if (c->configuration == 0 || s->w_index > 1u) return FR_CDC_STALL;
        const uint8_t v = 0;
        return data_in(&v, 1, s, reply, reply_max, reply_len);
      }
      case REQ_SET_INTERFACE:
        return (c->configuration != 0 && s->w_index <= 1u && s->w_value == 0) ? FR_CDC_STATUS : FR_CDC_STALL;
      case REQ_CLEAR_FEATURE:
      case REQ_SET_FEATURE:
        return FR_CDC_STATUS;
      default:
        return FR_CDC_STALL;
    }
  }
  if (type == TYPE_CLASS && s->w_index == 0 && c->configuration != 0) {
    switch (s->b_request) {
      case CDC_SET_LINE_CODING:
        if (in || s->w_length != 7u) return FR_CDC_STALL;
        c->pending = *s;
        return FR_CDC_DATA_OUT;
      case CDC_GET_LINE_CODING: {
        uint8_t v[7] = {LO(c->coding.dte_rate), HI(c->coding.dte_rate), LO(c->coding.dte_rate >> 16), HI(c->coding.dte_rate >> 16),
                        c->coding.char_format, c->coding.parity, c->coding.data_bits};
        if (!in) return FR_CDC_STALL;
        return data_in(v, 7, s, reply, reply_max, reply_len);
      }
      case CDC_SET_CONTROL_LINE_STATE:
        c->dtr = (s->w_value & 1u) != 0;
        c->rts = (s->w_value & 2u) != 0;
        return FR_CDC_STATUS;
      case CDC_SEND_BREAK:
        return FR_CDC_STATUS;
      default:
        return FR_CDC_STALL;
    }
  }
  return FR_CDC_STALL;
}

fr_cdc_result fr_cdc_control_data(fr_cdc *c, const uint8_t *data, size_t len) {
  fr_usb_setup p = c->pending;
  c->pending = (fr_usb_setup){0};
  if (p.b_request != CDC_SET_LINE_CODING || len != 7u) return FR_CDC_STALL;
  fr_cdc_line_coding lc = {(uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24, data[4], data[5], data[6]};
  if (lc.char_format > 2u || lc.parity > 4u || !(lc.data_bits == 5 || lc.data_bits == 6 || lc.data_bits == 7 || lc.data_bits == 8 || lc.data_bits == 16)) {
    return FR_CDC_STALL;
  }
  c->coding = lc; /* kept and reported back; a virtual port ignores the baud rate */
  return FR_CDC_STATUS;
}

bool fr_cdc_rx_ready(const fr_cdc *c) { return FR_CDC_RX_RING - (c->rx_head - c->rx_tail) >= FR_CDC_BULK_SIZE; }

bool fr_cdc_rx_packet(fr_cdc *c, const uint8_t *data, size_t len) {
  if (c->configuration == 0 || len > FR_CDC_BULK_SIZE || FR_CDC_RX_RING - (c->rx_head - c->rx_tail) < len) {
    c->rx_dropped += (uint32_t)len;
    return false;
  }
  for (size_t i = 0; i < len; i++) c->rx[(c->rx_head + i) % FR_CDC_RX_RING] = data[i];
  c->rx_head += (uint32_t)len;
  return true;
}

size_t fr_cdc_read(fr_cdc *c, uint8_t *buf, size_t max) {
  size_t n = 0;
  while (n < max && c->rx_tail != c->rx_head) buf[n++] = c->rx[c->rx_tail++ % FR_CDC_RX_RING];
  return n;
}

void fr_cdc_tx_start(fr_cdc_tx *t, size_t len) { *t = (fr_cdc_tx){len, 0, len == 0 || len % FR_CDC_BULK_SIZE == 0, false}; }

void fr_cdc_tx_start_control(fr_cdc_tx *t, size_t len, uint16_t w_length) {
  fr_cdc_tx_start(t, len);
  if (len == w_length) t->zlp_due = false; /* for len 0 the transfer is still its one zero-length packet */
}

bool fr_cdc_tx_next(fr_cdc_tx *t, size_t *offset, size_t *len) {
  if (t->done) return false;
  if (t->sent < t->len) {
    size_t n = t->len - t->sent < FR_CDC_BULK_SIZE ? t->len - t->sent : FR_CDC_BULK_SIZE;
    *offset = t->sent;
    *len = n;
    t->sent += n;
    if (t->sent == t->len && !t->zlp_due) t->done = true;
    return true;
  }
  /* all data sent in full packets (or nothing to send): a zero-length packet ends the transfer */
  *offset = t->len;
  *len = 0;
  t->zlp_due = false;
  t->done = true;
  return true;
}
