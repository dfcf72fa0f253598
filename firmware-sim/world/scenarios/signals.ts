// Model "signals": no animal — known underlying signals per fluorophore (a repeating staircase
// plus sines with zero phase at t = 0), no sleep states, no physiology events, EEG/EMG replaced by
// known tones or nothing; a timeline and digital lines as the document gives them. The built-in
// `steps` (calibration) and `dark` (capped fiber) are documents of this model.
import type { FluorophoreSpec } from '../optics.ts';
import type { NeOscillationInfo, Scenario, ScenarioDefaults } from '../scenario.ts';
import { WorldError } from '../errors.ts';
import type { ScenarioSpec, SignalSpec, TimelineEvent } from '../scenario-file/spec.ts';
import type { Timeline } from '../scenario-file/timeline.ts';
import {
  type AuxEnvelope, FLUOROPHORES, type FluorophoreId, type MotionEvent, type NeCycle, type ScenarioEdge, type SleepBout,
  type SpindleEvent, type StateAt, type WorldEvent,
} from '../types.ts';
import { digitalEdgesOf, type SpecParts } from './spec-parts.ts';

/** Staircase level of a signal at t (its first level before t = 0; 0 without steps). */
export function stepLevel(spec: SignalSpec, tS: number): number {
  const st = spec.steps;
  if (!st) return 0;
  if (tS < 0) return st.levels[0]!;
  return st.levels[Math.floor(tS / st.stepS) % st.levels.length]!;
}

/** A signal's value at t: staircase + sines. */
export function signalValue(spec: SignalSpec, tS: number): number {
  let v = stepLevel(spec, tS);
  for (const s of spec.sines) {
    const x = s.hz * tS;
    v += s.amplitude * Math.sin(2 * Math.PI * (x - Math.floor(x)));
  }
  return v;
}

const NO_TRANSITIONS = (): number[] => [];

export class SignalsScenario implements Scenario {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly defaults: ScenarioDefaults;
  readonly fluorophores: readonly FluorophoreSpec[];
  readonly auxContent: 'eeg' | 'tones' | 'none';
  readonly auxTones: ReadonlyArray<{ hz: number; amplitudeUv: number }>;
  readonly neOscillation: NeOscillationInfo | null = null;
  private readonly signals: Array<SignalSpec | undefined>;
  private readonly timeline: Timeline;
  private readonly digital: ScenarioSpec['digital'];
  private readonly one = new Float64Array(FLUOROPHORES.length);

  constructor(spec: ScenarioSpec, parts: SpecParts) {
    this.name = spec.name;
    this.description = spec.description;
    this.defaults = parts.defaults;
    this.fluorophores = parts.fluorophores;
    this.auxContent = parts.auxContent;
    this.auxTones = parts.auxTones;
    this.timeline = parts.timeline;
    this.digital = spec.digital;
    this.signals = FLUOROPHORES.map((f) => spec.signals?.[f]);
    this.params = { signals: spec.signals ?? {}, aux: spec.aux, digital: spec.digital, timeline: spec.timeline, optics: spec.optics };
  }

  addTimelineEvent(event: TimelineEvent): void {
    if (event.kind === 'drug' || event.kind === 'microArousal') throw new WorldError('E_SIM_BAD_OPTION', `a ${event.kind} needs an animal: this scenario has none (model "signals")`, 'use a scenario with model "sleep"');
    this.timeline.add(event);
  }

  signalsAt(tS: number, out: Float64Array): void {
    const tl = this.timeline;
    for (let f = 0; f < this.signals.length; f++) {
      const s = this.signals[f];
      let v = s ? signalValue(s, tS) : 0;
      if (tl.hasLevel[f]) v += tl.level(f, tS);
      out[f] = v;
    }
  }

  signal(f: FluorophoreId, tS: number): number {
    this.signalsAt(tS, this.one);
    return this.one[FLUOROPHORES.indexOf(f)]!;
  }

  /** Step events of the staircases (k >= 1), then the timeline's, in time order. */
  events(t0S: number, t1S: number): WorldEvent[] {
    const out: WorldEvent[] = [];
    FLUOROPHORES.forEach((fluorophore, f) => {
      const st = this.signals[f]?.steps;
      if (!st) return;
      for (let k = Math.max(1, Math.ceil(t0S / st.stepS)); k * st.stepS < t1S; k++) {
        out.push({ kind: 'step', tS: k * st.stepS, fluorophore, level: st.levels[k % st.levels.length]! });
      }
    });
    out.push(...this.timeline.events(t0S, t1S));
    return out.sort((a, b) => a.tS - b.tS);
  }

  digitalEdges(t0S: number, t1S: number, lineCount: number): ScenarioEdge[] {
    return digitalEdgesOf(this.digital, this.timeline, t0S, t1S, lineCount, NO_TRANSITIONS);
  }

  bloodVolume(tS: number): number {
    return this.timeline.hasBloodVolume ? this.timeline.bloodVolumeChange(tS) : 0;
  }
  ne(_tS: number): number {
    return 0;
  }
  csf(_tS: number): number {
    return 0;
  }
  stateAt(_tS: number): StateAt {
    return 'none';
  }
  bouts(_t0S: number, _t1S: number): SleepBout[] {
    return [];
  }
  neCycles(_t0S: number, _t1S: number): NeCycle[] {
    return [];
  }
  motionFactor(tS: number): number {
    return this.timeline.hasMotion ? Math.max(1 - this.timeline.motionDip(tS), 0.05) : 1;
  }
  motionEvents(t0S: number, t1S: number): MotionEvent[] {
    return this.timeline.motionEvents(t0S, t1S);
  }
  auxEnvelope(_tS: number, out: AuxEnvelope): void {
    out.deltaUv = 0;
    out.thetaUv = 0;
    out.sigmaUv = 0;
    out.betaUv = 0;
    out.emgUv = 0;
  }
  spindlesTouching(_t0S: number, _t1S: number, _out: SpindleEvent[]): void {}
}
