// Wire benchmarks: deframe+decode and encode throughput for a typical
// SampleBlock (256 samples x 4 channels, int16), wire overhead, and a decoder
// soak of 10^6 random chunks with memory before/after.
import { performance } from 'node:perf_hooks';
import {
  decodeEnvelope, encodeEnvelope, encodeFrame, FrameDecoder, packSamples, SampleFormat, SampleSource, samplesView,
} from '../../protocol/index.ts';
import type { Emit } from './run.ts';

function typicalBlock(index: number): Parameters<typeof encodeEnvelope>[0] {
  const samples = new Int16Array(256 * 4);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(20000 * Math.sin(i * 0.05 + index)) ;
  return {
    sampleBlock: {
      configId: 3, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: 1_000_000 + index * 256,
      sampleCount: 256, channelIds: [0, 1, 2, 3], format: SampleFormat.SAMPLE_FORMAT_INT16_LE,
      samples: packSamples(SampleFormat.SAMPLE_FORMAT_INT16_LE, samples),
    },
  };
}

export async function run(emit: Emit): Promise<void> {
  const blocks = Array.from({ length: 64 }, (_, i) => typicalBlock(i));
  const rawBytes = 256 * 4 * 2;

  // encode: message -> protobuf -> frame
  let frames: Uint8Array[] = [];
  const encodeIterations = 20_000;
  let t = performance.now();
  for (let i = 0; i < encodeIterations; i++) {
    const f = encodeFrame(encodeEnvelope(blocks[i % blocks.length]!));
    if (i < blocks.length) frames.push(f);
  }
  let seconds = (performance.now() - t) / 1000;
  const frameBytes = frames[0]!.length;
  emit({ name: 'protocol.encode.throughput', value: (encodeIterations * frameBytes) / seconds / 1e6, unit: 'MB/s', frameBytes });
  emit({ name: 'protocol.wire.overhead', value: ((frameBytes - rawBytes) / rawBytes) * 100, unit: '%', frameBytes, rawBytes });

  // deframe + decode + typed view, fed in 4 KiB chunks as a serial port would
  const stream = Buffer.concat(frames);
  const chunk = 4096;
  let decoded = 0;
  let checksum = 0;
  const decoder = new FrameDecoder((payload) => {
    const m = decodeEnvelope(payload);
    const b = m.sampleBlock!;
    const view = samplesView(b.format, b.samples, b.channelIds.length, b.sampleCount);
    checksum += view[0]!;
    decoded++;
  });
  const rounds = 300;
  t = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let at = 0; at < stream.length; at += chunk) decoder.push(stream.subarray(at, at + chunk));
  }
  seconds = (performance.now() - t) / 1000;
  if (decoded !== rounds * frames.length) throw new Error(`decoded ${decoded} of ${rounds * frames.length} (checksum ${checksum})`);
  emit({ name: 'protocol.decode.throughput', value: (rounds * stream.length) / seconds / 1e6, unit: 'MB/s', note: 'deframe + CRC + protobuf decode + typed view, 4 KiB chunks' });
  emit({ name: 'protocol.decode.blocks', value: decoded / seconds, unit: 'blocks/s' });
  frames = [];

  // soak: 10^6 random chunks (0..256 bytes), bounded memory
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed;
  };
  const pool = new Uint8Array(1 << 20);
  for (let i = 0; i < pool.length; i++) pool[i] = rand() & 0xff;
  let delivered = 0;
  const soak = new FrameDecoder(() => delivered++);
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  t = performance.now();
  const chunks = 1_000_000;
  for (let i = 0; i < chunks; i++) {
    const len = rand() % 257;
    const start = rand() % (pool.length - len);
    soak.push(pool.subarray(start, start + len));
  }
  seconds = (performance.now() - t) / 1000;
  globalThis.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const rejected = Object.values(soak.counters.rejected).reduce((a, b) => a + b, 0);
  emit({ name: 'protocol.soak.chunks', value: chunks, unit: 'chunks', seconds, rejected, delivered });
  emit({ name: 'protocol.soak.heap_growth', value: (heapAfter - heapBefore) / 1e6, unit: 'MB' });
}
