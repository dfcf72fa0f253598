// The conformance suite's shared harness: ONE target per run (the qemu
// target is slow to boot), a fresh client and a reset device per test, the
// limits checked after every test, and the helpers the topic files share
// (configs, run/stop, the linear model).
//
// The per-test state (c, info, led0, led1, dets, target) is exported as live
// ES module bindings: the hooks here reassign them, and the topic files that
// import them see the current values (reopenClient() replaces the client).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  type AcquisitionConfigInit, type DeviceInfo, type Envelope, ErrorCode, MAX_MESSAGE_BYTES, ModulationMode, SampleSource, samplesView,
} from '../../protocol/index.ts';
import { type Block, DeviceClient } from './client.ts';
import { targetFromEnv, useTarget } from '../../host/testing/index.ts';
import { FIRMWARE_DIR, type Target } from './target.ts';

export const E = ErrorCode;
export const M = ModulationMode;
export const FS = 1000;
export const B = 50;
/** Lock-in carriers: periods of 80 and 400 samples at FS, so they fit a real board's LED tables (the pyboard holds 1024). */
export const CARRIERS_HZ = [137.5, 227.5] as const;
export const LONG_HB = 60_000;

export type Info = NonNullable<Envelope['deviceInfo']> | DeviceInfo;

/** The linear model both the simulator ("linear" world) and the C firmware's synthetic front end implement. */
export function modelCode(detectorPos: number, boardCurrentsMa: ArrayLike<number>): number {
  let v = 1000;
  for (let l = 0; l < boardCurrentsMa.length; l++) v += (100 / (1 + detectorPos + l)) * boardCurrentsMa[l]!;
  return Math.round(v);
}

export function codesOf(b: Block): ArrayLike<number> {
  return samplesView(b.format, b.samples, b.channelIds.length, b.sampleCount);
}

/** Every detector code of a run, by sample index: codes[n][channel]. */
export function collectCodes(blocks: Block[]): number[][] {
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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export let target: Target | null = null;
export let c: DeviceClient;
export let info: Info;
export let led0: number;
export let led1: number;
export let dets: number[];

export const limitOf = (channel: number): { cont: number; pulsed: number } => {
  const l = info.leds.find((x) => x.id === channel)!;
  return { cont: l.maxCurrentContinuousMa, pulsed: l.maxCurrentPulsedMa };
};
export const boardPos = (channel: number): number => info.leds.findIndex((l) => l.id === channel);
export const detPos = (id: number): number => info.detectors.findIndex((d) => d.id === id);

export const continuous = (over: Partial<AcquisitionConfigInit> = {}): AcquisitionConfigInit => ({
  mode: M.MODULATION_MODE_CONTINUOUS, sampleRateHz: FS, detectorIds: dets, oversampling: 1, blockSamples: B,
  leds: [{ channel: led0, currentMa: 10 }], heartbeatTimeoutMs: LONG_HB, ...over,
});
export const tdm = (over: Partial<AcquisitionConfigInit> = {}): AcquisitionConfigInit => ({
  mode: M.MODULATION_MODE_TIME_DIVISION, sampleRateHz: FS, detectorIds: dets, oversampling: 1, blockSamples: B,
  leds: [{ channel: led0, currentMa: 20 }, { channel: led1, currentMa: 30 }],
  timeDivision: { slotSamples: 10, onSamples: 8, settleSamples: 2, windowSamples: 4, darkSlot: true },
  heartbeatTimeoutMs: LONG_HB, ...over,
});
export const lockIn = (over: Partial<AcquisitionConfigInit> = {}): AcquisitionConfigInit => ({
  mode: M.MODULATION_MODE_LOCK_IN, sampleRateHz: FS, detectorIds: dets, oversampling: 1, blockSamples: B,
  leds: [{ channel: led0, currentMa: 20, carrierHz: CARRIERS_HZ[0] }, { channel: led1, currentMa: 10, carrierHz: CARRIERS_HZ[1] }],
  heartbeatTimeoutMs: LONG_HB, ...over,
});

/** Marks the current test pending when the target does not measure the linear model. */
export function needsLinearModel(ctx: Mocha.Context): void {
  const why = target!.analogUnmodelledReason;
  if (why) {
    ctx.test!.title += ` (pending: ${why})`;
    ctx.skip();
  }
}

export async function run(config: AcquisitionConfigInit): Promise<{ mark: number; configId: number }> {
  const configId = (await c.ack({ configure: { config } })).configId;
  const mark = c.received.length;
  const start = await c.ack({ start: {} });
  assert.equal(start.sampleIndex, 0, 'Start acks sample index 0');
  assert.equal(start.configId, configId, 'Start acks the configuration in force');
  return { mark, configId };
}

/** Stops and returns the Stop index, checking that every block up to it came first. */
export async function stop(mark: number): Promise<number> {
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

/** Replaces the test's client with a new connection and handshakes (after a test used the device by other means). */
export async function reopenClient(): Promise<void> {
  c = await DeviceClient.open(target!.url);
  info = await c.hello();
}

/**
 * Registers the hooks of the suite in the calling describe(): the target boots once, before its
 * first test (fiberrig/testing's useTarget: a missing build is pending locally, a failure in CI).
 */
export function useConformanceTarget(): void {
  const ref = useTarget(targetFromEnv(), { firmwareBuildDir: join(FIRMWARE_DIR, 'build') });

  beforeEach(async function () {
    target = ref.current;
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
}
