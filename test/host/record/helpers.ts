// Synthetic recordings for the record/export tests: a small deterministic
// device model that frames SampleBlocks (lock-in: 2 detectors x 2 LEDs at
// 2 kHz, EEG at 200 Hz, one digital input), a journal built from it as the
// Rig would log it, and a scripted in-memory device the real Rig can drive.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duplexPair } from '../../support/duplex-pair.ts';
import {
  type DeviceInfo, Edge, EnvelopeDecoderStream, LogLevel, type Envelope, type EnvelopeInit, frameEnvelope, MAX_MESSAGE_BYTES, ModulationMode,
  packSamples, pb, PROTOCOL_VERSION, SampleFormat, SampleSource,
} from '../../../protocol/index.ts';
import { type AcquisitionFile, parseAcquisitionConfig, toWireConfig } from '../../../host/config/acquisition.ts';
import { canonicalConfig, RAW_LOG_FILE_NAME, RawLogWriter } from '../../../host/record/rawlog.ts';
import type { JournalEntry } from '../../../host/rig/journal.ts';
import type { Transport } from '../../../host/transport/open.ts';

export const RATE_HZ = 2000;
export const AUX_RATE_HZ = 200;
export const BLOCK = 100;
export const AUX_BLOCK = BLOCK / (RATE_HZ / AUX_RATE_HZ);
export const CARRIERS_HZ = [210, 330];

export const TEST_FILE: AcquisitionFile = parseAcquisitionConfig({
  mode: 'lock-in',
  sampleRateHz: RATE_HZ,
  detectors: [0, 1],
  leds: [
    { channel: 0, currentMa: 20, carrierHz: CARRIERS_HZ[0] },
    { channel: 1, currentMa: 15.3, carrierHz: CARRIERS_HZ[1] },
  ],
  blockSamples: BLOCK,
  aux: { inputs: [0], rateHz: AUX_RATE_HZ },
  digitalInputs: [0],
  outputRateHz: 100,
});

export const TEST_WIRE = canonicalConfig(toWireConfig(TEST_FILE));

export const TEST_INFO: DeviceInfo = pb.DeviceInfo.decode(pb.DeviceInfo.encode(pb.DeviceInfo.fromObject({
  protocol: { ...PROTOCOL_VERSION },
  firmwareName: 'test-device', firmwareVersion: '1.2.3', buildId: 'abc', boardModel: 'test-board', serialNumber: 'T-0001',
  leds: [405, 470].map((wavelengthNm, id) => ({ id, wavelengthNm, maxCurrentContinuousMa: 50, maxCurrentPulsedMa: 100, dacBits: 12 })),
  detectors: [0, 1].map((id) => ({ id, adcBits: 16, fullScaleV: 3.3, maxRateHz: 20000, label: `PD${id}` })),
  auxInputs: [{ id: 0, label: 'EEG', adcBits: 16, fullScaleV: 3.3, maxRateHz: 2000 }],
  digitalLines: [{ id: 0, direction: 1, label: 'TTL0' }],
  modes: [ModulationMode.MODULATION_MODE_LOCK_IN],
  maxFrameBytes: MAX_MESSAGE_BYTES, maxSampleRateHz: 20000, timerClockHz: 1_000_000, maxBlockSamples: 1000, bufferBlocks: 64,
})).finish()) as unknown as DeviceInfo;

export const CONFIG_ID = 7;

export interface ModelOptions {
  /** Detector block numbers (block k holds samples k*BLOCK ...) never sent; the aux blocks covering them too. */
  dropBlocks?: Iterable<number>;
  /** Detector sample index of every rising edge on line 0 (falling 10 ms later). */
  edgesEvery?: number;
  /**
   * A heartbeat-watchdog trip: every LED dark from the first sample of block `fromBlock` (a warning Log and
   * LedEvents of 0 mA, sent before that block, as the device sends them) until block `toBlock` (LedEvents
   * restoring the configured drive). The detectors see no carrier in between.
   */
  dark?: { fromBlock: number; toBlock: number };
}

/** Deterministic signals: a slow amplitude modulation on each carrier, plus a little noise. */
export class DeviceModel {
  readonly dropped: Set<number>;
  private readonly edgesEvery: number;
  readonly dark: { fromBlock: number; toBlock: number } | undefined;

  constructor(options: ModelOptions = {}) {
    this.dropped = new Set(options.dropBlocks ?? []);
    this.edgesEvery = options.edgesEvery ?? RATE_HZ;
    this.dark = options.dark;
  }

  isDark(n: number): boolean {
    return this.dark !== undefined && n >= this.dark.fromBlock * BLOCK && n < this.dark.toBlock * BLOCK;
  }

