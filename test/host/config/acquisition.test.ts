import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModulationMode } from '../../../protocol/index.ts';
import { ConfigError, DEFAULT_LOCKIN_CONFIG, loadAcquisitionConfig, parseAcquisitionConfig, toWireConfig } from '../../../host/config/acquisition.ts';
import { parseDuration } from '../../../host/cli/duration.ts';

describe('host/config: acquisition config files', () => {
  it('maps the default 3-wavelength lock-in to the wire config', () => {
    const wire = toWireConfig(DEFAULT_LOCKIN_CONFIG);
    assert.equal(wire.mode, ModulationMode.MODULATION_MODE_LOCK_IN);
    assert.deepEqual(wire.leds?.map((l) => l.carrierHz), [648, 1150, 1749]);
    assert.deepEqual(wire.detectorIds, [0, 1]);
    // 0.1 s detector blocks (framing ~1 % of a block), EEG/EMG in 0.25 s aux blocks as before
    assert.equal(wire.blockSamples, 1000);
    assert.deepEqual(wire.aux, { inputIds: [0, 1], rateHz: 1000, blockSamples: 250 });
  });

  it('aux.blockSamples: sent as AuxConfig.block_samples when given, absent (0: the detectors\' blockSamples) when not; range-checked', () => {
    const { aux: _aux, ...base } = DEFAULT_LOCKIN_CONFIG;
    assert.deepEqual(toWireConfig(parseAcquisitionConfig({ ...base, aux: { inputs: [0], rateHz: 500 } })).aux, { inputIds: [0], rateHz: 500 });
    assert.deepEqual(toWireConfig(parseAcquisitionConfig({ ...base, aux: { inputs: [0], rateHz: 500, blockSamples: 100 } })).aux, { inputIds: [0], rateHz: 500, blockSamples: 100 });
    assert.throws(() => parseAcquisitionConfig({ ...base, aux: { inputs: [0], rateHz: 500, blockSamples: 0 } }), /aux\.blockSamples: 0 must be a whole number in 1\.\.2176 samples/);
    assert.throws(() => parseAcquisitionConfig({ ...base, aux: { inputs: [0], rateHz: 500, blockSamples: 2.5 } }), /aux\.blockSamples/);
  });

  it('names every offending field', () => {
    assert.throws(() => parseAcquisitionConfig({
      mode: 'lock-in', sampleRateHz: -5, detectors: [], leds: [{ channel: 0, currentMa: 10 }, { channel: 1, carrierHz: 300 }],
    }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      for (const field of ['sampleRateHz', 'detectors', 'leds[0].carrierHz', 'leds[1]']) assert.ok(e.message.includes(`${field}:`), field);
      return true;
    });
    assert.throws(() => parseAcquisitionConfig({ mode: 'time-division', sampleRateHz: 1000, detectors: [0], leds: [] }), /timeDivision: required/);
    assert.throws(() => parseAcquisitionConfig({ ...DEFAULT_LOCKIN_CONFIG, ledz: [] }), /ledz/);
  });

  it('reports unreadable and malformed files with the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiberrig-config-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "mode": ');
    await assert.rejects(loadAcquisitionConfig(bad), /bad\.json is not valid JSON/);
    await assert.rejects(loadAcquisitionConfig(join(dir, 'missing.json')), /cannot read/);
  });

  it('parses durations with units and refuses nonsense', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('10m'), 600);
    assert.equal(parseDuration('1.5h'), 5400);
    assert.equal(parseDuration('500ms'), 0.5);
    assert.equal(parseDuration('42'), 42);
    assert.throws(() => parseDuration('ten minutes'), /E_DURATION|cannot read/);
    assert.throws(() => parseDuration('0s'), /not positive/);
  });
});
