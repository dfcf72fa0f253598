// Acceptance 2 (issue 4): the `sleep` and `zolpidem` scenarios end to end
// through the CLI (`fiberrig acquire` as a child process, 15 min of device
// time each at speed=max, both at once), analysed from signals.csv alone with
// the ground-truth hypnogram choosing the NREM episodes.
//
// Analysis of 470nm@det0 (GRAB-NE): 1 s bins; per NREM episode (NREM bouts
// joined across the micro-arousals that split them, >= 120 s, 5 s trimmed at
// each end) ΔF/F against a quadratic baseline (bleaching and slow drift; a
// quadratic over >= 2 min cannot follow a 50 s cycle); then a Hann-windowed
// periodogram summed over episodes on a 0.0001 Hz grid, 0.005-0.05 Hz:
//   frequency = its peak; amplitude = sqrt(power in 0.01-0.04 Hz).
// Seed 8: NREM from 136 s; in 15 min two episodes (136-495 s, 542-900 s) of ~0.02 Hz cycles.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BOARD, worldBoardOf } from '../../../firmware-sim/device/board.ts';
import { createWorld, type SimWorld } from '../../../firmware-sim/world/index.ts';
import { cliAcquire, readCsv } from './cli-io.ts';
import { solve } from './helpers.ts';

const SEED = 8;
const DURATION_S = 900;

/** NREM episodes [start, end) s: NREM bouts joined across micro-arousals, at least minS long. */
function nremEpisodes(world: SimWorld, t1S: number, minS = 120): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const b of world.truth.bouts(0, t1S)) {
    if (!(b.state === 'nrem' || (b.state === 'wake' && b.microArousal))) continue;
    const last = out[out.length - 1];
    if (last && b.startS - last[1] < 1e-6) last[1] = Math.min(b.endS, t1S);
    else out.push([b.startS, Math.min(b.endS, t1S)]);
  }
  return out.filter(([a, b]) => b - a >= minS);
}

/** Means of `y` over bins [k·dt, (k+1)·dt), NaN-ignoring. */
function binMeans(t: Float64Array, y: Float64Array, dtS: number, count: number): Float64Array {
  const sum = new Float64Array(count);
  const n = new Float64Array(count);
  for (let i = 0; i < t.length; i++) {
    const k = Math.floor(t[i]! / dtS);
    if (k >= 0 && k < count && Number.isFinite(y[i]!)) { sum[k]! += y[i]!; n[k]!++; }
  }
  return sum.map((s, k) => (n[k]! > 0 ? s / n[k]! : Number.NaN));
}

/** y / quadratic least-squares baseline − 1. */
function dffQuadratic(y: Float64Array): Float64Array {
  const n = y.length;
  const u = (i: number): number => (2 * i) / (n - 1) - 1;
  const ata = [new Float64Array(3), new Float64Array(3), new Float64Array(3)];
  const aty = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    const row = [1, u(i), u(i) ** 2];
    for (let p = 0; p < 3; p++) {
      aty[p]! += row[p]! * y[i]!;
      for (let q = 0; q < 3; q++) ata[p]![q]! += row[p]! * row[q]!;
    }
  }
  const c = solve(ata, aty);
  return y.map((v, i) => v / (c[0]! + c[1]! * u(i) + c[2]! * u(i) ** 2) - 1);
}

/** Hann-windowed periodogram (1 sample/s) summed over segments, at frequencies f0..f1 step df. */
function periodogram(segments: Float64Array[], f0: number, f1: number, df: number): { hz: number[]; power: number[] } {
  const hz: number[] = [];
  const power: number[] = [];
  for (let f = f0; f <= f1 + 1e-12; f += df) {
    let p = 0;
    for (const s of segments) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < s.length; i++) {
        const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (s.length - 1));
        re += w * s[i]! * Math.cos(2 * Math.PI * f * i);
        im += w * s[i]! * Math.sin(2 * Math.PI * f * i);
      }
      p += re * re + im * im;
    }
    hz.push(f);
    power.push(p);
  }
  return { hz, power };
}

function peakHz(p: { hz: number[]; power: number[] }): number {
  let k = 0;
  for (let i = 1; i < p.power.length; i++) if (p.power[i]! > p.power[k]!) k = i;
  return p.hz[k]!;
}

function bandAmplitude(segments: Float64Array[]): number {
  return Math.sqrt(periodogram(segments, 0.01, 0.04, 0.0005).power.reduce((a, b) => a + b, 0));
}

