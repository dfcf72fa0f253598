// report.html of `fiberrig analyze`: one self-contained page (inline CSS and SVG, no script, no
// network) with the plots a lab meeting wants: the hypnogram over the corrected traces with the
// micro-arousals marked, NE PSD per state and over NREM bouts, micro-arousal-locked averages with
// their SEM, the NE vs blood-volume cross-correlation per bout, and the headline numbers with
// what could not be computed. Every plot is a <figure data-plot="NAME">: the tests find them so;
// a plot without data is the figure with data-unavailable="reason".
import type { SleepState } from '../sleep/score.ts';
import { namedPsds } from './tables.ts';
import { sleepSummary } from './summary.ts';
import { axes, bandPath, esc, extent, linearScale, linePath, logScale, robustExtent, type Scale, tracePath } from './svg.ts';
import type { RecordingAnalysis } from './types.ts';

/** The plots of the report, by data-plot name. */
export const REPORT_PLOTS = ['hypnogram', 'psd-state', 'psd-bouts', 'ma-locked', 'xcorr'] as const;
export type ReportPlot = (typeof REPORT_PLOTS)[number];

const STATE_COLOUR: Record<SleepState, string> = { wake: '#d55e00', nrem: '#0072b2', rem: '#009e73' };
const STATE_LABEL: Record<SleepState, string> = { wake: 'wake', nrem: 'NREM', rem: 'REM' };
const NE_COLOUR = '#1b7f3b';
const BV_COLOUR = '#b2182b';
const PALETTE = ['#1b7f3b', '#b2182b', '#5e3c99', '#e08214', '#2166ac', '#8c510a', '#35978f', '#666666'];

const fmt = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : String(Number(v.toPrecision(digits))));

function figure(name: ReportPlot, title: string, body: string, caption: string): string {
  return `<figure data-plot="${name}"><figcaption><b>${esc(title)}</b> ${esc(caption)}</figcaption>${body}</figure>`;
}

function unavailableFigure(name: ReportPlot, title: string, reason: string): string {
  return `<figure data-plot="${name}" data-unavailable="${esc(reason)}"><figcaption><b>${esc(title)}</b></figcaption><p class="na">Not available: ${esc(reason)}</p></figure>`;
}

function reasonFor(a: RecordingAnalysis, ...parts: string[]): string {
  const u = a.unavailable.filter((x) => parts.includes(x.part));
  return u.length ? u.map((x) => x.reason).join('; ') : 'no data';
}

