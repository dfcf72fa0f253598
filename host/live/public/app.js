// One unit: the page's one render loop owns the plots and controls built from the hello message.
// fiberrig live view: connects to the server's WebSocket, builds the plots
// and controls from the hello message, and applies a frame at most once per
// animation frame. Message shapes: host/live/messages.ts.
import { clock, ScopePlot, SeriesStore, TracePlot, wavelengthColor } from './plots.js';

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get('token');

const state = {
  ws: undefined,
  hello: undefined,
  windowS: 30,
  signals: undefined,
  aux: undefined,
  dff: undefined,
  dffPlot: undefined,
  /** running sleep state: epochS, and states by epoch index */
  sleep: { epochS: 4, states: new Map() },
  events: [],
  signalPlots: [],
  auxPlots: [],
  scope: undefined,
  pendingFrames: [],
  nextId: 1,
  pending: new Map(),
  ledInputs: new Map(),
  drawScheduled: false,
  retryMs: 500,
};

/** Counters the end-to-end test reads. */
window.fiberrigLive = { frames: 0, signalPoints: 0, auxPoints: 0, dffPoints: 0, sleepEpochs: 0, sleepScored: 0, rawFrames: 0, digitalEvents: 0, lastStatus: null, connected: false };

const SLEEP_COLORS = { wake: '#fcc419', nrem: '#4dabf7', rem: '#da77f2', unknown: '#495057' };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

/** Sends a command and resolves with the server's reply. */
function command(message) {
  const id = state.nextId++;
  return new Promise((resolve) => {
    state.pending.set(id, resolve);
    send({ ...message, id });
  });
}

