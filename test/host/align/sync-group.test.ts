// Issue 19 acceptance 3 (without NATS): four simulated rigs share a sync line
// (sim://…?sync_bus=NAME), each with its own crystal error and its own start
// instant; one drives the line. Each is recorded by `fiberrig acquire` in this
// process (speed 1, so the rigs' clocks and the host's wall clock share a
// base), the group is aligned (`fiberrig align`), and every rig's CSV export
// carries group_time_s: for every exported row, the simulator's truth says
// which driver sample was being taken at that row's instant, and group_time_s
// must name it within one sample. A fifth rig, on another bus, is refused by
// alignment with an error naming it. Then every export format (GuPPy, pMAT,
// NWB, the wide CSV's aux file) of the aligned group: signal times on the
// group axis within one driver sample of the truth, and each sync edge's
// exported time the same on every rig (the second test, on the same recordings).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../../../host/cli/main.ts';
import { SimBinding, type SimDevice } from '../../../host/cli/devices.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { alignRecordings } from '../../../host/align/index.ts';
import { tempDir } from '../record/helpers.ts';
import { h5Ready } from '../../../host/export/nwb.ts';
import { readMeta, readTable, type Table } from '../export/csv-helpers.ts';
import { validateNwb } from '../export/nwb-validate.ts';
import { analyzeRecording } from '../../../host/analysis/analyze/analyze.ts';
import { analysisJson } from '../../../host/analysis/analyze/summary.ts';

const RATE_HZ = 1000;
const PERIOD_SAMPLES = 500;
const OUTPUT_RATE_HZ = 100;
const AUX_RATE_HZ = 200;

function sink(): PassThrough {
  const s = new PassThrough();
  s.resume();
  return s;
}

function config(driver: boolean): Record<string, unknown> {
  return {
    mode: 'lock-in', sampleRateHz: RATE_HZ, detectors: [0], leds: [{ channel: 0, currentMa: 10, carrierHz: 110 }, { channel: 1, currentMa: 10, carrierHz: 170 }],
    blockSamples: 100, outputRateHz: OUTPUT_RATE_HZ, aux: { inputs: [0], rateHz: AUX_RATE_HZ }, digitalInputs: [0], ...(driver ? { syncOut: { line: 2, periodSamples: PERIOD_SAMPLES, pulseSamples: 10 } } : {}),
  };
}

interface Rig {
  name: string;
  url: string;
  driver: boolean;
  delayMs: number;
  duration: string;
}

function csv(path: string): { header: string[]; rows: number[][] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',').map(Number)) };
}

/** The (fractional) detector sample of `driver` taken at common time `t` (its drift is constant). */
function driverSampleAt(driver: SimDevice, t: number): number {
  const t0 = driver.commonTimeOfSample(0)!;
  const t1 = driver.commonTimeOfSample(1e6)!;
  return ((t - t0) / (t1 - t0)) * 1e6;
}


/** The driver's pulse whose rising edge is nearest group time `t` (s): pulse p rises at driver sample p × period. */
function pulseOf(t: number): number {
  return Math.round((t * RATE_HZ) / PERIOD_SAMPLES);
}

/**
 * Rising-edge times on the group axis per rig (receivers: the driver does not capture its own line): every
 * edge within 1 driver sample of its pulse's schedule, and every pulse seen by all receivers at the same
 * time on all of them (within 1 sample). Returns the number of pulses compared.
 */
