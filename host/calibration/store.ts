// Calibration files and the per-unit history.
//
//   OUT/SERIAL/ledCHANNEL/YYYY-MM-DDTHH-MM-SS-sssZ.json   one calibration (what, how, result)
//   OUT/SERIAL/ledCHANNEL/YYYY-MM-DDTHH-MM-SS-sssZ.svg    its fit and residuals
//   OUT/SERIAL/ledCHANNEL/history.jsonl                   one line per calibration and per check
//
// A unit is a device serial number plus an LED channel; its history is
// append-only. Files are written atomically (temporary file + rename).
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CalibrationError } from './errors.ts';
import type { FitResult } from './fit.ts';
import type { MeterInfo } from './meters.ts';
import type { CalibrationResult, CheckResult } from './procedure.ts';
import type { LedCalibrationInit } from './table.ts';

export const CALIBRATION_FORMAT = 'fiberrig-calibration';
export const CALIBRATION_FORMAT_VERSION = 1;
export const HISTORY_FILE_NAME = 'history.jsonl';

export interface DeviceRef {
  url: string;
  serialNumber: string;
  boardModel: string;
  firmware: string;
}

export interface LedRef {
  channel: number;
  wavelengthNm: number;
  /** As given with --label. */
  label: string;
  /** key=value pairs of the label (led=…, cube=…, cord=…), when written that way. */
  identifiers: Record<string, string>;
}

export interface CalibrationFile {
  format: typeof CALIBRATION_FORMAT;
  formatVersion: number;
  date: string;
  calibratedUnixS: number;
  operator: string | null;
  device: DeviceRef;
  led: LedRef;
  meter: MeterInfo;
  plan: { points: number; maxMa: number };
  darkUw: number | null;
  points: CalibrationResult['points'];
  fit: {
    model: FitResult['model'];
    r2: number;
    rmsRelative: number;
    maxRelative: number;
    poor: boolean;
    reasons: string[];
    rangeMa: FitResult['rangeMa'];
    outliers: Array<{ currentMa: number; powerUw: number; relative: number }>;
    residuals: FitResult['residuals'];
  };
  drift: CalibrationResult['drift'];
  /** Exactly what was (or would have been) written to the device. */
  table: LedCalibrationInit;
  rangeUw: { minUw: number; maxUw: number };
  writtenToDevice: boolean;
  /** Written although the fit was poor (--force). */
  forced: boolean;
  plot: string;
}

export type HistoryLine =
  | {
    type: 'calibration'; date: string; file: string; operator: string | null; meter: string; label: string;
    r2: number; maxRelative: number; poor: boolean; writtenToDevice: boolean; rangeMa: FitResult['rangeMa']; rangeUw: { minUw: number; maxUw: number };
  }
  | {
    type: 'check'; date: string; operator: string | null; meter: string; pass: boolean; maxAbsDriftRelative: number; thresholdRelative: number;
    points: Array<{ currentMa: number; measuredUw: number; expectedUw: number }>; storedCalibratedUnixS: number;
  };

/** `led=M470F3,cube=FMC5,cord=P12` -> identifiers; anything else -> {}. */
export function parseLabel(label: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of label.split(/[,;]/)) {
    if (part.trim() === '') continue;
    const m = /^\s*([A-Za-z][\w-]*)\s*=\s*(.*?)\s*$/.exec(part);
    if (!m) return {};
    out[m[1]!.toLowerCase()] = m[2]!;
  }
  return out;
}

const safe = (s: string): string => (s.replace(/[^A-Za-z0-9._-]/g, '_') || 'unknown');

/** The directory of one unit's calibrations. */
export function unitDir(outDir: string, serialNumber: string, channel: number): string {
  return join(outDir, safe(serialNumber), `led${channel}`);
}

