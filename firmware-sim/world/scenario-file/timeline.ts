// A scenario's timeline as pure functions of world time: the level added to each fluorophore's
// signal (steps, ramps), the NE oscillation factor of drugs (first-order wash-in), motion dips,
// blood-volume changes and TTL pulses, and the truth events they are. Each `has*` flag is false
// when the timeline has no event of that kind, so the scenario skips the term and a document
// without a timeline renders exactly as the model alone.
import { type ScenarioEdge, FLUOROPHORES, type FluorophoreId, type MotionEvent, type WorldEvent } from '../types.ts';
import type { TimelineEvent } from './spec.ts';

type Of<K extends TimelineEvent['kind']> = Extract<TimelineEvent, { kind: K }>;

function byTime<T extends { atS: number }>(events: readonly T[]): T[] {
  return [...events].sort((a, b) => a.atS - b.atS);
}

export class Timeline {
  private levels: Array<Array<Of<'step'> | Of<'ramp'>>> = [];
  private drugs: Array<Of<'drug'>> = [];
  private motions: Array<Of<'motion'>> = [];
  private volumes: Array<Of<'bloodVolume'>> = [];
  private ttls: Array<Of<'ttl'>> = [];
  private arousals: Array<Of<'microArousal'>> = [];
  private all: readonly TimelineEvent[] = [];
  /** Per fluorophore (FLUOROPHORES order): 1 if steps or ramps change its signal. */
  readonly hasLevel = new Uint8Array(FLUOROPHORES.length);
  hasDrug = false;
  hasMotion = false;
  hasBloodVolume = false;
  hasArousal = false;
  /** Any event at all. */
  hasAny = false;

  constructor(events: readonly TimelineEvent[]) {
    this.index(events);
  }

  /** Adds an event during a run (a test injecting it now); values before its atS do not change. */
  add(event: TimelineEvent): void {
    this.index([...this.all, event]);
  }

  private index(events: readonly TimelineEvent[]): void {
    this.all = byTime(events);
    const sorted = this.all;
    this.levels = FLUOROPHORES.map((f) => sorted.filter((e): e is Of<'step'> | Of<'ramp'> => (e.kind === 'step' || e.kind === 'ramp') && e.fluorophore === f));
    this.drugs = sorted.filter((e): e is Of<'drug'> => e.kind === 'drug');
    this.motions = sorted.filter((e): e is Of<'motion'> => e.kind === 'motion');
    this.volumes = sorted.filter((e): e is Of<'bloodVolume'> => e.kind === 'bloodVolume');
    this.ttls = sorted.filter((e): e is Of<'ttl'> => e.kind === 'ttl');
    this.arousals = sorted.filter((e): e is Of<'microArousal'> => e.kind === 'microArousal');
    this.levels.forEach((l, f) => { this.hasLevel[f] = l.length > 0 ? 1 : 0; });
    this.hasDrug = this.drugs.length > 0;
    this.hasMotion = this.motions.length > 0;
    this.hasBloodVolume = this.volumes.length > 0;
    this.hasArousal = this.arousals.length > 0;
    this.hasAny = sorted.length > 0;
  }

  /** The level steps and ramps add to fluorophore f's signal at t (0 before the first). */
  level(f: number, tS: number): number {
    let v = 0;
    for (const e of this.levels[f]!) {
      if (tS < e.atS) break;
      if (e.kind === 'step') v = e.level;
      else v = tS >= e.atS + e.durationS ? e.to : v + ((e.to - v) * (tS - e.atS)) / e.durationS;
    }
    return v;
  }

  /** The factor drugs apply to the NE oscillation at t: 1 before the first, then first order towards each drug's scale. */
  drugFactor(tS: number): number {
    let s = 1;
    for (let i = 0; i < this.drugs.length; i++) {
      const e = this.drugs[i]!;
      if (tS < e.atS) break;
      const next = this.drugs[i + 1];
      const until = next && tS >= next.atS ? next.atS : tS;
      s = e.washInS > 0 ? e.neAmplitudeScale + (s - e.neAmplitudeScale) * Math.exp(-(until - e.atS) / e.washInS) : e.neAmplitudeScale;
    }
    return s;
  }

  /** Fractional dip of collected tissue light at t from timeline motion (sin² over each event). */
  motionDip(tS: number): number {
    let s = 0;
    for (const e of this.motions) {
      if (e.atS >= tS) break;
      const u = (tS - e.atS) / e.durationS;
      if (u >= 1) continue;
      const b = Math.sin(Math.PI * u);
      s += e.depth * b * b;
    }
    return s;
  }

