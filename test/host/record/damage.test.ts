// A raw log that survives local damage (issue 14, point 3): one flipped bit in
// each of the first records of a simulator recording (header, meta, device
// info, Configure, Start, their Acks, the checkpoint) costs nothing but that
// record; session.json's copy is used only when its hash checks out; format 1
// logs (no checkpoints) still read; `fiberrig inspect` exits 3 on damage.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../../host/cli/main.ts';
import { EXIT_DAMAGED_RAW_LOG } from '../../../host/cli/commands/inspect.ts';
import { RecordError } from '../../../host/record/errors.ts';
import { inspectRecording, type RecordingInspection } from '../../../host/record/inspect.ts';
import {
  encodeEntry, encodeRecordBytes, headerPayload, RAW_LOG_FILE_NAME, RECORD_HEADER_BYTES, RECORD_OVERHEAD_BYTES, RecordType,
} from '../../../host/record/rawlog.ts';
import { SESSION_FILE_NAME, type SessionFile } from '../../../host/record/session.ts';
import { synthJournal, tempDir } from './helpers.ts';

interface LogRecord { start: number; end: number; type: number; command?: number }

function recordsOf(bytes: Buffer): LogRecord[] {
  const out: LogRecord[] = [];
  for (let at = 0; at < bytes.length;) {
    const end = at + RECORD_OVERHEAD_BYTES + bytes.readUInt32LE(at + 4);
    const type = bytes[at + 2]!;
    out.push({ start: at, end, type, ...(type === RecordType.intent ? { command: bytes[at + RECORD_HEADER_BYTES + 4]! } : {}) });
    at = end;
  }
  return out;
}

