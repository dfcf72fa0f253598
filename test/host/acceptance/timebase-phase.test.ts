// Time division's time base at every start phase (companion of timebase.test.ts, where the
// phase is whatever the handshake left). A 20 Hz time-division output measures each LED in
// a 10 ms window of every 50 ms cycle, so where a step's 50 % crossing lands depends on
// where the step falls among the windows: up to ±(50 − 10) / 2 = ±20 ms from the step at
// the worst phase, 0 on average (step-crossing.ts). Here the session starts at chosen world
// times spanning one cycle (the device's clock is held while Start is handled), and at each
// phase the crossing must be where the LED's windows, placed from the schedule alone, put an
// ideal step (so a bias of the time labels shows at every phase), within that bound; and the
// errors must average out over the phases.
//
// Path: sim://steps in-process (binding -> link -> Rig -> SignalDemodulator), times as every
// export writes them (host/pipeline/time.ts, delay-compensated), TTL edges from the device's
// DigitalEvents. Steps at world 20 s (rising) and 30 s (falling).
import assert from 'node:assert/strict';
import { SignalDemodulator, type SignalBlock } from '../../../host/pipeline/demodulate.ts';
import { signalTimeS } from '../../../host/pipeline/time.ts';
import { Rig, type TimedDigitalEvent } from '../../../host/rig/rig.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { tdmConfig } from './helpers.ts';
import { crossing50, modelledTdmCrossingS, type Series, tdmStepBoundS, tdmWindowsOf } from './step-crossing.ts';

const URL = 'sim://steps?seed=7&speed=max';
const FS = 10_000;
const PHASES = 20;
const CYCLE_S = 0.05;
/** World time of the first start; each phase starts CYCLE_S / PHASES later (plus an offset off the sample grid). */
const FIRST_START_WORLD_S = 18.4 + 0.37e-4;
/** Detector samples per run: past the steps at world 20 and 30 s with 1.5 s to spare. */
const SAMPLES = 130_000;
/** The light crosses 50 % 1 ms before the TTL edge (the world's 2 ms gain grid). */
const LIGHT_LEAD_S = 0.001;
/** The 1 Hz sine's slope across a 50 ms interpolation (±1.3 ms) and noise. */
const MODEL_TOLERANCE_MS = 2.5;

/** The windows of LED `ledIndex` (config order) of the wire config `tdmConfig()`. */
function windowsOf(config: ReturnType<typeof tdmConfig>, ledIndex: number): ReturnType<typeof tdmWindowsOf> {
  const td = config.timeDivision;
  assert.ok(td?.slotSamples && td.settleSamples && td.windowSamples, 'a time-division config');
  const timing = { slotSamples: td.slotSamples, settleSamples: td.settleSamples, windowSamples: td.windowSamples, darkSlot: td.darkSlot === true };
  return tdmWindowsOf(FS, (config.leds ?? []).length, timing, ledIndex);
}

interface PhaseRun { startWorldS: number; edgesS: number[]; errorsMs: number[]; modelledMs: number[] }

