import assert from 'node:assert/strict';
import { type AcquisitionConfigInit, ErrorCode, ModulationMode } from '../../../protocol/index.ts';
import { DEFAULT_BOARD, defineBoard } from '../../../firmware-sim/device/board.ts';
import { CalibrationMap, validateCalibrationTable } from '../../../firmware-sim/device/calibration.ts';
import { foldHz, validateConfig, validateSetLed } from '../../../firmware-sim/device/validate.ts';
import { CONTINUOUS, LOCK_IN, TDM } from './helpers.ts';

const E = ErrorCode;
type ModulationModeValue = NonNullable<AcquisitionConfigInit['mode']>;
const noCal = new CalibrationMap(null);
const cal = new CalibrationMap({
  leds: [{ channel: 1, points: [{ currentMa: 0, powerUw: 0 }, { currentMa: 10, powerUw: 50 }, { currentMa: 50, powerUw: 150 }] }],
});

type Patch = (c: AcquisitionConfigInit) => void;
const lockInWith = (carriers: number[], fs = 10_000): Patch => (c) => {
  c.sampleRateHz = fs;
  c.leds = carriers.map((carrierHz, i) => ({ channel: i, currentMa: 10, carrierHz }));
};

// [name, base config, change, expected code, expected field]
const REJECTIONS: Array<[string, AcquisitionConfigInit, Patch, number, string]> = [
  ['unspecified mode', LOCK_IN, (c) => { c.mode = ModulationMode.MODULATION_MODE_UNSPECIFIED; }, E.ERROR_CODE_INVALID_CONFIG, 'config.mode'],
  ['unknown mode', LOCK_IN, (c) => { c.mode = 42 as ModulationModeValue; }, E.ERROR_CODE_UNSUPPORTED, 'config.mode'],
  ['no detectors', LOCK_IN, (c) => { c.detectorIds = []; }, E.ERROR_CODE_INVALID_CONFIG, 'config.detector_ids'],
  ['unknown detector', LOCK_IN, (c) => { c.detectorIds = [0, 7]; }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.detector_ids[1]'],
  ['duplicate detector', LOCK_IN, (c) => { c.detectorIds = [1, 1]; }, E.ERROR_CODE_INVALID_CONFIG, 'config.detector_ids[1]'],
  ['sample rate 0', LOCK_IN, (c) => { c.sampleRateHz = 0; }, E.ERROR_CODE_INVALID_CONFIG, 'config.sample_rate_hz'],
  ['sample rate above capability', LOCK_IN, (c) => { c.sampleRateHz = 20_001; }, E.ERROR_CODE_UNSUPPORTED, 'config.sample_rate_hz'],
  ['oversampling 0', LOCK_IN, (c) => { c.oversampling = 0; }, E.ERROR_CODE_INVALID_CONFIG, 'config.oversampling'],
  ['oversampling above max', CONTINUOUS, (c) => { c.oversampling = 65; }, E.ERROR_CODE_UNSUPPORTED, 'config.oversampling'],
  ['conversion rate above ADC', LOCK_IN, (c) => { c.oversampling = 64; c.sampleRateHz = 20_000; }, E.ERROR_CODE_UNSUPPORTED, 'config.oversampling'],
  ['unknown LED', LOCK_IN, (c) => { c.leds![1] = { channel: 9, currentMa: 1, carrierHz: 531 }; }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.leds[1].channel'],
  ['duplicate LED', LOCK_IN, (c) => { c.leds![2] = { channel: 0, currentMa: 1, carrierHz: 1470 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.leds[2].channel'],
  ['LED without drive', LOCK_IN, (c) => { c.leds![0] = { channel: 0, carrierHz: 211 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.leds[0].current_ma'],
  ['negative current', LOCK_IN, (c) => { c.leds![0] = { channel: 0, currentMa: -1, carrierHz: 211 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.leds[0].current_ma'],
  ['NaN current', LOCK_IN, (c) => { c.leds![0] = { channel: 0, currentMa: Number.NaN, carrierHz: 211 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.leds[0].current_ma'],
  ['lock-in peak above continuous limit', LOCK_IN, (c) => { c.leds![1] = { channel: 1, currentMa: 50.5, carrierHz: 531 }; }, E.ERROR_CODE_LIMIT_EXCEEDED, 'config.leds[1].current_ma'],
  ['continuous above limit', CONTINUOUS, (c) => { c.leds = [{ channel: 1, currentMa: 51 }]; }, E.ERROR_CODE_LIMIT_EXCEEDED, 'config.leds[0].current_ma'],
  ['TDM pulse above pulsed limit', TDM, (c) => { c.leds![1] = { channel: 1, currentMa: 101 }; }, E.ERROR_CODE_LIMIT_EXCEEDED, 'config.leds[1].current_ma'],
  ['TDM average above continuous limit', TDM, (c) => { c.leds = [{ channel: 0, currentMa: 90 }]; c.timeDivision = { slotSamples: 20, onSamples: 18, settleSamples: 2, windowSamples: 8, darkSlot: false }; }, E.ERROR_CODE_LIMIT_EXCEEDED, 'config.leds[0].current_ma'],
  ['power without calibration', CONTINUOUS, (c) => { c.leds = [{ channel: 2, powerUw: 10 }]; }, E.ERROR_CODE_NOT_CALIBRATED, 'config.leds[0].power_uw'],
  ['power outside calibration', CONTINUOUS, (c) => { c.leds = [{ channel: 1, powerUw: 151 }]; }, E.ERROR_CODE_NOT_CALIBRATED, 'config.leds[0].power_uw'],
  ['lock-in without carrier', LOCK_IN, (c) => { c.leds![1] = { channel: 1, currentMa: 5 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['negative carrier', LOCK_IN, (c) => { c.leds![1] = { channel: 1, currentMa: 5, carrierHz: -531 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier near DC', LOCK_IN, lockInWith([211, 30]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier at Nyquist', LOCK_IN, lockInWith([211, 5000]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier above 0.45 fs', LOCK_IN, lockInWith([211, 4600]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carriers closer than 40 Hz', LOCK_IN, lockInWith([531, 211, 561]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[2].carrier_hz'],
  ['carrier on a 2nd harmonic', LOCK_IN, lockInWith([211, 430]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier on a 3rd harmonic', LOCK_IN, lockInWith([211, 640]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier on an aliased harmonic', LOCK_IN, lockInWith([3000, 1015], 10_000), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier on an intermodulation product', LOCK_IN, lockInWith([211, 531, 742]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[2].carrier_hz'],
  ['carrier whose harmonic hits an earlier one', LOCK_IN, lockInWith([430, 211]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier whose intermod hits an earlier one', LOCK_IN, lockInWith([211, 1600, 1389]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[2].carrier_hz'],
  ['carrier near 50 Hz mains', LOCK_IN, lockInWith([211, 55]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier near 100 Hz lamp flicker', LOCK_IN, lockInWith([211, 104]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier near 120 Hz lamp flicker', LOCK_IN, lockInWith([211, 117]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['carrier near a mains harmonic', LOCK_IN, lockInWith([211, 355]), E.ERROR_CODE_INVALID_CONFIG, 'config.leds[1].carrier_hz'],
  ['lock-in without LEDs', LOCK_IN, (c) => { c.leds = []; }, E.ERROR_CODE_INVALID_CONFIG, 'config.leds'],
  ['TDM without timing', TDM, (c) => { c.timeDivision = null; }, E.ERROR_CODE_INVALID_CONFIG, 'config.time_division'],
  ['TDM slot 0', TDM, (c) => { c.timeDivision = { ...c.timeDivision, slotSamples: 0 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.time_division.slot_samples'],
  ['TDM on 0', TDM, (c) => { c.timeDivision = { ...c.timeDivision, onSamples: 0 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.time_division.on_samples'],
  ['TDM on > slot', TDM, (c) => { c.timeDivision = { ...c.timeDivision, onSamples: 21 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.time_division.on_samples'],
  ['TDM window 0', TDM, (c) => { c.timeDivision = { ...c.timeDivision, windowSamples: 0 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.time_division.window_samples'],
  ['TDM settle + window > on', TDM, (c) => { c.timeDivision = { ...c.timeDivision, settleSamples: 9, windowSamples: 8 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.time_division.window_samples'],
  ['TDM more slots than fit in a second', TDM, (c) => { c.timeDivision = { ...c.timeDivision, slotSamples: 1500, onSamples: 16 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.time_division.slot_samples'],
  ['block 0', LOCK_IN, (c) => { c.blockSamples = 0; }, E.ERROR_CODE_INVALID_CONFIG, 'config.block_samples'],
  ['block above max_block_samples', LOCK_IN, (c) => { c.blockSamples = 1025; }, E.ERROR_CODE_UNSUPPORTED, 'config.block_samples'],
  ['aux rate 0', LOCK_IN, (c) => { c.aux = { inputIds: [0], rateHz: 0 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.aux.rate_hz'],
  ['aux rate not dividing', LOCK_IN, (c) => { c.aux = { inputIds: [0], rateHz: 1500 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.aux.rate_hz'],
  ['aux rate above capability', LOCK_IN, (c) => { c.aux = { inputIds: [0], rateHz: 2500 }; }, E.ERROR_CODE_UNSUPPORTED, 'config.aux.rate_hz'],
  ['unknown aux input', LOCK_IN, (c) => { c.aux = { inputIds: [0, 5], rateHz: 1000 }; }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.aux.input_ids[1]'],
  ['duplicate aux input', LOCK_IN, (c) => { c.aux = { inputIds: [1, 1], rateHz: 1000 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.aux.input_ids[1]'],
  ['aux rate without inputs', LOCK_IN, (c) => { c.aux = { inputIds: [], rateHz: 1000 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.aux.input_ids'],
  ['aux block_samples above max_block_samples', LOCK_IN, (c) => { c.aux = { inputIds: [0], rateHz: 1000, blockSamples: 1025 }; }, E.ERROR_CODE_UNSUPPORTED, 'config.aux.block_samples'],
  ['aux block_samples without inputs', LOCK_IN, (c) => { c.aux = { inputIds: [], rateHz: 0, blockSamples: 250 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.aux.input_ids'],
  ['unknown digital input', LOCK_IN, (c) => { c.digitalInputIds = [0, 4]; }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.digital_input_ids[1]'],
  ['digital input that is an output', LOCK_IN, (c) => { c.digitalInputIds = [2]; }, E.ERROR_CODE_INVALID_CONFIG, 'config.digital_input_ids[0]'],
  ['sync out on an input line', LOCK_IN, (c) => { c.syncOut = { enabled: true, line: 0, periodSamples: 100, pulseSamples: 10 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.sync_out.line'],
  ['sync out on no line', LOCK_IN, (c) => { c.syncOut = { enabled: true, line: 9, periodSamples: 100, pulseSamples: 10 }; }, E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.sync_out.line'],
  ['sync out period 0', LOCK_IN, (c) => { c.syncOut = { enabled: true, line: 2, periodSamples: 0, pulseSamples: 1 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.sync_out.period_samples'],
  ['sync out pulse >= period', LOCK_IN, (c) => { c.syncOut = { enabled: true, line: 2, periodSamples: 10, pulseSamples: 10 }; }, E.ERROR_CODE_INVALID_CONFIG, 'config.sync_out.pulse_samples'],
  ['heartbeat timeout too short', LOCK_IN, (c) => { c.heartbeatTimeoutMs = 10; }, E.ERROR_CODE_INVALID_CONFIG, 'config.heartbeat_timeout_ms'],
  ['heartbeat timeout too long', LOCK_IN, (c) => { c.heartbeatTimeoutMs = 600_000; }, E.ERROR_CODE_INVALID_CONFIG, 'config.heartbeat_timeout_ms'],
  ['status interval too short', LOCK_IN, (c) => { c.statusIntervalMs = 5; }, E.ERROR_CODE_INVALID_CONFIG, 'config.status_interval_ms'],
];

function clone(c: AcquisitionConfigInit): AcquisitionConfigInit {
  return structuredClone(c);
}

describe('firmware-sim validate', () => {
  it('accepts the standard configurations', () => {
    for (const c of [LOCK_IN, CONTINUOUS, TDM]) {
      const r = validateConfig(c, DEFAULT_BOARD, noCal);
      assert.ok(r.ok, JSON.stringify(!r.ok && r.issue));
    }
  });

  for (const [name, base, patch, code, field] of REJECTIONS) {
    it(`rejects ${name}: ${field}`, () => {
      const c = clone(base);
      patch(c);
      const r = validateConfig(c, DEFAULT_BOARD, cal);
      assert.equal(r.ok, false, `${name} was accepted`);
      if (r.ok) return;
      assert.equal(r.issue.field, field, r.issue.message);
      assert.equal(r.issue.code, code, `${r.issue.message} (code ${r.issue.code})`);
      assert.ok(r.issue.message.length > 0 && r.issue.message.length <= 96);
      assert.ok(r.issue.field.length <= 48);
    });
  }

  it('rejects a block that would exceed the frame limit on a board with a smaller frame', () => {
    const board = defineBoard({ maxMessageBytes: 600 });
    const r = validateConfig({ ...clone(LOCK_IN), blockSamples: 256 }, board, noCal);
    assert.ok(!r.ok && r.issue.field === 'config.block_samples' && r.issue.code === E.ERROR_CODE_UNSUPPORTED);
  });

  it('rejects a block whose sample bytes exceed the firmware bound (4 detectors x 1024 x 2 B)', () => {
    const board = defineBoard({
      detectors: [0, 1, 2].map((id) => ({ id, adcBits: 16, fullScaleV: 3.3, maxRateHz: 20_000, label: `PD${id}` })),
    });
    const r = validateConfig({ ...clone(LOCK_IN), detectorIds: [0, 1, 2], blockSamples: 1000 }, board, noCal);
    assert.ok(!r.ok && r.issue.field === 'config.block_samples', JSON.stringify(r));
  });

  it('normalizes: defaults for heartbeat and status, power converted through the calibration', () => {
    const r = validateConfig({ ...clone(CONTINUOUS), leds: [{ channel: 1, powerUw: 100 }], heartbeatTimeoutMs: 0 }, DEFAULT_BOARD, cal);
    assert.ok(r.ok);
    assert.equal(r.config.heartbeatTimeoutMs, 2000);
    assert.equal(r.config.statusIntervalMs, 500);
    assert.equal(r.config.leds[0]!.peakMa, 30); // 100 uW between (10 mA, 50 uW) and (50 mA, 150 uW)
    assert.equal(r.config.leds[0]!.powerUw, 100);
  });

  it('aux block size: AuxConfig.block_samples when given, else block_samples (as before 1.2), each bounded on its own field', () => {
    const own = validateConfig({ ...clone(LOCK_IN), blockSamples: 1000, aux: { inputIds: [0, 1], rateHz: 1000, blockSamples: 250 } }, DEFAULT_BOARD, noCal);
    assert.ok(own.ok, JSON.stringify(!own.ok && own.issue));
    assert.equal(own.config.blockSamples, 1000);
    assert.equal(own.config.aux?.blockSamples, 250);
    const inherited = validateConfig({ ...clone(LOCK_IN), blockSamples: 300, aux: { inputIds: [0, 1], rateHz: 1000 } }, DEFAULT_BOARD, noCal);
    assert.ok(inherited.ok);
    assert.equal(inherited.config.aux?.blockSamples, 300);
    // 4 aux inputs x 1000 samples x 2 B = 8000 B: the detectors' size, inherited, is refused on block_samples ...
    const board = defineBoard({ auxInputs: [0, 1, 2, 3].map((id) => ({ id, label: `A${id}`, adcBits: 16, fullScaleV: 3.3, maxRateHz: 2000, gainVPerV: 1000 })) });
    const big = validateConfig({ ...clone(LOCK_IN), blockSamples: 1000, aux: { inputIds: [0, 1, 2, 3], rateHz: 1000 } }, board, noCal);
    assert.ok(!big.ok && big.issue.field === 'config.block_samples' && big.issue.code === E.ERROR_CODE_UNSUPPORTED, JSON.stringify(big));
    // ... and a smaller aux block of its own makes the same detector blocks possible
    const small = validateConfig({ ...clone(LOCK_IN), blockSamples: 1000, aux: { inputIds: [0, 1, 2, 3], rateHz: 1000, blockSamples: 250 } }, board, noCal);
    assert.ok(small.ok, JSON.stringify(!small.ok && small.issue));
    const ownBig = validateConfig({ ...clone(LOCK_IN), blockSamples: 100, aux: { inputIds: [0, 1, 2, 3], rateHz: 1000, blockSamples: 600 } }, board, noCal);
    assert.ok(!ownBig.ok && ownBig.issue.field === 'config.aux.block_samples' && /aux block of 4800 sample bytes exceeds 4096/.test(ownBig.issue.message), JSON.stringify(ownBig));
  });

  it('accepts TDM pulses above the continuous limit when the average stays below it', () => {
    const r = validateConfig({ ...clone(TDM), leds: [{ channel: 0, currentMa: 100 }, { channel: 1, currentMa: 100 }] }, DEFAULT_BOARD, noCal);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issue)); // duty 16/60: average 26.7 mA
  });

  it('accepts the TDT-style carriers 211/531 Hz and folds aliases', () => {
    assert.ok(validateConfig({ ...clone(LOCK_IN), leds: [{ channel: 0, currentMa: 5, carrierHz: 211 }, { channel: 1, currentMa: 5, carrierHz: 531 }] }, DEFAULT_BOARD, noCal).ok);
    assert.equal(foldHz(6000, 10_000), 4000);
    assert.equal(foldHz(9000, 10_000), 1000);
    assert.equal(foldHz(300, 10_000), 300);
  });

  describe('SetLed', () => {
    const normalized = (c: AcquisitionConfigInit) => {
      const r = validateConfig(c, DEFAULT_BOARD, cal);
      assert.ok(r.ok);
      return r.config;
    };
    const cases: Array<[string, Parameters<typeof validateSetLed>[0], AcquisitionConfigInit | null, number, string]> = [
      ['unknown channel', { channel: 8, currentMa: 1 }, LOCK_IN, E.ERROR_CODE_UNKNOWN_CHANNEL, 'set_led.channel'],
      ['no configuration', { channel: 0, currentMa: 1 }, null, E.ERROR_CODE_NOT_CONFIGURED, 'set_led'],
      ['channel not configured', { channel: 3, currentMa: 1 }, LOCK_IN, E.ERROR_CODE_INVALID_CONFIG, 'set_led.channel'],
      ['above the limit', { channel: 0, currentMa: 60 }, LOCK_IN, E.ERROR_CODE_LIMIT_EXCEEDED, 'set_led.current_ma'],
      ['NaN', { channel: 0, currentMa: Number.NaN }, LOCK_IN, E.ERROR_CODE_INVALID_CONFIG, 'set_led.current_ma'],
      ['power without calibration', { channel: 0, powerUw: 5 }, LOCK_IN, E.ERROR_CODE_NOT_CALIBRATED, 'set_led.power_uw'],
      ['power out of range', { channel: 1, powerUw: 500 }, LOCK_IN, E.ERROR_CODE_NOT_CALIBRATED, 'set_led.power_uw'],
      ['no drive', { channel: 0 }, LOCK_IN, E.ERROR_CODE_INVALID_CONFIG, 'set_led.current_ma'],
    ];
    for (const [name, setLed, config, code, field] of cases) {
      it(`rejects ${name}`, () => {
        const r = validateSetLed(setLed, DEFAULT_BOARD, config ? normalized(config) : null, cal);
        assert.ok(!r.ok, `${name} accepted`);
        assert.equal(r.issue.code, code, r.issue.message);
        assert.equal(r.issue.field, field);
      });
    }
    it('accepts a TDM pulse above the continuous limit, and converts power', () => {
      const t = validateSetLed({ channel: 1, currentMa: 90 }, DEFAULT_BOARD, normalized(TDM), cal);
      assert.ok(t.ok && t.currentMa === 90 && t.ledIndex === 1);
      const p = validateSetLed({ channel: 1, powerUw: 50 }, DEFAULT_BOARD, normalized(LOCK_IN), cal);
      assert.ok(p.ok && p.currentMa === 10 && p.powerUw === 50);
    });
  });

  describe('calibration tables', () => {
    const table = (points: Array<[number, number]>, channel = 0, wavelengthNm = 405) => ({
      leds: [{ channel, wavelengthNm, points: points.map(([currentMa, powerUw]) => ({ currentMa, powerUw })) }],
    });
    const cases: Array<[string, Parameters<typeof validateCalibrationTable>[0], number, string]> = [
      ['unknown channel', table([[0, 0], [10, 5]], 7), E.ERROR_CODE_UNKNOWN_CHANNEL, 'table.leds[0].channel'],
      ['wrong wavelength', table([[0, 0], [10, 5]], 0, 470), E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].wavelength_nm'],
      ['one point', table([[0, 0]]), E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].points'],
      ['unsorted currents', table([[0, 0], [10, 5], [5, 6]]), E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].points[2].current_ma'],
      ['decreasing power', table([[0, 0], [10, 5], [20, 4]]), E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].points[2].power_uw'],
      ['current above the limit', table([[0, 0], [120, 5]]), E.ERROR_CODE_LIMIT_EXCEEDED, 'table.leds[0].points[1].current_ma'],
      ['negative power', table([[0, -1], [10, 5]]), E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].points[0].power_uw'],
      ['flat power', table([[0, 3], [10, 3]]), E.ERROR_CODE_INVALID_CONFIG, 'table.leds[0].points'],
      ['duplicate channel', { leds: [...table([[0, 0], [1, 1]]).leds, ...table([[0, 0], [1, 1]]).leds] }, E.ERROR_CODE_INVALID_CONFIG, 'table.leds[1].channel'],
    ];
    for (const [name, t, code, field] of cases) {
      it(`rejects ${name}`, () => {
        const r = validateCalibrationTable(t, DEFAULT_BOARD);
        assert.ok(r, `${name} accepted`);
        assert.equal(r.field, field, r.message);
        assert.equal(r.code, code);
      });
    }
    it('converts both ways piecewise-linearly, and gives no power outside the table', () => {
      assert.equal(validateCalibrationTable(table([[0, 0], [10, 50], [50, 150]], 0, 0), DEFAULT_BOARD), null);
      assert.equal(cal.currentForPower(1, 75), 20);
      assert.equal(cal.powerForCurrent(1, 20), 75);
      assert.equal(cal.powerForCurrent(1, 60), 0);
      assert.equal(cal.currentForPower(1, 200), undefined);
      assert.equal(cal.currentForPower(0, 10), undefined);
    });
  });
});
