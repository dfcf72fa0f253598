// Reconnect latency after a pty replug (issue 14, point 5): the simulated
// device is served on a pty at speed 1; the pty disappears for 2 s and comes
// back at the same path, 5 times; the figure is the median time from the path
// existing again to the resumed run's Start being acked (its gap emitted).
// For comparison, the same with the earlier schedule (back-off doubling from
// 100 ms to 5 s). Needs socat.
import { execFileSync } from 'node:child_process';
import { replugRun } from '../support/pty-replug.ts';
import type { Emit } from './run.ts';

const REPLUGS = 5;
const AWAY_MS = 2000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function run(emit: Emit): Promise<void> {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
  } catch {
    process.stderr.write('bench reconnect: socat not installed, skipped\n');
    return;
  }
  const cases = [
    { name: 'reconnect.pty_replug.median', rig: {} },
    { name: 'reconnect.pty_replug.median.old_backoff_5s', rig: { reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 5000 } },
  ];
  for (const c of cases) {
    const r = await replugRun({ replugs: REPLUGS, awayMs: AWAY_MS, seed: 21, rig: c.rig });
    emit({ name: c.name, value: Math.round(median(r.latenciesMs)), unit: 'ms', replugs: REPLUGS, awayMs: AWAY_MS, each: r.latenciesMs.map((x) => Math.round(x)) });
  }
}
