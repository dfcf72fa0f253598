// What a cohort writes: cohort.json (everything, non-finite numbers as null), animals.csv (one row
// per animal, failures included), comparison.csv (one row per compared metric) and cohort.html, a
// self-contained page (inline SVG, no scripts): per metric the animals as dots (paired animals
// joined by a line) and each group's mean with its confidence interval, then the tables.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { axes, esc, linearScale } from '../analyze/svg.ts';
import { type AnimalResult, METRICS, type MetricComparison } from './compare.ts';
import type { CohortResult } from './run.ts';
import type { MeanCi } from './stats.ts';

export const COHORT_FILES = ['cohort.json', 'animals.csv', 'comparison.csv', 'cohort.html'] as const;

/** JSON with NaN and ±Infinity as null (not computable, or a confidence bound that does not exist). */
export const cohortJson = (result: CohortResult): string =>
  `${JSON.stringify(result, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;

const num = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf');
const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function animalsCsv(result: CohortResult): string {
  const header = ['group', 'animal', 'seed', 'recording', 'status', ...METRICS.map((m) => m.key), 'duration_s', 'nrem_s', 'micro_arousals', 'bouts', 'analysed_s', 'ne_blood_volume_r', 'ne_blood_volume_lag_s', 'error'];
  const rows = [header.join(',')];
  for (const a of result.animals) {
    const d = a.details;
    rows.push([a.group, a.id, a.seed === null ? '' : String(a.seed), csvField(a.recording), 'ok', ...METRICS.map((m) => num(a.metrics[m.key])),
      num(d.durationS), num(d.nremS), num(d.microArousals), num(d.bouts), num(d.analysedS), num(d.neBloodVolumeR), num(d.neBloodVolumeLagS), ''].join(','));
  }
  for (const f of result.failures) {
    rows.push([f.group, f.id, f.seed === null ? '' : String(f.seed), csvField(f.recording), 'failed', ...METRICS.map(() => 'NaN'), 'NaN', 'NaN', 'NaN', 'NaN', 'NaN', 'NaN', 'NaN', csvField(`${f.code}: ${f.message}`)].join(','));
  }
  return `${rows.join('\n')}\n`;
}

export function comparisonCsv(result: CohortResult): string {
  const header = ['reference', 'group', 'design', 'metric', 'unit', 'reference_n', 'reference_mean', 'reference_ci_low', 'reference_ci_high', 'group_n', 'group_mean', 'group_ci_low', 'group_ci_high',
    'ratio', 'ratio_ci_low', 'ratio_ci_high', 'test', 'statistic', 'df', 'p', 'effect_size', 'effect', 'rank_test', 'rank_statistic', 'rank_p'];
  const rows = [header.join(',')];
  const byName = new Map(result.comparison.groups.map((g) => [g.name, g]));
  for (const c of result.comparison.comparisons) {
    for (const m of c.metrics) {
      const r = byName.get(c.reference)!.metrics[m.metric];
      const g = byName.get(c.group)!.metrics[m.metric];
      rows.push([c.reference, c.group, c.design, m.metric, csvField(m.unit), r.n, num(r.mean), num(r.ciLow), num(r.ciHigh), g.n, num(g.mean), num(g.ciLow), num(g.ciHigh),
        num(m.ratio.ratio), num(m.ratio.ciLow), num(m.ratio.ciHigh), m.test.test, num(m.test.t), num(m.test.df), num(m.test.p), m.test.effectSize.name, num(m.test.effectSize.value),
        m.rankTest?.test ?? '', m.rankTest ? num(m.rankTest.statistic) : '', m.rankTest ? num(m.rankTest.p) : ''].join(','));
    }
  }
  return `${rows.join('\n')}\n`;
}

const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : Number.isNaN(v) ? '–' : v > 0 ? '∞' : '−∞');
const ci = (lo: number, hi: number): string => `[${fmt(lo)}, ${fmt(hi)}]`;
const pText = (p: number): string => (Number.isNaN(p) ? '–' : p < 1e-4 ? p.toExponential(1) : fmt(p, 2));

const GROUP_COLOURS = ['#1f5fa8', '#c2571a', '#2a8a4a', '#8a3fa0', '#7a6a1a'];

/** One metric: animals as dots (paired ones joined), group mean with its CI as a bar. */
function metricPlot(result: CohortResult, key: (typeof METRICS)[number]['key'], label: string, unit: string): string {
  const groups = result.comparison.groups;
  const W = 300;
  const H = 240;
  const left = 64;
  const bottom = H - 40;
  const top = 16;
  const values: number[] = [];
  for (const a of result.animals) if (Number.isFinite(a.metrics[key])) values.push(a.metrics[key]);
  for (const g of groups) for (const v of [g.metrics[key].ciLow, g.metrics[key].ciHigh]) if (Number.isFinite(v)) values.push(v);
  const lo = values.length ? Math.min(0, ...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const sy = linearScale([lo, hi + 0.05 * (hi - lo || 1)], [bottom, top]);
  const slot = (W - left - 10) / groups.length;
  const xOf = (gi: number): number => left + slot * (gi + 0.5);
  const sx = linearScale([0, 1], [left, W - 10]);
  const parts: string[] = [axes(sx, sy, { x: null, y: unit })];
  const animalsOf = (name: string): AnimalResult[] => result.animals.filter((a) => a.group === name);
  // paired animals: a grey line between their dots
  for (const c of result.comparison.comparisons) {
    if (c.design !== 'paired') continue;
    const ri = groups.findIndex((g) => g.name === c.reference);
    const gi = groups.findIndex((g) => g.name === c.group);
    for (const p of c.pairs) {
      const a = result.animals.find((x) => x.id === p.reference);
      const b = result.animals.find((x) => x.id === p.group);
      if (!a || !b || !Number.isFinite(a.metrics[key]) || !Number.isFinite(b.metrics[key])) continue;
      parts.push(`<path class="pair" d="M${(xOf(ri) - slot * 0.12).toFixed(1)},${sy(a.metrics[key]).toFixed(1)}L${(xOf(gi) - slot * 0.12).toFixed(1)},${sy(b.metrics[key]).toFixed(1)}"/>`);
    }
  }
  groups.forEach((g, gi) => {
    const colour = GROUP_COLOURS[gi % GROUP_COLOURS.length]!;
    const x = xOf(gi);
    for (const a of animalsOf(g.name)) {
      const v = a.metrics[key];
      if (!Number.isFinite(v)) continue;
      parts.push(`<circle cx="${(x - slot * 0.12).toFixed(1)}" cy="${sy(v).toFixed(1)}" r="3.5" fill="${colour}" fill-opacity="0.6"><title>${esc(`${a.id}${a.seed !== null ? ` (seed ${a.seed})` : ''}: ${fmt(v, 4)} ${unit}`)}</title></circle>`);
    }
    const m: MeanCi = g.metrics[key];
    if (Number.isFinite(m.mean)) {
      const xm = x + slot * 0.14;
      if (Number.isFinite(m.ciLow) && Number.isFinite(m.ciHigh)) {
        parts.push(`<path class="ci" stroke="${colour}" d="M${xm.toFixed(1)},${sy(Math.max(m.ciLow, sy.domain[0])).toFixed(1)}V${sy(m.ciHigh).toFixed(1)}M${(xm - 6).toFixed(1)},${sy(m.ciHigh).toFixed(1)}h12M${(xm - 6).toFixed(1)},${sy(Math.max(m.ciLow, sy.domain[0])).toFixed(1)}h12"/>`);
      }
      parts.push(`<rect x="${(xm - 5).toFixed(1)}" y="${(sy(m.mean) - 5).toFixed(1)}" width="10" height="10" fill="${colour}"><title>${esc(`${g.name}: mean ${fmt(m.mean, 4)} ${unit}, ${Math.round(result.comparison.level * 100)} % CI ${ci(m.ciLow, m.ciHigh)}, n = ${m.n}`)}</title></rect>`);
    }
    parts.push(`<text class="tl" x="${x.toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${esc(g.name)}</text><text class="tl" x="${x.toFixed(1)}" y="${bottom + 30}" text-anchor="middle">n = ${m.n}</text>`);
  });
  return `<figure data-plot="${key}"><figcaption>${esc(label)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)} per animal and group mean with CI">${parts.join('')}</svg></figure>`;
}

