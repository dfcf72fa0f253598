// Issue 14, points 5, 6 and 8: where a resumed run lands on the session
// timeline (against the simulator's world clock), how often the Rig polls for a
// port that went away, and what a device error during the re-handshake after a
// reset does.
//
// Ground truth: the world time of every detector block the device renders
// (recorded by wrapping the linear world's renderDetectors). World time runs on across disconnects and device resets, and
// at 0 ppm one sample period is 1 / fs of it, so the true session index of the
// new run's sample 0 is (world time of the new run's first block − world time
// of the first run's first block) × fs. A run's blocks are contiguous in world
// time; the new run starts where they jump.
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../protocol/index.ts';
import { DeviceError } from '../../../host/link/errors.ts';
import { RigError } from '../../../host/rig/errors.ts';
import { type AcquisitionItem, Rig, type RigBlock, type RigGap, type RigOptions } from '../../../host/rig/rig.ts';
import { openTransport } from '../../../host/transport/open.ts';
import { issue } from '../../../firmware-sim/device/issue.ts';
import type { SimPortHandle, SimPorts } from '../../../firmware-sim/transport/sim-ports.ts';
import type { DetectorRenderRequest } from '../../../firmware-sim/world/world.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { lockinConfig } from './helpers.ts';

const FS = 10_000;
/** 2 ms at 10 kS/s. */
const TWO_MS_SAMPLES = 20;

