// The oscillation analysis on the sleep world's own NE and blood-volume signals (2 h, true hypnogram
// and true micro-arousals, 0.2 % white noise), checked against the world's ground truth. The seeds
// were not used while developing the method. Figures go to test-output/oscillation-world.json.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ZOLPIDEM_NE_AMPLITUDE_SCALE } from '../../../../firmware-sim/world/scenarios/zolpidem.ts';
import { analyzeOscillation, type OscillationResult } from '../../../../host/analysis/oscillation/index.ts';
import { EPOCH_S, scenarioParam, type WorldSignals, worldSignals } from './world.ts';

/** Other seeds: OSCILLATION_SEEDS=100,101 npx mocha test/host/analysis/oscillation/world.test.ts */
const SEEDS = (process.env.OSCILLATION_SEEDS ?? '13,29').split(',').map(Number);
const DURATION_S = 7200;
const outputDir = fileURLToPath(new URL('../../../../test-output/', import.meta.url));

interface Case {
  seed: number;
  sleep: { world: WorldSignals; result: OscillationResult };
  zolpidem: { world: WorldSignals; result: OscillationResult };
}

function run(scenario: 'sleep' | 'zolpidem', seed: number): { world: WorldSignals; result: OscillationResult } {
  const world = worldSignals(scenario, seed, DURATION_S);
  return { world, result: analyzeOscillation(world.input) };
}

/** Truth: median frequency (1 / period) of the world's NE cycles lying wholly inside the analysed bouts. */
function medianCycleFrequencyHz({ world, result }: Case['sleep']): number {
  const f: number[] = [];
  for (const b of result.bouts) {
    for (const c of world.world.truth.neCycles(b.startS, b.endS)) if (c.startS >= b.startS && c.startS + c.periodS <= b.endS) f.push(1 / c.periodS);
  }
  f.sort((a, b) => a - b);
  return f[Math.floor(f.length / 2)]!;
}

/**
 * Truth: mean peak-to-trough of the world's NE cycles inside the analysed bouts, percent. A cycle is
 * a raised cosine from trough to trough, so its peak-to-trough is amplitudeScale × neAmplitude; a
 * cycle whose peak carries a micro-arousal has maNeBoost × neAmplitude more at its peak.
 */
function meanCycleAmplitudePct({ world, result }: Case['sleep']): number {
  const truth = world.world.truth;
  const maPeaks = new Set(truth.events(0, DURATION_S, ['microArousal']).map((e) => (e.kind === 'microArousal' ? e.nePeakS : NaN)));
  const peakToPeak = truth.neOscillation!.peakToPeak;
  const boost = scenarioParam(world.world, 'maNeBoost');
  let sum = 0;
  let count = 0;
  for (const b of result.bouts) {
    for (const c of truth.neCycles(b.startS, b.endS)) {
      if (c.startS < b.startS || c.startS + c.periodS > b.endS) continue;
      sum += 100 * peakToPeak * (c.amplitudeScale + (maPeaks.has(c.peakS) ? boost : 0));
      count++;
    }
  }
  return sum / count;
}

