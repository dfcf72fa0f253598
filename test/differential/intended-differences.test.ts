// The differences between the simulator and the C firmware that are meant to
// be there, each shown on both: the differential run (differential.test.ts)
// sets them aside (normalize.ts, compare.ts, generate.ts say where), and these
// tests fail if one of them goes away or grows, so the setting-aside is revisited.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  type AcquisitionConfigInit, type EnvelopeInit, ErrorCode, frameEnvelope, ModulationMode, PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import { IN_CI } from '../conformance/target.ts';
import { type Pair, PAIRS } from './boards.ts';
import type { Sequence, Step } from './generate.ts';
import { LockstepFirmware } from './native.ts';
import { normalize } from './normalize.ts';
import { compareTranscripts } from './compare.ts';
import { runOnSim, type Transcript } from './sim.ts';

const M = ModulationMode;
type Body = Omit<EnvelopeInit, 'requestId'>;

/** A script: bodies are sent (request ids 1, 2, ...), numbers advance the clock by that many ms. */
function script(pair: Pair, ...items: Array<Body | number>): Sequence {
  let id = 1;
  const steps: Step[] = items.map((x) => (typeof x === 'number'
    ? { kind: 'advance', ms: x }
    : { kind: 'send', bytes: frameEnvelope({ requestId: id++, ...x }), label: Object.keys(x)[0]! }));
  return { seed: 0, pair: pair.name, steps };
}

const hello: Body = { hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'intended' } };

const unbuilt = Object.values(PAIRS).find((p) => !existsSync(p.binary));
const missing = unbuilt ? `${unbuilt.binary} is not built: run \`npm run firmware:build\`` : null;

