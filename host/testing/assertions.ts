// Ground-truth assertions for hardware-in-the-loop tests: a demodulated signal tracks what the
// simulated world did (expectTracks), and the host's gaps are exactly the samples the device
// lost (expectGaps). They throw a TestingError (E_ASSERT_*) naming the worst sample; on success
// they return what they measured.
import type { AcquisitionItem, RigGap } from '../rig/rig.ts';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import { TestingError } from './errors.ts';

/** One channel of demodulated output on its time axis. */
export interface SignalTrace {
  name: string;
  /** When each value's light was measured, seconds from the session start (filter delay subtracted). */
  timesS: Float64Array;
  values: Float64Array;
}

/**
 * Gathers one channel (by name, e.g. "470nm@det0", or position) of a run's demodulated blocks
 * (demodulate()'s `signals` stream; other streams are ignored), in output order.
 */
export function signalOf(blocks: readonly SignalBlock[], channel: string | number, options: { stream?: 'signals' | 'aux' } = {}): SignalTrace {
  const stream = options.stream ?? 'signals';
  const mine = blocks.filter((b) => b.stream === stream);
  const first = mine[0];
  if (!first) throw new TestingError('E_ASSERT_TRACKS', `no ${stream} blocks to take "${channel}" from`, 'collect demodulate()\'s output, e.g. rig.acquisition$.pipe(demodulate(config, rig.info), toArray())');
  const index = typeof channel === 'number' ? channel : first.channels.findIndex((c) => c.name === channel);
  const info = first.channels[index];
  if (!info) throw new TestingError('E_ASSERT_TRACKS', `no channel ${JSON.stringify(channel)}`, `channels: ${first.channels.map((c) => c.name).join(', ')}`);
  const n = mine.reduce((a, b) => a + b.count, 0);
  const timesS = new Float64Array(n);
  const values = new Float64Array(n);
  let k = 0;
  for (const b of mine) {
    const v = b.values[index]!;
    for (let i = 0; i < b.count; i++, k++) {
      timesS[k] = (b.firstIndex + i) / b.rateHz - info.groupDelayS;
      values[k] = v[i]!;
    }
  }
  return { name: info.name, timesS, values };
}

export interface TracksOptions {
  /** Largest error allowed, % of the truth's span over the compared samples (default 5). */
  tolerancePct?: number;
  /**
   * 'fit' (default): the signal is in other units (ADC codes vs ΔF/F), so it is compared with
   * gain · truth + offset fitted by least squares (gain must be positive). 'exact': same units.
   */
  scale?: 'fit' | 'exact';
  /** Compare only samples at or after this time (filters settling), seconds. Default 0. */
  fromS?: number;
  /** Compare only samples before this time, seconds. Default: all. */
  toS?: number;
}

export interface TracksReport {
  /** Samples compared (NaN outputs, i.e. gaps and settling, are left out). */
  samples: number;
  /** Samples left out as NaN. */
  missing: number;
  gain: number;
  offset: number;
  /** The largest error, % of the truth's span. */
  maxErrorPct: number;
  /** When the largest error was, seconds. */
  worstAtS: number;
}

/**
 * Asserts that `signal` follows `truth` (a function of time in seconds, e.g.
 * `(t) => sim.truth.signal('grabNe', t)`) within `tolerancePct` of the truth's span.
 */
