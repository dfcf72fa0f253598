// Hypnogram import (a CSV of epoch states scored elsewhere, e.g. by hand) and agreement between
// two hypnograms (Cohen's κ). Accepted format: see README.md ("Hypnogram CSV").
import { SleepError } from './errors.ts';
import { SLEEP_STATES, type SleepState } from './score.ts';

export interface Hypnogram {
  epochS: number;
  /** Start of epoch 0, s. */
  startS: number;
  states: SleepState[];
}

export interface HypnogramParseOptions {
  /** Epoch length, s, for files with no time column (required for them; checked against a time column if given). */
  epochS?: number;
  /** Extra state labels (case-insensitive), e.g. { '1': 'wake', '2': 'nrem', '3': 'rem' } for numeric codes. */
  stateLabels?: Readonly<Record<string, SleepState>>;
}

/** Labels understood without options (case-insensitive). */
export const HYPNOGRAM_STATE_LABELS: Readonly<Record<string, SleepState>> = {
  wake: 'wake', w: 'wake', awake: 'wake',
  nrem: 'nrem', nr: 'nrem', n: 'nrem', sws: 'nrem', 'non-rem': 'nrem',
  rem: 'rem', r: 'rem', ps: 'rem',
};

const TIME_COLUMNS = ['start_s', 'time_s', 'onset_s'];

function fail(line: number, message: string, fix: string): never {
  throw new SleepError('E_HYPNOGRAM_FORMAT', `hypnogram line ${line}: ${message}; ${fix}`, line);
}

/**
 * Parses a hypnogram CSV. Lines: an optional header naming a `state` column and optionally a
 * time column (`start_s`, `time_s` or `onset_s`: epoch start in seconds); then one epoch per line.
 * Without a header the file is either one column of states (then `epochS` is required) or two
 * columns `start_s,state`. Separators: comma, semicolon or tab. Blank lines and lines starting with
 * `#` are ignored. Epochs must be contiguous: equal steps of `epochS` (inferred from the first two
 * times when not given). Throws SleepError E_HYPNOGRAM_FORMAT naming the line at fault.
 */
export function parseHypnogramCsv(text: string, options: HypnogramParseOptions = {}): Hypnogram {
  const labels: Record<string, SleepState> = { ...HYPNOGRAM_STATE_LABELS };
  for (const [k, v] of Object.entries(options.stateLabels ?? {})) {
    if (!SLEEP_STATES.includes(v)) throw new SleepError('E_SLEEP_BAD_OPTION', `stateLabels maps "${k}" to "${v}"; map labels to wake, nrem or rem`);
    labels[k.trim().toLowerCase()] = v;
  }
  if (options.epochS !== undefined && !(options.epochS > 0 && Number.isFinite(options.epochS))) {
    throw new SleepError('E_SLEEP_BAD_OPTION', `epochS is ${options.epochS}; give the epoch length in seconds (> 0)`);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let stateCol = -1;
  let timeCol = -1;
  let layoutKnown = false;
  const states: SleepState[] = [];
  const times: number[] = [];
  let epochS = options.epochS;
  let sep: RegExp | null = null;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    sep ??= raw.includes('\t') ? /\t/ : raw.includes(';') ? /;/ : /,/;
    const cells = raw.split(sep).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (!layoutKnown) {
      layoutKnown = true;
      const lower = cells.map((c) => c.toLowerCase());
      if (lower.includes('state')) {
        stateCol = lower.indexOf('state');
        timeCol = lower.findIndex((c) => TIME_COLUMNS.includes(c));
        continue;
      }
      if (cells.length === 1) { stateCol = 0; timeCol = -1; } else if (cells.length === 2) { timeCol = 0; stateCol = 1; } else {
        fail(lineNo, `${cells.length} columns and no header`, `add a header naming the "state" column (and "start_s" for epoch times)`);
      }
    }
    const label = cells[stateCol];
    if (label === undefined || label === '') fail(lineNo, 'no state', 'give one state per epoch line');
    const state = labels[label.toLowerCase()];
    if (!state) {
      fail(lineNo, `unknown state "${label}"`, `use wake/nrem/rem (or W/NR/R), or pass stateLabels for your lab's codes`);
    }
    if (timeCol >= 0) {
      const cell = cells[timeCol] ?? '';
      const t = Number(cell);
      if (cell === '' || !Number.isFinite(t)) fail(lineNo, `epoch start "${cell}" is not a number of seconds`, 'write the epoch start in seconds');
      const k = times.length;
      if (k === 1 && epochS === undefined) {
        epochS = t - times[0]!;
        if (!(epochS > 0)) fail(lineNo, `epoch start ${t} s does not follow ${times[0]} s`, 'list epochs in time order');
      }
      if (k >= 1) {
        const want = times[0]! + k * epochS!;
        if (Math.abs(t - want) > 1e-6 * Math.max(1, Math.abs(want)) + 1e-9) {
          fail(lineNo, `epoch starts at ${t} s, expected ${want} s (contiguous epochs of ${epochS} s)`, 'give every epoch, in order, with no gaps (score gaps as the state they were)');
        }
      }
      times.push(t);
    }
    states.push(state);
  }
  if (states.length === 0) throw new SleepError('E_HYPNOGRAM_FORMAT', 'hypnogram has no epochs; give one line per epoch');
  if (epochS === undefined) {
    throw new SleepError('E_HYPNOGRAM_FORMAT', timeCol >= 0 ? 'hypnogram has a single epoch and no epochS; pass epochS' : 'hypnogram has no time column; pass epochS (the epoch length in seconds)');
  }
  return { epochS, startS: times[0] ?? 0, states };
}

