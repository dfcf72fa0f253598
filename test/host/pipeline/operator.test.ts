// The demodulate() operator: RxJS composes, SignalDemodulator does the work. Its output must be
// what SignalDemodulator.push gives, item by item, and its errors must reach the subscriber.
import assert from 'node:assert/strict';
import { Subject } from 'rxjs';
import { deviceInfoOf, DEFAULT_BOARD } from '../../../firmware-sim/device/board.ts';
import { demodulate, type SignalBlock, SignalDemodulator } from '../../../host/pipeline/demodulate.ts';
import type { AcquisitionItem, RigBlock } from '../../../host/rig/rig.ts';
import { type DeviceInfo, ModulationMode } from '../../../protocol/index.ts';

const info = deviceInfoOf(DEFAULT_BOARD, new Set()) as unknown as DeviceInfo;
const detector = info.detectors[0]!.id;
const config = {
  mode: ModulationMode.MODULATION_MODE_LOCK_IN, sampleRateHz: 10_000, detectorIds: [detector], blockSamples: 250,
  leds: [{ channel: info.leds[0]!.id, currentMa: 20, carrierHz: 648 }, { channel: info.leds[1]!.id, currentMa: 20, carrierHz: 1150 }],
};

function block(index: number, count = 250): RigBlock {
  const samples = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const n = index + i;
    samples[i] = Math.round(20_000 + 3000 * Math.sin((2 * Math.PI * 648 * n) / 10_000) + 1000 * Math.cos((2 * Math.PI * 1150 * n) / 10_000));
  }
  return { kind: 'block', source: 'detector', sessionIndex: index, deviceIndex: index, sampleCount: count, channelIds: [detector], samples, configId: 1, segment: 0 };
}

describe('pipeline/demodulate operator', () => {
  it('emits exactly what SignalDemodulator.push gives, one emission per signal block, and completes', () => {
    const items: AcquisitionItem[] = [];
    for (let b = 0; b < 80; b++) items.push(block(b * 250));
    const demod = new SignalDemodulator(config, info);
    const direct = items.flatMap((i) => demod.push(i));
    const items$ = new Subject<AcquisitionItem>();
    const got: SignalBlock[] = [];
    let completed = false;
    items$.pipe(demodulate(config, info)).subscribe({ next: (s) => got.push(s), complete: () => { completed = true; } });
    for (const item of items) items$.next(item);
    items$.complete();
    assert.ok(completed);
    assert.equal(got.length, direct.length);
    assert.deepEqual(got, direct);
    assert.ok(got.some((s) => s.values.every((v) => v.every(Number.isFinite))), 'some settled outputs');
  });

  it('kept output arrays are never overwritten by later blocks (views of shared slabs), and do not overlap', () => {
    const demod = new SignalDemodulator(config, info);
    const kept: SignalBlock[] = [];
    const copies: number[][][] = [];
    for (let b = 0; b < 2000; b++) {
      for (const s of demod.push(block(b * 250))) {
        kept.push(s);
        copies.push([...s.values, ...(s.phaseRad ?? [])].map((v) => [...v]));
      }
    }
    assert.ok(kept.length > 1000);
    for (const [i, s] of kept.entries()) assert.deepEqual([...s.values, ...(s.phaseRad ?? [])].map((v) => [...v]), copies[i], `block ${i}`);
    const buffers = new Set(kept.flatMap((s) => s.values.map((v) => v.buffer)));
    assert.ok(buffers.size > 1 && buffers.size < kept.length / 10, `${buffers.size} buffers for ${kept.length} blocks`);
    const first = kept[0]!;
    const ranges = [...first.values, ...(first.phaseRad ?? [])].map((v) => [v.byteOffset, v.byteOffset + v.byteLength]).sort((a, b) => a[0]! - b[0]!);
    for (let k = 1; k < ranges.length; k++) assert.ok(ranges[k]![0]! >= ranges[k - 1]![1]!, 'channel arrays overlap');
  });

  it('a setting the demodulator refuses is an error on subscription', () => {
    const errors: unknown[] = [];
    new Subject<AcquisitionItem>().pipe(demodulate({ ...config, detectorIds: [99] }, info)).subscribe({ error: (e) => errors.push(e) });
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as { code?: string }).code, 'E_PIPELINE_CONFIG');
  });

  it('a block the demodulator cannot take is the output error, and the items are unsubscribed', () => {
    const items$ = new Subject<AcquisitionItem>();
    const errors: unknown[] = [];
    const got: SignalBlock[] = [];
    items$.pipe(demodulate(config, info)).subscribe({ next: (s) => got.push(s), error: (e) => errors.push(e) });
    items$.next(block(0));
    items$.next(block(1000)); // a jump with no gap item before it: the lock-in refuses the discontinuity
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as { code?: string }).code, 'E_DSP_DISCONTINUITY');
    assert.equal(items$.observed, false);
    items$.next(block(1250));
    assert.equal(errors.length, 1);
  });
});
