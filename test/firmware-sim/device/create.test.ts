import assert from 'node:assert/strict';
import { DEFAULT_BOARD, defineBoard } from '../../../firmware-sim/device/board.ts';
import { createSimDevice, registeredWorldFactory, registerWorldFactory } from '../../../firmware-sim/device/create.ts';
import { SimError } from '../../../firmware-sim/device/errors.ts';
import { LinearWorld } from '../../../firmware-sim/device/linear-world.ts';
import { simServeOptionsFromUrl } from '../../../firmware-sim/transport/serve.ts';

describe('firmware-sim createSimDevice', () => {
  // each test starts with no factory and leaves the one registered before it (other suites rely on it)
  let saved: ReturnType<typeof registeredWorldFactory> = null;
  beforeEach(() => {
    saved = registeredWorldFactory();
    registerWorldFactory(null);
  });
  afterEach(() => registerWorldFactory(saved));

  it('builds the linear world by default and passes scenario, seed and board to an injected factory', () => {
    assert.ok(createSimDevice().world instanceof LinearWorld);
    const calls: unknown[] = [];
    const board = defineBoard({ serialNumber: 'UNIT-7' });
    const d = createSimDevice({
      scenario: 'sleep', seed: 12, board,
      worldFactory: (scenario, seed, wb) => {
        calls.push([scenario, seed, wb.leds.map((l) => l.wavelengthNm), wb.digitalInputs.map((l) => l.id)]);
        return new LinearWorld(wb, seed);
      },
    });
    assert.deepEqual(calls, [['sleep', 12, [405, 470, 560, 630], [0, 1]]]);
    assert.equal(d.board.serialNumber, 'UNIT-7');
  });

  it('refuses an unknown scenario without a factory, with a hint', () => {
    assert.throws(() => createSimDevice({ scenario: 'sleep' }), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_SCENARIO' && /registerWorldFactory/.test(e.hint));
    registerWorldFactory((_s, seed, wb) => new LinearWorld(wb, seed));
    assert.ok(createSimDevice({ scenario: 'sleep' }).world instanceof LinearWorld);
  });

  it('checks board definitions', () => {
    assert.throws(() => defineBoard({ leds: [...DEFAULT_BOARD.leds, DEFAULT_BOARD.leds[0]!] }), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_BOARD');
    assert.throws(() => defineBoard({ detectors: [] }), SimError);
  });

  it('turns a sim:// URL into server options', () => {
    const o = simServeOptionsFromUrl('sim://sleep?seed=3&speed=max&drift_ppm=20&faults=reset@5&loopback=1');
    assert.deepEqual(o, { scenario: 'sleep', seed: 3, speed: 'max', driftPpm: 20, faults: [{ type: 'reset', atS: 5 }], loopbackWire: { toLine: 1 } });
  });
});
