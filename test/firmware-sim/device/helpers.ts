// Test scaffolding: a minimal in-process "host" that talks to a SimDevice
// through the real framing, and standard configurations.
import assert from 'node:assert/strict';
import {
  decodeEnvelope, type AcquisitionConfigInit, type Envelope, type EnvelopeInit, FrameDecoder, frameEnvelope, ModulationMode,
  PROTOCOL_VERSION, SampleFormat, SampleSource, samplesView,
} from '../../../protocol/index.ts';
import { DEFAULT_BOARD, type BoardDefinition, worldBoardOf } from '../../../firmware-sim/device/board.ts';
import { SimDevice, type SimDeviceOptions } from '../../../firmware-sim/device/device.ts';
import { LinearWorld, type LinearWorldOptions } from '../../../firmware-sim/device/linear-world.ts';

export const LOCK_IN: AcquisitionConfigInit = {
  mode: ModulationMode.MODULATION_MODE_LOCK_IN,
  sampleRateHz: 10_000,
  detectorIds: [0, 1],
  oversampling: 1,
  blockSamples: 256,
  leds: [
    { channel: 0, currentMa: 20, carrierHz: 211 },
    { channel: 1, currentMa: 30, carrierHz: 531 },
    { channel: 2, currentMa: 10, carrierHz: 1470 },
  ],
  aux: { inputIds: [0, 1], rateHz: 1000 },
  heartbeatTimeoutMs: 60_000,
};

export const CONTINUOUS: AcquisitionConfigInit = {
  mode: ModulationMode.MODULATION_MODE_CONTINUOUS,
  sampleRateHz: 1000,
  detectorIds: [0],
  oversampling: 1,
  blockSamples: 100,
  leds: [{ channel: 1, currentMa: 10 }],
  heartbeatTimeoutMs: 60_000,
};

export const TDM: AcquisitionConfigInit = {
  mode: ModulationMode.MODULATION_MODE_TIME_DIVISION,
  sampleRateHz: 4000,
  detectorIds: [0, 1],
  oversampling: 4,
  blockSamples: 200,
  leds: [{ channel: 0, currentMa: 40 }, { channel: 1, currentMa: 60 }],
  timeDivision: { slotSamples: 20, onSamples: 16, settleSamples: 6, windowSamples: 8, darkSlot: true },
  heartbeatTimeoutMs: 60_000,
};

type Body = Omit<EnvelopeInit, 'requestId'>;

export interface TestHostOptions extends Partial<SimDeviceOptions> {
  worldOptions?: LinearWorldOptions;
  board?: BoardDefinition;
}

/** Drives a SimDevice through framed bytes and collects everything it sends. */
export class TestHost {
  readonly device: SimDevice;
  readonly world: LinearWorld;
  readonly received: Envelope[] = [];
  readonly decoder: FrameDecoder;
  decodeErrors = 0;
  private nextId = 1;

  constructor(options: TestHostOptions = {}) {
    const board = options.board ?? DEFAULT_BOARD;
    this.world = (options.world as LinearWorld | undefined) ?? new LinearWorld(worldBoardOf(board), 0, options.worldOptions);
    this.device = new SimDevice({ ...options, board, world: this.world });
    this.decoder = new FrameDecoder((payload) => {
      try {
        this.received.push(decodeEnvelope(payload));
      } catch {
        this.decodeErrors++;
      }
    });
    this.device.outbox.sink = (bytes) => this.decoder.push(bytes);
  }

  /** Sends a command; returns its request id. */
  send(body: Body, requestId = this.nextId++): number {
    this.device.receive(frameEnvelope({ requestId, ...body }));
    return requestId;
  }

  /** Sends a command and returns the reply (advancing simulated time a little if the link is busy). */
  request(body: Body): Envelope {
    const id = this.send(body);
    for (let i = 0; i < 1000; i++) {
      const reply = this.received.find((m) => m.requestId === id);
      if (reply) return reply;
      this.device.advance(0.001);
    }
    throw new Error(`no reply to request ${id}`);
  }

  hello(): Envelope {
    const r = this.request({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'test' } });
    assert.equal(r.body, 'deviceInfo');
    return r;
  }

  configure(config: AcquisitionConfigInit): Envelope {
    return this.request({ configure: { config } });
  }

  /** Hello + Configure + Start, asserting each succeeds. */
  startRun(config: AcquisitionConfigInit): void {
    this.hello();
    const c = this.configure(config);
    assert.equal(c.body, 'ack', JSON.stringify(c.error));
    const s = this.request({ start: {} });
    assert.equal(s.body, 'ack', JSON.stringify(s.error));
  }

  of(body: string): Envelope[] {
    return this.received.filter((m) => m.body === body);
  }

  /** LedEvents after Start's announcement of the drives in force at sample 0 (changes made while running). */
  ledChanges(): NonNullable<Envelope['ledEvent']>[] {
    return this.of('ledEvent').map((m) => m.ledEvent!).filter((e) => e.sampleIndex > 0);
  }

  blocks(source: number): NonNullable<Envelope['sampleBlock']>[] {
    return this.of('sampleBlock').map((m) => m.sampleBlock!).filter((b) => b.source === source);
  }

  clear(): void {
    this.received.length = 0;
  }
}

/** Samples of a block as numbers (interleaved). */
export function codes(block: NonNullable<Envelope['sampleBlock']>): ArrayLike<number> {
  return samplesView(block.format, block.samples, block.channelIds.length, block.sampleCount);
}

export { SampleFormat };

export const DET = SampleSource.SAMPLE_SOURCE_DETECTOR;
export const AUX = SampleSource.SAMPLE_SOURCE_AUX;

/** A valid calibration table for the default board (LEDs 0 and 1). */
export const TABLE = {
  leds: [
    { channel: 0, wavelengthNm: 405, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: 20, powerUw: 40 }, { currentMa: 50, powerUw: 90 }], calibratedUnixS: 1_700_000_000, label: 'cube A' },
    { channel: 1, wavelengthNm: 470, points: [{ currentMa: 1, powerUw: 2 }, { currentMa: 40, powerUw: 120 }] },
  ],
};

/** Every detector block index range received is contiguous from 0 to `end`. */
export function assertContinuous(blocks: NonNullable<ReturnType<TestHost['blocks']>>, end: number): void {
  let next = 0;
  for (const b of blocks) {
    assert.equal(b.firstSampleIndex, next, `block starts at ${b.firstSampleIndex}, previous ended at ${next}`);
    next += b.sampleCount;
  }
  assert.equal(next, end);
}
