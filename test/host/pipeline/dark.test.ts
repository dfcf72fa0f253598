// SignalDemodulator over a dark span (`light` items): in every mode the output timeline stays
// continuous (no index written twice, none skipped), outputs computed only from lit samples are
// kept, outputs from the trip on are NaN, and after the restore the filters start afresh.
import assert from 'node:assert/strict';
import { type AcquisitionConfigInit, ModulationMode } from '../../../protocol/index.ts';
import { type SignalBlock, SignalDemodulator } from '../../../host/pipeline/demodulate.ts';
import type { AcquisitionItem } from '../../../host/rig/rig.ts';
import { TEST_INFO, TEST_WIRE } from '../record/helpers.ts';

const FS = 2000;
const B = 100;

function blocks(count: number, dark: { from: number; to: number }, light = true): AcquisitionItem[] {
  const items: AcquisitionItem[] = [];
  for (let k = 0; k < count; k++) {
    const first = k * B;
    if (light && first <= dark.from && dark.from < first + B) items.push({ kind: 'light', source: 'detector', sessionIndex: dark.from, lit: false, cause: 'watchdog', segment: 0 });
    if (light && first === dark.to) items.push({ kind: 'light', source: 'detector', sessionIndex: dark.to, lit: true, cause: 'watchdog', darkFromIndex: dark.from, segment: 0 });
    const samples = new Uint16Array(B * 2);
    for (let i = 0; i < B; i++) {
      const n = first + i;
      const on = n < dark.from || n >= dark.to;
      for (let d = 0; d < 2; d++) samples[i * 2 + d] = Math.round(20000 + (on ? 3000 * Math.sin((2 * Math.PI * 210 * n) / FS) + 2000 * Math.sin((2 * Math.PI * 330 * n) / FS) + 500 * ((n % 20) < 10 ? 1 : -1) : 0));
    }
    items.push({ kind: 'block', source: 'detector', sessionIndex: first, deviceIndex: first, sampleCount: B, channelIds: [0, 1], samples, configId: 7, segment: 0 });
  }
  return items;
}

function run(config: AcquisitionConfigInit, items: AcquisitionItem[]): { values: number[][]; first: number } {
  const demod = new SignalDemodulator(config, TEST_INFO, { outputRateHz: 100 });
  const out: SignalBlock[] = items.flatMap((i) => demod.push(i)).filter((b) => b.stream === 'signals');
  let next = out[0]!.firstIndex;
  const values: number[][] = out[0]!.channels.map(() => []);
  for (const b of out) {
    assert.equal(b.firstIndex, next, 'outputs continuous: none written twice, none skipped');
    next += b.count;
    for (const [c, v] of b.values.entries()) values[c]!.push(...v);
  }
  return { values, first: out[0]!.firstIndex };
}

const MODES: Array<[string, AcquisitionConfigInit, number]> = [
  ['lock-in', TEST_WIRE, 20],
  ['continuous', { ...TEST_WIRE, mode: ModulationMode.MODULATION_MODE_CONTINUOUS }, 20],
  ['time-division', { ...TEST_WIRE, mode: ModulationMode.MODULATION_MODE_TIME_DIVISION, timeDivision: { slotSamples: 10, onSamples: 10, settleSamples: 2, windowSamples: 6, darkSlot: false } }, 20],
];

describe('pipeline: dark spans in the demodulator', () => {
  for (const [mode, config, samplesPerOutput] of MODES) {
    it(`${mode}: outputs before the trip equal a run without it (exactly), NaN from the trip's output to the restore's (± one output at the trip), finite again within 40 outputs`, () => {
      const dark = { from: 1050, to: 2000 }; // the trip mid-block, the restore at a block boundary
      const withDark = run(config, blocks(40, dark));
      const plain = run(config, blocks(40, dark, false));
      assert.equal(withDark.first, plain.first);
      const tripOut = Math.floor(dark.from / samplesPerOutput) - withDark.first;
      const litOut = Math.ceil(dark.to / samplesPerOutput) - withDark.first;
      for (let c = 0; c < withDark.values.length; c++) {
        const v = withDark.values[c]!;
        for (let j = 0; j < tripOut - 1; j++) assert.ok(Object.is(v[j], plain.values[c]![j]), `${mode} ch ${c}: output ${j} before the trip unchanged`);
        for (let j = tripOut + 1; j < litOut; j++) assert.ok(Number.isNaN(v[j]!), `${mode} ch ${c}: NaN at output ${j}`);
        assert.ok(Number.isFinite(v.at(-1)!), `${mode} ch ${c}: finite at the end`);
        const lastNan = v.findLastIndex((x) => Number.isNaN(x));
        assert.ok(lastNan < litOut + 40, `${mode} ch ${c}: settled within 40 outputs of the restore (last NaN ${lastNan}, restore ${litOut})`);
      }
    });
  }
});
