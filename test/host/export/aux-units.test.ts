// Acceptance 3 (issue 15): EEG/EMG leave fiberrig in volts at the electrode. The `steps` scenario puts
// 100 µV at 2 Hz and 40 µV at 10 Hz on every aux input (at the electrode, ahead of the simulated board's
// gain of 1000); the device reports electrode volts per code (AuxInputInfo.electrode_volts_per_code), and
// every export that carries aux must give back those amplitudes within 1 µV.
//
// Amplitude: a joint least-squares fit of DC + sin/cos at 2 Hz and 10 Hz over 1..7 s of session time
// (12 and 60 whole periods; mains pickup at 50 Hz and the band-limited noise fall out of it).
// The recording comes from `fiberrig acquire` (sim://steps at full speed, the default lock-in config with
// EEG + EMG at 1 kS/s); the exports go through the public exportRecording API.
//
// An older recording (DeviceInfo without the field: test/host/record/helpers.ts's synthetic one) still
// exports: its aux is stated in volts at the ADC input, and the export warns.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import h5wasm from 'h5wasm/node';
import type { DeviceInfo } from '../../../protocol/index.ts';
import { STEPS_PARAMS } from '../../../firmware-sim/world/index.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { h5Ready } from '../../../host/export/nwb.ts';
import { auxScale } from '../../../host/pipeline/aux-units.ts';
import { cliAcquire } from '../acceptance/cli-io.ts';
import { solve } from '../acceptance/helpers.ts';
import { tempDir, writeSynthRecording } from '../record/helpers.ts';

const FIT_FROM_S = 1;
const FIT_TO_S = 7;
const TONES = STEPS_PARAMS.auxTones; // 100 µV at 2 Hz, 40 µV at 10 Hz

/** Amplitude (µV) of each tone in (t, volts), by a joint least-squares fit over [FIT_FROM_S, FIT_TO_S). */
function toneAmplitudesUv(t: ArrayLike<number>, volts: ArrayLike<number>): number[] {
  const basis = (ts: number): number[] => [1, ...TONES.flatMap((tone) => [Math.sin(2 * Math.PI * tone.hz * ts), Math.cos(2 * Math.PI * tone.hz * ts)])];
  const n = 1 + 2 * TONES.length;
  const ata = Array.from({ length: n }, () => new Float64Array(n));
  const aty = new Float64Array(n);
  let used = 0;
  for (let i = 0; i < t.length; i++) {
    const ts = t[i]!;
    const v = volts[i]!;
    if (!(ts >= FIT_FROM_S && ts < FIT_TO_S) || !Number.isFinite(v)) continue;
    const row = basis(ts);
    for (let p = 0; p < n; p++) {
      aty[p]! += row[p]! * v;
      for (let q = 0; q < n; q++) ata[p]![q]! += row[p]! * row[q]!;
    }
    used++;
  }
  assert.ok(used >= 0.9 * (FIT_TO_S - FIT_FROM_S) * 1000, `${used} aux samples in the fit window`);
  const x = solve(ata, aty);
  return TONES.map((_, k) => Math.hypot(x[1 + 2 * k]!, x[2 + 2 * k]!) * 1e6);
}

function assertTones(label: string, t: ArrayLike<number>, volts: ArrayLike<number>): void {
  const amps = toneAmplitudesUv(t, volts);
  TONES.forEach((tone, k) => {
    assert.ok(Math.abs(amps[k]! - tone.amplitudeUv) <= 1, `${label}: ${tone.hz} Hz tone is ${amps[k]!.toFixed(3)} µV, expected ${tone.amplitudeUv} ± 1 µV`);
  });
}

function csvColumns(path: string): { header: string[]; columns: Float64Array[] } {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const header = lines[0]!.split(',');
  const columns = header.map(() => new Float64Array(lines.length - 1));
  for (let i = 1; i < lines.length; i++) lines[i]!.split(',').forEach((f, c) => { columns[c]![i - 1] = Number(f); });
  return { header, columns };
}

