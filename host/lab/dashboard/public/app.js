// fiberrig lab dashboard: one card per rig (state, link health, mirror progress, its sessions'
// archive progress, alarms, a live trace), selection, and start/stop of one rig or the selected group. Message shapes:
// host/lab/dashboard/messages.ts. Plain ES module, no build step; uPlot from node_modules.
import uPlot from '/vendor/uPlot.esm.js';

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get('token');

const state = {
  ws: undefined,
  hello: undefined,
  cards: new Map(),
  selected: new Set(),
  nextId: 1,
  pending: new Map(),
  drawScheduled: false,
  retryMs: 500,
  /** 'pct': each channel as % change from its mean over the window (channels of very different levels stay readable); 'raw': as published */
  scale: 'pct',
};

/** Counters the end-to-end test reads. */
window.fiberrigLab = { frames: 0, connected: false, points: {}, rigs: [], replies: [] };

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

function channelColor(name, i) {
  const nm = Number((/(\d{3})\s*nm/.exec(name) || [])[1]);
  if (nm) {
    if (nm < 430) return '#b197fc';
    if (nm < 500) return '#4dabf7';
    if (nm < 540) return '#69db7c';
    if (nm < 600) return '#ffd43b';
    return '#ff8787';
  }
  return ['#e5e7eb', '#63e6be', '#f783ac', '#ffa94d'][i % 4];
}

const mb = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;

function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.classList.remove('hidden');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.add('hidden'), 8000);
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

// ------------------------------------------------------------ live plots

class LivePlot {
  constructor(container, windowS) {
    this.container = container;
    this.windowS = windowS;
    this.reset(undefined);
  }

  reset(session) {
    this.session = session;
    this.channels = [];
    this.x = [];
    this.y = [];
    this.rebuild();
  }

  rebuild() {
    this.plot?.destroy();
    const axis = { stroke: '#adb5bd', grid: { stroke: '#2b3038', width: 1 }, ticks: { stroke: '#2b3038', width: 1 }, font: '11px system-ui, sans-serif' };
    const width = Math.max(200, this.container.clientWidth || 400);
    this.plot = new uPlot({
      width, height: 150,
      scales: { x: { time: false } },
      legend: { show: this.channels.length > 0 },
      cursor: { show: false },
      axes: [{ ...axis, label: 'session time (s)', labelSize: 14, size: 30 }, { ...axis, size: 50, label: state.scale === 'pct' ? '% of mean' : 'mV', labelSize: 14 }],
      series: [{}, ...this.channels.map((name, i) => ({ label: name, stroke: channelColor(name, i), width: 1, spanGaps: false }))],
    }, [this.x, ...this.y], this.container);
  }

  /** Appends points (in order); returns the number added. */
  append(points) {
    let added = 0;
    for (const p of points) {
      if (p.session !== this.session) this.reset(p.session);
      const names = Object.keys(p.values).filter((n) => !this.channels.includes(n));
      if (names.length > 0) {
        for (const n of names) {
          this.channels.push(n);
          this.y.push(this.x.map(() => null));
        }
        this.rebuild();
      }
      if (this.x.length && p.timeS <= this.x[this.x.length - 1]) continue;
      this.x.push(p.timeS);
      this.channels.forEach((n, i) => {
        this.y[i].push(p.values[n] ?? null);
      });
      added++;
    }
    const from = this.x.length ? this.x[this.x.length - 1] - this.windowS : 0;
    let drop = 0;
    while (drop < this.x.length && this.x[drop] < from) drop++;
    if (drop > 0) {
      this.x.splice(0, drop);
      for (const y of this.y) y.splice(0, drop);
    }
    this.dirty = added > 0 || this.dirty;
    return added;
  }

  draw() {
    if (!this.dirty) return;
    this.dirty = false;
    const width = this.container.clientWidth;
    if (width > 0 && Math.abs(width - this.plot.width) > 4) this.plot.setSize({ width, height: 150 });
    this.plot.setData([this.x, ...(state.scale === 'pct' ? this.y.map(percentOfMean) : this.y)]);
  }
}

