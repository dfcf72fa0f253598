// What both scenario models take from a scenario document: optics defaults and brightness in the
// world's fluorophore order, fluorophore spectra (defaults overridden field by field), the sleep
// model's parameters (defaults overridden field by field), aux content, the timeline, and the
// digital lines' edges.
import { FLUOROPHORE_SPECS, type FluorophoreSpec } from '../optics.ts';
import { DEFAULT_SLEEP_PARAMS, type SleepParams } from '../sleep-params.ts';
import { pulseTrainEdges, type ScenarioDefaults, sortEdges } from '../scenario.ts';
import type { ScenarioSpec, SleepParamsOverride } from '../scenario-file/spec.ts';
import { Timeline } from '../scenario-file/timeline.ts';
import { FLUOROPHORES, type ScenarioEdge } from '../types.ts';

export interface SpecParts {
  defaults: ScenarioDefaults;
  fluorophores: readonly FluorophoreSpec[];
  sleepParams: SleepParams;
  auxContent: 'eeg' | 'tones' | 'none';
  auxTones: ReadonlyArray<{ hz: number; amplitudeUv: number }>;
  timeline: Timeline;
}

/** The sleep parameters: defaults with the document's fields (nested objects merged field by field). */
export function sleepParamsOf(o: SleepParamsOverride | undefined): SleepParams {
  if (!o) return DEFAULT_SLEEP_PARAMS;
  const d = DEFAULT_SLEEP_PARAMS;
  return {
    ...d,
    ...(o as Partial<SleepParams>),
    levels: {
      wake: { ...d.levels.wake, ...o.levels?.wake },
      nrem: { ...d.levels.nrem, ...o.levels?.nrem },
      rem: { ...d.levels.rem, ...o.levels?.rem },
    },
    tauS: { ...d.tauS, ...o.tauS },
    hypnogram: { ...d.hypnogram, ...o.hypnogram },
    ma: { ...d.ma, ...o.ma },
    spindles: { ...d.spindles, ...o.spindles },
    motion: { ...d.motion, ...o.motion, ratePerS: { ...d.motion.ratePerS, ...o.motion?.ratePerS } },
  };
}

export function specPartsOf(spec: ScenarioSpec): SpecParts {
  const o = spec.optics;
  const overrides = spec.fluorophores ?? {};
  const fluorophores = FLUOROPHORE_SPECS.map((base) => {
    const over = overrides[base.id];
    return over ? { ...base, ...over, id: base.id } : base;
  });
  return {
    defaults: {
      ledModel: o.ledModel, bleaching: o.bleaching, motion: o.motion, haemodynamics: o.haemodynamics, temperatureDrift: o.temperatureDrift,
      brightness: FLUOROPHORES.map((f) => o.brightness[f]), ambientScale: o.ambientScale, noiseScale: o.noiseScale, gridS: o.gridS,
    },
    fluorophores,
    sleepParams: sleepParamsOf(spec.sleep),
    auxContent: spec.aux.content,
    auxTones: spec.aux.content === 'tones' ? spec.aux.tones : [],
    timeline: new Timeline(spec.timeline),
  };
}

/** Edges of the document's digital lines and timeline TTLs in [t0S, t1S), lines < lineCount, in time order. */
export function digitalEdgesOf(
  digital: ScenarioSpec['digital'], timeline: Timeline, t0S: number, t1S: number, lineCount: number,
  transitionTimes: (t0S: number, t1S: number) => number[],
): ScenarioEdge[] {
  const out: ScenarioEdge[] = [];
  for (const d of digital) {
    if (d.line >= lineCount) continue;
    if (d.kind === 'pulses') {
      pulseTrainEdges(d.line, d.firstS, d.periodS, d.widthS, t0S, t1S, out);
    } else {
      for (const tr of transitionTimes(t0S - d.widthS, t1S)) {
        if (tr >= t0S) out.push({ lineIndex: d.line, rising: true, tS: tr });
        const f = tr + d.widthS;
        if (f >= t0S && f < t1S) out.push({ lineIndex: d.line, rising: false, tS: f });
      }
    }
  }
  timeline.ttlEdges(t0S, t1S, lineCount, out);
  return sortEdges(out);
}