function comparisonRows(result: CohortResult, m: MetricComparison, reference: string, group: string): string {
  const byName = new Map(result.comparison.groups.map((g) => [g.name, g]));
  const r = byName.get(reference)!.metrics[m.metric];
  const g = byName.get(group)!.metrics[m.metric];
  const rank = m.rankTest ? `${m.rankTest.test}: p = ${pText(m.rankTest.p)}` : '–';
  return `<tr><td>${esc(m.label)} (${esc(m.unit)})</td><td>${fmt(r.mean)} ${ci(r.ciLow, r.ciHigh)}</td><td>${fmt(g.mean)} ${ci(g.ciLow, g.ciHigh)}</td>`
    + `<td>${fmt(m.ratio.ratio)} ${ci(m.ratio.ciLow, m.ratio.ciHigh)}</td><td>${esc(m.test.test)}: t(${fmt(m.test.df)}) = ${fmt(m.test.t)}, p = ${pText(m.test.p)}</td>`
    + `<td>${esc(m.test.effectSize.name)} = ${fmt(m.test.effectSize.value)}</td><td>${esc(rank)}</td></tr>`;
}

export function cohortHtml(result: CohortResult): string {
  const level = Math.round(result.comparison.level * 100);
  const h = result.headline;
  const spec = result.spec;
  const what = spec.kind === 'simulate'
    ? `${spec.animals} simulated animal${spec.animals === 1 ? '' : 's'} per condition (${spec.conditions.join(', ')}), ${fmt(spec.durationS / 3600)} h each, seeds ${spec.seed}–${spec.seed + spec.animals - 1}`
    : `${result.animals.length + result.failures.length} recordings in ${spec.groups.length} groups`;
  const headline = h
    ? `<p class="headline">NE cycle amplitude, ${esc(h.group)} / ${esc(h.reference)}: <b>${fmt(h.ratio)}</b> (${level} % CI ${ci(h.ciLow, h.ciHigh)}, ${esc(h.design)})${h.simulatedTruth !== null ? `; simulated truth ${fmt(h.simulatedTruth)}` : ''}.</p><p class="method">${esc(h.method)}</p>`
    : '';
  const plots = METRICS.map((m) => metricPlot(result, m.key, m.label, m.unit)).join('');
  const tables = result.comparison.comparisons.map((c) => `<h2>${esc(c.group)} vs ${esc(c.reference)} (${esc(c.design)})</h2><p>${esc(c.pairing)}</p>`
    + `<table><thead><tr><th>metric</th><th>${esc(c.reference)} mean [${level} % CI]</th><th>${esc(c.group)} mean [${level} % CI]</th><th>ratio of means [${level} % CI]</th><th>test</th><th>effect size</th><th>rank test</th></tr></thead><tbody>`
    + `${c.metrics.map((m) => comparisonRows(result, m, c.reference, c.group)).join('')}</tbody></table>`).join('');
  const animalRows = result.animals.map((a) => `<tr><td>${esc(a.group)}</td><td>${esc(a.id)}</td><td>${a.seed ?? ''}</td>${METRICS.map((m) => `<td>${fmt(a.metrics[m.key], 4)}</td>`).join('')}<td>${a.details.bouts}</td><td>${fmt(a.details.analysedS, 4)}</td><td>${esc(a.unavailable.join('; '))}</td></tr>`).join('');
  const failureRows = result.failures.map((f) => `<tr class="failed"><td>${esc(f.group)}</td><td>${esc(f.id)}</td><td>${f.seed ?? ''}</td><td colspan="${METRICS.length + 3}">failed: ${esc(`${f.code}: ${f.message}`)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fiberrig cohort</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1300px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.headline{font-size:16px}.method{color:#555;font-size:12px}
.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #ddd;padding:6px}figcaption{font-weight:600;font-size:13px}
.axis,.tick{stroke:#444;fill:none}.pair{stroke:#999;stroke-width:1;fill:none}.ci{stroke-width:2;fill:none}
.tl{font-size:10px;fill:#333}.al{font-size:11px;fill:#333}
table{border-collapse:collapse;font-size:12px;margin-top:8px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
tr.failed td{color:#a00}
</style></head><body>
<h1>fiberrig cohort</h1>
<p>${esc(what)}; ${result.workers} worker thread${result.workers === 1 ? '' : 's'}, ${fmt(result.wallS)} s wall time; created ${esc(result.created)}.</p>
${headline}
<p>Dots: one animal each${result.comparison.comparisons.some((c) => c.design === 'paired') ? ' (lines join the same seed under both conditions)' : ''}; squares and bars: group mean with its ${level} % t confidence interval.</p>
<div class="plots">${plots}</div>
${tables}
<h2>Animals</h2>
<table><thead><tr><th>group</th><th>animal</th><th>seed</th>${METRICS.map((m) => `<th>${esc(m.label)} (${esc(m.unit)})</th>`).join('')}<th>NREM bouts</th><th>analysed (s)</th><th>not computed</th></tr></thead><tbody>${animalRows}${failureRows}</tbody></table>
</body></html>
`;
}

/** Writes the cohort's files into `dir`. */
export async function writeCohortFiles(dir: string, result: CohortResult): Promise<void> {
  await writeFile(join(dir, 'cohort.json'), cohortJson(result));
  await writeFile(join(dir, 'animals.csv'), animalsCsv(result));
  await writeFile(join(dir, 'comparison.csv'), comparisonCsv(result));
  await writeFile(join(dir, 'cohort.html'), cohortHtml(result));
}
