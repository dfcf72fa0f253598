// Model "sleep": a mouse sleeping with GRAB-NE (green), an intravascular red dye that reports blood
// volume (red), EEG and EMG (physiology.ts), plus what a scenario document adds: digital lines
// (pulse trains, state-transition markers) and a timeline (steps and ramps on the sensors, drugs
// scaling the NE oscillation, motion, blood-volume changes, TTL pulses).
//
// Red channel: a red fluorescent dye in the blood plasma (rhodamine-B-dextran-like, excited at
// 560 nm), so red fluorescence = F0 * (1 + blood volume fraction), further attenuated by blood
// absorption like every channel. It gives the host a measured blood-volume trace in anti-phase to NE.
import type { FluorophoreSpec } from '../optics.ts';
import { SleepPhysiology } from '../physiology.ts';
import type { Scenario, ScenarioDefaults } from '../scenario.ts';
import type { ScenarioSpec, TimelineEvent } from '../scenario-file/spec.ts';
import type { Timeline } from '../scenario-file/timeline.ts';
import {
  type AuxEnvelope, FLUOR_FIBER_AF, FLUOR_GRAB_NE, FLUOR_RED_DYE, FLUOR_TISSUE_AF, type FluorophoreId, type MotionEvent,
  type NeCycle, type ScenarioEdge, type SleepBout, type SpindleEvent, type StateAt, type WorldEvent,
} from '../types.ts';
import { digitalEdgesOf, type SpecParts } from './spec-parts.ts';

export { SLEEP_MARKER_WIDTH_S, SLEEP_SYNC_PERIOD_S, SLEEP_SYNC_WIDTH_S } from '../scenario-file/builtins.ts';

export class SleepScenario implements Scenario {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly defaults: ScenarioDefaults;
  readonly fluorophores: readonly FluorophoreSpec[];
  readonly auxContent: 'eeg' | 'tones' | 'none';
  readonly auxTones: ReadonlyArray<{ hz: number; amplitudeUv: number }>;
  readonly physiology: SleepPhysiology;
  private readonly timeline: Timeline;
  private readonly digital: ScenarioSpec['digital'];
  /** The bouts' transition times, for digitalEdgesOf (one closure, not one per block). */
  private readonly transitions = (t0S: number, t1S: number): number[] => this.physiology.transitionTimes(t0S, t1S);

  constructor(spec: ScenarioSpec, parts: SpecParts, seed: number) {
    this.name = spec.name;
    this.description = spec.description;
    this.defaults = parts.defaults;
    this.fluorophores = parts.fluorophores;
    this.auxContent = parts.auxContent;
    this.auxTones = parts.auxTones;
    this.timeline = parts.timeline;
    this.digital = spec.digital;
    this.physiology = new SleepPhysiology(seed, parts.sleepParams);
    if (this.timeline.hasDrug) this.useDrugFactor();
    this.params = {
      ...parts.sleepParams,
      digital: spec.digital,
      timeline: spec.timeline,
      redChannel: 'intravascular red dye: redDye signal = bloodVolume',
    };
  }

  private useDrugFactor(): void {
    this.physiology.setNeOscillationFactor((tS) => this.timeline.drugFactor(tS));
  }

  addTimelineEvent(event: TimelineEvent): void {
    this.timeline.add(event);
    if (this.timeline.hasDrug) this.useDrugFactor();
  }

  get neOscillation() {
    const p = this.physiology.params;
    return {
      frequencyHz: p.neFrequencyHz,
      periodJitter: p.nePeriodJitter,
      peakToPeak: this.physiology.neAmplitude,
      amplitudeScale: p.neAmplitudeScale,
      cycleAmplitudeJitter: p.neCycleAmplitudeJitter,
      maProbabilityPerPeak: p.maProbabilityPerPeak,
    };
  }

