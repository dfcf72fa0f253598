// Running `fiberrig acquire` as a child process and reading what it wrote.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const bin = fileURLToPath(new URL('../../../host/cli/bin.js', import.meta.url));

/** `fiberrig acquire --device URL --duration D --out DIR --json --quiet`; resolves with the JSON summary. */
export async function cliAcquire(device: string, duration: string, out: string, extraArgs: string[] = []): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'acquire', '--device', device, '--duration', duration, '--out', out, '--json', '--quiet', ...extraArgs], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 110_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

export interface Csv {
  header: string[];
  /** columns[name] = values (numbers; NaN for "NaN"; non-numeric text becomes NaN) */
  columns: Record<string, Float64Array>;
  /** the raw text fields, row by row */
  rows: string[][];
  rowCount: number;
}

export async function readCsv(dir: string, name: string, keepRows = false): Promise<Csv> {
  const text = await readFile(join(dir, name), 'utf8');
  const lines = text.split('\n').filter((l) => l !== '');
  const header = lines[0]!.split(',');
  const n = lines.length - 1;
  const cols = header.map(() => new Float64Array(n));
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const f = lines[i + 1]!.split(',');
    if (keepRows) rows.push(f);
    for (let c = 0; c < header.length; c++) cols[c]![i] = Number(f[c]);
  }
  return { header, columns: Object.fromEntries(header.map((h, c) => [h, cols[c]!])), rows, rowCount: n };
}
