// Ground truth of the sleep scenarios: hypnogram, NE oscillation, blood volume,
// CSF, micro-arousals, zolpidem, EEG/EMG envelopes; chunk-independence.
import assert from 'node:assert/strict';
import { createWorld, type SimWorld, type SleepBout } from '../../../firmware-sim/world/index.ts';
import { BOARD, corr, mean, std } from './helpers.ts';

const HOURS_6 = 6 * 3600;
const SEEDS = [1, 2, 42];

/** NREM episodes with micro-arousals merged back in. */
function nremEpisodes(bouts: SleepBout[]): Array<[number, number]> {
  const eps: Array<[number, number]> = [];
  for (const b of bouts) {
    if (b.state !== 'nrem' && !b.microArousal) continue;
    const last = eps[eps.length - 1];
    if (last && last[1] === b.startS) last[1] = b.endS;
    else eps.push([b.startS, b.endS]);
  }
  return eps;
}

/** Samples of fn every dtS over settled NREM (episode start + 40 s to end) of episodes >= 100 s. */
function settledNrem(w: SimWorld, tEnd: number, dtS: number, fn: (t: number) => number): number[][] {
  const out: number[][] = [];
  for (const [s, e] of nremEpisodes(w.truth.bouts(0, tEnd))) {
    if (e - s < 100 || e > tEnd) continue;
    const xs: number[] = [];
    for (let t = s + 40; t < e; t += dtS) xs.push(fn(t));
    out.push(xs);
  }
  return out;
}

