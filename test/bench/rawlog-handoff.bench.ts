// The journal -> raw log hand-off (issue 17, point 6; host/record/README.md "Why the raw log
// is not a backpressured stream"). The same 30 min of journal entries of the default lock-in
// configuration (rx entries of 4 detector + 4 aux blocks, a heartbeat per second) go
//   sync:   through RawLogWriter.write (what the Rig's onJournal calls), then close();
//   stream: through stream.pipeline(Readable -> record-encoding Transform -> fs.WriteStream),
//           pushed as a live source must push them (it cannot wait: the bytes have arrived);
//   paced:  the same pipeline, the source waiting for 'drain' whenever push() says so (what
//           backpressure on the link would mean: the serial port paused for that long).
// Entries are handed off as a port delivers them: 8 per event-loop turn, as fast as the loop turns.
// Figures: main-thread µs per entry (event-loop utilization: encoding and stream machinery
// included), the event loop's longest delay (what a heartbeat could wait), bytes waiting in
// memory at worst (streams: ~5 kB per queued entry), and for the streams how often push() asked
// the source to wait (and how long the paced one did).
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
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

interface HandOff { mainUsPerEntry: number; loopDelayMaxMs: number; loopDelayP99Ms: number; seconds: number; fileMB: number; peakQueuedMB: number; waitsAsked: number; waitedMs: number }

/** The entries handed off as a serial port delivers them (a few per event-loop turn); main-thread time from the event loop's utilization. */
async function measure(entries: JournalEntry[], handOff: (entry: JournalEntry) => Promise<void> | void, queued: () => number, finish: () => Promise<void>): Promise<Omit<HandOff, 'fileMB' | 'waitsAsked' | 'waitedMs'>> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  delay.enable();
  let peak = 0;
  for (let i = 0; i < entries.length; i++) {
    await handOff(entries[i]!);
    peak = Math.max(peak, queued());
    if (i % 8 === 7) await new Promise<void>((r) => setImmediate(r));
  }
  await finish();
  delay.disable();
  const elu = performance.eventLoopUtilization(elu0);
  return {
    mainUsPerEntry: (elu.active * 1000) / entries.length, loopDelayMaxMs: delay.max / 1e6, loopDelayP99Ms: delay.percentile(99) / 1e6,
    seconds: (performance.now() - t0) / 1000, peakQueuedMB: peak / 1e6,
  };
}

async function viaStream(path: string, entries: JournalEntry[], paced: boolean): Promise<HandOff> {
  // a live source: data arrives when it arrives; read() only tells a paced source it may go on
  let wake: (() => void) | undefined;
  const source = new Readable({ objectMode: true, highWaterMark: 64, read() { wake?.(); wake = undefined; } });
  const encode = new Transform({
    writableObjectMode: true,
    transform(entry: JournalEntry, _enc, done) {
      const { type, payload } = encodeEntry(entry);
      done(null, encodeRecordBytes(type, entry.hostTimeUs, payload));
    },
  });
  const file = createWriteStream(path);
  const piping = pipeline(source, encode, file);
  let waitsAsked = 0;
  let waitedMs = 0;
  const r = await measure(entries, async (entry) => {
    if (source.push(entry)) return;
    waitsAsked++;
    if (!paced) return;
    const w0 = performance.now();
    await new Promise<void>((resolve) => { wake = resolve; });
    waitedMs += performance.now() - w0;
  }, () => source.readableLength * 5000 + encode.writableLength * 5000 + encode.readableLength + file.writableLength, async () => {
    source.push(null);
    await piping;
  });
  return { ...r, fileMB: statSync(path).size / 1e6, waitsAsked, waitedMs };
}

async function viaWriter(path: string, entries: JournalEntry[]): Promise<HandOff> {
  const w = await RawLogWriter.create(path);
  const r = await measure(entries, (entry) => w.write(entry), () => w.stats.bytesQueued, () => w.close({ stoppedBy: 'duration' }));
  return { ...r, fileMB: statSync(path).size / 1e6, waitsAsked: 0, waitedMs: 0 };
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
      emit({ name: `rawlog handoff ${how}: event loop delay`, value: Number(r.loopDelayMaxMs.toFixed(1)), unit: 'ms (max)', p99Ms: Number(r.loopDelayP99Ms.toFixed(1)) });
      emit({ name: `rawlog handoff ${how}: peak bytes waiting in memory`, value: Number(r.peakQueuedMB.toFixed(2)), unit: 'MB' });
      if (how !== 'sync') emit({ name: `rawlog handoff ${how}: push() asked the source to wait`, value: r.waitsAsked, unit: 'times', waitedMs: Number(r.waitedMs.toFixed(1)) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
