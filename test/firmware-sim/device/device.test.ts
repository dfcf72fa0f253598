import assert from 'node:assert/strict';
import {
  DarkReason, Edge, encodeEnvelope, encodeFrame, ErrorCode, frameEnvelope, LogLevel, pb, PROTOCOL_VERSION, SampleFormat, SampleSource,
  SelfTestOutcome,
} from '../../../protocol/index.ts';
import { DEFAULT_BOARD } from '../../../firmware-sim/device/board.ts';
import { ledCurrentsAt, type ScheduleConfig } from '../../../firmware-sim/device/schedule.ts';
import { CONTINUOUS, codes, LOCK_IN, TDM, TestHost } from './helpers.ts';

const DET = SampleSource.SAMPLE_SOURCE_DETECTOR;
const AUX = SampleSource.SAMPLE_SOURCE_AUX;

const TABLE = {
  leds: [
    { channel: 0, wavelengthNm: 405, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: 20, powerUw: 40 }, { currentMa: 50, powerUw: 90 }], calibratedUnixS: 1_700_000_000, label: 'cube A' },
    { channel: 1, wavelengthNm: 470, points: [{ currentMa: 1, powerUw: 2 }, { currentMa: 40, powerUw: 120 }] },
  ],
};

/** Every detector block index range received is contiguous from 0 to `end`. */
function assertContinuous(blocks: NonNullable<ReturnType<TestHost['blocks']>>, end: number): void {
  let next = 0;
  for (const b of blocks) {
    assert.equal(b.firstSampleIndex, next, `block starts at ${b.firstSampleIndex}, previous ended at ${next}`);
    next += b.sampleCount;
  }
  assert.equal(next, end);
}

