// The simulated device's clocks. The simulation's master clock is world time
// (seconds; what a transport paces against wall-clock time). The device's own
// uptime clock (device_time_us) and its sample clock run (1 + drift_ppm * 1e-6)
// times faster than world time, so detector sample n of a run is taken at
// device time start + n / fs and at world time start_w + n / (fs * (1 + ppm *
// 1e-6)). A drift change takes effect at the next detector block boundary (so
// each block is rendered with one sample period); uptime restarts at 0 after a
// reset.
//
// The mapping between the two is piecewise linear: one Segment per crystal
// rate since the last boot.

export const EPS = 1e-9;
/** EPS, or a few float steps of t where those are coarser (device times past ~8e6 s): t + epsAt(t) > t always. */
export const epsAt = (t: number): number => Math.max(EPS, Math.abs(t) * 8 * Number.EPSILON);

export interface ClockSegment {
  devS: number;
  worldS: number;
  /** 1 + ppm * 1e-6 */
  rate: number;
}

/** Device uptime in whole µs at device time `devS` (the clock of device_time_us). */
export function uptimeUsAt(devS: number): number {
  return Math.floor(devS * 1e6 + 1e-6);
}

export class DeviceClock {
  /** World (master clock) time, seconds. */
  worldS = 0;
  /** Device uptime, seconds. */
  devS = 0;
  private ppmValue: number;
  private segs: ClockSegment[];

  constructor(ppm: number) {
    this.ppmValue = ppm;
    this.segs = [{ devS: 0, worldS: 0, rate: 1 + ppm * 1e-6 }];
  }

  /** Current crystal error, ppm. */
  get ppm(): number {
    return this.ppmValue;
  }

  get deviceTimeUs(): number {
    return uptimeUsAt(this.devS);
  }

  segFor(devS: number): ClockSegment {
    for (let i = this.segs.length - 1; i > 0; i--) if (this.segs[i]!.devS <= devS) return this.segs[i]!;
    return this.segs[0]!;
  }

  /** The first segment starting after device time `devS` (+ EPS), if any. */
  segAfter(devS: number): ClockSegment | undefined {
    return this.segs.find((s) => s.devS > devS + EPS);
  }

  worldOf(devS: number): number {
    const s = this.segFor(devS);
    return s.worldS + (devS - s.devS) / s.rate;
  }

  devOf(worldS: number): number {
    let s = this.segs[0]!;
    for (let i = this.segs.length - 1; i > 0; i--) {
      if (this.segs[i]!.worldS <= worldS) {
        s = this.segs[i]!;
        break;
      }
    }
    return s.devS + (worldS - s.worldS) * s.rate;
  }

  /** Moves both clocks forward (never back). */
  moveTo(devS: number, worldS: number): void {
    if (devS > this.devS) this.devS = devS;
    if (worldS > this.worldS) this.worldS = worldS;
  }

  /** From device time `atDevS` on, the crystal runs `ppm` fast. */
  setDrift(atDevS: number, ppm: number): void {
    const rate = 1 + ppm * 1e-6;
    const worldAt = this.worldOf(atDevS);
    this.segs = this.segs.filter((s) => s.devS < atDevS);
    this.segs.push({ devS: atDevS, worldS: worldAt, rate });
    this.ppmValue = ppm;
  }

  /** A reset: uptime restarts at 0 now, at the current crystal rate. */
  restart(): void {
    this.devS = 0;
    this.segs = [{ devS: 0, worldS: this.worldS, rate: 1 + this.ppmValue * 1e-6 }];
  }
}
