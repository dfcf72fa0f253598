// Replugs a simulated device served on a pty while a Rig records from it: the
// pty disappears (socat exits, PATH is removed, the open port fails) and comes
// back at the same PATH after `awayMs`; the device keeps running meanwhile.
// Shared by the replug test (which asserts what happened) and the benchmark
// (which reports how long the Rig took to restart after PATH returned).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type AcquisitionItem, Rig, type RigGap, type RigOptions } from '../../host/rig/rig.ts';
import { serveSimOnPty } from '../../firmware-sim/transport/pty.ts';
import { lockinConfig } from '../host/acceptance/helpers.ts';

export interface ReplugResult {
  /** Per replug: ms from PATH existing again to the resumed run's Start being acked (its gap emitted). */
  latenciesMs: number[];
  resumeGaps: RigGap[];
  reconnects: number;
  items: AcquisitionItem[];
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function replugRun(options: { replugs: number; awayMs: number; seed?: number; rig?: RigOptions }): Promise<ReplugResult> {
  const path = join(tmpdir(), `fiberrig-replug-${process.pid}-${options.seed ?? 1}`);
  const server = await serveSimOnPty(path, { speed: 1, seed: options.seed ?? 1 });
  const items: AcquisitionItem[] = [];
  const gapAt: number[] = [];
  const resumeGaps: RigGap[] = [];
  let rig: Rig | undefined;
  try {
    rig = await Rig.connect(path, { heartbeatIntervalMs: 100, ...options.rig });
    rig.acquisition$.subscribe((i) => {
      items.push(i);
      if (i.kind === 'gap' && i.source === 'detector' && i.reason !== 'missing-blocks') {
        resumeGaps.push(i);
        gapAt.push(performance.now());
      }
    });
    await rig.configure(lockinConfig());
    await rig.start();
    const latenciesMs: number[] = [];
    for (let k = 0; k < options.replugs; k++) {
      const blocks = items.length;
      await until(() => items.length >= blocks + 20, 10_000, 'blocks before the replug');
      await server.unplug();
      await until(() => !rig!.linkHealth().connected, 10_000, 'the Rig to notice the port went away');
      await new Promise((r) => setTimeout(r, options.awayMs));
      await server.plug();
      const backAt = performance.now();
      await until(() => gapAt.length > k, 20_000, `the Rig to restart after replug ${k + 1}`);
      latenciesMs.push(gapAt[k]! - backAt);
    }
    await rig.stop();
    return { latenciesMs, resumeGaps, reconnects: rig.linkHealth().reconnects, items };
  } finally {
    await rig?.close();
    await server.close();
  }
}
