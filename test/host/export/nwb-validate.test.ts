import assert from 'node:assert/strict';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { exportRecording } from '../../../host/export/index.ts';
import { NWB_NAMESPACES, TARGET_VERSIONS } from '../../../host/export/nwb/cache.ts';
import { tempDir, writeSynthRecording } from '../record/helpers.ts';
import { copyNwb } from './nwb-copy.ts';
import { hdmfValidate, needHdmf, shippedHdmfCommon } from './nwb-hdmf.ts';
import { HDMF_COMMON } from '../../../host/export/nwb/spec-core.ts';
import { readCachedSpec, SpecRegistry, validateNwb } from './nwb-validate.ts';

describe('host/export: NWB files validate against the spec data (TypeScript validator over h5wasm)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let good: string;

  before(async () => {
    tmp = tempDir('fiberrig-nwb-validate-');
    await writeSynthRecording(tmp.dir, { seconds: 4, dropBlocks: [20, 21] });
    good = join(tmp.dir, 'good.nwb');
    await exportRecording(tmp.dir, 'nwb', good);
  });
  after(() => tmp.cleanup());

  const broken = async (name: string, breakage: Parameters<typeof copyNwb>[2]): Promise<string[]> => {
    const path = join(tmp.dir, `${name}.nwb`);
    await copyNwb(good, path, breakage);
    return (await validateNwb(path)).errors;
  };
  const hasError = (errors: string[], ...parts: string[]): void => {
    assert.ok(errors.some((e) => parts.every((p) => e.includes(p))), `an error naming ${parts.join(' + ')}; got:\n${errors.join('\n')}`);
  };

  it('the spec data is closed: every parent type, member type, link target and included type is defined', () => {
    const r = new SpecRegistry(NWB_NAMESPACES);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.chain('FiberPhotometryResponseSeries'), ['FiberPhotometryResponseSeries', 'TimeSeries', 'NWBDataInterface', 'NWBContainer', 'Container']);
    assert.deepEqual(r.chain('FiberPhotometryTable'), ['FiberPhotometryTable', 'DynamicTable', 'Container']);
    assert.deepEqual(r.chain('ExcitationSourceModel'), ['ExcitationSourceModel', 'DeviceModel', 'NWBContainer', 'Container']);
    assert.deepEqual(TARGET_VERSIONS, { 'hdmf-common': '1.8.0', core: '2.9.0', 'ndx-ophys-devices': '0.3.1', 'ndx-fiber-photometry': '0.2.4' });
  });

  it('caches every namespace in /specifications exactly as the spec data (pynwb layout, .specloc reference)', async () => {
    await h5wasm.ready;
    const f = new h5wasm.File(good, 'r');
    try {
      const cached = readCachedSpec(f);
      assert.deepEqual(cached.errors, []);
      const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
      assert.deepEqual([...cached.namespaces].sort(byName), (JSON.parse(JSON.stringify(NWB_NAMESPACES)) as typeof cached.namespaces).sort(byName));
      assert.deepEqual((f.get('specifications') as InstanceType<typeof h5wasm.Group>).keys().sort(), ['core', 'hdmf-common', 'ndx-fiber-photometry', 'ndx-ophys-devices']);
      const fp = f.get('specifications/ndx-fiber-photometry/0.2.4') as InstanceType<typeof h5wasm.Group>;
      assert.deepEqual(fp.keys().sort(), ['namespace', 'ndx-fiber-photometry.extensions']);
      const ns = JSON.parse((fp.get('namespace') as InstanceType<typeof h5wasm.Dataset>).value as string) as { namespaces: Array<{ schema: unknown[] }> };
      assert.deepEqual(ns.namespaces[0]!.schema.at(-1), { source: 'ndx-fiber-photometry.extensions' });
    } finally {
      f.close();
    }
  });

  it('an export (with a gap) has zero errors against the cached spec and against the spec data', async () => {
    const cached = await validateNwb(good);
    assert.deepEqual(cached.errors, []);
    assert.ok(cached.checked > 200, `${cached.checked} objects and attributes checked`);
    assert.deepEqual(cached.namespaces, TARGET_VERSIONS);
    assert.deepEqual((await validateNwb(good, NWB_NAMESPACES)).errors, []);
  });

  it('a FiberPhotometryTable without its required column location is an error naming the column', async () => {
    hasError(await broken('no-location', { omit: ['/general/fiber_photometry/fiber_photometry_table/location'] }), 'fiber_photometry_table', 'missing required dataset location');
  });

  it('a series without data/unit, an Indicator without label, an OpticalFiber without fiber_insertion are errors', async () => {
    const errors = await broken('several', {
      omitAttributes: ['/processing/ophys/demodulated/data@unit', '/general/fiber_photometry/fiber_photometry_indicators/indicator_405nm@label'],
      omit: ['/general/devices/optical_fiber_0/fiber_insertion'],
    });
    hasError(errors, '/processing/ophys/demodulated/data', 'missing required attribute unit');
    hasError(errors, 'indicator_405nm', 'missing required attribute label');
    hasError(errors, '/general/devices/optical_fiber_0', 'missing required group fiber_insertion');
  });

  it('a wrong fixed value, a wrong type, an unknown namespace, a missing /specifications are errors', async () => {
    const errors = await broken('values', {
      setAttributes: {
        '/processing/ophys/demodulated/starting_time@unit': 'ms',
        '/general/devices/photodetector_0@neurodata_type': 'Photodetektor',
        '/general/fiber_photometry/fiber_photometry_table@namespace': 'core',
        '@nwb_version': '2.8.0',
      },
      omit: ['/specifications/ndx-ophys-devices'],
    });
    hasError(errors, 'starting_time', 'attribute unit must be "seconds"');
    hasError(errors, 'photodetector_0', 'Photodetektor is not defined');
    hasError(errors, 'fiber_photometry_table', 'belongs to ndx-fiber-photometry');
    hasError(errors, '/', 'nwb_version must be "2.9.0"');
    hasError(errors, 'includes ndx-ophys-devices, which is not present');
  });

  it('an ElectricalSeries without electrodes, an ElectrodeGroup without its device link or linked to a non-Device are errors', async () => {
    hasError(await broken('no-electrodes', { omit: ['/acquisition/EEG/electrodes', '/general/extracellular_ephys/EEG/device'] }), '/acquisition/EEG', 'missing required dataset electrodes');
    hasError(await broken('no-device', { omit: ['/general/extracellular_ephys/EEG/device'] }), '/general/extracellular_ephys/EEG', 'missing required link device (Device)');
    const path = join(tmp.dir, 'wrong-link.nwb');
    await copyNwb(good, path, { omit: ['/general/extracellular_ephys/EEG/device'] });
    await h5wasm.ready;
    const f = new h5wasm.File(path, 'a');
    try {
      (f.get('general/extracellular_ephys/EEG') as InstanceType<typeof h5wasm.Group>).create_soft_link('/general/fiber_photometry', 'device');
    } finally {
      f.close();
    }
    hasError((await validateNwb(path)).errors, '/general/extracellular_ephys/EEG/device', 'of type FiberPhotometry, expected Device');
  });

  it('a table column with the wrong dtype, a region referencing a non-table, a scalar where an array belongs are errors', async () => {
    const path = join(tmp.dir, 'dtypes.nwb');
    await copyNwb(good, path, { omit: ['/general/fiber_photometry/fiber_photometry_table/excitation_wavelength_in_nm', '/file_create_date'] });
    await h5wasm.ready;
    const f = new h5wasm.File(path, 'a');
    try {
      const table = f.get('general/fiber_photometry/fiber_photometry_table') as InstanceType<typeof h5wasm.Group>;
      const col = table.create_dataset({ name: 'excitation_wavelength_in_nm', data: ['405', '470', '405', '470'] });
      col.create_attribute('neurodata_type', 'VectorData');
      col.create_attribute('namespace', 'hdmf-common');
      col.create_attribute('object_id', 'x');
      col.create_attribute('description', 'text where floats belong');
      f.create_dataset({ name: 'file_create_date', data: '2026-01-01T00:00:00Z' });
      const region = f.get('processing/ophys/demodulated/fiber_photometry_table_region') as InstanceType<typeof h5wasm.Dataset>;
      region.delete_attribute('table');
      region.create_attribute('table', (f.get('general/devices/fiberrig') as InstanceType<typeof h5wasm.Group>).create_reference(), []);
    } finally {
      f.close();
    }
    const { errors } = await validateNwb(path);
    hasError(errors, 'excitation_wavelength_in_nm', 'expected float');
    hasError(errors, '/file_create_date', 'shape [] is not one of [any]');
    hasError(errors, 'fiber_photometry_table_region', 'attribute table', 'expected DynamicTable');
  });
});

