// The C firmware decodes commands into static nanopb structs whose bounds come from
// protocol/fiberrig.options (max_size of strings and bytes, max_count of repeated fields).
// protobufjs decodes an over-long field happily, nanopb cannot: both devices therefore walk the
// frame's protobuf wire format themselves, in wire order, and answer the first field beyond its
// bound with Error(FIELD_TOO_LONG, field, request id) instead of decoding the command. The C
// twin of this walker is hardware/firmware/core/fr_bounds.c (there the bounds come from nanopb's
// own field descriptors); the conformance suite holds both to the same answers.
//
// Field paths are relative to the command message, as the validators name fields:
// "host_name" (Hello), "config.leds" (too many entries), "table.leds[0].label".
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

/** A field's bound from fiberrig.options. */
export interface FieldBound {
  /** nanopb max_size: a string holds max_size - 1 bytes (its NUL), bytes hold max_size. */
  maxSize?: number;
  /** nanopb max_count: entries of a repeated field. */
  maxCount?: number;
}

/** The bounds of fiberrig.options, keyed "Message.field" (e.g. "Hello.host_name"). */
export function loadFieldBounds(text = readFileSync(new URL('../../protocol/fiberrig.options', import.meta.url), 'utf8')): Map<string, FieldBound> {
  const bounds = new Map<string, FieldBound>();
  for (const line of text.split('\n')) {
    const m = /^\s*fiberrig\.v1\.(\w+\.\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const b: FieldBound = {};
    for (const opt of m[2]!.matchAll(/(max_size|max_count):(\d+)/g)) {
      if (opt[1] === 'max_size') b.maxSize = Number(opt[2]);
      else b.maxCount = Number(opt[2]);
    }
    bounds.set(m[1]!, b);
  }
  return bounds;
}

type Kind = 'message' | 'string' | 'bytes' | 'varint' | 'fixed32' | 'fixed64';

interface FieldShape {
  name: string;
  kind: Kind;
  repeated: boolean;
  type?: MessageShape;
  /** Largest byte length of a string/bytes value, or undefined. */
  maxBytes?: number;
  maxCount?: number;
}

interface MessageShape {
  name: string;
  fields: Map<number, FieldShape>;
}

const FIXED32 = new Set(['fixed32', 'sfixed32', 'float']);
const FIXED64 = new Set(['fixed64', 'sfixed64', 'double']);

function loadShapes(): MessageShape {
  const text = readFileSync(new URL('../../protocol/fiberrig.proto', import.meta.url), 'utf8');
  const root = protobuf.parse(text, { keepCase: true }).root;
  root.resolveAll();
  const bounds = loadFieldBounds();
  const shapes = new Map<protobuf.Type, MessageShape>();
  const shapeOf = (t: protobuf.Type): MessageShape => {
    let s = shapes.get(t);
    if (s) return s;
    s = { name: t.name, fields: new Map() };
    shapes.set(t, s);
    for (const f of t.fieldsArray) {
      const bound = bounds.get(`${t.name}.${f.name}`);
      const kind: Kind = f.resolvedType instanceof protobuf.Type ? 'message'
        : f.type === 'string' ? 'string' : f.type === 'bytes' ? 'bytes'
        : FIXED32.has(f.type) ? 'fixed32' : FIXED64.has(f.type) ? 'fixed64' : 'varint';
      const shape: FieldShape = { name: f.name, kind, repeated: f.repeated };
      if (kind === 'message') shape.type = shapeOf(f.resolvedType as protobuf.Type);
      if (bound?.maxSize !== undefined) shape.maxBytes = kind === 'string' ? bound.maxSize - 1 : bound.maxSize;
      if (bound?.maxCount !== undefined) shape.maxCount = bound.maxCount;
      s.fields.set(f.id, shape);
    }
    return s;
  };
  return shapeOf(root.lookupType('fiberrig.v1.Envelope'));
}

const ENVELOPE = loadShapes();

/** What a device learns from a frame's bytes before decoding it. */
export interface EnvelopeScan {
  /** Envelope.request_id as far as the walk read it (0 when absent or not reached). */
  requestId: number;
  /** The first field beyond its bound, in wire order, or null. */
  overflow: { field: string; message: string } | null;
}

class Malformed extends Error {}

interface Cursor {
  buf: Uint8Array;
  pos: number;
}

function varint(c: Cursor, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= end) throw new Malformed();
    const b = c.buf[c.pos++]!;
    if (i < 5) value += (b & 0x7f) * scale; // the low 35 bits are enough for tags, lengths and uint32 ids
    scale *= 128;
    if ((b & 0x80) === 0) return value;
  }
  throw new Malformed();
}

