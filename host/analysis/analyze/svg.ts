// Minimal SVG plotting for the analysis report: linear/log scales, axes with ticks, line paths
// that break at NaN, min/max-reduced long traces and shaded bands. Strings only; no DOM.

export interface Scale {
  (v: number): number;
  domain: readonly [number, number];
  range: readonly [number, number];
  log: boolean;
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain[0] === domain[1] ? [domain[0] - 1, domain[1] + 1] : domain;
  const f = ((v: number) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0])) as Scale;
  return Object.assign(f, { domain: [d0, d1] as const, range, log: false });
}

export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const l0 = Math.log10(domain[0]);
  const l1 = Math.log10(domain[1] > domain[0] ? domain[1] : domain[0] * 10);
  const f = ((v: number) => (v > 0 ? range[0] + ((Math.log10(v) - l0) / (l1 - l0)) * (range[1] - range[0]) : Number.NaN)) as Scale;
  return Object.assign(f, { domain: [10 ** l0, 10 ** l1] as const, range, log: true });
}

/** Finite min and max of several arrays (NaN, NaN when none). */
export function extent(...arrays: ReadonlyArray<ArrayLike<number>>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const a of arrays) for (let i = 0; i < a.length; i++) { const v = a[i]!; if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; } }
  return lo <= hi ? [lo, hi] : [Number.NaN, Number.NaN];
}

/** Robust extent: the q and 1−q quantiles (long traces: a few artefacts do not flatten the plot). */
export function robustExtent(a: ArrayLike<number>, q = 0.002): [number, number] {
  const v = Float64Array.from(Array.from(a).filter(Number.isFinite)).sort();
  if (v.length === 0) return [Number.NaN, Number.NaN];
  return [v[Math.floor(q * (v.length - 1))]!, v[Math.ceil((1 - q) * (v.length - 1))]!];
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** An SVG path through (x[i], y[i]); a NaN or off-scale point breaks the line. Empty string when no segment. */
export function linePath(x: ArrayLike<number>, y: ArrayLike<number>, sx: Scale, sy: Scale): string {
  const parts: string[] = [];
  let pen = false;
  for (let i = 0; i < y.length; i++) {
    const px = sx(x[i]!);
    const py = sy(y[i]!);
    if (!Number.isFinite(px) || !Number.isFinite(py)) { pen = false; continue; }
    parts.push(`${pen ? 'L' : 'M'}${f1(px)},${f1(py)}`);
    pen = true;
  }
  return parts.join('');
}

/**
 * A long uniformly sampled trace reduced to at most two points per pixel column (min and max of
 * the samples in it), so a day at 10 Hz draws as a faithful envelope in a few thousand points.
 */
export function tracePath(t0: number, rateHz: number, y: ArrayLike<number>, sx: Scale, sy: Scale): string {
  const [px0, px1] = [Math.min(...sx.range), Math.max(...sx.range)];
  const columns = Math.max(1, Math.round(px1 - px0));
  if (y.length <= 2 * columns) return linePath(Float64Array.from({ length: y.length }, (_, i) => t0 + i / rateHz), y, sx, sy);
  const xs: number[] = [];
  const ys: number[] = [];
  const perColumn = y.length / columns;
  for (let c = 0; c < columns; c++) {
    const a = Math.floor(c * perColumn);
    const b = Math.min(y.length, Math.floor((c + 1) * perColumn));
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let iLo = a;
    let iHi = a;
    for (let i = a; i < b; i++) { const v = y[i]!; if (Number.isFinite(v)) { if (v < lo) { lo = v; iLo = i; } if (v > hi) { hi = v; iHi = i; } } }
    const tc = t0 + ((a + b) / 2) / rateHz;
    if (lo > hi) { xs.push(tc); ys.push(Number.NaN); continue; }
    const [first, second] = iLo <= iHi ? [lo, hi] : [hi, lo];
    xs.push(tc, tc);
    ys.push(first, second);
  }
  return linePath(xs, ys, sx, sy);
}

/** A closed band between lower and upper (e.g. mean ± SEM); segments break at NaN. */
export function bandPath(x: ArrayLike<number>, lower: ArrayLike<number>, upper: ArrayLike<number>, sx: Scale, sy: Scale): string {
  const parts: string[] = [];
  let i = 0;
  while (i < x.length) {
    while (i < x.length && !(Number.isFinite(lower[i]!) && Number.isFinite(upper[i]!))) i++;
    const a = i;
    while (i < x.length && Number.isFinite(lower[i]!) && Number.isFinite(upper[i]!)) i++;
    if (i - a < 2) continue;
    const pts: string[] = [];
    for (let k = a; k < i; k++) pts.push(`${f1(sx(x[k]!))},${f1(sy(upper[k]!))}`);
    for (let k = i - 1; k >= a; k--) pts.push(`${f1(sx(x[k]!))},${f1(sy(lower[k]!))}`);
    parts.push(`M${pts.join('L')}Z`);
  }
  return parts.join('');
}

/** About `count` round tick values across [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmtTick = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(4))));

/** Axis lines, ticks and labels for a plot area; `x`/`y` null leave that axis out; x ticks are round in units of `xUnit` (e.g. 60: minutes of a seconds scale). */
export function axes(sx: Scale, sy: Scale, labels: { x?: string | null; y?: string | null }, xUnit = 1): string {
  const [x0, x1] = sx.range;
  const [y0, y1] = sy.range; // y0 bottom, y1 top
  const out: string[] = [`<path class="axis" d="M${f1(x0)},${f1(y1)}V${f1(y0)}H${f1(x1)}"/>`];
  if (labels.x !== null) {
    for (const v of ticks(sx.domain[0] / xUnit, sx.domain[1] / xUnit, 8)) {
      const px = sx(v * xUnit);
      out.push(`<path class="tick" d="M${f1(px)},${f1(y0)}v4"/><text class="tl" x="${f1(px)}" y="${f1(y0 + 15)}" text-anchor="middle">${esc(fmtTick(v))}</text>`);
    }
    if (labels.x) out.push(`<text class="al" x="${f1((x0 + x1) / 2)}" y="${f1(y0 + 30)}" text-anchor="middle">${esc(labels.x)}</text>`);
  }
  if (labels.y !== null) {
    const yt = sy.log ? logTicks(sy.domain[0], sy.domain[1]) : ticks(sy.domain[0], sy.domain[1], 4);
    for (const v of yt) {
      const py = sy(v);
      out.push(`<path class="tick" d="M${f1(x0)},${f1(py)}h-4"/><text class="tl" x="${f1(x0 - 6)}" y="${f1(py + 3)}" text-anchor="end">${esc(fmtTick(v))}</text>`);
    }
    if (labels.y) out.push(`<text class="al" transform="translate(${f1(x0 - 48)},${f1((y0 + y1) / 2)}) rotate(-90)" text-anchor="middle">${esc(labels.y)}</text>`);
  }
  return out.join('');
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) out.push(10 ** e);
  return out.length ? out : [lo, hi];
}
