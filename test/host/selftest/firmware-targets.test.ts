// `selftest` against the C firmware's targets (test/conformance/target.ts
// starts them): the native build over TCP and the netduinoplus2 image under
// QEMU. Their front end is modelled and noise-free, and they say so in their
// own self-test: the noise checks are N/A there, nothing fails. Pending when
// a build or QEMU is missing (a failure in CI, as in the conformance suite).
import assert from 'node:assert/strict';
import { runSelfTest } from '../../../host/selftest/run.ts';
import type { SelfTestReport } from '../../../host/selftest/types.ts';
import { IN_CI, MissingTool, startTarget, type Target } from '../../conformance/target.ts';

const show = (r: SelfTestReport): string => r.lines.map((l) => `${l.outcome} ${l.id}: ${l.detail}`).join('\n');

for (const name of ['native', 'qemu'] as const) {
  describe(`fiberrig selftest on the ${name} firmware target`, function () {
    this.timeout(60_000);
    let target: Target | undefined;

    before(async function () {
      try {
        target = await startTarget(name);
      } catch (error) {
        if (error instanceof MissingTool && !IN_CI) this.skip();
        throw error;
      }
    });

    after(async () => {
      await target?.close();
    });

    it('passes, with the checks the target cannot make reported N/A', async () => {
      const r = await runSelfTest(target!.url, { rateSeconds: 1.5 });
      assert.deepEqual(r.lines.filter((l) => l.outcome === 'FAIL').map((l) => l.id), [], show(r));
      const outcome = (id: string): string | undefined => r.lines.find((l) => l.id === id)?.outcome;
      assert.equal(outcome('handshake'), 'PASS');
      assert.equal(outcome('device.adc'), 'N/A', 'the firmware says its front end is synthetic');
      for (const d of [0, 1]) assert.equal(outcome(`detector.${d}.noise`), 'N/A', show(r));
      for (const l of [0, 1, 2, 3]) assert.equal(outcome(`led.${l}`), 'PASS', show(r));
      assert.equal(outcome('watchdog'), 'PASS', show(r));
      assert.equal(outcome('frames'), 'PASS', show(r));
      assert.ok(['PASS', 'WARN'].includes(outcome('sample_rate') ?? ''), show(r));
    });
  });
}
