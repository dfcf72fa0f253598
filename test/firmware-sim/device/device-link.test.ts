// The simulated device's link and timing: bad frames, ring-buffer overruns, digital inputs and sync out, clocks and Status.
import assert from 'node:assert/strict';
import { Edge, encodeFrame, ErrorCode, frameEnvelope, PROTOCOL_VERSION } from '../../../protocol/index.ts';
import { AUX, CONTINUOUS, codes, DET, LOCK_IN, TestHost } from './helpers.ts';

describe('firmware-sim device: link, inputs, clock', () => {
  describe('robustness', () => {
    it('survives garbage, CRC errors, oversize frames and undecodable frames: counts them and keeps answering', () => {
      const h = new TestHost();
      h.hello();
      let seed = 99;
      const junk = new Uint8Array(20_000).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
      h.device.receive(junk);
      h.device.receive(new Uint8Array(9000).fill(0x55)); // no delimiter: an oversize frame in progress
      h.device.receive(Uint8Array.of(0));
      const good = frameEnvelope({ requestId: 5, getInfo: {} });
      const badCrc = good.slice();
      badCrc[3]! ^= 0x40;
      h.device.receive(badCrc);
      h.device.receive(encodeFrame(Uint8Array.of(0xff, 0xff, 0xff))); // CRC fine, not an Envelope
      h.device.advance(0.01);
      const frameError = h.received.find((m) => m.error?.code === ErrorCode.ERROR_CODE_FRAME_ERROR);
      assert.ok(frameError, 'FRAME_ERROR for a CRC-good undecodable frame');
      const r = h.device.frameRejections;
      assert.ok(r.oversize >= 1, JSON.stringify(r));
      assert.ok(r.crc + r.cobs >= 1, JSON.stringify(r));
      assert.ok(r.decode >= 1);
      assert.equal(h.request({ getInfo: {} }).body, 'deviceInfo');
      h.device.advance(0.6);
      const fr = h.of('status').at(-1)!.status!.framesRejected!;
      assert.equal(fr.decode, r.decode);
      assert.equal(fr.oversize, r.oversize);
      assert.equal(fr.crc, r.crc);
      assert.equal(fr.cobs, r.cobs);
    });

    it('counts a ring-buffer overrun when the link is too slow, and the index keeps counting', () => {
      const h = new TestHost({ linkBytesPerSecond: 20_000 }); // LOCK_IN needs ~43 kB/s
      h.startRun(LOCK_IN);
      h.device.advance(5);
      const stopId = h.send({ stop: {} });
      h.device.advance(5); // let the link drain: Stop's Ack comes after the last block
      const stop = h.received.find((m) => m.requestId === stopId)!;
      const status = h.device.statusNow()!;
      assert.ok((status.blocksDropped ?? 0) > 0);
      const lost = h.device.truth.lostRanges('detector', h.device.run);
      const lostSamples = lost.reduce((a, r) => a + r.count, 0);
      assert.equal(status.samplesDropped, lostSamples);
      const received = h.blocks(DET);
      // received blocks and dropped blocks tile [0, next) exactly
      const tiles = [...received.map((b) => [b.firstSampleIndex, b.sampleCount]), ...lost.map((r) => [r.first, r.count])].sort((a, b) => a[0]! - b[0]!);
      let next = 0;
      for (const [first, count] of tiles) {
        assert.equal(first, next);
        next += count!;
      }
      assert.equal(next, stop.ack!.sampleIndex);
      assert.ok(h.of('log').some((m) => /overrun/.test(m.log!.message)));
    });

    it('overruns when nobody reads, like a real device whose host stopped reading', () => {
      const h = new TestHost();
      h.device.outbox.sink = null; // bytes pile up in the 64 KiB host buffer
      const decoderFeed = (): void => {
        const chunk = h.device.read();
        if (chunk) h.decoder.push(chunk);
      };
      h.device.receive(frameEnvelope({ requestId: 1, hello: { protocol: { ...PROTOCOL_VERSION } } }));
      h.device.receive(frameEnvelope({ requestId: 2, configure: { config: LOCK_IN } }));
      h.device.receive(frameEnvelope({ requestId: 3, start: {} }));
      h.device.advance(5);
      assert.ok(h.device.outbox.length <= 64 * 1024 + 4096);
      assert.ok(h.device.statusNow()!.blocksDropped! > 0);
      decoderFeed();
      assert.ok(h.of('sampleBlock').length > 0);
    });
  });

  describe('digital inputs and sync out', () => {
    it('reports TTL edges with sample index and sub-sample ticks', () => {
      const h = new TestHost({ worldOptions: { ttl: { lineId: 1, periodS: 0.25, widthS: 0.01, phaseS: 0.10005 } } });
      h.startRun({ ...CONTINUOUS, digitalInputIds: [1] });
      const startW = h.device.worldTimeS; // sample 0 is taken at the Start
      h.device.advance(0.5);
      const ev = h.of('digitalEvent').map((m) => m.digitalEvent!);
      // rises at 0.10005 and 0.35005 s, falls 10 ms later; at 1 kHz, 84 MHz timer ticks per sample = 84000
      const expected = [[true, 0.10005], [false, 0.11005], [true, 0.35005], [false, 0.36005]].map(([rising, t]) => {
        const x = ((t as number) - startW) * 1000;
        return [1, rising ? Edge.EDGE_RISING : Edge.EDGE_FALLING, Math.floor(x), Math.round((x - Math.floor(x)) * 84_000)];
      });
      assert.equal(ev.length, 4);
      ev.forEach((e, i) => {
        const [line, edge, n, ticks] = expected[i]!;
        assert.deepEqual([e.line, e.edge, e.sampleIndex], [line, edge, n]);
        assert.ok(Math.abs(e.subsampleTicks - ticks!) <= 1, `${e.subsampleTicks} vs ${ticks}`);
        assert.equal(e.configId, h.device.configId);
      });
    });

    it('routes sync-out pulses to a digital input over a loopback wire', () => {
      const h = new TestHost({ loopbackWire: { toLine: 0 } });
      h.startRun({ ...CONTINUOUS, digitalInputIds: [0], syncOut: { enabled: true, line: 2, periodSamples: 250, pulseSamples: 5 } });
      h.device.advance(1.15);
      const ev = h.of('digitalEvent').map((m) => m.digitalEvent!);
      assert.deepEqual(ev.map((e) => [e.edge, e.sampleIndex, e.subsampleTicks]), [
        [1, 0, 0], [2, 5, 0], [1, 250, 0], [2, 255, 0], [1, 500, 0], [2, 505, 0], [1, 750, 0], [2, 755, 0], [1, 1000, 0], [2, 1005, 0],
      ]);
    });
  });

  describe('clock', () => {
    it('the world sees the drifted sample period; device time stays nominal', () => {
      const h = new TestHost({ driftPpm: 100 });
      const seen: Array<[number, number]> = [];
      const render = h.world.renderDetectors.bind(h.world);
      h.world.renderDetectors = (req) => {
        seen.push([req.t0S, req.dtS]);
        render(req);
      };
      h.startRun(CONTINUOUS);
      const startW = h.device.worldTimeS;
      h.device.advance(1);
      assert.ok(seen.length >= 10);
      const [t0, dt] = seen[3]!;
      assert.ok(Math.abs(dt - 1 / (1000 * (1 + 100e-6))) < 1e-15);
      assert.ok(Math.abs(t0 - (startW + 300 * dt)) < 1e-9);
      // the device clock runs 100 ppm fast against world time
      assert.ok(Math.abs(h.device.deviceTimeUs / 1e6 / h.device.worldTimeS - (1 + 100e-6)) < 1e-6);
    });

    it('advanceTo moves the device uptime clock to the given time (drift included)', () => {
      const h = new TestHost({ driftPpm: -250 });
      h.device.advanceTo(3_000_000);
      assert.ok(Math.abs(h.device.deviceTimeUs - 3_000_000) <= 1, String(h.device.deviceTimeUs));
      assert.ok(h.device.worldTimeS > 3, 'a slow crystal needs more world time');
      assert.throws(() => h.device.advance(-1), /advance/);
    });

    it('aux blocks carry the signed codes the world renders at the aux rate', () => {
      const h = new TestHost();
      const seen: number[] = [];
      const renderAux = h.world.renderAux.bind(h.world);
      h.world.renderAux = (req) => {
        seen.push(req.dtS);
        renderAux(req);
      };
      h.startRun(LOCK_IN);
      h.device.advance(0.6);
      const [b] = h.blocks(AUX);
      assert.equal(seen[0], 1 / 1000);
      const v = codes(b!);
      let negative = 0;
      for (let i = 0; i < v.length; i++) if (v[i]! < 0) negative++;
      assert.ok(negative > 10, 'bipolar EEG codes survive packing');
      assert.ok(Math.max(...Array.from(v)) <= 1000 && Math.min(...Array.from(v)) >= -1000);
    });

    it('sends Status every status_interval_ms', () => {
      const h = new TestHost();
      h.startRun({ ...CONTINUOUS, statusIntervalMs: 200 });
      h.device.advance(2.05);
      const st = h.of('status').map((m) => m.status!);
      assert.ok(st.length >= 10 && st.length <= 11, String(st.length));
      const last = st.at(-1)!;
      assert.equal(last.running, true);
      assert.equal(last.configId, h.device.configId);
      assert.ok(last.bufferFill >= 0 && last.bufferFill <= 1);
      assert.ok(last.temperatureC > 20);
    });
  });
});