function toast(text, level = 'error') {
  const box = $('toast');
  box.textContent = text;
  box.className = `toast ${level}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.className = 'toast hidden'; }, 6000);
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  state.ws = ws;
  ws.onopen = () => {
    state.retryMs = 500;
    window.fiberrigLive.connected = true;
    $('link').textContent = 'connected';
    $('link').className = 'pill ok';
  };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === 'hello') onHello(m);
    else if (m.type === 'frame') {
      state.pendingFrames.push(m);
      scheduleDraw();
    } else if (m.type === 'reply') {
      const resolve = state.pending.get(m.id);
      state.pending.delete(m.id);
      if (resolve) resolve(m);
    }
  };
  ws.onclose = () => {
    window.fiberrigLive.connected = false;
    $('link').textContent = 'disconnected: retrying';
    $('link').className = 'pill bad';
    for (const resolve of state.pending.values()) resolve({ ok: false, error: 'disconnected' });
    state.pending.clear();
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(5000, state.retryMs * 2);
  };
}

// ------------------------------------------------------------------ layout

function onHello(h) {
  state.hello = h;
  state.windowS = state.windowS || h.windowS;
  $('device').textContent = `${h.device.firmware} · ${h.device.board} ${h.device.serialNumber} · ${h.device.url} · ${h.mode} ${h.sampleRateHz / 1000} kS/s`;
  state.signals = new SeriesStore(h.signals.channels.length);
  state.aux = h.aux ? new SeriesStore(h.aux.channels.length) : undefined;
  state.dff = h.analysis.dff ? new SeriesStore(1) : undefined;
  state.sleep = { epochS: h.analysis.sleep ? h.analysis.sleep.epochS : 4, states: new Map() };
  state.events = [];
  buildControls(h);
  buildPlots(h);
  send({ type: 'window', seconds: state.windowS });
}

function digitalLabel(line) {
  const d = state.hello?.digitalLines.find((x) => x.id === line);
  return d ? d.label : `DI${line}`;
}

function buildPlots(h) {
  for (const p of [...state.signalPlots, ...state.auxPlots, ...(state.scope ? [state.scope] : []), ...(state.dffPlot ? [state.dffPlot] : [])]) p.u.destroy();
  buildAnalysis(h);
  const grid = $('signals');
  grid.replaceChildren();
  state.signalPlots = [];
  const detectors = [...new Set(h.signals.channels.map((c) => c.inputId))];
  grid.style.gridTemplateColumns = `repeat(${detectors.length}, minmax(0, 1fr))`;
  // rows: wavelengths, columns: detectors
  const order = h.signals.channels.map((c, i) => ({ c, i })).sort((a, b) => (a.c.wavelengthNm ?? 0) - (b.c.wavelengthNm ?? 0) || a.c.inputId - b.c.inputId);
  for (const { c, i } of order) {
    const cell = el('div', { class: 'cell', 'data-channel': c.name });
    grid.append(cell);
    const plot = new TracePlot(cell, {
      title: c.wavelengthNm ? `${c.wavelengthNm} nm · ${c.label}` : c.name,
      unit: 'mV',
      series: [{ label: c.name, color: wavelengthColor(c.wavelengthNm) }],
      height: 135,
      legend: false,
      getEvents: () => state.events,
      eventLabel: i === order[0].i ? digitalLabel : undefined,
    });
    plot.channel = i;
    state.signalPlots.push(plot);
  }
  $('signals-unit').textContent = `${h.signals.unit}, ${h.signals.rateHz} Hz`;

  const auxBox = $('aux');
  auxBox.replaceChildren();
  state.auxPlots = [];
  $('aux-section').hidden = !h.aux;
  if (h.aux) {
    h.aux.channels.forEach((c, i) => {
      const plot = new TracePlot(auxBox, {
        title: c.label,
        unit: 'mV',
        series: [{ label: c.label, color: i === 0 ? '#e9ecef' : '#ffa8a8' }],
        height: 130,
        legend: false,
        getEvents: () => state.events,
        eventLabel: i === 0 ? digitalLabel : undefined,
      });
      plot.channel = i;
      state.auxPlots.push(plot);
    });
    $('aux-unit').textContent = `${h.aux.unit}, ${h.aux.rateHz} Hz`;
  }

  const scopeBox = $('raw');
  scopeBox.replaceChildren();
  state.scope = new ScopePlot(scopeBox, h.raw.channels, h.raw.rateHz);
  for (const p of [...state.signalPlots, ...state.auxPlots]) p.setWindow(state.windowS);
  requestAnimationFrame(resizeAll);
}

function buildAnalysis(h) {
  const a = h.analysis;
  $('analysis-section').hidden = !a.dff && !a.sleep;
  const box = $('dff');
  box.replaceChildren();
  state.dffPlot = undefined;
  if (a.dff) {
    state.dffPlot = new TracePlot(box, {
      title: `corrected ΔF/F · from ${a.dff.warmupS} s of data`,
      unit: '%',
      series: [{ label: 'ΔF/F', color: '#69db7c' }],
      height: 150,
      legend: false,
      getEvents: () => state.events,
    });
    state.dffPlot.setWindow(state.windowS);
    $('analysis-unit').textContent = `causal, ${a.dff.rateHz} Hz`;
  }
  $('sleep-box').hidden = !a.sleep;
  if (a.sleep) $('sleep-strip').title = `running sleep state per ${a.sleep.epochS} s epoch from ${a.sleep.eeg} and ${a.sleep.emg}`;
}

function setDffTitle(d) {
  const how = d.method === 'haemodynamic' ? `haemodynamic (${d.control}, ${d.bloodVolume})` : d.method === 'isosbestic' ? `isosbestic (${d.control})` : 'bleaching only';
  const title = `corrected ΔF/F · ${d.sensor} · ${how}`;
  const node = state.dffPlot?.u.root.querySelector('.u-title');
  if (node && node.textContent !== title) node.textContent = title;
}

/** Draws the sleep-state strip over the same time window as the traces. */
function drawSleepStrip(end) {
  const canvas = $('sleep-strip');
  if (!state.hello?.analysis.sleep || !canvas) return;
  const w = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
  const h = Math.max(1, Math.round(canvas.clientHeight * devicePixelRatio));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, w, h);
  // the strip lines up with the plots' data area (their y axis takes 58 px on the left)
  const left = Math.round(58 * devicePixelRatio);
  const width = w - left;
  const from = end - state.windowS;
  const { epochS, states } = state.sleep;
  let drawn = 0;
  let scored = 0;
  for (const [k, s] of states) {
    const t0 = k * epochS;
    const t1 = t0 + epochS;
    if (t1 <= from || t0 >= end) continue;
    const x0 = left + Math.max(0, ((t0 - from) / state.windowS) * width);
    const x1 = left + Math.min(width, ((t1 - from) / state.windowS) * width);
    ctx.fillStyle = SLEEP_COLORS[s] || SLEEP_COLORS.unknown;
    ctx.fillRect(Math.floor(x0), 0, Math.max(1, Math.ceil(x1 - x0)), h);
    drawn++;
    if (s !== 'unknown') scored++;
  }
  canvas.dataset.epochs = String(drawn);
  canvas.dataset.scored = String(scored);
}

function resizeAll() {
  state.dffPlot?.resize();
  for (const p of [...state.signalPlots, ...state.auxPlots]) p.resize();
  state.scope?.resize();
}
window.addEventListener('resize', resizeAll);

function buildControls(h) {
  // acquisition
  const acq = h.controls.acquisition;
  for (const id of ['start', 'stop']) {
    $(id).disabled = !acq.enabled;
    $(id).title = acq.enabled ? '' : acq.reason;
  }
  $('acq-reason').textContent = acq.enabled ? '' : acq.reason;

  // window
  const select = $('window');
  select.replaceChildren(...h.windowsS.map((s) => el('option', { value: String(s), text: s < 60 ? `${s} s` : `${s / 60} min` })));
  select.value = String(state.windowS);

  // LEDs
  const box = $('leds');
  box.replaceChildren();
  state.ledInputs.clear();
  for (const led of h.leds) {
    const initial = Math.min(led.configuredMa ?? 0, led.limitMa);
    const on = el('input', { type: 'checkbox', 'data-led-on': String(led.channel), title: 'LED on/off' });
    on.checked = initial > 0;
    const slider = el('input', { type: 'range', min: '0', max: String(led.limitMa), step: '0.1', value: String(initial), 'data-led': String(led.channel), 'aria-label': `LED ${led.wavelengthNm} nm current (mA)` });
    const set = el('span', { class: 'num', text: `${initial.toFixed(1)} mA` });
    const applied = el('span', { class: 'applied', text: '' });
    const row = el('div', { class: 'led' },
      el('label', { class: 'led-name' }, on, el('span', { class: 'swatch', style: `background:${wavelengthColor(led.wavelengthNm)}` }), `${led.wavelengthNm} nm`),
      slider, set,
      el('div', { class: 'led-detail' }, applied, el('span', { class: 'limit', text: `max ${led.limitMa} mA${led.calibrated ? ' · calibrated' : ''}${led.carrierHz ? ` · ${led.carrierHz} Hz` : ''}` })));
    box.append(row);
    let lastSent = 0;
    let timer;
    const push = () => {
      clearTimeout(timer);
      lastSent = performance.now();
      const currentMa = on.checked ? Number(slider.value) : 0;
      command({ type: 'setLed', channel: led.channel, currentMa }).then((r) => { if (!r.ok) toast(`LED ${led.wavelengthNm} nm: ${r.error}`); });
    };
    slider.addEventListener('input', () => {
      set.textContent = `${Number(slider.value).toFixed(1)} mA`;
      if (!on.checked) return;
      // at most ~8 changes per second while dragging; the final value on release
      if (performance.now() - lastSent > 120) push();
      else { clearTimeout(timer); timer = setTimeout(push, 120); }
    });
    slider.addEventListener('change', push);
    on.addEventListener('change', push);
    state.ledInputs.set(led.channel, { applied, led, slider, on, set, synced: led.configuredMa !== undefined });
  }

  // recording
  const rec = h.controls.recording;
  $('record').disabled = !rec.enabled;
  $('subject').disabled = !rec.enabled;
  $('rec-reason').textContent = rec.enabled ? '' : rec.reason;
}

$('start').addEventListener('click', async () => {
  $('start').disabled = true;
  const r = await command({ type: 'start' });
  $('start').disabled = false;
  if (!r.ok) toast(`start: ${r.error}`);
});
$('stop').addEventListener('click', async () => {
  $('stop').disabled = true;
  const r = await command({ type: 'stop' });
  $('stop').disabled = false;
  if (!r.ok) toast(`stop: ${r.error}`);
});
$('window').addEventListener('change', () => {
  state.windowS = Number($('window').value);
  for (const p of [...state.signalPlots, ...state.auxPlots]) p.setWindow(state.windowS);
  state.dffPlot?.setWindow(state.windowS);
  send({ type: 'window', seconds: state.windowS });
});
$('record').addEventListener('click', async () => {
  const on = !state.recording;
  const r = await command({ type: 'record', on, subject: $('subject').value });
  if (!r.ok) toast(`record: ${r.error}`);
});

// ------------------------------------------------------------------ frames

function scheduleDraw() {
  if (state.drawScheduled) return;
  state.drawScheduled = true;
  requestAnimationFrame(draw);
}

function draw() {
  state.drawScheduled = false;
  const frames = state.pendingFrames;
  state.pendingFrames = [];
  if (!state.hello || frames.length === 0) return;
  const live = window.fiberrigLive;
  let last;
  for (const f of frames) {
    if (f.reset) {
      state.signals.reset();
      state.aux?.reset();
      state.dff?.reset();
      state.sleep.states.clear();
      state.events = [];
    }
    if (f.signals) live.signalPoints += state.signals.append(f.signals);
    if (f.dff && state.dff) {
      live.dffPoints += state.dff.append(f.dff);
      setDffTitle(f.dff);
    }
    if (f.sleep) {
      state.sleep.epochS = f.sleep.epochS;
      f.sleep.states.forEach((s, i) => {
        const k = f.sleep.firstEpoch + i;
        if (!state.sleep.states.has(k)) live.sleepEpochs++;
        if (s !== 'unknown' && state.sleep.states.get(k) !== s) live.sleepScored++;
        state.sleep.states.set(k, s);
      });
    }
    if (f.aux && state.aux) live.auxPoints += state.aux.append(f.aux);
    if (f.events) {
      state.events.push(...f.events);
      live.digitalEvents += f.events.filter((e) => e.kind === 'digital').length;
    }
    last = f;
  }
  live.frames += frames.length;
  live.lastStatus = last.status;

  const end = Math.max(state.signals.end, state.aux ? state.aux.end : 0);
  const from = end - state.windowS;
  state.signals.trim(from);
  state.aux?.trim(from);
  state.dff?.trim(from);
  for (const k of state.sleep.states.keys()) if ((k + 1) * state.sleep.epochS < from - state.windowS) state.sleep.states.delete(k);
  if (state.events.length > 500 || (state.events[0] && state.events[0].tS < from - state.windowS)) state.events = state.events.filter((e) => e.tS >= from);
  for (const p of state.signalPlots) p.update([state.signals.x, state.signals.y[p.channel]], end);
  if (state.aux) for (const p of state.auxPlots) p.update([state.aux.x, state.aux.y[p.channel]], end);
  if (state.dff && state.dffPlot) state.dffPlot.update([state.dff.x, state.dff.y[0]], end);
  drawSleepStrip(end);
  if (last.raw) {
    state.scope.update(last.raw);
    live.rawFrames++;
  }
  renderStatus(last.status, end);
  renderWarnings(last.warnings);
  renderRecording(last.recording);
}

function renderRecording(r) {
  state.recording = r.recording;
  const badge = $('rec');
  if (r.recording) {
    badge.className = 'rec on';
    badge.textContent = `● RECORDING${r.subject ? ` · ${r.subject}` : ''}${r.target ? ` → ${r.target}` : ''}`;
  } else {
    badge.className = 'rec off';
    badge.textContent = 'NOT RECORDING';
  }
  $('record').textContent = r.recording ? 'Stop recording' : 'Record';
  // a recording owns the acquisition: start/stop wait until it ends (on a change only, not every frame)
  const acq = state.hello?.controls.acquisition;
  if (acq?.enabled && state.acquisitionHeldByRecording !== r.recording) {
    state.acquisitionHeldByRecording = r.recording;
    for (const id of ['start', 'stop']) {
      $(id).disabled = r.recording;
      $(id).title = r.recording ? 'a recording runs the acquisition: stop the recording first' : '';
    }
    $('acq-reason').textContent = r.recording ? 'recording: stop the recording to start or stop the device' : '';
  }
}

function renderWarnings(warnings) {
  const box = $('warnings');
  box.replaceChildren(...warnings.map((w) => el('div', { class: `warning ${w.level}`, text: w.text })));
}

function fmtRate(hz) {
  return hz >= 1000 ? `${(hz / 1000).toFixed(1)} kS/s` : `${hz.toFixed(0)} S/s`;
}

function renderStatus(s, end) {
  const acq = $('acq-state');
  acq.textContent = s.acquiring ? (s.running ? 'running' : 'starting…') : 'stopped';
  acq.className = `pill ${s.acquiring ? 'ok' : 'idle'}`;
  const speed = s.configuredRateHz > 0 && s.receivedRateHz > 0 ? s.receivedRateHz / s.configuredRateHz : 0;
  let drift = '—';
  if (s.clockDriftPpm !== null) {
    drift = Math.abs(s.clockDriftPpm) > 1e4
      ? `device ×${(1 / (1 + s.clockDriftPpm * 1e-6)).toFixed(2)} host (simulated speed)`
      : `${s.clockDriftPpm.toFixed(1)} ppm`;
  }
  const rows = [
    ['session time', clock(end)],
    ['sample rate', `${fmtRate(s.configuredRateHz)} set · ${fmtRate(s.receivedRateHz)} received${speed > 1.05 || (speed > 0 && speed < 0.95) ? ` (×${speed.toFixed(2)})` : ''}`],
    ['device buffer', s.bufferFillPct === null ? '—' : `${s.bufferFillPct.toFixed(0)} %`],
    ['frames rejected', `device ${s.framesRejectedDevice} · host ${s.framesRejectedHost}`],
    ['heartbeat age', s.heartbeatAgeMs === null ? '—' : `${s.heartbeatAgeMs} ms${s.heartbeatRoundTripMs !== null ? ` · rtt ${s.heartbeatRoundTripMs.toFixed(1)} ms` : ''}`],
    ['clock drift', drift],
    ['gaps', `${s.gaps} · missing ${s.hostMissingSamples} · device dropped ${s.deviceDroppedSamples}`],
    ['LEDs', s.darkReason === 'none' ? 'driven' : s.darkReason],
    ['temperature', s.temperatureC === null ? '—' : `${s.temperatureC.toFixed(1)} °C`],
    ['reconnects', String(s.reconnects)],
  ];
  $('status').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
  for (const l of s.leds) {
    const input = state.ledInputs.get(l.channel);
    if (!input) continue;
    if (!input.synced && s.running) {
      // configured in µW (or unknown): start the slider where the device is
      input.synced = true;
      input.slider.value = String(l.currentMa);
      input.on.checked = l.currentMa > 0;
      input.set.textContent = `${l.currentMa.toFixed(1)} mA`;
    }
    input.applied.textContent = `applied ${l.currentMa.toFixed(1)} mA${l.powerUw > 0 || input.led.calibrated ? ` · ${l.powerUw.toFixed(1)} µW` : ''}`;
    input.applied.dataset.currentMa = String(l.currentMa);
  }
}

connect();
