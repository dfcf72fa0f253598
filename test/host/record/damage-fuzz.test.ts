// Acceptance (issue 14, point 3): raw-log damage fuzz. One small real
// recording made with the simulator; then ≥ 1000 random damages — single-bit
// flips, truncations and zeroed runs, across the whole file, header included,
// a third of them on the first records (header, meta, device info, Configure,
// Start, the first checkpoint) — each inspected like `fiberrig inspect` does.
// For each: the recording opens; recovered detector samples ≥ total − the
// samples in frames touching the damaged records (computed here from the
// intact log, independently of the reader); the damage is reported (a changed
// file never reads as clean); every damaged byte lies in a reported span or
// the torn tail. Seeded (FIBERRIG_FUZZ_SEED overrides): a failure prints the
// seed and the damage, and reproduces.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { decodeEnvelope, FrameDecoder, SampleSource } from '../../../protocol/index.ts';
import { main } from '../../../host/cli/main.ts';
import { inspectRecording, type RecordingInspection } from '../../../host/record/inspect.ts';
import { RAW_LOG_FILE_NAME, RECORD_HEADER_BYTES, RECORD_OVERHEAD_BYTES, RecordType } from '../../../host/record/rawlog.ts';
import { SESSION_FILE_NAME } from '../../../host/record/session.ts';
import { tempDir } from './helpers.ts';

const SEED = Number(process.env.FIBERRIG_FUZZ_SEED ?? 20261205);
const RUNS = Number(process.env.FIBERRIG_FUZZ_RUNS ?? 1200);

interface LogRecord { start: number; end: number; type: number }

/** The records of an intact raw log, by byte range. */
function recordsOf(bytes: Buffer): LogRecord[] {
  const out: LogRecord[] = [];
  for (let at = 0; at < bytes.length;) {
    const end = at + RECORD_OVERHEAD_BYTES + bytes.readUInt32LE(at + 4);
    out.push({ start: at, end, type: bytes[at + 2]! });
    at = end;
  }
  return out;
}

/**
 * Detector samples per rx record "touch": for every frame of the received
 * stream, the rx records its bytes lie in and its detector sample count.
 */
function framesOf(bytes: Buffer, records: LogRecord[]): Array<{ records: number[]; detectorSamples: number }> {
  const frames: Array<{ records: number[]; detectorSamples: number }> = [];
  let current: { records: Set<number>; bytes: number[] } = { records: new Set(), bytes: [] };
  records.forEach((r, index) => {
    if (r.type === RecordType.link) current = { records: new Set(), bytes: [] }; // a new connection, a new decoder
    if (r.type !== RecordType.rx) return;
    for (let p = r.start + RECORD_HEADER_BYTES; p < r.end - 4; p++) {
      current.records.add(index);
      current.bytes.push(bytes[p]!);
      if (bytes[p] !== 0) continue;
      let detectorSamples = 0;
      new FrameDecoder((payload) => {
        const m = decodeEnvelope(payload);
        if (m.body === 'sampleBlock' && m.sampleBlock!.source !== SampleSource.SAMPLE_SOURCE_AUX) detectorSamples = m.sampleBlock!.sampleCount;
      }).push(Uint8Array.from(current.bytes));
      frames.push({ records: [...current.records], detectorSamples });
      current = { records: new Set(), bytes: [] };
    }
  });
  return frames;
}

type Damage = { kind: 'flip'; at: number; bit: number } | { kind: 'truncate'; at: number } | { kind: 'zero'; at: number; length: number };

function apply(original: Buffer, d: Damage): Buffer {
  if (d.kind === 'truncate') return original.subarray(0, d.at);
  const out = Buffer.from(original);
  if (d.kind === 'flip') out[d.at] = out[d.at]! ^ (1 << d.bit);
  else out.fill(0, d.at, Math.min(out.length, d.at + d.length));
  return out;
}

/** Byte range [from, to) the damage changed (truncation: from the cut to the end). */
function rangeOf(original: Buffer, d: Damage): [number, number] {
  if (d.kind === 'truncate') return [d.at, original.length];
  if (d.kind === 'flip') return [d.at, d.at + 1];
  return [d.at, Math.min(original.length, d.at + d.length)];
}