  motionEvents(t0S: number, t1S: number): MotionEvent[] {
    return this.motions.filter((e) => e.atS < t1S && e.atS + e.durationS > t0S).map((e) => ({ startS: e.atS, durationS: e.durationS, depth: e.depth }));
  }

  /** Blood-volume change at t: raised-cosine up over riseS, held, raised-cosine down over riseS (within durationS). */
  bloodVolumeChange(tS: number): number {
    let s = 0;
    for (const e of this.volumes) {
      if (e.atS >= tS) break;
      const u = tS - e.atS;
      if (u >= e.durationS) continue;
      const rise = Math.min(e.riseS, e.durationS / 2);
      const edge = Math.min(u, e.durationS - u);
      s += e.change * (rise > 0 && edge < rise ? (1 - Math.cos((Math.PI * edge) / rise)) / 2 : 1);
    }
    return s;
  }

  /** True while an added micro-arousal holds the animal awake. */
  aroused(tS: number): boolean {
    return this.arousals.some((e) => tS >= e.atS && tS < e.atS + e.durationS);
  }

  /** 0..1: how far into an added micro-arousal t is, raised-cosine edges of `edgeS` (as the model's own). */
  arousalWindow(tS: number, edgeS: number): number {
    let w = 0;
    for (const e of this.arousals) {
      const s = e.atS;
      const end = e.atS + e.durationS;
      if (tS < s - edgeS || tS >= end + edgeS) continue;
      const x = Math.min(Math.max((tS - (s - edgeS)) / (2 * edgeS), 0), 1, Math.max((end + edgeS - tS) / (2 * edgeS), 0));
      w = Math.max(w, 0.5 - 0.5 * Math.cos(Math.PI * x));
    }
    return w;
  }

  /** Sum of unit Gaussians (sigma `sigmaS`) at the added micro-arousals' NE peaks, at t. */
  arousalPeaks(tS: number, sigmaS: number): number {
    let s = 0;
    for (const e of this.arousals) {
      const d = tS - (e.atS + e.nePeakAfterS);
      if (Math.abs(d) < 4 * sigmaS) s += Math.exp((-0.5 * d * d) / (sigmaS * sigmaS));
    }
    return s;
  }

  /** TTL edges on lines < lineCount in [t0S, t1S), appended to out. */
  ttlEdges(t0S: number, t1S: number, lineCount: number, out: ScenarioEdge[]): void {
    for (const e of this.ttls) {
      if (e.line >= lineCount) continue;
      if (e.atS >= t0S && e.atS < t1S) out.push({ lineIndex: e.line, rising: true, tS: e.atS });
      const f = e.atS + e.widthS;
      if (f >= t0S && f < t1S) out.push({ lineIndex: e.line, rising: false, tS: f });
    }
  }

  /** The timeline's events in [t0S, t1S) as truth events. */
  events(t0S: number, t1S: number): WorldEvent[] {
    const out: WorldEvent[] = [];
    for (const e of this.all) {
      if (e.atS < t0S || e.atS >= t1S) continue;
      switch (e.kind) {
        case 'step': out.push({ kind: 'step', tS: e.atS, fluorophore: e.fluorophore as FluorophoreId, level: e.level }); break;
        case 'ramp': out.push({ kind: 'ramp', tS: e.atS, durationS: e.durationS, fluorophore: e.fluorophore as FluorophoreId, to: e.to }); break;
        case 'drug': out.push({ kind: 'drug', tS: e.atS, name: e.name, neAmplitudeScale: e.neAmplitudeScale, washInS: e.washInS }); break;
        case 'motion': out.push({ kind: 'motion', tS: e.atS, durationS: e.durationS, depth: e.depth }); break;
        case 'bloodVolume': out.push({ kind: 'bloodVolume', tS: e.atS, durationS: e.durationS, riseS: e.riseS, change: e.change }); break;
        case 'ttl': out.push({ kind: 'ttl', tS: e.atS, line: e.line, widthS: e.widthS }); break;
        case 'microArousal': out.push({ kind: 'microArousal', tS: e.atS, endS: e.atS + e.durationS, durationS: e.durationS, nePeakS: e.atS + e.nePeakAfterS }); break;
      }
    }
    return out;
  }
}
