// A buffered text file written with synchronous writes: memory stays bounded
// however fast rows are produced (an offline pass produces them far faster
// than a WriteStream drains), and rows reach the OS in order.
import { closeSync, openSync, writeSync } from 'node:fs';
import { RecordError } from './errors.ts';

/** Where a `room` write goes: the buffer, a DataView over the same bytes, and the end of what it holds. */
export interface Room {
  buffer: Buffer;
  view: DataView;
  end: number;
}

export class TextFileWriter {
  private fd: number | undefined;
  /** Encoded text not yet written (allocated on first write). */
  private buffer: Buffer | undefined;
  private used = 0;
  /** What `room` returns, reused: one object and one DataView per buffer, not per call. */
  private readonly roomOut: Room = { buffer: Buffer.alloc(0), view: new DataView(new ArrayBuffer(0)), end: 0 };
  /** Characters handed over so far (buffered included). */
  chars = 0;

  constructor(readonly path: string, private readonly bufferChars = 256 * 1024) {
    try {
      this.fd = openSync(path, 'w');
    } catch (cause) {
      throw new RecordError('E_RECORDING_WRITE', `cannot create ${path}: ${(cause as Error).message}`, 'check that the output directory exists and is writable', { cause });
    }
  }

  write(text: string): void {
    if (this.fd === undefined) throw new RecordError('E_RECORDING_WRITE', `${this.path} is closed`, 'this is a bug in fiberrig: report it');
    this.chars += text.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: encoded straight into the buffer when it surely fits
    const worstBytes = 3 * text.length;
    this.buffer ??= Buffer.allocUnsafe(3 * this.bufferChars);
    if (this.used + worstBytes > this.buffer.length) this.flush();
    if (worstBytes > this.buffer.length) {
      this.writeOut(Buffer.from(text, 'utf8'));
      return;
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
    if (this.used >= this.bufferChars) this.flush();
  }

  /**
   * For writing ASCII bytes straight into the buffer (no string per row): a buffer with room for
   * `bytes` more from `end` on (`view`: a DataView over the same bytes). Write there, then
   * `commit(newEnd)`; nothing else in between. The object returned is reused by the next call.
   */
  room(bytes: number): Room {
    if (this.fd === undefined) throw new RecordError('E_RECORDING_WRITE', `${this.path} is closed`, 'this is a bug in fiberrig: report it');
    this.buffer ??= Buffer.allocUnsafe(3 * this.bufferChars);
    if (this.used + bytes > this.buffer.length) this.flush();
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
    const out = this.roomOut;
    if (out.buffer !== this.buffer) {
      out.buffer = this.buffer;
      out.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
    }
    out.end = this.used;
    return out;
  }

  /** Ends a `room` write: the bytes up to `end` (ASCII: one character each) are written. */
  commit(end: number): void {
    this.chars += end - this.used;
    this.used = end;
    if (this.used >= this.bufferChars) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.used === 0 || !this.buffer) return;
    const used = this.used;
    this.used = 0;
    this.writeOut(this.buffer.subarray(0, used));
  }

  private writeOut(bytes: Uint8Array): void {
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd!, bytes, off, bytes.length - off);
    } catch (cause) {
      throw new RecordError('E_RECORDING_WRITE', `cannot write ${this.path}: ${(cause as Error).message}`, 'free disk space or choose another output directory', { cause });
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
    this.buffer = undefined;
  }
}

/** CSV number formatting shared by every derived file and export: 9 significant digits, NaN for gaps. */
export function formatValue(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v.toPrecision(9);
}

/**
 * A voltage in volts, 7 significant digits in exponent form ("-6.188507e-5"): exact for 16-bit codes times
 * their scale, and short for the µV-sized aux values (EEG/EMG in volts at the electrode).
 */
export function formatVolts(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v.toExponential(6);
}

