// Host pipeline: framed bytes in -> demodulated signals out, for the default
// lock-in config (2 detectors at 10 kS/s, 3 carriers, its block size: 1000 samples).
// Measures throughput (raw samples/s and x real time) against the lock-in alone
// on the same data in the same run, against an outside numpy/scipy lock-in
// (lockin_scipy.py, a child process), per-block latency (p50/p99) and heap
// growth over a long max-speed run.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../host/config/acquisition.ts';
import { LockinDemodulator } from '../../host/dsp/lockin.ts';
import { setLockinWasm } from '../../host/dsp/lockin-wasm.ts';
import { demodulate, type SignalBlock } from '../../host/pipeline/demodulate.ts';
import { AcquisitionAssembler, type AcquisitionItem } from '../../host/rig/assembler.ts';
import {
  crc32cRange, decodeEnvelope, type DeviceInfo, encodeEnvelope, frameEnvelope, FrameDecoder, packSamples, pb, SampleFormat, SampleSource,
} from '../../protocol/index.ts';
import { encodeLengthPrefixed, LengthPrefixedDecoder } from './length-prefixed-frame.ts';
import type { Emit } from './run.ts';

const config = toWireConfig(DEFAULT_LOCKIN_CONFIG);
const rateHz = config.sampleRateHz!;
const blockSamples = config.blockSamples!;
const carriers = (config.leds ?? []).map((l) => l.carrierHz!);
const detectors = 2;
const outputRateHz = 100;
const cutoffHz = 10;
/** Interleaved rounds of (pipeline, lock-in alone) over the same 10 simulated minutes, measured after the warm-up rounds. */
const ROUNDS = 9;
const WARMUP_ROUNDS = 3;

const info = pb.DeviceInfo.toObject(pb.DeviceInfo.fromObject({
  leds: [405, 470, 560, 630].map((wavelengthNm, id) => ({ id, wavelengthNm, maxCurrentContinuousMa: 50 })),
  detectors: [0, 1].map((id) => ({ id, adcBits: 16, fullScaleV: 3.3 })),
  auxInputs: [{ id: 0, label: 'EEG', adcBits: 16, fullScaleV: 3.3 }, { id: 1, label: 'EMG', adcBits: 16, fullScaleV: 3.3 }],
}), { defaults: true, arrays: true }) as unknown as DeviceInfo;

/** One lock-in block of raw codes: carrier k seen by detector d with amplitude 3000 / (d + 1). */
function synthBlock(first: number, scratch: Uint16Array): Uint16Array {
  for (let i = 0; i < blockSamples; i++) {
    const n = first + i;
    for (let d = 0; d < detectors; d++) {
      let v = 20000;
      for (let k = 0; k < carriers.length; k++) v += (3000 / (d + 1)) * Math.sin((2 * Math.PI * carriers[k]! * (n % rateHz)) / rateHz);
      scratch[i * detectors + d] = v;
    }
  }
  return scratch;
}

/** The block as the device would frame it. */
function frameBlock(first: number, samples: Uint16Array): Uint8Array {
  return frameEnvelope({
    sampleBlock: {
      configId: 1, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: first, sampleCount: blockSamples,
      channelIds: [0, 1], format: SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples: packSamples(SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples),
    },
  });
}

/** A fresh pipeline composed as the Rig composes it: frames -> assembler -> Subject -> demodulate operator. */
function pipeline(onSignals: (s: SignalBlock) => void): FrameDecoder {
  const assembler = timeline(onSignals);
  return new FrameDecoder((payload) => assembler.message(decodeEnvelope(payload)));
}

