import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  encodeRecordBytes, MAX_RECORD_PAYLOAD_BYTES, RAW_LOG_FILE_NAME, RAW_LOG_FORMAT_VERSION, RawLogReader, type RawLogRecord, RawLogWriter, readRawLog, RECORD_OVERHEAD_BYTES,
} from '../../../host/record/rawlog.ts';
import { RecordError } from '../../../host/record/errors.ts';
import type { JournalEntry } from '../../../host/rig/journal.ts';
import { synthJournal, TEST_INFO, TEST_WIRE, tempDir } from './helpers.ts';

async function collect(path: string): Promise<{ records: RawLogRecord[]; reader: RawLogReader }> {
  const reader = await RawLogReader.open(path);
  const records: RawLogRecord[] = [];
  for await (const r of reader.records()) records.push(r);
  return { records, reader };
}

/** Entries as plain data for comparison (bytes as arrays, messages as JSON). */
function plain(e: JournalEntry): unknown {
  if (e.type === 'rx') return { ...e, bytes: [...e.bytes] };
  if (e.type === 'device-info') return { ...e, info: JSON.stringify(e.info) };
  return e;
}

const every: JournalEntry[] = [
  { type: 'link', hostTimeUs: 1, state: 'open' },
  { type: 'device-info', hostTimeUs: 2, info: TEST_INFO },
  { type: 'intent', hostTimeUs: 3, intent: { requestId: 1, command: 'configure', config: TEST_WIRE } },
  { type: 'intent', hostTimeUs: 4, intent: { requestId: 2, command: 'start' } },
  { type: 'intent', hostTimeUs: 5, intent: { requestId: 3, command: 'start', resume: { reason: 'reconnect', missingDetectorSamples: 1234 } } },
  { type: 'intent', hostTimeUs: 6, intent: { requestId: 4, command: 'stop' } },
  { type: 'rx', hostTimeUs: 7, bytes: Uint8Array.from({ length: 300 }, (_, i) => (i * 31) & 0xff) },
  { type: 'rx', hostTimeUs: 8, bytes: new Uint8Array(0) },
  { type: 'heartbeat', hostTimeUs: 9, sample: { hostSendUs: 1.5e15, hostReceiveUs: 1.5e15 + 700, deviceSampleIndex: 123456789, deviceTimeUs: 987654321, running: true } },
  { type: 'link', hostTimeUs: 10, state: 'closed' },
];

