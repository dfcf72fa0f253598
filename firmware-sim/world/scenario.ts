// What a scenario provides to the world: underlying signals and physiology as
// pure functions of world time, optics/front-end defaults, aux content, events
// and digital edges.
import type { FluorophoreSpec } from './optics.ts';
import type { TimelineEvent } from './scenario-file/spec.ts';
import type { AuxEnvelope, FluorophoreId, MotionEvent, NeCycle, ScenarioEdge, SleepBout, SpindleEvent, StateAt, WorldEvent } from './types.ts';

export interface ScenarioDefaults {
  ledModel: 'unit' | 'linear';
  bleaching: boolean;
  motion: boolean;
  haemodynamics: boolean;
  temperatureDrift: boolean;
  /** Collected fluorescence (µW) per µW of excitation at peak excitation efficiency, per fluorophore (FLUOROPHORES order). */
  brightness: readonly number[];
  /** Multiplies the default ambient light (DC and flicker). */
  ambientScale: number;
  /** Multiplies the default detector read and shot noise. */
  noiseScale: number;
  gridS: number;
}

/** NE oscillation parameters of a sleep scenario. */
export interface NeOscillationInfo {
  /** Mean frequency in NREM, Hz (cycle periods are log-normal around 1/frequency). */
  frequencyHz: number;
  /** Log-normal sigma of the cycle period. */
  periodJitter: number;
  /** Peak-to-peak amplitude of a nominal cycle, GRAB-NE dF/F (after the scenario's scale). */
  peakToPeak: number;
  /** The scale applied to the nominal amplitude (zolpidem 0.5). */
  amplitudeScale: number;
  /** Per-cycle amplitude spread (uniform 1 ± this). */
  cycleAmplitudeJitter: number;
  maProbabilityPerPeak: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** The documented parameters (plain data). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly defaults: ScenarioDefaults;
  /** Spectra and bleaching of each fluorophore (FLUOROPHORES order). */
  readonly fluorophores: readonly FluorophoreSpec[];
  /** Sleep scenarios: NE oscillation parameters; others null. */
  readonly neOscillation: NeOscillationInfo | null;
  /** Aux content: 'eeg' (biological EEG/EMG), 'tones' (auxTones on every input), 'none'. */
  readonly auxContent: 'eeg' | 'tones' | 'none';
  readonly auxTones: ReadonlyArray<{ hz: number; amplitudeUv: number }>;

  /** Underlying signal of each fluorophore (FLUOROPHORES order) and the blood-volume fraction at t. */
  signalsAt(tS: number, out: Float64Array): void;
  signal(fluorophore: FluorophoreId, tS: number): number;
  bloodVolume(tS: number): number;
  ne(tS: number): number;
  csf(tS: number): number;
  stateAt(tS: number): StateAt;
  bouts(t0S: number, t1S: number): SleepBout[];
  events(t0S: number, t1S: number): WorldEvent[];
  neCycles(t0S: number, t1S: number): NeCycle[];
  motionFactor(tS: number): number;
  motionEvents(t0S: number, t1S: number): MotionEvent[];
  auxEnvelope(tS: number, out: AuxEnvelope): void;
  spindlesTouching(t0S: number, t1S: number, out: SpindleEvent[]): void;
  /** Adds a timeline event during a run (scenario documents' models; built-in code scenarios may lack it). */
  addTimelineEvent?(event: TimelineEvent): void;
  /** Edges by board line position (lineCount lines exist), t0S <= tS < t1S, time order. */
  digitalEdges(t0S: number, t1S: number, lineCount: number): ScenarioEdge[];
}

/** Periodic pulses: rising at firstS + k * periodS (k >= 0), falling widthS later, in [t0S, t1S). */
export function pulseTrainEdges(
  lineIndex: number, firstS: number, periodS: number, widthS: number, t0S: number, t1S: number, out: ScenarioEdge[],
): void {
  let k = Math.max(0, Math.floor((t0S - firstS - widthS) / periodS));
  for (;; k++) {
    const r = firstS + k * periodS;
    if (r >= t1S) break;
    if (r >= t0S) out.push({ lineIndex, rising: true, tS: r });
    const f = r + widthS;
    if (f >= t0S && f < t1S) out.push({ lineIndex, rising: false, tS: f });
  }
}

/** Sort edges by time, then line, rising before falling at equal times. */
export function sortEdges(edges: ScenarioEdge[]): ScenarioEdge[] {
  return edges.length < 2 ? edges : edges.sort(byEdgeOrder);
}

/** sortEdges' order (one comparator, not a closure per call: most calls sort nothing). */
function byEdgeOrder(a: ScenarioEdge, b: ScenarioEdge): number {
  return a.tS - b.tS || a.lineIndex - b.lineIndex || Number(b.rising) - Number(a.rising);
}
