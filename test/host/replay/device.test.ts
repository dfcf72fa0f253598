// The replay device's protocol, in-process (ReplayDevice fed frames, its
// output decoded): what it answers before Hello, with the recorded info, to
// a foreign and to the recorded Configure, Start/Stop/Start, heartbeats,
// commands it does not support, idle Status, and pacing by `speed` on an
// injected clock. The recording is a short simulated one made in before().
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRecordedDevice, type RecordedDevice } from '../../../host/replay/recording.ts';
import { ReplayDevice } from '../../../host/replay/device.ts';
import {
  DarkReason, decodeEnvelope, encodeEnvelope, encodeFrame, type Envelope, type EnvelopeInit, ErrorCode, FrameDecoder, PROTOCOL_VERSION, pb, SampleSource,
} from '../../../protocol/index.ts';
import { registerSimBindings } from '../../../host/cli/devices.ts';
import { openTransport } from '../../../host/transport/open.ts';
import { runNode } from '../cli/helpers.ts';
import { readRecordedStream, type RecordedStream } from './recorded-stream.ts';

const bin = fileURLToPath(new URL('../../../host/cli/bin.js', import.meta.url));

/** The host side of a ReplayDevice: sends commands, decodes what the device sent. */
class Host {
  readonly received: Envelope[] = [];
  private nextId = 1;
  private readonly decoder = new FrameDecoder((payload) => this.received.push(decodeEnvelope(payload)));
  private readonly buffer = new Uint8Array(64 * 1024);

  constructor(readonly device: ReplayDevice) {}

  /** Reads everything the device has sent so far. */
  pull(): void {
    for (let n = this.device.readInto(this.buffer, 0, this.buffer.length); n > 0; n = this.device.readInto(this.buffer, 0, this.buffer.length)) {
      this.decoder.push(this.buffer.subarray(0, n));
    }
  }