describe('host/export: EEG/EMG in volts at the electrode (acceptance 3 of issue 15)', function () {
  this.timeout(180_000);
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fiberrig-aux-'));
    await cliAcquire('sim://steps?speed=max&seed=5', '8s', join(dir, 'rec'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the recording\'s DeviceInfo gives electrode volts per code (3.3 V / 2^16 / gain 1000) for EEG and EMG', () => {
    const session = JSON.parse(readFileSync(join(dir, 'rec', 'session.json'), 'utf8')) as { device: { info: Pick<DeviceInfo, 'auxInputs'> | null } };
    const info = session.device.info;
    assert.ok(info, 'session.json carries the DeviceInfo');
    assert.deepEqual(info.auxInputs.map((a) => a.label), ['EEG', 'EMG']);
    for (const a of info.auxInputs) {
      const s = auxScale(info, a.id);
      assert.equal(s.voltsAt, 'electrode');
      assert.ok(Math.abs(s.voltsPerCode / (3.3 / 65536 / 1000) - 1) < 1e-6, `${a.label}: ${s.voltsPerCode} V per code`);
    }
  });

  it('guppy: aux/EEG.csv and aux/EMG.csv are 100 ± 1 µV at 2 Hz and 40 ± 1 µV at 10 Hz, with no NaN cells, units in aux_units.json, all listed in export.json', async () => {
    const out = join(dir, 'guppy');
    const r = await exportRecording(join(dir, 'rec'), 'guppy', out);
    assert.deepEqual(r.warnings, []);
    for (const name of ['EEG', 'EMG']) {
      const { header, columns } = csvColumns(join(out, 'aux', `${name}.csv`));
      assert.deepEqual(header, ['timestamps', 'data', 'sampling_rate']);
      assert.ok(columns.every((c) => c.every((v) => Number.isFinite(v))), `${name}.csv has no NaN cells`);
      assertTones(`guppy ${name}`, columns[0]!, columns[1]!);
    }
    const units = JSON.parse(readFileSync(join(out, 'aux', 'aux_units.json'), 'utf8')) as { channels: Array<{ file: string; unit: string; voltsAt: string; voltsPerCode: number; samplingRateHz: number }> };
    assert.deepEqual(units.channels.map((c) => [c.file, c.unit, c.voltsAt, c.samplingRateHz]), [['EEG.csv', 'V', 'electrode', 1000], ['EMG.csv', 'V', 'electrode', 1000]]);
    assert.ok(Math.abs(units.channels[0]!.voltsPerCode / (3.3 / 65536 / 1000) - 1) < 1e-6);
    // export.json lists them with the photometry files
    const listed = (JSON.parse(readFileSync(join(out, 'export.json'), 'utf8')) as { files: string[] }).files;
    for (const f of ['aux/EEG.csv', 'aux/EMG.csv', 'aux/aux_units.json']) assert.ok(listed.includes(f), `export.json files lists ${f}: ${listed.join(', ')}`);
  });

  it('csv: <name>.aux.csv beside the wide CSV carries EEG_V and EMG_V at 100 ± 1 µV / 40 ± 1 µV, listed in <name>.meta.json', async () => {
    const out = join(dir, 'wide.csv');
    await exportRecording(join(dir, 'rec'), 'csv', out);
    const { header, columns } = csvColumns(join(dir, 'wide.aux.csv'));
    assert.deepEqual(header, ['time_s', 'EEG_V', 'EMG_V']);
    assertTones('csv EEG_V', columns[0]!, columns[1]!);
    assertTones('csv EMG_V', columns[0]!, columns[2]!);
    const listed = (JSON.parse(readFileSync(join(dir, 'wide.meta.json'), 'utf8')) as { files: string[] }).files;
    assert.ok(listed.includes('wide.aux.csv') && listed.includes('wide.csv'), `meta.json files: ${listed.join(', ')}`);
  });

  it('pmat: carries no aux (pMAT reads Time,Signal,Control only), so no EEG/EMG file is written', async () => {
    const out = join(dir, 'pmat');
    const r = await exportRecording(join(dir, 'rec'), 'pmat', out);
    assert.ok(r.files.length > 0);
    assert.ok(r.files.every((f) => !/EEG|EMG|aux/i.test(basename(f))), `pmat files: ${r.files.join(', ')}`);
    assert.ok(!existsSync(join(out, 'EEG.csv')));
  });

  it('nwb: acquisition/EEG and EMG are ElectricalSeries whose data x conversion (read back with h5wasm) are 100 ± 1 µV / 40 ± 1 µV, conversion stated', async () => {
    const out = join(dir, 'rec.nwb');
    await exportRecording(join(dir, 'rec'), 'nwb', out);
    await h5Ready();
    const f = new h5wasm.File(out, 'r');
    try {
      for (const name of ['EEG', 'EMG']) {
        const ds = f.get(`acquisition/${name}/data`) as InstanceType<typeof h5wasm.Dataset>;
        const attrs = ds.attrs as Record<string, { value: unknown }>;
        assert.equal(attrs['unit']!.value, 'volts');
        const conversion = Number(attrs['conversion']!.value);
        assert.ok(Math.abs(conversion / (3.3 / 65536 / 1000) - 1) < 1e-6, `${name} conversion ${conversion}`);
        const rate = Number(((f.get(`acquisition/${name}/starting_time`) as InstanceType<typeof h5wasm.Dataset>).attrs as Record<string, { value: unknown }>)['rate']!.value);
        const start = Number((f.get(`acquisition/${name}/starting_time`) as InstanceType<typeof h5wasm.Dataset>).value);
        const codes = ds.value as ArrayLike<number>;
        const t = Float64Array.from({ length: codes.length }, (_, i) => start + i / rate);
        const volts = Float64Array.from(codes, (c) => c * conversion);
        assertTones(`nwb ${name}`, t, volts);
        const description = String(((f.get(`acquisition/${name}`) as InstanceType<typeof h5wasm.Group>).attrs as Record<string, { value: unknown }>)['description']!.value);
        assert.match(description, /volts at the electrode/);
        const type = ((f.get(`acquisition/${name}`) as InstanceType<typeof h5wasm.Group>).attrs as Record<string, { value: unknown }>)['neurodata_type']!.value;
        assert.equal(type, 'ElectricalSeries');
      }
      const meta = JSON.parse((f.get('general/data_collection') as InstanceType<typeof h5wasm.Dataset>).value as string) as { series: Record<string, { voltsAt?: string; note?: string }> };
      assert.deepEqual(['EEG', 'EMG'].map((n) => meta.series[`/acquisition/${n}`]?.voltsAt), ['electrode', 'electrode']);
    } finally {
      f.close();
    }
  });

  it('the recording\'s own aux.csv is in volts at the electrode too (EEG_V, EMG_V)', () => {
    const { header, columns } = csvColumns(join(dir, 'rec', 'aux.csv'));
    assert.deepEqual(header, ['time_s', 'EEG_V', 'EMG_V']);
    assertTones('aux.csv EEG_V', columns[0]!, columns[1]!);
  });
});

describe('host/export: a recording from before protocol 1.1 (no electrode_volts_per_code) still exports, stated and warned', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    tmp = tempDir('fiberrig-aux-old-');
    await writeSynthRecording(tmp.dir, { seconds: 2 });
  });
  after(() => tmp.cleanup());

  it('csv: the column says volts at the ADC input and the export warns that the amplifier gain is not removed', async () => {
    const r = await exportRecording(tmp.dir, 'csv', join(tmp.dir, 'wide.csv'));
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /did not report its amplifier gain.*volts at the ADC input/);
    const { header } = csvColumns(join(tmp.dir, 'wide.aux.csv'));
    assert.deepEqual(header, ['time_s', 'EEG_V_at_ADC_input']);
  });

  it('nwb: conversion is the ADC\'s volts per code and the description and the metadata JSON say so', async () => {
    const out = join(tmp.dir, 'old.nwb');
    const r = await exportRecording(tmp.dir, 'nwb', out);
    assert.equal(r.warnings.length, 1);
    await h5Ready();
    const f = new h5wasm.File(out, 'r');
    try {
      const ds = f.get('acquisition/EEG/data') as InstanceType<typeof h5wasm.Dataset>;
      const conversion = Number((ds.attrs as Record<string, { value: unknown }>)['conversion']!.value);
      assert.ok(Math.abs(conversion / (3.3 / 65536) - 1) < 1e-6, `conversion ${conversion}: the ADC's volts per code`);
      const description = String(((f.get('acquisition/EEG') as InstanceType<typeof h5wasm.Group>).attrs as Record<string, { value: unknown }>)['description']!.value);
      assert.match(description, /volts at the ADC input/);
      // still an ElectricalSeries (unit fixed to volts), honest about where: the metadata JSON says adc-input and why
      assert.equal(((f.get('acquisition/EEG') as InstanceType<typeof h5wasm.Group>).attrs as Record<string, { value: unknown }>)['neurodata_type']!.value, 'ElectricalSeries');
      const meta = JSON.parse((f.get('general/data_collection') as InstanceType<typeof h5wasm.Dataset>).value as string) as { series: Record<string, { voltsAt?: string; note?: string }> };
      assert.equal(meta.series['/acquisition/EEG']?.voltsAt, 'adc-input');
      assert.match(meta.series['/acquisition/EEG']?.note ?? '', /did not report its amplifier gain/);
    } finally {
      f.close();
    }
  });

  it('auxScale refuses an aux input with neither the field nor an ADC description (nothing to state)', () => {
    assert.throws(() => auxScale({ auxInputs: [{ id: 0, label: 'EEG', adcBits: 0, fullScaleV: 0, maxRateHz: 0, electrodeVoltsPerCode: 0 }] }, 0), /E_PIPELINE_AUX_SCALE|neither electrode volts/);
    assert.throws(() => auxScale({ auxInputs: [] }, 3), /aux input 3 is not on this device/);
  });
});
