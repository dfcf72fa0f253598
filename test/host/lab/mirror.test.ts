// The mirror against a stand-in JetStream client (no broker): records in file order with their
// offsets and message ids, a record larger than the read chunk, a publish failure rolled back
// and retried with the same ids (the stream would store each once), the end marker last.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { parseEndMarker } from '../../../host/lab/end-marker.ts';
import { RawLogMirror } from '../../../host/lab/mirror.ts';
import { encodeRecordBytes, RecordType } from '../../../host/record/rawlog-format.ts';
import { tempDir } from '../record/helpers.ts';

interface Published { subject: string; data: Uint8Array; msgID: string; kind: string; offset: number }

/**
 * Stores by message id like a stream's duplicate window. `down`: the broker is away — every publish fails,
 * those in flight too, until the mirror comes back with a retry (an id it sent before).
 */
function fakeJetStream(): { js: JetStreamClient; stored: Map<string, Published>; order: string[]; attempts: number; down: boolean } {
  const state = { stored: new Map<string, Published>(), order: [] as string[], attempts: 0, down: false, js: undefined as unknown as JetStreamClient };
  const seen = new Set<string>();
  state.js = {
    publish: async (subject: string, data: Uint8Array, opts: { msgID: string; headers: MsgHdrs }): Promise<PubAck> => {
      state.attempts += 1;
      if (seen.has(opts.msgID)) state.down = false; // the retry after the rollback: the broker is back
      seen.add(opts.msgID);
      const failing = state.down;
      await new Promise((r) => setImmediate(r));
      if (failing) throw new Error('TimeoutError: timeout');
      const duplicate = state.stored.has(opts.msgID);
      if (!duplicate) {
        state.stored.set(opts.msgID, { subject, data: Buffer.from(data), msgID: opts.msgID, kind: opts.headers.get('Fr-Kind'), offset: Number(opts.headers.get('Fr-Offset')) });
        state.order.push(opts.msgID);
      }
      return { stream: 'FIBERRIG_RAW', seq: state.order.length, duplicate } as PubAck;
    },
  } as unknown as JetStreamClient;
  return state;
}

describe('lab: raw log mirror (stand-in JetStream)', () => {
  it('publishes every record once, in order, across a failure and a record larger than the read chunk; then the end marker', async () => {
    const tmp = tempDir('fiberrig-lab-mirror-');
    try {
      const records = [
        encodeRecordBytes(RecordType.meta, 1, Buffer.from('{"a":1}')),
        ...Array.from({ length: 40 }, (_, i) => encodeRecordBytes(RecordType.rx, 10 + i, new Uint8Array(100 + i).fill(i))),
        encodeRecordBytes(RecordType.rx, 100, new Uint8Array(1.5 * 1024 * 1024).fill(9)), // > the 1 MiB read chunk
        encodeRecordBytes(RecordType.rx, 101, new Uint8Array(10).fill(1)),
      ];
      const log = Buffer.concat(records);
      const rawLogPath = join(tmp.dir, 'raw.fjl');
      writeFileSync(rawLogPath, Buffer.concat([log, Buffer.from([0x46, 0xd7, 5, 0, 0xff])])); // a torn tail
      const fake = fakeJetStream();
      fake.down = true;
      const mirror = await RawLogMirror.create({ js: fake.js, rig: 'r1', session: 's1', rawLogPath, checkpointPath: join(tmp.dir, 'mirror.json'), maxInFlight: 8, retryMs: 1 });
      const marker = await mirror.finish();

      assert.ok(fake.attempts > records.length + 1, 'retried after the failures');
      const recordIds = records.map((_, i) => `r1.s1.${i}`);
      assert.deepEqual(fake.order, [...recordIds, 'r1.s1.end']);
      let offset = 0;
      for (const [i, id] of recordIds.entries()) {
        const p = fake.stored.get(id)!;
        assert.equal(p.subject, 'fiberrig.raw.r1.s1');
        assert.equal(p.kind, 'record');
        assert.equal(p.offset, offset);
        assert.ok(Buffer.from(p.data).equals(records[i]!));
        offset += records[i]!.length;
      }
      const end = parseEndMarker(fake.stored.get('r1.s1.end')!.data)!;
      assert.deepEqual({ records: end.records, bytes: end.bytes, unmirroredBytes: end.unmirroredBytes }, { records: records.length, bytes: log.length, unmirroredBytes: 5 });
      assert.deepEqual(marker, end);
      const checkpoint = JSON.parse(readFileSync(join(tmp.dir, 'mirror.json'), 'utf8'));
      assert.deepEqual({ ackedBytes: checkpoint.ackedBytes, ackedRecords: checkpoint.ackedRecords, ended: checkpoint.ended }, { ackedBytes: log.length, ackedRecords: records.length, ended: true });
      assert.equal(mirror.stats.failures, 1);

      // a second mirror of the same session (an agent restarted) has nothing left to send
      const again = await RawLogMirror.create({ js: fake.js, rig: 'r1', session: 's1', rawLogPath, checkpointPath: join(tmp.dir, 'mirror.json') });
      const before = fake.attempts;
      await again.finish();
      assert.equal(fake.attempts, before);
    } finally {
      tmp.cleanup();
    }
  });
});
