// `steps`: a calibration world with known signals. No bleaching, no motion, no
// haemodynamics, linear LEDs (P = slope * I, nominal slope, no temperature
// drift), small noise, ambient light on (DC + flicker at 2x mains).
//
// Underlying signals (fractional dF/F of each fluorophore under fully
// responsive excitation; sines have zero phase at t = 0):
//   grabNe(t) = staircase + 0.05 sin(2 pi 0.02 t) + 0.02 sin(2 pi 1 t)
//               staircase levels [0, 0.10, 0.20, 0.10], 10 s each (period 40 s)
//   redDye(t) = square 0 / 0.08, 15 s each (period 30 s) + 0.03 sin(2 pi 0.1 t)
//   tissueAf, fiberAf: constant (0)
// Over any window that is a multiple of 200 s the staircase and the 0.02 Hz
// sine are orthogonal. GRAB-NE's response at 405 nm is 0 (isosbestic), so the
// 405 nm channel carries none of it.
// Aux inputs: every input carries 100 µV at 2 Hz + 40 µV at 10 Hz (sine, zero phase).
// Digital inputs: line 0, 10 ms pulses at 1 Hz (rising at t = 1, 2, 3 ... s);
// line 1, 100 ms pulses at each grabNe step (t = 10, 20, 30 ... s).
import { pulseTrainEdges, type ScenarioDefaults, sortEdges } from '../scenario.ts';
import { FLUOR_FIBER_AF, FLUOR_GRAB_NE, FLUOR_RED_DYE, FLUOR_TISSUE_AF, type ScenarioEdge, type WorldEvent } from '../types.ts';
import { FlatScenario } from './flat.ts';

export interface StepsSignalSpec {
  stepS: number;
  levels: readonly number[];
  sines: ReadonlyArray<{ hz: number; amplitude: number }>;
}

export const STEPS_PARAMS = {
  grabNe: { stepS: 10, levels: [0, 0.1, 0.2, 0.1], sines: [{ hz: 0.02, amplitude: 0.05 }, { hz: 1, amplitude: 0.02 }] } as StepsSignalSpec,
  redDye: { stepS: 15, levels: [0, 0.08], sines: [{ hz: 0.1, amplitude: 0.03 }] } as StepsSignalSpec,
  auxTones: [{ hz: 2, amplitudeUv: 100 }, { hz: 10, amplitudeUv: 40 }],
  digital: {
    line0: { firstS: 1, periodS: 1, widthS: 0.01 },
    line1: { firstS: 10, periodS: 10, widthS: 0.1 },
  },
} as const;

export const STEPS_DEFAULTS: ScenarioDefaults = {
  ledModel: 'linear',
  bleaching: false,
  motion: false,
  haemodynamics: false,
  temperatureDrift: false,
  brightness: [3e-3, 2e-3, 6e-4, 3e-4],
  ambientScale: 1,
  noiseScale: 0.3,
  gridS: 0.002,
};

/** Step level of a spec at t (level 0 before t = 0). */
export function stepLevel(spec: StepsSignalSpec, tS: number): number {
  if (tS < 0) return spec.levels[0]!;
  return spec.levels[Math.floor(tS / spec.stepS) % spec.levels.length]!;
}

export function stepsSignal(spec: StepsSignalSpec, tS: number): number {
  let v = stepLevel(spec, tS);
  for (const s of spec.sines) {
    const x = s.hz * tS;
    v += s.amplitude * Math.sin(2 * Math.PI * (x - Math.floor(x)));
  }
  return v;
}

export class StepsScenario extends FlatScenario {
  readonly name = 'steps';
  readonly description = 'calibration: known dF/F steps and sines (0.02 Hz, 1 Hz), linear LEDs, no bleaching/motion/haemodynamics, ambient on';
  readonly params = STEPS_PARAMS;
  readonly defaults = STEPS_DEFAULTS;
  readonly auxContent = 'tones' as const;
  readonly auxTones = STEPS_PARAMS.auxTones;

  signalsAt(tS: number, out: Float64Array): void {
    out[FLUOR_GRAB_NE] = stepsSignal(STEPS_PARAMS.grabNe, tS);
    out[FLUOR_RED_DYE] = stepsSignal(STEPS_PARAMS.redDye, tS);
    out[FLUOR_TISSUE_AF] = 0;
    out[FLUOR_FIBER_AF] = 0;
  }

  events(t0S: number, t1S: number): WorldEvent[] {
    const out: WorldEvent[] = [];
    for (const [fluorophore, spec] of [['grabNe', STEPS_PARAMS.grabNe], ['redDye', STEPS_PARAMS.redDye]] as const) {
      for (let k = Math.max(1, Math.ceil(t0S / spec.stepS)); k * spec.stepS < t1S; k++) {
        out.push({ kind: 'step', tS: k * spec.stepS, fluorophore, level: spec.levels[k % spec.levels.length]! });
      }
    }
    return out.sort((a, b) => a.tS - b.tS);
  }

  digitalEdges(t0S: number, t1S: number, lineCount: number): ScenarioEdge[] {
    const out: ScenarioEdge[] = [];
    const d = STEPS_PARAMS.digital;
    if (lineCount > 0) pulseTrainEdges(0, d.line0.firstS, d.line0.periodS, d.line0.widthS, t0S, t1S, out);
    if (lineCount > 1) pulseTrainEdges(1, d.line1.firstS, d.line1.periodS, d.line1.widthS, t0S, t1S, out);
    return sortEdges(out);
  }
}
