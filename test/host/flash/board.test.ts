import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ledDacCode, loadBoard, parseBoard } from '../../../host/flash/board.ts';

describe('board definitions (hardware/boards)', () => {
  it('loads the pyboard: pyPhotometry pins, 12 MHz -> 168 MHz, 1 MB flash', () => {
    const b = loadBoard('pyboard');
    assert.equal(b.mcu, 'STM32F405RG');
    assert.deepEqual(b.leds.map((l) => [l.pin, l.port, l.dac]), [['X5', 'PA4', 1], ['X6', 'PA5', 2]]);
    assert.deepEqual(b.detectors.map((d) => [d.pin, d.port, d.adcChannel]), [['X11', 'PC4', 14], ['X12', 'PC5', 15]]);
    assert.deepEqual(b.digital.filter((d) => d.direction === 'input').map((d) => d.pin), ['Y7', 'Y8']);
    assert.equal(b.clock.hseHz, 12_000_000);
    assert.equal(b.clock.sysclkHz, 168_000_000);
    assert.equal(b.memory.flashBytes, 1 << 20);
  });
  it('converts mA to DAC codes with the published scaling and enforces the limits early', () => {
    const b = loadBoard('pyboard');
    assert.equal(ledDacCode(b, 0, 0), 0);
    assert.equal(ledDacCode(b, 0, 10), Math.round(6.26 + 381.5));
    assert.throws(() => ledDacCode(b, 0, 150), /E_FLASH_USAGE|outside 0\.\.100 mA/);
    assert.throws(() => ledDacCode(b, 5, 1), /no LED 5/);
  });
  it('rejects definitions the hardware cannot honour', () => {
    const good = JSON.parse(readFileSync(join('hardware', 'boards', 'pyboard.json'), 'utf8')) as { clock: { pll: { n: number } }; leds: { maxCurrentContinuousMa: number }[] };
    const badPll = structuredClone(good);
    badPll.clock.pll.n = 300;
    assert.throws(() => parseBoard(badPll, 'x'), /clock\.pll does not give/);
    const badLed = structuredClone(good);
    badLed.leds[0]!.maxCurrentContinuousMa = 200;
    assert.throws(() => parseBoard(badLed, 'x'), /needs DAC code \d+ > 4095/);
    const noGain = structuredClone(good) as unknown as { aux: unknown[] };
    noGain.aux = [{ id: 0, label: 'EEG', adcBits: 16, fullScaleV: 3.3, maxRateHz: 1000, gainVPerV: 0 }];
    assert.throws(() => parseBoard(noGain, 'x'), /aux\[0\]\.gainVPerV must be > 0/);
  });
});

describe('board definitions: the pyboard JSON and the firmware agree', () => {
  it('model, LED wavelengths and limits, detector and digital labels match pyboard/board_pyboard.c', () => {
    const b = loadBoard('pyboard');
    const c = readFileSync(join('hardware', 'firmware', 'pyboard', 'board_pyboard.c'), 'utf8');
    assert.match(c, new RegExp(`#define FR_BOARD_MODEL "${b.model.replace(/\./g, '\\.')}"`));
    const leds = [...c.matchAll(/\{(\d+), (\d+), ([\d.]+)f, ([\d.]+)f, (\d+), fiberrig_v1_LedDriverKind/g)].map((m) => m.slice(1, 6).map(Number));
    assert.deepEqual(leds, b.leds.map((l) => [l.id, l.wavelengthNm, l.maxCurrentContinuousMa, l.maxCurrentPulsedMa, l.dacBits]));
    const detectors = [...c.matchAll(/\{(\d+), (\d+), ([\d.]+)f, \d+, "(\w+)"\}/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3]), m[4]]);
    assert.deepEqual(detectors, b.detectors.map((d) => [d.id, d.oversampledBits, d.fullScaleV, d.label]));
    const digital = [...c.matchAll(/\{(\d+), (true|false), "(\w+)"\}/g)].map((m) => [Number(m[1]), m[2] === 'true' ? 'output' : 'input', m[3]]);
    assert.deepEqual(digital, b.digital.map((d) => [d.id, d.direction, d.label]));
    // aux inputs, with the amplifier gain the device reports as electrode volts per code
    const aux = [...c.matchAll(/\{(\d+), "(\w+)", (\d+), ([\d.]+)f, (\d+), ([\d.e+]+)\}/g)].map((m) => [Number(m[1]), m[2], Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])]);
    assert.deepEqual(aux, (b.aux ?? []).map((a) => [a.id, a.label, a.adcBits, a.fullScaleV, a.maxRateHz, a.gainVPerV]));
    assert.match(c, new RegExp(`\\.n_aux = ${(b.aux ?? []).length},`));
    const hal = readFileSync(join('hardware', 'firmware', 'pyboard', 'hal_pyboard_acq.c'), 'utf8');
    const led = b.leds[0]!;
    assert.match(hal, new RegExp(`DAC_SCALE = \\{${led.dacOffsetCodes}, ${led.dacCodesPerMa}, ${2 ** led.dacBits - 1}u\\}`));
    const drive = readFileSync(join('hardware', 'firmware', 'pyboard', 'fr_drive.h'), 'utf8');
    assert.match(drive, new RegExp(`#define FR_DRIVE_MAX_SAMPLES ${b.timing.maxDrivePeriodSamples}u`));
    assert.match(c, new RegExp(`\\.sample_clock_hz = ${b.timing.sampleClockHz},`));
    assert.match(c, new RegExp(`\\.max_sync_period_samples = ${b.timing.maxSyncPeriodSamples},`));
    assert.match(c, new RegExp(`\\.max_conversion_rate_hz = ${b.timing.maxScanRateHz},`));
  });
});
