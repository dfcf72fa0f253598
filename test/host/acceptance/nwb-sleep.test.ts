// Acceptance 1 (issue 15): the NWB export of a 10-minute `sim://sleep`
// recording with a cable pull and a device overrun validates with zero errors
// (TypeScript validator over the spec cached in the file; hdmf as a second,
// independent check) and carries /specifications; every field is read back
// and compared with an independent replay of the same raw log. Acceptance 6
// (NWB side): units, conversions, offsets, rates, group delays, the time
// compensation and the gap policy are in the file.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { type Group, h5Access } from '../export/h5-read.ts';
import { Edge } from '../../../protocol/index.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { TARGET_VERSIONS } from '../../../host/export/nwb/cache.ts';
import type { SignalBlock } from '../../../host/pipeline/demodulate.ts';
import { digitalEventTimeS } from '../../../host/record/derived.ts';
import { type ReplayContext, replayRecording } from '../../../host/record/replay.ts';
import type { AcquisitionItem, TimedDigitalEvent, TimedLedEvent } from '../../../host/rig/assembler.ts';
import { hdmfValidate, needHdmf } from '../export/nwb-hdmf.ts';
import { validateNwb } from '../export/nwb-validate.ts';
import { cliAcquire } from './cli-io.ts';

type GapItem = Extract<AcquisitionItem, { kind: 'gap' }>;
type BlockItem = Extract<AcquisitionItem, { kind: 'block' }>;

const DURATION_S = 600;
const DEVICE = 'sim://sleep?seed=5&speed=max&faults=disconnect@100:for=2,overrun@300:blocks=4';

