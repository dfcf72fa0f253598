// Reading what the CSV-family exports wrote, as GuPPy and pMAT would.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LockinDesign } from '../../../host/dsp/lockin.ts';
import type { SegmentRecord } from '../../../host/export/csv-common.ts';

export type Table = { header: string[]; rows: string[][] };

export function readTable(path: string): Table {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

export function column(t: Table, name: string): string[] {
  const i = t.header.indexOf(name);
  assert.ok(i >= 0, `no column ${name} in ${t.header.join(',')}`);
  return t.rows.map((r) => r[i]!);
}

/** A segment as export.json lists it (the exporter's own record). */
export type SegmentMeta = SegmentRecord;

export interface ExportMeta {
  format: string;
  exportFormat: string;
  exportedWith: { fiberrig: string };
  source: { recording: string; rawLog: string; recordedWith: { fiberrig: string } };
  timeBase: { clock: string; outputRateHz: number; detectorRateHz: number; delayCompensation: boolean; sessionStartIso: string | null };
  columns: Array<{ column: string; channel: string; unit: string; voltsPerCode: number; groupDelayS: number; timesDelayCompensated: boolean; wavelengthNm?: number; detector?: number }>;
  gapPolicy: { policy: string; minSegmentS?: number };
  segments: SegmentMeta[];
  omitted: Array<{ firstOutputIndex: number; endOutputIndex: number; startS: number; stopS: number; causes: string[] }>;
  gaps: Array<{ source: string; startS: number; stopS: number; samples: number; reason: string }>;
  quality: Array<{ startS: number; stopS: number; label: string }>;
  files: string[];
  pairs?: Array<{ file: string; detector: number; signal: string; control: string }>;
  unpaired?: Array<{ channel: string; reason: string }>;
  risingEdgesOutsideSegments?: Array<{ line: number; timeS: number }>;
  eventsOutsideSegments?: Array<{ event: string; onsetS: number }>;
  digitalColumns?: Array<{ column: string; unit: string }>;
}

export function readMeta(path: string): ExportMeta {
  return JSON.parse(readFileSync(path, 'utf8')) as ExportMeta;
}

/** Sub-directories of an export (its segments), sorted. */
export function segmentDirs(out: string): string[] {
  // `aux` holds the EEG/EMG files of a guppy export (not a session folder: host/export/aux-csv.ts)
  return readdirSync(out).filter((n) => n !== 'aux' && statSync(join(out, n)).isDirectory()).sort();
}

/**
 * Every CSV under `dir` (recursively): no NaN (or empty) cell, every row as long as the header.
 * Returns the tables by path relative to `dir`.
 */
export function checkNoNanCells(dir: string): Map<string, Table> {
  const tables = new Map<string, Table>();
  const visit = (sub: string): void => {
    for (const n of readdirSync(join(dir, sub)).sort()) {
      const rel = sub ? join(sub, n) : n;
      if (statSync(join(dir, rel)).isDirectory()) visit(rel);
      else if (n.endsWith('.csv')) tables.set(rel, readTable(join(dir, rel)));
    }
  };
  visit('');
  for (const [rel, t] of tables) {
    t.rows.forEach((r, i) => {
      assert.equal(r.length, t.header.length, `${rel} row ${i + 1}: ${r.length} cells for ${t.header.length} columns`);
      for (const cell of r) assert.ok(cell !== '' && !/nan/i.test(cell), `${rel} row ${i + 1}: cell "${cell}"`);
    });
  }
  return tables;
}

/**
 * The first output index whose lock-in output is valid when the filters restart at raw sample
 * `restartIndex` (after a gap): the first output at or after it whose low-pass has seen
 * `settlingStage1Samples` stage-1 samples (the design's settling bound), as the filter design states it.
 */
export function firstSettledOutput(design: LockinDesign, restartIndex: number): number {
  const r1 = design.stage1Decimation;
  const r2 = design.stage2Decimation;
  const firstStage1 = Math.ceil(restartIndex / r1); // the first stage-1 sample completed after the restart
  // output j reads stage-1 sample j * r2, the (j * r2 - firstStage1 + 1)-th since the restart
  const j = Math.floor((design.settlingStage1Samples + firstStage1 - 1) / r2) + 1;
  return Math.max(j, Math.ceil(restartIndex / design.decimation));
}

/** pMAT's sampling rate of a data file: 1 / mean(diff(first column)) (its CSV import). */
export function pmatRateHz(t: Table): number {
  const time = t.rows.map((r) => Number(r[0]));
  let sum = 0;
  for (let i = 1; i < time.length; i++) sum += time[i]! - time[i - 1]!;
  return 1 / (sum / (time.length - 1));
}
