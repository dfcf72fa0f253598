// Acceptance (issue 17, point 4): `fiberrig view --out DIR --duration D` records through the
// same Recorder as `fiberrig acquire`. The same scripted device (a dropped block: a gap; a
// watchdog trip: a dark span), recorded for the same duration both ways, gives the same
// recording: the raw sample stream (replayed from each raw log), signals.csv, aux.csv,
// events.csv, gaps.csv, quality.csv, analysis-input.bin and session.json apart from times and
// paths. (Not the simulator: its idle time follows the wall clock, so two runs of the same
// sim:// URL start from different world states — two acquires differ too.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { acquireCommand } from '../../../host/cli/commands/acquire.ts';
import { viewCommand } from '../../../host/cli/commands/view.ts';
import { replayRecording } from '../../../host/record/replay.ts';
import { DeviceModel, scriptedDevice, TEST_FILE, tempDir } from './helpers.ts';

const DEVICE = 'test://scripted';
const DURATION = '12s';
/** A fresh device per run: the same blocks, one dropped (a gap), LEDs dark from 4 s to 7 s. */
const device = (): ReturnType<typeof scriptedDevice> => scriptedDevice(new DeviceModel({ dark: { fromBlock: 80, toBlock: 140 }, dropBlocks: [200] }));
const rigOptions = (d: ReturnType<typeof scriptedDevice>): { openTransport: typeof d.openTransport; heartbeatIntervalMs: number } => ({ openTransport: d.openTransport, heartbeatIntervalMs: 50 });

const sink = (): { stream: PassThrough; text: () => string } => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => { text += b.toString(); });
  return { stream, text: () => text };
};

/** Every detector and aux sample, gap and light marker the raw log replays to, hashed in order (with a count). */
async function rawStreamOf(dir: string): Promise<{ sha256: string; detectorSamples: number; items: number }> {
  const hash = createHash('sha256');
  let detectorSamples = 0;
  let items = 0;
  await replayRecording(dir, [{
    item: (item) => {
      items++;
      if (item.kind === 'block') {
        hash.update(`${item.source} ${item.sessionIndex} ${item.sampleCount} ${item.channelIds.join(',')}\n`);
        hash.update(new Uint8Array(item.samples.buffer, item.samples.byteOffset, item.samples.byteLength));
        if (item.source === 'detector') detectorSamples += item.sampleCount;
      } else {
        hash.update(`${JSON.stringify(item)}\n`);
      }
    },
  }], { demod: false });
  return { sha256: hash.digest('hex'), detectorSamples, items };
}

/** session.json without what differs between two runs of the same recording: times, paths, sizes of the raw log. */
function sessionOf(dir: string): Record<string, unknown> {
  const s = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as Record<string, unknown>;
  delete s['start'];
  delete s['software'];
  delete s['diskSpace'];
  s['end'] = { ...(s['end'] as object), hostTimeUs: 0, iso: '' };
  // bytes and records of the raw log depend on when heartbeats were answered (and view's log joins an open link)
  s['counters'] = { ...(s['counters'] as object), bytesIn: 0, rawLogBytes: 0, rawLogRecords: 0 };
  return s;
}

describe('host/record: view --out records what acquire records (issue 17, acceptance 4)', function () {
  this.timeout(180_000);
  const tmp = tempDir('fiberrig-view-acquire-');
  after(() => tmp.cleanup());

  it(`the same ${DEVICE} for ${DURATION}: identical raw sample stream, derived files and session.json (apart from times and paths)`, async () => {
    const acquired = join(tmp.dir, 'acquire');
    const viewed = join(tmp.dir, 'view');
    const config = join(tmp.dir, 'config.json');
    writeFileSync(config, JSON.stringify(TEST_FILE));
    const a = sink();
    const common = { device: DEVICE, config, duration: DURATION, subject: 'm1', json: true };
    assert.equal(await acquireCommand({ stdout: a.stream, stderr: a.stream }, { ...common, out: acquired, quiet: true }, rigOptions(device())), 0, a.text());
    const v = sink();
    const code = await viewCommand({ stdout: v.stream, stderr: v.stream }, { ...common, out: viewed, port: 0 }, rigOptions(device()));
    assert.equal(code, 0, v.text());
    assert.match(v.text(), /"stoppedBy":"duration"/, 'view printed the recording summary');

    const rawA = await rawStreamOf(acquired);
    const rawV = await rawStreamOf(viewed);
    assert.ok(rawA.detectorSamples >= 12 * 2000 - 100, `a real recording: ${rawA.detectorSamples} detector samples`);
    assert.deepEqual(rawV, rawA, 'the raw sample stream');

    const files = ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv', 'quality.csv', 'analysis-input.bin'];
    for (const f of files) {
      assert.equal(existsSync(join(viewed, f)), existsSync(join(acquired, f)), `${f} written by both or neither`);
      if (!existsSync(join(acquired, f))) continue;
      assert.ok(readFileSync(join(viewed, f)).equals(readFileSync(join(acquired, f))), `${f} is byte-identical`);
    }
    assert.ok(existsSync(join(acquired, 'analysis-input.bin')), 'the analysis input is written by both');
    assert.match(readFileSync(join(acquired, 'gaps.csv'), 'utf8'), /\n.+/, 'the dropped block is a gap');
    assert.match(readFileSync(join(acquired, 'quality.csv'), 'utf8'), /leds-dark/, 'the dark span is flagged');
    const sessionA = sessionOf(acquired);
    const sessionV = sessionOf(viewed);
    assert.deepEqual(sessionV, sessionA, 'session.json apart from times, paths and raw-log sizes');
    assert.equal((sessionV['end'] as { stoppedBy: string }).stoppedBy, 'duration');
    const summaryA = JSON.parse(readFileSync(join(acquired, 'summary.json'), 'utf8')) as Record<string, unknown>;
    const summaryV = JSON.parse(readFileSync(join(viewed, 'summary.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['durationS', 'rawSamples', 'signalRows', 'gaps', 'channels', 'stoppedBy']) assert.deepEqual(summaryV[key], summaryA[key], `summary ${key}`);
  });
});
