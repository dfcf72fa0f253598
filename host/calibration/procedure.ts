// The calibration procedure against a device: drive one LED at constant
// current (CONTINUOUS mode, only that LED lit), step it through the plan, take
// a reading at each step (an instrument: polled until it settles; the manual
// meter: the technician types it, with undo/redo/abort), fit, build the table,
// write it and read it back. And the drift check against the stored table.
//
// Library code: it never prints. Progress goes to `onEvent`; the manual
// meter's prompts go through the injected `ask` function (the CLI wires them
// to stderr/stdin).
import type { Observable, Subscription } from 'rxjs';
import {
  type AcquisitionConfigInit, type CalibrationTable, type CalibrationTableInit, type DeviceInfo, ModulationMode, type Status,
} from '../../protocol/index.ts';
import { CalibrationAborted, CalibrationError } from './errors.ts';
import { type FitOptions, type FitResult, fitLedCurve, tableFromModel } from './fit.ts';
import { type ManualAnswer, parseManualAnswer, type SettleOptions, settledReading } from './meter.ts';
import type { PowerMeter } from './meters.ts';
import { type CalibrationStep, checkPlan, type Sweep } from './plan.ts';
import { checkLedCalibration, HostCalibration, type LedCalibrationInit, sameTable, withLedCalibration } from './table.ts';

/** What the procedure needs of a Rig (host/rig/rig.ts satisfies it). */
export interface CalibrationRig {
  readonly info: DeviceInfo;
  readonly status$: Observable<Status>;
  configure(config: AcquisitionConfigInit): Promise<number>;
  start(): Promise<void>;
  stop(): Promise<void>;
  setLed(channel: number, drive: { currentMa: number }): Promise<number>;
  readCalibration(): Promise<CalibrationTable>;
  writeCalibration(table: CalibrationTableInit): Promise<void>;
}

export interface MeasuredPoint {
  index: number;
  currentMa: number;
  /** At the fiber tip, µW (dark reading subtracted for instruments). */
  powerUw: number;
  sweep: Sweep;
  /** Instruments: whether the readings settled before the timeout (manual: true). */
  settled: boolean;
  /** Instruments: every raw reading at this point, µW. */
  readings?: number[];
}

export type CalibrationEvent =
  | { type: 'dark'; powerUw: number; settled: boolean }
  | { type: 'step'; step: CalibrationStep; of: number }
  | { type: 'point'; point: MeasuredPoint; of: number }
  | { type: 'undo'; step: CalibrationStep }
  | { type: 'redo'; point: MeasuredPoint }
  | { type: 'nothing-to-undo' }
  | { type: 'nothing-to-redo' };

/** The technician as a meter: `ask` shows a prompt and resolves with the typed line (null at end of input). */
export interface ManualSource {
  kind: 'manual';
  ask(prompt: string): Promise<string | null>;
  /** Tells the technician something (a mistyped value). */
  tell(line: string): void;
}

export interface InstrumentSource {
  kind: 'instrument';
  meter: PowerMeter;
  settle?: SettleOptions;
  /** Measure the meter's dark level (LED at 0 mA) first and subtract it. Default true. */
  subtractDark?: boolean;
}

export type PointSource = ManualSource | InstrumentSource;

export interface MeasureOptions {
  onEvent?: (event: CalibrationEvent) => void;
  /** Aborts an instrument run (Ctrl-C). */
  signal?: AbortSignal;
  /** How long to wait for the device to report a new LED current, ms. Default 10 000. */
  ledTimeoutMs?: number;
}

const fmtMa = (v: number): string => Number(v.toFixed(2)).toString();

/** Waits until a Status shows `channel` driven at `currentMa` (float32, as commanded). */
function waitForLed(status$: Observable<Status>, channel: number, currentMa: number, timeoutMs: number): Promise<void> {
  const want = Math.fround(currentMa);
  return new Promise((resolve, reject) => {
    let sub: Subscription | undefined;
    const timer = setTimeout(() => {
      sub?.unsubscribe();
      reject(new CalibrationError('E_LED_NOT_CONFIRMED', `the device did not report LED ${channel} at ${fmtMa(currentMa)} mA within ${timeoutMs} ms`, 'check the link; is the device still running?'));
    }, timeoutMs);
    sub = status$.subscribe((s) => {
      const led = s.leds.find((l) => l.channel === channel);
      if (s.running && led && Math.abs(led.currentMa - want) <= 1e-6 * Math.max(1, want)) {
        clearTimeout(timer);
        sub?.unsubscribe();
        resolve();
      }
    });
  });
}