describe('firmware-sim device', () => {
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

  describe('heartbeat and watchdog', () => {
    it('HeartbeatAck echoes host time and reports sample index and device time', () => {
      const h = new TestHost();
      h.startRun(CONTINUOUS);
      h.device.advance(1.5);
      const a = h.request({ heartbeat: { hostTimeUs: 1_700_000_000_000_000 } }).heartbeatAck!;
      assert.equal(a.hostTimeUs, 1_700_000_000_000_000);
      assert.equal(a.sampleIndex, 1500);
      assert.equal(a.running, true);
      assert.ok(Math.abs(a.deviceTimeUs - 1_500_000) < 2000, String(a.deviceTimeUs));
    });

    it('accelerated: judges heartbeat age on the host clock, not on device time', () => {
      const h = new TestHost();
      let hostS = 100;
      h.device.useHostClockForWatchdog(() => hostS);
      h.startRun({ ...LOCK_IN, heartbeatTimeoutMs: 500 });
      // 60 device-seconds pass within 0.4 host-seconds, with a heartbeat every 0.2 host-seconds: no trip
      for (let i = 0; i < 3; i++) {
        h.device.advance(20);
        hostS += 0.2;
        h.request({ heartbeat: {} });
      }
      assert.equal(h.ledChanges().length, 0, 'no LED went dark');
      assert.equal(h.of('status').at(-1)!.status!.darkReason, DarkReason.DARK_REASON_NONE);
      // the host goes quiet for 0.6 host-seconds: dark at the next advance
      hostS += 0.6;
      h.device.advance(1);
      const dark = h.ledChanges();
      assert.equal(dark.length, 3);
      assert.ok(dark.every((e) => e.currentMa === 0));
      assert.equal(h.of('status').at(-1)!.status!.darkReason, DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT);
    });

    it('darkens every LED within the timeout when heartbeats stop, says why, and stays dark until SetLed', () => {
      const h = new TestHost();
      h.startRun({ ...LOCK_IN, heartbeatTimeoutMs: 500 });
      h.device.advance(0.3);
      h.request({ heartbeat: {} }); // at ~0.3 s: deadline 0.8 s
      h.device.advance(1.0);
      const dark = h.ledChanges();
      assert.equal(dark.length, 3);
      assert.ok(dark.every((e) => e.currentMa === 0));
      const darkAt = dark[0]!.sampleIndex;
      assert.ok(darkAt > 3000 && darkAt <= 8000 + 1, `dark from ${darkAt}`);
      const log = h.of('log').map((m) => m.log!).find((l) => l.level === LogLevel.LOG_LEVEL_WARN);
      assert.match(log!.message, /heartbeat timeout/);
      const status = h.of('status').at(-1)!.status!;
      assert.equal(status.darkReason, DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT);
      assert.ok(status.leds.every((l) => l.currentMa === 0));
      assert.ok(status.heartbeatAgeMs >= 500);
      // samples from darkAt on are the dark offset on both detectors
      const det = h.blocks(DET);
      for (const b of det) {
        const v = codes(b);
        for (let i = 0; i < b.sampleCount; i++) {
          if (b.firstSampleIndex + i >= darkAt) assert.equal(v[i * 2], h.world.offsetCode);
        }
      }
      // a heartbeat alone does not relight
      h.request({ heartbeat: {} });
      h.device.advance(0.6);
      assert.equal(h.of('status').at(-1)!.status!.darkReason, DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT);
      // SetLed re-arms: every configured LED back, with LedEvents
      h.clear();
      const ack = h.request({ setLed: { channel: 1, currentMa: 12 } }).ack!;
      h.device.advance(0.001);
      assert.deepEqual(h.of('ledEvent').map((m) => [m.ledEvent!.channel, m.ledEvent!.currentMa, m.ledEvent!.sampleIndex]), [[0, 20, ack.sampleIndex], [1, 12, ack.sampleIndex], [2, 10, ack.sampleIndex]]);
      h.request({ heartbeat: {} });
      h.device.advance(0.3);
      h.request({ heartbeat: {} });
      h.device.advance(0.3);
      assert.equal(h.of('status').at(-1)!.status!.darkReason, DarkReason.DARK_REASON_NONE);
    });

    it('keeps the LEDs lit while heartbeats arrive in time', () => {
      const h = new TestHost();
      h.startRun({ ...CONTINUOUS, heartbeatTimeoutMs: 500 });
      for (let i = 0; i < 20; i++) {
        h.device.advance(0.3);
        h.request({ heartbeat: {} });
      }
      assert.equal(h.ledChanges().length, 0);
      assert.ok(h.of('status').every((m) => m.status!.darkReason === DarkReason.DARK_REASON_NONE));
    });
  });

  describe('calibration, self-test, reset, bootloader', () => {
    it('writes, reads back and uses a calibration table; rejects a bad one with its field', () => {
      const h = new TestHost();
      h.hello();
      assert.equal(h.request({ readCalibration: {} }).calibrationTable!.leds.length, 0);
      assert.equal(h.request({ writeCalibration: { table: TABLE } }).body, 'ack');
      const back = h.request({ readCalibration: {} }).calibrationTable!;
      assert.deepEqual(pb.CalibrationTable.toObject(pb.CalibrationTable.fromObject(back)), pb.CalibrationTable.toObject(pb.CalibrationTable.fromObject(TABLE)));
      const info = h.request({ getInfo: {} }).deviceInfo!;
      assert.deepEqual(info.leds.map((l) => l.calibrated), [true, true, false, false]);
      assert.equal(info.calibrationStored, true);
      const bad = h.request({ writeCalibration: { table: { leds: [{ channel: 2, points: [{ currentMa: 5, powerUw: 1 }, { currentMa: 4, powerUw: 2 }] }] } } });
      assert.equal(bad.error?.code, ErrorCode.ERROR_CODE_INVALID_CONFIG);
      assert.equal(bad.error?.field, 'table.leds[0].points[1].current_ma');
      // power drive converts through it: 65 uW on LED 0 = 35 mA
      const c = h.configure({ ...CONTINUOUS, leds: [{ channel: 0, powerUw: 65 }] });
      assert.equal(c.body, 'ack');
      h.request({ start: {} });
      h.device.advance(0.6);
      const led0 = h.of('status').at(-1)!.status!.leds[0]!;
      assert.equal(led0.currentMa, 35);
      assert.ok(Math.abs(led0.powerUw - 65) < 1e-4);
      assert.equal(h.request({ writeCalibration: { table: TABLE } }).error?.code, ErrorCode.ERROR_CODE_BUSY);
    });

    it('reports STORAGE when flash fails', () => {
      const h = new TestHost();
      h.hello();
      h.device.nv.failWrites = true;
      assert.equal(h.request({ writeCalibration: { table: TABLE } }).error?.code, ErrorCode.ERROR_CODE_STORAGE);
      h.device.nv.failWrites = false;
      h.device.nv.failReads = true;
      assert.equal(h.request({ readCalibration: {} }).error?.code, ErrorCode.ERROR_CODE_STORAGE);
    });

    it('self-test reports device-side items, NOT_APPLICABLE where the sim cannot tell, FAIL on a corrupt table', () => {
      const h = new TestHost();
      h.hello();
      const items = h.request({ selfTest: {} }).selfTestReport!.items;
      const byName = new Map(items.map((i) => [i.name, i]));
      for (const name of ['led_driver', 'adc', 'buffer', 'calibration_crc', 'watchdog', 'link', 'nv_storage']) assert.ok(byName.has(name), name);
      assert.equal(byName.get('led_driver')!.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_NOT_APPLICABLE);
      assert.equal(byName.get('calibration_crc')!.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_WARN);
      h.request({ writeCalibration: { table: TABLE } });
      const ok = h.request({ selfTest: {} }).selfTestReport!.items.find((i) => i.name === 'calibration_crc')!;
      assert.equal(ok.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_PASS);
      h.device.nv.corruptCalibration();
      const fail = h.request({ selfTest: {} }).selfTestReport!.items.find((i) => i.name === 'calibration_crc')!;
      assert.equal(fail.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_FAIL);
      assert.ok(items.every((i) => i.name.length <= 32 && i.detail.length <= 64));
    });

    it('Reset acks, restarts (must handshake again), keeps the calibration and bumps resets', () => {
      const h = new TestHost();
      h.hello();
      h.request({ writeCalibration: { table: TABLE } });
      h.configure(CONTINUOUS);
      h.request({ start: {} });
      h.device.advance(0.6);
      assert.equal(h.of('status').at(-1)!.status!.resets, 0);
      const ack = h.request({ reset: {} });
      assert.equal(ack.body, 'ack');
      h.device.advance(0.01);
      const after = h.received.slice(h.received.indexOf(ack) + 1);
      const log = after.find((m) => m.body === 'log')!.log!;
      assert.match(log.message, /reset/);
      assert.equal(h.device.running, false);
      assert.equal(h.request({ start: {} }).error?.field, 'hello');
      const info = h.hello().deviceInfo!;
      assert.equal(info.calibrationStored, true);
      assert.equal(h.request({ start: {} }).error?.code, ErrorCode.ERROR_CODE_NOT_CONFIGURED, 'configuration cleared');
      assert.equal(h.request({ readCalibration: {} }).calibrationTable!.leds.length, 2);
      h.device.advance(0.6);
      const status = h.of('status').at(-1)!.status!;
      assert.equal(status.resets, 1);
      assert.ok(status.deviceTimeUs < 700_000, 'uptime restarted');
      assert.equal(h.device.nv.resets, 1);
      assert.equal(h.device.truth.faultsOf('commanded_reset').length, 1);
    });

    it('EnterBootloader acks, then the device stops answering until a power cycle', () => {
      const h = new TestHost();
      h.startRun(CONTINUOUS);
      assert.equal(h.request({ enterBootloader: {} }).body, 'ack');
      const n = h.received.length;
      h.send({ hello: { protocol: { ...PROTOCOL_VERSION } } });
      h.device.advance(2);
      assert.equal(h.received.length, n, 'silent in the bootloader');
      assert.equal(h.device.inBootloader, true);
      assert.equal(h.device.running, false);
      h.device.powerCycle();
      assert.equal(h.hello().body, 'deviceInfo');
    });
  });

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
