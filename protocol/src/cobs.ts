// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): removes every
// 0x00 from a payload so that 0x00 can delimit frames.

/**
 * Encodes `src` into `dst` starting at `dstOffset`; returns the offset after
 * the last byte written. `dst` must hold cobsMaxEncodedBytes(src.length) bytes.
 */
export function cobsEncodeInto(src: Uint8Array, dst: Uint8Array, dstOffset = 0): number {
  let codeIndex = dstOffset;
  let out = dstOffset + 1;
  let code = 1;
  let closedFullBlock = false;
  for (let i = 0; i < src.length; i++) {
    const byte = src[i]!;
    closedFullBlock = false;
    if (byte === 0) {
      dst[codeIndex] = code;
      codeIndex = out++;
      code = 1;
    } else {
      dst[out++] = byte;
      code++;
      if (code === 0xff) {
        dst[codeIndex] = code;
        codeIndex = out++;
        code = 1;
        closedFullBlock = true;
      }
    }
  }
  // Canonical form: a payload that ends with a full 254-byte block needs no
  // trailing empty block.
  if (closedFullBlock) return out - 1;
  dst[codeIndex] = code;
  return out;
}

/**
 * Decodes the COBS bytes `src[start..end)` into `dst` (which may be `src`
 * itself: decoding never overtakes reading). Returns the decoded length, or
 * -1 when the input is not valid COBS (a zero byte, or a code that runs past
 * the end).
 */
export function cobsDecodeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  let read = start;
  let write = 0;
  while (read < end) {
    const code = src[read]!;
    if (code === 0) return -1;
    const blockEnd = read + code;
    if (blockEnd > end) return -1;
    read++;
    while (read < blockEnd) {
      const byte = src[read++]!;
      if (byte === 0) return -1;
      dst[write++] = byte;
    }
    if (code !== 0xff && read < end) dst[write++] = 0;
  }
  return write;
}

/** Blocks up to this many data bytes are copied by a loop; longer ones by copyWithin (a native memmove). */
const SHORT_BLOCK = 16;

/**
 * Decodes the COBS bytes `buf[start..end)` in place: the decoded bytes start at
 * `buf[start]`. Precondition: the range holds no 0x00 (a frame as found between
 * delimiters, e.g. by indexOf); a zero is reported as invalid only where it is a
 * code byte. Returns the decoded length, or -1 when a code runs past the end.
 * Copies each block natively (the loop of cobsDecodeInto checks every byte).
 */
export function cobsDecodeInPlace(buf: Uint8Array, start: number, end: number): number {
  let read = start;
  let write = start;
  while (read < end) {
    const code = buf[read]!;
    const blockEnd = read + code;
    if (code === 0 || blockEnd > end) return -1;
    if (code <= SHORT_BLOCK) {
      for (let i = read + 1; i < blockEnd; i++) buf[write++] = buf[i]!;
    } else {
      buf.copyWithin(write, read + 1, blockEnd);
      write += code - 1;
    }
    read = blockEnd;
    if (code !== 0xff && read < end) buf[write++] = 0;
  }
  return write - start;
}
