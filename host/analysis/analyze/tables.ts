// The CSV tables of `fiberrig analyze`: epochs, bouts, events, PSDs, micro-arousal-locked
// averages and (optionally) the corrected traces. Column names carry their units; NaN is written
// as "NaN"; a table with no rows still has its header.
import type { Psd } from '../oscillation/types.ts';
import type { RecordingAnalysis } from './types.ts';
import { groupClock } from './group-time.ts';

const num = (v: number, digits = 6): string => (Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : 'NaN');
const time = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'NaN');

function csv(header: readonly string[], rows: Iterable<readonly string[]>): string {
  const out = [header.join(',')];
  for (const r of rows) out.push(r.join(','));
  return `${out.join('\n')}\n`;
}

/** Column-safe name: lower case, [a-z0-9_] (e.g. "470nm@det0" → "470nm_det0"). */
export const columnName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');

/** epochs.csv: one row per epoch of the hypnogram. */
export function epochsCsv(a: RecordingAnalysis): string {
  const header = ['start_s', 'state', 'confidence', 'delta_v2', 'theta_v2', 'sigma_v2', 'beta_v2', 'emg_rms_v'];
  const s = a.sleep;
  if (!s) return csv(header, []);
  const f = s.features;
  const at = (x: Float64Array | undefined, e: number): string => num(x?.[e] ?? Number.NaN);
  return csv(header, s.states.map((state, e) => [
    time(s.startS + e * s.epochS), state, num(s.confidence[e] ?? Number.NaN, 4),
    at(f?.deltaV2, e), at(f?.thetaV2, e), at(f?.sigmaV2, e), at(f?.betaV2, e), at(f?.emgRmsV, e),
  ]));
}

/** bouts.csv: one row per analysed NREM bout. */
export function boutsCsv(a: RecordingAnalysis): string {
  const header = ['start_s', 'end_s', 'duration_s', 'micro_arousals', 'peak_frequency_hz', 'band_power_pct2', 'cycle_amplitude_pct', 'cycles', 'ne_blood_volume_peak_r', 'ne_blood_volume_lag_s'];
  return csv(header, (a.oscillation?.bouts ?? []).map((b) => [
    time(b.startS), time(b.endS), time(b.durationS), String(b.microArousals), num(b.peakFrequencyHz), num(b.bandPowerPct2), num(b.cycleAmplitudePct),
    String(b.cycles), num(b.crossCorrelation?.peakR ?? Number.NaN, 4), num(b.crossCorrelation?.lagS ?? Number.NaN, 4),
  ]));
}

/** events.csv: micro-arousals and NE peaks/troughs, by time. */
export function eventsCsv(a: RecordingAnalysis): string {
  // aligned with its group (alignment.json): the same start and end on the group's axis, last
  const g = groupClock(a.groupTime);
  const header = ['kind', 'start_s', 'end_s', 'duration_s', 'value_pct', ...(g ? ['group_start_s', 'group_end_s'] : [])];
  const rows: Array<{ t: number; r: string[] }> = [];
  const group = (startS: number, endS: number): string[] => (g ? [g(startS).toFixed(6), g(endS).toFixed(6)] : []);
  for (const m of a.sleep?.microArousals ?? []) rows.push({ t: m.startS, r: ['micro-arousal', time(m.startS), time(m.endS), time(m.durationS), 'NaN', ...group(m.startS, m.endS)] });
  for (const x of a.oscillation?.extrema ?? []) rows.push({ t: x.tS, r: [`ne-${x.kind}`, time(x.tS), time(x.tS), '0.000', num(x.valuePct), ...group(x.tS, x.tS)] });
  rows.sort((p, q) => p.t - q.t);
  return csv(header, rows.map((x) => x.r));
}

