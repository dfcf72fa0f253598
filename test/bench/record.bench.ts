// Recording and export: a 1 h raw log of the default lock-in configuration
// (2 detectors at 10 kS/s, 3 carriers, EEG/EMG at 1 kS/s, one TTL line) is
// synthesized straight into a raw log, then exported once per format.
// Measures raw log write and export throughput (x real time, MB/s of raw
// log) and memory during each export: peak RSS and heap, and the heap still
// in use after a forced GC, for a 10 min and a 1 h recording (streaming: the
// retained heap does not depend on the recording's length).
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../host/config/acquisition.ts';
import { EXPORT_FORMATS, exportRecording } from '../../host/export/index.ts';
import { canonicalConfig, RAW_LOG_FILE_NAME, RawLogWriter } from '../../host/record/rawlog.ts';
import {
  type DeviceInfo, Edge, frameEnvelope, MAX_MESSAGE_BYTES, ModulationMode, packSamples, pb, PROTOCOL_VERSION, SampleFormat, SampleSource,
} from '../../protocol/index.ts';
import type { Emit } from './run.ts';

const HOURS = 1;
const config = canonicalConfig(toWireConfig(DEFAULT_LOCKIN_CONFIG));
const RATE = config.sampleRateHz!;
const BLOCK = config.blockSamples!;
const AUX_RATE = config.aux!.rateHz!;
const AUX_BLOCK = (BLOCK * AUX_RATE) / RATE;
const CARRIERS = (config.leds ?? []).map((l) => l.carrierHz!);
const CONFIG_ID = 1;

const info = pb.DeviceInfo.decode(pb.DeviceInfo.encode(pb.DeviceInfo.fromObject({
  protocol: { ...PROTOCOL_VERSION }, firmwareName: 'bench', firmwareVersion: '0', boardModel: 'bench', serialNumber: 'B-1',
  leds: [405, 470, 560, 630].map((wavelengthNm, id) => ({ id, wavelengthNm, maxCurrentContinuousMa: 50 })),
  detectors: [0, 1].map((id) => ({ id, adcBits: 16, fullScaleV: 3.3 })),
  auxInputs: [{ id: 0, label: 'EEG', adcBits: 16, fullScaleV: 3.3 }, { id: 1, label: 'EMG', adcBits: 16, fullScaleV: 3.3 }],
  modes: [ModulationMode.MODULATION_MODE_LOCK_IN], maxFrameBytes: MAX_MESSAGE_BYTES, timerClockHz: 1_000_000,
})).finish()) as unknown as DeviceInfo;

/** Aux samples per block of this configuration (EEG and EMG interleaved, int16). */
export const SYNTH_AUX_BLOCK = AUX_BLOCK;

/**
 * Writes a raw log of `seconds` of acquisition; returns its size in bytes and the write time.
 * `auxPayload(k)`: the packed aux samples of block k (default: one fixed block, repeated).
 */
export async function synthesize(path: string, seconds: number, auxPayload?: (block: number) => Uint8Array): Promise<{ bytes: number; seconds: number }> {
  // the carriers are whole Hz: one second of samples repeats exactly
  const period = new Uint16Array(RATE * 2);
  for (let n = 0; n < RATE; n++) {
    for (let d = 0; d < 2; d++) {
      let v = 20000;
      CARRIERS.forEach((f, k) => { v += (2500 - 600 * k + 300 * d) * Math.sin((2 * Math.PI * f * n) / RATE); });
      period[n * 2 + d] = Math.round(v + ((n * 31 + d * 17) % 23) - 11);
    }
  }
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < RATE / BLOCK; i++) payloads.push(packSamples(SampleFormat.SAMPLE_FORMAT_UINT16_LE, period.subarray(i * BLOCK * 2, (i + 1) * BLOCK * 2)));
  const aux = packSamples(SampleFormat.SAMPLE_FORMAT_INT16_LE, Int16Array.from({ length: AUX_BLOCK * 2 }, (_, i) => Math.round(500 * Math.sin(i / 7))));

  const t0 = performance.now();
  let hostUs = 1_780_000_000_000_000;
  const w = await RawLogWriter.create(path, { nowUs: () => hostUs });
  w.writeMeta({ kind: 'acquisition', device: 'bench://', processing: { outputRateHz: DEFAULT_LOCKIN_CONFIG.outputRateHz } });
  w.write({ type: 'link', hostTimeUs: hostUs, state: 'open' });
  w.write({ type: 'device-info', hostTimeUs: hostUs, info });
  w.write({ type: 'intent', hostTimeUs: hostUs, intent: { requestId: 1, command: 'configure', config } });
  w.write({ type: 'rx', hostTimeUs: hostUs, bytes: frameEnvelope({ requestId: 1, ack: { configId: CONFIG_ID } }) });
  w.write({ type: 'intent', hostTimeUs: hostUs, intent: { requestId: 2, command: 'start' } });
  w.write({ type: 'rx', hostTimeUs: hostUs, bytes: frameEnvelope({ requestId: 2, ack: { configId: CONFIG_ID } }) });
  const blocks = (seconds * RATE) / BLOCK;
  let chunk: Uint8Array[] = [];
  for (let k = 0; k < blocks; k++) {
    chunk.push(frameEnvelope({ sampleBlock: { configId: CONFIG_ID, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: k * BLOCK, sampleCount: BLOCK, channelIds: [0, 1], format: SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples: payloads[k % payloads.length]! } }));
    chunk.push(frameEnvelope({ sampleBlock: { configId: CONFIG_ID, source: SampleSource.SAMPLE_SOURCE_AUX, firstSampleIndex: k * AUX_BLOCK, sampleCount: AUX_BLOCK, channelIds: [0, 1], format: SampleFormat.SAMPLE_FORMAT_INT16_LE, samples: auxPayload ? auxPayload(k) : aux } }));
    if ((k * BLOCK) % (RATE * 10) === 0 && k > 0) {
      chunk.push(frameEnvelope({ digitalEvent: { line: 0, edge: Edge.EDGE_RISING, sampleIndex: k * BLOCK, configId: CONFIG_ID } }));
      chunk.push(frameEnvelope({ digitalEvent: { line: 0, edge: Edge.EDGE_FALLING, sampleIndex: k * BLOCK + 100, configId: CONFIG_ID } }));
    }
    if (k % 4 === 3) {
      hostUs += (4 * BLOCK * 1e6) / RATE;
      w.write({ type: 'rx', hostTimeUs: hostUs, bytes: Buffer.concat(chunk) });
      chunk = [];
    }
    if ((k + 1) % (RATE / BLOCK) === 0) {
      w.write({ type: 'heartbeat', hostTimeUs: hostUs + 500, sample: { hostSendUs: hostUs, hostReceiveUs: hostUs + 500, deviceSampleIndex: (k + 1) * BLOCK, deviceTimeUs: ((k + 1) * BLOCK * 1e6) / RATE, running: true } });
    }
  }
  if (chunk.length) w.write({ type: 'rx', hostTimeUs: hostUs, bytes: Buffer.concat(chunk) });
  await w.close({ stoppedBy: 'duration' });
  return { bytes: statSync(path).size, seconds: (performance.now() - t0) / 1000 };
}

