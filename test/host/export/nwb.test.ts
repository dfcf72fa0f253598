import assert from 'node:assert/strict';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { type Dataset, type Group, h5Access } from './h5-read.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { h5Ready, NWB_VERSION, nwbTypedObjects } from '../../../host/export/nwb.ts';
import type { SignalBlock } from '../../../host/pipeline/demodulate.ts';
import { replayRecording } from '../../../host/record/replay.ts';
import { AUX_RATE_HZ, RATE_HZ, tempDir, writeSynthRecording } from '../record/helpers.ts';


// long enough for the raw series (2 kHz) to cross the writer's 65 536-row batch
const SECONDS = 35;

describe('host/export: NWB file structure (read back with h5wasm)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let f: InstanceType<typeof h5wasm.File>;
  const { ds, group, attr } = h5Access(() => f);

  before(async () => {
    tmp = tempDir('fiberrig-nwb-');
    await writeSynthRecording(tmp.dir, { seconds: SECONDS });
    path = join(tmp.dir, 'out', 'recording.nwb');
    await exportRecording(tmp.dir, 'nwb', path);
    await h5Ready();
    f = new h5wasm.File(path, 'r');
  });
  after(() => {
    f?.close();
    tmp.cleanup();
  });

  it('has the NWB root: version, typed NWBFile, required datasets and groups', () => {
    const root = f as unknown as Group;
    assert.equal(attr(root, 'nwb_version'), NWB_VERSION);
    assert.equal(attr(root, 'neurodata_type'), 'NWBFile');
    assert.equal(attr(root, 'namespace'), 'core');
    for (const name of ['identifier', 'session_description', 'session_start_time', 'timestamps_reference_time']) {
      assert.equal(typeof ds(name).value, 'string', name);
    }
    assert.deepEqual(ds('file_create_date').shape, [1]);
    assert.match((ds('file_create_date').value as string[])[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    // session index 0 on the host clock, from the heartbeat fit (the synthetic run starts 2026-05-28T...)
    const start = Date.parse(ds('session_start_time').value as string);
    assert.ok(Math.abs(start - 1_780_000_000_000) < 1000, `session_start_time ${ds('session_start_time').value}`);
    for (const g of ['acquisition', 'analysis', 'processing', 'general', 'general/devices', 'stimulus/presentation', 'stimulus/templates']) group(g);
  });

  it('puts the demodulated signals in a FiberPhotometryResponseSeries: shape, chunks, gzip, attributes, exact values', async () => {
    const g = group('processing/ophys/demodulated');
    assert.equal(attr(group('processing/ophys'), 'neurodata_type'), 'ProcessingModule');
    assert.equal(attr(g, 'neurodata_type'), 'FiberPhotometryResponseSeries');
    assert.equal(attr(g, 'namespace'), 'ndx-fiber-photometry');
    const data = ds('processing/ophys/demodulated/data');
    assert.deepEqual(data.shape, [SECONDS * 100, 4]);
    assert.equal(data.dtype, '<d');
    assert.ok(data.metadata.chunks && data.metadata.chunks[1] === 4, 'chunked');
    const maxshape = data.metadata.maxshape ?? [];
    assert.equal(maxshape[1], 4);
    assert.ok(maxshape[0]! > 1e15, 'resizable along time');
    assert.ok(data.filters.some((x) => x.name === 'deflate'), 'gzip');
    assert.equal(attr(data, 'unit'), 'volts');
    assert.ok(Math.abs((attr(data, 'conversion') as number) - 3.3 / 65536) < 1e-9);
    // the values are exactly the demodulator's output
    const expected: SignalBlock[] = [];
    await replayRecording(tmp.dir, [{ signals: (b) => { if (b.stream === 'signals') expected.push(b); } }]);
    // output 0 is at 0 s; its light was measured the lock-in's group delay earlier
    const st = ds('processing/ophys/demodulated/starting_time');
    assert.ok(expected[0]!.channels[0]!.groupDelayS > 0);
    assert.equal(st.value, -expected[0]!.channels[0]!.groupDelayS);
    assert.equal(attr(st, 'rate'), 100);
    assert.equal(attr(st, 'unit'), 'seconds');
    const values = data.value as Float64Array;
    for (const b of expected) {
      for (let k = 0; k < b.count; k++) {
        for (let c = 0; c < 4; c++) assert.ok(Object.is(values[(b.firstIndex + k) * 4 + c], b.values[c]![k]), `row ${b.firstIndex + k} column ${c}`);
      }
    }
    const region = ds('processing/ophys/demodulated/fiber_photometry_table_region');
    assert.equal(attr(region, 'neurodata_type'), 'DynamicTableRegion');
    assert.deepEqual([...(region.value as Int32Array)], [0, 1, 2, 3]);
    assert.deepEqual(region.attrs.table!.shape, [], 'a scalar object reference');
    const ref = attr(region, 'table');
    const target = f.dereference((Array.isArray(ref) ? ref[0] : ref) as never) as unknown as Group;
    assert.equal(target.path, '/general/fiber_photometry/fiber_photometry_table');
  });

  it('describes every (detector, LED) in a FiberPhotometryTable with references to typed devices', () => {
    assert.equal(attr(group('general/fiber_photometry'), 'neurodata_type'), 'FiberPhotometry');
    const table = group('general/fiber_photometry/fiber_photometry_table');
    assert.equal(attr(table, 'neurodata_type'), 'FiberPhotometryTable');
    const colnames = attr(table, 'colnames') as string[];
    assert.deepEqual(colnames, ['location', 'excitation_wavelength_in_nm', 'emission_wavelength_in_nm', 'indicator', 'optical_fiber', 'excitation_source', 'photodetector', 'dichroic_mirror', 'notes']);
    assert.ok(typeof attr(table, 'description') === 'string');
    assert.deepEqual([...(ds(`${table.path}/id`).value as Int32Array)], [0, 1, 2, 3]);
    assert.equal(attr(ds(`${table.path}/id`), 'neurodata_type'), 'ElementIdentifiers');
    for (const c of colnames) {
      const col = ds(`${table.path}/${c}`);
      assert.equal(attr(col, 'neurodata_type'), 'VectorData', c);
      assert.equal(col.shape![0], 4, c);
    }
    assert.deepEqual([...(ds(`${table.path}/excitation_wavelength_in_nm`).value as Float64Array)], [405, 470, 405, 470]);
    assert.deepEqual(ds(`${table.path}/notes`).value, ['fiberrig channel 405nm@det0', 'fiberrig channel 470nm@det0', 'fiberrig channel 405nm@det1', 'fiberrig channel 470nm@det1']);
    const deref = (col: string): string[] => (ds(`${table.path}/${col}`).value as unknown[]).map((r) => (f.dereference(r as never) as unknown as Group).path);
    assert.deepEqual(deref('excitation_source'), ['/general/devices/excitation_source_0', '/general/devices/excitation_source_1', '/general/devices/excitation_source_0', '/general/devices/excitation_source_1']);
    assert.deepEqual(deref('photodetector'), ['/general/devices/photodetector_0', '/general/devices/photodetector_0', '/general/devices/photodetector_1', '/general/devices/photodetector_1']);
    assert.deepEqual(deref('dichroic_mirror'), ['/general/devices/dichroic_mirror_0', '/general/devices/dichroic_mirror_0', '/general/devices/dichroic_mirror_1', '/general/devices/dichroic_mirror_1']);
    assert.equal(attr(group('general/devices/dichroic_mirror_0'), 'neurodata_type'), 'DichroicMirror');
    assert.deepEqual(deref('optical_fiber'), ['/general/devices/optical_fiber_0', '/general/devices/optical_fiber_0', '/general/devices/optical_fiber_1', '/general/devices/optical_fiber_1']);
    const indicators = deref('indicator');
    assert.equal(indicators[0], '/general/fiber_photometry/fiber_photometry_indicators/indicator_405nm');
    assert.equal(attr(group(indicators[0]!), 'neurodata_type'), 'Indicator');
    assert.equal(typeof attr(group(indicators[0]!), 'label'), 'string');
  });

  it('stores raw photodetector series, aux EEG as an ElectricalSeries (electrodes row, ElectrodeGroup linked to the rig) and digital edges as TimeSeries with timestamps', () => {
    for (const d of [0, 1]) {
      const g = group(`acquisition/raw_photodetector_${d}`);
      assert.equal(attr(g, 'neurodata_type'), 'FiberPhotometryResponseSeries');
      const data = ds(`${g.path}/data`);
      assert.deepEqual(data.shape, [SECONDS * RATE_HZ]);
      assert.equal(data.dtype, '<f');
      assert.equal(attr(ds(`${g.path}/starting_time`), 'rate'), RATE_HZ);
      assert.deepEqual([...(ds(`${g.path}/fiber_photometry_table_region`).value as Int32Array)], d === 0 ? [0, 1] : [2, 3]);
    }
    const eeg = group('acquisition/EEG');
    assert.equal(attr(eeg, 'neurodata_type'), 'ElectricalSeries');
    assert.equal(attr(eeg, 'namespace'), 'core');
    // its electrodes region selects row 0 of /general/extracellular_ephys/electrodes, whose group is the EEG ElectrodeGroup
    const region = ds('acquisition/EEG/electrodes');
    assert.equal(attr(region, 'neurodata_type'), 'DynamicTableRegion');
    assert.deepEqual([...(region.value as Int32Array)], [0]);
    const tableRef = attr(region, 'table');
    const tablePath = (f.dereference((Array.isArray(tableRef) ? tableRef[0] : tableRef) as never) as unknown as Group).path;
    assert.equal(tablePath, '/general/extracellular_ephys/electrodes');
    assert.equal(attr(group(tablePath), 'neurodata_type'), 'ElectrodesTable');
    assert.deepEqual(attr(group(tablePath), 'colnames'), ['location', 'group', 'group_name']);
    assert.deepEqual(ds(`${tablePath}/group_name`).value, ['EEG']);
    assert.deepEqual(ds(`${tablePath}/location`).value, ['unspecified']);
    const groupRefs = ds(`${tablePath}/group`).value as unknown[];
    assert.equal((f.dereference(groupRefs[0] as never) as unknown as Group).path, '/general/extracellular_ephys/EEG');
    const electrodeGroup = group('general/extracellular_ephys/EEG');
    assert.equal(attr(electrodeGroup, 'neurodata_type'), 'ElectrodeGroup');
    assert.match(String(attr(electrodeGroup, 'location')), /unspecified/);
    assert.equal(electrodeGroup.get_link('/general/extracellular_ephys/EEG/device'), '/general/devices/fiberrig', 'device is a soft link to the rig');
    assert.equal(attr(group('general/extracellular_ephys/EEG/device'), 'neurodata_type'), 'Device');
    assert.deepEqual(ds('acquisition/EEG/data').shape, [SECONDS * AUX_RATE_HZ]);
    assert.equal(attr(ds('acquisition/EEG/starting_time'), 'rate'), AUX_RATE_HZ);
    assert.equal(attr(ds('acquisition/EEG/data'), 'unit'), 'volts');
    const di = group('acquisition/digital_input_0');
    assert.equal(attr(di, 'neurodata_type'), 'TimeSeries');
    const levels = [...(ds('acquisition/digital_input_0/data').value as Float32Array)];
    const times = [...(ds('acquisition/digital_input_0/timestamps').value as Float64Array)];
    assert.equal(levels.length, 2 * (SECONDS - 1));
    assert.deepEqual(levels.slice(0, 4), [1, 0, 1, 0]);
    assert.equal(times[0], 1 + 123 / 1e6);
    assert.equal(times[1], 1.15);
    assert.equal(attr(ds('acquisition/digital_input_0/timestamps'), 'unit'), 'seconds');
    assert.equal(f.get('intervals'), null, 'no gaps, no invalid_times');
  });

  it('streams raw photodetector and EEG codes exactly, across the writer\'s 65 536-row batches (the same values, in order, no row lost or repeated)', async () => {
    const raw = new Map<string, number[]>();
    await replayRecording(tmp.dir, [{
      item: (it) => {
        if (it.kind !== 'block') return;
        it.channelIds.forEach((id, column) => {
          const key = `${it.source}:${id}`;
          const out = raw.get(key) ?? [];
          assert.equal(out.length, it.sessionIndex, `${key}: blocks are contiguous`);
          for (let k = 0; k < it.sampleCount; k++) out.push(it.samples[k * it.channelIds.length + column]!);
          raw.set(key, out);
        });
      },
    }], { demod: false });
    const series: Array<[string, string]> = [['detector:0', 'acquisition/raw_photodetector_0/data'], ['detector:1', 'acquisition/raw_photodetector_1/data'], ['aux:0', 'acquisition/EEG/data']];
    for (const [key, path] of series) {
      const expected = raw.get(key)!;
      const stored = ds(path).value as Float32Array;
      assert.equal(stored.length, expected.length, path);
      if (path.includes('photodetector')) assert.ok(stored.length > 65_536, `${path} spans more than one batch`);
      const first = stored.findIndex((v, i) => v !== expected[i]);
      assert.equal(first, -1, `${path}: row ${first} is ${stored[first]}, the recording's is ${expected[first]}`);
    }
  });

  it('types every object with neurodata_type and namespace', async () => {
    f.close();
    const typedObjects = await nwbTypedObjects(path);
    f = new h5wasm.File(path, 'r');
    const byType = new Map<string, string[]>();
    for (const [p, t] of typedObjects) {
      assert.ok(['core', 'hdmf-common', 'ndx-fiber-photometry', 'ndx-ophys-devices'].includes(t.namespace), `${p}: namespace ${t.namespace}`);
      byType.set(t.type, [...(byType.get(t.type) ?? []), p]);
    }
    assert.deepEqual([...byType.keys()].sort(), [
      'Device', 'DichroicMirror', 'DynamicTableRegion', 'ElectricalSeries', 'ElectrodeGroup', 'ElectrodesTable', 'ElementIdentifiers', 'ExcitationSource', 'FiberInsertion', 'FiberPhotometry', 'FiberPhotometryIndicators',
      'FiberPhotometryResponseSeries', 'FiberPhotometryTable', 'Indicator', 'NWBFile', 'OpticalFiber', 'Photodetector', 'ProcessingModule',
      'Subject', 'TimeSeries', 'VectorData',
    ]);
    assert.equal(byType.get('FiberPhotometryResponseSeries')!.length, 3);
    assert.equal(typedObjects.get('/general/subject')!.type, 'Subject');
    assert.equal(ds('general/subject/subject_id').value, 'mouse-1');
    assert.equal(ds('general/notes').value, 'synthetic');
  });
});

describe('host/export: NWB states whether signal times were compensated for the group delay', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    tmp = tempDir('fiberrig-nwb-delay-');
    await writeSynthRecording(tmp.dir, { seconds: 3 });
  });
  after(() => tmp.cleanup());

  for (const delayCompensation of [true, false]) {
    it(`delayCompensation ${delayCompensation}: metadata JSON, per-column group delays and the series comments say so`, async () => {
      const path = join(tmp.dir, `delay-${delayCompensation}.nwb`);
      await exportRecording(tmp.dir, 'nwb', path, { delayCompensation });
      let delays: number[] = [];
      await replayRecording(tmp.dir, [{ begin: (ctx) => { delays = ctx.signalChannels.map((c) => c.groupDelayS); } }]);
      assert.ok(delays.length > 0 && delays.every((d) => d > 0), `group delays ${delays}`);
      await h5Ready();
      const f = new h5wasm.File(path, 'r');
      try {
        const meta = JSON.parse((f.get('general/data_collection') as Dataset).value as string) as {
          time: { delayCompensation: boolean; delayNote: string };
          series: Record<string, { columns?: Array<{ groupDelayS: number }> }>;
        };
        assert.equal(meta.time.delayCompensation, delayCompensation);
        assert.match(meta.time.delayNote, delayCompensation ? /when the light was measured/ : /raw filter-output times/);
        assert.deepEqual(meta.series['/processing/ophys/demodulated']!.columns!.map((c) => c.groupDelayS), delays);
        const comments = String((f.get('processing/ophys/demodulated') as Group).attrs.comments!.value);
        assert.match(comments, delayCompensation ? /times compensated for it/ : /times NOT compensated/);
      } finally {
        f.close();
      }
    });
  }
});
