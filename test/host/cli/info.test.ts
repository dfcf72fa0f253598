// Issue 17, point 7: `fiberrig info --device URL`, the command six error hints
// send users to. Checked against the simulator's board definition (what the
// device really has) and a calibration table written to the device first.
import assert from 'node:assert/strict';
import { DEFAULT_BOARD } from '../../../firmware-sim/device/board.ts';
import { formatVersion, PROTOCOL_VERSION } from '../../../protocol/index.ts';
import type { DeviceInfoReport } from '../../../host/cli/commands/info.ts';
import { DeviceError } from '../../../host/link/errors.ts';
import { ErrorCode } from '../../../protocol/index.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { cli } from './helpers.ts';

describe('cli: fiberrig info --device URL', function () {
  this.timeout(60_000);

  it('--json reports the board the simulator defines: LEDs and their limits, detectors, aux inputs, digital lines, modes, protocol; no calibration', async () => {
    const r = await cli(['info', '--device', 'sim://linear?seed=5', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as DeviceInfoReport;
    const b = DEFAULT_BOARD;
    assert.deepEqual(info.board, { model: b.model, serialNumber: b.serialNumber });
    assert.equal(info.firmware.name, b.firmwareName);
    assert.equal(info.protocol.host, formatVersion(PROTOCOL_VERSION));
    assert.deepEqual(info.leds.map((l) => [l.channel, l.wavelengthNm, l.maxCurrentContinuousMa, l.maxCurrentPulsedMa, l.dacBits]),
      b.leds.map((l) => [l.id, l.wavelengthNm, l.maxCurrentContinuousMa, l.maxCurrentPulsedMa, l.dacBits]));
    assert.ok(info.leds.every((l) => l.driver === 'simulated'));
    assert.deepEqual(info.detectors.map((d) => [d.id, d.label, d.adcBits, d.maxRateHz]), b.detectors.map((d) => [d.id, d.label, d.adcBits, d.maxRateHz]));
    assert.deepEqual(info.auxInputs.map((a) => [a.id, a.label, a.maxRateHz]), b.auxInputs.map((a) => [a.id, a.label, a.maxRateHz]));
    assert.deepEqual(info.digitalLines.map((d) => [d.id, d.label, d.direction]), b.digitalLines.map((d) => [d.id, d.label, d.direction]));
    assert.deepEqual(info.modes, ['continuous', 'time-division', 'lock-in']);
    assert.equal(info.maxSampleRateHz, b.maxSampleRateHz);
    assert.deepEqual(info.calibration, { stored: false, leds: [] });
  });

  it('the text form names every id a config can use, and a stored calibration table is summarised (points, mA and µW range, date, label)', async () => {
    const url = 'sim://linear?seed=6&persist=1';
    const calibratedUnixS = 1_700_000_000;
    const rig = await Rig.connect(url);
    try {
      await rig.writeCalibration({
        leds: [{ channel: 1, wavelengthNm: 470, calibratedUnixS, label: 'led=M470F3', points: [{ currentMa: 0, powerUw: 0 }, { currentMa: 10, powerUw: 95 }, { currentMa: 40, powerUw: 330 }] }],
      });
    } finally {
      await rig.close();
    }
    const json = await cli(['info', '--device', url, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const info = JSON.parse(json.stdout) as DeviceInfoReport;
    assert.equal(info.calibration.stored, true);
    assert.deepEqual(info.calibration.leds, [{
      channel: 1, wavelengthNm: 470, points: 3, minMa: 0, maxMa: 40, minUw: 0, maxUw: 330, calibrated: new Date(calibratedUnixS * 1000).toISOString(), label: 'led=M470F3',
    }]);
    assert.equal(info.leds.find((l) => l.channel === 1)?.calibrated, true);

    const text = await cli(['info', '--device', url]);
    assert.equal(text.code, 0, text.stderr);
    for (const l of DEFAULT_BOARD.leds) assert.match(text.stdout, new RegExp(`^LED ${l.id} +${l.wavelengthNm} nm, up to ${l.maxCurrentContinuousMa} mA continuous`, 'm'));
    for (const d of DEFAULT_BOARD.detectors) assert.match(text.stdout, new RegExp(`^detector ${d.id} +${d.label}`, 'm'));
    for (const a of DEFAULT_BOARD.auxInputs) assert.match(text.stdout, new RegExp(`^aux ${a.id} +${a.label}`, 'm'));
    assert.match(text.stdout, /^ {2}LED 1 \(470 nm\): 3 points, 0\.\.40 mA -> 0\.\.330 µW/m);
  });

  it('the device-error hints that send users to `fiberrig info` name a command that exists, with its flag', async () => {
    for (const code of [ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, ErrorCode.ERROR_CODE_UNSUPPORTED, ErrorCode.ERROR_CODE_UNKNOWN_CHANNEL]) {
      assert.match(new DeviceError(code, 'refused', 'leds[0].channel').hint, /`fiberrig info --device URL`/, ErrorCode[code]);
    }
    const help = await cli(['info', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: fiberrig info \[options\][\s\S]*--device <url>/);
  });
});
