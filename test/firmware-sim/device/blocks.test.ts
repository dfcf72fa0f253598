import assert from 'node:assert/strict';
import { ModulationMode } from '../../../protocol/index.ts';
import { AUX, codes, DET, TestHost } from './helpers.ts';

// Detector codes are clamped to the ADC's unsigned range, aux codes to its signed one, channel by channel, whatever
// the number of channels (two channels take a packing path of their own).
describe('firmware-sim sample blocks: packing', () => {
  // 70000 codes with every LED dark; detector 0 does not see LED 1, detector 1 sees it at -20000 codes/mA
  const worldOptions = { offsetCode: 70_000, gainCodesPerMa: [[0, 0, 0, 0], [0, -20_000, 0, 0]], auxAmplitudeCode: 40_000 };
  const config = (detectorIds: number[], auxInputs: number[]) => ({
    mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, detectorIds, oversampling: 1, blockSamples: 100,
    leds: [{ channel: 1, currentMa: 5 }], aux: { inputIds: auxInputs, rateHz: 1000 }, heartbeatTimeoutMs: 60_000,
  });

  for (const [detectorIds, auxInputs] of [[[0, 1], [0, 1]], [[1], [1]], [[1, 0], [1, 0]]] as const) {
    it(`clamps detectors ${detectorIds.join(',')} and aux inputs ${auxInputs.join(',')} to the ADC range, interleaved in configuration order`, () => {
      const host = new TestHost({ worldOptions });
      host.startRun(config([...detectorIds], [...auxInputs]));
      host.device.advance(0.5);
      const det = host.blocks(DET);
      assert.ok(det.length >= 3);
      // 70000 -> 65535 (detector 0); 70000 - 20000 * 5 = -30000 -> 0 (detector 1)
      const expected = detectorIds.map((d) => (d === 0 ? 65_535 : 0));
      for (const b of det) {
        assert.deepEqual(b.channelIds, [...detectorIds]);
        const v = codes(b);
        for (let i = 0; i < b.sampleCount; i++) for (let ch = 0; ch < detectorIds.length; ch++) assert.equal(v[i * detectorIds.length + ch], expected[ch]);
      }
      const aux = host.blocks(AUX);
      assert.ok(aux.length >= 3);
      let low = 0;
      let high = 0;
      for (const b of aux) {
        const v = codes(b);
        for (let j = 0; j < v.length; j++) {
          assert.ok(v[j]! >= -32_768 && v[j]! <= 32_767);
          if (v[j] === -32_768) low++;
          if (v[j] === 32_767) high++;
        }
      }
      assert.ok(low > 0 && high > 0, 'a 40000-code sine reaches both ends of the 16-bit range');
    });
  }
});
