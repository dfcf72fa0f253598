// Acceptance 1 (issue 14), light is part of the data: mid-recording the host's
// heartbeats stop reaching the device for 5 s (the test harness drops them on
// their way out, as a stalled host would fail to send them), at speed 1 so the
// device's watchdog runs on device time as the firmware's does. The device
// darkens every LED after heartbeatTimeoutMs; the host must relight them as
// soon as heartbeats get through again, and flag the dark span — against the
// simulator's own record of the LED drive, sample by sample — in every output:
// signals NaN there (and only there), quality.csv, session.json, the summary,
// inspect, offline demod (byte-identical), and each export format.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import h5wasm from 'h5wasm/node';
import { acquireCommand } from '../../../host/cli/commands/acquire.ts';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { designLockin } from '../../../host/dsp/lockin.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { h5Ready } from '../../../host/export/nwb.ts';
import { demodRecording } from '../../../host/record/demod.ts';
import { inspectRecording } from '../../../host/record/inspect.ts';
import { readSession, type SessionFile } from '../../../host/record/session.ts';
import { openTransport, type Transport } from '../../../host/transport/open.ts';
import type { SimPortHandle } from '../../../firmware-sim/transport/sim-ports.ts';
import { decodeEnvelope, FrameDecoder } from '../../../protocol/index.ts';
import { readCsv } from './cli-io.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { recordCodes, renderLogOf, useTestWorlds } from './helpers.ts';

const FS = 10_000;
const BLOCK = DEFAULT_LOCKIN_CONFIG.blockSamples; // 250 samples = 25 ms
const D = FS / DEFAULT_LOCKIN_CONFIG.outputRateHz; // raw samples per output
const HEARTBEAT_INTERVAL_MS = 500; // the Rig's default: a quarter of the 2 s timeout
const PAUSE_AT = 2.5 * FS; // device sample index after which heartbeats stop getting through
const PAUSE_MS = 5000;
const DURATION_S = 11;
const URL = 'sim://steps.noiseless?seed=14&speed=1';
const SETTLE = designLockin({ sampleRateHz: FS, carriersHz: [648, 1150, 1749], detectorCount: 2 }).settlingOutputs;
/** Exported signal times are output times minus the lock-in's group delay (the time the light was measured). */
const DELAY_S = designLockin({ sampleRateHz: FS, carriersHz: [648, 1150, 1749], detectorCount: 2 }).groupDelayS;

function isHeartbeat(frame: Uint8Array): boolean {
  let heartbeat = false;
  new FrameDecoder((payload) => { heartbeat = decodeEnvelope(payload).body === 'heartbeat'; }).push(frame);
  return heartbeat;
}

/** The sim's own LED drive record: [first sample with every configured LED dark, first sample lit again]. */
function darkTruth(currents: number[][], leds: number): { trip: number; restore: number } {
  const n = currents[0]!.length;
  const dark = (i: number): boolean => currents.slice(0, leds).every((c) => c[i] === 0);
  let trip = -1;
  for (let i = 0; i < n && trip < 0; i++) {
    if (!dark(i)) continue;
    let j = i;
    while (j < n && dark(j)) j++;
    if (j - i >= 100) trip = i; // a lock-in drive touches 0 for single samples; a dark span lasts
    else i = j;
  }
  assert.ok(trip >= 0, 'the simulator darkened its LEDs');
  let restore = trip;
  while (restore < n && dark(restore)) restore++;
  return { trip, restore };
}

