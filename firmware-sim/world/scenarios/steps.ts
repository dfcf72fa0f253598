// `steps` as plain numbers for tests and docs: the built-in document's signals and aux tones
// (scenario-file/builtins.ts), and the signal function the world evaluates them with.
import { STEPS_AUX_TONES, STEPS_SIGNALS } from '../scenario-file/builtins.ts';
import type { SignalSpec } from '../scenario-file/spec.ts';
import { signalValue } from './signals.ts';

export interface StepsSignalSpec {
  stepS: number;
  levels: readonly number[];
  sines: ReadonlyArray<{ hz: number; amplitude: number }>;
}

const flat = (s: { steps: { stepS: number; levels: readonly number[] }; sines: ReadonlyArray<{ hz: number; amplitude: number }> }): StepsSignalSpec =>
  ({ stepS: s.steps.stepS, levels: s.steps.levels, sines: s.sines });

export const STEPS_PARAMS = {
  grabNe: flat(STEPS_SIGNALS.grabNe),
  redDye: flat(STEPS_SIGNALS.redDye),
  auxTones: STEPS_AUX_TONES,
} as const;

/** The `steps` signal of a spec at t (as the world renders it). */
export function stepsSignal(spec: StepsSignalSpec, tS: number): number {
  const s: SignalSpec = { steps: { stepS: spec.stepS, levels: [...spec.levels] }, sines: [...spec.sines] };
  return signalValue(s, tS);
}