describe(`acceptance: NWB export of a ${DURATION_S / 60}-minute sleep recording with a disconnect and an overrun`, function () {
  this.timeout(240_000);
  let tmp: string;
  let nwb: string;
  let f: InstanceType<typeof h5wasm.File>;
  let ctx: ReplayContext;
  const signals: SignalBlock[] = [];
  const gaps: GapItem[] = [];
  const raw0: BlockItem[] = [];
  const leds: TimedLedEvent[] = [];
  const digital: TimedDigitalEvent[] = [];

  const { ds, group, attr } = h5Access(() => f);
  const deref = (r: unknown): string => (f.dereference((Array.isArray(r) ? r[0] : r) as never) as unknown as Group).path;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-nwb-sleep-'));
    const rec = join(tmp, 'rec');
    const summary = await cliAcquire(DEVICE, `${DURATION_S}s`, rec);
    assert.equal(summary.reconnects, 1, 'the disconnect happened and was recovered');
    nwb = join(tmp, 'sleep.nwb');
    await exportRecording(rec, 'nwb', nwb);
    // an independent replay of the same raw log: what the file must hold
    await replayRecording(rec, [{
      begin: (c) => { ctx = c; },
      signals: (b) => { if (b.stream === 'signals') signals.push(b); },
      item: (i) => {
        if (i.kind === 'gap') gaps.push(i);
        else if (i.kind === 'block' && i.source === 'detector') raw0.push(i);
      },
      led: (e) => { leds.push(e); },
      digital: (e) => { digital.push(e); },
    }]);
    await h5wasm.ready;
    f = new h5wasm.File(nwb, 'r');
  });
  after(async () => {
    f?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('validates with zero errors against the spec cached in the file, which holds the four target namespaces', async () => {
    const v = await validateNwb(nwb);
    assert.deepEqual(v.errors, []);
    assert.deepEqual(v.namespaces, TARGET_VERSIONS);
    assert.ok(v.checked > 250, `${v.checked} objects and attributes checked`);
    assert.equal(deref(attr(f as unknown as Group, '.specloc')), '/specifications');
    for (const [name, version] of Object.entries(TARGET_VERSIONS)) group(`specifications/${name}/${version}`);
  });

  it('hdmf validates it with zero errors from the cached spec alone', function () {
    needHdmf(this);
    const r = hdmfValidate(nwb);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.namespaces, TARGET_VERSIONS);
  });

  it('demodulated series: every value is the demodulator output (NaN over the gaps), unit/conversion/offset/rate from the channels', () => {
    const n = ctx.signalChannels.length;
    const data = ds('processing/ophys/demodulated/data');
    const rows = signals.reduce((m, b) => Math.max(m, b.firstIndex + b.count), 0);
    assert.deepEqual(data.shape, [rows, n]);
    assert.equal(rows, DURATION_S * ctx.signalRateHz);
    const values = data.value as Float64Array;
    let compared = 0;
    for (const b of signals) {
      for (let k = 0; k < b.count; k++) {
        for (let c = 0; c < n; c++) {
          if (!Object.is(values[(b.firstIndex + k) * n + c], b.values[c]![k])) assert.fail(`row ${b.firstIndex + k} column ${c}: ${values[(b.firstIndex + k) * n + c]} vs ${b.values[c]![k]}`);
          compared++;
        }
      }
    }
    assert.equal(compared, rows * n, 'every cell compared');
    // the middle of the reconnect gap (where the session put it: world 100 s minus the session's offset) is NaN in every column
    const reconnect = gaps.find((g) => g.source === 'detector' && g.reason === 'reconnect');
    assert.ok(reconnect, 'a reconnect gap');
    const row = Math.round(((reconnect.sessionIndex + reconnect.count / 2) / ctx.timebase.rateHz) * ctx.signalRateHz);
    for (let c = 0; c < n; c++) assert.ok(Number.isNaN(values[row * n + c]!), `column ${c} NaN inside the gap`);
    assert.equal(attr(data, 'unit'), 'volts');
    assert.equal(attr(data, 'conversion'), Math.fround(ctx.signalChannels[0]!.voltsPerCode));
    assert.equal(attr(data, 'offset'), 0);
    assert.equal(attr(data, 'continuity'), 'continuous');
    const st = ds('processing/ophys/demodulated/starting_time');
    assert.equal(attr(st, 'rate'), ctx.signalRateHz);
    assert.equal(attr(st, 'unit'), 'seconds');
    const region = ds('processing/ophys/demodulated/fiber_photometry_table_region');
    assert.deepEqual([...(region.value as Int32Array)], ctx.signalChannels.map((_, i) => i));
    assert.equal(deref(attr(region, 'table')), '/general/fiber_photometry/fiber_photometry_table');
    const comments = String(attr(group('processing/ophys/demodulated'), 'comments'));
    assert.match(comments, /group delay per column: 405nm@det0 \d+\.\d{3} ms/);
    assert.match(comments, /compensated for it/);
  });

  it('raw photodetector series: every sample equals the raw log, NaN exactly on the missing samples; volts per code and the sample rate; EEG/EMG ElectricalSeries with their electrodes', () => {
    const data = ds('acquisition/raw_photodetector_0/data');
    const total = Math.round(DURATION_S * ctx.timebase.rateHz);
    assert.equal(data.shape![0], total);
    const values = data.value as Float32Array;
    const expected = new Float32Array(total).fill(Number.NaN);
    for (const b of raw0) {
      const column = b.channelIds.indexOf(0);
      for (let k = 0; k < b.sampleCount && b.sessionIndex + k < total; k++) expected[b.sessionIndex + k] = b.samples[k * b.channelIds.length + column]!;
    }
    let missing = 0;
    for (let i = 0; i < total; i++) {
      if (!Object.is(values[i], expected[i])) assert.fail(`sample ${i}: ${values[i]} vs ${expected[i]}`);
      if (Number.isNaN(expected[i]!)) missing++;
    }
    const gapSamples = gaps.filter((g) => g.source === 'detector').reduce((s, g) => s + g.count, 0);
    assert.equal(missing, gapSamples, 'NaN exactly where samples never arrived');
    const d = ctx.info.detectors.find((x) => x.id === 0)!;
    assert.equal(attr(data, 'unit'), 'volts');
    assert.equal(attr(data, 'conversion'), Math.fround(d.fullScaleV / 2 ** d.adcBits));
    assert.equal(attr(ds('acquisition/raw_photodetector_0/starting_time'), 'rate'), ctx.timebase.rateHz);
    assert.ok(ctx.info.auxInputs.length > 0 && ctx.auxIds.length === ctx.info.auxInputs.length, 'the sleep config records EEG and EMG');
    const electrodes = 'general/extracellular_ephys/electrodes';
    assert.equal(attr(group(electrodes), 'neurodata_type'), 'ElectrodesTable');
    const groupNames = ds(`${electrodes}/group_name`).value as string[];
    const groupRefs = ds(`${electrodes}/group`).value as unknown[];
    for (const a of ctx.info.auxInputs) {
      const name = a.label || `aux${a.id}`;
      // an ElectricalSeries in electrode volts (the device reports electrode volts per code), its row naming its ElectrodeGroup
      assert.equal(attr(group(`acquisition/${name}`), 'neurodata_type'), 'ElectricalSeries', name);
      assert.equal(attr(ds(`acquisition/${name}/data`), 'conversion'), Math.fround(a.electrodeVoltsPerCode!), name);
      const row = (ds(`acquisition/${name}/electrodes`).value as Int32Array)[0]!;
      assert.equal(groupNames[row], name);
      assert.equal(deref(groupRefs[row]), `/general/extracellular_ephys/${name}`);
      assert.equal(deref(attr(ds(`acquisition/${name}/electrodes`), 'table')), `/${electrodes}`);
      assert.equal(group(`general/extracellular_ephys/${name}`).get_link(`/general/extracellular_ephys/${name}/device`), '/general/devices/fiberrig');
      assert.equal(attr(ds(`acquisition/${name}/starting_time`), 'rate'), ctx.timebase.auxRateHz, name);
      assert.equal(attr(ds(`acquisition/${name}/data`), 'unit'), 'volts', name);
      assert.equal(ds(`acquisition/${name}/data`).shape![0], Math.round(DURATION_S * ctx.timebase.auxRateHz), name);
    }
  });

  it('/intervals/invalid_times lists every gap: start, stop, source, reason, uncertainty', () => {
    const t = 'intervals/invalid_times';
    assert.deepEqual(attr(group(t), 'colnames'), ['start_time', 'stop_time', 'source', 'reason', 'uncertainty_s']);
    const starts = [...(ds(`${t}/start_time`).value as Float64Array)];
    const stops = [...(ds(`${t}/stop_time`).value as Float64Array)];
    const sources = ds(`${t}/source`).value as string[];
    const reasons = ds(`${t}/reason`).value as string[];
    const uncertainty = [...(ds(`${t}/uncertainty_s`).value as Float64Array)];
    const rate = (g: GapItem): number => (g.source === 'aux' ? ctx.timebase.auxRateHz : ctx.timebase.rateHz);
    for (const g of gaps) {
      const start = g.sessionIndex / rate(g);
      const i = starts.findIndex((s, k) => s === start && stops[k] === (g.sessionIndex + g.count) / rate(g));
      assert.ok(i >= 0, `${g.source} gap at ${start} s is listed`);
      assert.ok(sources[i]!.split('+').includes(g.source));
      assert.equal(reasons[i], g.reason);
      assert.ok(uncertainty[i]! >= g.uncertaintySamples / rate(g));
    }
    assert.ok(reasons.includes('reconnect'), 'the disconnect is a reconnect gap');
    assert.ok(gaps.length >= 3, `${gaps.length} gaps (disconnect, overrun)`);
  });

  it('the FiberPhotometryTable rows reference the LED, detector, fiber, dichroic mirror and indicator of each channel', () => {
    const table = 'general/fiber_photometry/fiber_photometry_table';
    const refs = (col: string): string[] => (ds(`${table}/${col}`).value as unknown[]).map(deref);
    const wavelengths = [...(ds(`${table}/excitation_wavelength_in_nm`).value as Float64Array)];
    ctx.signalChannels.forEach((c, i) => {
      assert.equal(wavelengths[i], c.wavelengthNm, c.name);
      assert.equal(refs('excitation_source')[i], `/general/devices/excitation_source_${c.ledChannel}`, c.name);
      assert.equal(refs('photodetector')[i], `/general/devices/photodetector_${c.inputId}`, c.name);
      assert.equal(refs('optical_fiber')[i], `/general/devices/optical_fiber_${c.inputId}`, c.name);
      assert.equal(refs('dichroic_mirror')[i], `/general/devices/dichroic_mirror_${c.inputId}`, c.name);
      assert.equal(refs('indicator')[i], `/general/fiber_photometry/fiber_photometry_indicators/indicator_${c.wavelengthNm}nm`, c.name);
      assert.equal((ds(`${table}/notes`).value as string[])[i], `fiberrig channel ${c.name}`);
    });
    for (const c of ctx.signalChannels) assert.match(String(attr(group(`general/devices/excitation_source_${c.ledChannel}`), 'description')), new RegExp(`${c.wavelengthNm} nm`));
  });

  it('LED and digital input series hold every event of the raw log, with their times', () => {
    const byChannel = new Map<number, TimedLedEvent[]>();
    for (const e of leds) byChannel.set(e.channel, [...(byChannel.get(e.channel) ?? []), e]);
    assert.ok(byChannel.size > 0, 'LED events');
    for (const [ch, events] of byChannel) {
      const p = `acquisition/led_${ch}_current`;
      assert.deepEqual([...(ds(`${p}/data`).value as Float32Array)], events.map((e) => Math.fround(e.currentMa)), p);
      assert.deepEqual([...(ds(`${p}/timestamps`).value as Float64Array)], events.map((e) => e.sessionIndex / ctx.timebase.rateHz), p);
      // SI unit: the data stay mA as the device reports them, conversion 0.001 gives amperes
      assert.equal(attr(ds(`${p}/data`), 'unit'), 'amperes');
      assert.equal(attr(ds(`${p}/data`), 'conversion'), Math.fround(1e-3));
    }
    const lines = new Set(digital.map((e) => e.line));
    for (const line of lines) {
      const events = digital.filter((e) => e.line === line);
      const p = `acquisition/digital_input_${line}`;
      assert.deepEqual([...(ds(`${p}/data`).value as Float32Array)], events.map((e) => (e.edge === Edge.EDGE_RISING ? 1 : 0)), p);
      assert.deepEqual([...(ds(`${p}/timestamps`).value as Float64Array)], events.map((e) => digitalEventTimeS(e, ctx.timebase)), p);
    }
  });

  it('the metadata JSON states targets, every series\' unit/conversion/offset/rate (as in the file), group delays, compensation and the gap policy', () => {
    const meta = JSON.parse(ds('general/data_collection').value as string) as {
      schema: string; targets: { nwb: string; namespaces: Record<string, string> };
      time: { delayCompensation: boolean }; gapPolicy: { policy: string; invalidTimes: string; gaps: number };
      series: Record<string, { unit: string; conversion: number; offset: number; rateHz: number | null; startingTimeS: number | null; columns?: Array<{ name: string; groupDelayS: number; timeOffsetS: number }> }>;
    };
    assert.equal(meta.schema, 'fiberrig-nwb-export/1');
    assert.deepEqual(meta.targets, { nwb: '2.9.0', namespaces: TARGET_VERSIONS });
    assert.equal(meta.time.delayCompensation, true);
    assert.deepEqual(meta.gapPolicy, { ...meta.gapPolicy, policy: 'nan', invalidTimes: '/intervals/invalid_times', gaps: (ds('intervals/invalid_times/id').shape ?? [])[0] });
    const columns = meta.series['/processing/ophys/demodulated']!.columns!;
    assert.deepEqual(columns.map((c) => [c.name, c.groupDelayS]), ctx.signalChannels.map((c) => [c.name, c.groupDelayS]));
    // the default lock-in low-pass: ~42.5 ms (issue 15), the same for every column; times compensated for it
    assert.ok(columns.every((c) => c.groupDelayS > 0.03 && c.groupDelayS < 0.06), 'group delays of the lock-in filter');
    assert.ok(columns.every((c) => c.timeOffsetS === 0), 'lock-in columns share one time base');
    assert.equal(ds('processing/ophys/demodulated/starting_time').value, -columns[0]!.groupDelayS);
    assert.equal(meta.series['/processing/ophys/demodulated']!.startingTimeS, -columns[0]!.groupDelayS);
    for (const a of ctx.info.auxInputs) {
      const m = meta.series[`/acquisition/${a.label || `aux${a.id}`}`] as { neurodataType?: string; voltsAt?: string } | undefined;
      assert.equal(m?.neurodataType, 'ElectricalSeries');
      assert.equal(m?.voltsAt, 'electrode', `${a.label}: the metadata says where the volts are`);
    }
    for (const [path, s] of Object.entries(meta.series).filter(([p]) => /led_\d+_current$/.test(p))) {
      assert.equal(s.unit, 'amperes', path);
      assert.match((s as { note?: string }).note ?? '', /milliamperes/, path);
    }
    const regular = Object.entries(meta.series).filter(([, s]) => s.rateHz !== null);
    assert.ok(regular.length >= 3 + ctx.info.auxInputs.length - 1);
    for (const [path, s] of Object.entries(meta.series)) {
      const data = ds(`${path}/data`);
      assert.equal(attr(data, 'unit'), s.unit, path);
      assert.equal(attr(data, 'conversion'), s.conversion, path);
      assert.equal(attr(data, 'offset'), s.offset, path);
      if (s.rateHz !== null) {
        assert.equal(attr(ds(`${path}/starting_time`), 'rate'), s.rateHz, path);
        assert.equal(ds(`${path}/starting_time`).value, s.startingTimeS, path);
      }
      else ds(`${path}/timestamps`);
    }
  });
});
