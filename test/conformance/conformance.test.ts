// THE conformance suite: one behaviour for every fiberrig device. It runs
// against the target FIBERRIG_TARGET names (see target.ts; default: the
// in-process simulator) and talks to it only through the wire protocol.
//   npm test                                       -> the simulator, in-process
//   npm run conformance -- --target native|qemu|sim-pty
//   npm run conformance -- --device /dev/ttyACM0   -> a real board
// Checks of analog content (codes predicted from the LED drive) run only on
// targets that measure the simulator's linear model; they are pending, with
// the reason, elsewhere. A missing tool or build output makes the suite
// pending locally and FAIL under CI=true.
import assert from 'node:assert/strict';
import {
  type AcquisitionConfigInit, CRC_BYTES, cobsMaxEncodedBytes, DarkReason, encodeEnvelope, type DeviceInfo, type Envelope, ErrorCode, LogLevel, MAX_MESSAGE_BYTES, ModulationMode,
  PROTOCOL_VERSION, SampleFormat, SampleSource, SelfTestOutcome, samplesView,
} from '../../protocol/index.ts';
import { scanEnvelope } from '../../firmware-sim/device/bounds.ts';
import { ledCurrentAt } from '../../firmware-sim/device/schedule.ts';
import { Rig } from '../../host/rig/rig.ts';
import { type Block, type Body, DeviceClient, rawFrame, undecodableFrame } from './client.ts';
import { IN_CI, MissingTool, startTarget, type Target } from './target.ts';

const E = ErrorCode;
const M = ModulationMode;
const FS = 1000;
const B = 50;
/** Lock-in carriers: periods of 80 and 400 samples at FS, so they fit a real board's LED tables (the pyboard holds 1024). */
const CARRIERS_HZ = [137.5, 227.5] as const;
const LONG_HB = 60_000;

type Info = NonNullable<Envelope['deviceInfo']> | DeviceInfo;

/** The linear model both the simulator ("linear" world) and the C firmware's synthetic front end implement. */
function modelCode(detectorPos: number, boardCurrentsMa: ArrayLike<number>): number {
  let v = 1000;
  for (let l = 0; l < boardCurrentsMa.length; l++) v += (100 / (1 + detectorPos + l)) * boardCurrentsMa[l]!;
  return Math.round(v);
}

function codesOf(b: Block): ArrayLike<number> {
  return samplesView(b.format, b.samples, b.channelIds.length, b.sampleCount);
}