describe('NE oscillation analysis on the sleep world (2 h, true hypnogram and micro-arousals)', () => {
  const cases: Case[] = [];
  before(() => {
    for (const seed of SEEDS) cases.push({ seed, sleep: run('sleep', seed), zolpidem: run('zolpidem', seed) });
  });

  after(() => {
    const figures = cases.flatMap((c) => (['sleep', 'zolpidem'] as const).map((scenario) => {
      const r = c[scenario];
      const s = r.result.summary;
      return {
        scenario, seed: c.seed, bouts: s.bouts, analysedS: s.analysedS,
        peakFrequencyHz: s.peakFrequencyHz, truthMedianCycleFrequencyHz: medianCycleFrequencyHz(r),
        neBloodVolumeLagS: s.neBloodVolumeLagS, truthBvLagS: scenarioParam(r.world.world, 'bvLagS'), neBloodVolumeR: s.neBloodVolumeR,
        cycleAmplitudePct: s.cycleAmplitudePct, truthCycleAmplitudePct: meanCycleAmplitudePct(r),
        amplitudeRatioToSleep: s.cycleAmplitudePct / c.sleep.result.summary.cycleAmplitudePct, bandPowerPct2: s.bandPowerPct2,
      };
    }));
    mkdirSync(outputDir, { recursive: true });
    writeFileSync(`${outputDir}oscillation-world.json`, `${JSON.stringify(figures, null, 2)}\n`);
  });

  it('analyses several NREM bouts, each >= 200 s, inside true NREM; wake inside only micro-arousals or wake episodes <= bridgeMaxS + one epoch, each counted', () => {
    for (const c of cases) {
      const { world, result } = c.sleep;
      const bridgeMaxS = result.settings.bridgeMaxS;
      assert.ok(result.summary.bouts >= 5, `seed ${c.seed}: ${result.summary.bouts} bouts`);
      for (const b of result.bouts) {
        assert.ok(b.durationS >= 200, `seed ${c.seed}: bout of ${b.durationS} s`);
        // no REM; wake only as micro-arousals or as a wake episode short enough to be scored <= bridgeMaxS
        // (the world's wake episodes last >= 20 s, so a few are bridged by the study's rule)
        let shortWake = 0;
        for (const tb of world.world.truth.bouts(b.startS + EPOCH_S, b.endS - EPOCH_S)) {
          if (tb.state === 'nrem' || tb.microArousal) continue;
          assert.ok(tb.state === 'wake' && tb.endS - tb.startS <= bridgeMaxS + EPOCH_S, `seed ${c.seed}: ${tb.state} at ${tb.startS} s inside the bout ${b.startS}–${b.endS} s`);
          shortWake++;
        }
        const trueMas = world.input.microArousals.filter((m) => m.startS >= b.startS && m.startS < b.endS).length;
        assert.equal(b.microArousals, trueMas + shortWake, `seed ${c.seed}: micro-arousals in the bout at ${b.startS} s`);
      }
    }
  });

  it('NE peak frequency within 5 % of the median frequency of the world NE cycles in the analysed bouts (sleep and zolpidem)', () => {
    for (const c of cases) {
      for (const r of [c.sleep, c.zolpidem]) {
        const truth = medianCycleFrequencyHz(r);
        const got = r.result.summary.peakFrequencyHz;
        assert.ok(Math.abs(got / truth - 1) <= 0.05, `seed ${c.seed}: peak ${got.toFixed(5)} Hz, truth ${truth.toFixed(5)} Hz`);
      }
    }
  });

  it("NE–blood-volume lag within 0.5 s of the world's bvLagS (blood volume follows), r < -0.8 (anti-phase), summary and per-bout median", () => {
    for (const c of cases) {
      for (const r of [c.sleep, c.zolpidem]) {
        const truth = scenarioParam(r.world.world, 'bvLagS');
        const s = r.result.summary;
        assert.ok(Math.abs(s.neBloodVolumeLagS - truth) <= 0.5, `seed ${c.seed}: lag ${s.neBloodVolumeLagS} s, truth ${truth} s`);
        assert.ok(s.neBloodVolumeR < -0.8, `seed ${c.seed}: r ${s.neBloodVolumeR}`);
        const lags = r.result.bouts.map((b) => b.crossCorrelation!.lagS).sort((a, b) => a - b);
        const median = lags[Math.floor(lags.length / 2)]!;
        assert.ok(Math.abs(median - truth) <= 0.5, `seed ${c.seed}: per-bout median lag ${median} s`);
        for (const b of r.result.bouts) assert.ok(b.crossCorrelation!.peakR < 0, `seed ${c.seed}: bout at ${b.startS} s r ${b.crossCorrelation!.peakR}`);
      }
    }
  });

  it("NE cycle amplitude within 10 % of the world's mean cycle peak-to-trough in the analysed bouts", () => {
    for (const c of cases) {
      for (const r of [c.sleep, c.zolpidem]) {
        const truth = meanCycleAmplitudePct(r);
        const got = r.result.summary.cycleAmplitudePct;
        assert.ok(Math.abs(got / truth - 1) <= 0.1, `seed ${c.seed}: amplitude ${got.toFixed(3)} %, truth ${truth.toFixed(3)} %`);
      }
    }
  });

  it("zolpidem's cycle amplitude is the world's neAmplitudeScale (0.5) × sleep's within 0.05, paired by seed", () => {
    for (const c of cases) {
      assert.equal(c.zolpidem.world.world.truth.neOscillation!.amplitudeScale, ZOLPIDEM_NE_AMPLITUDE_SCALE);
      const ratio = c.zolpidem.result.summary.cycleAmplitudePct / c.sleep.result.summary.cycleAmplitudePct;
      assert.ok(Math.abs(ratio - ZOLPIDEM_NE_AMPLITUDE_SCALE) <= 0.05, `seed ${c.seed}: ratio ${ratio.toFixed(3)}`);
      const bandRatio = c.zolpidem.result.summary.bandPowerPct2 / c.sleep.result.summary.bandPowerPct2;
      assert.ok(bandRatio < 0.35, `seed ${c.seed}: band-power ratio ${bandRatio.toFixed(3)} (amplitude 0.5 → power ~0.25)`);
    }
  });

  it("MA-locked NE average peaks after MA onset, within the world's lead of MA onset before its NE peak (1–5 s) + 1 s; δ power dips during the MA", () => {
    for (const c of cases) {
      const { world, result } = c.sleep;
      const locked = result.locked!;
      const ne = locked.traces.NE!;
      assert.ok(ne.events >= 5, `seed ${c.seed}: ${ne.events} isolated events`);
      let best = 0;
      for (let i = 0; i < ne.mean.length; i++) if (ne.mean[i]! > ne.mean[best]!) best = i;
      const lead = scenarioParam<readonly [number, number]>(world.world, 'maLeadS');
      const peakLagS = locked.lagS[best]!;
      assert.ok(peakLagS > 0 && peakLagS <= lead[1] + 1, `seed ${c.seed}: locked NE peaks at ${peakLagS} s`);
      const delta = locked.traces.delta!;
      const at = (lag: number): number => delta.mean[locked.lagS.findIndex((l) => Math.abs(l - lag) < 1e-6)]!;
      assert.ok(at(2) < 0.6 * at(-30), `seed ${c.seed}: δ ${at(2)} V² at +2 s vs ${at(-30)} V² at -30 s`);
      assert.ok(locked.traces.bloodVolume && locked.traces.sigma && locked.traces.beta && locked.traces.theta);
      for (const t of Object.values(locked.traces)) assert.equal(t.mean.length, locked.lagS.length);
    }
  });
});
