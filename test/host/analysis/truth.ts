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
