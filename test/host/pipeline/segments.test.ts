// Time division across a reconnect or a device reset: the device restarts its
// sample counter, and with it the LED schedule, at 0 in the new segment, which
// the host places at a session offset that is rarely a whole number of cycles.
// The demodulator must keep each slot's LED (schedule from the device index)
// and place the outputs on the session's output grid.
import assert from 'node:assert/strict';
import { type DeviceInfo, ModulationMode } from '../../../protocol/index.ts';
import { deviceInfoOf, DEFAULT_BOARD } from '../../../firmware-sim/device/board.ts';
import { SignalDemodulator, type SignalBlock } from '../../../host/pipeline/demodulate.ts';
import type { AcquisitionItem, RigBlock } from '../../../host/rig/rig.ts';

const info = deviceInfoOf(DEFAULT_BOARD, new Set()) as unknown as DeviceInfo;
const SLOT = 10;
const CYCLE = 3 * SLOT; // 2 LEDs + dark
const config = {
  mode: ModulationMode.MODULATION_MODE_TIME_DIVISION, sampleRateHz: 1000, detectorIds: [info.detectors[0]!.id], blockSamples: 250,
  leds: [{ channel: info.leds[0]!.id, currentMa: 20 }, { channel: info.leds[1]!.id, currentMa: 20 }],
  timeDivision: { slotSamples: SLOT, onSamples: 8, settleSamples: 2, windowSamples: 5, darkSlot: true },
};
/** What the detector reads at device index n: 1000 in LED 0's slot, 2000 in LED 1's, 100 (ambient) in the dark slot. */
const code = (n: number): number => [1100, 2100, 100][Math.floor((n % CYCLE) / SLOT)]!;

function block(segment: number, sessionIndex: number, deviceIndex: number, count: number): RigBlock {
  const samples = new Uint16Array(count);
  for (let i = 0; i < count; i++) samples[i] = code(deviceIndex + i);
  return { kind: 'block', source: 'detector', sessionIndex, deviceIndex, sampleCount: count, channelIds: [info.detectors[0]!.id], samples, configId: 1, segment };
}

function run(items: AcquisitionItem[]): SignalBlock[] {
  const demod = new SignalDemodulator(config, info, {});
  return items.flatMap((i) => demod.push(i));
}

describe('demodulation across segments (time division)', () => {
  for (const offset of [0, 7, 15, 16, 29]) {
    it(`a segment placed ${offset} samples past a whole cycle keeps each slot's LED (405 = 1000, 470 = 2000 exactly) and lands within half a cycle of its true time`, () => {
      const gapStart = 600;
      const start = 3000 + offset; // session index of the new segment's device sample 0
      const items: AcquisitionItem[] = [
        block(0, 0, 0, 300), block(0, 300, 300, 300),
        { kind: 'gap', source: 'detector', sessionIndex: gapStart, count: start - gapStart, reason: 'reconnect', estimated: false, uncertaintySamples: 1, segment: 1 },
        block(1, start, 0, 300), block(1, start + 300, 300, 300),
      ];
      const out = run(items);
      const rows: Array<{ index: number; v0: number; v1: number }> = [];
      for (const b of out) for (let k = 0; k < b.count; k++) rows.push({ index: b.firstIndex + k, v0: b.values[0]![k]!, v1: b.values[1]![k]! });
      const valid = rows.filter((r) => !Number.isNaN(r.v0));
      assert.ok(valid.length >= 35, `outputs: ${valid.length}`);
      for (const r of valid) assert.deepEqual([r.v0, r.v1], [1000, 2000], `output ${r.index}`);
      // indices strictly increase (nothing written twice), and the new segment's first cycle is near its true time
      for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.index > rows[i - 1]!.index);
      const firstAfter = valid.find((r) => r.index * CYCLE >= gapStart)!;
      assert.ok(Math.abs(firstAfter.index * CYCLE - start) <= CYCLE / 2, `first output of segment 1 at sample ${firstAfter.index * CYCLE}, true ${start}`);
    });
  }
});
