// Plot helpers for the live view: a growing series store trimmed to the
// window, scrolling uPlot traces with event markers, and the raw scope.
// Plain ES module, no build step; uPlot is served from node_modules.
import uPlot from '/vendor/uPlot.esm.js';

/** Wavelength (nm) to a trace colour that reads on a dark background. */
export function wavelengthColor(nm) {
  if (!nm) return '#e5e7eb';
  if (nm < 430) return '#b197fc';
  if (nm < 500) return '#4dabf7';
  if (nm < 540) return '#69db7c';
  if (nm < 600) return '#ffd43b';
  return '#ff8787';
}

const DIGITAL_COLORS = ['#f783ac', '#63e6be', '#ffa94d', '#a9e34b'];

/** Seconds on the session timeline as m:ss (or h:mm:ss). */
export function clock(s) {
  const sign = s < 0 ? '-' : '';
  const t = Math.abs(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = Math.floor(t % 60);
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${sign}${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** x plus one y array per channel, appended from server chunks, trimmed to the window. */
export class SeriesStore {
  constructor(channelCount) {
    this.channelCount = channelCount;
    this.reset();
  }

  reset() {
    this.x = [];
    this.y = Array.from({ length: this.channelCount }, () => []);
  }

  /** chunk: {x: number[], y: (number|null)[][]}; returns the points added. */
  append(chunk) {
    // a resend (new window) may overlap what is held: keep only what is newer
    const last = this.x.length ? this.x[this.x.length - 1] : -Infinity;
    let start = 0;
    while (start < chunk.x.length && chunk.x[start] <= last) start++;
    for (let i = start; i < chunk.x.length; i++) this.x.push(chunk.x[i]);
    for (let c = 0; c < this.channelCount; c++) {
      const src = chunk.y[c] || [];
      const dst = this.y[c];
      for (let i = start; i < chunk.x.length; i++) dst.push(src[i] ?? null);
    }
    return chunk.x.length - start;
  }

  get end() {
    return this.x.length ? this.x[this.x.length - 1] : 0;
  }

  /** Drops points older than `fromS` (in batches, to keep it cheap). */
  trim(fromS) {
    let n = 0;
    while (n < this.x.length && this.x[n] < fromS) n++;
    if (n > 256 || n > this.x.length / 4) {
      this.x.splice(0, n);
      for (const y of this.y) y.splice(0, n);
    }
  }
}

function axisStyle() {
  return { stroke: '#adb5bd', grid: { stroke: '#2b3038', width: 1 }, ticks: { stroke: '#2b3038', width: 1 }, font: '11px system-ui, sans-serif' };
}

/** Vertical lines for digital and LED events, drawn over the plot area. */
function markerPlugin(getEvents, labels) {
  return {
    hooks: {
      draw: [
        (u) => {
          // digital and LED events arrive on separate streams: label overlap is judged in time order
          const events = getEvents().slice().sort((a, b) => a.tS - b.tS);
          if (!events.length) return;
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          const [min, max] = [u.scales.x.min, u.scales.x.max];
          ctx.save();
          ctx.font = `${Math.round(10 * devicePixelRatio)}px system-ui, sans-serif`;
          ctx.lineWidth = devicePixelRatio;
          let labelEnd = -Infinity;
          for (const e of events) {
            if (e.tS < min || e.tS > max) continue;
            const x = Math.round(u.valToPos(e.tS, 'x', true)) + 0.5;
            if (x < left || x > left + width) continue;
            if (e.kind === 'digital') {
              ctx.strokeStyle = DIGITAL_COLORS[e.line % DIGITAL_COLORS.length];
              ctx.setLineDash(e.rising ? [] : [3 * devicePixelRatio, 3 * devicePixelRatio]);
            } else {
              ctx.strokeStyle = '#ced4da';
              ctx.setLineDash([1 * devicePixelRatio, 3 * devicePixelRatio]);
            }
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            // labels for rising edges and LED changes, skipped where they would overlap
            if (labels && (e.kind !== 'digital' || e.rising) && x > labelEnd) {
              const text = e.kind === 'digital' ? `${labels(e.line)}↑` : `LED${e.channel} ${e.currentMa.toFixed(1)} mA`;
              ctx.fillStyle = ctx.strokeStyle;
              ctx.fillText(text, x + 3 * devicePixelRatio, top + 11 * devicePixelRatio);
              labelEnd = x + ctx.measureText(text).width + 8 * devicePixelRatio;
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** A scrolling time trace: x is session time (s); the x range is the last `windowS` seconds. */
export class TracePlot {
  /**
   * opts: { title, unit, series: [{label, color}], height, getEvents, eventLabel }
   */
  constructor(container, opts) {
    this.windowS = 30;
    this.end = 0;
    this.container = container;
    const el = document.createElement('div');
    el.className = 'plot';
    container.appendChild(el);
    this.el = el;
    this.u = new uPlot(
      {
        title: opts.title,
        width: Math.max(200, el.clientWidth || container.clientWidth || 400),
        height: opts.height || 150,
        pxAlign: false,
        legend: { show: opts.legend !== false, live: false },
        cursor: { show: false },
        scales: {
          x: { time: false, range: () => [this.end - this.windowS, this.end] },
          y: { range: (_u, min, max) => padRange(min, max) },
        },
        axes: [
          { ...axisStyle(), values: (_u, vals) => vals.map((v) => (v < 0 ? '' : clock(v))), size: 28 },
          { ...axisStyle(), space: 18, label: opts.unit, labelSize: 14, labelFont: '11px system-ui, sans-serif', size: 58, values: (_u, vals) => vals.map(fmt) },
        ],
        series: [{}, ...opts.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.25, spanGaps: false, points: { show: false } }))],
        plugins: opts.getEvents ? [markerPlugin(opts.getEvents, opts.eventLabel)] : [],
      },
      [[], ...opts.series.map(() => [])],
      el,
    );
  }

  setWindow(seconds) {
    this.windowS = seconds;
  }

  /** data: [x, ...ys] (arrays are referenced, not copied); end: newest time shown at the right edge. */
  update(data, end) {
    this.end = end;
    this.u.setData(data);
  }

  resize() {
    const w = this.el.clientWidth;
    if (w > 0 && Math.abs(w - this.u.width) > 2) this.u.setSize({ width: w, height: this.u.height });
  }
}

function padRange(min, max) {
  if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const d = Math.abs(min) * 0.01 || 1;
    return [min - d, max + d];
  }
  const pad = (max - min) * 0.08;
  return [min - pad, max + pad];
}

function fmt(v) {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

/** The raw photodetector view: the latest samples at full rate, 0–100 % of the ADC range. */
export class ScopePlot {
  constructor(container, channels, rateHz) {
    this.rateHz = rateHz;
    const el = document.createElement('div');
    el.className = 'plot';
    container.appendChild(el);
    this.el = el;
    this.u = new uPlot(
      {
        title: `raw photodetectors (latest samples at ${rateHz / 1000} kS/s)`,
        width: Math.max(200, el.clientWidth || 400),
        height: 170,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: { x: { time: false }, y: { range: [0, 105] } },
        axes: [
          { ...axisStyle(), values: (_u, vals) => vals.map((v) => `${v.toFixed(1)} ms`), size: 28 },
          { ...axisStyle(), label: '% of full scale', labelSize: 14, labelFont: '11px system-ui, sans-serif', size: 58 },
        ],
        series: [{}, ...channels.map((c, i) => ({ label: c.label, stroke: i === 0 ? '#e9ecef' : '#74c0fc', width: 1, points: { show: false } }))],
        hooks: {
          draw: [
            (u) => {
              // the ADC rail
              const y = Math.round(u.valToPos(100, 'y', true)) + 0.5;
              const { ctx } = u;
              ctx.save();
              ctx.strokeStyle = '#fa5252';
              ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.restore();
            },
          ],
        },
      },
      [[], ...channels.map(() => [])],
      el,
    );
  }

  /** raw: {tS, y: number[][]} */
  update(raw) {
    const n = raw.y[0] ? raw.y[0].length : 0;
    const x = new Array(n);
    for (let i = 0; i < n; i++) x[i] = ((i - (n - 1)) / this.rateHz) * 1000;
    this.u.setData([x, ...raw.y]);
  }

  resize() {
    const w = this.el.clientWidth;
    if (w > 0 && Math.abs(w - this.u.width) > 2) this.u.setSize({ width: w, height: this.u.height });
  }
}
