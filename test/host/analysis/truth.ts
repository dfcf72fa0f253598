// Ground truth of the simulated world for the corrected-signal tests: the true
// NE, NE oscillation and blood volume at each sample of a recording, and the
// residual blood-volume artefact of a corrected trace measured against them.
import { DEFAULT_BOARD, worldBoardOf } from '../../../firmware-sim/device/board.ts';
import { createWorld, type SimWorld } from '../../../firmware-sim/world/index.ts';
import { finiteMedian, robustRegression } from '../../../host/analysis/index.ts';
import { replayRecording } from '../../../host/record/replay.ts';

export interface TruthSeries {
  ne: Float64Array;
  bloodVolume: Float64Array;
  nrem: Uint8Array;
}

/** The world a `sim://SCENARIO?seed=S` device renders (the registered factory's defaults). */
export function simWorld(scenario: string, seed: number): SimWorld {
  return createWorld(scenario, seed, worldBoardOf(DEFAULT_BOARD));
}

/**
 * World time (s) of session index 0 of a simulated recording's first segment. The simulated
 * device's clock is world time (at 0 ppm drift), and every heartbeat pairs a device time with
 * the device sample index, which is the session index in the first segment: the world time of
 * index 0 is deviceTime − index / rate (median over heartbeats). It varies from run to run
 * (the handshake before Start takes world time), by up to ~1 s at speed=max.
 */
export async function worldTimeOfSessionStartS(recording: string): Promise<number> {
  let rateHz = 0;
  const t0: number[] = [];
  await replayRecording(recording, [{
    begin: (ctx) => { rateHz = ctx.config.sampleRateHz ?? 0; },
    heartbeat: (h) => { if (h.running && rateHz > 0) t0.push(h.deviceTimeUs / 1e6 - h.deviceSampleIndex / rateHz); },
  }], { demod: false });
  if (t0.length === 0) throw new Error(`${recording}: no heartbeats while running; cannot place the recording in world time`);
  return finiteMedian(t0);
}

/** Truth at world time t0S + i / rateHz. */
export function truthSeries(world: SimWorld, t0S: number, rateHz: number, count: number): TruthSeries {
  const out: TruthSeries = { ne: new Float64Array(count), bloodVolume: new Float64Array(count), nrem: new Uint8Array(count) };
  for (let i = 0; i < count; i++) {
    const t = t0S + i / rateHz;
    const p = world.truth.physiology(t);
    out.ne[i] = p.ne;
    out.bloodVolume[i] = p.bloodVolume;
    out.nrem[i] = p.state === 'nrem' ? 1 : 0;
  }
  return out;
}

export interface Artefact {
  /** SD over NREM of the blood-volume component left in the trace, as % of the NE oscillation's SD there */
  artefactPct: number;
  /** the trace's units per unit true NE (dF/F) */
  neGain: number;
  /** the trace's units per unit true ΔV/V */
  bvGain: number;
}

function sdWhere(x: ArrayLike<number>, mask: ArrayLike<number>): number {
  let n = 0; let s = 0;
  for (let i = 0; i < x.length; i++) if (mask[i] && Number.isFinite(x[i]!)) { n++; s += x[i]!; }
  const m = s / n;
  let ss = 0;
  for (let i = 0; i < x.length; i++) if (mask[i] && Number.isFinite(x[i]!)) ss += (x[i]! - m) ** 2;
  return Math.sqrt(ss / n);
}

/**
 * x minus its centred moving mean over `windowS` (NaN-aware; NaN where x is NaN): a high-pass whose
 * gain is 1 − sinc(f·windowS): 0 at DC, 1 at multiples of 1 / windowS, within 8 % of 1 from 4 / windowS up.
 */
export function minusMovingMean(x: ArrayLike<number>, rateHz: number, windowS: number): Float64Array {
  const n = x.length;
  const half = Math.max(1, Math.round((windowS * rateHz) / 2));
  const sum = new Float64Array(n + 1);
  const count = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const ok = Number.isFinite(v);
    sum[i + 1] = sum[i]! + (ok ? v : 0);
    count[i + 1] = count[i]! + (ok ? 1 : 0);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - half);
    const b = Math.min(n, i + half + 1);
    const c = count[b]! - count[a]!;
    out[i] = Number.isFinite(x[i]!) && c > 0 ? x[i]! - (sum[b]! - sum[a]!) / c : Number.NaN;
  }
  return out;
}

/** The NE oscillation's band: what the oscillation analysis keeps (high-pass 0.005 Hz, issue 16 point 4). */
export const OSCILLATION_BAND_WINDOW_S = 200;

/**
 * bloodVolumeArtefact in the NE oscillation's band: trace, true NE and true blood volume each
 * high-passed by subtracting their centred 200 s moving mean (gain 0 at DC, 1 at 0.005 Hz and 0.02 Hz,
 * within 8 % of 1 from 0.02 Hz up: keeps the 0.02 Hz oscillation, drops the state-level changes and
 * the bleaching trend), then the same joint
 * regression. Below that band the corrected trace differs from the truth by the bleaching detrend
 * (a double exponential fitted per channel also takes up part of the slow state-dependent NE and
 * blood-volume levels), which is not blood-volume artefact in the oscillation.
 */
export function oscillationBandArtefact(trace: ArrayLike<number>, truth: TruthSeries, rateHz: number): Artefact {
  const hp = (x: ArrayLike<number>): Float64Array => minusMovingMean(x, rateHz, OSCILLATION_BAND_WINDOW_S);
  return bloodVolumeArtefact(hp(trace), { ne: hp(truth.ne), bloodVolume: hp(truth.bloodVolume), nrem: truth.nrem });
}

/**
 * Regresses the corrected trace on the true NE and the true blood volume jointly (OLS,
 * every finite sample): trace ≈ a·NE + b·ΔV/V + c. The artefact is |b|·SD(ΔV/V) over
 * NREM, relative to |a|·SD(NE) over NREM (the oscillation as the trace shows it; the world
 * gives no separate oscillation series, and in NREM the true NE is the oscillation on a
 * near-constant level).
 */
export function bloodVolumeArtefact(trace: ArrayLike<number>, truth: TruthSeries): Artefact {
  const f = robustRegression(trace, [truth.ne, truth.bloodVolume], { robust: false });
  const a = f.coefficients[0]!;
  const b = f.coefficients[1]!;
  return {
    artefactPct: (100 * Math.abs(b) * sdWhere(truth.bloodVolume, truth.nrem)) / (Math.abs(a) * sdWhere(truth.ne, truth.nrem)),
    neGain: a,
    bvGain: b,
  };
}
