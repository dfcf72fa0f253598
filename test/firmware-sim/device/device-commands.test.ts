// The simulated device's command handling: handshake, Configure/Start/Stop, SetLed and the LED record.
import assert from 'node:assert/strict';
import { DarkReason, encodeEnvelope, encodeFrame, ErrorCode, PROTOCOL_VERSION, SampleFormat, SelfTestOutcome } from '../../../protocol/index.ts';
import { DEFAULT_BOARD } from '../../../firmware-sim/device/board.ts';
import { ledCurrentsAt, type ScheduleConfig } from '../../../firmware-sim/device/schedule.ts';
import { assertContinuous, AUX, CONTINUOUS, codes, DET, LOCK_IN, TDM, TestHost } from './helpers.ts';

describe('firmware-sim device: commands', () => {
  describe('handshake and info', () => {
    it('answers Hello with DeviceInfo describing the board', () => {
      const h = new TestHost();
      const info = h.hello().deviceInfo!;
      assert.deepEqual({ major: info.protocol!.major, minor: info.protocol!.minor }, { ...PROTOCOL_VERSION });
      assert.deepEqual(info.leds.map((l) => l.wavelengthNm), [405, 470, 560, 630]);
      assert.deepEqual(info.leds.map((l) => l.id), [0, 1, 2, 3]);
      assert.equal(info.leds[0]!.maxCurrentContinuousMa, 50);
      assert.equal(info.leds[0]!.maxCurrentPulsedMa, 100);
      assert.equal(info.leds[0]!.dacBits, 12);
      assert.deepEqual(info.detectors.map((d) => [d.id, d.adcBits, d.maxRateHz]), [[0, 16, 20_000], [1, 16, 20_000]]);
      assert.deepEqual(info.auxInputs.map((a) => [a.id, a.label]), [[0, 'EEG'], [1, 'EMG']]);
      assert.deepEqual(info.digitalLines.map((d) => [d.id, d.direction]), [[0, 1], [1, 1], [2, 2]]);
      assert.equal(info.timerClockHz, 84_000_000);
      // the frame limit (COBS of the largest message + CRC), and the message limit beside it
      assert.equal(info.maxFrameBytes, 4375);
      assert.equal(info.maxMessageBytes, 4352);
      // 16-bit codes over a 3.3 V span behind a gain of 1000: 3.3 / 65536 / 1000 V at the electrode per code
      for (const a of info.auxInputs) assert.ok(Math.abs(a.electrodeVoltsPerCode / (Math.fround(3.3) / 65536 / 1000) - 1) < 1e-12, `${a.label} ${a.electrodeVoltsPerCode}`);
      assert.equal(info.maxBlockSamples, DEFAULT_BOARD.maxBlockSamples);
      assert.equal(info.bufferBlocks, DEFAULT_BOARD.bufferBlocks);
      assert.equal(info.calibrationStored, false);
    });

    it('refuses another protocol major (or none) with VERSION_MISMATCH', () => {
      const h = new TestHost();
      const e = h.request({ hello: { protocol: { major: PROTOCOL_VERSION.major + 1, minor: 0 } } });
      assert.equal(e.error?.code, ErrorCode.ERROR_CODE_VERSION_MISMATCH);
      assert.equal(e.error?.field, 'hello.protocol');
      assert.equal(h.request({ hello: {} }).error?.code, ErrorCode.ERROR_CODE_VERSION_MISMATCH);
      // a newer minor is fine
      assert.equal(h.request({ hello: { protocol: { major: PROTOCOL_VERSION.major, minor: 99 } } }).body, 'deviceInfo');
    });

    it('serves only Hello, GetInfo, Heartbeat, Reset, EnterBootloader before Hello', () => {
      const h = new TestHost();
      const e = h.request({ configure: { config: CONTINUOUS } });
      assert.equal(e.error?.code, ErrorCode.ERROR_CODE_NOT_CONFIGURED);
      assert.equal(e.error?.field, 'hello');
      assert.equal(h.request({ getInfo: {} }).body, 'deviceInfo');
      assert.equal(h.request({ heartbeat: { hostTimeUs: 5 } }).body, 'heartbeatAck');
      h.hello();
      assert.equal(h.request({ configure: { config: CONTINUOUS } }).body, 'ack');
    });

    it('echoes request_id on every reply, errors included', () => {
      const h = new TestHost();
      const ids = [7, 4_000_000_000, 1, 99];
      h.send({ hello: { protocol: { ...PROTOCOL_VERSION } } }, ids[0]);
      h.send({ configure: { config: { ...CONTINUOUS, sampleRateHz: 0 } } }, ids[1]);
      h.send({ start: {} }, ids[2]);
      h.send({ heartbeat: {} }, ids[3]);
      h.device.advance(0.01);
      const replies = h.received.filter((m) => m.requestId !== 0);
      assert.deepEqual(replies.map((m) => m.requestId), ids);
      assert.deepEqual(replies.map((m) => m.body), ['deviceInfo', 'error', 'error', 'heartbeatAck']);
    });

    it('answers an unknown or device-to-host body with UNKNOWN_COMMAND', () => {
      const h = new TestHost();
      h.hello();
      assert.equal(h.request({}).error?.code, ErrorCode.ERROR_CODE_UNKNOWN_COMMAND);
      assert.equal(h.request({ ack: { configId: 1 } }).error?.code, ErrorCode.ERROR_CODE_UNKNOWN_COMMAND);
      // a future command: request_id 77 plus an unknown field 30 (varint) the device cannot name
      h.device.receive(encodeFrame(Uint8Array.from([...encodeEnvelope({ requestId: 77 }), 0xf0, 0x01, 0x01])));
      h.device.advance(0.001);
      const r = h.received.find((m) => m.requestId === 77);
      assert.equal(r?.error?.code, ErrorCode.ERROR_CODE_UNKNOWN_COMMAND);
    });
  });

  describe('configure, start, stop', () => {
    it('acks each accepted Configure with a new config_id and reports the offending field otherwise', () => {
      const h = new TestHost();
      h.hello();
      const a = h.configure(CONTINUOUS).ack!.configId;
      const b = h.configure(LOCK_IN).ack!.configId;
      assert.ok(a > 0 && b > a);
      const e = h.configure({ ...LOCK_IN, leds: [{ channel: 0, currentMa: 20, carrierHz: 211 }, { channel: 1, currentMa: 30, carrierHz: 230 }] });
      assert.equal(e.error?.code, ErrorCode.ERROR_CODE_INVALID_CONFIG);
      assert.equal(e.error?.field, 'config.leds[1].carrier_hz');
      assert.equal(h.configure({}).error?.code, ErrorCode.ERROR_CODE_INVALID_CONFIG);
      assert.equal(h.request({ configure: {} }).error?.field, 'config');
      assert.equal(h.device.configId, b, 'a rejected Configure keeps the configuration in force');
    });

    it('refuses Start before Configure, Configure and Start while running (BUSY)', () => {
      const h = new TestHost();
      h.hello();
      assert.equal(h.request({ start: {} }).error?.code, ErrorCode.ERROR_CODE_NOT_CONFIGURED);
      h.configure(CONTINUOUS);
      const s = h.request({ start: {} });
      assert.equal(s.ack?.sampleIndex, 0);
      assert.equal(s.ack?.configId, h.device.configId);
      assert.equal(h.configure(CONTINUOUS).error?.code, ErrorCode.ERROR_CODE_BUSY);
      assert.equal(h.request({ start: {} }).error?.code, ErrorCode.ERROR_CODE_BUSY);
    });

    it('streams contiguous blocks, and Stop acks the next index after every block of the run', () => {
      const h = new TestHost();
      h.startRun(LOCK_IN);
      h.device.advance(2.0123);
      const stop = h.request({ stop: {} });
      const next = stop.ack!.sampleIndex;
      assert.equal(next, 20_123);
      const det = h.blocks(DET);
      assertContinuous(det, next);
      assert.ok(det.slice(0, -1).every((b) => b.sampleCount === 256));
      const stopAt = h.received.indexOf(stop);
      assert.ok(h.received.findIndex((m) => m.body === 'sampleBlock' && m.sampleBlock!.source === DET && m.sampleBlock!.firstSampleIndex === det.at(-1)!.firstSampleIndex) < stopAt);
      const aux = h.blocks(AUX);
      assertContinuous(aux, Math.ceil(next / 10));
      for (const b of det) {
        assert.deepEqual(b.channelIds, [0, 1]);
        assert.equal(b.format, SampleFormat.SAMPLE_FORMAT_UINT16_LE);
        assert.equal(b.configId, h.device.configId);
      }
      for (const b of aux) {
        assert.deepEqual(b.channelIds, [0, 1]);
        assert.equal(b.format, SampleFormat.SAMPLE_FORMAT_INT16_LE);
      }
      // restart: the index restarts at 0
      h.clear();
      h.request({ start: {} });
      h.device.advance(0.1);
      assert.equal(h.request({ stop: {} }).ack!.sampleIndex, 1000);
      assert.equal(h.blocks(DET)[0]!.firstSampleIndex, 0);
      // Stop when stopped: the same Ack again (a retry is harmless)
      assert.equal(h.request({ stop: {} }).ack!.sampleIndex, 1000);
    });

    it('samples what the schedule drives: detector codes equal the linear world of the schedule currents', () => {
      for (const config of [LOCK_IN, TDM, CONTINUOUS]) {
        const h = new TestHost();
        h.startRun(config);
        h.device.advance(0.3);
        h.request({ stop: {} });
        const cfg = h.device.currentConfig!;
        const sc: ScheduleConfig = { mode: cfg.mode, sampleRateHz: cfg.sampleRateHz, leds: cfg.leds, timeDivision: cfg.timeDivision };
        const boardCurrents = new Float64Array(4);
        let checked = 0;
        for (const b of h.blocks(DET)) {
          const v = codes(b);
          const nc = b.channelIds.length;
          for (let i = 0; i < b.sampleCount; i++) {
            const cur = ledCurrentsAt(sc, b.firstSampleIndex + i);
            boardCurrents.fill(0);
            cfg.leds.forEach((l, k) => {
              boardCurrents[l.boardIndex] = Math.fround(cur[k]!);
            });
            for (let c = 0; c < nc; c++) {
              assert.equal(v[i * nc + c], h.world.expectedCode(cfg.detectorBoardIndex[c]!, boardCurrents), `mode ${cfg.mode} sample ${b.firstSampleIndex + i}`);
              checked++;
            }
          }
        }
        assert.ok(checked > 100);
      }
    });

    it('darkens LEDs on Stop (Status leds 0, dark_reason STOPPED)', () => {
      const h = new TestHost();
      h.startRun(CONTINUOUS);
      h.device.advance(0.6);
      const running = h.of('status').at(-1)!.status!;
      assert.equal(running.darkReason, DarkReason.DARK_REASON_NONE);
      assert.equal(running.leds.find((l) => l.channel === 1)!.currentMa, 10);
      h.request({ stop: {} });
      h.device.advance(0.6);
      const stopped = h.of('status').at(-1)!.status!;
      assert.equal(stopped.running, false);
      assert.equal(stopped.darkReason, DarkReason.DARK_REASON_STOPPED);
      assert.ok(stopped.leds.every((l) => l.currentMa === 0));
      assert.equal(stopped.sampleIndex, 0);
    });
  });

  describe('SetLed', () => {
    it('changes the drive at the next block boundary with a LedEvent naming the sample index', () => {
      const h = new TestHost();
      h.startRun(CONTINUOUS); // 1 kHz, blocks of 100
      h.device.advance(0.25);
      const ack = h.request({ setLed: { channel: 1, currentMa: 25 } }).ack!;
      assert.equal(ack.sampleIndex, 300);
      h.device.advance(0.001); // the LedEvent follows the Ack on the stream path
      const ev = h.ledChanges()[0]!;
      assert.deepEqual([ev.channel, ev.currentMa, ev.sampleIndex, ev.configId], [1, 25, 300, h.device.configId]);
      h.device.advance(0.2);
      h.request({ stop: {} });
      const det = h.blocks(DET);
      const level = (n: number): number => {
        const b = det.find((x) => n >= x.firstSampleIndex && n < x.firstSampleIndex + x.sampleCount)!;
        return codes(b)[n - b.firstSampleIndex]!;
      };
      const before = h.world.expectedCode(0, [0, 10, 0, 0]);
      const after = h.world.expectedCode(0, [0, 25, 0, 0]);
      assert.notEqual(before, after);
      assert.equal(level(299), before);
      assert.equal(level(300), after);
    });

    it('while stopped updates the level used at the next Start, without a LedEvent', () => {
      const h = new TestHost();
      h.hello();
      h.configure(CONTINUOUS);
      assert.equal(h.request({ setLed: { channel: 1, currentMa: 5 } }).ack!.sampleIndex, 0);
      assert.equal(h.of('ledEvent').length, 0);
      h.request({ start: {} });
      h.device.advance(0.15);
      assert.equal(codes(h.blocks(DET)[0]!)[0], h.world.expectedCode(0, [0, 5, 0, 0]));
      // Start announces the level it applies from sample 0
      assert.deepEqual(h.of('ledEvent').map((m) => [m.ledEvent!.channel, m.ledEvent!.currentMa, m.ledEvent!.sampleIndex]), [[1, 5, 0]]);
    });

    it('enforces the limit and the configuration on every path', () => {
      const h = new TestHost();
      h.startRun(CONTINUOUS);
      assert.equal(h.request({ setLed: { channel: 1, currentMa: 50.01 } }).error?.code, ErrorCode.ERROR_CODE_LIMIT_EXCEEDED);
      assert.equal(h.request({ setLed: { channel: 0, currentMa: 1 } }).error?.field, 'set_led.channel');
      assert.equal(h.request({ setLed: { channel: 6, currentMa: 1 } }).error?.code, ErrorCode.ERROR_CODE_UNKNOWN_CHANNEL);
      assert.equal(h.request({ setLed: { channel: 1, powerUw: 3 } }).error?.code, ErrorCode.ERROR_CODE_NOT_CALIBRATED);
    });
  });

  describe('LED record', () => {
    it('Start announces the drive of every configured LED at sample 0, after its Ack', () => {
      const h = new TestHost();
      h.hello();
      h.configure(LOCK_IN);
      const id = h.send({ start: {} });
      h.device.advance(0.001);
      const ackAt = h.received.findIndex((m) => m.requestId === id);
      const events = h.received.map((m, i) => ({ m, i })).filter(({ m }) => m.body === 'ledEvent');
      assert.ok(ackAt >= 0 && events.every(({ i }) => i > ackAt), 'the LedEvents follow the Ack');
      assert.deepEqual(events.map(({ m }) => [m.ledEvent!.channel, m.ledEvent!.currentMa, m.ledEvent!.sampleIndex, m.ledEvent!.configId]),
        [[0, 20, 0, h.device.configId], [1, 30, 0, h.device.configId], [2, 10, 0, h.device.configId]]);
    });

    it('its LedEvents and Stop\'s Ack name exactly the samples the ground truth saw rendered with each drive (start, SetLed, watchdog, re-arm, stop, reset)', () => {
      const h = new TestHost();
      h.startRun({ ...LOCK_IN, heartbeatTimeoutMs: 500 });
      h.device.advance(0.3);
      h.request({ heartbeat: {} });
      h.request({ setLed: { channel: 1, currentMa: 25 } });
      h.device.advance(1.0); // no heartbeat: the watchdog darkens every LED
      h.request({ setLed: { channel: 2, currentMa: 12 } }); // re-arms
      h.device.advance(0.2);
      const stop = h.request({ stop: {} }).ack!;
      h.request({ start: {} });
      h.device.advance(0.3);
      h.request({ reset: {} });
      const truth = h.device.truth.drives;
      const announced = h.of('ledEvent').map((m) => m.ledEvent!);
      const key = (run: number, channel: number, currentMa: number, sampleIndex: number): string => `${run}:${channel}:${currentMa}@${sampleIndex}`;
      // runs are numbered from 1; the second Start's events follow the first Stop's Ack
      const stopAt = h.received.findIndex((m) => m.ack && m.ack.sampleIndex === stop.sampleIndex && m.ack.deviceTimeUs === stop.deviceTimeUs);
      const runOf = (e: (typeof announced)[number]): number => (h.received.findIndex((m) => m.ledEvent === e) > stopAt ? 2 : 1);
      assert.deepEqual(
        announced.map((e) => key(runOf(e), e.channel, e.currentMa, e.sampleIndex)),
        truth.filter((d) => d.cause === 'start' || d.cause === 'change').map((d) => key(d.run, d.channel, d.currentMa, d.sampleIndex)),
      );
      assert.deepEqual(new Set(truth.filter((d) => d.cause === 'change' && d.currentMa === 0).map((d) => d.channel)), new Set([0, 1, 2]), 'the watchdog darkened every LED');
      const stopped = truth.filter((d) => d.cause === 'stop');
      assert.equal(stopped.length, 3);
      assert.ok(stopped.every((d) => d.run === 1 && d.currentMa === 0 && d.sampleIndex === stop.sampleIndex), 'Stop\'s Ack names where they went dark');
      const reset = truth.filter((d) => d.cause === 'reset');
      assert.deepEqual(reset.map((d) => [d.run, d.channel, d.currentMa]), [[2, 0, 0], [2, 1, 0], [2, 2, 0]]);
      assert.ok(reset[0]!.sampleIndex >= 2900 && reset[0]!.sampleIndex <= 3100, `reset at ${reset[0]!.sampleIndex}`);
    });
  });

  describe('runs', () => {
    it('each Start begins a fresh run: drops, watchdog trip, pending drive changes and the last Stop of the previous run do not carry over', () => {
      const h = new TestHost();
      h.startRun({ ...LOCK_IN, heartbeatTimeoutMs: 500 });
      h.device.inject({ type: 'overrun', blocks: 2 });
      h.device.advance(1.2); // no heartbeat: the watchdog trips at ~0.5 s
      assert.equal(h.device.darkReason, DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT);
      const during = h.device.statusNow()!;
      assert.equal(during.blocksDropped, 2);
      assert.ok(during.samplesDropped! > 0);
      // a drive change still pending when the run stops
      h.request({ setLed: { channel: 2, currentMa: 5 } });
      const stop1 = h.request({ stop: {} }).ack!;
      assert.ok(stop1.sampleIndex > 10_000);
      const selfTest1 = h.request({ selfTest: {} }).selfTestReport!.items;
      assert.equal(selfTest1.find((i) => i.name === 'buffer')!.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_WARN);
      assert.equal(selfTest1.find((i) => i.name === 'watchdog')!.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_WARN);

      h.clear();
      const run1 = h.device.run;
      assert.equal(h.request({ start: {} }).body, 'ack');
      assert.equal(h.device.run, run1 + 1);
      const fresh = h.device.statusNow()!;
      assert.equal(fresh.blocksDropped, 0);
      assert.equal(fresh.samplesDropped, 0);
      assert.equal(fresh.darkReason, DarkReason.DARK_REASON_NONE);
      // every LED lit at its commanded level (SetLed's level for channel 2) from sample 0
      assert.deepEqual(h.of('ledEvent').map((m) => [m.ledEvent!.channel, m.ledEvent!.currentMa, m.ledEvent!.sampleIndex]), [[0, 20, 0], [1, 30, 0], [2, 5, 0]]);
      for (let s = 0; s < 4; s++) {
        h.request({ heartbeat: {} });
        h.device.advance(0.25);
      }
      assert.deepEqual(Array.from(h.device.ledCurrentsNow().subarray(0, 3)), [20, 30, 5]);
      const drives2 = h.device.truth.drives.filter((d) => d.run === run1 + 1);
      assert.deepEqual(drives2.map((d) => [d.cause, d.sampleIndex]), [['start', 0], ['start', 0], ['start', 0]]);
      const selfTest2 = h.request({ selfTest: {} }).selfTestReport!.items;
      assert.equal(selfTest2.find((i) => i.name === 'buffer')!.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_PASS);
      assert.equal(selfTest2.find((i) => i.name === 'watchdog')!.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_PASS);
      // Stop names this run's next index, and its blocks are contiguous from 0; a repeated Stop repeats it
      const stop2 = h.request({ stop: {} }).ack!;
      assert.ok(stop2.sampleIndex >= 10_000 && stop2.sampleIndex < stop1.sampleIndex, `${stop2.sampleIndex}`);
      h.device.advance(0.1);
      assertContinuous(h.blocks(DET), stop2.sampleIndex);
      assert.equal(h.request({ stop: {} }).ack!.sampleIndex, stop2.sampleIndex);
    });
  });
});