/** The PSDs of an analysis, named for their columns: NE per state, NE and blood volume over NREM bouts. */
export function namedPsds(a: RecordingAnalysis): Array<{ name: string; label: string; psd: Psd }> {
  const o = a.oscillation;
  if (!o) return [];
  const out: Array<{ name: string; label: string; psd: Psd }> = [];
  for (const state of ['wake', 'nrem', 'rem'] as const) {
    const p = o.psdByState[state];
    if (p) out.push({ name: `ne_${state}`, label: `NE, ${state === 'nrem' ? 'NREM' : state === 'rem' ? 'REM' : 'wake'}`, psd: p });
  }
  if (o.nePsd) out.push({ name: 'ne_nrem_bouts', label: 'NE, NREM bouts', psd: o.nePsd });
  if (o.bloodVolumePsd) out.push({ name: 'blood_volume_nrem_bouts', label: 'blood volume, NREM bouts', psd: o.bloodVolumePsd });
  return out;
}

/**
 * psd.csv: frequency and one power column (%²/Hz) per PSD when they share a frequency grid (the
 * usual case: one Welch setting); otherwise long format (spectrum, frequency, power).
 */
export function psdCsv(a: RecordingAnalysis): string {
  const psds = namedPsds(a);
  if (psds.length === 0) return csv(['frequency_hz'], []);
  const grid = psds[0]!.psd.frequencyHz;
  const shared = psds.every(({ psd }) => psd.frequencyHz.length === grid.length && psd.frequencyHz.every((f, i) => Math.abs(f - grid[i]!) < 1e-12));
  if (shared) {
    return csv(['frequency_hz', ...psds.map((p) => `${p.name}_pct2_per_hz`)], Array.from(grid, (f, i) => [num(f, 8), ...psds.map((p) => num(p.psd.powerPct2PerHz[i]!))]));
  }
  const rows: string[][] = [];
  for (const p of psds) p.psd.frequencyHz.forEach((f, i) => { rows.push([p.name, num(f, 8), num(p.psd.powerPct2PerHz[i]!)]); });
  return csv(['spectrum', 'frequency_hz', 'power_pct2_per_hz'], rows);
}

/** locked.csv: lag and, per trace, the micro-arousal-locked mean and SEM (units in analysis.json). */
export function lockedCsv(a: RecordingAnalysis): string {
  const l = a.oscillation?.locked;
  if (!l) return csv(['lag_s'], []);
  const names = Object.keys(l.traces);
  const header = ['lag_s', ...names.flatMap((n) => [`${columnName(n)}_mean`, `${columnName(n)}_sem`])];
  return csv(header, Array.from(l.lagS, (lag, i) => [num(lag), ...names.flatMap((n) => [num(l.traces[n]!.mean[i]!), num(l.traces[n]!.sem[i]!)])]));
}

/** traces.csv: session time, ΔF/F per sensor, blood volume and the epoch's state, at the analysis rate. */
export function* tracesCsvChunks(a: RecordingAnalysis, rowsPerChunk = 10_000): Generator<string> {
  const tr = a.traces;
  const sensors = Object.keys(tr.dffPct);
  const header = ['time_s', ...sensors.map((s) => `${columnName(s)}_dff_pct`), ...(tr.bloodVolumePct ? ['blood_volume_pct'] : []), ...(a.sleep ? ['state'] : [])];
  yield `${header.join(',')}\n`;
  const n = sensors.length ? tr.dffPct[sensors[0]!]!.length : tr.bloodVolumePct?.length ?? 0;
  const s = a.sleep;
  let chunk: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = tr.t0S + i / tr.rateHz;
    const row = [time(t), ...sensors.map((k) => num(tr.dffPct[k]![i]!, 5)), ...(tr.bloodVolumePct ? [num(tr.bloodVolumePct[i]!, 5)] : [])];
    if (s) {
      const e = Math.floor((t - s.startS) / s.epochS);
      row.push(e >= 0 && e < s.states.length ? s.states[e]! : '');
    }
    chunk.push(row.join(','));
    if (chunk.length >= rowsPerChunk) { yield `${chunk.join('\n')}\n`; chunk = []; }
  }
  if (chunk.length) yield `${chunk.join('\n')}\n`;
}
