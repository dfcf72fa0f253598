// The journal -> raw log hand-off (issue 17, point 6; host/record/README.md "Why the raw log
// is not a backpressured stream"). The same 30 min of journal entries of the default lock-in
// configuration (rx entries of 4 detector + 4 aux blocks, a heartbeat per second) go
//   sync:   through RawLogWriter.write (what the Rig's onJournal calls), then close();
//   stream: through stream.pipeline(Readable -> record-encoding Transform -> fs.WriteStream),
//           pushed as a live source must push them (it cannot wait: the bytes have arrived);
//   paced:  the same pipeline, the source waiting for 'drain' whenever push() says so (what
//           backpressure on the link would mean: the serial port paused for that long).
// Figures: main-thread µs per entry, the longest single hand-off, and for the streams how many
// bytes waited in memory at worst and how often (and how long, paced) the source was told to wait.
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../host/config/acquisition.ts';
import { encodeEntry, encodeRecordBytes } from '../../host/record/rawlog-format.ts';
import { canonicalConfig, RawLogWriter } from '../../host/record/rawlog.ts';
import type { JournalEntry } from '../../host/rig/journal.ts';
import { frameEnvelope, SampleFormat, SampleSource } from '../../protocol/index.ts';
import type { Emit } from './run.ts';

const MINUTES = 30;
const config = canonicalConfig(toWireConfig(DEFAULT_LOCKIN_CONFIG));
const RATE = config.sampleRateHz!;
const BLOCK = config.blockSamples!;
const AUX_BLOCK = (BLOCK * config.aux!.rateHz!) / RATE;

function journal(): JournalEntry[] {
  const detector = new Uint8Array(BLOCK * 2 * 2).map((_, i) => (i * 37) & 0xff);
  const aux = new Uint8Array(AUX_BLOCK * 2 * 2).map((_, i) => (i * 11) & 0xff);
  const entries: JournalEntry[] = [];
  const blocks = (MINUTES * 60 * RATE) / BLOCK;
  let hostUs = 1_780_000_000_000_000;
  for (let k = 0; k < blocks; k += 4) {
    const frames: Uint8Array[] = [];
    for (let j = k; j < k + 4; j++) {
      frames.push(frameEnvelope({ sampleBlock: { configId: 1, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: j * BLOCK, sampleCount: BLOCK, channelIds: [0, 1], format: SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples: detector } }));
      frames.push(frameEnvelope({ sampleBlock: { configId: 1, source: SampleSource.SAMPLE_SOURCE_AUX, firstSampleIndex: j * AUX_BLOCK, sampleCount: AUX_BLOCK, channelIds: [0, 1], format: SampleFormat.SAMPLE_FORMAT_INT16_LE, samples: aux } }));
    }
    hostUs += (4 * BLOCK * 1e6) / RATE;
    entries.push({ type: 'rx', hostTimeUs: hostUs, bytes: Buffer.concat(frames) });
    if ((k * BLOCK) % RATE === 0) entries.push({ type: 'heartbeat', hostTimeUs: hostUs, sample: { hostSendUs: hostUs - 400, hostReceiveUs: hostUs, deviceSampleIndex: k * BLOCK, deviceTimeUs: (k * BLOCK * 1e6) / RATE, running: true } });
  }
  return entries;
}

interface HandOff { mainUsPerEntry: number; maxHandOffUs: number; seconds: number; fileMB: number; peakQueuedMB: number; waitsAsked: number; longestWaitMs: number }

async function viaStream(path: string, entries: JournalEntry[], paced: boolean): Promise<HandOff> {
  // a live source: data arrives when it arrives; read() only tells a paced source it may go on
  let wake: (() => void) | undefined;
  const source = new Readable({ objectMode: true, highWaterMark: 64, read() { wake?.(); wake = undefined; } });
  let queuedBytes = 0;
  let peakQueued = 0;
  const encode = new Transform({
    writableObjectMode: true, highWaterMark: 64 * 1024,
    transform(entry: JournalEntry, _enc, done) {
      const { type, payload } = encodeEntry(entry);
      const bytes = encodeRecordBytes(type, entry.hostTimeUs, payload);
      queuedBytes -= payload.byteLength;
      done(null, bytes);
    },
  });
  const t0 = performance.now();
  const piping = pipeline(source, encode, createWriteStream(path));
  let main = 0;
  let maxHandOff = 0;
  let waitsAsked = 0;
  let longestWait = 0;
  for (const entry of entries) {
    const s = performance.now();
    if (entry.type === 'rx') queuedBytes += entry.bytes.byteLength;
    peakQueued = Math.max(peakQueued, queuedBytes);
    const more = source.push(entry);
    const d = performance.now() - s;
    main += d;
    maxHandOff = Math.max(maxHandOff, d);
    if (!more) {
      waitsAsked++;
      if (paced) {
        const w0 = performance.now();
        await new Promise<void>((resolve) => { wake = resolve; });
        longestWait = Math.max(longestWait, performance.now() - w0);
      }
    }
  }
  source.push(null);
  await piping;
  return { mainUsPerEntry: (main * 1000) / entries.length, maxHandOffUs: maxHandOff * 1000, seconds: (performance.now() - t0) / 1000, fileMB: statSync(path).size / 1e6, peakQueuedMB: peakQueued / 1e6, waitsAsked, longestWaitMs: longestWait };
}

async function viaWriter(path: string, entries: JournalEntry[]): Promise<HandOff> {
  const t0 = performance.now();
  const w = await RawLogWriter.create(path);
  let main = 0;
  let maxHandOff = 0;
  let peakQueued = 0;
  for (const entry of entries) {
    const s = performance.now();
    w.write(entry);
    const d = performance.now() - s;
    main += d;
    maxHandOff = Math.max(maxHandOff, d);
    peakQueued = Math.max(peakQueued, w.stats.bytesQueued);
  }
  await w.close({ stoppedBy: 'duration' });
  return { mainUsPerEntry: (main * 1000) / entries.length, maxHandOffUs: maxHandOff * 1000, seconds: (performance.now() - t0) / 1000, fileMB: statSync(path).size / 1e6, peakQueuedMB: peakQueued / 1e6, waitsAsked: 0, longestWaitMs: 0 };
}

export async function run(emit: Emit): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fiberrig-handoff-'));
  try {
    const entries = journal();
    const results = {
      sync: await viaWriter(join(dir, 'sync.fjl'), entries),
      stream: await viaStream(join(dir, 'stream.fjl'), entries, false),
      paced: await viaStream(join(dir, 'paced.fjl'), entries, true),
    };
    for (const [how, r] of Object.entries(results)) {
      const extra = { entries: entries.length, minutes: MINUTES, fileMB: Number(r.fileMB.toFixed(1)), seconds: Number(r.seconds.toFixed(2)) };
      emit({ name: `rawlog handoff ${how}: main thread per entry`, value: Number(r.mainUsPerEntry.toFixed(2)), unit: 'µs', ...extra });
      emit({ name: `rawlog handoff ${how}: longest hand-off`, value: Number(r.maxHandOffUs.toFixed(0)), unit: 'µs' });
      emit({ name: `rawlog handoff ${how}: peak bytes waiting in memory`, value: Number(r.peakQueuedMB.toFixed(2)), unit: 'MB' });
      if (how !== 'sync') emit({ name: `rawlog handoff ${how}: push() asked the source to wait`, value: r.waitsAsked, unit: 'times', longestWaitMs: Number(r.longestWaitMs.toFixed(1)) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