function hypnogramPlot(a: RecordingAnalysis): string {
  const title = 'Hypnogram over the corrected traces';
  const tr = a.traces;
  const traces: Array<{ label: string; y: Float64Array; colour: string; name: string }> = [];
  Object.entries(tr.dffPct).forEach(([k, y], i) => { traces.push({ label: `${k} ΔF/F (%)`, y, colour: i === 0 ? NE_COLOUR : PALETTE[(i + 2) % PALETTE.length]!, name: `dff:${k}` }); });
  if (tr.bloodVolumePct) traces.push({ label: 'blood volume (%)', y: tr.bloodVolumePct, colour: BV_COLOUR, name: 'blood-volume' });
  if (traces.length === 0 && !a.sleep) return unavailableFigure('hypnogram', title, reasonFor(a, 'correction', 'sleep'));
  const W = 1100;
  const left = 70;
  const right = W - 15;
  const hypH = a.sleep ? 70 : 0;
  const panelH = 130;
  const gap = 14;
  const H = 10 + hypH + traces.length * (panelH + gap) + 40;
  const n = traces[0]?.y.length ?? 0;
  const endS = Math.max(tr.t0S + n / tr.rateHz, a.sleep ? a.sleep.startS + a.sleep.states.length * a.sleep.epochS : 0);
  const startS = Math.min(tr.t0S, a.sleep?.startS ?? tr.t0S);
  const hours = endS - startS > 3 * 3600;
  const xLabel = hours ? 'time (h)' : 'time (min)';
  const div = hours ? 3600 : 60;
  const sx = linearScale([startS, endS], [left, right]);
  const out: string[] = [];
  let y = 10;
  const bottom = H - 40;
  if (a.sleep) {
    const s = a.sleep;
    const level: Record<SleepState, number> = { wake: y + 8, rem: y + 30, nrem: y + 52 };
    const xs: number[] = [];
    const ys: number[] = [];
    const rects: string[] = [];
    let run = 0;
    for (let e = 0; e <= s.states.length; e++) {
      if (e < s.states.length && s.states[e] === s.states[run]) continue;
      const st = s.states[run]!;
      const x0 = s.startS + run * s.epochS;
      const x1 = s.startS + e * s.epochS;
      rects.push(`<rect x="${sx(x0).toFixed(1)}" y="${y}" width="${Math.max(0.3, sx(x1) - sx(x0)).toFixed(1)}" height="${hypH - 10}" fill="${STATE_COLOUR[st]}" fill-opacity="0.18"/>`);
      xs.push(x0, x1);
      ys.push(level[st], level[st]);
      run = e;
    }
    const ident = linearScale([0, 1], [0, 1]);
    out.push(`<g data-panel="hypnogram">${rects.join('')}<path class="data hyp" d="${linePath(xs.map(sx), ys, ident, ident)}" stroke="#222" fill="none"/>`);
    for (const st of ['wake', 'rem', 'nrem'] as const) out.push(`<text class="tl" x="${left - 6}" y="${level[st] + 3}" text-anchor="end" fill="${STATE_COLOUR[st]}">${STATE_LABEL[st]}</text>`);
    out.push('</g>');
    y += hypH;
  }
  for (const t of traces) {
    const [lo, hi] = robustExtent(t.y);
    const pad = (hi - lo) * 0.05 || 1;
    const sy = linearScale(Number.isFinite(lo) ? [lo - pad, hi + pad] : [-1, 1], [y + panelH, y]);
    out.push(`<g data-panel="${esc(t.name)}">${axes(sx, sy, { x: null, y: t.label.replace(/ \(%\)$/, ' %') })}`);
    out.push(`<path class="data trace" data-trace="${esc(t.name)}" d="${tracePath(tr.t0S, tr.rateHz, t.y, sx, sy)}" stroke="${t.colour}" fill="none" stroke-width="0.8"/>`);
    out.push(`<text class="pl" x="${left + 6}" y="${y + 12}" fill="${t.colour}">${esc(t.label)}</text></g>`);
    y += panelH + gap;
  }
  const mas = a.sleep?.microArousals ?? [];
  if (mas.length) {
    const marks = mas.map((m) => `M${sx(m.startS).toFixed(1)},10V${bottom}`).join('');
    out.push(`<path class="ma" data-micro-arousals="${mas.length}" d="${marks}" stroke="#7b3294" stroke-opacity="0.55" stroke-width="1"/>`);
  }
  out.push(axes(sx, linearScale([0, 1], [bottom, 10]), { x: xLabel, y: null }, div));
  const svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${out.join('')}</svg>`;
  const caption = `${a.sleep ? `${a.sleep.source === 'imported' ? 'Imported' : 'Scored'} hypnogram (${a.sleep.epochS} s epochs)` : 'No hypnogram'}; corrected traces at ${fmt(tr.rateHz)} Hz (min/max per pixel); violet lines: ${mas.length} micro-arousal onsets.`;
  return figure('hypnogram', title, svg, caption);
}

interface Series { label: string; colour: string; x: ArrayLike<number>; y: ArrayLike<number>; name: string; dash?: string }

function psdPlot(name: ReportPlot, title: string, series: Series[], caption: string, reason: string): string {
  const withData = series.filter((s) => Array.from(s.y).some((v, i) => v > 0 && Number(s.x[i]) > 0));
  if (withData.length === 0) return unavailableFigure(name, title, reason);
  const W = 540;
  const H = 300;
  const [xlo, xhi] = extent(...withData.map((s) => s.x));
  const positive = withData.map((s) => Float64Array.from(s.y, (v, i) => (Number(s.x[i]) > 0 && v > 0 ? v : Number.NaN)));
  const [ylo, yhi] = extent(...positive);
  const sx = linearScale([xlo, xhi], [70, W - 15]);
  const sy = logScale([ylo, yhi], [H - 45, 12]);
  const paths = withData.map((s, k) => `<path class="data psd" data-series="${esc(s.name)}" d="${linePath(s.x, positive[k]!, sx, sy)}" stroke="${s.colour}" fill="none" stroke-width="1.4"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
  const legend = withData.map((s, k) => `<text class="pl" x="${W - 20}" y="${24 + 14 * k}" text-anchor="end" fill="${s.colour}">${esc(s.label)}</text>`);
  const svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${axes(sx, sy, { x: 'frequency (Hz)', y: 'PSD (%²/Hz)' })}${paths.join('')}${legend.join('')}</svg>`;
  return figure(name, title, svg, caption);
}

function lockedPlot(a: RecordingAnalysis): string {
  const title = 'Micro-arousal-locked averages';
  const l = a.oscillation?.locked;
  const names = l ? Object.keys(l.traces).filter((k) => l.traces[k]!.events > 0) : [];
  if (!l || names.length === 0) return unavailableFigure('ma-locked', title, a.oscillation ? 'no isolated micro-arousal to average around' : reasonFor(a, 'oscillation', 'sleep'));
  const W = 350;
  const H = 200;
  const panels = names.map((k, i) => {
    const t = l.traces[k]!;
    const lower = t.mean.map((m, j) => m - t.sem[j]!);
    const upper = t.mean.map((m, j) => m + t.sem[j]!);
    const [lo, hi] = extent(lower, upper, t.mean);
    const sx = linearScale([l.lagS[0]!, l.lagS[l.lagS.length - 1]!], [62, W - 10]);
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
    const sy: Scale = linearScale(Number.isFinite(lo) ? [lo - pad, hi + pad] : [-1, 1], [H - 40, 18]);
    const colour = k === 'NE' ? NE_COLOUR : k === 'bloodVolume' ? BV_COLOUR : PALETTE[(i + 2) % PALETTE.length]!;
    return `<svg data-locked="${esc(k)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${axes(sx, sy, { x: 'time from onset (s)', y: t.unit })}`
      + `<path class="zero" d="M${sx(0).toFixed(1)},18V${H - 40}" stroke="#999" stroke-dasharray="3 3"/>`
      + `<path class="data band" d="${bandPath(l.lagS, lower, upper, sx, sy)}" fill="${colour}" fill-opacity="0.22" stroke="none"/>`
      + `<path class="data mean" d="${linePath(l.lagS, t.mean, sx, sy)}" stroke="${colour}" fill="none" stroke-width="1.5"/>`
      + `<text class="pl" x="66" y="13" fill="${colour}">${esc(k)} (n = ${t.events})</text></svg>`;
  });
  return figure('ma-locked', title, `<div class="grid">${panels.join('')}</div>`, 'Mean ± SEM (shaded) around isolated micro-arousal onsets (lag 0).');
}

