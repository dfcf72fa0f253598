// Scenario files (issue 18, point 1): every built-in scenario is a scenario document, and the
// document written to a file and opened as sim://file?path=… makes a device whose output is
// bit-identical to the built-in name's for the same seed (acceptance 2).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimDevice } from '../../../firmware-sim/device/create.ts';
import { simulatorWorldFactory } from '../../../firmware-sim/simulator.ts';
import { parseSimUrl } from '../../../firmware-sim/transport/sim-url.ts';
import { BUILTIN_SCENARIOS } from '../../../firmware-sim/world/scenario-file/builtins.ts';
import { SCENARIO_NAMES } from '../../../firmware-sim/world/scenarios/index.ts';
import type { SimDevice } from '../../../firmware-sim/device/device.ts';
import { PROTOCOL_VERSION } from '../../../protocol/index.ts';
import { LOCK_IN } from '../device/helpers.ts';

const SECONDS = 90;
const SEED = 11;

/** SHA-256 of every byte the device sends over SECONDS of a lock-in run with EEG/EMG. */
function outputHash(device: SimDevice): string {
  const h = createHash('sha256');
  let bytes = 0;
  device.outbox.sink = (b: Uint8Array) => { h.update(b); bytes += b.length; };
  let id = 1;
  device.handle({ requestId: id++, hello: { protocol: { ...PROTOCOL_VERSION } } });
  device.handle({ requestId: id++, configure: { config: LOCK_IN } });
  device.handle({ requestId: id++, start: {} });
  for (let s = 0; s < SECONDS; s++) {
    if (s % 10 === 0) device.handle({ requestId: 0, heartbeat: {} });
    for (let k = 0; k < 20; k++) device.advance(0.05);
  }
  assert.ok(bytes > SECONDS * 20_000, `the device produced ${bytes} bytes`);
  return h.digest('hex');
}

describe('scenario files: the built-in scenarios round-trip through JSON files bit for bit', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'fiberrig-scenario-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every built-in name has a document', () => {
    assert.deepEqual([...SCENARIO_NAMES].sort(), Object.keys(BUILTIN_SCENARIOS).sort());
    assert.deepEqual([...SCENARIO_NAMES].sort(), ['dark', 'sleep', 'steps', 'zolpidem']);
  });

  for (const name of ['sleep', 'zolpidem', 'steps', 'dark']) {
    it(`${name}: sim://file?path=${name}.json&seed=${SEED} sends the same ${SECONDS} s of bytes as sim://${name}?seed=${SEED}`, () => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(BUILTIN_SCENARIOS[name], null, 2));
      const u = parseSimUrl(`sim://file?path=${encodeURIComponent(file)}&seed=${SEED}`);
      assert.equal(u.scenario, 'file');
      assert.ok(u.scenarioFile, 'the URL carries the validated file');
      const fromFile = createSimDevice({ scenario: u.scenario, seed: u.seed, scenarioSpec: u.scenarioFile.spec, worldFactory: simulatorWorldFactory });
      const builtIn = createSimDevice({ scenario: name, seed: SEED, worldFactory: simulatorWorldFactory });
      assert.equal(outputHash(fromFile), outputHash(builtIn));
    });
  }

  it('a different seed or a changed field changes the output (the comparison can fail)', () => {
    const file = join(dir, 'steps-noisier.json');
    const doc = structuredClone(BUILTIN_SCENARIOS['steps']!);
    doc.optics.noiseScale = 0.31;
    writeFileSync(file, JSON.stringify(doc));
    const u = parseSimUrl(`sim://file?path=${encodeURIComponent(file)}&seed=${SEED}`);
    const changed = createSimDevice({ scenario: u.scenario, seed: SEED, scenarioSpec: u.scenarioFile!.spec, worldFactory: simulatorWorldFactory });
    const builtIn = createSimDevice({ scenario: 'steps', seed: SEED, worldFactory: simulatorWorldFactory });
    const otherSeed = createSimDevice({ scenario: 'steps', seed: SEED + 1, worldFactory: simulatorWorldFactory });
    const base = outputHash(builtIn);
    assert.notEqual(outputHash(changed), base);
    assert.notEqual(outputHash(otherSeed), base);
  });
});
