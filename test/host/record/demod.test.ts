import { ANALYSIS_INPUT_FILE_NAME, AnalysisInputOutput } from '../../../host/analysis/input-file.ts';
import { analysisStreamsOf } from '../../../host/analysis/input-reduce.ts';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { acquireCommand } from '../../../host/cli/commands/acquire.ts';
import { demodulate, type SignalBlock } from '../../../host/pipeline/demodulate.ts';
import { demodRecording } from '../../../host/record/demod.ts';
import { RAW_LOG_FILE_NAME, RawLogWriter } from '../../../host/record/rawlog.ts';
import { replayRecording } from '../../../host/record/replay.ts';
import { readSession } from '../../../host/record/session.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { BLOCK, DeviceModel, RATE_HZ, scriptedDevice, TEST_FILE, TEST_WIRE, tempDir, writeSynthRecording } from './helpers.ts';

function quietIo(): { stdout: PassThrough; stderr: PassThrough; out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  stderr.resume();
  return { stdout, stderr, out: () => Buffer.concat(chunks).toString() };
}

function nanCount(blocks: SignalBlock[]): number {
  let n = 0;
  for (const b of blocks) for (const v of b.values) for (const x of v) if (Number.isNaN(x)) n++;
  return n;
}

describe('host/record: offline demod equals live', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => { tmp = tempDir(); });
  afterEach(() => tmp.cleanup());

  it('replaying the raw log gives bit-identical demodulated values to the live Rig (gaps included)', async () => {
    const model = new DeviceModel({ dropBlocks: [50, 51, 52, 200] });
    const device = scriptedDevice(model);
    const writer = await RawLogWriter.create(join(tmp.dir, RAW_LOG_FILE_NAME));
    const rig = await Rig.connect('test://scripted', { openTransport: device.openTransport, onJournal: writer.write, heartbeatIntervalMs: 50 });
    const live: SignalBlock[] = [];
    let end = 0;
    const enough = new Promise<void>((resolve) => {
      rig.acquisition$.subscribe((item) => {
        if (item.kind === 'block' && item.source === 'detector') end = item.sessionIndex + item.sampleCount;
        if (end >= 20 * RATE_HZ) resolve();
      });
    });
    rig.acquisition$.pipe(demodulate(TEST_WIRE, rig.info, { outputRateHz: 100 })).subscribe((b) => live.push(b));
    await rig.configure(TEST_WIRE);
    await rig.start();
    await enough;
    await rig.stop();
    await rig.close();
    await writer.close();

    const offline: SignalBlock[] = [];
    await replayRecording(tmp.dir, [{ signals: (b) => offline.push(b) }], { demod: { outputRateHz: 100 }, cutoffS: null });
    assert.ok(live.length > 100, `${live.length} live blocks`);
    assert.equal(offline.length, live.length);
    for (let i = 0; i < live.length; i++) {
      const a = live[i]!;
      const b = offline[i]!;
      assert.equal(b.stream, a.stream);
      assert.equal(b.firstIndex, a.firstIndex);
      assert.equal(b.count, a.count);
      assert.equal(b.rateHz, a.rateHz);
      assert.deepStrictEqual(b.values, a.values, `block ${i} differs`);
      assert.deepStrictEqual(b.phaseRad, a.phaseRad);
    }
    assert.ok(nanCount(live) > 0, 'the dropped blocks made NaN gaps');
  });

  it('a dark span (watchdog trip and restore): offline equals live bit for bit, signals NaN from the trip to the restore (filters restart there), quality files identical', async () => {
    const dark = { fromBlock: 80, toBlock: 140 }; // 4.0 s .. 7.0 s at 2 kS/s, 100-sample blocks
    const device = scriptedDevice(new DeviceModel({ dark, dropBlocks: [200] }));
    const configPath = join(tmp.dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(TEST_FILE));
    const rec = join(tmp.dir, 'rec');
    const io = quietIo();
    const code = await acquireCommand(io, { device: 'test://scripted', config: configPath, duration: '12s', out: rec, quiet: true, json: true }, { openTransport: device.openTransport, heartbeatIntervalMs: 50 });
    assert.equal(code, 0);
    const summary = JSON.parse(io.out()) as { qualityFlags: number; darkSpans: number; darkS: number; gaps: number };
    assert.deepEqual([summary.qualityFlags, summary.darkSpans, summary.darkS, summary.gaps], [1, 1, 3, 2]);
    const session = await readSession(rec);
    assert.deepEqual(session?.quality?.map((q) => [q.sessionIndex, q.count, q.label]), [[dark.fromBlock * BLOCK, (dark.toBlock - dark.fromBlock) * BLOCK, 'LEDs dark: watchdog']]);
    assert.equal(readFileSync(join(rec, 'quality.csv'), 'utf8'), 'source,start_s,duration_s,samples,flag,label\ndetector,4.000000,3.000000,6000,leds-dark,LEDs dark: watchdog\n');

    const out = join(tmp.dir, 'offline');
    // with the analysis input, as `fiberrig demod` writes it
    const offline = await demodRecording(rec, out, {}, undefined, {}, (ctx) => [new AnalysisInputOutput(analysisStreamsOf(ctx), ctx.demodOptions ?? {})]);
    assert.ok(offline.files.includes(ANALYSIS_INPUT_FILE_NAME), offline.files.join(', '));
    for (const f of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv', 'quality.csv', ANALYSIS_INPUT_FILE_NAME]) {
      assert.ok(readFileSync(join(rec, f)).equals(readFileSync(join(out, f))), `${f} differs between live and offline`);
    }
    // output j belongs to raw sample 20 j: NaN exactly from the trip's output to the restore's, then while the restarted filters settle
    const rows = readFileSync(join(rec, 'signals.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    // time_s is the output time minus the lock-in's group delay (the time the light was measured)
    const delayS = offline.groupDelays.find((d) => d.stream === 'signals')!.groupDelayS;
    assert.ok(offline.delayCompensation && delayS > 0);
    const nanAt = rows.filter((r) => r.slice(1).every((v) => v === 'NaN')).map((r) => Math.round((Number(r[0]) + delayS) * 100));
    const inSpan = nanAt.filter((j) => j >= 300 && j < 900);
    assert.equal(inSpan[0], (dark.fromBlock * BLOCK) / 20, 'first NaN output is the trip');
    for (let j = (dark.fromBlock * BLOCK) / 20; j < (dark.toBlock * BLOCK) / 20; j++) assert.ok(inSpan.includes(j), `NaN at output ${j}`);
    const afterRestore = inSpan.filter((j) => j >= (dark.toBlock * BLOCK) / 20);
    assert.ok(afterRestore.length > 0 && afterRestore.length < 50, `settling after the restore: ${afterRestore.length} outputs`);
    const lastNan = Math.max(...inSpan);
    for (const r of rows) {
      const j = Math.round((Number(r[0]) + delayS) * 100);
      if (j > lastNan && j < 900) assert.ok(r.slice(1).every((v) => v !== 'NaN'), `finite at output ${j}`);
    }
    assert.ok(rows.filter((r) => { const j = Math.round((Number(r[0]) + delayS) * 100); return j >= 100 && j < (dark.fromBlock * BLOCK) / 20; }).every((r) => r.slice(1).every((v) => v !== 'NaN')), 'finite before the trip');
  });

  it('fiberrig demod on a live acquire recording writes byte-identical derived files; other settings differ', async () => {
    const model = new DeviceModel({ dropBlocks: [120, 121, 300] });
    const device = scriptedDevice(model);
    const configPath = join(tmp.dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(TEST_FILE));
    const rec = join(tmp.dir, 'rec');
    const io = quietIo();
    const code = await acquireCommand(io, { device: 'test://scripted', config: configPath, duration: '30s', out: rec, quiet: true, json: true, subject: 'mouse-7', notes: 'demod test' }, { openTransport: device.openTransport, heartbeatIntervalMs: 50 });
    assert.equal(code, 0);
    const summary = JSON.parse(io.out()) as { gaps: number; signalRows: number };
    assert.equal(summary.gaps, 4, 'two dropped spans, on the detector and the aux timeline');
    assert.equal(summary.signalRows, 3000);

    const session = await readSession(rec);
    assert.ok(session);
    assert.equal(session.subject, 'mouse-7');
    assert.equal(session.notes, 'demod test');
    assert.equal(session.end?.stoppedBy, 'duration');
    assert.equal(session.end?.cutoffS, 30);
    assert.equal(session.calibration, null);
    assert.equal(session.gaps.length, 4);
    assert.deepEqual(session.gaps.filter((g) => g.source === 'detector').map((g) => [g.sessionIndex, g.count]), [[120 * BLOCK, 2 * BLOCK], [300 * BLOCK, BLOCK]]);
    assert.equal((session.device.info as { serialNumber: string }).serialNumber, 'T-0001');
    assert.ok(session.counters && session.counters.rawLogBytes > 0);

    const out = join(tmp.dir, 'offline');
    const result = await demodRecording(rec, out);
    assert.deepEqual(result.settings, { outputRateHz: 100 });
    for (const f of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv']) {
      const a = readFileSync(join(rec, f));
      const b = readFileSync(join(out, f));
      assert.ok(a.length > 30, `${f} has content`);
      assert.ok(a.equals(b), `${f} differs between live and offline`);
    }
    const events = readFileSync(join(rec, 'events.csv'), 'utf8').trim().split('\n');
    assert.equal(events[0], 'time_s,kind,line,value');
    assert.equal(events[1], '1.000123000,digital,0,rising');

    const other = await demodRecording(rec, join(tmp.dir, 'other'), { outputRateHz: 50, lowpassHz: 5 });
    assert.deepEqual(other.settings, { outputRateHz: 50, lowpassHz: 5 });
    assert.equal(other.signalRows, 1500);
    assert.notDeepEqual(readFileSync(join(tmp.dir, 'other', 'signals.csv')), readFileSync(join(rec, 'signals.csv')));
  });

  it('a run stopped early (SIGTERM) ends its derived files at a cutoff that offline demod reproduces byte for byte', async () => {
    const device = scriptedDevice(new DeviceModel({ dropBlocks: [60] }));
    const configPath = join(tmp.dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(TEST_FILE));
    const rec = join(tmp.dir, 'rec');
    let rx = 0;
    const onJournal = (e: { type: string }): void => {
      if (e.type === 'rx' && ++rx === 150) setImmediate(() => process.emit('SIGTERM'));
    };
    const io = quietIo();
    await acquireCommand(io, { device: 'test://scripted', config: configPath, duration: '10m', out: rec, quiet: true, json: true }, { openTransport: device.openTransport, heartbeatIntervalMs: 50, onJournal });
    const summary = JSON.parse(io.out()) as { stoppedBy: string; signalRows: number };
    assert.equal(summary.stoppedBy, 'signal');
    const session = await readSession(rec);
    assert.ok(session?.end && session.end.cutoffS > 1 && session.end.cutoffS < 600, `cutoff ${session?.end?.cutoffS}`);
    const out = join(tmp.dir, 'offline');
    const result = await demodRecording(rec, out);
    assert.equal(result.signalRows, summary.signalRows);
    for (const f of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv']) {
      assert.ok(readFileSync(join(rec, f)).equals(readFileSync(join(out, f))), `${f} differs between live and offline`);
    }
  });

  it('a raw log alone (no session.json) replays with the settings from its meta record', async () => {
    await writeSynthRecording(tmp.dir, { seconds: 12, dropBlocks: [40] });
    const result = await demodRecording(tmp.dir, join(tmp.dir, 'demod'));
    assert.deepEqual(result.settings, { outputRateHz: 100 });
    assert.equal(result.signalRows, 1200);
    assert.equal(result.summary.gapCount, 2);
    const signals = readFileSync(join(tmp.dir, 'demod', 'signals.csv'), 'utf8').trim().split('\n');
    assert.equal(signals[0], 'time_s,405nm@det0,470nm@det0,405nm@det1,470nm@det1');
    assert.equal(signals.length, 1201);
  });
});
