// Conformance: acquisition (Start/Stop, sample clock, SetLed, LedEvents, the heartbeat watchdog, SelfTest).
import assert from 'node:assert/strict';
import { DarkReason, LogLevel, SampleFormat, SampleSource, SelfTestOutcome } from '../../protocol/index.ts';
import {
  B, boardPos, c, collectCodes, continuous, detPos, dets, FS, info, led0, led1, modelCode, run, sleep, stop, target,
} from './harness.ts';

export function acquisitionTests(): void {
  describe('acquisition', () => {
    it('Start/Stop: contiguous sample indices, whole blocks, every block before the Stop Ack, idempotent Stop', async () => {
      const aux = info.auxInputs.length > 0 ? { inputIds: [info.auxInputs[0]!.id], rateHz: FS / 4 } : null;
      const config = continuous({ aux });
      const { mark, configId } = await run(config);
      await c.waitFor(() => c.contiguousSamples(mark) >= 6 * B, 10_000, `${6 * B} samples`);
      const n = await stop(mark);
      assert.ok(n >= 6 * B);
      const blocks = c.blocks(SampleSource.SAMPLE_SOURCE_DETECTOR, mark);
      blocks.forEach((b, i) => {
        assert.equal(b.configId, configId);
        assert.deepEqual(b.channelIds, dets);
        assert.equal(b.format, SampleFormat.SAMPLE_FORMAT_UINT16_LE);
        assert.equal(b.samples.length, b.sampleCount * dets.length * 2);
        if (i < blocks.length - 1) assert.equal(b.sampleCount, B, 'only the last block of a run may be short');
      });
      if (aux) {
        const auxN = Math.ceil(n / 4);
        await c.waitFor(() => c.contiguousSamples(mark, SampleSource.SAMPLE_SOURCE_AUX) === auxN, 5000, `${auxN} aux samples`);
        for (const b of c.blocks(SampleSource.SAMPLE_SOURCE_AUX, mark)) {
          assert.equal(b.format, SampleFormat.SAMPLE_FORMAT_INT16_LE);
          assert.deepEqual(b.channelIds, aux.inputIds);
        }
      }
      const again = await c.ack({ stop: {} });
      assert.equal(again.sampleIndex, n, 'a repeated Stop gets the same answer');
      const s = await c.nextStatus();
      assert.equal(s.running, false);
      assert.equal(s.sampleIndex, 0);
      assert.equal(s.darkReason, DarkReason.DARK_REASON_STOPPED);
      assert.ok(s.leds.every((l) => l.currentMa === 0), 'LEDs are dark when stopped');
      // a new run restarts the sample index at 0 under the same configuration
      const mark2 = c.received.length;
      const restart = await c.ack({ start: {} });
      assert.deepEqual([restart.configId, restart.sampleIndex], [configId, 0]);
      await c.waitFor(() => c.contiguousSamples(mark2) >= B, 10_000, 'the first block of the second run');
      assert.equal(c.blocks(SampleSource.SAMPLE_SOURCE_DETECTOR, mark2)[0]!.firstSampleIndex, 0);
      await stop(mark2);
    });

    it('AuxConfig.block_samples (1.2): aux blocks of their own size, contiguous, while detector blocks keep block_samples', async function () {
      if (info.auxInputs.length === 0) this.skip(); // a board without aux inputs
      const aux = { inputIds: [info.auxInputs[0]!.id], rateHz: FS / 4, blockSamples: 7 };
      const { mark } = await run(continuous({ aux }));
      await c.waitFor(() => c.contiguousSamples(mark) >= 4 * B, 10_000, `${4 * B} samples`);
      const n = await stop(mark);
      const auxN = Math.ceil(n / 4);
      await c.waitFor(() => c.contiguousSamples(mark, SampleSource.SAMPLE_SOURCE_AUX) === auxN, 5000, `${auxN} aux samples`);
      const auxBlocks = c.blocks(SampleSource.SAMPLE_SOURCE_AUX, mark);
      assert.ok(auxBlocks.length >= 2);
      auxBlocks.forEach((b, i) => {
        if (i < auxBlocks.length - 1) assert.equal(b.sampleCount, 7, 'aux blocks hold aux.block_samples (only the last may be short)');
      });
      const detBlocks = c.blocks(SampleSource.SAMPLE_SOURCE_DETECTOR, mark);
      for (const b of detBlocks.slice(0, -1)) assert.equal(b.sampleCount, B);
    });

    it('HeartbeatAck.reply_queued_us (1.2): never longer than the round trip the host measured, idle or while blocks flow', async () => {
      const check = async (what: string): Promise<void> => {
        const t0 = performance.now();
        const hb = (await c.request({ heartbeat: { hostTimeUs: 7 } })).heartbeatAck!;
        const rttUs = (performance.now() - t0) * 1000;
        assert.ok(hb.replyQueuedUs <= rttUs * 1.01 + 100, `${what}: the reply waited ${hb.replyQueuedUs} µs in a ${rttUs.toFixed(0)} µs round trip`);
      };
      await check('idle');
      const { mark } = await run(continuous());
      for (let i = 0; i < 5; i++) {
        await sleep(37);
        await check('running');
      }
      await stop(mark);
    });

    it('Start and Stop Acks name the device uptime of their sample index (±2 sample periods of the heartbeats; Stop − Start = N / fs ±1 µs)', async () => {
      const before = (await c.request({ heartbeat: { hostTimeUs: 1 } })).heartbeatAck!;
      const configId = (await c.ack({ configure: { config: continuous() } })).configId;
      const mark = c.received.length;
      const start = await c.ack({ start: {} });
      assert.equal(start.configId, configId);
      const periodUs = 1e6 / FS;
      assert.ok(start.deviceTimeUs >= before.deviceTimeUs, `Start's uptime ${start.deviceTimeUs} µs is before a heartbeat sent before it (${before.deviceTimeUs} µs)`);
      await sleep(300);
      const hb = (await c.request({ heartbeat: { hostTimeUs: 2 } })).heartbeatAck!;
      assert.equal(hb.running, true);
      const elapsedUs = hb.deviceTimeUs - start.deviceTimeUs;
      const predictedUs = start.deviceTimeUs + (hb.sampleIndex * 1e6) / FS;
      assert.ok(Math.abs(predictedUs - hb.deviceTimeUs) <= 2 * periodUs + 0.005 * elapsedUs, `sample ${hb.sampleIndex} predicted at ${predictedUs} µs from Start's uptime, heartbeat says ${hb.deviceTimeUs} µs`);
      const n = await stop(mark);
      const stopAck = c.received.filter((m) => m.ack && m.ack.sampleIndex === n).at(-1)!.ack!;
      assert.ok(Math.abs(stopAck.deviceTimeUs - start.deviceTimeUs - (n * 1e6) / FS) <= 1, `Stop at index ${n}: uptime ${stopAck.deviceTimeUs} µs, Start ${start.deviceTimeUs} µs`);
      const after = (await c.request({ heartbeat: { hostTimeUs: 3 } })).heartbeatAck!;
      assert.ok(stopAck.deviceTimeUs <= after.deviceTimeUs + periodUs, 'Stop took effect before a later heartbeat');
      const again = await c.ack({ stop: {} });
      assert.deepEqual([again.sampleIndex, again.deviceTimeUs], [n, stopAck.deviceTimeUs], 'a repeated Stop repeats index and uptime');
    });

    it('block cadence in device time: the sample clock runs at sample_rate_hz of the device clock', async () => {
      const { mark } = await run(continuous());
      await sleep(200);
      const a = (await c.request({ heartbeat: { hostTimeUs: 1 } })).heartbeatAck!;
      await sleep(1200);
      const b = (await c.request({ heartbeat: { hostTimeUs: 2 } })).heartbeatAck!;
      assert.equal(a.running && b.running, true);
      const rate = ((b.sampleIndex - a.sampleIndex) / (b.deviceTimeUs - a.deviceTimeUs)) * 1e6;
      assert.ok(Math.abs(rate - FS) <= FS * 0.005 + 2e6 / (b.deviceTimeUs - a.deviceTimeUs), `sample clock ${rate.toFixed(2)} Hz, configured ${FS} Hz`);
      // blocks are produced as their last sample is taken: by a heartbeat at index S, every block ending
      // at or before S - B has been sent (a little later on the wire)
      await c.waitFor(() => c.contiguousSamples(mark) >= Math.floor(b.sampleIndex / B) * B, 5000, 'the blocks up to the heartbeat');
      const statuses = c.since(mark).filter((m) => m.status?.running).map((m) => m.status!);
      assert.ok(statuses.length >= 2, 'Status keeps coming while running');
      for (let i = 1; i < statuses.length; i++) {
        const s0 = statuses[i - 1]!;
        const s1 = statuses[i]!;
        assert.ok(s1.sampleIndex >= s0.sampleIndex && s1.deviceTimeUs > s0.deviceTimeUs, 'Status sample index and device time advance');
        const r = ((s1.sampleIndex - s0.sampleIndex) / (s1.deviceTimeUs - s0.deviceTimeUs)) * 1e6;
        assert.ok(Math.abs(r - FS) < FS * 0.02 + 2e6 / (s1.deviceTimeUs - s0.deviceTimeUs), `Status cadence ${r.toFixed(1)} Hz`);
      }
      await stop(mark);
    });

    it('SetLed takes effect at a block boundary, announced by a LedEvent (and by the codes, where modelled)', async () => {
      const { mark, configId } = await run(continuous());
      await c.waitFor(() => c.contiguousSamples(mark) >= 2 * B, 10_000, 'two blocks');
      const ack = await c.ack({ setLed: { channel: led0, currentMa: 20 } });
      const at = ack.sampleIndex;
      assert.equal(at % B, 0, 'the change starts a block');
      assert.ok(at >= 2 * B);
      const ev = await c.waitFor(() => c.since(mark).find((m) => m.ledEvent && m.ledEvent.sampleIndex > 0)?.ledEvent, 5000, 'the LedEvent');
      assert.deepEqual({ channel: ev.channel, currentMa: ev.currentMa, sampleIndex: ev.sampleIndex, configId: ev.configId },
        { channel: led0, currentMa: 20, sampleIndex: at, configId });
      await c.waitFor(() => c.contiguousSamples(mark) >= at + B, 10_000, 'the block after the change');
      const s = await c.nextStatus();
      assert.equal(s.leds.find((l) => l.channel === led0)?.currentMa, 20);
      const n = await stop(mark);
      assert.ok(n > at);
      if (!target!.analogUnmodelledReason) {
        const codes = collectCodes(c.blocks(SampleSource.SAMPLE_SOURCE_DETECTOR, mark));
        const p = boardPos(led0);
        for (let d = 0; d < dets.length; d++) {
          const before = new Array(info.leds.length).fill(0);
          before[p] = 10;
          const after = new Array(info.leds.length).fill(0);
          after[p] = 20;
          assert.equal(codes[at - 1]![d], modelCode(detPos(dets[d]!), before), `detector ${dets[d]} just before the change`);
          assert.equal(codes[at]![d], modelCode(detPos(dets[d]!), after), `detector ${dets[d]} at the change`);
        }
      }
      // stopped: the new level is stored, no LedEvent
      const mark2 = c.received.length;
      assert.equal((await c.ack({ setLed: { channel: led0, currentMa: 5 } })).sampleIndex, 0);
      await sleep(100);
      assert.equal(c.since(mark2).filter((m) => m.ledEvent).length, 0, 'no LedEvent while stopped');
    });

    it('Start announces the drive of every configured LED with a LedEvent at sample 0, after its Ack (powers included)', async () => {
      const config = continuous({ leds: [{ channel: led0, currentMa: 10 }, { channel: led1, currentMa: 5 }] });
      const { mark, configId } = await run(config);
      const evs = await c.waitFor(() => {
        const e = c.since(mark).filter((m) => m.ledEvent).map((m) => m.ledEvent!);
        return e.length >= 2 ? e : null;
      }, 5000, 'the LedEvents of Start');
      assert.deepEqual(evs.map((e) => [e.channel, e.currentMa, e.sampleIndex, e.configId]).sort(), [[led0, 10, 0, configId], [led1, 5, 0, configId]].sort());
      const ackAt = c.received.findIndex((m, i) => i >= mark && m.body === 'ack');
      assert.ok(ackAt >= 0 && c.received.findIndex((m, i) => i >= mark && m.body === 'ledEvent') > ackAt, 'after the Ack of Start');
      await c.waitFor(() => c.contiguousSamples(mark) >= B, 10_000, 'a block');
      assert.ok((await stop(mark)) >= B);
      assert.equal(c.since(mark).filter((m) => m.ledEvent).length, 2, 'Stop sends no LedEvent: its Ack names where the LEDs went dark');
    });

    it('the heartbeat watchdog darkens every LED, a Heartbeat does not relight them, SetLed re-arms', async () => {
      const hb = 200;
      const { mark } = await run(continuous({ heartbeatTimeoutMs: hb, leds: [{ channel: led0, currentMa: 10 }, { channel: led1, currentMa: 5 }] }));
      const dark = await c.waitFor(() => {
        const evs = c.since(mark).filter((m) => m.ledEvent && m.ledEvent.sampleIndex > 0).map((m) => m.ledEvent!);
        return evs.length >= 2 ? evs : null;
      }, 5000, 'LedEvents from the watchdog');
      assert.deepEqual(dark.map((e) => [e.channel, e.currentMa]).sort(), [[led0, 0], [led1, 0]]);
      const at = dark[0]!.sampleIndex;
      assert.ok(dark.every((e) => e.sampleIndex === at));
      const due = (hb / 1000) * FS;
      assert.ok(at >= due && at <= due + 0.05 * FS, `LEDs dark from sample ${at}, the deadline is sample ${due}`);
      assert.ok(c.since(mark).some((m) => m.log?.level === LogLevel.LOG_LEVEL_WARN), 'a Log warns');
      await c.request({ heartbeat: { hostTimeUs: 1 } });
      const s = await c.nextStatus();
      assert.equal(s.running, true);
      assert.equal(s.darkReason, DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT);
      assert.ok(s.leds.every((l) => l.currentMa === 0), 'every LED is dark');
      // re-arm: every configured LED back at its commanded level (the new one for its channel)
      const mark2 = c.received.length;
      const rearm = await c.ack({ setLed: { channel: led1, currentMa: 7 } });
      const beat = setInterval(() => c.send({ heartbeat: { hostTimeUs: 3 } }), 40);
      try {
        const lit = await c.waitFor(() => {
          const evs = c.since(mark2).filter((m) => m.ledEvent).map((m) => m.ledEvent!);
          return evs.length >= 2 ? evs : null;
        }, 5000, 'LedEvents of the re-arm');
        assert.deepEqual(lit.map((e) => [e.channel, e.currentMa]).sort(), [[led0, 10], [led1, 7]]);
        assert.ok(lit.every((e) => e.sampleIndex === rearm.sampleIndex && e.sampleIndex % B === 0));
        await c.waitFor(() => c.contiguousSamples(mark) >= rearm.sampleIndex + B, 10_000, 'a block after the re-arm');
        const s2 = await c.nextStatus();
        assert.equal(s2.darkReason, DarkReason.DARK_REASON_NONE);
      } finally {
        clearInterval(beat);
      }
      await stop(mark);
      if (!target!.analogUnmodelledReason) {
        const codes = collectCodes(c.blocks(SampleSource.SAMPLE_SOURCE_DETECTOR, mark));
        const zero = new Array(info.leds.length).fill(0);
        for (let d = 0; d < dets.length; d++) {
          for (let n = at; n < rearm.sampleIndex; n++) assert.equal(codes[n]![d], modelCode(detPos(dets[d]!), zero), `sample ${n} is dark`);
        }
      }
    });

    it('SelfTest reports every item, with no failure', async () => {
      const r = await c.request({ selfTest: {} }, 10_000);
      assert.equal(r.body, 'selfTestReport');
      const items = r.selfTestReport!.items;
      assert.ok(items.length >= 3);
      for (const it of items) {
        assert.ok(it.name.length > 0);
        assert.notEqual(it.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_UNSPECIFIED, `${it.name} has an outcome`);
        assert.notEqual(it.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_FAIL, `${it.name}: ${it.detail}`);
      }
    });
  });
}