function skip(c: Cursor, end: number, wireType: number): void {
  switch (wireType) {
    case 0: varint(c, end); return;
    case 1: c.pos += 8; break;
    case 2: c.pos += varint(c, end); break;
    case 5: c.pos += 4; break;
    default: throw new Malformed(); // groups (3, 4) are not in proto3, 6 and 7 do not exist
  }
  if (c.pos > end) throw new Malformed();
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/**
 * Walks one message's fields in [c.pos, end); returns the first overflow, or null. `top` (the envelope
 * level only) collects the request id and keeps the overflow found in the body while the walk reads on.
 */
function walk(c: Cursor, end: number, shape: MessageShape, path: string, top: EnvelopeScan | null): EnvelopeScan['overflow'] {
  const counts = new Map<number, number>();
  let found: EnvelopeScan['overflow'] = null;
  while (c.pos < end) {
    const key = varint(c, end);
    const tag = Math.floor(key / 8);
    const wireType = key % 8;
    if (tag === 0) throw new Malformed();
    const f = shape.fields.get(tag);
    if (top && tag === 1 && wireType === 0) {
      top.requestId = varint(c, end) >>> 0;
      continue;
    }
    // after an overflow the envelope is only read on for its request id
    if (!f || found) {
      skip(c, end, wireType);
      continue;
    }
    const index = counts.get(tag) ?? 0;
    const here = f.repeated ? `${f.name}[${index}]` : f.name;
    if (wireType === 2 && f.kind !== 'message' && f.kind !== 'string' && f.kind !== 'bytes' && f.repeated) {
      // a packed run of scalars
      const len = varint(c, end);
      const stop = c.pos + len;
      if (stop > end) throw new Malformed();
      let n = 0;
      if (f.kind === 'varint') {
        while (c.pos < stop) {
          varint(c, stop);
          n++;
        }
      } else {
        const size = f.kind === 'fixed32' ? 4 : 8;
        if (len % size !== 0) throw new Malformed();
        n = len / size;
        c.pos = stop;
      }
      counts.set(tag, index + n);
    } else {
      counts.set(tag, index + 1);
      if (wireType === 2 && (f.kind === 'message' || f.kind === 'string' || f.kind === 'bytes')) {
        const len = varint(c, end);
        const stop = c.pos + len;
        if (stop > end) throw new Malformed();
        if (f.kind === 'message') {
          // the envelope's body is the command: paths start inside it
          found = walk(c, stop, f.type!, top ? path : join(path, here), null);
        } else if (f.maxBytes !== undefined && len > f.maxBytes) {
          found = { field: join(path, here), message: `${join(path, here)}: ${len} bytes, at most ${f.maxBytes}` };
        }
        c.pos = stop;
      } else {
        skip(c, end, wireType);
      }
    }
    if (!found && f.maxCount !== undefined && counts.get(tag)! > f.maxCount) {
      const field = join(path, f.name);
      found = { field, message: `${field}: more than ${f.maxCount} entries` };
    }
    if (found && !top) return found;
    if (found && top) top.overflow = found;
  }
  return found;
}

/**
 * Reads a CRC-good frame's Envelope bytes as the C firmware does before decoding: its request id and the
 * first field beyond the firmware's bounds, in wire order. Malformed bytes end the walk (what was read stays).
 */
export function scanEnvelope(payload: Uint8Array): EnvelopeScan {
  const top: EnvelopeScan = { requestId: 0, overflow: null };
  try {
    walk({ buf: payload, pos: 0 }, payload.length, ENVELOPE, '', top);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
  }
  return top;
}
