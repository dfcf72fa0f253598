import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type EnvelopeInit, frameEnvelope, packSamples, SampleFormat, SampleSource } from '../../../protocol/index.ts';
import { AcquisitionAssembler, type AcquisitionItem, type TimedLedEvent } from '../../../host/rig/assembler.ts';
import { type JournalEntry, JournalReplayer } from '../../../host/rig/journal.ts';

const config = { sampleRateHz: 1000, aux: { inputIds: [0], rateHz: 100 } };

function block(first: number, count: number, configId = 7, source = SampleSource.SAMPLE_SOURCE_DETECTOR): EnvelopeInit {
  const values = Array.from({ length: count }, (_, i) => (first + i) % 60000);
  return { sampleBlock: { configId, source, firstSampleIndex: first, sampleCount: count, channelIds: [0], format: SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples: packSamples(SampleFormat.SAMPLE_FORMAT_UINT16_LE, values) } };
}

function harness(): { a: AcquisitionAssembler; items: AcquisitionItem[]; feed: (e: EnvelopeInit) => void } {
  const items: AcquisitionItem[] = [];
  const a = new AcquisitionAssembler({ item: (i) => items.push(i) });
  const feed = (e: EnvelopeInit): void => a.message({ requestId: 0, ...e } as never);
  a.intent({ requestId: 1, command: 'configure', config });
  a.message({ requestId: 1, body: 'ack', ack: { configId: 7, sampleIndex: 0 } } as never);
  a.intent({ requestId: 2, command: 'start' });
  a.message({ requestId: 2, body: 'ack', ack: { configId: 7, sampleIndex: 0 } } as never);
  return { a, items, feed };
}

const decoded = (e: EnvelopeInit) => {
  const s = e.sampleBlock!;
  return { requestId: 0, body: 'sampleBlock', sampleBlock: { ...s, samples: s.samples } } as never;
};