/** The NREM segments of a recording's 470nm@det0 as ΔF/F at 1 sample/s. */
async function nremSegments(dir: string, episodes: Array<[number, number]>): Promise<Float64Array[]> {
  const csv = await readCsv(dir, 'signals.csv');
  const t = csv.columns.time_s!;
  const ne = csv.columns['470nm@det0'];
  assert.ok(ne, `signals.csv has a 470nm@det0 column (header: ${csv.header.join(',')})`);
  assert.ok(csv.rowCount >= DURATION_S * 100 - 1, `signals.csv has ${csv.rowCount} rows`);
  const binned = binMeans(t, ne, 1, DURATION_S);
  return episodes.map(([a, b]) => {
    const seg = binned.slice(Math.ceil(a) + 5, Math.floor(b) - 5);
    assert.ok(seg.every(Number.isFinite), `NaN in NREM ${a}-${b} s`);
    return dffQuadratic(seg);
  });
}

describe(`acceptance: sleep and zolpidem end to end through \`fiberrig acquire\` (seed ${SEED}, 15 min at speed=max)`, function () {
  this.timeout(300_000); // two 15 min recordings at speed=max: ~35 s on a quiet machine, ~70 s under load
  let tmp: string;
  let world: SimWorld;
  let episodes: Array<[number, number]>;
  let sleep: Float64Array[];
  let zolpidem: Float64Array[];

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-acceptance-'));
    const [s, z] = await Promise.all([
      cliAcquire(`sim://sleep?seed=${SEED}&speed=max`, '15m', join(tmp, 'sleep')),
      cliAcquire(`sim://zolpidem?seed=${SEED}&speed=max`, '15m', join(tmp, 'zolpidem')),
    ]);
    for (const summary of [s, z]) {
      assert.equal(summary.durationS, DURATION_S);
      assert.equal(summary.gaps, 0);
    }
    world = createWorld('sleep', SEED, worldBoardOf(DEFAULT_BOARD));
    episodes = nremEpisodes(world, DURATION_S);
    sleep = await nremSegments(join(tmp, 'sleep'), episodes);
    zolpidem = await nremSegments(join(tmp, 'zolpidem'), episodes);
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('recovers the NE oscillation frequency in NREM within ±10 % of truth (0.02 Hz), and as the truth NE signal shows it within ±2 %', () => {
    const nremS = episodes.reduce((a, [s, e]) => a + e - s, 0);
    assert.ok(nremS >= 300, `only ${nremS} s of NREM episodes`);
    const truthHz = world.truth.neOscillation!.frequencyHz;
    const recovered = peakHz(periodogram(sleep, 0.005, 0.05, 0.0001));
    // the same estimator on the ground-truth NE signal of the same episodes (the realised cycles' frequency)
    const truthSegments = episodes.map(([a, b]) => {
      const i0 = Math.ceil(a) + 5;
      const x = Float64Array.from({ length: Math.floor(b) - 5 - i0 }, (_, k) => world.truth.signal('grabNe', i0 + k + 0.5) + 1);
      return dffQuadratic(x);
    });
    const realised = peakHz(periodogram(truthSegments, 0.005, 0.05, 0.0001));
    console.log(`      NREM episodes ${episodes.map(([a, b]) => `${a.toFixed(0)}-${b.toFixed(0)} s`).join(', ')}; NE frequency recovered ${recovered.toFixed(4)} Hz, truth ${truthHz} Hz (${((recovered / truthHz - 1) * 100).toFixed(1)} %), realised in truth signal ${realised.toFixed(4)} Hz`);
    assert.ok(Math.abs(recovered / truthHz - 1) <= 0.1, `recovered ${recovered} Hz vs truth ${truthHz} Hz`);
    assert.ok(Math.abs(recovered / realised - 1) <= 0.02, `recovered ${recovered} Hz vs the truth signal's ${realised} Hz`);
  });

  it('zolpidem / sleep NE oscillation amplitude (0.01-0.04 Hz, NREM) within 0.4-0.6', () => {
    const ratio = bandAmplitude(zolpidem) / bandAmplitude(sleep);
    console.log(`      NE amplitude: sleep ${bandAmplitude(sleep).toExponential(3)}, zolpidem ${bandAmplitude(zolpidem).toExponential(3)}, ratio ${ratio.toFixed(3)}`);
    assert.ok(ratio >= 0.4 && ratio <= 0.6, `ratio ${ratio}`);
  });
});