function xcorrPlot(a: RecordingAnalysis): string {
  const title = 'NE vs blood volume cross-correlation';
  const o = a.oscillation;
  const bouts = (o?.bouts ?? []).filter((b) => b.crossCorrelation && Number.isFinite(b.crossCorrelation.peakR) && Number.isFinite(b.crossCorrelation.lagS));
  if (!o || bouts.length === 0) return unavailableFigure('xcorr', title, reasonFor(a, 'cross-correlation', 'oscillation'));
  const W = 540;
  const H = 300;
  const maxLag = o.settings.maxLagS;
  const sx = linearScale([-maxLag, maxLag], [70, W - 15]);
  const sy = linearScale([-1, 1], [H - 45, 12]);
  const dots = bouts.map((b) => {
    const x = sx(b.crossCorrelation!.lagS);
    const y = sy(b.crossCorrelation!.peakR);
    const r = Math.max(2.5, Math.min(9, Math.sqrt(b.durationS / 30)));
    return `<circle class="data bout" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="${BV_COLOUR}" fill-opacity="0.5"><title>bout ${b.startS.toFixed(0)}–${b.endS.toFixed(0)} s: r ${fmt(b.crossCorrelation!.peakR)} at ${fmt(b.crossCorrelation!.lagS)} s</title></circle>`;
  });
  const s = o.summary;
  const cross = Number.isFinite(s.neBloodVolumeLagS) && Number.isFinite(s.neBloodVolumeR)
    ? `<path class="data summary" d="M${(sx(s.neBloodVolumeLagS) - 7).toFixed(1)},${sy(s.neBloodVolumeR).toFixed(1)}h14M${sx(s.neBloodVolumeLagS).toFixed(1)},${(sy(s.neBloodVolumeR) - 7).toFixed(1)}v14" stroke="#222" stroke-width="2"/>`
    : '';
  const ref = `<path class="zero" d="M${sx(0).toFixed(1)},12V${H - 45}M70,${sy(0).toFixed(1)}H${W - 15}" stroke="#999" stroke-dasharray="3 3"/>`;
  const svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${axes(sx, sy, { x: 'lag (s; > 0: blood volume follows NE)', y: 'peak Pearson r' })}${ref}${dots.join('')}${cross}</svg>`;
  return figure('xcorr', title, svg, `Peak r and its lag per NREM bout (dot area ∝ bout duration); cross: duration-weighted mean (r ${fmt(s.neBloodVolumeR)}, lag ${fmt(s.neBloodVolumeLagS)} s).`);
}

function headlineTable(a: RecordingAnalysis): string {
  const rows: Array<[string, string, string]> = [];
  rows.push(['recording duration', fmt(a.durationS / 60, 4), 'min']);
  rows.push(['correction', a.correction ? `${a.correction.method} (${a.correction.sensors.map((s) => s.sensor).join(', ')})` : '—', '']);
  const sl = sleepSummary(a);
  if (sl) {
    rows.push(['hypnogram', `${sl.source}, ${sl.epochs} epochs of ${sl.epochS} s`, '']);
    for (const st of ['wake', 'nrem', 'rem'] as const) rows.push([`time in ${STATE_LABEL[st]}`, `${fmt(sl.timeS[st] / 60, 4)} (${fmt(sl.timePct[st], 3)} %)`, 'min']);
    rows.push(['mean scoring confidence', fmt(sl.meanConfidence), '0..1']);
    rows.push(['micro-arousals', `${sl.microArousals} (${fmt(sl.microArousalsPerNremHour)} per NREM hour)`, 'count']);
    rows.push(['micro-arousal mean duration', fmt(sl.microArousalMeanDurationS), 's']);
  }
  const s = a.oscillation?.summary;
  if (s) {
    rows.push(['NREM bouts analysed', `${s.bouts} (${fmt(s.analysedS / 60, 4)} min)`, 'count']);
    rows.push(['NE peak frequency', fmt(s.peakFrequencyHz, 4), 'Hz']);
    rows.push(['NE band power (< bandMaxHz)', fmt(s.bandPowerPct2), '%²']);
    rows.push(['NE cycle amplitude', fmt(s.cycleAmplitudePct), '% ΔF/F']);
    rows.push(['NE–blood volume peak r', fmt(s.neBloodVolumeR), '']);
    rows.push(['NE–blood volume lag', fmt(s.neBloodVolumeLagS), 's']);
  }
  return `<table data-table="headline"><thead><tr><th>quantity</th><th>value</th><th>unit</th></tr></thead><tbody>${rows.map((r) => `<tr><td>${esc(r[0])}</td><td>${esc(r[1])}</td><td>${esc(r[2])}</td></tr>`).join('')}</tbody></table>`;
}

function unavailableTable(a: RecordingAnalysis): string {
  if (a.unavailable.length === 0) return '<p data-table="unavailable" data-count="0">Every part of the analysis was computed.</p>';
  return `<table data-table="unavailable" data-count="${a.unavailable.length}"><thead><tr><th>part</th><th>code</th><th>reason</th></tr></thead><tbody>${a.unavailable.map((u) => `<tr><td>${esc(u.part)}</td><td><code>${esc(u.code)}</code></td><td>${esc(u.reason)}</td></tr>`).join('')}</tbody></table>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1160px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}.meta{color:#555;margin:0 0 12px}
figure{margin:16px 0;padding:8px;border:1px solid #ddd;border-radius:4px}figcaption{margin-bottom:6px;color:#444}
.row{display:flex;flex-wrap:wrap;gap:12px}.row figure{flex:0 0 auto;width:min-content}.grid{display:flex;flex-wrap:wrap;gap:8px}
svg{display:block;background:#fff}.axis,.tick{stroke:#444;fill:none;stroke-width:1}.tl{font-size:10px;fill:#444}.al{font-size:11px;fill:#222}
.pl{font-size:11px;font-weight:600}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.na{color:#a33}`;

/** The report page, self-contained. */
export function reportHtml(a: RecordingAnalysis, analyzedAt = new Date()): string {
  const psds = namedPsds(a);
  const stateSeries: Series[] = psds.filter((p) => /^ne_(wake|nrem|rem)$/.test(p.name)).map((p) => {
    const st = p.name.slice(3) as SleepState;
    return { label: `${STATE_LABEL[st]} (${fmt(p.psd.durationS / 60, 3)} min)`, colour: STATE_COLOUR[st], x: p.psd.frequencyHz, y: p.psd.powerPct2PerHz, name: st };
  });
  const boutSeries: Series[] = [];
  const ne = psds.find((p) => p.name === 'ne_nrem_bouts');
  const bv = psds.find((p) => p.name === 'blood_volume_nrem_bouts');
  if (ne) boutSeries.push({ label: 'NE', colour: NE_COLOUR, x: ne.psd.frequencyHz, y: ne.psd.powerPct2PerHz, name: 'NE' });
  if (bv) boutSeries.push({ label: 'blood volume', colour: BV_COLOUR, x: bv.psd.frequencyHz, y: bv.psd.powerPct2PerHz, name: 'bloodVolume', dash: '5 3' });
  const noOsc = reasonFor(a, 'oscillation', 'sleep');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>fiberrig analysis: ${esc(a.recording)}</title><style>${CSS}</style></head>
<body data-fiberrig-version="${esc(a.fiberrigVersion)}">
<h1>fiberrig analysis</h1>
<p class="meta">${esc(a.recording)} · ${fmt(a.durationS / 60, 4)} min · analysed ${esc(analyzedAt.toISOString())} with fiberrig ${esc(a.fiberrigVersion)}</p>
<h2>Headline numbers</h2>
${headlineTable(a)}
<h2>Not computed</h2>
${unavailableTable(a)}
<h2>Sleep and signals</h2>
${hypnogramPlot(a)}
<h2>NE oscillation</h2>
<div class="row">
${psdPlot('psd-state', 'NE PSD per state', stateSeries, 'Welch PSD of the corrected NE ΔF/F over every stretch of each state.', noOsc)}
${psdPlot('psd-bouts', 'PSD over NREM bouts', boutSeries, 'Duration-weighted mean over the NREM bouts analysed (high-passed, detrended).', a.oscillation ? 'no NREM bout long enough' : noOsc)}
</div>
<div class="row">
${xcorrPlot(a)}
</div>
${lockedPlot(a)}
</body></html>
`;
}
