// Conformance: the handshake and DeviceInfo, and every rejection code with its offending field.
import assert from 'node:assert/strict';
import { type AcquisitionConfigInit, cobsMaxEncodedBytes, CRC_BYTES, MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from '../../protocol/index.ts';
import { Rig } from '../../host/rig/rig.ts';
import { rawFrame, undecodableFrame } from './client.ts';
import {
  B, c, continuous, dets, E, FS, info, led0, led1, limitOf, lockIn, M, reopenClient, run, stop, target, tdm,
} from './harness.ts';

export function handshakeTests(): void {
  describe('handshake and DeviceInfo', () => {
    it('Rig.connect handshakes and reads DeviceInfo through the host code path', async () => {
      await c.close(); // a serial port or a firmware TCP link takes one client at a time
      const rig = await Rig.connect(target!.url, { hostName: 'conformance' });
      try {
        assert.equal(rig.info.protocol?.major, PROTOCOL_VERSION.major);
        assert.ok(rig.info.leds.length > 0 && rig.info.detectors.length > 0);
      } finally {
        await rig.close();
      }
      await reopenClient();
    });

    it('DeviceInfo describes a consistent board, and GetInfo says the same', async () => {
      assert.equal(info.protocol?.major, PROTOCOL_VERSION.major);
      assert.ok(info.firmwareName && info.firmwareVersion && info.boardModel && info.serialNumber, 'names are filled in');
      assert.ok(info.maxMessageBytes >= 1024 && info.maxMessageBytes <= MAX_MESSAGE_BYTES, `max_message_bytes ${info.maxMessageBytes}`);
      // max_frame_bytes is the frame on the wire: COBS of the largest message plus its CRC, delimiter excluded
      assert.equal(info.maxFrameBytes, cobsMaxEncodedBytes(info.maxMessageBytes + CRC_BYTES), 'max_frame_bytes is the frame limit');
      for (const a of info.auxInputs) {
        // electrode volts per code, and the amplifier gain it implies (ADC volts per code over it)
        assert.ok(a.electrodeVoltsPerCode > 0, `aux ${a.label} reports electrode_volts_per_code`);
        const gain = a.fullScaleV / 2 ** a.adcBits / a.electrodeVoltsPerCode;
        assert.ok(gain >= 1 && gain <= 1e6, `aux ${a.label}: implied gain ${gain}`);
      }
      assert.equal(new Set(info.leds.map((l) => l.id)).size, info.leds.length, 'LED ids are unique');
      for (const l of info.leds) {
        assert.ok(l.maxCurrentContinuousMa > 0 && l.maxCurrentPulsedMa >= l.maxCurrentContinuousMa, `LED ${l.id} limits`);
        assert.ok(l.wavelengthNm >= 200 && l.wavelengthNm <= 1100, `LED ${l.id} wavelength`);
      }
      assert.ok(info.detectors.length > 0 && info.detectors.every((d) => d.adcBits >= 1 && d.adcBits <= 16));
      assert.ok(info.modes.includes(M.MODULATION_MODE_CONTINUOUS));
      assert.ok(info.maxSampleRateHz >= FS && info.maxBlockSamples >= B && info.bufferBlocks >= 1 && info.timerClockHz > 0);
      const again = await c.request({ getInfo: {} });
      assert.equal(again.body, 'deviceInfo');
      assert.deepEqual(again.deviceInfo, info);
    });

    it('before Hello serves only Hello, GetInfo, Heartbeat, Reset and EnterBootloader', async () => {
      const mark = c.received.length;
      await c.ack({ reset: {} });
      await c.waitFor(() => c.since(mark).find((m) => m.log?.message.startsWith('reset (command)')), 10_000, 'the boot Log');
      await c.refused({ configure: { config: continuous() } }, E.ERROR_CODE_NOT_CONFIGURED, 'hello');
      await c.refused({ start: {} }, E.ERROR_CODE_NOT_CONFIGURED, 'hello');
      await c.refused({ readCalibration: {} }, E.ERROR_CODE_NOT_CONFIGURED, 'hello');
      assert.equal((await c.request({ getInfo: {} })).body, 'deviceInfo');
      const hb = await c.request({ heartbeat: { hostTimeUs: 42 } });
      assert.equal(hb.body, 'heartbeatAck');
      assert.equal(hb.heartbeatAck!.hostTimeUs, 42);
      assert.equal(hb.heartbeatAck!.running, false);
      await c.hello();
      await c.ack({ configure: { config: continuous() } });
    });

    it('refuses a host whose protocol major differs (VERSION_MISMATCH)', async () => {
      await c.refused({ hello: { protocol: { major: PROTOCOL_VERSION.major + 1, minor: 0 } } }, E.ERROR_CODE_VERSION_MISMATCH, 'hello.protocol');
      await c.refused({ hello: {} }, E.ERROR_CODE_VERSION_MISMATCH, 'hello.protocol');
      const newerMinor = await c.request({ hello: { protocol: { major: PROTOCOL_VERSION.major, minor: PROTOCOL_VERSION.minor + 7 } } });
      assert.equal(newerMinor.body, 'deviceInfo', 'a newer minor is accepted: minors only add');
    });
  });

  describe('every rejection code, with the offending field', () => {
    it('INVALID_CONFIG', async () => {
      const cases: Array<[AcquisitionConfigInit, string]> = [
        [continuous({ mode: M.MODULATION_MODE_UNSPECIFIED }), 'config.mode'],
        [continuous({ detectorIds: [] }), 'config.detector_ids'],
        [continuous({ detectorIds: [dets[0]!, dets[0]!] }), 'config.detector_ids[1]'],
        [continuous({ sampleRateHz: 0 }), 'config.sample_rate_hz'],
        [continuous({ oversampling: 0 }), 'config.oversampling'],
        [continuous({ leds: [{ channel: led0, currentMa: 1 }, { channel: led0, currentMa: 1 }] }), 'config.leds[1].channel'],
        [continuous({ leds: [{ channel: led0 }] }), 'config.leds[0].current_ma'],
        [continuous({ leds: [{ channel: led0, currentMa: -1 }] }), 'config.leds[0].current_ma'],
        [continuous({ leds: [{ channel: led0, currentMa: Number.NaN }] }), 'config.leds[0].current_ma'],
        [continuous({ blockSamples: 0 }), 'config.block_samples'],
        [continuous({ heartbeatTimeoutMs: 50 }), 'config.heartbeat_timeout_ms'],
        // the stated ranges (fiberrig.proto): heartbeat 100..60000 ms, status 50..60000 ms, both ends
        [continuous({ heartbeatTimeoutMs: 99 }), 'config.heartbeat_timeout_ms'],
        [continuous({ heartbeatTimeoutMs: 60_001 }), 'config.heartbeat_timeout_ms'],
        [continuous({ heartbeatTimeoutMs: 0xffff_ffff }), 'config.heartbeat_timeout_ms'],
        [continuous({ statusIntervalMs: 10 }), 'config.status_interval_ms'],
        [continuous({ statusIntervalMs: 60_001 }), 'config.status_interval_ms'],
        [lockIn({ leds: [{ channel: led0, currentMa: 10, carrierHz: Number.POSITIVE_INFINITY }] }), 'config.leds[0].carrier_hz'],
        [lockIn({ leds: [{ channel: led0, currentMa: 10, carrierHz: Number.NaN }] }), 'config.leds[0].carrier_hz'],
        [continuous({ leds: [{ channel: led0, currentMa: Number.POSITIVE_INFINITY }] }), 'config.leds[0].current_ma'],
        [tdm({ leds: [] }), 'config.leds'],
        [tdm({ timeDivision: null }), 'config.time_division'],
        [tdm({ timeDivision: { slotSamples: 10, onSamples: 11, settleSamples: 0, windowSamples: 1 } }), 'config.time_division.on_samples'],
        [tdm({ timeDivision: { slotSamples: 10, onSamples: 8, settleSamples: 6, windowSamples: 4 } }), 'config.time_division.window_samples'],
        [tdm({ timeDivision: { slotSamples: FS, onSamples: 8, settleSamples: 0, windowSamples: 4 } }), 'config.time_division.slot_samples'],
        [lockIn({ leds: [{ channel: led0, currentMa: 10 }] }), 'config.leds[0].carrier_hz'],
        [lockIn({ leds: [{ channel: led0, currentMa: 10, carrierHz: 20 }] }), 'config.leds[0].carrier_hz'],
        [lockIn({ leds: [{ channel: led0, currentMa: 10, carrierHz: 0.46 * FS }] }), 'config.leds[0].carrier_hz'],
        [lockIn({ leds: [{ channel: led0, currentMa: 10, carrierHz: 102 }] }), 'config.leds[0].carrier_hz'], // mains 100 Hz
        [lockIn({ leds: [{ channel: led0, currentMa: 10, carrierHz: 211 }, { channel: led1, currentMa: 10, carrierHz: 231 }] }), 'config.leds[1].carrier_hz'],
        [lockIn({ leds: [{ channel: led0, currentMa: 10, carrierHz: 211 }, { channel: led1, currentMa: 10, carrierHz: 422 }] }), 'config.leds[1].carrier_hz'],
        [continuous({ syncOut: { enabled: true, line: info.digitalLines.find((d) => d.direction === 2)?.id ?? 0, periodSamples: 1, pulseSamples: 1 } }),
          info.digitalLines.some((d) => d.direction === 2) ? 'config.sync_out.period_samples' : 'config.sync_out.line'],
      ];
      if (info.auxInputs.length > 0) {
        cases.push([continuous({ aux: { inputIds: [info.auxInputs[0]!.id], rateHz: 3 } }), 'config.aux.rate_hz']);
        cases.push([continuous({ aux: { inputIds: [], rateHz: 100 } }), 'config.aux.input_ids']);
      }
      for (const [config, field] of cases) await c.refused({ configure: { config } }, E.ERROR_CODE_INVALID_CONFIG, field);
      for (const [heartbeatTimeoutMs, statusIntervalMs] of [[100, 50], [60_000, 60_000]]) {
        await c.ack({ configure: { config: continuous({ heartbeatTimeoutMs, statusIntervalMs }) } }); // the ends of the ranges are in them
      }
      await c.ack({ configure: { config: continuous({ leds: [{ channel: led0, currentMa: 10 }] }) } });
      await c.refused({ setLed: { channel: led1, currentMa: 1 } }, E.ERROR_CODE_INVALID_CONFIG, 'set_led.channel');
      await c.refused({ setLed: { channel: led0 } }, E.ERROR_CODE_INVALID_CONFIG, 'set_led.current_ma');
    });

    it('LIMIT_EXCEEDED on every path that sets an LED current', async () => {
      const { cont, pulsed } = limitOf(led0);
      await c.refused({ configure: { config: continuous({ leds: [{ channel: led0, currentMa: cont + 1 }] }) } }, E.ERROR_CODE_LIMIT_EXCEEDED, 'config.leds[0].current_ma');
      await c.refused({ configure: { config: lockIn({ leds: [{ channel: led0, currentMa: cont + 1, carrierHz: 211 }] }) } }, E.ERROR_CODE_LIMIT_EXCEEDED, 'config.leds[0].current_ma');
      await c.refused({ configure: { config: tdm({ leds: [{ channel: led0, currentMa: pulsed + 1 }, { channel: led1, currentMa: 1 }] }) } }, E.ERROR_CODE_LIMIT_EXCEEDED, 'config.leds[0].current_ma');
      if (pulsed > cont) {
        // the average of a pulse train (pulse x on / cycle) must stay within the continuous limit too
        const pulse = Math.min(pulsed, cont * 1.5);
        await c.refused({
          configure: { config: tdm({ leds: [{ channel: led0, currentMa: pulse }], timeDivision: { slotSamples: 10, onSamples: 10, settleSamples: 0, windowSamples: 4 } }) },
        }, E.ERROR_CODE_LIMIT_EXCEEDED, 'config.leds[0].current_ma');
      }
      await c.refused({ writeCalibration: { table: { leds: [{ channel: led0, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: pulsed + 1, powerUw: 10 }] }] } } },
        E.ERROR_CODE_LIMIT_EXCEEDED, 'table.leds[0].points[1].current_ma');
      // power_uw that converts to a current above the limit (a calibration can reach past the continuous
      // limit only where pulses may go higher; otherwise that power is outside the table)
      await c.ack({ writeCalibration: { table: { leds: [{ channel: led0, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: pulsed, powerUw: 1000 }] }] } } });
      const overUw = ((cont + 1) / pulsed) * 1000;
      await c.refused({ configure: { config: continuous({ leds: [{ channel: led0, powerUw: overUw }] }) } },
        pulsed > cont ? E.ERROR_CODE_LIMIT_EXCEEDED : E.ERROR_CODE_NOT_CALIBRATED, 'config.leds[0].power_uw');
      // SetLed while running: refused, and the LED keeps its level
      const { mark } = await run(continuous());
      await c.refused({ setLed: { channel: led0, currentMa: cont + 0.5 } }, E.ERROR_CODE_LIMIT_EXCEEDED, 'set_led.current_ma');
      const s = await c.nextStatus();
      assert.equal(s.leds.find((l) => l.channel === led0)?.currentMa, 10, 'a refused SetLed changes nothing');
      await stop(mark);
      await c.ack({ writeCalibration: { table: { leds: [] } } });
    });

    it('BUSY while running', async () => {
      const { mark } = await run(continuous());
      await c.refused({ configure: { config: continuous() } }, E.ERROR_CODE_BUSY, 'configure');
      await c.refused({ start: {} }, E.ERROR_CODE_BUSY, 'start');
      await c.refused({ writeCalibration: { table: { leds: [] } } }, E.ERROR_CODE_BUSY, 'write_calibration');
      await stop(mark);
    });

    it('NOT_CONFIGURED before an accepted Configure', async () => {
      await c.refused({ start: {} }, E.ERROR_CODE_NOT_CONFIGURED, 'start');
      await c.refused({ setLed: { channel: led0, currentMa: 1 } }, E.ERROR_CODE_NOT_CONFIGURED, 'set_led');
      // a refused Configure leaves the device unconfigured
      await c.refused({ configure: { config: continuous({ oversampling: 0 }) } }, E.ERROR_CODE_INVALID_CONFIG, 'config.oversampling');
      await c.refused({ start: {} }, E.ERROR_CODE_NOT_CONFIGURED, 'start');
    });

    it('UNSUPPORTED beyond what the board can do', async () => {
      await c.refused({ configure: { config: continuous({ sampleRateHz: info.maxSampleRateHz + 1 }) } }, E.ERROR_CODE_UNSUPPORTED, 'config.sample_rate_hz');
      await c.refused({ configure: { config: continuous({ sampleRateHz: 0xffff_ffff }) } }, E.ERROR_CODE_UNSUPPORTED, 'config.sample_rate_hz');
      const slowest = Math.min(...info.detectors.map((d) => d.maxRateHz));
      if (slowest < info.maxSampleRateHz) {
        // the per-detector limit holds too
        const det = info.detectors.find((d) => d.maxRateHz === slowest)!.id;
        await c.refused({ configure: { config: continuous({ detectorIds: [det], sampleRateHz: slowest + 1 }) } }, E.ERROR_CODE_UNSUPPORTED, 'config.sample_rate_hz');
      }
      await c.refused({ configure: { config: continuous({ mode: 99 as AcquisitionConfigInit['mode'] }) } }, E.ERROR_CODE_UNSUPPORTED, 'config.mode');
      await c.refused({ configure: { config: continuous({ blockSamples: info.maxBlockSamples + 1 }) } }, E.ERROR_CODE_UNSUPPORTED, 'config.block_samples');
      await c.refused({ configure: { config: continuous({ oversampling: 1_000_000 }) } }, E.ERROR_CODE_UNSUPPORTED, 'config.oversampling');
    });

    it('UNKNOWN_CHANNEL for ids the board does not have', async () => {
      const noLed = Math.max(...info.leds.map((l) => l.id)) + 1;
      const noDet = Math.max(...info.detectors.map((d) => d.id)) + 1;
      const noLine = Math.max(-1, ...info.digitalLines.map((d) => d.id)) + 1;
      await c.refused({ configure: { config: continuous({ detectorIds: [noDet] }) } }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.detector_ids[0]');
      await c.refused({ configure: { config: continuous({ leds: [{ channel: noLed, currentMa: 1 }] }) } }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.leds[0].channel');
      // the largest uint32: a channel number far past the board's must not alias one of its LEDs
      await c.refused({ configure: { config: continuous({ leds: [{ channel: 0xffff_ffff, currentMa: 1 }] }) } }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.leds[0].channel');
      await c.refused({ setLed: { channel: 0xffff_ffff, currentMa: 1 } }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'set_led.channel');
      await c.refused({ configure: { config: continuous({ digitalInputIds: [noLine] }) } }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.digital_input_ids[0]');
      await c.refused({ configure: { config: continuous({ syncOut: { enabled: true, line: noLine, periodSamples: 10, pulseSamples: 1 } }) } }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.sync_out.line');
      await c.refused({ setLed: { channel: noLed, currentMa: 1 } }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'set_led.channel');
      await c.refused({ writeCalibration: { table: { leds: [{ channel: noLed, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: 1, powerUw: 1 }] }] } } },
        E.ERROR_CODE_UNKNOWN_CHANNEL, 'table.leds[0].channel');
      if (info.auxInputs.length > 0) {
        const noAux = Math.max(...info.auxInputs.map((a) => a.id)) + 1;
        await c.refused({ configure: { config: continuous({ aux: { inputIds: [noAux], rateHz: 100 } }) } }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.aux.input_ids[0]');
      }
    });

    it('NOT_CALIBRATED: power_uw without a calibration, or outside it', async () => {
      await c.ack({ writeCalibration: { table: { leds: [] } } });
      await c.refused({ configure: { config: continuous({ leds: [{ channel: led0, powerUw: 10 }] }) } }, E.ERROR_CODE_NOT_CALIBRATED, 'config.leds[0].power_uw');
      await c.ack({ writeCalibration: { table: { leds: [{ channel: led0, points: [{ currentMa: 1, powerUw: 5 }, { currentMa: 20, powerUw: 100 }] }] } } });
      await c.refused({ configure: { config: continuous({ leds: [{ channel: led0, powerUw: 101 }] }) } }, E.ERROR_CODE_NOT_CALIBRATED, 'config.leds[0].power_uw');
      await c.refused({ configure: { config: continuous({ leds: [{ channel: led0, powerUw: 4 }] }) } }, E.ERROR_CODE_NOT_CALIBRATED, 'config.leds[0].power_uw');
      await c.ack({ configure: { config: continuous({ leds: [{ channel: led0, currentMa: 1 }, { channel: led1, currentMa: 1 }] }) } });
      await c.refused({ setLed: { channel: led1, powerUw: 10 } }, E.ERROR_CODE_NOT_CALIBRATED, 'set_led.power_uw');
      await c.ack({ writeCalibration: { table: { leds: [] } } });
    });

    it('FRAME_ERROR for a CRC-good frame that is not an Envelope, under the request id when one could be read (else 0)', async () => {
      const mark = c.received.length;
      c.sendRaw(undecodableFrame());
      const m = await c.waitFor(() => c.since(mark).find((x) => x.error?.code === E.ERROR_CODE_FRAME_ERROR), 5000, 'FRAME_ERROR');
      assert.equal(m.requestId, 0);
      assert.equal(m.error!.field, '');
      // a request id read before the bytes went wrong is echoed, so the host knows which command failed
      const mark2 = c.received.length;
      c.sendRaw(rawFrame(new Uint8Array([0x08, 0x2a, 0x0f, 0xff, 0xff])));
      const m2 = await c.waitFor(() => c.since(mark2).find((x) => x.error?.code === E.ERROR_CODE_FRAME_ERROR), 5000, 'FRAME_ERROR');
      assert.equal(m2.requestId, 42);
    });

    it('UNKNOWN_COMMAND for device-to-host bodies and empty envelopes (field: the proto name)', async () => {
      await c.refused({ ack: { configId: 1 } }, E.ERROR_CODE_UNKNOWN_COMMAND, 'ack');
      await c.refused({ sampleBlock: { sampleCount: 1 } }, E.ERROR_CODE_UNKNOWN_COMMAND, 'sample_block');
      await c.refused({ deviceInfo: {} }, E.ERROR_CODE_UNKNOWN_COMMAND, 'device_info');
      await c.refused({}, E.ERROR_CODE_UNKNOWN_COMMAND, '');
    });

    // STORAGE (a failing flash) and INTERNAL cannot be provoked through the wire on a healthy
    // device: the simulator's fault hooks cover them (test/firmware-sim), and the C core's
    // STORAGE path is exercised by its fuzz target's failing NV writes.
  });
}