/** The constant-current configuration a calibration runs under: only `channel` lit. */
export function calibrationConfig(info: DeviceInfo, channel: number): AcquisitionConfigInit {
  const det = info.detectors[0];
  if (!det) throw new CalibrationError('E_CALIBRATION_DEVICE', 'the device has no detector to configure a run with', '`fiberrig info --device URL` lists what the device has');
  const rate = Math.min(1000, det.maxRateHz || 1000, info.maxSampleRateHz || 1000);
  return {
    mode: ModulationMode.MODULATION_MODE_CONTINUOUS,
    sampleRateHz: rate,
    leds: [{ channel, currentMa: 0 }],
    detectorIds: [det.id],
    oversampling: 1,
    blockSamples: Math.max(1, Math.min(100, info.maxBlockSamples || 100)),
    heartbeatTimeoutMs: 2000,
    statusIntervalMs: 100,
  };
}

export function ledInfo(info: DeviceInfo, channel: number): DeviceInfo['leds'][number] {
  const led = info.leds.find((l) => l.id === channel);
  if (!led) {
    throw new CalibrationError('E_UNKNOWN_LED', `the device has no LED ${channel}`, `its LEDs: ${info.leds.map((l) => `${l.id} (${l.wavelengthNm} nm)`).join(', ')}`);
  }
  return led;
}

async function askManual(source: ManualSource, prompt: string): Promise<ManualAnswer & { kind: 'value' | 'undo' | 'redo' | 'abort' }> {
  for (;;) {
    const line = await source.ask(prompt);
    if (line === null) return { kind: 'abort' };
    const a = parseManualAnswer(line);
    if (a.kind !== 'invalid') return a;
    source.tell(`  ${a.reason}: type the meter reading in µW (e.g. 12.5, or 0.8 mW), u to undo, r to redo, q to abort`);
  }
}

/**
 * Drives `channel` through `steps` and reads the light at each. Manual: `u`
 * goes back one point (its value kept for `r`), `r` re-enters the value
 * undone at this point, a new value clears what could be redone, `q` (or end
 * of input) aborts with CalibrationAborted. The LED is darkened (Stop) on the
 * way out, whatever happens.
 */
export async function measureSteps(
  rig: CalibrationRig, channel: number, steps: readonly CalibrationStep[], source: PointSource, options: MeasureOptions = {},
): Promise<{ points: MeasuredPoint[]; darkUw: number | null }> {
  const led = ledInfo(rig.info, channel);
  const emit = options.onEvent ?? (() => undefined);
  const ledTimeoutMs = options.ledTimeoutMs ?? 10_000;
  let darkUw: number | null = null;
  const points: MeasuredPoint[] = [];
  const redo: MeasuredPoint[] = [];
  await rig.configure(calibrationConfig(rig.info, channel));
  try {
    await rig.start();
    await waitForLed(rig.status$, channel, 0, ledTimeoutMs);
    if (source.kind === 'instrument') {
      await source.meter.setWavelengthNm?.(led.wavelengthNm);
      if (source.subtractDark ?? true) {
        const dark = await settledReading(source.meter, { ...source.settle, ...(options.signal ? { signal: options.signal } : {}) });
        darkUw = dark.powerUw;
        emit({ type: 'dark', powerUw: dark.powerUw, settled: dark.settled });
      }
    }
    let i = 0;
    let driven = Number.NaN;
    while (i < steps.length) {
      if (options.signal?.aborted) throw new CalibrationAborted('calibration interrupted');
      const step = steps[i]!;
      if (step.currentMa !== driven) {
        await rig.setLed(channel, { currentMa: step.currentMa });
        await waitForLed(rig.status$, channel, step.currentMa, ledTimeoutMs);
        driven = step.currentMa;
      }
      emit({ type: 'step', step, of: steps.length });
      if (source.kind === 'instrument') {
        const r = await settledReading(source.meter, { ...source.settle, ...(options.signal ? { signal: options.signal } : {}) });
        const point: MeasuredPoint = {
          index: step.index, currentMa: step.currentMa, powerUw: r.powerUw - (darkUw ?? 0), sweep: step.sweep, settled: r.settled, readings: r.readings,
        };
        points.push(point);
        emit({ type: 'point', point, of: steps.length });
        i++;
        continue;
      }
      const prompt = `LED ${channel} (${led.wavelengthNm} nm) at ${fmtMa(step.currentMa)} mA, point ${i + 1}/${steps.length} (${step.sweep}): meter reading in µW (u undo, r redo, q abort)> `;
      const a = await askManual(source, prompt);
      if (a.kind === 'abort') throw new CalibrationAborted();
      if (a.kind === 'undo') {
        if (i === 0) {
          emit({ type: 'nothing-to-undo' });
          continue;
        }
        i--;
        redo.push(points.pop()!);
        emit({ type: 'undo', step: steps[i]! });
        continue;
      }
      if (a.kind === 'redo') {
        const top = redo[redo.length - 1];
        if (!top || top.index !== step.index) {
          emit({ type: 'nothing-to-redo' });
          continue;
        }
        redo.pop();
        points.push(top);
        emit({ type: 'redo', point: top });
        i++;
        continue;
      }
      redo.length = 0;
      const point: MeasuredPoint = { index: step.index, currentMa: step.currentMa, powerUw: a.powerUw, sweep: step.sweep, settled: true };
      points.push(point);
      emit({ type: 'point', point, of: steps.length });
      i++;
    }
  } finally {
    await rig.stop().catch(() => undefined);
  }
  return { points, darkUw };
}

