// Acceptance 5 (issue 15): exported signal times are the times the light was measured.
// `sim://steps` (GRAB-NE staircase: a step every 10 s, with a 100 ms TTL pulse on line 1
// rising at each step) is recorded through the CLI at speed=max and exported; in every
// export the 465/470 nm signal must cross 50 % of each step within one output sample of
// the TTL edge, and with delay compensation off it must be later by exactly the channel's
// recorded group delay.
//
// How a crossing is measured: step-crossing.ts. Ground truth (firmware-sim/world): the
// world's gains are interpolated on a 2 ms grid, so the light itself crosses 50 % 1 ms
// before the TTL edge.
//
// Lock-in: the 10 Hz low-pass turns the step into a smooth edge sampled every 10 ms; its
// crossing lands within 5 ms of the edge. Time division: each LED is measured only in its
// 10 ms window of every 50 ms cycle, and a step between two windows leaves no trace of
// where it fell: the crossing is off by up to ±20 ms depending on where the session's
// cycles fall relative to the step (the start's phase, which varies from run to run), and
// is right on average over phases (step-crossing.ts; timebase-phase.test.ts forces the
// phases). So for time division the 5 ms bound is on the distance to where those windows,
// placed from the schedule alone, put an ideal step; the distance to the edge is bounded
// by ±20 ms plus the light's lead and the 1 Hz sine's slope.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import h5wasm from 'h5wasm/node';
import { main } from '../../../host/cli/main.ts';
import { isGreenWavelength } from '../../../host/export/common.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { h5Ready } from '../../../host/export/nwb.ts';
import type { SignalChannel } from '../../../host/pipeline/demodulate.ts';
import { replayRecording } from '../../../host/record/replay.ts';
import { tempDir } from '../record/helpers.ts';
import { crossing50, level50, modelledTdmCrossingS, type Series, tdmStepBoundS, tdmWindowsOf } from './step-crossing.ts';

const SECONDS = 64;
const STEP_PERIOD_S = 10;
const TIGHT_MS = 5;

function sink(): PassThrough {
  const s = new PassThrough();
  s.resume();
  return s;
}

/** The one segment folder of a GuPPy/pMAT export of a recording without gaps (the filter settling start is left out). */
function onlySegment(dir: string): string {
  const segments = readdirSync(dir).filter((n) => n.startsWith('segment_'));
  assert.deepEqual(segments, ['segment_001'], `${dir}: one gap-free span`);
  return join(dir, segments[0]!);
}

