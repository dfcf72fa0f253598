// Where a resumed run (a new Start after a reconnect or a device reset) lands
// on the session timeline. Pure functions: the Rig measures on the host side,
// the assembler decides from journaled inputs, so replay reproduces it.
//
// Three cases, best first:
//
// 1. Device-timed (the device kept running: a reconnect without a reset). The
//    old run's Stop Ack names its next index N_stop and the uptime U_stop at
//    which that index's period begins; the new Start Ack names the uptime
//    U_start of its sample 0. Both are on the device's own clock, which also
//    drives its sample clock, so the new run's sample 0 is old-run sample
//    N_stop + (U_start − U_stop) × fs: exact up to rounding (1 sample).
//
// 2. Across a device reset (uptime restarted at 0). The host heard the device
//    after the reset: a heartbeat round trip [send, recv] stamped with the new
//    uptime u (mid: its midpoint, less half the wait the device reports for its
//    reply). The reset happened at host time t_r = mid − u × k, where k is
//    host µs per device µs from the old segment's clock fit (the fit's slope ×
//    fs / 1e6; 1 + drift on real hardware). The old run's session index at
//    t_r is the old fit evaluated there; sample 0 of the new run follows
//    U_start × fs device samples later (device-timed). Uncertainty, in host
//    µs: rtt/2 + the fit's jitter floor + 3 × its rms residual + |u × (k − 1)|
//    (the last term covers a device whose uptime did not follow the fitted
//    rate after the reset: a simulator paced by the reader, speed=max, runs
//    fast while acquiring and at 1x while idle). When the fit is not a
//    physical crystal (|drift| > 1000 ppm: an accelerated simulator, whose pace
//    while acquiring follows the reader), the pace between the last heartbeat
//    and the reset is unknown too, so the uncertainty also spans back to the
//    last sample known to have been taken. Never placed before samples known
//    to have been taken (delivered blocks, running heartbeats).
//
// 3. Neither (old raw logs, firmware without Ack.device_time_us, no clock
//    fit yet): the host's estimate (time since the last block × rate), with
//    an uncertainty as large as the estimate itself.
import { clockToDeviceTicks, type ClockModel, roundTripEventUs } from '../dsp/clock.ts';

/** The old segment's reset instant, measured on the host when the Start is sent (journaled in the Start intent). */
export interface ResetEstimate {
  /** Session index (fractional, detector rate) of the old run at the device reset. */
  resetSessionIndex: number;
  /** Half-width of the interval holding the true reset index, samples. */
  uncertaintySamples: number;
}

/** A heartbeat round trip answered by the device after the reset (running false). */
export interface UptimeProbe {
  hostSendUs: number;
  hostRecvUs: number;
  /** Device uptime when it answered, µs since its (re)boot. */
  deviceTimeUs: number;
  /** Device µs the reply waited before it started out (HeartbeatAck.reply_queued_us; 0 or absent: unknown). */
  deviceQueuedUs?: number;
}

/** Jitter floor added to half the round trip (as the clock fit does), µs. */
const JITTER_FLOOR_US = 20;
/** Beyond this the fitted device clock is no crystal (crystals: tens of ppm); see case 2 above. */
export const MAX_PHYSICAL_DRIFT_PPM = 1000;

/**
 * The reset instant on the old segment's timeline, from its clock fit (session
 * index against host µs) and a probe of the rebooted device's uptime.
 * `lowerBoundSessionIndex`: samples known to have been taken before the reset.
 * Undefined without a fit (fewer than two heartbeats in the old segment).
 */
export function estimateResetInstant(fit: ClockModel | null | undefined, probe: UptimeProbe, rateHz: number, lowerBoundSessionIndex: number): ResetEstimate | undefined {
  if (!fit || !(rateHz > 0) || !(fit.usPerTick > 0)) return undefined;
  const hostPerDeviceUs = (fit.usPerTick * rateHz) / 1e6;
  const { midUs, halfWidthUs } = roundTripEventUs({ deviceTicks: 0, hostSendUs: probe.hostSendUs, hostRecvUs: probe.hostRecvUs, deviceQueuedUs: probe.deviceQueuedUs });
  const resetHostUs = midUs - probe.deviceTimeUs * hostPerDeviceUs;
  const index = clockToDeviceTicks(fit, resetHostUs);
  const uncertaintyUs = halfWidthUs + JITTER_FLOOR_US + 3 * fit.rmsResidualUs
    + Math.abs(probe.deviceTimeUs * (hostPerDeviceUs - 1));
  const unknownPace = Math.abs(fit.driftPpm) > MAX_PHYSICAL_DRIFT_PPM ? Math.max(0, index - lowerBoundSessionIndex) : 0;
  return { resetSessionIndex: Math.max(index, lowerBoundSessionIndex), uncertaintySamples: uncertaintyUs / fit.usPerTick + unknownPace };
}

export type PlacementMethod = 'device-time' | 'reset-clock' | 'host-estimate';

export interface PlacementInput {
  rateHz: number;
  /** Where the next detector sample of the old segment would land (after its trailing gap). */
  nextSessionIndex: number;
  /** Session index of the old run's device index 0. */
  oldOffset: number;
  /** The old run's Stop Ack, when one arrived after its blocks (device index and uptime; uptime 0: not known). */
  stop: { deviceIndex: number; deviceTimeUs: number } | undefined;
  /** The new Start Ack's device_time_us (0: not known). */
  startDeviceTimeUs: number;
  reset: ResetEstimate | undefined;
  /** The host's estimate of missing samples (case 3). */
  hostEstimateSamples: number;
}

export interface Placement {
  /** Session index of the new run's sample 0 (detector rate). */
  offset: number;
  /** Half-width of the interval holding the true offset, samples (detector rate). */
  uncertaintySamples: number;
  method: PlacementMethod;
}

/** Places a resumed run; see the cases above. */
export function placeResumedRun(p: PlacementInput): Placement {
  const { stop, startDeviceTimeUs: uStart, rateHz } = p;
  if (stop && stop.deviceTimeUs > 0 && uStart >= stop.deviceTimeUs && p.oldOffset + stop.deviceIndex >= p.nextSessionIndex) {
    const offset = p.oldOffset + stop.deviceIndex + Math.round(((uStart - stop.deviceTimeUs) * rateHz) / 1e6);
    return { offset, uncertaintySamples: 1, method: 'device-time' };
  }
  if (p.reset && uStart > 0 && Number.isFinite(p.reset.resetSessionIndex)) {
    const raw = p.reset.resetSessionIndex + (uStart * rateHz) / 1e6;
    const offset = Math.max(p.nextSessionIndex, Math.round(raw));
    return { offset, uncertaintySamples: Math.ceil(p.reset.uncertaintySamples + 0.5), method: 'reset-clock' };
  }
  const missing = Math.max(0, Math.round(p.hostEstimateSamples));
  return { offset: p.nextSessionIndex + missing, uncertaintySamples: missing, method: 'host-estimate' };
}