function sink(): PassThrough & { text: () => string } {
  const s = new PassThrough() as PassThrough & { text: () => string };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

describe('host/record: damaged raw logs', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let rec: string;
  let original: Buffer;
  let records: LogRecord[];
  let intact: RecordingInspection;
  let n = 0;

  /** A copy of the recording with its raw log replaced by `bytes` (and session.json edited by `session`). */
  function damagedCopy(bytes: Buffer, session?: (s: SessionFile) => void): string {
    const dir = join(tmp.dir, `copy-${n++}`);
    cpSync(rec, dir, { recursive: true });
    writeFileSync(join(dir, RAW_LOG_FILE_NAME), bytes);
    if (session) {
      const s = JSON.parse(readFileSync(join(dir, SESSION_FILE_NAME), 'utf8')) as SessionFile;
      session(s);
      writeFileSync(join(dir, SESSION_FILE_NAME), JSON.stringify(s));
    }
    return dir;
  }

  function flipIn(r: LogRecord, offset = RECORD_HEADER_BYTES + 2): Buffer {
    const b = Buffer.from(original);
    b[r.start + Math.min(offset, r.end - r.start - 1)]! ^= 0x10;
    return b;
  }

  function zeroed(...rs: LogRecord[]): Buffer {
    const b = Buffer.from(original);
    for (const r of rs) b.fill(0, r.start, r.end);
    return b;
  }

  before(async () => {
    tmp = tempDir('fiberrig-damaged-');
    rec = join(tmp.dir, 'rec');
    const out = sink();
    assert.equal(await main(['acquire', '--device', 'sim://steps?seed=1&speed=max', '--duration', '1s', '--out', rec, '--quiet', '--json'], { stdout: out, stderr: out }), 0);
    original = readFileSync(join(rec, RAW_LOG_FILE_NAME));
    records = recordsOf(original);
    intact = await inspectRecording(rec);
    assert.equal(intact.status, 'clean');
    assert.ok(intact.detectorSamples > 5000);
  });
  after(() => tmp?.cleanup());

  const first = (type: number, command?: number): LogRecord => records.find((r) => r.type === type && (command === undefined || r.command === command))!;

  for (const [what, pick, recovered] of [
    ['the header', () => first(RecordType.header), /header from a checkpoint/],
    ['the meta record', () => first(RecordType.meta), null],
    ['the device info', () => first(RecordType.deviceInfo), /device info from a checkpoint/],
    ['the Configure intent', () => first(RecordType.intent, 1), /configure intent \(request \d+\) from a checkpoint/],
    ['the Start intent', () => first(RecordType.intent, 2), /start intent \(request \d+\) from a checkpoint/],
    ['the first checkpoint', () => first(RecordType.checkpoint), null],
  ] as Array<[string, () => LogRecord, RegExp | null]>) {
    it(`one flipped bit in ${what} loses no sample, and is reported`, async () => {
      const r = await inspectRecording(damagedCopy(flipIn(pick())));
      assert.equal(r.status, 'damaged');
      assert.equal(r.detectorSamples, intact.detectorSamples);
      assert.equal(r.gaps.count, intact.gaps.count);
      assert.deepEqual(r.config, intact.config);
      assert.deepEqual(r.damage.spans.map((s) => [s.startByte, s.endByte, s.lostDetectorSamples]), [[pick().start, pick().end, 0]]);
      if (recovered) assert.ok(r.damage.recovered.some((x) => recovered.test(x)), JSON.stringify(r.damage.recovered));
      if (what === 'the header') assert.equal(r.damage.headerMissing, true);
    });
  }

  it('the Acks of Configure and Start lost (with their rx records): Start and config id inferred from the data', async () => {
    // the rx records right after the Configure and the Start intents hold their Acks
    const afterConfigure = records[records.indexOf(first(RecordType.intent, 1)) + 1]!;
    const startIndex = records.indexOf(first(RecordType.intent, 2));
    const afterStart = records.slice(startIndex + 1).find((r) => r.type === RecordType.rx)!;
    assert.equal(afterConfigure.type, RecordType.rx);
    const r = await inspectRecording(damagedCopy(zeroed(afterConfigure, afterStart)));
    assert.equal(r.status, 'damaged');
    assert.ok(r.detectorSamples > 0, 'samples placed after the lost Start Ack');
    assert.equal(r.detectorSamples + r.damage.lostDetectorSamples, intact.detectorSamples, 'what was lost is exactly what the spans cost');
    assert.ok(r.damage.recovered.some((x) => /inferred from the data/.test(x)), JSON.stringify(r.damage.recovered));
  });

  it('device info and configuration with every copy in the log lost: from session.json when its hash checks out, never otherwise', async () => {
    const lost = [first(RecordType.deviceInfo), first(RecordType.intent, 1), ...records.filter((r) => r.type === RecordType.checkpoint)];
    const r = await inspectRecording(damagedCopy(zeroed(...lost)));
    assert.equal(r.status, 'damaged');
    assert.equal(r.detectorSamples, intact.detectorSamples);
    assert.deepEqual(r.config, intact.config);
    assert.deepEqual(r.device, intact.device);
    assert.ok(r.damage.recovered.includes('device info from session.json (SHA-256 matches)'), JSON.stringify(r.damage.recovered));
    assert.ok(r.damage.recovered.includes('configuration from session.json (SHA-256 matches)'));

    // a session.json whose copy does not match its hash (edited, or from another recording) is not used
    const edited = damagedCopy(zeroed(...lost), (s) => { (s.config.wire as { sampleRateHz: number }).sampleRateHz = 12345; });
    await assert.rejects(inspectRecording(edited), (e: unknown) => e instanceof RecordError && e.code === 'E_RECORDING_INCOMPLETE');
    const noHash = damagedCopy(zeroed(...lost), (s) => { delete s.device.infoSha256; });
    await assert.rejects(inspectRecording(noHash), (e: unknown) => e instanceof RecordError && e.code === 'E_RECORDING_INCOMPLETE');
  });

  it('a log cut inside its header opens (empty, torn tail); an empty or foreign file does not', async () => {
    const r = await inspectRecording(damagedCopy(original.subarray(0, 30)));
    assert.equal(r.rawLog.tornTailBytes, 30);
    assert.equal(r.detectorSamples, 0);
    assert.equal(r.status, 'torn-tail');
    await assert.rejects(inspectRecording(damagedCopy(Buffer.alloc(0))), (e: unknown) => e instanceof RecordError && e.code === 'E_RAWLOG_NOT_A_LOG');
    await assert.rejects(inspectRecording(damagedCopy(Buffer.from('time_s,a\n1,2\n'))), (e: unknown) => e instanceof RecordError && e.code === 'E_RAWLOG_NOT_A_LOG');
  });

  it('fiberrig inspect: exit 0 intact or torn tail, 3 damaged (spans, costs and recoveries listed; status in --json)', async () => {
    const run = async (dir: string, json: boolean): Promise<{ code: number; stdout: string; stderr: string }> => {
      const out = sink();
      const err = sink();
      const code = await main(['inspect', '--in', dir, ...(json ? ['--json'] : [])], { stdout: out, stderr: err });
      return { code, stdout: out.text(), stderr: err.text() };
    };
    assert.equal((await run(rec, false)).code, 0);
    const torn = await run(damagedCopy(original.subarray(0, original.length - 3)), true);
    assert.equal(torn.code, 0);
    assert.equal((JSON.parse(torn.stdout) as RecordingInspection).status, 'torn-tail');
    const startIntent = first(RecordType.intent, 2);
    const dir = damagedCopy(flipIn(startIntent));
    const text = await run(dir, false);
    assert.equal(text.code, EXIT_DAMAGED_RAW_LOG);
    assert.match(text.stdout, new RegExp(`DAMAGED +1 damaged span\\(s\\).*\\n  bytes ${startIntent.start}-${startIntent.end} \\(\\d+ B\\): 0 detector samples\\n  recovered: start intent`));
    assert.match(text.stderr, /raw log is damaged/);
    const json = await run(dir, true);
    assert.equal(json.code, EXIT_DAMAGED_RAW_LOG);
    const parsed = JSON.parse(json.stdout) as RecordingInspection;
    assert.equal(parsed.status, 'damaged');
    assert.equal(parsed.damage.spanCount, 1);
  });

  it('a device reset: the resume Start intent damaged, its gap estimate comes from the checkpoint written with it', async () => {
    const resetRec = join(tmp.dir, 'reset');
    const out = sink();
    assert.equal(await main(['acquire', '--device', 'sim://steps?seed=1&speed=max&faults=reset@0.5', '--duration', '1.5s', '--out', resetRec, '--quiet', '--json'], { stdout: out, stderr: out }), 0);
    const bytes = readFileSync(join(resetRec, RAW_LOG_FILE_NAME));
    const starts = recordsOf(bytes).filter((r) => r.type === RecordType.intent && r.command === 2);
    assert.equal(starts.length, 2, 'the first Start and the resume');
    const whole = await inspectRecording(resetRec);
    assert.equal(whole.segments, 2);
    const damaged = Buffer.from(bytes);
    damaged[starts[1]!.start + RECORD_HEADER_BYTES + 2]! ^= 0x01;
    writeFileSync(join(resetRec, RAW_LOG_FILE_NAME), damaged);
    const r = await inspectRecording(resetRec);
    assert.equal(r.status, 'damaged');
    assert.deepEqual([r.detectorSamples, r.durationS, r.segments, r.gaps.first], [whole.detectorSamples, whole.durationS, whole.segments, whole.gaps.first]);
    assert.ok(r.damage.recovered.some((x) => /start intent \(request \d+\) from a checkpoint/.test(x)), JSON.stringify(r.damage.recovered));
  });

  it('reads format 1 logs (no checkpoint records) as before', async () => {
    const entries = synthJournal({ seconds: 2 });
    const parts = [encodeRecordBytes(RecordType.header, 1, headerPayload({ magic: 'fiberrig-raw-log', formatVersion: 1, fiberrigVersion: '0.1.0', hostStartTimeUs: 1, hostStartIso: '' }))];
    for (const e of entries) {
      const { type, payload } = encodeEntry(e);
      parts.push(encodeRecordBytes(type, e.hostTimeUs, payload));
    }
    const dir = join(tmp.dir, 'format1');
    cpSync(rec, dir, { recursive: true });
    writeFileSync(join(dir, RAW_LOG_FILE_NAME), Buffer.concat(parts));
    writeFileSync(join(dir, SESSION_FILE_NAME), '{"format":"fiberrig-session","device":{},"config":{},"processing":{},"software":{},"start":{}}');
    const r = await inspectRecording(dir);
    assert.equal(r.status, 'clean');
    assert.equal(r.detectorSamples, 4000);
  });
});
