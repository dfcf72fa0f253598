// The simulated device's safety and persistence: the heartbeat watchdog, calibration in NV, self-test, Reset and the bootloader.
import assert from 'node:assert/strict';
import { DarkReason, ErrorCode, LogLevel, pb, PROTOCOL_VERSION, SelfTestOutcome } from '../../../protocol/index.ts';
import { CONTINUOUS, codes, DET, LOCK_IN, TABLE, TestHost } from './helpers.ts';

describe('firmware-sim device: watchdog, calibration, reset', () => {
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
});
