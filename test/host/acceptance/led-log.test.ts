// Issue 15, acceptance 4: the LED log is complete. A sleep recording through
// `fiberrig acquire` (in-process, speed max) loses its link for 2 s at 10 s
// (the device's watchdog darkens the LEDs while the host cannot reach it) and
// the device resets at 20 s; the host resumes both times. Every LED drive the
// device applied — Start's drives at sample 0 of each segment, the watchdog's
// darkening, Stop's — must be in events.csv, session.json and the NWB
// `led_<c>_current` series at the exact sample where the simulator rendered
// its first sample with that drive (its ground truth, `device.truth.drives`),
// placed on the session timeline at the start of the segment the host
// assigned to that run.
//
// Tolerance: none — sample indices are compared exactly (times as index / fs).
// Not in the log by design: the darkening by the reset itself. The device loses
// its state in a reset and cannot report the sample; the gap record (reason
// device-reset, with its uncertainty) covers that span.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import h5wasm from 'h5wasm/node';
import { acquireCommand } from '../../../host/cli/commands/acquire.ts';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { h5Ready } from '../../../host/export/nwb.ts';
import { readSession, type SessionFile } from '../../../host/record/session.ts';
import type { AppliedDrive } from '../../../firmware-sim/device/faults.ts';
import { readCsv } from './cli-io.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { useTestWorlds } from './helpers.ts';

const FS = DEFAULT_LOCKIN_CONFIG.sampleRateHz;
const LEDS = DEFAULT_LOCKIN_CONFIG.leds.map((l) => l.channel);
const DURATION_S = 25;
const URL = 'sim://sleep?seed=15&speed=max&faults=disconnect@10:for=2,reset@20';

/** One LED drive on the session timeline: "channel:mA@sessionIndex". */
const key = (channel: number, currentMa: number, sessionIndex: number): string => `${channel}:${currentMa}@${sessionIndex}`;

interface CommandedPower {
  channel: number;
  changes: Array<{ sampleIndex: number; sessionIndex: number; currentMa: number }>;
}

