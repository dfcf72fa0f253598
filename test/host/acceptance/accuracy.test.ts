// Acceptance 1 (issue 4): the demodulated signals against the simulator's
// ground truth, through the whole host path (sim:// binding -> framing ->
// link -> Rig -> SignalDemodulator), in-process at speed=max.
//
// Expected values come from the world's truth API, evaluated at the world time
// of each sample (recorded from the device's render requests):
//   lock-in  output j  = codesPerMa(led, det, t(j·D) − τ) · peak / 2, τ = the chain's
//                        group delay (42.5 ms): LED k is driven peak·(1 + sin)/2,
//                        so a detector gaining g codes/mA carries a g·peak/2 sinusoid;
//   TDM      output c  = mean over the LED's window of codesPerMa(led, det, t(n)) · I
//                        (the dark-slot subtraction removes offset and ambient; the
//                        10 ms window spans whole periods of 100/200 Hz flicker).
import assert from 'node:assert/strict';
import type { DeviceInfo } from '../../../protocol/index.ts';
import { designLockin } from '../../../host/dsp/lockin.ts';
import type { SimWorld } from '../../../firmware-sim/world/index.ts';
import {
  acquire, db, lockinConfig, mean, type Recording, renderLogOf, sampleTimeS, sineAmplitude, tdmConfig, useTestWorlds, worldOf,
} from './helpers.ts';
import { useSimPorts } from '../../support/sim-ports.ts';

const FS = 10_000;
const D = 100; // raw samples per lock-in output (10 kS/s -> 100 Hz)

/** Step times of the `steps` staircases (GRAB-NE every 10 s, red dye every 15 s). */
function nearStep(tS: number, before: number, after: number): boolean {
  for (const period of [10, 15]) {
    const k = Math.round(tS / period) * period;
    if (k > 0 && tS >= k - before && tS < k + after) return true;
  }
  return false;
}

function boardIndices(info: DeviceInfo, ledChannel: number, detectorId: number): { led: number; det: number } {
  return { led: info.leds.findIndex((l) => l.id === ledChannel), det: info.detectors.findIndex((d) => d.id === detectorId) };
}

/** Channel c of a demodulated recording: which LED (config order) on which detector (config order). */
function channelOf(rec: Recording, c: number): { k: number; d: number; led: number; det: number; peakMa: number } {
  const leds = rec.config.leds ?? [];
  const detectors = rec.config.detectorIds ?? [];
  const k = c % leds.length;
  const d = Math.floor(c / leds.length);
  const { led, det } = boardIndices(rec.rig.info, leds[k]!.channel ?? 0, detectors[d]!);
  return { k, d, led, det, peakMa: leds[k]!.currentMa ?? 0 };
}

