// Host pipeline: framed bytes in -> demodulated signals out, for the default
// lock-in config (2 detectors at 10 kS/s, 3 carriers, 250-sample blocks).
// Measures throughput (raw samples/s and x real time), per-block latency
// (p50/p99) and heap growth over a long max-speed run.
import { performance } from 'node:perf_hooks';
import {
  decodeEnvelope, type DeviceInfo, frameEnvelope, FrameDecoder, packSamples, pb, SampleFormat, SampleSource,
} from '../../protocol/index.ts';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../host/config/acquisition.ts';
import { Subject } from 'rxjs';
import { demodulate } from '../../host/pipeline/demodulate.ts';
import { AcquisitionAssembler, type AcquisitionItem } from '../../host/rig/assembler.ts';
import type { Emit } from './run.ts';

const config = toWireConfig(DEFAULT_LOCKIN_CONFIG);
const rateHz = config.sampleRateHz!;
const blockSamples = config.blockSamples!;
const carriers = (config.leds ?? []).map((l) => l.carrierHz!);
const detectors = 2;

const info = pb.DeviceInfo.toObject(pb.DeviceInfo.fromObject({
  leds: [405, 470, 560, 630].map((wavelengthNm, id) => ({ id, wavelengthNm, maxCurrentContinuousMa: 50 })),
  detectors: [0, 1].map((id) => ({ id, adcBits: 16, fullScaleV: 3.3 })),
  auxInputs: [{ id: 0, label: 'EEG', adcBits: 16, fullScaleV: 3.3 }, { id: 1, label: 'EMG', adcBits: 16, fullScaleV: 3.3 }],
}), { defaults: true, arrays: true }) as unknown as DeviceInfo;

/** One lock-in block as the device would frame it. */
function frameBlock(first: number, scratch: Uint16Array): Uint8Array {
  for (let i = 0; i < blockSamples; i++) {
    const n = first + i;
    for (let d = 0; d < detectors; d++) {
      let v = 20000;
      for (let k = 0; k < carriers.length; k++) v += (3000 / (d + 1)) * Math.sin((2 * Math.PI * carriers[k]! * (n % rateHz)) / rateHz);
      scratch[i * detectors + d] = v;
    }
  }
  return frameEnvelope({
    sampleBlock: {
      configId: 1, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: first, sampleCount: blockSamples,
      channelIds: [0, 1], format: SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples: packSamples(SampleFormat.SAMPLE_FORMAT_UINT16_LE, scratch),
    },
  });
}

export async function run(emit: Emit): Promise<void> {
  const scratch = new Uint16Array(blockSamples * detectors);
  let outputs = 0;
  // the same composition as the Rig: assembler -> Subject -> demodulate operator
  const items = new Subject<AcquisitionItem>();
  items.pipe(demodulate({ ...config, aux: null }, info)).subscribe((s) => { outputs += s.count; });
  const assembler = new AcquisitionAssembler({ item: (item) => items.next(item) });
  assembler.intent({ requestId: 1, command: 'configure', config });
  assembler.intent({ requestId: 2, command: 'start' });
  const decoder = new FrameDecoder((payload) => assembler.message(decodeEnvelope(payload)));
  decoder.push(frameEnvelope({ requestId: 1, ack: { configId: 1 } }));
  decoder.push(frameEnvelope({ requestId: 2, ack: {} }));

  // 1) throughput and latency over 10 simulated minutes, 250-sample blocks (40 blocks/s)
  const blocks = Math.round((600 * rateHz) / blockSamples);
  const latencyMs = new Float64Array(blocks);
  let hostSeconds = 0;
  for (let b = 0; b < blocks; b++) {
    const frame = frameBlock(b * blockSamples, scratch);
    const t0 = performance.now();
    decoder.push(frame);
    const dt = performance.now() - t0;
    latencyMs[b] = dt;
    hostSeconds += dt / 1000;
  }
  if (outputs === 0) throw new Error('the pipeline produced no output');
  const rawSamples = blocks * blockSamples * detectors;
  emit({ name: 'host.pipeline.throughput', value: rawSamples / hostSeconds, unit: 'samples/s', note: 'framed bytes -> CRC -> protobuf -> timeline -> RxJS -> lock-in 2 det x 3 carriers -> 100 Hz' });
  emit({ name: 'host.pipeline.realtime', value: (blocks * blockSamples) / rateHz / hostSeconds, unit: 'x real time' });
  const sorted = [...latencyMs].sort((a, b) => a - b);
  emit({ name: 'host.pipeline.block_latency.p50', value: sorted[Math.floor(0.5 * sorted.length)]!, unit: 'ms', blockSamples });
  emit({ name: 'host.pipeline.block_latency.p99', value: sorted[Math.floor(0.99 * sorted.length)]!, unit: 'ms', blockSamples });

  // 2) heap over a further 2 simulated hours, sampled every 10 minutes (after gc when exposed)
  const heap: number[] = [];
  let next = blocks;
  const perTenMinutes = blocks;
  for (let chunk = 0; chunk < 12; chunk++) {
    for (let b = 0; b < perTenMinutes; b++, next++) decoder.push(frameBlock(next * blockSamples, scratch));
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
}
