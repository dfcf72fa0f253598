// The lab's pure parts, no broker: cutting whole records out of a raw log being written,
// the command checks, subject names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ArchiveFiles } from '../../../host/lab/archive-files.ts';
import { tempDir } from '../record/helpers.ts';
import { commandSubject, checkToken, newSessionId, parseRawSubject, rawSubject, recordMsgId } from '../../../host/lab/layout.ts';
import { parseCommand } from '../../../host/lab/commands.ts';
import { cutRecords, recordLengthAt } from '../../../host/lab/record-cutter.ts';
import { encodeRecordBytes, RecordType } from '../../../host/record/rawlog-format.ts';

const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

describe('lab: record cutter, commands, names', () => {
  const a = encodeRecordBytes(RecordType.meta, 1, json({ a: 1 }));
  const b = encodeRecordBytes(RecordType.rx, 2, new Uint8Array(300).fill(7));
  const c = encodeRecordBytes(RecordType.meta, 3, json({ c: 'x'.repeat(50) }));
  const log = Buffer.concat([a, b, c]);

  it('cuts whole records with their file offsets, and stops before a partial one at every cut point', () => {
    for (let end = 0; end <= log.length; end++) {
      const { records, consumed, stop } = cutRecords(log.subarray(0, end), 1000);
      const whole = [a, b, c].filter((_, i) => [a, b, c].slice(0, i + 1).reduce((n, r) => n + r.length, 0) <= end);
      assert.equal(records.length, whole.length, `end ${end}`);
      assert.equal(consumed, whole.reduce((n, r) => n + r.length, 0));
      assert.equal(stop, 'incomplete');
      records.forEach((r, i) => { assert.ok(Buffer.from(r.bytes).equals(whole[i]!)); });
      if (records.length > 1) assert.equal(records[1]!.offset, 1000 + a.length);
    }
  });

  it('stops at a record whose CRC fails (never mirrors damaged bytes)', () => {
    const damaged = Buffer.from(log);
    damaged[a.length + 40] = damaged[a.length + 40]! ^ 0x01; // inside b's payload
    const { records, consumed, stop } = cutRecords(damaged, 0);
    assert.equal(records.length, 1);
    assert.equal(consumed, a.length);
    assert.equal(stop, 'invalid');
    assert.equal(recordLengthAt(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0), 'invalid');
  });

  it('archive files: records land at their offsets in any order; a redelivered one is skipped, not appended', async () => {
    const tmp = tempDir('fiberrig-lab-files-');
    try {
      const files = new ArchiveFiles(tmp.dir);
      assert.equal(await files.put('r', 's', a.length + b.length, c), true); // the last first: a hole before it
      assert.equal(await files.put('r', 's', 0, a), true);
      assert.equal(await files.put('r', 's', 0, a), false); // redelivered
      await files.closeIdle(-1); // closed while idle: reopens on the next record
      assert.equal(await files.put('r', 's', 0, a), false);
      assert.equal(await files.put('r', 's', a.length, b), true);
      assert.equal(await files.put('r', 's', a.length + b.length, c), false);
      await files.sync();
      await files.closeAll();
      assert.ok(readFileSync(files.rawLogPath('r', 's')).equals(log));
      assert.deepEqual({ written: files.recordsWritten, skipped: files.recordsSkipped }, { written: 3, skipped: 3 });
    } finally {
      tmp.cleanup();
    }
  });

  it('archive files in batches: out of order, across batches, contiguous runs merged; a redelivered record skipped; a hole filled', async () => {
    const tmp = tempDir('fiberrig-lab-batch-');
    try {
      const files = new ArchiveFiles(tmp.dir);
      const at = { a: 0, b: a.length, c: a.length + b.length };
      await files.putBatch([{ rig: 'r', session: 's', offset: at.c, bytes: c }, { rig: 'r', session: 't', offset: 0, bytes: a }, { rig: 'r', session: 's', offset: at.a, bytes: a }]);
      // b fills the hole between a and c; a arrives again (redelivered)
      await files.putBatch([{ rig: 'r', session: 's', offset: at.b, bytes: b }, { rig: 'r', session: 's', offset: at.a, bytes: a }, { rig: 'r', session: 't', offset: at.b, bytes: b }, { rig: 'r', session: 't', offset: at.c, bytes: c }]);
      await files.closeAll();
      // a new process (nothing known of the files): a whole redelivered batch is skipped
      const again = new ArchiveFiles(tmp.dir);
      await again.putBatch([{ rig: 'r', session: 't', offset: at.a, bytes: a }, { rig: 'r', session: 't', offset: at.b, bytes: b }]);
      await again.closeAll();
      assert.ok(readFileSync(files.rawLogPath('r', 's')).equals(log));
      assert.ok(readFileSync(files.rawLogPath('r', 't')).equals(log));
      assert.deepEqual({ written: files.recordsWritten, skipped: files.recordsSkipped }, { written: 6, skipped: 1 });
      assert.deepEqual({ written: again.recordsWritten, skipped: again.recordsSkipped }, { written: 0, skipped: 2 });
    } finally {
      tmp.cleanup();
    }
  });

  it('commands: valid ones parsed, invalid ones refused with E_LAB_COMMAND or E_CONFIG', () => {
    assert.deepEqual(parseCommand(json({ cmd: 'start', subject: 'm1', durationS: 60 })), { cmd: 'start', subject: 'm1', durationS: 60, file: undefined });
    assert.deepEqual(parseCommand(json({ cmd: 'led', led: 1, currentMa: 12.5 })), { cmd: 'led', led: 1, currentMa: 12.5 });
    assert.deepEqual(parseCommand(json({ cmd: 'mark', label: 'lights off' })), { cmd: 'mark', label: 'lights off' });
    const refused: Array<[unknown, string]> = [
      ['not json', 'E_LAB_COMMAND'], [[1], 'E_LAB_COMMAND'], [{ cmd: 'reboot' }, 'E_LAB_COMMAND'],
      [{ cmd: 'start' }, 'E_LAB_COMMAND'], [{ cmd: 'start', durationS: 0 }, 'E_LAB_COMMAND'], [{ cmd: 'start', durationS: 1e9 }, 'E_LAB_COMMAND'],
      [{ cmd: 'start', durationS: 5, subject: 7 }, 'E_LAB_COMMAND'], [{ cmd: 'start', durationS: 5, config: { mode: 'x' } }, 'E_CONFIG'],
      [{ cmd: 'led', led: -1, currentMa: 1 }, 'E_LAB_COMMAND'], [{ cmd: 'led', led: 1, currentMa: Number.NaN }, 'E_LAB_COMMAND'],
      [{ cmd: 'mark', label: '' }, 'E_LAB_COMMAND'],
    ];
    for (const [body, code] of refused) {
      const data = typeof body === 'string' ? Buffer.from(body) : json(body);
      assert.throws(() => parseCommand(data), (e: unknown) => (e as { code?: string }).code === code, JSON.stringify(body));
    }
  });

  it('names: one subject token per rig and session, parsed back; message ids per record', () => {
    const session = newSessionId(new Date('2026-12-06T22:32:38.674Z'));
    assert.equal(session, '20261206T223238-674Z');
    assert.equal(commandSubject('rig-1'), 'fiberrig.rig.rig-1.cmd');
    assert.deepEqual(parseRawSubject(rawSubject('rig-1', session)), { rig: 'rig-1', session });
    assert.equal(recordMsgId('rig-1', session, 42), `rig-1.${session}.42`);
    for (const bad of ['a.b', 'a*', '>', '', 'a b', 'x'.repeat(65)]) assert.throws(() => checkToken('rig', bad), /E_LAB_NAME|not usable/);
    assert.throws(() => parseRawSubject('fiberrig.raw.only-rig'), /E_LAB_SUBJECT|unexpected subject/);
  });
});
