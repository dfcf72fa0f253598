// Aligning a group of recordings by a shared sync line: one rig (the driver)
// sends a pulse every period_samples of its own sample clock; the others
// timestamp the rising edges on theirs. Pure functions over plain numbers: no
// files, no clocks.
//
// The time axis of a group is the driver's: seconds from its session sample 0
// (its sample index / its rate), pulse p rising at p × period_samples.
// A receiver's edges are numbered by pulse: consecutive edges are a whole
// number of periods apart (within a quarter period, after the rate is fitted),
// and the first edge's number comes from the host clocks of the two
// recordings (each maps its session index 0 to host time from its heartbeat
// fit): it must fall within a quarter period of a whole pulse, else the group
// is ambiguous. Then per receiver: a least-squares line driverS = offsetS +
// scale × recordingS (its residuals reported, in driver samples), and the
// matched edges themselves as knots (thinned to where a straight line between
// kept knots stays within `knotToleranceSamples`): the map used is the
// piecewise-linear one through the knots, the line beyond them. A crystal
// whose rate wanders over hours then still maps within the tolerance.
import { AlignError } from './errors.ts';

export interface AlignRecording {
  name: string;
  /** Detector sample rate, Hz (session time = session index / rate). */
  sampleRateHz: number;
  /** The sync output this recording's configuration drove, or null (a receiver). */
  syncOut: { periodSamples: number; pulseSamples: number } | null;
  /** Rising edges on the sync input line, session sample positions (index + subsample fraction), any order. */
  risingEdges: readonly number[];
  /** The line the edges were read from (for messages), or null when the recording captured none. */
  syncLine: number | null;
  /** Host time of session index 0 and the host-clock drift (host/dsp/clock.ts model), or null. */
  hostClock: { offsetUs: number; driftPpm: number } | null;
  /** Acquisition segments (a resume starts another); a driver must have one. */
  segments: number;
}

export interface AlignOptions {
  /** Max distance of an edge from a whole period, and of the first edge's host-clock estimate from a whole pulse (periods). Default 0.25. */
  slackPeriods?: number;
  /** Knots are kept where a straight line would miss a matched edge by more than this, driver samples. Default 0.05. */
  knotToleranceSamples?: number;
  /**
   * How far the rate ratio of the two host clock fits may be from the one the edges give before the host times
   * are not trusted to number the pulses, ppm. Default 10 000 (1 %: short recordings fit their host drift coarsely).
   */
  hostRateSlackPpm?: number;
}

export interface Alignment {
  name: string;
  role: 'driver' | 'receiver';
  /** driverS = offsetS + scale × recordingS (least squares over the matched edges; the driver: 0 and 1). */
  offsetS: number;
  scale: number;
  /** Rising edges matched to pulses, and the first and last pulse numbers matched. */
  edges: number;
  firstPulse: number;
  lastPulse: number;
  /** Residuals of the line, driver samples. */
  residualRmsSamples: number;
  residualMaxSamples: number;
  /** Knots of the piecewise-linear map: [recordingS, driverS] pairs, increasing (empty for the driver). */
  knots: Array<[number, number]>;
}

export interface GroupAlignment {
  driver: string;
  driverRateHz: number;
  periodSamples: number;
  recordings: Alignment[];
}

/** Aligns every recording of the group onto the driver's time axis. */
export function alignGroup(recordings: readonly AlignRecording[], options: AlignOptions = {}): GroupAlignment {
  if (recordings.length < 2) throw new AlignError('E_ALIGN_GROUP', `a group needs 2 or more recordings, got ${recordings.length}`, 'name the driver\'s recording and each receiver\'s');
  const drivers = recordings.filter((r) => r.syncOut);
  if (drivers.length !== 1) {
    throw new AlignError(
      'E_ALIGN_GROUP', drivers.length === 0 ? 'no recording of the group drove the sync line (sync_out enabled in its configuration)' : `${drivers.length} recordings drove a sync line: ${drivers.map((d) => d.name).join(', ')}`,
      'a group is one driver (sync_out enabled) and the rigs wired to its output: align each driver\'s group separately',
    );
  }
  const driver = drivers[0]!;
  if (driver.segments > 1) {
    throw new AlignError('E_ALIGN_DRIVER_RESUMED', `${driver.name}: the driver's recording has ${driver.segments} segments (a resume restarts its pulse count)`, 'align the recordings of one uninterrupted driver run');
  }
  const out: Alignment[] = [];
  for (const r of recordings) {
    if (r === driver) out.push({ name: r.name, role: 'driver', offsetS: 0, scale: 1, edges: 0, firstPulse: 0, lastPulse: 0, residualRmsSamples: 0, residualMaxSamples: 0, knots: [] });
    else out.push(alignReceiver(r, driver, options));
  }
  return { driver: driver.name, driverRateHz: driver.sampleRateHz, periodSamples: driver.syncOut!.periodSamples, recordings: out };
}