/** A channel as % change from its mean over the window (null stays null: a gap); as is when its mean is ~0. */
function percentOfMean(ys) {
  let sum = 0;
  let n = 0;
  for (const v of ys) {
    if (v !== null) {
      sum += v;
      n++;
    }
  }
  const mean = n > 0 ? sum / n : 0;
  if (!(Math.abs(mean) > 1e-9)) return ys;
  return ys.map((v) => (v === null ? null : ((v - mean) / mean) * 100));
}

// ------------------------------------------------------------ rig cards

function makeCard(rig) {
  const select = el('input', { type: 'checkbox', 'data-select': rig, title: 'select for group start/stop' });
  select.addEventListener('change', () => {
    if (select.checked) state.selected.add(rig);
    else state.selected.delete(rig);
    card.root.classList.toggle('selected', select.checked);
  });
  const subject = el('input', { type: 'text', placeholder: 'subject id', 'data-subject': rig, autocomplete: 'off' });
  const start = el('button', { type: 'button', class: 'go', 'data-start': rig, text: 'Start', onclick: () => startRigs([rig]) });
  const stop = el('button', { type: 'button', class: 'halt', 'data-stop': rig, text: 'Stop', onclick: () => stopRigs([rig]) });
  const forget = el('button', { type: 'button', 'data-forget': rig, text: 'Forget', title: 'remove this offline rig from the dashboard', onclick: () => command({ type: 'forget', rig }) });
  const status = el('span', { class: 'pill idle', 'data-status': rig });
  const fields = el('dl');
  const bar = el('i');
  const plotBox = el('div', { class: 'plot' });
  const result = el('div', { class: 'result', 'data-result': rig });
  const alarms = el('div', { class: 'rig-alarms' });
  const archive = el('div', { class: 'archive-sessions', 'data-archive': rig });
  const root = el('section', { class: 'rig', 'data-rig': rig },
    el('div', { class: 'rig-head' }, select, el('span', { class: 'rig-name', text: rig }), status),
    fields, el('div', { class: 'bar', title: 'raw log acknowledged by the broker' }, bar), archive, alarms, plotBox,
    el('div', { class: 'controls' }, subject, start, stop, forget), result);
  const card = { root, select, subject, start, stop, forget, status, fields, bar, result, alarms, archive, plot: undefined, plotBox, online: true };
  $('rigs').append(root);
  card.plot = new LivePlot(plotBox, state.hello?.liveWindowS ?? 60);
  return card;
}

function field(dl, name, value) {
  dl.append(el('dt', { text: name }), el('dd', { text: value, title: value }));
}

function updateCard(card, row) {
  const s = row.state;
  card.online = row.online;
  card.root.classList.toggle('offline', !row.online);
  card.status.className = `pill ${!row.online ? 'bad' : s.recording ? 'rec' : 'ok'}`;
  card.status.textContent = !row.online ? 'OFFLINE' : s.recording ? 'RECORDING' : s.status.toUpperCase();
  card.fields.replaceChildren();
  field(card.fields, 'device', `${s.device} · ${s.info.board} · ${s.info.firmware}`);
  field(card.fields, 'session', s.recording ? `${s.session} · subject ${s.subject ?? '—'}` : '—');
  const l = s.link;
  field(card.fields, 'link', `${l.connected ? 'connected' : 'DOWN'} · ${l.missingSamples} missing · ${l.droppedSamples} dropped · ${l.reconnects} reconnects${l.heartbeatRoundTripMs != null ? ` · RTT ${l.heartbeatRoundTripMs.toFixed(1)} ms` : ''}`);
  if (s.mirror) {
    const pct = s.mirror.fileBytes > 0 ? (100 * s.mirror.ackedBytes) / s.mirror.fileBytes : 100;
    field(card.fields, 'mirror', `${mb(s.mirror.ackedBytes)} of ${mb(s.mirror.fileBytes)} on the broker (${pct.toFixed(0)} %)${s.mirror.failures ? ` · ${s.mirror.failures} failures` : ''}`);
    card.bar.style.width = `${Math.min(100, pct)}%`;
  } else {
    field(card.fields, 'mirror', '—');
    card.bar.style.width = '0%';
  }
  if (s.disk) field(card.fields, 'disk', `${(s.disk.freeBytes / 1e9).toFixed(1)} GB free of ${(s.disk.totalBytes / 1e9).toFixed(1)} GB`);
  field(card.fields, 'heard', `${row.lastHeardS.toFixed(1)} s ago`);
  card.archive.replaceChildren(...row.archive.map(archiveLine));
  card.alarms.replaceChildren(...row.alarms.map((a) => el('div', { class: `alarm ${a.severity}`, 'data-alarm': a.kind, text: a.message })));
  card.start.disabled = !row.online || s.recording;
  card.stop.disabled = !row.online || !s.recording;
  card.forget.hidden = row.online;
}

