/* The bounds walker (fr_bounds.h). Bounds come from nanopb's own field
 * descriptors (array_size, data_size: exactly what pb_decode enforces), field
 * names from generated/fiberrig_names.h. Each rule mirrors
 * firmware-sim/device/bounds.ts. */
#include "fr_bounds.h"

#include <stdio.h>
#include <string.h>

#include "fiberrig.pb.h"
#include "fiberrig_names.h"
#include "pb_common.h"
#include "pb_decode.h"

#define MAX_FIELDS 64u

typedef struct {
  void *scratch;
  fr_bounds_scan *out;
} walk_ctx;

static const char *field_name(const pb_msgdesc_t *msg, uint32_t tag) {
  for (size_t i = 0; i < sizeof fr_field_names / sizeof fr_field_names[0]; i++) {
    if (fr_field_names[i].msg == msg && fr_field_names[i].tag == tag) return fr_field_names[i].name;
  }
  return "?";
}

/* path + "." + name (+ "[index]" when index >= 0), clipped to the buffer */
static void join(char *dst, size_t size, const char *path, const char *name, long index) {
  if (index >= 0) snprintf(dst, size, "%s%s%s[%ld]", path, path[0] ? "." : "", name, index);
  else snprintf(dst, size, "%s%s%s", path, path[0] ? "." : "", name);
}

static bool packable(pb_type_t type) { return PB_LTYPE(type) <= PB_LTYPE_LAST_PACKABLE; }

/* A substream closed early is skipped to its end by pb_close_string_substream.
 * Returns false on malformed bytes (the walk ends); sets ctx->out->overflow on
 * the first field beyond its bound. `top`: the envelope level. */
static bool walk(walk_ctx *ctx, pb_istream_t *stream, const pb_msgdesc_t *desc, const char *path, bool top) {
  uint32_t counts[MAX_FIELDS];
  memset(counts, 0, sizeof counts);
  fr_bounds_scan *out = ctx->out;
  while (stream->bytes_left > 0) {
    pb_wire_type_t wt;
    uint32_t tag;
    bool eof;
    if (!pb_decode_tag(stream, &wt, &tag, &eof) || tag == 0u) return false;
    if (top && tag == 1u && wt == PB_WT_VARINT) {
      if (!pb_decode_varint32(stream, &out->request_id)) return false;
      continue;
    }
    pb_field_iter_t it;
    bool known = pb_field_iter_begin(&it, desc, ctx->scratch) && pb_field_iter_find(&it, tag);
    /* after an overflow the envelope is only read on for its request id */
    if (!known || out->overflow || it.index >= MAX_FIELDS) {
      if (!pb_skip_field(stream, wt)) return false;
      continue;
    }
    bool repeated = PB_HTYPE(it.type) == PB_HTYPE_REPEATED;
    bool is_static = PB_ATYPE(it.type) == PB_ATYPE_STATIC;
    uint32_t index = counts[it.index];
    char here[48];
    join(here, sizeof here, path, field_name(desc, tag), repeated ? (long)index : -1);
    if (wt == PB_WT_STRING && repeated && packable(it.type)) {
      /* a packed run of scalars */
      pb_istream_t sub;
      if (!pb_make_string_substream(stream, &sub)) return false;
      uint32_t n = 0;
      if (PB_LTYPE(it.type) == PB_LTYPE_FIXED32 || PB_LTYPE(it.type) == PB_LTYPE_FIXED64) {
        size_t size = PB_LTYPE(it.type) == PB_LTYPE_FIXED32 ? 4u : 8u;
        if (sub.bytes_left % size != 0) return false;
        n = (uint32_t)(sub.bytes_left / size);
      } else {
        while (sub.bytes_left > 0) {
          uint64_t v;
          if (!pb_decode_varint(&sub, &v)) return false;
          n++;
        }
      }
      if (!pb_close_string_substream(stream, &sub)) return false;
      counts[it.index] = index + n;
    } else {
      counts[it.index] = index + 1u;
      uint32_t lt = PB_LTYPE(it.type);
      if (wt == PB_WT_STRING && (PB_LTYPE_IS_SUBMSG(it.type) || lt == PB_LTYPE_STRING || lt == PB_LTYPE_BYTES)) {
        pb_istream_t sub;
        if (!pb_make_string_substream(stream, &sub)) return false;
        size_t len = sub.bytes_left;
        if (PB_LTYPE_IS_SUBMSG(it.type)) {
          /* the envelope's body is the command: paths start inside it */
          bool ok = walk(ctx, &sub, it.submsg_desc, top ? path : here, false);
          if (!ok && !out->overflow) return false;
        } else if (is_static) {
          size_t max = lt == PB_LTYPE_STRING ? (size_t)it.data_size - 1u : (size_t)it.data_size - offsetof(pb_bytes_array_t, bytes);
          if (len > max) {
            out->overflow = true;
            snprintf(out->field, sizeof out->field, "%s", here);
            snprintf(out->message, sizeof out->message, "%.47s: %u bytes, at most %u", here, (unsigned)len, (unsigned)max);
          }
        }
        if (!pb_close_string_substream(stream, &sub)) return false;
      } else if (!pb_skip_field(stream, wt)) {
        return false;
      }
    }
    if (!out->overflow && repeated && is_static && counts[it.index] > it.array_size) {
      out->overflow = true;
      join(out->field, sizeof out->field, path, field_name(desc, tag), -1);
      snprintf(out->message, sizeof out->message, "%.47s: more than %u entries", out->field, (unsigned)it.array_size);
    }
    if (out->overflow && !top) return true;
  }
  return true;
}

void fr_bounds_scan_envelope(const uint8_t *buf, size_t len, void *scratch, fr_bounds_scan *out) {
  memset(out, 0, sizeof *out);
  walk_ctx ctx = {scratch, out};
  pb_istream_t stream = pb_istream_from_buffer(buf, len);
  (void)walk(&ctx, &stream, &fiberrig_v1_Envelope_msg, "", true);
}