describe('host/rig: session timeline', () => {
  it('records a gap for missing blocks (exact count) and drops duplicates, never shifting later samples', () => {
    const { a, items } = harness();
    for (const e of [block(0, 10), block(10, 10), block(10, 10), block(35, 5)]) a.message(decoded(e));
    assert.deepEqual(items.map((i) => [i.kind, i.sessionIndex, i.kind === 'gap' ? i.count : i.kind === 'block' ? i.sampleCount : 0]), [
      ['block', 0, 10], ['block', 10, 10], ['gap', 20, 15], ['block', 35, 5],
    ]);
    assert.equal(a.missingDetectorSamples, 15);
  });

  it('ignores blocks of another configuration and before Start is acked', () => {
    const items: AcquisitionItem[] = [];
    const a = new AcquisitionAssembler({ item: (i) => items.push(i) });
    a.message(decoded(block(0, 10)));
    assert.equal(items.length, 0);
    const { a: b, items: bi } = harness();
    b.message(decoded(block(0, 10, 6)));
    assert.equal(bi.length, 0);
  });

  it('places a resumed segment after an estimated gap, on both detector and aux timelines', () => {
    const { a, items } = harness();
    a.message(decoded(block(0, 100)));
    a.message(decoded(block(0, 10, 7, SampleSource.SAMPLE_SOURCE_AUX)));
    a.intent({ requestId: 3, command: 'configure', config });
    a.message({ requestId: 3, body: 'ack', ack: { configId: 8 } } as never);
    a.intent({ requestId: 4, command: 'start', resume: { reason: 'reconnect', missingDetectorSamples: 250 } });
    a.message({ requestId: 4, body: 'ack', ack: {} } as never);
    a.message(decoded(block(0, 100, 8)));
    a.message(decoded(block(0, 10, 8, SampleSource.SAMPLE_SOURCE_AUX)));
    const summary = items.map((i) => [i.kind, i.source, i.sessionIndex, i.kind === 'gap' ? i.count : i.kind === 'block' ? i.deviceIndex : 0]);
    assert.deepEqual(summary, [
      ['block', 'detector', 0, 0], ['block', 'aux', 0, 0],
      ['gap', 'detector', 100, 250], ['gap', 'aux', 10, 25],
      ['block', 'detector', 350, 0], ['block', 'aux', 35, 0],
    ]);
  });

  it("records samples after the last delivered block as missing when Stop's Ack names the next index (detector and aux)", () => {
    const { a, items } = harness();
    a.message(decoded(block(0, 100)));
    a.message(decoded(block(0, 10, 7, SampleSource.SAMPLE_SOURCE_AUX)));
    a.intent({ requestId: 3, command: 'stop' });
    a.message({ requestId: 3, body: 'ack', ack: { configId: 7, sampleIndex: 125 } } as never);
    assert.deepEqual(items.slice(2).map((i) => [i.kind, i.source, i.sessionIndex, i.kind === 'gap' ? i.count : 0]), [
      ['gap', 'detector', 100, 25], ['gap', 'aux', 10, 3],
    ]);
    assert.equal(a.missingDetectorSamples, 25);
    a.message({ requestId: 3, body: 'ack', ack: { configId: 7, sampleIndex: 125 } } as never); // a repeated Ack: nothing more
    assert.equal(items.length, 4);
  });

  it('the LED log: LedEvents of the configuration in force on the session timeline; Stop darkens the LEDs still lit at its Ack; a reset device\'s Stop darkens nothing', () => {
    const leds: TimedLedEvent[] = [];
    const a = new AcquisitionAssembler({ item: () => undefined, led: (e) => leds.push(e) });
    const ledConfig = { ...config, leds: [{ channel: 0, currentMa: 20 }, { channel: 2, currentMa: 10 }] };
    const led = (channel: number, currentMa: number, sampleIndex: number, configId: number) => ({ requestId: 0, body: 'ledEvent', ledEvent: { channel, currentMa, powerUw: 0, sampleIndex, configId } }) as never;
    const log = (): string[] => leds.splice(0).map((e) => `${e.channel}:${e.currentMa}@${e.sampleIndex}/${e.sessionIndex}${e.via ? ` ${e.via}` : ''}`);
    a.intent({ requestId: 1, command: 'configure', config: ledConfig });
    a.message({ requestId: 1, body: 'ack', ack: { configId: 7 } } as never);
    a.intent({ requestId: 2, command: 'start' });
    a.message({ requestId: 2, body: 'ack', ack: { configId: 7, sampleIndex: 0, deviceTimeUs: 1000 } } as never);
    a.message(led(0, 20, 0, 7));
    a.message(led(2, 10, 0, 7));
    a.message(decoded(block(0, 100)));
    a.message(led(2, 0, 100, 7)); // SetLed 0 mA on one LED
    a.message(led(0, 5, 100, 6)); // from an older configuration: not ours
    a.intent({ requestId: 3, command: 'stop' });
    a.message({ requestId: 3, body: 'ack', ack: { configId: 7, sampleIndex: 150, deviceTimeUs: 151_000 } } as never);
    assert.deepEqual(log(), ['0:20@0/0', '2:10@0/0', '2:0@100/100', '0:0@150/150 stop']);
    // resumed after a reconnect: Start's LedEvents land on the new segment
    a.intent({ requestId: 4, command: 'configure', config: ledConfig });
    a.message({ requestId: 4, body: 'ack', ack: { configId: 8 } } as never);
    a.intent({ requestId: 5, command: 'start', resume: { reason: 'reconnect', missingDetectorSamples: 50 } });
    a.message({ requestId: 5, body: 'ack', ack: { configId: 8, sampleIndex: 0 } } as never);
    a.message(led(0, 20, 0, 8));
    a.message(led(2, 10, 0, 8));
    a.message(decoded(block(0, 100, 8)));
    assert.deepEqual(log(), ['0:20@0/200', '2:10@0/200']);
    // the device was reset: it answers Stop with index and uptime 0 (it stopped nothing of ours)
    a.intent({ requestId: 6, command: 'stop' });
    a.message({ requestId: 6, body: 'ack', ack: { configId: 0, sampleIndex: 0, deviceTimeUs: 0 } } as never);
    assert.deepEqual(log(), []);
  });

  it('a refused command changes nothing', () => {
    const { a, items } = harness();
    a.intent({ requestId: 9, command: 'stop' });
    a.message({ requestId: 9, body: 'error', error: { code: 3 } } as never);
    a.message(decoded(block(0, 10)));
    assert.equal(items.length, 1);
  });

  it('journal replay gives the same items however the received bytes were chunked', () => {
    const stream = Buffer.concat([
      frameEnvelope({ requestId: 1, ack: { configId: 7 } }),
      frameEnvelope({ requestId: 2, ack: {} }),
      frameEnvelope(block(0, 10)), frameEnvelope(block(10, 10)), frameEnvelope(block(40, 10)),
    ]);
    const run = (cuts: number[]): unknown[] => {
      const r = new JournalReplayer();
      const out: unknown[] = [];
      const entries: JournalEntry[] = [
        { type: 'link', hostTimeUs: 0, state: 'open' },
        { type: 'intent', hostTimeUs: 0, intent: { requestId: 1, command: 'configure', config } },
        { type: 'intent', hostTimeUs: 0, intent: { requestId: 2, command: 'start' } },
      ];
      let at = 0;
      for (let i = 0; at < stream.length; i++) {
        const n = cuts[i % cuts.length]!;
        entries.push({ type: 'rx', hostTimeUs: 0, bytes: stream.subarray(at, at + n) });
        at += n;
      }
      for (const e of entries) for (const o of r.push(e)) out.push(o.kind === 'item' && o.item.kind === 'block' ? { ...o.item, samples: [...o.item.samples] } : o);
      return out;
    };
    const whole = run([stream.length]);
    assert.equal(whole.length, 4); // 2 blocks, a gap of 20, 1 block
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }), (cuts) => {
      assert.deepEqual(run(cuts), whole);
    }));
  });
});