interface Measured {
  seconds: number;
  peakRssMB: number;
  rssGrowthMB: number;
  peakHeapMB: number;
  /** Largest heap still in use after a forced GC (sampled periodically): what the export retains. */
  retainedHeapMB: number;
  outputMB: number;
  rows: number;
}

/** Exports the recording in `dir` once, sampling memory every 50 ms. */
async function measure(dir: string, format: (typeof EXPORT_FORMATS)[number], gcEveryMs: number): Promise<Measured> {
  globalThis.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  let retained = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
  const gcSampler = setInterval(() => {
    if (!globalThis.gc) return;
    globalThis.gc();
    retained = Math.max(retained, process.memoryUsage().heapUsed);
  }, gcEveryMs);
  const outDir = join(dir, `out-${format}`);
  const out = join(outDir, format === 'nwb' ? 'rec.nwb' : format === 'csv' ? 'rec.csv' : '');
  const t0 = performance.now();
  try {
    const result = await exportRecording(dir, format, out);
    const seconds = (performance.now() - t0) / 1000;
    const outputMB = result.files.reduce((n, f) => n + statSync(f).size, 0) / 1e6;
    return { seconds, peakRssMB: peakRss / 1e6, rssGrowthMB: (peakRss - base.rss) / 1e6, peakHeapMB: peakHeap / 1e6, retainedHeapMB: retained / 1e6, outputMB, rows: result.rows };
  } finally {
    clearInterval(sampler);
    clearInterval(gcSampler);
    rmSync(outDir, { recursive: true, force: true });
  }
}

export async function run(emit: Emit): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fiberrig-bench-record-'));
  try {
    const long = { dir: join(root, '1h'), seconds: HOURS * 3600 };
    const short = { dir: join(root, '10min'), seconds: 600 };
    mkdirSync(long.dir);
    mkdirSync(short.dir);
    await synthesize(join(short.dir, RAW_LOG_FILE_NAME), short.seconds);
    const written = await synthesize(join(long.dir, RAW_LOG_FILE_NAME), long.seconds);
    emit({ name: 'record.rawlog.size_1h', value: written.bytes / 1e6, unit: 'MB', note: 'default lock-in: 2 det x 10 kS/s + 2 aux x 1 kS/s, 250-sample blocks' });
    emit({ name: 'record.rawlog.write', value: written.bytes / 1e6 / written.seconds, unit: 'MB/s', note: 'frame encoding included' });
    for (const format of EXPORT_FORMATS) {
      const s = await measure(short.dir, format, 100);
      const l = await measure(long.dir, format, 1000);
      emit({ name: `record.export.${format}.realtime`, value: long.seconds / l.seconds, unit: 'x real time', seconds1h: l.seconds, rawLogMBps: written.bytes / 1e6 / l.seconds, outputMB: l.outputMB, rows: l.rows });
      emit({ name: `record.export.${format}.retained_heap_1h`, value: l.retainedHeapMB, unit: 'MB', retained10minMB: s.retainedHeapMB, gcExposed: typeof globalThis.gc === 'function', note: 'heapUsed after forced GC, max over the export; equal for 10 min and 1 h = streaming' });
      emit({ name: `record.export.${format}.peak_heap_1h`, value: l.peakHeapMB, unit: 'MB', peakHeap10minMB: s.peakHeapMB, note: 'heapUsed peak, garbage included' });
      emit({
        name: `record.export.${format}.peak_rss_1h`, value: l.peakRssMB, unit: 'MB', growthMB: l.rssGrowthMB, peakRss10minMB: s.peakRssMB, growth10minMB: s.rssGrowthMB,
        ...(format === 'nwb' ? { note: 'in this process, under tsx: includes loading h5wasm through tsx (~600 MB); the CLI export\'s own figure is nwb.bench.ts' } : {}),
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