describe(`acceptance: the LED log after a reconnect and a device reset (sleep, speed max, ${DURATION_S} s, disconnect@10:for=2 + reset@20; sample indices exact, against the simulator's record of the drives it rendered)`, function () {
  this.timeout(120_000);
  let restoreWorlds: () => void;
  let tmp: string;
  let rec: string;
  let session: SessionFile;
  let truth: AppliedDrive[];
  /** Session index of sample 0 of each run (segment), from the gap records. */
  let segmentStart: number[];
  let runs: number[];
  const ports = useSimPorts('suite');
  let cutoffIndex: number;
  /** Every truth drive the host can know of (all but the reset's), on the session timeline, in order. */
  let expected: Array<AppliedDrive & { sessionIndex: number }>;

  before(async () => {
    restoreWorlds = useTestWorlds();
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-ledlog-'));
    rec = join(tmp, 'rec');
    const { device } = ports.createPort(URL);
    const out = new PassThrough();
    const err = new PassThrough();
    out.resume();
    err.resume();
    const code = await acquireCommand({ stdout: out, stderr: err } as never, { device: URL, duration: `${DURATION_S}s`, out: rec, json: true, quiet: true });
    assert.equal(code, 0);
    truth = [...device.truth.drives];
    session = (await readSession(rec))!;
    const resumes = session.gaps.filter((g) => g.source === 'detector' && (g.reason === 'reconnect' || g.reason === 'device-reset'));
    assert.deepEqual(resumes.map((g) => g.reason), ['reconnect', 'device-reset'], 'one resume after the disconnect, one after the reset');
    segmentStart = [0, ...resumes.map((g) => g.sessionIndex + g.count)];
    runs = [...new Set(truth.map((d) => d.run))];
    assert.equal(runs.length, 3, `three runs of the device (${runs.join(', ')})`);
    cutoffIndex = Math.round(session.end!.cutoffS * FS);
    expected = truth.filter((d) => d.cause !== 'reset').map((d) => ({ ...d, sessionIndex: segmentStart[runs.indexOf(d.run)]! + d.sampleIndex }));
    console.log(`      device drives: ${truth.map((d) => `run ${d.run} LED ${d.channel} ${d.currentMa} mA from sample ${d.sampleIndex} (${d.cause})`).filter((_, i) => i % LEDS.length === 0).join('; ')}`);
    console.log(`      segments start at session samples ${segmentStart.join(', ')}; cutoff ${cutoffIndex}`);
  });

  after(async () => {
    restoreWorlds();
    await rm(tmp, { recursive: true, force: true });
  });

  it('the device relit every LED at sample 0 of each resumed run, after the watchdog darkened them during the disconnect and the reset darkened them (simulator truth)', () => {
    for (const run of runs) {
      const lit = truth.filter((d) => d.run === run && d.cause === 'start');
      assert.deepEqual(lit.map((d) => [d.channel, d.currentMa, d.sampleIndex]), DEFAULT_LOCKIN_CONFIG.leds.map((l) => [l.channel, l.currentMa, 0]), `run ${run}`);
    }
    const tripped = truth.filter((d) => d.run === runs[0] && d.cause === 'change' && d.currentMa === 0);
    assert.deepEqual(tripped.map((d) => d.channel), LEDS, 'the watchdog darkened every LED of run 1 while the link was down');
    assert.deepEqual(truth.filter((d) => d.cause === 'reset').map((d) => [d.run, d.channel]), LEDS.map((c) => [runs[1], c]), 'the reset darkened run 2');
  });

  it('events.csv: every drive before the cutoff, the relights at the first sample of each resumed segment, exactly', async () => {
    const rows = (await readCsv(rec, 'events.csv', true)).rows.filter((r) => r[1] === 'led');
    const logged = rows.map((r) => key(Number(r[2]), Number(r[3]!.replace(/mA$/, '')), Math.round(Number(r[0]) * FS)));
    const want = expected.filter((d) => d.sessionIndex < cutoffIndex).map((d) => key(d.channel, d.currentMa, d.sessionIndex));
    assert.deepEqual(logged, want);
    for (const s of segmentStart.slice(1)) {
      const back = rows.filter((r) => Math.round(Number(r[0]) * FS) === s).map((r) => [Number(r[2]), r[3]]);
      assert.deepEqual(back, DEFAULT_LOCKIN_CONFIG.leds.map((l) => [l.channel, `${l.currentMa}mA`]), `LEDs back on at session sample ${s}`);
    }
  });

  it('session.json commandedPower: every drive, with the device sample index and the session index, exactly (the last Stop included)', () => {
    const power = session.commandedPower as CommandedPower[];
    assert.deepEqual(power.map((p) => p.channel), LEDS);
    for (const p of power) {
      const got = p.changes.map((c) => `${c.sampleIndex}:${key(p.channel, c.currentMa, c.sessionIndex)}`);
      const want = expected.filter((d) => d.channel === p.channel).map((d) => `${d.sampleIndex}:${key(d.channel, d.currentMa, d.sessionIndex)}`);
      assert.deepEqual(got, want, `LED ${p.channel}`);
    }
    assert.ok(expected.some((d) => d.cause === 'stop'), 'the final Stop darkened the LEDs');
  });

  it('NWB led_<c>_current: the same drives at the same times (h5wasm read-back)', async () => {
    const nwb = join(tmp, 'rec.nwb');
    await exportRecording(rec, 'nwb', nwb);
    await h5Ready();
    const f = new h5wasm.File(nwb, 'r');
    try {
      for (const channel of LEDS) {
        const data = (f.get(`acquisition/led_${channel}_current/data`) as InstanceType<typeof h5wasm.Dataset>).value as Float32Array;
        const ts = (f.get(`acquisition/led_${channel}_current/timestamps`) as InstanceType<typeof h5wasm.Dataset>).value as Float64Array;
        const got = Array.from(ts, (t, i) => key(channel, data[i]!, Math.round(t * FS)));
        const want = expected.filter((d) => d.channel === channel && d.sessionIndex < cutoffIndex).map((d) => key(channel, d.currentMa, d.sessionIndex));
        assert.deepEqual(got, want, `led_${channel}_current`);
        for (const t of ts) assert.equal(t, Math.round(t * FS) / FS, `LED ${channel}: ${t} s is a sample time on the device clock (no filter delay applies to a drive)`);
      }
    } finally {
      f.close();
    }
  });
});
