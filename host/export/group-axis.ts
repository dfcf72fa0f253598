// The group's shared time axis in the exports. A recording aligned with its group by `fiberrig align`
// (its alignment.json, host/align) is exported with its times on the driver's axis: every format
// reads the alignment through this one class, so they agree on what a time becomes.
//   guppy, pmat   the time columns (and event, TTL and quality times) are group-axis seconds; guppy's
//                 sampling_rate is the rate on that axis (samples per group second)
//   csv           keeps time_s on the device clock and adds group_time_s (wide-csv.ts)
//   nwb           starting_time on the group axis with the rate on that axis; timestamps (events,
//                 intervals) mapped through the knots
import { type AlignmentFile, readAlignmentFile, toDriverS } from '../align/index.ts';

export class GroupAxis {
  private constructor(readonly alignment: AlignmentFile) {}

  /** The recording's group axis, or null when it was not aligned (no alignment.json). */
  static of(recordingDir: string): GroupAxis | null {
    const a = readAlignmentFile(recordingDir);
    return a ? new GroupAxis(a) : null;
  }

  /** A session time (s, device clock) on the group's axis (s). */
  time(deviceS: number): number {
    return toDriverS(this.alignment, deviceS);
  }

  /** `time` as CSV text (ns: the driver's samples are resolved far below a sample). */
  text(deviceS: number): string {
    return this.time(deviceS).toFixed(9);
  }

  /** A rate of this recording's clock counted in group-axis seconds (samples per driver second). */
  rateHz(deviceRateHz: number): number {
    return deviceRateHz / this.alignment.scale;
  }

  /**
   * The largest distance (s) between the fitted line (offset + scale × t) and the knots: how far a
   * regular series written as starting_time + rate on the group axis can stray from `time` (NWB).
   */
  lineDeviationS(): number {
    const a = this.alignment;
    let worst = 0;
    for (const [x, y] of a.knots) worst = Math.max(worst, Math.abs(y - (a.offsetS + a.scale * x)));
    return worst;
  }

  /** What an export's metadata says about its times when they are on the group axis. */
  metadata(what: string): Record<string, unknown> {
    const a = this.alignment;
    return {
      onGroupAxis: what, unit: 's', role: a.role, driver: a.group.driver, driverRateHz: a.group.driverRateHz, recordings: a.group.recordings,
      axis: a.timeAxis,
      deviceTimes: 'the metadata\'s own times (segments, omitted, gaps, quality) stay on this recording\'s device clock',
      fit: { offsetS: a.offsetS, scale: a.scale, residualRmsSamples: a.residualRmsSamples, residualMaxSamples: a.residualMaxSamples, edges: a.edges, knots: a.knots.length },
      alignedAt: a.alignedAt,
    };
  }
}