export function stampOf(date: Date): string {
  return date.toISOString().replace(/:/g, '-').replace(/\./g, '-');
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export function calibrationFileOf(
  args: {
    date: Date; operator: string | null; device: DeviceRef; led: LedRef; meter: MeterInfo; plan: { points: number; maxMa: number };
    result: CalibrationResult; writtenToDevice: boolean; forced: boolean; plot: string;
  },
): CalibrationFile {
  const { result } = args;
  const pts = result.entry.points ?? [];
  return {
    format: CALIBRATION_FORMAT,
    formatVersion: CALIBRATION_FORMAT_VERSION,
    date: args.date.toISOString(),
    calibratedUnixS: Number(result.entry.calibratedUnixS ?? Math.floor(args.date.getTime() / 1000)),
    operator: args.operator,
    device: args.device,
    led: args.led,
    meter: args.meter,
    plan: args.plan,
    darkUw: result.darkUw,
    points: result.points,
    fit: {
      model: result.fit.model, r2: result.fit.r2, rmsRelative: result.fit.rmsRelative, maxRelative: result.fit.maxRelative, poor: result.fit.poor,
      reasons: result.fit.reasons, rangeMa: result.fit.rangeMa,
      outliers: result.fit.outliers.map((i) => ({ currentMa: result.fit.residuals[i]!.currentMa, powerUw: result.fit.residuals[i]!.powerUw, relative: result.fit.residuals[i]!.relative })),
      residuals: result.fit.residuals,
    },
    drift: result.drift,
    table: result.entry,
    rangeUw: { minUw: pts[0]?.powerUw ?? 0, maxUw: pts[pts.length - 1]?.powerUw ?? 0 },
    writtenToDevice: args.writtenToDevice,
    forced: args.forced,
    plot: args.plot,
  };
}

/** Writes a calibration file and its SVG into the unit's directory and appends to its history; returns the paths. */
export async function saveCalibration(outDir: string, file: CalibrationFile, svg: string, date: Date): Promise<{ json: string; svg: string; history: string }> {
  const dir = unitDir(outDir, file.device.serialNumber, file.led.channel);
  await mkdir(dir, { recursive: true });
  const stamp = stampOf(date);
  const json = join(dir, `${stamp}.json`);
  const svgPath = join(dir, `${stamp}.svg`);
  await writeAtomic(svgPath, svg);
  await writeAtomic(json, `${JSON.stringify({ ...file, plot: `${stamp}.svg` }, null, 2)}\n`);
  const history = join(dir, HISTORY_FILE_NAME);
  const line: HistoryLine = {
    type: 'calibration', date: file.date, file: `${stamp}.json`, operator: file.operator, meter: `${file.meter.kind} ${file.meter.model} ${file.meter.serialNumber}`.trim(),
    label: file.led.label, r2: file.fit.r2, maxRelative: file.fit.maxRelative, poor: file.fit.poor, writtenToDevice: file.writtenToDevice,
    rangeMa: file.fit.rangeMa, rangeUw: file.rangeUw,
  };
  await appendFile(history, `${JSON.stringify(line)}\n`);
  return { json, svg: svgPath, history };
}

/** Appends a drift check to the unit's history; returns the history path. */
export async function saveCheck(outDir: string, serialNumber: string, check: CheckResult, meter: MeterInfo, operator: string | null, date: Date): Promise<string> {
  const dir = unitDir(outDir, serialNumber, check.channel);
  await mkdir(dir, { recursive: true });
  const history = join(dir, HISTORY_FILE_NAME);
  const line: HistoryLine = {
    type: 'check', date: date.toISOString(), operator, meter: `${meter.kind} ${meter.model} ${meter.serialNumber}`.trim(), pass: check.pass,
    maxAbsDriftRelative: check.maxAbsDriftRelative, thresholdRelative: check.thresholdRelative,
    points: check.points.map((p) => ({ currentMa: p.currentMa, measuredUw: p.measuredUw, expectedUw: p.expectedUw })),
    storedCalibratedUnixS: Number(check.entry.calibratedUnixS ?? 0),
  };
  await appendFile(history, `${JSON.stringify(line)}\n`);
  return history;
}

/** A unit's history, oldest first (empty when it has none). */
export async function readHistory(outDir: string, serialNumber: string, channel: number): Promise<HistoryLine[]> {
  let text: string;
  try {
    text = await readFile(join(unitDir(outDir, serialNumber, channel), HISTORY_FILE_NAME), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CalibrationError('E_CALIBRATION_HISTORY', `cannot read the calibration history: ${(error as Error).message}`, 'check --out');
  }
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as HistoryLine);
}
