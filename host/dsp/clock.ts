// Device-to-host clock mapping from heartbeat round trips.
//
// Each observation: the host sent a Heartbeat at hostSendUs, the device stamped it
// with its sample counter (or uptime) deviceTicks, and the host received the
// HeartbeatAck at hostRecvUs. The device event happened somewhere in [send, recv];
// we use the midpoint, with an uncertainty sigma = rtt / 2 + jitterFloorUs.
// When the device says its reply waited deviceQueuedUs before it started out
// (HeartbeatAck.reply_queued_us, e.g. behind a 4 KB sample block on the link),
// that wait is no part of either trip: the one-way delay is (rtt - queued) / 2,
// the event at send + (rtt - queued) / 2 = (send + recv - queued) / 2, with
// sigma = (rtt - queued) / 2 + jitterFloorUs. Without it a reply held back by
// a block would read as a later event (biased by half the wait).
//
// Model: hostUs = offsetUs + ticks * usPerTick * (1 + driftPpm * 1e-6), with usPerTick
// = 1e6 / deviceTicksHz (the nominal rate). driftPpm > 0 means the device clock runs
// slow against the host (each tick lasts longer than nominal in host time); the true
// device rate is deviceTicksHz / (1 + driftPpm * 1e-6).
//
// Fit: weighted least squares (weights 1 / sigma^2), then iteratively reweighted with
// Huber weights (k = 2) on residual / sigma, scaled by the MAD, so a few acks delayed by
// a busy host or OS scheduling don't pull the line. Computed in centred coordinates,
// so 1e15 us Unix times and 2^53 sample indices keep sub-microsecond precision.
//
// Streaming: observations go into a bounded reservoir (capacity, default 1024). When
// it is full, neighbours are merged keeping the one with the smaller round trip, and
// from then on only the best of every 2, 4, ... incoming observations is kept. Memory
// stays bounded, the whole recording's span keeps informing the drift estimate, and
// the sharpest round trips are the ones kept. The fit is recomputed lazily (O(capacity)).

import { DspError } from './errors.ts';

export interface ClockObservation {
  /** device sample index (or uptime ticks) when the heartbeat arrived */
  deviceTicks: number;
  /** host wall clock when the heartbeat was sent, microseconds */
  hostSendUs: number;
  /** host wall clock when the ack was received, microseconds */
  hostRecvUs: number;
  /** device µs the reply waited before its transmission started (HeartbeatAck.reply_queued_us); 0 or absent: unknown */
  deviceQueuedUs?: number;
}

/**
 * The device event of a round trip on the host clock and its half-width uncertainty (before the jitter
 * floor): the midpoint of [send, recv - queued]. A wait beyond the round trip (impossible unless the
 * clocks disagree wildly) is clamped to it.
 */
export function roundTripEventUs(o: ClockObservation): { midUs: number; halfWidthUs: number } {
  const rtt = o.hostRecvUs - o.hostSendUs;
  const queued = Math.min(rtt, Math.max(0, o.deviceQueuedUs ?? 0));
  return { midUs: (o.hostSendUs + o.hostRecvUs - queued) / 2, halfWidthUs: (rtt - queued) / 2 };
}

export interface ClockFitConfig {
  /** nominal tick rate: the sample rate for sample indices, 1e6 for device_time_us */
  deviceTicksHz: number;
  /** reservoir capacity (>= 8), default 1024 */
  capacity?: number;
  /** added to rtt/2 as the timing uncertainty, default 20 us */
  jitterFloorUs?: number;
}

export interface ClockModel {
  /** host time (us) of device tick 0 */
  offsetUs: number;
  driftPpm: number;
  /** host microseconds per device tick */
  usPerTick: number;
  /** centring point of the fit, kept for precision */
  refTicks: number;
  refHostUs: number;
  /** weighted RMS of the residuals (us) */
  rmsResidualUs: number;
  /**
   * Standard error (1 sigma) of driftPpm from the scatter about the line (weighted least
   * squares: residual variance of unit weight over n - 2, divided by the weighted spread of
   * the ticks); Infinity with only 2 observations. Asymmetric delays that change slowly
   * (a host getting busier over the segment) are not in it.
   */
  driftStdErrPpm: number;
  /** observations fitted (in the reservoir) */
  used: number;
}