/** One session's archive progress: archived bytes (of the raw log's, while the agent mirrors it), complete, verified, demod. */
function archiveLine(a) {
  const of = a.fileBytes != null && !a.complete ? ` of ${mb(a.fileBytes)} (${(a.fileBytes > 0 ? (100 * a.bytes) / a.fileBytes : 100).toFixed(0)} %)` : '';
  const stateText = a.complete ? `complete · ${a.sha256Ok ? 'verified' : 'NOT verified'} · demod ${a.demod}` : 'archiving';
  const cls = !a.complete ? 'busy' : !a.sha256Ok || a.demod === 'failed' ? 'bad' : 'ok';
  const text = `archive ${a.session}: ${mb(a.bytes)}${of} · ${a.records} records · ${stateText}`;
  return el('div', { class: `archive-session ${cls}`, 'data-archive-session': a.session, text, title: text });
}

function applyFrame(frame) {
  window.fiberrigLab.frames++;
  const seen = new Set();
  for (const row of frame.rigs) {
    seen.add(row.rig);
    let card = state.cards.get(row.rig);
    if (!card) state.cards.set(row.rig, (card = makeCard(row.rig)));
    updateCard(card, row);
  }
  for (const [rig, card] of state.cards) {
    if (seen.has(rig)) continue;
    card.plot.plot.destroy();
    card.root.remove();
    state.cards.delete(rig);
    state.selected.delete(rig);
  }
  for (const [rig, points] of Object.entries(frame.live)) {
    const card = state.cards.get(rig);
    if (!card) continue;
    const added = card.plot.append(points);
    window.fiberrigLab.points[rig] = (window.fiberrigLab.points[rig] ?? 0) + added;
  }
  window.fiberrigLab.rigs = frame.rigs.map((r) => ({ rig: r.rig, online: r.online, recording: r.state.recording, session: r.state.session, alarms: r.alarms.map((a) => a.kind), archive: r.archive.map((a) => ({ session: a.session, bytes: a.bytes, complete: a.complete, sha256Ok: a.sha256Ok, demod: a.demod })) }));
  // the fleet's alarms at the top, with the rig's name
  const all = frame.rigs.flatMap((r) => r.alarms.map((a) => ({ ...a, rig: r.rig })));
  $('alarms').replaceChildren(...all.filter((a) => a.severity === 'error').concat(all.filter((a) => a.severity !== 'error'))
    .map((a) => el('div', { class: `alarm ${a.severity}`, text: `${a.rig}: ${a.message}` })));
  const online = frame.rigs.filter((r) => r.online).length;
  const recording = frame.rigs.filter((r) => r.online && r.state.recording).length;
  $('summary').textContent = `${frame.rigs.length} rigs · ${online} online · ${recording} recording · ${all.length} alarms`;
  const a = frame.archive;
  const archive = $('archive');
  if (!a) {
    archive.className = 'pill idle';
    archive.textContent = 'archive: unknown';
  } else if (!a.consumer) {
    archive.className = 'pill warn';
    archive.textContent = 'archive: no archive consumer yet';
  } else {
    const behind = a.pendingMessages + a.ackPendingMessages;
    archive.className = `pill ${behind > 1000 ? 'warn' : 'ok'}`;
    archive.textContent = `archive: ${a.ackFloorSeq} of ${a.streamLastSeq} records · ${behind} behind`;
  }
  scheduleDraw();
}

