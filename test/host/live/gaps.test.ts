// Samples the device lost reach the page as gaps: nulls that break the
// traces (never zero-filled, never closed up) and a GAP warning.
import assert from 'node:assert/strict';
import { useSimPorts } from '../../support/sim-ports.ts';
import { type LiveSession, liveSession, until } from './helpers.ts';

describe('live view: gaps', function () {
  this.timeout(60_000);
  let session: LiveSession | undefined;
  const ports = useSimPorts();

  after(async () => {
    await session?.close();
  });

  it('shows blocks the device dropped as a break in every trace, and warns', async () => {
    const url = 'sim://sleep?seed=2&speed=4&faults=overrun@3:blocks=4';
    const { device } = ports.createPort(url);
    session = await liveSession(url, 10); // one point per output sample
    const { rig, frames } = session;
    await rig.start();

    // the 4 blocks lost from the device's ring are mostly detector blocks (the aux stream has 1 block in 10)
    const warned = await until('a GAP warning', () => frames.find((f) => f.warnings.some((w) => w.text.startsWith('GAP'))));
    assert.ok(warned.status.gaps >= 1);
    const last = await until('6 s of signals', () => frames.find((f) => (f.signals?.x.at(-1) ?? 0) > 6));
    const missingDetectorSamples = last.status.hostMissingSamples;
    assert.ok(missingDetectorSamples >= 250, `detector samples missing: ${missingDetectorSamples}`);

    // stitch what the page received: x strictly increasing at 100 Hz, nulls over the lost span in every channel
    const x: number[] = [];
    const y: (number | null)[][] = [];
    for (const f of frames) {
      if (!f.signals) continue;
      x.push(...f.signals.x);
      for (const [c, v] of f.signals.y.entries()) (y[c] ??= []).push(...v);
    }
    for (let i = 1; i < x.length; i++) assert.ok(Math.abs(x[i]! - x[i - 1]! - 0.01) < 1e-6, `x continuous at ${x[i]}`);
    const lostS = missingDetectorSamples / 10_000;
    // where the device lost them, from its ground truth (session time 0 is sample 0 of the run; the
    // overrun is scheduled in world time, which runs ahead of the session by a load-dependent amount)
    const lost = device.truth.lostRanges('detector');
    assert.ok(lost.length >= 1, 'the simulator lost detector blocks');
    const lostStartS = lost[0]!.first / 10_000;
    for (const [c, values] of y.entries()) {
      const nullAt = values.flatMap((v, i) => (v === null ? [x[i]!] : []));
      const afterStart = nullAt.filter((t) => t > 1); // the filters settle at the start
      assert.ok(afterStart.length >= lostS * 100, `channel ${c}: ${afterStart.length} null points`);
      console.log(`      channel ${c}: first null ${afterStart[0]} s, lost from ${lostStartS} s`);
      // an output sample is null once its filter window reaches the lost span (window < 0.2 s)
      assert.ok(afterStart[0]! > lostStartS - 0.2 && afterStart[0]! <= lostStartS + 0.01, `channel ${c}: the gap starts where the blocks were lost (${afterStart[0]} s, lost from ${lostStartS} s)`);
      assert.ok(!values.includes(0), 'never zero-filled');
    }
  });
});
