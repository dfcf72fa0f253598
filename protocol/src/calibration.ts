// LED calibration tables (fiberrig.proto, LedCalibration): the one mA <-> µW
// conversion every side uses — the simulated device, the host's early checks,
// and (in C) the firmware. Points are sorted by strictly increasing current,
// power non-decreasing; between points the conversion is linear; outside the
// first and last point there is no answer (never an extrapolation).
//
// The wire carries every table value and every requested power as float32:
// both are rounded to float32 (Math.fround) and then computed in float64, so a
// host and a device holding the same table get bit-identical currents.
import type { CalibrationTableInit } from './messages.ts';

interface Curve {
  currentMa: Float64Array;
  powerUw: Float64Array;
}

export class CalibrationCurves {
  private readonly curves = new Map<number, Curve>();

  constructor(table: CalibrationTableInit | null | undefined) {
    for (const led of table?.leds ?? []) {
      const points = led.points ?? [];
      this.curves.set(led.channel ?? 0, {
        currentMa: Float64Array.from(points, (p) => Math.fround(p.currentMa ?? 0)),
        powerUw: Float64Array.from(points, (p) => Math.fround(p.powerUw ?? 0)),
      });
    }
  }

  /** Calibrated channels, ascending. */
  channelIds(): number[] {
    return [...this.curves.keys()].sort((a, b) => a - b);
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

  /** Calibrated current range of a channel, or undefined. */
  rangeMa(channel: number): { minMa: number; maxMa: number } | undefined {
    const c = this.curves.get(channel);
    if (!c) return undefined;
    return { minMa: c.currentMa[0]!, maxMa: c.currentMa[c.currentMa.length - 1]! };
  }

  /**
   * Current that gives `powerUw` (rounded to float32, as the wire carries it),
   * or undefined when the channel is not calibrated or the power lies outside
   * the table. On a flat stretch, the lowest current.
   */
  currentForPower(channel: number, powerUw: number): number | undefined {
    const c = this.curves.get(channel);
    if (!c || !Number.isFinite(powerUw)) return undefined;
    const p = Math.fround(powerUw);
    const n = c.powerUw.length;
    if (p < c.powerUw[0]! || p > c.powerUw[n - 1]!) return undefined;
    for (let i = 0; i < n - 1; i++) {
      const p0 = c.powerUw[i]!;
      const p1 = c.powerUw[i + 1]!;
      if (p === p0) return c.currentMa[i]!;
      if (p > p0 && p <= p1) {
        const i0 = c.currentMa[i]!;
        const i1 = c.currentMa[i + 1]!;
        return i0 + ((p - p0) / (p1 - p0)) * (i1 - i0);
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