  detector(d: number, n: number): number {
    const t = n / RATE_HZ;
    let v = 20000 + 500 * d;
    if (!this.isDark(n)) CARRIERS_HZ.forEach((f, k) => {
      const amp = (3000 + 800 * k - 400 * d) * (1 + 0.2 * Math.sin(2 * Math.PI * (0.3 + 0.1 * k) * t));
      v += amp * Math.sin((2 * Math.PI * f * (n % RATE_HZ)) / RATE_HZ);
    });
    v += ((n * 7919 + d * 104729) % 97) - 48;
    return Math.round(v);
  }

  /** Frames of detector block k (and the aux block of the same time, if it completes one), or [] when dropped. */
  blockFrames(k: number): Uint8Array[] {
    const light = this.lightFrames(k);
    if (this.dropped.has(k)) return light;
    const first = k * BLOCK;
    const values: number[] = [];
    for (let i = 0; i < BLOCK; i++) for (let d = 0; d < 2; d++) values.push(this.detector(d, first + i));
    const frames = [...light, frameEnvelope({
      sampleBlock: {
        configId: CONFIG_ID, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: first, sampleCount: BLOCK, channelIds: [0, 1],
        format: SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples: packSamples(SampleFormat.SAMPLE_FORMAT_UINT16_LE, values),
      },
    })];
    const auxFirst = k * AUX_BLOCK;
    const aux: number[] = [];
    for (let i = 0; i < AUX_BLOCK; i++) aux.push(1000 + Math.round(800 * Math.sin((2 * Math.PI * 7 * (auxFirst + i)) / AUX_RATE_HZ)));
    frames.push(frameEnvelope({
      sampleBlock: {
        configId: CONFIG_ID, source: SampleSource.SAMPLE_SOURCE_AUX, firstSampleIndex: auxFirst, sampleCount: AUX_BLOCK, channelIds: [0],
        format: SampleFormat.SAMPLE_FORMAT_INT16_LE, samples: packSamples(SampleFormat.SAMPLE_FORMAT_INT16_LE, aux),
      },
    }));
    // edges inside this block's span (sent after the block, like a device that reports at block boundaries)
    for (let n = first; n < first + BLOCK; n++) {
      if (n > 0 && n % this.edgesEvery === 0) frames.push(frameEnvelope({ digitalEvent: { line: 0, edge: Edge.EDGE_RISING, sampleIndex: n, subsampleTicks: 123, configId: CONFIG_ID } }));
      if (n > 300 && (n - 300) % this.edgesEvery === 0) frames.push(frameEnvelope({ digitalEvent: { line: 0, edge: Edge.EDGE_FALLING, sampleIndex: n, subsampleTicks: 0, configId: CONFIG_ID } }));
    }
    return frames;
  }

  private lightFrames(k: number): Uint8Array[] {
    if (!this.dark || (k !== this.dark.fromBlock && k !== this.dark.toBlock)) return [];
    const at = k * BLOCK;
    const tripped = k === this.dark.fromBlock;
    const levels = TEST_FILE.leds.map((l) => (tripped ? 0 : l.currentMa ?? 0));
    return [
      ...(tripped ? [frameEnvelope({ log: { level: LogLevel.LOG_LEVEL_WARN, message: `heartbeat timeout (2000 ms): LEDs dark from sample ${at}`, deviceTimeUs: at * 500 } })] : []),
      ...TEST_FILE.leds.map((l, i) => frameEnvelope({ ledEvent: { channel: l.channel, currentMa: levels[i]!, powerUw: 0, sampleIndex: at, configId: CONFIG_ID } })),
    ];
  }
}

export interface SynthOptions extends ModelOptions {
  seconds: number;
  /** Host time of the first entry, µs. */
  startUs?: number;
}

