// The simulator's `hw=` URL option (hardware faults of the front end) that the
// self-test's fault tests rely on.
import assert from 'node:assert/strict';
import { createSimDevice, DEFAULT_BOARD, defineBoard, parseHardwareFaults, parseSimUrl, worldFaultsOf } from '../../../firmware-sim/index.ts';
import { registerWorldFactory } from '../../../firmware-sim/device/create.ts';
import { simServeOptionsFromUrl, simulatorWorldFactory } from '../../../firmware-sim/simulator.ts';
import type { SimWorld } from '../../../firmware-sim/world/index.ts';

describe('sim:// hw= hardware faults', () => {
  before(() => registerWorldFactory(simulatorWorldFactory));

  it('parses every kind, with optional values', () => {
    assert.deepEqual(parseHardwareFaults('dead_led:1, noisy_det:0:50,saturated_det:1,stuck_det:0:123,dead_det:1,disconnected_aux:0,railed_aux:1'), [
      { kind: 'dead_led', channel: 1 },
      { kind: 'noisy_det', detector: 0, factor: 50 },
      { kind: 'saturated_det', detector: 1 },
      { kind: 'stuck_det', detector: 0, code: 123 },
      { kind: 'dead_det', detector: 1 },
      { kind: 'disconnected_aux', input: 0 },
      { kind: 'railed_aux', input: 1 },
    ]);
    assert.deepEqual(parseHardwareFaults(''), []);
  });

  it('rejects unknown kinds, malformed entries and bad values with E_SIM_URL', () => {
    for (const bad of ['melted_led:1', 'dead_led', 'dead_led:x', 'dead_led:1:2', 'noisy_det:0:-1', 'stuck_det:0:1.5']) {
      assert.throws(() => parseHardwareFaults(bad), { code: 'E_SIM_URL' }, bad);
    }
  });

  it('is a sim:// URL option, passed to served devices too', () => {
    assert.deepEqual(parseSimUrl('sim://steps?hw=dead_led:2').hardwareFaults, [{ kind: 'dead_led', channel: 2 }]);
    assert.equal(parseSimUrl('sim://steps').hardwareFaults, undefined);
    assert.deepEqual(simServeOptionsFromUrl('sim://steps?speed=max&hw=noisy_det:1').hardwareFaults, [{ kind: 'noisy_det', detector: 1 }]);
  });

  it('maps channel ids to board positions, and refuses ids the board lacks', () => {
    const board = defineBoard({ leds: [{ ...DEFAULT_BOARD.leds[0]!, id: 7 }, { ...DEFAULT_BOARD.leds[1]!, id: 9 }] });
    assert.deepEqual(worldFaultsOf(board, [{ kind: 'dead_led', channel: 9 }, { kind: 'noisy_det', detector: 1, factor: 5 }]), {
      deadLeds: [1], detectors: [{ index: 1, kind: 'noisy', noiseFactor: 5 }],
    });
    assert.throws(() => worldFaultsOf(board, [{ kind: 'dead_led', channel: 1 }]), { code: 'E_SIM_OPTIONS' });
  });

  it('reaches the world of a created device', () => {
    const device = createSimDevice({ scenario: 'steps', hardwareFaults: [{ kind: 'dead_led', channel: 1 }, { kind: 'saturated_det', detector: 0 }] });
    const world = device.world as SimWorld;
    assert.deepEqual(world.faults.deadLeds, [1]);
    assert.deepEqual(world.faults.detectors, [{ index: 0, kind: 'saturated' }]);
  });

  it('is refused by the noise-free "linear" scenario', () => {
    assert.throws(() => createSimDevice({ scenario: 'linear', hardwareFaults: [{ kind: 'dead_led', channel: 1 }] }), { code: 'E_SIM_OPTIONS' });
  });
});
