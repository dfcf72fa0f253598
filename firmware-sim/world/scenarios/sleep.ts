// `sleep`: a mouse sleeping through the light phase with GRAB-NE (green), an
// intravascular red dye that reports blood volume (red), EEG and EMG.
//
// Red channel choice: a red fluorescent dye in the blood plasma (rhodamine-B-
// dextran-like, excited at 560 nm), so red fluorescence = F0 * (1 + blood
// volume fraction), further attenuated by blood absorption like every channel.
// It gives the host a measured blood-volume trace in anti-phase to NE.
//
// Digital inputs: line 0 carries a 100 ms sync pulse every 60 s (first at
// t = 60 s); line 1 (if the board has it) carries a 50 ms experimenter marker at
// every scored state transition (micro-arousals included).
import { DEFAULT_SLEEP_PARAMS, SleepPhysiology, type SleepParams } from '../physiology.ts';
import { pulseTrainEdges, type Scenario, type ScenarioDefaults, sortEdges } from '../scenario.ts';
import {
  type AuxEnvelope, FLUOR_FIBER_AF, FLUOR_GRAB_NE, FLUOR_RED_DYE, FLUOR_TISSUE_AF, type FluorophoreId, type MotionEvent,
  type NeCycle, type ScenarioEdge, type SleepBout, type SpindleEvent, type StateAt, type WorldEvent,
} from '../types.ts';

export const SLEEP_SYNC_PERIOD_S = 60;
export const SLEEP_SYNC_WIDTH_S = 0.1;
export const SLEEP_MARKER_WIDTH_S = 0.05;

export const SLEEP_DEFAULTS: ScenarioDefaults = {
  ledModel: 'unit',
  bleaching: true,
  motion: true,
  haemodynamics: true,
  temperatureDrift: true,
  //          grabNe  redDye  tissueAf fiberAf
  brightness: [3e-3, 2e-3, 6e-4, 3e-4],
  ambientScale: 1,
  noiseScale: 1,
  gridS: 0.01,
};

export class SleepScenario implements Scenario {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly defaults = SLEEP_DEFAULTS;
  readonly auxContent = 'eeg' as const;
  readonly auxTones = [] as const;
  readonly physiology: SleepPhysiology;

  constructor(name: string, description: string, seed: number, params: SleepParams = DEFAULT_SLEEP_PARAMS) {
    this.name = name;
    this.description = description;
    this.physiology = new SleepPhysiology(seed, params);
    this.params = {
      ...params,
      syncPeriodS: SLEEP_SYNC_PERIOD_S,
      syncWidthS: SLEEP_SYNC_WIDTH_S,
      markerWidthS: SLEEP_MARKER_WIDTH_S,
      redChannel: 'intravascular red dye: redDye signal = bloodVolume',
    };
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
    out[FLUOR_GRAB_NE] = this.physiology.ne(tS);
    out[FLUOR_RED_DYE] = this.physiology.bloodVolume(tS);
    out[FLUOR_TISSUE_AF] = 0;
    out[FLUOR_FIBER_AF] = 0;
  }

  signal(f: FluorophoreId, tS: number): number {
    if (f === 'grabNe') return this.physiology.ne(tS);
    if (f === 'redDye') return this.physiology.bloodVolume(tS);
    return 0;
  }

  bloodVolume(tS: number): number {
    return this.physiology.bloodVolume(tS);
  }
  ne(tS: number): number {
    return this.physiology.ne(tS);
  }
  csf(tS: number): number {
    return this.physiology.csf(tS);
  }
  stateAt(tS: number): StateAt {
    return this.physiology.stateAt(tS);
  }
  bouts(t0S: number, t1S: number): SleepBout[] {
    return this.physiology.bouts(t0S, t1S);
  }
  events(t0S: number, t1S: number): WorldEvent[] {
    return this.physiology.events(t0S, t1S);
  }
  neCycles(t0S: number, t1S: number): NeCycle[] {
    return this.physiology.neCycles(t0S, t1S);
  }
  motionFactor(tS: number): number {
    return this.physiology.motionFactor(tS);
  }
  motionEvents(t0S: number, t1S: number): MotionEvent[] {
    return this.physiology.motionEvents(t0S, t1S);
  }
  auxEnvelope(tS: number, out: AuxEnvelope): void {
    this.physiology.auxEnvelope(tS, out);
  }
  spindlesTouching(t0S: number, t1S: number, out: SpindleEvent[]): void {
    this.physiology.spindlesTouching(t0S, t1S, out);
  }

  digitalEdges(t0S: number, t1S: number, lineCount: number): ScenarioEdge[] {
    const out: ScenarioEdge[] = [];
    if (lineCount > 0) pulseTrainEdges(0, SLEEP_SYNC_PERIOD_S, SLEEP_SYNC_PERIOD_S, SLEEP_SYNC_WIDTH_S, t0S, t1S, out);
    if (lineCount > 1) {
      for (const tr of this.physiology.transitionTimes(t0S - SLEEP_MARKER_WIDTH_S, t1S)) {
        if (tr >= t0S) out.push({ lineIndex: 1, rising: true, tS: tr });
        const f = tr + SLEEP_MARKER_WIDTH_S;
        if (f >= t0S && f < t1S) out.push({ lineIndex: 1, rising: false, tS: f });
      }
    }
    return sortEdges(out);
  }
}

export function createSleepScenario(seed: number): SleepScenario {
  return new SleepScenario(
    'sleep',
    'natural sleep: hypnogram with NREM NE oscillations (~0.02 Hz), anti-phase blood volume and CSF, micro-arousals on NE peaks, EEG/EMG',
    seed,
  );
}