describe('host/record: raw log', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => { tmp = tempDir(); });
  afterEach(() => tmp.cleanup());

  it('round-trips every journal entry type, with header, meta and end records', async () => {
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    const w = await RawLogWriter.create(path);
    w.writeMeta({ subject: 'm1' });
    for (const e of every) w.write(e);
    await w.close({ stoppedBy: 'duration' });
    const { records, reader } = await collect(path);
    assert.equal(records[0]!.kind, 'header');
    const header = (records[0] as Extract<RawLogRecord, { kind: 'header' }>).header;
    assert.equal(header.formatVersion, RAW_LOG_FORMAT_VERSION);
    assert.match(header.fiberrigVersion, /^\d+\.\d+\.\d+/);
    assert.equal(records[1]!.kind, 'meta');
    assert.deepEqual((records[1] as Extract<RawLogRecord, { kind: 'meta' }>).meta, { subject: 'm1' });
    const entries = records.filter((r) => r.kind === 'entry').map((r) => (r as Extract<RawLogRecord, { kind: 'entry' }>).entry);
    assert.deepEqual(entries.map(plain), every.map(plain));
    const configure = entries[2] as Extract<JournalEntry, { type: 'intent' }>;
    assert.deepEqual(configure.intent, { requestId: 1, command: 'configure', config: TEST_WIRE }, 'the configuration survives exactly');
    assert.equal(records.at(-1)!.kind, 'end');
    assert.equal(reader.stats.cleanEnd, true);
    assert.equal(reader.stats.tornTailBytes, 0);
    assert.equal(reader.stats.position, statSync(path).size);
    // a checkpoint follows each Start intent and repeats the header, device info, Configure, first and latest Start
    const kinds = records.map((r) => (r.kind === 'entry' ? r.entry.type : r.kind));
    assert.deepEqual(kinds.flatMap((k, i) => (k === 'checkpoint' ? [i] : [])), [6, 8]);
    const cp = (records[8] as Extract<RawLogRecord, { kind: 'checkpoint' }>).checkpoint;
    assert.deepEqual(cp.header, header);
    assert.equal(JSON.stringify(cp.deviceInfo), JSON.stringify({ hostTimeUs: 2, info: TEST_INFO }));
    assert.deepEqual(cp.configure, { hostTimeUs: 3, intent: every[2]!.type === 'intent' ? every[2]!.intent : undefined });
    assert.deepEqual(cp.firstStart, { hostTimeUs: 4, intent: { requestId: 2, command: 'start' } });
    assert.deepEqual(cp.start, { hostTimeUs: 5, intent: { requestId: 3, command: 'start', resume: { reason: 'reconnect', missingDetectorSamples: 1234 } } });
  });

  it('streams a long journal and gives the same entries (readRawLog)', async () => {
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    const entries = synthJournal({ seconds: 150 });
    const w = await RawLogWriter.create(path, { bufferBytes: 4096 });
    for (const e of entries) w.write(e);
    await w.close();
    const back: JournalEntry[] = [];
    for await (const e of readRawLog(path)) back.push(e);
    assert.deepEqual(back.map(plain), entries.map(plain));
    assert.ok(statSync(path).size > 1024 * 1024, 'spans more than one read window');
  });

  it('reuses the buffers the I/O worker gives back, and a reused buffer carries nothing of its last records', async () => {
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    const entries = synthJournal({ seconds: 150 });
    const w = await RawLogWriter.create(path, { bufferBytes: 4096, flushIntervalMs: 60_000, fsyncIntervalMs: 60_000 });
    // once a buffer is handed over, the next records wait for it to come back (as they do when data arrives over time)
    let handedOver = 0;
    for (const e of entries) {
      w.write(e);
      if (w.stats.bytesQueued + w.stats.bytesWritten > handedOver) {
        await w.sync();
        handedOver = w.stats.bytesQueued + w.stats.bytesWritten;
      }
    }
    await w.close();
    const back: JournalEntry[] = [];
    for await (const e of readRawLog(path)) back.push(e);
    assert.deepEqual(back.map(plain), entries.map(plain));
    assert.ok(w.stats.writes > 100, `${w.stats.writes} hand-overs`);
    assert.ok(w.stats.buffersAllocated <= 3, `${w.stats.buffersAllocated} buffers allocated for ${w.stats.writes} hand-overs`);
  });

  it('ignores a torn tail: truncated at every byte of the last record, all complete records are read', async () => {
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    const w = await RawLogWriter.create(path);
    for (const e of every.slice(0, 7)) w.write(e);
    await w.sync();
    const before = statSync(path).size;
    w.write({ type: 'rx', hostTimeUs: 99, bytes: Uint8Array.from({ length: 40 }, (_, i) => i + 1) });
    await w.sync();
    const full = readFileSync(path);
    const lastLength = full.length - before;
    assert.equal(lastLength, 40 + RECORD_OVERHEAD_BYTES);
    for (let cut = before; cut < full.length; cut++) {
      writeFileSync(path, full.subarray(0, cut));
      const { records, reader } = await collect(path);
      const entries = records.filter((r) => r.kind === 'entry');
      assert.equal(entries.length, 7, `cut at ${cut}`);
      assert.equal(reader.stats.tornTailBytes, cut - before, `cut at ${cut}`);
      assert.equal(reader.stats.corruptSpans, 0);
    }
    // one corrupted byte anywhere in the last record: the record is dropped, the rest kept; it is damage
    // (a complete record with a bad CRC), except a length field grown past the end, which reads as a torn tail
    for (let at = before; at < full.length; at++) {
      const damaged = Buffer.from(full);
      damaged[at] = damaged[at]! ^ 0x20;
      writeFileSync(path, damaged);
      const { records, reader } = await collect(path);
      assert.equal(records.filter((r) => r.kind === 'entry').length, 7, `byte ${at} flipped`);
      const length = damaged.readUInt32LE(before + 4);
      const inLength = length + RECORD_OVERHEAD_BYTES > lastLength && length <= MAX_RECORD_PAYLOAD_BYTES; // the length now reaches past the end
      assert.deepEqual([reader.stats.corruptSpans, reader.stats.tornTailBytes], inLength ? [0, lastLength] : [1, 0], `byte ${at} flipped`);
      if (!inLength) assert.deepEqual(reader.stats.damagedSpans, [{ startByte: before, endByte: full.length }]);
    }
    await w.close().catch(() => undefined);
  });

  it('skips a damaged record in the middle and resumes at the next valid one', async () => {
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    const w = await RawLogWriter.create(path);
    const headerBytes = statSync(path).size;
    const rx = (i: number): JournalEntry => ({ type: 'rx', hostTimeUs: i, bytes: Uint8Array.from({ length: 50 }, (_, k) => (k + i) & 0xff) });
    for (let i = 0; i < 10; i++) w.write(rx(i));
    await w.close();
    const full = readFileSync(path);
    const damaged = Buffer.from(full);
    const at = headerBytes + 3 * (50 + RECORD_OVERHEAD_BYTES) + 30; // payload of the 4th rx record
    damaged[at] = damaged[at]! ^ 0xff;
    writeFileSync(path, damaged);
    const { records, reader } = await collect(path);
    const times = records.filter((r) => r.kind === 'entry').map((r) => (r as Extract<RawLogRecord, { kind: 'entry' }>).entry.hostTimeUs);
    assert.deepEqual(times, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
    assert.equal(reader.stats.corruptSpans, 1);
    assert.equal(reader.stats.corruptBytes, 50 + RECORD_OVERHEAD_BYTES);
    assert.equal(reader.stats.cleanEnd, true);
  });

  it('skips records of unknown types (later format versions) and refuses files that are not raw logs', async () => {
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    const w = await RawLogWriter.create(path);
    w.write(every[0]!);
    await w.sync();
    const withUnknown = Buffer.concat([readFileSync(path), encodeRecordBytes(200, 5, Uint8Array.of(1, 2, 3))]);
    writeFileSync(path, withUnknown);
    const { records, reader } = await collect(path);
    assert.equal(records.filter((r) => r.kind === 'entry').length, 1);
    assert.equal(reader.stats.unknownRecords, 1);
    await w.close().catch(() => undefined);

    const bogus = join(tmp.dir, 'bogus.fjl');
    writeFileSync(bogus, 'time_s,a,b\n1,2,3\n');
    await assert.rejects(collect(bogus), (e: unknown) => e instanceof RecordError && e.code === 'E_RAWLOG_NOT_A_LOG');
    truncateSync(bogus, 0);
    await assert.rejects(collect(bogus), (e: unknown) => e instanceof RecordError && e.code === 'E_RAWLOG_NOT_A_LOG');
  });

  it('never overwrites a recording', async () => {
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    const w = await RawLogWriter.create(path);
    await w.close();
    await assert.rejects(RawLogWriter.create(path), (e: unknown) => e instanceof RecordError && e.code === 'E_RECORDING_EXISTS');
  });

  it('batches small writes (the default 1 MiB buffer) and has everything in the file after sync()', async () => {
    const path = join(tmp.dir, RAW_LOG_FILE_NAME);
    const w = await RawLogWriter.create(path, { flushIntervalMs: 60_000, fsyncIntervalMs: 60_000 });
    const chunk = new Uint8Array(64);
    for (let i = 0; i < 10_000; i++) w.write({ type: 'rx', hostTimeUs: i, bytes: chunk });
    assert.ok(w.stats.writes < 30, `${w.stats.writes} writes for 10 000 records`);
    await w.sync();
    assert.equal(statSync(path).size, w.stats.bytesWritten);
    assert.equal(w.stats.rxBytes, 640_000);
    const { records } = await collect(path);
    assert.equal(records.filter((r) => r.kind === 'entry').length, 10_000);
    await w.close();
  });
});