/** The pipeline after the frame decoder: assembler (configured and started, both acknowledged) -> Subject -> demodulate operator. */
function timeline(onSignals: (s: SignalBlock) => void): AcquisitionAssembler {
  const items = new Subject<AcquisitionItem>();
  items.pipe(demodulate({ ...config, aux: null }, info)).subscribe(onSignals);
  const assembler = new AcquisitionAssembler({ item: (item) => items.next(item) });
  assembler.intent({ requestId: 1, command: 'configure', config });
  assembler.intent({ requestId: 2, command: 'start' });
  assembler.message(decodeEnvelope(encodeEnvelope({ requestId: 1, ack: { configId: 1 } })));
  assembler.message(decodeEnvelope(encodeEnvelope({ requestId: 2, ack: {} })));
  return assembler;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Minor page faults of this process so far: each one is a page of fresh memory touched. */
function minorFaults(): number {
  return process.resourceUsage().minorPageFault;
}

type Timed = { s: number; cpuS: number; faults: number };

/** Wall time, this process's CPU time (so another process's load does not count) and minor page faults of `work`. */
function timed(work: () => void): Timed {
  const f0 = minorFaults();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  work();
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { s, cpuS: (c.user + c.system) / 1e6, faults: minorFaults() - f0 };
}

/**
 * First touch of a fresh 64 MiB buffer, one write per 4 KiB page: mapped on its own, so every page
 * faults; and above glibc's 32 MiB ceiling for retuning its thresholds, so freeing it later leaves
 * malloc as it was. Run it after the timed sections (V8 counts the buffer as external memory, which
 * moves its GC).
 */
function touchFreshPages(): { pages: number } & Timed {
  const bytes = 64 * 1024 * 1024;
  const pageBytes = 4096;
  return {
    pages: bytes / pageBytes,
    ...timed(() => {
      const buf = Buffer.allocUnsafeSlow(bytes);
      for (let i = 0; i < bytes; i += pageBytes) buf[i] = 1;
    }),
  };
}

interface ScipyResult { samplesPerS: number; medianMagnitude: number[]; numpy: string; scipy: string }

/** Runs lockin_scipy.py on the same raw samples; a reason instead when python3 or scipy is missing. */
function runScipy(raw: Uint16Array): ScipyResult | { reason: string } {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'lockin_scipy.py');
  const probe = spawnSync('python3', ['-c', 'import numpy, scipy.signal'], { encoding: 'utf8' });
  if (probe.error) return { reason: `python3 not runnable (${probe.error.message}); install python3 and python3-scipy` };
  if (probe.status !== 0) return { reason: `numpy/scipy not importable (${probe.stderr.trim().split('\n').at(-1)}); install python3-scipy` };
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength); // little-endian hosts only (as the bench data)
  const r = spawnSync('python3', [script, String(rateHz), String(outputRateHz), String(cutoffHz), String(detectors), ...carriers.map(String)], {
    input: bytes, encoding: 'utf8', maxBuffer: 1 << 20,
  });
  if (r.status !== 0) return { reason: `lockin_scipy.py failed (status ${r.status}): ${(r.stderr ?? '').trim().split('\n').at(-1)}` };
  return JSON.parse(r.stdout) as ScipyResult;
}