describe(`differential: intended differences between the simulator and the C firmware${missing && !IN_CI ? ` (pending: ${missing})` : ''}`, function () {
  this.timeout(60_000);
  const firmware: Partial<Record<Pair['name'], LockstepFirmware>> = {};

  before(function () {
    if (missing) {
      if (IN_CI) throw new Error(missing);
      this.skip();
    }
    for (const p of Object.values(PAIRS)) firmware[p.name] = LockstepFirmware.start(p);
  });

  after(async () => {
    for (const f of Object.values(firmware)) await f?.close();
  });

  async function both(seq: Sequence): Promise<{ sim: Transcript; native: Transcript }> {
    const pair = PAIRS[seq.pair];
    const [native] = await firmware[seq.pair]!.run([seq]);
    return { sim: runOnSim(seq, pair), native: native! };
  }

  const replies = (t: Transcript): NonNullable<Transcript['messages'][number]>[] => t.messages.filter((m) => m.requestId !== 0);

  it('the pyboard build refuses rates, oversampling, carriers, TDM cycles and sync periods its 84 MHz clock and 1024-entry LED tables cannot play; the simulator with the same board takes them', async () => {
    const pair = PAIRS['native-pyboard'];
    const base: AcquisitionConfigInit = {
      mode: M.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, oversampling: 1, detectorIds: [0], blockSamples: 10, leds: [{ channel: 0, currentMa: 10 }],
    };
    const cases: Array<[string, AcquisitionConfigInit]> = [
      ['config.sample_rate_hz', { ...base, sampleRateHz: 3001 }],
      ['config.oversampling', { ...base, oversampling: 64 }],
      ['config.leds[0].carrier_hz', { ...base, mode: M.MODULATION_MODE_LOCK_IN, leds: [{ channel: 0, currentMa: 10, carrierHz: 137.3 }] }],
      ['config.time_division.slot_samples', {
        ...base, sampleRateHz: 2000, mode: M.MODULATION_MODE_TIME_DIVISION,
        timeDivision: { slotSamples: 400, onSamples: 10, settleSamples: 0, windowSamples: 5, darkSlot: true },
        leds: [{ channel: 0, currentMa: 10 }, { channel: 1, currentMa: 10 }],
      }],
      ['config.sync_out.period_samples', { ...base, syncOut: { enabled: true, line: 2, periodSamples: 70_000, pulseSamples: 1 } }],
    ];
    for (const [field, config] of cases) {
      const { sim, native } = await both(script(pair, hello, { configure: { config } }, 1));
      const [, simReply] = replies(sim);
      const [, nativeReply] = replies(native);
      assert.equal(simReply?.body, 'ack', `${field}: the simulator's pyboard board accepts it`);
      assert.equal(nativeReply?.body, 'error', `${field}: the pyboard firmware refuses it`);
      assert.equal(ErrorCode[nativeReply!.error!.code], 'ERROR_CODE_UNSUPPORTED', field);
      assert.equal(nativeReply!.error!.field, field);
    }
  });

  it('LOCK_IN codes differ by at most one code (C plays a 1024-point sine table, the simulator computes the sine), and do differ', async () => {
    const pair = PAIRS.native;
    const config: AcquisitionConfigInit = {
      mode: M.MODULATION_MODE_LOCK_IN, sampleRateHz: 4000, oversampling: 1, detectorIds: [0, 1], blockSamples: 20, heartbeatTimeoutMs: 60_000,
      leds: [{ channel: 2, currentMa: 20.27, carrierHz: 660 }],
    };
    const { sim, native } = await both(script(pair, hello, { configure: { config } }, { start: {} }, 200, { stop: {} }, 1));
    for (const t of [sim, native]) assert.deepEqual(replies(t).map((m) => m.body), ['deviceInfo', 'ack', 'ack', 'ack']);
    const codes = (t: Transcript): number[] => (normalize(t).blocks as Array<{ sampleBlock: { codes: number[] } }>).flatMap((b) => b.sampleBlock.codes);
    const a = codes(sim);
    const b = codes(native);
    assert.equal(a.length, 800 * 2, 'both sent 200 ms of two detectors');
    assert.equal(b.length, a.length);
    const off = a.map((x, i) => Math.abs(x - b[i]!));
    assert.ok(Math.max(...off) <= 1, `largest difference ${Math.max(...off)} codes`);
    assert.ok(off.some((d) => d === 1), 'some code lands one step apart (else drop the tolerance in compare.ts)');
    assert.deepEqual(compareTranscripts(normalize(sim), normalize(native)), []);
  });

  it('Status.buffer_fill follows the loop cadence: the firmware polling each millisecond holds two 1-sample blocks where the simulator holds one; the drop counters agree', async () => {
    const pair = PAIRS.native;
    const config: AcquisitionConfigInit = {
      mode: M.MODULATION_MODE_CONTINUOUS, sampleRateHz: 2000, oversampling: 1, detectorIds: [0], blockSamples: 1, heartbeatTimeoutMs: 60_000,
      statusIntervalMs: 50, leds: [{ channel: 1, currentMa: 5 }],
    };
    const { sim, native } = await both(script(pair, hello, { configure: { config } }, { start: {} }, 120, { stop: {} }, 1));
    const status = (t: Transcript): Array<NonNullable<Transcript['messages'][number]['status']>> => t.messages.flatMap((m) => (m.status ? [m.status] : []));
    const s = status(sim);
    const n = status(native);
    assert.ok(s.length >= 2 && s.length === n.length, `${s.length} / ${n.length} Status`);
    assert.ok(s.some((x, i) => x.bufferFill !== n[i]!.bufferFill), 'buffer_fill differs (else stop setting it aside in normalize.ts)');
    for (let i = 0; i < s.length; i++) {
      assert.equal(String(s[i]!.blocksDropped), String(n[i]!.blocksDropped));
      assert.equal(String(s[i]!.samplesDropped), String(n[i]!.samplesDropped));
      assert.ok(Math.abs(s[i]!.bufferFill - n[i]!.bufferFill) <= 1 / 32 + 1e-9, 'at most one block apart');
    }
    assert.deepEqual(compareTranscripts(normalize(sim), normalize(native)), []);
  });

  it('SelfTest values agree at single precision (the C core computes them in float), names the build itself in DeviceInfo, and the firmware announces power-on with a Log', async () => {
    const pair = PAIRS.native;
    const { sim, native } = await both(script(pair, hello, { selfTest: {} }, 1));
    const items = (t: Transcript): Array<{ name: string; value: number }> => replies(t).find((m) => m.selfTestReport)!.selfTestReport!.items;
    const a = items(sim);
    const b = items(native);
    assert.deepEqual(a.map((x) => x.name), b.map((x) => x.name));
    assert.deepEqual(a.map((x) => Math.fround(x.value)), b.map((x) => Math.fround(x.value)));
    const sInfo = replies(sim)[0]!.deviceInfo!;
    const nInfo = replies(native)[0]!.deviceInfo!;
    assert.notEqual(sInfo.firmwareName, nInfo.firmwareName, 'each build names itself');
    assert.deepEqual(sInfo.leds, nInfo.leds);
    assert.ok(native.messages.some((m) => m.log?.message.startsWith('power on')), 'the firmware logs its power-on');
    assert.ok(!sim.messages.some((m) => m.log), 'the simulator logs only a reset');
    assert.deepEqual(compareTranscripts(normalize(sim), normalize(native)), []);
  });
});