export function expectTracks(signal: SignalTrace, truth: (tS: number) => number, options: TracksOptions = {}): TracksReport {
  const tolerancePct = options.tolerancePct ?? 5;
  const fromS = options.fromS ?? 0;
  const toS = options.toS ?? Number.POSITIVE_INFINITY;
  const xs: number[] = [];
  const ys: number[] = [];
  const ts: number[] = [];
  let missing = 0;
  for (let i = 0; i < signal.values.length; i++) {
    const t = signal.timesS[i]!;
    if (t < fromS || t >= toS) continue;
    const y = signal.values[i]!;
    if (!Number.isFinite(y)) {
      missing++;
      continue;
    }
    xs.push(truth(t));
    ys.push(y);
    ts.push(t);
  }
  const fail = (message: string, hint: string): never => {
    throw new TestingError('E_ASSERT_TRACKS', `${signal.name}: ${message}`, hint);
  };
  if (xs.length < 3) fail(`only ${xs.length} finite samples between ${fromS} s and ${toS} s (${missing} NaN)`, 'acquire longer, or widen fromS/toS');
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  let span = hi - lo;
  let gain = 1;
  let offset = 0;
  if (options.scale !== 'exact') {
    const n = xs.length;
    const mx = xs.reduce((a, b) => a + b, 0) / n;
    const my = ys.reduce((a, b) => a + b, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      sxy += (xs[i]! - mx) * (ys[i]! - my);
      sxx += (xs[i]! - mx) ** 2;
    }
    if (sxx === 0) fail('the truth does not change over the compared samples, so there is nothing to track', 'compare a span where the truth changes, or use scale: \'exact\'');
    gain = sxy / sxx;
    offset = my - gain * mx;
    if (!(gain > 0)) fail(`the signal moves against the truth (fitted gain ${gain})`, 'check the channel: is it the sensor\'s wavelength and detector?');
    span *= gain;
  }
  if (span === 0) span = Math.max(Math.abs(lo), Math.abs(hi));
  let worst = 0;
  let worstAt = 0;
  for (let i = 0; i < xs.length; i++) {
    const e = Math.abs(ys[i]! - (gain * xs[i]! + offset));
    if (e > worst) {
      worst = e;
      worstAt = i;
    }
  }
  const maxErrorPct = span > 0 ? (100 * worst) / span : worst === 0 ? 0 : Number.POSITIVE_INFINITY;
  const report: TracksReport = { samples: xs.length, missing, gain, offset, maxErrorPct, worstAtS: ts[worstAt]! };
  if (maxErrorPct > tolerancePct) {
    fail(
      `off the truth by ${maxErrorPct.toFixed(2)} % of its span at t = ${ts[worstAt]!.toFixed(3)} s (${ys[worstAt]} vs ${gain * xs[worstAt]! + offset}; tolerance ${tolerancePct} %)`,
      'look at that time: a gap, filter settling (raise fromS), or a real distortion',
    );
  }
  return report;
}

/** A span of missing samples: `first` sample index and `count`. */
export interface SampleSpan {
  first: number;
  count: number;
}

/** The gaps among a run's acquisition items (rig.acquisition$), of one source (default the detectors). */
export function gapsOf(items: readonly AcquisitionItem[], source: RigGap['source'] = 'detector'): RigGap[] {
  return items.filter((x): x is RigGap => x.kind === 'gap' && x.source === source);
}

function spansOf(list: ReadonlyArray<SampleSpan | Pick<RigGap, 'sessionIndex' | 'count'>>): SampleSpan[] {
  const spans = list.map((g) => ('first' in g ? { first: g.first, count: g.count } : { first: g.sessionIndex, count: g.count })).sort((a, b) => a.first - b.first);
  const out: SampleSpan[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.first <= last.first + last.count) last.count = Math.max(last.count, s.first + s.count - last.first);
    else out.push({ ...s });
  }
  return out;
}

/**
 * Asserts that the host's gaps cover exactly the samples the device lost: same first index and
 * count, span by span (adjacent spans merged). `expected` is e.g. `sim.deviceTruth.lostRanges('detector')`.
 */
export function expectGaps(actual: ReadonlyArray<SampleSpan | Pick<RigGap, 'sessionIndex' | 'count'>>, expected: ReadonlyArray<SampleSpan | Pick<RigGap, 'sessionIndex' | 'count'>>): SampleSpan[] {
  const a = spansOf(actual);
  const e = spansOf(expected);
  const show = (s: SampleSpan[]): string => (s.length ? s.map((x) => `[${x.first}, +${x.count})`).join(' ') : 'none');
  if (a.length !== e.length || a.some((s, i) => s.first !== e[i]!.first || s.count !== e[i]!.count)) {
    throw new TestingError('E_ASSERT_GAPS', `gaps differ: host ${show(a)}, truth ${show(e)}`, 'a gap the host missed or invented: check the block indices (DEBUG=fiberrig:rig)');
  }
  return a;
}
