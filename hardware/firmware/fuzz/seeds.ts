// Writes the fuzzer's seed corpus: sessions of valid commands (one file each,
// a shape byte first; see fuzz_core.c), so mutations start from deep states.
//   node --import=tsx hardware/firmware/fuzz/seeds.ts DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EnvelopeInit, frameEnvelope, ModulationMode } from '../../../protocol/index.ts';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: seeds.ts DIR\n');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });

const M = ModulationMode;
const base = { sampleRateHz: 1000, detectorIds: [0, 1], oversampling: 2, blockSamples: 16, heartbeatTimeoutMs: 100 };
const configs = [
  { ...base, mode: M.MODULATION_MODE_CONTINUOUS, leds: [{ channel: 0, currentMa: 10 }], aux: { inputIds: [0, 1], rateHz: 250 } },
  { ...base, mode: M.MODULATION_MODE_TIME_DIVISION, leds: [{ channel: 0, currentMa: 60 }, { channel: 1, currentMa: 30 }], timeDivision: { slotSamples: 4, onSamples: 3, settleSamples: 1, windowSamples: 2, darkSlot: true } },
  { ...base, mode: M.MODULATION_MODE_LOCK_IN, leds: [{ channel: 0, currentMa: 20, carrierHz: 137.5 }, { channel: 1, currentMa: 10, carrierHz: 227.5 }] },
  { ...base, mode: M.MODULATION_MODE_CONTINUOUS, leds: [{ channel: 2, powerUw: 50 }] },
  // aux blocks of their own size (AuxConfig.block_samples, protocol 1.2)
  { ...base, mode: M.MODULATION_MODE_CONTINUOUS, leds: [{ channel: 0, currentMa: 10 }], aux: { inputIds: [0], rateHz: 500, blockSamples: 5 } },
];
const calibration = { leds: [{ channel: 2, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: 40, powerUw: 100 }], label: 'seed' }] };

const sessions: Array<Array<Omit<EnvelopeInit, 'requestId'>>> = configs.map((config) => [
  { writeCalibration: { table: calibration } }, { configure: { config } }, { start: {} }, { heartbeat: { hostTimeUs: 1 } },
  { setLed: { channel: config.leds[0]!.channel, currentMa: 5 } }, { selfTest: {} }, { stop: {} }, { readCalibration: {} }, { getInfo: {} },
]);
sessions.push([{ configure: { config: configs[0]! } }, { start: {} }, { reset: {} }, { hello: { protocol: { major: 1 } } }, { readCalibration: {} }]);
sessions.push([{ ack: {} }, {}, { enterBootloader: {} }, { getInfo: {} }]);

sessions.forEach((session, i) => {
  for (const shape of [0x07, 0xc0 | 0x1f, 0x20 | 0x03]) {
    const frames = session.map((body, k) => frameEnvelope({ requestId: k + 1, ...body }));
    const total = frames.reduce((n, f) => n + f.length, 1);
    const out = new Uint8Array(total);
    out[0] = shape;
    let at = 1;
    for (const f of frames) {
      out.set(f, at);
      at += f.length;
    }
    writeFileSync(join(dir, `seed-${i}-${shape.toString(16)}`), out);
  }
});
