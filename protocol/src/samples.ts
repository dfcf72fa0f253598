// SampleBlock payloads: little-endian raw ADC codes, interleaved by channel.
import { ProtocolError } from './errors.ts';
import { SampleFormat } from './messages.ts';

export type SampleArray = Int16Array | Uint16Array | Int32Array | Float32Array;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function bytesPerSample(format: number): number {
  switch (format) {
    case SampleFormat.SAMPLE_FORMAT_INT16_LE:
    case SampleFormat.SAMPLE_FORMAT_UINT16_LE:
      return 2;
    case SampleFormat.SAMPLE_FORMAT_INT32_LE:
    case SampleFormat.SAMPLE_FORMAT_FLOAT32_LE:
      return 4;
    default:
      throw new ProtocolError('E_SAMPLE_FORMAT', `unknown sample format ${format}`, 'update fiberrig: the device sends a format this host does not know');
  }
}

function arrayFor(format: number, buffer: ArrayBuffer, byteOffset: number, length: number): SampleArray {
  switch (format) {
    case SampleFormat.SAMPLE_FORMAT_INT16_LE:
      return new Int16Array(buffer, byteOffset, length);
    case SampleFormat.SAMPLE_FORMAT_UINT16_LE:
      return new Uint16Array(buffer, byteOffset, length);
    case SampleFormat.SAMPLE_FORMAT_INT32_LE:
      return new Int32Array(buffer, byteOffset, length);
    default:
      return new Float32Array(buffer, byteOffset, length);
  }
}

/** Misaligned sample bytes are copied into slabs of this size (or one block's, if larger). */
const COPY_SLAB_BYTES = 64 * 1024;
let copySlab = new ArrayBuffer(0);
/** Bytes of `copySlab` handed out; a handed-out range is never written again. */
let copySlabUsed = 0;

/** An aligned copy of `bytes` as samples of `format`: carved from a shared slab, no allocation besides the view. */
function alignedCopy(format: number, bytes: Uint8Array, length: number): SampleArray {
  const n = bytes.byteLength;
  if (copySlabUsed + n > copySlab.byteLength) {
    copySlab = new ArrayBuffer(Math.max(COPY_SLAB_BYTES, n));
    copySlabUsed = 0;
  }
  const at = copySlabUsed;
  copySlabUsed = Math.min(copySlab.byteLength, (at + n + 7) & ~7);
  const out = arrayFor(format, copySlab, at, length);
  new Uint8Array(out.buffer, at, n).set(bytes);
  return out;
}

/**
 * Typed view of a block's samples (interleaved). A decoded `bytes` field may
 * start at an odd offset inside the receive buffer: then the bytes are copied
 * to an aligned buffer (a range of a shared slab that is never written again,
 * so the caller may keep the view); otherwise the view shares memory with `bytes`.
 */
export function samplesView(format: number, bytes: Uint8Array, channelCount: number, sampleCount: number): SampleArray {
  const width = bytesPerSample(format);
  const length = channelCount * sampleCount;
  if (bytes.byteLength !== length * width) {
    throw new ProtocolError(
      'E_SAMPLE_LENGTH',
      `block holds ${bytes.byteLength} sample bytes, expected ${sampleCount} samples x ${channelCount} channels x ${width} bytes`,
      'the device sent an inconsistent SampleBlock; report it with the raw log',
    );
  }
  if (!LITTLE_ENDIAN_HOST) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = arrayFor(format, new ArrayBuffer(bytes.byteLength), 0, length);
    for (let i = 0; i < length; i++) {
      const at = i * width;
      out[i] = width === 2
        ? format === SampleFormat.SAMPLE_FORMAT_INT16_LE ? view.getInt16(at, true) : view.getUint16(at, true)
        : format === SampleFormat.SAMPLE_FORMAT_INT32_LE ? view.getInt32(at, true) : view.getFloat32(at, true);
    }
    return out;
  }
  if (bytes.byteOffset % width === 0) return arrayFor(format, bytes.buffer as ArrayBuffer, bytes.byteOffset, length);
  return alignedCopy(format, bytes, length);
}

/** Packs interleaved samples as little-endian bytes of `format`. */
export function packSamples(format: number, interleaved: ArrayLike<number>): Uint8Array {
  const width = bytesPerSample(format);
  const out = new Uint8Array(interleaved.length * width);
  const view = arrayFor(format, out.buffer, 0, interleaved.length);
  if (LITTLE_ENDIAN_HOST) {
    for (let i = 0; i < interleaved.length; i++) view[i] = interleaved[i]!;
    return out;
  }
  const dv = new DataView(out.buffer);
  for (let i = 0; i < interleaved.length; i++) {
    const v = interleaved[i]!;
    if (format === SampleFormat.SAMPLE_FORMAT_INT16_LE) dv.setInt16(i * 2, v, true);
    else if (format === SampleFormat.SAMPLE_FORMAT_UINT16_LE) dv.setUint16(i * 2, v, true);
    else if (format === SampleFormat.SAMPLE_FORMAT_INT32_LE) dv.setInt32(i * 4, v, true);
    else dv.setFloat32(i * 4, v, true);
  }
  return out;
}
