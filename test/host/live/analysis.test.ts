// The live view's streaming analysis (host/live/analysis.ts) against the offline one it reuses:
// the causal ΔF/F against correctSignal over the whole recording, and the running sleep state
// against the simulated world's true hypnogram.
import assert from 'node:assert/strict';
import { correctSignal } from '../../../host/analysis/index.ts';
import { cohenKappa } from '../../../host/analysis/sleep/index.ts';
import { simulateSleep, trueEpochStates } from '../analysis/sleep/sim.ts';
import { LiveCorrection, type LiveChannel, LiveSleep, planLiveCorrection, planLiveSleep } from '../../../host/live/analysis.ts';

const RATE_HZ = 100;
const SECONDS = 1800;
const H = { sensor: 0.23, control: 1.5, bloodVolume: 0.4 };
const CHANNELS: LiveChannel[] = [
  { name: '405nm@det0', inputId: 0, wavelengthNm: 405 },
  { name: '560nm@det0', inputId: 0, wavelengthNm: 560 },
  { name: '470nm@det0', inputId: 0, wavelengthNm: 470 },
  { name: '470nm@det1', inputId: 1, wavelengthNm: 470 },
  { name: '560nm@det1', inputId: 1, wavelengthNm: 560 },
];

/** NE-like 0.02 Hz oscillation, blood volume 3 s behind in anti-phase, bleaching; the model of host/analysis/README.md. */
function synth(): { tS: Float64Array; values: Float64Array[]; s: Float64Array } {
  const n = SECONDS * RATE_HZ;
  const tS = Float64Array.from({ length: n }, (_, i) => i / RATE_HZ);
  const osc = (t: number): number => 0.04 * Math.sin(2 * Math.PI * 0.02 * t) + 0.01 * Math.sin(2 * Math.PI * 0.053 * t);
  const s = Float64Array.from(tS, osc);
  const v = Float64Array.from(tS, (t) => -0.4 * osc(t - 3));
  const bleach = (a: number, t: number): number => a * (1 + 0.2 * Math.exp(-t / 200) + 0.1 * Math.exp(-t / 3000));
  const control = Float64Array.from(tS, (t, i) => bleach(600, t) * Math.exp(-H.control * v[i]!));
  const sensor = Float64Array.from(tS, (t, i) => bleach(1000, t) * Math.exp(-H.sensor * v[i]!) * (1 + s[i]!));
  const red = Float64Array.from(tS, (t, i) => bleach(800, t) * Math.exp(-H.bloodVolume * v[i]!) * (1 + v[i]!));
  return { tS, values: [control, red.map((x) => x * 0.02), sensor, red.map((x) => x * 0.01), red], s };
}

