// analysis.json: the headline numbers of one analysis with their units in the field names, the
// settings used and the fiberrig version. Per-sample and per-epoch arrays go to the CSV tables;
// NaN (not computable) is written as null.
import { SLEEP_STATES, type SleepState } from '../sleep/score.ts';
import type { RecordingAnalysis } from './types.ts';
import { groupClock, groupSpan, groupTimeEntry } from './group-time.ts';

export const ANALYSIS_FORMAT = 'fiberrig-analysis';
export const ANALYSIS_FORMAT_VERSION = 1;

export interface SleepSummary {
  source: 'scored' | 'imported';
  epochS: number;
  startS: number;
  epochs: number;
  timeS: Record<SleepState, number>;
  timePct: Record<SleepState, number>;
  /** mean per-epoch confidence (0..1); null for imported hypnograms */
  meanConfidence: number | null;
  microArousals: number;
  /** micro-arousals per hour of NREM */
  microArousalsPerNremHour: number | null;
  microArousalMeanDurationS: number | null;
}

export function sleepSummary(a: RecordingAnalysis): SleepSummary | null {
  const s = a.sleep;
  if (!s) return null;
  const timeS = { wake: 0, nrem: 0, rem: 0 } as Record<SleepState, number>;
  for (const st of s.states) timeS[st] += s.epochS;
  const total = s.states.length * s.epochS;
  const timePct = Object.fromEntries(SLEEP_STATES.map((st) => [st, total > 0 ? (100 * timeS[st]) / total : Number.NaN])) as Record<SleepState, number>;
  const conf = Array.from(s.confidence).filter(Number.isFinite);
  const mas = s.microArousals;
  return {
    source: s.source, epochS: s.epochS, startS: s.startS, epochs: s.states.length, timeS, timePct,
    meanConfidence: conf.length ? conf.reduce((p, q) => p + q, 0) / conf.length : null,
    microArousals: mas.length,
    microArousalsPerNremHour: timeS.nrem > 0 ? mas.length / (timeS.nrem / 3600) : null,
    microArousalMeanDurationS: mas.length ? mas.reduce((p, m) => p + m.durationS, 0) / mas.length : null,
  };
}

/** The object written as analysis.json. */
export function analysisJson(a: RecordingAnalysis, files: readonly string[], analyzedAt = new Date()): Record<string, unknown> {
  const o = a.oscillation;
  const g = groupClock(a.groupTime);
  return {
    format: ANALYSIS_FORMAT,
    formatVersion: ANALYSIS_FORMAT_VERSION,
    fiberrigVersion: a.fiberrigVersion,
    analyzedAt: analyzedAt.toISOString(),
    recording: a.recording,
    inputSource: a.inputSource,
    settings: a.settings,
    durationS: a.durationS,
    analysisRateHz: a.analysisRateHz,
    ...(a.groupTime ? { groupTime: groupTimeEntry(a.groupTime) } : {}),
    traces: { t0S: a.traces.t0S, ...(g ? { groupT0S: g(a.traces.t0S) } : {}), rateHz: a.traces.rateHz, sensors: Object.keys(a.traces.dffPct), bloodVolume: a.traces.bloodVolumePct !== null },
    correction: a.correction,
    sleep: a.sleep && g ? { ...sleepSummary(a), groupStartS: g(a.sleep.startS) } : sleepSummary(a),
    microArousals: (a.sleep?.microArousals ?? []).map((m) => ({ startS: m.startS, endS: m.endS, ...groupSpan(g, m), durationS: m.durationS, emgRatio: m.emgRatio })),
    oscillation: o
      ? {
          settings: o.settings,
          summary: o.summary,
          bouts: g ? o.bouts.map((b) => ({ ...b, ...groupSpan(g, b) })) : o.bouts,
          psd: {
            nePeakFrequencyHz: psdPeakHz(o.nePsd),
            neAnalysedS: o.nePsd?.durationS ?? null,
            bloodVolumePeakFrequencyHz: psdPeakHz(o.bloodVolumePsd),
            byStateAnalysedS: Object.fromEntries(SLEEP_STATES.map((st) => [st, o.psdByState[st]?.durationS ?? null])),
          },
          extrema: { peaks: o.extrema.filter((x) => x.kind === 'peak').length, troughs: o.extrema.filter((x) => x.kind === 'trough').length },
          locked: o.locked
            ? { lagFromS: o.locked.lagS[0] ?? null, lagToS: o.locked.lagS[o.locked.lagS.length - 1] ?? null, traces: Object.fromEntries(Object.entries(o.locked.traces).map(([k, v]) => [k, { events: v.events, unit: v.unit }])) }
            : null,
        }
      : null,
    unavailable: a.unavailable,
    files,
  };
}

function psdPeakHz(p: { frequencyHz: Float64Array; powerPct2PerHz: Float64Array } | null): number | null {
  if (!p) return null;
  let best = -1;
  for (let i = 1; i < p.frequencyHz.length; i++) if (Number.isFinite(p.powerPct2PerHz[i]!) && (best < 0 || p.powerPct2PerHz[i]! > p.powerPct2PerHz[best]!)) best = i;
  return best > 0 ? p.frequencyHz[best]! : null;
}

/** JSON text with NaN and ±Infinity as null and typed arrays as arrays. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : null));
    return v;
  }, 2)}\n`;
}