describe(`acceptance: host heartbeats stopped for ${PAUSE_MS / 1000} s mid-recording through \`fiberrig acquire\` (steps, speed 1, ${DURATION_S} s; spans ± one block = ${BLOCK} samples, signals NaN from the trip to the restore, finite again within the lock-in's settling bound)`, function () {
  this.timeout(120_000);
  let restoreWorlds: () => void;
  let tmp: string;
  let rec: string;
  let handle: SimPortHandle;
  let summary: Record<string, number | string>;
  let stderr = '';
  let truth: { trip: number; restore: number };
  /** Device sample index when the first heartbeat after the pause was sent. */
  let resumeIndex = -1;
  let session: SessionFile;
  const ports = useSimPorts('suite');

  before(async () => {
    restoreWorlds = useTestWorlds();
    recordCodes(true);
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-light-'));
    rec = join(tmp, 'rec');
    handle = ports.createPort(URL);
    let pausedSinceMs: number | undefined;
    let paused = false;
    const gated = async (url: string): Promise<Transport> => {
      const transport = await openTransport(url);
      const write = transport.stream.write.bind(transport.stream) as (chunk: Uint8Array) => boolean;
      (transport.stream as { write: (chunk: Uint8Array) => boolean }).write = (chunk: Uint8Array): boolean => {
        if (isHeartbeat(chunk)) {
          const { device } = handle;
          if (!paused && pausedSinceMs === undefined && device.sampleIndex >= PAUSE_AT) {
            paused = true;
            pausedSinceMs = Date.now();
          }
          if (paused && Date.now() - pausedSinceMs! >= PAUSE_MS) {
            paused = false;
            resumeIndex = device.sampleIndex; // this heartbeat gets through
          }
          if (paused) return true; // lost on the way: the device never hears it
        }
        return write(chunk);
      };
      return transport;
    };
    const stdout = new PassThrough();
    const err = new PassThrough();
    const out: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    err.on('data', (c: Buffer) => { stderr += String(c); });
    try {
      const code = await acquireCommand({ stdout, stderr: err } as never, { device: URL, duration: `${DURATION_S}s`, out: rec, json: true, quiet: true }, { openTransport: gated, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
      assert.equal(code, 0);
      const log = renderLogOf(handle);
      truth = darkTruth(log.currents!, DEFAULT_LOCKIN_CONFIG.leds.length);
    } finally {
      recordCodes(false);
    }
    summary = JSON.parse(Buffer.concat(out).toString()) as Record<string, number | string>;
    session = (await readSession(rec))!;
    console.log(`      device: dark from sample ${truth.trip} to ${truth.restore} (${((truth.restore - truth.trip) / FS).toFixed(3)} s); heartbeats resumed at sample ${resumeIndex}`);
  });

  after(async () => {
    restoreWorlds();
    await rm(tmp, { recursive: true, force: true });
  });

  const near = (actualIndex: number, expectedIndex: number, what: string): void => {
    assert.ok(Math.abs(actualIndex - expectedIndex) <= BLOCK, `${what}: ${actualIndex} vs device ${expectedIndex}`);
  };
  const nearS = (actualS: number, expectedIndex: number, what: string): void => near(Math.round(actualS * FS), expectedIndex, what);

  it('the watchdog tripped heartbeatTimeoutMs after the last heartbeat got through (device truth)', () => {
    assert.ok(truth.trip > PAUSE_AT && truth.trip <= PAUSE_AT + 2000 * (FS / 1000) + HEARTBEAT_INTERVAL_MS * (FS / 1000) + BLOCK, `trip at ${truth.trip}`);
    assert.ok(resumeIndex > truth.trip, 'heartbeats resumed after the trip');
  });

  it(`the LEDs are back within one heartbeat interval (${HEARTBEAT_INTERVAL_MS} ms) + one block of heartbeats resuming (device sample indices)`, () => {
    const lag = truth.restore - resumeIndex;
    console.log(`      restore ${(lag / FS * 1000).toFixed(1)} ms after the first heartbeat got through`);
    assert.ok(lag >= 0 && lag <= (HEARTBEAT_INTERVAL_MS * FS) / 1000 + BLOCK, `restored ${lag} samples after the resume`);
    assert.ok(truth.restore < DURATION_S * FS, 'light came back before the end');
  });

  it('summary: one quality flag, one dark span of the right length; stderr warned with times', () => {
    assert.equal(summary.qualityFlags, 1);
    assert.equal(summary.darkSpans, 1);
    assert.ok(Math.abs(Number(summary.darkS) - (truth.restore - truth.trip) / FS) <= (2 * BLOCK) / FS, `darkS ${summary.darkS}`);
    assert.equal(summary.gaps, 0, 'a dark span is not a gap: every sample arrived');
    assert.match(stderr, /WARNING: LEDs dark from \d+\.\d{3} s \(the device watchdog/);
    assert.match(stderr, /WARNING: LEDs dark: watchdog from \d+\.\d{3} s to \d+\.\d{3} s/);
    assert.equal(stderr.match(/LEDs dark from/g)?.length, 1, 'once per span');
  });

  it('session.json and quality.csv: the span matches the device trip and restore', async () => {
    assert.equal(session.quality?.length, 1);
    const q = session.quality![0]!;
    assert.equal(q.flag, 'leds-dark');
    assert.equal(q.label, 'LEDs dark: watchdog');
    near(q.sessionIndex, truth.trip, 'session.json start');
    near(q.sessionIndex + q.count, truth.restore, 'session.json end');
    const csv = await readCsv(rec, 'quality.csv', true);
    assert.equal(csv.rowCount, 1);
    assert.deepEqual(csv.rows[0]!.slice(4), ['leds-dark', 'LEDs dark: watchdog']);
    nearS(Number(csv.rows[0]![1]), truth.trip, 'quality.csv start');
    nearS(Number(csv.rows[0]![1]) + Number(csv.rows[0]![2]), truth.restore, 'quality.csv end');
    assert.equal((await readCsv(rec, 'gaps.csv')).rowCount, 0);
    assert.equal(session.gaps.length, 0);
  });

  /**
   * Signals NaN from the trip's output to the restore's output (± one block), finite before and after the restore
   * plus the lock-in's settling bound (the filters restart where light is back and blank until settled).
   */
  const checkNan = (timesS: Float64Array, columns: Float64Array[], what: string): void => {
    const first = Math.ceil(truth.trip / D);
    const lit = Math.ceil(truth.restore / D);
    const slack = BLOCK / D;
    let nan = 0;
    for (let i = 0; i < timesS.length; i++) {
      const k = Math.round((timesS[i]! + DELAY_S) * (FS / D));
      for (const col of columns) {
        const v = col[i]!;
        if (k >= first + slack && k < lit - slack) assert.ok(Number.isNaN(v), `${what}: NaN at output ${k} (dark ${first}..${lit})`);
        else if ((k > SETTLE + slack && k < first - slack) || k >= lit + SETTLE + slack) assert.ok(Number.isFinite(v), `${what}: finite at output ${k}`);
        if (Number.isNaN(v) && k > SETTLE + slack) nan++;
      }
    }
    assert.ok(nan >= (lit - first - 2 * slack) * columns.length, `${what}: ${nan} NaN values`);
  };

  it('signals.csv: NaN over the dark span, finite elsewhere (lock-in settling after the restore aside); raw samples kept', async () => {
    const s = await readCsv(rec, 'signals.csv');
    checkNan(s.columns.time_s!, s.header.slice(1).map((h) => s.columns[h]!), 'signals.csv');
    assert.ok(Number(summary.rawSamples) >= DURATION_S * FS, 'every raw sample, the dark span included, is in the raw log');
  });

  it('fiberrig demod offline writes byte-identical signals, quality, gaps and events', async () => {
    const out = join(tmp, 'offline');
    await demodRecording(rec, out);
    for (const f of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv', 'quality.csv']) {
      assert.ok((await readFile(join(rec, f))).equals(await readFile(join(out, f))), `${f} differs between live and offline`);
    }
  });

  it('inspect reports the span', async () => {
    const r = await inspectRecording(rec);
    assert.equal(r.quality.count, 1);
    assert.equal(r.quality.darkSpans, 1);
    near(r.quality.spans[0]!.sessionIndex, truth.trip, 'inspect start');
    near(r.quality.spans[0]!.sessionIndex + r.quality.spans[0]!.count, truth.restore, 'inspect end');
  });

  it('exports: guppy and pmat one segment each side of the dark span (no NaN) + quality.csv + export.json, pmat --gaps omit an event, csv NaN rows + a quality file, nwb NaN + /intervals/quality', async () => {
    const first = Math.ceil(truth.trip / D);
    const lit = Math.ceil(truth.restore / D);
    const slack = BLOCK / D;
    /** The segments split at the dark span: the first ends at the trip, the second starts once the filters settled after the light came back. */
    const checkSegments = async (out: string, what: string): Promise<void> => {
      const meta = JSON.parse(await readFile(join(out, 'export.json'), 'utf8')) as {
        segments: Array<{ firstOutputIndex: number; endOutputIndex: number }>; omitted: Array<{ firstOutputIndex: number; endOutputIndex: number; causes: string[] }>;
        quality: Array<{ label: string }>;
      };
      assert.equal(meta.segments.length, 2, `${what}: ${JSON.stringify(meta.segments)}`);
      near(meta.segments[0]!.endOutputIndex * D, first * D, `${what} first segment end`);
      const start = meta.segments[1]!.firstOutputIndex;
      assert.ok(start >= lit - slack && start <= lit + SETTLE + slack, `${what} second segment starts at output ${start}: after the restore (${lit}), within the settling bound (${SETTLE})`);
      const dark = meta.omitted.find((o) => o.causes.includes('LEDs dark: watchdog'));
      assert.ok(dark && dark.firstOutputIndex === meta.segments[0]!.endOutputIndex && dark.endOutputIndex === meta.segments[1]!.firstOutputIndex, `${what}: ${JSON.stringify(meta.omitted)}`);
      assert.deepEqual(meta.quality.map((q) => q.label), ['LEDs dark: watchdog']);
      const q = await readCsv(out, 'quality.csv', true);
      assert.equal(q.rowCount, 1);
      nearS(Number(q.rows[0]![0]), truth.trip, `${what} quality start`);
      nearS(Number(q.rows[0]![1]), truth.restore, `${what} quality end`);
      assert.equal(q.rows[0]![3], 'LEDs dark: watchdog');
    };
    const guppy = join(tmp, 'guppy');
    await exportRecording(rec, 'guppy', guppy);
    await checkSegments(guppy, 'guppy');
    for (const seg of ['segment_001', 'segment_002']) {
      const g = await readCsv(join(guppy, seg), 'det0_470nm.csv');
      assert.ok(g.columns.data!.every(Number.isFinite), `guppy ${seg}: no NaN`);
    }

    const pmat = join(tmp, 'pmat');
    await exportRecording(rec, 'pmat', pmat);
    await checkSegments(pmat, 'pmat');
    const p = await readCsv(join(pmat, 'segment_002'), 'det0_470nm_405nm.csv');
    assert.ok([...p.columns.Signal!, ...p.columns.Control!].every(Number.isFinite), 'pmat: no NaN');
    const pmatOmit = join(tmp, 'pmat-omit');
    await exportRecording(rec, 'pmat', pmatOmit, { gaps: 'omit' });
    const events = (await readCsv(join(pmatOmit, 'gaps_omitted'), 'events.csv', true)).rows.filter((r) => r[0] === 'LEDs dark: watchdog');
    assert.equal(events.length, 1);
    nearS(Number(events[0]![1]), truth.trip, 'pmat event onset');
    nearS(Number(events[0]![2]), truth.restore, 'pmat event offset');

    const wide = join(tmp, 'wide', 'rec.csv');
    await exportRecording(rec, 'csv', wide);
    const w = await readCsv(join(tmp, 'wide'), 'rec.csv');
    checkNan(w.columns.time_s!, w.header.filter((h) => h.includes('nm@')).map((h) => w.columns[h]!), 'csv');
    const wq = await readCsv(join(tmp, 'wide'), 'rec.quality.csv', true);
    assert.equal(wq.rowCount, 1);
    nearS(Number(wq.rows[0]![0]), truth.trip, 'csv quality start');

    const nwb = join(tmp, 'rec.nwb');
    await exportRecording(rec, 'nwb', nwb);
    await h5Ready();
    const f = new h5wasm.File(nwb, 'r');
    try {
      const get = (path: string): InstanceType<typeof h5wasm.Dataset> => f.get(path) as InstanceType<typeof h5wasm.Dataset>;
      const demod = get('processing/ophys/demodulated/data');
      const [n, ch] = demod.shape as [number, number];
      const values = demod.value as Float64Array;
      const columns = Array.from({ length: ch }, (_, c) => Float64Array.from({ length: n }, (_, k) => values[k * ch + c]!));
      const startS = get('processing/ophys/demodulated/starting_time').value as number;
      checkNan(Float64Array.from({ length: n }, (_, k) => startS + k / (FS / D)), columns, 'nwb demodulated');
      const start = get('intervals/quality/start_time').value as Float64Array;
      const stop = get('intervals/quality/stop_time').value as Float64Array;
      assert.equal(start.length, 1);
      nearS(start[0]!, truth.trip, 'nwb quality start');
      nearS(stop[0]!, truth.restore, 'nwb quality stop');
      assert.deepEqual(get('intervals/quality/label').value, ['LEDs dark: watchdog']);
      const raw = get('acquisition/raw_photodetector_0/data').value as Float32Array;
      assert.ok(raw.subarray(truth.trip, truth.restore).every((v) => Number.isFinite(v)), 'raw dark readings are kept, not NaN');
    } finally {
      f.close();
    }
  });

  it('the sim truth and the host agree on the trip sample exactly (LedEvents name it)', async () => {
    const events = (await readCsv(rec, 'events.csv', true)).rows.filter((r) => r[1] === 'led');
    const off = events.filter((r) => r[3] === '0mA').map((r) => Math.round(Number(r[0]) * FS));
    assert.ok(off.length >= DEFAULT_LOCKIN_CONFIG.leds.length);
    assert.ok(off.every((i) => i === truth.trip), `LedEvents at ${off.join(',')} vs ${truth.trip}`);
  });

  it('events.csv logs every drive the device applied, the relight included, at the sample the simulator rendered it from (exact)', async () => {
    // the Rig re-arms with one SetLed per LED: the first restores them all, the others restate a level (not a change)
    const level = new Map<string, string>();
    const logged = (await readCsv(rec, 'events.csv', true)).rows.filter((r) => r[1] === 'led')
      .filter((r) => level.get(r[2]!) !== r[3] && level.set(r[2]!, r[3]!))
      .map((r) => `${r[2]}:${r[3]}@${Math.round(Number(r[0]) * FS)}`);
    const applied = handle.device.truth.drives.filter((d) => d.cause === 'start' || d.cause === 'change').map((d) => `${d.channel}:${d.currentMa}mA@${d.sampleIndex}`);
    assert.deepEqual(logged, applied);
    const relit = handle.device.truth.drives.filter((d) => d.cause === 'change' && d.currentMa > 0);
    assert.equal(relit.length, DEFAULT_LOCKIN_CONFIG.leds.length, 'every LED relit once');
    assert.ok(relit.every((d) => Math.abs(d.sampleIndex - truth.restore) <= 1), `relit at ${relit[0]?.sampleIndex}, the rendered currents say ${truth.restore}`);
  });
});