function alignReceiver(r: AlignRecording, driver: AlignRecording, options: AlignOptions): Alignment {
  const slack = options.slackPeriods ?? 0.25;
  const { periodSamples } = driver.syncOut!;
  const fsD = driver.sampleRateHz;
  const periodS = periodSamples / fsD;
  const line = r.syncLine === null ? 'its sync line' : `digital input ${r.syncLine}`;
  const edgesS = [...r.risingEdges].sort((a, b) => a - b).map((x) => x / r.sampleRateHz);
  if (edgesS.length < 2) {
    throw new AlignError(
      'E_ALIGN_NO_EDGES', `${r.name}: ${edgesS.length === 0 ? 'no' : 'only one'} sync edge on ${line} (needs 2 or more)`,
      `wire the driver's sync output to this rig's digital input and list that line in its digital_input_ids (or leave ${r.name} out of the group); the driver ${driver.name} pulses every ${periodS} s`,
    );
  }
  // relative pulse numbers from the intervals, on the nominal period
  const rel = [0];
  for (let j = 1; j < edgesS.length; j++) {
    const m = (edgesS[j]! - edgesS[j - 1]!) / periodS;
    const k = Math.round(m);
    if (k < 1 || Math.abs(m - k) > slack) {
      throw new AlignError(
        'E_ALIGN_EDGES', `${r.name}: sync edges at ${edgesS[j - 1]!.toFixed(6)} s and ${edgesS[j]!.toFixed(6)} s are ${m.toFixed(3)} periods apart, not a whole number`,
        `check that ${line} carries only the driver's (${driver.name}) pulses, every ${periodSamples} samples at ${fsD} Hz`,
      );
    }
    rel.push(rel[j - 1]! + k);
  }
  // the first edge's pulse number, from the host clocks
  if (!r.hostClock || !driver.hostClock) {
    throw new AlignError('E_ALIGN_AMBIGUOUS', `${!r.hostClock ? r.name : driver.name}: no host clock fit (no heartbeats while running): cannot tell which pulse an edge is`, 'record with the host heartbeating (every acquire does), for longer than a few seconds');
  }
  const hostUs = r.hostClock.offsetUs + edgesS[0]! * 1e6 * (1 + r.hostClock.driftPpm * 1e-6);
  const driverS = (hostUs - driver.hostClock.offsetUs) / (1e6 * (1 + driver.hostClock.driftPpm * 1e-6));
  const estimate = driverS / periodS;
  const first = Math.round(estimate);
  if (Math.abs(estimate - first) > slack || first < 0) {
    throw new AlignError(
      'E_ALIGN_AMBIGUOUS', `${r.name}: its first sync edge falls ${estimate.toFixed(2)} pulse periods after the driver's sample 0 by the host clocks: ${first < 0 ? 'before the driver started' : 'not near a whole pulse'}`,
      'the host clocks of the recordings disagree by more than a quarter period: use a longer sync period (period_samples), record on one host or NTP-synchronised hosts',
    );
  }
  const pulses = rel.map((k) => k + first);
  const driverTimes = pulses.map((p) => p * periodS);
  const { offset, scale } = lineFit(edgesS, driverTimes);
  // the host clocks numbered the pulses: they must agree with the edges about the rigs' rates
  const hostScale = (1 + r.hostClock.driftPpm * 1e-6) / (1 + driver.hostClock.driftPpm * 1e-6);
  const rateErrorPpm = (scale / hostScale - 1) * 1e6;
  if (!(Math.abs(rateErrorPpm) <= (options.hostRateSlackPpm ?? 10_000))) {
    throw new AlignError(
      'E_ALIGN_AMBIGUOUS', `${r.name}: by the host clocks its sample clock runs ${((hostScale - 1) * 1e6).toFixed(0)} ppm against the driver's, by the sync edges ${((scale - 1) * 1e6).toFixed(0)} ppm: the host times cannot number the pulses`,
      'record every rig of the group in real time (a simulator at speed=max runs each rig at its own pace) on one host or NTP-synchronised hosts',
    );
  }
  // re-check the numbering with the fitted rate (a large ppm error accumulates over long gaps between edges)
  let sq = 0;
  let max = 0;
  for (let j = 0; j < edgesS.length; j++) {
    const resid = (driverTimes[j]! - (offset + scale * edgesS[j]!)) * fsD;
    if (Math.abs(resid) > slack * periodSamples) {
      throw new AlignError('E_ALIGN_EDGES', `${r.name}: the sync edge at ${edgesS[j]!.toFixed(6)} s misses its pulse by ${resid.toFixed(1)} samples after the fit`, `check that ${line} carries only the driver's (${driver.name}) pulses`);
    }
    sq += resid * resid;
    max = Math.max(max, Math.abs(resid));
  }
  const knots = thinKnots(edgesS, driverTimes, (options.knotToleranceSamples ?? 0.05) / fsD);
  return {
    name: r.name, role: 'receiver', offsetS: offset, scale, edges: edgesS.length, firstPulse: pulses[0]!, lastPulse: pulses[pulses.length - 1]!,
    residualRmsSamples: Math.sqrt(sq / edgesS.length), residualMaxSamples: max, knots,
  };
}

