// Demodulated signals, aux channels, events and gaps as CSV files in a
// recording directory. Times come from the device clock (output index / rate
// on the session timeline); gaps are NaN rows, never dropped or zero-filled.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignalBlock } from '../pipeline/demodulate.ts';

function formatValue(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v.toPrecision(9);
}

class CsvFile {
  private readonly stream: WriteStream;
  private failed: Error | undefined;
  rows = 0;

  constructor(readonly path: string, header: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
    this.stream.on('error', (e) => { this.failed = e; });
    this.stream.write(`${header}\n`);
  }

  write(text: string): void {
    if (this.failed) throw this.failed;
    this.stream.write(text);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failed) { reject(this.failed); return; }
      this.stream.end(() => (this.failed ? reject(this.failed) : resolve()));
    });
  }
}

export interface EventRow {
  timeS: number;
  kind: string;
  line: number;
  value: string;
}

export interface GapRow {
  source: string;
  startS: number;
  durationS: number;
  samples: number;
  reason: string;
  estimated: boolean;
}

/** Writes signals.csv, aux.csv, events.csv and gaps.csv into `dir`. */
export class SignalFiles {
  private signals: CsvFile | undefined;
  private aux: CsvFile | undefined;
  private readonly events: CsvFile;
  private readonly gaps: CsvFile;

  private constructor(readonly dir: string) {
    this.events = new CsvFile(join(dir, 'events.csv'), 'time_s,kind,line,value');
    this.gaps = new CsvFile(join(dir, 'gaps.csv'), 'source,start_s,duration_s,samples,reason,estimated');
  }

  static async create(dir: string): Promise<SignalFiles> {
    await mkdir(dir, { recursive: true });
    return new SignalFiles(dir);
  }

  get signalRows(): number {
    return this.signals?.rows ?? 0;
  }

  writeSignals(block: SignalBlock): void {
    const file = block.stream === 'aux' ? (this.aux ??= this.open('aux.csv', block)) : (this.signals ??= this.open('signals.csv', block));
    let text = '';
    for (let k = 0; k < block.count; k++) {
      text += ((block.firstIndex + k) / block.rateHz).toFixed(6);
      for (const values of block.values) text += `,${formatValue(values[k]!)}`;
      text += '\n';
    }
    file.rows += block.count;
    file.write(text);
  }

  writeEvent(row: EventRow): void {
    this.events.write(`${row.timeS.toFixed(9)},${row.kind},${row.line},${row.value}\n`);
    this.events.rows++;
  }

  writeGap(row: GapRow): void {
    this.gaps.write(`${row.source},${row.startS.toFixed(6)},${row.durationS.toFixed(6)},${row.samples},${row.reason},${row.estimated}\n`);
    this.gaps.rows++;
  }

  async close(): Promise<void> {
    await Promise.all([this.signals?.close(), this.aux?.close(), this.events.close(), this.gaps.close()]);
  }

  private open(name: string, block: SignalBlock): CsvFile {
    return new CsvFile(join(this.dir, name), ['time_s', ...block.channels.map((c) => c.name)].join(','));
  }
}
