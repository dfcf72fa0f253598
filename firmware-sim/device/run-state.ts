// The state of one acquisition run. Start makes a fresh RunState (and a boot
// makes an idle one), so nothing of a previous run (its sample counters, drive
// changes, watchdog trip, dropped-block counts, last Stop) can leak into the
// next: the object is replaced, never reset field by field. After Stop the
// run's RunState stays (not running) until the next Start or boot: a repeated
// Stop answers from it, and Status and SelfTest still report its counters.
//
// Sample n is "taken" at the end of its period: a block [first, first + B) is
// complete at device time start + (first + B) / fs. Aux sample k is taken with
// detector sample k * divider; an aux block holds aux.blockSamples of them.
import type { FaultRecord } from './faults.ts';
import type { NormalizedConfig } from './validate.ts';

/** From detector sample `at` on, the configured LEDs are driven at `peaks` (mA, configuration order). */
export interface DriveChange {
  at: number;
  peaks: Float64Array;
}

export class RunState {
  /** Detector sample index of the next block to produce. */
  nextDet = 0;
  /** Aux sample index of the next aux block to produce. */
  nextAux = 0;
  /** Drive (mA) in force at nextDet; later changes wait in `changes`. */
  peaks: Float64Array;
  changes: DriveChange[] = [];
  /** Ground truth: the drive each configured LED was last rendered with in this run. */
  appliedMa: Float64Array = new Float64Array(0);
  /** The heartbeat watchdog darkened the LEDs (until a SetLed re-arms it). */
  tripped = false;
  /** The watchdog tripped at any time in this run. */
  everTripped = false;
  blocksDropped = 0;
  samplesDropped = 0;
  /** The buffer_overrun record being extended while the ring buffer stays full. */
  overrunRecord: FaultRecord | null = null;
  /** Sample index Stop acked (0 before Stop). */
  lastStopIndex = 0;
  /** Uptime (µs) at the start of lastStopIndex's period: Stop's Ack.device_time_us (0 before Stop). */
  lastStopUs = 0;
  running: boolean;

  /**
   * @param number   ground-truth run number (Starts since the simulation began)
   * @param config   the configuration the run was started with (null: idle, no run since boot)
   * @param startDevS device time of sample 0
   * @param peaks    drive (mA) from sample 0, configuration order
   */
  constructor(
    readonly number: number,
    readonly config: NormalizedConfig | null,
    readonly startDevS: number,
    peaks: Float64Array,
  ) {
    this.peaks = peaks;
    this.running = config !== null;
  }

  /** No run since boot. */
  static idle(number: number): RunState {
    return new RunState(number, null, 0, new Float64Array(0));
  }

  /** Detector samples complete at device time `devS`. */
  samplesTaken(devS: number): number {
    if (!this.config) return 0;
    return Math.max(0, Math.floor((devS - this.startDevS) * this.config.sampleRateHz + 1e-4));
  }

  detBlockDueDevS(): number {
    const c = this.config!;
    return this.startDevS + (this.nextDet + c.blockSamples) / c.sampleRateHz;
  }

  auxBlockDueDevS(): number {
    const c = this.config!;
    if (!c.aux) return Number.POSITIVE_INFINITY;
    return this.startDevS + ((this.nextAux + c.aux.blockSamples - 1) * c.aux.divider + 1) / c.sampleRateHz;
  }

  /** The first detector block boundary whose block is not yet being taken at `devS`: where a change can still apply. */
  nextBoundary(devS: number): number {
    return this.samplesTaken(devS) <= this.nextDet ? this.nextDet : this.nextDet + this.config!.blockSamples;
  }

  lastChange(): DriveChange | undefined {
    return this.changes[this.changes.length - 1];
  }

  /** The drive (mA, configuration order) in force at detector sample `n`. */
  peaksAt(n: number): Float64Array {
    let peaks = this.peaks;
    for (const c of this.changes) if (c.at <= n) peaks = c.peaks;
    return peaks;
  }
}
