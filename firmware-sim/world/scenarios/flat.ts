// Base for scenarios without an animal (steps, dark): no sleep states, no
// physiology events, no motion, EEG/EMG replaced by known tones or nothing.
import type { NeOscillationInfo, Scenario, ScenarioDefaults } from '../scenario.ts';
import type {
  AuxEnvelope, FluorophoreId, MotionEvent, NeCycle, ScenarioEdge, SleepBout, SpindleEvent, StateAt, WorldEvent,
} from '../types.ts';
import { FLUOROPHORES } from '../types.ts';

export abstract class FlatScenario implements Scenario {
  abstract readonly name: string;
  abstract readonly description: string;
  abstract readonly params: Readonly<Record<string, unknown>>;
  abstract readonly defaults: ScenarioDefaults;
  abstract readonly auxContent: 'eeg' | 'tones' | 'none';
  abstract readonly auxTones: ReadonlyArray<{ hz: number; amplitudeUv: number }>;
  readonly neOscillation: NeOscillationInfo | null = null;

  abstract signalsAt(tS: number, out: Float64Array): void;
  abstract events(t0S: number, t1S: number): WorldEvent[];
  abstract digitalEdges(t0S: number, t1S: number, lineCount: number): ScenarioEdge[];

  private readonly one = new Float64Array(FLUOROPHORES.length);

  signal(f: FluorophoreId, tS: number): number {
    this.signalsAt(tS, this.one);
    return this.one[FLUOROPHORES.indexOf(f)]!;
  }
  bloodVolume(_tS: number): number {
    return 0;
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
  motionFactor(_tS: number): number {
    return 1;
  }
  motionEvents(_t0S: number, _t1S: number): MotionEvent[] {
    return [];
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
