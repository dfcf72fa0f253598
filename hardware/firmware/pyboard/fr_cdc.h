/* USB CDC ACM (virtual COM port) logic of the pyboard link, apart from the
 * peripheral: descriptors, the control requests of enumeration and of the CDC
 * class, bulk IN packetisation (with the zero-length-packet rule) and bulk OUT
 * flow control. Pure C, unit-tested in the host build (test/pyboard_unit.c);
 * a driver for the OTG_FS peripheral calls it from its endpoint events. */
#ifndef FR_CDC_H
#define FR_CDC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FR_USB_VID 0x0483u /* STMicroelectronics */
#define FR_USB_PID 0x5740u /* ST's virtual COM port product id */
#define FR_CDC_EP0_SIZE 64u
#define FR_CDC_BULK_SIZE 64u  /* full speed bulk maximum */
#define FR_CDC_NOTIFY_EP 0x82u
#define FR_CDC_NOTIFY_SIZE 8u /* interrupt IN maximum packet */
#define FR_CDC_OUT_EP 0x01u
#define FR_CDC_IN_EP 0x81u
#define FR_CDC_CONFIG_TOTAL 75u
#define FR_CDC_RX_RING 1024u
#define FR_CDC_REPLY_MAX 160u /* the longest control reply (descriptor) fr_cdc_control builds */

typedef struct {
  uint8_t bm_request_type;
  uint8_t b_request;
  uint16_t w_value;
  uint16_t w_index;
  uint16_t w_length;
} fr_usb_setup;

typedef struct {
  uint32_t dte_rate;
  uint8_t char_format;
  uint8_t parity;
  uint8_t data_bits;
} fr_cdc_line_coding;

typedef enum {
  FR_CDC_STALL = 0,    /* unsupported request: stall EP0 */
  FR_CDC_STATUS = 1,   /* no data stage (or OUT data consumed): send a zero-length status */
  FR_CDC_DATA_IN = 2,  /* send reply[0..reply_len) (already cut to wLength) */
  FR_CDC_DATA_OUT = 3, /* receive wLength bytes, then call fr_cdc_control_data() */
} fr_cdc_result;

typedef struct {
  uint8_t address;       /* SET_ADDRESS; when the driver applies it depends on the core (fr_usbd.c) */
  uint8_t configuration; /* 0: addressed, not configured */
  bool dtr, rts;         /* SET_CONTROL_LINE_STATE: DTR = a host program has the port open */
  fr_cdc_line_coding coding;
  fr_usb_setup pending; /* an OUT request waiting for its data stage */
  uint8_t rx[FR_CDC_RX_RING];
  uint32_t rx_head, rx_tail;
  uint32_t rx_dropped;
  const char *serial;
} fr_cdc;

/* One bulk IN transfer cut into packets: a transfer whose length is a
 * non-zero multiple of the packet size ends with a zero-length packet. */
typedef struct {
  size_t len, sent;
  bool zlp_due, done;
} fr_cdc_tx;

void fr_cdc_init(fr_cdc *c, const char *serial);
/* USB bus reset: address 0, unconfigured, lines down, ring kept empty. */
void fr_cdc_bus_reset(fr_cdc *c);
fr_cdc_result fr_cdc_control(fr_cdc *c, const fr_usb_setup *s, uint8_t *reply, size_t reply_max, size_t *reply_len);
fr_cdc_result fr_cdc_control_data(fr_cdc *c, const uint8_t *data, size_t len);
/* A descriptor by GET_DESCRIPTOR's wValue (type << 8 | index); 0 when unknown. */
size_t fr_cdc_descriptor(const fr_cdc *c, uint16_t w_value, uint8_t *out, size_t max);
bool fr_cdc_link_up(const fr_cdc *c);

/* Bulk OUT: room for a whole packet? (else NAK until the main loop reads). */
bool fr_cdc_rx_ready(const fr_cdc *c);
/* A received packet; false (and counted) if it did not fit. */
bool fr_cdc_rx_packet(fr_cdc *c, const uint8_t *data, size_t len);
size_t fr_cdc_read(fr_cdc *c, uint8_t *buf, size_t max);

void fr_cdc_tx_start(fr_cdc_tx *t, size_t len);
/* A control read's data stage (EP0 IN, reply already cut to wLength): as a
 * bulk transfer, except that a reply of exactly wLength bytes needs no
 * zero-length packet, the host stops asking by itself. An empty reply is one
 * zero-length packet. */
void fr_cdc_tx_start_control(fr_cdc_tx *t, size_t len, uint16_t w_length);
/* The next packet of the transfer (offset, length; length 0 is the ZLP); false when the transfer is complete. */
bool fr_cdc_tx_next(fr_cdc_tx *t, size_t *offset, size_t *len);

#endif
