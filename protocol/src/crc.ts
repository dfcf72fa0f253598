// CRC-32C (Castagnoli), the frame trailer. Provided by @node-rs/crc32 (SSE4.2 / NEON).
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of `bytes` (the check value of "123456789" is 0xE3069283). */
export function crc32c(bytes: Uint8Array): number {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return nativeCrc32c(buf) >>> 0;
}

/** CRC-32C of `bytes[start..end)`, without an intermediate view. */
export function crc32cRange(bytes: Uint8Array, start: number, end: number): number {
  return nativeCrc32c(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start)) >>> 0;
}