  /** Reads (and lets the device run) until `found` returns a value. */
  async until<T>(what: string, found: () => T | undefined): Promise<T> {
    const giveUpAt = Date.now() + 20_000;
    for (;;) {
      this.pull();
      const value = found();
      if (value !== undefined) return value;
      if (Date.now() > giveUpAt) throw new Error(`the device never sent ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async request(command: EnvelopeInit): Promise<Envelope> {
    const requestId = this.nextId++;
    this.device.receive(encodeFrame(encodeEnvelope({ ...command, requestId })));
    return this.until(`a reply to ${JSON.stringify(Object.keys(command))}`, () => this.received.find((m) => m.requestId === requestId));
  }

  /** Lets the device's own timers and pump run for `ms` (for checks that something does NOT come). */
  async idle(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.pull();
  }

  detectorBlocks(): Array<{ first: number; end: number; hex: string }> {
    return this.received.flatMap((m) => (m.sampleBlock && m.sampleBlock.source === SampleSource.SAMPLE_SOURCE_DETECTOR
      ? [{ first: m.sampleBlock.firstSampleIndex, end: m.sampleBlock.firstSampleIndex + m.sampleBlock.sampleCount, hex: Buffer.from(m.sampleBlock.samples).toString('hex') }]
      : []));
  }
}

const hello = { hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'test' } };

describe('replay device: the protocol (in-process)', function () {
  this.timeout(60_000);
  let tmp: string;
  let recording: RecordedDevice;
  let recorded: RecordedStream;
  let open: ReplayDevice[] = [];
  const device = (speed: number | 'max' = 'max', now?: () => number): Host => {
    const d = new ReplayDevice(recording, { speed, ...(now ? { now } : {}) });
    open.push(d);
    return new Host(d);
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-replay-device-'));
    const dir = join(tmp, 'rec');
    const r = await runNode([bin, 'acquire', '--device', 'sim://steps?seed=3&speed=max', '--duration', '3s', '--out', dir, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    recording = await loadRecordedDevice(dir);
    recorded = await readRecordedStream(dir);
  });

  afterEach(() => {
    for (const d of open) d.close();
    open = [];
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the recording is read: its device info, configuration and config id', () => {
    assert.ok(recording.config, 'a configuration');
    assert.ok((recording.config.sampleRateHz ?? 0) > 0);
    assert.ok(recording.configId > 0);
    assert.ok(recording.info.boardModel.length > 0);
  });

  it('before Hello: GetInfo and Heartbeat are answered, Configure and Start get NOT_CONFIGURED naming "hello"', async () => {
    const host = device();
    assert.ok((await host.request({ getInfo: {} })).deviceInfo);
    assert.ok((await host.request({ heartbeat: { hostTimeUs: 5 } })).heartbeatAck);
    for (const command of [{ configure: { config: recording.config! } }, { start: {} }]) {
      const reply = await host.request(command);
      assert.equal(reply.error?.code, ErrorCode.ERROR_CODE_NOT_CONFIGURED);
      assert.equal(reply.error?.field, 'hello');
    }
  });

  it('Hello is answered with the recorded DeviceInfo, byte for byte; a host of another major version is refused', async () => {
    const host = device();
    const reply = await host.request(hello);
    assert.deepEqual(pb.DeviceInfo.encode(reply.deviceInfo!).finish(), pb.DeviceInfo.encode(recording.info).finish());
    const other = await host.request({ hello: { protocol: { major: PROTOCOL_VERSION.major + 1, minor: 0 } } });
    assert.equal(other.error?.code, ErrorCode.ERROR_CODE_VERSION_MISMATCH);
    assert.equal(other.error?.field, 'hello.protocol');
  });

  it('a Configure other than the recording\'s: INVALID_CONFIG naming the first field that differs and both values; then Start is refused', async () => {
    const host = device();
    await host.request(hello);
    const config = recording.config!;
    const carrier = config.leds![1]!.carrierHz!;
    const leds = config.leds!.map((l, i) => (i === 1 ? { ...l, carrierHz: carrier + 10 } : l));
    const reply = await host.request({ configure: { config: { ...config, leds } } });
    assert.equal(reply.error?.code, ErrorCode.ERROR_CODE_INVALID_CONFIG);
    assert.equal(reply.error?.field, 'config.leds[1].carrier_hz');
    assert.match(reply.error?.message ?? '', new RegExp(`carrier_hz is ${carrier + 10}, the recording's is ${carrier}`));
    const fewer = await host.request({ configure: { config: { ...config, detectorIds: [0] } } });
    assert.equal(fewer.error?.field, 'config.detector_ids');
    const start = await host.request({ start: {} });
    assert.equal(start.error?.code, ErrorCode.ERROR_CODE_NOT_CONFIGURED);
  });

  it('Configure (the recording\'s), Start, Stop, Start: the recorded stream from its first block each time; Stop names the end of what was sent', async () => {
    const host = device('max');
    await host.request(hello);
    const ack = await host.request({ configure: { config: recording.config! } });
    assert.equal(ack.ack?.configId, recording.configId);
    const start = await host.request({ start: {} });
    assert.equal(start.ack?.sampleIndex, 0);
    assert.equal(start.ack?.configId, recording.configId);
    // the Start's LED events come before the first block, as recorded
    const firstBlock = await host.until('a block', () => host.received.findIndex((m) => m.sampleBlock) + 1 || undefined);
    const leds = host.received.slice(0, firstBlock - 1).filter((m) => m.ledEvent);
    assert.ok(leds.length >= 1);
    assert.ok(leds.every((m) => m.ledEvent!.sampleIndex === 0));
    assert.equal(leds.length, recorded.led.filter((e) => e.run === 0 && e.sampleIndex === 0).length);
    await host.until('20 detector blocks', () => (host.detectorBlocks().length >= 20 ? true : undefined));
    const beat = await host.request({ heartbeat: { hostTimeUs: 42 } });
    assert.equal(beat.heartbeatAck?.running, true);
    assert.equal(beat.heartbeatAck?.hostTimeUs, 42);
    const stop = await host.request({ stop: {} });
    const sent = host.detectorBlocks();
    assert.equal(stop.ack?.sampleIndex, sent.at(-1)!.end, 'Stop names the index after the last detector block sent');
    const expected = recorded.blocks.filter((b) => b.source === 'detector');
    assert.deepEqual(sent.map((b) => [b.first, b.hex]), expected.slice(0, sent.length).map((b) => [b.first, b.samplesHex]));
    const idle = await host.request({ heartbeat: { hostTimeUs: 43 } });
    assert.equal(idle.heartbeatAck?.running, false);
    const received = host.received.length;
    const again = await host.request({ start: {} });
    assert.ok(again.ack);
    await host.until('a block of the second Start', () => host.received.slice(received).find((m) => m.sampleBlock?.source === SampleSource.SAMPLE_SOURCE_DETECTOR));
    const firstAgain = host.received.slice(received).find((m) => m.sampleBlock?.source === SampleSource.SAMPLE_SOURCE_DETECTOR)!.sampleBlock!;
    assert.equal(firstAgain.firstSampleIndex, 0);
    assert.equal(Buffer.from(firstAgain.samples).toString('hex'), expected[0]!.samplesHex);
    const busy = await host.request({ configure: { config: recording.config! } });
    assert.equal(busy.error?.code, ErrorCode.ERROR_CODE_BUSY);
  });

  it('SetLed, SelfTest, WriteCalibration and EnterBootloader are refused as UNSUPPORTED; ReadCalibration answers the recorded table (none: empty)', async () => {
    const host = device();
    await host.request(hello);
    for (const [command, field] of [[{ setLed: { channel: 0, currentMa: 1 } }, 'set_led'], [{ selfTest: {} }, 'self_test'], [{ writeCalibration: { table: {} } }, 'write_calibration'], [{ enterBootloader: {} }, 'enter_bootloader']] as const) {
      const reply = await host.request(command);
      assert.equal(reply.error?.code, ErrorCode.ERROR_CODE_UNSUPPORTED, field);
      assert.equal(reply.error?.field, field);
    }
    const table = await host.request({ readCalibration: {} });
    assert.deepEqual(table.calibrationTable?.leds ?? [], recording.calibration?.leds ?? []);
  });

  it('idle, it sends Status: not running, LEDs dark (stopped)', async () => {
    const host = device();
    await host.request(hello);
    const status = await host.until('a Status', () => host.received.find((m) => m.status)?.status ?? undefined);
    assert.equal(status.running, false);
    assert.equal(status.darkReason, DarkReason.DARK_REASON_STOPPED);
    assert.equal(status.leds.length, recording.info.leds.length);
  });

  it('speed=2 on an injected clock: a block goes out once the clock reaches its end on the recorded sample clock / 2, not before', async () => {
    let nowMs = 1000;
    const host = device(2, () => nowMs);
    await host.request(hello);
    await host.request({ configure: { config: recording.config! } });
    await host.request({ start: {} });
    await host.idle(100);
    assert.equal(host.detectorBlocks().length, 0, 'no block is due at the Start');
    const rateHz = recording.config!.sampleRateHz!;
    nowMs += 500; // 1 s of recorded samples at speed 2
    const dueEnd = rateHz * 1;
    await host.until('the block ending at 1 s', () => host.detectorBlocks().find((b) => b.end === dueEnd));
    await host.idle(100);
    const ends = host.detectorBlocks().map((b) => b.end);
    assert.equal(Math.max(...ends), dueEnd, 'nothing past 1 s of samples');
    // the device's clock is its sample clock while it plays: 1 s of samples sent = 1 s of uptime since Start
    const start = host.received.find((m) => m.ack && m.ack.sampleIndex === 0 && m.requestId === 3)!.ack!.deviceTimeUs;
    const beat = await host.request({ heartbeat: { hostTimeUs: 1 } });
    assert.equal(beat.heartbeatAck!.deviceTimeUs - start, 1_000_000);
    assert.equal(beat.heartbeatAck!.sampleIndex, dueEnd);
  });

  it('through openTransport (the binding): one port per replay URL at a time; closed, it opens again as a fresh device', async () => {
    registerSimBindings();
    const url = `sim://replay?rec=${encodeURIComponent(recording.dir)}&speed=max`;
    const first = await openTransport(url);
    try {
      await assert.rejects(openTransport(url), (e: Error & { code?: string }) => e.code === 'E_OPEN' && /is already open/.test(e.message));
    } finally {
      await first.close();
    }
    const again = await openTransport(url);
    const frames: Envelope[] = [];
    const decoder = new FrameDecoder((payload) => frames.push(decodeEnvelope(payload)));
    again.stream.on('data', (chunk: Buffer) => decoder.push(chunk));
    again.stream.write(encodeFrame(encodeEnvelope({ requestId: 7, ...hello })));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no DeviceInfo')), 10_000);
      const check = setInterval(() => {
        if (frames.some((m) => m.requestId === 7 && m.deviceInfo)) {
          clearInterval(check);
          clearTimeout(timer);
          resolve();
        }
      }, 5);
    });
    await again.close();
  });
});
