// Acceptance (issue 14, point 2): every numeric field of the acquisition config,
// at 2^31, 2^32, 2^32+1, 2^53, -1, NaN and Infinity, is refused with the field
// named, nothing written and the device untouched: through the config file
// (`fiberrig acquire --config`, in-process) and through the Rig API. A value that
// is in range for a field is asserted accepted instead, with the reason.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import '../../../host/cli/devices.ts';
import { main } from '../../../host/cli/main.ts';
import { ConfigError, DEFAULT_LOCKIN_CONFIG, parseAcquisitionConfig, toWireConfig } from '../../../host/config/acquisition.ts';
import { ConfigRangeError, UINT32_MAX, wireRangeIssues } from '../../../host/config/wire-ranges.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { openTransport, type Transport } from '../../../host/transport/open.ts';
import { type AcquisitionConfigInit, decodeEnvelope, type Envelope, FrameDecoder, ModulationMode } from '../../../protocol/index.ts';

const VALUES: ReadonlyArray<[string, number]> = [
  ['2^31', 2 ** 31], ['2^32', 2 ** 32], ['2^32+1', 2 ** 32 + 1], ['2^53', 2 ** 53], ['-1', -1], ['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY],
];

/** A config file with every numeric field the format has (time-division, so the timing exists; a carrier is allowed in any mode). */
const FULL_FILE = {
  mode: 'time-division',
  sampleRateHz: 10_000,
  detectors: [0],
  leds: [{ channel: 0, currentMa: 20, carrierHz: 648 }, { channel: 1, powerUw: 100 }],
  oversampling: 1,
  blockSamples: 250,
  timeDivision: { slotSamples: 10, onSamples: 8, settleSamples: 2, windowSamples: 4, darkSlot: true },
  aux: { inputs: [0], rateHz: 1000, blockSamples: 250 },
  digitalInputs: [0],
  syncOut: { line: 2, periodSamples: 100, pulseSamples: 10 },
  heartbeatTimeoutMs: 2000,
  statusIntervalMs: 500,
  outputRateHz: 100,
  lowpassHz: 10,
  auxOutputRateHz: 100,
};

type Path = Array<string | number>;

/** Every numeric leaf of `value`, with its path. */
function numericPaths(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'number') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => numericPaths(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numericPaths(v, [...path, k]));
  return [];
}

