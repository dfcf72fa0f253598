/* Before a frame that did not decode is answered: its request id, and the
 * first field beyond the nanopb bounds (protocol/fiberrig.options), in wire
 * order. The C twin of firmware-sim/device/bounds.ts: a host gets
 * Error(FIELD_TOO_LONG, field, its request id) instead of an anonymous
 * FRAME_ERROR. Field paths are relative to the command message
 * ("host_name", "config.leds", "table.leds[0].label"). */
#ifndef FR_BOUNDS_H
#define FR_BOUNDS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t request_id; /* Envelope.request_id as far as the walk read it (0 if never) */
  bool overflow;       /* a field beyond its bound was found */
  char field[48];      /* its path (Error.field's bound) */
  char message[96];    /* e.g. "host_name: 99 bytes, at most 47" */
} fr_bounds_scan;

/* Walks `len` bytes of an encoded Envelope. `scratch` is any object at least
 * as large as a fiberrig_v1_Envelope: nanopb's field iterator computes field
 * addresses from it (nothing is written). */
void fr_bounds_scan_envelope(const uint8_t *buf, size_t len, void *scratch, fr_bounds_scan *out);

#endif
