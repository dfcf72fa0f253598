// Durations on the command line: "90s", "10m", "1.5h", "500ms", or plain seconds.
import { FiberrigError } from '../../protocol/index.ts';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Durations fiberrig records: at least 1 ms (shorter rounds to nothing), at most 30 days (a 400-digit number is Infinity). */
export const DURATION_RANGE_S = Object.freeze({ min: 0.001, max: 30 * 24 * 3600 });

export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new FiberrigError('E_DURATION', `cannot read the duration "${text}"`, 'write e.g. 90s, 10m, 1.5h or 500ms');
  const seconds = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (!(seconds > 0)) throw new FiberrigError('E_DURATION', `duration "${text}" is not positive`, 'give a duration above zero');
  if (seconds < DURATION_RANGE_S.min) throw new FiberrigError('E_DURATION', `duration "${text}" is shorter than 1 ms`, 'give at least 1ms (e.g. 500ms, 90s)');
  if (!(seconds <= DURATION_RANGE_S.max)) {
    throw new FiberrigError('E_DURATION', `duration "${text}" is longer than 30 days (720h), the longest fiberrig records`, 'give at most 720h; record longer sessions as several recordings');
  }
  return seconds;
}

/** Refuses a duration too short to give one output row (1 / outputRateHz): nothing would be recorded. */
export function checkDurationForRates(durationS: number, text: string, outputRateHz: number): void {
  const rowS = 1 / outputRateHz;
  if (durationS < rowS) {
    const min = `${Number((rowS * 1000).toPrecision(6))}ms`;
    throw new FiberrigError('E_DURATION', `duration "${text}" is shorter than one output row (${min} at outputRateHz ${outputRateHz}): nothing would be recorded`, `give at least ${min}`);
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s - h * 3600 - m * 60;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${String(m).padStart(h > 0 ? 2 : 1, '0')}m` : ''}${rest.toFixed(1).padStart(h > 0 || m > 0 ? 4 : 1, '0')}s`;
}