export async function run(emit: Emit): Promise<void> {
  // the same data for every contender: 10 simulated minutes, 250-sample blocks (40 blocks/s)
  const blocks = Math.round((600 * rateHz) / blockSamples);
  const raw = new Uint16Array(blocks * blockSamples * detectors);
  const rawBlocks: Uint16Array[] = [];
  const frames: Uint8Array[] = [];
  const scratch = new Uint16Array(blockSamples * detectors);
  for (let b = 0; b < blocks; b++) {
    synthBlock(b * blockSamples, scratch);
    raw.set(scratch, b * scratch.length);
    rawBlocks.push(raw.subarray(b * scratch.length, (b + 1) * scratch.length));
    frames.push(frameBlock(b * blockSamples, scratch));
  }
  const rawSamples = blocks * blockSamples * detectors;

  // 1) throughput: each round runs a fresh pipeline over every frame and a fresh lock-in over the
  //    same samples (already decoded), in alternating order. Wall-clock and CPU time (this process,
  //    so another process's load on a shared machine does not count) are both kept; the ratio is
  //    taken per round from CPU time (both contenders saw the same conditions). The first
  //    WARMUP_ROUNDS are not in the medians: V8 is still compiling and tiering up both contenders
  //    there, and the pipeline, which runs more code, pays more of it (its cold ratio is 2-3x).
  //    The first round's figures are reported on their own (host.pipeline.over_lockin_cold).
  const measured: { pipeline: Timed; lockin: Timed }[] = [];
  let coldRatio = Number.NaN;
  let outputs = 0;
  const timePipeline = (): Timed => {
    const decoder = pipeline((s) => { outputs += s.count; });
    return timed(() => { for (let b = 0; b < blocks; b++) decoder.push(frames[b]!); });
  };
  const timeLockin = (): Timed => {
    const lockin = new LockinDemodulator({ sampleRateHz: rateHz, carriersHz: carriers, detectorCount: detectors, outputRateHz, cutoffHz });
    const out = lockin.createOutput(blockSamples);
    return timed(() => { for (let b = 0; b < blocks; b++) outputs += lockin.process(rawBlocks[b]!, b * blockSamples, out, blockSamples).count; });
  };
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    let p: Timed;
    let l: Timed;
    if (round % 2 === 0) { p = timePipeline(); l = timeLockin(); } else { l = timeLockin(); p = timePipeline(); }
    if (round === 0) coldRatio = p.cpuS / l.cpuS;
    if (round >= WARMUP_ROUNDS) measured.push({ pipeline: p, lockin: l });
  }
  if (outputs === 0) throw new Error('the pipeline produced no output');
  type Part = 'pipeline' | 'lockin';
  /** Per measured round: raw samples per second of wall-clock (s) or CPU (cpuS) time. */
  const rates = (part: Part, clock: 's' | 'cpuS'): number[] => measured.map((m) => rawSamples / m[part][clock]);
  const ratios = measured.map((m) => m.pipeline.cpuS / m.lockin.cpuS);
  const faults = (part: Part): number[] => measured.map((m) => m[part].faults);
  const pipelineRate = median(rates('pipeline', 's'));
  const stats = (part: Part) => ({
    rounds: ROUNDS, warmupRounds: WARMUP_ROUNDS, statistic: 'median of rounds after warm-up, wall clock',
    best: Math.max(...rates(part, 's')), cpuTime: median(rates(part, 'cpuS')), cpuTimeBest: Math.max(...rates(part, 'cpuS')),
  });
  emit({
    name: 'host.pipeline.throughput', value: pipelineRate, unit: 'samples/s', ...stats('pipeline'),
    note: 'framed bytes -> COBS -> CRC -> protobuf -> timeline -> RxJS -> lock-in 2 det x 3 carriers -> 100 Hz',
  });
  emit({ name: 'host.pipeline.realtime', value: pipelineRate / (rateHz * detectors), unit: 'x real time' });
  emit({
    name: 'host.lockin_alone.throughput', value: median(rates('lockin', 's')), unit: 'samples/s', ...stats('lockin'),
    note: 'the same samples, already decoded, straight into LockinDemodulator',
  });
  emit({
    name: 'host.pipeline.over_lockin', value: median(ratios), unit: 'ratio', wallClock: median(measured.map((m) => m.pipeline.s / m.lockin.s)),
    perRound: ratios.map((r) => Number(r.toFixed(3))), rounds: ROUNDS, warmupRounds: WARMUP_ROUNDS,
    note: 'lock-in-alone throughput / pipeline throughput on the same data: median of per-round CPU-time ratios after warm-up (1 = framing, decoding, timeline and RxJS cost nothing)',
  });
  emit({
    name: 'host.pipeline.page_faults', value: median(faults('pipeline')) / blocks, unit: 'minor page faults/frame', perRound: faults('pipeline'),
    lockin: median(faults('lockin')) / blocks, rounds: ROUNDS, warmupRounds: WARMUP_ROUNDS,
    note: 'minor page faults (pages first touched) per frame in the rounds above: the decoder copies payloads into fresh slabs and the demodulator writes its outputs into fresh slabs (the first takes most of the faults), and slab memory that malloc gave back to the kernel (heap trimming) faults again when taken again; lockin: the same for the lock-in alone',
  });
  emit({
    name: 'host.pipeline.over_lockin_cold', value: coldRatio, unit: 'ratio',
    note: 'the same ratio in the first round of a fresh process (10 simulated minutes), while V8 compiles both; the pipeline runs first there, so it also pays for compiling the lock-in they share',
  });

  // 1b) where the pipeline's time beyond the lock-in goes, in interleaved rounds of their own (after
  //     warm-up): the pipeline; the same pipeline on a framing without byte stuffing
  //     (length-prefixed-frame.ts); the same pipeline after its frame decoder, fed the payloads that a
  //     decoder delivered before the rounds (deframed, samples aligned as it aligns them), each one's
  //     CRC-32C still computed and compared (the rest is protobuf, timeline, RxJS and the demodulation
  //     operator); the same without the CRC; and the lock-in alone. A framing read in place in the
  //     transport's chunks would not reach the without-deframing line: a frame lands wherever a read
  //     split the stream, and one whose samples land misaligned is copied (samplesView).
  const payloads: Uint8Array[] = [];
  const deframer = new FrameDecoder((payload) => { payloads.push(payload); });
  for (const frame of frames) deframer.push(frame);
  // what each frame's trailing 4 bytes say (the decoder checked them against the same bytes)
  const crcs = payloads.map((p) => crc32cRange(p, 0, p.length));
  const lengthPrefixed = payloads.map(encodeLengthPrefixed);
  const parts = { pipeline: [] as number[], lengthPrefixed: [] as number[], noDeframing: [] as number[], noDeframingNoCrc: [] as number[], lockin: [] as number[] };
  const timeLengthPrefixed = (): number => {
    const assembler = timeline((s) => { outputs += s.count; });
    const decoder = new LengthPrefixedDecoder((payload) => assembler.message(decodeEnvelope(payload)));
    const t = timed(() => { for (const frame of lengthPrefixed) decoder.push(frame); }).cpuS;
    if (decoder.frames !== blocks) throw new Error(`the length-prefixed decoder delivered ${decoder.frames} of ${blocks} frames`);
    return t;
  };
  const timeFed = (checkCrc: boolean): number => {
    const assembler = timeline((s) => { outputs += s.count; });
    return timed(() => {
      for (let i = 0; i < payloads.length; i++) {
        const payload = payloads[i]!;
        if (checkCrc && crc32cRange(payload, 0, payload.length) !== crcs[i]) throw new Error('CRC mismatch in the bench data');
        assembler.message(decodeEnvelope(payload));
      }
    }).cpuS;
  };
  const contenders: [keyof typeof parts, () => number][] = [
    ['pipeline', () => timePipeline().cpuS], ['lengthPrefixed', timeLengthPrefixed], ['noDeframing', () => timeFed(true)], ['noDeframingNoCrc', () => timeFed(false)], ['lockin', () => timeLockin().cpuS],
  ];
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    // a different order every round
    for (let k = 0; k < contenders.length; k++) {
      const [name, time] = contenders[(k + round) % contenders.length]!;
      const t = time();
      if (round >= WARMUP_ROUNDS) parts[name].push(t);
    }
  }
  const overLockin = (xs: number[]): number => median(xs.map((x, i) => x / parts.lockin[i]!));
  const usPerFrame = (xs: number[]): number => (median(xs) * 1e6) / blocks;
  emit({
    name: 'host.pipeline.breakdown.over_lockin', value: overLockin(parts.pipeline), unit: 'ratio', rounds: ROUNDS,
    usPerFrame: usPerFrame(parts.pipeline), lockinUsPerFrame: usPerFrame(parts.lockin), frameBytes: frames[0]!.length,
    note: 'the shipped pipeline again, in these rounds: the reference for the three below',
  });
  emit({
    name: 'host.pipeline.breakdown.length_prefixed.over_lockin', value: overLockin(parts.lengthPrefixed), unit: 'ratio', rounds: ROUNDS,
    usPerFrame: usPerFrame(parts.lengthPrefixed), frameBytes: lengthPrefixed[0]!.length,
    note: 'the same pipeline on a framing without byte stuffing (length-prefixed-frame.ts: sync, length, CRC-32C; no delimiter search or COBS), payloads still copied into aligned slabs: what a protocol change would reach',
  });
  emit({
    name: 'host.pipeline.breakdown.without_deframing.over_lockin', value: overLockin(parts.noDeframing), unit: 'ratio', rounds: ROUNDS,
    usPerFrame: usPerFrame(parts.noDeframing),
    note: 'payloads already deframed (no delimiter search, copy or COBS decoding) and aligned, CRC-32C still checked: a bound, since a framing read in place still copies the frames whose samples land misaligned',
  });
  emit({
    name: 'host.pipeline.breakdown.without_deframing_or_crc.over_lockin', value: overLockin(parts.noDeframingNoCrc), unit: 'ratio', rounds: ROUNDS,
    usPerFrame: usPerFrame(parts.noDeframingNoCrc),
    note: 'as above without the CRC: protobuf, timeline (assembler), RxJS and the demodulation operator around the lock-in',
  });

  // 2) the outside baseline: numpy/scipy on the same raw samples
  const scipy = runScipy(raw);
  if ('reason' in scipy) {
    emit({ name: 'host.scipy_lockin.throughput', value: null, unit: 'samples/s', reason: scipy.reason });
    emit({ name: 'host.pipeline.over_scipy', value: null, unit: 'ratio', reason: scipy.reason });
  } else {
    emit({
      name: 'host.scipy_lockin.throughput', value: scipy.samplesPerS, unit: 'samples/s', numpy: scipy.numpy, scipy: scipy.scipy,
      medianMagnitude: scipy.medianMagnitude.map((m) => Number(m.toFixed(2))), truth: [0, 1].flatMap((d) => carriers.map(() => 3000 / (d + 1))),
      note: 'lockin_scipy.py: mix with sin/cos, 4th-order Butterworth sosfilt at fs, keep every 100th, in 10-s chunks',
    });
    emit({ name: 'host.pipeline.over_scipy', value: pipelineRate / scipy.samplesPerS, unit: 'ratio', note: 'fiberrig pipeline (deframing and decoding included) / scipy lock-in throughput' });
  }

  // 3) per-block latency over a fresh 10-minute run: wall clock, and this process's CPU time (which a
  // loaded machine's preemption does not stretch; GC and helper threads are in it)
  const latencyMs = new Float64Array(blocks);
  const cpuLatencyMs = new Float64Array(blocks);
  const decoder = pipeline((s) => { outputs += s.count; });
  for (let b = 0; b < blocks; b++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    decoder.push(frames[b]!);
    latencyMs[b] = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuLatencyMs[b] = (c.user + c.system) / 1000;
  }
  const sorted = [...latencyMs].sort((a, b) => a - b);
  const cpuSorted = [...cpuLatencyMs].sort((a, b) => a - b);
  emit({ name: 'host.pipeline.block_latency.p50', value: sorted[Math.floor(0.5 * sorted.length)]!, unit: 'ms', blockSamples });
  emit({ name: 'host.pipeline.block_latency.p99', value: sorted[Math.floor(0.99 * sorted.length)]!, unit: 'ms', blockSamples });
  emit({ name: 'host.pipeline.block_latency_cpu.p50', value: cpuSorted[Math.floor(0.5 * cpuSorted.length)]!, unit: 'ms of process CPU time', blockSamples });
  emit({ name: 'host.pipeline.block_latency_cpu.p99', value: cpuSorted[Math.floor(0.99 * cpuSorted.length)]!, unit: 'ms of process CPU time', blockSamples });

  // 4) heap over a further 2 simulated hours, sampled every 10 minutes (after gc when exposed)
  const heap: number[] = [];
  let next = blocks;
  for (let chunk = 0; chunk < 12; chunk++) {
    for (let b = 0; b < blocks; b++, next++) decoder.push(frameBlock(next * blockSamples, synthBlock(next * blockSamples, scratch)));
    globalThis.gc?.();
    heap.push(process.memoryUsage().heapUsed);
  }
  // least-squares slope of heap vs time, extrapolated to 24 h (the first sample is after warm-up)
  const xs = heap.map((_, i) => i + 1);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = heap.reduce((a, b) => a + b, 0) / heap.length;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => { sxy += (x - mx) * (heap[i]! - my); sxx += (x - mx) ** 2; });
  const bytesPerTenMinutes = sxy / sxx;
  emit({ name: 'host.pipeline.heap_growth_2h', value: (heap.at(-1)! - heap[0]!) / 1e6, unit: 'MB', gcExposed: typeof globalThis.gc === 'function' });
  emit({ name: 'host.pipeline.heap_growth_24h_extrapolated', value: (bytesPerTenMinutes * 144) / 1e6, unit: 'MB', note: 'slope over 2 simulated hours x 24 h' });

  // 5) the lock-in's mixing kernel, JS (mixCic) vs WebAssembly SIMD (lockin-wasm.ts), in interleaved rounds
  //    on the same data: lock-in alone and the whole pipeline, CPU time of this process
  const kernels = { js: { lockin: [] as number[], pipeline: [] as number[] }, wasm: { lockin: [] as number[], pipeline: [] as number[] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kernel of round % 2 === 0 ? (['js', 'wasm'] as const) : (['wasm', 'js'] as const)) {
      setLockinWasm(kernel === 'wasm');
      kernels[kernel].lockin.push(rawSamples / timeLockin().cpuS);
      kernels[kernel].pipeline.push(rawSamples / timePipeline().cpuS);
    }
  }
  setLockinWasm(true);
  for (const kernel of ['js', 'wasm'] as const) {
    emit({
      name: `host.pipeline.over_lockin_${kernel}_kernel`, value: median(kernels[kernel].lockin.map((l, i) => l / kernels[kernel].pipeline[i]!)), unit: 'ratio',
      rounds: ROUNDS, note: `host.pipeline.over_lockin with the ${kernel === 'js' ? 'JS' : 'WebAssembly'} kernel in both, in these rounds: median of per-round ratios (the lock-in runs first in each)`,
    });
  }
  for (const part of ['lockin', 'pipeline'] as const) {
    const name = part === 'lockin' ? 'host.lockin_alone' : 'host.pipeline';
    emit({ name: `${name}.throughput_js_kernel`, value: median(kernels.js[part]), unit: 'samples/s of CPU time', rounds: ROUNDS, note: 'mixCic (JS), interleaved with the WebAssembly rounds' });
    emit({ name: `${name}.throughput_wasm_kernel`, value: median(kernels.wasm[part]), unit: 'samples/s of CPU time', rounds: ROUNDS, note: 'lockin-mix.wat (WebAssembly SIMD, bit-identical)' });
    emit({
      name: `${name}.wasm_over_js_kernel`, value: median(kernels.wasm[part].map((w, i) => w / kernels.js[part][i]!)), unit: 'ratio',
      note: 'median of per-round throughput ratios WebAssembly / JS kernel (> 1: WebAssembly faster)',
    });
  }

  // 6) what a page fault costs on this machine (host.pipeline.page_faults counts them), after every timed section
  const touch = touchFreshPages();
  const pageFaultCost = {
    name: 'host.machine.page_fault_cost', unit: 'µs/page fault', pages: touch.pages, faults: touch.faults,
    note: 'this machine: wall time to first touch the pages of a fresh 64 MiB buffer, per page fault; what each fault in host.pipeline.page_faults costs here',
  };
  // far fewer faults than pages: the kernel mapped larger pages (transparent huge pages) or had them mapped already
  if (touch.faults < touch.pages / 2) {
    emit({ ...pageFaultCost, value: null, reason: `${touch.faults} page faults for ${touch.pages} pages touched: not one fault per 4 KiB page (transparent huge pages?), so no per-fault cost` });
  } else {
    emit({ ...pageFaultCost, value: (touch.s * 1e6) / touch.faults });
  }
}
