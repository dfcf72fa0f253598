// Pictures of a calibration: a terminal plot (for stderr) and an SVG (written
// next to the calibration file). Both show the measured points (bad points
// marked), the fitted curve and the relative residuals. Pure string builders.
import { type FitResult, type LedModel, modelPowerUw } from './fit.ts';

export interface PlotInput {
  title: string;
  fit: FitResult;
  /** The table stored on the device. */
  table?: ReadonlyArray<{ currentMa?: number | null; powerUw?: number | null }>;
  /** Sweep of each point (same order as fit.residuals), shown in the SVG legend by marker. */
  sweeps?: readonly string[];
}

const fmt = (v: number, digits = 3): string => (Math.abs(v) >= 100 ? v.toFixed(1) : Number(v.toPrecision(digits)).toString());

function extent(fit: FitResult): { maxMa: number; maxUw: number } {
  const maxMa = Math.max(...fit.residuals.map((r) => r.currentMa), fit.rangeMa.maxMa) * 1.02;
  const maxUw = Math.max(...fit.residuals.map((r) => Math.max(r.powerUw, r.fitUw)), 1e-9) * 1.05;
  return { maxMa, maxUw };
}

/** A text plot of power vs current (o kept, x bad point, . fit) and a residual list. */
export function terminalPlot(input: PlotInput, width = 60, height = 14): string {
  const { fit } = input;
  const { maxMa, maxUw } = extent(fit);
  const grid: string[][] = Array.from({ length: height }, () => Array.from({ length: width }, () => ' '));
  const col = (ma: number): number => Math.min(width - 1, Math.max(0, Math.round((ma / maxMa) * (width - 1))));
  const row = (uw: number): number => Math.min(height - 1, Math.max(0, height - 1 - Math.round((uw / maxUw) * (height - 1))));
  for (let c = 0; c < width; c++) {
    const ma = (c / (width - 1)) * maxMa;
    if (ma < fit.rangeMa.minMa * 0.98 || ma > fit.rangeMa.maxMa * 1.02) continue;
    grid[row(modelPowerUw(fit.model, ma))]![c] = '.';
  }
  for (const r of fit.residuals) grid[row(r.powerUw)]![col(r.currentMa)] = r.outlier ? 'x' : 'o';
  const label = fmt(maxUw);
  const pad = Math.max(label.length, 1);
  const lines = [input.title, `  µW (o measured, x bad point, . fit)`];
  grid.forEach((cells, i) => {
    const y = i === 0 ? label : i === height - 1 ? '0' : '';
    lines.push(`${y.padStart(pad)} |${cells.join('')}`);
  });
  lines.push(`${' '.repeat(pad)} +${'-'.repeat(width)}`);
  lines.push(`${' '.repeat(pad)}  0${' '.repeat(Math.max(1, width - 2 - `${fmt(maxMa)} mA`.length))}${fmt(maxMa)} mA`);
  lines.push('');
  lines.push('     mA        µW       fit  residual');
  const scale = Math.max(0.005, ...fit.residuals.map((r) => Math.abs(r.relative)));
  for (const r of fit.residuals) {
    const n = Math.round((Math.abs(r.relative) / scale) * 12);
    const bar = r.relative >= 0 ? `${' '.repeat(12)}|${'+'.repeat(n)}` : `${' '.repeat(12 - n)}${'-'.repeat(n)}|`;
    lines.push(`${r.currentMa.toFixed(2).padStart(7)} ${fmt(r.powerUw, 4).padStart(9)} ${fmt(r.fitUw, 4).padStart(9)} ${`${(r.relative * 100).toFixed(2)}%`.padStart(8)}  ${bar.padEnd(26)}${r.outlier ? ' bad point' : ''}`);
  }
  return lines.join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function ticks(max: number, n = 8): number[] {
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

/** An SVG with power vs current (points, fit, stored table) above and relative residuals (%) below. */
export function svgPlot(input: PlotInput): string {
  const { fit } = input;
  const { maxMa, maxUw } = extent(fit);
  const W = 720;
  const H = 576;
  const left = 70;
  const right = 20;
  const top = 56;
  const mainH = 300;
  const gap = 60;
  const resH = 120;
  const plotW = W - left - right;
  const x = (ma: number): number => left + (ma / maxMa) * plotW;
  const y = (uw: number): number => top + mainH - (uw / maxUw) * mainH;
  const resTop = top + mainH + gap;
  const resMax = Math.max(0.01, ...fit.residuals.map((r) => Math.abs(r.relative))) * 1.2;
  const yr = (rel: number): number => resTop + resH / 2 - (rel / resMax) * (resH / 2);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(input.title)}</text>`);
  // axes and ticks
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${mainH}" fill="none" stroke="#333"/>`);
  parts.push(`<rect x="${left}" y="${resTop}" width="${plotW}" height="${resH}" fill="none" stroke="#333"/>`);
  for (const t of ticks(maxMa)) {
    for (const [y0, y1] of [[top + mainH, top + mainH + 5], [resTop + resH, resTop + resH + 5]] as const) {
      parts.push(`<line x1="${x(t).toFixed(1)}" y1="${y0}" x2="${x(t).toFixed(1)}" y2="${y1}" stroke="#333"/>`);
    }
    parts.push(`<text x="${x(t).toFixed(1)}" y="${resTop + resH + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of ticks(maxUw)) {
    parts.push(`<line x1="${left - 5}" y1="${y(t).toFixed(1)}" x2="${left}" y2="${y(t).toFixed(1)}" stroke="#333"/>`);
    parts.push(`<line x1="${left}" y1="${y(t).toFixed(1)}" x2="${left + plotW}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of [-resMax / 1.2, 0, resMax / 1.2]) {
    parts.push(`<text x="${left - 8}" y="${(yr(t) + 4).toFixed(1)}" text-anchor="end">${(t * 100).toFixed(2)}</text>`);
  }
  parts.push(`<line x1="${left}" y1="${yr(0).toFixed(1)}" x2="${left + plotW}" y2="${yr(0).toFixed(1)}" stroke="#999" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${resTop + resH + 36}" text-anchor="middle">LED current (mA)</text>`);
  parts.push(`<text transform="translate(18 ${top + mainH / 2}) rotate(-90)" text-anchor="middle">power at fiber tip (µW)</text>`);
  parts.push(`<text transform="translate(18 ${resTop + resH / 2}) rotate(-90)" text-anchor="middle">residual (%)</text>`);
  // fit curve over the calibrated range
  const m: LedModel = fit.model;
  const pts: string[] = [];
  for (let k = 0; k <= 200; k++) {
    const ma = fit.rangeMa.minMa + ((fit.rangeMa.maxMa - fit.rangeMa.minMa) * k) / 200;
    pts.push(`${x(ma).toFixed(1)},${y(modelPowerUw(m, ma)).toFixed(1)}`);
  }
  parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  for (const p of input.table ?? []) {
    const ma = p.currentMa ?? 0;
    const uw = p.powerUw ?? 0;
    parts.push(`<rect x="${(x(ma) - 2).toFixed(1)}" y="${(y(uw) - 2).toFixed(1)}" width="4" height="4" fill="#1f77b4"/>`);
  }
  fit.residuals.forEach((r, i) => {
    const sweep = input.sweeps?.[i] ?? '';
    const colour = r.outlier ? '#d62728' : sweep === 'down' ? '#2ca02c' : sweep === 'repeat' ? '#9467bd' : '#ff7f0e';
    const tip = `${fmt(r.currentMa)} mA: ${fmt(r.powerUw, 4)} µW (fit ${fmt(r.fitUw, 4)}, ${(r.relative * 100).toFixed(2)} %)${sweep ? ` ${sweep}` : ''}${r.outlier ? ' bad point' : ''}`;
    for (const [cx, cy] of [[x(r.currentMa), y(r.powerUw)], [x(r.currentMa), yr(Math.max(-resMax, Math.min(resMax, r.relative)))]] as const) {
      if (r.outlier) {
        parts.push(`<path d="M${(cx - 5).toFixed(1)} ${(cy - 5).toFixed(1)}l10 10m0 -10l-10 10" stroke="${colour}" stroke-width="2"><title>${esc(tip)}</title></path>`);
      } else {
        parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="4" fill="none" stroke="${colour}" stroke-width="2"><title>${esc(tip)}</title></circle>`);
      }
    }
  });
  const q = `Ith ${fmt(m.thresholdMa)} mA, slope ${fmt(m.slopeUwPerMa)} µW/mA, droop ${fmt(m.droopPerMa)} /mA; R² ${fit.r2.toFixed(6)}, max residual ${(fit.maxRelative * 100).toFixed(2)} %${fit.poor ? ` — POOR FIT: ${fit.reasons.join('; ')}` : ''}`;
  parts.push(`<text x="${left}" y="${top - 12}" fill="${fit.poor ? '#d62728' : '#333'}">${esc(q)}</text>`);
  parts.push(`<text x="${left + plotW - 8}" y="${top + mainH - 10}" text-anchor="end" fill="#666">o up  <tspan fill="#2ca02c">o down</tspan>  <tspan fill="#9467bd">o repeat</tspan>  <tspan fill="#d62728">x bad</tspan>  <tspan fill="#1f77b4">— fit ▪ table</tspan></text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
