import assert from 'node:assert/strict';
import fc from 'fast-check';
import { carrierPeriodSamples, carrierPhaseCycles as lockInPhaseCycles, ModulationMode } from '../../../protocol/index.ts';
import {
  ledCurrentAt, ledCurrentsAt, MAX_TABLE_PERIOD, ModulationSchedule, type ScheduleConfig,
} from '../../../firmware-sim/device/schedule.ts';

const lockIn = (carriers: number[], fs = 10_000, peak = 20): ScheduleConfig => ({
  mode: ModulationMode.MODULATION_MODE_LOCK_IN,
  sampleRateHz: fs,
  leds: carriers.map((carrierHz, i) => ({ channel: i, peakMa: peak + i, carrierHz })),
});

function fillOne(config: ScheduleConfig, first: number, count: number, peaks?: number[]): Float32Array[] {
  const out = config.leds.map(() => new Float32Array(count));
  new ModulationSchedule(config).fill(first, count, out, peaks);
  return out;
}

describe('firmware-sim schedule', () => {
  describe('LOCK_IN', () => {
    it('follows peak * (1 + sin(2 pi f n / fs)) / 2 at small n', () => {
      const c = lockIn([211, 531]);
      for (const n of [0, 1, 7, 123, 9999, 10_000]) {
        const expected = 20 * (1 + Math.sin((2 * Math.PI * 211 * n) / 10_000)) / 2;
        assert.ok(Math.abs(ledCurrentAt(c, 0, n) - expected) < 1e-9, `n=${n}`);
      }
      assert.equal(ledCurrentAt(c, 0, 0), 10); // sin(0) = 0: half of the peak
    });

    it('computes the phase exactly at huge n (2^53 - 1)', () => {
      const n = Number.MAX_SAFE_INTEGER;
      // 211 n mod 10000, exactly, in BigInt
      const r = (211n * BigInt(n)) % 10_000n;
      assert.equal(lockInPhaseCycles(211, 10_000, n), Number(r) / 10_000);
      const expected = 20 * ((1 + Math.sin(2 * Math.PI * (Number(r) / 10_000))) / 2);
      assert.equal(ledCurrentAt(lockIn([211]), 0, n), expected);
      // the naive double formula is wrong there: that is why the exact form exists
      const naive = (211 * n) / 10_000;
      assert.notEqual(naive - Math.floor(naive), Number(r) / 10_000);
    });

    it('is periodic with the exact carrier period, also for float32 carriers', () => {
      assert.equal(carrierPeriodSamples(211, 10_000), 10_000n);
      assert.equal(carrierPeriodSamples(500, 10_000), 20n);
      const f32 = Math.fround(211.3);
      const p = carrierPeriodSamples(f32, 10_000);
      assert.ok(p > BigInt(MAX_TABLE_PERIOD), 'a float32 carrier like 211.3 Hz has a long exact period');
      const c = lockIn([f32]);
      const big = 2 ** 50 + 12345;
      assert.equal(ledCurrentAt(c, 0, big), ledCurrentAt(c, 0, big + Number(p)));
    });

    it('block form is bit-identical to the point form (table and long-period paths), however split', () => {
      const c = lockIn([211, 531, Math.fround(1470.7)]);
      fc.assert(fc.property(
        fc.integer({ min: 0, max: 2 ** 52 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 300 }),
        (first, count, split) => {
          const whole = fillOne(c, first, count);
          const s = Math.min(split, count);
          const a = fillOne(c, first, s);
          const b = fillOne(c, first + s, count - s);
          for (let k = 0; k < 3; k++) {
            for (let i = 0; i < count; i++) {
              const point = Math.fround(ledCurrentAt(c, k, first + i));
              if (whole[k]![i] !== point) return false;
              const piece = i < s ? a[k]![i] : b[k]![i - s];
              if (piece !== point) return false;
            }
          }
          return true;
        },
      ), { numRuns: 200 });
    });

    it('uses the drive level passed to fill (SetLed, dark)', () => {
      const c = lockIn([211]);
      const [dark] = fillOne(c, 1000, 50, [0]);
      assert.ok(dark!.every((v) => v === 0));
      const [half] = fillOne(c, 1000, 50, [10]);
      for (let i = 0; i < 50; i++) assert.equal(half![i], Math.fround(ledCurrentAt(c, 0, 1000 + i, 10)));
    });
  });

  describe('TIME_DIVISION', () => {
    const tdm: ScheduleConfig = {
      mode: ModulationMode.MODULATION_MODE_TIME_DIVISION,
      sampleRateHz: 4000,
      leds: [{ channel: 0, peakMa: 40, carrierHz: 0 }, { channel: 1, peakMa: 60, carrierHz: 0 }, { channel: 3, peakMa: 25, carrierHz: 0 }],
      timeDivision: { slotSamples: 10, onSamples: 8, darkSlot: true },
    };

    it('gives each LED its slot in config order, then a dark slot', () => {
      // cycle = 4 slots x 10 samples
      for (let n = 0; n < 80; n++) {
        const pos = n % 40;
        const cur = ledCurrentsAt(tdm, n);
        assert.equal(cur[0], pos < 8 ? 40 : 0, `n=${n}`);
        assert.equal(cur[1], pos >= 10 && pos < 18 ? 60 : 0, `n=${n}`);
        assert.equal(cur[2], pos >= 20 && pos < 28 ? 25 : 0, `n=${n}`);
        if (pos >= 30) assert.deepEqual([...cur], [0, 0, 0], 'dark slot');
      }
    });

    it('is exact at huge n and the block form matches', () => {
      const n = Number.MAX_SAFE_INTEGER - 5; // (2^53 - 6) mod 40 = 26
      assert.equal(n % 40, 26);
      assert.deepEqual([...ledCurrentsAt(tdm, n)], [0, 0, 25]);
      const out = fillOne(tdm, n - 100, 100);
      for (let i = 0; i < 100; i++) for (let k = 0; k < 3; k++) assert.equal(out[k]![i], ledCurrentAt(tdm, k, n - 100 + i));
    });

    it('without a dark slot the cycle is one slot per LED', () => {
      const noDark = { ...tdm, timeDivision: { slotSamples: 10, onSamples: 8, darkSlot: false } };
      assert.equal(ledCurrentAt(noDark, 0, 30), 40);
      assert.equal(ledCurrentAt(tdm, 0, 30), 0);
    });
  });

  describe('one schedule filling block after block', () => {
    const tdm: ScheduleConfig = {
      mode: ModulationMode.MODULATION_MODE_TIME_DIVISION,
      sampleRateHz: 4000,
      leds: [{ channel: 0, peakMa: 40, carrierHz: 0 }, { channel: 1, peakMa: 60, carrierHz: 0 }],
      timeDivision: { slotSamples: 7, onSamples: 5, darkSlot: true },
    };
    for (const [name, config] of [['LOCK_IN (periods 20, 10000 and long)', lockIn([500, 211, Math.fround(1470.7)])], ['TIME_DIVISION', tdm]] as const) {
      it(`${name}: matches the point form over long blocks, offsets and changing drive levels`, () => {
        const schedule = new ModulationSchedule(config);
        fc.assert(fc.property(
          fc.integer({ min: 0, max: 2 ** 52 }), fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 0, max: 50 }),
          fc.constantFrom(1, 2.5, 20, 33.3),
          (first, count, offset, peak) => {
            const out = config.leds.map(() => new Float32Array(offset + count).fill(-1));
            const peaks = config.leds.map((_, k) => peak + k);
            schedule.fill(first, count, out, peaks, offset);
            for (let k = 0; k < config.leds.length; k++) {
              for (let i = 0; i < offset; i++) if (out[k]![i] !== -1) return false;
              for (let i = 0; i < count; i++) {
                if (out[k]![offset + i] !== Math.fround(ledCurrentAt(config, k, first + i, peaks[k]))) return false;
              }
            }
            return true;
          },
        ), { numRuns: 60 });
      });
    }
  });

  describe('CONTINUOUS', () => {
    it('is constant at any n', () => {
      const c: ScheduleConfig = { mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, leds: [{ channel: 2, peakMa: 12.5, carrierHz: 0 }] };
      for (const n of [0, 1, 999, Number.MAX_SAFE_INTEGER]) assert.equal(ledCurrentAt(c, 0, n), 12.5);
      const [out] = fillOne(c, 77, 10);
      assert.deepEqual([...out!], Array(10).fill(12.5));
    });
  });
});