describe('firmware-sim/world physiology (sleep, zolpidem)', () => {
  for (const seed of SEEDS) {
    describe(`seed ${seed}`, () => {
      const w = createWorld('sleep', seed, BOARD);
      const bouts = w.truth.bouts(0, HOURS_6);

      it('hypnogram: contiguous bouts from t = 0, starting awake, with valid state sequence', () => {
        assert.equal(bouts[0]!.startS, 0);
        assert.equal(bouts[0]!.state, 'wake');
        for (let i = 1; i < bouts.length; i++) {
          const a = bouts[i - 1]!;
          const b = bouts[i]!;
          assert.equal(b.startS, a.endS);
          if (b.state === 'rem') assert.equal(a.state, 'nrem', 'REM follows NREM');
          if (b.microArousal) assert.equal(a.state, 'nrem', 'a micro-arousal interrupts NREM');
          if (a.microArousal) assert.equal(b.state, 'nrem', 'NREM resumes after a micro-arousal');
          assert.notEqual(a.state === b.state && !a.microArousal && !b.microArousal, true, 'no repeated state');
        }
      });

      it('bout durations: micro-arousals 3-14 s (< 15 s), other wake >= 20 s, REM 60-120 s, NREM episodes 60-900 s', () => {
        for (const b of bouts.slice(0, -1)) {
          const d = b.endS - b.startS;
          if (b.microArousal) assert.ok(d >= 3 && d < 15, `MA ${d}`);
          else if (b.state === 'wake') assert.ok(d >= 20, `wake ${d}`);
          else if (b.state === 'rem') assert.ok(d >= 60 && d <= 120, `REM ${d}`);
        }
        for (const [s, e] of nremEpisodes(bouts).slice(0, -1)) assert.ok(e - s >= 60 && e - s <= 900, `NREM ${e - s}`);
      });

      it('state fractions over 6 h: NREM 0.45-0.8, REM 0.03-0.15, wake 0.15-0.45', () => {
        const total: Record<string, number> = { wake: 0, nrem: 0, rem: 0 };
        for (const b of bouts) total[b.state]! += Math.min(b.endS, HOURS_6) - b.startS;
        assert.ok(total.nrem! / HOURS_6 > 0.45 && total.nrem! / HOURS_6 < 0.8, `NREM ${total.nrem! / HOURS_6}`);
        assert.ok(total.rem! / HOURS_6 > 0.03 && total.rem! / HOURS_6 < 0.15, `REM ${total.rem! / HOURS_6}`);
        assert.ok(total.wake! / HOURS_6 > 0.15 && total.wake! / HOURS_6 < 0.45, `wake ${total.wake! / HOURS_6}`);
      });

      it('sleepStateAt agrees with bouts', () => {
        for (const b of bouts.slice(0, 200)) assert.equal(w.truth.sleepStateAt((b.startS + b.endS) / 2), b.state);
      });

      it('NE oscillation frequency in NREM measured from the truth signal (mean crossings) is 0.02 ± 0.003 Hz', () => {
        let crossings = 0;
        let duration = 0;
        for (const xs of settledNrem(w, HOURS_6, 0.5, (t) => w.truth.signal('grabNe', t))) {
          const m = mean(xs);
          for (let i = 1; i < xs.length; i++) if (xs[i - 1]! < m && xs[i]! >= m) crossings++;
          duration += xs.length * 0.5;
        }
        const f = crossings / duration;
        assert.ok(Math.abs(f - 0.02) < 0.003, `measured ${f} Hz`);
        assert.equal(w.truth.neOscillation?.frequencyHz, 0.02);
      });

      it('NE oscillation peak-to-peak in NREM is the stated 0.08 dF/F within ±30 % (median over cycles)', () => {
        const p2p: number[] = [];
        for (const [s, e] of nremEpisodes(bouts)) {
          for (const c of w.truth.neCycles(s + 40, e)) {
            if (c.startS < s + 40 || c.startS + c.periodS > e) continue;
            let lo = Number.POSITIVE_INFINITY;
            let hi = Number.NEGATIVE_INFINITY;
            for (let t = c.startS; t < c.startS + c.periodS; t += 0.5) {
              const v = w.truth.signal('grabNe', t);
              lo = Math.min(lo, v);
              hi = Math.max(hi, v);
            }
            p2p.push(hi - lo);
          }
        }
        p2p.sort((a, b) => a - b);
        const median = p2p[p2p.length >> 1]!;
        assert.ok(Math.abs(median / 0.08 - 1) < 0.3, `median p2p ${median}`);
      });

      it('blood volume is anti-correlated with NE in NREM (r < -0.5) and lags it by 3 ± 1 s', () => {
        const ne = settledNrem(w, HOURS_6, 0.5, (t) => w.truth.physiology(t).ne).flat();
        const bv = settledNrem(w, HOURS_6, 0.5, (t) => w.truth.physiology(t).bloodVolume).flat();
        const r = corr(ne, bv);
        assert.ok(r < -0.5, `r = ${r}`);
        // lag: the shift that makes -bv(t + lag) best match ne(t)
        let best = 0;
        let bestR = Number.NEGATIVE_INFINITY;
        for (let lag = 0; lag <= 8; lag += 0.5) {
          const a = settledNrem(w, 3 * 3600, 1, (t) => w.truth.physiology(t).ne).flat();
          const b = settledNrem(w, 3 * 3600, 1, (t) => -w.truth.physiology(t + lag).bloodVolume).flat();
          const rr = corr(a, b);
          if (rr > bestR) {
            bestR = rr;
            best = lag;
          }
        }
        assert.ok(Math.abs(best - 3) <= 1, `lag ${best} s`);
      });

      it('CSF is in anti-phase to blood volume in NREM (r < -0.5)', () => {
        const bv = settledNrem(w, HOURS_6, 0.5, (t) => w.truth.physiology(t).bloodVolume).flat();
        const csf = settledNrem(w, HOURS_6, 0.5, (t) => w.truth.physiology(t).csf).flat();
        const r = corr(bv, csf);
        assert.ok(r < -0.5, `r = ${r}`);
      });

      it('the red dye signal is the blood volume', () => {
        for (let t = 0; t < 3000; t += 37) assert.equal(w.truth.signal('redDye', t), w.truth.physiology(t).bloodVolume);
      });

      it('micro-arousals: < 15 s, inside NREM, on NE peaks (local NE max within ±25 s is within 3 s of the MA peak), one per 50-300 s of NREM', () => {
        const mas = w.truth.events(0, HOURS_6, ['microArousal']);
        assert.ok(mas.length > 10);
        let nremS = 0;
        for (const b of bouts) if (b.state === 'nrem' && b.endS <= HOURS_6) nremS += b.endS - b.startS;
        const per = nremS / mas.length;
        assert.ok(per > 50 && per < 300, `one MA per ${per} s of NREM`);
        for (const m of mas) {
          if (m.kind !== 'microArousal') continue;
          assert.ok(m.durationS < 15 && m.durationS >= 3);
          assert.equal(w.truth.sleepStateAt(m.tS - 1), 'nrem');
          assert.equal(w.truth.sleepStateAt(m.endS + 0.01), 'nrem');
          assert.equal(w.truth.sleepStateAt(m.tS + 0.5), 'wake');
          const mid = m.nePeakS;
          let arg = mid;
          let best = Number.NEGATIVE_INFINITY;
          for (let t = mid - 25; t <= mid + 25; t += 0.25) {
            const v = w.truth.signal('grabNe', t);
            if (v > best) {
              best = v;
              arg = t;
            }
          }
          assert.ok(Math.abs(arg - m.nePeakS) <= 3, `NE max at ${arg}, MA peak ${m.nePeakS}`);
          assert.ok(arg >= m.tS - 1 && arg <= m.endS + 5, `NE max ${arg} vs MA ${m.tS}-${m.endS}`);
        }
      });

      it('EEG/EMG envelopes: delta NREM > 2x wake, theta REM > 2x NREM and wake, EMG wake > NREM > REM', () => {
        const by: Record<string, { d: number[]; th: number[]; emg: number[] }> = {};
        for (const b of bouts) {
          if (b.endS - b.startS < 30 || b.microArousal || b.endS > HOURS_6) continue;
          const e = w.truth.auxEnvelope(b.endS - 5);
          const s = (by[b.state] ??= { d: [], th: [], emg: [] });
          s.d.push(e.deltaUv);
          s.th.push(e.thetaUv);
          s.emg.push(e.emgUv);
        }
        const m = (s: string, k: 'd' | 'th' | 'emg'): number => mean(by[s]![k]);
        assert.ok(m('nrem', 'd') > 2 * m('wake', 'd'));
        assert.ok(m('rem', 'th') > 2 * m('nrem', 'th') && m('rem', 'th') > 2 * m('wake', 'th'));
        assert.ok(m('wake', 'emg') > m('nrem', 'emg') && m('nrem', 'emg') > m('rem', 'emg'));
      });

      it('spindles only in NREM; motion events at least 5x more frequent per second in wake than in NREM', () => {
        for (const s of w.truth.events(0, 7200, ['spindle'])) assert.equal(w.truth.sleepStateAt(s.tS), 'nrem');
        const rate = { wake: 0, nrem: 0 };
        const time = { wake: 0, nrem: 0 };
        for (const b of w.truth.bouts(0, 7200)) if (b.state !== 'rem') time[b.state] += b.endS - b.startS;
        for (const m of w.truth.motionEvents(0, 7200)) {
          const st = w.truth.sleepStateAt(m.startS);
          if (st === 'wake' || st === 'nrem') rate[st]++;
        }
        assert.ok(rate.wake / time.wake > (5 * rate.nrem) / time.nrem, `wake ${rate.wake}/${time.wake}, nrem ${rate.nrem}/${time.nrem}`);
      });

      it('zolpidem with the same seed: same hypnogram, NE oscillation amplitude ratio 0.5 ± 0.05 (sd over settled NREM)', () => {
        const z = createWorld('zolpidem', seed, BOARD);
        assert.deepEqual(z.truth.bouts(0, HOURS_6), bouts);
        const sd = std(settledNrem(w, HOURS_6, 0.5, (t) => w.truth.signal('grabNe', t)).flat());
        const zd = std(settledNrem(z, HOURS_6, 0.5, (t) => z.truth.signal('grabNe', t)).flat());
        assert.ok(Math.abs(zd / sd - 0.5) < 0.05, `ratio ${zd / sd}`);
        assert.equal(z.truth.neOscillation!.peakToPeak, 0.5 * w.truth.neOscillation!.peakToPeak);
      });
    });
  }

  it('ground truth does not depend on query order or chunking (far query first vs sweep)', () => {
    const a = createWorld('sleep', 9, BOARD);
    const b = createWorld('sleep', 9, BOARD);
    const far = a.truth.physiology(20_000);
    const ta = Array.from({ length: 4000 }, (_, i) => a.truth.physiology(i * 5.3));
    const tb = Array.from({ length: 4000 }, (_, i) => b.truth.physiology(i * 5.3));
    assert.deepEqual(ta, tb);
    assert.deepEqual(b.truth.physiology(20_000), far);
    assert.deepEqual(a.truth.events(0, 20_000), b.truth.events(0, 20_000));
    assert.deepEqual(a.truth.signals('grabNe', 100, 0.1, 1000), Float64Array.from({ length: 1000 }, (_, i) => b.truth.signal('grabNe', 100 + i * 0.1)));
  });

  it('different seeds give different hypnograms', () => {
    assert.notDeepEqual(createWorld('sleep', 1, BOARD).truth.bouts(0, 3600), createWorld('sleep', 2, BOARD).truth.bouts(0, 3600));
  });

  it('transition events match the bouts', () => {
    const w = createWorld('sleep', 5, BOARD);
    const bouts = w.truth.bouts(0, 7200);
    const tr = w.truth.events(0, 7200, ['transition']);
    const starts = bouts.slice(1).filter((b) => b.startS < 7200);
    assert.equal(tr.length, starts.length);
    tr.forEach((e, i) => {
      assert.equal(e.tS, starts[i]!.startS);
      if (e.kind === 'transition') assert.equal(e.to, starts[i]!.state);
    });
  });
});
