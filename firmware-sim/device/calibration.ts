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
import { CalibrationCurves, ErrorCode, type CalibrationTableInit } from '../../protocol/index.ts';
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

/** Conversions through a validated calibration table (the shared rule in protocol/src/calibration.ts). */
export class CalibrationMap extends CalibrationCurves {
  get channels(): ReadonlySet<number> {
    return new Set(this.channelIds());
  }
}
