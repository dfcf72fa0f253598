// Reading power meters: where a calibration's µW readings come from (the
// meters themselves and how --meter picks one: meters.ts).
//
// - An instrument (the simulator's meter, a SCPI meter) is read by the host:
//   settledReading() polls it until the last k readings agree within a
//   tolerance (or a timeout, which marks the point unsettled) and returns
//   their mean.
// - The manual meter is the technician: they read their console and type the
//   value. parseManualAnswer() reads what they typed: a power (µW by default,
//   or with a unit: nW, µW/uW, mW), `u` undo, `r` redo, `q` abort; anything
//   else is a mistyped value and the prompt is repeated.
import { CalibrationError } from './errors.ts';
import type { PowerMeter } from './meters.ts';

export interface SettleOptions {
  /** Between readings, ms. Default 200. */
  intervalMs?: number;
  /** Readings that must agree. Default 5. */
  stableReadings?: number;
  /** Agreement: max - min <= max(toleranceRelative * mean, toleranceUw). Defaults 0.005 and 0.01 µW. */
  toleranceRelative?: number;
  toleranceUw?: number;
  /** Give up waiting after this long (the point is then marked unsettled), ms. Default 30 000. */
  timeoutMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Aborts the wait (Ctrl-C). */
  signal?: AbortSignal;
}

export interface SettledReading {
  /** Mean of the last `stableReadings` readings, µW. */
  powerUw: number;
  /** Every reading taken at this point, µW, in order. */
  readings: number[];
  settled: boolean;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `meter` until `stableReadings` consecutive readings agree within tolerance, or the timeout. */
export async function settledReading(meter: PowerMeter, options: SettleOptions = {}): Promise<SettledReading> {
  const intervalMs = options.intervalMs ?? 200;
  const k = Math.max(2, options.stableReadings ?? 5);
  const tolRel = options.toleranceRelative ?? 0.005;
  const tolUw = options.toleranceUw ?? 0.01;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const start = now();
  const readings: number[] = [];
  for (;;) {
    if (options.signal?.aborted) throw new CalibrationError('E_CALIBRATION_ABORTED', 'calibration interrupted', 'nothing was written; run fiberrig calibrate again');
    const v = await meter.readUw();
    if (!Number.isFinite(v)) throw new CalibrationError('E_METER_READING', `${meter.info.model} returned ${v}`, 'check the meter (range, sensor connected)');
    readings.push(v);
    if (readings.length >= k) {
      const last = readings.slice(-k);
      const mean = last.reduce((s, x) => s + x, 0) / k;
      const spread = Math.max(...last) - Math.min(...last);
      const settled = spread <= Math.max(tolRel * Math.abs(mean), tolUw);
      if (settled || now() - start >= timeoutMs) return { powerUw: mean, readings, settled };
    }
    await sleep(intervalMs);
  }
}

export type ManualAnswer =
  | { kind: 'value'; powerUw: number }
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'abort' }
  | { kind: 'invalid'; reason: string };

/** Power of ten from the unit to µW. */
const UNITS: Readonly<Record<string, number>> = { '': 0, uw: 0, 'µw': 0, 'μw': 0, nw: -3, mw: 3 };

/** What the technician typed at a manual prompt. */
export function parseManualAnswer(text: string): ManualAnswer {
  const t = text.trim().toLowerCase();
  if (t === 'u' || t === 'undo') return { kind: 'undo' };
  if (t === 'r' || t === 'redo') return { kind: 'redo' };
  if (t === 'q' || t === 'quit' || t === 'abort') return { kind: 'abort' };
  if (t === '') return { kind: 'invalid', reason: 'nothing typed' };
  const m = /^([+]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([a-zµμ]*)$/.exec(t);
  if (!m) return { kind: 'invalid', reason: `"${text.trim()}" is not a number` };
  const exp = UNITS[m[2] ?? ''];
  if (exp === undefined) return { kind: 'invalid', reason: `unknown unit "${m[2]}" (use µW, uW, nW or mW)` };
  const typed = Number(m[1]);
  const v = exp < 0 ? typed / 10 ** -exp : typed * 10 ** exp;
  if (!Number.isFinite(v)) return { kind: 'invalid', reason: `"${text.trim()}" is not a finite number` };
  return { kind: 'value', powerUw: v };
}