  signalsAt(tS: number, out: Float64Array): void {
    out[FLUOR_GRAB_NE] = this.ne(tS);
    out[FLUOR_RED_DYE] = this.bloodVolume(tS);
    out[FLUOR_TISSUE_AF] = 0;
    out[FLUOR_FIBER_AF] = 0;
    const tl = this.timeline;
    for (let f = 0; f < out.length; f++) if (tl.hasLevel[f]) out[f] = out[f]! + tl.level(f, tS);
  }

  private readonly one = new Float64Array(4);

  signal(f: FluorophoreId, tS: number): number {
    this.signalsAt(tS, this.one);
    return this.one[f === 'grabNe' ? FLUOR_GRAB_NE : f === 'redDye' ? FLUOR_RED_DYE : f === 'tissueAf' ? FLUOR_TISSUE_AF : FLUOR_FIBER_AF]!;
  }

  bloodVolume(tS: number): number {
    const tl = this.timeline;
    let bv = this.physiology.bloodVolume(tS);
    if (tl.hasBloodVolume) bv += tl.bloodVolumeChange(tS);
    // an added micro-arousal's NE peak constricts vessels like the model's own (bvGain, bvLagS)
    if (tl.hasArousal) bv -= this.physiology.params.bvGain * this.arousalNe(tS - this.physiology.params.bvLagS);
    return bv;
  }
  ne(tS: number): number {
    const ne = this.physiology.ne(tS);
    return this.timeline.hasArousal ? ne + this.arousalNe(tS) : ne;
  }
  /** The NE the added micro-arousals add at t (maNeBoost of the nominal amplitude, Gaussian of maBoostSigmaS). */
  private arousalNe(tS: number): number {
    const p = this.physiology.params;
    return this.physiology.neAmplitude * p.maNeBoost * this.timeline.arousalPeaks(tS, p.maBoostSigmaS);
  }
  csf(tS: number): number {
    return this.physiology.csf(tS);
  }
  stateAt(tS: number): StateAt {
    return this.timeline.hasArousal && this.timeline.aroused(tS) ? 'wake' : this.physiology.stateAt(tS);
  }
  bouts(t0S: number, t1S: number): SleepBout[] {
    return this.physiology.bouts(t0S, t1S);
  }
  events(t0S: number, t1S: number): WorldEvent[] {
    const ev = this.physiology.events(t0S, t1S);
    if (this.timeline.hasAny) {
      ev.push(...this.timeline.events(t0S, t1S));
      ev.sort((a, b) => a.tS - b.tS);
    }
    return ev;
  }
  neCycles(t0S: number, t1S: number): NeCycle[] {
    return this.physiology.neCycles(t0S, t1S);
  }
  motionFactor(tS: number): number {
    const m = this.physiology.motionFactor(tS);
    return this.timeline.hasMotion ? Math.max(m - this.timeline.motionDip(tS), 0.05) : m;
  }
  motionEvents(t0S: number, t1S: number): MotionEvent[] {
    const ev = this.physiology.motionEvents(t0S, t1S);
    return this.timeline.hasMotion ? [...ev, ...this.timeline.motionEvents(t0S, t1S)].sort((a, b) => a.startS - b.startS) : ev;
  }
  auxEnvelope(tS: number, out: AuxEnvelope): void {
    this.physiology.auxEnvelope(tS, out);
    if (!this.timeline.hasArousal) return;
    const ma = this.physiology.params.ma;
    const w = this.timeline.arousalWindow(tS, ma.edgeS);
    if (w === 0) return;
    out.deltaUv *= 1 + (ma.deltaScale - 1) * w;
    out.sigmaUv *= 1 + (ma.sigmaScale - 1) * w;
    out.betaUv *= 1 + (ma.betaScale - 1) * w;
    out.emgUv *= 1 + (ma.emgScale - 1) * w;
  }
  spindlesTouching(t0S: number, t1S: number, out: SpindleEvent[]): void {
    this.physiology.spindlesTouching(t0S, t1S, out);
  }

  digitalEdges(t0S: number, t1S: number, lineCount: number): ScenarioEdge[] {
    return digitalEdgesOf(this.digital, this.timeline, t0S, t1S, lineCount, this.transitions);
  }
}