function edgesAgree(format: string, byRig: Map<string, number[]>): number {
  const pulses = new Map<number, number[]>();
  for (const [rig, times] of byRig) {
    assert.ok(times.length >= 5, `${format} ${rig}: ${times.length} sync edges`);
    for (const t of times) {
      const p = pulseOf(t);
      assert.ok(Math.abs(t * RATE_HZ - p * PERIOD_SAMPLES) < 1, `${format} ${rig}: edge at ${t} s is ${(t * RATE_HZ - p * PERIOD_SAMPLES).toFixed(3)} driver samples from pulse ${p}`);
      pulses.set(p, [...(pulses.get(p) ?? []), t]);
    }
  }
  let compared = 0;
  for (const [p, times] of pulses) {
    if (times.length !== byRig.size) continue;
    const spread = (Math.max(...times) - Math.min(...times)) * RATE_HZ;
    assert.ok(spread < 1, `${format}: pulse ${p} exported ${spread.toFixed(3)} driver samples apart across the rigs`);
    compared++;
  }
  assert.ok(compared >= 3, `${format}: ${compared} pulses seen by every receiver`);
  return compared;
}

/** Largest distance (driver samples) between exported group times and the truth of the device times they label. */
function worstSamples(driver: SimDevice, device: SimDevice, pairs: Array<{ deviceS: number; groupS: number }>): number {
  let worst = 0;
  for (const { deviceS, groupS } of pairs) worst = Math.max(worst, Math.abs(groupS * RATE_HZ - driverSampleAt(driver, device.commonTimeOfSample(deviceS * RATE_HZ)!)));
  return worst;
}

