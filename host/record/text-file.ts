// A buffered text file written with synchronous writes: memory stays bounded
// however fast rows are produced (an offline pass produces them far faster
// than a WriteStream drains), and rows reach the OS in order.
import { closeSync, openSync, writeSync } from 'node:fs';
import { RecordError } from './errors.ts';

export class TextFileWriter {
  private fd: number | undefined;
  private parts: string[] = [];
  private pending = 0;
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
    this.parts.push(text);
    this.pending += text.length;
    this.chars += text.length;
    if (this.pending >= this.bufferChars) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.pending === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.pending = 0;
    try {
      const bytes = Buffer.from(text, 'utf8');
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (cause) {
      throw new RecordError('E_RECORDING_WRITE', `cannot write ${this.path}: ${(cause as Error).message}`, 'free disk space or choose another output directory', { cause });
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
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

