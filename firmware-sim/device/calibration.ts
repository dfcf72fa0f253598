// LED power calibration: validation of a CalibrationTable against the board,
// and the piecewise-linear conversions mA <-> uW at the fiber tip.
//
// Table rules (WriteCalibration is rejected with the first violation):
// - at most one entry per board LED; the channel must exist (UNKNOWN_CHANNEL);
// - wavelength_nm is 0 (unspecified) or the channel's wavelength;
// - 2..24 points (24 = the C firmware's bound), currents strictly increasing,
//   finite and >= 0, at most the channel's pulsed limit (LIMIT_EXCEEDED);
// - powers finite, >= 0, non-decreasing, and the last above the first (a flat
//   table cannot convert a power into a current).
import { ErrorCode, type CalibrationTableInit } from '../../protocol/index.ts';
import type { BoardDefinition } from './board.ts';
import { type Issue, issue, num } from './issue.ts';

export const MAX_CALIBRATION_POINTS = 24;

export function validateCalibrationTable(table: CalibrationTableInit | null | undefined, board: BoardDefinition, root = 'table'): Issue | null {
  const leds = table?.leds ?? [];
  const seen = new Set<number>();
  for (let i = 0; i < leds.length; i++) {
    const led = leds[i]!;
    const at = `${root}.leds[${i}]`;
    const channel = led.channel ?? 0;
    const def = board.leds.find((l) => l.id === channel);
    if (!def) return issue(ErrorCode.ERROR_CODE_UNKNOWN_CHANNEL, `${at}.channel`, `no LED channel ${channel} on this board`);
    if (seen.has(channel)) return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${at}.channel`, `LED ${channel} appears twice`);
    seen.add(channel);
    const wl = led.wavelengthNm ?? 0;
    if (wl !== 0 && wl !== def.wavelengthNm) {
      return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${at}.wavelength_nm`, `LED ${channel} is ${def.wavelengthNm} nm, table says ${wl} nm`);
    }
    const points = led.points ?? [];
    if (points.length < 2) return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${at}.points`, `LED ${channel} needs at least 2 calibration points`);
    if (points.length > MAX_CALIBRATION_POINTS) {
      return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${at}.points`, `at most ${MAX_CALIBRATION_POINTS} points per LED`);
    }
    for (let j = 0; j < points.length; j++) {
      const p = points[j]!;
      const pa = `${at}.points[${j}]`;
      const ma = p.currentMa ?? 0;
      const uw = p.powerUw ?? 0;
      if (!Number.isFinite(ma) || ma < 0) return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${pa}.current_ma`, `current ${num(ma)} mA is not a finite value >= 0`);
      if (ma > def.maxCurrentPulsedMa) {
        return issue(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, `${pa}.current_ma`, `${num(ma)} mA exceeds LED ${channel} limit ${num(def.maxCurrentPulsedMa)} mA`);
      }
      if (!Number.isFinite(uw) || uw < 0) return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${pa}.power_uw`, `power ${num(uw)} uW is not a finite value >= 0`);
      if (j > 0) {
        const prev = points[j - 1]!;
        if (ma <= (prev.currentMa ?? 0)) return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${pa}.current_ma`, 'points must be sorted by strictly increasing current');
        if (uw < (prev.powerUw ?? 0)) return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${pa}.power_uw`, 'power must not decrease with current');
      }
    }
    if ((points[points.length - 1]!.powerUw ?? 0) <= (points[0]!.powerUw ?? 0)) {
      return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${at}.points`, `LED ${channel} power never increases`);
    }
  }
  return null;
}

interface Curve {
  currentMa: Float64Array;
  powerUw: Float64Array;
}

/** Conversions through a validated calibration table. */
export class CalibrationMap {
  private readonly curves = new Map<number, Curve>();

  constructor(table: CalibrationTableInit | null | undefined) {
    for (const led of table?.leds ?? []) {
      const points = led.points ?? [];
      this.curves.set(led.channel ?? 0, {
        currentMa: Float64Array.from(points, (p) => p.currentMa ?? 0),
        powerUw: Float64Array.from(points, (p) => p.powerUw ?? 0),
      });
    }
  }

  get channels(): ReadonlySet<number> {
    return new Set(this.curves.keys());
  }

  has(channel: number): boolean {
    return this.curves.has(channel);
  }

  /** Calibrated power range of a channel, or undefined when it has no calibration. */
  rangeUw(channel: number): { minUw: number; maxUw: number } | undefined {
    const c = this.curves.get(channel);
    if (!c) return undefined;
    return { minUw: c.powerUw[0]!, maxUw: c.powerUw[c.powerUw.length - 1]! };
  }

  /**
   * Current that gives `powerUw`, or undefined when the channel is not
   * calibrated or the power lies outside the table. On a flat stretch the
   * lowest current is used.
   */
  currentForPower(channel: number, powerUw: number): number | undefined {
    const c = this.curves.get(channel);
    if (!c || !Number.isFinite(powerUw)) return undefined;
    const n = c.powerUw.length;
    if (powerUw < c.powerUw[0]! || powerUw > c.powerUw[n - 1]!) return undefined;
    for (let i = 0; i < n - 1; i++) {
      const p0 = c.powerUw[i]!;
      const p1 = c.powerUw[i + 1]!;
      if (powerUw === p0) return c.currentMa[i]!;
      if (powerUw > p0 && powerUw <= p1) {
        const i0 = c.currentMa[i]!;
        const i1 = c.currentMa[i + 1]!;
        return i0 + ((powerUw - p0) / (p1 - p0)) * (i1 - i0);
      }
    }
    return c.currentMa[n - 1];
  }

  /** Power at `currentMa`, 0 when the channel is not calibrated or the current is outside the table. */
  powerForCurrent(channel: number, currentMa: number): number {
    const c = this.curves.get(channel);
    if (!c || !(currentMa > 0)) return 0;
    const n = c.currentMa.length;
    if (currentMa < c.currentMa[0]! || currentMa > c.currentMa[n - 1]!) return 0;
    for (let i = 0; i < n - 1; i++) {
      const i0 = c.currentMa[i]!;
      const i1 = c.currentMa[i + 1]!;
      if (currentMa >= i0 && currentMa <= i1) {
        const p0 = c.powerUw[i]!;
        return p0 + ((currentMa - i0) / (i1 - i0)) * (c.powerUw[i + 1]! - p0);
      }
    }
    return 0;
  }
}
