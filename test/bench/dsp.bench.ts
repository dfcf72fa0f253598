// DSP benchmarks: lock-in demodulation throughput for the reference load (2 detectors x
// 3 carriers at 10 kS/s per detector, 256-sample blocks of raw int16 ADC codes), plus
// the TDM demodulator and the decimator. Raw samples/s counts every detector sample.
import { performance } from 'node:perf_hooks';
import { Decimator, LockinDemodulator, TdmDemodulator } from '../../host/dsp/index.ts';

type Emit = (rec: { name: string; value: number; unit: string; [k: string]: unknown }) => void;

const FS = 10_000;
const DETECTORS = 2;
const BLOCK = 256;
const CARRIERS = [211, 331, 531];

function makeBlocks(count: number, channels: number): Int16Array[] {
  const blocks: Int16Array[] = [];
  let n = 0;
  for (let b = 0; b < count; b++) {
    const a = new Int16Array(BLOCK * channels);
    for (let i = 0; i < BLOCK; i++, n++) {
      for (let c = 0; c < channels; c++) {
        let v = 8000;
        for (const f of CARRIERS) v += 3000 * Math.sin((2 * Math.PI * f * n) / FS + c);
        a[i * channels + c] = Math.round(v + 50 * Math.sin(n * 0.37));
      }
    }
    blocks.push(a);
  }
  return blocks;
}

/** Calls per second of wall-clock time, and of this process's CPU time (steadier on a shared machine). */
interface Rate {
  wall: number;
  cpu: number;
}

/** Runs `step(i)` for ~warmS then ~budgetS seconds; returns calls per second measured. */
function measure(step: (i: number) => void, warmS = 0.3, budgetS = 1.5): Rate {
  let i = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < warmS * 1000) for (let k = 0; k < 100; k++) step(i++);
  let calls = 0;
  const c0 = process.cpuUsage();
  t0 = performance.now();
  let elapsed = 0;
  while (elapsed < budgetS * 1000) {
    for (let k = 0; k < 100; k++) step(i++);
    calls += 100;
    elapsed = performance.now() - t0;
  }
  const cpu = process.cpuUsage(c0);
  return { wall: calls / (elapsed / 1000), cpu: calls / ((cpu.user + cpu.system) / 1e6) };
}

export async function run(emit: Emit): Promise<void> {
  const blocks = makeBlocks(256, DETECTORS);

  const lockin = new LockinDemodulator({ sampleRateHz: FS, carriersHz: CARRIERS, detectorCount: DETECTORS });
  const out = lockin.createOutput(BLOCK);
  let produced = 0;
  const blocksPerS = measure((i) => {
    const r = lockin.process(blocks[i % blocks.length]!, i * BLOCK, out);
    produced += r.count;
  });
  if (produced === 0) throw new Error('lock-in produced no outputs');
  const rawPerS = blocksPerS.wall * BLOCK * DETECTORS;
  const realtimeRawPerS = FS * DETECTORS;
  emit({
    name: 'dsp.lockin.throughput',
    value: rawPerS,
    unit: 'samples/s',
    detectors: DETECTORS,
    carriers: CARRIERS.length,
    blockSamples: BLOCK,
    input: 'Int16Array',
    cpuTime: blocksPerS.cpu * BLOCK * DETECTORS,
  });
  emit({ name: 'dsp.lockin.realtime', value: rawPerS / realtimeRawPerS, unit: 'x real time', sampleRateHz: FS });

  const tdm = new TdmDemodulator({
    ledCount: 3,
    detectorCount: DETECTORS,
    slotSamples: 25,
    onSamples: 20,
    settleSamples: 5,
    windowSamples: 12,
    darkSlot: true,
  });
  const tdmOut = tdm.createOutput(BLOCK);
  const tdmBlocksPerS = measure((i) => {
    tdm.process(blocks[i % blocks.length]!, i * BLOCK, tdmOut);
  });
  emit({ name: 'dsp.tdm.throughput', value: tdmBlocksPerS.wall * BLOCK * DETECTORS, unit: 'samples/s', cpuTime: tdmBlocksPerS.cpu * BLOCK * DETECTORS });

  const dec = Decimator.fromRates(FS, 100, DETECTORS);
  const decOut = dec.createOutput(BLOCK);
  const decBlocksPerS = measure((i) => {
    dec.process(blocks[i % blocks.length]!, i * BLOCK, decOut);
  });
  emit({ name: 'dsp.decimate.throughput', value: decBlocksPerS.wall * BLOCK * DETECTORS, unit: 'samples/s', order: 8, cpuTime: decBlocksPerS.cpu * BLOCK * DETECTORS });
}