describe('acceptance: accuracy against simulator ground truth (steps scenario)', () => {
  let restore: () => void;
  before(() => { restore = useTestWorlds(); });
  const ports = useSimPorts();
  after(() => restore());

  describe('lock-in (648/1150/1749 Hz, 2 detectors, 10 kS/s -> 100 Hz), 202 s of device time', () => {
    let rec: Recording;
    let world: SimWorld;
    const groupDelayS = designLockin({ sampleRateHz: FS, carriersHz: [648, 1150, 1749], detectorCount: 2 }).groupDelayS;

    before(async () => {
      rec = await acquire('sim://steps?seed=3&speed=max', lockinConfig(), { ports, samples: FS * 202 });
      world = worldOf(rec.handle);
    });

    it('uses the documented 42.5 ms group delay', () => {
      assert.ok(Math.abs(groupDelayS - 0.0425) < 0.0005, `group delay ${groupDelayS} s`);
    });

    it('amplitude error <= 0.5 % per output sample, every (LED, detector), outside 0.5 s after staircase steps', () => {
      const log = renderLogOf(rec.handle);
      assert.equal(rec.gaps.length, 0);
      assert.equal(rec.signals.values.length, 6);
      const report: string[] = [];
      for (let c = 0; c < rec.signals.values.length; c++) {
        const { led, det, peakMa } = channelOf(rec, c);
        const v = rec.signals.values[c]!;
        let worst = 0;
        let compared = 0;
        for (let j = 0; j < v.length; j++) {
          const t = sampleTimeS(log, j * D) - groupDelayS;
          if (nearStep(t, 0.1, 0.5) || !Number.isFinite(v[j]!)) continue;
          const expected = (world.truth.codesPerMa(led, det, t) * peakMa) / 2;
          worst = Math.max(worst, Math.abs(v[j]! / expected - 1));
          compared++;
        }
        report.push(`${rec.signals.names[c]} ${(worst * 100).toFixed(3)} %`);
        assert.ok(compared > 0.8 * v.length, `${rec.signals.names[c]}: only ${compared} of ${v.length} outputs compared`);
        assert.ok(worst <= 0.005, `${rec.signals.names[c]}: amplitude error ${(worst * 100).toFixed(3)} % > 0.5 %`);
      }
      console.log(`      max amplitude error (lock-in): ${report.join(', ')}`);
    });

    it('a 0.02 Hz sine (0.05 dF/F on GRAB-NE, 470 nm @ det0) passes with <= 0.1 dB amplitude error over 200 s (4 periods)', () => {
      const log = renderLogOf(rec.handle);
      const c = rec.signals.names.indexOf('470nm@det0');
      const { led, det, peakMa } = channelOf(rec, c);
      const v = rec.signals.values[c]!;
      const first = 100; // past the settling blank
      const n = 200 * 100; // 200 s: the staircase (40 s) and the sine (50 s) are orthogonal over it
      assert.ok(v.length >= first + n, `only ${v.length} outputs`);
      const t = new Float64Array(n);
      const measured = new Float64Array(n);
      const truth = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        t[i] = sampleTimeS(log, (first + i) * D);
        measured[i] = v[first + i]!;
        truth[i] = (world.truth.codesPerMa(led, det, t[i]!) * peakMa) / 2;
      }
      assert.ok(measured.every(Number.isFinite));
      const aMeasured = sineAmplitude(t, measured, 0.02, 0);
      const aTruth = sineAmplitude(t, truth, 0.02, 0);
      const errorDb = db(aMeasured / aTruth);
      console.log(`      0.02 Hz amplitude: measured ${aMeasured.toFixed(3)} codes, truth ${aTruth.toFixed(3)} codes, error ${errorDb.toFixed(4)} dB`);
      assert.ok(aTruth > 100, `the truth carries the sine (${aTruth} codes)`);
      assert.ok(Math.abs(errorDb) <= 0.1, `0.02 Hz amplitude error ${errorDb.toFixed(4)} dB`);
    });
  });

  it('time division (3 LEDs + dark slot, 125-sample slots, 100-sample windows), 60 s: amplitude error <= 0.5 % per cycle, every (LED, detector)', async () => {
    const config = tdmConfig();
    const rec = await acquire('sim://steps?seed=3&speed=max', config, { ports, samples: FS * 60 });
    const world = worldOf(rec.handle);
    const log = renderLogOf(rec.handle);
    const td = config.timeDivision!;
    const cycle = td.slotSamples! * ((config.leds ?? []).length + 1);
    const report: string[] = [];
    assert.equal(rec.signals.rateHz, FS / cycle);
    for (let c = 0; c < rec.signals.values.length; c++) {
      const { k, led, det, peakMa } = channelOf(rec, c);
      const v = rec.signals.values[c]!;
      let worst = 0;
      let compared = 0;
      for (let j = 0; j < v.length; j++) {
        const n0 = j * cycle + k * td.slotSamples! + td.settleSamples!;
        if (!Number.isFinite(v[j]!)) continue; // (no step exclusion: a window average of truth is exact)
        let expected = 0;
        for (let i = 0; i < td.windowSamples!; i++) expected += world.truth.codesPerMa(led, det, sampleTimeS(log, n0 + i)) * peakMa;
        expected /= td.windowSamples!;
        worst = Math.max(worst, Math.abs(v[j]! / expected - 1));
        compared++;
      }
      report.push(`${rec.signals.names[c]} ${(worst * 100).toFixed(3)} %`);
      assert.ok(compared > 0.9 * v.length, `${rec.signals.names[c]}: only ${compared} of ${v.length} cycles compared`);
      assert.ok(worst <= 0.005, `${rec.signals.names[c]}: amplitude error ${(worst * 100).toFixed(3)} % > 0.5 %`);
    }
    console.log(`      max amplitude error (TDM): ${report.join(', ')}`);
  });

  // Crosstalk and ambient: worlds without detector noise (quantization stays), so what is
  // measured is what the demodulator lets through, not the noise floor. (With noise on,
  // the noise floor alone reads -68 dB crosstalk / 64 dB ambient at worst: still within spec.)
  it('crosstalk between carriers <= -60 dB: one LED lit (the others dead), every other carrier channel vs the lit one, 5 s each', async () => {
    const report: string[] = [];
    for (const lit of [0, 1, 2]) {
      const rec = await acquire('sim://steps.noiseless?seed=4&speed=max', lockinConfig(), {
        ports,
        samples: FS * 5,
        beforeStart: (h) => worldOf(h).setFaults({ deadLeds: [0, 1, 2, 3].filter((k) => k !== lit) }),
      });
      const v = rec.signals.values;
      for (let d = 0; d < 2; d++) {
        const level = mean(v[d * 3 + lit]!);
        assert.ok(level > 100, `lit channel ${rec.signals.names[d * 3 + lit]} reads ${level}`);
        for (let k = 0; k < 3; k++) {
          if (k === lit) continue;
          const leak = rms(v[d * 3 + k]!);
          const xDb = db(leak / level);
          report.push(`${rec.signals.names[d * 3 + lit]}->${rec.signals.names[d * 3 + k]} ${xDb.toFixed(1)}`);
          assert.ok(xDb <= -60, `crosstalk ${rec.signals.names[d * 3 + lit]} -> ${rec.signals.names[d * 3 + k]}: ${xDb.toFixed(1)} dB`);
        }
      }
    }
    console.log(`      crosstalk dB: ${report.join(', ')}`);
  });

  for (const [variant, mainsHz] of [['noiseless', 50], ['noiseless-mains60', 60]] as const) {
    it(`ambient rejection >= 60 dB of DC and of ${2 * mainsHz} Hz flicker (${mainsHz} Hz mains), all LEDs dark, 5 s`, async () => {
      const rec = await acquire(`sim://steps.${variant}?seed=4&speed=max`, lockinConfig(), {
        ports,
        samples: FS * 5,
        beforeStart: (h) => worldOf(h).setFaults({ deadLeds: [0, 1, 2, 3] }),
      });
      const world = worldOf(rec.handle);
      const log = renderLogOf(rec.handle);
      const report: string[] = [];
      for (let d = 0; d < 2; d++) {
        // the ambient light on this detector, from truth, over 1 s of the run
        const n = FS;
        const t = new Float64Array(n);
        const a = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          t[i] = sampleTimeS(log, FS + i);
          a[i] = world.truth.ambientCodes(d, t[i]!);
        }
        const dc = mean(a);
        const flicker = sineAmplitude(t, a, 2 * mainsHz, 0);
        assert.ok(dc > 100 && flicker > 50, `ambient DC ${dc}, flicker ${flicker} codes`);
        for (let k = 0; k < 3; k++) {
          const out = rms(rec.signals.values[d * 3 + k]!);
          const dcDb = -db(out / dc);
          const flDb = -db(out / flicker);
          report.push(`${rec.signals.names[d * 3 + k]} DC ${dcDb.toFixed(1)} / ${2 * mainsHz}Hz ${flDb.toFixed(1)}`);
          // all the output is charged to each component in turn: a conservative bound
          assert.ok(dcDb >= 60, `${rec.signals.names[d * 3 + k]}: DC ambient rejection ${dcDb.toFixed(1)} dB`);
          assert.ok(flDb >= 60, `${rec.signals.names[d * 3 + k]}: ${2 * mainsHz} Hz flicker rejection ${flDb.toFixed(1)} dB`);
        }
      }
      console.log(`      ambient rejection dB: ${report.join(', ')}`);
    });
  }
});

/** RMS over the finite values (NaN marks the settling blank). */
function rms(x: Float64Array): number {
  let s = 0;
  let n = 0;
  for (const v of x) if (Number.isFinite(v)) { s += v * v; n++; }
  assert.ok(n > 0.8 * x.length, `only ${n} of ${x.length} values are finite`);
  return Math.sqrt(s / n);
}