/** Records SAMPLES with the session starting at world time `startWorldS`; the 470 nm crossings on detector 0 at each TTL rise of line 1. */
async function runAt(ports: ReturnType<typeof useSimPorts>, startWorldS: number): Promise<PhaseRun> {
  const handle = ports.createPort(URL);
  const config = { ...tdmConfig(), digitalInputIds: [1] };
  const rig = await Rig.connect(URL, { heartbeatIntervalMs: 100 });
  const demod = new SignalDemodulator(config, rig.info, {});
  const blocks: SignalBlock[] = [];
  const rises: TimedDigitalEvent[] = [];
  try {
    await rig.configure(config);
    // hold the device's clock at the chosen time while Start is handled (idle, it follows the wall clock)
    handle.pacer.stop();
    handle.device.advance(startWorldS - handle.device.worldTimeS);
    let reached: () => void = () => undefined;
    const done = new Promise<void>((r) => { reached = r; });
    let failure: Error | undefined;
    const sub = rig.acquisition$.subscribe({
      next: (item) => {
        for (const b of demod.push(item)) if (b.stream === 'signals') blocks.push(b);
        if (item.kind === 'block' && item.source === 'detector' && item.sessionIndex + item.sampleCount >= SAMPLES) reached();
      },
      error: (e: Error) => { failure = e; reached(); },
    });
    const dsub = rig.digitalEvents$.subscribe((e) => { if (e.line === 1 && e.edge === 1) rises.push(e); });
    await rig.start();
    handle.pacer.start();
    await done;
    await rig.stop();
    sub.unsubscribe();
    dsub.unsubscribe();
    if (failure) throw failure;
  } finally {
    await rig.close();
    handle.pacer.stop();
  }
  assert.ok(Math.abs(handle.device.runStartWorldS! - startWorldS) < 1e-9, `the run started at world ${handle.device.runStartWorldS} s, not ${startWorldS} s`);
  const channels = blocks[0]!.channels;
  const column = channels.findIndex((c) => c.inputId === 0 && c.wavelengthNm === 470);
  assert.ok(column >= 0, `a 470 nm channel on detector 0 among ${channels.map((c) => c.name).join(', ')}`);
  const channel = channels[column]!;
  const series: Series = { timesS: [], values: [] };
  for (const b of blocks) {
    for (let k = 0; k < b.count; k++) {
      const v = b.values[column]![k]!;
      if (!Number.isFinite(v)) continue;
      series.timesS.push(signalTimeS(b.firstIndex + k, b.rateHz, channel, {}));
      series.values.push(v);
    }
  }
  const edgesS = rises.map((e) => e.sessionIndex / FS + e.subsampleTicks / rig.info.timerClockHz);
  assert.deepEqual(edgesS.map((e) => Math.round(e + startWorldS)), [20, 30], `TTL rises at world 20 and 30 s: session ${edgesS.join(', ')} s`);
  const windows = windowsOf(config, (config.leds ?? []).findIndex((l) => l.channel === channel.ledChannel));
  return {
    startWorldS,
    edgesS,
    errorsMs: edgesS.map((e) => (crossing50(series, e) - e) * 1e3),
    modelledMs: edgesS.map((e) => (modelledTdmCrossingS(windows, e - LIGHT_LEAD_S) - e) * 1e3),
  };
}

describe('acceptance (issue 15, 5): time division at 20 Hz (10 ms windows every 50 ms) places a step within ±20 ms — (cycle − window) / 2 — of its TTL edge at any start phase, where its windows put it, and unbiased over phases', function () {
  this.timeout(600_000);
  const ports = useSimPorts();
  const runs: PhaseRun[] = [];
  const windows = windowsOf(tdmConfig(), 1);

  before(async () => {
    for (let p = 0; p < PHASES; p++) runs.push(await runAt(ports, FIRST_START_WORLD_S + (p * CYCLE_S) / PHASES));
  });
  after(() => {
    if (runs.length > 0) console.log(`      crossing − TTL edge (modelled), ms, per start:\n${runs.map((r) => `        ${r.startWorldS.toFixed(5)} s: ${r.errorsMs.map((e, i) => `${e.toFixed(2)} (${r.modelledMs[i]!.toFixed(2)})`).join(', ')}`).join('\n')}`);
  });

  it('the model spans the whole sawtooth over these phases: from about −20 ms to +20 ms', () => {
    const modelled = runs.flatMap((r) => r.modelledMs);
    assert.ok(Math.min(...modelled) < -15 && Math.max(...modelled) > 15, `modelled errors ${modelled.map((e) => e.toFixed(1)).join(', ')} ms`);
  });

  it(`at every phase, each crossing is within ${MODEL_TOLERANCE_MS} ms of where the LED's windows put an ideal step`, () => {
    for (const r of runs) {
      r.errorsMs.forEach((e, i) => {
        assert.ok(Math.abs(e - r.modelledMs[i]!) <= MODEL_TOLERANCE_MS, `start ${r.startWorldS} s, step ${i}: ${e.toFixed(2)} ms vs modelled ${r.modelledMs[i]!.toFixed(2)} ms`);
      });
    }
  });

  it('at every phase, each crossing is within (cycle − window) / 2 = 20 ms of the light\'s crossing (1 ms before the edge), plus the margin', () => {
    const boundMs = tdmStepBoundS(windows) * 1e3 + MODEL_TOLERANCE_MS;
    assert.equal(tdmStepBoundS(windows), 0.02);
    for (const r of runs) {
      for (const e of r.errorsMs) assert.ok(Math.abs(e + LIGHT_LEAD_S * 1e3) <= boundMs, `start ${r.startWorldS} s: ${e.toFixed(2)} ms; bound ±${boundMs} ms about −1 ms`);
    }
  });

  it('over the phases the errors average out: mean crossing − light crossing within ±1 ms, rising and falling steps alike', () => {
    for (const step of [0, 1]) {
      const meanMs = runs.reduce((s, r) => s + r.errorsMs[step]! + LIGHT_LEAD_S * 1e3, 0) / runs.length;
      assert.ok(Math.abs(meanMs) <= 1, `step ${step}: mean ${meanMs.toFixed(2)} ms`);
    }
  });
});
