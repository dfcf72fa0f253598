// Replay URLs (sim://replay?rec=DIR, replay://DIR), their registration beside
// the simulator's sim://, and the configuration comparison Configure uses.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerSimBindings } from '../../../host/cli/devices.ts';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../../host/config/acquisition.ts';
import { configDifference } from '../../../host/replay/config-diff.ts';
import { checkReplayUrl, isReplayUrl, parseReplayUrl } from '../../../host/replay/url.ts';
import { checkDeviceUrl } from '../../../host/transport/open.ts';

describe('replay URLs', () => {
  let tmp: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-replay-url-'));
    await mkdir(join(tmp, 'rec'));
    await writeFile(join(tmp, 'rec', 'raw.fjl'), '');
    await mkdir(join(tmp, 'empty'));
    registerSimBindings(); // as the CLI registers them (other suites in this process register the bare simulator)
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('sim://replay?rec=DIR&speed=… and replay://DIR?speed=… name a recording and a speed (default 1; "max"); percent-encoding is decoded', () => {
    assert.deepEqual(parseReplayUrl('sim://replay?rec=%2Ftmp%2Fmy%20rec&speed=max'), { url: 'sim://replay?rec=%2Ftmp%2Fmy%20rec&speed=max', recording: '/tmp/my rec', speed: 'max' });
    assert.deepEqual(parseReplayUrl('sim://replay/?rec=rec1'), { url: 'sim://replay/?rec=rec1', recording: 'rec1', speed: 1 });
    assert.deepEqual(parseReplayUrl('replay:///data/rec%201?speed=10'), { url: 'replay:///data/rec%201?speed=10', recording: '/data/rec 1', speed: 10 });
    assert.deepEqual(parseReplayUrl('replay://rec1').recording, 'rec1');
  });

  it('isReplayUrl tells replay URLs from the simulator\'s (a scenario that merely starts with "replay" is not one)', () => {
    assert.equal(isReplayUrl('sim://replay?rec=x'), true);
    assert.equal(isReplayUrl('SIM://replay'), true);
    assert.equal(isReplayUrl('replay://x'), true);
    assert.equal(isReplayUrl('sim://replayed?seed=1'), false);
    assert.equal(isReplayUrl('sim://steps?speed=max'), false);
  });

  it('bad URLs are refused with E_REPLAY_URL and a hint: unknown option, bad speed, no recording', () => {
    const refused = (url: string, pattern: RegExp): void => {
      assert.throws(() => parseReplayUrl(url), (e: Error & { code?: string; hint?: string }) => e.code === 'E_REPLAY_URL' && pattern.test(e.message) && (e.hint ?? '') !== '');
    };
    refused('sim://replay?rec=x&seed=1', /unknown option "seed"/);
    refused('replay://x?rec=y', /unknown option "rec"/);
    refused('sim://replay?rec=x&speed=0', /speed "0"/);
    refused('sim://replay?rec=x&speed=fast', /speed "fast"/);
    refused('sim://replay?speed=max', /names no recording/);
    refused('replay://?speed=max', /names no recording/);
  });

  it('checkReplayUrl (and checkDeviceUrl, through the registration) looks for the raw log on disk; the simulator\'s sim:// URLs are still checked as before', () => {
    checkReplayUrl(`replay://${join(tmp, 'rec')}`);
    checkDeviceUrl(`sim://replay?rec=${encodeURIComponent(join(tmp, 'rec'))}&speed=max`);
    checkDeviceUrl(`replay://${join(tmp, 'rec', 'raw.fjl')}`);
    assert.throws(() => checkDeviceUrl(`sim://replay?rec=${encodeURIComponent(join(tmp, 'nope'))}`), /E_REPLAY_NO_RECORDING|no recording at/);
    assert.throws(() => checkDeviceUrl(`replay://${join(tmp, 'empty')}`), /holds no raw\.fjl/);
    checkDeviceUrl('sim://steps?seed=2&speed=max');
    assert.throws(() => checkDeviceUrl('sim://steps?rec=x'), /unknown option "rec"/);
  });
});

describe('replay: configDifference (what a refused Configure names)', () => {
  const recorded = toWireConfig(DEFAULT_LOCKIN_CONFIG);

  it('the same configuration — also when fields at their proto3 default are written out or left away — differs nowhere', () => {
    assert.equal(configDifference(recorded, structuredClone(recorded)), null);
    assert.equal(configDifference({ ...recorded, oversampling: 0 }, { ...recorded, oversampling: undefined }), null);
  });

  it('names the first differing field in .proto order as a dotted path with both values (float32 numbers short)', () => {
    assert.deepEqual(configDifference(recorded, { ...recorded, sampleRateHz: 20_000 }), { field: 'config.sample_rate_hz', recorded: String(recorded.sampleRateHz), requested: '20000' });
    const leds = recorded.leds!.map((l, i) => (i === 2 ? { ...l, currentMa: 12.3 } : l));
    assert.deepEqual(configDifference(recorded, { ...recorded, leds }), { field: 'config.leds[2].current_ma', recorded: String(recorded.leds![2]!.currentMa), requested: '12.3' });
    assert.deepEqual(configDifference(recorded, { ...recorded, leds: recorded.leds!.slice(0, 2) }), { field: 'config.leds', recorded: '3 entries', requested: '2 entries' });
    const byPower = recorded.leds!.map((l, i) => (i === 0 ? { channel: l.channel, powerUw: 30, carrierHz: l.carrierHz } : l));
    assert.equal(configDifference(recorded, { ...recorded, leds: byPower })?.field, 'config.leds[0].current_ma');
  });
});