/** The journal a Rig would log for an acquisition of `seconds` from `model` (chunked like a serial port delivers it). */
export function synthJournal(options: SynthOptions, model = new DeviceModel(options)): JournalEntry[] {
  let t = options.startUs ?? 1_780_000_000_000_000;
  const entries: JournalEntry[] = [];
  const at = (dtUs: number): number => (t += dtUs);
  entries.push({ type: 'link', hostTimeUs: at(0), state: 'open' });
  entries.push({ type: 'rx', hostTimeUs: at(500), bytes: frameEnvelope({ requestId: 1, deviceInfo: pb.DeviceInfo.toObject(TEST_INFO as never) as never }) });
  entries.push({ type: 'device-info', hostTimeUs: at(10), info: TEST_INFO });
  entries.push({ type: 'intent', hostTimeUs: at(100), intent: { requestId: 2, command: 'configure', config: TEST_WIRE } });
  entries.push({ type: 'rx', hostTimeUs: at(400), bytes: frameEnvelope({ requestId: 2, ack: { configId: CONFIG_ID } }) });
  entries.push({ type: 'intent', hostTimeUs: at(100), intent: { requestId: 3, command: 'start' } });
  const startUs = at(100);
  let pending: Uint8Array[] = [frameEnvelope({ requestId: 3, ack: { configId: CONFIG_ID, sampleIndex: 0 } })];
  const blocks = Math.round((options.seconds * RATE_HZ) / BLOCK);
  let carry = new Uint8Array(0);
  for (let k = 0; k < blocks; k++) {
    pending.push(...model.blockFrames(k));
    const blockEndUs = startUs + ((k + 1) * BLOCK * 1e6) / RATE_HZ;
    if (k % 4 === 3 || k === blocks - 1) {
      // one chunk per 4 blocks; every other chunk ends in the middle of a frame
      const bytes = Buffer.concat([carry, ...pending]);
      pending = [];
      const cut = k % 8 === 7 && k !== blocks - 1 ? bytes.length - 7 : bytes.length;
      carry = bytes.subarray(cut);
      entries.push({ type: 'rx', hostTimeUs: Math.round(blockEndUs + 800), bytes: bytes.subarray(0, cut) });
    }
    if ((k + 1) % (RATE_HZ / BLOCK) === 0) {
      const n = (k + 1) * BLOCK;
      const send = Math.round(blockEndUs + 100);
      entries.push({ type: 'heartbeat', hostTimeUs: send + 600, sample: { hostSendUs: send, hostReceiveUs: send + 600, deviceSampleIndex: n, deviceTimeUs: 5_000_000 + (n * 1e6) / RATE_HZ, running: true } });
    }
  }
  t = startUs + options.seconds * 1e6 + 5000;
  entries.push({ type: 'intent', hostTimeUs: at(0), intent: { requestId: 4, command: 'stop' } });
  entries.push({ type: 'rx', hostTimeUs: at(300), bytes: Buffer.concat([carry, frameEnvelope({ requestId: 4, ack: { sampleIndex: blocks * BLOCK } })]) });
  entries.push({ type: 'link', hostTimeUs: at(1000), state: 'closed' });
  return entries;
}

export function tempDir(prefix = 'fiberrig-record-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a recording directory (raw log only, like a crash before session.json existed). */
export async function writeSynthRecording(dir: string, options: SynthOptions): Promise<JournalEntry[]> {
  const entries = synthJournal(options);
  const writer = await RawLogWriter.create(join(dir, RAW_LOG_FILE_NAME));
  writer.writeMeta({ kind: 'acquisition', device: 'synthetic://', subject: 'mouse-1', notes: 'synthetic', configFile: TEST_FILE, processing: { outputRateHz: 100 } });
  for (const e of entries) writer.write(e);
  await writer.close({ stoppedBy: 'duration' });
  return entries;
}

/**
 * A scripted device behind an in-memory transport: answers the Rig's
 * commands and streams `model`'s blocks while started, in bursts.
 */
export function scriptedDevice(model: DeviceModel): { openTransport: (url: string) => Promise<Transport>; stats: { blocksSent: number } } {
  const stats = { blocksSent: 0 };
  const openTransport = async (url: string): Promise<Transport> => {
    const [host, device] = duplexPair();
    let running = false;
    let next = 0;
    const send = (e: EnvelopeInit): void => { device.write(frameEnvelope(e)); };
    const pump = (): void => {
      if (!running || device.destroyed) return;
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 8; i++) {
        parts.push(...model.blockFrames(next++));
        stats.blocksSent++;
      }
      device.write(Buffer.concat(parts));
      setImmediate(pump);
    };
    device.pipe(new EnvelopeDecoderStream()).on('data', (m: Envelope) => {
      switch (m.body) {
        case 'hello':
          send({ requestId: m.requestId, deviceInfo: pb.DeviceInfo.toObject(TEST_INFO as never) as never });
          break;
        case 'configure':
          send({ requestId: m.requestId, ack: { configId: CONFIG_ID } });
          break;
        case 'start':
          next = 0;
          send({ requestId: m.requestId, ack: { configId: CONFIG_ID, sampleIndex: 0 } });
          running = true;
          setImmediate(pump);
          break;
        case 'stop':
          running = false;
          send({ requestId: m.requestId, ack: { sampleIndex: next * BLOCK } });
          break;
        case 'heartbeat':
          send({ requestId: m.requestId, heartbeatAck: { hostTimeUs: m.heartbeat!.hostTimeUs, sampleIndex: running ? next * BLOCK : 0, deviceTimeUs: next * 50_000, running } });
          break;
        default:
          send({ requestId: m.requestId, ack: {} });
      }
    });
    return { url, stream: host, close: async () => { running = false; host.end(); host.destroy(); } };
  };
  return { openTransport, stats };
}
