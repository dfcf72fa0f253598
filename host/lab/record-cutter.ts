// Cuts whole raw-log records out of bytes read from a log that is still being written
// (the record layout is host/record/rawlog-format.ts): a record is handed out only when
// all of it is there and its CRC-32C holds, so a mirror never sends half a record.
import { crc32cRange } from '../../protocol/index.ts';
import { MAX_RECORD_PAYLOAD_BYTES, RECORD_HEADER_BYTES, RECORD_OVERHEAD_BYTES, RECORD_TRAILER_BYTES, SYNC0, SYNC1 } from '../record/rawlog-format.ts';

export interface CutRecord {
  /** Byte offset of the record in the file. */
  offset: number;
  /** The record's bytes (a view of the buffer given). */
  bytes: Uint8Array;
}

export type CutStop =
  /** The record at the end is not all there yet (or nothing is left). */
  | 'incomplete'
  /** The bytes at `offset` are no valid record (damage, or a write caught half done). */
  | 'invalid';

/** The length of the valid record at `at` in `buf`, or why there is none. */
export function recordLengthAt(buf: Uint8Array, at: number): number | CutStop {
  if (buf.length - at < RECORD_HEADER_BYTES) return 'incomplete';
  if (buf[at] !== SYNC0 || buf[at + 1] !== SYNC1 || buf[at + 3] !== 0) return 'invalid';
  const view = new DataView(buf.buffer, buf.byteOffset + at, RECORD_HEADER_BYTES);
  const payloadLength = view.getUint32(4, true);
  if (payloadLength > MAX_RECORD_PAYLOAD_BYTES) return 'invalid';
  const total = payloadLength + RECORD_OVERHEAD_BYTES;
  if (buf.length - at < total) return 'incomplete';
  const crcAt = at + RECORD_HEADER_BYTES + payloadLength;
  const stored = new DataView(buf.buffer, buf.byteOffset + crcAt, RECORD_TRAILER_BYTES).getUint32(0, true);
  return crc32cRange(buf, at, crcAt) === stored ? total : 'invalid';
}

/** The whole valid records at the start of `buf` (which begins at file offset `baseOffset`), and why cutting stopped. */
export function cutRecords(buf: Uint8Array, baseOffset: number): { records: CutRecord[]; consumed: number; stop: CutStop } {
  const records: CutRecord[] = [];
  let at = 0;
  for (;;) {
    const n = recordLengthAt(buf, at);
    if (typeof n !== 'number') return { records, consumed: at, stop: n };
    records.push({ offset: baseOffset + at, bytes: buf.subarray(at, at + n) });
    at += n;
  }
}
