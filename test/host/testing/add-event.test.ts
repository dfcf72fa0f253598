// fiberrig/testing: a world event added during a run (sim.addEvent: a 2 s ramp of the sensor) shows in the demodulated
// signal and in the ground truth the signal is checked against.
import assert from 'node:assert/strict';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import type { ScenarioSpecInput } from '../../../host/cli/devices.ts';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../../host/config/acquisition.ts';
import { demodulate, type SignalBlock } from '../../../host/pipeline/demodulate.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { assertSim, expectTracks, signalOf, useTarget } from '../../../host/testing/index.ts';

/** No animal, a flat green sensor: whatever moves it is the added step. */
const FLAT: ScenarioSpecInput = {
  format: 'fiberrig-scenario', version: 1, name: 'flat', model: 'signals',
  optics: {
    ledModel: 'linear', bleaching: false, motion: false, haemodynamics: false, temperatureDrift: false,
    brightness: { grabNe: 3e-3, redDye: 2e-3, tissueAf: 6e-4, fiberAf: 3e-4 }, ambientScale: 1, noiseScale: 0.3, gridS: 0.002,
  },
  aux: { content: 'none' },
};

describe('fiberrig/testing: a world event added during a run', () => {
  const ref = useTarget('sim', { scenario: FLAT, speed: 'max', seed: 4 });
  let blocks: SignalBlock[] = [];
  let stepWorldS = 0;

  before(async () => {
    const rig = await Rig.connect(ref.target.url);
    try {
      const config = toWireConfig(DEFAULT_LOCKIN_CONFIG);
      await rig.configure(config);
      const n = Math.ceil((6 * config.sampleRateHz!) / config.blockSamples!);
      const signals = firstValueFrom(rig.acquisition$.pipe(demodulate(config, rig.info), filter((b) => b.stream === 'signals'), take(n), toArray()));
      await rig.start();
      const sim = assertSim(ref.target);
      stepWorldS = sim.runStartWorldS! + 3;
      sim.addEvent({ kind: 'ramp', atS: stepWorldS, durationS: 2, fluorophore: 'grabNe', to: 0.3 });
      blocks = await signals;
      await rig.stop();
    } finally {
      await rig.close();
    }
  });

  it('the 470 nm signal follows the added ramp and tracks the truth within 3 % of its span', () => {
    const sim = assertSim(ref.target);
    assert.deepEqual(sim.truth.events(0, stepWorldS + 1).filter((e) => e.kind === 'ramp').map((e) => e.tS), [stepWorldS]);
    const green = signalOf(blocks, '470nm@det0');
    const report = expectTracks(green, sim.truthOf('grabNe'), { tolerancePct: 3, fromS: 0.5 });
    assert.ok(report.samples > 400, `compared ${report.samples} samples`);
  });
});