/** Cohen's κ between two equally long state sequences (e.g. a scoring and a reference hypnogram). */
export function cohenKappa(a: readonly SleepState[], b: readonly SleepState[]): number {
  if (a.length !== b.length || a.length === 0) {
    throw new SleepError('E_SLEEP_BAD_INPUT', `κ needs two non-empty hypnograms of equal length (got ${a.length} and ${b.length}); align them to the same epochs first`);
  }
  const n = a.length;
  const k = SLEEP_STATES.length;
  const m = new Float64Array(k * k);
  for (let i = 0; i < n; i++) m[SLEEP_STATES.indexOf(a[i]!) * k + SLEEP_STATES.indexOf(b[i]!)]!++;
  let po = 0;
  let pe = 0;
  for (let i = 0; i < k; i++) {
    po += m[i * k + i]! / n;
    let row = 0;
    let col = 0;
    for (let j = 0; j < k; j++) { row += m[i * k + j]!; col += m[j * k + i]!; }
    pe += (row / n) * (col / n);
  }
  return pe === 1 ? 1 : (po - pe) / (1 - pe);
}

/** Event detection agreement: a detection matches a true event when their onsets differ by <= toleranceS (one-to-one, nearest first). */
export function matchEvents(
  truth: ReadonlyArray<{ startS: number }>, detected: ReadonlyArray<{ startS: number }>, toleranceS: number,
): { truePositives: number; precision: number; recall: number; f1: number; onsetErrorsS: number[] } {
  const pairs: Array<[number, number, number]> = [];
  for (let i = 0; i < truth.length; i++) {
    for (let j = 0; j < detected.length; j++) {
      const e = Math.abs(detected[j]!.startS - truth[i]!.startS);
      if (e <= toleranceS) pairs.push([e, i, j]);
    }
  }
  pairs.sort((x, y) => x[0] - y[0]);
  const ti = new Set<number>();
  const dj = new Set<number>();
  const onsetErrorsS: number[] = [];
  for (const [, i, j] of pairs) {
    if (ti.has(i) || dj.has(j)) continue;
    ti.add(i); dj.add(j);
    onsetErrorsS.push(detected[j]!.startS - truth[i]!.startS);
  }
  const tp = onsetErrorsS.length;
  const precision = detected.length ? tp / detected.length : truth.length ? 0 : 1;
  const recall = truth.length ? tp / truth.length : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { truePositives: tp, precision, recall, f1, onsetErrorsS };
}

/** A hypnogram as CSV in the accepted format (`start_s,state`, one epoch per line). */
export function formatHypnogramCsv(h: Hypnogram): string {
  const lines = ['start_s,state'];
  h.states.forEach((s, e) => {
    lines.push(`${+(h.startS + e * h.epochS).toFixed(6)},${s}`);
  });
  return `${lines.join('\n')}\n`;
}