describe('host/record: raw-log damage fuzz on a simulator recording (acceptance, issue 14.3)', function () {
  this.timeout(600_000);
  let tmp: ReturnType<typeof tempDir>;
  let rec: string;
  let original: Buffer;
  let records: LogRecord[];
  let frames: ReturnType<typeof framesOf>;
  let intact: RecordingInspection;
  let firstRecordsEnd: number;

  before(async () => {
    tmp = tempDir('fiberrig-damage-');
    rec = join(tmp.dir, 'rec');
    const sink = new PassThrough();
    sink.resume();
    const code = await main(['acquire', '--device', 'sim://steps?seed=1&speed=max', '--duration', '2s', '--out', rec, '--quiet', '--json'], { stdout: sink, stderr: sink });
    assert.equal(code, 0, 'the simulator recording was made');
    original = readFileSync(join(rec, RAW_LOG_FILE_NAME));
    records = recordsOf(original);
    frames = framesOf(original, records);
    intact = await inspectRecording(rec);
    const firstCheckpoint = records.findIndex((r) => r.type === RecordType.checkpoint);
    assert.ok(firstCheckpoint > 0, 'the log holds a checkpoint');
    firstRecordsEnd = records[firstCheckpoint + 1]!.end;
  });
  after(() => tmp?.cleanup());

  it('the intact recording reads clean, with every sample the frames hold', () => {
    assert.equal(intact.status, 'clean');
    assert.equal(intact.rawLog.closedCleanly, true);
    assert.ok(intact.detectorSamples > 10_000, `${intact.detectorSamples} detector samples`);
    assert.equal(intact.detectorSamples, frames.reduce((n, f) => n + f.detectorSamples, 0));
    assert.ok(original.length < 200_000, `${original.length} B: small enough for 1000 replays`);
  });

  it(`${RUNS} random bit flips, truncations and zeroed runs (seed ${SEED}): opens, recovers all but the damaged records' samples, reports the damage`, async () => {
    const size = original.length;
    const position = fc.oneof(
      { weight: 2, arbitrary: fc.integer({ min: 0, max: size - 1 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: firstRecordsEnd - 1 }) },
    );
    const damage: fc.Arbitrary<Damage> = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: position.map((p) => Math.max(1, p)) }),
      fc.record({ kind: fc.constant('zero' as const), at: position, length: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 4096 })) }),
    );
    const dir = join(tmp.dir, 'damaged');
    mkdirSync(dir);
    copyFileSync(join(rec, SESSION_FILE_NAME), join(dir, SESSION_FILE_NAME));
    const counts = { flip: 0, truncate: 0, zero: 0, headerHit: 0, unchanged: 0 };

    await fc.assert(fc.asyncProperty(damage, async (d) => {
      const bytes = apply(original, d);
      writeFileSync(join(dir, RAW_LOG_FILE_NAME), bytes);
      const r = await inspectRecording(dir); // throws if the recording does not open
      counts[d.kind]++;
      const [from, to] = rangeOf(original, d);
      if (from < records[0]!.end) counts.headerHit++;
      if (d.kind !== 'truncate' && bytes.equals(original)) {
        counts.unchanged++;
        assert.equal(r.status, 'clean');
        assert.equal(r.detectorSamples, intact.detectorSamples);
        return;
      }
      const hit = new Set(records.flatMap((rec2, i) => (rec2.start < to && rec2.end > from ? [i] : [])));
      const lostInDamaged = frames.filter((f) => f.records.some((i) => hit.has(i))).reduce((n, f) => n + f.detectorSamples, 0);
      assert.ok(r.detectorSamples >= intact.detectorSamples - lostInDamaged,
        `recovered ${r.detectorSamples} < ${intact.detectorSamples} total - ${lostInDamaged} in damaged records; recovered: ${JSON.stringify(r.damage.recovered)}`);
      // nothing silent
      if (d.kind === 'truncate') assert.ok(r.rawLog.tornTailBytes > 0 || !r.rawLog.closedCleanly, 'a truncation is reported (torn tail, no end record)');
      else assert.notEqual(r.status, 'clean', 'a changed raw log never reads as clean');
      // every changed byte lies in a reported span or the torn tail
      const tornFrom = size - r.rawLog.tornTailBytes;
      for (const p of d.kind === 'truncate' ? [] : [from, to - 1]) {
        if (bytes[p] === original[p]) continue;
        assert.ok(p >= tornFrom || r.damage.spans.some((s) => s.startByte <= p && p < s.endByte), `changed byte ${p} is reported (spans ${JSON.stringify(r.damage.spans)}, torn from ${tornFrom})`);
      }
      if (r.status === 'damaged' && d.kind !== 'truncate' && !r.damage.spans.some((s) => s.openEnded)) {
        assert.ok(intact.detectorSamples - r.detectorSamples <= r.damage.lostDetectorSamples,
          `the spans' cost (${r.damage.lostDetectorSamples}) covers the samples lost (${intact.detectorSamples - r.detectorSamples})`);
      }
    }), { seed: SEED, numRuns: RUNS, endOnFailure: true });
    assert.ok(counts.flip > 200 && counts.truncate > 200 && counts.zero > 200 && counts.headerHit > 50, JSON.stringify(counts));
  });
});
