// Conformance: limits and robustness (firmware field bounds, garbage on the wire), and calibration storage.
import assert from 'node:assert/strict';
import { encodeEnvelope, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, SelfTestOutcome } from '../../protocol/index.ts';
import { scanEnvelope } from '../../firmware-sim/device/bounds.ts';
import { type Body, rawFrame, undecodableFrame } from './client.ts';
import {
  c, continuous, dets, E, info, led0, led1, limitOf, run, stop,
} from './harness.ts';

export function limitsAndStorageTests(): void {
  describe('limits and robustness', () => {
    it('a field beyond the firmware bounds (fiberrig.options) is answered with Error(FIELD_TOO_LONG, its path) under the request id', async () => {
      const tooMany = Array.from({ length: 9 }, (_, i) => ({ channel: i, currentMa: 1 }));
      const points = Array.from({ length: 25 }, (_, i) => ({ currentMa: i, powerUw: i }));
      const twoPoints = [{ currentMa: 1, powerUw: 5 }, { currentMa: 20, powerUw: 100 }];
      const cases: Array<[Body, string]> = [
        [{ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'x'.repeat(100) } }, 'host_name'],
        [{ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'x'.repeat(48) } }, 'host_name'], // 47 bytes + NUL fit, 48 do not
        [{ configure: { config: continuous({ leds: tooMany }) } }, 'config.leds'],
        [{ configure: { config: continuous({ detectorIds: [0, 1, 0, 1, 0] }) } }, 'config.detector_ids'],
        [{ configure: { config: continuous({ aux: { inputIds: [0, 1, 2, 3, 4], rateHz: 100 } }) } }, 'config.aux.input_ids'],
        [{ writeCalibration: { table: { leds: [{ channel: led0, points }] } } }, 'table.leds[0].points'],
        [{ writeCalibration: { table: { leds: [{ channel: led0, points: twoPoints }, { channel: led1, points: twoPoints, label: 'y'.repeat(32) }] } } }, 'table.leds[1].label'],
      ];
      for (const [body, field] of cases) {
        const e = await c.refused(body, E.ERROR_CODE_FIELD_TOO_LONG, field);
        assert.ok(e.message.startsWith(`${field}: `), `the message names the field: ${e.message}`);
      }
      // at the bound itself the command is decoded and handled
      const fits = await c.request({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'x'.repeat(47) } });
      assert.equal(fits.body, 'deviceInfo');
      assert.equal((await c.request({ getInfo: {} })).body, 'deviceInfo');
    });

    it('random Configure bodies around the bounds: the first field beyond one (wire order) is named, as the simulator\'s walker finds it', async () => {
      let seed = 20261206;
      const rand = (n: number): number => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      let overflows = 0;
      for (let k = 0; k < 24; k++) {
        const config = continuous({
          leds: Array.from({ length: rand(11) }, () => ({ channel: led0, currentMa: 1 })),
          detectorIds: Array.from({ length: 1 + rand(6) }, () => dets[0]!),
          digitalInputIds: Array.from({ length: rand(11) }, () => 0),
          aux: { inputIds: Array.from({ length: rand(7) }, () => 0), rateHz: 100 },
        });
        const expected = scanEnvelope(encodeEnvelope({ requestId: 1, configure: { config } })).overflow;
        if (expected) {
          overflows++;
          await c.refused({ configure: { config } }, E.ERROR_CODE_FIELD_TOO_LONG, expected.field);
        } else {
          const r = await c.request({ configure: { config } });
          assert.notEqual(r.error?.code, E.ERROR_CODE_FIELD_TOO_LONG, `within the bounds, yet ${JSON.stringify(r.error)}`);
        }
      }
      assert.ok(overflows >= 8 && overflows <= 22, `${overflows} of 24 cases overflow: both kinds are exercised`);
    });

    it('survives garbage, bad CRCs, bad COBS and oversize frames, counts them, and keeps acquiring', async () => {
      const { mark } = await run(continuous());
      let seed = 12345;
      const rand = (): number => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed >>> 16;
      };
      const garbage = new Uint8Array(4096);
      for (let i = 0; i < garbage.length; i++) garbage[i] = rand() & 0xff;
      c.sendRaw(garbage);
      c.sendRaw(new Uint8Array([0]));
      const good = rawFrame(new Uint8Array([0x08, 0x01]));
      const badCrc = good.slice();
      badCrc[1] = badCrc[1]! ^ 0x40;
      c.sendRaw(badCrc);
      c.sendRaw(new Uint8Array([0x05, 0x11, 0x00])); // COBS code runs past the end of the frame
      const oversize = new Uint8Array(2 * (info.maxFrameBytes || MAX_MESSAGE_BYTES) + 100).fill(0x41);
      c.sendRaw(oversize);
      c.sendRaw(new Uint8Array([0]));
      c.sendRaw(undecodableFrame());
      await c.waitFor(() => c.since(mark).find((x) => x.error?.code === E.ERROR_CODE_FRAME_ERROR), 10_000, 'FRAME_ERROR');
      const s = await c.waitFor(() => {
        const all = c.since(mark).filter((m) => m.status).map((m) => m.status!);
        const last = all[all.length - 1];
        const f = last?.framesRejected;
        return f && f.crc >= 1 && f.cobs >= 1 && f.oversize >= 1 && f.decode >= 1 ? last : null;
      }, 10_000, 'a Status counting every kind of rejected frame');
      assert.equal(s.running, true);
      assert.equal((await c.request({ getInfo: {} })).body, 'deviceInfo', 'still answering');
      const n = await stop(mark);
      assert.ok(n > 0);
      const st = await c.request({ selfTest: {} }, 10_000);
      const link = st.selfTestReport!.items.find((i) => i.name === 'link');
      if (link) assert.equal(link.outcome, SelfTestOutcome.SELF_TEST_OUTCOME_WARN, 'the self-test reports the rejected frames');
    });
  });

  describe('calibration', () => {
    it('is validated, stored in non-volatile memory, and survives Reset', async () => {
      const { pulsed } = limitOf(led0);
      const wl = info.leds[0]!.wavelengthNm;
      await c.refused({ writeCalibration: { table: { leds: [{ channel: led0, points: [{ currentMa: 1, powerUw: 1 }] }] } } }, E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].points');
      await c.refused({ writeCalibration: { table: { leds: [{ channel: led0, points: [{ currentMa: 2, powerUw: 1 }, { currentMa: 1, powerUw: 2 }] }] } } },
        E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].points[1].current_ma');
      await c.refused({ writeCalibration: { table: { leds: [{ channel: led0, wavelengthNm: wl + 1, points: [{ currentMa: 1, powerUw: 1 }, { currentMa: 2, powerUw: 2 }] }] } } },
        E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].wavelength_nm');
      const table = {
        leds: [
          { channel: led0, wavelengthNm: wl, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: 10, powerUw: 40 }, { currentMa: pulsed, powerUw: 300 }], calibratedUnixS: 1_700_000_000, label: 'cube A' },
          { channel: led1, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: 20, powerUw: 50 }] },
        ],
      };
      await c.ack({ writeCalibration: { table } });
      const read = async (): Promise<unknown> => (await c.request({ readCalibration: {} })).calibrationTable;
      const stored = await read();
      assert.deepEqual(stored, (await read()), 'reads are stable');
      const shape = (t: unknown): unknown => JSON.parse(JSON.stringify(t));
      assert.deepEqual(shape(stored), shape((await c.request({ readCalibration: {} })).calibrationTable));
      const statusBefore = await c.nextStatus();
      const infoAfter = await c.resetDevice();
      assert.deepEqual(shape(await read()), shape(stored), 'the table survives Reset');
      assert.deepEqual(infoAfter.leds.filter((l) => l.calibrated).map((l) => l.id).sort(), [led0, led1].sort());
      assert.equal(infoAfter.calibrationStored, true);
      const statusAfter = await c.nextStatus();
      assert.equal(statusAfter.resets, statusBefore.resets + 1, 'Status counts the reset');
      // power_uw works after the reset: 40 uW is 10 mA on LED 0
      const { mark } = await run(continuous({ leds: [{ channel: led0, powerUw: 40 }] }));
      const s = await c.nextStatus();
      const l0 = s.leds.find((l) => l.channel === led0)!;
      assert.ok(Math.abs(l0.currentMa - 10) < 1e-4 && Math.abs(l0.powerUw - 40) < 1e-3, `LED 0 at ${l0.currentMa} mA, ${l0.powerUw} uW`);
      await c.ack({ setLed: { channel: led0, powerUw: 20 } });
      const ev = await c.waitFor(() => c.since(mark).find((m) => m.ledEvent && m.ledEvent.sampleIndex > 0)?.ledEvent, 5000, 'the LedEvent');
      assert.ok(Math.abs(ev.currentMa - 5) < 1e-4 && Math.abs(ev.powerUw - 20) < 1e-4, `LedEvent ${ev.currentMa} mA, ${ev.powerUw} uW`);
      await stop(mark);
      await c.ack({ writeCalibration: { table: { leds: [] } } });
    });
  });
}