const fieldName = (path: Path): string => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${p}`)).join('');

function withValue<T>(base: T, path: Path, v: unknown): T {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let at = copy;
  for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
  at[path[path.length - 1]!] = v;
  return copy as T;
}

/**
 * Values in range for a field, with the reason: nothing else of the list is.
 * syncOut.periodSamples has no physical bound short of the wire's uint32 (2^31 samples
 * is ~60 h at 10 kS/s: a slow marker, not nonsense), and 2^31 < 2^32 fits the wire.
 */
const IN_RANGE: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['syncOut.periodSamples', new Set(['2^31'])],
]);
const accepted = (field: string, label: string): boolean => IN_RANGE.get(field)?.has(label) ?? false;

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('config ranges fuzz: every numeric field at 2^31, 2^32, 2^32+1, 2^53, -1, NaN, Infinity', function () {
  this.timeout(120_000);
  const filePaths = numericPaths(FULL_FILE);

  it('the base config is valid, so each refusal below is the fuzzed field\'s', () => {
    const file = parseAcquisitionConfig(FULL_FILE);
    assert.deepEqual(wireRangeIssues(toWireConfig(file)), []);
    // every numeric field of the format (acquisitionConfigSchema); a new one belongs in FULL_FILE
    assert.deepEqual(filePaths.map(fieldName), [
      'sampleRateHz', 'detectors[0]', 'leds[0].channel', 'leds[0].currentMa', 'leds[0].carrierHz', 'leds[1].channel', 'leds[1].powerUw',
      'oversampling', 'blockSamples', 'timeDivision.slotSamples', 'timeDivision.onSamples', 'timeDivision.settleSamples',
      'timeDivision.windowSamples', 'aux.inputs[0]', 'aux.rateHz', 'aux.blockSamples', 'digitalInputs[0]', 'syncOut.line', 'syncOut.periodSamples',
      'syncOut.pulseSamples', 'heartbeatTimeoutMs', 'statusIntervalMs', 'outputRateHz', 'lowpassHz', 'auxOutputRateHz',
    ]);
  });

  it('config file through `fiberrig acquire --config`: refused with the field named, and no output directory or file written', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fiberrig-ranges-'));
    try {
      let runs = 0;
      for (const path of filePaths) {
        const field = fieldName(path);
        for (const [label, v] of VALUES) {
          if (accepted(field, label)) continue; // asserted in its own test below
          // JSON has no NaN: the loader's object path gets NaN; JSON text gets 1e400 for Infinity (JSON.parse reads it as Infinity)
          if (Number.isNaN(v)) {
            assert.throws(() => parseAcquisitionConfig(withValue(FULL_FILE, path, v)), (e: unknown) => e instanceof ConfigError && e.message.includes(`${field}:`), `${field} = NaN`);
            continue;
          }
          const dir = join(root, `case-${runs++}`);
          rmSync(dir, { recursive: true, force: true });
          writeFileSync(join(root, 'bad.json'), JSON.stringify(withValue(FULL_FILE, path, '@V@')).replace('"@V@"', Number.isFinite(v) ? String(v) : '1e400'));
          const stdout = new Sink();
          const stderr = new Sink();
          const code = await main(['acquire', '--device', 'sim://linear?seed=1', '--config', join(root, 'bad.json'), '--out', dir, '--duration', '1s', '--quiet'], { stdout, stderr });
          assert.equal(code, 1, `${field} = ${label}: exit code (stderr: ${stderr.text})`);
          assert.ok(stderr.text.includes(`${field}:`), `${field} = ${label}: the error names the field: ${stderr.text}`);
          assert.match(stderr.text, /E_CONFIG/, `${field} = ${label}`);
          assert.equal(existsSync(dir), false, `${field} = ${label}: ${dir} must not be created`);
          assert.deepEqual(readdirSync(root), ['bad.json'], `${field} = ${label}: nothing else written`);
          assert.equal(stdout.text, '', `${field} = ${label}: no summary`);
        }
      }
      assert.ok(runs >= filePaths.length * 5, `${runs} CLI runs`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('config file: an in-range value is accepted and reaches the wire unwrapped (syncOut.periodSamples = 2^31)', () => {
    const file = parseAcquisitionConfig(withValue(FULL_FILE, ['syncOut', 'periodSamples'], 2 ** 31));
    const wire = toWireConfig(file);
    assert.equal(wire.syncOut?.periodSamples, 2 ** 31);
    assert.deepEqual(wireRangeIssues(wire), []);
    // one more and it no longer fits the wire
    assert.throws(() => parseAcquisitionConfig(withValue(FULL_FILE, ['syncOut', 'periodSamples'], UINT32_MAX + 1)), /syncOut\.periodSamples:/);
  });

  describe('Rig API (rig.configure) on a simulated device', () => {
    let rig: Rig;
    const sent: Envelope[] = [];
    const configures = (): number => sent.filter((e) => e.body === 'configure').length;
    /** Every envelope the host writes to the device, decoded from the bytes on the wire. */
    const recordingTransport = async (url: string): Promise<Transport> => {
      const t = await openTransport(url);
      const frames = new FrameDecoder((payload) => sent.push(decodeEnvelope(payload)));
      const write = t.stream.write.bind(t.stream) as (...args: unknown[]) => boolean;
      (t.stream as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
        if (chunk instanceof Uint8Array) frames.push(chunk);
        return write(chunk, ...rest);
      };
      return t;
    };
    // the wire form of FULL_FILE, with ids the simulated board has (LEDs 0-3, detectors 0-1, aux 0-1, TTL0/1 in, SYNC 2 out)
    const base = (): AcquisitionConfigInit => ({ ...toWireConfig(parseAcquisitionConfig(FULL_FILE)), statusIntervalMs: 500 });

    before(async () => {
      rig = await Rig.connect('sim://linear?seed=1', { openTransport: recordingTransport });
    });
    after(async () => {
      await rig?.close();
    });

    it('the recorder sees a Configure the device accepts (positive control)', async () => {
      const before = configures();
      await rig.configure(toWireConfig(DEFAULT_LOCKIN_CONFIG));
      assert.equal(configures(), before + 1);
    });

    it('refuses every fuzzed value with the field named, and sends the device nothing', async () => {
      const wirePaths = numericPaths(base()).filter((p) => p[0] !== 'mode');
      assert.equal(wirePaths.length, 22, 'every uint32 and float field of AcquisitionConfig and its nested messages'); // the file's 25 minus 3 host-only rates
      const paths: Path[] = [['mode'], ...wirePaths];
      const sentBefore = sent.length;
      let cases = 0;
      for (const path of paths) {
        const field = fieldName(path);
        for (const [label, v] of VALUES) {
          if (accepted(field, label)) {
            assert.deepEqual(wireRangeIssues(withValue(base(), path, v), rig.info).filter((i) => i.field === field), [], `${field} = ${label} is in range`);
            continue;
          }
          cases++;
          await assert.rejects(rig.configure(withValue(base(), path, v)), (e: unknown) => {
            assert.ok(e instanceof ConfigRangeError, `${field} = ${label}: ${String(e)}`);
            assert.deepEqual(e.issues.map((i) => i.field), [field], `${field} = ${label}: exactly the fuzzed field is named`);
            assert.match(e.message, new RegExp(`${field.replace(/[.[\]]/g, '\\$&')}:`));
            return true;
          });
        }
      }
      assert.ok(cases >= paths.length * 6);
      assert.equal(sent.length, sentBefore, 'the device received nothing at all while the bad configs were refused');
    });

    it('refuses ids that fit the wire but do not exist on the device, and a rate above its maximum, before sending', async () => {
      const sentBefore = sent.length;
      const refusedField = async (config: AcquisitionConfigInit, field: string, pattern: RegExp): Promise<void> => {
        await assert.rejects(rig.configure(config), (e: unknown) => e instanceof ConfigRangeError && e.issues.some((i) => i.field === field && pattern.test(i.message)));
      };
      const lockIn = toWireConfig(DEFAULT_LOCKIN_CONFIG);
      await refusedField({ ...lockIn, leds: [...lockIn.leds!.slice(0, 1), { ...lockIn.leds![1]!, channel: 7 }] }, 'leds[1].channel', /LED 7 does not exist on this device \(it has 0, 1, 2, 3\)/);
      await refusedField({ ...lockIn, detectorIds: [0, 5] }, 'detectorIds[1]', /detector 5 does not exist/);
      await refusedField({ ...lockIn, aux: { inputIds: [0, 9], rateHz: 1000 } }, 'aux.inputIds[1]', /aux input 9 does not exist/);
      await refusedField({ ...lockIn, aux: { inputIds: [0, 1], rateHz: 1000, blockSamples: rig.info.maxBlockSamples + 1 } }, 'aux.blockSamples', /above this device's 1024 maximum/);
      await refusedField({ ...lockIn, digitalInputIds: [3] }, 'digitalInputIds[0]', /digital line 3 does not exist/);
      await refusedField({ ...lockIn, mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: rig.info.maxSampleRateHz + 1 }, 'sampleRateHz', /above this device's 20000 Hz maximum/);
      await assert.rejects(rig.setLed(2 ** 32, { currentMa: 1 }), (e: unknown) => e instanceof ConfigRangeError && e.issues[0]?.field === 'channel');
      await assert.rejects(rig.setLed(7, { currentMa: 1 }), /LED 7 does not exist/);
      await assert.rejects(rig.setLed(0, { currentMa: Number.NaN }), (e: unknown) => e instanceof ConfigRangeError && e.issues[0]?.field === 'currentMa');
      assert.equal(sent.length, sentBefore, 'nothing sent');
    });

    it('0 still asks for the device defaults of the heartbeat timeout and status interval', async () => {
      const before = configures();
      await rig.configure({ ...toWireConfig(DEFAULT_LOCKIN_CONFIG), heartbeatTimeoutMs: 0, statusIntervalMs: 0 });
      assert.equal(configures(), before + 1);
    });
  });
});
