// Issue 18, acceptance 4: a recorded session served as a device. Two short
// simulated recordings (one plain, one with a ring-buffer overrun: a gap the
// device's counter counted) are replayed through `fiberrig acquire --device
// sim://replay?rec=DIR&speed=max` (and replay://DIR) into new recordings: the
// device sent the same sample blocks (first sample indices, counts, bytes),
// the same digital edges and LED events, and `fiberrig demod` of both gives
// the same files. A Configure other than the recording's is refused, naming
// the field, and nothing is recorded; `fiberrig info` shows the recorded device.
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import type { DeviceInfoReport } from '../../../host/cli/commands/info.ts';
import { registerSimBindings } from '../../../host/cli/devices.ts';
import type { SessionFile } from '../../../host/record/session.ts';
import { cli, runNode } from '../cli/helpers.ts';
import { before as beforeCutoff, readRecordedStream, type RecordedStream } from './recorded-stream.ts';

const bin = fileURLToPath(new URL('../../../host/cli/bin.js', import.meta.url));
const DURATION_S = 20;

interface Case {
  name: string;
  device: string;
  /** A config file of its own (else acquire's default). */
  config?: Record<string, unknown>;
  replayUrl: (dir: string) => string;
}

const CASES: Case[] = [
  { name: 'plain (steps, default config)', device: 'sim://steps?seed=2&speed=max', replayUrl: (dir) => `sim://replay?rec=${encodeURIComponent(dir)}&speed=max` },
  {
    name: 'overrun@5:blocks=4 (a counted gap; a config of its own, replayed with --config from session.json)',
    device: 'sim://steps?seed=2&speed=max&faults=overrun@5:blocks=4',
    config: { ...DEFAULT_LOCKIN_CONFIG, blockSamples: 200, statusIntervalMs: 250 },
    replayUrl: (dir) => `replay://${dir.split('/').map(encodeURIComponent).join('/')}?speed=max`,
  },
  {
    name: 'disconnect@5:for=2 (a cable pull: the host reconnects, and the new run is placed as in the original)',
    device: 'sim://steps?seed=2&speed=max&faults=disconnect@5:for=2',
    replayUrl: (dir) => `sim://replay?rec=${encodeURIComponent(dir)}&speed=max`,
  },
];

async function acquire(device: string, out: string, config?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runNode([bin, 'acquire', '--device', device, '--duration', `${DURATION_S}s`, '--out', out, '--json', '--quiet', ...(config ? ['--config', config] : [])]);
}

async function sessionOf(dir: string): Promise<SessionFile> {
  return JSON.parse(await readFile(join(dir, 'session.json'), 'utf8')) as SessionFile;
}

