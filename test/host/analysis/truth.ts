// Ground truth of the simulated world for the corrected-signal tests: the true
// NE, NE oscillation and blood volume at each sample of a recording, and the
// residual blood-volume artefact of a corrected trace measured against them.
import { DEFAULT_BOARD, worldBoardOf } from '../../../firmware-sim/device/board.ts';
import { createWorld, type SimWorld } from '../../../firmware-sim/world/index.ts';
import { robustRegression } from '../../../host/analysis/index.ts';

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
 * Truth at world time t0S + i / rateHz. A `speed=max` recording's session time 0 is world
 * time 0 (checked in the test: the blood-volume estimate correlates best at offset 0).
 */
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
