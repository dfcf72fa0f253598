// The raw log's disk I/O runs in a worker thread, so a disk that stops
// answering does not stop the heartbeats that keep the device's LEDs on.
// The device runs in another process (`fiberrig sim --tcp`) at speed 1 with
// the default 2 s heartbeat watchdog; the raw log's worker is stalled for 3 s
// mid-recording through the writer's test-only seam (`testOnlyStall`).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DarkReason } from '../../../protocol/index.ts';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../../host/config/acquisition.ts';
import type { RecordError } from '../../../host/record/errors.ts';
import { canonicalConfig, RAW_LOG_FILE_NAME, RawLogReader, RawLogWriter } from '../../../host/record/rawlog.ts';
import { replayRecording } from '../../../host/record/replay.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { tempDir } from './helpers.ts';
import { startSimTcp, stopChild } from './sim-process.ts';

describe('host/record: a 3 s disk stall during a recording', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let sim: ChildProcess | undefined;
  before(() => { tmp = tempDir('fiberrig-stall-'); });
  after(async () => {
    await stopChild(sim);
    tmp.cleanup();
  });

  it('trips no watchdog (no 0 mA LED event, no heartbeat-timeout log or dark reason), leaves no gap, and the raw log holds every sample', async () => {
    const started = await startSimTcp('sim://steps?speed=1');
    sim = started.child;
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    // the worker blocks for 3 s before its first write past 40 kB (~0.4 s into the acquisition)
    const rawLog = await RawLogWriter.create(path, { testOnlyStall: { afterBytes: 40_000, durationMs: 3000 } });
    const rig = await Rig.connect(started.url, { onJournal: rawLog.write });
    const wire = canonicalConfig(toWireConfig({ ...DEFAULT_LOCKIN_CONFIG, heartbeatTimeoutMs: 2000 }));
    assert.equal(wire.heartbeatTimeoutMs, 2000);
    const darkLeds: string[] = [];
    let liveLedEvents = 0;
    const timeoutLogs: string[] = [];
    const darkReasons: number[] = [];
    let liveSamples = 0;
    let gaps = 0;
    const subs = [
      // the final Stop darkens the LEDs too (via: 'stop'): not a trip
      rig.ledEvents$.subscribe((e) => {
        liveLedEvents++;
        if (e.currentMa === 0 && e.via !== 'stop') darkLeds.push(`LED ${e.channel} at ${e.sessionIndex}`);
      }),
      rig.logs$.subscribe((l) => { if (/heartbeat timeout/i.test(l.message)) timeoutLogs.push(l.message); }),
      rig.status$.subscribe((s) => { if (s.darkReason === DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT) darkReasons.push(s.darkReason); }),
      rig.acquisition$.subscribe((item) => {
        if (item.kind === 'gap') gaps++;
        else if (item.kind === 'block' && item.source === 'detector') liveSamples += item.sampleCount;
      }),
    ];
    const rateHz = DEFAULT_LOCKIN_CONFIG.sampleRateHz;
    try {
      await rig.configure(wire);
      await rig.start();
      // 6 s of device time: the stall (3 s) lies well inside it
      await new Promise<void>((resolveRun, reject) => {
        const t = setInterval(() => {
          if (liveSamples >= 6 * rateHz) { clearInterval(t); resolveRun(); }
        }, 20);
        const guard = setTimeout(() => { clearInterval(t); reject(new Error(`only ${liveSamples} samples`)); }, 30_000);
        guard.unref();
      });
      // a status now, after the stall: the device says why (if) its LEDs are dark
      await rig.stop();
    } finally {
      for (const s of subs) s.unsubscribe();
      await rig.close();
      await rawLog.close();
    }
    // the seam engaged: some record waited ≥ 2.5 s for the disk, while heartbeats went on
    assert.ok(rawLog.stats.maxHoldMs >= 2500, `the stall did not happen (longest hold ${rawLog.stats.maxHoldMs.toFixed(0)} ms)`);
    assert.ok(rawLog.stats.maxQueuedBytes > 0);
    assert.deepEqual(darkLeds, [], 'LEDs went dark');
    assert.deepEqual(timeoutLogs, [], 'the device logged a heartbeat timeout');
    assert.deepEqual(darkReasons, [], 'a Status said HEARTBEAT_TIMEOUT');
    assert.equal(gaps, 0);
    assert.equal(rawLog.stats.bytesQueued, 0);

    const replayed = await replayRecording(path, [], { demod: false, cutoffS: null });
    assert.equal(replayed.detectorSamples, liveSamples);
    assert.equal(replayed.gapCount, 0);
    assert.equal(replayed.rawLog.cleanEnd, true);
    assert.equal(liveLedEvents, 2 * DEFAULT_LOCKIN_CONFIG.leds.length, 'each LED lit by Start and darkened by Stop, nothing between');
    assert.equal(replayed.ledEvents, liveLedEvents, 'replay logs the same drives');
  });

  it('bounds what waits for a stalled disk: past maxQueuedBytes the writer fails once with E_RAWLOG_WRITE, and the file ends at a complete record', async () => {
    const path = join(tmp.dir, 'bounded.fjl');
    const errors: RecordError[] = [];
    const maxQueuedBytes = 1024 * 1024;
    const w = await RawLogWriter.create(path, { maxQueuedBytes, testOnlyStall: { afterBytes: 1, durationMs: 1500 }, onError: (e) => errors.push(e) });
    const bytes = new Uint8Array(1000);
    for (let i = 0; i < 5000 && !w.error; i++) w.write({ type: 'rx', hostTimeUs: i, bytes });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'E_RAWLOG_WRITE');
    assert.match(errors[0]!.message, /has not taken .* bytes queued/);
    assert.ok(w.stats.maxQueuedBytes <= maxQueuedBytes, `${w.stats.maxQueuedBytes} bytes queued`);
    await assert.rejects(w.close(), (e: unknown) => e === errors[0]);
    const reader = await RawLogReader.open(path);
    let entries = 0;
    for await (const r of reader.records()) if (r.kind === 'entry') entries++;
    assert.ok(entries > 0);
    assert.equal(reader.stats.tornTailBytes, 0);
    assert.equal(reader.stats.corruptSpans, 0);
    assert.equal(reader.stats.fileBytes, w.stats.bytesWritten, 'the file holds what the worker confirmed');
  });
});