describe('rigs on one clock (issue 19 acceptance 3, without NATS)', function () {
  this.timeout(120_000);
  let tmp: { dir: string; cleanup: () => void };
  const opened: string[] = [];
  after(() => {
    tmp?.cleanup();
    // the devices stay in the binding's ports after their ports closed: release them (they leave the bus)
    for (const url of opened) SimBinding.ports.release(url);
  });

  const devices = new Map<string, SimDevice>();
  let group: Rig[] = [];
  // the group is recorded and aligned once; the tests export and analyse it
  before(async function () {
    this.timeout(120_000);
    tmp = tempDir('fiberrig-align-');
    const bus = `align${process.pid}`;
    const rigs: Rig[] = [
      { name: 'r1', url: `sim://linear?seed=11&drift_ppm=150&sync_bus=${bus}`, driver: false, delayMs: 0, duration: '6s' },
      { name: 'r2', url: `sim://linear?seed=12&drift_ppm=-120&sync_bus=${bus}`, driver: false, delayMs: 350, duration: '5s' },
      { name: 'drv', url: `sim://linear?seed=13&drift_ppm=40&sync_bus=${bus}`, driver: true, delayMs: 600, duration: '4.5s' },
      { name: 'r3', url: `sim://linear?seed=14&drift_ppm=70&sync_bus=${bus}`, driver: false, delayMs: 900, duration: '4.5s' },
      { name: 'off-bus', url: `sim://linear?seed=15&sync_bus=${bus}other`, driver: false, delayMs: 100, duration: '3s' },
    ];
    const configs = { driver: join(tmp.dir, 'driver.json'), receiver: join(tmp.dir, 'receiver.json') };
    writeFileSync(configs.driver, JSON.stringify(config(true)));
    writeFileSync(configs.receiver, JSON.stringify(config(false)));
    const stopListening = SimBinding.ports.onOpen((h) => {
      const rig = rigs.find((r) => r.url === h.path);
      if (rig) devices.set(rig.name, h.device);
      opened.push(h.path);
    });
    // load the acquire command before the staggered starts (a first load under tsx takes longer than the stagger)
    await import('../../../host/cli/commands/acquire.ts');
    try {
      const codes = await Promise.all(rigs.map(async (r) => {
        await sleep(r.delayMs);
        const out = sink();
        return main(['acquire', '--device', r.url, '--config', r.driver ? configs.driver : configs.receiver, '--duration', r.duration, '--out', join(tmp.dir, r.name), '--quiet', '--json'], { stdout: out, stderr: out });
      }));
      assert.deepEqual(codes, rigs.map(() => 0));
    } finally {
      stopListening();
    }

    group = rigs.filter((r) => r.name !== 'off-bus');
    const report = new PassThrough();
    const chunks: Buffer[] = [];
    report.on('data', (c: Buffer) => chunks.push(c));
    assert.equal(await main(['align', ...group.map((r) => join(tmp.dir, r.name)), '--json'], { stdout: report, stderr: report }), 0);
    const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { driver: string; files: string[]; recordings: Array<{ name: string; role: string; edges: number; residualMaxSamples: number }> };
    assert.equal(result.driver, 'drv');
    assert.equal(result.files.length, group.length);
    for (const a of result.recordings) {
      if (a.role === 'driver') continue;
      assert.ok(a.edges >= 5, `${a.name}: ${a.edges} edges`);
      assert.ok(a.residualMaxSamples < 0.01, `${a.name}: residual ${a.residualMaxSamples} samples`);
    }
  });

  it('4 rigs on one sync line, different drifts and starts: every exported row\'s group_time_s within 1 driver sample of the simulator\'s truth', async () => {

    const driver = devices.get('drv')!;
    const unaligned: number[] = [];
    for (const r of group) {
      const out = join(tmp.dir, `${r.name}.csv`);
      await exportRecording(join(tmp.dir, r.name), 'csv', out);
      const { header, rows } = csv(out);
      const ti = header.indexOf('time_s');
      const gi = header.indexOf('group_time_s');
      assert.ok(ti >= 0 && gi === header.length - 1, `${r.name}: header ${header.join(',')}`);
      const device = devices.get(r.name)!;
      let worst = 0;
      let worstUnaligned = 0;
      for (const row of rows) {
        const truth = driverSampleAt(driver, device.commonTimeOfSample(row[ti]! * RATE_HZ)!);
        worst = Math.max(worst, Math.abs(row[gi]! * RATE_HZ - truth));
        worstUnaligned = Math.max(worstUnaligned, Math.abs(row[ti]! * RATE_HZ - truth));
      }
      assert.ok(rows.length > 300, `${r.name}: ${rows.length} rows`);
      assert.ok(worst < 1, `${r.name}: group_time_s off by up to ${worst.toFixed(4)} driver samples`);
      if (!r.driver) unaligned.push(worstUnaligned);
      const meta = JSON.parse(readFileSync(join(tmp.dir, `${r.name}.meta.json`), 'utf8')) as { groupTime?: { driver: string } };
      assert.equal(meta.groupTime?.driver, 'drv');
    }
    // the rigs start when their acquisitions do (staggered, but a loaded machine can bring two starts close): at least one
    // receiver's own time_s must be far from the truth, or the test would not notice a missing alignment
    assert.ok(Math.max(...unaligned) > 50, `the receivers' own time_s are at most ${Math.max(...unaligned).toFixed(1)} samples off`);

    // fiberrig cohort: a --group whose recordings are partly aligned is refused with --mixed-alignment refuse, before any work
    const err = new PassThrough();
    const errText: Buffer[] = [];
    err.on('data', (c: Buffer) => errText.push(c));
    const code = await main(['cohort', '--group', `aligned=${join(tmp.dir, 'r1')},${join(tmp.dir, 'r2')}`, '--group', `mixed=${join(tmp.dir, 'r3')},${join(tmp.dir, 'off-bus')}`,
      '--mixed-alignment', 'refuse', '--out', join(tmp.dir, 'cohort'), '--quiet'], { stdout: sink(), stderr: err });
    assert.notEqual(code, 0);
    assert.match(Buffer.concat(errText).toString('utf8'), /E_ALIGN_MIXED: --group mixed: off-bus is not aligned/);

    // a rig on another bus saw no pulse: alignment refuses it, naming it
    await assert.rejects(alignRecordings([join(tmp.dir, 'drv'), join(tmp.dir, 'off-bus')], { write: false }), (e: Error & { code: string }) => {
      assert.equal(e.code, 'E_ALIGN_NO_EDGES');
      assert.match(e.message, /off-bus: no sync edge on digital input 0/);
      return true;
    });
  });

  it('the aligned group exported as guppy, pmat, nwb and csv aux, and analysed: every signal time within 1 driver sample of the truth, each sync edge at one time on every rig (within 1 sample)', async () => {
    const driver = devices.get('drv')!;
    const receivers = group.filter((r) => !r.driver);
    const edges = { guppy: new Map<string, number[]>(), pmat: new Map<string, number[]>(), nwb: new Map<string, number[]>() };
    const h5 = await h5Ready();
    for (const r of group) {
      const rec = join(tmp.dir, r.name);
      const device = devices.get(r.name)!;
      // GuPPy: per segment folder, channel timestamps on the group axis; sampling_rate the rate on it
      const guppy = join(tmp.dir, `${r.name}-guppy`);
      await exportRecording(rec, 'guppy', guppy);
      const gm = readMeta(join(guppy, 'export.json')) as ReturnType<typeof readMeta> & { groupTime?: { driver: string } };
      assert.equal(gm.groupTime?.driver, 'drv', `${r.name}: guppy export.json groupTime`);
      const rigEdges: number[] = [];
      let pairs: Array<{ deviceS: number; groupS: number }> = [];
      for (const seg of gm.segments) {
        const t = readTable(join(guppy, seg.name, 'det0_470nm.csv'));
        assert.equal(t.rows.length, seg.rows);
        const ts = t.rows.map((row) => Number(row[0]));
        const rate = Number(t.rows[0]![2]);
        // GuPPy places samples by (t - t0) x sampling_rate: that must count the rows
        assert.ok(Math.abs((ts.at(-1)! - ts[0]!) * rate - (ts.length - 1)) < 0.01, `${r.name}: guppy sampling_rate ${rate} does not count its rows`);
        pairs = pairs.concat(ts.map((groupS, k) => ({ deviceS: seg.firstTimeS + k / OUTPUT_RATE_HZ, groupS })));
        if (!r.driver) rigEdges.push(...readTable(join(guppy, seg.name, 'DI0.csv')).rows.map((row) => Number(row[0])));
      }
      assert.ok(pairs.length > 300, `${r.name}: ${pairs.length} guppy rows`);
      assert.ok(worstSamples(driver, device, pairs) < 1, `${r.name}: guppy timestamps off by ${worstSamples(driver, device, pairs).toFixed(4)} driver samples`);
      if (!r.driver) edges.guppy.set(r.name, rigEdges);
      const aux = readTable(join(guppy, 'aux', 'EEG.csv'));
      const auxPairs = aux.rows.map((row, j) => ({ deviceS: j / AUX_RATE_HZ, groupS: Number(row[0]) }));
      assert.ok(worstSamples(driver, device, auxPairs) < 1, `${r.name}: guppy aux timestamps`);

      // pMAT: Time (first column) on the group axis; events.csv onsets on it
      const pmat = join(tmp.dir, `${r.name}-pmat`);
      await exportRecording(rec, 'pmat', pmat);
      const pm = readMeta(join(pmat, 'export.json'));
      pairs = [];
      const onsets: number[] = [];
      for (const seg of pm.segments) {
        const t: Table = readTable(join(pmat, seg.name, 'det0_470nm_405nm.csv'));
        assert.deepEqual(t.header, ['Time', 'Signal', 'Control']);
        pairs = pairs.concat(t.rows.map((row, k) => ({ deviceS: seg.firstTimeS + k / OUTPUT_RATE_HZ, groupS: Number(row[0]) })));
        onsets.push(...readTable(join(pmat, seg.name, 'events.csv')).rows.filter((row) => row[0] === 'DI0').map((row) => Number(row[1])));
      }
      assert.ok(worstSamples(driver, device, pairs) < 1, `${r.name}: pmat Time off by ${worstSamples(driver, device, pairs).toFixed(4)} driver samples`);
      if (!r.driver) edges.pmat.set(r.name, onsets);

      // NWB: starting_time + rate on the group axis, digital timestamps through the knots; the file still validates
      const nwb = join(tmp.dir, `${r.name}.nwb`);
      await exportRecording(rec, 'nwb', nwb);
      assert.deepEqual((await validateNwb(nwb)).errors, [], `${r.name}: NWB validation`);
      const f = new h5.File(nwb, 'r');
      try {
        const value = (path: string): unknown => (f.get(path) as InstanceType<typeof h5.Dataset>).value;
        const collection = JSON.parse(String(value('general/data_collection'))) as { time: { groupTime?: { driver: string } }; series: Record<string, { columns?: Array<{ groupDelayS: number }> }> };
        assert.equal(collection.time.groupTime?.driver, 'drv', `${r.name}: NWB data_collection time.groupTime`);
        const rows = (f.get('processing/ophys/demodulated/data') as InstanceType<typeof h5.Dataset>).shape![0]!;
        const st = f.get('processing/ophys/demodulated/starting_time') as InstanceType<typeof h5.Dataset>;
        const start = Number(st.value);
        const rate = Number(st.attrs.rate!.value);
        const delayS = collection.series['/processing/ophys/demodulated']!.columns![0]!.groupDelayS;
        pairs = Array.from({ length: rows }, (_, i) => ({ deviceS: i / OUTPUT_RATE_HZ - delayS, groupS: start + i / rate }));
        assert.ok(worstSamples(driver, device, pairs) < 1, `${r.name}: NWB demodulated times off by ${worstSamples(driver, device, pairs).toFixed(4)} driver samples`);
        const raw = f.get('acquisition/raw_photodetector_0/starting_time') as InstanceType<typeof h5.Dataset>;
        const rawN = (f.get('acquisition/raw_photodetector_0/data') as InstanceType<typeof h5.Dataset>).shape![0]!;
        const rawPairs = [0, rawN - 1].map((j) => ({ deviceS: j / RATE_HZ, groupS: Number(raw.value) + j / Number(raw.attrs.rate!.value) }));
        assert.ok(worstSamples(driver, device, rawPairs) < 1, `${r.name}: NWB raw series times`);
        if (!r.driver) {
          const levels = [...(value('acquisition/digital_input_0/data') as Float32Array)];
          edges.nwb.set(r.name, [...(value('acquisition/digital_input_0/timestamps') as Float64Array)].filter((_, i) => levels[i] === 1));
        }
      } finally {
        f.close();
      }

      // the wide CSV's aux file gains group_time_s like the wide CSV
      const wide = join(tmp.dir, `${r.name}-wide.csv`);
      await exportRecording(rec, 'csv', wide);
      const auxCsv = readTable(wide.replace(/\.csv$/, '.aux.csv'));
      assert.equal(auxCsv.header.at(-1), 'group_time_s');
      const ai = auxCsv.header.indexOf('time_s');
      assert.ok(worstSamples(driver, device, auxCsv.rows.map((row) => ({ deviceS: Number(row[ai]), groupS: Number(row.at(-1)) }))) < 1, `${r.name}: csv aux group_time_s`);
    }
    assert.equal(receivers.length, 3);
    for (const [format, byRig] of Object.entries(edges)) edgesAgree(format, byRig);

    // analysis.json of an aligned recording: its times also on the group axis (the trace start here: 6 s hold no bout)
    const r1 = devices.get('r1')!;
    const a = analysisJson(await analyzeRecording(join(tmp.dir, 'r1')), []) as { groupTime?: { driver: string }; traces: { t0S: number; groupT0S: number } };
    assert.equal(a.groupTime?.driver, 'drv');
    assert.ok(worstSamples(driver, r1, [{ deviceS: a.traces.t0S, groupS: a.traces.groupT0S }]) < 1, 'analysis.json traces.groupT0S');
  });
});
