// Cross-correlation of two traces (Pearson r per lag over the finite pairs).
import { parabolicOffset } from './psd.ts';

/**
 * r[L + maxLag] = Pearson r of a[i] and b[i + L] for L in [-maxLag, maxLag] samples, over the
 * pairs where both are finite (NaN with fewer than 3 pairs). L > 0: b follows a.
 */
export function crossCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, maxLag: number): Float64Array {
  const n = Math.min(a.length, b.length);
  const r = new Float64Array(2 * maxLag + 1);
  for (let L = -maxLag; L <= maxLag; L++) {
    let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, m = 0;
    for (let i = Math.max(0, -L); i < n && i + L < n; i++) {
      const x = a[i]!;
      const y = b[i + L]!;
      if (!(Number.isFinite(x) && Number.isFinite(y))) continue;
      sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y; m++;
    }
    const cov = sab - (sa * sb) / m;
    const va = saa - (sa * sa) / m;
    const vb = sbb - (sb * sb) / m;
    r[L + maxLag] = m >= 3 && va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : NaN;
  }
  return r;
}

/** The lag of largest |r| (refined by a parabola through its neighbours), s, and r there; null when r is all NaN. */
export function correlationPeak(r: Float64Array, rateHz: number): { peakR: number; lagS: number } | null {
  const maxLag = (r.length - 1) / 2;
  let best = -1;
  for (let k = 0; k < r.length; k++) if (Number.isFinite(r[k]!) && (best < 0 || Math.abs(r[k]!) > Math.abs(r[best]!))) best = k;
  if (best < 0) return null;
  let off = 0;
  if (best > 0 && best < r.length - 1 && Number.isFinite(r[best - 1]!) && Number.isFinite(r[best + 1]!)) {
    const s = Math.sign(r[best]!);
    off = parabolicOffset(s * r[best - 1]!, s * r[best]!, s * r[best + 1]!);
  }
  return { peakR: r[best]!, lagS: (best - maxLag + off) / rateHz };
}