export interface DriftSummary {
  /** Second visit of the repeated current vs the first, relative (warm-up, or meter drift). */
  repeatRelative: number | null;
  /** Mean relative residual of down-sweep points minus up-sweep points (hysteresis). */
  hysteresisRelative: number | null;
  warnings: string[];
}

export function driftOf(points: readonly MeasuredPoint[], fit: FitResult, limit = 0.01): DriftSummary {
  const warnings: string[] = [];
  const rep = points.find((p) => p.sweep === 'repeat');
  const first = rep ? points.find((p) => p.sweep !== 'repeat' && p.currentMa === rep.currentMa) : undefined;
  const repeatRelative = rep && first && first.powerUw > 0 ? rep.powerUw / first.powerUw - 1 : null;
  const mean = (s: Sweep): number | null => {
    const r = fit.residuals.filter((x, i) => !x.outlier && points[i]!.sweep === s);
    return r.length ? r.reduce((a, x) => a + x.relative, 0) / r.length : null;
  };
  const up = mean('up');
  const down = mean('down');
  const hysteresisRelative = up !== null && down !== null ? down - up : null;
  if (repeatRelative !== null && Math.abs(repeatRelative) > limit) {
    warnings.push(`the repeated ${fmtMa(rep!.currentMa)} mA point moved ${(repeatRelative * 100).toFixed(2)} % during the calibration: let the LED warm up and recalibrate`);
  }
  if (hysteresisRelative !== null && Math.abs(hysteresisRelative) > limit) {
    warnings.push(`down-sweep points sit ${(hysteresisRelative * 100).toFixed(2)} % from up-sweep points (hysteresis or warm-up)`);
  }
  const unsettled = points.filter((p) => !p.settled);
  if (unsettled.length) warnings.push(`${unsettled.length} point(s) never settled: ${unsettled.map((p) => `${fmtMa(p.currentMa)} mA`).join(', ')}`);
  return { repeatRelative, hysteresisRelative, warnings };
}

export interface CalibrationResult {
  points: MeasuredPoint[];
  darkUw: number | null;
  fit: FitResult;
  drift: DriftSummary;
  /** The device table entry for this LED (what WriteCalibration stores). */
  entry: LedCalibrationInit;
}

export interface BuildEntryOptions {
  label?: string;
  calibratedUnixS?: number;
  tablePoints?: number;
  fit?: FitOptions;
}

/** The device's label field holds at most 31 bytes (nanopb max_size 32). */
export const DEVICE_LABEL_MAX_BYTES = 31;

export function deviceLabel(label: string): string {
  let out = label;
  while (Buffer.byteLength(out, 'utf8') > DEVICE_LABEL_MAX_BYTES) out = out.slice(0, -1);
  return out;
}