function scheduleDraw() {
  if (state.drawScheduled) return;
  state.drawScheduled = true;
  requestAnimationFrame(() => {
    state.drawScheduled = false;
    for (const card of state.cards.values()) card.plot.draw();
  });
}

// ------------------------------------------------------------ commands

function showResults(reply) {
  window.fiberrigLab.replies.push(reply);
  const refused = [];
  for (const r of reply.results) {
    const card = state.cards.get(r.rig);
    if (card) {
      card.result.className = `result ${r.ok ? 'ok' : 'bad'}`;
      card.result.textContent = r.ok
        ? `${reply.action}: ok${r.session ? ` (session ${r.session})` : ''} · ${r.replyMs} ms`
        : `${reply.action} refused: ${r.error.message}${r.error.hint ? ` — ${r.error.hint}` : ''}`;
    }
    if (!r.ok) refused.push(`${r.rig}: ${r.error.message}`);
  }
  if (refused.length) toast(`${reply.action} refused on ${refused.length} of ${reply.results.length} rigs:\n${refused.join('\n')}`);
}

async function startRigs(rigs) {
  const minutes = Number($('duration-min').value);
  if (!(minutes > 0)) return toast('give a duration in minutes');
  const durationS = Math.min(minutes * 60, state.hello?.maxDurationS ?? Infinity);
  const list = rigs.map((rig) => ({ rig, subject: state.cards.get(rig)?.subject.value.trim() || null }));
  $('group-note').textContent = `sending ${list.length} start${list.length > 1 ? 's' : ''} at once…`;
  const reply = await command({ type: 'start', rigs: list, durationS });
  const ok = reply.results.filter((r) => r.ok).length;
  $('group-note').textContent = `start sent at ${reply.sentIso} to ${list.length} rig(s): ${ok} started`;
  showResults(reply);
}

async function stopRigs(rigs) {
  const reply = await command({ type: 'stop', rigs });
  showResults(reply);
}

$('scale').addEventListener('change', () => {
  state.scale = $('scale').value;
  for (const card of state.cards.values()) {
    card.plot.rebuild();
    card.plot.dirty = true;
  }
  scheduleDraw();
});
$('select-all').addEventListener('click', () => {
  for (const [rig, card] of state.cards) {
    if (!card.online) continue;
    card.select.checked = true;
    card.root.classList.add('selected');
    state.selected.add(rig);
  }
});
$('select-none').addEventListener('click', () => {
  for (const card of state.cards.values()) {
    card.select.checked = false;
    card.root.classList.remove('selected');
  }
  state.selected.clear();
});
$('group-start').addEventListener('click', () => {
  if (state.selected.size === 0) return toast('select rigs first');
  void startRigs([...state.selected].sort());
});
$('group-stop').addEventListener('click', () => {
  if (state.selected.size === 0) return toast('select rigs first');
  void stopRigs([...state.selected].sort());
});

// ------------------------------------------------------------ connection

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  state.ws = ws;
  ws.addEventListener('open', () => {
    state.retryMs = 500;
    window.fiberrigLab.connected = true;
    $('conn').className = 'pill ok';
    $('conn').textContent = 'connected';
  });
  ws.addEventListener('message', (event) => {
    const m = JSON.parse(event.data);
    if (m.type === 'hello') {
      state.hello = m;
      $('group-note').textContent = m.groupStart === 'simultaneous' ? 'a group start sends every selected rig its start at the same moment' : '';
    } else if (m.type === 'fleet') {
      applyFrame(m);
    } else if (m.type === 'reply') {
      const resolve = state.pending.get(m.id);
      state.pending.delete(m.id);
      resolve?.(m);
    }
  });
  ws.addEventListener('close', () => {
    window.fiberrigLab.connected = false;
    $('conn').className = 'pill bad';
    $('conn').textContent = 'disconnected';
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 5000);
  });
}
connect();