/** Least squares y = offset + scale × x (centred, so large times keep their precision). */
export function lineFit(x: readonly number[], y: readonly number[]): { offset: number; scale: number } {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i]! - mx) ** 2;
    sxy += (x[i]! - mx) * (y[i]! - my);
  }
  const scale = sxx > 0 ? sxy / sxx : 1;
  return { offset: my - scale * mx, scale };
}

/**
 * The knots of a piecewise-linear curve through (x, y) with the points between kept knots within about
 * `tolerance` of the straight line joining them (a swinging-door pass: O(n)). First and last are kept.
 */
export function thinKnots(x: readonly number[], y: readonly number[], tolerance: number): Array<[number, number]> {
  const n = x.length;
  const out: Array<[number, number]> = [[x[0]!, y[0]!]];
  let ax = x[0]!;
  let ay = y[0]!;
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  for (let i = 1; i < n; i++) {
    const dx = x[i]! - ax;
    const newLo = Math.max(lo, (y[i]! - tolerance - ay) / dx);
    const newHi = Math.min(hi, (y[i]! + tolerance - ay) / dx);
    if (newLo > newHi) {
      // the door closed: the previous point becomes a knot, and the new anchor
      ax = x[i - 1]!;
      ay = y[i - 1]!;
      out.push([ax, ay]);
      const dx2 = x[i]! - ax;
      lo = (y[i]! - tolerance - ay) / dx2;
      hi = (y[i]! + tolerance - ay) / dx2;
    } else {
      lo = newLo;
      hi = newHi;
    }
  }
  if (n > 1) out.push([x[n - 1]!, y[n - 1]!]);
  return out;
}

/** A recording's session time (s) on the driver's axis: through the knots, the line beyond them. */
export function toDriverS(a: Pick<Alignment, 'offsetS' | 'scale' | 'knots'>, recordingS: number): number {
  const k = a.knots;
  if (k.length < 2 || recordingS <= k[0]![0] || recordingS >= k[k.length - 1]![0]) {
    // beyond the knots: the fitted rate, continued from the nearest knot
    if (k.length === 0) return a.offsetS + a.scale * recordingS;
    const edge = recordingS <= k[0]![0] ? k[0]! : k[k.length - 1]!;
    return edge[1] + a.scale * (recordingS - edge[0]);
  }
  let lo = 0;
  let hi = k.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (k[mid]![0] <= recordingS) lo = mid;
    else hi = mid;
  }
  const [x0, y0] = k[lo]!;
  const [x1, y1] = k[hi]!;
  return y0 + ((y1 - y0) * (recordingS - x0)) / (x1 - x0);
}

/** A mapping that walks forward through increasing times in O(1) each (exports, row by row). */
export class DriverTimeMap {
  private at = 0;

  constructor(private readonly a: Pick<Alignment, 'offsetS' | 'scale' | 'knots'>) {}

  map(recordingS: number): number {
    const k = this.a.knots;
    if (k.length < 2 || recordingS <= k[0]![0] || recordingS >= k[k.length - 1]![0]) return toDriverS(this.a, recordingS);
    while (this.at > 0 && k[this.at]![0] > recordingS) this.at--;
    while (this.at < k.length - 2 && k[this.at + 1]![0] <= recordingS) this.at++;
    const [x0, y0] = k[this.at]!;
    const [x1, y1] = k[this.at + 1]!;
    return y0 + ((y1 - y0) * (recordingS - x0)) / (x1 - x0);
  }
}