function checkObservation(o: ClockObservation): void {
  if (
    !Number.isFinite(o.deviceTicks) ||
    !Number.isFinite(o.hostSendUs) ||
    !Number.isFinite(o.hostRecvUs) ||
    o.hostRecvUs < o.hostSendUs ||
    (o.deviceQueuedUs !== undefined && !Number.isFinite(o.deviceQueuedUs))
  ) {
    throw new DspError(
      'E_DSP_BAD_INPUT',
      `a clock observation needs finite numbers and hostRecvUs >= hostSendUs (got ${JSON.stringify(o)})`,
    );
  }
}

/** Fits the clock model to arrays (pure); null if fewer than 2 distinct tick values. */
export function fitClockArrays(
  ticks: ArrayLike<number>,
  midUs: ArrayLike<number>,
  sigmaUs: ArrayLike<number>,
  count: number,
  deviceTicksHz: number,
): ClockModel | null {
  if (count < 2) return null;
  const nominal = 1e6 / deviceTicksHz;
  const x0 = ticks[0]!;
  const y0 = midUs[0]!;
  const w = new Float64Array(count);
  const r = new Float64Array(count);
  const z = new Float64Array(count);
  for (let i = 0; i < count; i++) w[i] = 1 / (sigmaUs[i]! * sigmaUs[i]!);
  let slope = nominal;
  let mx = 0;
  let my = 0;
  let ok = false;
  for (let it = 0; it < 20; it++) {
    let sw = 0;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < count; i++) {
      const wi = w[i]!;
      sw += wi;
      sx += wi * (ticks[i]! - x0);
      sy += wi * (midUs[i]! - y0);
    }
    if (!(sw > 0)) break;
    mx = sx / sw;
    my = sy / sw;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < count; i++) {
      const dx = ticks[i]! - x0 - mx;
      sxx += w[i]! * dx * dx;
      sxy += w[i]! * dx * (midUs[i]! - y0 - my);
    }
    if (!(sxx > 0)) break;
    const prev = slope;
    slope = sxy / sxx;
    ok = true;
    // Huber reweighting on standardised residuals
    for (let i = 0; i < count; i++) {
      const res = midUs[i]! - y0 - my - slope * (ticks[i]! - x0 - mx);
      r[i] = res;
      z[i] = Math.abs(res) / sigmaUs[i]!;
    }
    const sorted = Float64Array.from(z).sort();
    const mad = 1.4826 * sorted[count >> 1]!;
    const scale = Math.max(mad, 1e-3);
    for (let i = 0; i < count; i++) {
      const u = z[i]! / scale;
      const s = sigmaUs[i]!;
      w[i] = (u <= 2 ? 1 : 2 / u) / (s * s);
    }
    if (it > 0 && Math.abs(slope - prev) <= 1e-15 * Math.abs(slope)) break;
  }
  if (!ok) return null;
  let sw = 0;
  let swr = 0;
  let swx = 0;
  for (let i = 0; i < count; i++) {
    sw += w[i]!;
    swr += w[i]! * r[i]! * r[i]!;
    swx += w[i]! * (ticks[i]! - x0);
  }
  const wmx = swx / sw;
  let sxx = 0;
  for (let i = 0; i < count; i++) sxx += w[i]! * (ticks[i]! - x0 - wmx) ** 2;
  const slopeStdErr = count > 2 && sxx > 0 ? Math.sqrt(swr / (count - 2) / sxx) : Infinity;
  const refTicks = x0 + mx;
  const refHostUs = y0 + my;
  return {
    offsetUs: refHostUs - refTicks * slope,
    driftPpm: (slope / nominal - 1) * 1e6,
    usPerTick: slope,
    refTicks,
    refHostUs,
    rmsResidualUs: Math.sqrt(swr / sw),
    driftStdErrPpm: (slopeStdErr / nominal) * 1e6,
    used: count,
  };
}

/** Maps device ticks to host microseconds with a fitted model. */
export function clockToHostUs(model: ClockModel, ticks: number): number {
  return model.refHostUs + (ticks - model.refTicks) * model.usPerTick;
}

/** Inverse: host microseconds to (fractional) device ticks. */
export function clockToDeviceTicks(model: ClockModel, hostUs: number): number {
  return model.refTicks + (hostUs - model.refHostUs) / model.usPerTick;
}