function csvRows(path: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

function columns(path: string, timeColumn: string, valueColumn: string): Series {
  const { header, rows } = csvRows(path);
  const ti = header.indexOf(timeColumn);
  const vi = header.indexOf(valueColumn);
  assert.ok(ti >= 0 && vi >= 0, `${path} has columns ${timeColumn} and ${valueColumn} (header ${header.join(',')})`);
  const s: Series = { timesS: [], values: [] };
  for (const r of rows) {
    const v = Number(r[vi]);
    if (!Number.isFinite(v)) continue;
    s.timesS.push(Number(r[ti]));
    s.values.push(v);
  }
  return s;
}

/** Rising edges of `line` in the recording's events.csv (device clock). */
function ttlRises(recording: string, line: number): number[] {
  const { header, rows } = csvRows(join(recording, 'events.csv'));
  const [t, kind, l, v] = ['time_s', 'kind', 'line', 'value'].map((c) => header.indexOf(c));
  return rows.filter((r) => r[kind!] === 'digital' && Number(r[l!]) === line && r[v!] === 'rising').map((r) => Number(r[t!]));
}

interface Measured { format: string; edgesS: number[]; errorsMs: number[] }

function measure(format: string, s: Series, edgesS: number[], levels?: number[]): Measured {
  return { format, edgesS, errorsMs: edgesS.map((e, i) => (crossing50(s, e, levels?.[i]) - e) * 1e3) };
}

/** The light crosses 50 % this long before the TTL edge (the world's 2 ms gain grid). */
const LIGHT_LEAD_S = 0.001;
/** Time division: what the 1 Hz sine's slope (±1.3 ms over a 50 ms interpolation) and noise add to the window bound. */
const TDM_MARGIN_MS = 2.5;

const fmt = (m: Measured): string => `${m.format}: ${m.errorsMs.map((e) => e.toFixed(2)).join(', ')} ms`;

function nwbSeries(path: string, column: number): Series {
  const f = new h5wasm.File(path, 'r');
  try {
    const st = f.get('processing/ophys/demodulated/starting_time') as InstanceType<typeof h5wasm.Dataset>;
    const data = f.get('processing/ophys/demodulated/data') as InstanceType<typeof h5wasm.Dataset>;
    const start = st.value as number;
    const rate = st.attrs.rate!.value as number;
    const [rows, cols] = data.shape as [number, number];
    const all = data.value as Float64Array;
    const s: Series = { timesS: [], values: [] };
    for (let i = 0; i < rows; i++) {
      const v = all[i * cols + column]!;
      if (!Number.isFinite(v)) continue;
      s.timesS.push(start + i / rate);
      s.values.push(v);
    }
    return s;
  } finally {
    f.close();
  }
}

function nwbRises(path: string, line: number): number[] {
  const f = new h5wasm.File(path, 'r');
  try {
    const data = [...((f.get(`acquisition/digital_input_${line}/data`) as InstanceType<typeof h5wasm.Dataset>).value as Float32Array)];
    const times = [...((f.get(`acquisition/digital_input_${line}/timestamps`) as InstanceType<typeof h5wasm.Dataset>).value as Float64Array)];
    return times.filter((_, i) => data[i] === 1);
  } finally {
    f.close();
  }
}

for (const plan of [
  {
    mode: 'lock-in (default 10 kS/s -> 100 Hz, 10 Hz low-pass)',
    config: {
      mode: 'lock-in', sampleRateHz: 10000, detectors: [0, 1], blockSamples: 250, digitalInputs: [0, 1], outputRateHz: 100,
      leds: [{ channel: 0, currentMa: 20, carrierHz: 648 }, { channel: 1, currentMa: 20, carrierHz: 1150 }, { channel: 2, currentMa: 20, carrierHz: 1749 }],
    },
  },
  {
    mode: 'time division (3 LEDs + dark, 125-sample slots at 10 kS/s -> 20 Hz)',
    config: {
      mode: 'time-division', sampleRateHz: 10000, detectors: [0, 1], blockSamples: 250, digitalInputs: [0, 1],
      leds: [{ channel: 0, currentMa: 20 }, { channel: 1, currentMa: 20 }, { channel: 2, currentMa: 20 }],
      timeDivision: { slotSamples: 125, onSamples: 120, settleSamples: 15, windowSamples: 100, darkSlot: true },
    },
  },
]) {
  describe(`acceptance (issue 15, 5): steps scenario, ${plan.mode}: exported signals cross 50 % of each step at its TTL edge`, function () {
    this.timeout(600_000);
    let tmp: ReturnType<typeof tempDir>;
    let rec: string;
    let channel: SignalChannel;
    let column: number;
    let rateHz: number;
    let edgesS: number[];
    const report: string[] = [];

    before(async () => {
      tmp = tempDir('fiberrig-timebase-');
      rec = join(tmp.dir, 'rec');
      const configPath = join(tmp.dir, 'config.json');
      writeFileSync(configPath, JSON.stringify(plan.config));
      const out = sink();
      const code = await main(['acquire', '--device', 'sim://steps?seed=7&speed=max', '--config', configPath, '--duration', `${SECONDS}s`, '--out', rec, '--quiet', '--json'], { stdout: out, stderr: out });
      assert.equal(code, 0);
      let channels: readonly SignalChannel[] = [];
      await replayRecording(rec, [{ begin: (ctx) => { channels = ctx.signalChannels; rateHz = ctx.signalRateHz; } }]);
      column = channels.findIndex((c) => c.inputId === 0 && isGreenWavelength(c.wavelengthNm));
      assert.ok(column >= 0, `a green channel on detector 0 among ${channels.map((c) => c.name).join(', ')}`);
      channel = channels[column]!;
      edgesS = ttlRises(rec, 1);
      assert.deepEqual(edgesS.map((e) => Math.round(e / STEP_PERIOD_S)), [1, 2, 3, 4, 5, 6], `TTL edges at every step: ${edgesS.join(', ')}`);
      await h5Ready();
    });
    after(() => {
      if (report.length > 0) console.log(`      ${plan.mode}, ${channel?.name} (group delay ${(channel?.groupDelayS * 1e3).toFixed(3)} ms), crossing − TTL edge:\n${report.map((r) => `        ${r}`).join('\n')}`);
      tmp?.cleanup();
    });

    // one output sample is the issue's bound; 5 ms is what the lock-in filter's step shape leaves
    // (measured +2 ms) and fails without compensation (the delays are 42.5 / -19 ms, both inside one
    // time-division output sample of 50 ms). Time division: 5 ms from where the LED's windows put an
    // ideal step at the light's crossing (catches any bias of the labels at every phase), and within
    // (cycle − window) / 2 of the edge (20 ms: the worst phase) plus the light's lead and a margin.
    const withinOneSample = (m: Measured): void => {
      report.push(fmt(m));
      const td = plan.config.timeDivision;
      const windows = td ? tdmWindowsOf(plan.config.sampleRateHz, plan.config.leds.length, td, plan.config.leds.findIndex((l) => l.channel === channel.ledChannel)) : undefined;
      m.errorsMs.forEach((e, i) => {
        assert.ok(Math.abs(e) < 1e3 / rateHz, `${fmt(m)}; one output sample is ${1e3 / rateHz} ms`);
        if (!windows) {
          assert.ok(Math.abs(e) <= TIGHT_MS, `${fmt(m)}; more than ${TIGHT_MS} ms off`);
          return;
        }
        const edge = m.edgesS[i]!;
        const modelledMs = (modelledTdmCrossingS(windows, edge - LIGHT_LEAD_S) - edge) * 1e3;
        assert.ok(Math.abs(e - modelledMs) <= TIGHT_MS, `${fmt(m)}; step ${i}: more than ${TIGHT_MS} ms from the ${modelledMs.toFixed(2)} ms the LED's windows give an ideal step`);
        if (i === 0) report.push(`  (where the LED's windows put an ideal step: ${m.edgesS.map((x) => ((modelledTdmCrossingS(windows, x - LIGHT_LEAD_S) - x) * 1e3).toFixed(2)).join(', ')} ms)`);
        const boundMs = tdmStepBoundS(windows) * 1e3 + LIGHT_LEAD_S * 1e3 + TDM_MARGIN_MS;
        assert.ok(Math.abs(e) <= boundMs, `${fmt(m)}; more than ${boundMs} ms off`);
      });
    };
    const bound = plan.config.timeDivision ? '5 ms of where its windows put the step (±20 ms of the edge)' : '5 ms';

    it(`signals.csv of the recording (written live), within one output sample and ${bound}`, () => {
      const times = csvRows(join(rec, 'signals.csv')).header.includes('time_s') ? 'time_s' : `${channel.name}_time_s`;
      withinOneSample(measure('signals.csv', columns(join(rec, 'signals.csv'), times, channel.name), edgesS));
    });

    it(`wide CSV export, within one output sample and ${bound}; its DI1 column rises at the first row at or after the edge (${plan.config.timeDivision ? 'the row time of the first channel: the level is sampled there' : 'and within one sample of the crossing'})`, async () => {
      const path = join(tmp.dir, 'wide.csv');
      await exportRecording(rec, 'csv', path);
      const { header, rows } = csvRows(path);
      const times = header.includes('time_s') ? 'time_s' : `${channel.name}_time_s`;
      const s = columns(path, times, channel.name);
      withinOneSample(measure('wide CSV', s, edgesS));
      // the TTL level column is sampled at each row's time (the first time column: with per-channel
      // times, the first channel's); a step sampled by time division may cross up to 20 ms before the
      // edge, so only the lock-in crossing is within one sample of that row
      const di = header.indexOf('DI1');
      const rowTime = header.findIndex((h) => h === 'time_s' || h.endsWith('_time_s'));
      const rising = rows.filter((r, i) => i > 0 && r[di] === '1' && rows[i - 1]![di] === '0');
      assert.equal(rising.length, edgesS.length);
      rising.forEach((r, i) => {
        const t = Number(r[rowTime]);
        const edge = edgesS[i]!;
        assert.ok(t >= edge - 1e-6 && t < edge + 1 / rateHz, `DI1 rises at row time ${t} s, edge ${edge} s`);
        if (!plan.config.timeDivision) assert.ok(Math.abs(Number(r[header.indexOf(times)]) - crossing50(s, edge)) <= 1 / rateHz + 1e-6, `DI1 rises at ${t} s`);
      });
    });

    it(`GuPPy export (its own DI1.csv edges), within one output sample and ${bound}`, async () => {
      const dir = join(tmp.dir, 'guppy');
      await exportRecording(rec, 'guppy', dir);
      const seg = onlySegment(dir);
      const edges = columns(join(seg, 'DI1.csv'), 'timestamps', 'timestamps').values;
      assert.equal(edges.length, edgesS.length);
      withinOneSample(measure('GuPPy', columns(join(seg, `det0_${channel.wavelengthNm}nm.csv`), 'timestamps', 'data'), edges));
    });

    it(`pMAT export: Time is the signal's, within one output sample and ${bound}; a control measured at another time has its own ControlTime`, async () => {
      const dir = join(tmp.dir, 'pmat');
      await exportRecording(rec, 'pmat', dir);
      const path = join(onlySegment(dir), `det0_${channel.wavelengthNm}nm_405nm.csv`);
      withinOneSample(measure('pMAT', columns(path, 'Time', 'Signal'), edgesS));
      let control: SignalChannel | undefined;
      await replayRecording(rec, [{ begin: (ctx) => { control = ctx.signalChannels.find((c) => c.inputId === 0 && c.wavelengthNm !== undefined && c.wavelengthNm < 420); } }]);
      const { header, rows } = csvRows(path);
      // lock-in: one low-pass for every channel, one time; time division: each LED's window has its place
      if (plan.config.mode === 'lock-in') {
        assert.equal(control!.groupDelayS, channel.groupDelayS);
        assert.deepEqual(header, ['Time', 'Signal', 'Control']);
        return;
      }
      assert.notEqual(control!.groupDelayS, channel.groupDelayS);
      assert.deepEqual(header, ['Time', 'Signal', 'Control', 'ControlTime']);
      // the control's window sits a whole number of slots before the signal's
      for (const r of rows.slice(0, 100)) assert.ok(Math.abs(Number(r[3]) - Number(r[0]) - (channel.groupDelayS - control!.groupDelayS)) < 1.1e-6, `${r.join(',')}`);
    });

    it(`NWB export read back with h5wasm (starting_time, digital_input_1), within one output sample and ${bound} (time division: starting_time is the first channel's, plus this channel's window offset)`, async () => {
      const path = join(tmp.dir, 'rec.nwb');
      await exportRecording(rec, 'nwb', path);
      const s = nwbSeries(path, column);
      // one series carries every channel: its starting_time is exact for the first channel; a time-division
      // channel whose window sits later in the cycle than the first's is offset by the difference
      const first = (await firstChannel(rec));
      const offsetS = first.groupDelayS - channel.groupDelayS;
      const exact = { timesS: s.timesS.map((t) => t + offsetS), values: s.values };
      withinOneSample(measure(offsetS === 0 ? 'NWB' : `NWB (+${(offsetS * 1e3).toFixed(2)} ms window offset from the first channel)`, exact, nwbRises(path, 1)));
    });

    it('--no-delay-compensation (CLI): every time is later by exactly the recorded group delay (µs rounding)', async () => {
      const dir = join(tmp.dir, 'guppy-raw');
      const out = sink();
      assert.equal(await main(['export', '--in', rec, '--format', 'guppy', '--out', dir, '--no-delay-compensation', '--quiet'], { stdout: out, stderr: out }), 0);
      const raw = columns(join(onlySegment(dir), `det0_${channel.wavelengthNm}nm.csv`), 'timestamps', 'data');
      const compensated = columns(join(onlySegment(join(tmp.dir, 'guppy')), `det0_${channel.wavelengthNm}nm.csv`), 'timestamps', 'data');
      assert.equal(raw.timesS.length, compensated.timesS.length);
      raw.timesS.forEach((t, i) => { assert.ok(Math.abs(t - compensated.timesS[i]! - channel.groupDelayS) < 1.1e-6, `row ${i}: ${t} vs ${compensated.timesS[i]}`); });
      assert.deepEqual(raw.values, compensated.values);
      report.push(fmt(measure('GuPPy --no-delay-compensation', raw, edgesS)));
      // with the same 50 % levels, the crossings move by the delay (up to the µs rounding of the times)
      const levels = edgesS.map((e) => level50(compensated, e));
      const m = measure('raw', raw, edgesS, levels);
      const c = measure('compensated', compensated, edgesS, levels);
      m.errorsMs.forEach((e, i) => { assert.ok(Math.abs(e - c.errorsMs[i]! - channel.groupDelayS * 1e3) < 0.002, `step ${i}: ${e} ms vs ${c.errorsMs[i]} ms + delay`); });
    });

    it('demod --no-delay-compensation writes filter-output times in signals.csv and prints the delays', async () => {
      const outDir = join(tmp.dir, 'demod-raw');
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (b: Buffer) => chunks.push(b));
      assert.equal(await main(['demod', '--in', rec, '--out', outDir, '--no-delay-compensation', '--quiet', '--json'], { stdout: out, stderr: sink() }), 0);
      const report = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { delayCompensation: boolean; groupDelays: Array<{ name: string; groupDelayS: number }> };
      assert.equal(report.delayCompensation, false);
      assert.equal(report.groupDelays.find((d) => d.name === channel.name)?.groupDelayS, channel.groupDelayS);
      const { header, rows } = csvRows(join(outDir, 'signals.csv'));
      assert.equal(header[0], 'time_s', 'one time column: the output times are shared');
      rows.slice(0, 50).forEach((r, i) => { assert.equal(r[0], (i / rateHz).toFixed(6)); });
    });
  });
}

async function firstChannel(rec: string): Promise<SignalChannel> {
  let first: SignalChannel | undefined;
  await replayRecording(rec, [{ begin: (ctx) => { first = ctx.signalChannels[0]; } }]);
  return first!;
}