/** Every detector code of a run, by sample index: codes[n][channel]. */
function collectCodes(blocks: Block[]): number[][] {
  const out: number[][] = [];
  for (const b of blocks) {
    const v = codesOf(b);
    const nc = b.channelIds.length;
    for (let i = 0; i < b.sampleCount; i++) {
      const row: number[] = [];
      for (let ch = 0; ch < nc; ch++) row.push(v[i * nc + ch]!);
      out[b.firstSampleIndex + i] = row;
    }
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe(`conformance [${process.env['FIBERRIG_TARGET'] || 'sim'}]`, function () {
  this.timeout(60_000);
  let target: Target | null = null;
  let c: DeviceClient;
  let info: Info;
  let led0: number;
  let led1: number;
  let dets: number[];

  const limitOf = (channel: number): { cont: number; pulsed: number } => {
    const l = info.leds.find((x) => x.id === channel)!;
    return { cont: l.maxCurrentContinuousMa, pulsed: l.maxCurrentPulsedMa };
  };
  const boardPos = (channel: number): number => info.leds.findIndex((l) => l.id === channel);
  const detPos = (id: number): number => info.detectors.findIndex((d) => d.id === id);

  const continuous = (over: Partial<AcquisitionConfigInit> = {}): AcquisitionConfigInit => ({
    mode: M.MODULATION_MODE_CONTINUOUS, sampleRateHz: FS, detectorIds: dets, oversampling: 1, blockSamples: B,
    leds: [{ channel: led0, currentMa: 10 }], heartbeatTimeoutMs: LONG_HB, ...over,
  });
  const tdm = (over: Partial<AcquisitionConfigInit> = {}): AcquisitionConfigInit => ({
    mode: M.MODULATION_MODE_TIME_DIVISION, sampleRateHz: FS, detectorIds: dets, oversampling: 1, blockSamples: B,
    leds: [{ channel: led0, currentMa: 20 }, { channel: led1, currentMa: 30 }],
    timeDivision: { slotSamples: 10, onSamples: 8, settleSamples: 2, windowSamples: 4, darkSlot: true },
    heartbeatTimeoutMs: LONG_HB, ...over,
  });
  const lockIn = (over: Partial<AcquisitionConfigInit> = {}): AcquisitionConfigInit => ({
    mode: M.MODULATION_MODE_LOCK_IN, sampleRateHz: FS, detectorIds: dets, oversampling: 1, blockSamples: B,
    leds: [{ channel: led0, currentMa: 20, carrierHz: CARRIERS_HZ[0] }, { channel: led1, currentMa: 10, carrierHz: CARRIERS_HZ[1] }],
    heartbeatTimeoutMs: LONG_HB, ...over,
  });

  /** Marks the current test pending when the target does not measure the linear model. */
  function needsLinearModel(ctx: Mocha.Context): void {
    const why = target!.analogUnmodelledReason;
    if (why) {
      ctx.test!.title += ` (pending: ${why})`;
      ctx.skip();
    }
  }

  async function run(config: AcquisitionConfigInit): Promise<{ mark: number; configId: number }> {
    const configId = (await c.ack({ configure: { config } })).configId;
    const mark = c.received.length;
    const start = await c.ack({ start: {} });
    assert.equal(start.sampleIndex, 0, 'Start acks sample index 0');
    assert.equal(start.configId, configId, 'Start acks the configuration in force');
    return { mark, configId };
  }

  /** Stops and returns the Stop index, checking that every block up to it came first. */
  async function stop(mark: number): Promise<number> {
    const id = c.allocateId();
    c.send({ stop: {} }, id);
    const reply = await c.waitFor(() => c.received.find((m) => m.requestId === id), 10_000, 'the Ack of Stop');
    assert.equal(reply.body, 'ack', JSON.stringify(reply.error));
    const n = reply.ack!.sampleIndex;
    const at = c.received.indexOf(reply);
    const before = c.received.slice(mark, at).filter((m) => m.sampleBlock?.source === SampleSource.SAMPLE_SOURCE_DETECTOR);
    let next = 0;
    const diagnose = (): string => {
      const st = c.since(mark).filter((x) => x.status).map((x) => x.status!);
      const last = st[st.length - 1];
      return `detector blocks are contiguous (device dropped ${last?.blocksDropped ?? '?'} blocks; host rejected ${JSON.stringify(c.hostRejected)})`;
    };
    for (const m of before) {
      if (m.sampleBlock!.firstSampleIndex !== next) assert.fail(`${diagnose()}: block at ${m.sampleBlock!.firstSampleIndex}, expected ${next}`);
      next += m.sampleBlock!.sampleCount;
    }
    assert.equal(next, n, 'every detector block up to the Stop index arrives before the Stop Ack');
    return n;
  }

  before(async function () {
    try {
      target = await startTarget();
    } catch (error) {
      if (error instanceof MissingTool && !IN_CI) {
        this.test!.title += ` (pending: ${error.message})`;
        this.skip();
      }
      throw error;
    }
  });

  after(async () => {
    await target?.close();
  });

  beforeEach(async function () {
    if (!target) this.skip();
    c = await DeviceClient.open(target!.url);
    info = await c.resetDevice();
    assert.ok(info.leds.length >= 2, 'the suite needs a board with at least two LEDs');
    led0 = info.leds[0]!.id;
    led1 = info.leds[1]!.id;
    dets = info.detectors.slice(0, 2).map((d) => d.id);
  });

  afterEach(async () => {
    if (!c) return;
    // limits no message may exceed, whatever the test did
    const maxMessage = info.maxMessageBytes || MAX_MESSAGE_BYTES;
    assert.ok(c.maxPayloadBytes <= maxMessage, `a message of ${c.maxPayloadBytes} B exceeds max_message_bytes ${maxMessage}`);
    for (const m of c.received) {
      for (const l of m.status?.leds ?? []) {
        const lim = limitOf(l.channel);
        assert.ok(l.currentMa <= lim.pulsed, `Status shows LED ${l.channel} at ${l.currentMa} mA, above its ${lim.pulsed} mA limit`);
      }
      if (m.ledEvent) {
        const lim = limitOf(m.ledEvent.channel);
        assert.ok(m.ledEvent.currentMa <= lim.pulsed, `LedEvent drives LED ${m.ledEvent.channel} at ${m.ledEvent.currentMa} mA`);
      }
    }
    assert.equal(c.decodeErrors, 0, 'every frame the device sent decodes as an Envelope');
    await c.ack({ stop: {} }).catch(() => undefined);
    await c.close();
  });

  // ------------------------------------------------------------ handshake

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
      c = await DeviceClient.open(target!.url);
      info = await c.hello();
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

  // ------------------------------------------------------------ rejections

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

  // ------------------------------------------------------------ acquisition

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

  // ------------------------------------------------------------ limits and robustness

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

  // ------------------------------------------------------------ calibration

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

  // ------------------------------------------------------------ analog content

  describe('analog content (targets that measure the linear model)', () => {
    async function record(config: AcquisitionConfigInit, samples: number): Promise<number[][]> {
      const { mark } = await run(config);
      await c.waitFor(() => c.contiguousSamples(mark) >= samples, 15_000, `${samples} samples`);
      await stop(mark);
      return collectCodes(c.blocks(SampleSource.SAMPLE_SOURCE_DETECTOR, mark));
    }

    it('CONTINUOUS: every code is the model of the drive', async function () {
      needsLinearModel(this);
      const codes = await record(continuous({ leds: [{ channel: led0, currentMa: 10 }, { channel: led1, currentMa: 3.5 }] }), 2 * B);
      const cur = new Array(info.leds.length).fill(0);
      cur[boardPos(led0)] = 10;
      cur[boardPos(led1)] = 3.5;
      for (let n = 0; n < 2 * B; n++) {
        for (let d = 0; d < dets.length; d++) assert.equal(codes[n]![d], modelCode(detPos(dets[d]!), cur), `sample ${n} detector ${dets[d]}`);
      }
    });

    it('TIME_DIVISION: pulses in their slots, a dark slot, exactly on the schedule', async function () {
      needsLinearModel(this);
      const config = tdm();
      const codes = await record(config, 4 * B);
      const sched = { mode: M.MODULATION_MODE_TIME_DIVISION, sampleRateHz: FS, leds: [{ channel: led0, peakMa: 20, carrierHz: 0 }, { channel: led1, peakMa: 30, carrierHz: 0 }], timeDivision: { slotSamples: 10, onSamples: 8, darkSlot: true } };
      for (let n = 0; n < 4 * B; n++) {
        const cur = new Array(info.leds.length).fill(0);
        cur[boardPos(led0)] = ledCurrentAt(sched, 0, n);
        cur[boardPos(led1)] = ledCurrentAt(sched, 1, n);
        for (let d = 0; d < dets.length; d++) assert.equal(codes[n]![d], modelCode(detPos(dets[d]!), cur), `sample ${n} detector ${dets[d]}`);
      }
    });

    it('LOCK_IN: each LED follows its carrier (within 1 code of the exact-phase model)', async function () {
      needsLinearModel(this);
      const codes = await record(lockIn(), 6 * B);
      const sched = { mode: M.MODULATION_MODE_LOCK_IN, sampleRateHz: FS, leds: [{ channel: led0, peakMa: 20, carrierHz: CARRIERS_HZ[0] }, { channel: led1, peakMa: 10, carrierHz: CARRIERS_HZ[1] }] };
      let worst = 0;
      for (let n = 0; n < 6 * B; n++) {
        const cur = new Array(info.leds.length).fill(0);
        cur[boardPos(led0)] = Math.fround(ledCurrentAt(sched, 0, n));
        cur[boardPos(led1)] = Math.fround(ledCurrentAt(sched, 1, n));
        for (let d = 0; d < dets.length; d++) worst = Math.max(worst, Math.abs(codes[n]![d]! - modelCode(detPos(dets[d]!), cur)));
      }
      assert.ok(worst <= 1, `largest deviation from the model: ${worst} codes`);
    });
  });
});
