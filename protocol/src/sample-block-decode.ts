// A hand-written decoder for the one message on the hot path: Envelope{sample_block}
// (40 per second per device at the default configuration, every one through the link,
// the raw-log readers and the demodulator). It builds the same objects protobufjs's
// generated Envelope.decode builds (pb.Envelope and pb.SampleBlock instances, the
// same own properties: a field is set only when non-zero, as protobufjs does), and
// skips what costs there: the oneof setter (which deletes 22 absent members per
// message) and the Reader object with its per-field calls.
//
// It handles exactly: Envelope fields request_id (1) and sample_block (60, once);
// SampleBlock fields 1..7 with their declared wire types (channel_ids packed or
// not, in any mix), varints of up to 5 bytes (7 for first_sample_index, exact
// below 2^49), and SampleBlock fields it does not know (skipped, as protobufjs does
// while Reader.discardUnknown holds). For anything else — another body, any other
// Envelope field, a repeated sample_block (protobufjs merges), a wrong wire type,
// a longer varint, groups, truncated or inconsistent lengths — it returns undefined
// and the caller decodes with protobufjs, which then gives the answer (or the error).
// test/protocol/sample-block-decode.test.ts checks it equals protobufjs on random
// and edge messages, and that it knows every SampleBlock field of the .proto.
import { protobufRuntime } from './protobuf-runtime.ts';
import { fiberrig } from '../generated/fiberrig.js';

const pbv1 = fiberrig.v1;

/** Envelope.sample_block's field number, as the .proto declares it. */
const SAMPLE_BLOCK_FIELD = 60;
/** SampleBlock's highest field number this decoder knows (1..7: config_id .. samples). */
const LAST_KNOWN_FIELD = 7;

/** Decoding position: a cursor shared by the small readers below (no object per message). */
let pos = 0;
/** Set by a reader when the bytes are outside what this decoder handles. */
let bail = false;

/** A varint of at most 5 bytes as protobufjs's uint32() reads it (bits above 32 dropped); `bail` beyond. */
function uint32(buf: Uint8Array, end: number): number {
  let b = buf[pos]!;
  if (pos < end && b < 128) {
    pos++;
    return b;
  }
  let value = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) {
      bail = true;
      return 0;
    }
    b = buf[pos++]!;
    value |= (b & 127) << shift;
    if (b < 128) return value >>> 0;
  }
  if (pos >= end) {
    bail = true;
    return 0;
  }
  b = buf[pos++]!;
  if (b >= 128) {
    bail = true; // a 6..10-byte varint: protobufjs reads it; leave it that
    return 0;
  }
  return (value | ((b & 15) << 28)) >>> 0;
}

/** A field's tag: as uint32, but a 5-byte tag (field numbers from 2^25, which protobufjs checks further) is left to protobufjs. */
function tag(buf: Uint8Array, end: number): number {
  const start = pos;
  const t = uint32(buf, end);
  if (pos - start > 4) bail = true;
  return t;
}

/** A varint of at most 7 bytes (< 2^49, so exact as a double and equal to protobufjs's lo + hi * 2^32); `bail` beyond. */
function uint49(buf: Uint8Array, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    value += (b & 127) * scale;
    if (b < 128) return value;
    scale *= 128;
  }
  bail = true;
  return 0;
}

/** Skips one unknown field's value of wire type `wire` (0, 1, 2, 5); `bail` for groups and overruns. */
function skip(buf: Uint8Array, end: number, wire: number): void {
  if (wire === 0) {
    for (let i = 0; i < 10; i++) {
      if (pos >= end) break;
      if (buf[pos++]! < 128) return;
    }
    bail = true;
  } else if (wire === 1 || wire === 5) {
    pos += wire === 1 ? 8 : 4;
    if (pos > end) bail = true;
  } else if (wire === 2) {
    const n = uint32(buf, end);
    pos += n;
    if (pos > end) bail = true;
  } else bail = true;
}

