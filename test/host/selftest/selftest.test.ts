// `runSelfTest` against the simulator: a healthy rig passes, and each
// injected hardware fault fails exactly its own line. Where timing does not
// matter the simulator runs at speed=max; the sample-rate checks run at
// speed=1 (a few seconds each). The reference target is sim://steps
// (fluorescence under every LED).
import assert from 'node:assert/strict';
import '../../../host/cli/devices.ts';
import { runSelfTest, type SelfTestOptions } from '../../../host/selftest/run.ts';
import type { SelfTestLine, SelfTestReport } from '../../../host/selftest/types.ts';

const failed = (r: SelfTestReport): string[] => r.lines.filter((l) => l.outcome === 'FAIL').map((l) => l.id).sort();
const line = (r: SelfTestReport, id: string): SelfTestLine => {
  const l = r.lines.find((x) => x.id === id);
  assert.ok(l, `no line ${id} in ${r.lines.map((x) => x.id).join(', ')}`);
  return l;
};
const show = (r: SelfTestReport): string => r.lines.map((l) => `${l.outcome} ${l.id}: ${l.detail}`).join('\n');
const quick: SelfTestOptions = { rateSeconds: 1 };

describe('fiberrig selftest against the simulator', function () {
  this.timeout(60_000);

  it('passes a healthy rig at real time, sample rate included', async () => {
    const r = await runSelfTest('sim://steps?seed=3');
    assert.deepEqual(failed(r), [], show(r));
    assert.notEqual(r.outcome, 'FAIL');
    assert.equal(line(r, 'handshake').outcome, 'PASS');
    assert.equal(line(r, 'sample_rate').outcome, 'PASS', show(r));
    for (const id of ['led.0', 'led.1', 'led.2', 'led.3', 'detector.0.noise', 'detector.1.headroom', 'watchdog', 'frames']) {
      assert.equal(line(r, id).outcome, 'PASS', `${id}\n${show(r)}`);
    }
  });

  it('a dead LED channel fails exactly its LED line', async () => {
    const r = await runSelfTest('sim://steps?speed=max&hw=dead_led:1', quick);
    assert.deepEqual(failed(r), ['led.1'], show(r));
  });

  it('a noisy detector fails exactly its noise line', async () => {
    const r = await runSelfTest('sim://steps?speed=max&hw=noisy_det:0', quick);
    assert.deepEqual(failed(r), ['detector.0.noise'], show(r));
  });

  it('a saturated detector fails exactly its headroom line', async () => {
    const r = await runSelfTest('sim://steps?speed=max&hw=saturated_det:1', quick);
    assert.deepEqual(failed(r), ['detector.1.headroom'], show(r));
    assert.equal(line(r, 'detector.1.offset').outcome, 'N/A');
  });

  it('a drifting clock (+2000 ppm, real time) fails exactly the sample-rate line', async () => {
    const r = await runSelfTest('sim://steps?drift_ppm=2000', { ...quick, rateSeconds: 2 });
    assert.deepEqual(failed(r), ['sample_rate'], show(r));
    const ppm = line(r, 'sample_rate').value!;
    assert.ok(ppm > 1500 && ppm < 2500, `measured ${ppm} ppm`);
  });

  it('a corrupting link fails exactly the frame-error line', async () => {
    const r = await runSelfTest('sim://steps?speed=max&faults=corrupt:rate=1e-4', quick);
    assert.deepEqual(failed(r), ['frames'], show(r));
  });

  it('says the sample rate cannot be judged when the device is not real time', async () => {
    const r = await runSelfTest('sim://steps?speed=max', quick);
    const l = line(r, 'sample_rate');
    assert.equal(l.outcome, 'N/A');
    assert.match(l.detail, /real-time device/);
  });

  it('finds a wired loopback, and fails a required one that is not wired', async () => {
    const wired = await runSelfTest('sim://steps?speed=max&loopback=1', quick);
    assert.equal(line(wired, 'digital_loopback').outcome, 'PASS', show(wired));
    assert.match(line(wired, 'digital_loopback').detail, /TTL1/);
    const missing = await runSelfTest('sim://steps?speed=max', { ...quick, loopbackLine: 1 });
    assert.deepEqual(failed(missing), ['digital_loopback'], show(missing));
  });

  it('reports the analog checks N/A on a target without an analog front end', async () => {
    // the simulator calls its ADC untestable; stuck detectors make every code constant, as on an emulated board
    const r = await runSelfTest('sim://steps?speed=max&hw=stuck_det:0:1000,stuck_det:1:1000', quick);
    assert.deepEqual(failed(r), [], show(r));
    for (const id of ['led.0', 'led.3', 'detector.0.offset', 'detector.1.noise']) assert.equal(line(r, id).outcome, 'N/A', id);
    assert.equal(line(r, 'watchdog').outcome, 'PASS', show(r));
  });

  it('fails the handshake line when there is no device', async () => {
    const r = await runSelfTest('tcp://127.0.0.1:1', quick);
    assert.equal(r.outcome, 'FAIL');
    assert.deepEqual(failed(r), ['handshake']);
  });
});
