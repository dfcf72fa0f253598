// The self-test report: one line per check, each PASS / WARN / FAIL / N/A.

export type Outcome = 'PASS' | 'WARN' | 'FAIL' | 'N/A';

export interface SelfTestLine {
  /** Stable machine name, e.g. "led.1", "detector.0.noise", "sample_rate". */
  id: string;
  /** What a rig builder reads, e.g. "LED 1 (470 nm) responds". */
  title: string;
  outcome: Outcome;
  detail: string;
  /** The headline number of the check, in `unit`. */
  value?: number;
  unit?: string;
}

export interface SelfTestReport {
  device: string;
  firmware: string | undefined;
  board: string | undefined;
  serialNumber: string | undefined;
  lines: SelfTestLine[];
  /** Worst outcome of the lines (N/A counts as PASS); FAIL means the rig is not ready. */
  outcome: Exclude<Outcome, 'N/A'>;
  durationMs: number;
}

const RANK: Record<Outcome, number> = { 'N/A': 0, PASS: 0, WARN: 1, FAIL: 2 };

/** The worst outcome of `lines`, N/A counting as PASS. */
export function overallOutcome(lines: readonly SelfTestLine[]): Exclude<Outcome, 'N/A'> {
  let worst = 0;
  for (const l of lines) worst = Math.max(worst, RANK[l.outcome]);
  return worst === 2 ? 'FAIL' : worst === 1 ? 'WARN' : 'PASS';
}