describe('live view: streaming analysis', () => {
  const d = synth();
  const table = [[405, H.control], [470, H.sensor], [560, H.bloodVolume]] as const;

  it('plans like the offline correction: the brightest 560 nm channel is blood volume, the sensor 470 nm on another detector with its control; haemodynamic by default (haemoglobin-spectra table, or the one given), isosbestic when asked', () => {
    const bright = (name: string): number => (name === '560nm@det1' ? 800 : 16);
    assert.deepEqual(planLiveCorrection(CHANNELS, RATE_HZ, { absorption: table }, bright), { sensor: '470nm@det0', control: '405nm@det0', bloodVolume: '560nm@det1', method: 'haemodynamic', rateHz: 10 });
    assert.equal(planLiveCorrection(CHANNELS, RATE_HZ, { absorption: table }, (n) => (n === '560nm@det0' ? 800 : 16))!.sensor, '470nm@det1');
    assert.equal(planLiveCorrection(CHANNELS, RATE_HZ, {}, bright)!.method, 'haemodynamic');
    assert.equal(planLiveCorrection(CHANNELS, RATE_HZ, { method: 'isosbestic' }, bright)!.method, 'isosbestic');
    assert.equal(planLiveCorrection(CHANNELS.filter((c) => c.name === '470nm@det0'), RATE_HZ)!.method, 'none');
    assert.equal(planLiveCorrection([CHANNELS[0]!], RATE_HZ), null);
  });

  for (const absorption of [table, undefined]) {
    const label = absorption ? 'haemodynamic' : 'isosbestic';
    it(`causal ${label} ΔF/F over a 600 s window refitted every 30 s matches the offline correction of the whole 30 min after 10 min (each less its mean): worst ≤ 1 percentage point (the oscillation is ±5 %), RMS ≤ 10 % of the offline ΔF/F's SD`, () => {
      const live = new LiveCorrection(CHANNELS, RATE_HZ, { correctionEveryS: 30, ...(absorption ? { absorption } : { method: 'isosbestic' }) });
      const got = new Float64Array(SECONDS * live.rateHz).fill(Number.NaN);
      const block = 25;
      for (let i = 0; i < d.tS.length; i += block) {
        live.push(i, d.values.map((x) => x.subarray(i, i + block)), Math.min(block, d.tS.length - i));
        const c = live.take();
        if (c) got.set(c.dffPercent, c.firstIndex);
      }
      const plan = live.plan!;
      assert.deepEqual([plan.sensor, plan.control, plan.bloodVolume, plan.method], ['470nm@det0', '405nm@det0', absorption ? '560nm@det1' : null, label], 'chosen from the data: the red detector\'s 560 nm is the brightest');
      // offline: the same channels at the same 10 Hz over the whole recording
      const k = RATE_HZ / plan.rateHz;
      const down = (x: Float64Array): Float64Array => Float64Array.from({ length: x.length / k }, (_, j) => { let a = 0; for (let q = 0; q < k; q++) a += x[j * k + q]!; return a / k; });
      const offline = correctSignal(
        { tS: Float64Array.from({ length: got.length }, (_, j) => j / plan.rateHz), sensor: down(d.values[2]!), control: down(d.values[0]!), ...(absorption ? { bloodVolume: down(d.values[4]!) } : {}) },
        absorption ? { method: 'haemodynamic', coefficients: { sensor: H.sensor, control: H.control, bloodVolume: H.bloodVolume }, fitScale: true } : { method: 'isosbestic' },
      ).dffPercent;
      const from = 600 * plan.rateHz;
      const to = got.findLastIndex(Number.isFinite) + 1;
      assert.ok(to > got.length - 30 * plan.rateHz, `live ΔF/F reaches the end (${to} of ${got.length})`);
      const mean = (x: Float64Array): number => { let a = 0; for (let j = from; j < to; j++) a += x[j]!; return a / (to - from); };
      const mg = mean(got);
      const mo = mean(offline);
      let worst = 0;
      let ss = 0;
      let so = 0;
      for (let j = from; j < to; j++) {
        const e = got[j]! - mg - (offline[j]! - mo);
        worst = Math.max(worst, Math.abs(e));
        ss += e * e;
        so += (offline[j]! - mo) ** 2;
      }
      const rmsPct = (100 * Math.sqrt(ss / (to - from))) / Math.sqrt(so / (to - from));
      console.log(`      ${label}: |live − offline| after 10 min: worst ${worst.toFixed(3)} percentage points, RMS ${rmsPct.toFixed(2)} % of the offline ΔF/F's SD`);
      assert.ok(worst <= 1 && rmsPct <= 10, `worst ${worst}, RMS ${rmsPct} %`);
    });
  }

  it('running sleep state: \'unknown\' until 45 epochs (3 min) have arrived, then per epoch from the mixture refitted every 15 epochs; κ ≥ 0.85 against the true hypnogram over 40 min of sim sleep (seed 5), causal', () => {
    const durationS = 2400;
    const sim = simulateSleep('sleep', 5, durationS);
    const aux: LiveChannel[] = [{ name: 'aux0', inputId: 0, label: 'EEG' }, { name: 'aux1', inputId: 1, label: 'EMG' }];
    const plan = planLiveSleep(aux)!;
    assert.deepEqual(plan, { eeg: 0, emg: 1 });
    const live = new LiveSleep(plan, sim.rateHz);
    const states: string[] = [];
    const block = 500;
    for (let i = 0; i < sim.eegV.length; i += block) {
      const count = Math.min(block, sim.eegV.length - i);
      live.push(i, [sim.eegV.subarray(i, i + count), sim.emgV.subarray(i, i + count)], count);
      const c = live.take();
      if (c) {
        assert.equal(c.firstEpoch, states.length, 'epochs arrive in order, each once');
        const end = c.firstEpoch + c.states.length;
        // scored only once 45 epochs have arrived (then every epoch of the chunk)
        assert.ok(c.states.every((s) => (s === 'unknown') === (end < 45)), `epochs ${c.firstEpoch}–${end}: ${c.states.join(' ')} ${live.error ?? ''}`);
        states.push(...c.states);
      }
    }
    const truth = trueEpochStates(sim.world, durationS, 4);
    assert.ok(states.length >= truth.length - 15, `${states.length} of ${truth.length} epochs`);
    const from = states.indexOf(states.find((s) => s !== 'unknown')!);
    assert.ok(from > 0 && from < 45, `first scored epoch ${from}`);
    const known = states.slice(from) as (typeof truth)[number][];
    const kappa = cohenKappa(known, truth.slice(from, states.length));
    console.log(`      live sleep state: κ ${kappa.toFixed(3)} over epochs ${from}–${states.length}`);
    assert.ok(kappa >= 0.85, `κ ${kappa}`);
  });
});