/** The SampleBlock in `buf[pos..end)`, or undefined (`bail`) when this decoder leaves it to protobufjs. */
function sampleBlock(buf: Uint8Array, end: number): fiberrig.v1.SampleBlock | undefined {
  let configId = 0;
  let source = 0;
  let firstSampleIndex = 0;
  let sampleCount = 0;
  let format = 0;
  let samples: Uint8Array | undefined;
  const block = new pbv1.SampleBlock(); // channelIds = [] as protobufjs's constructor sets it
  const channelIds = block.channelIds;
  while (pos < end && !bail) {
    const t = tag(buf, end);
    const field = t >>> 3;
    const wire = t & 7;
    if (bail || field === 0) return undefined;
    if (field === 7 && wire === 2) {
      const n = uint32(buf, end);
      const start = pos;
      pos += n;
      if (bail || pos > end) return undefined;
      samples = n > 0 ? buf.subarray(start, pos) : undefined;
    } else if (field === 5) {
      if (wire === 2) {
        const n = uint32(buf, end);
        const packedEnd = pos + n;
        if (bail || packedEnd > end) return undefined;
        while (pos < packedEnd) {
          const id = uint32(buf, packedEnd);
          if (bail) return undefined;
          channelIds.push(id);
        }
      } else if (wire === 0) {
        channelIds.push(uint32(buf, end));
      } else return undefined;
    } else if (field <= LAST_KNOWN_FIELD) {
      // the varint fields 1, 2, 3, 4, 6; any other wire type (or samples not length-delimited) is protobufjs's
      if (wire !== 0 || field === 7) return undefined;
      if (field === 3) firstSampleIndex = uint49(buf, end);
      else {
        const v = uint32(buf, end);
        if (field === 1) configId = v;
        else if (field === 2) source = v | 0;
        else if (field === 4) sampleCount = v;
        else format = v | 0; // field 6
      }
    } else {
      if (!protobufRuntime.Reader.discardUnknown) return undefined; // protobufjs would keep it in $unknowns
      skip(buf, end, wire);
    }
  }
  if (bail || pos !== end) return undefined;
  // only non-zero values are own properties (protobufjs deletes a field decoded as zero: the prototype holds the default)
  if (configId !== 0) block.configId = configId;
  if (source !== 0) block.source = source;
  if (firstSampleIndex !== 0) block.firstSampleIndex = firstSampleIndex;
  if (sampleCount !== 0) block.sampleCount = sampleCount;
  if (format !== 0) block.format = format;
  if (samples !== undefined) block.samples = samples;
  return block;
}

/**
 * `bytes` decoded as an Envelope holding a SampleBlock, equal to what pb.Envelope.decode returns;
 * undefined for any other message or encoding (decode those with protobufjs). Never throws.
 */
export function decodeSampleBlockEnvelope(bytes: Uint8Array): fiberrig.v1.Envelope | undefined {
  pos = 0;
  bail = false;
  const end = bytes.length;
  let requestId = 0;
  let block: fiberrig.v1.SampleBlock | undefined;
  while (pos < end) {
    const t = tag(bytes, end);
    if (bail) return undefined;
    if (t === ((SAMPLE_BLOCK_FIELD << 3) | 2)) {
      if (block !== undefined) return undefined; // a second one merges into the first: protobufjs's business
      const n = uint32(bytes, end);
      const blockEnd = pos + n;
      if (bail || blockEnd > end) return undefined;
      block = sampleBlock(bytes, blockEnd);
      if (block === undefined) return undefined;
    } else if (t === ((1 << 3) | 0)) {
      requestId = uint32(bytes, end);
      if (bail) return undefined;
    } else return undefined;
  }
  if (block === undefined) return undefined;
  const envelope = new pbv1.Envelope();
  if (requestId !== 0) envelope.requestId = requestId;
  // a plain assignment: the oneof's other members are absent on a fresh message (protobufjs's setter would delete them)
  envelope.sampleBlock = block;
  return envelope;
}

/**
 * Where the sample bytes of an Envelope{sample_block} payload start (their offset in `bytes`), or -1 when
 * `bytes` is not one this decoder reads or has no samples. Reads only the few bytes before the samples
 * (no object): the frame decoder uses it to place payloads so that sample bytes can be viewed in place.
 */
export function sampleBytesOffset(bytes: Uint8Array): number {
  pos = 0;
  bail = false;
  const end = bytes.length;
  while (pos < end) {
    const t = tag(bytes, end);
    if (bail) return -1;
    if (t === ((SAMPLE_BLOCK_FIELD << 3) | 2)) {
      const n = uint32(bytes, end);
      const blockEnd = pos + n;
      if (bail || blockEnd > end) return -1;
      while (pos < blockEnd) {
        const f = tag(bytes, blockEnd);
        if (bail) return -1;
        if (f === ((7 << 3) | 2)) {
          const length = uint32(bytes, blockEnd);
          return bail || length === 0 || pos + length > blockEnd ? -1 : pos;
        }
        skip(bytes, blockEnd, f & 7);
        if (bail) return -1;
      }
      return -1;
    } else if (t === ((1 << 3) | 0)) {
      uint32(bytes, end);
      if (bail) return -1;
    } else return -1;
  }
  return -1;
}