/** Fits measured points and builds the LED's table entry. */
export function buildCalibration(info: DeviceInfo, channel: number, measured: { points: MeasuredPoint[]; darkUw: number | null }, options: BuildEntryOptions = {}): CalibrationResult {
  const led = ledInfo(info, channel);
  const fit = fitLedCurve(measured.points, options.fit);
  const entry: LedCalibrationInit = {
    channel,
    wavelengthNm: led.wavelengthNm,
    points: tableFromModel(fit.model, fit.rangeMa, options.tablePoints ?? 16),
    calibratedUnixS: options.calibratedUnixS ?? Math.floor(Date.now() / 1000),
    label: deviceLabel(options.label ?? ''),
  };
  checkLedCalibration(entry, info);
  return { ...measured, fit, drift: driftOf(measured.points, fit), entry };
}

/** Reads the device's table (a corrupt or unreadable one counts as empty, reported in `readError`). */
export async function readDeviceTable(rig: Pick<CalibrationRig, 'readCalibration'>): Promise<{ table: CalibrationTable | null; readError: string | null }> {
  try {
    return { table: await rig.readCalibration(), readError: null };
  } catch (error) {
    return { table: null, readError: (error as Error).message };
  }
}

/**
 * Stores `entry` on the device (other LEDs' entries kept), then reads the
 * table back and checks it is what was written. Returns the table in force.
 */
export async function writeLedCalibration(rig: CalibrationRig, entry: LedCalibrationInit): Promise<CalibrationTableInit> {
  checkLedCalibration(entry, rig.info);
  const { table } = await readDeviceTable(rig);
  const next = withLedCalibration(table, entry);
  await rig.writeCalibration(next);
  const back = await rig.readCalibration();
  if (!sameTable(next, back)) {
    throw new CalibrationError('E_CALIBRATION_VERIFY', 'the table read back from the device differs from the one written', 'retry; if it persists the device storage is failing (fiberrig selftest)');
  }
  return next;
}

export interface CheckPoint {
  currentMa: number;
  measuredUw: number;
  expectedUw: number;
  /** measured / expected - 1 */
  driftRelative: number;
  settled: boolean;
}

export interface CheckResult {
  channel: number;
  points: CheckPoint[];
  darkUw: number | null;
  maxAbsDriftRelative: number;
  thresholdRelative: number;
  pass: boolean;
  /** The stored entry checked against. */
  entry: LedCalibrationInit;
}

export interface CheckOptions {
  /** Currents measured, spread over the stored range. Default 3. */
  points?: number;
  /** Fail past this |measured / stored - 1|. Default 0.1. */
  thresholdRelative?: number;
}

/** Measures a few currents inside the stored range and compares them with the device's stored table. */
export async function checkDrift(
  rig: CalibrationRig, channel: number, source: PointSource, check: CheckOptions = {}, options: MeasureOptions = {},
): Promise<CheckResult> {
  const thresholdRelative = check.thresholdRelative ?? 0.1;
  const { table, readError } = await readDeviceTable(rig);
  const host = new HostCalibration(table);
  const entry = host.entry(channel);
  const range = host.rangeMa(channel);
  if (!entry || !range) {
    throw new CalibrationError('E_NOT_CALIBRATED', `LED ${channel} has no stored calibration to check${readError ? ` (reading it failed: ${readError})` : ''}`, `calibrate it first: fiberrig calibrate --led ${channel}`);
  }
  const steps = checkPlan(range, check.points ?? 3);
  const measured = await measureSteps(rig, channel, steps, source, options);
  const points = measured.points.map((p): CheckPoint => {
    const expectedUw = host.powerForCurrent(channel, Math.fround(p.currentMa));
    return { currentMa: p.currentMa, measuredUw: p.powerUw, expectedUw, driftRelative: expectedUw > 0 ? p.powerUw / expectedUw - 1 : Number.POSITIVE_INFINITY, settled: p.settled };
  });
  const maxAbsDriftRelative = points.reduce((m, p) => Math.max(m, Math.abs(p.driftRelative)), 0);
  return { channel, points, darkUw: measured.darkUw, maxAbsDriftRelative, thresholdRelative, pass: maxAbsDriftRelative <= thresholdRelative, entry };
}