/** Streaming clock fit with a bounded reservoir of observations. */
export class ClockFit {
  readonly deviceTicksHz: number;
  readonly capacity: number;
  readonly jitterFloorUs: number;
  private readonly ticks: Float64Array;
  private readonly mid: Float64Array;
  private readonly sigma: Float64Array;
  private size = 0;
  private stride = 1;
  private groupSeen = 0;
  private best: { ticks: number; mid: number; sigma: number } | null = null;
  private model: ClockModel | null = null;
  private dirty = false;
  private total = 0;

  constructor(config: ClockFitConfig) {
    if (!(Number.isFinite(config.deviceTicksHz) && config.deviceTicksHz > 0)) {
      throw new DspError('E_DSP_BAD_RATE', `deviceTicksHz must be positive (got ${config.deviceTicksHz})`);
    }
    const capacity = config.capacity ?? 1024;
    if (!(Number.isInteger(capacity) && capacity >= 8)) {
      throw new DspError('E_DSP_BAD_CONFIG', `capacity must be an integer >= 8 (got ${capacity})`);
    }
    this.deviceTicksHz = config.deviceTicksHz;
    this.capacity = capacity;
    this.jitterFloorUs = config.jitterFloorUs ?? 20;
    this.ticks = new Float64Array(capacity);
    this.mid = new Float64Array(capacity);
    this.sigma = new Float64Array(capacity);
  }

  /** Observations offered so far (kept or merged). */
  get observationCount(): number {
    return this.total;
  }

  /** Adds one heartbeat round trip. Throws E_DSP_BAD_INPUT on an impossible one. */
  add(o: ClockObservation): void {
    checkObservation(o);
    this.total++;
    const event = roundTripEventUs(o);
    const cand = { ticks: o.deviceTicks, mid: event.midUs, sigma: event.halfWidthUs + this.jitterFloorUs };
    if (this.best === null || cand.sigma < this.best.sigma) this.best = cand;
    if (++this.groupSeen < this.stride) return;
    const b = this.best;
    this.best = null;
    this.groupSeen = 0;
    if (this.size === this.capacity) this.compact();
    this.ticks[this.size] = b.ticks;
    this.mid[this.size] = b.mid;
    this.sigma[this.size] = b.sigma;
    this.size++;
    this.dirty = true;
  }

  /** Halves the reservoir by keeping the better of each neighbouring pair. */
  private compact(): void {
    let k = 0;
    for (let i = 0; i + 1 < this.size; i += 2) {
      const j = this.sigma[i]! <= this.sigma[i + 1]! ? i : i + 1;
      this.ticks[k] = this.ticks[j]!;
      this.mid[k] = this.mid[j]!;
      this.sigma[k] = this.sigma[j]!;
      k++;
    }
    if (this.size % 2 === 1) {
      this.ticks[k] = this.ticks[this.size - 1]!;
      this.mid[k] = this.mid[this.size - 1]!;
      this.sigma[k] = this.sigma[this.size - 1]!;
      k++;
    }
    this.size = k;
    this.stride *= 2;
  }

  /** The current fit, or null before two distinct observations. */
  get fit(): ClockModel | null {
    if (this.dirty) {
      this.model = fitClockArrays(this.ticks, this.mid, this.sigma, this.size, this.deviceTicksHz);
      this.dirty = false;
    }
    return this.model;
  }

  get driftPpm(): number {
    return this.requireFit().driftPpm;
  }

  get offsetUs(): number {
    return this.requireFit().offsetUs;
  }

  toHostTimeUs(sampleIndex: number): number {
    return clockToHostUs(this.requireFit(), sampleIndex);
  }

  toDeviceTicks(hostUs: number): number {
    return clockToDeviceTicks(this.requireFit(), hostUs);
  }

  reset(): void {
    this.size = 0;
    this.stride = 1;
    this.groupSeen = 0;
    this.best = null;
    this.model = null;
    this.dirty = false;
    this.total = 0;
  }

  private requireFit(): ClockModel {
    const m = this.fit;
    if (!m) {
      throw new DspError('E_DSP_DEGENERATE_FIT', 'the clock fit needs at least 2 heartbeat round trips at different device ticks; add more');
    }
    return m;
  }
}