interface Resumed {
  items: AcquisitionItem[];
  gap: RigGap;
  /** Session index of the new run's sample 0, as placed by the host. */
  placedOffset: number;
  trueOffset: number;
  error: unknown;
  rig: Rig;
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Rendered = Array<{ t0S: number; dtS: number; count: number }>;

function recordRenders(handle: SimPortHandle): Rendered {
  const rendered: Rendered = [];
  const world = handle.device.world as { renderDetectors(r: DetectorRenderRequest): void };
  const render = world.renderDetectors.bind(world);
  world.renderDetectors = (r) => {
    render(r);
    rendered.push({ t0S: r.t0S, dtS: r.dtS, count: r.count });
  };
  return rendered;
}

function trueNewRunOffset(blocks: Rendered): number {
  const first = blocks[0]!;
  for (let k = 1; k < blocks.length; k++) {
    const p = blocks[k - 1]!;
    if (Math.abs(blocks[k]!.t0S - (p.t0S + p.count * p.dtS)) > p.dtS / 2) return Math.round((blocks[k]!.t0S - first.t0S) * FS);
  }
  throw new Error('the render log holds one run only');
}

async function resumeOnce(ports: SimPorts, url: string, options: RigOptions = {}, patch?: (h: SimPortHandle) => void): Promise<Resumed> {
  const handle = ports.createPort(url);
  const rig = await Rig.connect(url, { heartbeatIntervalMs: 50, ...options });
  patch?.(handle);
  const rendered = recordRenders(handle);
  const items: AcquisitionItem[] = [];
  let error: unknown;
  rig.acquisition$.subscribe({ next: (i) => items.push(i), error: (e: unknown) => { error = e; } });
  const newRunBlocks = (): RigBlock[] => items.filter((i): i is RigBlock => i.kind === 'block' && i.source === 'detector' && i.segment === 1);
  try {
    await rig.configure(lockinConfig());
    await rig.start();
    await waitFor(() => newRunBlocks().length >= 10 || error !== undefined, 40_000, 'blocks of the resumed run');
    if (error !== undefined) return { items, gap: undefined as never, placedOffset: Number.NaN, trueOffset: Number.NaN, error, rig };
    await rig.stop();
    const first = newRunBlocks()[0]!;
    const gap = items.find((i): i is RigGap => i.kind === 'gap' && i.source === 'detector' && i.segment === 1 && i.reason !== 'missing-blocks')!;
    return { items, gap, placedOffset: first.sessionIndex - first.deviceIndex, trueOffset: trueNewRunOffset(rendered), error, rig };
  } finally {
    await rig.close();
    handle.pacer.stop();
  }
}

function describeResult(r: Resumed): string {
  return `placed ${r.placedOffset}, true ${r.trueOffset} (error ${r.placedOffset - r.trueOffset} samples), stated ±${r.gap.uncertaintySamples} (${r.gap.placement}), gap ${r.gap.count}`;
}

describe('acceptance: a resumed run placed on the session timeline vs the world clock (linear, 10 kS/s)', function () {
  this.timeout(90_000);
  const ports = useSimPorts();

  // The reset instant is estimated from host time (the round trip of the re-handshake), so its
  // accuracy follows how promptly this machine schedules the host: every run must be honest
  // (within its stated uncertainty); the 2 ms figure must be reached in at least one of three
  // runs (a loaded machine widens both the error and the stated uncertainty of the others).
  it('reset@1.5 at speed=1: every run lands within its stated uncertainty; the best of three within 2 ms (20 samples) of ground truth, stated ≤ 2 ms', async () => {
    const runs: Resumed[] = [];
    for (let k = 0; k < 3; k++) {
      const r = await resumeOnce(ports, `sim://linear?seed=${1 + k}&speed=1&faults=reset@1.5`);
      console.log(`      ${describeResult(r)}`);
      assert.equal(r.gap.reason, 'device-reset');
      assert.equal(r.gap.placement, 'reset-clock');
      assert.ok(Math.abs(r.placedOffset - r.trueOffset) <= r.gap.uncertaintySamples, describeResult(r));
      runs.push(r);
      if (Math.abs(r.placedOffset - r.trueOffset) <= TWO_MS_SAMPLES && r.gap.uncertaintySamples <= TWO_MS_SAMPLES) break;
    }
    const best = runs.reduce((a, b) => (Math.abs(b.placedOffset - b.trueOffset) < Math.abs(a.placedOffset - a.trueOffset) ? b : a));
    assert.ok(Math.abs(best.placedOffset - best.trueOffset) <= TWO_MS_SAMPLES, runs.map(describeResult).join('; '));
    assert.ok(runs.some((r) => r.gap.uncertaintySamples <= TWO_MS_SAMPLES), `stated uncertainty within 2 ms in some run: ${runs.map(describeResult).join('; ')}`);
  });

  it('reset@10 at speed=max (device time does not follow the host): the stated uncertainty covers the true error', async () => {
    const r = await resumeOnce(ports, 'sim://linear?seed=2&speed=max&faults=reset@10');
    console.log(`      ${describeResult(r)}`);
    assert.equal(r.gap.placement, 'reset-clock');
    assert.ok(Math.abs(r.placedOffset - r.trueOffset) <= r.gap.uncertaintySamples, describeResult(r));
  });

  for (const speed of ['1', 'max']) {
    it(`disconnect@1:for=0.6 at speed=${speed}: device-timed, the new run lands within 1 sample of ground truth`, async () => {
      const r = await resumeOnce(ports, `sim://linear?seed=3&speed=${speed}&faults=disconnect@1:for=0.6`);
      console.log(`      ${describeResult(r)}`);
      assert.equal(r.gap.reason, 'reconnect');
      assert.equal(r.gap.placement, 'device-time');
      assert.equal(r.gap.uncertaintySamples, 1);
      assert.ok(Math.abs(r.placedOffset - r.trueOffset) <= 1, describeResult(r));
    });
  }
});

describe('Rig: reconnect polling and the crash path', function () {
  this.timeout(60_000);
  const ports = useSimPorts();

  it('polls for the port every <= 200 ms while it is gone (injected sleep and openTransport record the schedule)', async () => {
    const delays: number[] = [];
    let failedOpens = 0;
    const r = await resumeOnce(ports, 'sim://linear?seed=4&speed=max&faults=disconnect@0.5:for=1.5', {
      sleep: (ms) => { delays.push(ms); return new Promise((res) => setTimeout(res, ms)); },
      openTransport: async (url) => {
        try {
          return await openTransport(url);
        } catch (e) {
          failedOpens++;
          throw e;
        }
      },
    });
    console.log(`      ${delays.length} waits (${[...new Set(delays)].join(', ')} ms), ${failedOpens} opens failed while the port was gone`);
    assert.equal(r.rig.linkHealth().reconnects, 1);
    assert.ok(failedOpens >= 1, 'the port was gone for at least one attempt');
    assert.equal(delays.length, failedOpens + 1, 'one wait before each attempt');
    assert.ok(delays.every((d) => d <= 200), `waits ${delays.join(', ')} ms`);
  });

  it('a device error during the re-handshake after a reset ends the acquisition with a typed RigError on acquisition$ (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const r = await resumeOnce(ports, 'sim://linear?seed=5&speed=max&faults=reset@1', {}, (handle) => {
        // after the reset the device refuses every Configure
        const commands = (handle.device as unknown as { commands: { onConfigure: (id: number, c: unknown) => void; sendError: (id: number, i: unknown) => void } }).commands;
        const original = commands.onConfigure.bind(commands);
        let reset = false;
        handle.device.events.on('reset', () => { reset = true; });
        commands.onConfigure = (id, c) => (reset ? commands.sendError(id, issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, 'config', 'injected by the test')) : original(id, c));
      });
      await new Promise((res) => setTimeout(res, 100));
      assert.ok(r.error instanceof RigError, `acquisition$ ended with ${String(r.error)}`);
      assert.equal(r.error.code, 'E_RESUME_FAILED');
      assert.ok(r.error.cause instanceof DeviceError, 'the device error is the cause');
      assert.equal(r.rig.running, false);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
