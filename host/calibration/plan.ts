// Which currents a calibration visits, in which order.
//
// N currents spread evenly from 10 % to 100 % of the top current. The order
// reveals hysteresis and warm-up rather than hiding them: every other current
// going up, the rest coming down (so the up and down sweeps interleave and a
// hysteresis shows as residuals alternating in sign), then the middle current
// of the up sweep once more at the end (its difference from the first visit
// measures drift during the calibration: the LED or the meter warming up).
import { CalibrationError } from './errors.ts';

export type Sweep = 'up' | 'down' | 'repeat' | 'check';

export interface CalibrationStep {
  /** Position in the run, from 0. */
  index: number;
  currentMa: number;
  sweep: Sweep;
}

export const DEFAULT_POINTS = 10;
export const MIN_POINTS = 4;
export const MAX_POINTS = 40;
/** The lowest current visited, as a fraction of the top current. */
export const LOWEST_FRACTION = 0.1;

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** The currents of a calibration up to `maxMa`, ascending. */
export function calibrationCurrents(maxMa: number, points = DEFAULT_POINTS): number[] {
  if (!(Number.isFinite(maxMa) && maxMa > 0)) throw new CalibrationError('E_CALIBRATION_PLAN', `top current ${maxMa} mA`, 'give a positive --max-ma within the board limit');
  if (!(Number.isInteger(points) && points >= MIN_POINTS && points <= MAX_POINTS)) {
    throw new CalibrationError('E_CALIBRATION_PLAN', `--points ${points}`, `give an integer from ${MIN_POINTS} to ${MAX_POINTS}`);
  }
  const lo = LOWEST_FRACTION * maxMa;
  const out: number[] = [];
  for (let k = 0; k < points; k++) out.push(k === points - 1 ? maxMa : round2(lo + ((maxMa - lo) * k) / (points - 1)));
  for (let k = 1; k < out.length; k++) {
    if (!(out[k]! > out[k - 1]!)) throw new CalibrationError('E_CALIBRATION_PLAN', `${points} points up to ${maxMa} mA are closer than 0.01 mA`, 'use fewer points or a higher --max-ma');
  }
  return out;
}

/** Up on even positions, down on odd ones, then the middle of the up sweep again. */
export function calibrationPlan(maxMa: number, points = DEFAULT_POINTS): CalibrationStep[] {
  const currents = calibrationCurrents(maxMa, points);
  const up = currents.filter((_, k) => k % 2 === 0);
  const down = currents.filter((_, k) => k % 2 === 1).reverse();
  const repeat = up[Math.floor((up.length - 1) / 2)]!;
  const steps: Array<Omit<CalibrationStep, 'index'>> = [
    ...up.map((currentMa) => ({ currentMa, sweep: 'up' as const })),
    ...down.map((currentMa) => ({ currentMa, sweep: 'down' as const })),
    { currentMa: repeat, sweep: 'repeat' },
  ];
  return steps.map((s, index) => ({ ...s, index }));
}

/** A drift check: `points` currents spread over the calibrated range (20 % .. 95 % of it), ascending. */
export function checkPlan(rangeMa: { minMa: number; maxMa: number }, points = 3): CalibrationStep[] {
  if (!(Number.isInteger(points) && points >= 1 && points <= MAX_POINTS)) throw new CalibrationError('E_CALIBRATION_PLAN', `--points ${points}`, `give an integer from 1 to ${MAX_POINTS}`);
  const { minMa, maxMa } = rangeMa;
  const span = maxMa - minMa;
  const out: CalibrationStep[] = [];
  for (let k = 0; k < points; k++) {
    const f = points === 1 ? 0.6 : 0.2 + (0.75 * k) / (points - 1);
    out.push({ index: k, currentMa: round2(minMa + f * span), sweep: 'check' });
  }
  return out;
}