describe('host/export: hdmf (Debian python3-hdmf) validates the NWB file from its cached spec alone', () => {
  let tmp: ReturnType<typeof tempDir>;
  let good: string;
  before(async () => {
    tmp = tempDir('fiberrig-nwb-hdmf-');
    await writeSynthRecording(tmp.dir, { seconds: 4, dropBlocks: [20, 21] });
    good = join(tmp.dir, 'good.nwb');
    await exportRecording(tmp.dir, 'nwb', good);
  });
  after(() => tmp?.cleanup());

  it('zero errors, with the four cached namespaces at the target versions', function () {
    needHdmf(this);
    const r = hdmfValidate(good);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.namespaces, TARGET_VERSIONS);
  });

  it('and it fails on a broken file: the removed column, unit, label, fiber_insertion and ElectricalSeries electrodes are each reported', async function () {
    needHdmf(this);
    const path = join(tmp.dir, 'broken.nwb');
    await copyNwb(good, path, {
      omit: ['/general/fiber_photometry/fiber_photometry_table/location', '/general/devices/optical_fiber_0/fiber_insertion', '/acquisition/EEG/electrodes'],
      omitAttributes: ['/processing/ophys/demodulated/data@unit', '/general/fiber_photometry/fiber_photometry_indicators/indicator_405nm@label'],
    });
    const { errors } = hdmfValidate(path);
    for (const [where, what] of [['fiber_photometry_table', 'location'], ['demodulated/data', 'unit'], ['indicator_405nm', 'label'], ['optical_fiber_0', 'fiber_insertion'], ['EEG', 'electrodes']] as const) {
      assert.ok(errors.some((e) => e.includes(where) && e.includes(what)), `hdmf reports ${where} ${what}; got:\n${errors.join('\n')}`);
    }
  });
});

describe('host/export: the hdmf-common transcription against the schema YAML python3-hdmf ships', () => {
  it('same sources, types, inheritance, dtypes, shapes, quantities, names and required flags (docs and dim labels aside)', function () {
    needHdmf(this);
    const shipped = shippedHdmfCommon();
    const strip = (n: unknown): unknown => {
      if (Array.isArray(n)) return n.map(strip);
      if (n && typeof n === 'object') return Object.fromEntries(Object.entries(n).filter(([k]) => k !== 'doc' && k !== 'dims').map(([k, v]) => [k, strip(v)]));
      return n;
    };
    assert.deepEqual(Object.keys(shipped.sources).sort(), HDMF_COMMON.sources.map((s) => s.name).sort());
    for (const s of HDMF_COMMON.sources) {
      const theirs = shipped.sources[s.name]!;
      assert.deepEqual(strip(JSON.parse(JSON.stringify(s.groups ?? []))), strip(theirs.groups ?? []), `${s.name} groups (python3-hdmf ships hdmf-common ${shipped.version})`);
      assert.deepEqual(strip(JSON.parse(JSON.stringify(s.datasets ?? []))), strip(theirs.datasets ?? []), `${s.name} datasets`);
    }
  });
});
