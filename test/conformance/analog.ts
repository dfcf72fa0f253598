// Conformance: analog content, on targets that measure the linear model (codes predicted from the LED drive).
import assert from 'node:assert/strict';
import { type AcquisitionConfigInit, SampleSource } from '../../protocol/index.ts';
import { ledCurrentAt } from '../../firmware-sim/device/schedule.ts';
import {
  B, boardPos, c, CARRIERS_HZ, collectCodes, continuous, detPos, dets, FS, info, led0, led1, lockIn, M, modelCode, needsLinearModel, run, stop, tdm,
} from './harness.ts';

export function analogTests(): void {
  describe('analog content (targets that measure the linear model)', () => {
    async function record(config: AcquisitionConfigInit, samples: number): Promise<number[][]> {
      const { mark } = await run(config);
      await c.waitFor(() => c.contiguousSamples(mark) >= samples, 15_000, `${samples} samples`);
      await stop(mark);
      return collectCodes(c.blocks(SampleSource.SAMPLE_SOURCE_DETECTOR, mark));
    }

    it('CONTINUOUS: every code is the model of the drive', async function () {
      needsLinearModel(this);
      const codes = await record(continuous({ leds: [{ channel: led0, currentMa: 10 }, { channel: led1, currentMa: 3.5 }] }), 2 * B);
      const cur = new Array(info.leds.length).fill(0);
      cur[boardPos(led0)] = 10;
      cur[boardPos(led1)] = 3.5;
      for (let n = 0; n < 2 * B; n++) {
        for (let d = 0; d < dets.length; d++) assert.equal(codes[n]![d], modelCode(detPos(dets[d]!), cur), `sample ${n} detector ${dets[d]}`);
      }
    });

    it('TIME_DIVISION: pulses in their slots, a dark slot, exactly on the schedule', async function () {
      needsLinearModel(this);
      const config = tdm();
      const codes = await record(config, 4 * B);
      const sched = { mode: M.MODULATION_MODE_TIME_DIVISION, sampleRateHz: FS, leds: [{ channel: led0, peakMa: 20, carrierHz: 0 }, { channel: led1, peakMa: 30, carrierHz: 0 }], timeDivision: { slotSamples: 10, onSamples: 8, darkSlot: true } };
      for (let n = 0; n < 4 * B; n++) {
        const cur = new Array(info.leds.length).fill(0);
        cur[boardPos(led0)] = ledCurrentAt(sched, 0, n);
        cur[boardPos(led1)] = ledCurrentAt(sched, 1, n);
        for (let d = 0; d < dets.length; d++) assert.equal(codes[n]![d], modelCode(detPos(dets[d]!), cur), `sample ${n} detector ${dets[d]}`);
      }
    });

    it('LOCK_IN: each LED follows its carrier (within 1 code of the exact-phase model)', async function () {
      needsLinearModel(this);
      const codes = await record(lockIn(), 6 * B);
      const sched = { mode: M.MODULATION_MODE_LOCK_IN, sampleRateHz: FS, leds: [{ channel: led0, peakMa: 20, carrierHz: CARRIERS_HZ[0] }, { channel: led1, peakMa: 10, carrierHz: CARRIERS_HZ[1] }] };
      let worst = 0;
      for (let n = 0; n < 6 * B; n++) {
        const cur = new Array(info.leds.length).fill(0);
        cur[boardPos(led0)] = Math.fround(ledCurrentAt(sched, 0, n));
        cur[boardPos(led1)] = Math.fround(ledCurrentAt(sched, 1, n));
        for (let d = 0; d < dets.length; d++) worst = Math.max(worst, Math.abs(codes[n]![d]! - modelCode(detPos(dets[d]!), cur)));
      }
      assert.ok(worst <= 1, `largest deviation from the model: ${worst} codes`);
    });
  });
}