describe('replay device: a recording served as a device through `fiberrig acquire` (issue 18, acceptance 4)', function () {
  this.timeout(240_000);
  let tmp: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-replay-'));
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  for (const [k, c] of CASES.entries()) {
    describe(c.name, () => {
      const original = (): string => join(tmp, `original-${k}`);
      const replayed = (): string => join(tmp, `replayed-${k}`);
      let streams: { original: RecordedStream; replayed: RecordedStream };
      let summaries: { original: Record<string, unknown>; replayed: Record<string, unknown> };

      before(async () => {
        let config: string | undefined;
        if (c.config) {
          config = join(tmp, `config-${k}.json`);
          await writeFile(config, JSON.stringify(c.config));
        }
        const a = await acquire(c.device, original(), config);
        assert.equal(a.code, 0, a.stderr);
        let replayConfig: string | undefined;
        if (c.config) {
          // the recording's own configuration, as session.json keeps it
          replayConfig = join(tmp, `replay-config-${k}.json`);
          await writeFile(replayConfig, JSON.stringify((await sessionOf(original())).config.file));
        }
        const b = await acquire(c.replayUrl(original()), replayed(), replayConfig);
        assert.equal(b.code, 0, b.stderr);
        summaries = { original: JSON.parse(a.stdout) as Record<string, unknown>, replayed: JSON.parse(b.stdout) as Record<string, unknown> };
        const session = await sessionOf(original());
        const wire = session.config.wire as unknown as { sampleRateHz: number; aux: { rateHz: number } };
        // a run after a reconnect begins where the original's reconnect gap ends
        const resumedS = Math.max(0, ...session.gaps.filter((g) => g.source === 'detector' && g.reason === 'reconnect').map((g) => g.startS + g.durationS));
        const cut = (s: RecordedStream): RecordedStream => beforeCutoff(s, DURATION_S, wire.sampleRateHz, wire.aux.rateHz, resumedS);
        streams = { original: cut(await readRecordedStream(original())), replayed: cut(await readRecordedStream(replayed())) };
      });

      it('the replayed recording ran to its duration with the recorded device info and configuration', async () => {
        assert.equal(summaries.replayed.stoppedBy, 'duration');
        assert.equal(summaries.replayed.reconnects, summaries.original.reconnects);
        assert.equal(summaries.replayed.gaps, summaries.original.gaps);
        assert.equal(summaries.replayed.missingSamples, summaries.original.missingSamples);
        const [o, r] = [await sessionOf(original()), await sessionOf(replayed())];
        assert.deepEqual(r.device.info, o.device.info);
        assert.equal(r.config.wireSha256, o.config.wireSha256);
      });

      it('the device sent the same sample blocks before the cutoff: first sample indices, counts, channels and bytes', () => {
        const detector = streams.original.blocks.filter((b) => b.source === 'detector');
        // 17.5 s of detector samples (700 blocks of 250, 175 of the default 1000)
        const samples = detector.reduce((n, b) => n + b.count, 0);
        assert.ok(samples >= 175_000, `${detector.length} detector blocks, ${samples} samples`);
        assert.ok(streams.original.blocks.some((b) => b.source === 'aux'));
        assert.equal(streams.replayed.blocks.length, streams.original.blocks.length);
        for (const [i, b] of streams.original.blocks.entries()) assert.deepEqual(streams.replayed.blocks[i], b, `block ${i}`);
      });

      it('and the same digital edges and LED events', () => {
        assert.ok(streams.original.digital.length >= 10, `${streams.original.digital.length} edges`);
        assert.ok(streams.original.led.length >= 3, `${streams.original.led.length} LED events`);
        assert.deepEqual(streams.replayed.digital, streams.original.digital);
        assert.deepEqual(streams.replayed.led, streams.original.led);
      });

      if (c.device.includes('overrun')) {
        it('the recorded gap stays a gap: the detector blocks\' first sample indices jump where the original\'s did', () => {
          const jumps = (s: RecordedStream): number[] => {
            const d = s.blocks.filter((b) => b.source === 'detector');
            return d.slice(1).flatMap((b, i) => (b.first === d[i]!.first + d[i]!.count ? [] : [d[i]!.first + d[i]!.count]));
          };
          assert.ok(jumps(streams.original).length >= 1);
          assert.deepEqual(jumps(streams.replayed), jumps(streams.original));
          assert.ok(Number(summaries.replayed.missingSamples) > 0);
        });
      }

      if (c.device.includes('disconnect')) {
        it('the cable pull was replayed as one: one reconnect, the same reconnect gap (device-timed, ±1 sample) and the same LEDs-dark span', async () => {
          assert.equal(summaries.original.reconnects, 1);
          const [o, r] = [await sessionOf(original()), await sessionOf(replayed())];
          const reconnect = o.gaps.filter((g) => g.reason === 'reconnect');
          assert.ok(reconnect.length >= 1);
          assert.deepEqual(r.gaps, o.gaps);
          assert.deepEqual(r.quality, o.quality);
          assert.ok(new Set(streams.original.blocks.map((b) => b.run)).size === 2, 'two runs');
        });
      }

      it('`fiberrig demod` of both gives identical signals, aux, events and gaps files', async () => {
        for (const dir of [original(), replayed()]) {
          const r = await cli(['demod', '--in', dir, '--out', join(dir, 'demod'), '--quiet']);
          assert.equal(r.code, 0, r.stderr);
        }
        for (const name of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv']) {
          const [o, r] = [await readFile(join(original(), 'demod', name), 'utf8'), await readFile(join(replayed(), 'demod', name), 'utf8')];
          assert.ok(o.split('\n').length > 2 || name !== 'signals.csv', `${name} has rows`);
          assert.ok(o === r, `${name} differs`);
        }
      });
    });
  }

  describe('reset@8 (a device reset: replayed as one; the host places the next run by its own estimate, as it did live)', () => {
    let session: { original: SessionFile; replayed: SessionFile };
    let streams: { original: RecordedStream; replayed: RecordedStream };

    before(async () => {
      const [original, replayed] = [join(tmp, 'original-reset'), join(tmp, 'replayed-reset')];
      const a = await acquire('sim://steps?seed=2&speed=max&faults=reset@8', original);
      assert.equal(a.code, 0, a.stderr);
      // the replay's host places the next run by its own estimate (at speed=max a loose one: it may land earlier than the
      // original's did, and then the recording runs out before 20 s): a duration that ends inside the second run
      const b = await runNode([bin, 'acquire', '--device', `sim://replay?rec=${encodeURIComponent(original)}&speed=max`, '--duration', '10s', '--out', replayed, '--json', '--quiet']);
      assert.equal(b.code, 0, b.stderr);
      session = { original: await sessionOf(original), replayed: await sessionOf(replayed) };
      streams = { original: await readRecordedStream(original), replayed: await readRecordedStream(replayed) };
    });

    it('the replayed acquisition ran to its duration with one device-reset gap, placed within the original\'s stated uncertainty', () => {
      assert.equal(session.replayed.end?.stoppedBy, 'duration');
      const reset = (s: SessionFile) => s.gaps.filter((g) => g.source === 'detector' && g.reason === 'device-reset');
      const [o, r] = [reset(session.original), reset(session.replayed)];
      assert.equal(o.length, 1);
      assert.equal(r.length, 1);
      assert.equal(r[0]!.sessionIndex, o[0]!.sessionIndex, 'the gap starts after the same last sample');
      const [oEnd, rEnd] = [o[0]!.sessionIndex + o[0]!.count, r[0]!.sessionIndex + r[0]!.count];
      const [ou, ru] = [o[0]!.uncertaintySamples ?? 0, r[0]!.uncertaintySamples ?? 0];
      assert.ok(ou > 0, 'the original states its uncertainty');
      assert.ok(Math.abs(rEnd - oEnd) <= ou + ru, `the next run at ${rEnd}, the original's at ${oEnd} ± ${ou}`);
    });

    it('both runs\' blocks are the recorded ones: the first run whole, the second from its first block on', () => {
      const runOf = (s: RecordedStream, run: number) => s.blocks.filter((b) => b.run === run);
      assert.deepEqual(runOf(streams.replayed, 0), runOf(streams.original, 0));
      const [o, r] = [runOf(streams.original, 1), runOf(streams.replayed, 1)];
      assert.ok(r.filter((b) => b.source === 'detector').length >= 40, `${r.length} blocks of the second run`);
      assert.ok(r.length <= o.length);
      assert.deepEqual(r, o.slice(0, r.length));
    });
  });

  describe('refusals, and `fiberrig info` (on the recordings above)', () => {
    before(() => registerSimBindings()); // `fiberrig info` runs in this process: sim:// as the CLI registers it
    it('a Configure other than the recording\'s is refused with an Error naming the field and both values; nothing is recorded', async () => {
      const recorded = (await sessionOf(join(tmp, 'original-0'))).config.file as { blockSamples: number };
      const other = join(tmp, 'other-config.json');
      await writeFile(other, JSON.stringify({ ...recorded, blockSamples: recorded.blockSamples === 500 ? 250 : 500 }));
      const out = join(tmp, 'refused');
      const r = await acquire(CASES[0]!.replayUrl(join(tmp, 'original-0')), out, other);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /field config\.block_samples/);
      assert.match(r.stderr, new RegExp(`block_samples is ${recorded.blockSamples === 500 ? 250 : 500}, the recording's is ${recorded.blockSamples}`));
      await assert.rejects(access(out), 'nothing is left that looks like a recording');
    });

    it('`fiberrig info` shows the recorded device as the original device showed it', async () => {
      const [o, r] = [await cli(['info', '--device', 'sim://steps?seed=2', '--json']), await cli(['info', '--device', CASES[0]!.replayUrl(join(tmp, 'original-0')), '--json'])];
      assert.equal(o.code, 0, o.stderr);
      assert.equal(r.code, 0, r.stderr);
      const strip = (text: string): Omit<DeviceInfoReport, 'device'> => {
        const { device: _device, ...rest } = JSON.parse(text) as DeviceInfoReport;
        return rest;
      };
      assert.deepEqual(strip(r.stdout), strip(o.stdout));
    });

    it('a duration past the recording\'s end: the device falls silent, then unplugs and refuses the resume; the acquisition fails saying the recording ended, and keeps what it recorded', async () => {
      const out = join(tmp, 'too-long');
      const r = await runNode([bin, 'acquire', '--device', CASES[0]!.replayUrl(join(tmp, 'original-0')), '--duration', `${DURATION_S + 5}s`, '--out', out, '--json', '--quiet']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /E_RESUME_FAILED/);
      assert.match(r.stderr, /replay: the recording ends at sample \d+/);
      await access(join(out, 'FAILED'));
      const [o, k] = [await readFile(join(tmp, 'original-0', 'signals.csv'), 'utf8'), await readFile(join(out, 'signals.csv'), 'utf8')];
      assert.ok(k.startsWith(o.slice(0, o.lastIndexOf('\n', o.length - 2) + 1)), 'the recording kept holds the original\'s signals');
    });

    it('a replay URL naming no recording is refused before anything is created', async () => {
      const out = join(tmp, 'none');
      const r = await acquire(`sim://replay?rec=${encodeURIComponent(join(tmp, 'no-such-recording'))}&speed=max`, out);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /E_REPLAY_NO_RECORDING/);
      await assert.rejects(access(out));
    });
  });
});
