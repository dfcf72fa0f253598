// The pyboard's example acquisition config (hardware/examples/pyboard-tdm.json)
// through `fiberrig acquire` against the C firmware with the pyboard's board
// definition and hardware-timing rules on the host (make host-pyboard): a
// rig builder's first recording is accepted and records without gaps, and
// the default three-LED lock-in config is refused with a message naming
// what to change. Needs the host-pyboard build (`npm run firmware:build`):
// a failure in CI, pending elsewhere.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { loadBoard } from '../../../host/flash/board.ts';
import { IN_CI, MissingTool, startTarget, type Target } from '../../conformance/target.ts';

const run = promisify(execFile);
const BIN = resolve('host/cli/bin.js');
const EXAMPLE = resolve('hardware/examples/pyboard-tdm.json');

describe('hardware/examples/pyboard-tdm.json on the pyboard firmware (host build)', function () {
  this.timeout(60_000);
  let dir = '';
  let fw: Target | undefined;

  before(async function () {
    try {
      fw = await startTarget('native-pyboard');
    } catch (error) {
      if (error instanceof MissingTool && !IN_CI) this.skip();
      throw error;
    }
    dir = await mkdtemp(join(tmpdir(), 'fiberrig-pyb-'));
  });

  after(async () => {
    await fw?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fits the board definition\'s timing: the rate and rate x oversampling divide the sample clock', () => {
    const board = loadBoard('pyboard');
    const config = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { sampleRateHz: number; oversampling: number; leds: unknown[] };
    assert.equal(board.timing.sampleClockHz % config.sampleRateHz, 0);
    assert.equal(board.timing.sampleClockHz % (config.sampleRateHz * config.oversampling), 0);
    assert.ok(config.sampleRateHz * config.oversampling <= board.timing.maxScanRateHz);
    assert.ok(config.leds.length <= board.leds.length);
  });

  it('records 3 s through `fiberrig acquire` with no gaps, both wavelengths on both detectors', async () => {
    const out = join(dir, 'rec');
    const { stdout } = await run(process.execPath, [BIN, 'acquire', '--device', fw!.url, '--config', EXAMPLE, '--duration', '3s', '--out', out, '--quiet', '--json'], { timeout: 45_000 });
    const summary = JSON.parse(stdout) as { gaps: number; deviceDroppedSamples: number; rawSamples: number; channels: Array<{ name: string }> };
    assert.equal(summary.gaps, 0);
    assert.equal(summary.deviceDroppedSamples, 0);
    assert.ok(summary.rawSamples >= 2 * 2000, `${summary.rawSamples} raw samples in 3 s at 2 kHz`);
    assert.equal(summary.channels.length, 4, summary.channels.map((c) => c.name).join(', '));
    const inspected = await run(process.execPath, [BIN, 'inspect', '--in', out, '--json'], { timeout: 45_000 });
    assert.match(inspected.stdout, /pyboard-v1\.1-pyphotometry-host/, 'recorded from the pyboard board definition');
  });

  it('lock-in with carriers that fit the LED tables (312.5 and 781.25 Hz at 10 kHz, as hardware/README.md suggests); a host setting the demodulator refuses fails before the device is touched', async () => {
    const config = {
      mode: 'lock-in', sampleRateHz: 10000, detectors: [0, 1], outputRateHz: 20,
      leds: [{ channel: 0, currentMa: 20, carrierHz: 312.5 }, { channel: 1, currentMa: 20, carrierHz: 781.25 }],
    };
    const bad = join(dir, 'lockin-20hz.json');
    await writeFile(bad, JSON.stringify(config)); // the default 10 Hz low-pass needs an output rate above 20 Hz
    const refused = await run(process.execPath, [BIN, 'acquire', '--device', fw!.url, '--config', bad, '--duration', '1s', '--out', join(dir, 'bad'), '--quiet'], { timeout: 45_000 })
      .then(() => null, (e: { code: number; stderr: string }) => e);
    assert.ok(refused && refused.code === 1, 'acquire exits 1');
    assert.match(refused.stderr, /^fiberrig: E_DSP_BAD_CUTOFF: .*raise outputRateHz/m);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'a typed error, not a crash with a stack trace');
    const good = join(dir, 'lockin.json');
    await writeFile(good, JSON.stringify({ ...config, outputRateHz: 100 }));
    const { stdout } = await run(process.execPath, [BIN, 'acquire', '--device', fw!.url, '--config', good, '--duration', '2s', '--out', join(dir, 'lockin'), '--quiet', '--json'], { timeout: 45_000 });
    const summary = JSON.parse(stdout) as { gaps: number; channels: Array<{ name: string; mean: number }> };
    assert.equal(summary.gaps, 0);
    assert.deepEqual(summary.channels.map((c) => c.name), ['470nm@det0', '405nm@det0', '470nm@det1', '405nm@det1']);
    assert.ok(summary.channels.every((c) => c.mean > 0), 'every wavelength demodulated on every detector');
  });

  it('refuses the default three-LED lock-in config with EEG/EMG, naming what the board does not have', async () => {
    const path = join(dir, 'default.json');
    await writeFile(path, JSON.stringify(DEFAULT_LOCKIN_CONFIG));
    const result = await run(process.execPath, [BIN, 'acquire', '--device', fw!.url, '--config', path, '--duration', '2s', '--out', join(dir, 'no'), '--quiet'], { timeout: 45_000 })
      .then(() => null, (e: { code: number; stderr: string }) => e);
    assert.ok(result, 'acquire must fail');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /^fiberrig: E_\w+: .*(aux input 0 is not on this device|config\.aux|config\.leds\[2\])/m);
  });
});
